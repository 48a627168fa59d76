"""A CascadeResult never holds a NaN or an infinity: it refuses them where it is built.

Results are made here by hand around a solved cascade, with one number
spoiled, as no solver returns one.
"""

import numpy as np
import pytest

from magcycle.errors import ConvergenceError, MassBalanceError
from magcycle.sx import CascadeSpec, solve
from magcycle.sx.result import CascadeResult, Outlet, checked_closure


@pytest.fixture(scope="module")
def solved():
    spec = CascadeSpec.from_dict({"cascade": {"model": "constant_d", "extraction_stages": 4, "scrub_stages": 2},
                                  "flows": {"organic": 1.0, "feed": 1.0, "scrub": 0.5},
                                  "feed": {"Pr": 0.2, "Nd": 0.3}, "model": {"D": {"Pr": 0.5, "Nd": 2.0}}})
    return solve(spec)


def rebuilt(r, **changes):
    fields = {"spec": r.spec, "converged": True, "iterations": 1, "closure": r.closure, "outlets": r.outlets,
              "profile": (r.aqueous, r.organic, r.residual)}
    return CascadeResult(**(fields | changes))


@pytest.mark.parametrize("closure", [float("nan"), float("inf"), 1e-6])
def test_a_closure_that_is_not_finite_or_too_large_is_refused(solved, closure):
    with pytest.raises(MassBalanceError):
        rebuilt(solved, closure=closure)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_an_outlet_flow_that_is_not_finite_fails_the_closure(solved, bad):
    outlets = dict(solved.outlets)
    flows = outlets["extract"].mol_per_h.copy()
    flows[1] = bad
    outlets["extract"] = Outlet(outlets["extract"].flow_L_per_h, flows)
    with pytest.raises(MassBalanceError) as info:
        checked_closure(solved.spec, outlets)
    assert "Nd" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("part", [0, 1, 2])
def test_a_stage_profile_or_residual_that_is_not_finite_is_refused(solved, part):
    profile = [np.array(solved.aqueous), np.array(solved.organic), solved.residual]
    if part == 2:
        profile[2] = float("nan")
    else:
        profile[part][3, 1] = np.inf
    with pytest.raises(ConvergenceError) as info:
        rebuilt(solved, profile=tuple(profile))  # given at once: refused when built
    message = str(info.value)
    assert "not finite" in message and "\n" not in message
    if part < 2:
        assert "stage 4 (Nd)" in message
    lazy = rebuilt(solved, profile=lambda: tuple(profile))  # built on first use: refused then
    with pytest.raises(ConvergenceError):
        lazy.to_dict()


def test_finite_stage_values_whose_sum_overflows_are_accepted(solved):
    huge = np.full_like(solved.aqueous, 1e308)  # finite, though their sum is not
    assert rebuilt(solved, profile=(huge, solved.organic, solved.residual)).aqueous is huge
