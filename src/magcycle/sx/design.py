"""Short-cut design formulas for counter-current solvent-extraction cascades.

Plain functions over floats (numpy arrays broadcast where that is natural)
for the classical estimates that bracket an exact cascade solve
(:func:`magcycle.sx.solve`):

==================================  =========================================
:func:`kremser_unextracted_fraction` one section, barren organic (Kremser)
:func:`two_section_extract_fraction` extraction + scrub, constant factors
:func:`fenske_min_stages`            minimum stages at total reflux (Fenske)
:func:`product_split`                share of the feed reporting to the extract
:func:`minimum_extractant`           minimum organic and scrub (Underwood)
:func:`xu_optimum_ratios`            Xu's optimum mixed extraction ratios
:func:`xu_stage_estimates`           Xu's stage-number estimates
==================================  =========================================

Conventions (those of the cascade document, ``magcycle schema cascade`` and
:mod:`magcycle.sx.schema`): stages 1..n extract, n+1..n+m scrub; the organic enters stage 1, the aqueous
feed enters stage n. In the binary formulas A is the more extractable
component (Nd over Pr, Dy over Tb with P507), recovered to the extract
(loaded organic product); B is recovered to the raffinate. beta = D_A/D_B.
Flows S (rare earth carried by the loaded organic), W (scrub reflux) and the
product split f'_A are per mol of feed rare earth [mol/mol], so that with
feed 1 L/h, ``organic_loading = 1`` and ``scrub_acid = 3`` the organic flow in
L/h equals S and the scrub flow in L/h equals W (constant_beta model).

Xu's stage numbers: which form of the scrub formula
    Xu's aqueous-feed stage formulas are quoted in two forms, neither read
    in a primary source ([C] form, checked numerically [D]). One writes
    ``n = lg b / lg(beta E_M)`` and ``m + 1 = lg a / lg(beta / E'_M)``; its
    worked example (beta 1.5, f_Nd 0.75, P_Nd 0.995, P_Pr 0.99, S = 4.0940,
    W = 3.3428: n = 16.43, m = 19.69) is reproduced only with the ``m + 1``
    form. The other writes ``m ~ lg a / lg(beta / E'_M)`` and quotes
    n = 19.2, m = 28.6, total 47.8 for beta = 1.5, f_Nd 0.75, 99.5 % both
    ways, S = 3.30, W = 2.547475; that "m" is lg a / lg(beta / E'_M) itself,
    i.e. m + 1 in the form used here (m = 27.6), and its total 47.8 is
    n + m + 1. :func:`xu_stage_estimates` implements the ``m + 1`` form (the
    feed stage is counted in the extraction section, as in the engine).
    Against exact minimum totals found with the engine (48 for Nd/Pr, 25 for
    Dy/Tb, at the flows of the [D] regression cases: beta 1.5, f_Nd 0.75,
    S = 3.30, W = 2.547475 and beta 2.0, f_Dy 0.85, S = 2.22, W = 1.366465,
    99.5 % both ways) the ``m + 1`` form gives 46.8 and 27.3, the
    ``m`` form 47.8 and 28.3: both are estimates good to two or three stages
    there, and neither predicts the split between sections well (exact optima
    23/25, 24/24, 25/23 and 14/11 against estimates 19.2/27.6 and 11.2/16.1).

Range of validity of Xu's estimates [D]
    Measured against the exact minimum total stages of :func:`magcycle.sx.
    optimise.minimum_stages` (constant beta, an aqueous feed of A and B, the
    same purity P for both products, S = 1.2 S_min and W = S - the product
    split), over beta 1.2-3.0, f_A 0.25/0.5/0.75 and P 0.99/0.995/0.999 (45
    cases), the ``m + 1`` total n + m + 1 is within about 1.5 stages only when
    A dominates the feed (f_A = 0.75: -4.0 to +1.1 stages); it undershoots
    for a balanced feed (f_A = 0.5: 5 to 13 stages short at beta <= 1.5, e.g.
    54.0 against 60 at beta 1.4, P 0.995; 1.5 to 3.8 short at beta 2-3) and
    for a B-rich feed (f_A = 0.25: 3 to 8 short at beta <= 1.5). The shortfall
    grows as beta falls and as the purity rises (13.1 stages, 9 %, at beta 1.2,
    f_A 0.5, P 0.999). Use Xu to start a design, never to size one: the stage
    counts come from the exact solve (``magcycle sx design``).

References
    Kremser, Natl. Petroleum News 22 (1930) 42.
    Fenske, Ind. Eng. Chem. 24 (1932) 482.
    Underwood, Chem. Eng. Prog. 44 (1948) 603.
    Xu Guangxian's countercurrent extraction theory (1970s); Cheng, Wu,
    Liao, Yan et al., Adv. Mater. Phys. Chem. 4 (2014) 275; Liao et al.,
    J. Chin. Rare Earth Soc. 2017, doi 10.11785/S1000-4343.20170101.
    Derived [D], not read in a source: the two-section extract fraction and
    the Underwood minimum flows of this cascade (both checked against
    brute-force solves of the stage balances), the switch point of Xu's
    optimum, and the check values quoted in the examples.
"""

