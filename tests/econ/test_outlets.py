"""Every stream leaving a built-in plant is a product, a priced by-product, a waste with a disposal cost
or an emission (econ.outlets), and the effluent's reagents, volumes and costs reach the TEA."""

import copy

import pytest

from magcycle.chem.formula import formula_mass
from magcycle.econ.outlets import OUTLET_CLASSES, classify_outlets
from magcycle.econ.tea import assumptions, techno_economics
from magcycle.errors import InputError
from magcycle.flowsheet import builtin_plants, load_flowsheet, parse_flowsheet, reference_plant_path, simulate
from magcycle.flowsheet.schema import SINKS
from magcycle.units.stream import element_totals


@pytest.fixture(scope="module")
def plant():
    return simulate()


@pytest.mark.parametrize("name", sorted(builtin_plants()))
def test_every_outlet_of_every_built_in_plant_is_classified_and_priced(name):
    result = simulate(builtin_plants()[name])
    a = assumptions()
    rows = classify_outlets(result, a)
    sinks = [c for c in result.spec.connections if c.dst[0] in SINKS]
    assert [r["stream"] for r in rows] == [c.name for c in sinks]          # every outlet, once
    declared = {p["stream"] for p in result.spec.products.values()}
    for r in rows:
        assert r["class"] in OUTLET_CLASSES[:4], r                       # none unclassified, none empty
        stream = result.streams[r["stream"]]
        if r["class"] == "product":
            assert r["stream"] in declared
        elif r["class"] == "by-product":
            assert r["usd_per_y"] > 0
        elif r["class"] == "waste":
            assert r["usd_per_y"] < 0 and stream.phase != "gas"
        else:
            assert stream.phase == "gas"
    # no raw acid liquor leaves: every liquid is the treated water of an effluent unit
    for r in rows:
        if result.streams[r["stream"]].phase == "aqueous":
            assert "treated water discharged" in r["basis"]
    # element closure with the effluent treatment in the plant
    assert result.closure <= 1e-9
    assert not result.discharge_failures


def test_by_product_and_disposal_by_hand(plant):
    a = assumptions()
    tea = techno_economics(plant, extras=False)
    hours = plant.spec.hours_per_year
    hyd = plant.streams["Co-Ni hydroxide"].elements()
    prices = a["revenue"]["byproduct_usd_per_kg"]
    by_hand = (hyd["Co"] * 58.933194 * prices["Co"] + hyd["Ni"] * 58.6934 * prices["Ni"]) / 1000.0 * hours
    line = next(x for x in tea.revenue_lines if x["product"] == "Co-Ni hydroxide")
    assert line["usd_per_y"] == pytest.approx(by_hand, rel=1e-12)
    products = sum(p["t_per_y"] * 1000 * a["revenue"]["base"][p["name"]] for p in plant.products)
    assert tea.revenue_usd_per_y == pytest.approx(products + by_hand, rel=1e-12)
    opex = {x["item"]: x["usd_per_y"] for x in tea.opex_lines}
    water_m3_y = plant.streams["treated water"].get("H2O") * 18.015 / 1000.0 / 1000.0 * hours
    assert opex["disposal: treated water"] == pytest.approx(water_m3_y * a["opex"]["discharge_usd_per_m3"],
                                                            rel=1e-4)
    sludge_t_y = plant.streams["effluent sludge"].kg_h() * hours / 1000.0
    assert opex["disposal: effluent sludge"] == pytest.approx(sludge_t_y * a["opex"]["waste_usd_per_t"])
    lime_kg_y = plant.reagents_mol_h["Ca(OH)2"] * formula_mass("Ca(OH)2") / 1000.0 * hours
    assert opex["reagent Ca(OH)2"] == pytest.approx(lime_kg_y * a["opex"]["reagent_usd_per_kg"]["Ca(OH)2"])
    # the effluent's lime neutralises at least the acid of the raffinates and bleed it treats
    acid_in = sum(plant.streams[s].get("H+") + 2 * plant.streams[s].get("H2C2O4")
                  for s in ("La-Ce raffinate", "Sm-Gd raffinate", "Ho strip liquor", "bleed"))
    assert plant.units["effluent"].reagents["Ca(OH)2"] >= acid_in / 2
    # the by-product carries no carbon (cut-off): the products' shares sum to one
    assert sum(v["share"] for v in tea.carbon_by_product.values()) == pytest.approx(1.0)


