"""``magcycle sx fit``: calibration of SX models on shake-out data (issue 19, item 3).

Oracles: synthetic data generated here from known parameters (noise-free: recovered to round-off;
noisy: the 95 % intervals cover the truth at the binomial rate over 200 seeded replicates);
hand-computed least squares for a two-point line.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from magcycle.errors import ConvergenceError
from magcycle.sx.fit import ShakeOut, fit_shakeouts, read_shakeouts

TRUE = {"Nd": (0.31183, 0.03763, -1.62372, -0.38096), "Dy": (1.70783, 0.06443, -2.42226, -0.02538)}
GRID = [(d, pH) for d in (2.0, 5.0, 10.0, 20.0) for pH in (0.5, 1.0, 1.5, 2.0, 2.5)]


def _log10_D(el, d, pH):
    m0, m1, B0, B1 = TRUE[el]
    return (m0 + m1 * d) * pH + B0 + B1 * math.log10(d)


def _csv(noise=0.0, seed=0, model="empirical_ph") -> str:
    rng = np.random.default_rng(seed)
    rows = ["element,pH,extractant,D,test"]
    for t, (d, pH) in enumerate(GRID):
        for el in TRUE:
            lD = _log10_D(el, d, pH) + (rng.normal(0, noise) if noise else 0.0)
            rows.append(f"{el},{pH!r},{d!r},{10 ** lD!r},T{t}")
    return "\n".join(rows) + "\n"


def test_noise_free_data_give_back_the_parameters():
    fit = fit_shakeouts(read_shakeouts(_csv(), "empirical_ph"), "empirical_ph")
    for f in fit.fits:
        np.testing.assert_allclose(f.value, TRUE[f.element], rtol=0, atol=1e-10)
        assert f.residual_rms < 1e-12


def test_mass_action_and_beta_recover_their_parameters():
    # D = K (C/2)^3 h^-3 by hand for two elements at three acids and two extractants
    rows = ["element,acid,extractant,D,test"]
    K = {"Pr": 10 ** -1.2, "Nd": 10 ** -0.9}
    for t, (acid, C) in enumerate([(0.1, 1.0), (0.3, 1.0), (1.0, 1.5), (0.5, 0.8)]):
        for el, k in K.items():
            rows.append(f"{el},{acid},{C},{k * (C / 2) ** 3 / acid ** 3!r},T{t}")
    text = "\n".join(rows)
    ma = fit_shakeouts(read_shakeouts(text, "mass_action"), "mass_action")
    for f in ma.fits:
        assert f.value[0] == pytest.approx(math.log10(K[f.element]), abs=1e-12)
    beta = fit_shakeouts(read_shakeouts(text, "constant_beta"), "constant_beta", reference="Pr")
    assert beta.fits[0].value[0] == pytest.approx(0.3, abs=1e-12)  # log10(K_Nd / K_Pr)


def test_mass_action_takes_the_loaded_metal_off_the_extractant():
    """Two tests with Nd loaded at y = 0.05 mol/L from C_HA = 1.0: the free dimer is (1.0 - 6 * 0.05)/2 =
    0.35 mol/L (not 0.5), so D = K 0.35^3 / h^3; the data give aqueous and organic concentrations."""
    K = 10 ** -0.5
    rows = ["element,pH,extractant,aqueous,organic,test"]
    for t, pH in enumerate((1.0, 1.4)):
        D = K * 0.35 ** 3 * 10 ** (3 * pH)
        rows.append(f"Nd,{pH},1.0,{0.05 / D!r},0.05,T{t}")
    fit = fit_shakeouts(read_shakeouts("\n".join(rows), "mass_action"), "mass_action").fits[0]
    assert fit.value[0] == pytest.approx(-0.5, abs=1e-12)


def test_beta_weights_both_rows_of_a_pair():
    """Two tests: log10(D_Nd/D_Pr) = 0.2 (weights 1 and 1: pair weight 1/2) and 0.5 (weights 3 and 3:
    pair weight 3/2); the weighted mean by hand is (0.5 * 0.2 + 1.5 * 0.5) / 2 = 0.425."""
    text = "element,pH,D,test,weight\nPr,1,1.0,a,1\nNd,1,1.5848931924611136,a,1\nPr,1,1.0,b,3\nNd,1,3.1622776601683795,b,3\n"
    fit = fit_shakeouts(read_shakeouts(text, "constant_beta"), "constant_beta", reference="Pr").fits[0]
    assert fit.value[0] == pytest.approx(0.425, abs=1e-12)


def test_two_points_and_a_line_by_hand():
    """One extractant level: log10 D = m0 pH + B0 through (1, -1) and (2, 0.5): m0 = 1.5, B0 = -2.5,
    exactly determined (no interval), m1 = B1 = 0 fixed."""
    data = ShakeOut(("Nd", "Nd"), np.array([1.0, 2.0]), np.array([5.0, 5.0]), np.array([-1.0, 0.5]),
                    np.ones(2), ("a", "b"))
    f = fit_shakeouts(data, "empirical_ph").fits[0]
    assert f.names == ("m0", "B0") and f.fixed == {"m1": 0.0, "B1": 0.0}
    np.testing.assert_allclose(f.value, [1.5, -2.5], atol=1e-13)
    assert f.low is None  # no degree of freedom left


def test_95_percent_intervals_cover_the_truth_over_200_replicates():
    """Each replicate draws N(0, 0.05) noise in log10 D; a 95 % interval holds the true value with
    probability 0.95, so over 200 replicates the count is Binomial(200, 0.95): mean 190, sd 3.08.
    Every parameter's coverage stays within 3 sd (about 0.904 to 0.996)."""
    hits = np.zeros((2, 4))
    n = 200
    for seed in range(n):
        fit = fit_shakeouts(read_shakeouts(_csv(0.05, seed), "empirical_ph"), "empirical_ph")
        for i, f in enumerate(fit.fits):
            hits[i] += (f.low <= np.array(TRUE[f.element])) & (np.array(TRUE[f.element]) <= f.high)
    cover = hits / n
    sd = math.sqrt(0.95 * 0.05 / n)
    assert np.all(np.abs(cover - 0.95) <= 3 * sd), cover
    assert abs(cover.mean() - 0.95) <= 3 * sd


