"""Pretreatment: demagnetisation, crushing, drying and an optional oxidative roast.

Configuration
    One inlet ``feed`` (wet magnet scrap, solids on an elemental basis plus
    moisture ``H2O``); outlets ``product`` (dry crushed solids), ``offgas``
    (water vapour, CO2 of a roast) and ``dust`` (solids lost to the bag filter).

Degrees of freedom
    ``dust_loss`` (fraction of solids), ``roast`` (bool), the specific
    energies of demagnetisation and crushing.

Equations
    dust_E = dust_loss * n_E; product_E = (1 - dust_loss) n_E for every element E.
    All moisture leaves as vapour. With ``roast``: C + O2 -> CO2, and each
    metal is oxidised to its oxide in air (RE to the calcination oxides,
    Fe -> Fe2O3, Co -> CoO, Ni -> NiO, Cu -> CuO, Al, Ga, B -> M2O3), drawing
    O2 = (sum_E v_E n_E / 2 - O_present) / 2 from air (never negative).
    Roasting in air above 500 C forms NdFeO3, which dissolves slowly (up to
    72 h; [A] J. Sustain. Metall. 2019, s40831-019-00259-1); the leach
    dissolution fractions must then be set accordingly.
"""

from __future__ import annotations

from magcycle.chem.elements import RARE_EARTHS
from magcycle.schema import field
from magcycle.units.base import UnitOperation, UnitParams, UnitResult, power_law_cost
from magcycle.units.stream import Stream

__all__ = ["OXIDE_O_PER_METAL", "PretreatmentParams", "Pretreatment"]

#: O atoms per metal atom in the oxide formed in air
OXIDE_O_PER_METAL = {el: 1.5 for el in RARE_EARTHS} | {
    "Ce": 2.0, "Pr": 11 / 6, "Tb": 7 / 4, "Fe": 1.5, "Co": 1.0, "Ni": 1.0, "Cu": 1.0,
    "Al": 1.5, "Ga": 1.5, "B": 1.5, "Nb": 2.5, "Ca": 1.0, "Si": 2.0, "Na": 0.5,
}


class PretreatmentParams(UnitParams):
    dust_loss: float = field(0.001, unit="-", ge=0.0, le=0.5,
                             description="fraction of the solids lost to the bag filter as dust", source="[C]")
    roast: bool = field(False, description="oxidative roast in air after crushing (C to CO2, metals to oxides)")
    demagnetisation_kWh_per_t: float = field(
        60.0, unit="kWh/t", ge=0.0, le=10_000.0, description="electricity to demagnetise a tonne of dry scrap",
        source="[C] heating to about 350 C at 0.45 kJ/(kg K), plus losses")
    crushing_kWh_per_t: float = field(15.0, unit="kWh/t", ge=0.0, le=10_000.0,
                                      description="electricity to crush a tonne of dry scrap",
                                      source="[C] jaw and hammer mill to below 1 mm")


class Pretreatment(UnitOperation):
    type_name = "pretreatment"
    summary = "demagnetise, crush and dry magnet scrap; optional oxidative roast"
    inlets = ("feed",)
    outlets = ("product", "offgas", "dust")
    Params = PretreatmentParams

    def _run(self, inlets, state):
        feed = inlets["feed"]
        solids = {k: v for k, v in feed.mol_h.items() if k != "H2O"}
        water = feed.get("H2O")
        keep = 1.0 - self.p["dust_loss"]
        dust = {k: v * self.p["dust_loss"] for k, v in solids.items()}
        prod = {k: v * keep for k, v in solids.items()}
        offgas = {"H2O": water} if water else {}
        reagents = {}
        if self.p["roast"]:
            carbon = prod.pop("C", 0.0)
            if carbon:
                offgas["CO2"] = carbon
            need_o = sum(OXIDE_O_PER_METAL.get(el, 0.0) * n for el, n in prod.items())
            o2 = carbon + max(0.0, need_o - prod.get("O", 0.0)) / 2.0
            prod["O"] = max(need_o, prod.get("O", 0.0))
            reagents["O2"] = o2
        dry_kg_h = Stream("solid", solids).kg_h()
        kwh_t = self.p["demagnetisation_kWh_per_t"] + self.p["crushing_kWh_per_t"]
        return UnitResult(
            outlets={"product": Stream("solid", prod), "offgas": Stream("gas", offgas),
                     "dust": Stream("solid", dust)},
            reagents=reagents,
            utilities={"electricity_kW": kwh_t * dry_kg_h / 1000.0},
            info={"dry_feed_kg_per_h": dry_kg_h},
        )

    def design(self, result):
        return {"throughput_t_per_h": result.info["dry_feed_kg_per_h"] / 1000.0}

    def cost(self, design):
        return power_law_cost(design["throughput_t_per_h"], 1.0, 450_000.0, 0.6,
                              "[C] demagnetising furnace + crusher + mill line, 1 t/h, six-tenths rule",
                              size_unit="t/h")
