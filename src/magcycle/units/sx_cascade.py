"""One solvent-extraction cut: a constant-beta cascade designed for its feed.

Configuration
    Inlet ``feed`` (aqueous chloride liquor); outlets ``raffinate`` (the less
    extractable rare earths, with every non-rare-earth solute) and
    ``extract`` (strip liquor of the more extractable rare earths). The cut
    lies below ``heavy_key``: rare earths with a relative extractability
    beta >= beta[heavy_key] form the heavy (extract) side. Extraction and
    scrub sections as in :mod:`magcycle.sx.constant_beta` (saturated
    organic, scrub reflux from the strip liquor). Several units in a
    flowsheet make an SX circuit in any arrangement.

Degrees of freedom
    One target per side: the light side by ``extract_purity`` (heavy-side
    mole fraction of the extract RE) or ``light_recovery`` (fraction of the
    light side reaching the raffinate); the heavy side by
    ``raffinate_purity`` or ``heavy_recovery``. ``reflux_factor`` = S/S_min.
    Optionally fixed ``extraction_stages`` and ``scrub_stages``.

Design (the first run, unless the stages are fixed)
    Pseudo-binary keys: beta_key = beta(heavy key) / beta(light key), f_A the
    heavy-side share of the feed RE. The targets give the light RE in the
    extract x and the heavy RE in the raffinate y (per mol feed RE):

        extract_purity P_A:   P_A x + (1 - P_A) y = (1 - P_A) f_A
        raffinate_purity P_B: (1 - P_B) x + P_B y = (1 - P_B) f_B
        light_recovery r_B:   x = (1 - r_B) f_B
        heavy_recovery r_A:   y = (1 - r_A) f_A

    hence the product split and the design purities; S_min and W_min from
    Underwood (:func:`magcycle.sx.design.underwood_minimum`), S =
    reflux_factor S_min, W = S - P. The stage counts are the exact minimum
    at those flows: :func:`magcycle.sx.optimise.minimum_stages` finds the
    fewest extraction + scrub stages whose exact multicomponent cascade meets
    both targets, each a :class:`~magcycle.sx.optimise.Target` on a side of
    the cut (the heavy side's purity or recovery in the extract, the light
    side's in the raffinate). Xu's stage numbers
    (:func:`magcycle.sx.design.xu_stage_estimates`) only start the search;
    where they exceed ``max_stages`` (their constant-ratio premise fails as a
    section's ratio nears its limit) Fenske's total-reflux minimum starts
    it. Rare earths below ``TRACE_FLOOR`` (1e-30) of the feed RE skip the
    cascade and follow their side of the cut whole (their flows would
    otherwise fall into the subnormal range of doubles and lose their
    relative precision); so do the rare earths of a side below
    ``SIDE_FLOOR`` (1e-12) of the liquor, which no purity target can ask
    to separate (a Tb-free blend's trace of Tb at the Tb cut). A target that no cascade of up to ``max_stages``
    meets is an input error naming the unit.

Solving
    The cut's cascades are requested, not solved, in ``_run_steps`` (a step
    generator, :meth:`magcycle.units.base.UnitOperation.run_steps`): ``run``
    solves each alone, a lockstep Monte Carlo solves a chunk's together.

Operation of the built cut (later runs: recycle iterations, other feeds)
    The stage counts stay as designed. With ``flow_control = "feed_forward"``
    (default) the organic and scrub flows are set for each feed by the
    design rule above (S = reflux_factor S_min(f_A), W = S - P(f_A)), as an
    operator resets them for a new feed blend; where the targets cannot be
    met by any flow for that feed, the design ratios are held. With
    ``"ratio"`` the flows keep their design ratios to the RE fed.

Chemistry and reagents (per mol/h of RE to the extract, P)
    Extraction releases 3 P cations to the raffinate, and the scrub acid
    (Q_scrub [H+]) ends there too: Na+ from the saponified extractant
    (NaOH + HA -> NaA + H2O), H+ from the rest. The cut saponifies its
    organic as an operator does, to hold the raffinate at ``raffinate_pH``,
    up to ``saponification`` of its extractant (``extractant_mol_per_L`` x
    Q_org): n_NaOH = min(max(h_feed + 3 P + Q_s [H+]_s - h_target, 0),
    s_max C_HA Q_org). The separation factors and the loaded organic stand
    for that design acidity; by D = K [(HA)2]^3/[H+]^3 a raffinate more than
    10^(1/3) times as acidic has every distribution ratio ten-fold lower and
    lies outside the model's range: the run warns (``info["acidity"]``,
    the plant's warnings) or, with ``acid_check = "refuse"``, stops. The strip
    liquor holds P RE with 3 P Cl- and ``strip_free_acid`` mol/L of free HCl
    at ``strip_re_mol_per_L``. A fraction ``entrainment`` of every non-rare-earth solute of
    the feed and of its water is carried into the strip liquor, with the
    feed's anions (chloride, sulfate) in proportion to their equivalents.
    Organic RE flow S = Q_org * organic_loading, W = Q_scrub scrub_acid / 3
    (three H+ of the scrub acid return one RE3+: the constant_beta
    convention of the cascade document, ``magcycle schema cascade``).

Defaults ([C] unless stated): P507 relative extractabilities from typical
    P507/PC88A separation factors of adjacent rare earths in HCl, taken at
    the middle of their ranges ([C] general literature knowledge, no
    retrieved source; not to be used as test oracles): Ce/La 4 (3-5), Pr/Ce
    1.8 (1.5-2.1), Nd/Pr 1.5 (1.4-1.6), Sm/Nd 8 (6-10), Eu/Sm 2.15 (2.0-2.3),
    Gd/Eu 1.45 (1.4-1.5), Tb/Gd 4.7 (3.5-5.9), Dy/Tb 2.25 (2.0-2.5), Ho/Dy
    2.0, Y/Ho 1.55 (1.4-1.7). Loading 0.17 mol/L: the organic is 1.5 mol/L
    P507 (HEH(EHP)) in kerosene ([A-] a Chinese HEH(EHP) equilibrium paper,
    soulun.net record), whose working loading is 0.15-0.2 mol/L against a
    theoretical maximum of C_HA/6 = 0.25 mol/L ([C]); saponification 0.35
    (30-40 % [C]); scrub acid 3 mol/L ([C]).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import model_validator

from magcycle.chem.elements import RARE_EARTHS
from magcycle.chem.formula import charge as z_of
from magcycle.errors import InputError
from magcycle.schema import MAX_STAGES, Fraction, RareEarthSymbol, StageCount, fail, field, quantity
from magcycle.units.base import UnitOperation, UnitParams, UnitResult, no_equipment, power_law_cost
from magcycle.units.leach import water_per_mol_solute
from magcycle.units.stream import WATER_L_PER_MOL, Stream

__all__ = ["P507_BETA", "TRACE_FLOOR", "SIDE_FLOOR", "ACID_TOLERANCE", "REFERENCE_PH", "design_pH", "cut_split", "SXCascadeParams", "SXCascade"]


def _ladder() -> dict[str, float]:
    steps = [("La", 1.0), ("Ce", 4.0), ("Pr", 1.8), ("Nd", 1.5), ("Sm", 8.0), ("Eu", 2.15), ("Gd", 1.45),
             ("Tb", 4.7), ("Dy", 2.25), ("Ho", 2.0), ("Y", 1.55)]
    out, v = {}, 1.0
    for el, f in steps:
        v *= f
        out[el] = v
    return out


#: rare earths below this share of the feed RE bypass the cascade on their side of the cut
TRACE_FLOOR = 1e-30
#: a side of the cut below this share of the liquor's rare earths is not separated: a purity can be
#: asked to at most 1 - 1e-12, and such a liquor is that pure already; its rare earths follow their side
SIDE_FLOOR = 1e-12
#: a raffinate acidity up to this factor over the design acidity is within the cut model's range:
#: 10^(1/3), at which D = K [(HA)2]^3 / [H+]^3 has fallen ten-fold ([A] Peppard et al. 1965)
ACID_TOLERANCE = 10.0 ** (1.0 / 3.0)
#: [C] equilibrium pH of a saponified P507 cut keyed at Pr (the didymium cut)
REFERENCE_PH = 2.0


def design_pH(beta_ratio: float, reference_pH: float = REFERENCE_PH) -> float:
    r"""Design raffinate pH of a cut whose heavy key is ``beta_ratio`` times as extractable as Pr.

    At equal free extractant, D = K [(HA)2]^3 / [H+]^3 is the same for two keys when
    [H+]^3 scales as K, so

    .. math:: pH_{key} = pH_{Pr} - \frac{1}{3} \log_{10} \frac{\beta_{key}}{\beta_{Pr}}

    Parameters
    ----------
    beta_ratio : float
        beta_key / beta_Pr, relative extractabilities [-].
    reference_pH : float
        pH_Pr, design pH of the cut keyed at Pr [-] ([C] about 2 for saponified P507).

    Returns
    -------
    float
        The design pH [-].

    References
    ----------
    Peppard et al., J. Inorg. Nucl. Chem. 27 (1965) 1683 (third-power [H+] dependence).

    Examples
    --------
    >>> design_pH(1000.0)        # a key 1000 times as extractable: one pH unit more acidic
    1.0
    """
    return reference_pH - math.log10(beta_ratio) / 3.0

#: (element, its aqueous ion) of every rare earth
_RE_IONS = tuple((el, f"{el}+3") for el in RARE_EARTHS)
_RE_ION_SET = frozenset(ion for _, ion in _RE_IONS)


@lru_cache(maxsize=1024)
def _entrained_charge(species: str) -> int | None:
    """Charge (>= 0) of a solute the entrained liquor carries in proportion (a cation or a
    neutral solute, not a rare earth, H+ or water); None for everything else (anions follow
    the charge)."""
    if species in ("Cl-", "H+", "H2O") or species in _RE_ION_SET:
        return None
    z = z_of(species)
    return None if z < 0 else z


@lru_cache(maxsize=1024)
def _anion_charge(species: str) -> int:
    """-z of an anion, 0 for anything else."""
    return max(-z_of(species), 0)


#: relative extractability of each rare earth by P507 in HCl [-] (see module notes)
P507_BETA = _ladder()

_P507_SOURCE = ("[C] mid-range of typical P507/PC88A separation factors of adjacent rare earths in HCl "
                "(general literature knowledge, not one measured set): Ce/La 4 (3-5), Pr/Ce 1.8 (1.5-2.1), "
                "Nd/Pr 1.5 (1.4-1.6), Sm/Nd 8 (6-10), Eu/Sm 2.15 (2.0-2.3), Gd/Eu 1.45 (1.4-1.5), "
                "Tb/Gd 4.7 (3.5-5.9), Dy/Tb 2.25 (2.0-2.5), Ho/Dy 2.0, Y/Ho 1.55 (1.4-1.7)")


class SXCascadeParams(UnitParams):
    heavy_key: RareEarthSymbol = field(description="the least extractable rare earth of the extract side: "
                                                   "the cut lies just below it")
    beta: dict[RareEarthSymbol, quantity("dimensionless", ge=1e-12, le=1e12)] = field(
        default_factory=dict, unit="-", description="relative extractabilities over the P507 defaults "
                                                    "(only ratios matter)", source=_P507_SOURCE)
    extract_purity: Fraction | None = field(None, unit="-", description="heavy-side mole fraction of the "
                                             "extract's rare earths (give this or light_recovery)")
    raffinate_purity: Fraction | None = field(None, unit="-", description="light-side mole fraction of the "
                                               "raffinate's rare earths (give this or heavy_recovery)")
    light_recovery: Fraction | None = field(None, unit="-", description="share of the light side's feed "
                                             "leaving in the raffinate")
    heavy_recovery: Fraction | None = field(None, unit="-", description="share of the heavy side's feed "
                                             "leaving in the extract")
    reflux_factor: float = field(1.3, unit="-", gt=1.0, le=10.0,
                                 description="organic flow over Underwood's minimum, S / S_min",
                                 source="[C] 1.2-1.5 x minimum, as for distillation reflux")
    flow_control: Literal["feed_forward", "ratio"] = field(
        "feed_forward", description="feed_forward: organic and scrub reset by the design rule for each "
                                    "feed; ratio: held at their design ratios to the rare earths fed")
    extraction_stages: StageCount | None = field(None, unit="stages", ge=1, le=MAX_STAGES,
                                                 description="fixed extraction stages (with scrub_stages; "
                                                             "default: designed)")
    scrub_stages: StageCount | None = field(None, unit="stages", ge=0, le=MAX_STAGES,
                                            description="fixed scrub stages (with extraction_stages)")
    max_stages: StageCount = field(400, unit="stages", ge=1, le=2 * MAX_STAGES,
                                   description="largest extraction + scrub stage count the design searches")
    organic_loading: float = field(0.17, unit="mol/L", gt=0.0, le=1.0,
                                   description="rare earth per litre of loaded organic",
                                   source="[C] working loading 0.15-0.2 mol/L of 1.5 M P507")
    scrub_acid: float = field(3.0, unit="mol/L", gt=0.0, le=12.0, description="HCl of the scrub solution",
                              source="[C]")
    saponification: float = field(0.35, unit="-", ge=0.0, lt=1.0,
                                  description="largest share of the extractant pre-neutralised with NaOH; the cut "
                                              "saponifies up to it to hold its raffinate at raffinate_pH",
                                  source="[C] 30-40 % in industrial P507 circuits")
    extractant_mol_per_L: float = field(1.5, unit="mol/L", gt=0.0, le=5.0,
                                        description="extractant (P507, as monomer HA) in the organic",
                                        source="[A-] 1.5 mol/L HEH(EHP) in kerosene (a Chinese HEH(EHP) "
                                               "equilibrium paper, soulun.net record)")
    raffinate_pH: float | None = field(None, unit="-", ge=0.0, le=6.0,
                                       description="equilibrium pH of the raffinate that the saponification holds "
                                                   "(the acidity the cut's separation factors and loading stand "
                                                   "for); default: 2.0 for a cut keyed at Pr, and for another "
                                                   "key the pH of equal distribution ratio, 2.0 - log10(beta_key "
                                                   "/ beta_Pr) / 3",
                                       source="[C] saponified P507 light-rare-earth cuts run at pH about 2; the "
                                              "shift by the third-power law D ~ K/[H+]^3 ([A] Peppard et al. 1965) "
                                              "is [D]")
    acid_check: Literal["warn", "refuse"] = field(
        "warn", description="a raffinate more acidic than the model holds for (module notes): warn, or refuse "
                            "the run")
    strip_re_mol_per_L: float = field(0.5, unit="mol/L", gt=0.0, le=3.0,
                                      description="rare earth in the strip liquor", source="[C]")
    strip_free_acid: float = field(0.1, unit="mol/L", ge=0.0, le=6.0, description="free HCl of the strip liquor",
                                   source="[C]")
    entrainment: float = field(1e-4, unit="-", ge=0.0, le=0.1,
                               description="share of the feed's water and non-rare-earth solutes carried "
                                           "into the strip liquor", source="[C]")
    mixer_residence_min: float = field(3.0, unit="min", ge=0.1, le=60.0,
                                       description="mixer residence time (stage volume)", source="[C]")
    settler_m3_per_m2_h: float = field(3.0, unit="m3/(m2 h)", ge=0.1, le=50.0,
                                       description="settler specific flow (settler area)", source="[C]")

    @model_validator(mode="after")
    def _one_target_per_side(self):
        if (self.extract_purity is None) == (self.light_recovery is None):
            raise fail(("extract_purity",), "give exactly one of extract_purity and light_recovery")
        if (self.raffinate_purity is None) == (self.heavy_recovery is None):
            raise fail(("raffinate_purity",), "give exactly one of raffinate_purity and heavy_recovery")
        if (self.extraction_stages is None) != (self.scrub_stages is None):
            raise fail(("scrub_stages",), "fix both extraction_stages and scrub_stages, or neither")
        if self.heavy_key not in P507_BETA | self.beta:
            raise fail(("heavy_key",), f"no separation factor for {self.heavy_key}")
        if self.extract_purity is not None and self.raffinate_purity is not None \
                and not self.extract_purity + self.raffinate_purity > 1.0:
            raise fail(("raffinate_purity",), "extract_purity + raffinate_purity must exceed 1: purities that "
                                              "sum to 1 or less ask for no separation")
        return self


def cut_split(f_A, *, extract_purity=None, raffinate_purity=None, light_recovery=None,
              heavy_recovery=None):
    """Light RE in the extract (x) and heavy RE in the raffinate (y), per mol feed RE.

    Solves the two linear target equations of the module docstring, one per
    side of the cut (f_B = 1 - f_A):

    .. math:: P_A x + (1 - P_A) y = (1 - P_A) f_A \\quad\\text{or}\\quad x = (1 - r_B) f_B,

              (1 - P_B) x + P_B y = (1 - P_B) f_B \\quad\\text{or}\\quad y = (1 - r_A) f_A,

    by Cramer's rule. The extract then carries P = f_A - y + x and the
    raffinate R = f_B - x + y [mol/mol feed RE].

    Parameters
    ----------
    f_A : float
        Heavy-side (extract-side) mole fraction of the feed RE [-], in (0, 1).
    extract_purity : float, optional
        P_A, heavy-side mole fraction of the extract RE [-] (or ``light_recovery``).
    raffinate_purity : float, optional
        P_B, light-side mole fraction of the raffinate RE [-] (or ``heavy_recovery``).
    light_recovery : float, optional
        r_B, share of the light side's feed leaving in the raffinate [-].
    heavy_recovery : float, optional
        r_A, share of the heavy side's feed leaving in the extract [-].

    Returns
    -------
    (x, y) : tuple of float
        Light RE in the extract and heavy RE in the raffinate [mol / mol feed RE].

    References
    ----------
    Rare-earth and component balances over the cut (no outside source).
    Check case [D]: the internal regression case V1 Nd/Pr (beta 1.5, f_A
    0.75, 99.5 % / 99.5 %) has P = 0.752525.

    Examples
    --------
    >>> x, y = cut_split(0.75, extract_purity=0.995, raffinate_purity=0.995)
    >>> round(0.75 - y + x, 6)   # P = (P_B - f_B) / (P_A + P_B - 1) = 0.745 / 0.99
    0.752525
    >>> x, y = cut_split(0.75, light_recovery=0.99, heavy_recovery=0.98)
    >>> round(x, 6), round(y, 6)  # x = 0.01 * 0.25, y = 0.02 * 0.75
    (0.0025, 0.015)
    """
    f_B = 1.0 - f_A
    rows, rhs = [], []
    if extract_purity is not None:
        rows.append((extract_purity, 1.0 - extract_purity)); rhs.append((1.0 - extract_purity) * f_A)
    else:
        rows.append((1.0, 0.0)); rhs.append((1.0 - light_recovery) * f_B)
    if raffinate_purity is not None:
        rows.append((1.0 - raffinate_purity, raffinate_purity)); rhs.append((1.0 - raffinate_purity) * f_B)
    else:
        rows.append((0.0, 1.0)); rhs.append((1.0 - heavy_recovery) * f_A)
    (a, b), (c, d) = rows
    det = a * d - b * c
    x = (rhs[0] * d - b * rhs[1]) / det
    y = (a * rhs[1] - c * rhs[0]) / det
    return x, y


class SXCascade(UnitOperation):
    type_name = "sx_cascade"
    summary = "one solvent-extraction cut (constant beta, saturated organic), designed for its feed"
    inlets = ("feed",)
    outlets = ("raffinate", "extract")
    Params = SXCascadeParams

    def _setup(self) -> None:
        self.beta = P507_BETA | self.p["beta"]
        self.design_pH = (self.p["raffinate_pH"] if self.p["raffinate_pH"] is not None else
                          design_pH(self.beta[self.p["heavy_key"]] / self.beta["Pr"]))

    # ------------------------------------------------------------- helpers
    def _sides(self, re_flow):
        key = tuple(re_flow)
        cache = self.__dict__.setdefault("_sides_cache", {})
        if key not in cache:
            cache[key] = self._split_sides(re_flow)
        comps, light, heavy = cache[key]
        return list(comps), list(light), list(heavy)

    def _split_sides(self, re_flow):
        hk = self.beta[self.p["heavy_key"]]
        comps = [el for el in sorted(re_flow, key=lambda e: self.beta.get(e, 0.0)) if re_flow[el] > 0]
        for el in comps:
            if el not in self.beta:
                raise InputError(f"units.{self.name}.beta.{el}", "no separation factor for a rare earth in the feed")
        heavy = [el for el in comps if self.beta[el] >= hk]
        light = [el for el in comps if self.beta[el] < hk]
        return comps, light, heavy

    def _targets(self, comps, light, heavy):
        """The cut's two targets on its sides, as :class:`magcycle.sx.optimise.Target`: the heavy
        side's purity (or the light side's recovery) and the light side's purity (or the heavy
        side's recovery)."""
        from magcycle.sx.optimise import Target

        p = self.p
        H = tuple(comps.index(e) for e in heavy)
        L = tuple(comps.index(e) for e in light)
        hl, ll = "+".join(heavy), "+".join(light)
        first = (Target("extract", hl, H, "purity", p["extract_purity"]) if p["extract_purity"] is not None
                 else Target("raffinate", ll, L, "recovery", p["light_recovery"]))
        second = (Target("raffinate", ll, L, "purity", p["raffinate_purity"])
                  if p["raffinate_purity"] is not None else Target("extract", hl, H, "recovery", p["heavy_recovery"]))
        return first, second

    def _flows(self, f_A, light, heavy):
        """(S, W, beta_key, PA, PB) per mol of feed RE for a feed with heavy share f_A."""
        from magcycle.sx.design import underwood_minimum

        p = self.p
        beta_key = self.beta[heavy[0]] / self.beta[light[-1]]
        x, y = cut_split(f_A, extract_purity=p["extract_purity"], raffinate_purity=p["raffinate_purity"],
                         light_recovery=p["light_recovery"], heavy_recovery=p["heavy_recovery"])
        P = f_A - y + x
        f_B = 1.0 - f_A
        if not 0.0 < P < 1.0 or x < 0 or y < 0:
            raise InputError(f"units.{self.name}", "the targets contradict each other for this feed "
                                                   f"(extract share {P:.4g})")
        PA, PB = (f_A - y) / P, (f_B - x) / (1.0 - P)
        # design purities must exceed the feed's own (a looser target is met by any cascade)
        PA = max(PA, f_A + 0.5 * f_B)
        PB = max(PB, f_B + 0.5 * f_A)
        PA, PB = min(PA, 1.0 - 1e-12), min(PB, 1.0 - 1e-12)
        if not (0.0 < f_A < PA and 0.0 < f_B < PB):  # what minimum_extractant would refuse
            raise InputError(f"units.{self.name}", f"no separation to design: the feed is {f_A:.6g} heavy side")
        # Underwood's minimum flows (magcycle.sx.design.minimum_extractant, whose checks hold
        # now: beta_key > 1, and f < P <= 1 - 1e-12 on both sides)
        S_min, W_min = underwood_minimum(beta_key, f_A, f_B, PA, PB)
        P = S_min - W_min  # W_min = S_min - P, P the product split at PA, PB
        S = p["reflux_factor"] * S_min
        return S, S - P, beta_key, PA, PB

    def _feed_forward(self, f_A, light, heavy, S, W):
        """(S, W) of the design rule for this feed; the design ratios (S, W) where no flows meet
        the targets for it."""
        try:
            return self._flows(f_A, light, heavy)[:2]
        except InputError:
            return S, W

    def _search_start(self, f_A, beta_key, PA, PB, S, W) -> tuple[int, float]:
        """A guess of the total stages and of n / (n + m) that starts the exact search: Xu's
        estimate, or Fenske's total-reflux minimum where Xu's constant-ratio premise fails
        (E'_M near beta, e.g. a feed all but free of the light side) or exceeds max_stages."""
        from magcycle.sx.design import fenske_min_stages, xu_stage_estimates

        try:
            n, m = (float(x) for x in xu_stage_estimates(beta_key, f_A, PA, PB, S, W))
        except InputError:
            n = m = math.inf
        if n + m <= self.p["max_stages"]:
            return max(1, math.ceil(n + m)), n / (n + m)
        return max(1, math.ceil(float(fenske_min_stages(beta_key, f_A, PA, PB)))), 0.5

    def _design(self, comps, light, heavy, re_flow, Q_feed, f_A, floor=0):
        """The fewest extraction + scrub stages meeting both targets at the design flows, by the
        exact search of :func:`magcycle.sx.optimise.minimum_stages` (started above ``floor``, a
        total known too small): (result, spec, S, W, solves)."""
        from magcycle.sx.optimise import minimum_stages

        p = self.p
        S, W, beta_key, PA, PB = self._flows(f_A, light, heavy)
        start, ratio = self._search_start(f_A, beta_key, PA, PB, S, W)
        start = min(max(start, floor + 1), p["max_stages"])
        d = minimum_stages(self._spec(comps, re_flow, Q_feed, 1, 0, S, W), self._targets(comps, light, heavy),
                           max_stages=p["max_stages"], start=start, ratio=ratio, warm_splits=False,
                           at_least=floor + 1)
        if not d.feasible:
            raise InputError(f"units.{self.name}", f"no cascade of up to {p['max_stages']} stages meets the "
                                                   f"targets at reflux_factor {p['reflux_factor']} (cut below "
                                                   f"{p['heavy_key']}): {d.reason}")
        reasons = self._design_reasons(f_A, beta_key, PA, PB, S, W) | {
            "search_start": start, "exact_minimum_stages": d.spec.extraction_stages + d.spec.scrub_stages,
            "design_solves": d.evaluations}
        return d.result, d.spec, S, W, d.evaluations, reasons

    def _design_reasons(self, f_A, beta_key, PA, PB, S, W) -> dict:
        """Why the cut has its flows and stages, per mol of feed RE: the key separation factor, the
        design purities, Underwood's minimum flows (S_min = S / reflux_factor, W_min = S_min - P with
        P = S - W), and the Fenske and Xu estimates that started the exact search."""
        from magcycle.sx.design import fenske_min_stages, xu_stage_estimates

        r = self.p["reflux_factor"]
        try:
            xu = [float(x) for x in xu_stage_estimates(beta_key, f_A, PA, PB, S, W)]
        except InputError:
            xu = [None, None]
        return {"heavy_key": self.p["heavy_key"], "beta_key": beta_key, "heavy_share_of_feed": f_A,
                "design_extract_purity": PA, "design_raffinate_purity": PB, "underwood_S_min_per_F": S / r,
                "underwood_W_min_per_F": S / r - (S - W), "reflux_factor": r, "S_per_F": S, "W_per_F": W,
                "fenske_min_stages": float(fenske_min_stages(beta_key, f_A, PA, PB)),
                "xu_extraction_stages": xu[0], "xu_scrub_stages": xu[1]}

    def _spec(self, comps, re_flow, Q_feed, n, m, S, W, state=None):
        """The cut's cascade. The spec of the last solve in ``state`` is reused with new flows
        and feed when it has the same components, stages and chemistry and every new value
        is valid (the loader's rules), which skips the parse; otherwise the document is parsed."""
        from magcycle.sx import CascadeSpec

        F = sum(re_flow[e] for e in comps)
        p = self.p
        organic, scrub = S * F / p["organic_loading"], 3.0 * W * F / p["scrub_acid"]
        key = (tuple(comps), n, m, tuple(self.beta[e] for e in comps), p["organic_loading"], p["scrub_acid"])
        last = state.get("result") if state is not None else None
        previous = last.spec if last is not None and state.get("spec_key") == key else None
        if state is not None:
            state["spec_key"] = key
        if previous is not None:
            try:
                return previous.with_flows(organic=organic, feed_flow=Q_feed, scrub=scrub,
                                           feed=[re_flow[e] / Q_feed for e in comps])
            except InputError:
                pass  # the document below names the field
        return CascadeSpec.from_dict({
            "cascade": {"model": "constant_beta", "extraction_stages": n, "scrub_stages": m},
            "flows": {"feed": Q_feed, "organic": organic, "scrub": scrub},
            "feed": {e: re_flow[e] / Q_feed for e in comps},
            "model": {"beta": {e: self.beta[e] for e in comps}, "organic_loading": p["organic_loading"],
                      "scrub_acid": p["scrub_acid"]},
        }, source=f"units.{self.name}")

    def _solve_steps(self, comps, light, heavy, re_flow, Q_feed, state):
        """The cut's cascade: (result, spec, S, W, design solves). Designed on the first run
        (:meth:`_design`, or the fixed stages); afterwards each solve is yielded as (spec, warm
        start) and answered by whoever drives the steps (:mod:`magcycle.sx.lockstep`)."""
        F = sum(re_flow[e] for e in comps)
        f_A = sum(re_flow[e] for e in heavy) / F
        frozen = state.get("design")
        if frozen is None and self.p["extraction_stages"] is None:
            res, spec, S, W, solves, reasons = self._design(comps, light, heavy, re_flow, Q_feed, f_A,
                                                            state.get("design_floor", 0))
            state["design"] = {"components": comps, "n": spec.extraction_stages, "m": spec.scrub_stages,
                               "S": S, "W": W, "solves": solves, "reasons": reasons}
            return res, spec, S, W, solves
        if frozen is None:  # fixed stages: the equipment is given
            S, W = self._flows(f_A, light, heavy)[:2]
            frozen = state["design"] = {"components": comps, "n": self.p["extraction_stages"],
                                        "m": self.p["scrub_stages"], "S": S, "W": W,
                                        "reasons": {"heavy_key": self.p["heavy_key"], "fixed_stages": True}}
        # built equipment: the stages stay; the flows follow the feed
        n, m, S, W = frozen["n"], frozen["m"], frozen["S"], frozen["W"]
        if self.p["flow_control"] == "feed_forward":
            S, W = self._feed_forward(f_A, light, heavy, S, W)
        spec = self._spec(comps, re_flow, Q_feed, n, m, S, W, state)
        last = state.get("result")
        if last is not None and _same_cascade(last.spec, spec):
            # the same cascade to the last bit (a recycle pass that did not change this
            # cut's feed): the same solution
            return last, spec, S, W, 0
        res = yield (spec, last)
        return res, spec, S, W, 0

    # ------------------------------------------------------------------ run
    def _run(self, inlets, state):
        from magcycle.sx.lockstep import drive

        return drive(self._run_steps(inlets, state))

    def _run_steps(self, inlets, state):
        feed = inlets["feed"]
        re_flow, trace = _cascade_and_trace(feed.mol_h)
        comps, light, heavy = self._sides(re_flow) if re_flow else ([], [], [])
        comps, light, heavy = _minor_side_as_traces(re_flow, trace, comps, light, heavy)
        info: dict = {"bypassed": True, "components": comps}
        if light and heavy:
            ext_re, raf_re, info = yield from self._cut(comps, light, heavy, re_flow, feed.volume_L_h, state)
        elif heavy:  # nothing lighter than the key: everything is extract
            ext_re, raf_re = dict(re_flow), {e: 0.0 for e in comps}
        else:
            ext_re, raf_re = {e: 0.0 for e in comps}, dict(re_flow)
        hk = self.beta[self.p["heavy_key"]]
        for el, v in sorted(trace.items()):
            heavy_side = self.beta.get(el, 0.0) >= hk
            ext_re[el], raf_re[el] = (v, 0.0) if heavy_side else (0.0, v)
        raf, ext, reagents = self._liquors(feed.mol_h, ext_re, raf_re, info)
        info["extract_re_mol_per_h"] = sum(ext_re.values())
        return UnitResult(outlets={"raffinate": Stream("aqueous", raf), "extract": Stream("aqueous", ext)},
                          reagents=reagents, info=info)

    def _cut(self, comps, light, heavy, re_flow, Q_feed, state):
        """Rare earths to each outlet [mol/h] from the cut's cascade, and the cut's info."""
        res, spec, S, W, solves = yield from self._solve_steps(comps, light, heavy, re_flow, Q_feed, state)
        state["result"] = res
        ext_re = dict(zip(comps, res.outlets["extract"].mol_per_h.tolist()))
        raf_re = dict(zip(comps, res.outlets["raffinate"].mol_per_h.tolist()))
        info = {"bypassed": False, "components": comps, "extraction_stages": spec.extraction_stages,
                "scrub_stages": spec.scrub_stages, "S_per_F": S, "W_per_F": W,
                "design_solves": state["design"].get("solves", 0), "iterations": res.iterations,
                "cascade_closure": res.closure, "organic_L_per_h": spec.organic, "scrub_L_per_h": spec.scrub,
                "feed_L_per_h": Q_feed, "profile": _profile(res),
                "targets": _target_table(self, res, comps, light, heavy),
                "design_reasons": state["design"].get("reasons", {}),
                "sx_streams": {"loaded organic": _loaded_organic(res, comps, spec.organic)}}
        return ext_re, raf_re, info

    def holds(self, result: UnitResult, state: dict) -> bool:
        """Whether the cut, designed on an earlier pass, meets both its targets on the feed of
        ``result``; a cut with fixed stages, or bypassed, always holds."""
        if self.p["extraction_stages"] is not None or result.info.get("bypassed", True):
            return True
        return all(t["achieved"] >= t["minimum"] for t in result.info["targets"]().values())

    def release(self, state: dict) -> None:
        """Drop the design, so that the next run designs the cut again on the feed it meets; its
        search starts above the stage count that no longer holds."""
        design = state.pop("design", None)
        if design is not None:
            state["design_floor"] = design["n"] + design["m"]

    def _liquors(self, mol, ext_re, raf_re, info):
        """(raffinate, strip liquor, reagents) [mol/h] around the rare earths' split: the
        cations extraction releases, the scrub acid, the saponification, the strip liquor and
        the entrainment (module notes)."""
        raf = dict(mol)
        for el, n in raf_re.items():
            raf[f"{el}+3"] = n
        P = sum(ext_re.values())
        if not P > 0:
            return raf, {}, {}
        reagents: dict[str, float] = {}
        scrub_L_h = info.get("scrub_L_per_h", 0.0)
        hs = scrub_L_h * self.p["scrub_acid"]
        if scrub_L_h:
            water = scrub_L_h / WATER_L_PER_MOL
            reagents["HCl"] = hs
            reagents["H2O"] = water
            raf["Cl-"] = raf.get("Cl-", 0.0) + hs
            raf["H2O"] = raf.get("H2O", 0.0) + water
            info.setdefault("sx_streams", {})["scrub solution"] = {
                "phase": "aqueous", "L_per_h": scrub_L_h, "mol_per_h": {"H+": hs, "Cl-": hs, "H2O": water}}
        organic = info.get("organic_L_per_h") or P / self.p["organic_loading"]
        info["acidity"] = self._saponify(raf, reagents, 3.0 * P + hs, organic)
        ext = self._strip_liquor(reagents, ext_re, P)
        strip = {k: ext[k] for k in ("H2O",)} | {"H+": ext["Cl-"], "Cl-": ext["Cl-"]}
        info.setdefault("sx_streams", {})["strip acid"] = {"phase": "aqueous", "L_per_h": strip["H2O"] * WATER_L_PER_MOL,
                                                          "mol_per_h": strip}
        if self.p["entrainment"] > 0:
            self._entrain(mol, raf, ext)
        return raf, ext, reagents

    def _saponify(self, raf, reagents, released, organic):
        """Saponify the organic to hold the raffinate at ``raffinate_pH``; the acid check.

        The raffinate takes the feed's acid h_f, the scrub acid and the 3 P cations the net
        extraction releases (``released`` = 3 P + Q_s [H+]_s): Na+ from the saponified
        extractant (NaOH + HA -> NaA + H2O, the NaOH as 50 % solution), H+ from the rest. The
        NaOH is what holds the raffinate at h_t = 10^-pH V (V before the caustic's water),

            n_NaOH = min(max(h_f + released - h_t, 0), s_max C_HA Q_org),

        and the raffinate keeps h = h_f + released - n_NaOH. The separation factors and the
        loaded organic of the cut stand for the design acidity h_t / V; by the third-power law
        D = K [(HA)2]^3 / [H+]^3 ([A] Peppard et al. 1965) an acidity 10^(1/3) = 2.15 times the
        design value cuts every distribution ratio ten-fold, past which the loaded-organic
        premise of the cut fails: such a raffinate is warned about (or refused).
        """
        vol = raf.get("H2O", 0.0) * WATER_L_PER_MOL
        acid = raf.get("H+", 0.0) + released
        target = 10.0 ** -self.design_pH * vol
        capacity = self.p["saponification"] * self.p["extractant_mol_per_L"] * organic
        naoh = min(max(acid - target, 0.0), capacity)
        # the raffinate's acid, written so as not to subtract nearly equal numbers: held at the
        # target when the caustic reaches it (a recycle converges to 1e-12 on this stream)
        left = acid if naoh <= 0 else (target if naoh < capacity else acid - capacity)
        if naoh > 0:
            reagents["NaOH"] = naoh
            water = naoh * water_per_mol_solute("NaOH", 50.0)
            reagents["H2O"] = reagents.get("H2O", 0.0) + water
            raf["Na+"] = raf.get("Na+", 0.0) + naoh
            raf["H2O"] = raf.get("H2O", 0.0) + water + naoh
        raf["H+"] = left
        vol = raf["H2O"] * WATER_L_PER_MOL
        h = raf["H+"] / vol if vol > 0 else 0.0
        design = 10.0 ** -self.design_pH
        out = {"raffinate_H_mol_per_L": h, "design_H_mol_per_L": design,
               "limit_H_mol_per_L": design * ACID_TOLERANCE,
               "saponification": naoh / (self.p["extractant_mol_per_L"] * organic) if organic > 0 else 0.0,
               "valid": h <= design * ACID_TOLERANCE}
        if not out["valid"]:
            text = (f"the raffinate leaves at {h:.3g} mol/L H+ (pH {-math.log10(h):.2f}), more than "
                    f"{ACID_TOLERANCE:.3g} x the design {design:.3g} mol/L (pH {self.design_pH:.2f}) that its "
                    f"separation factors and loading stand for: the saponification is capped at "
                    f"{self.p['saponification']:g} of the extractant")
            if self.p["acid_check"] == "refuse":
                raise InputError(f"units.{self.name}.saponification", text)
            out["warning"] = f"{self.name}: {text}"
        return out

    def _strip_liquor(self, reagents, ext_re, P):
        """The strip liquor: P RE with 3 P Cl- and strip_free_acid mol/L of HCl at
        strip_re_mol_per_L; its acid and water are reagents."""
        V = P / self.p["strip_re_mol_per_L"]
        free = self.p["strip_free_acid"] * V
        hcl = 3.0 * P + free
        w_strip = V / WATER_L_PER_MOL
        reagents["HCl"] = reagents.get("HCl", 0.0) + hcl
        reagents["H2O"] = reagents.get("H2O", 0.0) + w_strip
        ext = {f"{el}+3": n for el, n in ext_re.items() if n > 0}
        ext.update({"Cl-": hcl, "H+": free, "H2O": w_strip})
        return ext

    def _entrain(self, mol, raf, ext):
        """A fraction ``entrainment`` of the feed's non-RE solutes and water joins the strip
        liquor, with the raffinate's anions in proportion to their equivalents."""
        eps = self.p["entrainment"]
        charge = 0.0
        for sp in mol:
            z = _entrained_charge(sp)
            take = eps * raf.get(sp, 0.0) if z is not None else 0.0
            if take > 0:
                raf[sp] -= take
                ext[sp] = ext.get(sp, 0.0) + take
                charge += z * take
        if charge > 0:
            anions = {sp: n for sp, n in raf.items() if n > 0 and _anion_charge(sp)}
            eq = sum(_anion_charge(sp) * n for sp, n in anions.items())
            if charge > eq:
                raise InputError(f"units.{self.name}.feed", "the liquor has too few anions for its cations")
            for sp, n in anions.items():
                take = n * charge / eq
                raf[sp] = n - take
                ext[sp] = ext.get(sp, 0.0) + take
        wtake = eps * raf.get("H2O", 0.0)
        raf["H2O"] -= wtake
        ext["H2O"] += wtake

    def design(self, result):
        i = result.info
        if i.get("bypassed"):
            return {"stages": 0, "stage_volume_m3": 0.0, "settler_area_m2": 0.0}
        stages = i["extraction_stages"] + i["scrub_stages"]
        q = (i["feed_L_per_h"] + i["organic_L_per_h"] + i["scrub_L_per_h"]) / 1000.0  # m3/h through a stage
        mixer = q * self.p["mixer_residence_min"] / 60.0
        area = q / self.p["settler_m3_per_m2_h"]
        return {"stages": stages, "stage_volume_m3": mixer + area * 0.5, "settler_area_m2": area,
                "organic_inventory_m3": stages * (mixer + area * 0.5) * 0.5}

    def cost(self, design):
        if not design["stages"]:
            return no_equipment("bypassed")
        return power_law_cost(design["stage_volume_m3"], 1.0, 40_000.0, 0.6,
                              "[C] mixer-settler stage of 1 m3 (PP/FRP) USD 40k, six-tenths rule, per stage",
                              count=design["stages"], size_unit="m3 per stage")


