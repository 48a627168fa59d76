"""Empirical distribution ratios D(pH, free extractant) with a proton balance.

Configuration
    Extraction stages 1..n (aqueous Q_feed + Q_scrub), scrub n+1..n+m
    (aqueous Q_scrub), strip n+m+1..N (aqueous Q_strip). The organic (Q_o,
    free extractant d_in [vol %], possibly loaded with metal y_in [mol/L])
    enters stage 1 and leaves stage N; the feed (metal c_i, titratable acid
    T_f, sulfate S_f) enters stage n; scrub acid stage n+m; strip acid stage
    N. Any metal may be a component: rare earths, Sc, Fe, Al, Ca, Mg, Mn, Co,
    Ni, Cu, Zn, each loaded as its ion M^z+ (z H+ released per ion).

Degrees of freedom
    None beyond the specification.

Equations (per stage k; x aqueous metal, y organic metal, h = [H+], f free
extractant [mol/L]; d = 100 f M_ext / rho_ext [vol %])
    Distribution     log10 D_ik = (m0_i + m1_i d_k) pH_k + B0_i + B1_i log10 d_k,
                     or D_i constant;  y_ik = D_ik x_ik
                     (the correlation form of PrOMMiS's D2EHPA package, fitted
                     to University of Kentucky bench data)
    Component i      Q_a,k+1 x_{k+1,i} + Q_o y_{k-1,i} + s_ki - Q_a,k x_ki - Q_o y_ki = 0
    Extractant       f_k + nu sum_i z_i y_ki = f_in + nu sum_i z_i y_in,i  (= E, the
                     organic's total extractant; nu per unit charge, 1 for D2EHPA
                     loading M(A)z as PrOMMiS writes it)
    Protons          Q_a,k+1 T_{k+1} + s^H_k + Q_o sum_i z_i (y_ki - y_{k-1,i}) - Q_a,k T_k = 0
    Acidity          T = h (chloride);  T = h + S h / (h + Ka2) (sulfate: H2SO4's first
                     proton free, HSO4- = H+ + SO4 2- in equilibrium; S the section's
                     total sulfate, which is not extracted)

    The pH is -log10 h (concentration basis, as PrOMMiS). Summing the proton
    balances from the top of a section's aqueous run to stage k gives

        Q_a,k T_k = sum_{j>=k} s^H_j + Q_o sum_i z_i (y_top,i - y_{k-1,i}),

    the form the reduced solver uses.

Solver
    For given (h_k, f_k) every D is known and each component's balances are
    linear: solved exactly by Green's functions of the subtraction-free
    recursions (rho_{k+1} = 1 + e_k rho_k from the bottom, sigma_{k-1} = 1 +
    sigma_k / e_k from the top; a unit source at stage j splits r_j =
    sigma_j / (sigma_j + e_j rho_j) to the bottom and 1 - r_j to the top), in
    logarithms so trace metals keep their relative precision. What is left
    is 2N unknowns v = (ln h, ln f) and the proton and extractant equations
    above, solved by pseudo-transient Newton with the analytic dense
    Jacobian (d a / d ln e_l = -o_l (G_l - G_{l+1})). The start needs no
    guess: nothing extracted, each stage's acid that of its inflows. The
    result is accepted only when the scaled residual of every stage
    equation of the full model (above, N (C + 2) equations) is within
    1e-12; otherwise a block-tridiagonal Newton on all stage unknowns
    (ln x, ln h, ln f) with pseudo-transient continuation runs, its blocks
    differenced stage-colour by stage-colour.

References
    PrOMMiS, prommis/solvent_extraction/solvent_extraction_reaction_package.py
    (correlation, coefficients) and prommis/properties/
    sulfuric_acid_leaching_properties.py (Ka2 = 10^-1.99, pH on
    concentration); University of Kentucky, "Production of salable rare
    earths products from coal and coal byproducts using advanced separation
    processes", Phase 1 report (data behind the correlation); Kremser, Natl.
    Petrol. News 22 (1930) 42 (the recursions).
"""

from __future__ import annotations

import numpy as np

__all__ = ["LN10", "distribution_ratio", "free_proton", "titratable_acid", "segment_green",
           "EmpiricalPhCascade"]

LN10 = float(np.log(10.0))


