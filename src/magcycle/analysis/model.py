"""Declare parameters and metrics once, then evaluate many seeded samples.

A *problem* holds what is evaluated (a plant, a cascade, a function), its
uncertain :class:`~magcycle.analysis.parameters.Parameter` list and its
:class:`Metric` list, and evaluates a chunk of samples::

    problem.evaluate(X, U) -> (Y, errors)

X (k, d) are parameter values, U (k, d) the unit-cube points they came
from (for nearest-neighbour warm starts), Y (k, q) the metric values (NaN
where a sample failed) and ``errors`` the reason for each failed sample or
None. :class:`Model` draws the samples, cuts them into the problem's fixed
chunks, hands them to an executor and collects a :class:`MonteCarloResult`
or a :class:`SobolResult`.

Metrics with ``at_least``/``at_most`` limits, and pass/fail metrics
(``kind = "pass"``, value 1 or 0), define the specification; a failed
sample counts as not meeting it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from magcycle.analysis.parameters import Parameter
from magcycle.analysis.sampling import saltelli_samples, unit_samples
from magcycle.analysis.stats import probability, sobol_indices, summary
from magcycle.errors import InputError

__all__ = ["Metric", "MonteCarloResult", "SobolResult", "Model"]


@dataclass(frozen=True)
class Metric:
    """An output of each sample: ``name`` for people, ``path`` for the problem.

    ``kind``: "value" (a number, optionally with limits) or "pass" (1 meets, 0 fails).
    """

    name: str
    path: str
    at_least: float | None = None
    at_most: float | None = None
    kind: str = "value"
    units: str = ""

    @property
    def is_spec(self) -> bool:
        return self.kind == "pass" or self.at_least is not None or self.at_most is not None

    def passes(self, y: np.ndarray) -> np.ndarray:
        """Boolean per sample; NaN (a failed sample) never passes."""
        y = np.asarray(y, dtype=float)
        ok = np.isfinite(y)
        if self.kind == "pass":
            return ok & (y >= 0.5)
        if self.at_least is not None:
            ok &= y >= self.at_least
        if self.at_most is not None:
            ok &= y <= self.at_most
        return ok

    def to_dict(self) -> dict:
        return {"name": self.name, "path": self.path, "kind": self.kind, "at_least": self.at_least,
                "at_most": self.at_most, "units": self.units}


@dataclass
class MonteCarloResult:
    parameters: list[Parameter]
    metrics: list[Metric]
    U: np.ndarray  # (n, d) unit-cube points
    X: np.ndarray  # (n, d) parameter values
    Y: np.ndarray  # (n, q) metric values, NaN where failed
    errors: list  # per sample: None or the reason it failed
    method: str
    seed: int
    seconds: float
    executor: str = "serial"
    workers: int = 1
    confidence: float = 0.95
    nominal: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.Y.shape[0]

    def column(self, metric: str) -> np.ndarray:
        names = [m.name for m in self.metrics]
        if metric not in names:
            raise InputError("metric", f"unknown metric {metric!r}; one of {', '.join(names)}")
        return self.Y[:, names.index(metric)]

    def passes(self, metrics: list[str] | None = None) -> np.ndarray:
        """Per sample: does it meet every spec metric (or those named)?"""
        chosen = [m for m in self.metrics if (m.name in metrics if metrics else m.is_spec)]
        ok = np.array([e is None for e in self.errors], dtype=bool)
        for m in chosen:
            ok &= m.passes(self.column(m.name))
        return ok

    @property
    def has_spec(self) -> bool:
        """Whether any metric states a limit or is pass/fail."""
        return any(m.is_spec for m in self.metrics)

    def probability(self, metrics: list[str] | None = None) -> dict:
        """P(meets spec) with its Clopper-Pearson interval at ``confidence``."""
        return probability(self.passes(metrics), self.confidence)

    def failures(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.errors:
            if e is not None:
                out[e] = out.get(e, 0) + 1
        return out

    def to_dict(self, samples: bool = True) -> dict:
        d = {
            "method": self.method, "seed": self.seed, "samples": self.n, "seconds": self.seconds,
            "executor": self.executor, "workers": self.workers,
            "parameters": [p.to_dict() for p in self.parameters],
            "metrics": [m.to_dict() for m in self.metrics],
            "summary": {m.name: summary(self.Y[:, j]) for j, m in enumerate(self.metrics)},
            "probability_meets_spec": self.probability() if self.has_spec else None,
            "probability_by_metric": {m.name: probability(m.passes(self.Y[:, j]), self.confidence)
                                      for j, m in enumerate(self.metrics) if m.is_spec},
            "failed_samples": self.failures(), "nominal": self.nominal,
        }
        if samples:
            d["X"] = self.X.tolist()
            d["Y"] = [[None if not math.isfinite(v) else float(v) for v in row] for row in self.Y]
        return d


@dataclass
class SobolResult:
    parameters: list[Parameter]
    metrics: list[Metric]
    indices: dict  # metric name -> parameter name -> {S1, S1_conf, ST, ST_conf}
    base_samples: int
    evaluations: int
    seed: int
    seconds: float

    def to_dict(self) -> dict:
        """The indices of each metric; a metric whose indices are not all finite (one that does not
        vary over the samples: 0/0) is listed under ``not_defined`` instead."""
        defined = {m: idx for m, idx in self.indices.items() if _all_finite(idx)}
        return {"base_samples": self.base_samples, "evaluations": self.evaluations, "seed": self.seed,
                "seconds": self.seconds, "indices": defined,
                "not_defined": {m: "the metric does not vary over the samples (or every sample failed)"
                                for m in self.indices if m not in defined}}


def _all_finite(node) -> bool:
    if isinstance(node, dict):
        return all(_all_finite(v) for v in node.values())
    if isinstance(node, (list, tuple)):
        return all(_all_finite(v) for v in node)
    return not isinstance(node, float) or math.isfinite(node)


class Model:
    """A problem (parameters + metrics declared once) and how to sample it.

    >>> from magcycle.analysis.functions import FunctionProblem, ishigami
    >>> m = Model(FunctionProblem.ishigami())
    >>> r = m.monte_carlo(1000, method="lhs", seed=3, executor="serial")
    >>> abs(r.to_dict()["summary"]["ishigami"]["mean"] - 3.5) < 0.3      # E[Y] = a/2 = 3.5
    True
    """

    def __init__(self, problem):
        self.problem = problem
        if not problem.parameters:
            raise InputError("parameters", "declare at least one uncertain parameter")
        if not problem.metrics:
            raise InputError("metrics", "declare at least one metric")

    @property
    def parameters(self) -> list[Parameter]:
        return list(self.problem.parameters)

    @property
    def metrics(self) -> list[Metric]:
        return list(self.problem.metrics)

    def values(self, U: np.ndarray) -> np.ndarray:
        return np.column_stack([p.ppf(U[:, j]) for j, p in enumerate(self.parameters)])

    def _evaluate(self, U, executor, workers, progress):
        from magcycle.analysis.executors import make_executor

        X = self.values(U)
        size = max(1, int(getattr(self.problem, "chunk_size", 64)))
        chunks = [(X[i:i + size], U[i:i + size]) for i in range(0, len(X), size)]
        ex = executor if hasattr(executor, "map") else make_executor(executor, workers)
        done = [0]

        def tick(k):
            done[0] += k
            if progress:
                progress(done[0], len(X))

        try:
            parts = ex.map(self.problem, chunks, tick)
        finally:
            if not hasattr(executor, "map"):
                ex.close()
        Y = np.concatenate([p[0] for p in parts], axis=0)
        errors = [e for p in parts for e in p[1]]
        return X, Y, errors, ex

    def monte_carlo(self, samples: int, *, method: str = "lhs", seed: int = 0, executor=None,
                    workers: int | None = None, confidence: float = 0.95,
                    progress: Callable[[int, int], None] | None = None) -> MonteCarloResult:
        """Evaluate ``samples`` points drawn by ``method`` from ``seed``."""
        if not 0 < confidence < 1:
            raise InputError("confidence", f"must be in (0, 1), got {confidence!r}")
        t0 = time.perf_counter()
        U = unit_samples(samples, len(self.parameters), method, seed)
        X, Y, errors, ex = self._evaluate(U, executor, workers, progress)
        nominal = getattr(self.problem, "nominal_metrics", lambda: {})()
        return MonteCarloResult(self.parameters, self.metrics, U, X, Y, errors, method, seed,
                                time.perf_counter() - t0, ex.name, ex.workers, confidence, nominal)

    def sobol(self, samples: int, *, seed: int = 0, executor=None, workers: int | None = None,
              metrics: list[str] | None = None, confidence: float = 0.95,
              progress: Callable[[int, int], None] | None = None) -> SobolResult:
        """First- and total-order Sobol indices of each metric from a Saltelli design of
        ``samples`` base points (rounded up to a power of 2; ``samples (d + 2)`` evaluations)."""
        t0 = time.perf_counter()
        d = len(self.parameters)
        U = saltelli_samples(samples, d, seed)
        X, Y, errors, ex = self._evaluate(U, executor, workers, progress)
        names = [p.name for p in self.parameters]
        chosen = [m for m in self.metrics if (metrics is None or m.name in metrics)]
        indices = {}
        for m in chosen:
            j = self.metrics.index(m)
            y = Y[:, j]
            if m.kind == "pass":
                y = np.where(np.isfinite(y), y, 0.0)
            indices[m.name] = sobol_indices(y, d, names, seed=seed, confidence=confidence)
        return SobolResult(self.parameters, chosen, indices, len(U) // (d + 2), len(U), seed,
                           time.perf_counter() - t0)
