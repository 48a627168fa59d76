"""Quantities with units of measure: conversions and the one parser of unit strings.

magcycle works internally in fixed units: L/h for liquid volumetric flows,
mol/L for concentrations, kg/h for mass flows, plain fractions for
dimensionless quantities. Strings such as ``"250 L/h"``, ``"36 g/L"`` or
``"1200 t/y"`` are turned into those units here, once, when input documents
and command-line arguments are read. The core never sees a unit string.
(This module was ``magcycle.chem.units``; renamed so that it no longer
clashes with :mod:`magcycle.units`, the unit operations.)

The parser is a small table of exact conversion factors; no units library
is used. numpy is imported only when an array is converted, so importing
this module stays cheap.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from magcycle.chem.elements import MOLAR_MASS, check_any_element
from magcycle.documents import show
from magcycle.errors import InputError

__all__ = [
    "g_per_L_to_mol_per_L",
    "mol_per_L_to_g_per_L",
    "parse_quantity",
    "QUANTITY_KINDS",
]


# ---------------------------------------------------------------------------
# Concentration conversions (core, numpy-friendly)
# ---------------------------------------------------------------------------

def _molar_mass_of(element: str) -> float:
    try:
        return MOLAR_MASS[element]
    except (KeyError, TypeError):
        return MOLAR_MASS[check_any_element(element, "element")]  # raises


def _scale(value: Any, factor: float, divide: bool) -> Any:
    """value*factor (or value/factor): float for scalars, ndarray otherwise."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        x = float(value)
        return x / factor if divide else x * factor
    import numpy as np  # lazy: keeps `import magcycle.chem` free of numpy

    arr = np.asarray(value, dtype=float)
    return arr / factor if divide else arr * factor


def g_per_L_to_mol_per_L(value: Any, element: str) -> Any:
    """Mass concentration to molar concentration of an element.

        c [mol/L] = rho [g/L] / M [g/mol]

    Parameters
    ----------
    value : float or array_like
        rho [g/L]; a scalar gives a float, an array-like an ndarray.
    element : str
        Element symbol whose M [g/mol] converts.

    Returns
    -------
    float or ndarray
        c [mol/L].

    Raises
    ------
    InputError
        ``("element", ...)`` for an unknown element.

    References
    ----------
    M: IUPAC CIAAW 2021 atomic weights, Prohaska et al., Pure Appl. Chem. 94
    (2022) 573.

    Examples
    --------
    >>> round(g_per_L_to_mol_per_L(36.0, "Nd"), 6)   # 36 / 144.242
    0.249581
    >>> g_per_L_to_mol_per_L([144.242, 288.484], "Nd")
    array([1., 2.])
    """
    return _scale(value, _molar_mass_of(element), divide=True)


def mol_per_L_to_g_per_L(value: Any, element: str) -> Any:
    """Molar concentration to mass concentration of an element.

        rho [g/L] = c [mol/L] * M [g/mol]

    Parameters
    ----------
    value : float or array_like
        c [mol/L]; a scalar gives a float, an array-like an ndarray.
    element : str
        Element symbol whose M [g/mol] converts.

    Returns
    -------
    float or ndarray
        rho [g/L].

    Raises
    ------
    InputError
        ``("element", ...)`` for an unknown element.

    References
    ----------
    M: IUPAC CIAAW 2021 atomic weights, Prohaska et al., Pure Appl. Chem. 94
    (2022) 573.

    Examples
    --------
    >>> mol_per_L_to_g_per_L(0.25, "Dy")   # 0.25 * 162.500
    40.625
    >>> mol_per_L_to_g_per_L([1.0, 0.5], "Fe")   # M(Fe) = 55.845
    array([55.845 , 27.9225])
    """
    return _scale(value, _molar_mass_of(element), divide=False)


# ---------------------------------------------------------------------------
# Unit tables: each entry converts one unit into the internal unit.
# ---------------------------------------------------------------------------

# Every factor is an exact ratio of integers (num, den): the value in the
# internal unit is number * num / den, so integer inputs convert exactly.

# Volume [mL] and time [s] used to build the flow table (internal unit L/h).
_VOLUME_ML = {"L": 1000, "mL": 1, "m3": 1_000_000, "m^3": 1_000_000,
              "m\u00b3": 1_000_000}
