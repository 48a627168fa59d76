"""Solving an empirical_ph cascade: the reduced 2N system first, the block Newton as fallback.

See :mod:`magcycle.sx.empirical_ph` for the model. A solution from either path
is accepted only when every stage equation of the full model holds to
NEWTON_TOL (scaled), and its element closure is checked like every solve's.
"""

from __future__ import annotations

import math

import numpy as np

from magcycle.errors import ConvergenceError
from magcycle.sx.empirical_ph import EmpiricalPhCascade
from magcycle.sx.multipliers import _dense_ptc
from magcycle.sx.newton import ptc_newton
from magcycle.sx.result import CLOSURE_LIMIT, CascadeResult, Outlet, checked_closure, closure_error

__all__ = ["solve_empirical_ph", "reduced_solve", "block_solve", "load_continuation", "trust_region_solve",
           "acid_continuation", "arclength_continuation", "ARCLENGTH_STEPS", "extractant_continuation",
           "EXTRACTANT_STARTS",
           "TRUST_REGION_EVALUATIONS", "EMPIRICAL_ATTEMPTS",
           "CONTINUATION_START", "CONTINUATION_STEPS", "SATURATED"]

#: scaled-residual tolerance (that of every nonlinear model, magcycle.sx.solver.NEWTON_TOL)
NEWTON_TOL = 1e-12
#: cold attempts of the reduced solver: (first pseudo-time step, largest step in ln h or ln f)
EMPIRICAL_ATTEMPTS = ((10.0, 2.0),)


def reduced_solve(model: EmpiricalPhCascade, v0, *, dt0: float, max_step: float, max_iter: int = 300,
                  chord=None, keep: dict | None = None):
    """PTC Newton on the 2N unknowns (ln h, ln f) from v0; returns (u (N, C+2) or None, iterations).

    ``chord``: the factorised Jacobian of a neighbouring solution, tried first (chord steps cost one
    evaluation each); ``keep``, a dict, receives the factors of the last Jacobian factorised.
    """
    def evaluate(v):
        R, lna, state = model.residual(v)
        return R, (lna, state)

    v, (lna, _), norm, its, factors = _dense_ptc(evaluate, lambda st: model.jacobian(st[1]), v0, holdup=-1.0,
                                                 tol=0.1 * NEWTON_TOL, max_iter=max_iter, dt0=dt0,
                                                 max_step=max_step, growth_limit=10.0, upper=model.upper,
                                                 chord=chord)
    if keep is not None:
        keep["factors"] = factors
    if not np.isfinite(norm) or norm > 1e-8:
        return None, its
    return model.state(v, lna), its


class _Blocks:
    """The full model as :func:`magcycle.sx.newton.ptc_newton` takes it: one variant, blocks by differences.

    The stage equations couple stage k to k-1 and k+1 only, so perturbing the
    same variable on every third stage at once yields three block columns per
    evaluation: 3 (C + 2) evaluations per Jacobian.
    """

    def __init__(self, model: EmpiricalPhCascade):
        self.model = model
        self.M = M = model.M
        self.kl = self.ku = 2 * M - 1
        self.hold = np.ones(M)
        self.hold[-1] = 0.0  # the extractant balance is algebraic
        up = np.full((model.N, M), np.inf)
        up[:, M - 2] = model.upper[:model.N]
        up[:, M - 1] = model.upper[model.N:]
        self.upper = up[None]

    def residual(self, u):
        R = self.model.full_residual(u[0])
        share = np.ones_like(R)
        return R[None], share[None], u

    def jacobian(self, u):
        model, M = self.model, self.M
        u0 = u[0]
        N = u0.shape[0]
        R0 = model.full_residual(u0)
        Lo, Di, Up = (np.zeros((1, N, M, M)) for _ in range(3))
        eps = 1e-7
        for colour in range(3):
            stages = np.arange(colour, N, 3)
            for j in range(M):
                up = u0.copy()
                up[stages, j] += eps
                dR = (model.full_residual(up) - R0) / eps
                for s in stages:
                    Di[0, s, :, j] = dR[s]
                    if s > 0:
                        Up[0, s - 1, :, j] = dR[s - 1]
                    if s + 1 < N:
                        Lo[0, s + 1, :, j] = dR[s + 1]
        return Lo, Di, Up