def test_the_hydroxide_holds_the_cobalt_the_raffinates_carried(plant):
    into = element_totals([plant.streams[s] for s in ("La-Ce raffinate", "Sm-Gd raffinate", "Ho strip liquor",
                                                      "bleed")])
    out = {s: plant.streams[s].elements().get("Co", 0.0) for s in ("Co-Ni hydroxide", "effluent sludge",
                                                                   "treated water")}
    assert sum(out.values()) == pytest.approx(into["Co"], rel=1e-12)
    assert out["Co-Ni hydroxide"] > 0.9 * into["Co"]


def _rewired(**sinks):
    doc = copy.deepcopy(load_flowsheet(reference_plant_path()).document)
    for stream, text in sinks.items():
        doc["streams"][stream] = text
    return doc


def test_a_raw_liquor_sent_to_waste_pays_the_off_site_price():
    doc = _rewired(**{"Sm-Gd raffinate": "sx_tb.raffinate -> waste"})
    r = simulate(parse_flowsheet(doc, "raw"))
    a = assumptions()
    row = next(x for x in classify_outlets(r, a) if x["stream"] == "Sm-Gd raffinate")
    m3_y = r.streams["Sm-Gd raffinate"].volume_L_h * r.spec.hours_per_year / 1000.0
    assert row["class"] == "waste" and "untreated" in row["basis"]
    assert -row["usd_per_y"] == pytest.approx(m3_y * a["opex"]["liquid_waste_usd_per_m3"])


def test_an_unpriced_by_product_is_refused():
    doc = _rewired(**{"Sm-Gd raffinate": "sx_tb.raffinate -> byproduct"})
    r = simulate(parse_flowsheet(doc, "unpriced"))
    with pytest.raises(InputError) as e:   # its traces of Co and Ni priced at nothing
        techno_economics(r, {"revenue": {"byproduct_usd_per_kg": {"Co": 0.0, "Ni": 0.0}}}, extras=False)
    assert e.value.field == "revenue.byproduct_usd_per_kg" and "Sm-Gd raffinate" in e.value.reason
    # priced, it earns its gadolinium
    t = techno_economics(r, {"revenue": {"byproduct_usd_per_kg": {"Gd": 20.0, "Co": 0.0, "Ni": 0.0}}},
                         extras=False)
    line = next(x for x in t.revenue_lines if x["product"] == "Sm-Gd raffinate")
    gd_kg_y = r.streams["Sm-Gd raffinate"].elements()["Gd"] * 157.25 / 1000.0 * r.spec.hours_per_year
    assert line["usd_per_y"] == pytest.approx(gd_kg_y * 20.0, rel=1e-12)


@pytest.mark.parametrize("over, field", [
    ({"revenue": {"byproduct_usd_per_kg": {"Co": -1.0}}}, "revenue.byproduct_usd_per_kg.Co"),
    ({"revenue": {"byproduct_usd_per_kg": {"Kryptonite": 1.0}}}, "revenue.byproduct_usd_per_kg"),
    ({"revenue": {"byproduct_usd_per_kg": {"Ni": "cheap"}}}, "revenue.byproduct_usd_per_kg.Ni"),
    ({"revenue": {"byproduct_usd_per_kg": 5}}, "revenue.byproduct_usd_per_kg"),
    ({"opex": {"discharge_usd_per_m3": -2.0}}, "opex.discharge_usd_per_m3"),
    ({"opex": {"liquid_waste_usd_per_m3": float("inf")}}, "opex.liquid_waste_usd_per_m3"),
])
def test_bad_prices_name_their_field(over, field):
    with pytest.raises(InputError) as e:
        assumptions(over)
    assert e.value.field.startswith(field)
