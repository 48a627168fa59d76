"""mass_action: limits with exact answers, conservation laws not imposed by the
solver, derivatives against finite differences, and robustness."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle.sx import CascadeSpec, solve
from magcycle.sx.sampling import random_cascade
from magcycle.sx.solver import beta_model, mass_action_model


def ma_spec(**over):
    doc = {
        "cascade": {"model": "mass_action", "extraction_stages": 12, "scrub_stages": 8,
                    "strip_stages": 4},
        "flows": {"organic": 2.0, "feed": 1.0, "scrub": 0.5, "strip": 0.7},
        "feed": {"Pr": 0.06, "Nd": 0.18, "Dy": 0.01},
        "model": {"log10_K": {"Pr": -1.6, "Nd": -1.4, "Dy": 0.5}, "extractant": 1.5,
                  "saponification": 0.2, "counter_ion": "NH4+", "feed_acid": 0.01,
                  "scrub_acid": 1.0, "strip_acid": 4.0},
    }
    for section, values in over.items():
        doc[section] = {**doc[section], **values}
    return CascadeSpec.from_dict(doc)


def test_excess_extractant_and_fixed_acid_reduce_to_constant_d():
    # sx-public-cases.md §4: with the extractant in large excess over the rare
    # earths (trace feed) and the acid fixed by the feed, scrub and strip
    # solutions, D = K [(HA)2]^3 / [H+]^3 with [(HA)2] = C_HA / 2 in every section.
    logK = {"Pr": -0.3, "Nd": 0.0, "Dy": 1.2}
    trace = {"Pr": 1e-10, "Nd": 2e-10, "Dy": 1e-10}
    ma = ma_spec(feed=trace, model={"log10_K": logK, "saponification": 0.0, "feed_acid": 1.0,
                                    "scrub_acid": 1.0, "strip_acid": 3.0})
    r = solve(ma)
    z = 1.5 / 2
    D = {el: 10 ** k * z**3 / 1.0**3 for el, k in logK.items()}  # [H+] = 1 M, extraction and scrub
    D_strip = {el: 10 ** k * z**3 / 3.0**3 for el, k in logK.items()}  # [H+] = 3 M
    cd = CascadeSpec.from_dict({
        "cascade": {"model": "constant_d", "extraction_stages": 12, "scrub_stages": 8,
                    "strip_stages": 4},
        "flows": {"organic": 2.0, "feed": 1.0, "scrub": 0.5, "strip": 0.7},
        "feed": trace, "model": {"D": D, "D_strip": D_strip},
    })
    ref = solve(cd)
    for outlet in ("raffinate", "extract", "stripped_organic"):
        np.testing.assert_allclose(r.fractions(outlet), ref.fractions(outlet), rtol=1e-6)
    np.testing.assert_allclose(r.pH[:20], 0.0, atol=1e-7)  # pH = -log10(1 M)
    np.testing.assert_allclose(r.pH[20:], -np.log10(3.0), atol=1e-7)


def hydrogen_closure(spec, r):
    """H balance over the cascade; the solver imposes RE, extractant and charge
    balances, so hydrogen conservation is an independent check."""
    p = spec.params
    n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
    h = 10.0 ** -r.pH
    z = r.extra["free_extractant_mol_per_L"]
    H_in = (spec.feed_flow * p.feed_acid + spec.scrub * p.scrub_acid
            + (spec.strip * p.strip_acid if k else 0.0)
            + spec.organic * (1 - p.saponification) * p.extractant)
    # organic H: 2 per free dimer, 3 per Ln(HA2)3 (= LnA3(HA)3)
    last = -1
    H_out = ((spec.feed_flow + spec.scrub) * h[0]
             + (spec.strip * h[n + m] if k else 0.0)
             + spec.organic * (2 * z[last] + 3 * r.organic[last].sum()))
    return abs(H_in - H_out) / H_in


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_specs_converge_and_conserve_hydrogen(seed):
    spec = random_cascade(np.random.default_rng(seed), "mass_action")
    r = solve(spec)
    assert r.converged and r.closure <= 1e-10
    assert hydrogen_closure(spec, r) <= 1e-9
    # extractant balance on every stage: 2 z + 6 sum y = C_HA
    z = r.extra["free_extractant_mol_per_L"]
    np.testing.assert_allclose(2 * z + 6 * r.organic.sum(axis=1), spec.params.extractant, rtol=1e-10)
    assert np.all(np.isfinite(r.pH))


def test_saponification_raises_the_raffinate_pH_and_extraction():
    low = solve(ma_spec(model={"saponification": 0.0}))
    high = solve(ma_spec(model={"saponification": 0.3}))
    assert high.pH[0] > low.pH[0]
    assert np.all(high.fraction_to_raffinate < low.fraction_to_raffinate)


def test_warm_start_from_a_neighbour():
    spec = ma_spec()
    base = solve(spec)
    near = spec.replace({"model": {"log10_K": {"Nd": -1.39}}})
    warm = solve(near, warm_start=base)
    cold = solve(near)
    np.testing.assert_allclose(warm.fraction_to_extract, cold.fraction_to_extract, rtol=1e-9)
    assert warm.iterations < cold.iterations


def finite_difference_check(model, u):
    """Largest gap between the analytic blocks and central differences.

    The blocks are the Jacobian of the balances divided by their row weights;
    at a solution (r = 0) that equals the derivative of the scaled residuals,
    which is what the differences measure.
    """
    r, Lo, Di, Up, _ = model.evaluate(u)  # residual + jacobian together
    _, N, M = u.shape
    h = 1e-6
    worst = 0.0
    for k in range(N):
        for j in range(M):
            up, um = u.copy(), u.copy()
            up[0, k, j] += h
            um[0, k, j] -= h
            fd = (model.evaluate(up)[0] - model.evaluate(um)[0])[0] / (2 * h)
            an = np.zeros((N, M))
            an[k] = Di[0, k, :, j]
            if k > 0:
                an[k - 1] = Up[0, k - 1, :, j]
            if k < N - 1:
                an[k + 1] = Lo[0, k + 1, :, j]
            worst = max(worst, float(np.max(np.abs(fd - an))))
    return worst


@pytest.mark.parametrize("which", ["mass_action", "constant_beta"])
def test_jacobian_blocks_match_finite_differences(which):
    rng = np.random.default_rng(3)
    if which == "mass_action":
        spec = random_cascade(rng, "mass_action", components=3, stages=(4, 3, 2))
        model = mass_action_model(spec)
    else:
        spec = random_cascade(rng, "constant_beta", components=3, stages=(4, 3, 0))
        model = beta_model(spec)
    u = solve(spec).state[None]
    assert finite_difference_check(model, u) < 1e-7
