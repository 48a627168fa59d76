"""Techno-economics and carbon footprint of a solved plant (``magcycle tea``).

Capital (factored estimate)
    Each unit's purchase cost (its ``cost(design(...))``, USD of 2024) is
    escalated by the cost-index ratio; delivered equipment E = sum of
    purchases x (1 + delivery). Direct and indirect costs are fractions of E
    (installation, instrumentation, piping, electrical, buildings, yard,
    service facilities, engineering, construction expenses, legal,
    contractor's fee, contingency: Peters, Timmerhaus & West, 5th ed.,
    table 6-9, fluid-processing plant), plus the first fill of SX organic.
    Fixed capital = E + sum(f_i E) + organic fill; working capital =
    ``working_capital_months`` of the annual operating cost; capex = fixed
    capital + working capital. Every line names its unit or factor.

Operating cost per year at full capacity
    variable: reagents (the flowsheet's reagent flows x price), electricity
    (units' reported power + SX mixing per m3 of stage volume + calcination
    heat per kg of oxide + a plant allowance), feed purchase (per kg of feed
    or of contained rare earth), disposal of each waste outlet (solids per
    t, treated water per m3 discharged, untreated liquid per m3 taken off
    site: :mod:`magcycle.econ.outlets`), SX organic make-up; fixed: labour,
    overhead, maintenance and insurance (fractions of fixed capital).

Revenue
    Each product's t/y x its scenario price; a product failing its
    specification is sold at (1 - off_spec_discount) of the price. Each
    by-product earns its payable elements x their prices
    (``revenue.byproduct_usd_per_kg``).

Carbon footprint (cradle-to-gate of the recycling plant, per year)
    reagents x their factors, electricity x the grid factor of the country,
    feed transport (t x km x factor), and every direct emission: each
    greenhouse gas of each offgas stream times its GWP100 (the leach's CO2
    from the recycled oxalic acid, the calciners' CO2 from the oxalate). The
    total is allocated to the
    products by revenue (economic) or by mass (by-products carry none: cut-off); kg CO2e per kg of oxide =
    allocated total / product mass. Contributions add up to the total.

Cash flow, NPV, IRR and payback: :mod:`magcycle.econ.dcf`.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

from magcycle.econ.dcf import cash_flow
from magcycle.econ.outlets import byproduct_lines, classify_outlets, disposal_lines
from magcycle.econ.prices import revenue_lines
from magcycle.errors import InputError

__all__ = ["SCENARIOS", "FACTORS", "staff", "default_assumptions", "merge_assumptions", "assumptions", "TEAResult",
           "check_names", "NOT_GREENHOUSE", "direct_emissions", "techno_economics"]

SCENARIOS = ("low", "base", "high")
FACTORS = ("installation", "instrumentation", "piping", "electrical", "buildings", "yard", "service_facilities",
           "engineering", "construction_expenses", "legal", "contractor_fee", "contingency")


@lru_cache(maxsize=1)
def _defaults_text() -> str:
    return resources.files("magcycle").joinpath("data/econ_defaults.toml").read_text(encoding="utf-8")


def default_assumptions() -> dict:
    """The documented default assumptions (a fresh copy)."""
    return tomllib.loads(_defaults_text())


def merge_assumptions(base: dict, over: Mapping) -> dict:
    """``over`` merged into a copy of ``base``: tables key by key, anything else replaced."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = merge_assumptions(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def assumptions(overrides: Mapping | None = None) -> dict:
    """The defaults merged with ``overrides`` table by table, validated as a whole by
    :class:`magcycle.econ.schema.AssumptionsDocument` (one clear error per bad field)."""
    from magcycle.econ.schema import AssumptionsDocument
    from magcycle.schema import validate

    if overrides is not None and not isinstance(overrides, Mapping):
        raise InputError("assumptions", "expected a table of assumptions")
    return validate(AssumptionsDocument, merge_assumptions(default_assumptions(), overrides or {})).model_dump()


