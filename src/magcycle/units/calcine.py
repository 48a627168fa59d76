"""Calcination of oxalates (or hydroxides) to the oxides formed in air.

Configuration
    Inlet ``solids``; outlets ``oxide`` and ``offgas``.

Degrees of freedom
    Temperature and time (for the duty and the furnace size only).

Equations
    Every metal goes to its oxide in air: RE2O3, CeO2, Pr6O11, Tb4O7
    (:mod:`magcycle.chem.oxides`), Fe2O3, CoO, NiO, CuO, Al2O3, Ga2O3, B2O3,
    Na2O; carbon leaves as CO2, hydrogen as H2O; O2 is drawn from air to
    close the oxygen balance: O2 = (O_out - O_in) / 2. For
    RE2(C2O4)3.10H2O -> RE2O3 + 6 CO2 + 10 H2O that is 0.75 O2 per RE.
    HREE oxalates (Ho-Lu, Y) reach the oxide at 680-700 C ([A] a Scilit
    record of the series "oxalate decomposition III"; Balboul, Thermochim.
    Acta 351 (2000) 55); industrial practice is 850-950 C for 2-4 h in air
    ([C] general literature knowledge, no retrieved source).

    Mother liquor left in the cake brings chloride, sulfate and sodium.
    Sulfate stays as the oxysulfate RE2O2SO4 of the main rare earth below
    ``SULFATE_DECOMPOSITION_C`` (1100 C [C]; RE oxysulfates lose SO3 only
    at about 1100-1300 C), otherwise it leaves as SO2 + 1/2 O2. A fraction
    ``chloride_retained`` (default 0.1 [C], an assumption: oxychlorides
    REOCl hydrolyse slowly in moist air at 850-950 C) stays as REOCl; the
    rest leaves as HCl, as far as the solids hold hydrogen, and then as
    Cl2. Sodium stays as Na2O. The impurity checks of the product specs
    (Cl, SO4 ppm) see what is kept.
"""

from __future__ import annotations

from magcycle.chem.elements import RARE_EARTHS
from magcycle.chem.formula import parse_formula
from magcycle.chem.oxides import OXIDE_FORMULA
from magcycle.errors import InputError
from magcycle.schema import field
from magcycle.units.base import UnitOperation, UnitParams, UnitResult, power_law_cost
from magcycle.units.stream import Stream

__all__ = ["OTHER_OXIDES", "SULFATE_DECOMPOSITION_C", "oxide_of", "CalcinationParams", "Calcination"]

OTHER_OXIDES = {"Fe": "Fe2O3", "Co": "CoO", "Ni": "NiO", "Cu": "CuO", "Al": "Al2O3", "Ga": "Ga2O3",
                "B": "B2O3", "Na": "Na2O", "Ca": "CaO", "Si": "SiO2", "Nb": "Nb2O5"}

#: [C] above about this temperature RE2O2SO4 gives off SO3 (-> SO2 + 1/2 O2)
SULFATE_DECOMPOSITION_C = 1100.0


def oxide_of(el: str) -> str:
    """Formula of the oxide a metal forms on calcination in air.

    Rare earths as :func:`magcycle.chem.oxides.oxide_formula` (RE2O3, CeO2,
    Pr6O11, Tb4O7); other metals from :data:`OTHER_OXIDES` (Fe2O3, CoO, NiO,
    CuO, Al2O3, Ga2O3, B2O3, Na2O, CaO, SiO2, Nb2O5: [C] the usual oxides in
    air, no retrieved source). Raises InputError (field ``calcination``) for
    a metal with no known oxide.

    >>> oxide_of("Pr"), oxide_of("Fe"), oxide_of("Co")
    ('Pr6O11', 'Fe2O3', 'CoO')
    """
    if el in OXIDE_FORMULA:
        return OXIDE_FORMULA[el][0]
    if el in OTHER_OXIDES:
        return OTHER_OXIDES[el]
    raise InputError("calcination", f"no oxide known for {el}")


class CalcinationParams(UnitParams):
    temperature_C: float = field(900.0, unit="degC", ge=500.0, le=1400.0,
                                 description="furnace temperature; sulfate stays as oxysulfate below 1100 C",
                                 source="[C] industrial practice 850-950 C in air, no retrieved source; "
                                        "HREE oxalates reach the oxide at 680-700 C ([A] Balboul, Thermochim. "
                                        "Acta 351 (2000) 55)")
    hours: float = field(3.0, unit="h", ge=0.5, le=24.0, description="time at temperature",
                         source="[C] industrial practice 2-4 h, no retrieved source")
    chloride_retained: float = field(0.1, unit="-", ge=0.0, le=1.0,
                                     description="share of the cake's chloride kept as the oxychloride REOCl",
                                     source="[C] an assumption: REOCl hydrolyses slowly in moist air at 850-950 C")


