"""Cascade design against purity and recovery targets, verified by the exact model.

Targets
    ``[targets]`` in a cascade document sets minimums per outlet and
    component: ``extract = { Nd = { purity = 0.995 } }``,
    ``raffinate = { Pr = { purity = 0.99, recovery = 0.98 } }``. The purity
    of component i in an outlet is its mole fraction among the rare earths
    of that outlet; its recovery is the share of its feed flow leaving in
    that outlet (:class:`magcycle.sx.CascadeResult`). The margin of a target
    is achieved - required; a cascade meets its targets when every margin is
    >= 0 in the exact solve.

Minimum stages, flows fixed (:func:`minimum_stages`)
    Strip stages are kept as given; the extraction (n) and scrub (m) stages
    are designed. For a total N = n + m the best split is the one with the
    largest smallest margin g(n, N - n); every split is tried for N <= 32,
    beyond that a coarse scan (step N // 16) is refined to single stages
    around its best point (g is unimodal in n when, as usual, each target
    is refined by one section). Feasibility is taken to be monotone in N
    (a stage added to the section that refines a product never lowers that
    product's purity, for fixed flows in the constant_beta model: a property
    of the model that the tests check, not a published theorem): N is bracketed by
    doubling from a lower bound (1, or the Fenske minimum of the key pair
    for constant_beta) up to ``max_stages`` and then bisected. The chosen
    design is solved again from a cold start and must meet every target.
    Tests check the answers against exhaustive search on small cases.

Cheapest design, flows free (:func:`optimise_flows`)
    Over the organic and scrub flows (the feed flow is fixed), each with its
    minimum-stage design, the cost

        J = stage_weight * N * (Q_feed + Q_organic + Q_scrub) / Q_feed
            + organic_weight * Q_organic / Q_feed + scrub_weight * Q_scrub / Q_feed

    is minimised: the first term stands for mixer-settler volume and
    organic inventory (stage count times the throughput of a stage), the
    others for reagent use. Defaults: stage_weight 1, organic_weight 0,
    scrub_weight 0 (``[design]`` table). The search is a 7 x 7 grid over
    factors 1/4..4 of the file's flows (log-spaced), then a pattern search
    with halving steps around the best point. The Pareto front of total
    stages against organic flow is the non-dominated set of every design
    evaluated.

Short-cut estimates beside the answer (key pair: A, the least extractable
    component with an extract target, or the most extractable with none;
    B, the most extractable component with a raffinate target, or the next
    less extractable than A): Fenske N_min, Underwood S_min/W_min and Xu's
    n, m (:mod:`magcycle.sx.design`), each where its assumptions hold.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from magcycle.errors import ConvergenceError, InputError
from magcycle.sx.result import CascadeResult
from magcycle.sx.solver import solve
from magcycle.sx.spec import MAX_SECTION_STAGES, CascadeSpec, target_components

__all__ = ["OUTLETS", "KINDS", "DEFAULT_MAX_STAGES", "DEFAULT_WEIGHTS", "Target", "parse_targets", "achieved",
           "margins", "key_pair", "estimates", "StageDesign", "smallest_feasible_total", "minimum_stages",
           "FlowDesign", "design_cost", "pareto_front", "optimise_flows", "DesignProblem", "design_problem",
           "load_design"]

OUTLETS = ("extract", "raffinate")
KINDS = ("purity", "recovery")
#: designs are searched up to this many extraction + scrub stages unless told otherwise
DEFAULT_MAX_STAGES = 400
DEFAULT_WEIGHTS = {"stage_weight": 1.0, "organic_weight": 0.0, "scrub_weight": 0.0}


@dataclass(frozen=True)
class Target:
    """A minimum purity or recovery of one component, or of a group of components
    (``component`` "Pr+Nd", ``indices`` of each), in one outlet.

    A group's purity is the sum of its members' mole fractions among the outlet's rare
    earths; its recovery is the share of the group's combined feed flow that leaves in the
    outlet.
    """

    outlet: str
    component: str
    indices: tuple[int, ...]
    kind: str
    minimum: float

    @property
    def index(self) -> int:
        """The component's index (a target on one component)."""
        if len(self.indices) != 1:
            raise ValueError(f"target {self.label} is on a group of components")
        return self.indices[0]

    @property
    def label(self) -> str:
        return f"{self.outlet}.{self.component}.{self.kind}"