@dataclass
class TEAResult:
    plant: str
    scenario: str
    hours_per_year: float
    capex_lines: list  # {item, basis, usd}
    fixed_capital_usd: float
    working_capital_usd: float
    opex_lines: list  # {item, kind, usd_per_y, basis}
    revenue_lines: list  # {product, t_per_y, usd_per_kg, meets_spec, usd_per_y}
    carbon_lines: list  # {item, kgCO2e_per_y}
    co2e_kg_per_kg: dict
    carbon_by_product: dict
    cash: Any
    assumptions: dict
    breakeven: dict = field(default_factory=dict)
    sensitivity: list = field(default_factory=list)
    scale: list = field(default_factory=list)
    feed_t_per_y: float = 0.0
    outlets: list = field(default_factory=list)  # every stream leaving the plant, classified (econ.outlets)

    @property
    def capex_usd(self) -> float:
        return self.fixed_capital_usd + self.working_capital_usd

    @property
    def opex_usd_per_y(self) -> float:
        return sum(x["usd_per_y"] for x in self.opex_lines)

    @property
    def revenue_usd_per_y(self) -> float:
        return sum(x["usd_per_y"] for x in self.revenue_lines)

    @property
    def comparable(self) -> bool:
        """Whether this plant is at the published study's scale (its feed within 5 %)."""
        return abs(self.feed_t_per_y / self.assumptions["published"]["feed_t_per_y"] - 1.0) <= 0.05

    def comparison(self) -> list[dict]:
        """The published feasibility figures beside these, with the reason for each difference; empty
        unless the plant is at the study's own scale (:attr:`comparable`)."""
        if not self.comparable:
            return []
        pub = self.assumptions["published"]
        rows = [
            ("capex_usd", self.capex_usd, pub["capex_usd"],
             "factored estimate of the modelled units only (leach to calcination and effluent treatment); the "
             "study adds site works, buildings for a commercial plant, tank farms, owner's costs and spares"),
            ("revenue_usd_per_y", self.revenue_usd_per_y, pub["revenue_usd_per_y"],
             f"{self.scenario} prices of the reference data; the study's net revenue implies higher prices for "
             "non-Chinese-origin oxides (compare the high scenario)"),
            ("npv_usd", self.cash.npv, pub["npv_usd"], "follows from revenue and capex above, same discount rate"),
            ("irr", self.cash.irr, pub["irr"], "as NPV"),
            ("payback_y", self.cash.payback_y, pub["payback_y"], "as NPV; counted from the start of operation"),
        ]
        return [{"item": k, "magcycle": v, "published": p, "why": w} for k, v, p, w in rows]

    def to_dict(self) -> dict:
        return {
            "plant": self.plant, "scenario": self.scenario, "hours_per_year": self.hours_per_year,
            "feed_t_per_y": self.feed_t_per_y,
            "capex_usd": self.capex_usd, "fixed_capital_usd": self.fixed_capital_usd,
            "working_capital_usd": self.working_capital_usd,
            "opex_usd_per_y": self.opex_usd_per_y, "revenue_usd_per_y": self.revenue_usd_per_y,
            "npv_usd": self.cash.npv, "discount_rate": self.cash.discount_rate, "irr": self.cash.irr,
            "payback_y": self.cash.payback_y, "co2e_kg_per_kg": self.co2e_kg_per_kg,
            "carbon_by_product": self.carbon_by_product,
            "capex_lines": self.capex_lines, "opex_lines": self.opex_lines, "revenue_lines": self.revenue_lines,
            "carbon_lines": self.carbon_lines, "outlets": self.outlets, "cash_flow": self.cash.rows(), "breakeven": self.breakeven,
            "sensitivity": self.sensitivity, "scale": self.scale, "comparison": self.comparison(),
            "assumptions": self.assumptions,
        }


