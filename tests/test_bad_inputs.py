"""Bad input found by a fuzz run of the command line (issue 13): each gives exit status 2 and one line
naming the field, with no traceback and no output written."""

import json
import os
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from magcycle import cli

REF = (files("magcycle") / "plants" / "reference.toml").read_text()
CASCADE = (files("magcycle") / "examples" / "ndpr_dy_split.toml").read_text()


def run(capsys, *args):
    status = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def check_refused(capsys, tmp_path, args, field):
    out_dir = tmp_path / "out"
    own_out = args[0] in ("run", "tea", "uq", "design") and "--out" not in args
    status, out, err = run(capsys, *args, *(["--out", out_dir] if own_out else []))
    assert status == 2, err
    assert out == "" and "Traceback" not in err
    assert len(err.splitlines()) == 1 and len(err) < 500, err
    assert err.startswith(f"magcycle: error: {field}: "), err
    assert not out_dir.exists()
    return err


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# ------------------------------------------------------------ plant files and feeds
@pytest.mark.parametrize("change, field", [
    (lambda s: s.replace('[units.filtrates]\ntype = "mixer"', '[units.filtrates]\ntype = ["mixer"]'),
     "units.filtrates.type"),
    (lambda s: s.replace('[plant]\nname = "reference"\nhours_per_year = 8000', 'plant = "x"'), "plant"),
    (lambda s: "products = [1]\n" + s.split('[products."NdPr oxide"]')[0], "products"),
    (lambda s: s.replace('excess = 0.1', 'excess = "lots"'), "units.leach.excess"),
    (lambda s: s.replace('[units.bleed]\ntype = "splitter"\nfraction = 0.1', '[units.bleed]\ntype = "splitter"\n'
                         'fraction = 0.1\n[units.bleed.extra]\nx = 1'), "units.bleed.extra"),
])
def test_plant_files_with_the_wrong_types(capsys, tmp_path, change, field):
    plant = _write(tmp_path, "plant.toml", change(REF))
    check_refused(capsys, tmp_path, ["run", plant], field)


@pytest.mark.parametrize("args, field", [
    (["--rate", "1e-30 kg/h"], "feed.rate"),
    (["--rate", "1e-300 kg/h"], "feed.rate"),
    (["--rate", "1e300 kg/h"], "feed.rate"),
    (["--rate", ""], "feed.rate"),
    (["--rate", "nan kg/h"], "feed.rate"),
    (["--feed", "hdd=1,ev=1e-308"], "feed.blend.ev"),
    (["--feed", "hdd=1,hdd=2"], "feed.blend.hdd"),
    (["--out", ""], "--out"),
])
def test_feeds_rates_and_folders(capsys, tmp_path, args, field):
    status, out, err = run(capsys, "run", *args, *([] if "--out" in args else ["--out", tmp_path / "out"]))
    assert status == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith(f"magcycle: error: {field}: "), err


def test_a_feed_with_no_rare_earth_is_refused_before_the_solve(capsys, tmp_path):
    assay = _write(tmp_path, "fe.toml", 'name = "iron"\n[composition]\nFe = 100\n')
    err = check_refused(capsys, tmp_path, ["run", "--feed", assay], "feed")
    assert "no rare earth" in err


def test_a_feed_of_only_nd_dy_and_fe_runs(capsys, tmp_path):
    # found by the fuzz run: this assay gave `units.sx_tbdy.flows.scrub: must be >= 0 L/h`
    assay = _write(tmp_path, "lot.toml", 'name = "NdDy"\n[composition]\nNd = 30\nDy = 4\nFe = 66\n')
    status, out, err = run(capsys, "run", "--feed", assay, "--out", tmp_path / "o", "--json")
    assert status == 0, err
    doc = json.loads(out)
    assert doc["closure"] <= 1e-9
    products = {p["name"]: p for p in doc["products"]}
    assert products["Tb4O7"]["produced"] is False  # no Tb in the feed
    assert products["Dy2O3"]["meets_spec"] is True and products["NdPr oxide"]["meets_spec"] is True


