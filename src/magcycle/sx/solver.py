"""One solver interface for the four equilibrium models.

``solve(spec)`` returns a :class:`CascadeResult` whose mass closure has been
checked; ``solve(spec, warm_start=previous)`` starts Newton from a
neighbouring solution of the same geometry.

The nonlinear models are solved first in their reduced form (stage
multipliers, :mod:`magcycle.sx.multipliers`: the component balances are
linear for given multipliers and solved exactly, leaving N or 2N unknowns);
a result from that path is accepted only when the model's own scaled
residual is within NEWTON_TOL. Otherwise the block-tridiagonal Newton in
all stage variables runs (warm, then from its continuation or acid-only
cold start), as it does for batches. The reduced form is dense, its cost
the cube of its unknowns: a cascade of more than REDUCED_MAX_UNKNOWNS of
them goes to the block Newton alone.

A constant-beta result carries its multipliers and the factorised
multiplier Jacobian (``reduced``): a warm solve from it tries chord steps
with that factorisation first. ``solve_warm_many(specs, warm_starts)``
solves several cascades, each from its own warm start, sharing each
residual evaluation among the constant-beta ones of the same stages (the
plant Monte Carlo's lockstep, :mod:`magcycle.sx.lockstep`); every cascade is
checked as a lone solve is, and one that does not pass is solved alone.
"""

from __future__ import annotations

import numpy as np

from magcycle.sx import constant_d
from magcycle.sx.constant_beta import BetaCascade
from magcycle.sx.mass_action import MassActionCascade
from magcycle.sx.multipliers import (
    MassActionReduced,
    bubble_point_multipliers,
    multipliers_from_aqueous,
    solve_mass_action_multipliers,
    solve_multipliers,
    solve_multipliers_many,
)
from magcycle.sx.newton import NewtonOutcome, ptc_newton, require_converged
from magcycle.sx.result import CLOSURE_LIMIT, CascadeResult, Outlet, checked_closure, closure_error
from magcycle.sx.spec import CascadeSpec, beta_flows
from magcycle.sx.stagewise import needs_stagewise, solve_stagewise

__all__ = ["NEWTON_TOL", "CLOSURE_TARGET", "DT_COLD", "DT_WARM", "WARM_MAX_ITER", "REDUCED_MAX_UNKNOWNS",
           "MULTIPLIER_DT_COLD", "MASS_ACTION_ATTEMPTS", "solve", "solve_warm_many", "constant_d_factors",
           "beta_model", "beta_continuation", "beta_multipliers", "mass_action_model", "mass_action_cold",
           "mass_action_multipliers"]

#: scaled-residual tolerance of the nonlinear models
NEWTON_TOL = 1e-12
#: element closure a converged nonlinear solve is polished towards
CLOSURE_TARGET = 1e-11


def _polish(spec, model, out, outlets_of):
    """Extra Newton steps while the element closure exceeds CLOSURE_TARGET.

    Stage balances are converged relative to each stage's own flows; where
    internal flows dwarf the feed (near total reflux), that can leave an
    overall closure above 1e-11 of the feed. Up to three further Newton
    steps bring it to round-off; the best state is kept.
    """
    outlets = outlets_of(out.u)
    err = float(np.max(closure_error(spec.feed_mol_per_h, [o.mol_per_h for o in outlets.values()])))
    for _ in range(3):
        if err <= CLOSURE_TARGET:
            break
        step = ptc_newton(model, out.u, dt0=1e14, tol=0.0, max_iter=1)
        cand = outlets_of(step.u)
        e2 = float(np.max(closure_error(spec.feed_mol_per_h, [o.mol_per_h for o in cand.values()])))
        if not e2 < err:
            break
        out.u, out.residual, err, outlets = step.u, step.residual, e2, cand
        out.iterations = out.iterations + 1
    return outlets, err
#: first pseudo-time step [stage residence times], cold and warm
DT_COLD = 1.0
DT_WARM = 1e4