def _capex(result, a) -> tuple[list, float, float]:
    """Capital lines: each unit's carried purchase cost escalated by the cost-index ratio, delivery,
    the factored direct and indirect costs, and the first fill of SX organic."""
    cx = a["capex"]
    esc = cx["cost_index_year"] / cx["cost_index_basis"]
    lines, purchased, organic_m3 = [], 0.0, 0.0
    for name, r in result.units.items():
        u = result.spec.units[name]
        usd = float(r.cost["purchase_usd"]) * esc
        if usd > 0:
            lines.append({"item": f"{name} ({u.type_name}) purchase", "basis": r.cost.get("basis", ""), "usd": usd,
                          "group": "equipment"})
            purchased += usd
        organic_m3 += float(r.design.get("organic_inventory_m3", 0.0) or 0.0)
    delivered = purchased * (1.0 + cx["delivery"])
    lines.append({"item": "delivery", "basis": f"{cx['delivery']:g} x purchased", "usd": purchased * cx["delivery"],
                  "group": "equipment"})
    for k in FACTORS:
        lines.append({"item": k.replace("_", " "), "basis": f"{cx[k]:g} x delivered equipment",
                      "usd": cx[k] * delivered, "group": "direct" if k in FACTORS[:7] else "indirect"})
    fill = organic_m3 * cx["organic_usd_per_m3"]
    lines.append({"item": "SX organic first fill", "basis": f"{organic_m3:.1f} m3 x {cx['organic_usd_per_m3']:g} USD/m3",
                  "usd": fill, "group": "direct"})
    return lines, sum(x["usd"] for x in lines), organic_m3


def _power_kW(result, a) -> dict:
    o = a["opex"]
    units = sum(float(r.utilities.get("electricity_kW", 0.0)) for r in result.units.values())
    sx = 0.0
    for name, r in result.units.items():
        if result.spec.units[name].type_name == "sx_cascade" and not r.info.get("bypassed", True):
            sx += o["sx_kW_per_m3_stage"] * r.design.get("stage_volume_m3", 0.0) * r.design.get("stages", 0)
    calc = sum(o["calcination_kWh_per_kg_oxide"] * p["kg_per_h"] for p in result.products)
    return {"units (reported)": units, "SX mixers and pumps": sx, "calcination heat": calc,
            "plant allowance": o["auxiliary_kW"]}


def _re_kg_h(feed) -> float:
    from magcycle.chem.elements import RARE_EARTHS

    return sum(kg for el, kg in feed.element_kg_h().items() if el in RARE_EARTHS)


def _reagent_kg_h(result) -> dict[str, float]:
    from magcycle.chem.formula import formula_mass

    return {k: v * formula_mass(k) / 1000.0 for k, v in result.reagents_mol_h.items() if v > 0}


def _variable_opex(result, a, reagents, power, organic_m3, outlets) -> list[dict]:
    """Reagents, electricity, feed purchase, disposal of each waste outlet and SX organic make-up [USD/y]."""
    o, hours = a["opex"], result.spec.hours_per_year
    lines = []
    for sp, kg_h in sorted(reagents.items()):
        if sp not in o["reagent_usd_per_kg"]:
            raise InputError(f"opex.reagent_usd_per_kg.{sp}", f"no price for reagent {sp!r} used by the plant")
        lines.append({"item": f"reagent {sp}", "kind": "variable", "basis": f"{kg_h * hours / 1000:.1f} t/y x "
                      f"{o['reagent_usd_per_kg'][sp]:g} USD/kg", "usd_per_y": kg_h * hours * o["reagent_usd_per_kg"][sp]})
    kw = sum(power.values())
    lines.append({"item": "electricity", "kind": "variable", "basis": f"{kw:.0f} kW x {hours:g} h x "
                  f"{o['electricity_usd_per_kWh']:g} USD/kWh", "usd_per_y": kw * hours * o["electricity_usd_per_kWh"]})
    feed_kg_y = result.feed.kg_per_h * hours
    basis_kg = feed_kg_y if o["feed_price_basis"] == "kg_feed" else _re_kg_h(result.feed) * hours
    lines.append({"item": "feed purchase", "kind": "variable", "basis": f"{basis_kg / 1000:.1f} t/y "
                  f"({o['feed_price_basis']}) x {o['feed_usd_per_kg']:g} USD/kg", "usd_per_y": basis_kg * o["feed_usd_per_kg"]})
    lines += disposal_lines(outlets)
    lines.append({"item": "SX organic make-up", "kind": "variable", "basis": f"{o['organic_loss_fraction_per_y']:g} x "
                  f"{organic_m3:.1f} m3 per year", "usd_per_y": o["organic_loss_fraction_per_y"] * organic_m3
                  * a["capex"]["organic_usd_per_m3"]})
    return lines