def distribution_ratio(pH, d, m0, m1, B0, B1):
    """Empirical distribution ratio of an acidic extractant.

        log10 D = (m0 + m1 d) pH + B0 + B1 log10 d

    Parameters
    ----------
    pH : float or array [-]
    d : float or array, free extractant [vol %]
    m0 [-], m1 [1/vol %], B0 [-], B1 [-] : correlation coefficients

    Returns
    -------
    D [-] (organic over aqueous concentration)

    Reference: PrOMMiS solvent_extraction_reaction_package (D2EHPA, UKy data).

    PrOMMiS's Nd at 5 % D2EHPA and pH 2: log10 D = (0.31183 + 0.03763 * 5) * 2 - 1.62372
    - 0.38096 * log10(5) = 0.99996 - 1.62372 - 0.26628 = -0.89004, D = 0.12881:

    >>> round(float(distribution_ratio(2.0, 5.0, 0.31183, 0.03763, -1.62372, -0.38096)), 5)
    0.12881
    """
    d = np.asarray(d, dtype=float)
    return 10.0 ** ((m0 + m1 * d) * pH + B0 + B1 * np.log10(d))


def titratable_acid(h, sulfate, Ka2):
    """Titratable acid T [mol/L] of a solution of free proton h and total sulfate S.

        T = h + S h / (h + Ka2)         (HSO4- = H+ + SO4 2-, Ka2 = h [SO4] / [HSO4])

    h, sulfate, Ka2 [mol/L]. With S = 0 (chloride), T = h.

    >>> round(titratable_acid(0.01, 0.1, 10 ** -1.99), 6)   # about half the sulfate protonated
    0.059424
    """
    return h + sulfate * h / (h + Ka2)


def free_proton(T, sulfate, Ka2):
    """Free proton h [mol/L] of titratable acid T and total sulfate S, the root of
    h^2 + (Ka2 + S - T) h - T Ka2 = 0 taken without cancellation.

    T, sulfate, Ka2 [mol/L].

    >>> round(float(free_proton(titratable_acid(0.01, 0.1, 10 ** -1.99), 0.1, 10 ** -1.99)), 12)
    0.01
    >>> float(free_proton(0.2, 0.0, 0.0102))   # chloride: all acid is free
    0.2
    """
    T = np.asarray(T, dtype=float)
    b = Ka2 + sulfate - T
    root = np.sqrt(b * b + 4.0 * T * Ka2)
    with np.errstate(divide="ignore", invalid="ignore"):
        big = 2.0 * T * Ka2 / (b + root)
    return np.minimum(np.where(b > 0, big, 0.5 * (root - b)), T)  # h <= T, also after round-off


def _log_cumsum(y):
    """ln sum_{j<=k} exp(y_j) along the last axis (positive terms only)."""
    return np.logaddexp.accumulate(y, axis=-1)


def segment_green(le):
    """Log Green's functions of one aqueous run of L stages (C components).

    le : (C, L) ln e_k, e_k = D_k Q_o / Q_a,k.

    Returns (ln rho, ln sigma, ln r, ln p), each (C, L): rho_k = sum_{j<=k}
    prod_{l=j}^{k-1} e_l, sigma_k = sum_{j>=k} prod_{l=k+1}^{j} 1/e_l, and the
    shares r_j, p_j = 1 - r_j of a unit source at stage j leaving with the
    aqueous at the bottom and the organic at the top. The aqueous leaving
    stage k for that source is r_j rho_k (k <= j) or p_j sigma_k / e_k (k > j).

    >>> import numpy as np
    >>> lr, ls, lnr, lnp = segment_green(np.log(np.full((1, 5), 1.2)))
    >>> print(f"{float(np.exp(lnr[0, -1])):.13f}")   # Kremser: unextracted share (e - 1)/(e^6 - 1)
    0.1007057458670
    """
    C, L = le.shape
    s = np.zeros((C, L))
    s[:, 1:] = np.cumsum(le[:, :-1], axis=1)  # s_k = sum_{l<k} le_l
    lnrho = s + _log_cumsum(-s)
    u = np.cumsum(le, axis=1)  # u_k = sum_{l<=k} le_l
    lnsig = u + _log_cumsum((-u)[:, ::-1])[:, ::-1]
    top = le + lnrho
    den = np.logaddexp(lnsig, top)
    return lnrho, lnsig, lnsig - den, top - den