def block_solve(model: EmpiricalPhCascade, u0, *, dt0: float = 1.0, max_iter: int = 200):
    """PTC Newton on all N (C + 2) stage unknowns from u0 (N, C + 2); a NewtonOutcome."""
    return ptc_newton(_Blocks(model), u0[None], dt0=dt0, tol=NEWTON_TOL, max_iter=max_iter, max_step=1.0)


#: most residual evaluations of the trust-region attempt
TRUST_REGION_EVALUATIONS = 400


def trust_region_solve(model: EmpiricalPhCascade, v0, *, differences: bool = False):
    """Minimise |R(v)|^2 of the reduced residual by scipy's trust-region reflective method (analytic
    Jacobian), then finish with the PTC Newton from its point.

    A descent on the squared residual does not stall where the pseudo-transient march does (a
    trapped component loading the feed stages far beyond the extractant), at the price of more
    evaluations. ``differences``: forward-difference Jacobian instead of the analytic one, whose
    differences of Green's functions lose digits where a trapped component's stage flows span
    many decades. Returns (u or None, evaluations + iterations).
    """
    from scipy.optimize import least_squares

    cache = {}

    def fun(v):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            R, _, state = model.residual(v)
        cache["v"], cache["state"] = v.copy(), state
        return np.where(np.isfinite(R), R, 1e3)

    def jac(v):
        if "v" not in cache or not np.array_equal(cache["v"], v):
            fun(v)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            J = model.jacobian(cache["state"])
        return np.where(np.isfinite(J), J, 0.0)

    try:
        out = least_squares(fun, v0, jac="2-point" if differences else jac, method="trf", xtol=1e-15, ftol=1e-15,
                            gtol=1e-15, max_nfev=TRUST_REGION_EVALUATIONS)
    except (ValueError, np.linalg.LinAlgError):
        return None, TRUST_REGION_EVALUATIONS
    if not np.all(np.isfinite(out.x)):
        return None, int(out.nfev)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        u, its = reduced_solve(model, out.x, dt0=1e4, max_step=1.0, max_iter=30)
    return u, int(out.nfev) + its


#: the load a continuation starts from, and the most sub-solves it may take
CONTINUATION_START, CONTINUATION_STEPS = 1e-9, 24


def load_continuation(model: EmpiricalPhCascade):
    """Reduced solves along the metal load lambda from CONTINUATION_START to 1.

    At a trace of metal nothing is extracted in bulk and :meth:`EmpiricalPhCascade.initial`
    is the solution; each step is a warm solve from the last, the step in lambda doubled
    after a success and quartered after a failure. Returns (u or None, iterations).
    """
    spec = model.spec
    v = EmpiricalPhCascade(spec, load=CONTINUATION_START).initial()
    return _march(model, lambda lam: EmpiricalPhCascade(spec, load=lam), CONTINUATION_START, 1.0, v, 0)


def _march(model, make, start: float, end: float, v, total: int, *, shift=None, steps: int = CONTINUATION_STEPS,
           max_iter: int = 40):
    """Warm reduced solves from the solution v at parameter ``start`` to ``end`` (the model itself);
    ``make(p)`` is the model at p (None: no valid cascade there, the march stops); ``shift(v, a, b)``,
    if given, moves v from parameter a to b before the solve. The step doubles after a success and is
    quartered after a failure. Returns (u or None, iterations)."""
    at, step = start, end - start
    for _ in range(steps):
        target = end if abs(step) >= abs(end - at) else at + step
        trial = model if target == end else make(target)
        if trial is None:
            return None, total
        v0 = v if shift is None else shift(v, at, target)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            u, its = reduced_solve(trial, v0, dt0=10.0, max_step=1.0, max_iter=max_iter)
        total += its
        if u is None:
            step *= 0.25
            continue
        at, v = target, np.concatenate((u[:, -2], u[:, -1]))
        if at == end:
            return u, total
        step *= 2.0
    return None, total


