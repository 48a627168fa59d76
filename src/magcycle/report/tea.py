"""The TEA report: a self-contained HTML page (inline SVG) and an Excel workbook with the same tables.

Page sections: summary, comparison with the published feasibility study,
cash-flow chart (net and cumulative per year), capex and opex breakdowns,
tornado of NPV, scale and modules, carbon per product, the cash-flow table.
Every plot is an ``<svg>`` with a ``data-plot`` attribute.
"""

from __future__ import annotations

import io
import math

from magcycle.report.html import CSS, esc

__all__ = ["hbars_svg", "tornado_svg", "cashflow_svg", "render_tea_report", "tea_workbook"]


def _m(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x / 1e6:,.2f}"


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def hbars_svg(key: str, title: str, rows: list, width=620, unit="M USD", scale=1e-6) -> str:
    """Horizontal bars of non-negative values: rows = [(label, value)]."""
    pad_l, pad_t, row_h = 230, 22, 18
    height = pad_t + row_h * len(rows) + 10
    W = width - pad_l - 90
    top = max([v for _, v in rows] + [1e-300])
    parts = [f'<svg data-plot="{esc(key)}" width="{width}" height="{height}" role="img">',
             f'<text x="4" y="14" font-size="12">{esc(title)}</text>']
    for i, (label, v) in enumerate(rows):
        y = pad_t + i * row_h
        w = max(0.5, v / top * W)
        parts.append(f'<text x="{pad_l - 6}" y="{y + 12}" font-size="11" text-anchor="end">{esc(label[:34])}</text>'
                     f'<rect class="bar" x="{pad_l}" y="{y + 2}" width="{w:.1f}" height="13" fill="#1f77b4"/>'
                     f'<text x="{pad_l + w + 4:.1f}" y="{y + 12}" font-size="10">{v * scale:,.2f} {unit}</text>')
    parts.append("</svg>")
    return "".join(parts)


def tornado_svg(rows: list, base: float, width=620) -> str:
    pad_l, pad_t, row_h = 230, 22, 20
    height = pad_t + row_h * len(rows) + 40
    W = width - pad_l - 20
    vals = [base] + [r["npv_low_usd"] for r in rows] + [r["npv_high_usd"] for r in rows]
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0

    def X(v):
        return pad_l + (v - lo) / span * W

    parts = [f'<svg data-plot="tornado" width="{width}" height="{height}" role="img">',
             '<text x="4" y="14" font-size="12">NPV at the low and high end of each input [M USD]</text>']
    for i, r in enumerate(rows):
        y = pad_t + i * row_h
        parts.append(f'<text x="{pad_l - 6}" y="{y + 13}" font-size="11" text-anchor="end">{esc(r["input"][:36])}</text>')
        for v, color in ((r["npv_low_usd"], "#d62728"), (r["npv_high_usd"], "#2ca02c")):
            x0, x1 = sorted((X(base), X(v)))
            parts.append(f'<rect class="bar" x="{x0:.1f}" y="{y + 3}" width="{max(0.5, x1 - x0):.1f}" height="14" '
                         f'fill="{color}"><title>{v / 1e6:,.1f} M USD</title></rect>')
    parts.append(f'<line x1="{X(base):.1f}" x2="{X(base):.1f}" y1="{pad_t}" y2="{height - 20}" stroke="#333"/>'
                 f'<text x="{X(base):.1f}" y="{height - 6}" font-size="10" text-anchor="middle">base '
                 f'{base / 1e6:,.1f}</text>'
                 f'<rect x="4" y="{height - 16}" width="10" height="10" fill="#d62728"/>'
                 f'<text x="18" y="{height - 7}" font-size="10">low end of the input</text>'
                 f'<rect x="4" y="{height - 30}" width="10" height="10" fill="#2ca02c"/>'
                 f'<text x="18" y="{height - 21}" font-size="10">high end</text></svg>')
    return "".join(parts)


