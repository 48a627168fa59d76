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
    overflow and a total condenser. The unknowns are u = ln a (N x C); the
    block-tridiagonal Newton of :mod:`magcycle.sx.newton` solves them, with
    Jacobian blocks

        do_k/du_k = diag(o_k) - o_k o_k^T / S.

    The cold start is the constant-D cascade with D_i = beta_i / sum_j
    beta_j z_j (z the feed composition), solved exactly, so no initial
    guess is ever typed in.

Reference
    Xu Guangxian et al., theory of countercurrent extraction; Cheng et al.,
    Adv. Mater. Phys. Chem. 4 (2014) 275.
"""

from __future__ import annotations

import numpy as np

from magcycle.sx import constant_d


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
        self.C = C
        self.kl, self.ku = 2 * C - 1, C
        self.hold = np.ones(C)

    def organic(self, u):
        """Organic flows o (B, N, C) [mol/h] in equilibrium with a = exp(u)."""
        lw = u + np.log(self.beta)[:, None, :]
        lw = lw - lw.max(axis=-1, keepdims=True)
        w = np.exp(lw)
        return self.S[:, None, None] * w / w.sum(axis=-1, keepdims=True)

    def evaluate(self, u):
        a = np.exp(u)
        o = self.organic(u)
        B, N, C = u.shape
        S = self.S[:, None, None]
        ratio = (self.W / self.S)[:, None]
        r = -a - o
        r[:, :-1] += a[:, 1:]
        r[:, -1] += ratio * o[:, -1]
        r[:, 1:] += o[:, :-1]
        r[:, self.n - 1] += self.F
        eye = np.eye(C)
        G = o[..., :, None] * eye - o[..., :, None] * o[..., None, :] / S[..., None]
        Di = -(a[..., :, None] * eye) - G
        Di[:, -1] += ratio[..., None] * G[:, -1]
        Lo = np.zeros_like(G)
        Lo[:, 1:] = G[:, :-1]
        Up = np.zeros_like(G)
        Up[:, :-1] = a[:, 1:, :, None] * eye
        w = a + o
        return r, Lo, Di, Up, w

    def stage_aqueous_totals(self):
        """Rare-earth flow of the aqueous leaving each stage [mol/h], (B, N)."""
        B = self.S.shape[0]
        L = np.empty((B, self.N))
        Ftot = self.F.sum(axis=-1)
        L[:, : self.n] = (self.W + Ftot)[:, None]
        L[:, self.n :] = self.W[:, None]
        L[:, 0] = self.W + Ftot - self.S
        return L

    def initial(self, sweeps: int = 1):
        """Cold start from the feed composition, refined by Thiele-Geddes sweeps.

        Each sweep fixes the stage denominators K_k = sum_j beta_j a_kj (from
        the previous sweep, rescaled to the stage's known rare-earth flow)
        and solves every component's linear cascade exactly
        (:func:`magcycle.sx.constant_d.solve_stagewise`).
        """
        F = self.F
        L = self.stage_aqueous_totals()
        z = F / F.sum(axis=-1, keepdims=True)
        K = np.broadcast_to(np.sum(self.beta * z, axis=-1)[:, None], L.shape)
        log_top = np.log(self.S / (self.S - self.W))
        for _ in range(sweeps):
            logE = (np.log(self.S)[:, None, None] + np.log(self.beta)[:, None, :]
                    - np.log(K * L)[..., None])
            a, _ = constant_d.solve_stagewise(logE, self.n, F, log_top)
            a = a * (L / a.sum(axis=-1))[..., None]
            K = np.sum(self.beta[:, None, :] * a, axis=-1) / L
        return np.log(np.maximum(a, 1e-300))