def solve(spec: CascadeSpec, *, warm_start: CascadeResult | None = None) -> CascadeResult:
    """Steady state of the cascade described by ``spec``.

    Parameters
    ----------
    spec : CascadeSpec
        A validated configuration (:func:`magcycle.sx.load_cascade`).
    warm_start : CascadeResult, optional
        A solution of a neighbouring specification with the same model,
        components and stage counts; ignored (cold start) otherwise.

    Raises
    ------
    ConvergenceError
        If Newton fails; carries the residual and the iteration count.
    MassBalanceError
        If the solution does not close the element balance to 1e-9.
    """
    if spec.model == "constant_d":
        return _solve_constant_d(spec)
    if needs_stagewise(spec):
        return solve_stagewise(spec, warm_start)
    if spec.model == "constant_beta":
        return _solve_constant_beta(spec, warm_start)
    if spec.model == "empirical_ph":
        from magcycle.sx.empirical_solver import solve_empirical_ph

        return solve_empirical_ph(spec, warm_start)
    return _solve_mass_action(spec, warm_start)


def _warm_state(spec: CascadeSpec, warm_start: CascadeResult | None, shape) -> np.ndarray | None:
    if warm_start is None or warm_start.state is None:
        return None
    if warm_start.model != spec.model or warm_start.components != spec.components:
        return None
    if warm_start.state.shape != shape:
        return None
    return warm_start.state[None]


# ---------------------------------------------------------------- constant_d
def constant_d_factors(spec: CascadeSpec):
    """Extraction factors (eE, eS, eT) of a constant-D spec [-]."""
    p = spec.params
    eE = p.D * spec.organic / (spec.feed_flow + spec.scrub)
    eS = p.D_scrub * spec.organic / spec.scrub if spec.scrub > 0 else p.D_scrub * np.inf
    eT = p.D_strip * spec.organic / spec.strip if spec.strip_stages > 0 else None
    return eE, eS, eT


def _downflows(spec: CascadeSpec) -> np.ndarray:
    """Aqueous flowing down out of each stage [L/h]: the section's, less the entrained aqueous on the
    raffinate stage (it leaves at the top with the organic; magcycle.sx.linear)."""
    Q = spec.aqueous_flows()
    Q[0] -= spec.entrained_L_per_L * spec.organic
    return Q


def _solve_constant_d_general(spec: CascadeSpec) -> CascadeResult:
    """constant_d with a Murphree efficiency, a loaded organic inlet or entrainment (magcycle.sx.linear)."""
    from magcycle.sx.linear import solve_linear_cascade

    p = spec.params
    n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
    N, Ne = n + m + k, n + m
    Qd = _downflows(spec)
    phi = spec.entrained_L_per_L
    D = np.concatenate([np.repeat(p.D[:, None], n, 1), np.repeat(p.D_scrub[:, None], m, 1)]
                       + ([np.repeat(p.D_strip[:, None], k, 1)] if k else []), axis=1)
    with np.errstate(divide="ignore"):
        le = np.log(D + phi) + np.log(spec.organic) - np.log(Qd)[None]
    E = np.full(N, spec.murphree)
    inlet = np.zeros(len(spec.components)) if spec.organic_inlet is None else spec.organic * spec.organic_inlet
    a, o = solve_linear_cascade(le, E, n, m, k, spec.feed_flow * spec.feed, inlet)
    up = spec.organic * (1.0 + phi)  # organic and its entrained aqueous [L/h]
    outlets = {"raffinate": Outlet(float(Qd[0]), a[:, 0])}
    if k:
        outlets["extract"] = Outlet(spec.strip, a[:, Ne])
        outlets["stripped_organic"] = Outlet(up, o[:, -1])
    else:
        outlets["extract"] = Outlet(up, o[:, Ne - 1])
    closure = checked_closure(spec, outlets)
    x = (a / Qd[None]).T
    y = (o.T - phi * spec.organic * x) / spec.organic if phi else o.T / spec.organic
    resid = _general_stage_residual(spec, a, o, E, inlet, np.exp(le))
    return CascadeResult(spec=spec, converged=True, iterations=1, closure=closure, outlets=outlets,
                         profile=(x, y, resid))


def _general_stage_residual(spec, a, o, E, inlet, e) -> float:
    """Largest residual of the balances (:func:`_linear_stage_residual`) and of the Murphree relations,
    relative to the stage's flows."""
    balances = _linear_stage_residual(spec, {"aqueous_flow": a.T, "organic_flow": o.T}, inlet=inlet)
    prev = np.concatenate((inlet[:, None], o[:, :-1]), axis=1)
    murphree = o - (1.0 - E) * prev - E * e * a
    with np.errstate(invalid="ignore"):
        return float(max(balances, np.max(np.abs(murphree) / np.maximum(a + o, FLOW_FLOOR))))


