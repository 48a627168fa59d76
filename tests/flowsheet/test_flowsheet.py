import copy
import tomllib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from magcycle.errors import InputError
from magcycle.feed import CATALOGUE, blend
from magcycle.flowsheet import parse_flowsheet, reference_plant_path, simulate
from magcycle.flowsheet.solve import calculation_order
from magcycle.units.stream import element_totals

REF = tomllib.loads(reference_plant_path().read_text())


@pytest.fixture(scope="module")
def nominal():
    return simulate()


def independent_closure(result):
    """Feed + reagents of every unit against everything leaving to a sink, per element."""
    spec = result.spec
    inflow = element_totals([result.streams[c.name] for c in spec.connections if c.src[0] == "feed"]
                            + [u.reagents for u in result.units.values()])
    outflow = element_totals([result.streams[c.name] for c in spec.connections if not c.dst[1]])
    return {el: abs(inflow.get(el, 0) - outflow.get(el, 0)) / max(inflow.get(el, 0), outflow.get(el, 0))
            for el in set(inflow) | set(outflow)}


def test_reference_plant_meets_spec_on_the_nominal_blend(nominal):
    assert nominal.closure <= 1e-9
    assert max(independent_closure(nominal).values()) <= 1e-9
    names = {p["name"]: p for p in nominal.products}
    assert set(names) == {"NdPr oxide", "Dy2O3", "Tb4O7"}
    for p in nominal.products:
        assert p["meets_spec"] is True, p
        assert p["purity"] >= 0.995
        for el, rec in p["recovery"].items():
            assert rec >= 0.95, (p["name"], el, rec)
    # the recycle was found and converged
    assert nominal.tear_streams == ["acid return"] and nominal.recycle_iterations >= 2


def test_reference_plant_sx_stages_come_from_the_design(nominal):
    for name in ("sx_lh", "sx_ndpr", "sx_tbdy", "sx_dy", "sx_tb"):
        info = nominal.units[name].info
        assert not info["bypassed"] and info["extraction_stages"] >= 1 and info["scrub_stages"] >= 1
        assert "extraction_stages" not in REF["units"][name]


@pytest.mark.parametrize("key", list(CATALOGUE))
def test_reference_plant_meets_spec_on_each_feed_class_alone(key):
    r = simulate(feed=key)
    assert r.closure <= 1e-9
    for p in r.products:
        has = all(CATALOGUE[key].nominal[el] > 0 for el in p["recovery"])
        if not has:  # e.g. no Tb in HDD or e-bike magnets: nothing to sell
            assert p["meets_spec"] is None and not p["produced"]
            continue
        assert p["meets_spec"] is True, (key, p)
        assert min(p["recovery"].values()) >= 0.95, (key, p)


def test_every_aqueous_stream_is_electroneutral(nominal):
    for name, s in nominal.streams.items():
        if s.phase == "aqueous" and s.mol_h:
            ions = sum(v for k, v in s.mol_h.items() if k.endswith(("+", "-")) or k[-2] in "+-")
            assert abs(s.net_charge()) <= 1e-9 * ions, name


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1.0)), min_size=5, max_size=5)
       .filter(lambda w: sum(w) > 0.05))
# found by hypothesis in CI: nearly all HDD scrap, where the recycle's Na+ settled into a two-cycle a few
# ulps wide (the mean step of flowsheet.wegstein now settles it)
@example(weights=[0.0, 6.103515625e-05, 0.0, 0.2637490828903963, 0.0])
def test_mass_is_conserved_for_random_blends(weights):
    # (a part is 0 or at least 1e-9 of the blend: magcycle.feed.MIN_SHARE)
    from hypothesis import reject

    feed = blend(dict(zip(CATALOGUE, weights)), "150 kg/h")
    try:
        r = simulate(feed=feed)
    except InputError as exc:
        # a blend whose SX targets no cascade meets is refused with a clear line naming the
        # cut; that is an answer, not a mass balance to check
        assert "no cascade of up to" in str(exc) and str(exc).startswith("units.sx_")
        reject()
    assert max(independent_closure(r).values()) <= 1e-9
    # every unit closes on its own too
    assert max(u.closure for u in r.units.values()) <= 1e-9