def _minor_side_as_traces(re_flow: dict, trace: dict, comps, light, heavy):
    """A side below SIDE_FLOOR of the liquor's rare earths: nothing to separate it from. Its rare
    earths move from ``re_flow`` to ``trace`` (they follow their side whole); the sides without them."""
    if not (light and heavy):
        return comps, light, heavy
    f_A = sum(re_flow[e] for e in heavy) / sum(re_flow.values())
    minor = heavy if f_A <= SIDE_FLOOR else light if 1.0 - f_A <= SIDE_FLOOR else []
    for el in minor:
        trace[el] = re_flow.pop(el)
    return tuple([e for e in x if e not in minor] for x in (comps, light, heavy))


def _cascade_and_trace(mol):
    """The rare earths of a liquor [mol/h]: those the cascade takes, and the traces below
    TRACE_FLOOR of the total that follow their side of the cut whole (their flows would
    reach the subnormal range of doubles; moving them whole conserves them exactly)."""
    all_re = {el: mol[ion] for el, ion in _RE_IONS if ion in mol}
    total = sum(all_re.values())
    re_flow = {el: v for el, v in all_re.items() if v > TRACE_FLOOR * total}
    return re_flow, {el: v for el, v in all_re.items() if el not in re_flow}


def _same_cascade(a, b) -> bool:
    """True when two cascade specs are equal value for value (same chemistry object)."""
    return (a.params is b.params and a.components == b.components
            and a.extraction_stages == b.extraction_stages and a.scrub_stages == b.scrub_stages
            and a.strip_stages == b.strip_stages and a.organic == b.organic
            and a.feed_flow == b.feed_flow and a.scrub == b.scrub and a.strip == b.strip
            and np.array_equal(a.feed, b.feed))



def _target_table(unit, result, comps, light, heavy):
    """A function returning each of the cut's targets with what the cascade achieves (computed only
    when asked: a design pass or a report, not every recycle pass of a Monte Carlo sample)."""
    def table() -> dict:
        from magcycle.sx.optimise import achieved

        targets = unit._targets(comps, light, heavy)
        return {t.label: {"minimum": t.minimum, "achieved": float(v)}
                for t, v in zip(targets, achieved(result, targets))}
    return table


def _loaded_organic(result, comps, organic_L_h: float) -> dict:
    """The organic leaving the last scrub stage for the strip: its rare earths [mol/h] (the
    organic profile's last stage x Q_org)."""
    last = np.asarray(result.organic)[-1]
    return {"phase": "organic", "L_per_h": organic_L_h,
            "mol_per_h": {el: float(c) * organic_L_h for el, c in zip(comps, last) if c > 0}}


def _profile(result):
    """A function returning the cascade's stage concentrations as lists (built only when a
    report asks: a recycle pass reads only the outlets)."""
    def profile() -> dict:
        return {"aqueous_mol_per_L": np.asarray(result.aqueous).tolist(),
                "organic_mol_per_L": np.asarray(result.organic).tolist()}
    return profile