def _solve_constant_d(spec: CascadeSpec) -> CascadeResult:
    if spec.organic_inlet is not None or spec.murphree < 1.0 or spec.entrainment > 0.0:
        return _solve_constant_d_general(spec)
    eE, eS, eT = constant_d_factors(spec)
    if spec.scrub_stages == 0:
        eS = np.ones_like(eE)  # unused: a zero-stage scrub contributes sigma = 1
    n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
    sol = constant_d.solve_arrays(eE, eS, eT, n, m, k, spec.feed_mol_per_h, profiles=False)
    outlets = {
        "raffinate": Outlet(spec.feed_flow + spec.scrub, sol["raffinate"]),
        "extract": Outlet(spec.strip if k else spec.organic, sol["extract"]),
    }
    if k:
        outlets["stripped_organic"] = Outlet(spec.organic, sol["stripped_organic"])
    closure = checked_closure(spec, outlets)

    def profile():
        prof = constant_d.solve_arrays(eE, eS, eT, n, m, k, spec.feed_mol_per_h)
        return (prof["aqueous_flow"] / spec.aqueous_flows()[:, None],
                prof["organic_flow"] / spec.organic,
                _linear_stage_residual(spec, prof))

    # where stage flows may leave the double range, the profiles are built (and checked) now
    return CascadeResult(spec=spec, converged=True, iterations=1, closure=closure, outlets=outlets,
                         profile=profile() if sol["span"] > constant_d.WIDE_SPAN else profile)


#: stage flows below this [mol/h] are at the underflow threshold (1e-308 / 2.2e-16): a balance
#: is judged relative to the larger of its stage's flows and this, as subnormal numbers carry
#: no relative precision (and flows that underflowed to 0 would give 0 / 0)
FLOW_FLOOR = float(np.finfo(float).tiny / np.finfo(float).eps)


def _linear_stage_residual(spec: CascadeSpec, sol, inlet=None) -> float:
    """Largest stage balance residual of a solution, relative to the stage's flows (or to
    FLOW_FLOOR where they are smaller); ``inlet`` [mol/h], metal on the organic entering stage 1."""
    a, o = sol["aqueous_flow"], sol["organic_flow"]
    n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
    with np.errstate(invalid="ignore"):  # inf - inf: a stage flow beyond the double range, refused
        r = -a - o                       # with the profile (CascadeResult)
        r[:-1] += a[1:]
        if k:
            r[n + m - 1] -= a[n + m]  # the strip liquor does not flow into the scrub
        r[1:] += o[:-1]
        r[n - 1] += spec.feed_flow * spec.feed
        if inlet is not None:
            r[0] += inlet
        return float(np.max(np.abs(r) / np.maximum(a + o, FLOW_FLOOR)))


# -------------------------------------------------------------- constant_beta
def beta_model(spec: CascadeSpec, **arrays) -> BetaCascade:
    S, W, F, P, R = beta_flows(spec)
    beta = arrays.get("beta", spec.params.beta[None])
    feed = arrays.get("feed", spec.feed_mol_per_h[None])
    return BetaCascade(
        beta, arrays.get("S", np.array([S])), arrays.get("W", np.array([W])), feed,
        spec.extraction_stages, spec.scrub_stages,
    )


