"""The plant's techno-economics: lines add up, carbon is the sum of its contributions, scaling laws,
break-even points are roots, bad assumptions give one clear message, and `magcycle tea` writes
JSON, HTML (checked in a real browser) and an Excel workbook with the same numbers."""

import copy
import json

import pytest

from magcycle import cli
from magcycle.econ.dcf import npv
from magcycle.econ.sensitivity import run_case
from magcycle.econ.tea import assumptions, techno_economics
from magcycle.errors import InputError
from magcycle.flowsheet import load_flowsheet, parse_flowsheet, reference_plant_path, simulate


@pytest.fixture(scope="module")
def plant():
    return simulate()


@pytest.fixture(scope="module")
def tea(plant):
    return techno_economics(plant)


def test_capex_lines_follow_the_units_and_the_factors(plant, tea):
    a = tea.assumptions["capex"]
    purchased = sum(plant.spec.units[n].cost(plant.spec.units[n].design(r))["purchase_usd"]
                    for n, r in plant.units.items())
    lines = {x["item"]: x["usd"] for x in tea.capex_lines}
    delivered = purchased * (1 + a["delivery"])
    assert lines["piping"] == pytest.approx(a["piping"] * delivered)
    assert lines["contingency"] == pytest.approx(a["contingency"] * delivered)
    organic = sum(plant.spec.units[n].design(r).get("organic_inventory_m3", 0.0) for n, r in plant.units.items())
    assert lines["SX organic first fill"] == pytest.approx(organic * a["organic_usd_per_m3"])
    assert tea.fixed_capital_usd + tea.working_capital_usd == pytest.approx(sum(lines.values()))
    assert tea.capex_usd == pytest.approx(sum(lines.values()))


def test_opex_and_revenue_by_hand(plant, tea):
    a = tea.assumptions
    hours = plant.spec.hours_per_year
    hcl_kg_y = next(v["kg_per_h"] for k, v in plant.to_dict()["reagents"].items() if k == "HCl") * hours
    opex = {x["item"]: x["usd_per_y"] for x in tea.opex_lines}
    assert opex["reagent HCl"] == pytest.approx(hcl_kg_y * a["opex"]["reagent_usd_per_kg"]["HCl"])
    assert opex["feed purchase"] == pytest.approx(1200e3 * a["opex"]["feed_usd_per_kg"], rel=1e-9)
    assert opex["labour"] == a["opex"]["operators"] * a["opex"]["salary_usd_per_y"]
    assert opex["maintenance"] == pytest.approx(a["opex"]["maintenance_fraction"] * tea.fixed_capital_usd)
    prices = a["revenue"]["base"]
    hand = sum(p["t_per_y"] * 1000 * prices[p["name"]] for p in plant.products)
    # plus the Co-Ni hydroxide: its payable Co and Ni [kg/h] x price x hours
    hyd = plant.streams["Co-Ni hydroxide"].elements()
    pay = a["revenue"]["byproduct_usd_per_kg"]
    hand += (hyd["Co"] * 58.933194 * pay["Co"] + hyd["Ni"] * 58.6934 * pay["Ni"]) / 1000.0 * hours
    assert tea.revenue_usd_per_y == pytest.approx(hand)