def test_a_feed_all_but_free_of_la_and_ce_still_gets_its_ndpr_cut():
    # found by hypothesis: this blend leaves 0.44 % La + Ce in the NdPr cut's feed, where Xu's
    # constant-ratio estimate asked 10 + 501 stages (E'_M within 0.3 % of beta) and the plant
    # was refused; the cut is now designed from the sections' total-reflux minimums and
    # checked exactly, and a few dozen stages meet its targets
    feed = blend(dict(zip(CATALOGUE, [0.375, 0.625, 0.1875, 0.0, 0.0546875])), "150 kg/h")
    r = simulate(feed=feed)
    unit, info = r.spec.units["sx_ndpr"], r.units["sx_ndpr"].info
    heavy = [el for el in info["components"] if unit.beta[el] >= unit.beta["Pr"]]
    assert info["extraction_stages"] + info["scrub_stages"] <= 60
    # the cut's own targets, from its outlet streams: extract purity 0.999, heavy recovery 0.995
    ext, raf = r.streams["NdPr strip liquor"], r.streams["La-Ce raffinate"]
    h_ext = sum(ext.get(f"{el}+3") for el in heavy)
    l_ext = sum(ext.get(f"{el}+3") for el in ("La", "Ce"))
    h_raf = sum(raf.get(f"{el}+3") for el in heavy)
    assert h_ext / (h_ext + l_ext) >= 0.999 - 1e-9
    assert h_ext / (h_ext + h_raf) >= 0.995 - 1e-9
    assert max(independent_closure(r).values()) <= 1e-9


def test_results_document_contract(nominal):
    d = nominal.to_dict()
    assert {"closure", "products", "feed", "streams", "reagents"} <= set(d)
    p = d["products"][0]
    assert {"name", "oxide", "kg_per_h", "t_per_y", "purity", "recovery", "spec", "meets_spec"} <= set(p)
    assert p["t_per_y"] == pytest.approx(p["kg_per_h"] * 8000 / 1000)
    import json
    json.dumps(d)


def test_stream_table(nominal, tmp_path):
    df = nominal.stream_table()
    assert "NdPr oxide" in df.index and "Nd2O3 [kg/h]" in df.columns
    assert df.loc["NdPr oxide", "kg_per_h"] == pytest.approx(nominal.streams["NdPr oxide"].kg_h())
    df.to_csv(tmp_path / "streams.csv")
    assert (tmp_path / "streams.csv").read_text().startswith("name,")


def test_warm_resolve_reproduces_the_products(nominal):
    again = simulate(warm=nominal)
    for a, b in zip(nominal.products, again.products):
        assert b["kg_per_h"] == pytest.approx(a["kg_per_h"], rel=1e-9)


def test_recycle_loop_matches_the_analytic_steady_state():
    # feed -> mixer -> splitter; out1 (fraction f) leaves, out2 returns to the mixer.
    # Steady state: product = feed, recycle = feed (1 - f) / f.
    f = 0.3
    doc = {"units": {"m": {"type": "mixer"}, "s": {"type": "splitter", "fraction": f}},
           "streams": {"in": "feed -> m.in1", "mix": "m.out -> s.in", "out": "s.out1 -> product",
                       "back": "s.out2 -> m.in2"}}
    spec = parse_flowsheet(doc)
    r = simulate(spec, feed="hdd", rate="100 kg/h")
    nd = r.feed.element_mol_h()["Nd"]
    assert r.streams["out"].get("Nd") == pytest.approx(nd, rel=1e-10)
    assert r.streams["back"].get("Nd") == pytest.approx(nd * (1 - f) / f, rel=1e-10)
    assert r.tear_streams in (["back"], ["mix"])


