"""Acid leach of crushed magnet (HCl or H2SO4).

Configuration
    Inlets ``solids`` (elemental basis) and optional ``recycle`` (an aqueous
    return, e.g. oxalate filtrate); outlets ``liquor`` (aqueous), ``residue``
    (undissolved solids) and ``offgas`` (H2, CO2).

Degrees of freedom
    Dissolution fraction per element ``dissolution`` (default 0.995 for the
    rare earths, 0.98 Fe, 0.95 Co and Ni, 0.5 Cu, 0.9 Al, Ga and B; [C]
    typical of a direct HCl leach of unroasted NdFeB), ``excess`` acid over
    the stoichiometric demand, ``liquid_to_solid`` [L/kg], the acid strength,
    and the valence of dissolved iron.

Equations
    Dissolved metal E: d_E = f_E n_E, as ions E^{z_E} (RE 3+, Fe z_Fe, Co/Ni/Cu
    2+, Al/Ga 3+). Acid demand (protons) H_dem = sum z_E d_E; the O of the
    solids dissolves with it, O_d = min(O, H_dem / 2), as water (2 H+ + O ->
    H2O); the rest of the demand frees hydrogen, H2 = (H_dem - 2 O_d) / 2.
    Boron dissolves as boric acid, B + 3 H2O -> H3BO3 + 3/2 H2. Acid fed
    H_acid = max(0, (1 + excess) H_dem - H+_recycle), so the liquor keeps a
    free acid of excess * H_dem. Oxalic acid arriving with a recycle is
    destroyed by hydrogen peroxide: H2C2O4 + H2O2 -> 2 CO2 + 2 H2O. Water is
    made up to ``liquid_to_solid`` L per kg of dry solids. Carbon and the
    undissolved fractions report to the residue.

    In a sulfate liquor the rare earths dissolved beyond the sulfate's
    solubility at ``temperature_C``, c_max(T) [mol RE per L of water,
    retrograde: :func:`magcycle.chem.sulfate.sulfate_solubility`],
    crystallise as RE2(SO4)3.8H2O and stay in the residue, every rare earth
    in the same proportion ([C]). With N the rare earth dissolved and W the
    liquor's water [mol/h], each RE crystallised taking 1.5 SO4 and 4 H2O,

        x = (N - c_max W v) / (1 - 4 c_max v),   v = 0.018015 L/mol,

    capped by the sulfate (x <= SO4 / 1.5). The acid they consumed stays
    consumed; the free acid is unchanged.

    KU Leuven's roast-leach used n(HCl)/n(Ln) = 3.5 at 80 C, with Fe left as
    oxide ([A] Vander Hoogerstraete et al., RSC Adv. 2014, c4ra13787f); that
    is an excess of 3.5/3 - 1 = 0.17 on the rare earths ([D]). The default
    excess is 0.1 on the whole demand (a project choice, no source).
"""

from __future__ import annotations

from typing import Literal

from magcycle.chem.elements import RARE_EARTHS
from magcycle.chem.formula import formula_mass
from magcycle.schema import ElementSymbol, field, quantity
from magcycle.units.base import UnitOperation, UnitParams, UnitResult, power_law_cost
from magcycle.units.stream import WATER_L_PER_MOL, Stream, mass_kg_h

__all__ = ["VALENCE", "DEFAULT_DISSOLUTION", "ACIDS", "water_per_mol_solute", "ion", "LeachParams", "Leach"]

VALENCE = {el: 3 for el in RARE_EARTHS} | {"Co": 2, "Ni": 2, "Cu": 2, "Al": 3, "Ga": 3, "Nb": 5, "Ca": 2,
                                            "Na": 1}
DEFAULT_DISSOLUTION = {el: 0.995 for el in RARE_EARTHS} | {
    "Fe": 0.98, "Co": 0.95, "Ni": 0.95, "Cu": 0.5, "Al": 0.9, "Ga": 0.9, "B": 0.9, "Nb": 0.0,
}
ACIDS = {"HCl": ("Cl-", 1), "H2SO4": ("SO4-2", 2)}