def parse_targets(section: Any, components) -> tuple[Target, ...]:
    """Validate a ``[targets]`` table (:data:`magcycle.sx.schema.Targets`) against the cascade's
    components; a group of components is named by joining them with '+' (``"Pr+Nd"``).

    >>> t = parse_targets({"extract": {"Nd": {"purity": 0.995}}}, ("Pr", "Nd"))
    >>> t[0].label, t[0].indices, t[0].minimum
    ('extract.Nd.purity', (1,), 0.995)
    >>> parse_targets({"extract": {"Pr+Nd": {"recovery": 0.99}}}, ("La", "Pr", "Nd"))[0].indices
    (1, 2)
    """
    from pydantic import TypeAdapter, ValidationError

    from magcycle.schema import input_error
    from magcycle.sx.schema import Targets

    if section is None:
        raise InputError("targets", "missing: give minimums such as extract = { Nd = { purity = 0.995 } }")
    try:
        table = TypeAdapter(Targets).validate_python(section, strict=True)
    except ValidationError as exc:
        raise input_error(exc, section, "targets") from None
    comps = list(components)
    out = []
    for outlet, by_component in table.items():
        for label, kinds in by_component.items():
            try:
                group = target_components(label, comps)
            except ValueError as exc:
                raise InputError(f"targets.{outlet}.{label}", str(exc)) from None
            for kind, value in kinds.items():
                out.append(Target(outlet, label, group, kind, float(value)))
    return tuple(out)


def achieved(result: CascadeResult, targets) -> np.ndarray:
    """The purity or recovery each target reaches in ``result`` [-] (NaN for an empty outlet).

    Purity of a group G in outlet X: sum_{i in G} n_X,i / sum_j n_X,j; recovery:
    sum_{i in G} n_X,i / sum_{i in G} f_i (n: outlet flows, f: feed flows [mol/h]).
    """
    out = np.empty(len(targets))
    feed = result.spec.feed_mol_per_h
    cache: dict = {}
    for j, t in enumerate(targets):
        if t.outlet not in cache:
            cache[t.outlet] = np.asarray(result.outlets[t.outlet].mol_per_h, float)
        flows = cache[t.outlet]
        got = float(np.sum(flows[list(t.indices)]))
        whole = float(np.sum(flows)) if t.kind == "purity" else float(np.sum(feed[list(t.indices)]))
        out[j] = got / whole if whole > 0 else np.nan
    return out


def margins(result: CascadeResult, targets) -> np.ndarray:
    """achieved - required for each target [-] (NaN purity of an empty outlet counts as -1).

    >>> from magcycle.sx import CascadeSpec, solve
    >>> spec = CascadeSpec.from_dict({"cascade": {"model": "constant_d", "extraction_stages": 1},
    ...     "flows": {"organic": 1.0, "feed": 1.0}, "feed": {"Pr": 0.5, "Nd": 0.5},
    ...     "model": {"D": {"Pr": 1.0, "Nd": 3.0}}})
    >>> t = parse_targets({"extract": {"Nd": {"recovery": 0.7}, "Pr+Nd": {"recovery": 0.6}}}, spec.components)
    >>> [round(float(m), 12) for m in margins(solve(spec), t)]   # one stage: E/(1+E) = 3/4 and 1/2
    [0.05, 0.025]
    """
    values = achieved(result, targets)
    return np.array([v - t.minimum if np.isfinite(v) else -1.0 for t, v in zip(targets, values)])


# ---------------------------------------------------------------- estimates
def _extractability(spec: CascadeSpec) -> np.ndarray:
    p = spec.params
    if spec.model == "constant_d":
        return np.asarray(p.D, float)
    if spec.model == "constant_beta":
        return np.asarray(p.beta, float)
    if spec.model == "empirical_ph":  # D at the feed's pH and the entering organic's free extractant
        from magcycle.sx.empirical_ph import distribution_ratio, free_proton

        pH = -np.log10(free_proton(p.feed_acid, p.feed_sulfate, p.Ka2))
        with np.errstate(over="ignore", invalid="ignore"):
            D = distribution_ratio(pH, p.extractant_vol_pct, p.m0, p.m1, p.B0, p.B1)
        return np.where(p.correlated, D, p.D)
    return 10.0 ** np.asarray(p.log10_K, float)


def _members(targets, outlet: str) -> list[int]:
    """Indices of the components (every member of a group) that have a target in ``outlet``."""
    return [i for t in targets if t.outlet == outlet for i in t.indices]


def _heavy_key(ext: np.ndarray, order: list[int], heavy: list[int], light: list[int]) -> int | None:
    """A: the least extractable of ``heavy``, or with none, the least extractable component
    above some member of ``light``; None when there is no such component."""
    if heavy:
        return min(heavy, key=lambda i: ext[i])
    return next((i for i in order if any(ext[i] > ext[j] for j in light)), None)


def _light_key(ext: np.ndarray, order: list[int], light: list[int], A: int) -> int | None:
    """B: the most extractable member of ``light`` below A, or with none, the most extractable
    component below A; None when nothing is below A."""
    below = [i for i in (light or order) if ext[i] < ext[A]]
    if not below:
        return None
    return max(below, key=lambda i: ext[i]) if light else below[-1]


def key_pair(spec: CascadeSpec, targets) -> tuple[int, int] | None:
    """Indices (A, B) of the key components of the cut, or None.

    A: the least extractable component with an extract target (any member
    of a group), or with none, the least extractable component above some
    component with a raffinate target; B: the most extractable component
    below A with a raffinate target, or with none, the most extractable
    component below A.
    """
    ext = _extractability(spec)
    order = [int(i) for i in np.argsort(ext, kind="stable")]
    light = _members(targets, "raffinate")
    A = _heavy_key(ext, order, _members(targets, "extract"), light)
    if A is None:
        return None
    B = _light_key(ext, order, light, A)
    if B is None:
        return None
    return int(A), int(B)