def _accepted(model, u):
    if u is None:
        return None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        norm = float(np.max(np.abs(model.full_residual(u))))
    return norm if norm <= NEWTON_TOL else None


def _warm_v(model, warm_start):
    if warm_start is None or warm_start.state is None or warm_start.model != "empirical_ph":
        return None
    st = warm_start.state
    if warm_start.components != model.spec.components or st.shape != (model.N, model.M):
        return None
    return np.concatenate((st[:, -2], st[:, -1]))


def acid_continuation(model: EmpiricalPhCascade, start: float = 8.0):
    """Reduced solves along a factor on every acid entering, from ``start`` (strong acid: little is
    extracted, the cascade nearly linear) down to 1, each warm from the last; the step in ln(factor)
    doubled after a success and quartered after a failure. Returns (u or None, iterations)."""
    spec = model.spec
    first = EmpiricalPhCascade(spec, acid=start)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        u, total = reduced_solve(first, first.initial(), dt0=10.0, max_step=2.0)
    if u is None:
        return None, total
    v = np.concatenate((u[:, -2], u[:, -1]))
    return _march(model, lambda level: EmpiricalPhCascade(spec, acid=math.exp(level)), math.log(start), 0.0, v, total)


#: most predictor-corrector steps of :func:`arclength_continuation`, and its longest step
ARCLENGTH_STEPS, ARCLENGTH_MAX_STEP = 300, 2.0


def _acid_system(spec, w):
    """R (2N,), the bordered Jacobian [dR/dv | dR/ds] (2N, 2N + 1) and ln a at w = (v, s), s the ln of the
    factor on every acid entering. Only the proton rows see s, through their supply:
    d ln(sum_{j>=k} a s^H_j + z.o_top) / ds = a sum_{j>=k} s^H_j / supply_k."""
    model = EmpiricalPhCascade(spec, acid=math.exp(w[-1]))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        R, lna, state = model.residual(w[:-1])
        Rs = np.zeros_like(R)
        Rs[:model.N] = model.acid_above / state[5]
        return R, np.column_stack((model.jacobian(state), Rs)), lna


def _tangent(A, t):
    """Unit tangent of the branch R(w) = 0 at a point with bordered Jacobian A (2N, 2N + 1), oriented
    along the previous tangent t:  [A; t^T] t_new = (0, ..., 0, 1),  t_new / |t_new|."""
    rhs = np.zeros(A.shape[1])
    rhs[-1] = 1.0
    tn = np.linalg.solve(np.vstack((A, t)), rhs)
    return tn / np.linalg.norm(tn)


def _correct(spec, wp, t, max_iter: int = 8):
    """Newton on R(w) = 0 with the arclength condition t.(w - wp) = 0 from the predictor wp.
    Returns (w, A, iterations) once max |R| <= 1e-10, or None."""
    w = wp.copy()
    for it in range(max_iter):
        R, A, _ = _acid_system(spec, w)
        if not np.all(np.isfinite(R)) or not np.all(np.isfinite(A)):
            return None
        if float(np.max(np.abs(R))) <= 1e-10:
            return w, A, it
        try:
            w = w - np.linalg.solve(np.vstack((A, t)), np.append(R, t @ (w - wp)))
        except np.linalg.LinAlgError:
            return None
    return None


def _finish_at_one(model, before, after):
    """Reduced solve at factor 1 from the branch's crossing of s = 0, linear between the points
    ``before`` (s > 0) and ``after`` (s <= 0). Returns (u or None, iterations)."""
    theta = before[-1] / (before[-1] - after[-1])
    v0 = before[:-1] + theta * (after[:-1] - before[:-1])
    u, its = reduced_solve(model, v0, dt0=1e4, max_step=1.0, max_iter=40)
    if u is None:
        u, more = reduced_solve(model, v0, dt0=10.0, max_step=1.0, max_iter=300)
        its += more
    return u, its