def beta_continuation(model: BetaCascade, *, tol: float = NEWTON_TOL, first_step: float = 0.125,
                       mid_tol: float = 1e-4, mid_iter: int = 8,
                       min_step: float = 1e-2):
    """Cold start of the constant-beta model by continuation in the separation factors.

    With beta_t = beta**t the cascade at t = 0 separates nothing and its
    exact solution is the feed composition on every stage (a_k = L_k z,
    o_k = S z). t is raised to 1 in adaptive steps, each solved by Newton
    from the previous solution (steps halve on failure, double on success),
    so no initial guess is ever typed in and the iteration never starts far
    from a solution. Where the path turns stiff (steps below ``min_step``),
    the full problem is marched in pseudo-time from the last point reached.
    """
    F = model.F
    z = F / F.sum(axis=-1, keepdims=True)
    L = model.stage_aqueous_totals()
    u = np.log(L[..., None] * z[:, None, :])
    t, step, total = 0.0, first_step, np.zeros(F.shape[0], dtype=int)
    slope = None  # du/dt from the last two solutions: a secant predictor
    while True:
        t_new = min(1.0, t + step)
        stage_model = BetaCascade(model.beta**t_new, model.S, model.W, F, model.n, model.m)
        last = t_new == 1.0
        guess = u if slope is None else u + slope * (t_new - t)
        out = ptc_newton(stage_model, guess, dt0=DT_WARM, tol=tol if last else mid_tol,
                         max_iter=400 if last and step < 1e-3 else mid_iter)
        total += out.iterations
        if out.converged.all():
            slope = (out.u - u) / (t_new - t)
            u, t = out.u, t_new
            if last:
                out.iterations = total
                return out
            step = min(2.0 * step, 1.0)
        else:
            step *= 0.25
            if step < min_step:
                # the path is stiff here (the flows are near the minimum for
                # the intermediate separation factors): march the full
                # problem in pseudo-time from the last point on the path
                out = ptc_newton(model, u, dt0=1.0, tol=tol, max_iter=2000)
                out.iterations = total + out.iterations
                return out


def _newton_solve(spec, model, warm_start, cold, outlets_of, what, fast=None):
    """Converge, polish and check the closure; returns (outcome, outlets, closure).

    Order of attempts: with ``fast`` (the reduced solver; ``fast(u0)`` tries
    the warm state u0 if given, then its own cold start, and returns None if
    neither converges), ``fast(u0)`` when the neighbour has the same sections
    (or there is none). A neighbour of another split (the same total stages,
    the feed elsewhere, as in a stage-count search) is a better start for
    the block Newton in all stage variables, which runs next when a
    neighbour fits; then ``fast(None)`` if not yet tried, and last
    ``cold(model)``.
    """
    u0 = _warm_state(spec, warm_start, (model.N, model.M))
    aligned = u0 is not None and all(
        getattr(warm_start.spec, k) == getattr(spec, k)
        for k in ("extraction_stages", "scrub_stages", "strip_stages"))
    out = None
    tried_fast = False
    if fast is not None and (u0 is None or aligned):
        out, tried_fast = fast(u0), True
    if out is None and u0 is not None:
        out = ptc_newton(model, u0, dt0=DT_WARM, tol=NEWTON_TOL, max_iter=40)
        if not out.converged.all():
            out = None
    if out is None and fast is not None and not tried_fast:
        out = fast(None)
    if out is None:
        out = cold(model)
    require_converged(out, what)
    outlets, err = _polish(spec, model, out, outlets_of)
    return out, outlets, (err if err <= CLOSURE_LIMIT else checked_closure(spec, outlets))


#: iteration cap of a warm start of the reduced solvers (a good neighbour
#: converges in a few; one that does not is cheaper to drop than to pursue)
WARM_MAX_ITER = 20
#: most unknowns of the dense reduced solvers (N for constant_beta, 2N for mass_action): one
#: LU of that size takes about 30 ms on a small machine and grows as its cube, so a longer
#: cascade goes straight to the block-tridiagonal Newton, whose cost grows linearly with N
REDUCED_MAX_UNKNOWNS = 1000


#: first pseudo-time steps of the stage-multiplier Newton, cold and warm
MULTIPLIER_DT_COLD = 10.0


