"""Constant separation factor with a saturated organic (Xu's model).

Configuration
    Extraction stages 1..n and scrub stages n+1..n+m; no strip section (the
    loaded organic leaving stage n+m is stripped totally and a part W of it
    returns as the scrub reflux). Feed at stage n.

Degrees of freedom
    None beyond the specification: S = Q_org * loading, W = Q_scrub * [H+]/3,
    F = Q_feed * sum(c_feed) fix all rare-earth flows; P = S - W leaves as
    the organic product (the extract) and R = F + W - S as the raffinate.

Equations
    With a_{k,i} the aqueous and o_{k,i} the organic flow of rare earth i
    leaving stage k [mol/h], the saturated organic in equilibrium with the
    aqueous carries

        o_{k,i} = S beta_i a_{k,i} / sum_j beta_j a_{k,j}

    (y = beta x / sum beta x in rare-earth mole fractions), and every stage
    balances

        a_{k+1,i} + o_{k-1,i} + F_i delta_{k,n} - a_{k,i} - o_{k,i} = 0,

    with o_{0,i} = 0 and the reflux a_{n+m+1,i} = (W/S) o_{n+m,i}. This is a
    distillation column with constant relative volatility, constant molar
    overflow and a total condenser. The unknowns are u = ln a (N x C).

    Solvers. :func:`magcycle.sx.solve` first reduces the system to one
    multiplier per stage, lambda_k = S / sum_j beta_j a_{k,j}, for which every
    component's balances are linear and solved exactly
    (:mod:`magcycle.sx.multipliers`; N unknowns, dense N x N Newton). The
    block-tridiagonal Newton of :mod:`magcycle.sx.newton` on u, with Jacobian
    blocks

        do_k/du_k = diag(o_k) - o_k o_k^T / S,

    is the fallback and the batched solver (:func:`magcycle.sx.solve_many`).
    Its cold start is a continuation in the separation factors from their
    common value, where the exact solution is the feed composition on every
    stage (:func:`magcycle.sx.solver.beta_continuation`). Neither path needs
    a typed-in initial guess; both are judged by this module's residual.

Reference
    Xu Guangxian et al., theory of countercurrent extraction; Cheng et al.,
    Adv. Mater. Phys. Chem. 4 (2014) 275.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BetaCascade"]



class BetaCascade:
    """Stage equations of the constant-beta model for a batch of variants.

    Parameters (leading batch axis B): beta (B, C), S, W (B,), feed (B, C)
    [mol/h]; n, m stage counts.
    """

    def __init__(self, beta, S, W, feed, n: int, m: int):
        self.beta = np.asarray(beta, dtype=float)
        self.S = np.asarray(S, dtype=float)
        self.W = np.asarray(W, dtype=float)
        self.F = np.asarray(feed, dtype=float)
        self.n, self.m = n, m
        self.N = n + m
        C = self.beta.shape[-1]
        self.C = self.M = C
        self.kl, self.ku = 2 * C - 1, C
        self.hold = np.ones(C)

    @property
    def upper(self):
        """Physical caps on u = ln a: no component exceeds its stage's aqueous RE flow."""
        return np.log(self.stage_aqueous_totals())[..., None] * np.ones(self.C)

    def log_organic(self, u):
        """ln o (B, N, C) [ln mol/h]: o = S beta a / sum(beta a), from u = ln a."""
        lw = u + np.log(self.beta)[:, None, :]
        top = lw.max(axis=-1, keepdims=True)
        lse = top + np.log(np.sum(np.exp(lw - top), axis=-1, keepdims=True))
        return np.log(self.S)[:, None, None] + lw - lse

    def organic(self, u):
        """Organic flows o (B, N, C) [mol/h] in equilibrium with a = exp(u)."""
        return np.exp(self.log_organic(u))

    def evaluate(self, u):
        """Scaled residuals and Jacobian blocks (see :mod:`magcycle.sx.newton`).

        Each balance is divided by its own outflow w = a + o and evaluated
        from differences of logarithms, so a component at 1e-250 of the bulk
        is as well resolved as the bulk and nothing underflows.
        """
        rs, share, ctx = self.residual(u)
        return (rs, *self.jacobian(ctx), share)

    def residual(self, u):
        """Scaled residuals (B, N, C), bulk shares, and what :meth:`jacobian` reuses."""
        lo = self.log_organic(u)
        lw = np.logaddexp(u, lo)  # ln(a + o)
        log_ratio = np.log(self.W / self.S)[:, None]
        up = np.zeros_like(u)
        up[:, :-1] = np.exp(u[:, 1:] - lw[:, :-1])  # a_{k+1} / w_k
        low = np.zeros_like(u)
        low[:, 1:] = np.exp(lo[:, :-1] - lw[:, 1:])  # o_{k-1} / w_k
        rs = up + low - 1.0
        rs[:, -1] += np.exp(log_ratio + lo[:, -1] - lw[:, -1])  # reflux (W/S) o_N / w_N
        # A trial iterate far from the answer may put a fed component at e^-800 of the feed: its
        # residual is then inf, the step is refused by the line search, and no warning is due.
        with np.errstate(divide="ignore", over="ignore"):
            rs[:, self.n - 1] += np.exp(np.log(self.F) - lw[:, self.n - 1])
        e = np.exp(lw - lw.max(axis=-1, keepdims=True))
        share = e / e.sum(axis=-1, keepdims=True)
        return rs, share, (lo, lw, up, low, log_ratio)

    def jacobian(self, ctx):
        """Blocks (Lo, Di, Up) (B, N, C, C) of the scaled residuals in u = ln a."""
        lo, lw, up, low, log_ratio = ctx
        sig = np.exp(lo - lw)  # o / (a + o)
        y = np.exp(lo - np.log(self.S)[:, None, None])  # organic composition
        eye = np.eye(self.C)
        Di = sig[..., :, None] * y[..., None, :] - eye
        # top stage: the reflux (W/S) o_N depends on u_N through G_N
        Di[:, -1] += (np.exp(log_ratio)[..., None] * sig[:, -1, :, None]) * (eye - y[:, -1, None, :])
        Lo = np.zeros_like(Di)
        Lo[:, 1:] = low[:, 1:, :, None] * (eye - y[:, :-1, None, :])
        Up = up[..., :, None] * eye
        return Lo, Di, Up

    def stage_aqueous_totals(self):
        """Rare-earth flow of the aqueous leaving each stage [mol/h], (B, N)."""
        B = self.S.shape[0]
        L = np.empty((B, self.N))
        Ftot = self.F.sum(axis=-1)
        L[:, : self.n] = (self.W + Ftot)[:, None]
        L[:, self.n :] = self.W[:, None]
        L[:, 0] = self.W + Ftot - self.S
        return L
