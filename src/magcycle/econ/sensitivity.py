"""Break-even prices, a one-at-a-time tornado, and scale/modularity of a TEA.

Each case re-runs the cash flow of :mod:`magcycle.econ.dcf` from the TEA's
totals with one input changed (the plant is not re-simulated: prices,
capex, feed cost, discount rate and recovery act on the totals).

Scale (six-tenths rule, [C] Williams, Chem. Eng. 54 (1947) 124; labour
with the 0.25 power of capacity, [C] a common estimating rule, no retrieved
source): a plant of s times the modelled
capacity has fixed capital FC s^0.6, labour and overhead L s^0.25,
maintenance and insurance in proportion to its fixed capital, variable
cost and revenue in proportion to s. n identical modules of s/n each cost
n FC (s/n)^0.6 and need n L (s/n)^0.25.
"""

from __future__ import annotations

from magcycle.econ.dcf import cash_flow

__all__ = ["TORNADO", "run_case", "breakeven", "tornado", "scale_table"]

#: one-at-a-time ranges: (label, low, high) as multipliers or values
TORNADO = (
    ("product prices (low / high scenario)", "scenario", ("low", "high")),
    ("capex (-30 % / +50 %, AACE class 4)", "capex", (0.7, 1.5)),
    ("recovery (-5 % / +2 % of revenue)", "revenue", (0.95, 1.02)),
    ("feed cost (x0.5 / x2)", "feed", (0.5, 2.0)),
    ("other opex (-20 % / +20 %)", "opex", (0.8, 1.2)),
    ("discount rate (5 % / 10 %)", "rate", (0.05, 0.10)),
)


def _parts(res):
    feed = sum(x["usd_per_y"] for x in res.opex_lines if x["item"] == "feed purchase")
    fixed_kinds = {x["item"]: x["usd_per_y"] for x in res.opex_lines if x["kind"] == "fixed"}
    labour = fixed_kinds.get("labour", 0.0) + fixed_kinds.get("overhead", 0.0)
    capital_linked = fixed_kinds.get("maintenance", 0.0) + fixed_kinds.get("insurance", 0.0)
    variable = sum(x["usd_per_y"] for x in res.opex_lines if x["kind"] == "variable") - feed
    return feed, variable, labour, capital_linked


