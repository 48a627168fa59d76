"""Impurity removal: oxidise Fe(II), neutralise to a set pH, precipitate Fe/Al/Ga hydroxides.

Configuration
    Inlet ``liquor`` (acid leach liquor); outlets ``liquor`` (purified) and
    ``cake`` (hydroxide precipitate with co-precipitated rare earths).

Degrees of freedom
    Final ``pH``, solubility products ``log_Ksp`` of the hydroxides, the
    rare-earth co-loss fraction ``re_co_loss``, base (NaOH) strength.

Equations
    2 Fe2+ + H2O2 + 2 H+ -> 2 Fe3+ + 2 H2O (all Fe(II) oxidised).
    At the final pH, [OH-] = 10^(pH - pKw), and a hydroxide M(OH)3 leaves at
    most c_max = Ksp / [OH-]^3 in solution: dissolved M = min(n_M, c_max V),
    the rest precipitates (Fe3+ + 3 OH- -> FeO(OH) + H2O; Al3+, Ga3+ + 3 OH-
    -> M(OH)3). A fraction ``re_co_loss`` of every rare earth is lost with the
    cake as RE(OH)3. NaOH supplies OH- = (H+_in - H+_oxidation - H+_final) +
    3 (precipitated M + RE); if that is negative the liquor is already less
    acidic than the target and acid is added instead: HCl, or H2SO4 where
    sulfate carries most of the liquor's anion equivalents.

    In a sulfate liquor the sodium of the caustic takes rare earths down as
    the double sulfate NaRE(SO4)2.H2O wherever c(Na+) c(RE3+) c(SO4 2-)^2
    exceeds K_RE (:func:`magcycle.chem.sulfate.double_sulfate_precipitated`;
    K derived from [B] SIPS 2017, :mod:`magcycle.chem.sulfate`), on the
    entering volume; the double sulfate leaves with the cake.

    Defaults: pH 3.5 and re_co_loss 0.006 from the FeOOH route ([A] Chin. J.
    Rare Earths 2024, FeOOH-selective oxidative leach, record
    search.napstic.cn ...010zgxtxb202405015: H2O2 333 g/L, 75 C, base HCl
    0.71 M, final pH 3.0-3.5, Fe2O3/REO in the leachate < 0.01 %, with about
    0.5-0.7 % PrNd loss; pH 3.5 is the upper end); log Ksp
    Fe(OH)3 -38.8, Al(OH)3 -32.9, Ga(OH)3 -35.0 at 25 C ([C] common
    handbook values); pKw 14.0.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from magcycle.chem.elements import RARE_EARTHS
from magcycle.schema import RareEarthSymbol, field
from magcycle.units.base import UnitOperation, UnitParams, UnitResult, power_law_cost
from magcycle.units.leach import water_per_mol_solute
from magcycle.units.stream import WATER_L_PER_MOL, Stream

__all__ = ["HYDROXIDE", "DEFAULT_LOG_KSP", "ImpurityRemovalParams", "ImpurityRemoval"]

HYDROXIDE = {"Fe+3": "FeO(OH)", "Al+3": "Al(OH)3", "Ga+3": "Ga(OH)3"}
DEFAULT_LOG_KSP = {"Fe+3": -38.8, "Al+3": -32.9, "Ga+3": -35.0}


class ImpurityRemovalParams(UnitParams):
    pH: float = field(3.5, unit="-", ge=0.0, le=7.0, description="final pH of the purified liquor",
                      source="[A] Chin. J. Rare Earths 2024 (FeOOH-selective oxidative leach, "
                             "search.napstic.cn ...010zgxtxb202405015): final pH 3.0-3.5; 3.5 is the upper end")
    re_co_loss: float = field(0.006, unit="-", ge=0.0, le=0.5,
                              description="fraction of every rare earth lost with the cake as RE(OH)3",
                              source="[A] FeOOH route, Chin. J. Rare Earths 2024 (search.napstic.cn "
                                     "...010zgxtxb202405015): Fe2O3/REO < 0.01 % with about 0.5-0.7 % PrNd loss")
    log_Ksp: dict[Literal["Fe", "Al", "Ga"], Annotated[float, Field(ge=-80.0, le=0.0)]] = field(
        default_factory=dict, unit="log10 (mol/L)^4",
        description="solubility products of the hydroxides, over the defaults Fe(OH)3 -38.8, Al(OH)3 -32.9, "
                    "Ga(OH)3 -35.0", source="[C] common handbook values at 25 C")
    double_sulfate_log_K: dict[RareEarthSymbol, Annotated[float, Field(ge=-30.0, le=10.0)]] = field(
        default_factory=dict, unit="log10 (mol/L)^4",
        description="solubility products c(Na+) c(RE3+) c(SO4 2-)^2 of the sodium double sulfates, over the defaults "
                    "(Nd -3.568, Dy -2.770, log-linear in atomic number between them)",
        source="[D] from [B] SIPS 2017 (flogen.org/sips2017/paper-1-51), magcycle.chem.sulfate")
    pKw: float = field(14.0, unit="-", ge=10.0, le=16.0, description="ion product of water, -log10 Kw",
                       source="25 C")
    naoh_wt_pct: float = field(50.0, unit="wt %", ge=1.0, le=60.0, description="strength of the caustic soda",
                               source="[C] commercial 50 % NaOH")
    h2o2_wt_pct: float = field(30.0, unit="wt %", ge=1.0, le=60.0, description="strength of the peroxide",
                               source="[C] commercial 30-35 % H2O2")
    residence_h: float = field(2.0, unit="h", ge=0.1, le=48.0, description="residence time (tank size)",
                               source="[C]")


class ImpurityRemoval(UnitOperation):
    type_name = "impurity_removal"
    summary = "oxidise Fe(II), neutralise to a set pH and precipitate Fe, Al, Ga hydroxides"
    inlets = ("liquor",)
    outlets = ("liquor", "cake")
    Params = ImpurityRemovalParams

    def _run(self, inlets, state):
        feed = inlets["liquor"]
        liq = dict(feed.mol_h)
        reagents: dict[str, float] = {}
        cake: dict[str, float] = {}
        # oxidation of Fe(II)
        fe2 = liq.pop("Fe+2", 0.0)
        if fe2 > 0:
            reagents["H2O2"] = fe2 / 2.0
            reagents["H2O"] = fe2 / 2.0 * water_per_mol_solute("H2O2", self.p["h2o2_wt_pct"])
            liq["Fe+3"] = liq.get("Fe+3", 0.0) + fe2
            liq["H2O"] = liq.get("H2O", 0.0) + fe2 + reagents["H2O"]
        h_in = liq.get("H+", 0.0) - fe2  # acid left after the oxidation
        vol = liq.get("H2O", 0.0) * WATER_L_PER_MOL  # entering volume; reagent dilution neglected in pH and solubility
        h_final = 10.0 ** (-self.p["pH"]) * vol
        log_oh = self.p["pH"] - self.p["pKw"]
        ksp = DEFAULT_LOG_KSP | {f"{el}+3": v for el, v in self.p["log_Ksp"].items()}
        oh_precip = 0.0
        water_made = 0.0
        removed = {}
        for sp, solid in HYDROXIDE.items():
            n = liq.get(sp, 0.0)
            if n <= 0:
                continue
            cmax = 10.0 ** (ksp[sp] - 3.0 * log_oh)
            stay = min(n, cmax * vol)
            gone = n - stay
            if gone > 0:
                liq[sp] = stay
                cake[solid] = gone
                oh_precip += 3.0 * gone
                if sp == "Fe+3":
                    water_made += gone  # FeO(OH): 3 OH- -> O(OH) + H2O
                removed[sp] = gone / n
        re_lost = 0.0
        co = self.p["re_co_loss"]
        for el in RARE_EARTHS:
            n = liq.get(f"{el}+3", 0.0)
            if n > 0 and co > 0:
                liq[f"{el}+3"] = n * (1.0 - co)
                cake[f"{el}(OH)3"] = n * co
                oh_precip += 3.0 * n * co
                re_lost += n * co
        neutralised = h_in - h_final
        oh = neutralised + oh_precip
        if oh >= 0:
            # OH- + H+ -> H2O for the neutralised acid; FeO(OH) releases one H2O
            if oh > 0:
                reagents["NaOH"] = oh
                w = oh * water_per_mol_solute("NaOH", self.p["naoh_wt_pct"])
                reagents["H2O"] = reagents.get("H2O", 0.0) + w
                liq["Na+"] = liq.get("Na+", 0.0) + oh
                liq["H2O"] = liq.get("H2O", 0.0) + w
            liq["H2O"] = liq.get("H2O", 0.0) + neutralised + water_made
        else:
            # the liquor is less acidic than the target even after hydrolysis
            # (M3+ + 3 H2O -> M(OH)3 + 3 H+): add the liquor's own acid (HCl in
            # a chloride liquor, H2SO4 in a sulfate one) to reach the target pH
            add = -oh
            if 2.0 * liq.get("SO4-2", 0.0) > liq.get("Cl-", 0.0):
                reagents["H2SO4"] = add / 2.0
                liq["SO4-2"] = liq["SO4-2"] + add / 2.0
            else:
                reagents["HCl"] = add
                liq["Cl-"] = liq.get("Cl-", 0.0) + add
            liq["H2O"] = liq.get("H2O", 0.0) + water_made - oh_precip
        liq["H+"] = h_final
        double = self._double_sulfate(liq, cake, vol)
        return UnitResult(
            outlets={"liquor": Stream("aqueous", liq), "cake": Stream("solid", cake)},
            reagents=reagents,
            info={"fraction_precipitated": removed, "re_lost_mol_per_h": re_lost + double,
                  "re_double_sulfate_mol_per_h": double, "volume_L_per_h": vol},
        )

    def _double_sulfate(self, liq: dict, cake: dict, vol: float) -> float:
        """Rare earths taken down as NaRE(SO4)2.H2O by the caustic's sodium in a sulfate liquor [mol/h]."""
        from magcycle.chem.sulfate import DOUBLE_SULFATE_LOG_K, double_sulfate_precipitated

        if liq.get("SO4-2", 0.0) <= 0 or liq.get("Na+", 0.0) <= 0:
            return 0.0
        ions = {el: liq.get(f"{el}+3", 0.0) for el in RARE_EARTHS}
        gone = double_sulfate_precipitated(ions, liq["Na+"], liq["SO4-2"], vol,
                                           DOUBLE_SULFATE_LOG_K | self.p["double_sulfate_log_K"])
        x = sum(gone.values())
        for el, n in gone.items():
            liq[f"{el}+3"] -= n
            cake[f"Na{el}(SO4)2.H2O"] = n
        if x > 0:
            liq["Na+"] -= x
            liq["SO4-2"] -= 2.0 * x
            liq["H2O"] -= x
        return x

    def design(self, result):
        return {"tank_volume_m3": result.info["volume_L_per_h"] * self.p["residence_h"] / 1000.0 * 1.2,
                "filter_area_m2": result.outlets["cake"].kg_h() / 5.0}  # [C] 5 kg dry cake / m2 / h

    def cost(self, design):
        c = power_law_cost(design["tank_volume_m3"], 10.0, 100_000.0, 0.6, "", size_unit="m3")
        f = power_law_cost(design["filter_area_m2"], 20.0, 150_000.0, 0.6, "", size_unit="m2")
        # the tank is the unit's size; the filter press is priced from its own area, stated in the basis
        return c | {"purchase_usd": c["purchase_usd"] + f["purchase_usd"],
                    "basis": "[C] agitated tank 10 m3 USD 100k and filter press 20 m2 USD 150k, six-tenths rule; "
                             f"size is the tank; filter press {f['size']:.4g} m2 "
                             f"(valid {f['valid_size'][0]:g}-{f['valid_size'][1]:g} m2)",
                    "size_in_range": c["size_in_range"] and f["size_in_range"]}
