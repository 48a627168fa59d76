"""Linear cascades with stage efficiency, a loaded organic inlet and entrainment (constant_d).

Configuration
    One aqueous run of stages 1..L (the organic enters stage 1, leaves stage L; the aqueous flows
    down): extraction factors e_k = D_k Q_o / Q_a,k per stage and component, Murphree stage
    efficiencies E_k in (0, 1] on the organic phase, aqueous sources s_k (the feed), and metal
    on the entering organic g. A cascade is one run (extraction + scrub) followed by the strip
    run, whose entering organic is what leaves the scrub.

Degrees of freedom
    None beyond the specification.

Equations (per component; a_k aqueous, o_k organic leaving stage k [mol/h])
    Balance       a_{k+1} + o_{k-1} + s_k = a_k + o_k,          o_0 = g, a_{L+1} = 0
    Murphree      o_k = (1 - E_k) o_{k-1} + E_k e_k a_k          (E = 1: equilibrium)

Solution (subtraction-free; every term positive, in logarithms)
    From the bottom, for a unit source at stage j: a_1 = r, rho_1 = 1, pi_0 = 0,
        pi_k = (1 - E_k) pi_{k-1} + E_k e_k rho_k,   rho_{k+1} = pi_k + 1,
    a_k = r rho_k (k <= j), o_k = r pi_k (k < j). From the top: sigma_L = 1, tau_L = 0,
        sigma_{k-1} = (sigma_k + E_k e_k) / (1 - E_k + E_k e_k),
        tau_{k-1}   = (tau_k + E_k) / (1 - E_k + E_k e_k),
    o_k = p sigma_k (k >= j), a_k = p tau_{k-1} (k > j), and r + p = 1 with p / r = pi_j / sigma_j.
    A unit of metal on the entering organic: o_k = sigma_k / sigma_0, a_k = tau_{k-1} / sigma_0.
    With E = 1 these are Kremser's recursions (rho_{k+1} = 1 + e_k rho_k, sigma_{k-1} = 1 +
    sigma_k / e_k).

Entrainment
    A volume fraction phi of aqueous in the organic leaving each stage (phi' = phi / (1 - phi)
    L of aqueous per L of organic) is carried up one stage, where it joins that stage's aqueous.
    With E = 1 the upward stream is o_k + phi' Q_o x_k = (D_k + phi') Q_o x_k: an extraction
    factor e_k = (D_k + phi') Q_o / Q_down,k, with the aqueous downflow Q_down = Q_a of its
    section, less phi' Q_o on the raffinate stage (the entrained aqueous leaves with the
    extract). With E < 1 the entrained aqueous and the organic reach the next stage at
    different compositions and the recursions above do not hold; that combination is refused.

Reference
    Murphree, Ind. Eng. Chem. 17 (1925) 747 (stage efficiency); Kremser, Natl. Petrol. News 22
    (1930) 42.
"""

from __future__ import annotations

import numpy as np

__all__ = ["run_recursions", "run_flows", "solve_linear_cascade"]


