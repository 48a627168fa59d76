"""Robust cascade design: the fewest stages that meet every target with a stated probability.

Problem
    A cascade file with ``[targets]`` (as for ``magcycle sx design``), its
    flows fixed, and uncertain parameters (feed composition, beta or log K,
    flows). For stage counts (n, m) let p(n, m) be the probability that a
    cascade of those stages meets every target when the parameters are
    drawn from their distributions. The robust design is the smallest total
    N = n + m with some split whose p is at least ``probability``, judged
    conservatively: the Clopper-Pearson lower confidence bound of the
    estimated p (at ``confidence``) must reach ``probability``. At fixed
    flows the cost of a cascade is its stage count, so this is the cheapest
    design that meets the probability target.

Method
    One set of samples (common random numbers: the same feeds and
    parameters for every candidate) is drawn from ``seed``. For a candidate
    (n, m) every sample is solved exactly (:func:`magcycle.sx.solve_many`);
    g(n, m) = lower bound - probability. The search over N and its split
    is the one of :func:`magcycle.sx.optimise.minimum_stages` (bracket by
    doubling from the nominal minimum, bisection, best split scanned),
    taking p to grow with N. The nominal minimum-stage design is reported
    beside the robust one.

Robust plant design (:func:`robust_plant_design`)
    The plant's SX cuts are designed at the nominal feed (Underwood/Xu plus
    the exact check, :mod:`magcycle.units.sx_cascade`); the robust design
    scales every cut's stages by one factor f (ceil(f n), ceil(f m)) and
    finds the smallest f on a grid whose plant Monte Carlo (feed
    variability, the SX flows following the feed) meets every product spec
    with the same conservative criterion. The grid is searched by bisection
    (P taken to grow with f); the cost reported beside each f is the total
    SX stage count and the SX purchase cost of the units' cost functions.
    One factor for all cuts keeps the search to a handful of Monte Carlo
    runs. With ``per_cut`` the answer is then refined cut by cut (largest
    first): each cut's own factor is bisected on the grid below the common
    one, the others held, keeping the requirement met. That is a coordinate
    search, not a global optimum over all cuts; every configuration tried is
    reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from magcycle.analysis.cascade import CascadeProblem
from magcycle.analysis.sampling import unit_samples
from magcycle.analysis.stats import clopper_pearson
from magcycle.errors import InputError

__all__ = ["STAGE_FACTORS", "minimum_samples", "default_samples", "RobustDesign", "robust_cascade_design",
           "PlantDesign", "robust_plant_design"]


def minimum_samples(probability: float, confidence: float, failures: int = 0) -> int:
    """Fewest samples whose Clopper-Pearson lower bound can reach ``probability`` with ``failures`` failures.

    >>> minimum_samples(0.99, 0.95)          # the 'rule of three' regime: (alpha/2)^(1/n) >= p
    368
    """
    n = max(1, failures + 1)
    while clopper_pearson(n - failures, n, confidence)[0] < probability:
        n = n * 2 if n < 64 else int(n * 1.1) + 1
    lo = max(1, n // 2)
    while lo < n:  # bisect down to the smallest
        mid = (lo + n) // 2
        if clopper_pearson(mid - failures, mid, confidence)[0] >= probability:
            n = mid
        else:
            lo = mid + 1
    return n


def default_samples(probability: float, confidence: float) -> int:
    """Samples for a design search: enough that one failing sample alone does not reject a design."""
    return minimum_samples(probability, confidence, failures=1)


def _check_claim(probability, confidence, samples) -> None:
    """The requirement must be a probability, and ``samples`` enough to show it at all."""
    for name, v in (("probability", probability), ("confidence", confidence)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
            raise InputError(name, f"must be in (0, 1), got {v!r}")
    needed = minimum_samples(probability, confidence)
    if samples < needed:
        raise InputError("samples", f"{samples} samples cannot show P >= {probability} at "
                                    f"{confidence:.0%} confidence; use at least {needed}")


class _RobustEvaluator:
    def __init__(self, spec, targets, parameters, X, U, probability, confidence):
        self.spec, self.targets, self.parameters = spec, targets, parameters
        self.X, self.U = X, U
        self.probability, self.confidence = probability, confidence
        self.count = 0
        self.cache: dict = {}

    def variant(self, n, m):
        return self.spec.with_stages(extraction=n, scrub=m)

    def passes(self, n, m) -> np.ndarray:
        prob = CascadeProblem.from_targets(self.variant(n, m), self.parameters, self.targets)
        Y, _ = prob.evaluate(self.X, self.U)
        return prob.metrics[-1].passes(Y[:, -1])

    def __call__(self, n, m) -> float:
        key = (n, m)
        if key not in self.cache:
            self.count += 1
            ok = self.passes(n, m)
            lo, hi = clopper_pearson(int(ok.sum()), ok.size, self.confidence)
            self.cache[key] = (lo - self.probability, {"p": float(ok.mean()), "lower": lo, "upper": hi,
                                                       "passes": int(ok.sum()), "samples": int(ok.size)})
        return self.cache[key][0]


@dataclass
class RobustDesign:
    feasible: bool
    extraction_stages: int | None
    scrub_stages: int | None
    strip_stages: int
    probability: dict  # at the chosen design: p, lower, upper, passes, samples
    required_probability: float
    confidence: float
    nominal: dict  # the minimum-stage design at the nominal parameters
    samples: int
    method: str
    seed: int
    evaluations: int
    seconds: float
    reason: str = ""
    curve: list = field(default_factory=list)  # (N, best p, lower) per total tried

    @property
    def total_stages(self):
        if self.extraction_stages is None:
            return None
        return self.extraction_stages + self.scrub_stages + self.strip_stages

    def to_dict(self) -> dict:
        return {"feasible": self.feasible, "extraction_stages": self.extraction_stages,
                "scrub_stages": self.scrub_stages, "strip_stages": self.strip_stages,
                "total_stages": self.total_stages, "probability": self.probability,
                "required_probability": self.required_probability, "confidence": self.confidence,
                "nominal_design": self.nominal, "samples": self.samples, "method": self.method,
                "seed": self.seed, "evaluations": self.evaluations, "seconds": self.seconds,
                "reason": self.reason, "probability_by_total_stages": self.curve}


def robust_cascade_design(problem, parameters, *, probability: float = 0.99, confidence: float = 0.95,
                          samples: int = 400, method: str = "lhs", seed: int = 0,
                          max_stages: int | None = None) -> RobustDesign:
    """Fewest stages with P(meets every target) >= ``probability`` (module docstring).

    ``problem``: a :class:`magcycle.sx.optimise.DesignProblem` (cascade + targets);
    ``parameters``: the uncertain :class:`~magcycle.analysis.parameters.Parameter` list.
    """
    from magcycle.sx.optimise import minimum_stages, smallest_feasible_total

    _check_claim(probability, confidence, samples)
    t0 = time.perf_counter()
    spec, targets = problem.spec, problem.targets
    max_stages = max_stages or problem.max_stages
    nominal = minimum_stages(spec, targets, max_stages=max_stages)
    U = unit_samples(samples, len(parameters), method, seed)
    X = np.column_stack([p.ppf(U[:, j]) for j, p in enumerate(parameters)])
    ev = _RobustEvaluator(spec, targets, list(parameters), X, U, probability, confidence)
    scrub_allowed = spec.scrub > 0
    start = nominal.total_stages - spec.strip_stages if nominal.feasible else None
    ratio = nominal.extraction_stages / max(1, start) if nominal.feasible else 0.5
    hi = smallest_feasible_total(ev, scrub_allowed, 1, start, max_stages, ratio)
    curve = {}
    for (n, m), (g, info) in ev.cache.items():
        N = n + m
        if N not in curve or info["lower"] > curve[N]["lower"]:
            curve[N] = {"total_stages": N + spec.strip_stages, "extraction_stages": n, "scrub_stages": m} | info
    curve_list = [curve[N] for N in sorted(curve)]
    common = dict(strip_stages=spec.strip_stages, required_probability=float(probability),
                  confidence=float(confidence), nominal=nominal.to_dict() | {"result": None},
                  samples=samples, method=method, seed=seed)
    if hi is None:
        best = max(curve_list, key=lambda c: c["p"]) if curve_list else {"p": 0.0}
        reason = (f"no cascade of up to {max_stages} extraction + scrub stages reaches P >= {probability} "
                  f"at these flows: the best tried ({best.get('total_stages')} stages) meets every target "
                  f"in {best['p']:.1%} of the samples (lower bound {best.get('lower', 0.0):.1%}); "
                  "raise the organic and scrub flows or narrow the uncertainty")
        return RobustDesign(False, None, None, probability={}, evaluations=ev.count,
                            seconds=time.perf_counter() - t0, reason=reason, curve=curve_list, **common)
    # the split of hi with the largest lower bound among those evaluated (one is >= 0)
    cands = [(g, k) for (k, mm), (g, _) in ev.cache.items() if k + mm == hi and g >= 0]
    _, n = max(cands, key=lambda t: (t[0], -abs(2 * t[1] - hi)))
    info = ev.cache[(n, hi - n)][1]
    return RobustDesign(True, n, hi - n, probability=info, evaluations=ev.count,
                        seconds=time.perf_counter() - t0, curve=curve_list, **common)


#: stage factors searched by the robust plant design
STAGE_FACTORS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


@dataclass
class PlantDesign:
    feasible: bool
    stage_factor: float | dict | None
    probability: dict
    required_probability: float
    confidence: float
    curve: list  # per factor tried: factor, total stages, stages per cut, capex, P
    samples: int
    method: str
    seed: int
    seconds: float
    reason: str = ""

    def to_dict(self) -> dict:
        chosen = next((c for c in self.curve if c["stage_factor"] == self.stage_factor), None)
        if chosen is None and self.stage_factor is not None:
            chosen = next((c for c in self.curve if c.get("cut_factors") == self.stage_factor), None)
        return {"feasible": self.feasible, "stage_factor": self.stage_factor,
                "sx_stages": chosen["sx_stages"] if chosen else None,
                "total_sx_stages": chosen["total_sx_stages"] if chosen else None,
                "sx_purchase_cost_usd": chosen["sx_purchase_cost_usd"] if chosen else None,
                "probability": self.probability, "required_probability": self.required_probability,
                "confidence": self.confidence, "samples": self.samples, "method": self.method,
                "seed": self.seed, "seconds": self.seconds, "reason": self.reason,
                "probability_by_stage_factor": self.curve}


class _FactorTrials:
    """The plant Monte Carlo at each stage factor tried (one factor, or a table cut -> factor),
    each run once: P(meets spec) and the SX stages and cost it buys."""

    def __init__(self, problem, probability, progress, mc_options):
        self.problem, self.probability, self.progress, self.mc_options = problem, probability, progress, mc_options
        self.tried: dict = {}

    @staticmethod
    def key(f):
        return tuple(sorted(f.items())) if isinstance(f, dict) else f

    def passes(self, f) -> bool:
        key = self.key(f)
        if key not in self.tried:
            self.tried[key] = self._run(f)
        return self.tried[key]["lower"] >= self.probability

    def _run(self, f) -> dict:
        from magcycle.analysis.model import Model
        from magcycle.analysis.plant import PlantProblem, sx_stages

        p = self.problem
        prob = PlantProblem(p.document, p.parameters, p.metrics, chunk_size=p.chunk_size, stage_factor=f)
        if self.progress:
            self.progress(f"stage factor {f:g}" if not isinstance(f, dict) else
                          "stage factors " + ", ".join(f"{k} {v:g}" for k, v in f.items()))
        mc = Model(prob).monte_carlo(**self.mc_options)
        r = prob.nominal_result()
        stages = sx_stages(r)
        return {"stage_factor": None if isinstance(f, dict) else f,
                "cut_factors": dict(f) if isinstance(f, dict) else {k: f for k in stages},
                "sx_stages": {k: list(v) for k, v in stages.items()},
                "total_sx_stages": int(sum(n + m for n, m in stages.values())),
                "sx_purchase_cost_usd": sum(float(r.units[name].cost["purchase_usd"]) for name in stages)
                } | mc.probability()


def _smallest_passing(trials: _FactorTrials, factors: list) -> int | None:
    """Index of the smallest passing factor: from the design as built (factor 1), bisect below it when
    it passes, walk up when it fails (P taken to grow with the factor); None when none passes."""
    i = factors.index(1.0) if 1.0 in factors else len(factors) // 2
    if not trials.passes(factors[i]):
        return next((j for j in range(i + 1, len(factors)) if trials.passes(factors[j])), None)
    hi, lo = i, -1  # factors[lo] fails (-1: none tried)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if trials.passes(factors[mid]):
            hi = mid
        else:
            lo = mid
    return hi


def _per_cut(trials: _FactorTrials, factors: list, chosen: float):
    """Coordinate refinement: each cut (largest first) bisected on the grid below the common factor,
    the others held; the table of factors, or ``chosen`` when no cut could go lower."""
    base = trials.tried[chosen]["sx_stages"]
    current = {cut: chosen for cut in sorted(base, key=lambda c: -sum(base[c]))}
    for cut in list(current):
        grid = [g for g in factors if g < current[cut]]
        lo, top = -1, len(grid)  # grid[top] would be the current factor (passing)
        while top - lo > 1:
            mid = (lo + top) // 2
            if trials.passes(current | {cut: grid[mid]}):
                top = mid
            else:
                lo = mid
        if top < len(grid):
            current[cut] = grid[top]
    return current if any(v != chosen for v in current.values()) else chosen


def robust_plant_design(problem, *, probability: float = 0.99, confidence: float = 0.95, samples: int = 300,
                        method: str = "lhs", seed: int = 0, executor=None, workers: int | None = None,
                        factors=STAGE_FACTORS, per_cut: bool = False, progress=None) -> PlantDesign:
    """Smallest SX stage factor with P(every product meets spec) >= ``probability`` (module docstring)."""
    _check_claim(probability, confidence, samples)
    if not any(m.is_spec for m in problem.metrics):
        raise InputError("metrics", "a design needs at least one metric with a limit (at_least, at_most) "
                                    "or kind = \"pass\"")
    factors = sorted(set(float(f) for f in factors))
    if not factors or min(factors) <= 0:
        raise InputError("stage_factors", "give positive stage factors")
    t0 = time.perf_counter()
    trials = _FactorTrials(problem, probability, progress, dict(
        samples=samples, method=method, seed=seed, executor=executor, workers=workers, confidence=confidence))
    hi = _smallest_passing(trials, factors)
    chosen = factors[hi] if hi is not None else None
    if chosen is not None and per_cut:
        chosen = _per_cut(trials, factors, chosen)
    curve = sorted(trials.tried.values(), key=lambda c: (c["total_sx_stages"], -c["p"]))
    common = dict(required_probability=float(probability), confidence=float(confidence), curve=curve,
                  samples=samples, method=method, seed=seed)
    if chosen is None:
        best = max(curve, key=lambda c: c["p"])
        return PlantDesign(False, None, {}, seconds=time.perf_counter() - t0, reason=(
            f"no stage factor up to {factors[-1]:g} reaches P >= {probability}: the best "
            f"(factor {best['stage_factor']:g}) meets every spec in {best['p']:.1%} of the samples; "
            "the failing products are limited by something stages cannot fix (flows, impurities)"), **common)
    result = trials.tried[trials.key(chosen)]
    return PlantDesign(True, chosen, {k: result[k] for k in ("p", "lower", "upper", "passes", "samples")},
                       seconds=time.perf_counter() - t0, **common)
