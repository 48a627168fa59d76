"""Stage-multiplier solver of constant_beta against independent oracles.

Oracles: central finite differences for the Jacobian; a 50-digit mpmath
Gaussian elimination of each component's tridiagonal stage balances for the
flows at given multipliers; the block Newton in ln a (a different
formulation and algorithm) for converged cascades.
"""

import dataclasses

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle.sx import solve
from magcycle.sx.multipliers import (
    _evaluate,
    _jacobian,
    bubble_point_multipliers,
    multipliers_from_aqueous,
    saturation_residual,
    solve_multipliers,
)
from magcycle.sx.sampling import random_cascade
from magcycle.sx.solver import NEWTON_TOL, beta_continuation, beta_model
from magcycle.sx.spec import beta_flows


def problem(spec):
    S, W, F, P, R = beta_flows(spec)
    lb = np.log(spec.params.beta)
    lF = np.log(spec.feed_mol_per_h)
    g0 = bubble_point_multipliers(lb, lF, np.log(S), beta_model(spec).stage_aqueous_totals()[0])
    return lb, g0, lF, np.log(S), np.log(S / P), spec.extraction_stages


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_jacobian_matches_central_differences(seed):
    rng = np.random.default_rng(seed)
    spec = random_cascade(rng, "constant_beta", components=int(rng.integers(2, 6)),
                          stages=(int(rng.integers(1, 9)), int(rng.integers(1, 9)), 0))
    lb, g0, lF, lS, lc, n = problem(spec)
    g = g0 + rng.normal(0.0, 0.3, g0.size)
    J = _jacobian(_evaluate(lb, g, lF, lS, lc, n)[3])
    h = 1e-6
    fd = np.empty_like(J)
    for col in range(g.size):
        e = np.zeros(g.size)
        e[col] = h
        fd[:, col] = (_evaluate(lb, g + e, lF, lS, lc, n)[0] - _evaluate(lb, g - e, lF, lS, lc, n)[0]) / (2 * h)
    # central differences are accurate to O(h^2) + round-off/h, about 1e-9 here
    np.testing.assert_allclose(J, fd, atol=1e-7)


def mp_flows(log_beta, g, feed, S, W, n):
    """Aqueous flows (N, C) at multipliers g by 50-digit Gaussian elimination
    of each component's tridiagonal balance a_{k+1} + o_{k-1} + F - a_k - o_k = 0,
    o_k = beta lambda_k a_k, reflux (W/S) o_N into stage N."""
    N = g.size
    out = np.empty((N, log_beta.size))
    with mpmath.workdps(50):
        lam = [mpmath.exp(mpmath.mpf(float(x))) for x in g]
        for i, lb in enumerate(log_beta):
            beta = mpmath.exp(mpmath.mpf(float(lb)))
            e = [beta * x for x in lam]
            A = mpmath.zeros(N, N)
            rhs = mpmath.zeros(N, 1)
            for k in range(N):
                A[k, k] = -1 - e[k]
                if k + 1 < N:
                    A[k, k + 1] = 1
                if k > 0:
                    A[k, k - 1] = e[k - 1]
            A[N - 1, N - 1] += mpmath.mpf(W) / mpmath.mpf(S) * e[N - 1]
            rhs[n - 1] = -mpmath.mpf(float(feed[i]))
            a = mpmath.lu_solve(A, rhs)
            out[:, i] = [float(a[k]) for k in range(N)]
    return out


@pytest.mark.parametrize("beta, spread", [((1.5, 1.0), 0.2), ((8.0, 2.0, 1.0), 0.5),
                                          ((20.0, 1.0), 1.0)])
def test_flows_at_given_multipliers_match_50_digit_elimination(beta, spread):
    # far from the solution, with extraction factors from ~1e-2 to ~1e2, trace
    # flows are many orders below the bulk; each keeps its relative precision
    rng = np.random.default_rng(len(beta))
    n, m = 14, 12
    S, W = 3.0, 2.2
    feed = np.linspace(1.0, 0.2, len(beta))
    g = np.log(1.0 / 3.0) + rng.normal(0.0, spread, n + m)
    _, la = saturation_residual(np.log(beta), g, np.log(feed), np.log(S), np.log(S / (S - W)), n)
    exact = mp_flows(np.log(beta), g, feed, S, W, n)
    assert exact.min() < 1e-6 * exact.max()  # the case does reach trace levels
    np.testing.assert_allclose(np.exp(la), exact, rtol=1e-12)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_converged_multipliers_solve_the_block_newton_problem(seed):
    spec = random_cascade(np.random.default_rng(seed), "constant_beta")
    lb, g0, lF, lS, lc, n = problem(spec)
    out = solve_multipliers(lb, g0, lF, lS, lc, n)
    if not out.converged:
        # the solver then falls back to the block Newton; that path is tested elsewhere
        return
    block = beta_continuation(beta_model(spec))
    assert block.converged.all()
    # two formulations, two algorithms, the same cascade
    np.testing.assert_allclose(out.log_aqueous, block.u[0], atol=1e-9)
    # and the multipliers satisfy the full model's scaled stage balances
    assert np.max(np.abs(beta_model(spec).residual(out.log_aqueous[None])[0])) <= NEWTON_TOL


