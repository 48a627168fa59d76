"""Self-contained HTML report (inline SVG and CSS, no script, no network).

Sections: product/spec table, Sankey of rare-earth element flows between
units, SX stage profiles (one chart per cascade), reagents, stream table.
Every plot is an ``<svg>`` element with a ``data-plot`` attribute naming it,
so a browser test can check that each one rendered.
"""

from __future__ import annotations

import html
import math

from magcycle.chem.elements import MOLAR_MASS, RARE_EARTHS

__all__ = ["CSS", "esc", "sankey_svg", "profile_svg", "render_report"]

_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]
#: the style sheet every magcycle page shares
CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.pass{color:#070;font-weight:bold}.fail{color:#b00;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:1em}.scroll{overflow-x:auto;max-height:40em}
"""


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


def sankey_svg(doc: dict, width: int = 1100, height: int = 520) -> str:
    """Rare-earth flows [kg/h of RE metal] along the streams, units laid out by depth."""
    links = _sankey_links(doc)
    nodes = _sankey_nodes(links)
    tears = set(doc.get("recycle", {}).get("tear_streams", []))
    depth = _sankey_depth(nodes, links, tears)
    pos, scale = _sankey_layout(nodes, links, depth, width, height)
    parts = [f'<svg data-plot="sankey" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img"><title>Rare-earth flows, kg/h</title>']
    parts += [_sankey_link_svg(link, i, pos, scale, tears)
              for i, link in enumerate(sorted(links, key=lambda l: -l[2]))]
    parts += [_sankey_node_svg(n, box) for n, box in pos.items()]
    parts.append("</svg>")
    return "".join(parts)


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


def _sankey_depth(nodes: list, links: list, tears: set) -> dict[str, int]:
    """The column of each node: its longest path from a source along links that are not tears."""
    depth = {n: 0 for n in nodes}
    for _ in range(len(nodes)):
        for a, b, _, name in links:
            if name not in tears and depth[b] < depth[a] + 1:
                depth[b] = depth[a] + 1
    return depth


def _sankey_throughput(nodes: list, links: list) -> dict[str, float]:
    """Each node's height in kg/h: the larger of what leaves and what enters it."""
    return {n: max(sum(k for a, _, k, _ in links if a == n), sum(k for _, b, k, _ in links if b == n))
            for n in nodes}


def _sankey_layout(nodes: list, links: list, depth: dict, width: int, height: int) -> tuple[dict, float]:
    """Each node's box [x, y, h, out offset, in offset] in its column, and the scale [px per kg/h]."""
    ncol = max(depth.values(), default=0) + 1
    through = _sankey_throughput(nodes, links)
    cols: dict[int, list] = {}
    for n in nodes:
        cols.setdefault(depth[n], []).append(n)
    total = max((sum(through[n] for n in c) for c in cols.values()), default=0.0) or 1.0
    scale = (height - 60) * 0.7 / total
    pos = {}
    for d, col in cols.items():
        gap = (height - 40 - sum(through[n] * scale for n in col)) / (len(col) + 1)
        y = 20 + gap
        for n in col:
            x = 10 + d * (width - 140) / max(ncol - 1, 1)
            pos[n] = [x, y, through[n] * scale, 0.0, 0.0]  # x, y, h, out offset, in offset
            y += through[n] * scale + gap
    return pos, scale


def _sankey_link_svg(link: tuple, i: int, pos: dict, scale: float, tears: set) -> str:
    """One link as a band from its source's out side to its target's in side (advances both offsets)."""
    a, b, kg, name = link
    xa, ya, _, oa, _ = pos[a]
    xb, yb, _, _, ib = pos[b]
    w = max(kg * scale, 0.5)
    y0, y1 = ya + oa + w / 2, yb + ib + w / 2
    pos[a][3] += w
    pos[b][4] += w
    x0, x1 = xa + 12, xb
    mid = (x0 + x1) / 2
    color = "#d62728" if name in tears else _COLORS[i % len(_COLORS)]
    return (f'<path d="M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f}" '
            f'stroke="{color}" stroke-opacity="0.45" stroke-width="{w:.2f}" fill="none">'
            f'<title>{esc(name)}: {kg:.3g} kg/h RE</title></path>')


def _sankey_node_svg(n: str, box: list) -> str:
    """One node: its bar and its label (a sink's stream name)."""
    x, y, h, _, _ = box
    label = n.split(":", 1)[1] if ":" in n else n
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="{max(h, 1):.1f}" fill="#444"/>'
            f'<text x="{x + 15:.1f}" y="{y + max(h, 1) / 2 + 4:.1f}" font-size="11">{esc(label)}</text>')


def profile_svg(name: str, prof: dict, width: int = 520, height: int = 300) -> str:
    """Aqueous stage profile [mol/L, log scale] of each component of one cascade."""
    aq = prof["aqueous_mol_per_L"]
    comps = prof["components"]
    N = len(aq)
    vals = [v for row in aq for v in row if v > 0]
    lo = math.floor(math.log10(max(min(vals), 1e-30))) if vals else -12
    hi = math.ceil(math.log10(max(vals))) if vals else 0
    lo = max(lo, hi - 14)
    L, R, T, B = 50, 90, 20, 35
    def px(k):
        return L + (width - L - R) * (k / max(N - 1, 1))
    def py(v):
        lv = math.log10(max(v, 10.0 ** lo))
        return T + (height - T - B) * (hi - lv) / max(hi - lo, 1)
    parts = [f'<svg data-plot="profile-{esc(name)}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" role="img"><title>{esc(name)} aqueous profile</title>',
             f'<text x="{L}" y="14" font-size="12">{esc(name)}: aqueous [mol/L] by stage</text>',
             f'<rect x="{L}" y="{T}" width="{width - L - R}" height="{height - T - B}" fill="none" stroke="#999"/>']
    for e in range(lo, hi + 1, max(1, (hi - lo) // 7)):
        y = py(10.0 ** e)
        parts.append(f'<text x="{L - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">1e{e}</text>')
    parts.append(f'<text x="{L}" y="{height - 8}" font-size="10">stage 1</text>'
                 f'<text x="{width - R}" y="{height - 8}" font-size="10" text-anchor="end">stage {N}</text>')
    for j, c in enumerate(comps):
        pts = " ".join(f"{px(k):.1f},{py(aq[k][j]):.1f}" for k in range(N))
        color = _COLORS[j % len(_COLORS)]
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>'
                     f'<text x="{width - R + 5}" y="{T + 12 * (j + 1)}" font-size="10" fill="{color}">{esc(c)}</text>')
    parts.append("</svg>")
    return "".join(parts)


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
    profiles = "".join(profile_svg(n, p) for n, p in doc.get("sx_profiles", {}).items())
    head, srows = _stream_table(doc["streams"])
    units = "".join(_unit_row(n, u) for n, u in doc["units"].items())
    feed = doc["feed"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>magcycle report: {esc(doc['plant'])}</title>
<style>{CSS}</style></head><body>
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
<h2>Rare-earth flows (Sankey, kg/h of RE metal)</h2>{sankey_svg(doc)}
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