def beta_multipliers(spec: CascadeSpec, model: BetaCascade, u0=None, reduced=None):
    """Solve the constant-beta cascade in its N stage multipliers.

    The fast path (:mod:`magcycle.sx.multipliers`): from the multipliers of
    the warm state ``u0`` (1, N, C) if given, else from the bubble-point
    start. ``reduced`` = (g, factors) of the warm result (same stages),
    when known, gives the start directly and chord steps with the
    neighbour's factorised Jacobian. Returns a NewtonOutcome in u = ln a
    whose full-model scaled residual is within NEWTON_TOL, its ``reduced``
    set to (g, factors), or None if this path did not get there (the caller
    then runs the block Newton).
    """
    S, W, F, P, R = beta_flows(spec)
    lb = np.log(spec.params.beta)
    lF = np.log(spec.feed_mol_per_h)
    lS, lc = np.log(S), np.log(S / P)
    n = spec.extraction_stages

    def attempt(start, **kw):
        def run():
            out = solve_multipliers(lb, start(), lF, lS, lc, n, tol=0.1 * NEWTON_TOL, **kw)
            return (out.log_aqueous if out.converged else None), out.iterations, (out.g, out.factors)
        return run

    if u0 is not None and reduced is not None and reduced[0].shape == (model.N,):
        attempts = [attempt(lambda: reduced[0], dt0=DT_WARM, max_iter=WARM_MAX_ITER, chord=reduced[1])]
    else:
        attempts = [] if u0 is None else [
            attempt(lambda: multipliers_from_aqueous(lb, lS, u0[0]), dt0=DT_WARM, max_iter=WARM_MAX_ITER)]
    attempts.append(attempt(lambda: bubble_point_multipliers(lb, lF, lS, model.stage_aqueous_totals()[0]),
                            dt0=MULTIPLIER_DT_COLD))
    return _first_accepted(model, attempts)


def _first_accepted(model, attempts):
    """Run reduced-solver attempts in order; the first whose state passes.

    Each attempt returns (u (N, M) or None, iterations, reduced). A state
    passes when the model's own scaled stage residual is within NEWTON_TOL;
    the result is a NewtonOutcome counting the iterations of every attempt
    made (its ``reduced`` that of the attempt), or None when no attempt
    passes.
    """
    total = 0
    for run in attempts:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            u, its, reduced = run()
        total += its
        if u is None:
            continue
        u = u[None]
        norm = float(np.max(np.abs(model.residual(u)[0])))
        if norm <= NEWTON_TOL:
            return NewtonOutcome(u=u, converged=np.array([True]), iterations=np.array([total]),
                                 residual=np.array([norm]), reduced=reduced)
    return None


def _solve_constant_beta(spec: CascadeSpec, warm_start) -> CascadeResult:
    model = beta_model(spec)
    S, W, F, P, R = beta_flows(spec)

    def outlets_of(uu):
        return {
            "raffinate": Outlet(spec.feed_flow + spec.scrub, np.exp(uu[0, 0])),
            "extract": Outlet(spec.organic * P / S, model.organic(uu[:, -1:])[0, 0] * (P / S)),
        }

    reduced = getattr(warm_start, "reduced", None)
    fast = None if model.N > REDUCED_MAX_UNKNOWNS else (lambda u0: beta_multipliers(spec, model, u0, reduced))
    out, outlets, closure = _newton_solve(spec, model, warm_start, beta_continuation, outlets_of,
                                          "constant_beta cascade", fast=fast)
    return _beta_result(spec, out.u[0], out.residual[0], out.iterations[0], closure, outlets, out.reduced)


def _solve_alone(spec, warm_start):
    """solve(), with the errors a cascade can raise returned instead of raised."""
    from magcycle.errors import ConvergenceError, InputError, MassBalanceError

    try:
        return solve(spec, warm_start=warm_start)
    except (ConvergenceError, MassBalanceError, InputError) as exc:
        return exc


def _joins(spec, warm_start) -> bool:
    """Whether a constant-beta spec can be solved jointly from this warm start: the same
    components and sections, and the reduced solver's multipliers on the result."""
    red = getattr(warm_start, "reduced", None)
    return (spec.model == "constant_beta" and red is not None and warm_start.model == "constant_beta"
            and not needs_stagewise(spec)
            and warm_start.components == spec.components and spec.strip_stages == 0
            and warm_start.spec.extraction_stages == spec.extraction_stages
            and warm_start.spec.scrub_stages == spec.scrub_stages
            and warm_start.spec.strip_stages == 0 and red[0].shape == (spec.n_stages,))


