"""Rare-earth sulfate chemistry: the solubility of RE2(SO4)3 against temperature and the sodium
rare-earth double sulfate NaRE(SO4)2.H2O that forms where sodium meets a sulfate liquor.

Solubility of the sulfate (retrograde)
    RE2(SO4)3 dissolves with release of heat and is less soluble hot than
    cold ([B] rare-earth sulfate product notes, alfa-chemistry.com; Nd2(SO4)3
    "retrograde solubility", Migdisov et al., Geochim. Cosmochim. Acta 70
    (2006) 983, as cited by the Wikipedia article). Van 't Hoff's form from
    the solubility at 20 C,

        S(T) = S_20 exp(-(dH/R) (1/T - 1/293.15)),

    with S_20 = 8 g Nd2(SO4)3 per 100 g water ([B] Wikipedia / ChemicalBook,
    "8 g/100 mL (20 C)") and dH = -20 kJ/mol ([C]: a quarter of the 20 C
    solubility at 80 C, no retrieved source). As a rare-earth
    concentration, c_max = 2 x 10 S / M(Nd2(SO4)3) [mol RE per L of water];
    one solubility stands for the mixed sulfates ([C]: the light ones are
    the less soluble).

Sodium rare-earth double sulfate
    Na+ + RE3+ + 2 SO4 2- + H2O -> NaRE(SO4)2.H2O(s), with the conditional
    solubility product K_RE = c(Na+) c(RE3+) c(SO4 2-)^2 (ideal solution). K is
    derived ([D]) from the one retrieved measurement ([B] SIPS 2017,
    flogen.org/sips2017/paper-1-51): an H2SO4 leach liquor of Nd 23.4 g/L and
    Dy 8.7 g/L with 7 equivalents of Na2SO4 at 60 C, 3 h, gave 99.7 % of the
    Nd and 94.3 % of the Dy as double sulfate. Taken ([C]) with the liquor's
    sulfate 1.5 mol per mol RE and one equivalent 0.5 mol Na2SO4 per mol RE
    (the Na and the second sulfate of NaRE(SO4)2), that is log K_Nd = -3.568
    and log K_Dy = -2.770 (:func:`double_sulfate_log_k`). Between Nd (Z = 60)
    and Dy (66) log K is interpolated linearly in the atomic number; lighter
    rare earths take Nd's, heavier Dy's ([B] the double salts of the light
    rare earths are the least soluble and the solubility rises with atomic
    number, alfa-chemistry.com).
"""

from __future__ import annotations

import math
from typing import Mapping

from magcycle.chem.elements import RARE_EARTHS
from magcycle.chem.formula import formula_mass

__all__ = ["SULFATE_SOLUBILITY_20C", "SULFATE_DISSOLUTION_ENTHALPY", "SIPS_2017", "sulfate_solubility",
           "double_sulfate_log_k", "DOUBLE_SULFATE_LOG_K", "double_sulfate_precipitated"]

#: [g RE2(SO4)3 per 100 g water] at 20 C ([B] Nd2(SO4)3, Wikipedia / ChemicalBook)
SULFATE_SOLUBILITY_20C = 8.0
#: [kJ/mol] heat of solution, negative: retrograde solubility ([C] magnitude)
SULFATE_DISSOLUTION_ENTHALPY = -20.0
#: [B] SIPS 2017: feed g/L, fraction precipitated, Na2SO4 equivalents, temperature C
SIPS_2017 = {"feed_g_per_L": {"Nd": 23.4, "Dy": 8.7}, "precipitated": {"Nd": 0.997, "Dy": 0.943},
             "na2so4_equivalents": 7.0, "temperature_C": 60.0}

_R = 8.314462618e-3  # kJ/(mol K)
_Z = {el: z for z, el in enumerate(("La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm",
                                    "Yb", "Lu"), start=57)} | {"Y": 67, "Sc": 71}  # Y as Ho, Sc as Lu [C]


def sulfate_solubility(temperature_C: float, s20: float = SULFATE_SOLUBILITY_20C,
                       enthalpy_kJ: float = SULFATE_DISSOLUTION_ENTHALPY) -> float:
    """Largest rare-earth concentration a sulfate liquor holds at ``temperature_C`` [mol RE per L water].

    .. math:: c_{max} = \\frac{2 \\cdot 10 \\, S_{20}}{M_{Nd_2(SO_4)_3}}
              \\exp\\left(-\\frac{\\Delta H}{R}\\left(\\frac{1}{T} - \\frac{1}{293.15}\\right)\\right)

    Parameters
    ----------
    temperature_C : float
        Liquor temperature [degC].
    s20 : float
        Solubility at 20 C [g RE2(SO4)3 per 100 g water] ([B] 8 for Nd2(SO4)3).
    enthalpy_kJ : float
        Heat of solution dH [kJ/mol]; negative for the retrograde solubility ([C] -20).

    Returns
    -------
    float
        c_max [mol RE / L of water].

    Examples
    --------
    >>> round(sulfate_solubility(20.0), 6)        # 2 x 80 g/L / 576.652 g/mol
    0.277464
    >>> sulfate_solubility(80.0) < sulfate_solubility(20.0) / 3.9
    True
    """
    t = temperature_C + 273.15
    s = s20 * math.exp(-(enthalpy_kJ / _R) * (1.0 / t - 1.0 / 293.15))
    return 2.0 * 10.0 * s / formula_mass("Nd2(SO4)3")