_TIME_S = {"h": 3600, "hr": 3600, "min": 60, "s": 1, "d": 86400, "day": 86400}


def _ratio(num: int, den: int) -> tuple[int, int]:
    g = math.gcd(num, den)
    return num // g, den // g


# L/h per unit: (V_mL / 1000) / (t_s / 3600) = V_mL * 3600 / (t_s * 1000)
_FLOW_TO_L_PER_H: dict[str, tuple[int, int]] = {
    f"{v}/{t}": _ratio(v_ml * 3600, t_s * 1000)
    for v, v_ml in _VOLUME_ML.items()
    for t, t_s in _TIME_S.items()
}

# mol/L per unit.
_MOLAR_TO_MOL_PER_L: dict[str, tuple[int, int]] = {
    "mol/L": (1, 1), "M": (1, 1), "mol/dm3": (1, 1), "kmol/m3": (1, 1),
    "mmol/L": (1, 1000), "mM": (1, 1000), "mol/m3": (1, 1000),
}

# g/L per unit (mass concentrations; mol/L then needs the element's M).
_MASS_TO_G_PER_L: dict[str, tuple[int, int]] = {
    "g/L": (1, 1), "kg/m3": (1, 1), "mg/mL": (1, 1),
    "mg/L": (1, 1000), "g/m3": (1, 1000),
    "ug/L": (1, 1_000_000), "\u00b5g/L": (1, 1_000_000), "\u03bcg/L": (1, 1_000_000),
}

# Fractions [-].
_FRACTION: dict[str, tuple[int, int]] = {"": (1, 1), "%": (1, 100), "ppm": (1, 1_000_000)}

# Mass flows: kg/h per unit (per-day units exact through 24 h; per-year units
# divide by the plant's operating hours instead, see _PER_YEAR).
_MASS_FLOW_TO_KG_PER_H: dict[str, tuple[int, int]] = {
    "kg/h": (1, 1), "t/h": (1000, 1), "g/h": (1, 1000), "kg/min": (60, 1), "kg/s": (3600, 1),
    "kg/d": (1, 24), "t/d": (1000, 24), "kg/day": (1, 24), "t/day": (1000, 24),
}
# kg per unit of a per-year flow: kg/h = value * kg / hours_per_year
_PER_YEAR_KG: dict[str, int] = {"t/y": 1000, "t/a": 1000, "t/yr": 1000, "kg/y": 1, "kg/a": 1, "kg/yr": 1}


def _with_lowercase_litre(table: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """Accept 'l' as well as 'L' for the litre ('L/h' and 'l/h')."""
    out = dict(table)
    for unit, factor in table.items():
        out.setdefault(unit.replace("L", "l"), factor)
    return out


_FLOW_TO_L_PER_H = _with_lowercase_litre(_FLOW_TO_L_PER_H)
_MOLAR_TO_MOL_PER_L = _with_lowercase_litre(_MOLAR_TO_MOL_PER_L)
_MASS_TO_G_PER_L = _with_lowercase_litre(_MASS_TO_G_PER_L)

#: Supported ``kind`` values of :func:`parse_quantity` and their internal unit.
QUANTITY_KINDS: Mapping[str, str] = MappingProxyType({
    "volumetric_flow": "L/h",
    "concentration": "mol/L",
    "dimensionless": "1",
    "mass_flow": "kg/h",
})

# What each unit measures, for "wrong kind of unit" messages.
_UNIT_MEANING: dict[str, str] = {}
for _table, _meaning in ((_FLOW_TO_L_PER_H, "a volumetric flow"), (_MOLAR_TO_MOL_PER_L, "a molar concentration"),
                         (_MASS_TO_G_PER_L, "a mass concentration"), (_FRACTION, "a dimensionless fraction"),
                         (_MASS_FLOW_TO_KG_PER_H, "a mass flow"), (_PER_YEAR_KG, "a mass flow")):
    for _unit in _table:
        _UNIT_MEANING[_unit] = _meaning
del _unit, _table, _meaning

_KIND_NAME = {
    "volumetric_flow": "a volumetric flow",
    "concentration": "a concentration",
    "dimensionless": "a dimensionless quantity",
    "mass_flow": "a mass flow",
}

# Units listed in messages (the aliases are accepted but not listed).
_SHOWN = {
    "volumetric_flow": "L/h, L/min, L/s, L/d, mL/min, mL/h, m3/h, m3/d",
    "concentration": "mol/L, M, mmol/L, mM, or with an element g/L, mg/L, kg/m3, g/m3",
    "dimensionless": "%, ppm or no unit",
    "mass_flow": "kg/h, t/h, kg/d, t/d, t/y, kg/y",
}

# The exact-ratio table of each kind (concentration and mass flow have a second table each).
_TABLES = {"volumetric_flow": _FLOW_TO_L_PER_H, "concentration": _MOLAR_TO_MOL_PER_L,
           "dimensionless": _FRACTION, "mass_flow": _MASS_FLOW_TO_KG_PER_H}

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SLASH = re.compile(r"\s*/\s*")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf(?:inity)?)(?![a-z])", re.IGNORECASE)