from __future__ import annotations

import math

import numpy as np

from magcycle.errors import InputError
from magcycle.sx.constant_d import log_geometric_sum

__all__ = [
    "kremser_unextracted_fraction",
    "two_section_extract_fraction",
    "fenske_min_stages",
    "product_split",
    "minimum_extractant",
    "underwood_minimum",
    "xu_optimum_ratios",
    "xu_stage_estimates",
]


# --------------------------------------------------------------- validation
def _real(value, name: str) -> np.ndarray:
    """``value`` as a finite float array, or InputError(name, ...)."""
    if type(value) in (float, int, np.float64) and math.isfinite(value):
        return np.float64(value)  # the scalar fast path (a 0-d numpy value)
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(name, f"not a number: {value!r}") from None
    if not np.all(np.isfinite(arr)):
        raise InputError(name, f"must be finite, got {value!r}")
    return arr


def _require(ok, name: str, reason: str) -> None:
    if ok is True or ok is np.True_:
        return
    if not np.all(ok):
        raise InputError(name, reason)


def _count(value, name: str, minimum: int) -> np.ndarray:
    arr = _real(value, name)
    _require(arr == np.round(arr), name, f"must be a whole number of stages, got {value!r}")
    _require(arr >= minimum, name, f"must be >= {minimum}, got {value!r}")
    return arr


def _beta(value) -> np.ndarray:
    beta = _real(value, "beta")
    _require(beta > 1.0, "beta", f"must be > 1 for a separation, got {value!r}")
    return beta


def _fraction(value, name: str) -> np.ndarray:
    f = _real(value, name)
    _require((f > 0.0) & (f < 1.0), name, f"must lie strictly between 0 and 1, got {value!r}")
    return f


def _purity(value, name: str, feed_fraction, *, allow_one: bool) -> np.ndarray:
    p = _real(value, name)
    top = p <= 1.0 if allow_one else p < 1.0
    bound = "<= 1" if allow_one else "< 1"
    _require(top, name, f"must be {bound}, got {value!r}")
    _require(
        p > feed_fraction,
        name,
        f"{value!r} is not achievable: a product purity must exceed the "
        f"component's fraction in the feed ({_show(feed_fraction)})",
    )
    return p


def _show(x) -> str:
    x = np.asarray(x)
    return f"{float(x):.6g}" if x.ndim == 0 else "per element"


def _out(x):
    """Python float for 0-d results, the array otherwise."""
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


def _separation_targets(beta, feed_fraction_A, purity_A, purity_B, *, allow_one):
    beta = _beta(beta)
    f_A = _fraction(feed_fraction_A, "feed_fraction_A")
    f_B = 1.0 - f_A
    P_A = _purity(purity_A, "purity_A", f_A, allow_one=allow_one)
    P_B = _purity(purity_B, "purity_B", f_B, allow_one=allow_one)
    return beta, f_A, f_B, P_A, P_B