def test_carbon_totals_are_the_sum_of_their_contributions(plant):
    for allocation in ("economic", "mass"):
        t = techno_economics(plant, {"carbon": {"allocation": allocation}}, extras=False)
        total = sum(x["kgCO2e_per_y"] for x in t.carbon_lines)
        allocated = sum(t.co2e_kg_per_kg[p] * t.carbon_by_product[p]["kg_per_y"] for p in t.co2e_kg_per_kg)
        assert allocated == pytest.approx(total, rel=1e-12)
        assert sum(v["share"] for v in t.carbon_by_product.values()) == pytest.approx(1.0)
        for p, v in t.carbon_by_product.items():
            assert sum(v["by_contribution"].values()) == pytest.approx(t.co2e_kg_per_kg[p], rel=1e-12)
    mass = techno_economics(plant, {"carbon": {"allocation": "mass"}}, extras=False)
    # by mass every oxide carries the same footprint per kg
    vals = list(mass.co2e_kg_per_kg.values())
    assert max(vals) == pytest.approx(min(vals), rel=1e-12)
    # direct CO2 is the offgas CO2, and the grid factor acts on electricity alone
    offgas = sum(plant.streams[c.name].kg_h("CO2") for c in plant.spec.connections if c.dst[0] == "offgas")
    lines = {x["item"]: x["kgCO2e_per_y"] for x in mass.carbon_lines}
    direct = sum(v for k, v in lines.items() if k.startswith("direct "))
    assert direct == pytest.approx(offgas * plant.spec.hours_per_year, rel=1e-12)
    fr = techno_economics(plant, {"carbon": {"allocation": "mass", "country": "FR"}}, extras=False)
    fr_lines = {x["item"]: x["kgCO2e_per_y"] for x in fr.carbon_lines}
    g = mass.assumptions["carbon"]["grid_kgCO2e_per_kWh"]
    assert fr_lines["electricity (FR grid)"] == pytest.approx(lines["electricity (GB grid)"] * g["FR"] / g["GB"])


def test_breakeven_points_are_roots_of_the_npv(tea):
    b = tea.breakeven
    assert run_case(tea, revenue=b["price_multiplier"] * tea.revenue_usd_per_y).npv == pytest.approx(0, abs=1.0)
    price = tea.assumptions["opex"]["feed_usd_per_kg"]
    assert run_case(tea, feed_mult=b["feed_usd_per_kg"] / price).npv == pytest.approx(0, abs=1.0)
    # the NPV of the TEA is the NPV of its own cash-flow table
    assert tea.cash.npv == pytest.approx(npv(tea.cash.discount_rate, [r["net"] for r in tea.cash.rows()]))


def test_scaling_laws(tea):
    rows = {(r["capacity_factor"], r["modules"]): r for r in tea.scale}
    fc = tea.fixed_capital_usd
    assert rows[(1.0, 1)]["fixed_capital_usd"] == pytest.approx(fc)
    assert rows[(2.0, 1)]["fixed_capital_usd"] == pytest.approx(fc * 2 ** 0.6)  # six-tenths rule
    assert rows[(4.0, 4)]["fixed_capital_usd"] == pytest.approx(4 * fc)  # four modules of today's plant
    assert rows[(2.0, 2)]["fixed_capital_usd"] == pytest.approx(2 * fc)
    assert rows[(1.0, 2)]["fixed_capital_usd"] == pytest.approx(2 * fc * 0.5 ** 0.6)
    # economies of scale: one large plant beats modules making the same output
    assert rows[(4.0, 1)]["npv_usd"] > rows[(4.0, 2)]["npv_usd"] > rows[(4.0, 4)]["npv_usd"]
    # n modules of the modelled plant: the same IRR as one
    assert rows[(2.0, 2)]["irr"] == pytest.approx(rows[(1.0, 1)]["irr"], rel=1e-9)


def test_tornado_and_scenarios_are_ordered(plant, tea):
    names = [r["input"] for r in tea.sensitivity]
    swings = [r["swing_usd"] for r in tea.sensitivity]
    assert swings == sorted(swings, reverse=True) and len(names) == 6
    low, high = (techno_economics(plant, scenario=s, extras=False) for s in ("low", "high"))
    assert low.cash.npv < tea.cash.npv < high.cash.npv
    row = next(r for r in tea.sensitivity if r["input"].startswith("product prices"))
    assert row["npv_low_usd"] == pytest.approx(low.cash.npv, rel=1e-9)
    assert row["npv_high_usd"] == pytest.approx(high.cash.npv, rel=1e-9)


def test_off_spec_product_is_discounted(plant):
    doc = copy.deepcopy(load_flowsheet(reference_plant_path()).document)
    doc["units"]["ox_dy"]["wash_efficiency"] = 0.0  # an unwashed cake fails its chloride limit
    r = simulate(parse_flowsheet(doc, "unwashed"))
    failing = [p for p in r.products if p["meets_spec"] is False]
    assert failing
    t = techno_economics(r, extras=False)
    line = next(x for x in t.revenue_lines if x["product"] == failing[0]["name"])
    disc = t.assumptions["revenue"]["off_spec_discount"]
    assert line["usd_per_y"] == pytest.approx(line["t_per_y"] * 1000 * line["usd_per_kg"] * (1 - disc))