def test_a_unit_inside_the_recycle_that_loses_mass_is_an_error():
    # the splitter of a two-unit loop drops 1e-6 of its Nd: the converged pass
    # is checked unit by unit, so the solve fails naming the unit and element
    from magcycle.errors import MassBalanceError
    from magcycle.units.stream import Stream

    doc = {"units": {"m": {"type": "mixer"}, "s": {"type": "splitter", "fraction": 0.3}},
           "streams": {"in": "feed -> m.in1", "mix": "m.out -> s.in", "out": "s.out1 -> product",
                       "back": "s.out2 -> m.in2"}}
    spec = parse_flowsheet(doc)
    leaky = spec.units["s"]
    honest_run = leaky._run

    def lossy(inlets, state):
        res = honest_run(inlets, state)
        out = res.outlets["out1"]
        res.outlets["out1"] = Stream(out.phase, {k: v * (1 - 1e-6) if k in ("Nd", "Nd+3") else v
                                                 for k, v in out.mol_h.items()})
        return res

    leaky._run = lossy
    with pytest.raises(MassBalanceError, match=r"unit s \(splitter\) loses Nd"):
        simulate(spec, feed="hdd", rate="100 kg/h")
    # the same unit outside any recycle is checked as it runs
    with pytest.raises(MassBalanceError, match="loses Nd"):
        leaky.run({"in": Stream("aqueous", {"Nd+3": 1.0, "Cl-": 3.0, "H2O": 50.0})})


def test_tears_break_every_cycle():
    spec = parse_flowsheet(REF)
    for order, tears in calculation_order(spec):
        pos = {u: i for i, u in enumerate(order)}
        for c in spec.connections:
            if c.src[0] in pos and c.dst[0] in pos and c.name not in tears:
                assert pos[c.src[0]] < pos[c.dst[0]], c.name


def _mutated(fn):
    doc = copy.deepcopy(REF)
    fn(doc)
    return doc


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["units"]["leach"].update(type="blender"), "units.leach.type"),
    (lambda d: d["streams"].update({"crushed magnet": "pretreat.product -> leach.slurry"}), "streams.crushed magnet"),
    (lambda d: d["streams"].pop("leach residue"), "units.leach.residue"),
    (lambda d: d["streams"].update({"again": "pretreat.dust -> waste"}), "streams.again"),
    (lambda d: d["streams"].update({"twice": "bleed.out1 -> leach.recycle"}), "streams"),
    (lambda d: d["units"]["leach"].update(excess=-1), "units.leach.excess"),
    (lambda d: d["products"]["Dy2O3"].update(spec="nope"), "products.Dy2O3.spec"),
    (lambda d: d["streams"].update({"crushed magnet": "pretreat.product -> waste"}), "units.leach.solids"),
])
def test_bad_flowsheets_name_the_culprit(mutate, field):
    with pytest.raises(InputError) as e:
        parse_flowsheet(_mutated(mutate))
    assert field in str(e.value)


def test_recycle_that_cannot_converge_is_reported():
    # a loop with no way out: everything returns, the recycle grows without bound
    doc = {"units": {"m": {"type": "mixer"}, "s": {"type": "splitter", "fraction": 0.0}},
           "streams": {"in": "feed -> m.in1", "mix": "m.out -> s.in", "out": "s.out1 -> product",
                       "back": "s.out2 -> m.in2"}}
    with pytest.raises(InputError) as e:
        simulate(parse_flowsheet(doc), feed="hdd", rate="100 kg/h")
    assert "did not converge" in str(e.value) and "streams." in str(e.value)


def test_reference_plant_recycle_converges_without_a_bleed():
    # chloride, sodium and oxalate leave through the SX raffinates and the leach
    # (oxalate destroyed there), so the acid return is stable even unbled
    r = simulate(parse_flowsheet(_mutated(lambda d: d["units"]["bleed"].update(fraction=0.0))))
    assert r.closure <= 1e-9 and r.streams["bleed"].mol_h == {}


def test_unmeetable_target_names_the_unit():
    doc = _mutated(lambda d: d["units"]["sx_ndpr"].update(extract_purity=0.99999999999, max_stages=30))
    with pytest.raises(InputError) as e:
        simulate(parse_flowsheet(doc))
    assert "units.sx_ndpr" in str(e.value)