def test_weights_scale_a_row_as_repeating_it():
    base = _csv(0.05, 3)
    lines = base.strip().splitlines()
    doubled = "\n".join([lines[0]] + lines[1:] + lines[1:3])
    weighted = "\n".join([lines[0] + ",weight"] + [ln + (",2" if i < 2 else ",1") for i, ln in enumerate(lines[1:])])
    a = fit_shakeouts(read_shakeouts(doubled, "empirical_ph"), "empirical_ph", elements=["Nd"]).fits[0]
    b = fit_shakeouts(read_shakeouts(weighted, "empirical_ph"), "empirical_ph", elements=["Nd"]).fits[0]
    np.testing.assert_allclose(a.value, b.value, rtol=1e-10)


def test_concentrations_instead_of_D():
    rows = ["element,pH,extractant,OA,aqueous_initial,aqueous"]
    for d, pH in GRID[:8]:
        D = 10 ** _log10_D("Nd", d, pH)
        oa, c0 = 2.0, 0.01
        aq = c0 / (1 + oa * D)  # mass balance of one contact: c0 = aq + OA * D * aq
        rows.append(f"Nd,{pH},{d},{oa},{c0},{aq!r}")
    f = fit_shakeouts(read_shakeouts("\n".join(rows), "empirical_ph"), "empirical_ph").fits[0]
    np.testing.assert_allclose(f.value, TRUE["Nd"], atol=1e-8)


def test_rank_deficient_data_do_not_converge():
    data = ShakeOut(("Nd",) * 3, np.full(3, 1.5), np.full(3, 5.0), np.array([0.1, 0.2, 0.15]), np.ones(3), tuple("abc"))
    with pytest.raises(ConvergenceError) as err:
        fit_shakeouts(data, "empirical_ph")
    assert "not identifiable" in str(err.value) and err.value.residual > 0