def staff(operators: float, feed_t_per_y: float, reference_t_per_y: float, exponent: float) -> float:
    r"""Plant staff at a feed rate, scaled from the staff stated at a reference feed [persons].

    .. math:: N = N_{ref} \left(\frac{F}{F_{ref}}\right)^{e}

    Parameters
    ----------
    operators : float
        N_ref, staff at the reference feed [persons].
    feed_t_per_y, reference_t_per_y : float
        F and F_ref, dry feed [t/y].
    exponent : float
        e [-] (0.25 by default: [C] a common estimating rule for operating labour).

    Examples
    --------
    >>> round(staff(40, 30.0, 1200.0, 0.25), 4)   # 40 x (1/40)^0.25
    15.9054
    """
    return operators * (feed_t_per_y / reference_t_per_y) ** exponent


def _fixed_opex(a, fixed_capital: float, feed_t_per_y: float) -> list[dict]:
    """Labour (staff scaled with the feed, :func:`staff`), overhead, maintenance and insurance [USD/y]."""
    o = a["opex"]
    n = staff(o["operators"], feed_t_per_y, o["labour_reference_feed_t_per_y"], o["labour_scale_exponent"])
    labour = n * o["salary_usd_per_y"]
    scaled = "" if n == o["operators"] else (f" ({o['operators']:g} at {o['labour_reference_feed_t_per_y']:,.0f} t/y"
                                             f" x (feed / that)^{o['labour_scale_exponent']:g})")
    return [{"item": "labour", "kind": "fixed", "basis": f"{n:.3g} staff{scaled} x {o['salary_usd_per_y']:g} USD",
             "usd_per_y": labour},
            {"item": "overhead", "kind": "fixed", "basis": f"{o['overhead_fraction']:g} x labour",
             "usd_per_y": o["overhead_fraction"] * labour},
            {"item": "maintenance", "kind": "fixed", "basis": f"{o['maintenance_fraction']:g} x fixed capital",
             "usd_per_y": o["maintenance_fraction"] * fixed_capital},
            {"item": "insurance", "kind": "fixed", "basis": f"{o['insurance_fraction']:g} x fixed capital",
             "usd_per_y": o["insurance_fraction"] * fixed_capital}]


def _carbon_lines(result, a, reagents, kwh_y: float) -> list[dict]:
    """Reagents, electricity, feed transport and direct emissions [kg CO2e/y]."""
    c, hours = a["carbon"], result.spec.hours_per_year
    lines = []
    for sp, kg_h in sorted(reagents.items()):
        if sp not in c["reagent_kgCO2e_per_kg"]:
            raise InputError(f"carbon.reagent_kgCO2e_per_kg.{sp}", f"no emission factor for reagent {sp!r}")
        lines.append({"item": f"reagent {sp}", "kgCO2e_per_y": kg_h * hours * c["reagent_kgCO2e_per_kg"][sp]})
    lines.append({"item": f"electricity ({c['country']} grid)",
                  "kgCO2e_per_y": kwh_y * c["grid_kgCO2e_per_kWh"][c["country"]]})
    lines.append({"item": "feed transport", "kgCO2e_per_y": result.feed.kg_per_h * hours / 1000.0
                  * c["feed_transport_km"] * c["transport_kgCO2e_per_t_km"]})
    return lines + direct_emissions(result, c["gwp100"])


