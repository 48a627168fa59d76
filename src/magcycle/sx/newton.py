"""Globalised Newton for block-tridiagonal stage systems.

A counter-current cascade couples each stage only to its neighbours, so the
Jacobian of the stage equations in the stage variables u (here logarithms of
concentrations or flows) is block tridiagonal::

    L_k du_{k-1} + D_k du_k + U_k du_{k+1} = -r_k,     k = 1..N

Newton converges quadratically near the solution but not from a cold start.
It is globalised by pseudo-transient continuation (PTC; Kelley & Keyes, SIAM
J. Numer. Anal. 35 (1998) 508): each step solves

    (J - H / dt) du = -r

where H is 1 on the rows that carry a holdup (the component balances,
scaled so that one unit of pseudo-time is one stage residence time) and 0 on
algebraic rows. dt starts small (an implicit-Euler march of the start-up
transient) and grows by switched evolution relaxation, dt <- dt * |r_old| /
|r_new|, so the iteration becomes Newton's method as the residual falls. A
step that increases the residual tenfold, or produces non-finite values, is
rejected and retried with dt / 10; steps are capped at ``max_step`` in each
log variable.

Rows come scaled by the model (each balance divided by the local flows of
its component, evaluated so that nothing underflows), so convergence means
every balance, including those of trace components, holds to ``tol``
relative to its own flows. The pseudo-time step is steered by the bulk
norm, in which a balance counts in proportion to its share of the stage.

Two linear solvers share one interface: LAPACK's banded LU (``dgbsv``) for a
single system, and block Thomas elimination vectorised over a batch of
variants for many at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from magcycle.errors import ConvergenceError

__all__ = ["NewtonOutcome", "solve_linear", "ptc_newton", "require_converged"]


@dataclass
class NewtonOutcome:
    u: np.ndarray  # (B, N, M)
    converged: np.ndarray  # (B,)
    iterations: np.ndarray  # (B,)
    residual: np.ndarray  # (B,) largest scaled residual
    #: the reduced solver's (variables, factorised Jacobian) where it found u
    reduced: tuple | None = None


@lru_cache(maxsize=64)
def _band_index(N: int, M: int, kl: int, ku: int):
    """Flat indices of the three block diagonals in LAPACK band storage.

    Entry (r, c) of the n x n matrix (n = N M) lives at ab[kl + ku + r - c, c]
    of an array of shape (2 kl + ku + 1, n). Entries outside the band are
    dropped (the model guarantees they are zero).
    """
    n = N * M
    i = np.arange(M)[:, None]
    j = np.arange(M)[None, :]
    k = np.arange(N)[:, None, None]
    out = []
    for shift in (-1, 0, 1):
        rows = k * M + i + 0 * j
        cols = (k + shift) * M + j + 0 * i
        valid = (cols >= 0) & (cols < n) & (rows - cols <= kl) & (cols - rows <= ku)
        flat = (kl + ku + rows - cols) * n + cols
        v = valid.ravel()
        out.append((np.flatnonzero(v), flat.ravel()[v]))
    return n, out


def _solve_banded(Lo, Di, Up, rhs, kl, ku):
    """Solve one block-tridiagonal system with LAPACK dgbsv; None if singular."""
    from scipy.linalg.lapack import dgbsv

    N, M = rhs.shape
    n, parts = _band_index(N, M, kl, ku)
    ab = np.zeros((2 * kl + ku + 1) * n)
    for blocks, (src, flat) in zip((Lo, Di, Up), parts):
        ab[flat] = blocks.reshape(-1)[src]
    ab = ab.reshape(2 * kl + ku + 1, n)
    _, _, x, info = dgbsv(kl, ku, ab, rhs.ravel(), overwrite_ab=True, overwrite_b=True)
    if info != 0:
        return None
    return x.reshape(N, M)


def _solve_block_thomas(Lo, Di, Up, rhs):
    """Block Thomas elimination vectorised over the leading batch axis.

    Shapes: Lo, Di, Up (B, N, M, M); rhs (B, N, M). Returns (B, N, M); rows of
    a singular variant are NaN.
    """
    B, N, M = rhs.shape
    Cp = np.empty((B, N, M, M))
    gp = np.empty((B, N, M))
    bad = np.zeros(B, dtype=bool)
    for k in range(N):
        A = Di[:, k]
        d = rhs[:, k]
        if k > 0:
            A = A - Lo[:, k] @ Cp[:, k - 1]
            d = d - np.einsum("bij,bj->bi", Lo[:, k], gp[:, k - 1])
        stacked = np.concatenate([Up[:, k], d[..., None]], axis=-1)
        try:
            sol = np.linalg.solve(A, stacked)
        except np.linalg.LinAlgError:
            sol = np.empty_like(stacked)
            for b in range(B):
                try:
                    sol[b] = np.linalg.solve(A[b], stacked[b])
                except np.linalg.LinAlgError:
                    sol[b] = np.nan
                    bad[b] = True
        Cp[:, k] = sol[..., :M]
        gp[:, k] = sol[..., M]
    x = np.empty_like(gp)
    x[:, N - 1] = gp[:, N - 1]
    for k in range(N - 2, -1, -1):
        x[:, k] = gp[:, k] - np.einsum("bij,bj->bi", Cp[:, k], x[:, k + 1])
    x[bad] = np.nan
    return x


def solve_linear(Lo, Di, Up, rhs, kl, ku):
    """Solve a batch of block-tridiagonal systems (B, N, M); NaN where singular."""
    B = rhs.shape[0]
    if B <= 4:
        out = np.empty_like(rhs)
        for b in range(B):
            x = _solve_banded(Lo[b], Di[b], Up[b], rhs[b], kl, ku)
            out[b] = np.nan if x is None else x
        return out
    return _solve_block_thomas(Lo, Di, Up, rhs)


def _log_update(du, max_step):
    """Map a Newton step in u = ln(v) to the new ln(v).

    The step solves J_v (v du) = -r, i.e. it is Newton's step dv = v du in
    the original variable. Where that keeps v positive with margin
    (du > -0.9) it is taken as it is, ln(v + dv) = u + ln(1 + du): equations
    that are linear in v (every trace component, given the bulk) are then
    solved in one step from above or below, which a step of du in ln v
    cannot do. Larger decreases fall back to the multiplicative step,
    limited to ``max_step``.
    """
    lin = du > -0.9
    return np.where(lin, np.log1p(np.where(lin, du, 0.0)), np.maximum(du, -max_step))


def ptc_newton(
    model,
    u0: np.ndarray,
    *,
    dt0: float,
    tol: float = 1e-12,
    max_iter: int = 400,
    max_step: float = 2.0,
    dt_max: float = 1e14,
    growth_limit: float = 10.0,
) -> NewtonOutcome:
    """Drive the model's scaled residuals to zero from ``u0`` (B, N, M).

    ``model.residual(u)`` returns ``(r, share, ctx)``: residuals (B, N, M)
    already divided by their own positive row weights w (the flows of the
    balance's component), share = w / (sum of w over the stage's component
    rows) for the bulk norm (1 on rows that stand alone), and whatever
    ``model.jacobian(ctx)`` needs to return the blocks dr_k/du_{k-1},
    dr_k/du_k, dr_k/du_{k+1} (B, N, M, M) of those scaled residuals. The
    Jacobian is built only at states a step starts from, never at a
    rejected trial or at the converged state. ``model.hold`` (M,) is
    1 on differential rows and 0 on algebraic ones; ``model.kl``/``model.ku``
    bound the scalar band; an optional ``model.upper`` (B, N, M) caps u at
    physical bounds (no concentration above what the stage's inflows can
    supply). A step whose bulk residual grows more than ``growth_limit``-fold
    is rejected and retried with dt / 10.
    """
    u = np.array(u0, dtype=float, copy=True)
    B = u.shape[0]
    upper = getattr(model, "upper", None)
    if upper is not None:
        np.minimum(u, upper, out=u)
    hold = np.asarray(model.hold, dtype=float)
    dt = np.full(B, float(dt0))
    converged = np.zeros(B, dtype=bool)
    iterations = np.zeros(B, dtype=int)


    def scaled(u_):
        rs, share, ctx = model.residual(u_)
        absr = np.abs(rs)
        with np.errstate(invalid="ignore"):
            norm = np.max(absr, axis=(1, 2))
            # bulk: a component balance judged against all the rare earth of
            # its stage, so that trace species do not steer the pseudo-time
            bulk = np.max(absr * share, axis=(1, 2))
        norm = np.where(np.isfinite(norm), norm, np.inf)
        bulk = np.where(np.isfinite(bulk), bulk, np.inf)
        return rs, ctx, norm, bulk

    rs, ctx, norm, bulk = scaled(u)
    converged = norm <= tol
    Lo = Di = Up = None  # the Jacobian at u, built only when a step needs it
    eye = np.eye(hold.size)
    for it in range(max_iter):
        active = ~converged
        if not active.any():
            break
        if Lo is None:
            Lo, Di, Up = model.jacobian(ctx)
        if active.all():
            idx = slice(None)
            A = Di - (hold / dt[:, None, None])[..., None] * eye
            du = solve_linear(Lo, A, Up, -rs, model.kl, model.ku)
        else:
            idx = np.flatnonzero(active)
            A = Di[idx] - (hold / dt[idx, None, None])[..., None] * eye
            du = solve_linear(Lo[idx], A, Up[idx], -rs[idx], model.kl, model.ku)
        ok_step = np.all(np.isfinite(du), axis=(1, 2))
        trial = u.copy()
        if isinstance(idx, slice) and ok_step.all():
            trial += _log_update(du, max_step)
        else:
            rows = np.arange(B)[idx][ok_step]
            trial[rows] += _log_update(du[ok_step], max_step)
        if upper is not None:
            np.minimum(trial, upper, out=trial)
        t_rs, t_ctx, t_norm, t_bulk = scaled(trial)
        iterations[idx] += 1
        accept = np.zeros(B, dtype=bool)
        accept[idx] = ok_step & (t_bulk[idx] < growth_limit * bulk[idx] + tol)
        accept &= active
        reject = active & ~accept
        # switched evolution relaxation on the bulk residual; shrink dt on rejection
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = np.clip(bulk / np.maximum(t_bulk, 1e-300), 0.5, 1e3)
        growth = np.where(t_bulk <= bulk, np.maximum(growth, 2.0), growth)
        dt = np.where(accept, np.minimum(dt * growth, dt_max), dt)
        dt = np.where(reject, dt * 0.1, dt)
        if accept.all():
            u, rs, ctx = trial, t_rs, t_ctx
            norm, bulk = t_norm, t_bulk
            Lo = None
        elif accept.any():
            # a batch in which only some variants moved: the state arrays
            # of the others stay as they are; the Jacobian is rebuilt at the
            # merged state (the model evaluates whole batches)
            u[accept] = trial[accept]
            rs[accept] = t_rs[accept]
            ctx = tuple(_merge(c, t, accept) for c, t in zip(ctx, t_ctx))
            norm = np.where(accept, t_norm, norm)
            bulk = np.where(accept, t_bulk, bulk)
            Lo = None
        converged = norm <= tol
        if np.any(dt[~converged] < 1e-12):
            break
    return NewtonOutcome(u=u, converged=converged, iterations=iterations, residual=norm)


def _merge(current, trial, accept):
    """Take the accepted variants' entries of a per-variant array from ``trial``."""
    if not isinstance(current, np.ndarray) or current.ndim == 0 or current.shape[0] != accept.size:
        return current
    out = current.copy()
    out[accept] = trial[accept]
    return out


def require_converged(outcome: NewtonOutcome, what: str) -> None:
    """Raise ConvergenceError for the first variant that did not converge."""
    if not outcome.converged.all():
        b = int(np.flatnonzero(~outcome.converged)[0])
        raise ConvergenceError(
            f"{what} did not converge", float(outcome.residual[b]), int(outcome.iterations[b])
        )