def test_nd_pr_split_option_meets_spec():
    r = simulate("reference-nd-pr")
    assert r.closure <= 1e-9 and max(independent_closure(r).values()) <= 1e-9
    names = {p["name"]: p for p in r.products}
    assert set(names) == {"Nd2O3", "Pr6O11", "Dy2O3", "Tb4O7"}
    for p in r.products:
        assert p["meets_spec"] is True, p
        assert min(p["recovery"].values()) >= 0.95, p
    # the Nd/Pr cut is designed, not typed in
    info = r.units["sx_prnd"].info
    assert not info["bypassed"] and {"Pr", "Nd"} <= set(info["components"])
    assert info["extraction_stages"] >= 1 and info["scrub_stages"] >= 1
    # its targets hold on the steady-state liquor it gets (the plant's designs are checked on
    # the converged recycle, and made again where they fall short): 99.8 % of the extract's rare
    # earths on the heavy side of the cut (Nd and heavier), 99.8 % of the raffinate's on the light
    # side (Pr and lighter), from the outlet streams
    from magcycle.chem.elements import RARE_EARTHS

    unit = r.spec.units["sx_prnd"]
    heavy = {el for el in RARE_EARTHS if unit.beta.get(el, 0.0) >= unit.beta["Nd"]}

    def share(s, side):
        return sum(s.get(f"{el}+3") for el in side) / sum(s.get(f"{el}+3") for el in RARE_EARTHS)

    ext, raf = r.streams["Nd strip liquor"], r.streams["Pr liquor"]
    assert share(ext, heavy) >= 0.998
    assert share(raf, set(RARE_EARTHS) - heavy) >= 0.998


M_SO4, M_CL = 32.06 + 4 * 15.999, 35.45  # g/mol, IUPAC


def test_sulfate_leach_runs_through_to_the_products():
    doc = copy.deepcopy(REF)
    doc["units"]["leach"]["acid"] = "H2SO4"
    r = simulate(parse_flowsheet(doc, "sulfate"))
    assert r.closure <= 1e-9 and max(independent_closure(r).values()) <= 1e-9
    assert r.streams["leach liquor"].get("SO4-2") > 0 and r.units["leach"].reagents.get("H2SO4") > 0
    for p in r.products:
        assert p["meets_spec"] is True, p
    # sulfate entrained into the NdPr strip liquor reaches the oxide as oxysulfate and is counted
    prod = r.streams["NdPr oxide"]
    s_mol = prod.elements().get("S", 0.0)
    assert s_mol > 0
    ppm = s_mol * M_SO4 / 1000 / prod.kg_h() * 1e6
    p = next(p for p in r.products if p["name"] == "NdPr oxide")
    assert p["impurities_ppm"]["SO4"] == pytest.approx(ppm, rel=1e-9)


def test_unwashed_oxalate_cake_fails_the_chloride_limit():
    doc = copy.deepcopy(REF)
    doc["units"]["ox_dy"] |= {"cake_moisture": 1.0, "wash_efficiency": 0.0}
    doc["units"]["calc_dy"] |= {"chloride_retained": 1.0}
    r = simulate(parse_flowsheet(doc, "unwashed"))
    p = next(p for p in r.products if p["name"] == "Dy2O3")
    prod = r.streams["Dy oxide"]
    cl_ppm = prod.elements()["Cl"] * M_CL / 1000 / prod.kg_h() * 1e6
    assert p["impurities_ppm"]["Cl"] == pytest.approx(cl_ppm, rel=1e-9)
    # a kg of strip liquor (about 1.7 mol/L Cl-) per kg of cake: far above the 500 ppm limit
    assert cl_ppm > 500 and p["checks"]["Cl"] is False and p["meets_spec"] is False
    # the washed default stays inside it
    ok = simulate(parse_flowsheet(copy.deepcopy(REF), "washed"))
    q = next(p for p in ok.products if p["name"] == "Dy2O3")
    assert 0 < q["impurities_ppm"]["Cl"] <= 500 and q["checks"]["Cl"] is True


