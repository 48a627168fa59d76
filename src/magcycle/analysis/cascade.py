"""Uncertainty of one SX cascade: any numeric parameter of its document varies.

Parameters are the dotted paths of :func:`magcycle.sx.solve_many`
(``flows.organic``, ``feed.Nd``, ``model.beta.Nd``, ``model.log10_K.Dy``,
``model.D.Nd``, ...) in the document's units. Metrics are
``OUTLET.purity.C`` (mole fraction of C among the rare earths of the
outlet; ``C1+C2`` sums components) and ``OUTLET.recovery.C`` (share of the
feed of C leaving in OUTLET), for OUTLET in extract, raffinate (and
stripped_organic with a strip section). A ``[targets]`` table becomes one
metric per target with its minimum, plus ``meets_targets`` (pass/fail).

Each chunk is one batched solve (:func:`magcycle.sx.solve_many`): all its
variants are iterated together from the nominal solution (the batched
Newton has no sequential order in which a neighbour could be solved
first); a variant that does not converge from there is re-solved from a
cold start, and one that still fails is a failed sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from magcycle.analysis.model import Metric
from magcycle.errors import InputError
from magcycle.sx.spec import CascadeSpec

__all__ = ["CascadeProblem"]


def _metric_path(path: str, spec: CascadeSpec, field_: str):
    parts = path.split(".")
    outlets = ("extract", "raffinate") + (("stripped_organic",) if spec.strip_stages else ())
    if len(parts) != 3 or parts[0] not in outlets or parts[1] not in ("purity", "recovery"):
        raise InputError(field_, f"expected OUTLET.purity|recovery.COMPONENT with OUTLET one of "
                                 f"{', '.join(outlets)}, got {path!r}")
    idx = []
    for c in parts[2].split("+"):
        if c not in spec.components:
            raise InputError(field_, f"{c!r} is not a component of the cascade ({', '.join(spec.components)})")
        idx.append(spec.components.index(c))
    return parts[0], parts[1], idx


@dataclass
class CascadeProblem:
    spec: CascadeSpec
    parameters: list
    metrics: list
    chunk_size: int = 1024
    _paths: list = field(default_factory=list, repr=False)

    def __post_init__(self):
        from magcycle.sx.batch import variant_parameters

        # every parameter must be a numeric path of this cascade (checked on one variant)
        try:
            variant_parameters(self.spec, {p.name: np.array([p.nominal]) for p in self.parameters}, 1)
        except InputError as exc:  # named as the study names it
            raise InputError(f"parameters.{exc.field.split('[')[0]}", exc.reason) from None
        self._paths = [None if m.kind == "pass" else _metric_path(m.path, self.spec, f"metrics.{m.name}")
                       for m in self.metrics]

    @classmethod
    def from_targets(cls, spec: CascadeSpec, parameters, targets, extra_metrics=()):
        metrics = [Metric(t.label, f"{t.outlet}.{t.kind}.{t.component}", at_least=t.minimum) for t in targets]
        metrics.append(Metric("meets_targets", "meets_targets", kind="pass"))
        return cls(spec, list(parameters), metrics + list(extra_metrics))

    @classmethod
    def default_metrics(cls, spec: CascadeSpec) -> list:
        out = []
        for outlet in ("extract", "raffinate"):
            for c in spec.components:
                out.append(Metric(f"{outlet}.purity.{c}", f"{outlet}.purity.{c}"))
                out.append(Metric(f"{outlet}.recovery.{c}", f"{outlet}.recovery.{c}"))
        return out

    def evaluate(self, X, U):
        from magcycle.sx.batch import solve_many

        variants = {p.name: X[:, j] for j, p in enumerate(self.parameters)}
        try:
            res = solve_many(self.spec, variants, on_failure="mark")
        except InputError as exc:
            name = exc.field.split("[")[0]
            if name in variants:  # a drawn value the cascade cannot take (e.g. beta <= 0)
                raise InputError(f"parameters.{name}", f"a sample gives a value the cascade cannot take "
                                                       f"({exc.reason}); narrow or truncate the distribution") from None
            raise InputError("parameters", f"a sample gives an invalid cascade: {exc}") from None
        Y = np.full((len(X), len(self.metrics)), np.nan)
        for j, path in enumerate(self._paths):
            if path is None:
                continue
            outlet, kind, idx = path
            arr = res.purity_of(outlet) if kind == "purity" else res.fraction_to(outlet)
            Y[:, j] = arr[:, idx].sum(axis=1)
        spec_cols = [j for j, m in enumerate(self.metrics) if m.kind != "pass" and m.is_spec]
        for j, m in enumerate(self.metrics):
            if m.kind == "pass":
                ok = np.ones(len(X), dtype=bool)
                for k in spec_cols:
                    ok &= self.metrics[k].passes(Y[:, k])
                Y[:, j] = np.where(res.converged, ok.astype(float), np.nan)
        errors = [None if c else "did not converge" for c in res.converged]
        return Y, errors

    def nominal_metrics(self) -> dict:
        X = np.array([[p.nominal for p in self.parameters]])
        Y, _ = self.evaluate(X, np.full_like(X, 0.5))
        return {m.name: float(Y[0, j]) for j, m in enumerate(self.metrics)}
