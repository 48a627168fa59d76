"""constant_beta against published cases, an independent dense solve and laws."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import fsolve

from magcycle.sx import CascadeSpec, solve
from magcycle.sx.sampling import random_cascade


def beta_spec(beta, feed, S, W, n, m):
    # feed 1 L/h, organic_loading 1 mol/L and scrub_acid 3 mol/L: organic L/h = S and
    # scrub L/h = W in mol/h of rare earth (sx-public-cases.md §2)
    return CascadeSpec.from_dict({
        "cascade": {"model": "constant_beta", "extraction_stages": n, "scrub_stages": m},
        "flows": {"organic": S, "feed": 1.0, "scrub": W},
        "feed": feed,
        "model": {"beta": beta, "organic_loading": 1.0, "scrub_acid": 3.0},
    })


@pytest.mark.parametrize("beta, feed, S, W, n, m, a_name, a_pur, b_name, b_pur", [
    # sx-public-cases.md §2 (and reference-data.md §7 V1), tolerance 1e-7 absolute
    ({"Nd": 1.5, "Pr": 1.0}, {"Nd": 0.75, "Pr": 0.25}, 3.30, 2.547475, 24, 24,
     "Nd", 0.99516281, "Pr", 0.99549406),
    ({"Dy": 2.0, "Tb": 1.0}, {"Dy": 0.85, "Tb": 0.15}, 2.22, 1.366465, 14, 11,
     "Dy", 0.99505191, "Tb", 0.99530009),
])
def test_published_binary_cases(beta, feed, S, W, n, m, a_name, a_pur, b_name, b_pur):
    r = solve(beta_spec(beta, feed, S, W, n, m))
    i, j = r.components.index(a_name), r.components.index(b_name)
    assert r.purity_of("extract")[i] == pytest.approx(a_pur, abs=1e-7)
    assert r.purity_of("raffinate")[j] == pytest.approx(b_pur, abs=1e-7)
    assert r.closure <= 1e-10
    # organic product P = S - W and raffinate R = F + W - S (hand balance)
    assert r.outlets["extract"].total_mol_per_h == pytest.approx(S - W, rel=1e-12)
    assert r.outlets["raffinate"].total_mol_per_h == pytest.approx(1.0 + W - S, rel=1e-12)


def dense_oracle(beta, F, S, W, n, m):
    """Solve the stage balances in linear flows with MINPACK (a different
    formulation and algorithm from the engine's log-variable Newton)."""
    beta = np.asarray(beta, float)
    F = np.asarray(F, float)
    C, N = beta.size, n + m

    def residual(v):
        a = np.abs(v.reshape(N, C))
        o = S * beta * a / np.sum(beta * a, axis=1, keepdims=True)
        r = -a - o
        r[:-1] += a[1:]
        r[-1] += (W / S) * o[-1]
        r[1:] += o[:-1]
        r[n - 1] += F
        return r.ravel()

    L = np.full(N, W + F.sum())
    L[n:] = W
    L[0] = W + F.sum() - S
    a0 = (L[:, None] * F / F.sum()).ravel()
    sol = fsolve(residual, a0, xtol=1e-14)
    a = np.abs(sol.reshape(N, C))
    # the oracle must itself solve the balances before it can judge anything
    assert np.max(np.abs(residual(sol)).reshape(N, C) / a) < 1e-7
    return a


@pytest.mark.filterwarnings("ignore:The iteration is not making good progress")
@pytest.mark.filterwarnings("ignore:xtol=")
@pytest.mark.parametrize("seed", range(6))
def test_matches_independent_dense_solve(seed):
    rng = np.random.default_rng(seed)
    spec = random_cascade(rng, "constant_beta", components=3, stages=(int(rng.integers(2, 7)),
                                                                      int(rng.integers(1, 7)), 0))
    r = solve(spec)
    p = spec.params
    S = spec.organic * p.organic_loading
    W = spec.scrub * p.scrub_acid / 3
    a = dense_oracle(p.beta, spec.feed_mol_per_h, S, W, spec.extraction_stages, spec.scrub_stages)
    np.testing.assert_allclose(r.aqueous * spec.aqueous_flows()[:, None], a, rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_cascades_converge_and_close(seed):
    spec = random_cascade(np.random.default_rng(seed), "constant_beta")
    r = solve(spec)
    assert r.converged and r.closure <= 1e-10 and r.residual <= 1e-12
    # every stage's organic is saturated at the loading: sum o = S on every stage
    np.testing.assert_allclose(r.organic.sum(axis=1), spec.params.organic_loading, rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), section=st.sampled_from(["extraction", "scrub"]))
def test_adding_a_stage_never_lowers_the_refined_purity(seed, section):
    # sx-public-cases.md §4: the extraction section refines the raffinate's least
    # extractable component, the scrub section the extract's most extractable one
    rng = np.random.default_rng(seed)
    spec = random_cascade(rng, "constant_beta", components=int(rng.integers(2, 5)))
    n, m = spec.extraction_stages, spec.scrub_stages
    bigger = spec.replace({"cascade": {f"{section}_stages": (n if section == "extraction" else m) + 1}})
    before, after = solve(spec), solve(bigger)
    if section == "extraction":
        i = int(np.argmin(spec.params.beta))
        assert after.purity_of("raffinate")[i] >= before.purity_of("raffinate")[i] - 1e-12
    else:
        i = int(np.argmax(spec.params.beta))
        assert after.purity_of("extract")[i] >= before.purity_of("extract")[i] - 1e-12


def test_equal_beta_gives_equal_fractions():
    spec = beta_spec({"Nd": 1.5, "Pr": 1.0, "Sm": 1.5}, {"Nd": 0.5, "Pr": 0.3, "Sm": 0.2},
                     3.3, 2.5, 10, 12)
    r = solve(spec)
    assert r.fraction_to_extract[0] == pytest.approx(r.fraction_to_extract[2], rel=1e-10)


def test_warm_start_reproduces_cold_solution_in_fewer_iterations():
    spec = beta_spec({"Nd": 1.5, "Pr": 1.0}, {"Nd": 0.75, "Pr": 0.25}, 3.30, 2.547475, 24, 24)
    near = spec.replace({"model": {"beta": {"Nd": 1.52}}})
    cold = solve(near)
    warm = solve(near, warm_start=solve(spec))
    np.testing.assert_allclose(warm.fraction_to_extract, cold.fraction_to_extract, rtol=1e-10)
    assert warm.iterations < cold.iterations


def test_input_spec_is_not_modified():
    spec = beta_spec({"Nd": 1.5, "Pr": 1.0}, {"Nd": 0.75, "Pr": 0.25}, 3.30, 2.547475, 24, 24)
    before = spec.to_dict()
    solve(spec)
    assert spec.to_dict() == before


def test_a_far_trial_iterate_gives_an_infinite_residual_and_no_warning():
    """A trial point with Dy at e^-800 mol/h on every stage and Tb at 1 mol/h: Dy's aqueous and
    organic flows are both below e^-800 (o_Dy = S a_Dy / (2000 a_Tb)), so F_Dy / (a + o) is beyond the
    largest double (e^709.8) and the feed stage's Dy residual is +inf, the line search's cue to refuse
    the step; it is not a RuntimeWarning on the user's terminal."""
    import warnings

    from magcycle.sx.constant_beta import BetaCascade

    n, m = 3, 2
    model = BetaCascade(beta=[[1.0, 2000.0]], S=[0.444], W=[0.0911], feed=[[0.17, 0.03]], n=n, m=m)
    u = np.zeros((1, n + m, 2))
    u[..., 0] = -800.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rs, share, _ = model.residual(u)
    assert np.isposinf(rs[0, n - 1, 0])
    finite = np.ones_like(rs[0], dtype=bool)
    finite[n - 1, 0] = False
    assert np.isfinite(rs[0][finite]).all()