def _key_purity(targets, outlet: str, key: int) -> tuple[float | None, tuple[int, ...]]:
    """(minimum, components) of the purity target in ``outlet`` on the key (or on a group
    holding it); (None, (key,)) when there is none."""
    for t in targets:
        if t.outlet == outlet and t.kind == "purity" and key in t.indices:
            return t.minimum, t.indices
    return None, (key,)


def _empty_estimates() -> dict:
    return {"key_pair": None, "beta": None, "fenske_min_stages": None, "S_min": None, "W_min": None,
            "S": None, "W": None, "xu_extraction_stages": None, "xu_scrub_stages": None, "notes": []}


def _short_cuts(out: dict, spec: CascadeSpec, beta: float, f_A: float, PA: float, PB: float) -> None:
    """Fenske's minimum stages; for constant_beta also Underwood's minimum flows and Xu's
    stage numbers at the spec's flows (notes where their premises fail)."""
    from magcycle.sx import design as sd

    try:
        out["fenske_min_stages"] = float(sd.fenske_min_stages(beta, f_A, PA, PB))
        if spec.model != "constant_beta":
            out["notes"].append("Underwood and Xu apply to constant_beta only")
            return
        from magcycle.sx.stagewise import needs_stagewise

        if needs_stagewise(spec):
            out["notes"].append("Underwood and Xu assume Xu's cascade (equilibrium stages, one beta, a barren "
                                "organic, total stripping)")
            return
        S_min, W_min = sd.minimum_extractant(beta, f_A, PA, PB)
        F = float(np.sum(spec.feed_mol_per_h))
        S = spec.organic * spec.params.organic_loading / F
        W = spec.scrub * spec.params.scrub_acid / 3.0 / F
        out.update(S_min=float(S_min), W_min=float(W_min), S=S, W=W)
        try:
            n, m = sd.xu_stage_estimates(beta, f_A, PA, PB, S, W)
            out.update(xu_extraction_stages=float(n), xu_scrub_stages=float(m))
        except InputError as exc:
            out["notes"].append(f"Xu's stage formulas do not apply at these flows ({exc.reason})")
    except InputError as exc:
        out["notes"].append(f"short-cut estimates not applicable: {exc.reason}")


def estimates(spec: CascadeSpec, targets) -> dict:
    """Fenske, Underwood and Xu estimates for the key pair (None where not applicable).

    The pair is treated as a binary: f_A = f(A) / (f(A) + f(B)), or the
    feed of the groups when the key purity targets are on groups; PA and PB
    are the purity targets on the keys.
    """
    out = _empty_estimates()
    pair = key_pair(spec, targets)
    if pair is None:
        out["notes"].append("no key pair across the cut")
        return out
    A, B = pair
    comps = spec.components
    ext = _extractability(spec)
    beta = float(ext[A] / ext[B])
    PA, group_A = _key_purity(targets, "extract", A)
    PB, group_B = _key_purity(targets, "raffinate", B)
    fa, fb = float(np.sum(spec.feed[list(group_A)])), float(np.sum(spec.feed[list(group_B)]))
    out.update(key_pair=[comps[A], comps[B]], beta=beta)
    if PA is None or PB is None:
        out["notes"].append("short-cut estimates need purity targets on both keys "
                            f"(extract {comps[A]}, raffinate {comps[B]})")
        return out
    _short_cuts(out, spec, beta, fa / (fa + fb), PA, PB)
    if len(comps) > 2:
        out["notes"].append("multicomponent feed: the estimates treat the key pair alone")
    return out


# ---------------------------------------------------------- minimum stages
@dataclass
class StageDesign:
    """The minimum-stage design of a cascade for fixed flows."""

    feasible: bool
    spec: CascadeSpec
    targets: tuple
    result: CascadeResult | None
    margins: dict
    evaluations: int
    seconds: float
    estimates: dict = field(default_factory=dict)
    reason: str | None = None

    @property
    def extraction_stages(self) -> int | None:
        return self.spec.extraction_stages if self.feasible else None

    @property
    def scrub_stages(self) -> int | None:
        return self.spec.scrub_stages if self.feasible else None

    @property
    def total_stages(self) -> int | None:
        return self.spec.n_stages if self.feasible else None

    def to_dict(self) -> dict:
        s = self.spec
        return {
            "feasible": self.feasible,
            "reason": self.reason,
            "model": s.model,
            "extraction_stages": self.extraction_stages,
            "scrub_stages": self.scrub_stages,
            "strip_stages": s.strip_stages,
            "total_stages": self.total_stages,
            "flows": {"organic": s.organic, "feed": s.feed_flow, "scrub": s.scrub, "strip": s.strip},
            "targets": [{"outlet": t.outlet, "component": t.component, "kind": t.kind, "minimum": t.minimum,
                         "achieved": self.margins.get(t.label, (None, None))[0]} for t in self.targets],
            "estimates": self.estimates,
            "evaluations": self.evaluations,
            "seconds": self.seconds,
            "result": self.result.to_dict() if self.result is not None else None,
        }