def test_equal_separation_factors_start_at_the_solution():
    # all beta equal: the bubble-point start is exact (feed composition on every stage)
    spec = random_cascade(np.random.default_rng(3), "constant_beta", components=3, stages=(5, 4, 0))
    spec = spec.replace({"model": {"beta": {c: 2.0 for c in spec.components}}})
    lb, g0, lF, lS, lc, n = problem(spec)
    out = solve_multipliers(lb, g0, lF, lS, lc, n)
    assert out.converged and out.iterations == 0


def test_warm_multipliers_are_those_of_the_state():
    # lambda_k = S / sum_i beta_i a_{k,i}, by hand for a two-stage state
    la = np.log(np.array([[1.0, 2.0], [0.5, 0.25]]))
    g = multipliers_from_aqueous(np.log([2.0, 1.0]), np.log(3.0), la)
    np.testing.assert_allclose(np.exp(g), [3.0 / (2 * 1.0 + 2.0), 3.0 / (2 * 0.5 + 0.25)], rtol=1e-15)


def test_solve_uses_the_multipliers_and_reports_the_full_residual():
    spec = random_cascade(np.random.default_rng(60006), "constant_beta", components=6,
                          stages=(30, 30, 0))
    r = solve(spec)
    block = beta_continuation(beta_model(spec))
    np.testing.assert_allclose(r.state, block.u[0], atol=1e-9)
    assert r.residual <= NEWTON_TOL and r.closure <= 1e-12
    # the multiplier path converges in far fewer iterations than continuation
    assert r.iterations < int(block.iterations[0])


@pytest.mark.parametrize("change", [1e-9, 1e-4, 0.3])
def test_warm_solve_with_the_neighbours_factors_is_the_cold_solution(change):
    # a neighbour's multipliers and factorised Jacobian (chord steps) give the
    # cascade the cold start finds; small changes need no new factorisation
    rng = np.random.default_rng(77)
    spec = random_cascade(rng, "constant_beta", components=6, stages=(20, 14, 0))
    first = solve(spec)
    feed = spec.feed * (1.0 + change * rng.uniform(-1.0, 1.0, spec.feed.size))
    moved = dataclasses.replace(spec, feed=feed)
    warm = solve(moved, warm_start=first)
    block = beta_continuation(beta_model(moved))  # another formulation and algorithm
    np.testing.assert_allclose(warm.state, block.u[0], atol=1e-9)
    assert warm.residual <= NEWTON_TOL and warm.closure <= 1e-11
    if change <= 1e-4:
        assert warm.reduced[1] is first.reduced[1]  # chord steps only
        assert warm.iterations <= 4


def test_chord_steps_alone_converge_from_a_neighbour():
    spec = random_cascade(np.random.default_rng(78), "constant_beta", components=4, stages=(12, 9, 0))
    lb, g0, lF, lS, lc, n = problem(spec)
    base = solve_multipliers(lb, g0, lF, lS, lc, n)
    assert base.converged and base.factors is not None
    # the same cascade with 0.1 % more of the first component: chord steps from base
    lF2 = lF.copy()
    lF2[0] += np.log1p(1e-3)
    out = solve_multipliers(lb, base.g, lF2, lS, lc, n, chord=base.factors, dt0=1e4)
    ref = solve_multipliers(lb, g0, lF2, lS, lc, n)
    assert out.converged and out.factors is base.factors
    np.testing.assert_allclose(out.g, ref.g, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), wide=st.booleans())
def test_log_cumsum_exp_of_stacks_is_the_accumulated_logaddexp(seed, wide):
    # the stacked form (shifted cumsum of exponentials) against numpy's pairwise accumulation,
    # row by row; rows spanning more than e^700 included; each row independent of the others
    from magcycle.sx.multipliers import _log_cumsum_exp

    rng = np.random.default_rng(seed)
    y = np.cumsum(rng.normal(0.0, 3.0, (4, 3, 17)), axis=-1)
    if wide:
        y[1, 2, 5:] -= 900.0  # this row spans more than e^700
        y[2, 0, :3] += 800.0
    got = _log_cumsum_exp(y)
    want = np.logaddexp.accumulate(y, axis=-1)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * (1.0 + np.abs(want).max()))
    for b in range(y.shape[0]):
        assert np.array_equal(_log_cumsum_exp(y[b:b + 1]), got[b:b + 1])


