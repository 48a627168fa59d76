"""Self-contained HTML report of a plant run (plotly.js inline, no network request).

Sections: product/spec table, discharge, Sankey of rare-earth element flows
between units, SX stage profiles (one chart per cascade), reagents, units,
stream table. Every plot is a Plotly figure in a ``data-plot`` div
(:mod:`magcycle.report.plots`), so a browser test can check that each one
rendered.
"""

from __future__ import annotations

import html

from magcycle.chem.elements import MOLAR_MASS, RARE_EARTHS

__all__ = ["CSS", "esc", "sankey_html", "profile_html", "page_head", "render_report"]
#: the style sheet every magcycle page shares
CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.pass{color:#070;font-weight:bold}.fail{color:#b00;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:1em}.charts .plot{width:560px}.scroll{overflow-x:auto;max-height:40em}
.plot{width:100%;min-height:300px}
"""


def page_head(title: str) -> str:
    """A page's head: its title, the style sheet and plotly.js (once)."""
    from magcycle.report.plots import plotly_script

    return (f'<head><meta charset="utf-8"><title>{esc(title)}</title><style>{CSS}</style>'
            f"{plotly_script()}</head>")


def esc(x) -> str:
    """``x`` as text, HTML-escaped (quotes included)."""
    return html.escape(str(x))


def _re_kg(mol: dict) -> float:
    """Rare-earth metal in a stream's species flows [kg/h]."""
    from magcycle.chem.formula import parse_formula
    total = 0.0
    for sp, n in mol.items():
        for el, k in parse_formula(sp).items():
            if el in RARE_EARTHS:
                total += k * n * MOLAR_MASS[el] / 1000.0
    return total


def sankey_html(doc: dict) -> str:
    """Rare-earth flows [kg/h of RE metal] along the streams, as a Plotly Sankey: a node per unit (its
    name) and per stream leaving the plant ("STREAM -> SINK"), recycle tears in red."""
    from magcycle.report.plots import figure_html, sankey_figure

    links = _sankey_links(doc)
    nodes = _sankey_nodes(links)
    labels = [f"{n.split(':', 1)[1]} -> {n.split(':', 1)[0]}" if ":" in n else n for n in nodes]
    tears = set(doc.get("recycle", {}).get("tear_streams", []))
    return figure_html("sankey", sankey_figure(nodes, labels, links, tears))


def _sankey_links(doc: dict) -> list[tuple[str, str, float, str]]:
    """(source node, target node, kg/h of RE metal, stream name) of each stream carrying rare earths."""
    links = []
    for s in doc["streams"]:
        src = s["from"].split(".")[0]
        dst = s["to"].split(".")[0] if "." in s["to"] else f"{s['to']}:{s['name']}"
        kg = _re_kg(s["mol_per_h"])
        if kg > 0:
            links.append((src, dst, kg, s["name"]))
    largest = max((link[2] for link in links), default=0.0)
    return [link for link in links if link[2] > 1e-9 * largest]  # traces drawn would be invisible


def _sankey_nodes(links: list) -> list[str]:
    """The nodes of the links, in order of first appearance."""
    nodes = []
    for a, b, _, _ in links:
        for n in (a, b):
            if n not in nodes:
                nodes.append(n)
    return nodes


def profile_html(name: str, prof: dict, info: dict) -> str:
    """One cascade's aqueous stage profile (:func:`magcycle.report.plots.profile_figure`)."""
    from magcycle.report.plots import figure_html, profile_figure

    fig = profile_figure(name, prof, info.get("extraction_stages"), info.get("scrub_stages"))
    return figure_html(f"profile-{name}", fig)


def _fmt(x, digits=4):
    """A design value as text: a dash for None, floats to ``digits`` significant figures."""
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return esc(x)


def render_report(doc: dict) -> str:
    """The report of a results.json document as one HTML string."""
    rows = [_product_row(p) for p in doc["products"]]
    spec_rows = _spec_rows(doc["products"])
    reag = "".join(f"<tr><td>{esc(k)}</td><td>{v['kg_per_h']:.4g}</td><td>{v['t_per_y']:.4g}</td></tr>"
                   for k, v in doc["reagents"].items())
    profiles = "".join(profile_html(n, p, doc["units"][n]["info"]) for n, p in doc.get("sx_profiles", {}).items())
    head, srows = _stream_table(doc["streams"])
    units = "".join(_unit_row(n, u) for n, u in doc["units"].items())
    feed = doc["feed"]
    return f"""<!DOCTYPE html>
<html lang="en">{page_head(f"magcycle report: {doc['plant']}")}<body>
<h1>magcycle plant report: {esc(doc['plant'])}</h1>
<p>Feed: {esc(feed['name'])}, {feed['kg_per_h']:.4g} kg/h dry ({feed['t_per_y']:.4g} t/y at
{doc['hours_per_year']:.0f} h/y). Largest relative element closure error:
<b id="closure">{doc['closure']:.2e}</b>. Recycle: {esc(', '.join(doc['recycle']['tear_streams']) or 'none')}
({doc['recycle']['iterations']} iterations).</p>
<h2>Products</h2>
<table id="products"><tr><th>product</th><th>oxide</th><th>kg/h</th><th>t/y</th><th>REO purity</th>
<th>spec min</th><th>recovery</th><th>spec</th><th>meets spec</th></tr>{''.join(rows)}</table>
<h2>Specification checks (every element of each product)</h2>
<table id="spec"><tr><th>product</th><th>element</th><th>as</th><th>ppm</th><th>limit ppm</th><th>verdict</th></tr>
{''.join(spec_rows)}</table>
{_discharge_section(doc.get("discharge") or {})}{_warnings(doc.get("warnings") or [])}
<h2>Rare-earth flows (Sankey, kg/h of RE metal)</h2>{sankey_html(doc)}
<h2>SX stage profiles</h2><div class="charts">{profiles}</div>
<h2>Reagents</h2><table id="reagents"><tr><th>reagent</th><th>kg/h</th><th>t/y</th></tr>{reag}</table>
<h2>Units</h2><table id="units"><tr><th>unit</th><th>type</th><th>design</th><th>purchase USD</th><th>closure</th></tr>{units}</table>
<h2>Stream table (mol/h)</h2><div class="scroll"><table id="streams"><tr><th>stream</th><th>from</th><th>to</th>
<th>phase</th><th>kg/h</th><th>L/h</th>{head}</tr>{srows}</table></div>
</body></html>
"""


def _warnings(warnings: list) -> str:
    """What the run warns about (an SX cut outside its acid range), one item each (empty without)."""
    if not warnings:
        return ""
    return "<h2>Warnings</h2><ul id=\"warnings\">" + "".join(f"<li>{esc(w)}</li>" for w in warnings) + "</ul>"


def _discharge_section(discharge: dict) -> str:
    """The treated water of each effluent-treatment unit against its discharge limits (empty without one)."""
    if not discharge:
        return ""
    rows = []
    for unit, checks in discharge.items():
        for key, c in checks.items():
            value = f"{c['value']:.2f}" if key == "pH" else f"{c['mg_per_L']:.4g}"
            limit = ("-".join(f"{x:g}" for x in c["limit"]) if key == "pH" else
                     "no limit" if c["limit"] is None else f"{c['limit']:g}")
            verdict = {True: "<span class='pass'>pass</span>", False: "<span class='fail'>FAIL</span>",
                       None: "no limit"}[c["pass"]]
            rows.append(f"<tr><td>{esc(unit)}</td><td>{esc(key)}</td><td>{value}</td><td>{limit}</td>"
                        f"<td>{verdict}</td></tr>")
    return ("<h2>Discharge (treated water against its limits, mg/L)</h2><table id=\"discharge\"><tr><th>unit</th>"
            "<th>element</th><th>mg/L</th><th>limit</th><th>verdict</th></tr>" + "".join(rows) + "</table>")


def _product_row(p: dict) -> str:
    """One product's row: rate, purity against its minimum, recoveries and whether it meets spec."""
    status = ("<span class='pass'>pass</span>" if p["meets_spec"] else
              "<span class='fail'>FAIL</span>" if p["meets_spec"] is False else "not produced")
    rec = ", ".join(f"{k} {100 * v:.2f} %" for k, v in p["recovery"].items() if v is not None) or "—"
    purity = f"{100 * p['purity']:.3f} %" if p["purity"] is not None else "—"
    return (f"<tr><td>{esc(p['name'])}</td><td>{esc(p['oxide'])}</td><td>{p['kg_per_h']:.3f}</td>"
            f"<td>{p['t_per_y']:.1f}</td><td>{purity}</td><td>{100 * p['min_purity']:.2f} %</td>"
            f"<td>{rec}</td><td>{esc(p['spec'])}</td><td>{status}</td></tr>")


def _spec_rows(products: list) -> list[str]:
    """One row per product and element: how its spec judges it (a basis rare earth, another rare
    earth counted in the TREO of the purity, or an impurity against its limit or with none); then
    the reasons a product fails."""
    rows = []
    for p in products:
        for el, v in p.get("elements", {}).items():
            ppm = f"{v['ppm']:.3g}" if "ppm" in v else "—"
            limit = f"{v['max_ppm']:g}" if v.get("max_ppm") is not None else "—"
            verdict = v["verdict"].upper() if v["verdict"] == "fail" else v["verdict"]
            rows.append(f"<tr><td>{esc(p['name'])}</td><td>{esc(el)}</td><td>{esc(v['as'])}</td><td>{ppm}</td>"
                        f"<td>{limit}</td><td>{esc(verdict)}</td></tr>")
        for why in p.get("failures", []):
            rows.append(f"<tr><td>{esc(p['name'])}</td><td colspan='5' class='fail'>off spec: {esc(why)}</td></tr>")
    return rows


def _stream_table(streams: list) -> tuple[str, str]:
    """The stream table's species header cells and its rows [mol/h]."""
    species = sorted({sp for s in streams for sp in s["mol_per_h"]})
    head = "".join(f"<th>{esc(sp)}</th>" for sp in species)
    srows = "".join(
        f"<tr><td>{esc(s['name'])}</td><td>{esc(s['from'])}</td><td>{esc(s['to'])}</td><td>{esc(s['phase'])}</td>"
        f"<td>{s['kg_per_h']:.4g}</td><td>{s['L_per_h']:.4g}</td>"
        + "".join(f"<td>{s['mol_per_h'].get(sp, 0.0):.3g}</td>" for sp in species) + "</tr>"
        for s in streams)
    return head, srows


def _unit_row(n: str, u: dict) -> str:
    """One unit's row: type, design, purchase cost and closure."""
    return (f"<tr><td>{esc(n)}</td><td>{esc(u['type'])}</td>"
            f"<td>{esc(', '.join(f'{k} {_fmt(v)}' for k, v in u['design'].items()))}</td>"
            f"<td>{u['cost']['purchase_usd']:.3g}</td><td>{u['closure']:.1e}</td></tr>")