def test_an_assay_rate_beside_a_different_rate(capsys, tmp_path):
    assay = _write(tmp_path, "lot.toml", 'rate = "200 kg/h"\n[composition]\nNd = 30\nFe = 70\n')
    err = check_refused(capsys, tmp_path, ["run", "--feed", assay, "--rate", "150 kg/h"], "feed.rate")
    assert "150 kg/h" in err and "200 kg/h" in err


# ------------------------------------------------------------ limits and numbers
def _nested(depth: int) -> str:
    return '{"a": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("kind", ["cascade", "plant", "assay", "study", "assumptions"])
@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_deep_nesting_is_one_line(capsys, tmp_path, kind, fmt):
    text = _nested(1000) if fmt == "json" else "a = " + "[" * 1000 + "]" * 1000 + "\n"
    path = _write(tmp_path, f"deep.{fmt}" if kind != "assay" else f"deep.{'toml'}", text)
    args = {"cascade": ["sx", "solve", path], "plant": ["run", path], "assay": ["run", "--feed", path],
            "study": ["uq", path], "assumptions": ["tea", "--assumptions", path]}[kind]
    status, out, err = run(capsys, *args, *(["--out", tmp_path / "o"] if args[0] in ("run", "uq", "tea") else []))
    assert status == 2 and out == "" and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("old, new, field", [
    ("extraction_stages = 8", "extraction_stages = 1e308", "cascade.extraction_stages"),
    ("extraction_stages = 8", "extraction_stages = 100000", "cascade.extraction_stages"),
    ("extraction_stages = 8", "extraction_stages = 10000000", "cascade.extraction_stages"),
    ("scrub_stages = 8", "scrub_stages = true", "cascade.scrub_stages"),
    ("D = { Nd = 0.1,", "D = { Nd = 1e308,", "model.D.Nd"),
    ("D = { Nd = 0.1,", "D = { Nd = 5e-324,", "model.D.Nd"),
    ('organic = "22.5 L/h"', "organic = 1e308", "flows.organic"),
    ('organic = "22.5 L/h"', "organic = inf", "flows.organic"),
    ('organic = "22.5 L/h"', "organic = nan", "flows.organic"),
    ('organic = "22.5 L/h"', 'organic = "1e308 m3/h"', "flows.organic"),
])
def test_huge_and_tiny_numbers_are_refused(capsys, tmp_path, old, new, field):
    assert old in CASCADE
    path = _write(tmp_path, "c.toml", CASCADE.replace(old, new))
    check_refused(capsys, tmp_path, ["sx", "solve", path], field)


def test_json_infinity_is_not_json(capsys, tmp_path):
    doc = tomllib.loads(CASCADE)
    doc["flows"]["organic"] = float("inf")
    path = _write(tmp_path, "c.json", json.dumps(doc))  # writes the token Infinity
    check_refused(capsys, tmp_path, ["sx", "solve", path], "file")


@pytest.mark.parametrize("n", [0, -1, 2001])
def test_sx_design_max_stages_out_of_range(capsys, tmp_path, n):
    design = _write(tmp_path, "d.toml", CASCADE + '\n[targets]\nextract = { Dy = { purity = 0.99 } }\n')
    check_refused(capsys, tmp_path, ["sx", "design", design, "--max-stages", n], "--max-stages")


# ------------------------------------------------------------ command line
def test_a_named_pipe_is_refused_without_blocking(capsys, tmp_path):
    fifo = tmp_path / "plant.toml"
    os.mkfifo(fifo)
    for args in (["sx", "solve", fifo], ["run", fifo], ["run", "--feed", fifo],
                 ["tea", "--assumptions", fifo]):
        status, out, err = run(capsys, *args, *(["--out", tmp_path / "o"] if args[0] != "sx" else []))
        assert status == 2 and len(err.splitlines()) == 1 and "not a regular file" in err, err


@pytest.mark.parametrize("args", [
    ["run", "--feed", "x" * 1_000_000],
    ["run", "--rate", "9" * 1_000_000 + " kg/h"],
    ["sx", "solve", "y" * 100_000],
    ["schema", "z" * 1_000_000],
])
def test_long_inputs_are_not_echoed(capsys, tmp_path, args):
    status, out, err = run(capsys, *args, *(["--out", tmp_path / "o"] if args[0] == "run" else []))
    assert status == 2 and len(err.splitlines()) == 1 and len(err) <= 401, len(err)


