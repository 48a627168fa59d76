"""Rare-earth oxides formed by calcination in air, and metal/oxide factors.

The stable oxide formed when a rare-earth oxalate is calcined in air is
RE2O3 for most rare earths. The exceptions are Ce (CeO2), Pr (Pr6O11) and
Tb (Tb4O7): [A] Balboul, Thermochim. Acta 351 (2000) 55, and a Scilit record
of the series "oxalate decomposition III" (HREE oxalates, Ho-Lu and Y, reach
the oxide at 680-700 degC). Industrial calcination runs at 850-950 degC for
2-4 h in air: [C] general literature knowledge, no retrieved source.

For an oxide RE_(n_m) O_(n_o) the conversion factors are

    f_MO = m_oxide / m_metal = (n_m * M_RE + n_o * M_O) / (n_m * M_RE)   [kg/kg]
    f_OM = 1 / f_MO                                                        [kg/kg]

with M from :data:`magcycle.chem.elements.MOLAR_MASS` (IUPAC CIAAW 2021:
Prohaska et al., Pure Appl. Chem. 94 (2022) 573). The factors are derived
[D], no measured source; to 4 decimals (kg oxide per kg metal): Nd2O3
1.1664, Pr6O11 1.2082, Dy2O3 1.1477, Tb4O7 1.1762, Gd2O3 1.1526, Ho2O3
1.1455, La2O3 1.1728, CeO2 1.2284.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from magcycle.chem.elements import MOLAR_MASS, RARE_EARTHS, check_element
from magcycle.errors import InputError

__all__ = [
    "OXIDE_FORMULA",
    "oxide_formula",
    "metal_to_oxide_factor",
    "oxide_to_metal_factor",
]

# Calcination products in air that are not RE2O3.
_SPECIAL: dict[str, tuple[str, int, int]] = {
    "Ce": ("CeO2", 1, 2),
    "Pr": ("Pr6O11", 6, 11),
    "Tb": ("Tb4O7", 4, 7),
}

_OXIDES: dict[str, tuple[str, int, int]] = {
    el: _SPECIAL.get(el, (f"{el}2O3", 2, 3)) for el in (*RARE_EARTHS, "Sc")
}

#: Oxide formed in air after calcination, by element:
#: ``symbol -> (formula, n_metal, n_oxygen)``. Covers :data:`RARE_EARTHS` and Sc.
#: Read-only.
OXIDE_FORMULA: Mapping[str, tuple[str, int, int]] = MappingProxyType(_OXIDES)

_M_O = MOLAR_MASS["O"]
_METAL_TO_OXIDE: dict[str, float] = {
    el: (n_m * MOLAR_MASS[el] + n_o * _M_O) / (n_m * MOLAR_MASS[el])
    for el, (_, n_m, n_o) in _OXIDES.items()
}


def _check_oxide_element(element: object, field: str) -> str:
    if isinstance(element, str) and element in _OXIDES:
        return element
    check_element(element, field)  # raises a precise InputError
    raise InputError(field, f"no oxide defined for {element!r}")  # pragma: no cover


def oxide_formula(element: str, field: str = "element") -> str:
    """Formula of the oxide that ``element`` forms on calcination in air.

    RE2O3 for every rare earth except CeO2, Pr6O11 and Tb4O7.

    Parameters
    ----------
    element : str
        Rare-earth symbol (La..Lu, Y) or Sc.
    field : str
        Field named by the error for a bad ``element``.

    Returns
    -------
    str
        The oxide formula, e.g. ``"Nd2O3"``.

    Raises
    ------
    InputError
        ``(field, reason)`` for an element that is not a rare earth (or Sc).

    References
    ----------
    [A] Balboul, Thermochim. Acta 351 (2000) 55 (oxides formed in air:
    Pr6O11, Tb4O7, CeO2, the others RE2O3).

    Examples
    --------
    >>> oxide_formula("Nd"), oxide_formula("Pr"), oxide_formula("Tb")
    ('Nd2O3', 'Pr6O11', 'Tb4O7')
    >>> oxide_formula("Y"), oxide_formula("Ce")
    ('Y2O3', 'CeO2')
    """
    return _OXIDES[_check_oxide_element(element, field)][0]


def metal_to_oxide_factor(element: str, field: str = "element") -> float:
    """Mass of oxide per mass of contained metal [kg oxide / kg RE].

    .. math:: f_{MO} = \\frac{n_m M_{RE} + n_o M_O}{n_m M_{RE}}

    for the oxide RE_(n_m) O_(n_o) of :data:`OXIDE_FORMULA`.

    Parameters
    ----------
    element : str
        Rare-earth symbol (La..Lu, Y) or Sc.
    field : str
        Field named by the error for a bad ``element``.

    Returns
    -------
    float
        f_MO [kg oxide / kg metal], > 1.

    Raises
    ------
    InputError
        ``(field, reason)`` for an element that is not a rare earth (or Sc).

    References
    ----------
    Atomic weights M [g/mol]: IUPAC CIAAW 2021, Prohaska et al., Pure Appl.
    Chem. 94 (2022) 573. Oxides formed in air: [A] Balboul, Thermochim. Acta
    351 (2000) 55. The factors are derived [D] from these two.

    Examples
    --------
    >>> round(metal_to_oxide_factor("Nd"), 4)   # (2*144.242 + 3*15.999) / (2*144.242) = 336.481 / 288.484
    1.1664
    >>> round(metal_to_oxide_factor("Pr"), 4)   # (6*140.90766 + 11*15.999) / (6*140.90766) = 1021.435 / 845.446
    1.2082
    """
    return _METAL_TO_OXIDE[_check_oxide_element(element, field)]


def oxide_to_metal_factor(element: str, field: str = "element") -> float:
    """Mass of contained metal per mass of oxide [kg RE / kg oxide].

    .. math:: f_{OM} = \\frac{n_m M_{RE}}{n_m M_{RE} + n_o M_O} = 1 / f_{MO}

    See :func:`metal_to_oxide_factor`.

    Parameters
    ----------
    element : str
        Rare-earth symbol (La..Lu, Y) or Sc.
    field : str
        Field named by the error for a bad ``element``.

    Returns
    -------
    float
        f_OM [kg metal / kg oxide], < 1.

    Raises
    ------
    InputError
        ``(field, reason)`` for an element that is not a rare earth (or Sc).

    References
    ----------
    As :func:`metal_to_oxide_factor`; derived [D] (Nd2O3 0.8574, Pr6O11
    0.8277, Dy2O3 0.8713, Tb4O7 0.8502).

    Examples
    --------
    >>> round(oxide_to_metal_factor("Nd"), 4)   # 288.484 / 336.481
    0.8574
    >>> round(oxide_to_metal_factor("Dy"), 4)   # 2*162.5 / (2*162.5 + 3*15.999) = 325 / 372.997
    0.8713
    """
    return 1.0 / _METAL_TO_OXIDE[_check_oxide_element(element, field)]
