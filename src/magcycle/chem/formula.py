"""Chemical formulas of species: element counts, charge and molar mass.

A species name is a formula with an optional charge suffix: ``"Nd+3"``,
``"Cl-"``, ``"SO4-2"``, ``"FeO(OH)"``, ``"Nd2(C2O4)3.10H2O"`` (a dot or
``*`` joins a hydrate; a leading number multiplies the part after it).
Parenthesised groups may nest. Element symbols must be in
:data:`magcycle.chem.elements.MOLAR_MASS`.

The molar mass is the sum of the element masses (IUPAC 2021, see
:mod:`magcycle.chem.elements`); the electron mass of an ion is neglected
(5.5e-4 g/mol per charge, below the uncertainty of most atomic weights used).

>>> parse_formula("Nd2(C2O4)3.10H2O")
{'Nd': 2, 'C': 6, 'O': 22, 'H': 20}
>>> charge("SO4-2"), charge("Nd+3"), charge("H2O")
(-2, 3, 0)
>>> round(formula_mass("H2C2O4.2H2O"), 3)
126.064
"""

from __future__ import annotations

import re
from functools import lru_cache

from magcycle.chem.elements import MOLAR_MASS
from magcycle.errors import InputError

__all__ = ["element_counts", "parse_formula", "charge", "formula_mass"]

_CHARGE = re.compile(r"([+-])(\d*)$")
_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*)|(\()|(\))(\d*)")


@lru_cache(maxsize=4096)
def _split_charge(name: str) -> tuple[str, int]:
    m = _CHARGE.search(name)
    if not m or m.start() == 0:
        return name, 0
    size = int(m.group(2)) if m.group(2) else 1
    return name[: m.start()], size if m.group(1) == "+" else -size


def charge(name: str) -> int:
    """Charge number z of a species from its suffix (``"Fe+3"`` -> 3) [-].

    The suffix is a sign and an optional count: ``+`` or ``-`` alone is a
    charge of 1. A name with no suffix is neutral (z = 0).

    >>> charge("Fe+3"), charge("Cl-"), charge("SO4-2"), charge("Na+"), charge("H2O")
    (3, -1, -2, 1, 0)
    """
    return _split_charge(name)[1]


def _parse_part(part: str, name: str, field: str) -> dict[str, int]:
    mult = 1
    m = re.match(r"(\d+)", part)
    if m:
        mult = int(m.group(1))
        part = part[m.end():]
    stack: list[dict[str, int]] = [{}]
    pos = 0
    while pos < len(part):
        t = _TOKEN.match(part, pos)
        if t is None:
            raise InputError(field, f"cannot read the formula {name!r} at {part[pos:]!r}")
        sym, num, opening, closing, cnum = t.groups()
        if sym:
            if sym not in MOLAR_MASS:
                raise InputError(field, f"unknown element {sym!r} in the formula {name!r}")
            top = stack[-1]
            top[sym] = top.get(sym, 0) + (int(num) if num else 1)
        elif opening:
            stack.append({})
        else:
            if len(stack) == 1:
                raise InputError(field, f"unbalanced ')' in the formula {name!r}")
            group = stack.pop()
            k = int(cnum) if cnum else 1
            for el, n in group.items():
                stack[-1][el] = stack[-1].get(el, 0) + n * k
        pos = t.end()
    if len(stack) != 1:
        raise InputError(field, f"unbalanced '(' in the formula {name!r}")
    return {el: n * mult for el, n in stack[0].items()}


@lru_cache(maxsize=None)
def element_counts(name: str) -> tuple[tuple[str, int], ...]:
    """(element, count) of one formula unit of ``name``, charge suffix ignored; cached, immutable.

    Hydrates and adducts joined by '.' or '*' add up; brackets multiply:

    >>> element_counts("Nd2(C2O4)3.10H2O")
    (('Nd', 2), ('C', 6), ('O', 22), ('H', 20))
    >>> element_counts("SO4-2")
    (('S', 1), ('O', 4))
    """
    body, _ = _split_charge(name)
    if not body:
        raise InputError("species", f"empty formula {name!r}")
    counts: dict[str, int] = {}
    for part in re.split(r"[.*]", body):
        if not part:
            raise InputError("species", f"cannot read the formula {name!r}")
        for el, n in _parse_part(part, name, "species").items():
            counts[el] = counts.get(el, 0) + n
    return tuple(counts.items())


def parse_formula(name: str) -> dict[str, int]:
    """Element counts of one formula unit of ``name`` (charge suffix ignored).

    Raises InputError (field ``species``) for an unreadable formula or an
    unknown element.

    >>> parse_formula("FeO(OH)")          # Fe 1; O 1 + 1; H 1
    {'Fe': 1, 'O': 2, 'H': 1}
    >>> parse_formula("H2C2O4.2H2O")      # H 2 + 2*2; C 2; O 4 + 2*1
    {'H': 6, 'C': 2, 'O': 6}
    """
    return dict(element_counts(name))


@lru_cache(maxsize=None)
def formula_mass(name: str) -> float:
    """Molar mass of the species ``name`` [g/mol].

    .. math:: M = \\sum_E n_E \\, M(E)

    over the elements E of one formula unit (:func:`element_counts`); the
    electron mass of an ion is neglected (5.5e-4 g/mol per charge).

    Parameters
    ----------
    name : str
        Species formula with an optional charge suffix (``"Nd2(C2O4)3.10H2O"``,
        ``"SO4-2"``).

    Returns
    -------
    float
        M [g/mol].

    Raises
    ------
    InputError
        Field ``species``: an unreadable formula or an unknown element.

    References
    ----------
    Atomic weights M(E): IUPAC CIAAW 2021, Prohaska et al., Pure Appl. Chem.
    94 (2022) 573 (:mod:`magcycle.chem.elements`).

    Examples
    --------
    >>> round(formula_mass("H2O"), 3)            # 2*1.008 + 15.999
    18.015
    >>> round(formula_mass("H2C2O4.2H2O"), 3)    # 6*1.008 + 2*12.011 + 6*15.999 = 6.048 + 24.022 + 95.994
    126.064
    >>> round(formula_mass("Nd+3"), 3)           # the ion weighs as the atom
    144.242
    """
    return sum(n * MOLAR_MASS[el] for el, n in element_counts(name))