def arclength_continuation(model: EmpiricalPhCascade, start: float = 8.0):
    """Pseudo-arclength continuation of the reduced roots in s = ln(acid factor) from ``start`` to 0.

    Unknowns w = (ln h, ln f, s); predictor w + h t along the unit tangent t (the null vector of
    [dR/dv | dR/ds]); corrector Newton on R(w) = 0 with t.(w - w_pred) = 0, whose bordered matrix
    stays regular where dR/dv is singular, so the march passes turning points of the branch
    (where the natural continuation of :func:`acid_continuation` stalls). The step h grows 1.5-fold
    after a quick correction and halves after a failed one. Where s crosses 0 the reduced Newton
    finishes at factor 1; where the march ends first (ARCLENGTH_STEPS), it is tried from the last
    point of the branch. Returns (u or None, iterations).
    """
    spec = model.spec
    first = EmpiricalPhCascade(spec, acid=start)
    u, total = reduced_solve(first, first.initial(), dt0=10.0, max_step=2.0)
    if u is None:
        return None, total
    w = np.append(np.concatenate((u[:, -2], u[:, -1])), math.log(start))
    _, A, _ = _acid_system(spec, w)
    t = np.linalg.svd(A)[2][-1]
    t = -t if t[-1] > 0 else t  # towards less acid
    h = 0.1
    for _ in range(ARCLENGTH_STEPS):
        out = _correct(spec, w + h * t, t)
        if out is None:
            h *= 0.5
            if h < 1e-6:
                break
            continue
        x, A, its = out
        total += its + 1
        if x[-1] <= 0.0:
            u, its = _finish_at_one(model, w, x)
            return u, total + its
        w, t = x, _tangent(A, t)
        h = min(1.5 * h, ARCLENGTH_MAX_STEP) if its <= 3 else h
    u, its = reduced_solve(model, w[:-1], dt0=10.0, max_step=1.0, max_iter=300)
    return u, total + its


#: richer organics an extractant continuation starts from [vol %], tried in turn (above the spec's)
EXTRACTANT_STARTS = (90.0, 40.0, 20.0)


def _with_extractant(spec, d: float):
    """The spec with another free extractant d [vol %] (None if that is not a valid cascade)."""
    from magcycle.errors import InputError

    try:
        return spec.replace({"model": {"extractant_vol_pct": d}})
    except InputError:
        return None


def _root_at(model):
    """A root of ``model`` by the cold reduced Newton, then the acid continuations (or None, its)."""
    total = 0
    for attempt in (lambda: reduced_solve(model, model.initial(), dt0=10.0, max_step=2.0),
                    lambda: acid_continuation(model), lambda: arclength_continuation(model)):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            u, its = attempt()
        total += its
        if _accepted(model, u) is not None:
            return u, total
    return None, total


def extractant_continuation(model: EmpiricalPhCascade):
    """Reduced solves along the free extractant d from a richer organic (EXTRACTANT_STARTS) down to
    the spec's, each warm from the last (ln f shifted by the change of ln d), the step in ln d doubled
    after a success and quartered after a failure. A richer organic does not saturate: a metal whose
    D hardly falls with the free extractant (a constant D, a small extractant order B1) can fill the
    organic of the spec and drive the other continuations onto a branch with the organic nearly
    saturated, while from the richer organic the march follows the branch a plant reaches by
    diluting its extractant. Returns (u or None, iterations)."""
    spec = model.spec
    d0 = spec.params.extractant_vol_pct
    total = 0
    for d in EXTRACTANT_STARTS:
        rich = _with_extractant(spec, d) if d > 1.5 * d0 else None
        if rich is None:
            continue
        u, its = _root_at(EmpiricalPhCascade(rich))
        total += its
        if u is None:
            continue
        u, its = _dilute(model, spec, math.log(d), math.log(d0), np.concatenate((u[:, -2], u[:, -1])))
        total += its
        if u is not None:
            return u, total
    return None, total


