"""Oxalate precipitation of rare earths from a strip liquor.

Configuration
    Inlet ``liquor``; outlets ``precipitate`` (RE2(C2O4)3.10H2O cake) and
    ``filtrate``.

Degrees of freedom
    ``excess`` of oxalic acid over the stoichiometric 1.5 mol per mol RE.

Equations
    2 RE3+ + 3 H2C2O4 + 10 H2O -> RE2(C2O4)3.10H2O(s) + 6 H+, i.e. 1.5 mol
    of oxalic acid per mol RE ([D] from the equation).
    Oxalic acid (dihydrate) fed: 1.5 * excess * n_RE. The fraction of each
    rare earth precipitated, Y(excess), is interpolated linearly in the
    measured points 1.0 / 1.2 / 1.4 x stoichiometric -> 93 / 96.7 / 98.1 %
    and held constant beyond them ([A] Klemettinen et al., Minerals 13(7)
    2023, oxalate precipitation directly from the leachate); the rest stays
    dissolved (solubility loss) and leaves with the filtrate. Iron
    co-precipitates only above 1.2x: 7 % of the iron at 1.4x ([A] same
    source), 0 at 1.2x, linear between and held beyond (the zero at 1.2x and
    the ramp are [C] assumptions: the source reports Fe co-precipitation at
    1.4x only), as Fe2(C2O4)3 (Fe3+) or FeC2O4.2H2O (Fe2+). Every other solute stays in the
    filtrate, except the mother liquor the washed cake keeps: the cake leaves
    the filter holding ``cake_moisture`` kg of liquor per kg of dry cake
    (default 0.5 [C]: oxalate filter cakes hold 30-40 wt % water), of which
    the wash displaces ``wash_efficiency`` (default 0.99 [C]). The retained
    share of the filtrate,

        phi = cake_moisture (1 - wash_efficiency) m_cake / m_filtrate,

    goes with the cake, every species alike (its chloride, sulfate, sodium,
    iron and dissolved rare earths). The wash water itself is not tracked.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from magcycle.chem.elements import RARE_EARTHS
from magcycle.schema import field
from magcycle.units.base import UnitOperation, UnitParams, UnitResult, power_law_cost
from magcycle.units.stream import Stream, mass_kg_h

__all__ = ["YIELD_POINTS", "FE_POINTS", "oxalate_yield", "iron_coprecipitation", "oxalate_species",
           "OxalateParams", "OxalatePrecipitation"]

YIELD_POINTS = ((1.0, 1.2, 1.4), (0.93, 0.967, 0.981))
FE_POINTS = ((1.2, 1.4), (0.0, 0.07))


@lru_cache(maxsize=256)
def oxalate_yield(excess: float) -> float:
    """Fraction of the rare earths precipitated at ``excess`` x stoichiometric [-].

    Piecewise-linear in the measured points (x_k, Y_k) of :data:`YIELD_POINTS`,
    held at the end values outside them:

    .. math:: Y(x) = Y_k + (Y_{k+1} - Y_k) \\frac{x - x_k}{x_{k+1} - x_k},
              \\qquad x_k \\le x \\le x_{k+1},

    with (x, Y) = (1.0, 0.93), (1.2, 0.967), (1.4, 0.981); rounded to 12
    decimals (so that cached and recomputed values agree).

    Parameters
    ----------
    excess : float
        x, oxalic acid fed over the stoichiometric 1.5 mol per mol RE
        [x stoichiometric].

    Returns
    -------
    float
        Y, the fraction of each rare earth precipitated [-].

    References
    ----------
    [A] Klemettinen et al., Minerals 13(7) 2023: 1.0 / 1.2 / 1.4 x
    stoichiometric -> 93 / 96.7 / 98.1 % of the RE precipitated.

    Examples
    --------
    >>> oxalate_yield(1.3)   # 0.967 + (0.981 - 0.967) * (1.3 - 1.2) / (1.4 - 1.2), halfway
    0.974
    >>> oxalate_yield(1.1)   # 0.93 + 0.037 / 2
    0.9485
    >>> oxalate_yield(2.0)   # held at the last point
    0.981
    """
    return round(float(np.interp(excess, *YIELD_POINTS)), 12)


@lru_cache(maxsize=256)
def iron_coprecipitation(excess: float) -> float:
    """Fraction of dissolved iron co-precipitated at ``excess`` [-].

    .. math:: \\phi_{Fe}(x) = 0.07 \\, \\frac{\\min(\\max(x, 1.2), 1.4) - 1.2}{1.4 - 1.2}

    (:data:`FE_POINTS`: 0 at and below 1.2 x, 7 % at and above 1.4 x,
    linear between).

    Parameters
    ----------
    excess : float
        x, oxalic acid fed over the stoichiometric 1.5 mol per mol RE
        [x stoichiometric].

    Returns
    -------
    float
        phi_Fe, the fraction of the dissolved iron precipitated [-].

    References
    ----------
    [A] Klemettinen et al., Minerals 13(7) 2023: at 1.4 x stoichiometric
    "Fe falls 7 %" (co-precipitation), read here as 7 % of the dissolved
    iron precipitated. The zero at 1.2 x and the linear ramp are [C]
    assumptions, no retrieved source.

    Examples
    --------
    >>> iron_coprecipitation(1.0), iron_coprecipitation(1.2)
    (0.0, 0.0)
    >>> round(iron_coprecipitation(1.3), 12)   # 0.07 * (1.3 - 1.2) / 0.2
    0.035
    >>> iron_coprecipitation(1.4), iron_coprecipitation(3.0)
    (0.07, 0.07)
    """
    return float(np.interp(excess, *FE_POINTS))


def oxalate_species(el: str) -> str:
    """The species name of the oxalate decahydrate a rare earth precipitates as.

    >>> oxalate_species("Nd")
    'Nd2(C2O4)3.10H2O'
    """
    return f"{el}2(C2O4)3.10H2O"


#: (element, aqueous ion, oxalate hydrate) of every rare earth
_RE_OXALATES = tuple((el, f"{el}+3", oxalate_species(el)) for el in RARE_EARTHS)


_KLEMETTINEN = "Klemettinen et al., Minerals 13(7) (2023) [A]"


class OxalateParams(UnitParams):
    excess: float = field(1.4, unit="x stoichiometric", ge=1.0, le=3.0,
                          description="oxalic acid fed over 1.5 mol per mol of rare earth; sets the yield "
                                      "(93 / 96.7 / 98.1 % at 1.0 / 1.2 / 1.4) and the iron co-precipitation",
                          source=_KLEMETTINEN)
    residence_h: float = field(1.0, unit="h", ge=0.1, le=24.0, description="residence time (tank size)",
                               source="[C]")
    cake_moisture: float = field(0.5, unit="kg/kg", ge=0.0, le=5.0,
                                 description="mother liquor the filtered cake holds per kg of dry cake",
                                 source="[C] oxalate filter cakes hold 30-40 wt % water")
    wash_efficiency: float = field(0.99, unit="-", ge=0.0, le=1.0,
                                   description="share of the held mother liquor the cake wash displaces",
                                   source="[C]")


class OxalatePrecipitation(UnitOperation):
    type_name = "oxalate_precipitation"
    summary = "precipitate rare-earth oxalates from a strip liquor with oxalic acid"
    inlets = ("liquor",)
    outlets = ("precipitate", "filtrate")
    Params = OxalateParams

    def _run(self, inlets, state):
        liq = dict(inlets["liquor"].mol_h)
        cake: dict[str, float] = {}
        re_total = sum(liq.get(ion, 0.0) for _, ion, _ in _RE_OXALATES)
        ox_fed = 1.5 * self.p["excess"] * re_total
        reagents = {"H2C2O4.2H2O": ox_fed} if ox_fed > 0 else {}
        liq["H2C2O4"] = liq.get("H2C2O4", 0.0) + ox_fed
        liq["H2O"] = liq.get("H2O", 0.0) + 2.0 * ox_fed
        y = oxalate_yield(self.p["excess"])
        for el, ion, solid in _RE_OXALATES:
            n = liq.get(ion, 0.0)
            if n <= 0:
                continue
            pre = y * n
            liq[ion] = n - pre
            cake[solid] = pre / 2.0
            liq["H2C2O4"] -= 1.5 * pre
            liq["H2O"] -= 5.0 * pre
            liq["H+"] = liq.get("H+", 0.0) + 3.0 * pre
        fe = iron_coprecipitation(self.p["excess"])
        if fe > 0:
            for sp, solid, per_fe_ox, per_fe_h, per_fe_w in (("Fe+3", "Fe2(C2O4)3", 1.5, 3.0, 0.0),
                                                             ("Fe+2", "FeC2O4.2H2O", 1.0, 2.0, 2.0)):
                n = liq.get(sp, 0.0)
                if n > 0:
                    pre = min(fe * n, liq["H2C2O4"] / per_fe_ox)
                    liq[sp] = n - pre
                    cake[solid] = cake.get(solid, 0.0) + (pre / 2.0 if sp == "Fe+3" else pre)
                    liq["H2C2O4"] -= per_fe_ox * pre
                    liq["H+"] = liq.get("H+", 0.0) + per_fe_h * pre
                    liq["H2O"] -= per_fe_w * pre
        cake_kg = mass_kg_h(cake)
        liq_kg = mass_kg_h(liq)
        kept = self.p["cake_moisture"] * (1.0 - self.p["wash_efficiency"]) * cake_kg
        phi = min(1.0, kept / liq_kg) if liq_kg > 0 else 0.0
        if phi > 0:
            for sp, n in list(liq.items()):
                if n > 0:
                    cake[sp] = cake.get(sp, 0.0) + phi * n
                    liq[sp] = n - phi * n
        return UnitResult(outlets={"precipitate": Stream("solid", cake), "filtrate": Stream("aqueous", liq)},
                          reagents=reagents, info={"yield": y, "re_in_mol_per_h": re_total,
                                                   "liquor_retained_fraction": phi})

    def design(self, result):
        v = result.outlets["filtrate"].volume_L_h * self.p["residence_h"] / 1000.0
        return {"tank_volume_m3": 1.2 * v}

    def cost(self, design):
        return power_law_cost(design["tank_volume_m3"], 5.0, 80_000.0, 0.6,
                              "[C] precipitation tank 5 m3 with filter, six-tenths rule", size_unit="m3")