class _Evaluator:
    """Solves (n, m) variants of one spec, warm-starting from the last solve of the same size
    (unless ``warm_splits`` is False: every variant from a cold start)."""

    def __init__(self, spec: CascadeSpec, targets, warm_splits: bool = True):
        self.spec, self.targets, self.warm_splits = spec, targets, warm_splits
        self.count = 0
        self.warm: dict[int, CascadeResult] = {}
        self.cache: dict[tuple[int, int], tuple[float, CascadeResult | None]] = {}

    def variant(self, n: int, m: int) -> CascadeSpec:
        return self.spec.with_stages(extraction=n, scrub=m)

    def __call__(self, n: int, m: int) -> float:
        key = (n, m)
        if key in self.cache:
            return self.cache[key][0]
        spec = self.variant(n, m)
        total = n + m + spec.strip_stages
        self.count += 1
        try:
            res = solve(spec, warm_start=self.warm.get(total) if self.warm_splits else None)
        except ConvergenceError:
            try:
                res = solve(spec)
            except ConvergenceError:
                self.cache[key] = (-math.inf, None)
                return -math.inf
        self.warm[total] = res
        g = float(np.min(margins(res, self.targets)))
        self.cache[key] = (g, res)
        return g


def _splits(N: int, scrub_allowed: bool) -> list[int]:
    """Extraction stage counts n to try for a total N (m = N - n), each section within
    MAX_SECTION_STAGES."""
    if not scrub_allowed:
        return [N] if N <= MAX_SECTION_STAGES else []
    return list(range(max(1, N - MAX_SECTION_STAGES), min(N, MAX_SECTION_STAGES) + 1))