def _dilute(model, spec, at: float, end: float, v):
    """Warm reduced solves from ln d = ``at`` (solved: v) to ``end`` (the model); (u or None, its).
    The free extractant scales with the organic's: ln f moves with ln d before each solve."""
    N = model.N

    def make(level):
        variant = _with_extractant(spec, math.exp(level))
        return None if variant is None else EmpiricalPhCascade(variant)

    def shift(x, a, b):
        y = x.copy()
        y[N:] += b - a
        return y

    return _march(model, make, at, end, v, 0, shift=shift, steps=4 * CONTINUATION_STEPS, max_iter=60)


def _block_from_start(model):
    v = model.initial()
    lna, _, _ = model.flows(v)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = block_solve(model, model.state(v, lna))
    return (out.u[0] if out.converged[0] else None), int(out.iterations[0])


def _warm_chord(model, warm_start):
    """The factorised reduced Jacobian a neighbouring empirical_ph result carries, if it fits."""
    red = getattr(warm_start, "reduced", None)
    if not red or red[1] is None or red[1].lu.shape != (2 * model.N, 2 * model.N):
        return None
    return red[1]


def _converge(model, warm_start, keep):
    """(u, iterations, residual) of the first accepted attempt; raises ConvergenceError if none passes.

    Order: the reduced Newton (warm if a neighbour fits, then cold); a trust-region descent;
    continuation from strong acid (natural, then pseudo-arclength); continuation from a richer organic
    down to the spec's extractant; continuation in the metal load; the block Newton.
    """
    total = 0
    v_warm = _warm_v(model, warm_start)
    chord = _warm_chord(model, warm_start) if v_warm is not None else None
    starts = ([] if v_warm is None else [(v_warm, 1e4, 1.0)]) + [(None, dt, st) for dt, st in EMPIRICAL_ATTEMPTS]
    attempts = [lambda v0=v0, dt0=dt0, step=step: reduced_solve(
        model, model.initial() if v0 is None else v0, dt0=dt0, max_step=step, max_iter=20 if v0 is not None else 300,
        chord=chord if v0 is not None else None, keep=keep)
        for v0, dt0, step in starts]
    attempts += [lambda: trust_region_solve(model, model.initial()),
                 lambda: trust_region_solve(model, model.initial(), differences=True), lambda: acid_continuation(model),
                 lambda: arclength_continuation(model), lambda: extractant_continuation(model),
                 lambda: load_continuation(model), lambda: _block_from_start(model)]
    for attempt in attempts:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            u, its = attempt()
        total += its
        norm = _accepted(model, u)
        if norm is not None:
            return u, total, norm
    reason, residual = _failure_reason(model)
    raise ConvergenceError(reason, residual, total)


def _failure_reason(model) -> tuple[str, float]:
    """Why no steady state was found, and the least residual a descent reached: where it leaves a
    stage's pH beyond 14, that stage's acid cannot balance what the organic brings (no steady state
    of this model there); where it leaves the organic saturated, which metal fills it
    (:func:`_saturation_reason`)."""
    from scipy.optimize import least_squares

    base = "empirical_ph cascade did not converge"
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            out = least_squares(lambda v: np.nan_to_num(model.residual(v)[0], nan=1e3, posinf=1e3, neginf=-1e3),
                                model.initial(), method="trf", max_nfev=200)
        except (ValueError, np.linalg.LinAlgError):
            return base, float("nan")
    residual = float(np.max(np.abs(out.fun)))
    pH = -out.x[:model.N] / math.log(10.0)
    if not np.any(np.isfinite(out.x)):
        return base, residual
    if not np.nanmax(pH) > 14.0:
        return _saturation_reason(model, out.x, base), residual
    k = int(np.nanargmax(pH))
    section = "extraction" if k < model.n else ("scrub" if k < model.Ne else "strip")
    return (f"{base}: stage {k + 1} ({section}) runs to pH above 14, so its acid cannot balance the metal the "
            f"organic carries (no steady state of this model; more {section if section != 'extraction' else 'feed'}"
            f" acid or a lighter load)"), residual