class Calcination(UnitOperation):
    type_name = "calcination"
    summary = "calcine oxalates (or hydroxides) to the oxides formed in air"
    inlets = ("solids",)
    outlets = ("oxide", "offgas")
    Params = CalcinationParams

    def _run(self, inlets, state):
        els = dict(inlets["solids"].elements())
        if els.get("N"):
            raise InputError(f"units.{self.name}", "calcination of N-bearing solids is not modelled")
        oxide: dict[str, float] = {}
        gas: dict[str, float] = {}
        metals = {el: n for el, n in els.items() if el not in ("C", "H", "O", "Cl", "S")}
        rare = {el: n for el, n in metals.items() if el in RARE_EARTHS}
        main = max(rare, key=rare.get) if rare else None
        o_out = self._sulfate(els.get("S", 0.0), main, metals, oxide, gas, 0.0)
        h_left, o_out = self._chloride(els.get("Cl", 0.0), els.get("H", 0.0), main, metals, oxide, gas, o_out)
        o_out = _metal_oxides(metals, oxide, o_out)
        o_out = _carbon_and_hydrogen(els.get("C"), h_left, gas, o_out)
        reagents = _air(o_out, els.get("O", 0.0), gas)  # before the offgas is made: a surplus of O2 joins it
        return UnitResult(outlets={"oxide": Stream("solid", oxide), "offgas": Stream("gas", gas)},
                          reagents=reagents, info={"feed_kg_per_h": inlets["solids"].kg_h()})

    def _sulfate(self, s_tot: float, main: str | None, metals: dict, oxide: dict, gas: dict, o_out: float) -> float:
        """Sulfate kept as the oxysulfate RE2O2SO4 of the main rare earth below SULFATE_DECOMPOSITION_C, else
        (or with no rare earth to hold it) given off as SO2 + 1/2 O2; returns the oxygen out [mol/h]."""
        if s_tot > 0:
            held = 0.0
            if main is not None and self.p["temperature_C"] < SULFATE_DECOMPOSITION_C:
                held = min(s_tot, metals[main] / 2.0)
                oxide[f"{main}2O2SO4"] = held
                metals[main] -= 2.0 * held
                o_out += 6.0 * held
            if s_tot - held > 0:
                gas["SO2"] = s_tot - held
                o_out += 2.0 * (s_tot - held)
        return o_out

    def _chloride(self, cl_tot: float, h_left: float, main: str | None, metals: dict, oxide: dict, gas: dict,
                  o_out: float) -> tuple[float, float]:
        """Chloride: a fraction kept as the oxychloride REOCl, the rest as HCl (Cl2 past the hydrogen);
        returns the hydrogen left [mol/h] and the oxygen out [mol/h]."""
        if cl_tot > 0:
            held = 0.0
            if main is not None:
                held = min(cl_tot * self.p["chloride_retained"], metals[main])
                if held > 0:
                    oxide[f"{main}OCl"] = held
                    metals[main] -= held
                    o_out += held
            free = cl_tot - held
            hcl = min(free, h_left)
            if hcl > 0:
                gas["HCl"] = hcl
                h_left -= hcl
            if free - hcl > 0:
                gas["Cl2"] = (free - hcl) / 2.0
        return h_left, o_out

    def design(self, result):
        return {"throughput_kg_per_h": result.info["feed_kg_per_h"]}

    def cost(self, design):
        return power_law_cost(design["throughput_kg_per_h"], 50.0, 250_000.0, 0.6,
                              "[C] electric muffle/rotary calciner for 50 kg/h oxalate, six-tenths rule",
                              size_unit="kg/h")


def _metal_oxides(metals: dict, oxide: dict, o_out: float) -> float:
    """Every metal left to its oxide in air (:func:`oxide_of`); returns the oxygen out [mol/h]."""
    for el, n in metals.items():
        if n <= 0:
            continue
        f = oxide_of(el)
        counts = parse_formula(f)
        units = n / counts[el]
        oxide[f] = oxide.get(f, 0.0) + units
        o_out += units * counts["O"]
    return o_out


def _carbon_and_hydrogen(carbon: float | None, h_left: float, gas: dict, o_out: float) -> float:
    """Carbon off as CO2 and the hydrogen left as H2O; returns the oxygen out [mol/h]."""
    if carbon:
        gas["CO2"] = carbon
        o_out += 2.0 * carbon
    if h_left > 0:
        gas["H2O"] = h_left / 2.0
        o_out += h_left / 2.0
    return o_out


def _air(o_out: float, o_in: float, gas: dict) -> dict[str, float]:
    """The O2 drawn from air to close the oxygen balance, O2 = (O_out - O_in) / 2, as reagents; a surplus of
    oxygen leaves with the gas."""
    o2 = (o_out - o_in) / 2.0
    reagents = {}
    if o2 > 0:
        reagents["O2"] = o2
    elif o2 < 0:
        gas["O2"] = -o2
    return reagents