def run_case(res, *, revenue=None, capex_mult=1.0, feed_mult=1.0, opex_mult=1.0, rate=None, scale=1.0, modules=1):
    """The cash flow with the TEA's totals changed as given (see the module docstring).

    With s the capacity relative to the modelled plant, n modules of s/n
    each, and the multipliers m_c (capex), m_f (feed), m_o (other opex):

    .. math:: FC' = n \\, m_c \\, FC \\, (s/n)^{0.6}, \\qquad
              V' = s \\, (m_o V + m_f F), \\qquad
              X' = n \\, m_o L \\, (s/n)^{0.25} + m_o K \\, FC' / FC,

              Rev' = s \\, Rev, \\qquad WC' = \\tfrac{months}{12} (V' + X'),

    with F the feed purchase, V the other variable opex, L labour and
    overhead, K maintenance and insurance [USD/y]; the cash flow of
    :func:`magcycle.econ.dcf.cash_flow` with the TEA's finance terms.

    Parameters
    ----------
    res : TEAResult
        The TEA (its totals, opex lines, finance assumptions and discount rate).
    revenue : float, optional
        Rev [USD/y] at full capacity in place of the TEA's.
    capex_mult, feed_mult, opex_mult : float
        m_c, m_f, m_o [-].
    rate : float, optional
        Discount rate [-] in place of the TEA's.
    scale : float
        s [-].
    modules : int
        n [-].

    Returns
    -------
    CashFlow
        With ``npv`` [USD], ``irr`` [-] and ``payback_y`` [y].

    References
    ----------
    Six-tenths rule: [C] Williams, Chem. Eng. 54 (1947) 124. The 0.25 power
    for labour: [C] a common estimating rule, no retrieved source.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> fin = {"working_capital_months": 0, "tax_rate": 0.0, "life_years": 3, "construction": [1.0],
    ...        "ramp_up": [], "depreciation_method": "straight_line", "depreciation_years": 3}
    >>> res = NS(assumptions={"finance": fin, "opex": {"feed_usd_per_kg": 15.0}},
    ...          opex_lines=[{"item": "feed purchase", "kind": "variable", "usd_per_y": 10.0},
    ...                      {"item": "labour", "kind": "fixed", "usd_per_y": 10.0}],
    ...          fixed_capital_usd=100.0, revenue_usd_per_y=70.0, cash=NS(discount_rate=0.1),
    ...          revenue_lines=[{"product": "X", "usd_per_kg": 7.0}], feed_t_per_y=1.0)
    >>> run_case(res).net                                   # -100, then 70 - 10 - 10
    [-100.0, 50.0, 50.0, 50.0]
    >>> cf = run_case(res, scale=2.0)
    >>> round(cf.capex[0], 3), round(cf.net[1], 3)          # 100 * 2^0.6; 140 - 20 - 10 * 2^0.25
    (151.572, 108.108)
    >>> run_case(res, scale=2.0, modules=2).net             # two plants of the modelled size
    [-200.0, 100.0, 100.0, 100.0]
    """
    f = res.assumptions["finance"]
    feed, variable, labour, capital_linked = _parts(res)
    n = modules
    s = scale / n  # each module's capacity relative to the modelled plant
    fc = n * res.fixed_capital_usd * capex_mult * s ** 0.6
    var = scale * (variable * opex_mult + feed * feed_mult)
    fixed = n * (labour * opex_mult * s ** 0.25) + capital_linked * fc / res.fixed_capital_usd * opex_mult
    rev = scale * (res.revenue_usd_per_y if revenue is None else revenue)
    wc = f["working_capital_months"] / 12.0 * (var + fixed)
    return cash_flow(fixed_capital=fc, working_capital=wc, revenue=rev, variable_opex=var, fixed_opex=fixed,
                     discount_rate=res.cash.discount_rate if rate is None else rate, tax_rate=f["tax_rate"],
                     life_years=f["life_years"], construction=f["construction"], ramp_up=f["ramp_up"],
                     depreciation_method=f["depreciation_method"], depreciation_years=f["depreciation_years"])


def _root(fn, lo, hi):
    from scipy.optimize import brentq

    a, b = fn(lo), fn(hi)
    if a * b > 0:
        return None
    return float(brentq(fn, lo, hi, xtol=1e-12))