#: free extractant over the organic's total below which a failure is reported as a saturated organic
SATURATED = 1e-4


def _saturation_reason(model, v, base: str) -> str:
    """The failure message where the least-residual point v leaves the organic saturated: the free
    extractant f_k below SATURATED E at some stage k; the metal named is the one with the largest share
    nu z_i y_ki / E of the extractant there. A metal trapped between the extraction and the scrub
    section (e = D Q_o / Q_a above 1 at the feed's pH, below 1 at the scrub's) accumulates until the
    organic is full, the more so the less its D falls with the free extractant (small B1, constant D)."""
    N = model.N
    lf = np.where(np.isfinite(v[N:]), v[N:], np.inf)
    k = int(np.argmin(lf))
    if not np.isfinite(lf[k]) or math.exp(lf[k]) >= SATURATED * model.E:
        return base
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _, lno, _ = model.flows(v)
        share = model.nu * model.z * np.exp(lno[:, k]) / (model.Qo * model.E)
    c = int(np.nanargmax(share))
    order = f"extractant order {model.B1[c]:.2f}" if model.corr[c] else "a constant D"
    section = "extraction" if k < model.n else ("scrub" if k < model.Ne else "strip")
    return (f"{base}: the nearest point found saturates the organic (free extractant {math.exp(lf[k]) / model.E:.1e} "
            f"of the total at stage {k + 1} ({section}), {share[c]:.0%} of it holding "
            f"{model.spec.components[c]}, {order}), as a metal trapped between the extraction and scrub sections "
            f"does; no steady state was found (more scrub acid, more extractant or less "
            f"{model.spec.components[c]} may give one)")


def solve_empirical_ph(spec, warm_start=None) -> CascadeResult:
    """Steady state of an empirical_ph cascade (:func:`magcycle.sx.solve` dispatches here)."""
    model = EmpiricalPhCascade(spec)
    keep: dict = {}
    u, iterations, residual = _converge(model, warm_start, keep)
    C, Ne = model.C, model.Ne
    x = np.exp(u[:, :C])
    le, _, _ = model.log_e(u[:, C], u[:, C + 1])
    with np.errstate(over="ignore"):  # y = D x in logs: D may lie beyond the double range where x is tiny
        y = np.exp(u[:, :C] + le.T + np.log(model.Qa)[:, None] - np.log(model.Qo))
    Qa = model.Qa
    outlets = {"raffinate": Outlet(float(Qa[0]), Qa[0] * x[0])}
    if model.k:
        outlets["extract"] = Outlet(spec.strip, spec.strip * x[Ne])
        outlets["stripped_organic"] = Outlet(spec.organic, spec.organic * y[-1])
    else:
        outlets["extract"] = Outlet(spec.organic, spec.organic * y[Ne - 1])
    err = float(np.max(closure_error(spec.feed_mol_per_h, [o.mol_per_h for o in outlets.values()])))
    closure = err if err <= CLOSURE_LIMIT else checked_closure(spec, outlets)
    h = np.exp(u[:, C])
    f = np.exp(u[:, C + 1])
    T, _ = model.acidity(u[:, C])
    return CascadeResult(
        spec=spec, converged=True, iterations=int(iterations), closure=closure, outlets=outlets,
        profile=(x, y, residual), pH=-np.log10(h), state=u, reduced=(None, keep.get("factors")),
        extra={"free_extractant_mol_per_L": f, "free_extractant_vol_pct": f * model.vol_pct_per_mol,
               "titratable_acid_mol_per_L": T, "sulfate_mol_per_L": model.S.copy()})
