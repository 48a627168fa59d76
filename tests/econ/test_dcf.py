"""NPV, IRR, payback and depreciation against hand calculations, textbook tables and polynomial roots."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle.econ.dcf import MACRS_7, cash_flow, depreciation, irr, npv, payback_years
from magcycle.errors import InputError


def test_npv_by_hand():
    # end-of-year convention from the start: -1000/1.1 + 300/1.1^2 + 400/1.1^3 + 500/1.1^4
    hand = -1000 / 1.1 + 300 / 1.21 + 400 / 1.331 + 500 / 1.4641
    assert npv(0.1, [-1000, 300, 400, 500]) == pytest.approx(hand, rel=1e-15)
    assert npv(0.0, [-1000, 300, 400, 500]) == 200


def test_irr_of_a_two_period_project_and_by_polynomial_roots():
    # -100 then +121 a year later... with the end-of-year convention: -100/(1+r) + 121/(1+r)^2 = 0 -> r = 0.21
    assert irr([-100.0, 121.0]) == pytest.approx(0.21, abs=1e-13)
    cf = [-1000.0, 300.0, 400.0, 500.0, 200.0]
    r = irr(cf)
    # independent: x = 1/(1+r) solves sum CF_t x^(t+1) = 0; the real root in (0, 1)
    roots = np.roots(list(reversed([0.0] + cf)))
    x = [z.real for z in roots if abs(z.imag) < 1e-12 and 0 < z.real < 1]
    assert len(x) == 1
    assert r == pytest.approx(1 / x[0] - 1, rel=1e-10)
    assert abs(npv(r, cf)) < 1e-8


@given(st.lists(st.floats(1.0, 1e6), min_size=1, max_size=25), st.floats(1e3, 1e7))
@settings(max_examples=80, deadline=None)
def test_irr_zeroes_the_npv(inflows, outlay):
    """One sign change: exactly one IRR, and NPV there is zero to 1e-8 of the outlay."""
    cf = [-outlay] + inflows
    r = irr(cf)
    if sum(inflows) <= outlay:
        assert r is None or r <= 0
    if r is not None:
        assert abs(npv(r, cf)) <= 1e-8 * outlay


def test_irr_is_none_when_npv_keeps_its_sign():
    assert irr([100.0, 50.0]) is None


def test_payback_by_hand():
    # two construction years, then operation from year 2: cumulative -100, -150, -90, -30, +30;
    # zero half-way through year 4, i.e. two whole operating years (2, 3) and half of the third
    assert payback_years([-100, -50, 60, 60, 60], 2) == pytest.approx(2.5)
    assert payback_years([-100, 10, 10], 1) is None


def test_depreciation_schedules_from_textbooks():
    assert depreciation(10_000.0, 4) == [2500.0] * 4
    # double-declining balance switching to straight line (any engineering-economy text):
    # 1000 over 5 y: 400, 240, 144, then the remaining 216 straight over 2 years
    assert depreciation(1000.0, 5, "declining_balance") == pytest.approx([400, 240, 144, 108, 108])
    # IRS Publication 946, Table A-1, 7-year property, half-year convention
    d = depreciation(10_000.0, 7, "macrs_7")
    assert [round(x) for x in d] == [1429, 2449, 1749, 1249, 893, 892, 893, 446]
    assert sum(MACRS_7) == pytest.approx(100.0)
    for method in ("straight_line", "declining_balance"):
        assert sum(depreciation(777.0, 9, method)) == pytest.approx(777.0)


def test_cash_flow_without_tax_is_the_hand_series():
    cf = cash_flow(fixed_capital=1000, working_capital=0, revenue=500, variable_opex=150, fixed_opex=50,
                   discount_rate=0.08, tax_rate=0.0, life_years=3, construction=[1.0], ramp_up=[])
    assert cf.net == [-1000, 300, 300, 300]
    assert cf.npv == pytest.approx(-1000 / 1.08 + 300 / 1.08 ** 2 + 300 / 1.08 ** 3 + 300 / 1.08 ** 4)


def test_cash_flow_with_tax_losses_carried_forward_and_working_capital():
    """By hand: capex 900 over one year; WC 50 at start, back at the end; life 3; straight line 3 y (300/y);
    ramp 0.5 then full. Revenue 1000, variable 400, fixed 100.
    year 1: rev 500, opex 300, EBITDA 200, income 200 - 300 = -100 (loss carried)
    year 2: EBITDA 500, income 200, less the 100 loss -> taxable 100, tax 30
    year 3: EBITDA 500, income 200, taxable 200, tax 60"""
    cf = cash_flow(fixed_capital=900, working_capital=50, revenue=1000, variable_opex=400, fixed_opex=100,
                   discount_rate=0.1, tax_rate=0.3, life_years=3, construction=[1.0], ramp_up=[0.5],
                   depreciation_years=3)
    assert cf.ebitda == [0, 200, 500, 500]
    assert cf.taxable == [0, 0, 100, 200]
    assert cf.tax == pytest.approx([0, 0, 30, 60])
    assert cf.net == pytest.approx([-900, 200 - 50, 470, 440 + 50])
    assert cf.cumulative[-1] == pytest.approx(sum(cf.net))


@pytest.mark.parametrize("kwargs,field", [
    ({"discount_rate": -1.0}, "discount_rate"), ({"discount_rate": -2.0}, "discount_rate"),
    ({"tax_rate": 1.0}, "tax_rate"), ({"life_years": 0}, "life_years"),
    ({"construction": [0.5, 0.6]}, "construction"), ({"ramp_up": [1.5]}, "ramp_up"),
    ({"fixed_capital": -1.0}, "fixed_capital")])
def test_bad_cash_flow_inputs(kwargs, field):
    base = dict(fixed_capital=100, working_capital=0, revenue=50, variable_opex=10, fixed_opex=5,
                discount_rate=0.1, tax_rate=0.2, life_years=5)
    with pytest.raises(InputError) as e:
        cash_flow(**(base | kwargs))
    assert e.value.field == field
    with pytest.raises(InputError):
        npv(-1.0, [1.0])
    assert math.isfinite(npv(-0.5, [1.0]))