def double_sulfate_log_k(element: str, data: Mapping = SIPS_2017) -> float:
    """log10 K of NaRE(SO4)2.H2O, K = c(Na+) c(RE3+) c(SO4 2-)^2 [(mol/L)^4], from the SIPS 2017 point.

    For the measured elements (Nd, Dy): with c_i the feed molarities, p_i
    the fractions precipitated, n = sum c_i, Na2SO4 = 0.5 e n (e
    equivalents), and the liquor's own sulfate 1.5 n,

    .. math:: [Na] = e n - \\sum p_i c_i, \\quad [SO_4] = 1.5 n + 0.5 e n - 2 \\sum p_i c_i,
              \\quad K_i = [Na] (1 - p_i) c_i [SO_4]^2

    and for another rare earth the linear interpolation of log K in atomic
    number between Nd and Dy, held beyond them.

    Examples
    --------
    >>> round(double_sulfate_log_k("Nd"), 3), round(double_sulfate_log_k("Dy"), 3)
    (-3.568, -2.77)
    >>> double_sulfate_log_k("La") == double_sulfate_log_k("Nd")
    True
    """
    feed = {el: g / formula_mass(el) for el, g in data["feed_g_per_L"].items()}
    n = sum(feed.values())
    gone = sum(data["precipitated"][el] * c for el, c in feed.items())
    e = data["na2so4_equivalents"]
    na = e * n - gone
    so4 = 1.5 * n + 0.5 * e * n - 2.0 * gone
    logk = {el: math.log10(na * (1.0 - data["precipitated"][el]) * c * so4 ** 2) for el, c in feed.items()}
    z = _Z[element]
    if z <= _Z["Nd"]:
        return logk["Nd"]
    if z >= _Z["Dy"]:
        return logk["Dy"]
    w = (z - _Z["Nd"]) / (_Z["Dy"] - _Z["Nd"])
    return (1.0 - w) * logk["Nd"] + w * logk["Dy"]


#: log10 K of every rare earth's double sulfate ([D] from SIPS 2017, :func:`double_sulfate_log_k`)
DOUBLE_SULFATE_LOG_K = {el: double_sulfate_log_k(el) for el in RARE_EARTHS}


def double_sulfate_precipitated(re_mol: Mapping[str, float], na: float, so4: float, volume_L: float,
                                log_k: Mapping[str, float] = DOUBLE_SULFATE_LOG_K) -> dict[str, float]:
    """Double sulfate NaRE(SO4)2.H2O formed from a liquor [mol/h of each rare earth].

    Each rare earth stays dissolved up to K_i / (c(Na) c(SO4)^2); the precipitate
    takes one Na and two SO4 per RE, so with x the total precipitated and V
    the volume,

    .. math:: x = \\sum_i \\max\\left(0,\\; n_i - \\frac{K_i V^4}{(Na - x)(SO_4 - 2x)^2}\\right)

    whose right side falls as x grows: the root is unique and found by
    Brent's method (scipy.optimize.brentq) in the free amount of the limiting
    ion (Na - x or SO4 - 2x), to its full relative precision.

    Parameters
    ----------
    re_mol : mapping
        n_i, dissolved rare earths [mol/h].
    na, so4 : float
        Na+ and SO4 2- of the liquor [mol/h].
    volume_L : float
        V, the liquor's volume [L/h].
    log_k : mapping
        log10 K_i [(mol/L)^4] of each rare earth.

    Returns
    -------
    dict
        Precipitated [mol/h] of each rare earth (those with none left out).

    Examples
    --------
    >>> # one RE well below Na and SO4: x ~ n - K V^4 / ((Na - n)(SO4 - 2n)^2) = 1 - 1e-4 / (9 * 64)
    >>> round(double_sulfate_precipitated({"Nd": 1.0}, 10.0, 10.0, 1.0, {"Nd": -4.0})["Nd"], 7)
    0.9999998
    """
    from scipy.optimize import brentq

    items = [(el, n, 10.0 ** log_k[el] * volume_L ** 4) for el, n in re_mol.items() if n > 0]
    if not _supersaturated(items, na, so4, volume_L):
        return {}
    # solved for what is left of the limiting ion (Na+ or SO4 2-), which may be a small difference of
    # large numbers if written as Na - x: its relative precision is what the solubility product needs
    na_limits = na <= so4 / 2.0
    limit = na if na_limits else so4
    top = min(sum(n for _, n, _ in items), na, so4 / 2.0)
    low = limit - (top if na_limits else 2.0 * top)
    free = brentq(_excess, max(low, 0.0), limit, args=(na, so4, items, na_limits), xtol=1e-300, rtol=8.9e-16,
                  maxiter=500)
    x, gone = _taken(free, na, so4, items, na_limits)
    total = sum(gone.values())
    # the precipitate takes exactly x (Na and SO4 follow it), shared as the solubility products say
    return {el: v * x / total for el, v in gone.items() if v > 0} if total > 0 else {}


def _supersaturated(items, na: float, so4: float, volume_L: float) -> bool:
    """Whether any rare earth exceeds its double sulfate's solubility before any precipitates."""
    room = na * so4 ** 2 if na > 0 and so4 > 0 and volume_L > 0 else 0.0
    return room > 0 and any(n - k / room > 0 for _, n, k in items)


def _taken(free: float, na: float, so4: float, items, na_limits: bool) -> tuple[float, dict[str, float]]:
    """(x, {element: precipitated}) when ``free`` [mol/h] of the limiting ion is left."""
    x = na - free if na_limits else (so4 - free) / 2.0
    room = free * (so4 - 2.0 * x) ** 2 if na_limits else (na - x) * free ** 2
    return x, {el: max(0.0, n - k / room) if room > 0 else 0.0 for el, n, k in items}


def _excess(free: float, na: float, so4: float, items, na_limits: bool) -> float:
    x, gone = _taken(free, na, so4, items, na_limits)
    return x - sum(gone.values())
