"""The cascade document (TOML or JSON) as a declared schema: ``magcycle schema cascade``.

This module is the public contract of the document, in machine-readable
form (``magcycle schema cascade`` prints it as JSON Schema). Sections:

``[cascade]``  model and stage counts; ``[flows]`` volumetric flows [L/h];
``[feed]``     mol/L of each rare earth in the aqueous feed;
``[model]``    the parameters of the chosen equilibrium model;
``[targets]``  (design files) minimum purity or recovery per outlet and
               component; ``[design]`` (design files) cost weights and the
               largest stage count searched.

Unit strings are accepted where a number is ("250 L/h", "36 g/L", "35 %")
and converted here, at the edge. The rules that tie fields together (S > W
for constant_beta, a strip flow for strip stages, the electroneutrality of
a saponified mass-action organic, ...) are :func:`magcycle.sx.spec.check_cascade`,
the same rules every variant of a spec keeps (``CascadeSpec.with_flows``).

This module imports pydantic; :mod:`magcycle.sx` imports it only when a
document is loaded, so ``import magcycle.sx`` stays cheap.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from magcycle.errors import InputError
from magcycle.schema import (MAX_STAGES, Concentration, Dimensionless, ElementSymbol, Fraction,
                             StageCount, Strict, VolumetricFlow, fail, field, quantity)
from magcycle.sx.spec import (LOG10_K_RANGE, MAX_ACID, MAX_CONCENTRATION, MAX_FLOW_L_PER_H, MAX_LOADING,
                              MIN_CONCENTRATION, MIN_FLOW_L_PER_H, RATIO_RANGE, target_components)

__all__ = ["CascadeSection", "Flows", "ConstantDModel", "ConstantBetaModel", "MassActionModel", "Correlation",
           "EmpiricalPhModel", "CascadeDocument",
           "DesignSection", "MODEL_SECTIONS", "Targets"]

_Ratio = quantity("dimensionless", ge=RATIO_RANGE[0], le=RATIO_RANGE[1])


class CascadeSection(Strict):
    """``[cascade]``: the equilibrium model and the stage count of each section."""

    model: Literal["constant_d", "constant_beta", "mass_action", "empirical_ph"] = field(
        description="equilibrium model: constant distribution ratio, constant separation factor with "
                    "a saturated organic, cation exchange by mass action with a proton balance, or "
                    "empirical D(pH, free extractant) with a proton balance")
    extraction_stages: StageCount = field(unit="stages", ge=1, le=MAX_STAGES,
                                          description="n: extraction stages (the feed enters stage n)")
    scrub_stages: StageCount = field(0, unit="stages", ge=0, le=MAX_STAGES,
                                     description="m: scrub stages above the feed stage")
    strip_stages: StageCount = field(0, unit="stages", ge=0, le=MAX_STAGES,
                                     description="k: strip stages")
    murphree_efficiency: float = field(1.0, unit="-", gt=0.0, le=1.0, allow_inf_nan=False,
                                       description="Murphree stage efficiency of the organic phase, every stage: "
                                                   "y_k = y_k-1 + E (D x_k - y_k-1)")
    entrainment: float = field(0.0, unit="-", ge=0.0, lt=1.0, allow_inf_nan=False,
                               description="volume fraction of aqueous entrained in the organic leaving each "
                                           "stage, carried one stage up (with E = 1)")


class Flows(Strict):
    """``[flows]``: volumetric flows of the four streams entering the cascade."""

    organic: VolumetricFlow = field(unit="L/h", ge=MIN_FLOW_L_PER_H, le=MAX_FLOW_L_PER_H,
                                    description="organic (solvent) flow, entering stage 1")
    feed: VolumetricFlow = field(unit="L/h", ge=MIN_FLOW_L_PER_H, le=MAX_FLOW_L_PER_H,
                                 description="aqueous feed flow, entering stage n")
    scrub: VolumetricFlow = field(0.0, unit="L/h", ge=0.0, le=MAX_FLOW_L_PER_H,
                                  description="scrub solution, entering stage n + m (required > 0 with "
                                              "scrub stages, and always for constant_beta)")
    strip: VolumetricFlow = field(0.0, unit="L/h", ge=0.0, le=MAX_FLOW_L_PER_H,
                                  description="strip solution, entering stage N (required > 0 with strip stages)")


_ByElement = dict[ElementSymbol, _Ratio]
_Coefficient = Annotated[float, Field(allow_inf_nan=False, ge=-1e3, le=1e3)]


class ConstantDModel(Strict):
    """``[model]`` of ``constant_d``: distribution ratios per component and section."""

    D: _ByElement = field(unit="-", description="distribution ratio D = y/x of each feed component in the "
                                                "extraction section (and the scrub, unless D_scrub is given)")
    D_scrub: _ByElement | None = field(None, unit="-", description="D in the scrub section (default: D)")
    D_strip: _ByElement | None = field(None, unit="-", description="D in the strip section (required with "
                                                                   "strip stages)")


_Charges = dict[ElementSymbol, Annotated[int, Field(ge=1, le=4)]]


class ConstantBetaModel(Strict):
    """``[model]`` of ``constant_beta``: relative extractabilities, loading and scrub acid."""

    beta: _ByElement = field(unit="-", description="relative extractability of each feed component (only "
                                                   "ratios matter: beta_i/beta_j is the separation factor)")
    organic_loading: Concentration = field(unit="mol/L", gt=0.0, le=MAX_LOADING,
                                           description="rare earth per litre of loaded (saturated) organic")
    scrub_acid: Concentration = field(unit="mol/L", gt=0.0, le=MAX_ACID,
                                      description="H+ of the scrub solution; three H+ return one RE3+ (W)")
    beta_scrub: _ByElement | None = field(None, unit="-", description="relative extractabilities in the scrub "
                                                                      "section (default: beta)")
    D_strip: _ByElement | None = field(None, unit="-", description="distribution ratio of each component in the "
                                                                   "strip section (required with strip stages; the "
                                                                   "fraction W/S of the strip liquor is the reflux)")
    charge: _Charges | None = field(None, description="charge of the ion loaded, where not the usual one; the "
                                                      "organic's saturation is counted in charge (3 per RE3+)")


class MassActionModel(Strict):
    """``[model]`` of ``mass_action``: M^z+ + z (HA)2 = M(HA2)z + z H+ (z = 3 for the rare earths)."""

    log10_K: dict[ElementSymbol, Annotated[float, Field(ge=LOG10_K_RANGE[0], le=LOG10_K_RANGE[1])]] = field(
        unit="log10 of (mol/L)^0", description="log10 of the extraction constant K of each component")
    extractant: Concentration = field(unit="mol/L", gt=0.0, le=MAX_LOADING,
                                      description="extractant HA in the organic, as monomer")
    saponification: Dimensionless = field(0.0, unit="-", ge=0.0, lt=1.0,
                                          description="fraction of the extractant pre-neutralised")
    counter_ion: Literal["NH4+", "Na+"] = field("NH4+", description="cation of the saponification")
    feed_acid: Concentration = field(0.0, unit="mol/L", ge=0.0, le=MAX_ACID, description="free H+ of the feed")
    scrub_acid: Concentration = field(0.0, unit="mol/L", ge=0.0, le=MAX_ACID,
                                      description="H+ of the scrub (required > 0 with scrub stages)")
    strip_acid: Concentration = field(0.0, unit="mol/L", ge=0.0, le=MAX_ACID,
                                      description="H+ of the strip (required > 0 with strip stages)")
    charge: _Charges | None = field(None, description="charge z of the ion loaded, where not the usual one (RE, "
                                                      "Sc, Fe, Al 3; Ca, Mg, Mn, Co, Ni, Cu, Zn 2)")


class Correlation(Strict):
    """``[model.log10_D.<El>]``: log10 D = (m0 + m1 d) pH + B0 + B1 log10 d, d the free extractant [vol %]."""

    m0: _Coefficient = field(unit="-", description="pH slope at zero extractant")
    m1: _Coefficient = field(0.0, unit="1/vol %", description="change of the pH slope per vol % of extractant")
    B0: _Coefficient = field(unit="-", description="intercept: log10 D at pH 0 and d = 1 vol %")
    B1: _Coefficient = field(0.0, unit="-", description="extractant order: slope of log10 D against log10 d")


_Acid = quantity("concentration", ge=0.0, le=MAX_ACID)


class EmpiricalPhModel(Strict):
    """``[model]`` of ``empirical_ph``: D from a pH correlation (or constant), pH from the proton balance."""

    medium: Literal["sulfate", "chloride"] = field(
        description="aqueous medium: in sulfate, HSO4- = H+ + SO4 2- (Ka2) buffers the acid that extraction "
                    "releases; in chloride the released H+ stays free")
    extractant_vol_pct: float = field(unit="vol %", gt=0.0, lt=100.0, allow_inf_nan=False,
                                      description="free extractant in the organic entering stage 1")
    extractant_molar_mass: float = field(322.431, unit="g/mol", gt=1.0, le=1e4, allow_inf_nan=False,
                                         description="molar mass of the extractant (default D2EHPA, 322.431)")
    extractant_density: float = field(975.8, unit="g/L", gt=1.0, le=1e4, allow_inf_nan=False,
                                      description="density of the neat extractant (default D2EHPA, 975.8 g/L)")
    extractant_per_charge: float = field(1.0, unit="mol/mol", gt=0.0, le=6.0, allow_inf_nan=False,
                                         description="extractant taken from the free pool per unit of charge "
                                                     "loaded (1: M(A)z of a monomer HA, as PrOMMiS; 2: M(HA2)z "
                                                     "of a dimer)")
    Ka2: float = field(10.0 ** -1.99, unit="mol/L", ge=1e-5, le=10.0, allow_inf_nan=False,
                       description="HSO4- dissociation constant (pKa2 1.99 at 25 C, CRC Handbook)")
    log10_D: dict[ElementSymbol, Correlation] | None = field(
        None, description="per component: log10 D = (m0 + m1 d) pH + B0 + B1 log10 d")
    D: _ByElement | None = field(None, unit="-", description="per component: a constant distribution ratio "
                                                               "(instead of a correlation)")
    charge: _Charges | None = field(
        None, description="charge of the ion loaded, where not the usual one (RE, Sc, Fe, Al 3; Ca, Mg, Mn, "
                          "Co, Ni, Cu, Zn 2)")
    feed_acid: _Acid | None = field(None, unit="mol/L", description="titratable acid of the feed: free H+ plus "
                                                                  "HSO4- (give this or feed_pH)")
    feed_pH: float | None = field(None, unit="-", ge=-1.3, le=14.0, allow_inf_nan=False,
                                  description="pH of the feed (instead of feed_acid)")
    feed_sulfate: _Acid | None = field(None, unit="mol/L", description="total sulfate of the feed, HSO4- plus "
                                                                     "SO4 2- (sulfate medium)")
    scrub_acid: _Acid = field(0.0, unit="mol/L", description="titratable acid of the scrub (> 0 with scrub "
                                                           "stages)")
    scrub_sulfate: _Acid | None = field(None, unit="mol/L", description="sulfate of the scrub (default: "
                                                                      "scrub_acid/2, sulfuric acid)")
    strip_acid: _Acid = field(0.0, unit="mol/L", description="titratable acid of the strip (> 0 with strip "
                                                           "stages)")
    strip_sulfate: _Acid | None = field(None, unit="mol/L", description="sulfate of the strip (default: "
                                                                      "strip_acid/2, sulfuric acid)")

    @model_validator(mode="after")
    def _acid_and_medium(self):
        if (self.feed_acid is None) == (self.feed_pH is None):
            raise fail(("feed_acid",), "give exactly one of feed_acid and feed_pH")
        sulfate_keys = [k for k in ("feed_sulfate", "scrub_sulfate", "strip_sulfate") if getattr(self, k) is not None]
        if self.medium == "chloride" and sulfate_keys:
            raise fail((sulfate_keys[0],), "only for medium = \"sulfate\"")
        if self.medium == "sulfate" and self.feed_sulfate is None:
            raise fail(("feed_sulfate",), "required for medium = \"sulfate\" (total HSO4- + SO4 2- of the feed)")
        return self


MODEL_SECTIONS = {"constant_d": ConstantDModel, "constant_beta": ConstantBetaModel,
                  "mass_action": MassActionModel, "empirical_ph": EmpiricalPhModel}


class DesignSection(Strict):
    """``[design]`` of a design file: cost weights of ``magcycle sx design --optimise-flows``."""

    stage_weight: float = field(1.0, unit="-", gt=0.0, le=1e6,
                                description="weight of N (Q_feed + Q_organic + Q_scrub)/Q_feed: equipment")
    organic_weight: float = field(0.0, unit="-", ge=0.0, le=1e6,
                                  description="weight of Q_organic/Q_feed: organic inventory")
    scrub_weight: float = field(0.0, unit="-", ge=0.0, le=1e6, description="weight of Q_scrub/Q_feed: acid")
    max_stages: StageCount = field(400, unit="stages", ge=1, le=2 * MAX_STAGES,
                                   description="largest extraction + scrub stage count searched")


#: ``[targets]``: outlet -> component (or components joined by '+') -> purity/recovery minimum
Targets = Annotated[dict[Literal["extract", "raffinate"],
                         Annotated[dict[str, Annotated[dict[Literal["purity", "recovery"], Fraction],
                                                       Field(min_length=1)]], Field(min_length=1)]],
                    Field(min_length=1)]


def _concentrations(table: dict, low: float, hint: str) -> dict:
    """mol/L of each element of a table (numbers or unit strings, converted with the element's molar
    mass), each in [low, MAX_CONCENTRATION]; a failure names the element."""
    from magcycle.chem.quantities import parse_quantity

    out = {}
    for el, value in table.items():
        try:
            c = parse_quantity(value, "concentration", field=el, element=el)
        except InputError as exc:
            raise fail((el,), exc.reason, value) from None
        if not low <= c <= MAX_CONCENTRATION:
            raise fail((el,), f"must be in [{low:g}, {MAX_CONCENTRATION:g}] mol/L{hint}, got {c:g}", value)
        out[el] = c
    return out


class CascadeDocument(Strict):
    """A cascade file: the configuration of one counter-current cascade."""

    cascade: CascadeSection
    flows: Flows
    feed: dict[ElementSymbol, float | str] = field(
        unit="mol/L", min_length=1,
        description="mol/L of each component in the aqueous feed, > 0: rare earths (La..Lu, Y), Sc, Fe, Al, "
                    "Ca, Mg, Mn, Co, Ni, Cu, Zn; mass "
                    "concentrations such as '36 g/L' are converted with the element's molar mass")
    organic_inlet: dict[ElementSymbol, float | str] | None = field(
        None, unit="mol/L", description="metal already loaded on the organic entering stage 1, by component of "
                                        "[feed]; default barren")
    model: ConstantDModel | ConstantBetaModel | MassActionModel | EmpiricalPhModel = field(
        description="parameters of the model named in [cascade]")
    targets: Targets | None = field(None, description="design files: minimum purity or recovery, e.g. "
                                                       "extract = { Nd = { purity = 0.995 } }")
    design: DesignSection | None = field(None, description="design files: cost weights and max_stages")
    _spec: Any = PrivateAttr(None)

    @field_validator("organic_inlet", mode="after")
    @classmethod
    def _loadings(cls, table: dict | None) -> dict | None:
        return None if table is None else _concentrations(table, 0.0, "")

    @field_validator("feed", mode="after")
    @classmethod
    def _concentrations(cls, feed: dict) -> dict:
        return _concentrations(feed, MIN_CONCENTRATION, " (leave the element out instead of 0)")

    @field_validator("model", mode="wrap")
    @classmethod
    def _model_of_cascade(cls, value: Any, handler, info: ValidationInfo):
        cascade = info.data.get("cascade")
        if cascade is None:  # [cascade] is already reported
            return handler(value)
        return MODEL_SECTIONS[cascade.model].model_validate(value, context=info.context)

    @model_validator(mode="after")
    def _rules(self):
        from magcycle.sx.spec import spec_from_document

        try:
            self._spec = spec_from_document(self)
        except InputError as exc:
            raise fail(tuple(exc.field.split(".")), exc.reason) from None
        for outlet, table in (self.targets or {}).items():
            for label in table:
                try:
                    target_components(label, self.feed)
                except ValueError as exc:
                    raise fail(("targets", outlet, label), str(exc)) from None
        return self

    def to_spec(self, source: str | None = None):
        """The validated :class:`~magcycle.sx.CascadeSpec` of this document."""
        from dataclasses import replace

        spec = self._spec
        return spec if source is None else replace(spec, source=source)