def solve_warm_many(specs, warm_starts) -> list:
    """Solve several cascades, each from its own warm start; constant-beta ones with the
    same components and sections are solved together.

    The joint path evaluates the stage-multiplier residuals of a group at
    once (:func:`magcycle.sx.multipliers.solve_multipliers_many`: chord steps
    from each neighbour's factorised Jacobian, then Newton) and checks each
    cascade as :func:`solve` does: the full model's scaled stage residual
    within NEWTON_TOL and the element closure within CLOSURE_TARGET. A
    cascade that does not pass, and every other spec, is solved alone by
    :func:`solve`. The result for one cascade depends only on its own spec
    and warm start, not on the others in the call.

    Returns a list in the order of ``specs`` whose items are CascadeResult, or
    the ConvergenceError / MassBalanceError / InputError that solve() raised.
    """
    out: list = [None] * len(specs)
    groups: dict = {}
    for i, (spec, warm) in enumerate(zip(specs, warm_starts)):
        if warm is not None and _joins(spec, warm):
            key = (spec.components, spec.extraction_stages, spec.scrub_stages)
            groups.setdefault(key, []).append(i)
        else:
            out[i] = _solve_alone(spec, warm)
    for (comps, n, m), idx in groups.items():
        answers = _solve_group([specs[i] for i in idx], [warm_starts[i] for i in idx], n, m)
        for i, answer in zip(idx, answers):
            out[i] = answer
    return out


def _group_arrays(group):
    """Stacked (S, W, P) (B,) [mol/h], beta (B, C) and feed (B, C) [mol/h] of constant-beta specs."""
    flows = [beta_flows(sp) for sp in group]
    S = np.array([f[0] for f in flows])
    W = np.array([f[1] for f in flows])
    P = np.array([f[3] for f in flows])
    beta = np.array([sp.params.beta for sp in group])
    feed = np.array([sp.feed_mol_per_h for sp in group])
    return S, W, P, beta, feed


def _solve_group(group, warms, n: int, m: int) -> list:
    """Results (or errors) of constant-beta specs of the same components and sections, each from
    the reduced state of its warm start: solved jointly, those that fail the check alone."""
    S, W, P, beta, feed = _group_arrays(group)
    with np.errstate(divide="ignore"):
        lb, lF = np.log(beta), np.log(feed)
    reduced = [w.reduced for w in warms]
    outs = solve_multipliers_many(lb, np.array([r[0] for r in reduced]), lF, np.log(S), np.log(S / P), n,
                                  [r[1] for r in reduced], tol=0.1 * NEWTON_TOL, max_iter=WARM_MAX_ITER)
    ok = [j for j, o in enumerate(outs) if o.converged]
    passed, norms, raffinate, extract, errs = _check_joint(outs, ok, beta, S, W, P, feed, n, m)
    answers = []
    for j, spec in enumerate(group):
        if j not in passed:
            answers.append(_solve_alone(spec, warms[j]))
            continue
        k, o = passed[j], outs[j]
        outlets = {"raffinate": Outlet(spec.feed_flow + spec.scrub, raffinate[k]),
                   "extract": Outlet(spec.organic * P[j] / S[j], extract[k])}
        answers.append(_beta_result(spec, o.log_aqueous, float(norms[k]), o.iterations, float(errs[k]), outlets,
                                    (o.g, o.factors)))
    return answers


def _check_joint(outs, ok, beta, S, W, P, feed, n: int, m: int):
    """Check the converged joint solutions (indices ``ok``) as :func:`solve` does: the full
    model's scaled stage residual within NEWTON_TOL and the element closure within
    CLOSURE_TARGET. Returns ({index: row} of those that pass, and per row of ``ok`` the
    residual norms, raffinate and extract flows and closure errors)."""
    if not ok:
        return {}, None, None, None, None
    model = BetaCascade(beta[ok], S[ok], W[ok], feed[ok], n, m)
    U = np.array([outs[j].log_aqueous for j in ok])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        norms = np.max(np.abs(model.residual(U)[0]), axis=(1, 2))
        raffinate = np.exp(U[:, 0])
        extract = model.organic(U[:, -1:])[:, 0] * (P[ok] / S[ok])[:, None]
        errs = np.max(np.abs(feed[ok] - (raffinate + extract)) / feed[ok], axis=1)  # closure_error
    passed = {j: k for k, j in enumerate(ok) if norms[k] <= NEWTON_TOL and errs[k] <= CLOSURE_TARGET}
    return passed, norms, raffinate, extract, errs


def _beta_result(spec, u, residual, iterations, closure, outlets, reduced) -> CascadeResult:
    """A constant-beta CascadeResult at u = ln a (N, C); stage profiles built on first use."""
    def profile():  # a recycle pass reads only the outlets
        model = beta_model(spec)
        return (np.exp(u) / spec.aqueous_flows()[:, None], model.organic(u[None])[0] / spec.organic, residual)

    return CascadeResult(spec=spec, converged=True, iterations=int(iterations), closure=closure,
                         outlets=outlets, profile=profile, state=u, reduced=reduced)


