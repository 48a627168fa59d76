"""The TEA assumptions (``magcycle tea --assumptions FILE``) as a declared schema: ``magcycle schema assumptions``.

The defaults live in ``magcycle/data/econ_defaults.toml``, each with its
source and confidence tag; an assumptions file overrides any of them table
by table (:func:`magcycle.econ.tea.assumptions` merges, then validates the
whole against :class:`AssumptionsDocument`). Tables of prices and emission
factors (``opex.reagent_usd_per_kg``, ``revenue.low|base|high``,
``carbon.grid_kgCO2e_per_kWh``, ``carbon.reagent_kgCO2e_per_kg``,
``carbon.primary_kgCO2e_per_kg``) take new keys; every other key must be
one of the documented ones. Every number has a range a study will not
leave (money up to 1e12 USD, rates and fractions in [0, 1], a life of at
most 100 years), so a typing slip is an error, never a NaN in tea.json.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from magcycle.documents import show

from magcycle.schema import ElementSymbol, Name, StageCount, Strict, fail, field

__all__ = ["Finance", "Capex", "Opex", "Revenue", "Carbon", "Published", "AssumptionsDocument", "MAX_USD",
           "MIN_DISCOUNT_RATE"]

#: lowest real discount rate [1/y]: at -1 every future cash flow would weigh infinitely
MIN_DISCOUNT_RATE = -0.1
#: largest amount of money in an assumption [USD]
MAX_USD = 1e12

_Money = Annotated[float, Field(ge=0.0, le=MAX_USD)]
_Factor = Annotated[float, Field(ge=0.0, le=10.0)]
_Name = Name


def _boolean(value):
    """``true`` or ``false`` as such: 1 equals True in Python, and a Literal[True] alone would take it."""
    if not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "expected true or false, got {value}", {"value": show(value)})
    return value


class Finance(Strict):
    discount_rate: float = field(unit="-", ge=MIN_DISCOUNT_RATE, le=1.0,
                                 description="real discount rate of the NPV (at least -10 % a year)")
    tax_rate: float = field(unit="-", ge=0.0, lt=1.0, description="corporation tax on taxable income")
    life_years: StageCount = field(unit="y", ge=1, le=100, description="operating life")
    construction: list[Annotated[float, Field(ge=0.0, le=1.0)]] = field(
        unit="-", min_length=1, max_length=10, description="share of the fixed capital spent in each construction "
                                                          "year (summing to 1)")
    ramp_up: list[Annotated[float, Field(ge=0.0, le=1.0)]] = field(
        unit="-", max_length=20, description="capacity factor of each of the first operating years")
    depreciation_method: Literal["straight_line", "declining_balance", "macrs_7"] = field(
        description="depreciation of the fixed capital")
    depreciation_years: StageCount = field(unit="y", ge=1, le=100, description="depreciation period")
    working_capital_months: float = field(unit="months", ge=0.0, le=24.0,
                                          description="working capital in months of operating cost")

    @model_validator(mode="after")
    def _shares(self):
        if abs(sum(self.construction) - 1.0) > 1e-9:
            raise fail(("construction",), f"the shares must sum to 1, got {sum(self.construction):.6g}")
        return self


class Capex(Strict):
    cost_index_basis: float = field(unit="-", gt=0.0, le=1e5, description="cost index of the units' cost basis "
                                                                          "(CEPCI of their year)")
    cost_index_year: float = field(unit="-", gt=0.0, le=1e5, description="cost index to escalate to")
    delivery: _Factor = field(unit="-", description="delivery, as a fraction of purchased equipment")
    installation: _Factor = field(unit="-", description="as a fraction of delivered equipment")
    instrumentation: _Factor = field(unit="-", description="as a fraction of delivered equipment")
    piping: _Factor = field(unit="-", description="as a fraction of delivered equipment")
    electrical: _Factor = field(unit="-", description="as a fraction of delivered equipment")
    buildings: _Factor = field(unit="-", description="as a fraction of delivered equipment")
    yard: _Factor = field(unit="-", description="yard improvements, as a fraction of delivered equipment")
    service_facilities: _Factor = field(unit="-", description="as a fraction of delivered equipment")
    engineering: _Factor = field(unit="-", description="engineering and supervision, of delivered equipment")
    construction_expenses: _Factor = field(unit="-", description="as a fraction of delivered equipment")
    legal: _Factor = field(unit="-", description="legal expenses, as a fraction of delivered equipment")
    contractor_fee: _Factor = field(unit="-", description="as a fraction of delivered equipment")
    contingency: _Factor = field(unit="-", description="as a fraction of delivered equipment")
    organic_usd_per_m3: _Money = field(unit="USD/m3", description="SX organic (extractant + diluent), first fill")


class Opex(Strict):
    hours_per_year_from_plant: Annotated[Literal[True], BeforeValidator(_boolean)] = field(True, description="the plant's operating hours are used "
                                                                      "(always: there is no other basis)")
    operators: float = field(unit="persons", ge=0.0, le=1e4,
                             description="plant staff on shifts at labour_reference_feed_t_per_y")
    labour_reference_feed_t_per_y: float = field(unit="t/y", gt=0.0, le=1e7,
                                                 description="the feed at which `operators` is stated")
    labour_scale_exponent: float = field(unit="-", ge=0.0, le=1.0,
                                         description="staff = operators x (feed / reference feed)^exponent")
    salary_usd_per_y: _Money = field(unit="USD/y", description="loaded cost per person")
    maintenance_fraction: float = field(unit="1/y", ge=0.0, le=1.0, description="of fixed capital per year")
    insurance_fraction: float = field(unit="1/y", ge=0.0, le=1.0, description="of fixed capital per year")
    overhead_fraction: float = field(unit="-", ge=0.0, le=10.0, description="of labour")
    feed_price_basis: Literal["kg_feed", "kg_re"] = field(
        description="feed priced per kg of feed or per kg of contained rare earth")
    feed_usd_per_kg: float = field(unit="USD/kg", ge=0.0, le=1e6, description="feed price")
    waste_usd_per_t: float = field(unit="USD/t", ge=0.0, le=1e6, description="solid waste disposal")
    liquid_waste_usd_per_m3: float = field(unit="USD/m3", ge=0.0, le=1e6,
                                           description="untreated liquid waste taken off site for treatment")
    discharge_usd_per_m3: float = field(unit="USD/m3", ge=0.0, le=1e6,
                                        description="treated water discharged (trade-effluent charge)")
    organic_loss_fraction_per_y: float = field(unit="1/y", ge=0.0, le=10.0,
                                               description="SX organic replaced per year")
    electricity_usd_per_kWh: float = field(unit="USD/kWh", ge=0.0, le=100.0, description="electricity price")
    sx_kW_per_m3_stage: float = field(unit="kW/m3", ge=0.0, le=1e3, description="SX mixers and pumps")
    calcination_kWh_per_kg_oxide: float = field(unit="kWh/kg", ge=0.0, le=1e3, description="calcination heat")
    auxiliary_kW: float = field(unit="kW", ge=0.0, le=1e6, description="plant-wide allowance")
    reagent_usd_per_kg: dict[_Name, Annotated[float, Field(ge=0.0, le=1e6)]] = field(
        unit="USD/kg", description="price of each reagent the plant draws (100 % basis)")


class Revenue(Strict):
    off_spec_discount: float = field(unit="-", ge=0.0, le=1.0,
                                     description="price cut for a product that fails its specification")
    source: Annotated[str, Field(max_length=2000)] = field("", description="where the prices come from")
    low: dict[_Name, Annotated[float, Field(ge=0.0, le=1e6)]] = field(unit="USD/kg", description="low prices")
    base: dict[_Name, Annotated[float, Field(ge=0.0, le=1e6)]] = field(unit="USD/kg", description="base prices")
    high: dict[_Name, Annotated[float, Field(ge=0.0, le=1e6)]] = field(unit="USD/kg", description="high prices")
    byproduct_usd_per_kg: dict[ElementSymbol, Annotated[float, Field(ge=0.0, le=1e6)]] = field(
        default_factory=dict, unit="USD/kg of element",
        description="payable price of each element a by-product is paid for (all scenarios)")


class Carbon(Strict):
    allocation: Literal["economic", "mass"] = field(description="allocation of the footprint to the products")
    country: _Name = field(description="grid of the plant's electricity (a key of grid_kgCO2e_per_kWh)")
    feed_transport_km: float = field(unit="km", ge=0.0, le=1e5, description="feed transport distance")
    transport_kgCO2e_per_t_km: float = field(unit="kg CO2e/(t km)", ge=0.0, le=10.0,
                                             description="transport emission factor")
    grid_kgCO2e_per_kWh: dict[_Name, Annotated[float, Field(ge=0.0, le=10.0)]] = field(
        unit="kg CO2e/kWh", description="grid emission factors by country")
    reagent_kgCO2e_per_kg: dict[_Name, Annotated[float, Field(ge=0.0, le=1e3)]] = field(
        unit="kg CO2e/kg", description="cradle-to-gate factors of the reagents")
    gwp100: dict[_Name, Annotated[float, Field(ge=0.0, le=1e5)]] = field(
        unit="kg CO2e/kg", description="global warming potential over 100 years of each gas an offgas may carry "
                                        "([C] IPCC AR6 WG1 table 7.15: CO2 1, CH4 29.8, N2O 273)")
    primary_kgCO2e_per_kg: dict[_Name, Annotated[list[Annotated[float, Field(ge=0.0, le=1e5)]],
                                                 Field(min_length=2, max_length=2)]] = field(
        default_factory=dict, unit="kg CO2e/kg", description="primary production, [low, high], for comparison")

    @model_validator(mode="after")
    def _country_known(self):
        if self.country not in self.grid_kgCO2e_per_kWh:
            raise fail(("country",), f"no grid factor for {self.country!r}; known: "
                                     f"{', '.join(self.grid_kgCO2e_per_kWh)}")
        for key, (lo, hi) in self.primary_kgCO2e_per_kg.items():
            if lo > hi:
                raise fail(("primary_kgCO2e_per_kg", key), f"expected [low, high], got [{lo:g}, {hi:g}]")
        return self


class Published(Strict):
    capex_usd: _Money = field(unit="USD", description="the feasibility study's capex")
    npv_usd: Annotated[float, Field(ge=-MAX_USD, le=MAX_USD)] = field(unit="USD", description="its NPV")
    discount_rate: float = field(unit="-", ge=MIN_DISCOUNT_RATE, le=1.0, description="its discount rate")
    irr: float = field(unit="-", gt=-1.0, le=100.0, description="its IRR")
    payback_y: float = field(unit="y", ge=0.0, le=100.0, description="its payback")
    revenue_usd_per_y: _Money = field(unit="USD/y", description="its yearly revenue")
    feed_t_per_y: float = field(unit="t/y", gt=0.0, le=1e7,
                                description="its scale: the study is compared only with a plant of this feed "
                                            "(within 5 %)")


class AssumptionsDocument(Strict):
    """Every assumption of ``magcycle tea``: finance, capital, operating cost, revenue, carbon, and the
    published feasibility study the results are compared with."""

    finance: Finance
    capex: Capex
    opex: Opex
    revenue: Revenue
    carbon: Carbon
    published: Published