def test_a_long_unit_name_in_a_plant_file_is_not_echoed(capsys, tmp_path):
    plant = _write(tmp_path, "plant.toml", REF.replace("[units.bleed]", "[units." + "b" * 100_000 + "]"))
    status, out, err = run(capsys, "run", plant, "--out", tmp_path / "o")
    assert status == 2 and len(err.splitlines()) == 1 and len(err) <= 401


@pytest.mark.parametrize("address", ["tcp://", "tcp://:", "tcp://[::1", "foo://x", "processes:x", "processes:0"])
def test_bad_scheduler_addresses_are_one_line(capsys, tmp_path, address):
    check_refused(capsys, tmp_path, ["uq", "--scheduler", address, "--samples", "2"], "scheduler")


def test_an_unreachable_scheduler_is_one_line(capsys, tmp_path):
    # port 1 on this machine: nothing listens there
    err = check_refused(capsys, tmp_path, ["uq", "--scheduler", "tcp://127.0.0.1:1", "--samples", "2"], "scheduler")
    assert "cannot reach" in err


def test_the_json_of_a_result_never_holds_nan():
    from magcycle.cli.common import Failure, dumps

    with pytest.raises(Failure) as e:
        dumps({"products": [{"purity": float("nan")}]})
    assert e.value.status == 1 and "products[0].purity" in e.value.line


def test_an_output_folder_whose_results_json_is_a_folder(capsys, tmp_path):
    (tmp_path / "out" / "results.json").mkdir(parents=True)
    status, out, err = run(capsys, "run", "--out", tmp_path / "out")
    assert status == 2 and err.startswith("magcycle: error: --out: ") and "is not a file" in err
    assert Path(tmp_path / "out" / "results.json").is_dir()


# ------------------------------------------------------------ rules between fields (review of issue 13)
@pytest.mark.parametrize("change, field, reason", [
    (lambda s: s.replace("extract_purity = 0.999\nraffinate_purity = 0.999",
                         "extract_purity = 0.45\nraffinate_purity = 0.5"),
     "units.sx_tbdy.raffinate_purity", "must exceed 1"),
    (lambda s: s.replace("ebike = 0.05", "mars = 0.05"), "feed.blend.mars", "unknown feed class"),
    (lambda s: s.replace("blend = { ev = 0.35, wind = 0.25, swarf = 0.25, hdd = 0.10, ebike = 0.05 }",
                         "blend = { ev = 0, wind = 0 }"), "feed.blend", "sum to zero"),
    (lambda s: s.replace("blend = { ev = 0.35, wind = 0.25, swarf = 0.25, hdd = 0.10, ebike = 0.05 }",
                         'class = "mars"'), "feed.class", "unknown feed class"),
])
def test_plant_files_breaking_a_rule_between_fields(capsys, tmp_path, change, field, reason):
    text = change(REF)
    assert text != REF
    plant = _write(tmp_path, "plant.toml", text)
    err = check_refused(capsys, tmp_path, ["run", plant], field)
    assert reason in err
    # the same plant file named by a study is refused at the same field, named after its file
    study = _write(tmp_path, "s.toml", f'[study]\nplant = "{plant}"\nsamples = 2\n'
                   '[parameters]\n"units.bleed.fraction" = { uniform = [0.05, 0.15] }\n')
    err = check_refused(capsys, tmp_path, ["uq", study, "--scheduler", "serial"], f"plant.toml.{field}")
    assert reason in err


@pytest.mark.parametrize("parameter, field, reason", [
    ('"units.sx_ndpr.type" = { uniform = [0, 1] }', "parameters.units.sx_ndpr.type", "not a parameter"),
    ('"feed.blend.mars" = { uniform = [0, 1] }', "parameters.feed.blend.mars", "mars"),
])
def test_study_parameters_that_are_not_parameters(capsys, tmp_path, parameter, field, reason):
    study = _write(tmp_path, "s.toml", f'[study]\nplant = "reference"\nsamples = 2\n[parameters]\n{parameter}\n')
    err = check_refused(capsys, tmp_path, ["uq", study, "--scheduler", "serial"], field)
    assert reason in err