def _as_number(value: Any, field: str) -> float:
    """A bare number (already in internal units) as a finite float."""
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        raise InputError(field, f"not a finite number: {show(value)}")
    return x


def _finite(result: float, value: Any, field: str) -> float:
    """Reject a conversion that overflowed (e.g. '1e308 m3/h')."""
    if not math.isfinite(result):
        raise InputError(field, f"not a finite number after unit conversion: {show(value)}")
    return result


def _split(value: Any, kind: str, field: str) -> tuple[float, str] | float:
    """A number already in the internal unit, or (number, unit) from a quantity string."""
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):  # numpy bools too
        raise InputError(field, f"expected a number or a quantity string, got a boolean ({value!r})")
    if isinstance(value, numbers.Real):
        return _as_number(value, field)
    if not isinstance(value, str):
        raise InputError(field, f"expected a number or a quantity string such as "
                                f"'1.5 {QUANTITY_KINDS[kind]}', got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise InputError(field, "empty string; expected a number with a unit")
    match = _NUMBER.match(text)
    if match is None:
        if _NON_FINITE.match(text):
            raise InputError(field, f"not a finite number: {show(value)}")
        raise InputError(field, f"not a number: {show(value)}")
    # Blanks around '/' are allowed ('m3 / h' -> 'm3/h'); any other blank
    # inside the unit makes it unknown (and is shown escaped in the message).
    return _as_number(match.group(), field), _SLASH.sub("/", text[match.end():].strip())


def _convert_special(number: float, unit: str, kind: str, field: str, element, hours_per_year) -> float | None:
    """Conversions that need more than an exact ratio: a mass concentration (the element's
    molar mass) and a per-year mass flow (the plant's hours); None when ``unit`` is neither."""
    if kind == "concentration" and unit in _MASS_TO_G_PER_L:
        if element is None:
            raise InputError(field, f"mass concentration unit {unit!r} needs an element to convert "
                                    "to mol/L; use a molar unit (mol/L, M, mmol/L, mM)")
        m = MOLAR_MASS.get(element) if isinstance(element, str) else None
        if m is None:
            m = MOLAR_MASS[check_any_element(element, field)]  # raises
        num, den = _MASS_TO_G_PER_L[unit]
        return number * num / den / m
    if kind == "mass_flow" and unit in _PER_YEAR_KG:
        if hours_per_year is None:
            raise InputError(field, f"a flow per year ({unit}) needs the plant's operating hours; "
                                    "give it per hour or per day")
        return number * _PER_YEAR_KG[unit] / hours_per_year
    return None


def parse_quantity(
    value: Any,
    kind: str,
    *,
    field: str,
    element: str | None = None,
    hours_per_year: float | None = None,
) -> float:
    """Parse a user quantity into magcycle's internal unit for ``kind``.

    ``value`` is either a number, taken to be in the internal unit already,
    or a string ``"<number> <unit>"`` (blanks optional, scientific notation
    allowed, a string with no unit is also taken to be in the internal unit).

    ======================  ==============  =====================================
    kind                    returns         accepted units
    ======================  ==============  =====================================
    ``"volumetric_flow"``   [L/h]           L/h, L/min, L/s, L/d, mL/min, mL/h,
                                            m3/h, m3/d (also m^3/h, hr, day, l)
    ``"concentration"``     [mol/L]         mol/L, M, mmol/L, mM, mol/m3; with
                                            ``element``: g/L, mg/L, kg/m3, g/m3,
                                            ug/L, converted by
                                            c = rho / M(element)
    ``"dimensionless"``     [-]             plain number, % (x 0.01), ppm (x 1e-6)
    ``"mass_flow"``         [kg/h]          kg/h, t/h, g/h, kg/min, kg/s, kg/d,
                                            t/d; per year t/y, kg/y (also t/a),
                                            converted by m = value / hours_per_year
    ======================  ==============  =====================================

    Flow factors are exact: 1 m3 = 1000 L, 1 t = 1000 kg, 1 h = 60 min =
    3600 s, 1 d = 24 h; a year is the plant's ``hours_per_year`` operating
    hours [h/y] (not 8760: a plant is down for maintenance). The sign is
    not checked (callers check positivity); NaN and infinities are rejected.

    Parameters
    ----------
    value : float or str
        A number in the internal unit, or ``"<number> <unit>"``.
    kind : str
        One of :data:`QUANTITY_KINDS`.
    field : str
        Field named by an error.
    element : str, optional
        Element whose M [g/mol] converts a mass concentration.
    hours_per_year : float, optional
        Operating hours [h/y] for a per-year mass flow.

    Returns
    -------
    float
        The value in the internal unit of ``kind`` (L/h, mol/L, -, kg/h).

    Raises
    ------
    InputError
        ``(field, reason)`` for booleans, non-finite numbers, empty or
        malformed strings, unknown units and units of the wrong kind.
    ValueError
        An unknown ``kind`` (a programming error, not a user error).

    References
    ----------
    Exact unit definitions (no outside source); M from IUPAC CIAAW 2021
    (Prohaska et al., Pure Appl. Chem. 94 (2022) 573).

    Examples
    --------

    >>> parse_quantity("6 m3/d", "volumetric_flow", field="feed.flow")   # 6*1000/24
    250.0
    >>> parse_quantity("100 mL/min", "volumetric_flow", field="feed.flow")  # 0.1*60
    6.0
    >>> parse_quantity("1.5 M", "concentration", field="organic.extractant")
    1.5
    >>> round(parse_quantity("36 g/L", "concentration", field="feed.Nd", element="Nd"), 6)
    0.249581
    >>> parse_quantity("35 %", "dimensionless", field="saponification")
    0.35
    >>> parse_quantity(250, "volumetric_flow", field="feed.flow")
    250.0
    >>> parse_quantity("1200 t/y", "mass_flow", field="feed.rate", hours_per_year=8000)  # 1.2e6 / 8000
    150.0
    >>> parse_quantity("3.6 t/d", "mass_flow", field="feed.rate")   # 3600 / 24
    150.0
    >>> parse_quantity("1.5 furlongs", "volumetric_flow", field="feed.flow")
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: feed.flow: unknown unit 'furlongs' for a volumetric flow; use one of L/h, L/min, L/s, L/d, mL/min, mL/h, m3/h, m3/d
    """
    if kind not in QUANTITY_KINDS:
        raise ValueError(
            f"unknown quantity kind {kind!r}; expected one of {', '.join(QUANTITY_KINDS)}"
        )
    parsed = _split(value, kind, field)
    if not isinstance(parsed, tuple):
        return parsed
    number, unit = parsed
    if unit == "" and kind != "dimensionless":
        return number  # bare number string: already in the internal unit
    ratio = _TABLES[kind].get(unit)
    if ratio is not None:
        return _finite(number * ratio[0] / ratio[1], value, field)
    special = _convert_special(number, unit, kind, field, element, hours_per_year)
    if special is not None:
        return _finite(special, value, field)
    meaning = _UNIT_MEANING.get(unit)
    if meaning is None:
        raise InputError(
            field,
            f"unknown unit {show(unit)} for {_KIND_NAME[kind]}; use one of {_SHOWN[kind]}",
        )
    raise InputError(
        field,
        f"unit {show(unit)} is {meaning}, not {_KIND_NAME[kind]}; use one of {_SHOWN[kind]}",
    )