def _log_aqueous_green(le, green, j):
    """ln of the aqueous leaving stage k for a unit source at each stage of ``j`` (C, L, len(j)):
    r_j rho_k below and at the source, p_j sigma_k / e_k above it."""
    lnrho, lnsig, lnr, lnp = green
    below = np.arange(le.shape[1])[:, None] <= j[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(below[None], lnr[:, None, j] + lnrho[:, :, None], lnp[:, None, j] + (lnsig - le)[:, :, None])


def _organic_green(le, green):
    """Go[c, k, j]: organic leaving stage k for a unit source at stage j (C, L, L), e_k times the aqueous
    response formed in logarithms (an extraction factor beyond the double range times a vanishing
    aqueous flow)."""
    return np.exp(_log_aqueous_green(le, green, np.arange(le.shape[1])) + le[:, :, None])


def _run_flows(le, lsrc):
    """ln a (C, L) of one aqueous run for sources ln s (C, L) (-inf where none) and its Green's functions."""
    green = segment_green(le)
    j = np.flatnonzero(np.any(np.isfinite(lsrc), axis=0))  # the stages that receive metal (one or two)
    with np.errstate(divide="ignore", invalid="ignore"):
        lna = np.logaddexp.reduce(_log_aqueous_green(le, green, j) + lsrc[:, None, j], axis=2)
    return lna, green


class EmpiricalPhCascade:
    """The empirical_ph model of one cascade (see the module docstring).

    Parameters: a validated :class:`magcycle.sx.spec.CascadeSpec` of model empirical_ph, and
    ``load``, a factor on every metal entering (feed and loaded organic; 1 is the spec), and
    ``acid``, a factor on every acid entering: the continuation parameters of a cold start (from
    a trace of metal, or from strong acid, where little is extracted, to the specification).
    """

    def __init__(self, spec, load: float = 1.0, acid: float = 1.0):
        p = spec.params
        self.load, self.acid = load, acid
        self.spec = spec
        self.C = C = len(spec.components)
        self.n, self.m, self.k = n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
        self.N = N = n + m + k
        self.Ne = n + m
        self.M = C + 2
        self.Qo = Qo = spec.organic
        self.Qa = Qa = spec.aqueous_flows()
        self.z = p.charge.astype(float)
        self.nu = p.extractant_per_charge
        self.corr = p.correlated
        self.m0 = np.where(self.corr, p.m0, 0.0)
        self.m1 = np.where(self.corr, p.m1, 0.0)
        self.B0 = np.where(self.corr, p.B0, 0.0)
        self.B1 = np.where(self.corr, p.B1, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.lnD_const = np.where(self.corr, 0.0, np.log(np.where(self.corr, 1.0, p.D)))
        self.vol_pct_per_mol = 100.0 * p.extractant_molar_mass / p.extractant_density  # d = f * this
        self.Ka2 = p.Ka2
        y_in = load * (np.zeros(C) if spec.organic_inlet is None else np.asarray(spec.organic_inlet, float))
        self.y_in = y_in
        self.f_in = p.extractant_mol_per_L
        self.E = self.f_in + self.nu * float(np.dot(self.z, y_in))
        # metal sources (C, N) [mol/h]: the feed at stage n, the loaded organic into stage 1
        src = np.zeros((C, N))
        src[:, n - 1] += load * spec.feed_flow * spec.feed
        self.src_aqueous = src.copy()  # the full model's stage 1 takes the organic inlet as o_0
        src[:, 0] += Qo * y_in
        self.src = src
        # proton sources [mol/h] and sulfate [mol/L] per stage
        sH = np.zeros(N)
        sH[n - 1] += acid * spec.feed_flow * p.feed_acid
        sH[n + m - 1] += acid * spec.scrub * p.scrub_acid
        if k:
            sH[N - 1] += acid * spec.strip * p.strip_acid
        self.sH = sH
        S = np.empty(N)
        S[:n] = (spec.feed_flow * p.feed_sulfate + spec.scrub * p.scrub_sulfate) / (spec.feed_flow + spec.scrub)
        S[n:n + m] = p.scrub_sulfate
        S[n + m:] = p.strip_sulfate
        self.S = S
        # sum_{j>=k} s^H_j within each aqueous run (the strip run is its own)
        above = np.empty(N)
        above[:self.Ne] = np.cumsum(sH[:self.Ne][::-1])[::-1]
        if k:
            above[self.Ne:] = np.cumsum(sH[self.Ne:][::-1])[::-1]
        self.acid_above = above
        self.lQ = np.log(Qo) - np.log(Qa)
        with np.errstate(divide="ignore"):
            self.lsrc = np.log(src)
        # caps: f <= E; h <= all protons that could ever be in the aqueous of the stage
        release = float(np.sum(self.z * src.sum(axis=1)))
        h_cap = (float(sH.sum()) + release) / Qa
        self.upper = np.concatenate((np.log(h_cap), np.full(N, np.log(self.E))))

    # ------------------------------------------------------------------ D
    def log_e(self, lh, lf):
        """ln e (C, N) at ln h, ln f (N,), and d ln e / d ln h, d ln e / d ln f (C, N)."""
        pH = -lh / LN10
        d = np.exp(lf) * self.vol_pct_per_mol
        slope = self.m0[:, None] + self.m1[:, None] * d[None]
        lnD = LN10 * (slope * pH[None] + self.B0[:, None]) + self.B1[:, None] * np.log(d)[None]
        lnD = np.where(self.corr[:, None], lnD, self.lnD_const[:, None])
        dh = np.where(self.corr[:, None], -slope, 0.0)
        df = np.where(self.corr[:, None], LN10 * self.m1[:, None] * d[None] * pH[None] + self.B1[:, None], 0.0)
        return lnD + self.lQ[None], dh, df

    def acidity(self, lh):
        """T (N,) [mol/L] and dT / d ln h at ln h."""
        h = np.exp(lh)
        S, K = self.S, self.Ka2
        return h + S * h / (h + K), h + S * h * K / (h + K) ** 2

    # ------------------------------------------------------------------ flows
    def flows(self, v):
        """ln a, ln o (C, N) [ln mol/h] at v = (ln h, ln f), and what the Jacobian reuses."""
        N, Ne = self.N, self.Ne
        le, dh, df = self.log_e(v[:N], v[N:])
        lna1, g1 = _run_flows(le[:, :Ne], self.lsrc[:, :Ne])
        lno1 = lna1 + le[:, :Ne]
        if not self.k:
            return lna1, lno1, (le, dh, df, g1, None)
        lsrc2 = np.full((self.C, self.k), -np.inf)
        lsrc2[:, 0] = lno1[:, -1]
        lna2, g2 = _run_flows(le[:, Ne:], lsrc2)
        lna = np.concatenate((lna1, lna2), axis=1)
        return lna, lna + le, (le, dh, df, g1, g2)

    def _prev_organic(self, o):
        """Organic entering each stage (C, N) [mol/h]: the inlet, then the stage below's."""
        prev = np.empty_like(o)
        prev[:, 0] = self.Qo * self.y_in
        prev[:, 1:] = o[:, :-1]
        return prev

    def _top(self):
        """Index of the top stage of each stage's aqueous run (N,)."""
        top = np.full(self.N, self.Ne - 1)
        top[self.Ne:] = self.N - 1
        return top

    def residual(self, v):
        """Reduced residuals (2N,): protons (rows fall with ln h), extractant (fall with ln f).

        Proton rows ln(sum_{j>=k} s^H_j + z.o_top) - ln(Q_a,k T_k + z.o_{k-1}) (supply over
        demand, both positive); extractant rows ln E - ln(f_k + nu z.y_k): logarithmic, so that
        the exponential build-up of a trapped component far from the solution neither
        saturates a row nor dominates the step.
        """
        N = self.N
        lna, lno, ctx = self.flows(v)
        a, o = np.exp(lna), np.exp(lno)
        T, dT = self.acidity(v[:N])
        f = np.exp(v[N:])
        zo = self.z @ o  # (N,) charge loaded leaving each stage [mol/h]
        zprev = self.z @ self._prev_organic(o)
        top = self._top()
        supply = self.acid_above + zo[top]  # protons in from above, and released by loading up to the top
        demand = self.Qa * T + zprev  # protons leaving down, and the charge the organic brought in
        RP = np.log(supply) - np.log(demand)
        held = f + self.nu / self.Qo * zo  # extractant the organic holds, free and loaded [mol/L]
        RE = np.log(self.E) - np.log(held)
        return np.concatenate((RP, RE)), lna, (ctx, a, o, f, dT, supply, demand, held)

    def _flow_sensitivity(self, ctx, a, o):
        """d o_{c,k} / d ln e_{c,l} (C, N, N)."""
        le, _, _, g1, g2 = ctx
        Ne, N = self.Ne, self.N
        So = np.zeros((self.C, N, N))
        So[:, :Ne, :Ne] = _run_sensitivity(le[:, :Ne], g1, o[:, :Ne])
        if self.k:
            Go2 = _organic_green(le[:, Ne:], g2)
            S2 = _run_sensitivity(le[:, Ne:], g2, o[:, Ne:])
            # the strip's source is the organic leaving the scrub: o2 = o_Ne Go2[:, :, 0]
            So[:, Ne:, :Ne] = Go2[:, :, :1] * So[:, Ne - 1:Ne, :Ne]
            So[:, Ne:, Ne:] = S2
        return So

    def jacobian(self, state):
        """Dense d R / d v (2N, 2N) of :meth:`residual`."""
        ctx, a, o, f, dT, supply, demand, held = state
        _, dh, df = ctx[0], ctx[1], ctx[2]
        N = self.N
        So = self._flow_sensitivity(ctx, a, o)
        zS = self.z[:, None, None] * So  # (C, N, N)
        Wh = np.einsum("ckl,cl->kl", zS, dh)  # d (z.o_k) / d ln h_l
        Wf = np.einsum("ckl,cl->kl", zS, df)
        top = self._top()
        J = np.zeros((2 * N, 2 * N))
        d = np.arange(N)
        for col, W in ((0, Wh), (N, Wf)):
            prev = np.zeros_like(W)
            prev[1:] = W[:-1]
            dout = prev.copy()
            if col == 0:
                dout[d, d] += self.Qa * dT
            J[:N, col:col + N] = W[top] / supply[:, None] - dout / demand[:, None]
            J[N:, col:col + N] = -self.nu / self.Qo * W / held[:, None]
        J[N + d, N + d] -= f / held
        return J

    # ------------------------------------------------------------------ full model
    def state(self, v, lna):
        """u = (ln x_1..C, ln h, ln f) (N, C + 2) of the full model."""
        N = self.N
        return np.concatenate(((lna - np.log(self.Qa)[None]).T, v[:N, None], v[N:, None]), axis=1)

    def full_residual(self, u):
        """Scaled residual (N, C + 2) of every stage equation of the full model at u.

        Component rows (in - out) / (Q_a x + Q_o y); the proton row (in - out) / (in + out);
        the extractant row 1 - (f + nu sum z y) / E.
        """
        C, N = self.C, self.N
        lx, lh, lf = u[:, :C].T, u[:, C], u[:, C + 1]
        le, _, _ = self.log_e(lh, lf)
        lna = lx + np.log(self.Qa)[None]
        lno = lna + le
        o = np.exp(lno)
        conn = np.ones(N, dtype=bool)  # aqueous from stage k+1 enters stage k
        conn[-1] = False
        if self.k:
            conn[self.Ne - 1] = False
        o_in = self._prev_organic(o)
        # component rows (in - out) / out in logarithms: nothing underflows for a trace metal
        with np.errstate(divide="ignore"):
            l_in = np.full_like(lna, -np.inf)
            l_in[:, :-1] = np.where(conn[None, :-1], lna[:, 1:], -np.inf)
            l_prev = np.empty_like(lno)
            l_prev[:, 0] = np.log(self.Qo * self.y_in)
            l_prev[:, 1:] = lno[:, :-1]
            l_in = np.logaddexp(np.logaddexp(l_in, l_prev), np.log(self.src_aqueous))
        R = np.empty((N, C + 2))
        R[:, :C] = np.expm1(l_in - np.logaddexp(lna, lno)).T
        T, _ = self.acidity(lh)
        QT = self.Qa * T
        QT_in = np.zeros(N)
        QT_in[:-1] = np.where(conn[:-1], QT[1:], 0.0)
        rel = self.z @ o - self.z @ o_in
        inflow = QT_in + self.sH + np.maximum(rel, 0.0)
        outflow = QT + np.maximum(-rel, 0.0)
        R[:, C] = (inflow - outflow) / (inflow + outflow)
        R[:, C + 1] = 1.0 - (np.exp(lf) + self.nu / self.Qo * (self.z @ o)) / self.E
        return R

    def initial(self):
        """v at the start: nothing extracted, each stage's acid that of its inflows, f = f_in."""
        T0 = self.acid_above / self.Qa
        h = free_proton(T0, self.S, self.Ka2)
        return np.concatenate((np.log(h), np.full(self.N, np.log(self.f_in))))


def _run_sensitivity(le, green, o):
    """d o_{c,k} / d ln e_{c,l} (C, L, L) of one aqueous run with organic flows o (C, L).

    d a / d ln e_l = -o_l (G[:, l] - G[:, l+1]) (G[:, L+1] = 0), and o_k = e_k a_k, so
    d o_k / d ln e_l = delta_kl o_k - o_l (Go[k, l] - Go[k, l+1]) with Go = e G the organic response.
    """
    Go = _organic_green(le, green)
    D = Go.copy()
    D[:, :, :-1] -= Go[:, :, 1:]
    So = -D * o[:, None, :]
    idx = np.arange(le.shape[1])
    So[:, idx, idx] += o
    return So
