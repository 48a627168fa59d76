"""Constant-beta cascades reduced to one unknown per stage.

Configuration
    The constant-beta model of :mod:`magcycle.sx.constant_beta`: extraction
    stages 1..n, scrub stages n+1..N (N = n + m), feed at stage n, barren
    organic into stage 1, the scrub reflux (W/S) o_N into stage N.

Degrees of freedom
    None beyond the specification. The model's N x C unknowns (the aqueous
    flows) are replaced by N stage multipliers lambda_k: in equilibrium the
    saturated organic carries o_{k,i} = beta_i lambda_k a_{k,i} with
    lambda_k = S / sum_j beta_j a_{k,j}, so for given lambda every component
    sees a constant-D cascade with extraction factors e_{k,i} = beta_i
    lambda_k.

Equations
    For given g = ln lambda the component balances are linear and are solved
    exactly by the subtraction-free recursions of :mod:`magcycle.sx.constant_d`
    (rho_{k+1} = 1 + e_k rho_k below the feed, sigma_{k-1} = 1 + sigma_k / e_k
    above it, only positive terms added), written in closed form with
    s_k = sum_{j<k} ln e_j and t_k = sum_{j<=k} ln e_j:

        rho_k   = sum_{j<=k} exp(s_k - s_j)                       (k <= n)
        sigma_k = sum_{j>=k} c_j exp(t_k - t_j),  c_j = 1, c_N = S/P  (k >= n)
        a_k = r rho_k below the feed, o_k = p sigma_k above it,
        p / r = e_n rho_n / sigma_n,  r + p = F.

    Every running sum adds positive terms (``np.logaddexp.accumulate``), so
    trace components keep their relative precision. What is left is the
    saturation of the organic on every stage,

        R_k(g) = ln sum_i o_{k,i}(g) - ln S = 0,     k = 1..N,

    N equations in N unknowns. The Jacobian is dense but has rank-C
    triangular structure: d ln rho_k / d g_l = [l < k] exp(A_l - A_k) with
    A_k = ln sum_{j<=k} exp(-s_j), and d ln sigma_k / d g_l =
    -[l > k] exp(B_l - B_k) with B_k = ln sum_{j>=k} c_j exp(-t_j). Newton
    steps are globalised by pseudo-transient continuation,
    (J + I/dt) dg = -R, with dt grown by switched evolution relaxation.

    Component balances and the element closure hold to round-off at every
    iterate; only the saturation condition is iterated. A converged set of
    multipliers is therefore a solution of the full model to the same
    tolerance, which the caller checks with the model's own residual.

Reference
    The constant-D recursion is that of Kremser; the multiplier is the
    analogue of the stage temperature in the Thiele-Geddes and theta methods
    for distillation (Holland, Fundamentals of Multicomponent Distillation,
    1981).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["MultiplierOutcome", "ChordFactors", "CHORD_CONTRACTION", "saturation_residual", "solve_multipliers",
           "solve_multipliers_many", "multipliers_from_aqueous", "bubble_point_multipliers", "MassActionReduced",
           "solve_mass_action_multipliers"]


@dataclass
class MultiplierOutcome:
    g: np.ndarray  # (N,) ln lambda
    converged: bool
    iterations: int
    residual: float  # max |R_k|
    log_aqueous: np.ndarray  # (N, C) ln a at g [ln mol/h]
    #: the last Jacobian factorised near g (a chord for a neighbour's solve)
    factors: "ChordFactors | None" = None


class ChordFactors:
    """LAPACK LU factors (lu, piv) of a multiplier Jacobian, and its inverse on first request
    (the joint solver's chord steps are products with it); shared by every solve that
    chords from them, so each factorisation is inverted at most once."""

    __slots__ = ("lu", "piv", "_inverse")

    def __init__(self, lu, piv):
        self.lu, self.piv, self._inverse = lu, piv, None

    def __iter__(self):  # (lu, piv) = factors
        return iter((self.lu, self.piv))

    def inverse(self):
        """J^-1, or None where the factors are singular or not finite."""
        if self._inverse is None:
            from scipy.linalg.lapack import dgetri

            inv, info = dgetri(self.lu, self.piv)
            self._inverse = inv if info == 0 and np.all(np.isfinite(inv)) else False
        return self._inverse if self._inverse is not False else None


@lru_cache(maxsize=64)
def _masks(N: int, n: int):
    """Strictly-below (rows k < n-1, columns l < n) and strictly-above
    (rows and columns k, l >= n-1) masks of the triangular Jacobian parts."""
    k = np.arange(N)
    top = k[n - 1 :]
    below = (k[: n - 1, None] > k[None, :n]).astype(float)
    above = (top[None, :] > top[:, None]).astype(float)
    return below, above, np.arange(n - 1)


def _log_cumsum_exp(y):
    """ln sum_{j<=k} exp(y_j) along the last axis, adding positive terms only.

    One cascade: ``np.logaddexp.accumulate``. A stack of cascades (3-d):
    M + ln cumsum(exp(y - M)) with M the row maximum, several times faster
    on large stacks and as exact (positive terms, none below 1e-304 of the
    largest); a row spanning more than e^700 takes the accumulate. Each
    row's result depends only on that row.
    """
    if y.ndim < 3:
        return np.logaddexp.accumulate(y, axis=-1)
    M = y.max(axis=-1, keepdims=True)
    z = y - M  # a new contiguous array, whatever the strides of y
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        out = M + np.log(np.cumsum(np.exp(z), axis=-1))
    if not z.min() > -700.0:  # some row is that wide (or NaN): those rows by the accumulate
        wide = ~(z.min(axis=-1) > -700.0)
        out[wide] = np.logaddexp.accumulate(y[wide], axis=-1)
    return out


def _cascade_flows(le, lF, lc, n):
    """ln o (..., C, Ne) of a two-section cascade with extraction factors
    e = exp(le) (..., C, Ne), feed F = exp(lF) (..., C) at stage n and
    c_top = exp(lc) (a scalar, or (..., 1) for a stack of cascades); plus the
    intermediates :func:`_weighted_jacobian` reuses."""
    t = np.cumsum(le, axis=-1)
    A = _log_cumsum_exp(le[..., :n] - t[..., :n])  # ln sum_{j<=k} exp(-s_j)
    x = -t[..., n - 1 :]
    x[..., -1] += lc
    Bq = _log_cumsum_exp(x[..., ::-1])[..., ::-1]  # ln sum_{j>=k} c_j exp(-t_j)
    lno = np.concatenate((t[..., : n - 1] + A[..., : n - 1], t[..., n - 1 :] + Bq), axis=-1)
    q = t[..., n - 1] + A[..., n - 1] - lno[..., n - 1]  # ln(p / r) = ln(e_n rho_n / sigma_n)
    lr = lF - np.logaddexp(0.0, q)  # ln r
    lno[..., : n - 1] += lr[..., None]
    lno[..., n - 1 :] += (lr + q)[..., None]  # ln p = ln r + q
    return lno, (A, Bq, q, n)


def _factors(ctx):
    """What every weighted Jacobian of one state shares: the rank-C factors
    of its triangular parts (centred so that neither overflows), dq/dg and
    d ln p / d g. Leading axes, if any, stack cascades."""
    A, Bq, q, n = ctx
    xq = 1.0 / (1.0 + np.exp(-q))  # p / F
    eA = np.exp(A - 0.5 * (A.max(axis=-1) + A.min(axis=-1))[..., None])
    eB = np.exp(Bq - 0.5 * (Bq.max(axis=-1) + Bq.min(axis=-1))[..., None])
    dq = np.concatenate((eA[..., : n - 1] / eA[..., n - 1 :], eB / eB[..., :1]), axis=-1)
    return n, eA, eB, xq[..., None] * dq, (1.0 - xq)[..., None] * dq


def _weighted_jacobian(factors, W):
    """G[k, l] = sum_i W[i, k] d ln o_{i,k} / d g_l (..., Ne, Ne) of a two-section cascade."""
    n, eA, eB, dlr, dlp = factors
    Ne = W.shape[-1]
    below, above, ib = _masks(Ne, n)
    Wb = W[..., : n - 1]
    Wt = W[..., n - 1 :]
    G = np.empty(W.shape[:-2] + (Ne, Ne))
    G[..., : n - 1, :n] = (np.swapaxes(Wb / eA[..., : n - 1], -1, -2) @ eA) * below
    G[..., : n - 1, n:] = 0.0
    G[..., : n - 1, :] -= np.swapaxes(Wb, -1, -2) @ dlr
    G[..., ib, ib] += Wb.sum(axis=-2)
    G[..., n - 1 :, : n - 1] = 0.0
    G[..., n - 1 :, n - 1 :] = -(np.swapaxes(Wt / eB, -1, -2) @ eB) * above
    G[..., n - 1 :, :] += np.swapaxes(Wt, -1, -2) @ dlp
    return G


def _evaluate(lb, g, lF, lS, lc, n):
    """R (..., N), ln o (..., C, N), ln e (..., C, N), and what :func:`_jacobian`
    reuses; leading axes stack cascades (lS and lc then (..., 1))."""
    le = lb[..., :, None] + g[..., None, :]
    lno, ctx = _cascade_flows(le, lF, lc, n)
    top = lno.max(axis=-2)
    ex = np.exp(lno - top[..., None, :])
    tot = ex.sum(axis=-2)
    R = top + np.log(tot) - lS
    return R, lno, le, (ctx, ex / tot[..., None, :])


def _jacobian(ctx):
    """J = dR/dg (N, N) from the intermediates of :func:`_evaluate`: the
    organic composition pi weights d ln o / d g."""
    flows, pi = ctx
    return _weighted_jacobian(_factors(flows), pi)


def saturation_residual(log_beta, g, log_feed, log_S, log_reflux, n):
    """Saturation residuals R_k = ln(sum_i o_{k,i} / S) of stage multipliers.

    .. math:: R_k(g) = \\ln \\sum_i o_{k,i}(g) - \\ln S

    Parameters
    ----------
    log_beta : ndarray (C,)
        ln beta_i [-].
    g : ndarray (N,)
        ln lambda_k, lambda_k = S / sum_j beta_j a_{k,j} [h/mol].
    log_feed : ndarray (C,)
        ln F_i [ln mol/h].
    log_S : float
        ln of the organic rare-earth flow S [ln mol/h].
    log_reflux : float
        ln(S / P), P = S - W the extract flow [-].
    n : int
        Extraction stages (the feed stage).

    Returns
    -------
    (R, log_aqueous)
        R (N,) [-] and ln a (N, C) [ln mol/h] at g.

    Examples
    --------
    With equal separation factors nothing separates; the feed composition
    on every stage is exact, with lambda_k = S / (beta L_k):

    >>> import numpy as np
    >>> S, W, F = 2.0, 1.5, np.array([0.3, 0.7])
    >>> L = np.array([W + F.sum() - S, W + F.sum(), W, W])   # n = 2, m = 2
    >>> R, la = saturation_residual(np.log([1.5, 1.5]), np.log(S / (1.5 * L)), np.log(F),
    ...                             np.log(S), np.log(S / (S - W)), 2)
    >>> bool(np.max(np.abs(R)) < 1e-14)
    True
    >>> np.allclose(np.exp(la[0]), (W + F.sum() - S) * F / F.sum())
    True
    """
    lb, g, lF = (np.asarray(v, dtype=float) for v in (log_beta, g, log_feed))
    R, lno, le, _ = _evaluate(lb, g, lF, float(log_S), float(log_reflux), n)
    return R, (lno - le).T


def multipliers_from_aqueous(log_beta, log_S, log_aqueous):
    """Multipliers of a state: g_k = ln S - ln sum_i beta_i a_{k,i}.

    Parameters: ln beta (C,) [-], ln S [ln mol/h], ln a (N, C) [ln mol/h].
    Returns g (N,) [ln h/mol].

    >>> import numpy as np
    >>> g = multipliers_from_aqueous(np.log([2.0, 1.0]), np.log(3.0), np.log([[1.0, 2.0]]))
    >>> round(float(np.exp(g[0])), 14)  # 3 / (2 * 1 + 1 * 2)
    0.75
    """
    w = np.asarray(log_aqueous) + np.asarray(log_beta)
    top = w.max(axis=1)
    return log_S - top - np.log(np.exp(w - top[:, None]).sum(axis=1))


def bubble_point_multipliers(log_beta, log_feed, log_S, stage_aqueous):
    """Cold start: every stage's aqueous at the feed composition, L_k z.

    g_k = ln S - ln(L_k sum_i beta_i z_i), with L_k the stage's aqueous
    rare-earth flow (N,) [mol/h]; exact when all beta are equal.

    >>> import numpy as np
    >>> g = bubble_point_multipliers(np.log([3.0, 1.0]), np.log([1.0, 3.0]), np.log(2.0),
    ...                              np.array([4.0]))
    >>> round(float(np.exp(g[0])), 12)  # 2 / (4 * (3 * 0.25 + 1 * 0.75))
    0.333333333333
    """
    lz = log_feed - np.logaddexp.reduce(log_feed)
    return log_S - np.log(stage_aqueous) - np.logaddexp.reduce(log_beta + lz)


def solve_multipliers(log_beta, g0, log_feed, log_S, log_reflux, n: int, *, tol: float = 1e-13,
                      max_iter: int = 150, dt0: float = 10.0, max_step: float = 1.0,
                      growth_limit: float = 10.0, chord: tuple | None = None) -> MultiplierOutcome:
    """Solve R(g) = 0 for one constant-beta cascade.

    Pseudo-transient Newton (J + I / dt) dg = -R: dt starts at ``dt0`` and
    grows by switched evolution relaxation as max |R| falls; a step that
    raises max |R| more than ``growth_limit``-fold (or is not finite) is
    rejected and dt divided by 10; a step is scaled down so that no
    multiplier moves by more than ``max_step`` in ln. Arguments as in
    :func:`saturation_residual`; ``g0`` (N,) is the start. ``chord``: the
    ``factors`` of a neighbour's outcome, whose chord steps are tried first
    (see :func:`_dense_ptc`).
    """
    lb, g, lF = (np.asarray(v, dtype=float) for v in (log_beta, g0, log_feed))
    lS, lc = float(log_S), float(log_reflux)

    def evaluate(x):
        R, lno, le, ctx = _evaluate(lb, x, lF, lS, lc, n)
        return R, (lno - le, ctx)

    g, (lna, _), norm, it, factors = _dense_ptc(evaluate, lambda st: _jacobian(st[1]), g, holdup=1.0,
                                                tol=tol, max_iter=max_iter, dt0=dt0, max_step=max_step,
                                                growth_limit=growth_limit, chord=chord)
    return MultiplierOutcome(g=g, converged=norm <= tol, iterations=it, residual=norm,
                             log_aqueous=lna.T, factors=factors)


def solve_multipliers_many(log_beta, g0, log_feed, log_S, log_reflux, n: int, chords=None, *,
                           tol: float = 1e-13, max_iter: int = 20, max_step: float = 1.0,
                           growth_limit: float = 10.0) -> list[MultiplierOutcome]:
    """Solve R(g) = 0 for B constant-beta cascades of the same stages together, from warm starts.

    The residuals of all B cascades are evaluated at once (a leading axis on
    every array of :func:`saturation_residual`), and each cascade takes its
    own steps: chord steps with its ``chords[b]`` (the :class:`ChordFactors`
    of a neighbour's Jacobian, or None) while each brings max |R| to at most
    ``CHORD_CONTRACTION`` of the last, then Newton steps with its own
    Jacobian, (J dg = -R; no pseudo-time term, the starts being warm). A step
    is scaled so no multiplier moves more than ``max_step``. A Newton step
    that raises max |R| more than ``growth_limit``-fold, or ``max_iter``
    iterations, leaves that cascade unconverged (the caller solves it on its
    own, with the globalised :func:`solve_multipliers`).

    Parameters
    ----------
    log_beta, log_feed : (B, C) ln beta [-] and ln F [ln mol/h]
    g0 : (B, N) starting multipliers [-]
    log_S, log_reflux : (B,) ln S [ln mol/h] and ln(S/P) [-]
    n : int, extraction stages (the same for all)
    chords : sequence of B ChordFactors or None

    Returns
    -------
    list of B MultiplierOutcome

    >>> import numpy as np
    >>> from magcycle.sx.sampling import random_cascade
    >>> from magcycle.sx.spec import beta_flows
    >>> specs = [random_cascade(np.random.default_rng(s), "constant_beta", components=3,
    ...                         stages=(6, 5, 0)) for s in (1, 2)]
    >>> def args(spec):
    ...     S, W, F, P, R = beta_flows(spec)
    ...     return np.log(spec.params.beta), np.log(spec.feed_mol_per_h), np.log(S), np.log(S / P)
    >>> lb, lF, lS, lc = (np.array(v) for v in zip(*map(args, specs)))
    >>> alone = [solve_multipliers(lb[b], np.zeros(11), lF[b], lS[b], lc[b], 6) for b in (0, 1)]
    >>> g0 = np.array([o.g for o in alone]) + 0.01            # warm starts near the solutions
    >>> many = solve_multipliers_many(lb, g0, lF, lS, lc, 6)
    >>> [bool(o.converged) for o in many]
    [True, True]
    >>> bool(max(np.max(np.abs(o.g - a.g)) for o, a in zip(many, alone)) < 1e-10)
    True
    """
    lb = np.asarray(log_beta, dtype=float)
    g = np.array(g0, dtype=float)
    lF = np.asarray(log_feed, dtype=float)
    lS = np.asarray(log_S, dtype=float)[:, None]
    lc = np.asarray(log_reflux, dtype=float)[:, None]
    joint = _Joint(lb, g, lF, lS, lc, n, chords)
    B, N = g.shape
    while True:
        live = ~joint.failed & (joint.norm > tol) & (joint.its < max_iter)
        if not live.any():
            break
        d = np.zeros((B, N))
        joint.chord_directions(d, live, max_step)
        lus = joint.newton_directions(d, live, max_step)
        joint.step(d, live, lus, growth_limit)
    return joint.outcomes(tol)


def _chord_inverses(factors, B: int, N: int):
    """Which of B cascades chord ((B,) bool) and their chord matrices inverted (B, N, N), once each:
    a chord step is then a product. A cascade whose factors are singular does not chord."""
    chord = np.array([f is not None for f in factors], dtype=bool)
    inverse = np.zeros((B, N, N))
    for b in np.flatnonzero(chord):
        inv = factors[b].inverse()
        if inv is not None:
            inverse[b] = inv
        else:
            chord[b] = False
    return chord, inverse


class _Joint:
    """The B cascades of :func:`solve_multipliers_many`: their iterates g and what the residual
    evaluation at g leaves (R, ln a, the Jacobian's intermediates), which of them chord, have
    failed, and their iteration counts and latest factors."""

    def __init__(self, lb, g, lF, lS, lc, n, chords):
        B, N = g.shape
        self.lb, self.g, self.lF, self.lS, self.lc, self.n = lb, g, lF, lS, lc, n
        self.factors = list(chords) if chords is not None else [None] * B
        self.chord, self.inverse = _chord_inverses(self.factors, B, N)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            R, lno, le, ((A, Bq, q, _), pi) = _evaluate(lb, g, lF, lS, lc, n)
        self.R, self.A, self.Bq, self.q, self.pi = R, A, Bq, q, pi
        self.lna = lno - le
        self.norm = np.max(np.abs(R), axis=1)
        self.failed = ~np.isfinite(self.norm)
        self.its = np.zeros(B, dtype=int)

    def chord_directions(self, d, live, max_step) -> None:
        """Chord steps into ``d`` for the live cascades that chord; one longer than ``max_step``
        (or not finite) ends that cascade's chording, Newton steps instead."""
        cl = live & self.chord
        if cl.any():
            d[cl] = -np.einsum("bij,bj->bi", self.inverse[cl], self.R[cl])
            too_far = cl & ~(np.max(np.abs(d), axis=1) <= max_step)  # also NaN: Newton instead
            self.chord &= ~too_far

    def newton_directions(self, d, live, max_step) -> dict:
        """Newton steps into ``d`` for the live cascades that do not chord, each with its own
        Jacobian (built together) and scaled to ``max_step``; a singular or non-finite one
        fails its cascade. Returns each stepping cascade's ChordFactors by index."""
        from scipy.linalg.lapack import dgesv

        lus: dict = {}
        newt = np.flatnonzero(live & ~self.chord)
        if not newt.size:
            return lus
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            Js = _jacobian(((self.A[newt], self.Bq[newt], self.q[newt], self.n), self.pi[newt]))
        for b, J in zip(newt, Js):
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                lu, piv, step, info = dgesv(J, -self.R[b], overwrite_a=True)
            big = float(np.max(np.abs(step)))
            if info != 0 or not np.isfinite(big):
                self.failed[b] = True
                continue
            d[b] = step * (max_step / big) if big > max_step else step
            lus[b] = ChordFactors(lu, piv)
        return lus

    def step(self, d, live, lus, growth_limit) -> None:
        """Evaluate g + d for the live cascades that have not failed and keep each step that is
        accepted: a chord step while it lowers max |R| (chording ends unless it brings it to
        CHORD_CONTRACTION of the last), a Newton step unless max |R| grows ``growth_limit``-fold
        (the cascade then fails)."""
        moving = live & ~self.failed
        if not moving.any():
            return
        was_chord = self.chord[moving]
        gt = self.g[moving] + d[moving]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            Rt, lnot, let, ((At, Bqt, qt, _), pit) = _evaluate(self.lb[moving], gt, self.lF[moving],
                                                               self.lS[moving], self.lc[moving], self.n)
        nt = np.max(np.abs(Rt), axis=1)
        self.its[moving] += 1
        # chord: kept while each step contracts enough; Newton: accepted unless |R| grows too much
        norm = self.norm[moving]
        take = np.where(was_chord, nt < norm, nt < growth_limit * norm)
        rows = np.flatnonzero(moving)
        self.chord[rows[was_chord & ~(nt <= CHORD_CONTRACTION * norm)]] = False
        self.failed[rows[~was_chord & ~take]] = True
        for b in rows[~was_chord & take]:
            self.factors[b] = lus[b]
        acc, rows = take, rows[take]
        self.g[rows], self.R[rows], self.norm[rows] = gt[acc], Rt[acc], nt[acc]
        self.lna[rows] = lnot[acc] - let[acc]
        self.A[rows], self.Bq[rows], self.q[rows], self.pi[rows] = At[acc], Bqt[acc], qt[acc], pit[acc]

    def outcomes(self, tol) -> list:
        """A MultiplierOutcome per cascade."""
        return [MultiplierOutcome(g=self.g[b], converged=bool(self.norm[b] <= tol), iterations=int(self.its[b]),
                                  residual=float(self.norm[b]), log_aqueous=self.lna[b].T,
                                  factors=self.factors[b])
                for b in range(self.g.shape[0])]


#: a chord step (the neighbour's factorised Jacobian) is kept only while each
#: brings max |R| to at most this fraction of the last; otherwise Newton takes over
CHORD_CONTRACTION = 0.03


def _dense_ptc(evaluate, jacobian, x0, *, holdup, tol, max_iter, dt0, max_step, growth_limit,
               upper=None, chord=None):
    """Pseudo-transient Newton on a small dense system, shared by the reduced solvers.

    ``evaluate(x)`` returns (R, state) and ``jacobian(state)`` dR/dx; each
    step solves (J + holdup I / dt) dx = -R (holdup +1 where rows rise with
    their own variable, -1 where they fall). dt starts at ``dt0`` and grows
    by switched evolution relaxation as max |R| falls; a step that raises
    max |R| more than ``growth_limit``-fold (or is not finite) is rejected
    and dt divided by 10; a step is scaled so that no variable moves more
    than ``max_step``; x is capped at ``upper`` if given. The Jacobian is
    built only at states a step starts from.

    ``chord``, the :class:`ChordFactors` of the Jacobian of a nearby
    solution (a warm start), is tried first: chord steps dx = -J0^-1 R cost
    one evaluation each and are kept while each brings max |R| to at most
    ``CHORD_CONTRACTION`` of the last. Returns (x, state, max |R|, iterations, factors),
    factors being those of the last matrix factorised (or ``chord``).
    """
    x, R, state = _trial(evaluate, np.array(x0, dtype=float), upper)
    norm = float(np.max(np.abs(R)))
    if not np.isfinite(norm):
        norm = np.inf
    it = 0
    if chord is not None:
        x, R, state, norm, it = _chord_steps(evaluate, chord, x, R, state, norm, tol=tol, max_iter=max_iter,
                                             max_step=max_step, upper=upper)
    return _ptc_steps(evaluate, jacobian, x, R, state, norm, it, chord, holdup=holdup, tol=tol,
                      max_iter=max_iter, dt0=dt0, max_step=max_step, growth_limit=growth_limit, upper=upper)


def _trial(evaluate, x, upper):
    """(x, R, state) at x capped at ``upper`` (in place), floating-point warnings off."""
    if upper is not None:
        np.minimum(x, upper, out=x)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        R, state = evaluate(x)
    return x, R, state


def _chord_steps(evaluate, chord, x, R, state, norm, *, tol, max_iter, max_step, upper):
    """Chord steps dx = -J0^-1 R of :func:`_dense_ptc`; returns (x, R, state, max |R|, steps)."""
    from scipy.linalg.lapack import dgetrs

    it = 0
    while norm > tol and it < max_iter:
        d, info = dgetrs(chord.lu, chord.piv, -R)
        big = float(np.max(np.abs(d)))
        if info != 0 or not big <= max_step:  # also rejects NaN
            break
        xt, Rt, state_t = _trial(evaluate, x + d, upper)
        it += 1
        nt = float(np.max(np.abs(Rt)))
        if nt < norm:
            x, R, state = xt, Rt, state_t
            ok, norm = nt <= CHORD_CONTRACTION * norm, nt
            if ok:
                continue
        break
    return x, R, state, norm, it


def _next_dt(dt: float, norm: float, nt: float) -> float:
    """Switched evolution relaxation after an accepted step from max |R| = norm to nt."""
    ratio = norm / max(nt, 1e-300)
    return min(dt * (max(2.0, min(1e3, ratio)) if nt <= norm else max(0.5, ratio)), 1e14)


def _ptc_steps(evaluate, jacobian, x, R, state, norm, it, factors, *, holdup, tol, max_iter, dt0, max_step,
               growth_limit, upper):
    """The pseudo-transient Newton steps of :func:`_dense_ptc` after ``it`` steps made;
    returns (x, state, max |R|, iterations, factors)."""
    from scipy.linalg.lapack import dgesv

    dt = float(dt0)
    diag = np.arange(x.size)
    J = None
    while norm > tol and dt > 1e-12 and it < max_iter:
        it += 1
        if J is None:
            J = jacobian(state)
        A = J.copy()
        A[diag, diag] += holdup / dt
        lu, piv, d, info = dgesv(A, -R, overwrite_a=True)
        big = float(np.max(np.abs(d)))
        if info != 0 or not np.isfinite(big):
            dt *= 0.1
            continue
        if big > max_step:
            d *= max_step / big
        xt, Rt, state_t = _trial(evaluate, x + d, upper)
        nt = float(np.max(np.abs(Rt)))
        if not nt < growth_limit * norm:  # also rejects NaN
            dt *= 0.1
            continue
        dt = _next_dt(dt, norm, nt)
        x, R, state, norm, J = xt, Rt, state_t, nt, None
        factors = ChordFactors(lu, piv)
    return x, state, norm, it, factors


# ----------------------------------------------------------------- mass action
class MassActionReduced:
    """The mass-action model (:mod:`magcycle.sx.mass_action`) in 2N unknowns.

    On stage k, D_{k,i} = K_i (z_k / h_k)^3, so one multiplier g_k =
    3 (ln z_k - ln h_k) fixes every extraction factor e_{k,i} = K_i e^{g_k}
    Q_o / Q_a,k, and the rare-earth flows follow exactly from the recursions
    above: a two-section cascade (c_top = 1, the scrub is barren) feeding a
    strip section whose organic enters with the extract p and leaves with
    T = p / sigma'_0, sigma'_j = sum_{l>=j} exp(t'_j - t'_l) in the strip's
    own cumulative ln e. The unknowns v = (ln z_1..N, ln h_1..N) then meet

        E1_k = 1 - (2 z_k + 6 sum_i y_{k,i}) / C_HA = 0      (extractant)
        E2_k = 1 - (h_k + 3 sum_i x_{k,i} + [M+]_k) / [Cl-]_k = 0   (charge)

    with a dense 2N x 2N Jacobian assembled from the same rank-C factors.
    Parameters: a MassActionCascade of one variant.
    """

    def __init__(self, model):
        self.C = model.C
        self.n, self.m, self.k = model.n, model.m, model.k
        self.N = model.N
        self.Ne = model.n + model.m
        self.lK = np.log(model.K[0])
        self.lQ = np.log(model.Qo[0]) - np.log(model.Qa[0])  # ln(Qo / Qa_k)
        self.Qo = float(model.Qo[0])
        self.Qa = model.Qa[0]
        self.CHA = float(model.CHA[0])
        self.Cl = model.Cl[0]
        self.cation = model.cation[0]
        with np.errstate(divide="ignore"):
            self.lF = np.log(model.feed[0])
        self.upper = np.concatenate((np.full(self.N, np.log(self.CHA / 2.0)), np.log(self.Cl)))

    def flows(self, v):
        """ln o and ln a (C, N) [ln mol/h] at v, and the intermediates."""
        N, Ne = self.N, self.Ne
        g = 3.0 * (v[:N] - v[N:])
        le = self.lK[:, None] + g + self.lQ
        lno_es, ctx = _cascade_flows(le[:, :Ne], self.lF, 0.0, self.n)
        strip = None
        if self.k:
            tT = np.cumsum(le[:, Ne:], axis=1)
            x = np.concatenate((np.zeros((self.C, 1)), -tT), axis=1)
            Bs = np.logaddexp.accumulate(x[:, ::-1], axis=1)[:, ::-1]  # ln sum_{l>=j} exp(-t'_l)
            lnp = lno_es[:, -1]  # the organic leaving the scrub
            lno_T = (lnp - Bs[:, 0])[:, None] + tT + Bs[:, 1:]
            lno = np.concatenate((lno_es, lno_T), axis=1)
            strip = Bs
        else:
            lno = lno_es
        return lno, lno - le, (ctx, strip)

    def residual(self, v):
        lno, lna, fctx = self.flows(v)
        N = self.N
        z, h = np.exp(v[:N]), np.exp(v[N:])
        y = np.exp(lno) / self.Qo
        x = np.exp(lna) / self.Qa
        R = np.concatenate((1.0 - (2.0 * z + 6.0 * y.sum(axis=0)) / self.CHA,
                            1.0 - (h + 3.0 * x.sum(axis=0) + self.cation) / self.Cl))
        return R, lna, (fctx, x, y, z, h)

    def jacobian(self, ctx):
        (flows, Bs), x, y, z, h = ctx
        N, Ne = self.N, self.Ne
        Go = np.zeros((N, N))  # sum_i y d ln o / d g
        Ga = np.zeros((N, N))  # sum_i x d ln o / d g
        fac = _factors(flows)
        dlp = fac[4]  # d ln p / d g over the first Ne stages
        Go[:Ne, :Ne] = _weighted_jacobian(fac, y[:, :Ne])
        Ga[:Ne, :Ne] = _weighted_jacobian(fac, x[:, :Ne])
        if self.k:
            # strip rows: d ln o_j = d ln p - d ln sigma'_0 + d ln sigma'_j
            k = self.k
            yT, xT = y[:, Ne:], x[:, Ne:]
            Go[Ne:, :Ne] = yT.T @ dlp
            Ga[Ne:, :Ne] = xT.T @ dlp
            c = 0.5 * (Bs.max(axis=1) + Bs.min(axis=1))[:, None]
            eB = np.exp(Bs - c)
            e0 = eB[:, 1:] / eB[:, :1]  # exp(B'_l - B'_0), l = 1..k
            upper = np.triu(np.ones((k, k)), 1)
            for W, G in ((yT, Go), (xT, Ga)):
                G[Ne:, Ne:] = W.T @ e0 - ((W / eB[:, 1:]).T @ eB[:, 1:]) * upper
        Ga[np.arange(N), np.arange(N)] -= x.sum(axis=0)  # ln a = ln o - ln e
        J = np.empty((2 * N, 2 * N))
        J[:N, :N] = -18.0 / self.CHA * Go
        J[:N, N:] = 18.0 / self.CHA * Go
        J[N:, :N] = -9.0 * Ga / self.Cl[:, None]
        J[N:, N:] = 9.0 * Ga / self.Cl[:, None]
        d = np.arange(N)
        J[d, d] -= 2.0 * z / self.CHA
        J[N + d, N + d] -= h / self.Cl
        return J

    def state(self, v, lna):
        """u = (ln x_1..C, ln z, ln h) (N, C + 2) of the block-Newton model."""
        N = self.N
        return np.concatenate(((lna - np.log(self.Qa)).T, v[:N, None], v[N:, None]), axis=1)


def solve_mass_action_multipliers(red: MassActionReduced, v0, *, tol: float = 1e-13,
                                  max_iter: int = 300, dt0: float = 3.0, max_step: float = 0.5,
                                  growth_limit: float = 10.0):
    """PTC Newton (J - I / dt) dv = -R on the 2N unknowns of ``red``.

    Returns (v, ln a (C, N), converged, iterations, max |R|). Steps are
    scaled so no ln z or ln h moves more than ``max_step``, and v is capped
    at the physical bounds z <= C_HA / 2, h <= [Cl-].

    >>> import numpy as np
    >>> from magcycle.sx.sampling import random_cascade
    >>> from magcycle.sx.solver import mass_action_model
    >>> spec = random_cascade(np.random.default_rng(1), "mass_action", components=2, stages=(3, 2, 2))
    >>> model = mass_action_model(spec)
    >>> red = MassActionReduced(model)
    >>> u = model.initial()[0]                       # acid-only start, (N, C + 2)
    >>> v, lna, ok, its, norm = solve_mass_action_multipliers(red, np.concatenate((u[:, 2], u[:, 3])))
    >>> bool(ok), bool(norm <= 1e-13)
    (True, True)
    >>> # every stage balance of the full model holds too
    >>> bool(np.max(np.abs(model.residual(red.state(v, lna)[None])[0])) < 1e-12)
    True
    """
    def evaluate(x):
        R, lna, ctx = red.residual(x)
        return R, (lna, ctx)

    v, (lna, _), norm, it, _ = _dense_ptc(evaluate, lambda st: red.jacobian(st[1]), v0, holdup=-1.0,
                                          tol=tol, max_iter=max_iter, dt0=dt0, max_step=max_step,
                                          growth_limit=growth_limit, upper=red.upper)
    return v, lna, norm <= tol, it, norm
