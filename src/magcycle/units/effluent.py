"""Effluent treatment: neutralise raffinates and bleeds, precipitate hydroxides, check the discharge.

Configuration
    Inlets ``in1`` .. ``in6`` (aqueous raffinates, strip liquors and bleeds;
    at least one); outlets ``water`` (treated water to discharge), ``sludge``
    (hydroxide and gypsum sludge with the liquor its cake holds) and
    ``hydroxide`` (the mixed Co/Ni hydroxide by-product; empty unless
    ``recover_hydroxide``).

Degrees of freedom
    The neutralising ``reagent`` (lime, dosed as milk of lime, or caustic
    soda) and its strength; the pH of the three precipitation stages:
    ``pre_pH`` (Al, Fe, Ga to the sludge), ``hydroxide_pH`` (Co, Ni, Cu and
    the rare earths to the hydroxide by-product, or to the sludge) and ``pH``
    (polishing, to the sludge); the ``discharge_pH`` the treated water is
    brought back to with acid; solubility products; the cakes' solids
    content; the discharge limits.

Equations
    The stages run in order of rising pH. In a stage at pH, with [OH-] =
    10^(pH - pKw), a metal ion M^z+ stays dissolved up to

        c_max = Ksp / [OH-]^z,    n_dissolved = min(n, c_max V),

    and the rest precipitates as M(OH)z (FeO(OH) + H2O for Fe3+). V [L/h] is
    the stage's water including the reagent's own water, found by
    fixed-point iteration (the reagent's water depends on V only through the
    small free-acid and solubility terms). The base the stage needs is

        n_OH = (n_H+ - 10^-pH V) + sum_M z n_M,precipitated + (10^(pH - pKw) V - n_OH-),

    i.e. the acid neutralised (H+ + OH- -> H2O), the hydroxide precipitated
    and the free OH- of the stage. Lime brings n_OH / 2 Ca(OH)2 and its Ca2+
    stays in the liquor; caustic soda brings n_OH NaOH and Na+. A stage
    whose liquor is already above its pH adds nothing. Where Ca2+ meets
    SO4 2-, gypsum precipitates until c(Ca2+) c(SO4 2-) = Ksp(gypsum): with a,
    b the concentrations before,

        x = ((a + b) - sqrt((a - b)^2 + 4 Ksp)) / 2   [mol/L]  if a b > Ksp,

    Ca2+ + SO4 2- + 2 H2O -> CaSO4.2H2O; likewise calcium oxalate,
    Ca2+ + C2O4 2- + H2O -> CaC2O4.H2O, from the oxalic acid of a bleed,
    which gives up both its protons to the base (H2C2O4 -> C2O4 2- + 2 H+,
    pKa2 4.27: taken whole from the first stage on). The treated water is trimmed to
    ``discharge_pH`` with the liquor's own acid (HCl, or H2SO4 where sulfate
    carries most of the anion equivalents):

        n_acid = (n_OH- - 10^(dpH - pKw) V) + (10^-dpH V - n_H+).

    Each cake leaves holding liquor: m_s kg/h of dry solids at a solids
    fraction s hold m_s (1 - s) / s kg/h of liquor, which takes the share
    phi = m_held / m_liquor of every dissolved species (water included) of
    the treated liquor.

    Discharge: the concentration of each element in the water, c = n M / V
    [mg/L], is checked against its limit, and the discharge pH against the
    allowed range. Neglected: activity coefficients (ideal solubility; in
    a 3-4 M chloride brine real gypsum solubility is several times the ideal
    one), amphoteric re-dissolution (Al(OH)4-, Zn(OH)4 2-) and boron, which
    neutralisation does not remove (boric acid, pKa 9.24, is taken as
    undissociated).

    Defaults: solubility products at 25 C, log Ksp Co(OH)2 -14.23,
    Ni(OH)2 -15.26, Cu(OH)2 -19.66, Zn(OH)2 -16.52, Mn(OH)2 -12.69,
    Fe(OH)2 -16.31, Mg(OH)2 -11.25, Ca(OH)2 -5.30, CaSO4.2H2O -4.50, CaC2O4.H2O -8.63 ([C]
    CRC Handbook of Chemistry and Physics, "Solubility product constants",
    not retrieved here), Fe(OH)3, Al(OH)3, Ga(OH)3 as in impurity removal;
    every RE(OH)3 -20.7 ([C] La(OH)3, the most soluble rare-earth hydroxide,
    about 2e-21; the heavier ones are less soluble, so this errs on the
    side of less precipitated). Discharge limits: Co 0.5, Ni 2.0, Cu 0.5,
    Zn 1.0, Pb 0.5, Cd 0.1, As 0.3 mg/L ([A] German Abwasserverordnung,
    Anhang 39 (non-ferrous metals), part D, column "Nickel und Cobalt",
    before mixing with other waste water), Fe 3.0 mg/L ([A] same annex, part
    C, first column); pH 6-9 ([C] the usual range of discharge consents).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from magcycle.chem.elements import RARE_EARTHS
from magcycle.chem.formula import charge, formula_mass
from magcycle.errors import InputError
from magcycle.schema import ElementSymbol, fail, field
from magcycle.units.base import UnitOperation, UnitParams, UnitResult, power_law_cost
from magcycle.units.impurity import DEFAULT_LOG_KSP as _IMPURITY_KSP
from magcycle.units.leach import water_per_mol_solute
from magcycle.units.mixing import mix
from magcycle.units.stream import WATER_L_PER_MOL, Stream, mass_kg_h

__all__ = ["HYDROXIDE_LOG_KSP", "FERROUS_LOG_KSP", "RARE_EARTH_LOG_KSP", "GYPSUM_LOG_KSP", "DISCHARGE_LIMITS_MG_L",
           "OXALATE_LOG_KSP", "hydroxide_formula", "salt_precipitated", "EffluentTreatmentParams", "EffluentTreatment"]

#: log10 Ksp of M(OH)z at 25 C, by element ([C] CRC Handbook; Fe, Al, Ga as in impurity removal)
HYDROXIDE_LOG_KSP = {"Co": -14.23, "Ni": -15.26, "Cu": -19.66, "Zn": -16.52, "Mn": -12.69, "Mg": -11.25,
                     "Ca": -5.30} | {sp.split("+")[0]: v for sp, v in _IMPURITY_KSP.items()}
#: log10 Ksp(Fe(OH)2), used for Fe2+ ([C] CRC Handbook)
FERROUS_LOG_KSP = -16.31
#: log10 Ksp of every RE(OH)3 ([C] La(OH)3, the most soluble)
RARE_EARTH_LOG_KSP = -20.7
#: log10 Ksp of CaSO4.2H2O at 25 C ([C] CRC Handbook, 3.14e-5)
GYPSUM_LOG_KSP = -4.50
#: log10 Ksp of CaC2O4.H2O at 25 C ([C] CRC Handbook, 2.32e-9)
OXALATE_LOG_KSP = -8.63
#: [mg/L] ([A] AbwV Anhang 39 part D "Nickel und Cobalt", part C for Fe; module docstring)
DISCHARGE_LIMITS_MG_L = {"Co": 0.5, "Ni": 2.0, "Cu": 0.5, "Zn": 1.0, "Pb": 0.5, "Cd": 0.1, "As": 0.3, "Fe": 3.0}

_REAGENT = {"lime": "Ca(OH)2", "NaOH": "NaOH"}
_CATION = {"lime": "Ca+2", "NaOH": "Na+"}


def hydroxide_formula(species: str) -> str:
    """The solid an ion precipitates as: M(OH)z, FeO(OH) for Fe3+.

    >>> hydroxide_formula("Co+2"), hydroxide_formula("Nd+3"), hydroxide_formula("Fe+3")
    ('Co(OH)2', 'Nd(OH)3', 'FeO(OH)')
    """
    if species == "Fe+3":
        return "FeO(OH)"
    el, z = species.split("+")[0], charge(species)
    return f"{el}(OH){z}"


def salt_precipitated(ca: float, so4: float, log_ksp: float = GYPSUM_LOG_KSP) -> float:
    """A 1:1 salt (gypsum, calcium oxalate) precipitated from a liquor holding its two ions [mol/L].

    .. math:: (a - x)(b - x) = K_{sp} \\;\\Rightarrow\\;
              x = \\frac{(a + b) - \\sqrt{(a - b)^2 + 4 K_{sp}}}{2}

    the smaller root, and 0 when a b <= Ksp (ideal solution, activities
    taken as concentrations).

    Parameters
    ----------
    ca, so4 : float
        a, b: the cation (Ca2+) and the anion (SO4 2-, C2O4 2-) before precipitation [mol/L].
    log_ksp : float
        log10 Ksp of the salt [log10 (mol/L)^2]; default CaSO4.2H2O, -4.50 ([C] CRC Handbook, 25 C).

    Returns
    -------
    float
        x, salt precipitated [mol/L].

    Examples
    --------
    >>> round(salt_precipitated(0.1, 0.1, -4.0), 6)   # (0.1 - x)^2 = 1e-4: x = 0.1 - 0.01
    0.09
    >>> salt_precipitated(0.001, 0.01, -4.0)          # a b = 1e-5 < 1e-4: nothing precipitates
    0.0
    """
    ksp = 10.0 ** log_ksp
    if ca * so4 <= ksp:
        return 0.0
    return ((ca + so4) - math.sqrt((ca - so4) ** 2 + 4.0 * ksp)) / 2.0


_LogKsp = Annotated[float, Field(ge=-80.0, le=0.0)]
_Limit = Annotated[float, Field(ge=0.0, le=1e6)]


class EffluentTreatmentParams(UnitParams):
    reagent: Literal["lime", "NaOH"] = field("lime", description="neutralising base: lime (Ca(OH)2, dosed as milk "
                                                                 "of lime) or caustic soda")
    reagent_wt_pct: float | None = field(None, unit="wt %", gt=0.0, le=60.0,
                                         description="strength of the base as dosed; default 20 for milk of lime, "
                                                     "50 for caustic soda", source="[C] usual dosing strengths")
    pre_pH: float = field(5.0, unit="-", ge=0.0, le=14.0, description="first stage: Al, Fe, Ga hydroxides to the "
                                                                     "sludge", source="[C]")
    hydroxide_pH: float = field(8.5, unit="-", ge=0.0, le=14.0,
                                description="second stage: Co, Ni, Cu and rare-earth hydroxides (the by-product "
                                            "when recover_hydroxide)", source="[C]")
    pH: float = field(9.5, unit="-", ge=0.0, le=14.0, description="polishing stage, to the sludge",
                      source="[C] Co(OH)2 falls below 0.5 mg/L Co above pH 9.4")
    discharge_pH: float | None = field(8.5, unit="-", ge=0.0, le=14.0,
                                       description="pH the treated water is brought back to with acid (none: "
                                                   "discharged at the polishing pH)", source="[C]")
    recover_hydroxide: bool = field(False, description="keep the second stage's precipitate apart as a mixed "
                                                       "hydroxide by-product (else it joins the sludge)")
    log_Ksp: dict[ElementSymbol, _LogKsp] = field(
        default_factory=dict, unit="log10 (mol/L)^(z+1)",
        description="solubility products of the hydroxides M(OH)z over the defaults (Co -14.23, Ni -15.26, "
                    "Cu -19.66, Zn -16.52, Mn -12.69, Mg -11.25, Ca -5.30, Fe -38.8 (Fe(OH)3; Fe2+ is Fe(OH)2, "
                    "-16.31), Al -32.9, Ga -35.0, rare earths -20.7)", source="[C] CRC Handbook, 25 C")
    gypsum_log_Ksp: float = field(GYPSUM_LOG_KSP, unit="log10 (mol/L)^2", ge=-20.0, le=0.0,
                                  description="solubility product of CaSO4.2H2O", source="[C] CRC Handbook, 25 C")
    pKw: float = field(14.0, unit="-", ge=10.0, le=16.0, description="ion product of water, -log10 Kw",
                       source="25 C")
    cake_solids_wt_pct: float = field(40.0, unit="wt %", gt=0.0, le=100.0,
                                      description="dry solids in the filtered sludge and hydroxide cakes",
                                      source="[C] filter-press hydroxide cakes, 30-50 %")
    discharge_limits_mg_L: dict[ElementSymbol, _Limit] = field(
        default_factory=lambda: dict(DISCHARGE_LIMITS_MG_L), unit="mg/L",
        description="dissolved element limits of the treated water (the whole table replaces the default)",
        source="[A] AbwV Anhang 39 part D (Ni/Co column) and part C (Fe)")
    discharge_pH_range: Annotated[list[Annotated[float, Field(ge=0.0, le=14.0)]],
                                  Field(min_length=2, max_length=2)] = field(
        default_factory=lambda: [6.0, 9.0], unit="-", description="allowed pH of the treated water [low, high]",
        source="[C] usual discharge consents")
    residence_h: float = field(1.0, unit="h", ge=0.05, le=48.0, description="residence time of each stage's tank",
                               source="[C]")
    clarifier_m_per_h: float = field(1.0, unit="m/h", ge=0.05, le=20.0,
                                     description="clarifier overflow rate (clarifier area)", source="[C]")

    @model_validator(mode="after")
    def _stages_in_order(self):
        if not self.pre_pH <= self.hydroxide_pH <= self.pH:
            raise fail(("hydroxide_pH",), f"the stages run at rising pH: expected pre_pH <= hydroxide_pH <= pH, "
                                          f"got {self.pre_pH:g}, {self.hydroxide_pH:g}, {self.pH:g}")
        lo, hi = self.discharge_pH_range
        if lo > hi:
            raise fail(("discharge_pH_range",), f"expected [low, high], got [{lo:g}, {hi:g}]")
        if self.discharge_pH is not None and self.discharge_pH > self.pH:
            raise fail(("discharge_pH",), f"the water is brought back down to it: expected at most pH "
                                          f"{self.pH:g}, got {self.discharge_pH:g}")
        return self


class EffluentTreatment(UnitOperation):
    type_name = "effluent_treatment"
    summary = "neutralise raffinates and bleeds with lime or NaOH, precipitate hydroxides, check the discharge"
    inlets = ()
    optional_inlets = ("in1", "in2", "in3", "in4", "in5", "in6")
    outlets = ("water", "sludge", "hydroxide")
    Params = EffluentTreatmentParams

    def _setup(self) -> None:
        self.log_ksp = HYDROXIDE_LOG_KSP | {el: RARE_EARTH_LOG_KSP for el in RARE_EARTHS} | self.p["log_Ksp"]
        self.base = _REAGENT[self.p["reagent"]]
        wt = self.p["reagent_wt_pct"] or (20.0 if self.p["reagent"] == "lime" else 50.0)
        self.base_water = water_per_mol_solute(self.base, wt)

    def _run(self, inlets, state):
        liquor = mix(inlets, f"units.{self.name}")
        if liquor.phase != "aqueous":
            raise InputError(f"units.{self.name}", f"treats aqueous liquors, got a {liquor.phase} stream")
        liq = dict(liquor.mol_h)
        reagents: dict[str, float] = {}
        solids = {"sludge": {}, "hydroxide": {}}
        stages = [(self.p["pre_pH"], "sludge"),
                  (self.p["hydroxide_pH"], "hydroxide" if self.p["recover_hydroxide"] else "sludge"),
                  (self.p["pH"], "sludge")]
        for pH, cake in stages:
            self._stage(liq, pH, reagents, solids[cake])
        final_pH = self._trim(liq, reagents)
        treated = Stream("aqueous", liq)
        water, cakes = self._filter(treated, solids)
        return UnitResult(
            outlets={"water": water} | cakes, reagents=reagents,
            info={"volume_L_per_h": treated.volume_L_h, "final_pH": final_pH,
                  "discharge": self._discharge(water, final_pH)})

    # ------------------------------------------------------------ stages
    def _precipitable(self, liq: dict) -> list[tuple[str, int, float]]:
        """(species, charge, log Ksp) of the dissolved metal ions with a known hydroxide."""
        out = []
        for sp, n in liq.items():
            z = charge(sp)
            if n <= 0 or z <= 0 or sp == "H+":
                continue
            el = sp.split("+")[0]
            log_ksp = FERROUS_LOG_KSP if sp == "Fe+2" else self.log_ksp.get(el)
            if log_ksp is not None:
                out.append((sp, z, log_ksp))
        return out

    def _base_needed(self, liq: dict, pH: float, vol: float, ions) -> tuple[float, dict[str, float]]:
        """(n_OH, {species: precipitated}) of a stage at pH with V = vol (module docstring)."""
        log_oh = pH - self.p["pKw"]
        gone = {}
        for sp, z, log_ksp in ions:
            stay = min(liq[sp], 10.0 ** (log_ksp - z * log_oh) * vol)
            if liq[sp] - stay > 0:
                gone[sp] = liq[sp] - stay
        n_oh = (liq.get("H+", 0.0) - 10.0 ** -pH * vol + sum(charge(sp) * n for sp, n in gone.items())
                + 10.0 ** log_oh * vol - liq.get("OH-", 0.0))
        return n_oh, gone

    def _stage(self, liq: dict, pH: float, reagents: dict, cake: dict) -> None:
        """Raise ``liq`` to ``pH`` in place: base added, hydroxides, gypsum and calcium oxalate to ``cake``."""
        if liq.get("H2C2O4", 0.0) > 0:  # oxalic acid gives up both protons above pH 4.3 (pKa2 4.27)
            n = liq.pop("H2C2O4")
            liq["C2O4-2"] = liq.get("C2O4-2", 0.0) + n
            liq["H+"] = liq.get("H+", 0.0) + 2.0 * n
        ions = self._precipitable(liq)
        vol = liq.get("H2O", 0.0) * WATER_L_PER_MOL
        if vol <= 0:
            return
        for _ in range(50):
            n_oh, gone = self._base_needed(liq, pH, vol, ions)
            if n_oh <= 0:
                return  # the liquor is already above this stage's pH
            new = (liq.get("H2O", 0.0) + self._water_made(liq, pH, vol, gone)
                   + n_oh / self._oh_per_base() * self.base_water) * WATER_L_PER_MOL
            if abs(new - vol) <= 1e-13 * vol:
                break
            vol = new
        self._add_base(liq, n_oh, reagents)
        self._precipitate(liq, gone, pH, vol, cake)
        self._gypsum(liq, cake)

    def _oh_per_base(self) -> int:
        return 2 if self.p["reagent"] == "lime" else 1

    def _water_made(self, liq: dict, pH: float, vol: float, gone: dict) -> float:
        """Water formed by the stage [mol/h]: neutralised acid and FeO(OH) (one H2O per Fe)."""
        return (liq.get("H+", 0.0) - 10.0 ** -pH * vol) + gone.get("Fe+3", 0.0)

    def _add_base(self, liq: dict, n_oh: float, reagents: dict) -> None:
        n_base = n_oh / self._oh_per_base()
        water = n_base * self.base_water
        reagents[self.base] = reagents.get(self.base, 0.0) + n_base
        if water > 0:
            reagents["H2O"] = reagents.get("H2O", 0.0) + water
        cation = _CATION[self.p["reagent"]]
        liq[cation] = liq.get(cation, 0.0) + n_base
        liq["H2O"] = liq.get("H2O", 0.0) + water

    def _precipitate(self, liq: dict, gone: dict, pH: float, vol: float, cake: dict) -> None:
        liq["H2O"] = liq.get("H2O", 0.0) + self._water_made(liq, pH, vol, gone)
        for sp, n in gone.items():
            liq[sp] -= n
            solid = hydroxide_formula(sp)
            cake[solid] = cake.get(solid, 0.0) + n
        liq["H+"] = 10.0 ** -pH * vol
        liq["OH-"] = 10.0 ** (pH - self.p["pKw"]) * vol

    def _gypsum(self, liq: dict, cake: dict) -> None:
        vol = liq.get("H2O", 0.0) * WATER_L_PER_MOL
        if liq.get("Ca+2", 0.0) <= 0 or vol <= 0:
            return
        for anion, solid, waters, log_ksp in (("SO4-2", "CaSO4.2H2O", 2.0, self.p["gypsum_log_Ksp"]),
                                              ("C2O4-2", "CaC2O4.H2O", 1.0, OXALATE_LOG_KSP)):
            if liq.get(anion, 0.0) <= 0 or liq["Ca+2"] <= 0:
                continue
            x = salt_precipitated(liq["Ca+2"] / vol, liq[anion] / vol, log_ksp) * vol
            if x > 0:
                liq["Ca+2"] -= x
                liq[anion] -= x
                liq["H2O"] -= waters * x
                cake[solid] = cake.get(solid, 0.0) + x

    def _trim(self, liq: dict, reagents: dict) -> float:
        """Bring the treated water back to ``discharge_pH`` with acid; returns the final pH. The acid's
        own water counts in the volume the pH is set on (fixed-point iteration, as in a stage)."""
        dpH = self.p["discharge_pH"]
        if dpH is None or dpH >= self.p["pH"]:
            return self.p["pH"]
        sulfate = 2.0 * liq.get("SO4-2", 0.0) > liq.get("Cl-", 0.0)
        acid, per_h = ("H2SO4", 2) if sulfate else ("HCl", 1)
        acid_water = 0.0 if sulfate else water_per_mol_solute("HCl", 32.0)  # 98 % acid: its water neglected
        vol = liq.get("H2O", 0.0) * WATER_L_PER_MOL
        for _ in range(50):
            neutralised = liq.get("OH-", 0.0) - 10.0 ** (dpH - self.p["pKw"]) * vol
            n_acid = neutralised + (10.0 ** -dpH * vol - liq.get("H+", 0.0))
            new = (liq.get("H2O", 0.0) + neutralised + n_acid / per_h * acid_water) * WATER_L_PER_MOL
            if abs(new - vol) <= 1e-13 * vol:
                break
            vol = new
        n = n_acid / per_h
        reagents[acid] = reagents.get(acid, 0.0) + n
        if acid_water > 0:
            reagents["H2O"] = reagents.get("H2O", 0.0) + n * acid_water
        anion = "SO4-2" if sulfate else "Cl-"
        liq[anion] = liq.get(anion, 0.0) + n
        liq["H2O"] = liq.get("H2O", 0.0) + neutralised + n * acid_water
        liq["H+"], liq["OH-"] = 10.0 ** -dpH * vol, 10.0 ** (dpH - self.p["pKw"]) * vol
        return dpH

    def _filter(self, treated: Stream, solids: dict) -> tuple[Stream, dict[str, Stream]]:
        """Cakes with the liquor they hold (share phi of the treated liquor each); the rest is the water."""
        s = self.p["cake_solids_wt_pct"] / 100.0
        liquor_kg = treated.kg_h()
        held = {name: mass_kg_h(flows) * (1.0 - s) / s / liquor_kg if liquor_kg > 0 else 0.0
                for name, flows in solids.items()}
        if sum(held.values()) >= 1.0:
            raise InputError(f"units.{self.name}.cake_solids_wt_pct", "the cakes would hold all the liquor")
        cakes = {}
        for name, flows in solids.items():
            wet = dict(flows)
            for sp, n in treated.mol_h.items():
                wet[sp] = wet.get(sp, 0.0) + n * held[name]
            cakes[name] = Stream("solid", wet)
        keep = 1.0 - sum(held.values())
        return Stream("aqueous", {sp: n * keep for sp, n in treated.mol_h.items()}), cakes

    def _discharge(self, water: Stream, pH: float) -> dict:
        """The treated water against the discharge limits: {element: {mg_per_L, limit, pass}} and pH."""
        vol = water.volume_L_h
        lo, hi = self.p["discharge_pH_range"]
        out = {"pH": {"value": pH, "limit": [lo, hi], "pass": lo <= pH <= hi}}
        flows = water.elements()
        for el in sorted(set(flows) - {"H", "O"}):
            mg_l = flows[el] * formula_mass(el) * 1000.0 / vol if vol > 0 else 0.0
            limit = self.p["discharge_limits_mg_L"].get(el)
            out[el] = {"mg_per_L": mg_l, "limit": limit, "pass": None if limit is None else mg_l <= limit}
        for el, limit in self.p["discharge_limits_mg_L"].items():
            out.setdefault(el, {"mg_per_L": 0.0, "limit": limit, "pass": True})
        return out

    # ------------------------------------------------------------ design and cost
    def design(self, result):
        vol = result.info["volume_L_per_h"]
        cake_kg = result.outlets["sludge"].kg_h() + result.outlets["hydroxide"].kg_h()
        return {"tank_volume_m3": vol * self.p["residence_h"] / 1000.0 * 1.2,
                "tanks": 3.0,
                "clarifier_area_m2": vol / 1000.0 / self.p["clarifier_m_per_h"],
                "filter_area_m2": cake_kg / 5.0}  # [C] 5 kg cake / m2 / h, as impurity removal

    def cost(self, design):
        tank = power_law_cost(design["tank_volume_m3"], 10.0, 100_000.0, 0.6, "", count=int(design["tanks"]),
                              size_unit="m3")
        clar = power_law_cost(design["clarifier_area_m2"], 50.0, 200_000.0, 0.6, "", size_unit="m2")
        filt = power_law_cost(design["filter_area_m2"], 20.0, 150_000.0, 0.6, "", size_unit="m2")
        total = tank["purchase_usd"] + clar["purchase_usd"] + filt["purchase_usd"]
        return tank | {"purchase_usd": total,
                       "basis": "[C] three agitated tanks (10 m3 USD 100k each), a clarifier (50 m2 USD 200k) and "
                                "a filter press (20 m2 USD 150k), six-tenths rule; size is one tank; "
                                + "; ".join(f"{what} {c['size']:.4g} {c['size_unit']} (valid {c['valid_size'][0]:g}-"
                                            f"{c['valid_size'][1]:g} {c['size_unit']})"
                                            for what, c in (("tank", tank), ("clarifier", clar),
                                                            ("filter press", filt))),
                       "size_in_range": tank["size_in_range"] and clar["size_in_range"] and filt["size_in_range"]}