def _best_split(ev: _Evaluator, N: int, scrub_allowed: bool) -> tuple[float, int]:
    ns = _splits(N, scrub_allowed)
    if len(ns) <= 32:
        best = max(ns, key=lambda n: (ev(n, N - n), -abs(2 * n - N)))
        return ev(best, N - best), best
    lo, hi = ns[0], ns[-1]
    step = max(1, N // 16)
    coarse = list(range(lo, hi + 1, step)) + [hi]
    c = max(coarse, key=lambda n: ev(n, N - n))
    fine = range(max(lo, c - step + 1), min(hi, c + step - 1) + 1)
    best = max(fine, key=lambda n: (ev(n, N - n), -abs(2 * n - N)))
    return ev(best, N - best), best


def _any_split(ev: _Evaluator, N: int, scrub_allowed: bool, ratio: float = 0.5) -> bool:
    """Whether some split of N stages meets the targets; tries splits near n = ratio N first.

    Tries the same candidates as :func:`_best_split` (all splits up to 32
    stages, else the coarse scan refined around its best), stopping at the
    first that works.
    """
    ns = _splits(N, scrub_allowed)
    near = sorted(ns, key=lambda n: abs(n - ratio * N))
    if len(ns) <= 32:
        return any(ev(n, N - n) >= 0.0 for n in near)
    for n in near[:3]:
        if ev(n, N - n) >= 0.0:
            return True
    return _best_split(ev, N, scrub_allowed)[0] >= 0.0


def smallest_feasible_total(ev, scrub_allowed: bool, lo_bound: int, start: int | None, max_stages: int,
                            ratio: float = 0.5) -> int | None:
    """Smallest total N in [lo_bound, max_stages] with some split (n, N - n) where ``ev(n, m) >= 0``.

    ``ev`` is a cached evaluator (``_Evaluator`` or one of the same shape);
    feasibility is taken to be monotone in N: bracket by doubling from
    ``start`` (or ``lo_bound``), then bisect. None when ``max_stages`` fails.
    """
    known: dict[int, bool] = {}

    def feasible(N: int) -> bool:
        if N not in known:
            known[N] = _any_split(ev, N, scrub_allowed, ratio)
        return known[N]

    # bracket: hi feasible; lo infeasible (lo_bound - 1 is infeasible by the bound). From a
    # guess the steps grow from one stage (the answer is near); from nothing they start at N0.
    N0 = max(lo_bound, min(start or lo_bound, max_stages))
    hi: int | None
    if feasible(N0):
        hi, lo, step = N0, lo_bound - 1, 1
        while hi - step >= lo_bound:
            if feasible(hi - step):
                hi -= step
                step *= 2
            else:
                lo = hi - step
                break
    else:
        lo, hi, step = N0, None, 1 if start else max(1, N0)
        while hi is None:
            cand = min(max_stages, lo + step)
            if feasible(cand):
                hi = cand
            elif cand >= max_stages:
                return None
            else:
                lo, step = cand, step * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if feasible(mid):
            hi = mid
        else:
            lo = mid
    return hi


def minimum_stages(spec: CascadeSpec, targets, *, max_stages: int = DEFAULT_MAX_STAGES,
                   start: int | None = None, ratio: float = 0.5, warm_splits: bool = True,
                   at_least: int = 1) -> StageDesign:
    """Fewest extraction + scrub stages meeting every target at the spec's flows.

    Parameters
    ----------
    spec : CascadeSpec
        The cascade; its stage counts are ignored except strip_stages.
    targets : sequence of Target
        From :func:`parse_targets`.
    max_stages : int
        Largest n + m searched (each section holds at most MAX_SECTION_STAGES,
        so at most twice that with a scrub section, and that without one).
    at_least : int
        Smallest n + m searched: a total known to fall short lies below it.
    start : int, optional
        A guess of the answer (e.g. a neighbouring design's), used to
        bracket the search; the answer does not depend on it.
    ratio : float
        Guess of n / (n + m), tried first when checking a stage count.
    warm_splits : bool
        Start each split from the last solve of the same total stages (the
        block Newton from a shifted profile: faster for binary cascades);
        False starts every split cold (faster for multicomponent feeds with
        traces, where the shifted profile converges slowly). The answer does
        not depend on it.

    Returns
    -------
    StageDesign
        ``feasible`` False with a ``reason`` when no cascade of up to
        ``max_stages`` meets the targets; otherwise the design and its exact
        solve (cold start), whose margins are all >= 0.

    Examples
    --------
    >>> spec = CascadeSpec.from_dict({"cascade": {"model": "constant_beta", "extraction_stages": 1},
    ...     "flows": {"organic": 3.3, "feed": 1.0, "scrub": 2.547475},
    ...     "feed": {"Pr": 0.25, "Nd": 0.75},
    ...     "model": {"beta": {"Pr": 1.0, "Nd": 1.5}, "organic_loading": 1.0, "scrub_acid": 3.0}})
    >>> t = parse_targets({"extract": {"Nd": {"purity": 0.995}}, "raffinate": {"Pr": {"purity": 0.995}}},
    ...                   spec.components)
    >>> d = minimum_stages(spec, t)
    >>> d.feasible, d.total_stages    # sx/design.py notes: exact minimum 48 at these flows
    (True, 48)
    """
    t0 = time.perf_counter()
    targets = tuple(targets)
    est = estimates(spec, targets)
    bound = _mass_balance_reason(spec, targets)
    if bound is not None:
        return StageDesign(False, spec, targets, None, {}, 0, time.perf_counter() - t0, est, bound)
    ev = _Evaluator(spec, targets, warm_splits)
    scrub_allowed = spec.scrub > 0
    max_stages = min(max_stages, MAX_SECTION_STAGES * (2 if scrub_allowed else 1))
    lo_bound = min(max(1, at_least), max_stages)
    p = spec.params
    if (spec.model == "constant_beta" and est["fenske_min_stages"] is not None and len(spec.components) == 2
            and np.array_equal(p.beta_scrub, p.beta) and not spec.strip_stages and spec.organic_inlet is None):
        # binary constant beta: no cascade of equilibrium stages (or of less efficient ones, or with
        # entrainment's back-mixing) beats total reflux (Fenske); a strip section separates further
        lo_bound = max(lo_bound, int(math.floor(est["fenske_min_stages"] + 1e-9)))
    hi = smallest_feasible_total(ev, scrub_allowed, lo_bound, start, max_stages, ratio)
    if hi is None:
        _, n = _best_split(ev, max_stages, scrub_allowed)
        res = ev.cache[(n, max_stages - n)][1]
        reason = _infeasible_reason(spec, targets, est, max_stages, res)
        marg = _margin_table(res, targets) if res is not None else {}
        return StageDesign(False, ev.variant(n, max_stages - n), targets, res, marg, ev.count,
                           time.perf_counter() - t0, est, reason)
    # verify from a cold start; on a round-off miss try the next best split or a stage more
    for N in range(hi, max_stages + 1):
        _best_split(ev, N, scrub_allowed)  # every candidate split of N evaluated (cached)
        order = sorted(_splits(N, scrub_allowed), key=lambda n: -ev(n, N - n))
        for n in order[:3]:
            if ev(n, N - n) < 0:
                break
            final = ev.variant(n, N - n)
            res = solve(final)
            if np.min(margins(res, targets)) >= 0.0:
                return StageDesign(True, final, targets, res, _margin_table(res, targets), ev.count + 1,
                                   time.perf_counter() - t0, est)
    raise ConvergenceError("sx design: no design verified from a cold start", float("nan"), ev.count)


def _mass_balance_reason(spec: CascadeSpec, targets) -> str | None:
    """Why no number of stages can meet a target of a constant-beta cascade, by mass balance alone;
    None when the balance allows every target.

    The outlet flows of a constant-beta cascade are fixed by its flows
    (:func:`magcycle.sx.spec.beta_flows`): the extract carries P = S - W and the
    raffinate R = F + W - S [mol/h]. A group G with feed flow F_G can therefore
    be at most min(1, F_G / P) of the extract and min(1, F_G / R) of the
    raffinate, and at most min(1, P / F_G) or min(1, R / F_G) of its feed can
    leave in them, whatever the stages.

    >>> spec = CascadeSpec.from_dict({"cascade": {"model": "constant_beta", "extraction_stages": 1},
    ...     "flows": {"organic": 3.3, "feed": 1.0, "scrub": 2.5}, "feed": {"Pr": 0.25, "Nd": 0.75},
    ...     "model": {"beta": {"Pr": 1.0, "Nd": 1.5}, "organic_loading": 1.0, "scrub_acid": 3.0}})
    >>> t = parse_targets({"extract": {"Nd": {"purity": 0.995}}}, spec.components)
    >>> _mass_balance_reason(spec, t)[:48]     # P = 3.3 - 2.5 = 0.8 mol/h, Nd 0.75: at most 0.9375
    'mass balance: the extract carries 0.8 mol/h of r'
    """
    from magcycle.sx.stagewise import needs_stagewise

    if spec.model != "constant_beta" or needs_stagewise(spec):  # Xu's fixed outlet flows only
        return None
    from magcycle.sx.spec import beta_flows

    _, _, _, P, R = beta_flows(spec)
    flow = {"extract": P, "raffinate": R}
    feed = spec.feed_mol_per_h
    for t in targets:
        F_G = float(np.sum(feed[list(t.indices)]))
        out = flow[t.outlet]
        best = min(1.0, F_G / out) if t.kind == "purity" else min(1.0, out / F_G)
        if t.minimum > best * (1.0 + 1e-12):
            return (f"mass balance: the {t.outlet} carries {out:.6g} mol/h of rare earth at these flows and the "
                    f"feed {F_G:.6g} mol/h of {t.component}, so its {t.kind} can reach at most {best:.6g} "
                    f"against {t.minimum:.6g}, whatever the stages")
    return None


def _margin_table(res: CascadeResult, targets) -> dict:
    m = margins(res, targets)
    return {t.label: (float(t.minimum + v), float(v)) for t, v in zip(targets, m)}


def _infeasible_reason(spec, targets, est, max_stages, res) -> str:
    worst = ""
    if res is not None:
        m = margins(res, targets)
        j = int(np.argmin(m))
        t = targets[j]
        worst = (f"; at {max_stages} stages the best split reaches {t.outlet} {t.component} {t.kind} "
                 f"{t.minimum + m[j]:.6g} against {t.minimum:.6g}")
    if est.get("S_min") is not None and est["S"] is not None and est["S"] < est["S_min"]:
        return (f"below minimum flow: organic rare-earth flow S = {est['S']:.4g} mol per mol feed RE is under "
                f"Underwood's S_min = {est['S_min']:.4g} for these targets; purities plateau whatever the "
                f"stage count{worst}")
    return f"no cascade of up to {max_stages} extraction + scrub stages meets the targets at these flows{worst}"


# -------------------------------------------------------------- flows free
@dataclass
class FlowDesign:
    best: StageDesign | None
    cost: float | None
    weights: dict
    points: list  # every evaluated design: dict(organic, scrub, total_stages, cost, feasible)
    pareto: list
    seconds: float

    def to_dict(self) -> dict:
        doc = self.best.to_dict() if self.best is not None else {"feasible": False, "result": None}
        doc.update({"cost": self.cost, "cost_weights": self.weights,
                    "cost_formula": "stage_weight*N*(Q_feed+Q_organic+Q_scrub)/Q_feed"
                                    " + organic_weight*Q_organic/Q_feed + scrub_weight*Q_scrub/Q_feed",
                    "pareto_front": self.pareto, "evaluated": self.points, "seconds": self.seconds})
        if self.best is None:
            doc["reason"] = "no flows on the search grid give a cascade that meets the targets"
        return doc


def design_cost(N: int, organic: float, scrub: float, feed: float, weights: Mapping[str, float]) -> float:
    """The cost J of the module docstring [-].

    >>> design_cost(40, 3.0, 2.0, 1.0, DEFAULT_WEIGHTS)   # 40 * 6
    240.0
    """
    return (weights["stage_weight"] * N * (feed + organic + scrub) / feed
            + weights["organic_weight"] * organic / feed + weights["scrub_weight"] * scrub / feed)


def pareto_front(points) -> list:
    """Non-dominated (total_stages, organic) pairs, both minimised, by increasing organic flow."""
    feas = sorted((p for p in points if p["feasible"]), key=lambda p: (p["organic"], p["total_stages"]))
    front, best = [], math.inf
    for p in feas:
        if p["total_stages"] < best:
            front.append({"organic": p["organic"], "scrub": p["scrub"], "total_stages": p["total_stages"]})
            best = p["total_stages"]
    return front


def _flow_space(spec: CascadeSpec, targets, span: float, grid: int):
    """Search variables (a, b), their initial grid and steps, and the map to (organic, scrub) [L/h]."""
    if spec.model == "constant_beta":
        from magcycle.sx.design import product_split
        from magcycle.sx.spec import beta_flows

        S0, W0, F, P0, _ = beta_flows(spec)
        load, acid = spec.params.organic_loading, spec.params.scrub_acid
        est = estimates(spec, targets)
        pair = key_pair(spec, targets)
        if est["fenske_min_stages"] is not None and pair is not None:
            # the product split the purity targets imply (key pair; heavier components all to the extract)
            A, B = pair
            ext = _extractability(spec)
            f = spec.feed_mol_per_h / F
            PA, group_A = _key_purity(targets, "extract", A)
            PB, group_B = _key_purity(targets, "raffinate", B)
            fa, fb = float(np.sum(f[list(group_A)])), float(np.sum(f[list(group_B)]))
            heavier = float(np.sum([f[i] for i in range(len(f)) if ext[i] > ext[A] and i not in group_A]))
            P0 = (heavier + (fa + fb) * float(product_split(fa / (fa + fb), PA, PB))) * F
        if est["S_min"]:  # from just above the minimum flow up
            lo = math.log(1.02 * est["S_min"] * F / S0)
            a_axis = np.linspace(lo, lo + 2.0 * math.log(span), grid)
        else:
            a_axis = np.linspace(-math.log(span), math.log(span), grid)

        def to_flows(a, b):
            S = S0 * math.exp(a)
            P = P0 * (1.0 + b)
            return float(S / load), float(3.0 * (S - P) / acid)

        return a_axis, np.array([0.0]), (a_axis[1] - a_axis[0], 0.004), to_flows
    L = math.log(span)
    axis = np.linspace(-L, L, grid)
    scrub_free = spec.scrub > 0

    def to_flows(a, b):
        return spec.organic * math.exp(a), (spec.scrub * math.exp(b) if scrub_free else 0.0)

    return axis, (axis if scrub_free else np.array([0.0])), (axis[1] - axis[0], axis[1] - axis[0] if scrub_free
                                                               else 0.0), to_flows


class _FlowSearch:
    """The points (a, b) of the flow search: each evaluated once, by the minimum-stage design at
    its flows (:func:`minimum_stages`, started from the last feasible design's total and split);
    ``seen`` maps a rounded point to (cost, StageDesign or None), ``points`` lists every design."""

    def __init__(self, spec: CascadeSpec, targets, weights: dict, max_stages: int, to_flows):
        self.spec, self.targets, self.weights = spec, targets, weights
        self.max_stages, self.to_flows = max_stages, to_flows
        self.points: list[dict] = []
        self.seen: dict[tuple[float, float], tuple[float, StageDesign | None]] = {}
        self.last_total: int | None = None
        self.ratio = 0.5

    def cost(self, key) -> float:
        """The cost of an evaluated point."""
        return self.seen[key][0]

    def make(self, org: float, scr: float) -> CascadeSpec:
        """The spec at organic and scrub flows [L/h]; InputError where the loader refuses them."""
        return self.spec.with_flows(organic=org, scrub=scr)

    def __call__(self, a: float, b: float):
        """(cost, StageDesign or None) at (a, b), evaluated on first request."""
        key = (round(a, 12), round(b, 12))
        if key in self.seen:
            return self.seen[key]
        org, scr = self.to_flows(a, b)
        try:
            cand = self.make(org, scr)
            d = minimum_stages(cand, self.targets, max_stages=self.max_stages, start=self.last_total,
                               ratio=self.ratio)
        except InputError:
            self.seen[key] = (math.inf, None)
            self.points.append({"organic": org, "scrub": scr, "feasible": False, "total_stages": None,
                                "cost": None})
            return self.seen[key]
        J = design_cost(d.total_stages, org, scr, self.spec.feed_flow, self.weights) if d.feasible else math.inf
        if d.feasible:
            self.last_total = d.extraction_stages + d.scrub_stages
            self.ratio = d.extraction_stages / self.last_total
        self.points.append({"organic": org, "scrub": scr, "feasible": d.feasible,
                            "total_stages": d.total_stages, "cost": J if d.feasible else None})
        self.seen[key] = (J, d if d.feasible else None)
        return self.seen[key]

    def count(self, a: float, b: float) -> int | None:
        """Extraction + scrub stages of the design at (a, b) (strip is fixed); None if infeasible."""
        d = self(round(a, 12), b)[1]
        return d.extraction_stages + d.scrub_stages if d is not None else None

    def works(self, a: float, N: int, b: float) -> bool:
        """Whether some split of N stages meets the targets at (a, b)."""
        org, scr = self.to_flows(round(a, 12), b)
        try:
            cand = self.make(org, scr)
        except InputError:
            return False
        return _any_split(_Evaluator(cand, self.targets), N, cand.scrub > 0, self.ratio)


def _pattern_search(search: _FlowSearch, cur, ha: float, hb: float, refine: int):
    """From the best grid point, moves of +-ha (and +-hb when the second variable is free),
    the steps halved ``refine`` times; the best point found."""
    moves = [(1, 0), (-1, 0)] + ([(0, 1), (0, -1)] if hb else [])
    for _ in range(refine):
        ha, hb = ha / 2.0, hb / 2.0
        improved = True
        while improved:
            improved = False
            for da, db in moves:
                k = (round(cur[0] + da * ha, 12), round(cur[1] + db * hb, 12))
                if search(*k)[0] < search.cost(cur) - 1e-12:
                    cur, improved = k, True
    return cur


def _edge(search: _FlowSearch, N: int, a_lo: float, a_hi: float, b: float) -> float | None:
    """The smallest a in (a_lo, a_hi] where N stages work, by 8 bisections (N works at a_hi);
    None when N already works at a_lo."""
    lo, hi = a_lo, a_hi
    if search.works(lo, N, b):
        return None
    for _ in range(8):
        mid = 0.5 * (lo + hi)
        if search.works(mid, N, b):
            hi = mid
        else:
            lo = mid
    return hi


def _step_edges(search: _FlowSearch, cur, centre, h_a: float, b: float):
    """Best of ``cur`` and the points where the stage count steps down between the grid
    neighbours of ``centre``, at the second variable ``b``."""
    a_lo, a_hi = centre[0] - h_a, centre[0] + h_a
    n_hi, n_lo = search.count(a_hi, b), search.count(a_lo, b)
    if n_hi is None:
        return cur
    n_top = n_lo if n_lo is not None else search.count(centre[0], b) + 8
    for N in range(n_hi, n_top + 1):
        hi = _edge(search, N, a_lo, a_hi, b)
        if hi is None:
            continue
        search(round(hi, 12), b)
        k = (round(hi, 12), b)
        if search.cost(k) < search.cost(cur):
            cur = k
    return cur


def optimise_flows(spec: CascadeSpec, targets, *, weights: Mapping[str, float] | None = None,
                   max_stages: int = DEFAULT_MAX_STAGES, grid: int = 7, span: float = 4.0,
                   refine: int = 4) -> FlowDesign:
    """Cheapest (stages, organic, scrub) design meeting the targets; see the module docstring.

    Search variables: for constant_beta, the organic rare-earth flow S (from
    1.02 S_min up, log-spaced) and the product split P = S - W, started at
    the split the purity targets imply (:func:`magcycle.sx.design.product_split`
    of the key pair) and refined by +-0.4 % steps, halving; otherwise the
    organic and scrub flows, log-spaced over 1/span..span of the file's.
    """
    t0 = time.perf_counter()
    w = dict(DEFAULT_WEIGHTS | dict(weights or {}))
    targets = tuple(targets)
    a_axis, b_axis, (ha, hb), to_flows = _flow_space(spec, targets, span, grid)
    search = _FlowSearch(spec, targets, w, max_stages, to_flows)
    for a in a_axis:
        for b in b_axis:
            search(float(a), float(b))
    cur = min(search.seen, key=search.cost)
    if not math.isfinite(search.cost(cur)):
        return FlowDesign(None, None, w, search.points, pareto_front(search.points), time.perf_counter() - t0)
    cur = _pattern_search(search, cur, ha, hb, refine)
    # The stage count is a step function of the organic flow and, at a fixed
    # count, the cost rises with the flows: the optimum sits where the count
    # steps down. Locate each step between the neighbours of the best point
    # (bisection in the organic variable, 8 halvings) and take the cheapest.
    # The second variable is tried at its value there and at its start (for
    # constant_beta the product split the targets imply).
    h_a = a_axis[1] - a_axis[0] if len(a_axis) > 1 else 0.0
    centre = cur
    if h_a:
        for b in sorted({centre[1], 0.0}):
            cur = _step_edges(search, cur, centre, h_a, b)
    J, best = search.seen[cur]
    return FlowDesign(best, J, w, search.points, pareto_front(search.points), time.perf_counter() - t0)


# ------------------------------------------------------------------ loading
@dataclass(frozen=True)
class DesignProblem:
    spec: CascadeSpec
    targets: tuple
    weights: dict
    max_stages: int


def design_problem(doc: Mapping[str, Any], *, source: str | None = None) -> DesignProblem:
    """A cascade document with ``[targets]`` (and optional ``[design]``) into a design problem.

    Stage counts in ``[cascade]`` are not needed (extraction and scrub are
    designed; strip_stages is kept). The whole document is validated by
    :class:`magcycle.sx.schema.CascadeDocument`. The document is not modified.
    """
    from magcycle.schema import validate
    from magcycle.sx.schema import CascadeDocument, DesignSection

    if not isinstance(doc, Mapping):
        raise InputError("file", "the document must be a table of sections")
    data = dict(doc)
    cas = data.get("cascade")
    if isinstance(cas, Mapping):  # stage counts are designed: given ones are checked, then replaced
        data["cascade"] = {"extraction_stages": 1, "scrub_stages": 0} | dict(cas)
    if data.get("targets") is None:
        raise InputError("targets", "missing: give minimums such as extract = { Nd = { purity = 0.995 } }")
    document = validate(CascadeDocument, data)
    spec = document.to_spec(source)
    design = document.design or DesignSection()
    weights = {k: getattr(design, k) for k in DEFAULT_WEIGHTS}
    return DesignProblem(spec, parse_targets(doc["targets"], spec.components), weights, design.max_stages)


def load_design(path) -> DesignProblem:
    """Read a design file (TOML or JSON): a cascade plus ``[targets]``."""
    from pathlib import Path

    from magcycle.documents import read_document

    return design_problem(read_document(path), source=Path(path).name)