def test_a_message_starting_with_an_element_keeps_its_case(capsys, tmp_path):
    cascade = _write(tmp_path, "c.toml", CASCADE.replace("D = { Nd = 0.1,", "D = { La = 2.0, Nd = 0.1,"))
    err = check_refused(capsys, tmp_path, ["sx", "solve", cascade], "model.D.La")
    assert ": La " in err and ": la " not in err


# ------------------------------------------------------------ a second fuzz run (issue 13, closing)
LONG = "x" * 300  # longer than any file name Linux takes (255 bytes)


@pytest.mark.parametrize("args, field", [
    (["run", LONG], "plant"),
    (["tea", LONG], "plant"),
    (["uq", LONG], "study"),
    (["sx", "solve", LONG], "file"),
    (["run", "--out", LONG], "--out"),
    (["run", ""], "plant"),
    (["run", "/"], "plant"),
    (["uq", ""], "STUDY|PLANT"),
    (["sx", "solve", " "], "FILE"),
    (["tea", "--assumptions", ""], "--assumptions"),
    (["schema", "cascade", " "], "' '"),
    (["uq", "--samples", "2", "--scheduler", "tcp://.:1"], "scheduler"),
    (["uq", "--samples", "2", "--scheduler", "tcp://" + "a" * 70 + ":8786"], "scheduler"),
    (["uq", "--samples", "2", "--scheduler", "processes:\u00b2"], "scheduler"),
    (["uq", "--samples", "2", "--scheduler", ""], "scheduler"),
])
def test_paths_and_addresses_no_system_call_can_take(capsys, tmp_path, args, field):
    check_refused(capsys, tmp_path, args, field)


