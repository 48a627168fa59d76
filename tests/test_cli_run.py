"""`magcycle run` and `magcycle feed`: the main job from the command line."""

import json
import subprocess
import sys

import pytest

from magcycle import cli


def run(capsys, *args):
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_run_default_writes_results_and_report(capsys, tmp_path):
    status, out, err = run(capsys, "run", "--out", str(tmp_path / "o"))
    assert status == 0, err
    assert "NdPr oxide" in out and "Dy2O3" in out and "Tb4O7" in out and "pass" in out
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert doc["closure"] <= 1e-9
    assert [p["meets_spec"] for p in doc["products"]] == [True, True, True]
    html = (tmp_path / "o" / "report.html").read_text()
    assert 'data-plot="sankey"' in html and html.count("Plotly.newPlot(") == html.count('data-plot="')
    assert html.count("<script type=\"text/javascript\">") == 1   # plotly.js embedded once
    assert err == ""  # no progress lines: a failure after them would not be one line
    csv = (tmp_path / "o" / "streams.csv").read_text().splitlines()
    assert csv[0].startswith("name,") and any(line.startswith("NdPr oxide,") for line in csv)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["report.html", "results.json", "results.xlsx", "streams.csv"]


def test_run_builtin_plant_by_name(capsys, tmp_path):
    status, out, err = run(capsys, "run", "reference-nd-pr", "--out", str(tmp_path))
    assert status == 0, err
    assert "Nd2O3" in out and "Pr6O11" in out and "FAIL" not in out


def test_run_json_is_the_results_document(capsys, tmp_path):
    status, out, err = run(capsys, "run", "--feed", "hdd", "--json", "--out", str(tmp_path))
    assert status == 0
    doc = json.loads(out)
    assert doc == json.loads((tmp_path / "results.json").read_text())
    assert doc["feed"]["parts"] == {"hdd": 1.0}


@pytest.mark.parametrize("args, needle", [
    (["--feed", "unobtainium"], "feed: unknown feed"),
    (["--feed", "ev", "--rate", "-3 kg/h"], "feed.rate"),
    (["no_such_plant.toml"], "plant: no such file: no_such_plant.toml (built-in plants: reference, reference-nd-pr)"),
])
def test_run_bad_input_is_one_line_exit_2(capsys, tmp_path, args, needle):
    out_dir = tmp_path / "o"
    status, out, err = run(capsys, "run", *args, "--out", str(out_dir))
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err
    assert not out_dir.exists()  # nothing half-written


def test_run_bad_plant_file(capsys, tmp_path):
    p = tmp_path / "plant.toml"
    p.write_text('[units.a]\ntype = "grinder"\n[streams]\nx = "feed -> a.in"\n')
    status, out, err = run(capsys, "run", str(p), "--out", str(tmp_path / "o"))
    assert status == 2 and "units.a.type: unknown unit type 'grinder'" in err
    p.write_text("not toml = = =")
    status, out, err = run(capsys, "run", str(p), "--out", str(tmp_path / "o"))
    assert status == 2 and "plant.toml: not a valid TOML file" in err


def test_run_bad_assay_composition(capsys, tmp_path):
    a = tmp_path / "lot.csv"
    a.write_text("element,wt_pct\nNd,30\nFe,60\n")
    status, out, err = run(capsys, "run", "--feed", str(a), "--out", str(tmp_path / "o"))
    assert status == 2 and "sums to 90.000 wt %" in err


def test_feed_list_and_show(capsys):
    status, out, _ = run(capsys, "feed", "list")
    assert status == 0 and all(k in out for k in ("swarf", "wind", "ev", "hdd", "ebike"))
    status, out, _ = run(capsys, "feed", "show", "ebike", "--json")
    assert status == 0 and json.loads(out)["composition_wt_pct"]["Gd"] == 3.6
    status, _, err = run(capsys, "feed", "show", "nope")
    assert status == 2 and err.count("\n") == 1