def run_recursions(le, lE, l1E, top=None):
    """ln rho (C, L+1), ln pi (C, L+1), ln sigma (C, L+1), ln tau (C, L+1) of one run.

    le : (C, L) ln e_k; lE, l1E : (L,) ln E_k and ln(1 - E_k) (-inf where E = 1).
    Index k holds stage k (1..L); index 0 holds pi_0 = 0 and sigma_0, tau_0.
    ``top``: (ln sigma_L, ln tau_L) (C,) each, where a reflux returns the fraction q of the
    stream leaving stage L up into its aqueous inlet: per unit of the net product p,
    sigma_L = 1 / (1 - q), tau_L = q / (1 - q) (default: no reflux, sigma_L = 1, tau_L = 0).

    >>> import numpy as np
    >>> le = np.log(np.full((1, 5), 1.2))
    >>> lr, lp, ls, lt = run_recursions(le, np.zeros(5), np.full(5, -np.inf))
    >>> print(f"{float(np.exp(ls[0, 5] - np.logaddexp(ls[0, 5], lp[0, 5]))):.13f}")  # Kremser, source at 5
    0.1007057458670
    """
    C, L = le.shape
    lrho = np.full((C, L + 2), -np.inf)
    lpi = np.full((C, L + 1), -np.inf)
    lrho[:, 1] = 0.0
    for k in range(1, L + 1):
        lpi[:, k] = np.logaddexp(l1E[k - 1] + lpi[:, k - 1], lE[k - 1] + le[:, k - 1] + lrho[:, k])
        lrho[:, k + 1] = np.logaddexp(lpi[:, k], 0.0)
    lsig = np.full((C, L + 1), -np.inf)
    ltau = np.full((C, L + 1), -np.inf)
    if top is None:
        lsig[:, L] = 0.0
    else:
        lsig[:, L], ltau[:, L] = top
    for k in range(L, 0, -1):
        den = np.logaddexp(l1E[k - 1], lE[k - 1] + le[:, k - 1])
        lsig[:, k - 1] = np.logaddexp(lsig[:, k], lE[k - 1] + le[:, k - 1]) - den
        ltau[:, k - 1] = np.logaddexp(ltau[:, k], lE[k - 1]) - den
    return lrho[:, :L + 1], lpi, lsig, ltau


def run_flows(le, E, sources: dict, l_inlet, top=None):
    """ln a, ln o (C, L) [ln mol/h] of one run.

    le : (C, L) ln e; E : (L,) Murphree efficiencies; sources : {stage j (1-based): (C,) mol/h};
    l_inlet : (C,) ln of the metal on the entering organic [ln mol/h] (-inf: barren); ``top``:
    the reflux boundary of :func:`run_recursions`.
    """
    C, L = le.shape
    E = np.asarray(E, float)
    with np.errstate(divide="ignore"):
        lE, l1E = np.log(E), np.log1p(-E)
    lrho, lpi, lsig, ltau = run_recursions(le, lE, l1E, top)
    k = np.arange(1, L + 1)
    lna = np.full((C, L), -np.inf)
    lno = np.full((C, L), -np.inf)
    with np.errstate(divide="ignore"):
        for j, s in sources.items():
            ls = np.log(np.asarray(s, float))
            den = np.logaddexp(lsig[:, j], lpi[:, j])
            lr, lp = lsig[:, j] - den, lpi[:, j] - den
            a = np.where(k[None] <= j, lr[:, None] + lrho[:, 1:], lp[:, None] + ltau[:, :-1])
            o = np.where(k[None] < j, lr[:, None] + lpi[:, 1:], lp[:, None] + lsig[:, 1:])
            lna = np.logaddexp(lna, ls[:, None] + a)
            lno = np.logaddexp(lno, ls[:, None] + o)
        g = l_inlet - lsig[:, 0]
        lna = np.logaddexp(lna, g[:, None] + ltau[:, :-1])
        lno = np.logaddexp(lno, g[:, None] + lsig[:, 1:])
    return lna, lno


def solve_linear_cascade(le, E, n: int, m: int, k: int, feed, inlet):
    """Outlet and stage flows [mol/h] of a constant-D cascade with efficiencies and a loaded organic.

    le : (C, N) ln e per stage; E : (N,) Murphree efficiencies; feed, inlet : (C,) [mol/h] of the
    feed (into stage n) and of the metal on the entering organic. Returns (a, o) (C, N): the aqueous
    leaving each stage down, the organic (with any entrained aqueous) leaving it up.
    """
    Ne = n + m
    with np.errstate(divide="ignore"):
        l_in = np.log(np.asarray(inlet, float))
    lna1, lno1 = run_flows(le[:, :Ne], E[:Ne], {n: feed}, l_in)
    if not k:
        return np.exp(lna1), np.exp(lno1)
    lna2, lno2 = run_flows(le[:, Ne:], E[Ne:], {}, lno1[:, -1])
    return np.exp(np.concatenate((lna1, lna2), axis=1)), np.exp(np.concatenate((lno1, lno2), axis=1))