@pytest.mark.parametrize("over,field", [
    ({"revenue": {"base": {"Dy2O3": -5.0}}}, "revenue.base.Dy2O3"),
    ({"finance": {"discount_rate": -1.0}}, "finance.discount_rate"),
    ({"opex": {"reagent_usd_per_kg": {"HCl": -0.1}}}, "opex.reagent_usd_per_kg.HCl"),
    ({"finance": {"colour": 1}}, "finance.colour"),
    ({"carbon": {"country": "XX"}}, "carbon.country"),
    ({"opex": {"feed_price_basis": "kg_gold"}}, "opex.feed_price_basis"),
    ({"revenue": {"base": 5.0}}, "revenue.base"),
    ({"finance": {"tax_rate": {"uk": 0.25}}}, "finance.tax_rate"),
])
def test_bad_assumptions(over, field):
    with pytest.raises(InputError) as e:
        assumptions(over)
    assert e.value.field == field


def test_missing_price_for_a_product(plant):
    doc = copy.deepcopy(load_flowsheet(reference_plant_path()).document)
    doc["products"]["Didymium"] = doc["products"].pop("NdPr oxide")
    r = simulate(parse_flowsheet(doc, "renamed"))
    with pytest.raises(InputError) as e:
        techno_economics(r, extras=False)
    assert e.value.field == "revenue.base.Didymium" and "no price" in e.value.reason


def test_cli_writes_json_html_and_workbook(tmp_path, capsys):
    from openpyxl import load_workbook

    out = tmp_path / "tea"
    code = cli.main(["tea", "--out", str(out), "--json"])
    text = capsys.readouterr().out
    assert code == 0
    doc = json.loads(text)
    for key in ("capex_usd", "opex_usd_per_y", "revenue_usd_per_y", "npv_usd", "discount_rate", "irr", "payback_y",
                "co2e_kg_per_kg"):
        assert key in doc
    assert set(doc["co2e_kg_per_kg"]) == {"NdPr oxide", "Dy2O3", "Tb4O7"}
    assert [c["item"] for c in doc["comparison"]] == ["capex_usd", "revenue_usd_per_y", "npv_usd", "irr", "payback_y"]
    wb = load_workbook(out / "tea.xlsx")
    assert {"Summary", "Capex", "Opex", "Cash flow", "Carbon", "Sensitivity", "Scale", "Comparison",
            "Assumptions"} <= set(wb.sheetnames)
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True)}
    assert summary["npv_usd"] == pytest.approx(doc["npv_usd"]) and summary["irr"] == pytest.approx(doc["irr"])
    cash = list(wb["Cash flow"].iter_rows(values_only=True))
    assert len(cash) == 1 + len(doc["cash_flow"]) and cash[1][9] == pytest.approx(doc["cash_flow"][0]["net"])