def test_console_script_runs_from_a_subprocess(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "magcycle", "run", "--feed", "wind", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "report.html").is_file()


def test_a_product_off_spec_exits_3_and_still_writes_its_results(capsys, tmp_path):
    # 80 % e-bike scrap (little Tb, much Gd and Dy), with the Tb/Dy cut capped at 16 stages: the Tb
    # product needs a raffinate purity of sx_tbdy that no cascade of 16 stages reaches (flowsheet.targets)
    import tomllib
    from importlib.resources import files

    text = (files("magcycle") / "plants" / "reference.toml").read_text()
    text = text.replace('heavy_key = "Dy"\n', 'heavy_key = "Dy"\nmax_stages = 16\n', 1)
    assert tomllib.loads(text)["units"]["sx_tbdy"]["max_stages"] == 16
    plant = tmp_path / "capped.toml"
    plant.write_text(text)
    status, out, err = run(capsys, "run", str(plant), "--feed", "ebike=0.8,wind=0.2", "--out", str(tmp_path / "o"))
    assert status == 3, err
    assert err.startswith("magcycle: off spec: Tb4O7 (tb_oxide_995): purity") and len(err.splitlines()) == 1
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    failing = [p for p in doc["products"] if p["meets_spec"] is False]
    assert failing and "FAIL" in out
    for p in failing:  # off spec by the document's own numbers: purity below the spec's minimum
        assert p["purity"] < p["min_purity"] or not all(p["checks"].values())
    assert doc["all_products_meet_spec"] is False


def _reference_with(tmp_path, old: str, new: str):
    from importlib.resources import files

    text = (files("magcycle") / "plants" / "reference.toml").read_text()
    assert old in text
    plant = tmp_path / "plant.toml"
    plant.write_text(text.replace(old, new, 1))
    return plant


def test_treated_water_over_its_discharge_limit_exits_3_and_names_the_element(capsys, tmp_path):
    # polishing at pH 8.5 leaves Ksp/[OH-]^2 = 10^(-14.23 + 11) mol/L of Co = 10^-3.23 x 58.93 g/mol
    # = 34.7 mg/L, far above the 0.5 mg/L limit
    plant = _reference_with(tmp_path, 'recover_hydroxide = true\n', 'recover_hydroxide = true\npH = 8.5\n')
    status, out, err = run(capsys, "run", str(plant), "--out", str(tmp_path / "o"))
    assert status == 3, err
    assert err.startswith("magcycle: off limits: effluent: treated water Co ") and len(err.splitlines()) == 1
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    co = doc["discharge"]["effluent"]["Co"]
    assert co["pass"] is False and co["mg_per_L"] > co["limit"] == 0.5
    assert doc["all_products_meet_spec"] is True and doc["discharge_failures"]
    assert "off limits: effluent: treated water Co" in out


@pytest.mark.parametrize("new, needle", [
    ('recover_hydroxide = true\ndischarge_limits_mg_L = { Co = -0.5 }\n',
     "units.effluent.discharge_limits_mg_L.Co: must be >= 0"),
    ('recover_hydroxide = true\ndischarge_limits_mg_L = { Co = "low" }\n',
     "units.effluent.discharge_limits_mg_L.Co: expected a number"),
    ('recover_hydroxide = true\ndischarge_limits_mg_L = 3\n', "units.effluent.discharge_limits_mg_L"),
    ('recover_hydroxide = true\nlog_Ksp = { Co = -1e400 }\n', "units.effluent.log_Ksp.Co"),
])
def test_bad_discharge_limits_and_solubility_data_exit_2(capsys, tmp_path, new, needle):
    plant = _reference_with(tmp_path, 'recover_hydroxide = true\n', new)
    status, out, err = run(capsys, "run", str(plant), "--out", str(tmp_path / "o"))
    assert status == 2 and needle in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()
