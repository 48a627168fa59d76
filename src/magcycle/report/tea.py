"""The TEA report: a self-contained HTML page (plotly.js inline) and an Excel workbook with the same tables.

Page sections: summary, comparison with the published feasibility study,
cash-flow chart (net and cumulative per year), capex and opex breakdowns,
what leaves the plant, tornado of NPV, scale and modules, carbon per
product, the cash-flow table. Every plot is a Plotly figure in a
``data-plot`` div (:mod:`magcycle.report.plots`).
"""

from __future__ import annotations

import io
import math

from magcycle.report.html import esc, page_head
from magcycle.report.plots import cashflow_figure, figure_html, hbars_figure, tornado_figure

__all__ = ["render_tea_report", "tea_workbook"]


def _m(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x / 1e6:,.2f}"


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _table(tid: str, header: list, rows: list) -> str:
    out = [f'<table id="{tid}"><tr>' + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>")
    return "".join(out) + "</table>"


def _summary_rows(doc: dict) -> list[list[str]]:
    """The summary table: capex, opex, revenue, NPV, IRR, payback and break-even prices."""
    return [
        ["capex (fixed + working capital)", f"{_m(doc['capex_usd'])} M USD"],
        ["operating cost", f"{_m(doc['opex_usd_per_y'])} M USD/y"],
        ["revenue", f"{_m(doc['revenue_usd_per_y'])} M USD/y"],
        ["NPV", f"{_m(doc['npv_usd'])} M USD"], ["IRR", _pct(doc["irr"])],
        ["payback from start of operation", "-" if doc["payback_y"] is None else f"{doc['payback_y']:.2f} y"],
        ["break-even price multiplier", "-" if doc["breakeven"].get("price_multiplier") is None
         else f"{doc['breakeven']['price_multiplier']:.3f}"],
        ["break-even feed price", "-" if doc["breakeven"].get("feed_usd_per_kg") is None
         else f"{doc['breakeven']['feed_usd_per_kg']:.2f} USD/kg"]]


def _carbon_rows(doc: dict) -> list[list[str]]:
    """Per product: kg CO2e per kg, its allocation share and the primary production range."""
    return [[k, f"{v:.2f}", f"{doc['carbon_by_product'][k]['share']:.3f}",
             "-" if not doc["carbon_by_product"][k]["primary_kgCO2e_per_kg"]
             else "-".join(f"{x:g}" for x in doc["carbon_by_product"][k]["primary_kgCO2e_per_kg"])]
            for k, v in doc["co2e_kg_per_kg"].items()]


def _compared(item: str, v) -> str:
    """A value of the comparison with the published study, in the unit of its item."""
    if item == "irr":
        return _pct(v)
    if item == "payback_y":
        return "-" if v is None else f"{v:.2f} y"
    return f"{_m(v)} M"


def render_tea_report(doc: dict) -> str:
    """The TEA page of a tea.json document."""
    body = [f"<p>Plant {esc(doc['plant'])}, {doc['feed_t_per_y']:,.0f} t/y of feed, {esc(doc['scenario'])} prices, "
            f"discount rate {_pct(doc['discount_rate'])}.</p>"]
    body.append(_table("summary", ["measure", "value"], _summary_rows(doc)))
    body.append("<h2>Beside the published feasibility study</h2>")
    if doc["comparison"]:
        body.append(_table("comparison", ["item", "magcycle", "published", "why they differ"], [
            [c["item"], _compared(c["item"], c["magcycle"]), _compared(c["item"], c["published"]), c["why"]]
            for c in doc["comparison"]]))
    else:
        body.append(f'<p id="comparison">Not compared: the published study is a '
                    f'{doc["assumptions"]["published"]["feed_t_per_y"]:,.0f} t/y plant, this one '
                    f'{doc["feed_t_per_y"]:,.0f} t/y.</p>')
    body.append("<h2>Cash flow</h2>" + figure_html("cashflow", cashflow_figure(doc["cash_flow"])))
    body.append('<h2>Capital and operating cost</h2><div class="charts">')
    body.append(figure_html("capex", hbars_figure("Capex by line", [(x["item"], x["usd"]) for x in doc["capex_lines"]
                                                                    if x["usd"] > 0], "M USD", 1e-6)))
    body.append(figure_html("opex", hbars_figure("Operating cost by line", [(x["item"], x["usd_per_y"])
                                                                           for x in doc["opex_lines"]],
                                                 "M USD/y", 1e-6)))
    body.append("</div>")
    body.append("<h2>What leaves the plant</h2>" + _table("outlets", ["stream", "sink", "class", "amount", "USD/y",
                                                                      "basis"], [
        [o["stream"], o["sink"], o["class"], f"{o['amount']:,.1f} {o['unit']}", f"{o['usd_per_y']:,.0f}", o["basis"]]
        for o in doc.get("outlets", [])]))
    body.append("<h2>Sensitivity</h2>" + figure_html("tornado", tornado_figure(doc["sensitivity"], doc["npv_usd"])))
    body.append("<h2>Scale and modules</h2>" + _table("scale", ["capacity x", "feed t/y", "modules", "fixed capital M USD",
                                                                "NPV M USD", "IRR", "capex USD per t/y feed"], [
        [f"{r['capacity_factor']:g}", f"{r['feed_t_per_y']:,.0f}", r["modules"], _m(r["fixed_capital_usd"]),
         _m(r["npv_usd"]), _pct(r["irr"]), f"{r['capex_usd_per_t_feed_y']:,.0f}"] for r in doc["scale"]]))
    body.append("<h2>Carbon footprint</h2>")
    body.append(figure_html("carbon", hbars_figure("Emissions by source", [(x["item"], x["kgCO2e_per_y"])
                                                                          for x in doc["carbon_lines"]],
                                                   "t CO2e/y", 1e-3)))
    body.append(_table("carbon", ["product", "kg CO2e per kg", "allocation share", "primary production kg CO2e/kg"],
                       _carbon_rows(doc)))
    body.append(f"<p>Allocation: {esc(doc['assumptions']['carbon']['allocation'])}; grid "
                f"{esc(doc['assumptions']['carbon']['country'])}.</p>")
    body.append("<h2>Cash-flow table [M USD]</h2>" + _table("cashflow-table", ["year", "capex", "working capital",
                                                                            "revenue", "opex", "EBITDA", "depreciation",
                                                                            "tax", "net", "cumulative"], [
        [r["year"]] + [_m(r[k]) for k in ("capex", "working_capital", "revenue", "opex", "ebitda", "depreciation",
                                          "tax", "net", "cumulative")] for r in doc["cash_flow"]]))
    return (f"<!DOCTYPE html><html lang=\"en\">{page_head('magcycle TEA: ' + doc['plant'])}<body>"
            f"<h1>Techno-economics and carbon: {esc(doc['plant'])}</h1>" + "".join(body) + "</body></html>")


def _flatten(prefix: str, d, out: list) -> None:
    if isinstance(d, dict):
        for k, v in d.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out.append((prefix, ", ".join(map(str, d)) if isinstance(d, list) else d))


def tea_workbook(doc: dict) -> bytes:
    """The same tables as an .xlsx workbook (openpyxl)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    for k in ("plant", "scenario", "feed_t_per_y", "capex_usd", "fixed_capital_usd", "working_capital_usd",
              "opex_usd_per_y", "revenue_usd_per_y", "npv_usd", "discount_rate", "irr", "payback_y"):
        ws.append([k, doc[k]])
    for name, tkey, cols in (
            ("Capex", "capex_lines", ("item", "group", "basis", "usd")),
            ("Opex", "opex_lines", ("item", "kind", "basis", "usd_per_y")),
            ("Revenue", "revenue_lines", ("product", "oxide", "t_per_y", "usd_per_kg", "meets_spec", "usd_per_y")),
            ("Cash flow", "cash_flow", ("year", "capex", "working_capital", "revenue", "opex", "ebitda", "depreciation",
                                        "taxable", "tax", "net", "cumulative")),
            ("Carbon", "carbon_lines", ("item", "kgCO2e_per_y")),
            ("Outlets", "outlets", ("stream", "sink", "phase", "class", "amount", "unit", "usd_per_y", "basis")),
            ("Sensitivity", "sensitivity", ("input", "low", "high", "npv_low_usd", "npv_high_usd", "swing_usd")),
            ("Scale", "scale", ("capacity_factor", "feed_t_per_y", "modules", "fixed_capital_usd", "npv_usd", "irr",
                                "payback_y", "capex_usd_per_t_feed_y")),
            ("Comparison", "comparison", ("item", "magcycle", "published", "why"))):
        sh = wb.create_sheet(name)
        sh.append(list(cols))
        for r in doc[tkey]:
            sh.append([r.get(c) for c in cols])
    sh = wb.create_sheet("Carbon per kg")
    sh.append(["product", "kgCO2e_per_kg", "share"])
    for k, v in doc["co2e_kg_per_kg"].items():
        sh.append([k, v, doc["carbon_by_product"][k]["share"]])
    sh = wb.create_sheet("Assumptions")
    rows: list = []
    _flatten("", doc["assumptions"], rows)
    for k, v in rows:
        sh.append([k, v])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
