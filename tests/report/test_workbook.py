"""`magcycle run` writes results.xlsx: read back, it holds the numbers of results.json (products, spec
checks, streams in mol/h and kg/h with the SX organic, scrub and strip streams, reagents per tonne, one
row per SX cut with the reasons of its design)."""

import json

import pytest
from openpyxl import load_workbook

from magcycle import cli
from magcycle.chem.formula import formula_mass
from magcycle.report.workbook import SHEETS
from magcycle.sx.design import underwood_minimum


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "o"
    status = cli.main(["run", "--out", str(out)])
    assert status == 0
    doc = json.loads((out / "results.json").read_text())
    return doc, load_workbook(out / "results.xlsx", read_only=True), out


def _rows(wb, sheet):
    rows = list(wb[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_the_workbook_has_its_sheets_and_the_products_of_the_run(run):
    doc, wb, _ = run
    assert list(wb.sheetnames) == list(SHEETS)
    products = _rows(wb, "Products")
    assert [p["product"] for p in products] == [p["name"] for p in doc["products"]]
    for row, p in zip(products, doc["products"]):
        assert row["purity"] == pytest.approx(p["purity"], rel=1e-14) and row["meets spec"] == "pass"
        assert row["kg/h"] == pytest.approx(p["kg_per_h"], rel=1e-14)
    checks = _rows(wb, "Spec checks")
    assert len(checks) == sum(len(p["elements"]) for p in doc["products"])
    na = next(r for r in checks if r["product"] == "Dy2O3" and r["element"] == "Na")
    assert na["ppm"] == pytest.approx(doc["products"][1]["elements"]["Na"]["ppm"], rel=1e-14) and na["verdict"] == "pass"


def test_streams_in_mol_and_kg_per_hour_include_the_sx_streams(run):
    doc, wb, _ = run
    mol = {r["name"]: r for r in _rows(wb, "Streams mol per h")}
    kg = {r["name"]: r for r in _rows(wb, "Streams kg per h")}
    for s in doc["streams"]:
        for sp, n in s["mol_per_h"].items():
            assert mol[s["name"]][f"{sp} [mol/h]"] == pytest.approx(n, rel=1e-14)   # xlsx keeps 15 digits
            assert kg[s["name"]][f"{sp} [kg/h]"] == pytest.approx(n * formula_mass(sp) / 1000.0, rel=1e-12)
    cuts = [n for n, u in doc["units"].items() if u["type"] == "sx_cascade" and not u["info"]["bypassed"]]
    for cut in cuts:
        info = doc["units"][cut]["info"]
        organic = mol[f"{cut} loaded organic"]
        assert organic["phase"] == "organic" and organic["L/h"] == pytest.approx(info["organic_L_per_h"], rel=1e-14)
        # the loaded organic carries S = S/F x F of rare earth (the cut's saturated organic)
        loaded = sum(v for k, v in organic.items() if k.endswith("[mol/h]") and v)
        feed_re = sum(info["sx_streams"]["loaded organic"]["mol_per_h"].values())
        assert loaded == pytest.approx(feed_re, rel=1e-12)
        scrub = mol[f"{cut} scrub solution"]
        # the scrub solution: Q_s x [H+]_s of HCl (3 mol/L by default)
        assert scrub["H+ [mol/h]"] == pytest.approx(info["scrub_L_per_h"] * 3.0, rel=1e-12)
        assert f"{cut} strip acid" in mol


def test_reagents_per_tonne_by_hand(run):
    doc, wb, _ = run
    feed_kg_h = doc["feed"]["kg_per_h"]
    oxide_kg_h = sum(p["kg_per_h"] for p in doc["products"])
    for r in _rows(wb, "Reagents"):
        kg_h = doc["reagents"][r["reagent"]]["kg_per_h"]
        assert r["kg per t feed"] == pytest.approx(1000 * kg_h / feed_kg_h, rel=1e-12)
        assert r["kg per t oxide"] == pytest.approx(1000 * kg_h / oxide_kg_h, rel=1e-12)


def test_one_row_per_cut_with_the_reasons_of_its_design(run):
    doc, wb, out = run
    cuts = {r["cut"]: r for r in _rows(wb, "SX cuts")}
    sx = {n: u["info"] for n, u in doc["units"].items() if u["type"] == "sx_cascade"}
    assert set(cuts) == set(sx)
    for name, info in sx.items():
        row = cuts[name]
        if info["bypassed"]:
            continue
        assert (row["extraction_stages"], row["scrub_stages"]) == (info["extraction_stages"], info["scrub_stages"])
        assert row["exact_minimum_stages"] == info["extraction_stages"] + info["scrub_stages"]
        # Underwood's minimum organic, recomputed from the design purities: S_min = S / reflux_factor
        f_a = info["design_reasons"]["heavy_share_of_feed"]
        s_min, _ = underwood_minimum(row["beta_key"], f_a, 1 - f_a, row["design_extract_purity"],
                                     row["design_raffinate_purity"])
        assert row["underwood_S_min_per_F"] == pytest.approx(s_min, rel=1e-12)
        assert row["S_per_F"] == pytest.approx(row["reflux_factor"] * s_min, rel=1e-12)


def test_the_terminal_summary_gives_stages_per_cut_and_reagents_per_tonne(run, capsys, tmp_path):
    doc, _, _ = run
    assert cli.main(["run", "--out", str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out
    sx = {n: u["info"] for n, u in doc["units"].items() if u["type"] == "sx_cascade"}
    line = next(ln for ln in out.splitlines() if ln.startswith("SX stages"))
    for name, info in sx.items():
        assert f"{name} {info['extraction_stages']}+{info['scrub_stages']}" in line
    total = sum(i["extraction_stages"] + i["scrub_stages"] for i in sx.values())
    assert line.endswith(f"; {total} in all")
    hcl = 1000 * doc["reagents"]["HCl"]["kg_per_h"] / doc["feed"]["kg_per_h"]
    assert f"HCl {hcl:,.0f}" in next(ln for ln in out.splitlines() if ln.startswith("reagents, kg per t of feed"))
