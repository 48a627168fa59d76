"""`magcycle uq` and `magcycle design` from the command line: outputs, reproducibility, bad input,
and the HTML page in a real headless Chromium."""

import json

import pytest

from magcycle import cli

CASCADE = """
[cascade]
model = "constant_beta"
extraction_stages = 24
scrub_stages = 24
[flows]
organic = 3.3
feed = 1.0
scrub = 2.547475
[feed]
Pr = 0.25
Nd = 0.75
[model]
beta = { Pr = 1.0, Nd = 1.5 }
organic_loading = 1.0
scrub_acid = 3.0
[targets]
extract = { Nd = { purity = 0.98 } }
raffinate = { Pr = { purity = 0.97 } }
"""

STUDY = """
[study]
cascade = "prnd.toml"
samples = 200
seed = 3
sobol = 256
probability = 0.9

[parameters]
"model.beta.Nd" = { normal = [1.5, 0.03] }
"feed.Pr" = { uniform = [0.22, 0.28] }
"""

@pytest.fixture()
def study(tmp_path):
    (tmp_path / "prnd.toml").write_text(CASCADE)
    (tmp_path / "study.toml").write_text(STUDY)
    return tmp_path


def run(argv, capsys):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_uq_writes_results_and_repeats_itself(study, capsys):
    out1, out2 = study / "a", study / "b"
    code, text, _ = run(["uq", str(study / "study.toml"), "--scheduler", "serial", "--out", str(out1), "--json",
                         "--quiet"], capsys)
    assert code == 0
    doc = json.loads(text)
    mc = doc["monte_carlo"]
    assert mc["samples"] == 200 and mc["seed"] == 3
    names = [m["name"] for m in mc["metrics"]]
    assert names == ["extract.Nd.purity", "raffinate.Pr.purity", "meets_targets"]
    p = mc["probability_meets_spec"]
    assert p["lower"] <= p["p"] <= p["upper"] and p["samples"] == 200
    assert set(doc["sobol"]["indices"]["extract.Nd.purity"]) == {"model.beta.Nd", "feed.Pr"}
    assert {f.name for f in out1.iterdir()} == {"results.json", "report.html", "samples.csv"}
    rows = (out1 / "samples.csv").read_text().splitlines()
    assert len(rows) == 201 and rows[0].startswith("sample,model.beta.Nd,feed.Pr,extract.Nd.purity")
    # the same seed in two processes: the same samples.csv, byte for byte
    code, _, _ = run(["uq", str(study / "study.toml"), "--scheduler", "processes:2", "--out", str(out2), "--quiet"],
                     capsys)
    assert code == 0
    assert (out1 / "samples.csv").read_bytes() == (out2 / "samples.csv").read_bytes()


def test_a_bare_cascade_file_is_pointed_to_a_study(study, capsys):
    code, out, err = run(["uq", str(study / "prnd.toml"), "--out", str(study / "x")], capsys)
    assert code == 2 and out == "" and "is a cascade file" in err and len(err.strip().splitlines()) == 1


def test_design_of_a_cascade_study(study, capsys):
    code, text, _ = run(["design", str(study / "study.toml"), "--samples", "40", "--out", str(study / "d"), "--json",
                         "--quiet"], capsys)
    assert code == 0
    d = json.loads(text)["design"]
    assert d["feasible"] and d["probability"]["lower"] >= 0.9 and d["samples"] == 40
    assert d["total_stages"] == d["extraction_stages"] + d["scrub_stages"]
    code, text, _ = run(["design", str(study / "study.toml"), "--samples", "40", "--probability", "0.999",
                         "--out", str(study / "e")], capsys)
    assert code == 2  # 40 samples cannot show 99.9 %


