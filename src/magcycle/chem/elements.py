"""Element registry: molar masses and rare-earth symbols.

Source of the atomic weights
----------------------------
IUPAC Commission on Isotopic Abundances and Atomic Weights (CIAAW),
"Standard atomic weights of the elements 2021 (IUPAC Technical Report)",
T. Prohaska et al., Pure Appl. Chem. 94 (2022) 573-600,
doi:10.1515/pac-2019-0603; table at https://www.ciaaw.org.

Which values are used
---------------------
* Elements with a single-value standard atomic weight Ar°(E): the full
  2021 standard value, uncertainty dropped (e.g. Nd 144.242(3) -> 144.242,
  Tb 158.925354(7) -> 158.925354).
* Elements whose standard atomic weight is an interval (H, B, C, N, O, Si,
  S, Cl): the CIAAW *conventional* value (e.g. O [15.99903, 15.99977] ->
  15.999, Cl [35.446, 35.457] -> 35.45).
* Pm has no stable isotope and no standard atomic weight. The value is the
  atomic mass of its longest-lived isotope, 145Pm (half-life about 17.7 y):
  144.91276 u (AME2020 atomic mass evaluation).

Later CIAAW revisions (for example the 2023 changes to Gd and Lu) are not
applied. Changing the table changes every derived number, oxide factors
included.

Molar mass M(E) [g/mol] is numerically equal to Ar(E), since M_u = 1 g/mol
to within 1e-9 in the revised SI.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from magcycle.errors import InputError

__all__ = [
    "MOLAR_MASS",
    "RARE_EARTHS",
    "is_rare_earth",
    "molar_mass",
    "check_element",
    "check_any_element",
]

#: The rare-earth elements handled by magcycle: the lanthanides La..Lu
#: (Pm included) in order of atomic number (57..71), then Y (39).
#: Sc is a rare earth under the IUPAC definition but is *not* in the magcycle
#: component registry, so it is not listed here (it does have a molar mass and
#: an oxide entry).
RARE_EARTHS: tuple[str, ...] = (
    "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd",
    "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y",
)

_MOLAR_MASS: dict[str, float] = {
    # --- rare earths (CIAAW 2021 standard atomic weights) ---
    "La": 138.90547,    # 138.90547(7)
    "Ce": 140.116,      # 140.116(1)
    "Pr": 140.90766,    # 140.90766(1)
    "Nd": 144.242,      # 144.242(3)
    "Pm": 144.91276,    # no Ar°; atomic mass of 145Pm (AME2020)
    "Sm": 150.36,       # 150.36(2)
    "Eu": 151.964,      # 151.964(1)
    "Gd": 157.25,       # 157.25(3)
    "Tb": 158.925354,   # 158.925354(7)
    "Dy": 162.500,      # 162.500(1)
    "Ho": 164.930329,   # 164.930329(5)
    "Er": 167.259,      # 167.259(3)
    "Tm": 168.934219,   # 168.934219(5)
    "Yb": 173.045,      # 173.045(10)
    "Lu": 174.9668,     # 174.9668(1)
    "Y": 88.905838,     # 88.905838(2)
    "Sc": 44.955907,    # 44.955907(4)
    # --- magnet alloy and impurity metals ---
    "Fe": 55.845,       # 55.845(2)
    "B": 10.81,         # conventional; Ar° = [10.806, 10.821]
    "Co": 58.933194,    # 58.933194(3)
    "Ni": 58.6934,      # 58.6934(4)
    "Cu": 63.546,       # 63.546(3)
    "Al": 26.9815384,   # 26.9815384(3)
    "Ga": 69.723,       # 69.723(1)
    "Nb": 92.90637,     # 92.90637(1)
    # --- reagent and non-metal elements ---
    "O": 15.999,        # conventional; Ar° = [15.99903, 15.99977]
    "C": 12.011,        # conventional; Ar° = [12.0096, 12.0116]
    "H": 1.008,         # conventional; Ar° = [1.00784, 1.00811]
    "Cl": 35.45,        # conventional; Ar° = [35.446, 35.457]
    "S": 32.06,         # conventional; Ar° = [32.059, 32.076]
    "N": 14.007,        # conventional; Ar° = [14.00643, 14.00728]
    "Na": 22.98976928,  # 22.98976928(2)
    "Ca": 40.078,       # 40.078(4)
    "Si": 28.085,       # conventional; Ar° = [28.084, 28.086]
    # --- leach-liquor impurities the SX engine carries (magcycle.sx.spec.ION_CHARGE) ---
    "Mg": 24.305,       # conventional; Ar° = [24.304, 24.307]
    "Mn": 54.938043,    # 54.938043(2)
    "Zn": 65.38,        # 65.38(2)
}

#: Molar masses [g/mol], read-only. See the module docstring for the source
#: (IUPAC CIAAW 2021) and which value (standard or conventional) is used.
MOLAR_MASS: Mapping[str, float] = MappingProxyType(_MOLAR_MASS)

_RARE_EARTH_SET = frozenset(RARE_EARTHS)
# Case-insensitive lookup, used only to suggest the canonical spelling.
_BY_LOWER: dict[str, str] = {s.lower(): s for s in _MOLAR_MASS}


def _describe(symbol: object) -> str:
    """Short one-line repr of a user-supplied symbol, for error messages."""
    text = repr(symbol)
    return text if len(text) <= 40 else text[:37] + "..."


def _suggestion(symbol: str) -> str | None:
    """Canonical symbol that matches ``symbol`` ignoring case and blanks."""
    return _BY_LOWER.get(symbol.strip().lower())


def is_rare_earth(symbol: str) -> bool:
    """True if ``symbol`` is one of :data:`RARE_EARTHS` (La..Lu and Y).

    Matching is exact and case-sensitive. Sc gives False because it is not
    in the magcycle rare-earth registry.

    >>> is_rare_earth("Nd"), is_rare_earth("Y"), is_rare_earth("Fe")
    (True, True, False)
    >>> is_rare_earth("nd")
    False
    """
    return isinstance(symbol, str) and symbol in _RARE_EARTH_SET


def check_any_element(symbol: object, field: str) -> str:
    """Check that ``symbol`` is an element in :data:`MOLAR_MASS` and return it.

    Symbols must be spelled exactly ('Nd', not 'nd' or 'ND'). If the only
    problem is case or blanks, the error message gives the canonical spelling.

    Raises :class:`~magcycle.errors.InputError` ``(field, reason)``.

    >>> check_any_element("Fe", "impurity")
    'Fe'
    >>> check_any_element("fe", "impurity")
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: impurity: unknown element 'fe'; did you mean 'Fe'? (symbols are case-sensitive)
    """
    if not isinstance(symbol, str):
        raise InputError(
            field,
            f"expected an element symbol (a string), got {type(symbol).__name__}",
        )
    if symbol in _MOLAR_MASS:
        return symbol
    hint = _suggestion(symbol)
    if hint is not None:
        raise InputError(
            field,
            f"unknown element {_describe(symbol)}; did you mean {hint!r}? "
            "(symbols are case-sensitive)",
        )
    raise InputError(
        field,
        f"unknown element {_describe(symbol)}; known: {', '.join(_MOLAR_MASS)}",
    )


def check_element(symbol: object, field: str) -> str:
    """Check that ``symbol`` is a rare earth in :data:`RARE_EARTHS` and return it.

    Symbols must be spelled exactly ('Nd'). A wrong-case spelling gets a
    "did you mean 'Nd'?" hint; a valid non-rare-earth element (e.g. 'Fe')
    gets its own message.

    Raises :class:`~magcycle.errors.InputError` ``(field, reason)``.

    >>> check_element("Dy", "product.element")
    'Dy'
    >>> check_element("Fe", "product.element")
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: product.element: 'Fe' is not a rare-earth element; expected one of La, Ce, Pr, Nd, Pm, Sm, Eu, Gd, Tb, Dy, Ho, Er, Tm, Yb, Lu, Y
    >>> check_element("ND", "product.element")
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: product.element: unknown element 'ND'; did you mean 'Nd'? (symbols are case-sensitive)
    """
    if isinstance(symbol, str) and symbol in _RARE_EARTH_SET:
        return symbol
    canonical = check_any_element(symbol, field)  # raises for unknown symbols
    raise InputError(
        field,
        f"{canonical!r} is not a rare-earth element; "
        f"expected one of {', '.join(RARE_EARTHS)}",
    )


def molar_mass(symbol: str, field: str = "element") -> float:
    """Molar mass M(E) [g/mol] of an element in :data:`MOLAR_MASS`.

    .. math:: M(E) = A_r(E) \\cdot M_u, \\qquad M_u = 1 \\text{ g/mol}

    (M_u = 1 g/mol to within 1e-9 in the revised SI). A_r is the IUPAC
    CIAAW 2021 standard atomic weight, uncertainty dropped; the conventional
    value for elements whose standard atomic weight is an interval (H, B, C,
    N, O, Si, S, Cl); for Pm, which has none, the atomic mass of 145Pm.

    Parameters
    ----------
    symbol : str
        Element symbol, spelled exactly ('Nd', not 'nd').
    field : str
        Field named by the error for an unknown symbol.

    Returns
    -------
    float
        M(E) [g/mol].

    Raises
    ------
    InputError
        ``(field, reason)`` for an unknown symbol.

    References
    ----------
    Prohaska et al., "Standard atomic weights of the elements 2021 (IUPAC
    Technical Report)", Pure Appl. Chem. 94 (2022) 573-600,
    doi:10.1515/pac-2019-0603 (Nd 144.242(3), O conventional 15.999);
    145Pm: AME2020 atomic mass evaluation (144.91276 u).

    Examples
    --------
    >>> molar_mass("Nd")
    144.242
    >>> molar_mass("O")
    15.999
    >>> molar_mass("Xx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: element: unknown element 'Xx'; known: La, Ce, Pr, ...
    """
    try:
        return _MOLAR_MASS[symbol]
    except (KeyError, TypeError):
        return _MOLAR_MASS[check_any_element(symbol, field)]  # raises
