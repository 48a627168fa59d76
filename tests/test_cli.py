"""Command line: the real console entry point, in subprocesses and in-process.

Oracles: conservation (every component's outlet fractions sum to 1), the
published constant-beta cases of shared/validation/sx-public-cases.md §2,
and the closed-form extraction + scrub + strip solution of a constant-D
cascade (shared/design/sx-numerics.md §3, oracle 2, times a Kremser strip).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib.resources import files

import pytest

from magcycle import cli
from magcycle.chem import parse_quantity
from magcycle.errors import ConvergenceError, MassBalanceError

EXAMPLES_DIR = files("magcycle") / "examples"
EXAMPLES = sorted(f.name[:-5] for f in EXAMPLES_DIR.iterdir() if f.name.endswith(".toml"))


def example_path(name: str) -> str:
    return str(EXAMPLES_DIR / f"{name}.toml")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "magcycle", *args],
        capture_output=True, text=True, timeout=120,
    )


def run_inprocess(capsys, *args: str):
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


# ------------------------------------------------------------ sx solve, good
def test_all_three_examples_are_bundled():
    assert EXAMPLES == ["dy_tb_split", "ndpr_dy_split", "pr_nd_split", "prommis_d2ehpa_3stage"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_sx_solve_json_conserves_every_component(name):
    proc = run_cli("sx", "solve", example_path(name), "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    doc = json.loads(proc.stdout)
    assert doc["converged"] is True
    fractions = [v for k, v in doc.items() if k.startswith("fraction_to_")]
    assert {"fraction_to_extract", "fraction_to_raffinate"} <= {
        k for k in doc if k.startswith("fraction_to_")
    }
    for comp in doc["components"]:
        assert abs(sum(f[comp] for f in fractions) - 1.0) <= 1e-10, comp
    for outlet, purity in doc["purity"].items():
        assert abs(sum(purity.values()) - 1.0) <= 1e-12, outlet


@pytest.mark.parametrize("name", EXAMPLES)
def test_sx_solve_inprocess_matches_subprocess(capsys, name):
    status, out, err = run_inprocess(capsys, "sx", "solve", example_path(name), "--json")
    assert (status, err) == (0, "")
    proc = run_cli("sx", "solve", example_path(name), "--json")
    inproc, sub = json.loads(out), json.loads(proc.stdout)
    assert inproc["purity"] == sub["purity"]
    assert inproc["fraction_to_extract"] == sub["fraction_to_extract"]


# sx-public-cases.md §2: constant_beta, binary, saturated organic (1e-7 absolute).
PUBLISHED = {
    "pr_nd_split": {"extract": ("Nd", 0.99516281), "raffinate": ("Pr", 0.99549406)},
    "dy_tb_split": {"extract": ("Dy", 0.99505191), "raffinate": ("Tb", 0.99530009)},
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_constant_beta_purities(capsys, name):
    status, out, err = run_inprocess(capsys, "sx", "solve", example_path(name), "--json")
    assert status == 0, err
    doc = json.loads(out)
    for outlet, (comp, expected) in PUBLISHED[name].items():
        assert doc["purity"][outlet][comp] == pytest.approx(expected, abs=1e-7)


def test_ndpr_dy_split_matches_closed_form_and_targets(capsys):
    """Constant D: theta = Phi_E / (Phi_E + Phi_S) to the loaded organic, then a
    Kremser strip leaves (s - 1) / (s^(k+1) - 1) in the organic, s = 1 / e_T."""
    cfg = tomllib.loads((EXAMPLES_DIR / "ndpr_dy_split.toml").read_text())
    flow = {k: parse_quantity(v, "volumetric_flow", field=k) for k, v in cfg["flows"].items()}
    n = cfg["cascade"]["extraction_stages"]
    m = cfg["cascade"]["scrub_stages"]
    k = cfg["cascade"]["strip_stages"]
    path = example_path("ndpr_dy_split")
    status, out, err = run_inprocess(capsys, "sx", "solve", path, "--json")
    assert status == 0, err
    doc = json.loads(out)
    for comp, D in cfg["model"]["D"].items():
        e = D * flow["organic"] / (flow["feed"] + flow["scrub"])
        e_scrub = D * flow["organic"] / flow["scrub"]
        phi_e = sum(e**j for j in range(1, n + 1))
        phi_s = sum(e_scrub ** (-j) for j in range(0, m + 1))
        theta = phi_e / (phi_e + phi_s)
        s = flow["strip"] / (cfg["model"]["D_strip"][comp] * flow["organic"])
        left = (s - 1.0) / (s ** (k + 1) - 1.0)
        assert doc["fraction_to_raffinate"][comp] == pytest.approx(1.0 - theta, rel=1e-10)
        assert doc["fraction_to_extract"][comp] == pytest.approx(theta * (1 - left), rel=1e-10)
        assert doc["fraction_to_stripped_organic"][comp] == pytest.approx(theta * left, rel=1e-9)
    feed = cfg["feed"]
    ndpr_purity = doc["purity"]["raffinate"]["Nd"] + doc["purity"]["raffinate"]["Pr"]
    dytb_recovery = sum(doc["outlets"]["extract"]["mol_per_h"][c] for c in ("Dy", "Tb")) / (
        flow["feed"] * (feed["Dy"] + feed["Tb"])
    )
    assert ndpr_purity >= 0.995
    assert dytb_recovery >= 0.99


def test_sx_solve_human_table(capsys):
    status, out, err = run_inprocess(capsys, "sx", "solve", example_path("pr_nd_split"))
    assert (status, err) == (0, "")
    assert "model: constant_beta" in out
    assert re.search(r"iterations: \d+", out)
    assert "closure:" in out
    rows = {ln.split()[0]: ln.split()[1:] for ln in out.splitlines() if ln[:3] in ("Nd ", "Pr ")}
    # columns: to raffinate, to extract, purity in raffinate, purity in extract
    assert float(rows["Nd"][3]) == pytest.approx(0.99516281, abs=1e-7)
    assert float(rows["Pr"][2]) == pytest.approx(0.99549406, abs=1e-7)
    for comp in ("Nd", "Pr"):
        assert float(rows[comp][0]) + float(rows[comp][1]) == pytest.approx(1.0, abs=1e-7)


# ----------------------------------------------------------------------- run
def test_run_lists_all_examples_with_products():
    proc = run_cli("sx", "examples")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    for name in EXAMPLES:
        assert sum(line.startswith(name + " ") for line in lines) == 2, name
    rows = {tuple(ln.split()[:2]): ln.split() for ln in lines if ln and ln.split()[0] in EXAMPLES}
    assert rows[("pr_nd_split", "extract")][2:4] == ["Nd", "99.5163"]
    assert rows[("pr_nd_split", "raffinate")][2:4] == ["Pr", "99.5494"]
    assert rows[("dy_tb_split", "extract")][2:4] == ["Dy", "99.5052"]
    assert rows[("ndpr_dy_split", "raffinate")][2] == "Nd+Pr"
    assert float(rows[("ndpr_dy_split", "raffinate")][3]) >= 99.5
    assert rows[("ndpr_dy_split", "extract")][2] == "Dy+Tb"
    assert float(rows[("ndpr_dy_split", "extract")][4]) >= 99.0


def test_run_json_is_keyed_by_example(capsys):
    status, out, err = run_inprocess(capsys, "sx", "examples", "--json")
    assert (status, err) == (0, "")
    docs = json.loads(out)
    assert sorted(docs) == EXAMPLES
    nd = docs["pr_nd_split"]["purity"]["extract"]["Nd"]
    assert nd == pytest.approx(0.99516281, abs=1e-7)


# ------------------------------------------------------------ failures, exit 1
@pytest.mark.parametrize("exc", [
    ConvergenceError("constant_beta cascade did not converge", 1e-3, 200),
    MassBalanceError("cascade lost mass: Nd closes to 1e-6 relative", 1e-6),
])
@pytest.mark.parametrize("args, fail_at", [
    (("sx", "solve", "EX", "--json"), 1),
    (("sx", "solve", "EX"), 1),
    (("sx", "examples", "--json"), 3),  # run solves each example twice: the 2nd example fails
    (("sx", "examples"), 3),
])
def test_solver_failure_is_one_line_exit_1(capsys, monkeypatch, exc, args, fail_at):
    import magcycle.sx

    real = magcycle.sx.solve
    calls = []

    def failing(spec, **kw):
        calls.append(spec)
        if len(calls) >= fail_at:
            raise exc
        return real(spec, **kw)

    monkeypatch.setattr(magcycle.sx, "solve", failing)
    args = [example_path("pr_nd_split") if a == "EX" else a for a in args]
    status, out, err = run_inprocess(capsys, *args)
    assert len(calls) == fail_at
    assert status == 1
    assert out == ""  # nothing half-written
    assert len(err.splitlines()) == 1 and err.endswith("\n")
    assert err.startswith("magcycle: solve failed: ")
    assert str(exc) in err
    assert "Traceback" not in err


# ----------------------------------------------------------- bad input, exit 2
BETA = """
[cascade]
model = "constant_beta"
extraction_stages = 4
scrub_stages = 4
[flows]
feed = 1.0
organic = {organic}
scrub = 1.0
[feed]
Nd = 0.75
Pr = 0.25
[model]
beta = {{ Nd = 1.5, Pr = {beta_pr} }}
organic_loading = 1.0
scrub_acid = 3.0
"""

CONST_D = """
[cascade]
model = "{model}"
extraction_stages = {n}
scrub_stages = 2
strip_stages = {k}
[flows]
feed = {feed}
organic = {organic}
scrub = 1.0
[feed]
{element} = 0.5
[model]
D = {{ {element} = 1.5 }}
D_strip = {{ {element} = 0.1 }}
"""


def const_d(**kw):
    values = dict(model="constant_d", n=3, k=0, feed="1.0", organic="1.0", element="Nd")
    values.update(kw)
    return CONST_D.format(**values)


MASS_ACTION = """
[cascade]
model = "mass_action"
extraction_stages = 3
[flows]
feed = 1.0
organic = 1.0
[feed]
Nd = 0.1
[model]
log10_K = { Nd = -1.0 }
extractant = 1.5
saponification = 1.2
"""

BAD = {
    # name: (file name, text or None for "do not create", fields accepted)
    "file missing": ("absent.toml", None, {"file"}),
    "not TOML or JSON": ("garbage.toml", "[cascade\nmodel = = 'x'\n", {"file"}),
    "not JSON": ("garbage.json", "{'model': constant_d,}", {"file"}),
    "unknown element": ("el.toml", const_d(element="Xx"), {"feed.Xx"}),
    "zero extraction stages": ("n0.toml", const_d(n=0), {"cascade.extraction_stages"}),
    "strip stages without strip flow": ("k.toml", const_d(k=2), {"flows.strip"}),
    "beta <= 0": ("beta.toml", BETA.format(organic=2.5, beta_pr=0.0), {"model.beta.Pr"}),
    "negative beta": ("beta2.toml", BETA.format(organic=2.5, beta_pr=-1.0), {"model.beta.Pr"}),
    "S <= W": ("sw.toml", BETA.format(organic=1.0, beta_pr=1.0), {"flows.organic", "flows.scrub"}),
    "saponification 1.2": ("sap.toml", MASS_ACTION, {"model.saponification"}),
    "malformed number": ("num.toml", const_d(organic='"1.x"'), {"flows.organic"}),
    "bad unit": ("unit.toml", const_d(feed='"3 furlongs"'), {"flows.feed"}),
    "unknown model": ("model.toml", const_d(model="langmuir"), {"cascade.model"}),
}

ERROR_LINE = re.compile(r"^magcycle: error: (?P<field>[^:\s]+): \S.*\n$")


def _bad_file(tmp_path, case):
    name, text, fields = BAD[case]
    path = tmp_path / name
    if text is not None:
        path.write_text(text, encoding="utf-8")
    return str(path), fields


def _check_bad(status, out, err, fields):
    assert status == 2
    assert out == ""
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    match = ERROR_LINE.match(err)
    assert match, err
    assert match["field"] in fields, err


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_bad_input_subprocess(tmp_path, case, json_flag):
    path, fields = _bad_file(tmp_path, case)
    proc = run_cli("sx", "solve", path, *json_flag)
    _check_bad(proc.returncode, proc.stdout, proc.stderr, fields)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_inprocess(tmp_path, capsys, case):
    path, fields = _bad_file(tmp_path, case)
    _check_bad(*run_inprocess(capsys, "sx", "solve", path, "--json"), fields)


@pytest.mark.parametrize("args, field", [
    ((), "COMMAND"), (("sx",), "ACTION"), (("sx", "solve"), "FILE"), (("frobnicate",), "COMMAND"),
    (("run", "--nope"), "--nope"), (("uq", "--samples", "x"), "--samples"), (("run", "--feed"), "--feed"),
    (("run", "--feed", "ev", "--feed", "hdd"), "--feed"), (("tea", "--scenario", "mid"), "--scenario"),
])
def test_usage_errors_are_one_line_naming_the_argument(capsys, args, field):
    status, out, err = run_inprocess(capsys, *args)
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"magcycle: error: {field}: "), err
    assert "Traceback" not in err


# ------------------------------------------------------------------- startup
def test_help_does_not_import_numpy():
    code = (
        "import sys; from magcycle.cli import main; "
        "assert main(['--help']) == 0; "
        "assert main(['sx', 'solve', '--help']) == 0; "
        "heavy = sorted(m for m in ('numpy', 'scipy', 'magcycle.sx') if m in sys.modules); "
        "print('HEAVY', heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout
    assert "sx" in proc.stdout and "run" in proc.stdout


def test_console_script_help_and_version():
    proc = run_cli("--help")
    assert proc.returncode == 0 and proc.stderr == ""
    assert "usage: magcycle" in proc.stdout
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert re.fullmatch(r"magcycle \d+\.\d+\.\d+\n", proc.stdout)
