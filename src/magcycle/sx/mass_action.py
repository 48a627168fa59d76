"""Mass-action cation exchange with proton balance, loading and saponification.

Configuration
    Extraction stages 1..n (aqueous Q_feed + Q_scrub), scrub n+1..n+m
    (aqueous Q_scrub), strip n+m+1..N (aqueous Q_strip). The organic, of
    total extractant C_HA [mol/L as monomer HA] with a fraction s
    saponified (loaded with the counter-ion NH4+ or Na+), enters stage 1;
    the feed (rare earths c_i and acid [H+]_feed as chlorides) enters stage
    n; HCl scrub enters stage n+m; HCl strip enters stage N.

Degrees of freedom
    None beyond the specification.

Equations (per stage k; x aqueous RE3+, y organic Ln(HA2)3, h = [H+],
z = free dimer [(HA)2], all mol/L)
    Equilibrium      Ln3+ + 3 (HA)2(org) = Ln(HA2)3(org) + 3 H+,
                     y_i = K_i x_i z^3 / h^3                (D_i = K_i z^3/h^3)
    Component i      Q_a,k+1 x_{k+1,i} + Q_o y_{k-1,i} + Q_f c_i delta_{k,n}
                       - Q_a,k x_{k,i} - Q_o y_{k,i} = 0
    Extractant       2 z + 6 sum_i y_i = C_HA
    Electroneutrality h + 3 sum_i x_i + [M+]_k = [Cl-]_k

    Chloride is not extracted, so [Cl-] is known in each section from the
    inflows: (Q_f (3 sum c + [H+]_feed) + Q_s [H+]_scrub)/(Q_f + Q_s) in the
    extraction section, [H+]_scrub in the scrub and [H+]_strip in the strip.
    The counter-ion on the saponified organic exchanges completely on the
    stage it first meets, stage 1, and leaves with the raffinate:
    [M+]_1 = s C_HA Q_o / Q_a,1, and 0 elsewhere. The hydrogen balance
    (3 H+ released per rare earth loaded) follows from these equations and
    is not imposed separately.

    Unknowns per stage: (ln x_1..ln x_C, ln z, ln h), M = C + 2. Since D_i
    depends on the stage only through (z/h)^3, :func:`magcycle.sx.solve`
    first eliminates the x exactly (for given z, h every component's
    balances are linear; :class:`magcycle.sx.multipliers.MassActionReduced`,
    2N unknowns). The PTC Newton of :mod:`magcycle.sx.newton` on all M N
    unknowns (a Naphtali-Sandholm-type block-tridiagonal system) is the
    fallback and the batched solver. Cold start of both: an "acid-only"
    cascade holding a trace of feed-composition rare earth, from which the
    pseudo-transient march loads the cascade the way a plant start-up does.

References
    Peppard et al., J. Inorg. Nucl. Chem. 27 (1965) 1683 (third-power [H+]
    dependence); Naphtali & Sandholm, AIChE J. 17 (1971) 148.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MassActionCascade"]


class MassActionCascade:
    """Stage equations of the mass-action model for a batch of variants (axis B).

    Parameters
    ----------
    K : (B, C) equilibrium constants [-]
    feed_conc : (B, C) feed concentrations [mol/L]
    Qo, Qf, Qs, Qt : (B,) organic, feed, scrub, strip flows [L/h]
    extractant, saponification, feed_acid, scrub_acid, strip_acid : (B,)
    n, m, k : stage counts
    """

    def __init__(self, K, feed_conc, Qo, Qf, Qs, Qt, extractant, saponification,
                 feed_acid, scrub_acid, strip_acid, n, m, k):
        self.K = np.asarray(K, float)
        B, C = self.K.shape
        self.C, self.M = C, C + 2
        self.n, self.m, self.k = n, m, k
        self.N = N = n + m + k
        self.kl = self.ku = C + 2
        self.hold = np.ones(C + 2)
        Qo, Qf, Qs, Qt = (np.broadcast_to(np.asarray(v, float), (B,)) for v in (Qo, Qf, Qs, Qt))
        self.Qo = Qo
        self.CHA = np.broadcast_to(np.asarray(extractant, float), (B,))
        sap = np.broadcast_to(np.asarray(saponification, float), (B,))
        fa, sa, ta = (np.broadcast_to(np.asarray(v, float), (B,)) for v in (feed_acid, scrub_acid, strip_acid))
        cf = np.asarray(feed_conc, float)
        self.feed = Qf[:, None] * cf  # [mol/h]
        Qa = np.empty((B, N))
        Qa[:, :n] = (Qf + Qs)[:, None]
        Qa[:, n:n + m] = Qs[:, None]
        Qa[:, n + m:] = Qt[:, None]
        self.Qa = Qa
        cl = np.empty((B, N))
        cl[:, :n] = ((Qf * (3.0 * cf.sum(axis=1) + fa) + Qs * sa) / (Qf + Qs))[:, None]
        cl[:, n:n + m] = sa[:, None]
        cl[:, n + m:] = ta[:, None]
        self.Cl = cl
        cat = np.zeros((B, N))
        cat[:, 0] = sap * self.CHA * Qo / Qa[:, 0]
        self.cation = cat
        # aqueous from stage k+1 enters stage k unless stage k+1 is the first
        # strip stage (the strip liquor leaves there) or k is the last stage
        conn = np.ones(N - 1, dtype=bool)
        if k > 0 and m + n < N:
            conn[n + m - 1] = False
        self.connected = conn

    @property
    def upper(self):
        """Physical caps on the log variables: 3 x <= [Cl-], z <= C_HA/2, h <= [Cl-]."""
        B, N = self.Cl.shape
        up = np.empty((B, N, self.M))
        up[..., : self.C] = np.log(self.Cl / 3.0)[..., None]
        up[..., self.C] = np.log(self.CHA / 2.0)[:, None]
        up[..., self.C + 1] = np.log(self.Cl)
        return up

    def split(self, u):
        C = self.C
        x = np.exp(u[..., :C])
        z = np.exp(u[..., C])
        h = np.exp(u[..., C + 1])
        return x, z, h

    def loading(self, u):
        """Organic rare-earth concentrations y (B, N, C) [mol/L]."""
        C = self.C
        ly = np.log(self.K)[:, None, :] + u[..., :C] + 3.0 * (u[..., C:C + 1] - u[..., C + 1:C + 2])
        return np.exp(ly)

    def evaluate(self, u):
        """Scaled residuals and Jacobian blocks (see :mod:`magcycle.sx.newton`).

        Component balances are divided by their outflow w = Q_a x + Q_o y and
        evaluated from differences of logarithms (no underflow for trace
        species); the extractant and charge balances are divided by C_HA and
        [Cl-]. Those two are written "supply - demand" so that every row
        falls as its own variable rises and a pseudo-transient with a holdup
        on every row is stable.
        """
        rs, share, ctx = self.residual(u)
        return (rs, *self.jacobian(ctx), share)

    def residual(self, u):
        """Scaled residuals (B, N, C+2), bulk shares, and what :meth:`jacobian` reuses."""
        C, M = self.C, self.M
        B, N, _ = u.shape
        X, Z, H = u[..., :C], u[..., C], u[..., C + 1]
        la = np.log(self.Qa)[:, :, None] + X
        ly = np.log(self.K)[:, None, :] + X + 3.0 * (Z - H)[..., None]
        lo = np.log(self.Qo)[:, None, None] + ly
        lw = np.logaddexp(la, lo)
        conn = self.connected[None, :, None]
        up = np.zeros((B, N, C))
        up[:, :-1] = np.where(conn, np.exp(la[:, 1:] - lw[:, :-1]), 0.0)
        low = np.zeros((B, N, C))
        low[:, 1:] = np.exp(lo[:, :-1] - lw[:, 1:])
        rs = np.empty((B, N, M))
        re = up + low - 1.0
        with np.errstate(divide="ignore"):
            re[:, self.n - 1] += np.exp(np.log(self.feed) - lw[:, self.n - 1])
        rs[..., :C] = re
        x, y, z, h = np.exp(X), np.exp(ly), np.exp(Z), np.exp(H)
        cha = self.CHA[:, None]
        sy = y.sum(axis=-1)
        rs[..., C] = 1.0 - (2.0 * z + 6.0 * sy) / cha
        rs[..., C + 1] = 1.0 - (h + 3.0 * x.sum(axis=-1) + self.cation) / self.Cl
        e = np.exp(lw - lw.max(axis=-1, keepdims=True))
        share = np.ones((B, N, M))
        share[..., :C] = e / e.sum(axis=-1, keepdims=True)
        return rs, share, (lo, lw, up, low, x, y, z, h, sy)

    def jacobian(self, ctx):
        """Blocks (Lo, Di, Up) (B, N, C+2, C+2) of the scaled residuals in u."""
        C, M = self.C, self.M
        lo, lw, up, low, x, y, z, h, sy = ctx
        B, N, _ = x.shape
        sig = np.exp(lo - lw)  # o / w
        cha = self.CHA[:, None]
        ic = np.arange(C)
        Di = np.zeros((B, N, M, M))
        Di[:, :, ic, ic] = -1.0
        Di[:, :, ic, C] = -3.0 * sig
        Di[:, :, ic, C + 1] = 3.0 * sig
        Di[:, :, C, ic] = -6.0 * y / cha[..., None]
        Di[:, :, C, C] = -(2.0 * z + 18.0 * sy) / cha
        Di[:, :, C, C + 1] = 18.0 * sy / cha
        Di[:, :, C + 1, ic] = -3.0 * x / self.Cl[..., None]
        Di[:, :, C + 1, C + 1] = -h / self.Cl
        Lo = np.zeros((B, N, M, M))
        Lo[:, :, ic, ic] = low
        Lo[:, :, ic, C] = 3.0 * low
        Lo[:, :, ic, C + 1] = -3.0 * low
        Up = np.zeros((B, N, M, M))
        Up[:, :, ic, ic] = up
        return Lo, Di, Up

    def free_extractant(self, x, h):
        """Solve 2 z + 6 z^3 sum(K x)/h^3 = C_HA for z per stage (monotone cubic)."""
        g = 6.0 * np.sum(self.K[:, None, :] * x, axis=-1) / h**3
        c = self.CHA[:, None] * np.ones_like(g)
        z = np.minimum(c / 2.0, np.cbrt(c / np.maximum(g, 1e-300)))
        for _ in range(60):
            f = 2.0 * z + g * z**3 - c
            z = z - f / (2.0 + 3.0 * g * z**2)
            z = np.maximum(z, 1e-300)
        return z

    def initial(self):
        """Cold start: acid-only cascade holding a trace of feed-composition RE."""
        B, C = self.K.shape
        comp = self.feed / self.feed.sum(axis=1, keepdims=True)
        trace = 1e-6 * self.Cl[..., None] * comp[:, None, :]
        h = self.Cl - self.cation - 3.0 * trace.sum(axis=-1)
        z = self.free_extractant(trace, h)
        u = np.empty((B, self.N, self.M))
        u[..., :C] = np.log(trace)
        u[..., C] = np.log(z)
        u[..., C + 1] = np.log(h)
        return u