@pytest.mark.parametrize("argv,words", [
    (["uq", "--samples", "0"], "--samples"),
    (["uq", "--workers", "0"], "--workers"),
    (["uq", "nonexistent-plant"], "plant: no such file"),
    (["uq", "--scheduler", "threads"], "scheduler"),
    (["design", "--probability", "1.5"], "--probability"),
])
def test_bad_command_lines(argv, words, capsys, tmp_path):
    code, out, err = run(argv + ["--out", str(tmp_path / "x")], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("text,words", [
    ("[study]\nsamples = -1\n", "study.samples"),
    ("[study]\nmethod = 'halton'\n", "study.method"),
    ("[study]\ncolour = 1\n", "study.colour"),
    ("[study]\nplant = 'reference'\n[parameters]\n'feed.ev.Dy' = { uniform = [5, 1] }\n", "parameters.feed.ev.Dy"),
    ("[study]\ncascade = 'prnd.toml'\n", "parameters"),
    ("[study]\nplant = 'reference'\n[metrics]\nx = { path = 'products.Gold.purity' }\n", "metrics.x"),
    ("not toml [", "study.toml"),
    ("[study]\nstage_factors = ['big']\n", "study.stage_factors"),
    ("[study]\nconfidence = 1.5\n", "study.confidence"),
])
def test_bad_study_files(text, words, study, capsys):
    (study / "study.toml").write_text(text)
    code, out, err = run(["uq", str(study / "study.toml"), "--out", str(study / "x")], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and words in err


def test_plant_uq_and_design_from_a_study_file(study, capsys):
    (study / "plant.toml").write_text("""
[study]
plant = "reference"
samples = 40
seed = 1
probability = 0.9
stage_factors = [0.4, 1.0]
[parameters]
"feed.blend.ev" = { uniform = [0.2, 0.5], nominal = 0.35 }
"feed.ev.Dy" = { uniform = [2, 8], nominal = 4.5 }
""")
    code, text, _ = run(["uq", str(study / "plant.toml"), "--samples", "8", "--scheduler", "serial", "--json",
                         "--quiet", "--out", str(study / "u")], capsys)
    assert code == 0
    mc = json.loads(text)["monte_carlo"]
    assert mc["samples"] == 8 and mc["failed_samples"] == {}
    assert "NdPr oxide purity" in mc["summary"]
    code, text, _ = run(["design", str(study / "plant.toml"), "--scheduler", "serial", "--quiet",
                         "--out", str(study / "pd")], capsys)
    assert code == 0 and "stage factor 1" in text


def test_pages_render_in_a_browser(study, capsys, browser):
    run(["uq", str(study / "study.toml"), "--scheduler", "serial", "--out", str(study / "u"), "--quiet"], capsys)
    run(["design", str(study / "study.toml"), "--samples", "40", "--out", str(study / "d"), "--quiet"], capsys)
    doms = {}
    for name in ("u", "d"):
        doms[name], requests = browser.page_requests(study / name / "report.html", study / ("profile-" + name))
        assert requests == []
        assert len(browser.rendered_plots(doms[name])) == doms[name].count('data-plot="')   # every plot drawn
    plots = browser.rendered_plots(doms["u"])
    # a histogram per numeric metric, a tornado and Sobol bars per spec metric
    assert sorted(p for p in plots if p.startswith("hist-")) == ["hist-0", "hist-1"]
    assert {"tornado-0", "tornado-1", "sobol-0", "sobol-1", "sobol-2"} <= set(plots)
    # plotly.js bars: tornado 2 metrics x 2 inputs; Sobol 3 metrics x 2 inputs x (S1, ST)
    assert doms["u"].count('class="point"') >= 2 * 2 + 3 * 2 * 2
    assert 'id="probability"' in doms["u"] and 'id="metrics"' in doms["u"]
    assert "pareto" in browser.rendered_plots(doms["d"])
    design = json.loads((study / "d" / "design.json").read_text())["design"]
    assert doms["d"].count('class="point"') >= len(design["probability_by_total_stages"])


def test_a_study_without_limits_claims_no_probability(study, capsys):
    (study / "nolimit.toml").write_text(STUDY.replace("sobol = 256\n", "").replace("samples = 200", "samples = 16")
                                        .replace('cascade = "prnd.toml"', 'cascade = "plain.toml"'))
    (study / "plain.toml").write_text(CASCADE.split("[targets]")[0])
    code, text, _ = run(["uq", str(study / "nolimit.toml"), "--scheduler", "serial", "--quiet",
                         "--out", str(study / "n")], capsys)
    assert code == 0 and "no metric states a limit" in text and "P(meets every spec)" not in text
    doc = json.loads((study / "n" / "results.json").read_text())
    assert doc["monte_carlo"]["probability_meets_spec"] is None
    assert "extract.purity.Nd" in doc["monte_carlo"]["summary"]


@pytest.mark.parametrize("scheduler", ["tcp://localhost:99999", "", "processes:0", "nowhere"])
def test_a_cascade_design_checks_the_scheduler_it_does_not_use(study, capsys, tmp_path, scheduler):
    """A cascade design solves in this process (batched); a scheduler no run could use is still
    refused, as uq and a plant design refuse it, not ignored."""
    code, text, err = run(["design", str(study / "study.toml"), "--scheduler", scheduler,
                           "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and text == "" and err.startswith("magcycle: error: scheduler: "), err
    assert not (tmp_path / "o").exists()


def test_design_envelope_builds_the_plant_for_every_feed(capsys, tmp_path):
    """magcycle design --envelope: the stages of flowsheet.envelope.design_for_envelope (tested in
    tests/flowsheet/test_envelope.py for the spec it promises), written and reported."""
    from magcycle.flowsheet.envelope import design_for_envelope

    code, text, err = run(["design", "--envelope", "--samples", "60", "--seed", "3", "--json",
                           "--out", str(tmp_path / "o")], capsys)
    assert code == 0, err
    doc = json.loads(text)
    expect = design_for_envelope(verify=60, seed=3)
    assert doc["design"]["stages"] == {c: {"extraction": n, "scrub": m} for c, (n, m) in expect.stages.items()}
    assert doc["design"]["total_sx_stages"] == sum(n + m for n, m in expect.stages.values())
    assert doc["design"]["feasible"] is True and doc["design"]["failures"] == []
    assert (tmp_path / "o" / "design.json").exists() and 'id="stages"' in (tmp_path / "o" / "report.html").read_text()


def test_design_envelope_of_a_cascade_study_is_refused(study, capsys, tmp_path):
    code, text, err = run(["design", str(study / "study.toml"), "--envelope", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and text == "" and err.startswith("magcycle: error: --envelope: ")
    assert not (tmp_path / "o").exists()


def test_progress_is_drawn_only_on_a_terminal(study, tmp_path):
    """stderr a pipe: no progress at all; stderr a pseudo-terminal: the bar, redrawn in place."""
    import os
    import pty
    import subprocess
    import sys

    args = [sys.executable, "-m", "magcycle", "uq", str(study / "study.toml"), "--scheduler", "serial", "--samples",
            "24", "--out"]
    piped = subprocess.run(args + [str(tmp_path / "piped")], capture_output=True, text=True, timeout=600)
    assert piped.returncode == 0 and piped.stderr == ""
    main, child = pty.openpty()
    proc = subprocess.run(args + [str(tmp_path / "tty")], stdout=subprocess.PIPE, stderr=child, timeout=600)
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    assert proc.returncode == 0 and b"Monte Carlo [" in seen and b"24/24 samples" in seen


def test_feed_and_rate_replace_the_plants_feed_in_a_plant_study(capsys, tmp_path):
    from magcycle.flowsheet.targets import run_to_spec

    code, text, _ = run(["uq", "--feed", "ev=2,wind=1", "--rate", "600 t/y", "--samples", "8", "--scheduler",
                         "serial", "--json", "--quiet", "--out", str(tmp_path / "u")], capsys)
    assert code == 0
    mc = json.loads(text)["monte_carlo"]
    names = [p["name"] for p in mc["parameters"]]
    # the blend varied is ev and wind only, each around its weight as given (triangular 0.5w, w, 1.5w)
    assert [n for n in names if n.startswith("feed.blend.")] == ["feed.blend.ev", "feed.blend.wind"]
    ev = next(p for p in mc["parameters"] if p["name"] == "feed.blend.ev")
    assert ev["args"] == pytest.approx([1.0, 2.0, 3.0]) and ev["nominal"] == 2.0
    assert not any(n.startswith(("feed.hdd.", "feed.swarf.", "feed.ebike.")) for n in names)
    # the nominal point is the plant run on that feed at that rate
    alone = run_to_spec(None, "ev=2,wind=1", rate="600 t/y")
    ndpr = next(p for p in alone.products if p["name"] == "NdPr oxide")
    assert mc["nominal"]["NdPr oxide t/y"] == pytest.approx(ndpr["t_per_y"], rel=1e-9)


@pytest.mark.parametrize("extra, words", [
    (["--feed", "some.csv"], "--feed: a study varies the catalogue's classes"),
    (["--feed", "gold"], "feed: unknown feed 'gold'"),
    (["--rate", "-3 t/y"], "feed.rate: a feed rate must lie in"),
])
def test_bad_feed_options_of_a_study_are_one_line(capsys, tmp_path, extra, words):
    code, text, err = run(["uq", "--samples", "4", "--scheduler", "serial", "--out", str(tmp_path / "u")] + extra,
                          capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and words in err and text == ""
