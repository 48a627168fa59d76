"""Cut targets derived from the product specs (issue 14, item 2): for the feed in hand every product
meets its spec, or the run names the product, the cut and the limiting element."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor


from magcycle import cli
from magcycle.chem.elements import MOLAR_MASS, RARE_EARTHS
from magcycle.chem.formula import parse_formula
from magcycle.feed import CATALOGUE
from magcycle.flowsheet.envelope import random_blends
from magcycle.flowsheet.targets import run_to_spec

O = MOLAR_MASS["O"]
# oxide formed in air: (metal atoms, oxygen atoms) [Balboul 2000]; the others RE2O3
OXIDE = {"Pr": (6, 11), "Tb": (4, 7), "Ce": (1, 2)}


def oxide_kg(el, mol):
    a, b = OXIDE.get(el, (2, 3))
    return mol / a * (a * MOLAR_MASS[el] + b * O) / 1000.0


def test_the_ebike_wind_blend_meets_spec_with_a_derived_target(tmp_path, capsys):
    import json

    status = cli.main(["run", "--feed", "ebike=0.8,wind=0.2", "--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    assert status == 0, err
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert all(p["meets_spec"] for p in doc["products"])
    # Dy spoils the Tb product unless sx_tbdy (the cut sending Dy to its extract) holds more of it back
    assert set(doc["derived_targets"]) == {"sx_tbdy"} and "sx_tbdy raffinate_purity 0.999 ->" in out
    # the Tb product's purity by hand from its stream (mol/h of each element), on its spec's basis
    row = next(s for s in doc["streams"] if s["name"] == "Tb oxide")
    els = {}
    for sp, n in row["mol_per_h"].items():
        for el, k in parse_formula(sp).items():
            els[el] = els.get(el, 0.0) + k * n
    treo = sum(oxide_kg(e, n) for e, n in els.items() if e in RARE_EARTHS)
    purity = oxide_kg("Tb", els["Tb"]) / treo
    assert purity >= 0.996 - 1e-9   # the aim: the 99.5 % spec with a fifth of its 0.5 % allowance in hand


def _one_feed(feed):
    r = run_to_spec("reference", feed)
    return (feed, r.closure, [(p["name"], p["meets_spec"], p["failures"], p.get("limiting")) for p in r.products],
            r.derived_targets)


def test_every_product_meets_spec_or_names_product_cut_and_element_over_500_blends():
    feeds = list(CATALOGUE) + random_blends(500, 2026)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        runs = list(pool.map(_one_feed, feeds, chunksize=8))
    met = 0
    for feed, closure, products, derived in runs:
        assert closure <= 1e-9, feed
        for name, meets, failures, limiting in products:
            if meets is False:
                assert failures, (feed, name)
                if any(f.startswith("purity ") for f in failures):
                    assert limiting and limiting["element"] in RARE_EARTHS, (feed, name)
                    assert limiting["cuts"] and f"SX cut {limiting['cuts'][0]}" in failures[0], (feed, name)
            met += meets is not False
    # the derived targets are what carries the blends: every product of every feed meets its spec
    assert met == sum(len(p) for _, _, p, _ in runs)


def test_a_cut_that_cannot_reach_the_derived_target_is_named_with_what_it_would_need():
    """sx_tbdy capped at 16 stages (its design at the typed targets for this feed has 10 + 6): the
    raffinate purity the Tb product asks for needs more, so the run stays off spec and says so."""
    import copy
    import tomllib

    from magcycle.flowsheet import parse_flowsheet, reference_plant_path

    doc = tomllib.loads(reference_plant_path().read_text())
    doc["units"]["sx_tbdy"]["max_stages"] = 16
    r = run_to_spec(parse_flowsheet(copy.deepcopy(doc), "capped"), "ebike=0.8,wind=0.2")
    tb = next(p for p in r.products if p["name"] == "Tb4O7")
    assert tb["meets_spec"] is False and r.derived_targets == {}
    assert tb["limiting"]["element"] == "Dy" and tb["limiting"]["cuts"] == ["sx_tbdy"]
    assert "it would need sx_tbdy raffinate_purity 0.9998" in tb["failures"][0]
    assert "which the cut cannot reach" in tb["failures"][0]


def test_no_target_is_asked_of_a_cut_that_falls_short_of_its_own():
    """The reference plant built for its nominal feed, run on 80 % e-bike scrap with its stage counts
    kept: the products fail, and the cuts meant to clean them miss even their typed targets, so a
    tighter target would change nothing (the pass loop would spin): none is asked for."""
    from magcycle.flowsheet.simulation import load_plant, simulate
    from magcycle.flowsheet.targets import tightened_targets

    spec = load_plant("reference")
    built = simulate(spec)
    r = simulate(spec, "ebike=0.8,wind=0.2", warm=built)
    failing = [p for p in r.products if p["meets_spec"] is False]
    assert failing
    for p in failing:
        cut = p["limiting"]["cuts"][0]
        table = r.units[cut].info["targets"]()
        assert any(t["achieved"] < t["minimum"] for t in table.values()), (p["name"], cut, table)
    assert tightened_targets(r) == {}


def _reference():
    import copy
    import tomllib

    from magcycle.flowsheet import reference_plant_path

    return copy.deepcopy(tomllib.loads(reference_plant_path().read_text()))


def test_a_mixer_inside_the_sx_circuit_does_not_hide_the_cut_behind_it():
    from magcycle.flowsheet import parse_flowsheet

    doc = _reference()
    doc["units"]["hold"] = {"type": "mixer"}
    doc["streams"]["Sm-Gd-Tb liquor"] = "sx_tbdy.raffinate -> hold.in1"
    doc["streams"]["Sm-Gd-Tb held"] = "hold.out -> sx_tb.feed"
    r = run_to_spec(parse_flowsheet(doc, "mixer"), "ebike=0.8,wind=0.2")
    assert set(r.derived_targets) == {"sx_tbdy"} and all(p["meets_spec"] for p in r.products)


def test_a_side_product_that_bypasses_sx_blames_no_cut_through_the_recycle():
    """1 % of the purified liquor drawn off to its own oxalate line: its product meets no SX cut.
    The acid return to the leach carries a few per cent of the leach's rare earths, below the
    10 % a path takes, so the Tb line's cuts (reached through the recycle) are not blamed."""
    from magcycle.flowsheet import parse_flowsheet

    doc = _reference()
    doc["units"] |= {"take": {"type": "splitter", "fraction": 0.01},
                     "ox_mix": {"type": "oxalate_precipitation", "excess": 1.2}, "calc_mix": {"type": "calcination"}}
    doc["streams"] |= {"purified liquor": "fe_removal.liquor -> take.in", "to SX": "take.out2 -> sx_lh.feed",
                       "side liquor": "take.out1 -> ox_mix.liquor", "mix oxalate": "ox_mix.precipitate -> calc_mix.solids",
                       "mix filtrate": "ox_mix.filtrate -> filtrates.in4", "mixed oxide": "calc_mix.oxide -> product",
                       "mix calciner offgas": "calc_mix.offgas -> offgas"}
    doc["products"]["mixed"] = {"stream": "mixed oxide", "elements": ["Nd", "Pr"], "spec": "ndpr_oxide_995"}
    r = run_to_spec(parse_flowsheet(doc, "bypass"), "ev")
    mixed = next(p for p in r.products if p["name"] == "mixed")
    assert mixed["meets_spec"] is False and mixed["limiting"]["cuts"] == [] and r.derived_targets == {}