def test_cli_page_renders_its_plots_in_a_browser(tmp_path, capsys, browser):
    out = tmp_path / "tea"
    assert cli.main(["tea", "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    dom, requests = browser.page_requests(out / "tea.html", tmp_path / "p")
    assert browser.rendered_plots(dom) == ["cashflow", "capex", "opex", "tornado", "carbon"]
    assert requests == []
    # plotly.js drew a bar per cash-flow year and per opex line at least
    assert dom.count('class="point"') >= len(doc["cash_flow"]) + len(doc["opex_lines"])


@pytest.mark.parametrize("text,words", [("[finance]\ndiscount_rate = -2\n", "finance.discount_rate"),
                                        ("[revenue.base]\nTb4O7 = -1\n", "revenue.base.Tb4O7"),
                                        ("not toml [", "file")])
def test_cli_bad_assumptions_exit_2_and_write_nothing(tmp_path, capsys, text, words):
    f = tmp_path / "a.toml"
    f.write_text(text)
    code = cli.main(["tea", "--assumptions", str(f), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and words in err
    assert not (tmp_path / "o").exists()


def test_every_offgas_stream_has_its_direct_emissions_counted(plant):
    """Issue 14, item 7: one line per greenhouse gas of each offgas stream, the leach's CO2 from the
    destroyed oxalic acid among them, by hand: n [mol/h] x 44.0095 g/mol / 1000 x H [h/y] x GWP 1."""
    from magcycle.econ.tea import NOT_GREENHOUSE

    t = techno_economics(plant, extras=False)
    lines = {x["item"]: x["kgCO2e_per_y"] for x in t.carbon_lines}
    m_co2 = 12.011 + 2 * 15.999
    for c in plant.spec.connections:
        if c.dst[0] != "offgas":
            continue
        gases = plant.streams[c.name].mol_h
        assert set(gases) <= NOT_GREENHOUSE | {"CO2"}, gases
        if gases.get("CO2", 0.0) > 0:
            by_hand = gases["CO2"] * m_co2 / 1000 * plant.spec.hours_per_year
            assert lines[f"direct CO2 ({c.name})"] == pytest.approx(by_hand, rel=1e-4)
    # the leach offgas: about 73 t/y of CO2 (issue 14) at the reference feed
    assert 60e3 < lines["direct CO2 (leach offgas)"] < 90e3


def test_a_greenhouse_gas_with_no_gwp_is_refused_not_skipped(plant):
    gwp = dict(techno_economics(plant, extras=False).assumptions["carbon"]["gwp100"])
    del gwp["CO2"]
    from magcycle.econ.tea import direct_emissions

    with pytest.raises(InputError) as e:
        direct_emissions(plant, gwp)
    assert e.value.field == "carbon.gwp100.CO2"


@pytest.fixture(scope="module")
def demo():
    """The reference plant at the demonstration scale of the reference data: 30 t/y of feed
    ([A] economicherald.net: 10 t/y REO from 30 t/y of magnets)."""
    from magcycle.flowsheet.targets import run_to_spec

    plant30 = run_to_spec(None, rate="30 t/y")
    return plant30, techno_economics(plant30)


def test_demonstration_scale_keeps_the_stated_rules_by_hand(demo):
    plant30, t = demo
    a = t.assumptions
    assert t.feed_t_per_y == pytest.approx(30.0, rel=1e-12)
    # labour: 40 staff at 1,200 t/y, scaled by (30 / 1200)^0.25 = 0.397635
    lines = {x["item"]: x["usd_per_y"] for x in t.opex_lines}
    staff = 40 * (30.0 / 1200.0) ** 0.25
    assert lines["labour"] == pytest.approx(staff * 60000.0, rel=1e-12)
    assert lines["overhead"] == pytest.approx(0.5 * staff * 60000.0, rel=1e-12)
    # capex: the leach tank by the six-tenths rule on its own volume at this feed,
    # C = 120,000 (max(V, 0.05 x 10 m3) / 10 m3)^0.6, V = 1.2 x liquor L/h x 4 h / 1000
    leach = plant30.units["leach"]
    v = 1.2 * plant30.streams["leach liquor"].volume_L_h * 4.0 / 1000.0
    assert leach.design["tank_volume_m3"] == pytest.approx(v, rel=1e-12)
    capex = {x["item"]: x["usd"] for x in t.capex_lines}
    assert capex["leach (leach) purchase"] == pytest.approx(120_000.0 * (max(v, 0.5) / 10.0) ** 0.6, rel=1e-12)
    purchased = sum(u.cost["purchase_usd"] for u in plant30.units.values())
    assert capex["piping"] == pytest.approx(a["capex"]["piping"] * purchased * (1 + a["capex"]["delivery"]), rel=1e-12)
    # compared with the published study only at its own scale
    assert t.comparison() == [] and not t.comparable


def test_the_published_study_is_compared_at_its_own_scale(tea, capsys, tmp_path):
    assert tea.comparable and [r["item"] for r in tea.comparison()][0] == "capex_usd"
    assert cli.main(["tea", "--rate", "30 t/y", "--out", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "published study" not in out.splitlines()[1] and "not compared with the published study" in out