# ---------------------------------------------------------------- mass_action
def mass_action_model(spec: CascadeSpec, **arrays) -> MassActionCascade:
    p = spec.params

    def get(name, default):
        return arrays.get(name, np.atleast_1d(np.asarray(default, float)))

    K = arrays.get("K", (10.0 ** p.log10_K)[None])
    return MassActionCascade(
        K,
        get("feed_conc", spec.feed[None]),
        get("organic", spec.organic),
        get("feed_flow", spec.feed_flow),
        get("scrub", spec.scrub),
        get("strip", spec.strip),
        get("extractant", p.extractant),
        get("saponification", p.saponification),
        get("feed_acid", p.feed_acid),
        get("scrub_acid", p.scrub_acid),
        get("strip_acid", p.strip_acid),
        spec.extraction_stages,
        spec.scrub_stages,
        spec.strip_stages,
    )


#: cold-start attempts of the mass-action PTC: (first dt, largest log step)
MASS_ACTION_ATTEMPTS = ((DT_COLD, 2.0), (0.1, 1.0), (0.01, 0.5))


def mass_action_cold(model: MassActionCascade):
    """PTC from the acid-only start; more cautious attempts if one fails."""
    total = 0
    for dt0, step in MASS_ACTION_ATTEMPTS:
        out = ptc_newton(model, model.initial(), dt0=dt0, max_step=step, tol=NEWTON_TOL,
                         max_iter=600)
        total = total + out.iterations
        if out.converged.all():
            break
    out.iterations = total
    return out


def mass_action_multipliers(model: MassActionCascade, u0=None):
    """Solve a one-variant mass-action cascade in its 2N stage unknowns.

    The fast path (:class:`magcycle.sx.multipliers.MassActionReduced`):
    (ln z, ln h) per stage, the rare-earth flows exact for each. From the
    warm state ``u0`` (1, N, C+2) if given, else from the acid-only start.
    Returns a NewtonOutcome whose full-model scaled residual is within
    NEWTON_TOL, or None (the caller then runs the block Newton).
    """
    red = MassActionReduced(model)
    C = model.C

    def attempt(start, **kw):
        def run():
            u = start()
            v, lna, ok, its, _ = solve_mass_action_multipliers(
                red, np.concatenate((u[0, :, C], u[0, :, C + 1])), tol=0.1 * NEWTON_TOL, **kw)
            return (red.state(v, lna) if ok else None), its, None
        return run

    attempts = [] if u0 is None else [attempt(lambda: u0, dt0=DT_WARM, max_iter=WARM_MAX_ITER)]
    attempts.append(attempt(model.initial))  # the acid-only start, built only if needed
    return _first_accepted(model, attempts)


def _solve_mass_action(spec: CascadeSpec, warm_start) -> CascadeResult:
    model = mass_action_model(spec)
    n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
    Qa = spec.aqueous_flows()

    def outlets_of(uu):
        xx = model.split(uu)[0][0]
        yy = model.loading(uu)[0]
        res = {"raffinate": Outlet(Qa[0], Qa[0] * xx[0])}
        if k:
            res["extract"] = Outlet(spec.strip, spec.strip * xx[n + m])
            res["stripped_organic"] = Outlet(spec.organic, spec.organic * yy[-1])
        else:
            res["extract"] = Outlet(spec.organic, spec.organic * yy[-1])
        return res

    fast = None if 2 * model.N > REDUCED_MAX_UNKNOWNS else (lambda u0: mass_action_multipliers(model, u0))
    out, outlets, closure = _newton_solve(spec, model, warm_start, mass_action_cold, outlets_of,
                                          "mass_action cascade", fast=fast)
    u = out.u[0]
    x, z, h = model.split(out.u)
    x, z, h = x[0], z[0], h[0]
    y = model.loading(out.u)[0]
    return CascadeResult(
        spec=spec,
        converged=True,
        iterations=int(out.iterations[0]),
        closure=closure,
        outlets=outlets,
        profile=(x, y, out.residual[0]),
        pH=-np.log10(h),
        state=u,
        extra={"free_extractant_mol_per_L": z},
    )