def _log_enrichment(f_A, f_B, P_A, P_B):
    """ln a and ln b of Fenske/Xu, computed without 1 - P cancellation."""
    ln_a = np.log(P_A) - np.log1p(-P_A) - np.log(f_A) + np.log(f_B)
    ln_b = np.log(P_B) - np.log1p(-P_B) - np.log(f_B) + np.log(f_A)
    return ln_a, ln_b


# ------------------------------------------------------------------ Kremser
def kremser_unextracted_fraction(e, n):
    """Fraction of a solute left in the raffinate of a single counter-current section.

    Kremser equation for n equilibrium stages fed with barren organic at a
    constant extraction factor e = D Q_org / Q_aq:

    .. math:: \\varphi = \\frac{e - 1}{e^{n+1} - 1}
              = \\Big(\\sum_{i=0}^{n} e^i\\Big)^{-1},
              \\qquad \\varphi = \\frac{1}{n+1} \\text{ at } e = 1.

    Evaluated with L = ln e as ``expm1(L)/expm1((n+1)L)`` for e < 1 and
    ``exp(-nL) expm1(-L)/expm1(-(n+1)L)`` for e > 1: no subtraction of
    nearly equal numbers near e = 1, no overflow for large e^(n+1).

    Parameters
    ----------
    e : float or array_like
        Extraction factor D Q_org / Q_aq [-], >= 0.
    n : int or array_like of int
        Number of counter-current stages [-], >= 0.

    Returns
    -------
    float or ndarray
        Unextracted (raffinate) fraction of the solute fed [-].

    Raises
    ------
    InputError
        ``e`` negative or not finite; ``n`` negative or not a whole number.

    References
    ----------
    Kremser, Natl. Petroleum News 22 (1930) 42. Check values [D], each
    computed by two independent methods: e = 1.2, n = 5 gives
    0.1007057458670362; e = 1, n = 5 gives 1/6.

    Examples
    --------
    >>> round(kremser_unextracted_fraction(1.2, 5), 16)   # 0.2 / (1.2^6 - 1) = 0.2 / 1.985984
    0.1007057458670362
    >>> kremser_unextracted_fraction(1.0, 5) == 1 / 6  # 1 / (n + 1)
    True
    >>> kremser_unextracted_fraction([0.5, 2.0], 1)  # 1/(1+e)
    array([0.66666667, 0.33333333])
    """
    e = _real(e, "e")
    _require(e >= 0.0, "e", "extraction factor must be >= 0")
    n = _count(n, "n", 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        L = np.log(e)
        below = np.expm1(L) / np.expm1((n + 1.0) * L)
        above = np.exp(-n * L) * np.expm1(-L) / np.expm1(-(n + 1.0) * L)
    # e = 0 (L = -inf) needs no guard: expm1(-inf) = -1 gives 1; n = 0 gives 1 (no stage)
    result = np.where(L > 0.0, above, np.where(L < 0.0, below, 1.0 / (n + 1.0)))
    result = np.where(n == 0, 1.0, result)
    return _out(result)


# -------------------------------------------------------------- two section
def _log_phi(log_ratio, count, lead):
    """ln( lead-shifted geometric sum ) = lead*L + ln sum_{i<count} exp(i L)."""
    return lead * log_ratio + log_geometric_sum(log_ratio, count)


def _direct_phi(log_ratio, count, scale):
    """scale * sum_{i<count} exp(i L) in plain floats via expm1 (inf/NaN on overflow)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ratio = np.expm1(count * log_ratio) / np.expm1(log_ratio)
        ratio = np.where(log_ratio == 0.0, count, ratio)
        return scale * ratio


def two_section_extract_fraction(e_extraction, e_scrub, n, m):
    """Fraction of a component leaving in the loaded organic of an extraction + scrub cascade.

    Linear (constant distribution ratio) cascade, barren organic into stage 1,
    feed into stage n, barren scrub into stage n + m, a constant extraction
    factor per section (derived [D] from the subtraction-free stage
    recursions of the constant-D solve, rho_1 = 1, rho_(k+1) = 1 + e_k rho_k
    below the feed, sigma_N = 1, sigma_(k-1) = 1 + sigma_k / e_k above it,
    P/R = e_f rho_f / sigma_f, and checked against brute-force solves):

    .. math:: \\theta = \\frac{\\Phi_E}{\\Phi_E + \\Phi_S}, \\quad
              \\Phi_E = \\sum_{j=1}^{n} e^j, \\quad
              \\Phi_S = \\sum_{j=0}^{m} e'^{-j},

    with e = D Q_org / (Q_scrub + Q_feed) and e' = D_scrub Q_org / Q_scrub.
    The raffinate fraction is 1 - theta. With m = 0 it reduces to Kremser:
    1 - theta = 1 / sum_{j=0}^{n} e^j.

    The sums are formed in plain floats (expm1 closed forms) where they do
    not overflow and in logarithms (``log_geometric_sum``) otherwise.

    Parameters
    ----------
    e_extraction : float or array_like
        Extraction factor e in the extraction section [-], > 0.
    e_scrub : float or array_like
        Extraction factor e' in the scrub section [-], > 0.
    n : int or array_like of int
        Extraction stages, including the feed stage [-], >= 1.
    m : int or array_like of int
        Scrub stages [-], >= 0.

    Returns
    -------
    float or ndarray
        theta, the share of the component's feed reporting to the extract [-].

    Raises
    ------
    InputError
        Non-positive or non-finite factors; stage counts out of range.

    References
    ----------
    Kremser (1930); Xu Guangxian's countercurrent theory (Liao et al.,
    J. Chin. Rare Earth Soc. 2017, doi 10.11785/S1000-4343.20170101). The
    closed form is derived [D]; check value: e = 0.5, e' = 2, n = m = 1
    gives theta = 0.25 exactly.

    Examples
    --------
    >>> two_section_extract_fraction(0.5, 2.0, 1, 1)  # 0.5 / (0.5 + 1 + 0.5)
    0.25
    >>> round(1 - two_section_extract_fraction(1.2, 7.0, 5, 0), 15)  # Kremser
    0.100705745867036
    """
    e = _real(e_extraction, "e_extraction")
    _require(e > 0.0, "e_extraction", "extraction factor must be > 0")
    es = _real(e_scrub, "e_scrub")
    _require(es > 0.0, "e_scrub", "extraction factor must be > 0")
    n = _count(n, "n", 1)
    m = _count(m, "m", 0)
    LE, LS = np.log(e), -np.log(es)
    phi_E, phi_S = _direct_phi(LE, n, e), _direct_phi(LS, m + 1.0, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        total = phi_E + phi_S
        direct = phi_E / total
    tiny = np.finfo(float).tiny  # keep subnormal sums out of the direct branch
    ok = np.isfinite(total) & (phi_E >= tiny) & (phi_S >= tiny)
    log_ratio = _log_phi(LS, m + 1.0, 0.0) - _log_phi(LE, n, 1.0)  # ln(phi_S / phi_E)
    with np.errstate(over="ignore"):
        via_logs = 1.0 / (1.0 + np.exp(log_ratio))
    return _out(np.where(ok, direct, via_logs))


# ------------------------------------------------------------------- Fenske
def fenske_min_stages(beta, feed_fraction_A, purity_A, purity_B):
    """Minimum number of equilibrium stages at total reflux (Fenske).

    .. math:: N_{min} = \\frac{\\lg(a\\,b)}{\\lg \\beta}, \\quad
              a = \\frac{P_A/(1-P_A)}{f_A/f_B}, \\quad
              b = \\frac{P_B/(1-P_B)}{f_B/f_A},

    so a b = [P_A/(1-P_A)] [P_B/(1-P_B)]: the feed composition cancels. Exact
    at total reflux for the constant-separation-factor model, where n + m
    stages multiply the A/B ratio by beta^(n+m) between raffinate and
    extract; no finite-reflux cascade with fewer stages meets both purities.

    Parameters
    ----------
    beta : float or array_like
        Separation factor D_A / D_B [-], > 1.
    feed_fraction_A : float or array_like
        f_A, mole fraction of A among the feed rare earths [-], in (0, 1).
    purity_A : float or array_like
        P_A, mole fraction of A in the extract [-], in (f_A, 1).
    purity_B : float or array_like
        P_B, mole fraction of B in the raffinate [-], in (f_B, 1).

    Returns
    -------
    float or ndarray
        N_min, real-valued [stages].

    Raises
    ------
    InputError
        beta <= 1, fractions outside (0, 1), a purity not above its feed
        fraction or not below 1.

    References
    ----------
    Fenske, Ind. Eng. Chem. 24 (1932) 482 ([A] standard). Check values [D]:
    Nd/Pr, beta 1.5, f_Nd 0.75, P_Nd = P_Pr = 0.995 gives 26.11; P_Pr = 0.99
    gives 24.388; Dy/Tb, beta 2.0, f_Dy 0.85, 99.5 % both ways gives 15.3.

    Examples
    --------
    >>> round(fenske_min_stages(1.5, 0.75, 0.995, 0.995), 2)  # ln(199 * 199) / ln 1.5 = 10.5866 / 0.405465
    26.11
    >>> round(fenske_min_stages(1.5, 0.75, 0.995, 0.99), 3)   # ln(199 * 99) / ln 1.5 = 9.888425 / 0.405465
    24.388
    """
    beta, f_A, f_B, P_A, P_B = _separation_targets(
        beta, feed_fraction_A, purity_A, purity_B, allow_one=False
    )
    ln_a, ln_b = _log_enrichment(f_A, f_B, P_A, P_B)
    return _out((ln_a + ln_b) / np.log(beta))


# ------------------------------------------------------------ product split
def product_split(feed_fraction_A, purity_A, purity_B):
    """Share of the feed rare earth reporting to the extract (organic product).

    From the balances of total rare earth and of A with the extract at
    purity P_A and the raffinate at purity P_B:

    .. math:: f'_A = \\frac{P_B - f_B}{P_A + P_B - 1}, \\qquad f_B = 1 - f_A.

    Parameters
    ----------
    feed_fraction_A : float or array_like
        f_A, mole fraction of A among the feed rare earths [-], in (0, 1).
    purity_A : float or array_like
        P_A, mole fraction of A in the extract [-], in (f_A, 1].
    purity_B : float or array_like
        P_B, mole fraction of B in the raffinate [-], in (f_B, 1].

    Returns
    -------
    float or ndarray
        f'_A [mol extract RE / mol feed RE], in (0, 1); equals f_A for a
        sharp split.

    Raises
    ------
    InputError
        Fractions outside (0, 1); a purity not above its feed fraction or > 1.

    References
    ----------
    Xu Guangxian's countercurrent theory (its product split, [C] form as
    quoted, checked numerically [D]); Cheng et al., Adv. Mater. Phys. Chem.
    4 (2014) 275. The equation is also the two balances above.

    Examples
    --------
    >>> round(product_split(0.75, 0.995, 0.99), 6)   # (0.99 - 0.25) / (0.995 + 0.99 - 1) = 0.74 / 0.985
    0.751269
    >>> product_split(0.75, 1.0, 1.0)
    0.75
    """
    f_A = _fraction(feed_fraction_A, "feed_fraction_A")
    f_B = 1.0 - f_A
    P_A = _purity(purity_A, "purity_A", f_A, allow_one=True)
    P_B = _purity(purity_B, "purity_B", f_B, allow_one=True)
    return _out((P_B - f_B) / (P_A + P_B - 1.0))


# -------------------------------------------------------- minimum extractant
def minimum_extractant(beta, feed_fraction_A, purity_A=1.0, purity_B=1.0):
    """Minimum organic (S_min) and scrub (W_min) flows for an aqueous feed.

    Underwood's minimum-reflux solution for a binary, constant-beta cascade
    with the feed entering as aqueous (saturated liquid, q = 1): the root
    theta = beta / (beta f_A + f_B) of beta f_A/(beta - theta) + f_B/(1 - theta)
    = 0 gives

    .. math:: S_{min} = \\frac{(\\beta f_A + f_B)(Y_A + Y_B - 1)}{\\beta - 1},
              \\qquad W_{min} = S_{min} - f'_A,

    with the recoveries Y_A = P_A f'_A / f_A, Y_B = P_B (1 - f'_A) / f_B and
    f'_A from :func:`product_split`. Equivalently the pinch sits at the feed
    stage: S_min = f'_A (P_A - f_A) / (y*_F - f_A), y*_F = beta f_A / (beta
    f_A + f_B). For a sharp split (P_A = P_B = 1): S_min = f_A + 1/(beta - 1),
    W_min = 1/(beta - 1). Below S_min the product purities plateau at the
    pinch value whatever the number of stages.

    Parameters
    ----------
    beta : float or array_like
        Separation factor D_A / D_B [-], > 1.
    feed_fraction_A : float or array_like
        f_A, mole fraction of A among the feed rare earths [-], in (0, 1).
    purity_A : float or array_like, optional
        P_A, target mole fraction of A in the extract [-], in (f_A, 1];
        default 1 (sharp split).
    purity_B : float or array_like, optional
        P_B, target mole fraction of B in the raffinate [-], in (f_B, 1];
        default 1.

    Returns
    -------
    (S_min, W_min) : tuple of float or ndarray
        Minimum rare-earth flow in the loaded organic and minimum scrub
        reflux [mol RE / mol feed RE].

    Raises
    ------
    InputError
        beta <= 1, fractions outside (0, 1), purities not achievable.

    References
    ----------
    Underwood, Chem. Eng. Prog. 44 (1948) 603. The form for this cascade is
    derived [D] (pinch analysis, checked against brute-force solves: below
    S_min the purities plateau; at 1.05 S_min both products reached
    > 99.8 % in the case checked). Its sharp-split limit is the published form of Xu's
    theory; Cheng, Wu, Liao, Yan et al., Adv. Mater. Phys. Chem. 4 (2014)
    275 state that the 1970s S_min/W_min equations hold. Check values [D]:
    S_min 2.75 (Nd/Pr, beta 1.5, f_Nd 0.75) and 1.85 (Dy/Tb, beta 2.0, f_Dy
    0.85) for sharp splits; 2.69956 and 1.94829 for Nd/Pr at 99.5 % / 99 %.

    Examples
    --------
    >>> S, W = minimum_extractant(1.5, 0.75, 0.995, 0.99)  # check values [D] above
    >>> round(S, 5), round(W, 5)
    (2.69956, 1.94829)
    >>> minimum_extractant(1.5, 0.75)  # sharp: f_A + 1/(beta-1), 1/(beta-1)
    (2.75, 2.0)
    """
    beta, f_A, f_B, P_A, P_B = _separation_targets(
        beta, feed_fraction_A, purity_A, purity_B, allow_one=True
    )
    S_min, W_min = underwood_minimum(beta, f_A, f_B, P_A, P_B)
    return _out(S_min), _out(W_min)


def underwood_minimum(beta, f_A, f_B, P_A, P_B):
    """(S_min, W_min) of :func:`minimum_extractant` for arguments already known to be valid.

    The same equations without the argument checks, for callers that have
    made them (a plant's SX cut designs its flows on every feed it meets):
    beta > 1 [-], f_A + f_B = 1 with f in (0, 1) [-], P in (f, 1] [-].
    Floats or arrays.

    >>> [round(float(x), 5) for x in underwood_minimum(1.5, 0.75, 0.25, 0.995, 0.99)]
    [2.69956, 1.94829]
    """
    split = (P_B - f_B) / (P_A + P_B - 1.0)
    recovery_A = P_A * split / f_A
    recovery_B = P_B * (1.0 - split) / f_B
    S_min = (beta * f_A + f_B) * (recovery_A + recovery_B - 1.0) / (beta - 1.0)
    return S_min, S_min - split


# ----------------------------------------------------------------------- Xu
def xu_optimum_ratios(beta, product_fraction_A):
    """Xu's optimum mixed extraction ratios (E_M, E'_M) for an aqueous feed.

    Mixed extraction ratios per mol of feed rare earth: E_M = S / (1 + W) in
    the extraction section and E'_M = S / W in the scrub section, with
    S - W = f'_A. Xu's optimum ([C] as quoted, for a balanced feed; the
    switch point f'_A = 1/(1 + sqrt(beta)) is derived [D]):

    .. math:: E_M = 1/\\sqrt{\\beta}
              \\text{ if } f'_A \\le 1/(1 + \\sqrt{\\beta}),
              \\text{ otherwise } E'_M = \\sqrt{\\beta};

    the other ratio follows from S - W = f'_A:

    * E_M = 1/sqrt(beta): S = (1 - f'_A)/(sqrt(beta) - 1), W = S - f'_A,
      E'_M = (1 - f'_A)/(1 - f'_A sqrt(beta));
    * E'_M = sqrt(beta): W = f'_A/(sqrt(beta) - 1), S = sqrt(beta) W,
      E_M = sqrt(beta) f'_A/(sqrt(beta) - 1 + f'_A).

    Both branches give E_M = 1/sqrt(beta) and E'_M = sqrt(beta) at the
    switch point f'_A = 1/(1 + sqrt(beta)). Recover the flows with
    W = f'_A / (E'_M - 1), S = E'_M W.

    Parameters
    ----------
    beta : float or array_like
        Separation factor D_A / D_B [-], > 1.
    product_fraction_A : float or array_like
        f'_A, share of the feed rare earth reporting to the extract
        [mol/mol], in (0, 1) (:func:`product_split`).

    Returns
    -------
    (E_M, E_M_scrub) : tuple of float or ndarray
        Extraction-section and scrub-section mixed extraction ratios [-].

    Raises
    ------
    InputError
        beta <= 1 or product_fraction_A outside (0, 1).

    References
    ----------
    Xu Guangxian's countercurrent theory; Cheng et al., Adv. Mater. Phys.
    Chem. 4 (2014) 275. Worked example [D]: beta 1.5, f'_A 0.751269 >
    0.4495, so E'_M = sqrt(1.5) = 1.2247, S = 4.0940 (1.52 S_min),
    W = 3.3428, E_M = 0.9427.

    Examples
    --------
    >>> E, Es = xu_optimum_ratios(1.5, 0.751269)
    >>> round(E, 4), round(Es, 4)   # 1.224745 * 0.751269 / (0.224745 + 0.751269) = 0.920113 / 0.976014
    (0.9427, 1.2247)
    >>> W = 0.751269 / (Es - 1); round(W, 4), round(Es * W, 4)   # 0.751269 / 0.224745
    (3.3428, 4.094)
    """
    beta = _beta(beta)
    split = _fraction(product_fraction_A, "product_fraction_A")
    root = np.sqrt(beta)
    low = split <= 1.0 / (1.0 + root)
    E_low, Es_low = 1.0 / root, (1.0 - split) / (1.0 - split * root)
    E_high, Es_high = root * split / (root - 1.0 + split), root
    with np.errstate(divide="ignore", invalid="ignore"):
        E = np.where(low, E_low, E_high)
        Es = np.where(low, Es_low, Es_high)
    return _out(E), _out(Es)


def xu_stage_estimates(beta, feed_fraction_A, purity_A, purity_B, S, W):
    """Xu's estimates of the extraction (n) and scrub (m) stage numbers.

    Aqueous feed, constant mixed extraction ratios E_M = S/(1 + W)
    (extraction section) and E'_M = S/W (scrub section):

    .. math:: n = \\frac{\\lg b}{\\lg(\\beta E_M)}, \\qquad
              m + 1 = \\frac{\\lg a}{\\lg(\\beta / E'_M)},

    with a = [P_A/(1-P_A)]/(f_A/f_B), b = [P_B/(1-P_B)]/(f_B/f_A) as in
    :func:`fenske_min_stages`. n counts the feed stage (the last extraction
    stage, as in the engine). This is the ``m + 1`` form of Xu's scrub
    formula; the other form in circulation calls lg a / lg(beta/E'_M)
    itself "m" (see the module notes). The
    estimates are real-valued; they are within about two stages of the exact
    minimum only when A dominates the feed (f_A about 0.75) and undershoot it
    by 5 to 13 stages for a balanced feed at beta <= 1.5 (module notes, "Range
    of validity"); the exact count comes from :func:`magcycle.sx.solve`.

    Requires beta E_M > 1 > E_M and E'_M > 1 > E'_M / beta. The product
    split implied by the flows, S - W, should equal :func:`product_split` of
    the targets; it is not enforced.

    Parameters
    ----------
    beta : float or array_like
        Separation factor D_A / D_B [-], > 1.
    feed_fraction_A : float or array_like
        f_A, mole fraction of A among the feed rare earths [-], in (0, 1).
    purity_A : float or array_like
        P_A, target mole fraction of A in the extract [-], in (f_A, 1).
    purity_B : float or array_like
        P_B, target mole fraction of B in the raffinate [-], in (f_B, 1).
    S : float or array_like
        Rare earth carried by the loaded organic [mol RE / mol feed RE].
    W : float or array_like
        Scrub reflux [mol RE / mol feed RE].

    Returns
    -------
    (n, m) : tuple of float or ndarray
        Real-valued extraction and scrub stage numbers [stages].

    Raises
    ------
    InputError
        Invalid beta, fractions or purities (as in :func:`fenske_min_stages`);
        field ``S`` when the extraction-section ratio violates
        1/beta < E_M < 1, field ``W`` when the scrub-section ratio violates
        1 < E'_M < beta (or S, W not positive).

    References
    ----------
    Xu Guangxian's countercurrent theory (1970s; [C] form, checked
    numerically [D]); Cheng, Wu, Liao, Yan et al., Adv. Mater. Phys. Chem. 4
    (2014) 275; Liao et al., J. Chin. Rare Earth Soc. 2017, doi
    10.11785/S1000-4343.20170101. Check values [D]: n = 19.2, "m" = 28.6
    (total 47.8, against 48 from the exact cascade) for beta 1.5, f_Nd 0.75,
    99.5 % both ways, S = 3.30, W = 2.547475; the worked example n = 16.43,
    m = 19.69 for P_Pr 0.99, S = 4.0940, W = 3.3428.

    Examples
    --------
    >>> n, m = xu_stage_estimates(1.5, 0.75, 0.995, 0.995, 3.30, 2.547475)
    >>> round(n, 1), round(m + 1, 1)  # ln 597 / ln(1.5 * 3.30/3.547475), ln(199/3) / ln(1.5 / (3.30/2.547475))
    (19.2, 28.6)
    >>> n, m = xu_stage_estimates(1.5, 0.75, 0.995, 0.99, 4.0940, 3.3428)
    >>> round(n, 2), round(m, 2)  # the worked example
    (16.43, 19.69)
    """
    beta, f_A, f_B, P_A, P_B = _separation_targets(
        beta, feed_fraction_A, purity_A, purity_B, allow_one=False
    )
    S = _real(S, "S")
    _require(S > 0.0, "S", f"organic rare-earth flow must be > 0, got {_show(S)}")
    W = _real(W, "W")
    _require(W > 0.0, "W", f"scrub reflux must be > 0, got {_show(W)}")
    E = S / (1.0 + W)
    Es = S / W
    _require(
        (beta * E > 1.0) & (E < 1.0),
        "S",
        f"extraction-section ratio E_M = S/(1+W) = {_show(E)} must satisfy "
        "beta*E_M > 1 > E_M",
    )
    _require(
        (Es > 1.0) & (Es < beta),
        "W",
        f"scrub-section ratio E'_M = S/W = {_show(Es)} must satisfy "
        "E'_M > 1 > E'_M/beta",
    )
    ln_a, ln_b = _log_enrichment(f_A, f_B, P_A, P_B)
    n = ln_b / np.log(beta * E)
    m = ln_a / np.log(beta / Es) - 1.0
    return _out(n), _out(m)