def test_chord_factors_invert_to_the_inverse():
    from scipy.linalg.lapack import dgetrf

    from magcycle.sx.multipliers import ChordFactors

    rng = np.random.default_rng(5)
    J = rng.normal(size=(9, 9)) + 4.0 * np.eye(9)
    lu, piv, info = dgetrf(J)
    f = ChordFactors(lu, piv)
    np.testing.assert_allclose(f.inverse() @ J, np.eye(9), atol=1e-12)
    assert f.inverse() is f.inverse()  # inverted once
    lu, piv, info = dgetrf(np.zeros((3, 3)))
    assert ChordFactors(lu, piv).inverse() is None  # singular: no chord


# ------------------------------------------------------------------ mass action
def reduced(spec):
    from magcycle.sx.multipliers import MassActionReduced
    from magcycle.sx.solver import mass_action_model

    model = mass_action_model(spec)
    return model, MassActionReduced(model)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), strip=st.integers(0, 4))
def test_mass_action_jacobian_matches_central_differences(seed, strip):
    rng = np.random.default_rng(seed)
    spec = random_cascade(rng, "mass_action", components=int(rng.integers(2, 5)),
                          stages=(int(rng.integers(1, 6)), int(rng.integers(1, 6)), strip))
    model, red = reduced(spec)
    u = model.initial()[0]
    C = model.C
    v = np.concatenate((u[:, C], u[:, C + 1])) + rng.normal(0.0, 0.1, 2 * red.N)
    v = np.minimum(v, red.upper - 0.05)
    J = red.jacobian(red.residual(v)[2])
    h = 1e-6
    fd = np.empty_like(J)
    for col in range(v.size):
        e = np.zeros(v.size)
        e[col] = h
        fd[:, col] = (red.residual(v + e)[0] - red.residual(v - e)[0]) / (2 * h)
    np.testing.assert_allclose(J, fd, atol=1e-7 * max(1.0, np.abs(J).max()))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_mass_action_reduced_solution_is_the_block_newton_solution(seed):
    from magcycle.sx.multipliers import solve_mass_action_multipliers
    from magcycle.sx.solver import mass_action_cold

    spec = random_cascade(np.random.default_rng(seed), "mass_action")
    model, red = reduced(spec)
    u = model.initial()[0]
    C = model.C
    v, lna, ok, its, norm = solve_mass_action_multipliers(red, np.concatenate((u[:, C], u[:, C + 1])))
    if not ok:
        return  # solve() then falls back to the block Newton
    block = mass_action_cold(model)
    assert block.converged.all()
    np.testing.assert_allclose(red.state(v, lna), block.u[0], atol=1e-9)
    assert np.max(np.abs(model.residual(red.state(v, lna)[None])[0])) <= NEWTON_TOL


def test_mass_action_strip_flows_match_50_digit_elimination():
    # the flows at given (z, h) by exact elimination of the stage balances,
    # including the strip section's separate aqueous circuit
    spec = random_cascade(np.random.default_rng(11), "mass_action", components=3, stages=(5, 4, 3))
    model, red = reduced(spec)
    rng = np.random.default_rng(4)
    u = model.initial()[0]
    C, N = model.C, red.N
    v = np.minimum(np.concatenate((u[:, C], u[:, C + 1])) + rng.normal(0, 0.3, 2 * N), red.upper)
    lno, lna, _ = red.flows(v)
    g = 3.0 * (v[:N] - v[N:])
    Qa, Qo = model.Qa[0], float(model.Qo[0])
    conn = model.connected
    with mpmath.workdps(50):
        for i in range(C):
            e = [mpmath.mpf(float(model.K[0, i])) * mpmath.exp(mpmath.mpf(float(gk))) * Qo / mpmath.mpf(float(q))
                 for gk, q in zip(g, Qa)]
            A = mpmath.zeros(N, N)
            rhs = mpmath.zeros(N, 1)
            for k in range(N):
                A[k, k] = -1 - e[k]
                if k + 1 < N and conn[k]:
                    A[k, k + 1] = 1
                if k > 0:
                    A[k, k - 1] = e[k - 1]
            rhs[spec.extraction_stages - 1] = -mpmath.mpf(float(model.feed[0, i]))
            a = mpmath.lu_solve(A, rhs)
            exact = np.array([float(a[k]) for k in range(N)])
            np.testing.assert_allclose(np.exp(lna[i]), exact, rtol=1e-12)


def test_mass_action_solve_takes_the_reduced_path():
    from magcycle.sx.solver import mass_action_cold

    spec = random_cascade(np.random.default_rng(60006), "mass_action", components=6,
                          stages=(24, 24, 12))
    r = solve(spec)
    model, _ = reduced(spec)
    block = mass_action_cold(model)
    np.testing.assert_allclose(r.state, block.u[0], atol=1e-9)
    assert r.residual <= NEWTON_TOL and r.closure <= 1e-12
    assert r.iterations < int(block.iterations[0])