def water_per_mol_solute(solute: str, wt_pct: float) -> float:
    """Moles of water carried per mole of solute in a solution of ``wt_pct`` [mol/mol].

    .. math:: \\frac{n_{H_2O}}{n_s} = \\frac{(100 - w) / M_{H_2O}}{w / M_s}
              = \\frac{100 - w}{w} \\, \\frac{M_s}{M_{H_2O}}

    for 100 g of solution holding w g of solute.

    Parameters
    ----------
    solute : str
        Formula of the solute (``"HCl"``, ``"H2SO4"``, ``"NaOH"``, ``"H2O2"``).
    wt_pct : float
        w, strength of the solution [wt %], in (0, 100].

    Returns
    -------
    float
        Water per solute [mol H2O / mol solute].

    References
    ----------
    Molar masses M [g/mol]: IUPAC CIAAW 2021 (:func:`magcycle.chem.formula.formula_mass`).

    Examples
    --------
    >>> round(water_per_mol_solute("HCl", 32.0), 3)   # (68/18.015) / (32/36.458) = 4.3005
    4.3
    >>> round(water_per_mol_solute("NaOH", 50.0), 4)  # (50/18.015) / (50/39.997) = 39.997/18.015
    2.2202
    >>> water_per_mol_solute("H2SO4", 100.0)           # the pure solute carries no water
    0.0
    """
    return (100.0 - wt_pct) / wt_pct * formula_mass(solute) / formula_mass("H2O")


def ion(el: str, z: int) -> str:
    """The species name of an ion of charge +z: ``Nd+3``, ``Na+``.

    >>> ion("Nd", 3), ion("Na", 1)
    ('Nd+3', 'Na+')
    """
    return f"{el}+{z}" if z > 1 else f"{el}+"


class LeachParams(UnitParams):
    acid: Literal["HCl", "H2SO4"] = field("HCl", description="leaching acid: chloride or sulfate liquor")
    acid_wt_pct: float = field(32.0, unit="wt %", ge=1.0, le=99.0,
                               description="strength of the acid as bought (its water joins the liquor)",
                               source="[C] commercial hydrochloric acid 32-36 %")
    excess: float = field(0.1, unit="-", ge=0.0, le=5.0,
                          description="acid fed over the stoichiometric proton demand, left as free acid",
                          source="[A] KU Leuven's roast-leach used n(HCl)/n(Ln) = 3.5 at 80 C (Vander "
                                 "Hoogerstraete et al., RSC Adv. 2014, c4ra13787f): excess 3.5/3 - 1 = 0.17 "
                                 "on the rare earths [D]")
    liquid_to_solid: float = field(6.0, unit="L/kg", ge=0.5, le=100.0,
                                   description="liquor per kg of dry solids (water is made up to it)",
                                   source="[C]")
    dissolution: dict[ElementSymbol, quantity("dimensionless", ge=0.0, le=1.0)] = field(
        default_factory=dict, unit="-",
        description="fraction of each element dissolved, over the defaults 0.995 for the rare earths, "
                    "0.98 Fe, 0.95 Co and Ni, 0.5 Cu, 0.9 Al, Ga and B, 0 Nb",
        source="[C] typical of a direct HCl leach of unroasted NdFeB")
    iron_valence: Literal[2, 3] = field(2, description="valence of dissolved iron (Fe2+ from a direct leach of "
                                                       "metal, Fe3+ after a roast)")
    residence_h: float = field(4.0, unit="h", ge=0.1, le=100.0, description="residence time (tank size)",
                               source="[C]")
    sulfate_solubility_20C: float = field(8.0, unit="g per 100 g water", gt=0.0, le=100.0,
                                          description="solubility of the rare-earth sulfate RE2(SO4)3 at 20 C (a "
                                                      "sulfate liquor)",
                                          source="[B] Nd2(SO4)3, 8 g/100 mL at 20 C (Wikipedia / ChemicalBook)")
    sulfate_dissolution_enthalpy: float = field(-20.0, unit="kJ/mol", ge=-200.0, le=200.0,
                                                description="heat of solution of the rare-earth sulfate (negative: "
                                                            "less soluble hot, retrograde)",
                                                source="[C] magnitude; retrograde: [B] alfa-chemistry.com")
    temperature_C: float = field(80.0, unit="degC", ge=0.0, le=110.0, description="leach temperature (the "
                                 "dissolution fractions carry its effect on the metal; it sets the solubility of "
                                 "rare-earth sulfate in a sulfate liquor)",
                                 source="[A] KU Leuven's roast-leach at 80 C (Vander Hoogerstraete et al., RSC Adv. "
                                        "2014, c4ra13787f)")


