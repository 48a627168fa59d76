"""Parameters, samplers and estimators of magcycle.analysis against independent oracles:
scipy.stats distributions, binomial tail sums, and the Ishigami function's analytic indices."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from magcycle.analysis import Model
from magcycle.analysis.functions import FunctionProblem, ishigami_indices
from magcycle.analysis.parameters import Distribution
from magcycle.analysis.schema import parse_parameter
from magcycle.analysis.sampling import unit_samples
from magcycle.analysis.stats import clopper_pearson, probability
from magcycle.errors import InputError

U = np.array([1e-6, 0.01, 0.2, 0.5, 0.77, 0.99, 1 - 1e-6])


@pytest.mark.parametrize("kind,args,frozen", [
    ("uniform", (2.0, 5.0), stats.uniform(2.0, 3.0)),
    ("loguniform", (0.1, 10.0), stats.loguniform(0.1, 10.0)),
    ("triangular", (1.0, 1.5, 4.0), stats.triang((1.5 - 1.0) / 3.0, loc=1.0, scale=3.0)),
    ("triangular", (1.0, 1.0, 4.0), stats.triang(0.0, loc=1.0, scale=3.0)),
    ("normal", (1.5, 0.02), stats.norm(1.5, 0.02)),
    ("lognormal", (2.0, 1.3), stats.lognorm(math.log(1.3), scale=2.0)),
])
def test_ppf_matches_scipy(kind, args, frozen):
    got = Distribution(kind, args).ppf(U)
    np.testing.assert_allclose(got, frozen.ppf(U), rtol=1e-10, atol=1e-12)


def test_parameter_file_entries_and_their_errors():
    p = parse_parameter("model.beta.Nd", {"normal": [1.5, 0.02], "nominal": 1.5, "units": "-"}, "parameters")
    assert (p.distribution.kind, p.distribution.args, p.nominal) == ("normal", (1.5, 0.02), 1.5)
    bad = [({"uniform": [2, 1]}, "low < high"), ({"normal": [1, -1]}, "sd > 0"), ({"gamma": [1, 2]}, "unknown key"),
           ({"uniform": [1, 2], "normal": [1, 1]}, "exactly one"), ({"uniform": "1, 2"}, "list of numbers"),
           ({"lognormal": [1, 0.5]}, "geometric sd"), (3.0, "expected a table"), ({"triangular": [1, 5, 4]}, "mode")]
    for value, words in bad:
        with pytest.raises(InputError) as e:
            parse_parameter("x", value, "parameters")
        assert e.value.field.startswith("parameters.x") and words in e.value.reason


@pytest.mark.parametrize("method", ["random", "lhs", "sobol"])
def test_samples_are_seeded_and_in_the_open_cube(method):
    a = unit_samples(256, 5, method, seed=7)
    assert np.array_equal(a, unit_samples(256, 5, method, seed=7))
    assert not np.array_equal(a, unit_samples(256, 5, method, seed=8))
    assert a.shape == (256, 5) and (a > 0).all() and (a < 1).all()


@given(n=st.integers(1, 200), d=st.integers(1, 6), seed=st.integers(0, 2**31))
@settings(max_examples=40, deadline=None)
def test_latin_hypercube_has_one_point_per_stratum(n, d, seed):
    u = unit_samples(n, d, "lhs", seed)
    for j in range(d):
        assert sorted(np.floor(u[:, j] * n).astype(int)) == list(range(n))


def test_bad_sampling_requests():
    with pytest.raises(InputError, match="method"):
        unit_samples(10, 2, "halton")
    with pytest.raises(InputError, match="samples"):
        unit_samples(0, 2)


@given(n=st.integers(1, 400), data=st.data(), conf=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
@settings(max_examples=60, deadline=None)
def test_clopper_pearson_inverts_the_binomial_tails(n, data, conf):
    """lower: P(X >= k | p_lo) = alpha/2; upper: P(X <= k | p_hi) = alpha/2 (the definition)."""
    k = data.draw(st.integers(0, n))
    lo, hi = clopper_pearson(k, n, conf)
    a = (1 - conf) / 2
    assert 0 <= lo <= k / n <= hi <= 1
    if k > 0:
        assert stats.binom.sf(k - 1, n, lo) == pytest.approx(a, rel=1e-6)
    else:
        assert lo == 0
    if k < n:
        assert stats.binom.cdf(k, n, hi) == pytest.approx(a, rel=1e-6)
    else:
        assert hi == 1


def test_clopper_pearson_covers_at_least_its_level():
    """2000 binomial experiments with p = 0.97, n = 150: the 95 % interval covers p in >= 95 % of them
    (exact coverage for these n, p is about 0.96; the bound allows 3 binomial sd of simulation noise)."""
    rng = np.random.default_rng(11)
    p, n, reps = 0.97, 150, 2000
    ks = rng.binomial(n, p, size=reps)
    covered = sum(lo <= p <= hi for lo, hi in (clopper_pearson(int(k), n, 0.95) for k in ks))
    assert covered / reps >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / reps)
    assert probability(np.array([True, False, True, True]))["p"] == 0.75


def test_sobol_indices_of_the_ishigami_function():
    model = Model(FunctionProblem.ishigami())
    res = model.sobol(4096, seed=3, executor="serial")
    exact = ishigami_indices()
    assert res.evaluations == 4096 * 5
    for name, (s1, st_) in exact.items():
        got = res.indices["ishigami"][name]
        assert got["S1"] == pytest.approx(s1, abs=0.03), name
        assert got["ST"] == pytest.approx(st_, abs=0.03), name


def test_ishigami_indices_are_those_published():
    """Published for a = 7, b = 0.1 (Saltelli et al., Global Sensitivity Analysis: The Primer, 2008,
    sec. 4.9; also SALib's Ishigami example): S1 = 0.3139, S2 = 0.4424, ST1 = 0.5576, ST3 = 0.2437."""
    ex = ishigami_indices()
    assert [round(ex["x1"][0], 4), round(ex["x2"][0], 4), round(ex["x1"][1], 4), round(ex["x3"][1], 4)] == \
        [0.3139, 0.4424, 0.5576, 0.2437]


def test_monte_carlo_mean_and_variance_of_the_ishigami_function():
    """E[Y] = a/2 = 3.5 and V[Y] = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2 = 13.845 (closed form)."""
    r = Model(FunctionProblem.ishigami()).monte_carlo(20000, method="random", seed=5, executor="serial")
    y = r.column("ishigami")
    V = 49 / 8 + 0.1 * math.pi ** 4 / 5 + 0.01 * math.pi ** 8 / 18 + 0.5
    assert abs(y.mean() - 3.5) < 4 * math.sqrt(V / y.size)
    assert y.var(ddof=1) == pytest.approx(V, rel=0.05)


def test_sample_counts_for_a_probability_claim():
    """n samples with k failures show P >= p when the Clopper-Pearson lower bound does; with no
    failure that is (alpha/2)^(1/n) >= p (the closed form of the bound at k = n)."""
    from magcycle.analysis.robust import default_samples, minimum_samples

    n = minimum_samples(0.99, 0.95)
    assert n == math.ceil(math.log(0.025) / math.log(0.99))
    n1 = default_samples(0.99, 0.95)
    assert clopper_pearson(n1 - 1, n1, 0.95)[0] >= 0.99 > clopper_pearson(n1 - 2, n1 - 1, 0.95)[0]


def _linear_and_constant(X):
    """Y = (x1, 2): the first metric varies with x1 alone, the second not at all."""
    return np.column_stack([X[:, 0], np.full(len(X), 2.0)])


def test_sobol_of_a_constant_metric_is_not_defined_and_says_so():
    from magcycle.analysis.model import Metric
    from magcycle.analysis.parameters import Parameter

    params = [Parameter(f"x{i}", Distribution("uniform", (0.0, 1.0))) for i in (1, 2)]
    problem = FunctionProblem(_linear_and_constant, params, [Metric("y", "y"), Metric("c", "c")])
    doc = Model(problem).sobol(512, seed=1, executor="serial").to_dict()
    # y = x1: all its variance is x1's (S1 = ST = 1 for x1, 0 for x2); c has no variance: 0/0
    assert set(doc["indices"]) == {"y"} and set(doc["not_defined"]) == {"c"}
    assert doc["indices"]["y"]["x1"]["S1"] == pytest.approx(1.0, abs=0.05)
    assert doc["indices"]["y"]["x2"]["ST"] == pytest.approx(0.0, abs=0.05)
    import json

    json.dumps(doc, allow_nan=False)  # nothing NaN is left to write


@pytest.mark.parametrize("values", [[150.0, 150.0], [150.0, 150.00000000000003], [0.0, 0.0, 1e-300]])
def test_histograms_of_a_nearly_constant_metric(values):
    """Values a few ulps apart (a metric that a parameter barely moves) still bin: all of them in
    one histogram whose edges are finite and increasing."""
    from types import SimpleNamespace

    from magcycle.analysis.study import histograms

    mc = SimpleNamespace(metrics=[SimpleNamespace(name="m")], Y=np.array(values)[:, None])
    h = histograms(mc)["m"]
    assert sum(h["counts"]) == len(values)
    assert np.all(np.diff(h["edges"]) > 0) and np.all(np.isfinite(h["edges"]))
    assert h["edges"][0] <= min(values) and h["edges"][-1] >= max(values)
