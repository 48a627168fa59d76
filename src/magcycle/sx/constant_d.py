"""Constant distribution ratio: exact closed-form cascade solution.

Configuration
    Extraction stages 1..n (aqueous flow Q_feed + Q_scrub), scrub stages
    n+1..n+m (aqueous Q_scrub), optional strip stages n+m+1..N (aqueous
    Q_strip). Barren organic enters stage 1, the feed enters stage n, barren
    scrub stage n+m, barren strip stage N.

Degrees of freedom
    None beyond the specification: the model is linear, and every component
    is independent of the others.

Equations
    Stage balance of a component (a = aqueous, o = organic flow leaving the
    stage [mol/h]; o_j = e_j a_j with the extraction factor
    e_j = D_section Q_org / Q_aq,j):

        a_{j+1} + o_{j-1} + F delta_{j,n} - a_j - o_j = 0

    Summing the balances from either end gives the subtraction-free
    recursions of ``shared/design/sx-numerics.md`` §2a, rho_{j+1} = 1 + e_j rho_j
    (a_j = R rho_j below the feed) and sigma_{j-1} = 1 + sigma_j / e_j
    (o_j = P sigma_j above it). With one e per section their solutions are
    geometric sums of positive terms,

        rho_j   = sum_{i=0}^{j-1} e_E^i,      sigma_j = sum_{i=0}^{n+m-j} e_S^-i,

    and P/R = e_E rho_n / sigma_n, which is the exact two-section formula
    theta_extract = Phi_E / (Phi_E + Phi_S), Phi_E = sum_{j=1..n} e_E^j,
    Phi_S = sum_{j=0..m} e_S^-j. Each geometric sum is evaluated in
    logarithms through ``expm1`` (:func:`log_geometric_sum`), so nothing is
    subtracted, nothing overflows, and trace fractions far below 1e-16 keep
    full relative precision. A plain Thomas solve of the same tridiagonal
    system loses them when e is far from 1.

    The strip section is a single section fed by the loaded organic: the
    fraction of it left on the stripped organic is 1 / sum_{i=0}^{k} e_T^-i.

References
    Kremser, Natl. Petroleum News 22 (1930) 42; Xu Guangxian's
    countercurrent theory (Liao et al., J. Chin. Rare Earth Soc. 2017,
    doi 10.11785/S1000-4343.20170101).
"""

from __future__ import annotations

import numpy as np

__all__ = ["log_geometric_sum", "solve_arrays"]


def log_geometric_sum(log_ratio, count):
    """Logarithm of a geometric sum, without cancellation or overflow.

    .. math:: \\ln \\sum_{i=0}^{k-1} r^i, \\quad r = e^{L}

    evaluated as ``ln(expm1(kL)/expm1(L))`` for L < 0, as
    ``(k-1)L + ln(expm1(-kL)/expm1(-L))`` for L > 0 and ``ln k`` at L = 0.

    Parameters
    ----------
    log_ratio : array_like
        L = ln r [-].
    count : array_like of int
        Number of terms k >= 1 [-].

    Returns
    -------
    ndarray
        ln of the sum [-], broadcast over the inputs.

    Examples
    --------
    >>> import math
    >>> round(math.exp(log_geometric_sum(math.log(2.0), 4)), 12)  # 1+2+4+8
    15.0
    >>> float(log_geometric_sum(0.0, 5)) == math.log(5)
    True
    """
    L = np.asarray(log_ratio, dtype=float)
    k = np.asarray(count, dtype=float)
    # |L| below 1e-300 changes nothing in double precision (the ratio is k to
    # the last bit), and keeping it away from 0 avoids 0/0 without errstate
    neg = np.minimum(-np.abs(L), -1e-300)
    ratio = np.expm1(k * neg) / np.expm1(neg)
    return np.log(ratio) + np.maximum(L, 0.0) * (k - 1.0)


def _expit(t):
    """1 / (1 + exp(-t)), overflow-free (exp capped at e^709; below that the
    result underflows anyway)."""
    return 1.0 / (1.0 + np.exp(np.minimum(-t, 709.0)))


def solve_arrays(eE, eS, eT, n: int, m: int, k: int, feed_mol_per_h, *, profiles: bool = True):
    """Solve a constant-D cascade for arrays of extraction factors.

    Parameters
    ----------
    eE, eS : ndarray, shape (..., C)
        Extraction factors D Q_org / Q_aq in the extraction and scrub sections [-].
    eT : ndarray, shape (..., C) or None
        Extraction factors in the strip section [-] (None when k = 0).
    n, m, k : int
        Extraction, scrub and strip stage counts.
    feed_mol_per_h : ndarray, shape (..., C)
        Component feed flows F [mol/h].
    profiles : bool
        Also return stage flows (N, C) of each phase.

    Returns
    -------
    dict
        ``raffinate``, ``extract`` and (k > 0) ``stripped_organic`` outlet
        flows [mol/h], and, when asked, ``aqueous_flow`` and ``organic_flow``
        of shape (..., N, C) [mol/h] leaving each stage.
    """
    F = np.asarray(feed_mol_per_h, dtype=float)
    LE = np.log(eE)
    LS = np.log(eS)
    log_phi_E = LE + log_geometric_sum(LE, n)
    log_phi_S = log_geometric_sum(-LS, m + 1)
    theta_P = _expit(log_phi_E - log_phi_S)
    theta_R = _expit(log_phi_S - log_phi_E)
    R = F * theta_R
    P = F * theta_P
    out = {"raffinate": R}
    if k > 0:
        LT = np.log(eT)
        log_sigma_top = log_geometric_sum(-LT, k + 1)
        log_strip_share = -LT + log_geometric_sum(-LT, k) - log_sigma_top
        out["extract"] = P * np.exp(log_strip_share)
        T = P * np.exp(-log_sigma_top)
        out["stripped_organic"] = T
    else:
        out["extract"] = P
    if profiles:
        jE = np.arange(1, n + 1, dtype=float)[:, None]
        aq_E = R[..., None, :] * np.exp(log_geometric_sum(LE[..., None, :], jE))
        org_E = aq_E * eE[..., None, :]
        jS = np.arange(m, 0, -1, dtype=float)[:, None]  # terms for stages n+1..n+m
        org_S = P[..., None, :] * np.exp(log_geometric_sum(-LS[..., None, :], jS))
        aq_S = org_S / eS[..., None, :]
        parts_aq, parts_org = [aq_E, aq_S], [org_E, org_S]
        if k > 0:
            jT = np.arange(k, 0, -1, dtype=float)[:, None]
            org_T = T[..., None, :] * np.exp(log_geometric_sum(-LT[..., None, :], jT))
            parts_aq.append(org_T / eT[..., None, :])
            parts_org.append(org_T)
        out["aqueous_flow"] = np.concatenate(parts_aq, axis=-2)
        out["organic_flow"] = np.concatenate(parts_org, axis=-2)
    return out