class Leach(UnitOperation):
    type_name = "leach"
    summary = "dissolve crushed magnet in HCl or H2SO4; H2 and CO2 to the offgas"
    inlets = ("solids",)
    optional_inlets = ("recycle",)
    outlets = ("liquor", "residue", "offgas")
    Params = LeachParams

    def _run(self, inlets, state):
        solids = inlets["solids"]
        liquor, residue, demand, boron = self._dissolve(solids)
        o_diss = _undissolved_o_and_c(solids, demand, residue)
        h2 = (demand - 2.0 * o_diss) / 2.0 + 1.5 * boron
        water = solids.get("H2O") + o_diss - 3.0 * boron
        reagents: dict[str, float] = {}
        offgas: dict[str, float] = {"H2": h2} if h2 > 0 else {}
        water, h_rec = _take_recycle(inlets.get("recycle"), liquor, reagents, offgas, water)
        water, acid_h = self._add_acid(demand, h_rec, liquor, reagents, water)
        liquor["H+"] = h_rec + acid_h - demand
        dry_kg = mass_kg_h({k: v for k, v in solids.mol_h.items() if k != "H2O"})
        liquor["H2O"] = _make_up_water(reagents, water, self.p["liquid_to_solid"] * dry_kg / WATER_L_PER_MOL)
        _dilute_peroxide(reagents, liquor)
        crystallised = _sulfate_crystals(liquor, residue, self._sulfate_solubility())
        return UnitResult(
            outlets={"liquor": Stream("aqueous", liquor), "residue": Stream("solid", residue),
                     "offgas": Stream("gas", offgas)},
            reagents=reagents,
            info={"acid_demand_mol_H_per_h": demand, "dry_solids_kg_per_h": dry_kg,
                  "re_sulfate_crystallised_mol_per_h": crystallised,
                  "free_acid_mol_per_L": (liquor["H+"] / (liquor["H2O"] * WATER_L_PER_MOL)
                                          if liquor["H2O"] > 0 else 0.0)},
        )

    def _dissolve(self, solids: Stream) -> tuple[dict, dict, float, float]:
        """Liquor and residue of the metals [mol/h], the proton demand [mol/h] and the boron dissolved."""
        frac = DEFAULT_DISSOLUTION | self.p["dissolution"]
        valence = VALENCE | {"Fe": self.p["iron_valence"]}
        liquor: dict[str, float] = {}
        residue: dict[str, float] = {}
        demand = 0.0
        boron = 0.0
        for sp, n in solids.mol_h.items():
            if sp in ("O", "C", "H2O"):
                continue
            if sp == "B":
                boron = n * frac.get("B", 0.0)
                liquor["H3BO3"] = boron
                if n - boron > 0:
                    residue["B"] = n - boron
                continue
            if sp not in valence:
                residue[sp] = residue.get(sp, 0.0) + n  # compounds and inert elements stay
                continue
            d = n * frac.get(sp, 0.0)
            if d > 0:
                name = ion(sp, valence[sp])
                liquor[name] = liquor.get(name, 0.0) + d
                demand += valence[sp] * d
            if n - d > 0:
                residue[sp] = residue.get(sp, 0.0) + n - d
        return liquor, residue, demand, boron

    def _add_acid(self, demand: float, h_rec: float, liquor: dict, reagents: dict, water: float) -> tuple[float, float]:
        """Acid bought for the demand and its excess, less the recycle's free acid, with its water and anion;
        returns the water [mol/h] and the protons fed [mol/h]."""
        anion, per_acid = ACIDS[self.p["acid"]]
        acid_h = max(0.0, (1.0 + self.p["excess"]) * demand - h_rec)
        acid_mol = acid_h / per_acid
        if acid_mol > 0:
            reagents[self.p["acid"]] = acid_mol
            w = acid_mol * water_per_mol_solute(self.p["acid"], self.p["acid_wt_pct"])
            reagents["H2O"] = reagents.get("H2O", 0.0) + w
            water += w
            liquor[anion] = liquor.get(anion, 0.0) + acid_mol
        return water, acid_h

    def _sulfate_solubility(self) -> float:
        from magcycle.chem.sulfate import sulfate_solubility

        return sulfate_solubility(self.p["temperature_C"], self.p["sulfate_solubility_20C"],
                                  self.p["sulfate_dissolution_enthalpy"])

    def design(self, result):
        v = result.outlets["liquor"].volume_L_h * self.p["residence_h"] / 1000.0
        return {"tank_volume_m3": v * 1.2}  # 20 % freeboard

    def cost(self, design):
        return power_law_cost(design["tank_volume_m3"], 10.0, 120_000.0, 0.6,
                              "[C] agitated, rubber-lined leach tank, 10 m3, six-tenths rule", size_unit="m3")