def breakeven(res) -> dict:
    """Product-price multiplier and feed price (USD/kg on the TEA's basis) at which NPV = 0.

    .. math:: NPV\\big(\\text{run\\_case}(Rev = m \\, Rev_0)\\big) = 0, \\qquad
              NPV\\big(\\text{run\\_case}(m_f = p / p_0)\\big) = 0,

    solved for m in [0, 100] and p in [0, 1e4] USD/kg by Brent's method
    (scipy.optimize.brentq, xtol 1e-12); None where NPV keeps one sign over
    the bracket. The break-even product prices are m times each product's
    price.

    Parameters
    ----------
    res : TEAResult
        The TEA; p_0 is its ``opex.feed_usd_per_kg``.

    Returns
    -------
    dict
        ``price_multiplier`` m [-], ``feed_usd_per_kg`` p [USD/kg] (None without a
        feed purchase) and ``product_prices_usd_per_kg`` [USD/kg] when m exists.

    References
    ----------
    Definition (no outside source).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> fin = {"working_capital_months": 0, "tax_rate": 0.0, "life_years": 3, "construction": [1.0],
    ...        "ramp_up": [], "depreciation_method": "straight_line", "depreciation_years": 3}
    >>> res = NS(assumptions={"finance": fin, "opex": {"feed_usd_per_kg": 15.0}},
    ...          opex_lines=[{"item": "feed purchase", "kind": "variable", "usd_per_y": 10.0},
    ...                      {"item": "labour", "kind": "fixed", "usd_per_y": 10.0}],
    ...          fixed_capital_usd=100.0, revenue_usd_per_y=70.0, cash=NS(discount_rate=0.1),
    ...          revenue_lines=[{"product": "X", "usd_per_kg": 7.0}], feed_t_per_y=1.0)
    >>> b = breakeven(res)   # A = 1/1.21 + 1/1.331 + 1/1.4641 = 2.260774; 100/1.1 = 90.909091
    >>> round(b["price_multiplier"], 6), round(b["feed_usd_per_kg"], 3)
    (0.860164, 29.683)
    >>> # m = (90.909091/A + 20) / 70;  p = 15 (60 - 90.909091/A) / 10
    """
    rev = res.revenue_usd_per_y
    feed_line = next((x for x in res.opex_lines if x["item"] == "feed purchase"), None)
    price = res.assumptions["opex"]["feed_usd_per_kg"]
    out = {"price_multiplier": _root(lambda m: run_case(res, revenue=m * rev).npv, 0.0, 100.0)}
    if feed_line is not None and price > 0:
        out["feed_usd_per_kg"] = _root(lambda p: run_case(res, feed_mult=p / price).npv, 0.0, 1e4)
    else:
        out["feed_usd_per_kg"] = None
    if out["price_multiplier"] is not None:
        out["product_prices_usd_per_kg"] = {x["product"]: out["price_multiplier"] * x["usd_per_kg"]
                                            for x in res.revenue_lines}
    return out


def _scenario_revenue(res, result, scenario):
    """Products at the scenario's prices plus the by-products (one price table for every scenario)."""
    from magcycle.econ.prices import revenue_lines

    byproducts = sum(x["usd_per_y"] for x in res.revenue_lines if x.get("kind") == "by-product")
    return byproducts + sum(x["usd_per_y"] for x in revenue_lines(result.products, res.assumptions, scenario))


def tornado(result, overrides, scenario, res) -> list[dict]:
    """NPV at the low and high end of each input (sorted by swing, largest first).

    For each row of :data:`TORNADO` the cash flow of :func:`run_case` is
    recomputed at the low and the high value (the price scenarios through
    :func:`magcycle.econ.prices.revenue_lines`);

    .. math:: swing = |NPV_{high} - NPV_{low}|.

    Parameters
    ----------
    result : PlantResult
        The solved plant (its ``products`` price the scenarios).
    overrides : mapping or None
        Not used.
    scenario : str
        Not used (the price row takes the low and high scenarios).
    res : TEAResult
        The TEA.

    Returns
    -------
    list of dict
        ``input``, ``low``, ``high``, ``npv_low_usd``, ``npv_high_usd`` and ``swing_usd`` [USD].

    References
    ----------
    The ranges are those of :data:`TORNADO` (capex -30 % / +50 %: AACE class 4).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> fin = {"working_capital_months": 0, "tax_rate": 0.0, "life_years": 3, "construction": [1.0],
    ...        "ramp_up": [], "depreciation_method": "straight_line", "depreciation_years": 3}
    >>> res = NS(assumptions={"finance": fin, "opex": {"feed_usd_per_kg": 15.0}},
    ...          opex_lines=[{"item": "feed purchase", "kind": "variable", "usd_per_y": 10.0},
    ...                      {"item": "labour", "kind": "fixed", "usd_per_y": 10.0}],
    ...          fixed_capital_usd=100.0, revenue_usd_per_y=70.0, cash=NS(discount_rate=0.1),
    ...          revenue_lines=[{"product": "X", "usd_per_kg": 7.0}], feed_t_per_y=1.0)
    >>> res.assumptions["revenue"] = {"low": {"X": 5.0}, "high": {"X": 9.0}, "off_spec_discount": 0.3}
    >>> plant = NS(products=[{"name": "X", "oxide": "X", "t_per_y": 0.01, "meets_spec": True, "produced": True}])
    >>> top = tornado(plant, None, "base", res)[0]
    >>> top["input"], round(top["npv_low_usd"], 4), round(top["npv_high_usd"], 4)   # revenue 50 and 90
    ('product prices (low / high scenario)', -23.0859, 67.3451)
    >>> # -90.909091 + (50 - 20) * 2.260774 and -90.909091 + (90 - 20) * 2.260774
    """
    rows = []
    for label, kind, (lo, hi) in TORNADO:
        vals = []
        for v in (lo, hi):
            if kind == "scenario":
                cf = run_case(res, revenue=_scenario_revenue(res, result, v))
            elif kind == "capex":
                cf = run_case(res, capex_mult=v)
            elif kind == "revenue":
                cf = run_case(res, revenue=v * res.revenue_usd_per_y)
            elif kind == "feed":
                cf = run_case(res, feed_mult=v)
            elif kind == "opex":
                cf = run_case(res, opex_mult=v)
            else:
                cf = run_case(res, rate=v)
            vals.append(cf.npv)
        rows.append({"input": label, "low": lo, "high": hi, "npv_low_usd": vals[0], "npv_high_usd": vals[1],
                     "swing_usd": abs(vals[1] - vals[0])})
    return sorted(rows, key=lambda r: -r["swing_usd"])


