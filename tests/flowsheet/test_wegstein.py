"""Tear-stream convergence (magcycle.flowsheet.wegstein) against independent oracles: linear maps whose fixed
point is known analytically, the bounds of q, the convergence test's edge cases and the clip at zero."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from magcycle.flowsheet import parse_flowsheet, simulate
from magcycle.flowsheet.wegstein import (ATOL_FLOOR, Q_MAX, Q_MIN, RTOL, TearConvergence, converged, species_order,
                                         wegstein_q, wegstein_update)
from magcycle.units.stream import Stream


def linear(a, b):
    """g(x) = a x + b per species: a and b dicts by species."""
    return lambda x: {k: a[k] * x.get(k, 0.0) + b[k] for k in b}


# ------------------------------------------------------------------ the accelerated step on a linear map
@pytest.mark.parametrize("a", [0.0, 0.3, 0.5, 0.8, 5 / 6])
@pytest.mark.parametrize("b", [1.0, 7.25, 1e-6])
def test_one_secant_step_lands_on_the_fixed_point_of_a_linear_map(a, b):
    # g(x) = a x + b has the fixed point x* = b / (1 - a). The secant slope through any two iterates
    # is s = (g1 - g0) / (x1 - x0) = a exactly, so q = a / (a - 1) and 1 - q = 1 / (1 - a):
    #   x2 = q x1 + (1 - q)(a x1 + b) = x1 [a / (a - 1) + a / (1 - a)] + b / (1 - a) = b / (1 - a).
    # For a in [0, 5/6], q lies in [-5, 0], inside the bounds: one step is exact.
    g = linear({"Nd": a}, {"Nd": b})
    x0 = {"Nd": 0.3 * b}
    x1 = {"Nd": 1.7 * b}
    x2 = wegstein_update(x1, g(x1), x0, g(x0))
    assert x2["Nd"] == pytest.approx(b / (1.0 - a), rel=1e-13)
    if a:
        assert wegstein_q(a) == pytest.approx(a / (a - 1.0), rel=1e-15)


def test_each_species_is_accelerated_with_its_own_slope():
    a = {"Nd": 0.2, "Fe": 0.75, "Cl-": 0.5}
    b = {"Nd": 3.0, "Fe": 0.01, "Cl-": 40.0}
    g = linear(a, b)
    x0 = {"Nd": 0.0, "Fe": 0.0, "Cl-": 0.0}
    x1 = g(x0)  # the first step is direct substitution
    x2 = wegstein_update(x1, g(x1), x0, g(x0))
    for k in a:
        assert x2[k] == pytest.approx(b[k] / (1.0 - a[k]), rel=1e-13)


def test_a_slope_above_five_sixths_takes_the_bounded_step():
    # a = 0.95 would need q = -19; bounded to -5: x2 = -5 x1 + 6 g(x1), short of x* = 20
    g = linear({"Nd": 0.95}, {"Nd": 1.0})
    x0, x1 = {"Nd": 0.0}, {"Nd": 1.0}
    x2 = wegstein_update(x1, g(x1), x0, g(x0))
    assert x2["Nd"] == pytest.approx(-5.0 * 1.0 + 6.0 * 1.95, rel=1e-15)
    assert x1["Nd"] < x2["Nd"] < 20.0


@pytest.mark.parametrize("a", [-1.0, -0.5, 1.0, 2.0])
def test_slopes_outside_zero_to_one_fall_back_to_direct_substitution(a):
    # s / (s - 1) > 0 for s < 0 and s > 1 (q bounded to 0), and s = 1 is q = 0 by definition
    g = linear({"Nd": a}, {"Nd": 10.0})
    x0, x1 = {"Nd": 0.5}, {"Nd": 2.0}
    assert wegstein_update(x1, g(x1), x0, g(x0)) == g(x1)


# ------------------------------------------------------------------ q and its bounds
@pytest.mark.parametrize("s, q", [(0.5, -1.0), (0.25, -1 / 3), (0.8, -4.0), (0.9, -5.0), (0.999999, -5.0),
                                  (1.0, 0.0), (1.5, 0.0), (1e300, 0.0), (0.0, 0.0), (-3.0, 0.0), (-1e300, 0.0)])
def test_q_values_and_bounds(s, q):
    assert wegstein_q(s) == pytest.approx(q, rel=1e-15, abs=0.0)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_q_always_lies_within_its_bounds(s):
    assert (Q_MIN, Q_MAX) == (-5.0, 0.0)
    assert Q_MIN <= wegstein_q(s) <= Q_MAX


def test_no_previous_iterate_or_an_unchanged_species_is_direct_substitution():
    x, g = {"Nd": 1.0, "Fe": 2.0}, {"Nd": 1.5, "Fe": 2.5}
    assert wegstein_update(x, g) == g
    # Fe's x did not move (dx = 0): its slope is undefined, so q = 0 for it alone
    new = wegstein_update(x, g, {"Nd": 0.0, "Fe": 2.0}, {"Nd": 1.0, "Fe": 9.0})
    assert new["Fe"] == 2.5 and new["Nd"] == pytest.approx(2.0, rel=1e-15)  # s = 0.5, q = -1: -1 + 2 x 1.5


# ------------------------------------------------------------------ the clip at zero
def test_flows_are_clipped_at_zero():
    # s = (0.1 - 1.0) / (1 - 2) = 0.9 gives q = -9, bounded to -5: -5 x 1 + 6 x 0.1 = -4.4 -> 0
    new = wegstein_update({"Nd": 1.0}, {"Nd": 0.1}, {"Nd": 2.0}, {"Nd": 1.0})
    assert new == {"Nd": 0.0} and not math.copysign(1.0, new["Nd"]) < 0


def test_species_in_one_iterate_only_count_as_zero_in_the_other():
    # Fe has left (only in x), Cl- has appeared (only in g): x's species first, then g's new ones
    x, g = {"Nd": 1.0, "Fe": 2.0}, {"Cl-": 3.0, "Nd": 1.0}
    assert species_order(x, g) == ["Nd", "Fe", "Cl-"]
    assert list(wegstein_update(x, g)) == ["Nd", "Fe", "Cl-"]
    assert wegstein_update(x, g) == {"Nd": 1.0, "Fe": 0.0, "Cl-": 3.0}
    # with a previous iterate where Cl- was also absent: dx = 0 for Cl-, direct substitution
    assert wegstein_update(x, g, {"Nd": 1.0, "Fe": 4.0}, {"Nd": 1.0, "Fe": 1.0})["Cl-"] == 3.0


# ------------------------------------------------------------------ the convergence test
def test_convergence_of_empty_and_zero_streams():
    assert converged({}, {}) == (True, 0.0)
    assert converged({"Nd": 0.0}, {"Nd": 0.0}) == (True, 0.0)
    assert converged({"Nd": 0.0}, {}) == (True, 0.0)


def test_relative_tolerance_per_species():
    assert converged({"Nd": 1.0}, {"Nd": 1.0 + 0.5 * RTOL}) == (True, 0.0)
    done, worst = converged({"Nd": 1.0}, {"Nd": 1.0 + 1e-9})
    assert not done and worst == pytest.approx(1e-9, rel=1e-6)
    assert converged({"Nd": 1.0}, {"Nd": 1.0 + 1e-9}, rtol=1e-8) == (True, 0.0)


def test_a_trace_species_is_judged_relative_to_itself_down_to_the_floor():
    # Nd is a millionth of the stream; a 1e-6 relative change of Nd is far above its own rtol
    # and above the floor (1e-15 x 1e6 = 1e-9 mol/h): not converged, though tiny against Fe
    x, g = {"Fe": 1e6, "Nd": 1.0}, {"Fe": 1e6, "Nd": 1.0 + 1e-6}
    done, worst = converged(x, g)
    assert not done and worst == pytest.approx(1e-6 / (1 + 1e-6), rel=1e-6)
    # below the floor a species no longer counts: a tenth of the floor of it, appearing or vanishing
    assert converged({"Fe": 1e6}, {"Fe": 1e6, "Nd": 0.1 * ATOL_FLOOR * 1e6}) == (True, 0.0)
    assert converged({"Fe": 1e6, "Ga": 0.1 * ATOL_FLOOR * 1e6}, {"Fe": 1e6}) == (True, 0.0)


def test_a_species_appearing_above_the_floor_has_not_converged():
    done, worst = converged({"Fe": 1.0}, {"Fe": 1.0, "Nd": 1e-6})
    assert not done and worst == 1.0
    done, worst = converged({"Fe": 1.0, "Nd": 1e-6}, {"Fe": 1.0})
    assert not done and worst == 1.0


def test_worst_is_the_largest_change_among_the_failing_species():
    done, worst = converged({"A": 1.0, "B": 1.0, "C": 1.0}, {"A": 1.1, "B": 1.5, "C": 1.0 + 1e-14})
    assert not done and worst == pytest.approx(0.5 / 1.5, rel=1e-15)


@pytest.mark.parametrize("swap", [False, True])
def test_the_floor_scales_with_the_streams_total_flow(swap):
    # total 1e3 mol/h: atol = 1e-15 x 1e3 = 1e-12 mol/h, whichever iterate carries the trace species
    def test(x, g):
        return converged(g, x) if swap else converged(x, g)
    assert test({"Nd": 1e3, "Ga": 0.5e-12}, {"Nd": 1e3}) == (True, 0.0)
    assert test({"Nd": 1e3, "Ga": 2e-12}, {"Nd": 1e3}) == (False, 1.0)
    assert test({"Nd": 1e6, "Ga": 2e-12}, {"Nd": 1e6}) == (True, 0.0)


# ------------------------------------------------------------------ TearConvergence over streams
def _iterate(tc, g, x, limit=500):
    """x <- next_guess until converged; the passes around the loop (calls of g)."""
    for it in range(1, limit + 1):
        gx = g(x)
        if tc.converged(x, gx):
            return it, x
        x = tc.next_guess(x, gx)
    raise AssertionError("no convergence")


def _loop(a, b):
    """A recycle of two tears r and s, each species k: g_k = a_k x_k + b_k."""
    def g(x):
        return {t: Stream("aqueous", {k: a[k] * x[t].get(k) + b[k] for k in b}) for t in ("r", "s")}
    return g


def test_tear_convergence_reaches_a_linear_loops_fixed_point_in_three_passes():
    # pass 1 from nothing (direct step), pass 2 from g(0) (the secant step lands on x*), pass 3 confirms it
    a, b = {"Nd+3": 0.8, "Cl-": 0.5, "H2O": 0.1}, {"Nd+3": 2.0, "Cl-": 6.0, "H2O": 100.0}
    empty = {t: Stream("aqueous", {}) for t in ("r", "s")}
    it, x = _iterate(TearConvergence(), _loop(a, b), empty)
    assert it == 3
    for t in ("r", "s"):
        for k in b:
            assert x[t].get(k) == pytest.approx(b[k] / (1 - a[k]), rel=1e-12)
    # plain substitution contracts by 0.8 per pass: about log(1e-12) / log(0.8) = 124 passes
    g, x, passes = _loop(a, b), empty, 1
    while not all(converged(x[t].mol_h, g(x)[t].mol_h)[0] for t in x):
        x, passes = g(x), passes + 1
    assert passes > 100


def test_tear_convergence_reports_its_worst_change_and_keeps_gs_phase():
    tc = TearConvergence()
    x = {"r": Stream("aqueous", {"Nd+3": 1.0})}
    g = {"r": Stream("solid", {"Nd+3": 1.25, "Fe": 0.5})}
    assert tc.converged(x, g) is False and tc.worst == 1.0  # Fe appeared: 0.5 / 0.5
    new = tc.next_guess(x, g)
    assert new["r"].phase == "solid" and dict(new["r"].mol_h) == {"Nd+3": 1.25, "Fe": 0.5}
    assert tc.converged(g, g) is True and tc.worst == 0.0


def test_a_mixer_splitter_recycle_converges_in_three_passes():
    # feed -> mixer -> splitter (fraction f out): the recycle is linear in the tear, r = (1 - f)(F + r),
    # so the solve needs the pass from nothing, the direct pass and one confirming the secant step
    doc = {"units": {"m": {"type": "mixer"}, "s": {"type": "splitter", "fraction": 0.3}},
           "streams": {"in": "feed -> m.in1", "mix": "m.out -> s.in", "out": "s.out1 -> product",
                       "back": "s.out2 -> m.in2"}}
    r = simulate(parse_flowsheet(doc), feed="hdd", rate="100 kg/h")
    assert r.recycle_iterations == 3
