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

    Summing the balances from either end gives subtraction-free
    recursions (derived here; plain Thomas elimination of the same tridiagonal
    system loses all accuracy on trace fractions when e is far from 1, and
    these recursions stayed within 7.5e-16 of a 60-digit solve for per-stage
    e in [0.01, 20] and N < 80), rho_{j+1} = 1 + e_j rho_j
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
    # a scalar count stays a Python float (the same double as a 0-d array, cheaper to use)
    k = float(count) if isinstance(count, (int, float, np.integer)) else np.asarray(count, dtype=float)
    # |L| below 1e-300 changes nothing in double precision (the ratio is k to
    # the last bit), and keeping it away from 0 avoids 0/0 without errstate
    neg = np.minimum(-np.abs(L), -1e-300)
    ratio = np.expm1(k * neg) / np.expm1(neg)
    return np.log(ratio) + np.maximum(L, 0.0) * (k - 1.0)


#: smallest normal and largest finite double: outside [_TINY, _HUGE] a product has lost digits
_TINY = float(np.finfo(float).tiny)
_HUGE = float(np.finfo(float).max)
#: |ln(P/R)| beyond which the smaller share 1 / (1 + e^|t|) is below 1e-304: it is then formed
#: as F e^-|t| in logarithms (1 + e^-|t| rounds to 1), never as a subnormal number times F
_TAIL = 700.0
#: ``span`` of :func:`solve_arrays` above which its stage flows may leave the double range
#: (the largest is about F e^span, F <= 1e11 mol/h); below it they cannot
WIDE_SPAN = 600.0


def _expit(t):
    """1 / (1 + exp(-t)), overflow-free (exp capped at e^709; :func:`_shares` replaces the
    capped values)."""
    return 1.0 / (1.0 + np.exp(np.minimum(-t, 709.0)))


def _shares(F, d, wide: bool):
    """Raffinate and extract flows (R, P) = (F / (1 + e^d), F / (1 + e^-d)) [mol/h] for
    d = ln(P / R); exact to round-off for any d (where |d| > _TAIL the smaller one is
    e^(ln F - |d|), which underflows to 0 where the exact value is below the double range).
    ``wide`` False says |d| <= _TAIL everywhere."""
    R = F * _expit(-d)
    P = F * _expit(d)
    if wide and np.abs(d).max() > _TAIL:
        with np.errstate(divide="ignore"):
            smaller = np.exp(np.log(F) - np.abs(d))
        R = np.where(d > _TAIL, smaller, R)
        P = np.where(d < -_TAIL, smaller, P)
    return R, P


def _exact(values, logs, suspect):
    """``values`` where they are normal finite numbers computed from normal operands
    (``suspect`` False there), e^logs elsewhere: a product of an underflowed share and an
    overflowing geometric sum (0 x inf) or of a subnormal operand is formed in logarithms.
    Returns (values, where they were redone). e^logs is inf only where the exact value is
    beyond the double range."""
    redo = suspect | ~((values >= _TINY) & (values <= _HUGE))  # NaN too
    if redo.any():
        with np.errstate(over="ignore"):
            values = np.where(redo, np.exp(logs), values)
    return values, redo


def _section(base, log_base, log_sums, e, log_e, organic_first: bool):
    """Stage flows (..., j, C) of one section: ``base`` e^log_sums in the phase the recursion
    runs in, and that flow times (``organic_first`` False) or divided by (True) the extraction
    factor e (..., C), ln e = ``log_e``, in the other; returns (aqueous, organic)."""
    suspect = base[..., None, :] < _TINY
    with np.errstate(over="ignore", invalid="ignore"):
        first = base[..., None, :] * np.exp(log_sums)
    log_first = log_base[..., None, :] + log_sums
    first, redo = _exact(first, log_first, suspect)
    e = e[..., None, :]
    with np.errstate(over="ignore", invalid="ignore"):
        other = first / e if organic_first else first * e
    other, _ = _exact(other, log_first + (-log_e if organic_first else log_e)[..., None, :], redo)
    return (other, first) if organic_first else (first, other)


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
        of shape (..., N, C) [mol/h] leaving each stage. Every number is the
        exact value to round-off, or 0 where that is below the double range;
        a stage flow above it (internal flows of e^n times the feed, in a
        cascade that traps a component between its sections) is inf.
        ``span`` (float) is the largest of |ln Phi_E| and ln Phi_S: the
        largest stage flow is about F e^min(ln Phi_E, ln Phi_S), so where
        span <= WIDE_SPAN every stage flow is finite.
    """
    F = np.asarray(feed_mol_per_h, dtype=float)
    LE = np.log(eE)
    LS = np.log(eS)
    log_phi_E = LE + log_geometric_sum(LE, n)
    log_phi_S = log_geometric_sum(-LS, m + 1)
    d = log_phi_E - log_phi_S  # ln(P / R)
    # log_phi_S >= 0, so |d| <= max(|log_phi_E|, log_phi_S) = span
    span = float(np.maximum(np.abs(log_phi_E), log_phi_S).max())
    R, P = _shares(F, d, span > _TAIL)
    out = {"raffinate": R, "span": span}
    LT = log_sigma_top = T = None
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
        out.update(_profiles(F, d, (eE, eS, eT), (LE, LS, LT), (n, m, k), (R, P, T), log_sigma_top))
    return out


def _profiles(F, d, factors, logs, stages, outlets, log_sigma_top) -> dict:
    """``aqueous_flow`` and ``organic_flow`` (..., N, C) of :func:`solve_arrays`.

    Below the feed a_j = R rho_j, above it o_j = P sigma_j (and T sigma'_j in
    the strip), with ln rho_j and ln sigma_j geometric sums: each product is
    formed as it stands where its operands and result are normal numbers,
    and in logarithms (ln R = ln F - ln(1 + e^d), ...) where R or P has
    underflowed or the sum overflows.
    """
    (eE, eS, eT), (LE, LS, LT), (n, m, k), (R, P, T) = factors, logs, stages, outlets
    with np.errstate(divide="ignore"):
        lF = np.log(F)
    log_R = lF - np.logaddexp(0.0, d)
    log_P = lF - np.logaddexp(0.0, -d)
    jE = np.arange(1, n + 1, dtype=float)[:, None]
    aq_E, org_E = _section(R, log_R, log_geometric_sum(LE[..., None, :], jE), eE, LE, False)
    jS = np.arange(m, 0, -1, dtype=float)[:, None]  # terms for stages n+1..n+m
    aq_S, org_S = _section(P, log_P, log_geometric_sum(-LS[..., None, :], jS), eS, LS, True)
    parts_aq, parts_org = [aq_E, aq_S], [org_E, org_S]
    if k > 0:
        jT = np.arange(k, 0, -1, dtype=float)[:, None]
        aq_T, org_T = _section(T, log_P - log_sigma_top, log_geometric_sum(-LT[..., None, :], jT), eT, LT,
                                True)
        parts_aq.append(aq_T)
        parts_org.append(org_T)
    return {"aqueous_flow": np.concatenate(parts_aq, axis=-2),
            "organic_flow": np.concatenate(parts_org, axis=-2)}