def _undissolved_o_and_c(solids: Stream, demand: float, residue: dict) -> float:
    """The oxygen the acid demand dissolves (as water) [mol/h]; the rest of it, and the carbon, to the residue."""
    o_in = solids.get("O")
    o_diss = min(o_in, demand / 2.0)
    if o_in - o_diss > 0:
        residue["O"] = o_in - o_diss
    if solids.get("C"):
        residue["C"] = solids.get("C")
    return o_diss


def _take_recycle(recycle: Stream | None, liquor: dict, reagents: dict, offgas: dict,
                  water: float) -> tuple[float, float]:
    """The recycle into the liquor, its oxalic acid destroyed by peroxide (to CO2 and water); returns the
    water [mol/h] and the recycle's free acid [mol/h of H+]."""
    h_rec = 0.0
    if recycle is None:
        return water, h_rec
    for sp, n in recycle.mol_h.items():
        if sp == "H2C2O4":
            continue
        if sp == "H2O":
            water += n
        elif sp == "H+":
            h_rec = n
        else:
            liquor[sp] = liquor.get(sp, 0.0) + n
    ox = recycle.get("H2C2O4")
    if ox > 0:
        reagents["H2O2"] = ox
        offgas["CO2"] = 2.0 * ox
        water += 2.0 * ox
    return water, h_rec


def _make_up_water(reagents: dict, water: float, target: float) -> float:
    """Water made up to ``target`` [mol/h], or bought to cover a shortfall; returns the liquor's water."""
    # the water that enters with the solids' oxygen and the peroxide is
    # counted; boric acid takes 3 H2O per B, so water may fall short of zero
    makeup = max(0.0, target - water)
    if makeup > 0:
        reagents["H2O"] = reagents.get("H2O", 0.0) + makeup
        water += makeup
    if water < 0:
        reagents["H2O"] = reagents.get("H2O", 0.0) - water
        water = 0.0
    return water


def _sulfate_crystals(liquor: dict, residue: dict, c_max: float) -> float:
    """Rare earths beyond the sulfate's solubility ``c_max`` [mol RE per L of water] to the residue as
    RE2(SO4)3.8H2O (module docstring); returns the rare earth crystallised [mol/h]."""
    so4 = liquor.get("SO4-2", 0.0)
    ions = {el: liquor.get(f"{el}+3", 0.0) for el in RARE_EARTHS if liquor.get(f"{el}+3", 0.0) > 0}
    total = sum(ions.values())
    if so4 <= 0 or total <= 0:
        return 0.0
    x = (total - c_max * liquor["H2O"] * WATER_L_PER_MOL) / (1.0 - 4.0 * c_max * WATER_L_PER_MOL)
    x = min(x, so4 / 1.5)
    if x <= 0:
        return 0.0
    share = x / total
    for el, n in ions.items():
        liquor[f"{el}+3"] = n * (1.0 - share)
        residue[f"{el}2(SO4)3.8H2O"] = residue.get(f"{el}2(SO4)3.8H2O", 0.0) + n * share / 2.0
    liquor["SO4-2"] = so4 - 1.5 * x
    liquor["H2O"] -= 4.0 * x
    return x


def _dilute_peroxide(reagents: dict, liquor: dict) -> None:
    """The water of the peroxide bought (as 30 wt %) joins the liquor."""
    if reagents.get("H2O2"):
        w = reagents["H2O2"] * water_per_mol_solute("H2O2", 30.0)
        reagents["H2O"] = reagents.get("H2O", 0.0) + w
        liquor["H2O"] += w
