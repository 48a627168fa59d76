"""Break-even prices, a one-at-a-time tornado, and scale/modularity of a TEA.

Each case re-runs the cash flow of :mod:`magcycle.econ.dcf` from the TEA's
totals with one input changed (the plant is not re-simulated: prices,
capex, feed cost, discount rate and recovery act on the totals).

Scale (six-tenths rule, [C] Williams 1947; labour with the 0.25 power of
capacity [C], a common estimating rule): a plant of s times the modelled
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
    """The cash flow with the TEA's totals changed as given (see the module docstring)."""
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
    """Product-price multiplier and feed price (USD/kg on the TEA's basis) at which NPV = 0."""
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
    from magcycle.econ.prices import revenue_lines

    return sum(x["usd_per_y"] for x in revenue_lines(result.products, res.assumptions, scenario))


def tornado(result, overrides, scenario, res) -> list[dict]:
    """NPV at the low and high end of each input (sorted by swing, largest first)."""
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
    """One plant of each scale beside n identical modules making the same total."""
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