# ---------------------------------------------------------------- command line
def _run(tmp_path, text, *args):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return subprocess.run([sys.executable, "-m", "magcycle", "sx", "fit", str(path), *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_reads_a_csv_with_a_byte_order_mark(tmp_path):
    proc = _run(tmp_path, "\ufeff" + _csv(), "--model", "empirical_ph", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["elements"]["Nd"]["parameters"]["m0"] == pytest.approx(TRUE["Nd"][0], abs=1e-9)


def test_cli_writes_the_fit_its_page_and_the_block(tmp_path):
    out = tmp_path / "out"
    proc = _run(tmp_path, _csv(0.02, 1), "--model", "empirical_ph", "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc["elements"]) == {"Nd", "Dy"}
    assert sorted(p.name for p in out.iterdir()) == ["fit.html", "fit.json", "parameters.toml"]
    page = (out / "fit.html").read_text()
    assert 'data-plot="parity"' in page and 'data-plot="residuals"' in page
    import tomllib

    block = tomllib.loads((out / "parameters.toml").read_text())
    assert block["model"]["log10_D"]["Nd"]["m0"] == pytest.approx(doc["elements"]["Nd"]["parameters"]["m0"], rel=1e-5)


@pytest.mark.parametrize("text,args,status,field", [
    ("element,extractant,D\nNd,5,0.1\n", ("--model", "empirical_ph"), 2, "pH"),
    ("element,pH,D\nNd,1,0.1\n", ("--model", "empirical_ph"), 2, "extractant"),
    ("element,pH,extractant\nNd,1,5\n", ("--model", "empirical_ph"), 2, "D"),
    ("element,pH,extractant,D\nNd,abc,5,0.1\n", ("--model", "empirical_ph"), 2, "row 2.pH"),
    ("element,pH,extractant,D\nNd,1,5,nan\n", ("--model", "empirical_ph"), 2, "row 2.D"),
    ("element,pH,extractant,D\nNd,1,5,0.1\nNd,2,5,1.0\nNd,1.5,10,0.3\n", ("--model", "empirical_ph"), 2,
     "element Nd"),  # 3 points for 4 parameters
    ("element,pH,extractant,D\nNd,1,5,0.1\nNd,2,5,1.0\nNd,3,5,9\n", ("--model", "empirical_ph", "--element", "Dy"),
     2, "element Dy"),
    ("element,pH,extractant,D\nNd,1,5,0.1\nNd,1,5,0.2\nNd,1,5,0.3\n", ("--model", "empirical_ph"), 1, "identifiable"),
    ("element,pH,extractant,D\nXx,1,5,0.1\n", ("--model", "empirical_ph"), 2, "row 2.element"),
    ("element,pH,extractant,D\nNd,1,5,\nNd,2,5,10\n", ("--model", "empirical_ph"), 2, "row 2.D"),
    ("element,pH,D,pH\nNd,1,5,1\n", ("--model", "empirical_ph"), 2, "pH"),
    ("element,pH,D\nNd,1,5\nPr,1,2\n", ("--model", "constant_beta"), 2, "test"),
    ("element,pH,D,test\nNd,1,5,a\nPr,1,2,a\nPr,1,3,a\n", ("--model", "constant_beta"), 2, "test a"),
    ("element,pH,D,test\nNd,1,5,a\n", ("--model", "constant_beta"), 2, "reference"),
])
def test_cli_bad_data_is_one_line(tmp_path, text, args, status, field):
    proc = _run(tmp_path, text, *args)
    assert proc.returncode == status, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


_JUNK = ["", "abc", "nan", "inf", "-inf", "-1", "0", "1e309", "Xx", "Fe", "\u221e", "1,5", " ", "1e-320"]


@st.composite
def _malformed_csv(draw):
    """A valid shake-out table with one random defect: a cell replaced, a column dropped, a header
    doubled, a row cut short, a junk row, or the separator changed."""
    rows = [r.split(",") for r in _csv(0.02, 5).strip().splitlines()[:9]]
    how = draw(st.sampled_from(["cell", "drop", "double", "short", "junk", "separator"]))
    if how == "cell":
        i, j = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(rows[0]) - 1))
        rows[i][j] = draw(st.sampled_from(_JUNK) | st.text(max_size=6))
    elif how == "drop":
        j = draw(st.integers(0, len(rows[0]) - 1))
        rows = [r[:j] + r[j + 1:] for r in rows]
    elif how == "double":
        rows[0][draw(st.integers(1, len(rows[0]) - 1))] = rows[0][0]
    elif how == "short":
        i = draw(st.integers(1, len(rows) - 1))
        rows[i] = rows[i][:draw(st.integers(0, len(rows[i]) - 1))]
    elif how == "junk":
        rows.insert(draw(st.integers(1, len(rows))), [draw(st.text(max_size=12))])
    text = "\n".join((";" if how == "separator" else ",").join(r) for r in rows) + "\n"
    return how, text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_malformed_csv(), model=st.sampled_from(["empirical_ph", "mass_action", "constant_beta"]))
def test_random_malformed_data_is_one_line_and_writes_nothing(tmp_path_factory, capsys, case, model):
    """Any defect ends with exit 0 (the data still hold a fit), 1 (not identifiable) or 2 (bad data),
    never a traceback; a refusal is one line and leaves no --out folder behind."""
    from magcycle import cli

    how, text = case
    folder = tmp_path_factory.mktemp("fit")
    data, out = folder / "data.csv", folder / "out"
    data.write_text(text, encoding="utf-8")
    status = cli.main(["sx", "fit", str(data), "--model", model, "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert status in (0, 1, 2), (how, text, err)
    assert "Traceback" not in err
    if status:
        assert len(err.strip().splitlines()) == 1 and stdout == "", (how, text, err)
        assert not out.exists()
    else:
        assert sorted(p.name for p in out.iterdir()) == ["fit.html", "fit.json", "parameters.toml"]


# ------------------------------------------------------------------ a published data set

_LEE = __import__("pathlib").Path(__file__).parent / "data" / "llepe_pc88a_hcl_nd_lee2005.csv"
#: PC88A, C16H35O3P: 16 x 12.011 + 35 x 1.008 + 3 x 15.999 + 30.974 = 306.427 g/mol (CIAAW
#: conventional masses); 960 g/L, the extractant density LLEPE's fitting set-up uses
PC88A_G_PER_MOL, PC88A_G_PER_L = 306.427, 960.0


def _lee_rows():
    import csv

    with open(_LEE, newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    return [(float(r[2]), float(r[3]), float(r[5]), float(r[6]), float(r[7])) for r in rows]  # h, C, feed, x, D


def test_a_published_isotherm_fits_mass_action_as_the_mean_by_hand(tmp_path):
    """The 18 Nd/PC88A shake-outs of LLEPE's "Lee (2005)" set (tests/sx/data/README.md), given as
    aqueous before and after: log10 K = log10 D - 3 log10 z - 3 pH per shake-out, with
    D = (feed - x) / x and z = (C - 6 (feed - x)) / 2 the free dimer; one parameter with unit weights
    is their mean, its 95 % interval the mean +- t(0.975, 17) s / sqrt(18)."""
    from scipy.stats import t as student

    rows = _lee_rows()
    text = "element,acid,extractant,aqueous_initial,aqueous,test\n" + "".join(
        f"Nd,{h!r},{C!r},{feed!r},{x!r},T{i}\n" for i, (h, C, feed, x, _) in enumerate(rows))
    proc = _run(tmp_path, text, "--model", "mass_action", "--json")
    assert proc.returncode == 0, proc.stderr
    fit = json.loads(proc.stdout)["elements"]["Nd"]
    per = [math.log10((feed - x) / x) - 3 * math.log10((C - 6 * (feed - x)) / 2) + 3 * math.log10(h)
           for h, C, feed, x, _ in rows]
    mean, sd = float(np.mean(per)), float(np.std(per, ddof=1))
    half = student.ppf(0.975, len(per) - 1) * sd / math.sqrt(len(per))
    assert fit["parameters"]["log10_K"] == pytest.approx(mean, abs=1e-10)
    lo, hi = fit["interval_95"]["log10_K"]
    assert (lo, hi) == (pytest.approx(mean - half, abs=1e-9), pytest.approx(mean + half, abs=1e-9))


def test_a_published_isotherm_fits_the_empirical_correlation_as_numpy_lstsq(tmp_path):
    """The same shake-outs, with D as published and the extractant in vol %: the four coefficients
    of log10 D = (m0 + m1 d) pH + B0 + B1 log10 d equal numpy's least squares on the design matrix
    [pH, d pH, 1, log10 d] written here."""
    rows = _lee_rows()
    d = [C * PC88A_G_PER_MOL / PC88A_G_PER_L * 100.0 for _, C, _, _, _ in rows]
    text = "element,acid,extractant,D\n" + "".join(
        f"Nd,{h!r},{dd!r},{D!r}\n" for (h, _, _, _, D), dd in zip(rows, d))
    proc = _run(tmp_path, text, "--model", "empirical_ph", "--json")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)["elements"]["Nd"]["parameters"]
    pH = np.array([-math.log10(h) for h, *_ in rows])
    dd = np.array(d)
    X = np.column_stack((pH, dd * pH, np.ones_like(pH), np.log10(dd)))
    y = np.log10([D for *_, D in rows])
    want, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose([got[k] for k in ("m0", "m1", "B0", "B1")], want, rtol=0, atol=1e-9)


def test_mass_action_fits_a_divalent_metal_with_its_own_power():
    """Ca2+ + 2 (HA)2 = Ca(HA2)2 + 2 H+: D = K (C/2)^2 / h^2 by hand at four acids and extractants."""
    K = 10 ** -3.2
    rows = ["element,acid,extractant,D"] + [f"Ca,{h},{C},{K * (C / 2) ** 2 / h ** 2!r}"
                                            for h, C in ((0.01, 1.0), (0.03, 1.0), (0.1, 1.5), (0.05, 0.8))]
    fit = fit_shakeouts(read_shakeouts("\n".join(rows), "mass_action"), "mass_action")
    assert fit.fits[0].value[0] == pytest.approx(-3.2, abs=1e-12)
