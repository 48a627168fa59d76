"""Lines of the cash-flow table against hand calculations: capital, operating and earnings lines by year."""

import pytest

from magcycle.econ.dcf import cash_flow

BASE = dict(fixed_capital=1000.0, working_capital=80.0, revenue=600.0, variable_opex=200.0, fixed_opex=100.0,
            discount_rate=0.1, tax_rate=0.25, life_years=4)


def test_capex_follows_the_construction_shares_and_working_capital_comes_back_in_the_last_year():
    cf = cash_flow(**BASE, construction=(0.2, 0.3, 0.5), ramp_up=())
    assert cf.years == list(range(7)) and cf.construction_years == 3
    assert cf.capex == [200.0, 300.0, 500.0, 0.0, 0.0, 0.0, 0.0]
    assert cf.working_capital == [0.0, 0.0, 0.0, 80.0, 0.0, 0.0, -80.0]


def test_a_one_year_life_spends_and_recovers_its_working_capital_in_the_same_year():
    cf = cash_flow(**(BASE | {"life_years": 1}), construction=(1.0,), ramp_up=(0.5,))
    assert cf.working_capital == [0.0, 0.0]
    assert cf.revenue == [0.0, 300.0] and cf.opex == [0.0, 200.0]  # 0.5 x 200 + 100


def test_ramp_up_beyond_the_life_is_ignored_and_full_capacity_follows_it():
    short = cash_flow(**(BASE | {"life_years": 2}), construction=(1.0,), ramp_up=(0.5, 0.6, 0.7))
    assert short.revenue == [0.0, 300.0, 360.0]
    full = cash_flow(**BASE, construction=(1.0,), ramp_up=(0.5,))
    assert full.revenue == [0.0, 300.0, 600.0, 600.0, 600.0]
    assert full.opex == [0.0, 200.0, 300.0, 300.0, 300.0]


def test_depreciation_stops_with_the_life_or_with_its_schedule():
    # 10-year straight line over a 4-year life: 100 a year, the rest never claimed
    cf = cash_flow(**BASE, construction=(1.0,), ramp_up=(), depreciation_years=10)
    assert cf.depreciation == [0.0, 100.0, 100.0, 100.0, 100.0]
    # 2-year straight line: 500 in each of the first two operating years, then nothing
    cf = cash_flow(**BASE, construction=(1.0,), ramp_up=(), depreciation_years=2)
    assert cf.depreciation == [0.0, 500.0, 500.0, 0.0, 0.0]


def test_earnings_lines_by_hand():
    """Depreciation 500/y for two years, EBITDA 300/y: incomes -200, -200, 300, 300.
    Losses 400 carried: year 3 taxable 0 (300 of the loss used), year 4 taxable 300 - 100 = 200, tax 50."""
    cf = cash_flow(**BASE, construction=(1.0,), ramp_up=(), depreciation_years=2)
    assert cf.ebitda == [0.0, 300.0, 300.0, 300.0, 300.0]
    assert cf.taxable == [0.0, 0.0, 0.0, 0.0, 200.0]
    assert cf.tax == [0.0, 0.0, 0.0, 0.0, 50.0]
    assert cf.net == [-1000.0, 300.0 - 80.0, 300.0, 300.0, 250.0 + 80.0]
    for i in range(5):
        assert cf.net[i] == cf.ebitda[i] - cf.tax[i] - cf.capex[i] - cf.working_capital[i]
    assert cf.cumulative == [-1000.0, -780.0, -480.0, -180.0, 150.0]
    assert cf.payback_y == pytest.approx(3 + 180 / 330)
