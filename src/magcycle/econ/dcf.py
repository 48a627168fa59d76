"""Discounted cash flow: NPV, IRR, payback, depreciation, the annual cash-flow table.

Conventions (stated once, used everywhere)
    Year t = 0 is the first year of construction; every cash flow falls at
    the end of its year and is discounted by (1 + r)^-(t + 1):

        NPV(r) = sum_t CF_t / (1 + r)^(t + 1)

    (the published "NPV at 7.5 %" figures of feasibility studies use the
    same end-of-year convention from the start of construction). IRR is the r
    with NPV(r) = 0, found by bracketing and Brent's method to 1e-12. Payback
    is counted from the start of operation: the time at which the
    cumulative undiscounted cash flow (construction included) turns
    positive, interpolated linearly within the year.

Cash-flow lines per year
    capex (spread over the construction years), working capital (spent at
    the start of operation, recovered in the last year), revenue and
    variable opex (times the ramp-up factor of the year), fixed opex,
    EBITDA = revenue - opex, depreciation of the fixed capital (from the
    first operating year), taxable income = EBITDA - depreciation with
    losses carried forward, tax = rate x taxable income (>= 0),
    net cash flow = EBITDA - tax - capex - working capital change.

Depreciation schedules
    straight line      D_k = C / n
    declining balance  D_k = f/n x book value, switching to straight line on
                       the remaining value when that is larger (f = 2: double)
    MACRS 7-year       the IRS half-year table (Publication 946, Table A-1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from magcycle.errors import InputError

__all__ = ["MACRS_7", "npv", "irr", "payback_years", "depreciation", "CashFlow", "cash_flow"]

#: IRS Publication 946, Table A-1 (half-year convention), 7-year property [%]
MACRS_7 = (14.29, 24.49, 17.49, 12.49, 8.93, 8.92, 8.93, 4.46)


def npv(rate: float, cash_flows: Sequence[float]) -> float:
    """Net present value [same unit as the cash flows], end-of-year convention.

    .. math:: NPV(r) = \\sum_{t=0}^{T-1} CF_t \\, (1 + r)^{-(t + 1)}

    Year t = 0 is the first year of construction; every cash flow falls at
    the end of its year.

    Parameters
    ----------
    rate : float
        r, discount rate per year [-, fraction], > -1.
    cash_flows : sequence of float
        CF_t, net cash flow of year t [currency/y].

    Returns
    -------
    float
        NPV [currency].

    Raises
    ------
    InputError
        Field ``discount_rate``: r <= -1.

    References
    ----------
    Definition of the present value with end-of-year discounting (no outside
    source). The feasibility study it is compared with ([A] WSP/BGS for
    Ionic Technologies, Nov 2024) quotes a post-tax NPV at 7.5 %.

    Examples
    --------
    >>> round(npv(0.1, [-100.0, 60.0, 60.0]), 6)        # -100/1.1 + 60/1.21 + 60/1.331
    3.756574
    >>> npv(0.0, [-100.0, 60.0, 60.0])                  # undiscounted: the plain sum
    20.0
    """
    if not rate > -1.0:
        raise InputError("discount_rate", f"must be > -100 %, got {rate!r}")
    cf = np.asarray(cash_flows, dtype=float)
    t = np.arange(1, cf.size + 1)
    return float(np.sum(cf / (1.0 + rate) ** t))


def irr(cash_flows: Sequence[float], lo: float = -0.99, hi: float = 100.0) -> float | None:
    """Internal rate of return [-]: the r in (lo, hi) with NPV(r) = 0; None when NPV keeps one sign.

    .. math:: \\sum_t CF_t \\, (1 + r)^{-(t + 1)} = 0

    (:func:`npv`). The bracket is scanned on a grid (60 linear points on
    [lo, 0), 200 log-spaced on [0, hi]) and the first sign change is refined
    by Brent's method (scipy.optimize.brentq, xtol 1e-14); cash flows with a
    single sign change have exactly one IRR.

    Parameters
    ----------
    cash_flows : sequence of float
        CF_t, net cash flow of year t [currency/y].
    lo, hi : float
        Bracket searched [-, fraction per year]; default (-0.99, 100).

    Returns
    -------
    float or None
        IRR [-, fraction per year]; None when there is no sign change in the bracket.

    References
    ----------
    Definition (no outside source); root finding by scipy's Brent method.

    Examples
    --------
    >>> round(irr([-100.0, 110.0]), 12)          # -100/1.1 + 110/1.21 = 0 at r = 0.1
    0.1
    >>> round(irr([-100.0, 60.0, 60.0]), 6)      # 60 x^2 + 60 x - 100 = 0, x = 1/(1+r) = 0.884437
    0.130662
    >>> irr([100.0, 50.0]) is None               # never negative: no IRR
    True
    """
    from scipy.optimize import brentq

    cf = [float(c) for c in cash_flows]
    grid = np.concatenate([np.linspace(lo, 0.0, 60, endpoint=False), np.expm1(np.linspace(0.0, math.log1p(hi), 200))])
    vals = [npv(r, cf) for r in grid]
    for a, b, fa, fb in zip(grid[:-1], grid[1:], vals[:-1], vals[1:]):
        if fa == 0.0:
            return float(a)
        if fa * fb < 0:
            return float(brentq(lambda r: npv(r, cf), a, b, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=200))
    return None


def payback_years(cash_flows: Sequence[float], construction_years: int) -> float | None:
    """Years from the start of operation until the cumulative cash flow turns positive (None: never).

    With C_t = sum_{k<=t} CF_k the cumulative undiscounted cash flow
    (construction included) and t* the first operating year t >= c with
    C_(t-1) < 0 <= C_t:

    .. math:: payback = (t^* - c) + \\frac{-C_{t^*-1}}{CF_{t^*}}

    (linear within the year).

    Parameters
    ----------
    cash_flows : sequence of float
        CF_t, net cash flow of year t [currency/y], t = 0 the first construction year.
    construction_years : int
        c, the number of construction years [y].

    Returns
    -------
    float or None
        Payback [y] from the start of operation; None if the cumulative flow never turns positive.

    References
    ----------
    Definition (no outside source).

    Examples
    --------
    >>> payback_years([-100.0, -50.0, 60.0, 60.0, 60.0], 2)   # C = -90, -30, 30: (4 - 2) + 30/60
    2.5
    >>> payback_years([-100.0, 10.0], 1) is None
    True
    """
    cum = 0.0
    for t, c in enumerate(cash_flows):
        prev = cum
        cum += c
        if cum >= 0 and prev < 0 and t >= construction_years:
            return (t - construction_years) + (-prev / c)
    return None


def depreciation(cost: float, years: int, method: str = "straight_line", factor: float = 2.0) -> list[float]:
    """Annual depreciation of ``cost`` [currency] over ``years`` (or the MACRS-7 table).

    .. math:: D_k = C / n \\quad\\text{(straight line)}, \\qquad
              D_k = \\max\\big(\\tfrac{f}{n} B_k, \\tfrac{B_k}{n - k}\\big) \\quad\\text{(declining balance)},
              \\qquad D_k = C \\, p_k / 100 \\quad\\text{(MACRS 7-year)},

    with B_k the book value at the start of year k (B_0 = C), k = 0..n-1,
    and p_k the percentages of :data:`MACRS_7`.

    Parameters
    ----------
    cost : float
        C, the depreciable cost [currency], >= 0.
    years : int
        n, the depreciation period [y], >= 1 (ignored for ``macrs_7``: 8 entries).
    method : str
        ``straight_line``, ``declining_balance`` or ``macrs_7``.
    factor : float
        f of the declining balance [-] (2: double declining balance).

    Returns
    -------
    list of float
        D_k [currency/y], one per year; they sum to C.

    Raises
    ------
    InputError
        Negative cost, a bad period or an unknown method.

    References
    ----------
    MACRS: IRS Publication 946, Table A-1 (half-year convention), 7-year property.

    Examples
    --------
    >>> depreciation(1000.0, 5)                     # 1000 / 5
    [200.0, 200.0, 200.0, 200.0, 200.0]
    >>> [round(d, 2) for d in depreciation(1000.0, 5, "declining_balance")]    # DDB, then straight line
    [400.0, 240.0, 144.0, 108.0, 108.0]
    >>> # 0.4 * 1000; 0.4 * 600; 0.4 * 360 (> 360/3); then 216/2 > 0.4 * 216
    >>> depreciation(1000.0, 7, "macrs_7")[:2]       # 14.29 %, 24.49 %
    [142.9, 244.9]
    """
    if cost < 0:
        raise InputError("depreciation.cost", f"must be >= 0, got {cost!r}")
    if method == "macrs_7":
        return [cost * p / 100.0 for p in MACRS_7]
    if isinstance(years, bool) or not isinstance(years, int) or years < 1:
        raise InputError("depreciation.years", f"must be a whole number >= 1, got {years!r}")
    if method == "straight_line":
        return [cost / years] * years
    if method == "declining_balance":
        out, book = [], cost
        for k in range(years):
            db = book * factor / years
            sl = book / (years - k)
            d = max(db, sl)
            out.append(d)
            book -= d
        return out
    raise InputError("depreciation.method", f"expected straight_line, declining_balance or macrs_7, got {method!r}")


@dataclass
class CashFlow:
    """The annual table (one entry per year, t = 0 first construction year) and its measures."""

    years: list[int]
    capex: list[float]
    working_capital: list[float]
    revenue: list[float]
    opex: list[float]
    ebitda: list[float]
    depreciation: list[float]
    taxable: list[float]
    tax: list[float]
    net: list[float]
    discount_rate: float
    construction_years: int
    npv: float = 0.0
    irr: float | None = None
    payback_y: float | None = None
    cumulative: list[float] = field(default_factory=list)

    def rows(self) -> list[dict]:
        """One dict per year: the year and every line of the table."""
        keys = ("capex", "working_capital", "revenue", "opex", "ebitda", "depreciation", "taxable", "tax", "net",
                "cumulative")
        return [{"year": y} | {k: getattr(self, k)[i] for k in keys} for i, y in enumerate(self.years)]


def cash_flow(*, fixed_capital: float, working_capital: float, revenue: float, variable_opex: float,
              fixed_opex: float, discount_rate: float, tax_rate: float, life_years: int,
              construction: Sequence[float] = (0.4, 0.6), ramp_up: Sequence[float] = (0.6, 0.9),
              depreciation_method: str = "straight_line", depreciation_years: int = 10) -> CashFlow:
    """The annual cash flows of a plant and their NPV, IRR and payback (module docstring).

    For year t (operating year k = t - c, capacity factor f_k from ``ramp_up``,
    1 after it):

    .. math:: EBITDA_t = f_k (Rev - VarOpex) - FixOpex, \\qquad
              Tax_t = \\tau \\max(0, EBITDA_t - D_k - L_t),

              CF_t = EBITDA_t - Tax_t - Capex_t - \\Delta WC_t,

    with L_t the losses carried forward, Capex_t = FC s_t over the
    construction years, the working capital spent in the first operating
    year and recovered in the last; NPV, IRR and payback of CF_t by
    :func:`npv`, :func:`irr` and :func:`payback_years`.

    Parameters
    ----------
    fixed_capital, working_capital : float
        FC and WC [currency], >= 0.
    revenue, variable_opex, fixed_opex : float
        Per year at full capacity [currency/y].
    discount_rate : float
        [-, fraction per year], > -1.
    tax_rate : float
        tau [-], in [0, 1).
    life_years : int
        Operating years [y], >= 1.
    construction : sequence of float
        s_t, shares of the fixed capital spent per construction year [-], summing to 1.
    ramp_up : sequence of float
        f_k, capacity factors of the first operating years [-], in [0, 1].
    depreciation_method : str, depreciation_years : int
        As :func:`depreciation`.

    Returns
    -------
    CashFlow
        The table (one entry per year) with ``npv`` [currency], ``irr`` [-] and ``payback_y`` [y].

    References
    ----------
    Standard discounted-cash-flow bookkeeping (no outside source); MACRS as
    :func:`depreciation`.

    Examples
    --------
    >>> cf = cash_flow(fixed_capital=100.0, working_capital=0.0, revenue=70.0, variable_opex=10.0,
    ...                fixed_opex=10.0, discount_rate=0.1, tax_rate=0.0, life_years=3, construction=(1.0,),
    ...                ramp_up=())
    >>> cf.net                              # -100, then 70 - 10 - 10
    [-100.0, 50.0, 50.0, 50.0]
    >>> round(cf.npv, 4), cf.payback_y      # -100/1.1 + 50 (1/1.21 + 1/1.331 + 1/1.4641); C = -100, -50, 0
    (22.1296, 2.0)
    """
    _check_terms(discount_rate, tax_rate, life_years)
    _check_schedule(construction, ramp_up, fixed_capital, working_capital)
    c = len(construction)
    T = c + life_years
    dep_sched = depreciation(fixed_capital, depreciation_years, depreciation_method)
    rows = {k: [0.0] * T for k in ("capex", "working_capital", "revenue", "opex", "ebitda", "depreciation",
                                   "taxable", "tax", "net")}
    _capital_lines(rows, fixed_capital, working_capital, construction, life_years)
    _operating_lines(rows, c, life_years, revenue, variable_opex, fixed_opex, ramp_up, dep_sched)
    _earnings_lines(rows, tax_rate)
    cum = list(np.cumsum(rows["net"]))
    cf = CashFlow(list(range(T)), discount_rate=discount_rate, construction_years=c, cumulative=[float(x) for x in cum],
                  **rows)
    cf.npv = npv(discount_rate, cf.net)
    cf.irr = irr(cf.net)
    cf.payback_y = payback_years(cf.net, c)
    return cf


def _check_terms(discount_rate: float, tax_rate: float, life_years: int) -> None:
    """InputError unless the discount rate is > -100 %, the tax rate in [0, 1) and the life a whole number >= 1."""
    if not discount_rate > -1.0:
        raise InputError("discount_rate", f"must be > -100 %, got {discount_rate!r}")
    if not 0.0 <= tax_rate < 1.0:
        raise InputError("tax_rate", f"must be in [0, 1), got {tax_rate!r}")
    if isinstance(life_years, bool) or not isinstance(life_years, int) or life_years < 1:
        raise InputError("life_years", f"must be a whole number >= 1, got {life_years!r}")


def _check_schedule(construction: Sequence[float], ramp_up: Sequence[float], fixed_capital: float,
                    working_capital: float) -> None:
    """InputError unless the capex shares are >= 0 summing to 1, the ramp-up factors in [0, 1], the capital >= 0."""
    if not construction or abs(sum(construction) - 1.0) > 1e-9 or min(construction) < 0:
        raise InputError("construction", "the capex shares per construction year must be >= 0 and sum to 1")
    if any(not 0.0 <= f <= 1.0 for f in ramp_up):
        raise InputError("ramp_up", "capacity factors must be in [0, 1]")
    for name, v in (("fixed_capital", fixed_capital), ("working_capital", working_capital)):
        if not v >= 0:
            raise InputError(name, f"must be >= 0, got {v!r}")


def _capital_lines(rows: dict, fixed_capital: float, working_capital: float, construction: Sequence[float],
                   life_years: int) -> None:
    """Capex spread over the construction years; working capital spent in the first operating year and
    recovered in the last."""
    c = len(construction)
    for t in range(c):
        rows["capex"][t] = fixed_capital * construction[t]
    rows["working_capital"][c] = working_capital
    rows["working_capital"][c + life_years - 1] -= working_capital


def _operating_lines(rows: dict, c: int, life_years: int, revenue: float, variable_opex: float, fixed_opex: float,
                     ramp_up: Sequence[float], dep_sched: list[float]) -> None:
    """Revenue and variable opex at each operating year's capacity factor, fixed opex, depreciation."""
    for k in range(life_years):  # operating year index
        t = c + k
        f = ramp_up[k] if k < len(ramp_up) else 1.0
        rows["revenue"][t] = revenue * f
        rows["opex"][t] = variable_opex * f + fixed_opex
        rows["depreciation"][t] = dep_sched[k] if k < len(dep_sched) else 0.0


def _earnings_lines(rows: dict, tax_rate: float) -> None:
    """EBITDA, taxable income with losses carried forward against later profits, tax and net cash flow."""
    loss = 0.0
    for t in range(len(rows["net"])):
        rows["ebitda"][t] = rows["revenue"][t] - rows["opex"][t]
        income = rows["ebitda"][t] - rows["depreciation"][t]
        use = min(loss, max(income, 0.0))
        taxable = income - use
        loss = loss - use + max(-income, 0.0)
        rows["taxable"][t] = max(taxable, 0.0)
        rows["tax"][t] = tax_rate * rows["taxable"][t]
        rows["net"][t] = rows["ebitda"][t] - rows["tax"][t] - rows["capex"][t] - rows["working_capital"][t]