def cashflow_svg(rows: list, width=760, height=300) -> str:
    pad_l, pad_b, pad_t = 70, 30, 20
    W, H = width - pad_l - 10, height - pad_b - pad_t
    net = [r["net"] for r in rows]
    cum = [r["cumulative"] for r in rows]
    lo, hi = min(net + cum + [0.0]), max(net + cum + [0.0])
    span = (hi - lo) or 1.0
    bw = W / len(rows)

    def Y(v):
        return pad_t + (hi - v) / span * H

    parts = [f'<svg data-plot="cashflow" width="{width}" height="{height}" role="img">']
    for i, v in enumerate(net):
        y0, y1 = sorted((Y(0.0), Y(v)))
        parts.append(f'<rect class="bar" x="{pad_l + i * bw + 1:.1f}" y="{y0:.1f}" width="{bw - 2:.1f}" '
                     f'height="{max(0.5, y1 - y0):.1f}" fill="{"#2ca02c" if v >= 0 else "#d62728"}">'
                     f'<title>year {rows[i]["year"]}: {v / 1e6:,.2f} M USD</title></rect>')
    pts = " ".join(f"{pad_l + (i + 0.5) * bw:.1f},{Y(v):.1f}" for i, v in enumerate(cum))
    parts.append(f'<polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    parts.append(f'<line x1="{pad_l}" x2="{pad_l + W}" y1="{Y(0):.1f}" y2="{Y(0):.1f}" stroke="#333"/>'
                 f'<text x="{pad_l - 4}" y="{Y(hi) + 10:.1f}" font-size="10" text-anchor="end">{hi / 1e6:,.0f} M</text>'
                 f'<text x="{pad_l - 4}" y="{Y(lo):.1f}" font-size="10" text-anchor="end">{lo / 1e6:,.0f} M</text>'
                 f'<text x="{pad_l}" y="{height - 8}" font-size="10">year 0 (construction)</text>'
                 f'<text x="{pad_l + W}" y="{height - 8}" font-size="10" text-anchor="end">year {rows[-1]["year"]}'
                 '</text></svg>')
    return "".join(parts)


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
    body.append(_table("comparison", ["item", "magcycle", "published", "why they differ"], [
        [c["item"], _compared(c["item"], c["magcycle"]), _compared(c["item"], c["published"]), c["why"]]
        for c in doc["comparison"]]))
    body.append("<h2>Cash flow</h2>" + cashflow_svg(doc["cash_flow"]))
    body.append('<h2>Capital and operating cost</h2><div class="charts">')
    body.append(hbars_svg("capex", "Capex by line [M USD]", [(x["item"], x["usd"]) for x in doc["capex_lines"]
                                                             if x["usd"] > 0]))
    body.append(hbars_svg("opex", "Operating cost by line [M USD/y]", [(x["item"], x["usd_per_y"])
                                                                       for x in doc["opex_lines"]]))
    body.append("</div>")
    body.append("<h2>What leaves the plant</h2>" + _table("outlets", ["stream", "sink", "class", "amount", "USD/y",
                                                                      "basis"], [
        [o["stream"], o["sink"], o["class"], f"{o['amount']:,.1f} {o['unit']}", f"{o['usd_per_y']:,.0f}", o["basis"]]
        for o in doc.get("outlets", [])]))
    body.append("<h2>Sensitivity</h2>" + tornado_svg(doc["sensitivity"], doc["npv_usd"]))
    body.append("<h2>Scale and modules</h2>" + _table("scale", ["capacity x", "feed t/y", "modules", "fixed capital M USD",
                                                                "NPV M USD", "IRR", "capex USD per t/y feed"], [
        [f"{r['capacity_factor']:g}", f"{r['feed_t_per_y']:,.0f}", r["modules"], _m(r["fixed_capital_usd"]),
         _m(r["npv_usd"]), _pct(r["irr"]), f"{r['capex_usd_per_t_feed_y']:,.0f}"] for r in doc["scale"]]))
    body.append("<h2>Carbon footprint</h2>")
    body.append(hbars_svg("carbon", "Emissions by source [t CO2e/y]", [(x["item"], x["kgCO2e_per_y"])
                                                                       for x in doc["carbon_lines"]],
                          unit="t", scale=1e-3))
    body.append(_table("carbon", ["product", "kg CO2e per kg", "allocation share", "primary production kg CO2e/kg"],
                       _carbon_rows(doc)))
    body.append(f"<p>Allocation: {esc(doc['assumptions']['carbon']['allocation'])}; grid "
                f"{esc(doc['assumptions']['carbon']['country'])}.</p>")
    body.append("<h2>Cash-flow table [M USD]</h2>" + _table("cashflow-table", ["year", "capex", "working capital",
                                                                            "revenue", "opex", "EBITDA", "depreciation",
                                                                            "tax", "net", "cumulative"], [
        [r["year"]] + [_m(r[k]) for k in ("capex", "working_capital", "revenue", "opex", "ebitda", "depreciation",
                                          "tax", "net", "cumulative")] for r in doc["cash_flow"]]))
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>magcycle TEA: "
            f"{esc(doc['plant'])}</title><style>{CSS}</style></head><body><h1>Techno-economics and carbon: "
            f"{esc(doc['plant'])}</h1>" + "".join(body) + "</body></html>")


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