#: gases an offgas may carry that are not greenhouse gases (no direct emission is counted for them)
NOT_GREENHOUSE = frozenset({"H2O", "H2", "O2", "N2", "Ar", "HCl", "Cl2", "SO2", "SO3", "NO", "NO2", "NH3"})


def direct_emissions(result, gwp100: Mapping[str, float]) -> list[dict]:
    """One carbon line per greenhouse gas in each offgas stream of the plant (and in any gas stream
    leaving it otherwise) [kg CO2e/y].

    .. math:: E_{s,g} = \\dot m_{g,s} \\, H \\, GWP_{100,g}

    with m_g,s the gas's flow in offgas stream s [kg/h] and H the plant's
    hours [h/y]. A gas with no GWP that is not in :data:`NOT_GREENHOUSE`
    is an InputError naming ``carbon.gwp100.GAS``: every emission is counted
    or declared harmless, none is skipped.
    """
    from magcycle.flowsheet.schema import SINKS

    hours = result.spec.hours_per_year
    lines = []
    for conn in result.spec.connections:
        stream = result.streams[conn.name]
        if conn.dst[0] not in SINKS or (conn.dst[0] != "offgas" and stream.phase != "gas"):
            continue  # emissions: every offgas stream, and a gas sent to any other sink
        for gas in sorted(stream.mol_h):
            if gas in NOT_GREENHOUSE or stream.mol_h[gas] <= 0:
                continue
            if gas not in gwp100:
                raise InputError(f"carbon.gwp100.{gas}", f"the offgas {conn.name!r} carries {gas} and it has no "
                                                         "global warming potential; give one (0 if it is none)")
            lines.append({"item": f"direct {gas} ({conn.name})",
                          "kgCO2e_per_y": stream.kg_h(gas) * hours * gwp100[gas]})
    return lines


def _allocate(result, a, carbon, revenue) -> tuple[dict, dict]:
    """kg CO2e per kg of each product and its contributions, allocated by revenue or by mass."""
    c, hours = a["carbon"], result.spec.hours_per_year
    total = sum(x["kgCO2e_per_y"] for x in carbon)
    made = [p for p in result.products if p["produced"] and p["kg_per_h"] > 0]
    sold = [x for x in revenue if x.get("kind") != "by-product"]  # cut-off: by-products carry no burden
    if c["allocation"] == "economic" and sum(x["usd_per_y"] for x in sold) > 0:
        weights = {x["product"]: x["usd_per_y"] for x in sold}
    else:
        weights = {p["name"]: p["kg_per_h"] for p in made}
    wsum = sum(weights.values())
    primary = c.get("primary_kgCO2e_per_kg", {})
    per_kg, by_product = {}, {}
    for p in made:
        share = weights.get(p["name"], 0.0) / wsum if wsum > 0 else 0.0
        kg_y = p["kg_per_h"] * hours
        per_kg[p["name"]] = total * share / kg_y
        by_product[p["name"]] = {"share": share, "kg_per_y": kg_y,
                                 "by_contribution": {x["item"]: x["kgCO2e_per_y"] * share / kg_y for x in carbon},
                                 "primary_kgCO2e_per_kg": primary.get(p["name"], primary.get(p["oxide"]))}
    return per_kg, by_product


#: the tables keyed by what the plant makes or uses: a key the user adds must name one of them
_KEYED_BY = {("revenue", "low"): "product", ("revenue", "base"): "product", ("revenue", "high"): "product",
             ("carbon", "primary_kgCO2e_per_kg"): "product", ("opex", "reagent_usd_per_kg"): "reagent",
             ("carbon", "reagent_kgCO2e_per_kg"): "reagent"}


