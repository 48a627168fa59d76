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
    HREE oxalates reach the oxide at 680-700 C; industrial practice is
    850-950 C for 2-4 h in air ([A]/[C], reference-data section 4).
"""

from __future__ import annotations


from magcycle.chem.formula import parse_formula
from magcycle.chem.oxides import OXIDE_FORMULA
from magcycle.errors import InputError
from magcycle.units.base import UnitOperation, UnitResult, number, power_law_cost
from magcycle.units.stream import Stream

OTHER_OXIDES = {"Fe": "Fe2O3", "Co": "CoO", "Ni": "NiO", "Cu": "CuO", "Al": "Al2O3", "Ga": "Ga2O3",
                "B": "B2O3", "Na": "Na2O", "Ca": "CaO", "Si": "SiO2", "Nb": "Nb2O5"}


def oxide_of(el: str) -> str:
    """Formula of the oxide a metal forms on calcination in air."""
    if el in OXIDE_FORMULA:
        return OXIDE_FORMULA[el][0]
    if el in OTHER_OXIDES:
        return OTHER_OXIDES[el]
    raise InputError("calcination", f"no oxide known for {el}")


class Calcination(UnitOperation):
    type_name = "calcination"
    inlets = ("solids",)
    outlets = ("oxide", "offgas")
    params = {
        "temperature_C": (900.0, number(500.0, 1400.0)),
        "hours": (3.0, number(0.5, 24.0)),
    }

    def _run(self, inlets, state):
        els = inlets["solids"].elements()
        oxide: dict[str, float] = {}
        o_out = 0.0
        gas: dict[str, float] = {}
        for el, n in els.items():
            if el in ("C", "H", "O"):
                continue
            if el in ("Cl", "S", "N"):
                raise InputError(f"units.{self.name}", f"calcination of {el}-bearing solids is not modelled")
            f = oxide_of(el)
            counts = parse_formula(f)
            units = n / counts[el]
            oxide[f] = oxide.get(f, 0.0) + units
            o_out += units * counts["O"]
        if els.get("C"):
            gas["CO2"] = els["C"]
            o_out += 2.0 * els["C"]
        if els.get("H"):
            gas["H2O"] = els["H"] / 2.0
            o_out += els["H"] / 2.0
        o2 = (o_out - els.get("O", 0.0)) / 2.0
        reagents = {}
        if o2 > 0:
            reagents["O2"] = o2
        elif o2 < 0:
            gas["O2"] = -o2
        return UnitResult(outlets={"oxide": Stream("solid", oxide), "offgas": Stream("gas", gas)},
                          reagents=reagents, info={"feed_kg_per_h": inlets["solids"].kg_h()})

    def design(self, result):
        return {"throughput_kg_per_h": result.info["feed_kg_per_h"]}

    def cost(self, design):
        return power_law_cost(design["throughput_kg_per_h"], 50.0, 250_000.0, 0.6,
                              "[C] electric muffle/rotary calciner for 50 kg/h oxalate, six-tenths rule")
