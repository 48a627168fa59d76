"""Process streams: a phase and species flows [mol/h].

Species are named by formula (:mod:`magcycle.chem.formula`). By convention

* solids carry metals on an elemental basis (``"Nd"``, ``"Fe"``, ``"O"``,
  ``"C"`` as present in the magnet or residue) and named compounds once a
  unit has made them (``"FeO(OH)"``, ``"Nd2(C2O4)3.10H2O"``, ``"Nd2O3"``);
* aqueous streams carry ions with their charge (``"Nd+3"``, ``"Fe+2"``,
  ``"Cl-"``, ``"H+"``, ``"Na+"``), neutral solutes (``"H3BO3"``,
  ``"H2C2O4"``) and water ``"H2O"``;
* gases carry molecules (``"H2"``, ``"CO2"``, ``"O2"``, ``"H2O"``).

The volume of an aqueous stream is taken as its water at 1 kg/L (dilute
liquors; the concentrated leach liquor is off by its density, 1.2-1.3 kg/L,
which only shifts concentrations, never a mass balance).

Streams are immutable: every operation returns a new one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from magcycle.chem.formula import charge, element_counts, formula_mass, parse_formula
from magcycle.errors import InputError

__all__ = ["PHASES", "WATER_L_PER_MOL", "Stream", "empty", "mass_kg_h", "element_totals", "closure"]

PHASES = ("solid", "aqueous", "organic", "gas")

#: [L/mol] volume of water per mole at 1 kg/L: M(H2O) / 1000 g/L = 18.015 / 1000 = 0.018015
WATER_L_PER_MOL = formula_mass("H2O") / 1000.0
_INF = float("inf")


@dataclass(frozen=True)
class Stream:
    """One stream: ``phase`` and species flows ``mol_h`` [mol/h]."""

    phase: str
    mol_h: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        if self.phase not in PHASES:
            raise InputError("phase", f"unknown phase {self.phase!r}; expected one of {', '.join(PHASES)}")
        flows = {}
        for k, v in self.mol_h.items():
            element_counts(k)  # a readable formula of known elements (cached)
            if not 0.0 <= v < _INF:  # also rejects NaN
                raise InputError(f"mol_h.{k}", f"a flow must be finite and >= 0, got {v!r}")
            if v != 0.0:
                flows[k] = float(v)
        object.__setattr__(self, "mol_h", MappingProxyType(flows))

    # ------------------------------------------------------------ quantities
    def get(self, species: str) -> float:
        return self.mol_h.get(species, 0.0)

    def elements(self) -> dict[str, float]:
        """Element flows [mol/h] summed over species (computed once per stream; a copy is returned)."""
        return dict(self._element_flows())

    def _element_flows(self) -> dict[str, float]:
        cached = self.__dict__.get("_elements")
        if cached is None:
            cached = _add_elements({}, self.mol_h)
            object.__setattr__(self, "_elements", cached)  # the stream is immutable
        return cached

    def element(self, symbol: str) -> float:
        """Flow of one element [mol/h]."""
        return sum(parse_formula(sp).get(symbol, 0) * n for sp, n in self.mol_h.items())

    def kg_h(self, species: str | None = None) -> float:
        """Mass flow of one species or of the whole stream [kg/h]: n_i M_i / 1000 (:func:`mass_kg_h`).

        >>> Stream("aqueous", {"H2O": 1000.0, "Cl-": 2.0}).kg_h("Cl-")   # 2 * 35.45 / 1000
        0.0709
        """
        if species is not None:
            return self.get(species) * formula_mass(species) / 1000.0
        return mass_kg_h(self.mol_h)

    @property
    def volume_L_h(self) -> float:
        """Liquid volume [L/h]: the water at 1 kg/L, V = n_H2O M_H2O / 1000 (0 for solids and gases).

        >>> round(Stream("aqueous", {"H2O": 1000.0}).volume_L_h, 6)   # 1000 * 18.015 / 1000
        18.015
        """
        if self.phase != "aqueous":
            return 0.0
        return self.get("H2O") * WATER_L_PER_MOL

    def concentration(self, species: str) -> float:
        """[mol/L] of a solute in an aqueous stream: c_i = n_i / V, V from :attr:`volume_L_h` (0 if V = 0).

        >>> round(Stream("aqueous", {"H2O": 1000.0, "Nd+3": 9.0075}).concentration("Nd+3"), 6)  # 9.0075 / 18.015
        0.5
        """
        v = self.volume_L_h
        return self.get(species) / v if v > 0 else 0.0

    def net_charge(self) -> float:
        """sum z_i n_i [mol/h of charge]; zero for an electroneutral liquor.

        >>> Stream("aqueous", {"Nd+3": 1.0, "Cl-": 2.0}).net_charge()   # 3 * 1 - 2
        1.0
        """
        return sum(charge(sp) * n for sp, n in self.mol_h.items())

    # ------------------------------------------------------------ algebra
    def plus(self, other: "Stream | Mapping[str, float]") -> "Stream":
        flows = dict(self.mol_h)
        items = other.mol_h.items() if isinstance(other, Stream) else other.items()
        for k, v in items:
            flows[k] = flows.get(k, 0.0) + v
        return Stream(self.phase, flows)

    def scaled(self, factor: float) -> "Stream":
        return Stream(self.phase, {k: v * factor for k, v in self.mol_h.items()})

    def without(self, species: Iterable[str]) -> "Stream":
        drop = set(species)
        return Stream(self.phase, {k: v for k, v in self.mol_h.items() if k not in drop})

    def to_dict(self) -> dict:
        return {"phase": self.phase, "mol_per_h": dict(self.mol_h), "kg_per_h": self.kg_h(),
                "L_per_h": self.volume_L_h}


def empty(phase: str) -> Stream:
    return Stream(phase, {})


def mass_kg_h(flows: Mapping[str, float]) -> float:
    """Mass flow [kg/h] of species flows [mol/h] (a stream's or a unit's working dict).

    .. math:: \\dot m = \\frac{1}{1000} \\sum_i \\dot n_i M_i

    Parameters
    ----------
    flows : mapping of str to float
        Species formula -> flow n_i [mol/h].

    Returns
    -------
    float
        Mass flow [kg/h] (M_i [g/mol] / 1000 g/kg).

    References
    ----------
    M_i from :func:`magcycle.chem.formula.formula_mass` (IUPAC CIAAW 2021 atomic weights).

    Examples
    --------
    >>> round(mass_kg_h({"H2O": 1000.0}), 6)               # 1000 * 18.015 / 1000
    18.015
    >>> round(mass_kg_h({"Nd+3": 2.0, "Cl-": 6.0}), 6)     # (2 * 144.242 + 6 * 35.45) / 1000
    0.501184
    """
    return sum(n * formula_mass(sp) for sp, n in flows.items()) / 1000.0


def element_totals(streams: Iterable[Stream | Mapping[str, float]]) -> dict[str, float]:
    """Element flows [mol/h] summed over streams or plain species mappings.

    .. math:: \\dot n_E = \\sum_{s} \\sum_i \\nu_{E,i} \\, \\dot n_{i,s}

    with nu_E,i the atoms of E in one formula unit of species i
    (:func:`magcycle.chem.formula.element_counts`).

    Parameters
    ----------
    streams : iterable of Stream or mapping of str to float
        Streams, or species formula -> flow [mol/h].

    Returns
    -------
    dict of str to float
        Element -> flow [mol/h].

    References
    ----------
    Atom balance (no outside source).

    Examples
    --------
    >>> t = element_totals([{"Nd2(C2O4)3.10H2O": 1.0}, Stream("aqueous", {"H2O": 2.0, "Nd+3": 0.5})])
    >>> t["Nd"], t["C"], t["O"], t["H"]     # Nd 2 + 0.5; O 22 + 2; H 20 + 4
    (2.5, 6.0, 24.0, 24.0)
    """
    out: dict[str, float] = {}
    get = out.get
    for s in streams:
        if isinstance(s, Stream):
            for el, n in s._element_flows().items():
                out[el] = get(el, 0.0) + n
        else:
            _add_elements(out, s)
    return out


def _add_elements(out: dict[str, float], flows: Mapping[str, float]) -> dict[str, float]:
    """Adds the element flows [mol/h] of species flows to ``out`` and returns it."""
    get = out.get
    for sp, n in flows.items():
        for el, k in element_counts(sp):
            out[el] = get(el, 0.0) + k * n
    return out


def closure(inflow: Mapping[str, float], outflow: Mapping[str, float]) -> dict[str, float]:
    """Relative closure error per element [-]:

        e_E = |in_E - out_E| / max(|in_E|, |out_E|)

    An element with zero flow on both sides has error 0; a flow that is not
    a finite number (NaN, infinity) has error infinity, so that no check
    passes it (a NaN compares false with everything, and would otherwise
    read as a perfect balance).

    >>> closure({"Nd": 2.0}, {"Nd": 1.5})
    {'Nd': 0.25}
    >>> closure({"Nd": 1.0}, {"Nd": float("nan")})
    {'Nd': inf}
    """
    out = {}
    for el in set(inflow) | set(outflow):
        a, b = inflow.get(el, 0.0), outflow.get(el, 0.0)
        scale = max(abs(a), abs(b))
        err = abs(a - b) / scale if scale > 0 else 0.0
        out[el] = err if err <= 1.0 or math.isfinite(a + b) else math.inf  # NaN fails `<=` too
    return out