def _table(doc, key: str) -> Mapping:
    value = doc.get(key) if isinstance(doc, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def check_names(result, overrides: Mapping | None, reagents: Mapping | None = None) -> None:
    """Refuse a price or factor the user adds for a product or reagent the plant neither makes nor
    uses and the defaults do not list: a misspelt key (``Dy2o3``) would otherwise be ignored and the
    default price used in its place. Products are named by name or oxide formula."""
    given = [(section, table, kind, key) for (section, table), kind in _KEYED_BY.items()
             for key in _table(_table(overrides, section), table)]
    if not given:
        return
    known = {"product": {p["name"] for p in result.products} | {p["oxide"] for p in result.products},
             "reagent": set(_reagent_kg_h(result) if reagents is None else reagents)}
    for section, table, kind, key in given:
        defaults = _default_keys(section, table)
        if key not in defaults and key not in known[kind]:
            raise InputError(f"{section}.{table}.{key}",
                             f"names no {kind} of plant {result.spec.name!r} ({', '.join(sorted(known[kind]))})"
                             f" nor a default ({', '.join(sorted(defaults))}); check the spelling")


@lru_cache(maxsize=None)
def _default_keys(section: str, table: str) -> frozenset:
    return frozenset(default_assumptions()[section][table])


def techno_economics(result, overrides: Mapping | None = None, scenario: str = "base",
                     extras: bool = True) -> TEAResult:
    """Capex, opex, revenue, cash flow and carbon of a solved plant (module docstring)."""
    if scenario not in SCENARIOS:
        raise InputError("scenario", f"expected one of {', '.join(SCENARIOS)}, got {scenario!r}")
    a = assumptions(overrides)
    hours = result.spec.hours_per_year
    f = a["finance"]
    capex_lines, fixed_capital, organic_m3 = _capex(result, a)
    reagents = _reagent_kg_h(result)
    check_names(result, overrides, reagents)
    outlets = classify_outlets(result, a)
    power = _power_kW(result, a)
    feed_t_y = result.feed.kg_per_h * hours / 1000.0
    opex = _variable_opex(result, a, reagents, power, organic_m3, outlets) + _fixed_opex(a, fixed_capital, feed_t_y)
    variable = sum(x["usd_per_y"] for x in opex if x["kind"] == "variable")
    fixed = sum(x["usd_per_y"] for x in opex if x["kind"] == "fixed")
    working = f["working_capital_months"] / 12.0 * (variable + fixed)
    capex_lines.append({"item": "working capital", "basis": f"{f['working_capital_months']:g} months of opex",
                        "usd": working, "group": "working capital"})
    revenue = revenue_lines(result.products, a, scenario) + byproduct_lines(outlets)
    cash = cash_flow(fixed_capital=fixed_capital, working_capital=working,
                     revenue=sum(x["usd_per_y"] for x in revenue), variable_opex=variable, fixed_opex=fixed,
                     discount_rate=f["discount_rate"], tax_rate=f["tax_rate"], life_years=f["life_years"],
                     construction=f["construction"], ramp_up=f["ramp_up"],
                     depreciation_method=f["depreciation_method"], depreciation_years=f["depreciation_years"])
    carbon = _carbon_lines(result, a, reagents, sum(power.values()) * hours)
    per_kg, by_product = _allocate(result, a, carbon, revenue)
    res = TEAResult(result.spec.name, scenario, hours, capex_lines, fixed_capital, working, opex, revenue, carbon,
                    per_kg, by_product, cash, a, feed_t_per_y=result.feed.kg_per_h * hours / 1000.0,
                    outlets=outlets)
    if extras:
        from magcycle.econ.sensitivity import breakeven, scale_table, tornado

        res.breakeven = breakeven(res)
        res.sensitivity = tornado(result, overrides, scenario, res)
        res.scale = scale_table(res)
    return res