def scale_table(res, scales=(0.5, 1.0, 2.0, 4.0), modules=(1, 2, 4)) -> list[dict]:
    """One plant of each scale beside n identical modules making the same total.

    Each row is :func:`run_case` at ``scale`` s and ``modules`` n (rows with
    s/n < 0.25 are left out), with

    .. math:: capex\\,per\\,t = \\frac{\\sum_t Capex_t}{s \\, Q_{feed}}   \\quad [USD / (t/y)].

    Parameters
    ----------
    res : TEAResult
        The TEA; Q_feed is its ``feed_t_per_y`` [t/y].
    scales : sequence of float
        s, capacities relative to the modelled plant [-].
    modules : sequence of int
        n, module counts [-].

    Returns
    -------
    list of dict
        ``capacity_factor``, ``feed_t_per_y`` [t/y], ``modules``, ``fixed_capital_usd`` [USD],
        ``npv_usd`` [USD], ``irr`` [-], ``payback_y`` [y], ``capex_usd_per_t_feed_y``.

    References
    ----------
    As :func:`run_case` (six-tenths rule: [C] Williams, Chem. Eng. 54 (1947) 124).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> fin = {"working_capital_months": 0, "tax_rate": 0.0, "life_years": 3, "construction": [1.0],
    ...        "ramp_up": [], "depreciation_method": "straight_line", "depreciation_years": 3}
    >>> res = NS(assumptions={"finance": fin, "opex": {"feed_usd_per_kg": 15.0}},
    ...          opex_lines=[{"item": "feed purchase", "kind": "variable", "usd_per_y": 10.0},
    ...                      {"item": "labour", "kind": "fixed", "usd_per_y": 10.0}],
    ...          fixed_capital_usd=100.0, revenue_usd_per_y=70.0, cash=NS(discount_rate=0.1),
    ...          revenue_lines=[{"product": "X", "usd_per_kg": 7.0}], feed_t_per_y=1.0)
    >>> rows = scale_table(res, scales=(1.0,), modules=(1, 2))
    >>> [round(r["fixed_capital_usd"], 2) for r in rows]   # 100; 2 * 100 * 0.5^0.6
    [100.0, 131.95]
    """
    rows = []
    for s in scales:
        for n in modules:
            if s / n < 0.25:
                continue
            cf = run_case(res, scale=s, modules=n)
            rows.append({"capacity_factor": s, "feed_t_per_y": s * res.feed_t_per_y, "modules": n,
                         "fixed_capital_usd": sum(cf.capex), "npv_usd": cf.npv, "irr": cf.irr,
                         "payback_y": cf.payback_y,
                         "capex_usd_per_t_feed_y": sum(cf.capex) / (s * res.feed_t_per_y) if res.feed_t_per_y else None})
    return rows