def test_each_units_design_and_cost_are_computed_once_per_solve(monkeypatch):
    """Design and cost run once per unit on the converged pass (not on the ~6 recycle passes) and are
    carried on its result; the TEA and the stream report read them from there."""
    from magcycle.econ.tea import techno_economics
    from magcycle.units import UNIT_TYPES

    calls = {}

    def counted(original):
        def design(self, result):
            calls[self.name] = calls.get(self.name, 0) + 1
            return original(self, result)
        return design

    for cls in set(UNIT_TYPES.values()):
        monkeypatch.setattr(cls, "design", counted(cls.design))
    r = simulate()
    assert r.recycle_iterations > 1
    once = {name: 1 for name in r.spec.units}
    assert calls == once
    for res in r.units.values():
        assert res.design is not None and res.cost["year"] == 2024 and res.cost["cost_index"] == 800.0
    tea = techno_economics(r, extras=False)
    doc = r.to_dict()
    assert calls == once  # reading them computes nothing again
    # the TEA's equipment lines are the carried purchase costs escalated by the cost-index ratio (1 by default)
    lines = {x["item"].split(" ")[0]: x["usd"] for x in tea.capex_lines if x["item"].endswith("purchase")}
    assert lines
    for name, usd in lines.items():
        assert usd == r.units[name].cost["purchase_usd"] == doc["units"][name]["cost"]["purchase_usd"]


def test_every_cost_states_its_basis():
    r = simulate(feed="ev")
    for name, res in r.units.items():
        c = res.cost
        assert {"purchase_usd", "basis", "year", "cost_index"} <= set(c), name
        if c["purchase_usd"] > 0:
            lo, hi = c["valid_size"]
            assert lo < hi and c["installation_factor"] == 1.47
            assert isinstance(c["size_in_range"], bool)
            assert isinstance(c["size"], float) and c["size"] > 0, name  # one size per unit, in size_unit
            if not c["size_in_range"]:  # a size outside its correlation says so
                assert not lo <= c["size"] <= hi or "valid" in c["basis"], name


def test_the_sulfate_route_loses_its_rare_earths_where_the_chloride_route_does_not():
    # at 80 C the sulfate holds c_max = 0.0688 mol RE per L of water (chem.sulfate) against about 0.35 mol/L
    # dissolved at 6 L/kg; the caustic of the Fe removal then takes most of the rest down as NaRE(SO4)2
    from magcycle.chem.sulfate import sulfate_solubility

    chloride = simulate()
    doc = copy.deepcopy(REF)
    doc["units"]["leach"]["acid"] = "H2SO4"
    sulfate = simulate(parse_flowsheet(doc, "sulfate"))
    leach = sulfate.units["leach"]
    x = leach.info["re_sulfate_crystallised_mol_per_h"]
    liq = sulfate.streams["leach liquor"]
    re_left = sum(liq.get(f"{el}+3") for el in ("La", "Ce", "Pr", "Nd", "Sm", "Gd", "Tb", "Dy", "Ho"))
    # by hand: the liquor keeps c_max on its water; N = what stays + what crystallised
    c_max = sulfate_solubility(80.0)
    assert re_left / liq.volume_L_h == pytest.approx(c_max, rel=1e-9)
    W = liq.get("H2O") + 4 * x
    assert x == pytest.approx((re_left + x - c_max * W * 0.018015) / (1 - 4 * c_max * 0.018015), rel=1e-4)
    assert chloride.units["leach"].info["re_sulfate_crystallised_mol_per_h"] == 0.0
    assert sulfate.units["fe_removal"].info["re_double_sulfate_mol_per_h"] > 0
    assert chloride.units["fe_removal"].info["re_double_sulfate_mol_per_h"] == 0.0
    hcl_ndpr, so4_ndpr = (next(p for p in r.products if p["name"] == "NdPr oxide") for r in (chloride, sulfate))
    assert hcl_ndpr["recovery"]["Nd"] > 0.95 and so4_ndpr["recovery"]["Nd"] < 0.05
    assert sulfate.closure <= 1e-9
