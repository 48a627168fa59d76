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
from magcycle.schema import (MAX_STAGES, Concentration, Dimensionless, Fraction, RareEarthSymbol, StageCount,
                             Strict, VolumetricFlow, fail, field, quantity)
from magcycle.sx.spec import (LOG10_K_RANGE, MAX_ACID, MAX_CONCENTRATION, MAX_FLOW_L_PER_H, MAX_LOADING,
                              MIN_CONCENTRATION, MIN_FLOW_L_PER_H, RATIO_RANGE, target_components)

__all__ = ["CascadeSection", "Flows", "ConstantDModel", "ConstantBetaModel", "MassActionModel", "CascadeDocument",
           "DesignSection", "MODEL_SECTIONS", "Targets"]

_Ratio = quantity("dimensionless", ge=RATIO_RANGE[0], le=RATIO_RANGE[1])


class CascadeSection(Strict):
    """``[cascade]``: the equilibrium model and the stage count of each section."""

    model: Literal["constant_d", "constant_beta", "mass_action"] = field(
        description="equilibrium model: constant distribution ratio, constant separation factor with "
                    "a saturated organic, or cation exchange by mass action with a proton balance")
    extraction_stages: StageCount = field(unit="stages", ge=1, le=MAX_STAGES,
                                          description="n: extraction stages (the feed enters stage n)")
    scrub_stages: StageCount = field(0, unit="stages", ge=0, le=MAX_STAGES,
                                     description="m: scrub stages above the feed stage")
    strip_stages: StageCount = field(0, unit="stages", ge=0, le=MAX_STAGES,
                                     description="k: strip stages (constant_d and mass_action only)")


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


_ByElement = dict[RareEarthSymbol, _Ratio]


class ConstantDModel(Strict):
    """``[model]`` of ``constant_d``: distribution ratios per component and section."""

    D: _ByElement = field(unit="-", description="distribution ratio D = y/x of each feed component in the "
                                                "extraction section (and the scrub, unless D_scrub is given)")
    D_scrub: _ByElement | None = field(None, unit="-", description="D in the scrub section (default: D)")
    D_strip: _ByElement | None = field(None, unit="-", description="D in the strip section (required with "
                                                                   "strip stages)")


class ConstantBetaModel(Strict):
    """``[model]`` of ``constant_beta``: relative extractabilities, loading and scrub acid."""

    beta: _ByElement = field(unit="-", description="relative extractability of each feed component (only "
                                                   "ratios matter: beta_i/beta_j is the separation factor)")
    organic_loading: Concentration = field(unit="mol/L", gt=0.0, le=MAX_LOADING,
                                           description="rare earth per litre of loaded (saturated) organic")
    scrub_acid: Concentration = field(unit="mol/L", gt=0.0, le=MAX_ACID,
                                      description="H+ of the scrub solution; three H+ return one RE3+ (W)")


class MassActionModel(Strict):
    """``[model]`` of ``mass_action``: Ln3+ + 3 (HA)2 = Ln(HA2)3 + 3 H+."""

    log10_K: dict[RareEarthSymbol, Annotated[float, Field(ge=LOG10_K_RANGE[0], le=LOG10_K_RANGE[1])]] = field(
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


MODEL_SECTIONS = {"constant_d": ConstantDModel, "constant_beta": ConstantBetaModel,
                  "mass_action": MassActionModel}


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


class CascadeDocument(Strict):
    """A cascade file: the configuration of one counter-current cascade."""

    cascade: CascadeSection
    flows: Flows
    feed: dict[RareEarthSymbol, float | str] = field(
        unit="mol/L", min_length=1,
        description="mol/L of each rare earth in the aqueous feed (any of La..Lu, Y), > 0; mass "
                    "concentrations such as '36 g/L' are converted with the element's molar mass")
    model: ConstantDModel | ConstantBetaModel | MassActionModel = field(
        description="parameters of the model named in [cascade]")
    targets: Targets | None = field(None, description="design files: minimum purity or recovery, e.g. "
                                                       "extract = { Nd = { purity = 0.995 } }")
    design: DesignSection | None = field(None, description="design files: cost weights and max_stages")
    _spec: Any = PrivateAttr(None)

    @field_validator("feed", mode="after")
    @classmethod
    def _concentrations(cls, feed: dict) -> dict:
        from magcycle.chem.quantities import parse_quantity

        out = {}
        for el, value in feed.items():
            try:
                c = parse_quantity(value, "concentration", field=el, element=el)
            except InputError as exc:
                raise fail((el,), exc.reason, value) from None
            if not MIN_CONCENTRATION <= c <= MAX_CONCENTRATION:
                raise fail((el,), f"must be in [{MIN_CONCENTRATION:g}, {MAX_CONCENTRATION:g}] mol/L (leave the "
                                  f"element out instead of 0), got {c:g}", value)
            out[el] = c
        return out

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