def test_an_output_folder_that_is_a_loop_of_links(capsys, tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    err = check_refused(capsys, tmp_path, ["run", "--out", tmp_path / "loop"], "--out")
    assert "loop" in err and "given twice" not in err


@pytest.mark.parametrize("rows, field, reason", [
    ("Nd,30\nNd,1\nFe,69\n", "lot.csv:3.element", "given twice (first on line 2)"),
    ("Nd,3_0\nFe,70\n", "lot.csv:2.wt_pct", "not a number"),
    ("Nd,nan\nFe,70\n", "lot.csv:2.wt_pct", "not a number"),
    ('Nd,"' + "1" * 200_000 + '"\n', "lot.csv", "not a valid CSV file"),
])
def test_csv_assays_that_say_two_things_or_no_number(capsys, tmp_path, rows, field, reason):
    lot = _write(tmp_path, "lot.csv", "element,wt_pct\n" + rows)
    assert reason in check_refused(capsys, tmp_path, ["feed", "show", lot], field)
    assert reason in check_refused(capsys, tmp_path, ["run", "--feed", lot], field)


def test_a_json_key_given_twice_is_refused_as_toml_refuses_it(capsys, tmp_path):
    doc = tomllib.loads(CASCADE)
    text = json.dumps(doc)
    text = text.replace('"extraction_stages":', '"extraction_stages": 3, "extraction_stages":', 1)
    cascade = _write(tmp_path, "c.json", text)
    assert "'extraction_stages' is given twice" in check_refused(capsys, tmp_path, ["sx", "solve", cascade], "file")
    plant = _write(tmp_path, "plant.json", json.dumps(tomllib.loads(REF)).replace('"excess": 0.1,',
                                                                                 '"excess": 0.1, "excess": 0.2,', 1))
    assert "'excess' is given twice" in check_refused(capsys, tmp_path, ["run", plant], "plant.json")


@pytest.mark.parametrize("change, field, reason", [
    (lambda s: s.replace('"pretreat offgas" =', '" " ='), "streams", "blank"),
    (lambda s: s.replace('[products."NdPr oxide"]', '[products."NdPr\\u0000oxide"]'), "products", "control character"),
    (lambda s: s.replace('name = "reference"', 'name = " reference"'), "plant.name", "space at an end"),
])
def test_names_no_table_can_show(capsys, tmp_path, change, field, reason):
    text = change(REF)
    assert text != REF
    plant = _write(tmp_path, "plant.toml", text)
    status, out, err = run(capsys, "run", plant, "--out", tmp_path / "o")
    assert status == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith(f"magcycle: error: {field}") and reason in err, err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("text, field, reason", [
    ("[finance]\ndiscount_rate = -0.9999999999999999\n", "finance.discount_rate", ">= -0.1"),
    ("[opex]\nhours_per_year_from_plant = 1\n", "opex.hours_per_year_from_plant", "true or false"),
    ("[opex]\nhours_per_year_from_plant = false\n", "opex.hours_per_year_from_plant", "must be true, got false"),
    ('[revenue.base]\n"Nd2O3\\u0000" = 1\n', "revenue.base.", "control character"),
])
def test_assumptions_no_cash_flow_or_worksheet_can_take(capsys, tmp_path, text, field, reason):
    a = _write(tmp_path, "a.toml", text)
    status, out, err = run(capsys, "tea", "--assumptions", a, "--out", tmp_path / "o")
    assert status == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith(f"magcycle: error: {field}") and reason in err, err


def test_errors_in_files_a_study_names_are_named_after_the_file(capsys, tmp_path):
    plant = _write(tmp_path, "p.toml", REF.replace("pH = 3.5", "pH = 35"))
    assert plant.read_text() != REF
    study = _write(tmp_path, "s.toml", '[study]\nplant = "p.toml"\n')
    check_refused(capsys, tmp_path, ["uq", study, "--samples", "2", "--scheduler", "serial"],
                  "p.toml.units.fe_removal.pH")
    study = _write(tmp_path, "s.toml", '[study]\nplant = "no-such-plant"\n')
    check_refused(capsys, tmp_path, ["uq", study, "--samples", "2"], "study.plant")
    cascade = _write(tmp_path, "c.toml", CASCADE.replace("[flows]\n", "[flows]\nswirl = 1\n", 1))
    assert cascade.read_text() != CASCADE
    study = _write(tmp_path, "s.toml", '[study]\ncascade = "c.toml"\n[parameters]\n'
                                       '"flows.feed" = { uniform = [0.9, 1.1] }\n')
    check_refused(capsys, tmp_path, ["uq", study, "--samples", "2", "--scheduler", "serial"], "c.toml.flows.swirl")


def test_a_cascade_study_parameter_the_cascade_lacks_is_named_as_the_study_names_it(capsys, tmp_path):
    _write(tmp_path, "c.toml", CASCADE)
    study = _write(tmp_path, "s.toml", '[study]\ncascade = "c.toml"\n[parameters]\n'
                                       '"model.D.Zz" = { uniform = [0.9, 1.1] }\n')
    err = check_refused(capsys, tmp_path, ["uq", study, "--samples", "2", "--scheduler", "serial"],
                        "parameters.model.D.Zz")
    assert "not a numeric parameter" in err


@pytest.mark.parametrize("distribution, reason", [
    ("uniform = [-1, 1]", "its draws reach -1"),
    ("triangular = [-1, 2, 3]", "its draws reach -1"),
    ("uniform = [0, 101]", "its draws reach 101"),
    ("uniform = [1, 2], nominal = -1e15", "its nominal is -1e+15"),
    ("normal = [4, 1], nominal = 120", "its nominal is 120"),
])
def test_feed_parameters_whose_draws_leave_what_a_feed_can_be(capsys, tmp_path, distribution, reason):
    study = _write(tmp_path, "s.toml", f'[study]\nplant = "reference"\n[parameters]\n'
                                       f'"feed.ev.Dy" = {{ {distribution} }}\n')
    err = check_refused(capsys, tmp_path, ["uq", study, "--samples", "2", "--scheduler", "serial"],
                        "parameters.feed.ev.Dy")
    assert reason in err and "[0, 100]" in err


def _magcycle(shell_tail, tmp_path, env=None):
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("magcycle")
    return subprocess.run(f"'{exe}' {shell_tail}", shell=True, cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.parametrize("redirect", ["> /dev/full", ">&-"])
def test_output_that_cannot_be_written_is_one_line_and_status_1(tmp_path, redirect):
    r = _magcycle(f"schema cascade {redirect}", tmp_path)
    assert r.returncode == 1 and r.stderr.startswith("magcycle: error: cannot write the output"), r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_a_closed_stderr_does_not_move_the_error_to_stdout(tmp_path):
    r = _magcycle("run --feed ev=nan 2>&-", tmp_path)
    assert r.returncode == 2 and r.stdout == ""


def test_a_terminal_without_the_characters_gets_them_escaped(tmp_path):
    r = _magcycle("run --out \u00e9", tmp_path, {"PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith("in \\xe9") and r.stderr == ""


@pytest.mark.parametrize("text, field", [
    ("[revenue.base]\nDy2o3 = 310\n", "revenue.base.Dy2o3"),
    ("[revenue.high]\n\"NdPr Oxide\" = 80\n", "revenue.high.NdPr Oxide"),
    ("[opex.reagent_usd_per_kg]\nHCL = 0.3\n", "opex.reagent_usd_per_kg.HCL"),
    ("[carbon.reagent_kgCO2e_per_kg]\nNaOh = 1.0\n", "carbon.reagent_kgCO2e_per_kg.NaOh"),
    ("[carbon.primary_kgCO2e_per_kg]\nTb407 = [1.0, 2.0]\n", "carbon.primary_kgCO2e_per_kg.Tb407"),
    ("[revenue.base]\nSm2O3 = 2.0\n", "revenue.base.Sm2O3"),  # no product of this plant, no default
])
def test_a_misspelt_price_key_is_refused_not_ignored(capsys, tmp_path, text, field):
    a = _write(tmp_path, "a.toml", text)
    err = check_refused(capsys, tmp_path, ["tea", "--assumptions", a], field)
    assert "check the spelling" in err


@pytest.mark.parametrize("text", [
    "[revenue.base]\n\"Nd2O3+Pr6O11\" = 61.5\n",  # a product's oxide formula (econ.prices: name, then oxide)
    "[revenue.base]\nNd2O3 = 60.0\n",  # a default key, for a product of another plant (reference-nd-pr)
    "[opex.reagent_usd_per_kg]\nH2SO4 = 0.2\n",  # a default reagent this plant does not use
])
def test_price_keys_that_name_a_product_or_a_default_are_taken(capsys, tmp_path, text):
    a = _write(tmp_path, "a.toml", text)
    status, out, err = run(capsys, "tea", "--assumptions", a, "--out", tmp_path / "o", "--json")
    assert status == 0, err


def test_a_price_for_a_product_the_plant_makes_is_used(capsys, tmp_path):
    a = _write(tmp_path, "a.toml", "[revenue.base]\n\"NdPr oxide\" = 62.5\n")
    status, out, err = run(capsys, "tea", "--assumptions", a, "--out", tmp_path / "o", "--json")
    assert status == 0, err
    line = next(x for x in json.loads(out)["revenue_lines"] if x["product"] == "NdPr oxide")
    assert line["usd_per_kg"] == 62.5


def test_a_study_varying_a_price_of_nothing_is_refused_before_sampling(capsys, tmp_path):
    study = _write(tmp_path, "s.toml", '[study]\nplant = "reference"\n[parameters]\n'
                                       '"econ.revenue.base.Dy2o3" = { uniform = [200, 300] }\n'
                                       '[metrics]\nnpv = { path = "tea.npv_usd" }\n')
    status, out, err = run(capsys, "uq", study, "--samples", "2", "--scheduler", "serial", "--quiet",
                           "--out", tmp_path / "o")
    assert status == 2 and err.startswith("magcycle: error: parameters.econ.revenue.base.Dy2o3: "), err
    assert len(err.splitlines()) == 1 and not (tmp_path / "o").exists()


def test_draws_of_a_normal_feed_parameter_below_zero_fail_their_own_samples(capsys, tmp_path):
    """A normal has no bounds: its draws below 0 wt % fail their samples (nothing is dropped from
    the assay, nothing refused); every other sample stands."""
    import csv

    study = _write(tmp_path, "s.toml", '[study]\nplant = "reference"\n[parameters]\n'
                                       '"feed.ev.Dy" = { normal = [0.5, 1.0] }\n')
    status, out, err = run(capsys, "uq", study, "--samples", "6", "--scheduler", "serial", "--quiet",
                           "--out", tmp_path / "o")
    assert status == 0, err
    rows = list(csv.DictReader((tmp_path / "o" / "samples.csv").open()))
    failed = {r["sample"] for r in rows if r["error"]}
    negative = {r["sample"] for r in rows if float(r["feed.ev.Dy"]) < 0}
    # LHS of 6 from N(0.5, 1): the first stratum, u < 1/6 < P(X < 0) = 0.31, always lies below 0
    assert failed == negative and negative
    assert all("below 0" in r["error"] for r in rows if r["error"])


def test_a_name_in_a_script_that_joins_letters_with_format_characters_is_a_name(capsys, tmp_path):
    # Persian spells "the recycling plant" with a zero-width non-joiner (U+200C, category Cf)
    plant = _write(tmp_path, "plant.toml", REF.replace('name = "reference"',
                                                       'name = "\u06a9\u0627\u0631\u062e\u0627\u0646\u0647'
                                                       '\u200c\u06cc"'))
    status, out, err = run(capsys, "run", plant, "--out", tmp_path / "o")
    assert status == 0, err


@pytest.mark.parametrize("plant", ["/", "."])
def test_a_study_naming_a_folder_as_its_plant(capsys, tmp_path, plant):
    study = _write(tmp_path, "s.toml", f'[study]\nplant = "{plant}"\n')
    err = check_refused(capsys, tmp_path, ["uq", study, "--samples", "2", "--scheduler", "serial"], "study.plant")
    assert "folder" in err or "directory" in err


def test_a_plant_argument_that_names_nothing_is_the_argument_not_a_study_field(capsys, tmp_path):
    err = check_refused(capsys, tmp_path, ["uq", "no-such-plant", "--samples", "2"], "plant")
    assert "no such file" in err


def test_a_study_of_a_plant_file_with_a_long_absolute_path(capsys, tmp_path):
    folder = tmp_path / ("d" * 120) / ("e" * 120)
    folder.mkdir(parents=True)
    plant = folder / "plant.toml"
    plant.write_text(REF)
    assert len(str(plant.resolve())) > 200
    status, out, err = run(capsys, "uq", plant, "--samples", "2", "--scheduler", "serial", "--quiet",
                           "--out", tmp_path / "o")
    assert status == 0, err


@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"])
def test_a_study_runs_whatever_becomes_of_its_progress_lines(tmp_path, redirect):
    r = _magcycle(f"uq --samples 2 --scheduler serial --out o {redirect}", tmp_path)
    assert r.returncode == 0 and (tmp_path / "o" / "results.json").exists()


@pytest.mark.parametrize("args", [
    ["run", "{d}"], ["run", "--feed", "{d}"], ["tea", "{d}"], ["tea", "--assumptions", "{d}"],
    ["sx", "solve", "{d}"], ["uq", "{d}"], ["design", "{d}"], ["design", "--envelope", "{d}"],
])
def test_a_directory_where_a_file_is_expected_is_one_line_from_every_command(tmp_path, capsys, args):
    d = tmp_path / "folder"
    d.mkdir()
    out = [] if args[0] == "sx" else ["--out", str(tmp_path / "o")]   # sx solve prints, it writes no folder
    code = cli.main([a.format(d=d) for a in args] + out)
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "is a directory" in err, err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", [["run"], ["tea"], ["uq"], ["design"]])
def test_out_pointing_at_a_file_is_one_line(tmp_path, capsys, command):
    f = tmp_path / "a-file.txt"
    f.write_text("mine")
    code = cli.main(command + ["--out", str(f)])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == f"magcycle: error: --out: {f} is a file, not a folder"
    assert f.read_text() == "mine"


def test_an_unknown_scenario_is_one_line_in_the_usual_format(capsys):
    code = cli.main(["tea", "--scenario", "medium"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("magcycle: error: --scenario: invalid choice: 'medium'")
    assert len(err.strip().splitlines()) == 1 and "usage:" not in err