def test_a_cut_whose_two_outlets_are_mixed_back_is_not_blamed():
    """sx_prnd splits the NdPr strip liquor and both its outlets are mixed back into the one product:
    it separates nothing for it, so the cut before it (sx_ndpr, which lets La-Ce through with a
    typed light recovery of 0.05) is the one tightened."""
    from magcycle.flowsheet import parse_flowsheet

    doc = _reference()
    ndpr = doc["units"]["sx_ndpr"]
    ndpr.pop("extract_purity")
    ndpr["light_recovery"] = 0.05
    doc["units"] |= {"sx_prnd": {"type": "sx_cascade", "heavy_key": "Nd", "extract_purity": 0.998,
                                 "raffinate_purity": 0.998}, "remix": {"type": "mixer"}}
    doc["streams"] |= {"NdPr strip liquor": "sx_ndpr.extract -> sx_prnd.feed",
                       "Pr liquor": "sx_prnd.raffinate -> remix.in2", "Nd strip liquor": "sx_prnd.extract -> remix.in1",
                       "NdPr again": "remix.out -> ox_ndpr.liquor"}
    r = run_to_spec(parse_flowsheet(doc, "remix"))
    assert set(r.derived_targets) == {"sx_ndpr"} and all(p["meets_spec"] for p in r.products)


def test_a_cut_that_cannot_reach_its_target_leaves_the_others_applied():
    """reference-nd-pr with sx_tbdy capped at 16 stages and sx_ndpr's extract purity typed at 0.999:
    the pass asks sx_ndpr (reachable, for Pr6O11) and sx_tbdy (unreachable, for Tb4O7); the first
    is applied, the second named."""
    import tomllib

    from magcycle.flowsheet import parse_flowsheet
    from magcycle.flowsheet.spec import builtin_plants

    doc = tomllib.loads(builtin_plants()["reference-nd-pr"].read_text())
    doc["units"]["sx_tbdy"]["max_stages"] = 16
    doc["units"]["sx_ndpr"]["extract_purity"] = 0.999  # below what Pr6O11 needs at this feed
    r = run_to_spec(parse_flowsheet(doc, "capped"), "ebike=0.8,wind=0.2")
    by = {p["name"]: p for p in r.products}
    assert "sx_ndpr" in r.derived_targets and "sx_tbdy" not in r.derived_targets
    assert by["Pr6O11"]["meets_spec"] is True and by["Tb4O7"]["meets_spec"] is False
    assert "it would need sx_tbdy" in by["Tb4O7"]["failures"][0]
    assert "sx_ndpr" not in by["Tb4O7"]["failures"][0]


def test_a_built_cut_short_of_its_own_target_is_said_to_be():
    """Stage counts fixed (as built for the catalogue's classes alone), a Tb-poor, Gd-rich blend:
    sx_tb, which sends Gd to its raffinate, misses even its typed extract purity 0.998, so no
    tighter target is asked of it and the product says why."""
    from magcycle.flowsheet.simulation import load_plant

    built = {"sx_lh": (4, 3), "sx_tbdy": (14, 13), "sx_dy": (20, 9), "sx_tb": (13, 6), "sx_ndpr": (10, 4)}
    spec = load_plant("reference").with_unit_parameters(
        {c: {"extraction_stages": n, "scrub_stages": m} for c, (n, m) in built.items()})
    r = run_to_spec(spec, "ev=0.00172,hdd=0.32152,ebike=0.18438")
    tb = next(p for p in r.products if p["name"] == "Tb4O7")
    assert tb["meets_spec"] is False and tb["limiting"] == {"element": "Gd", "cuts": ["sx_tb"]}
    table = r.units["sx_tb"].info["targets"]()
    short = [t for t in table.values() if t["achieved"] < t["minimum"]]
    assert short and "sx_tb falls short of its own extract_purity 0.998" in tb["failures"][0]
