"""The plots of every magcycle page, on Plotly, offline.

Each page embeds plotly.js once (:func:`plotly_script`, the bundle that
ships with the ``plotly`` package: no network request) and each plot is a
``<div class="plot" data-plot="KEY">`` drawn by ``Plotly.newPlot``; when
the drawing is done the div gets ``data-rendered="true"``, which the
browser tests look for. Rare earths have one colour on every plot of every
page (:func:`element_colour`).
"""

from __future__ import annotations

import html
import json
import math
from functools import lru_cache

from magcycle.chem.elements import RARE_EARTHS

__all__ = ["PALETTE", "element_colour", "plotly_script", "figure_html", "profile_figure", "sankey_figure",
           "cashflow_figure", "hbars_figure", "tornado_figure", "histogram_figure", "bars_figure",
           "sobol_figure", "pareto_figure"]

#: 24 distinct colours (Plotly's Dark24), assigned to the rare earths in atomic order
PALETTE = ["#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#222A2A", "#B68100", "#750D86", "#EB663B",
           "#511CFB", "#00A08B", "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE", "#862A16", "#A777F1",
           "#620042", "#1616A7", "#DA60CA", "#6C4516", "#0D2A63", "#AF0038"]
_CONFIG = {"displaylogo": False, "responsive": True}


def element_colour(symbol: str) -> str:
    """The colour of a rare earth on every plot (others: grey).

    >>> element_colour("La"), element_colour("Nd") == element_colour("Nd"), element_colour("Fe")
    ('#2E91E5', True, '#7f7f7f')
    """
    order = list(RARE_EARTHS)
    return PALETTE[order.index(symbol) % len(PALETTE)] if symbol in order else "#7f7f7f"


@lru_cache(maxsize=1)
def plotly_script() -> str:
    """plotly.js, inline, for a page's head (once per page)."""
    from plotly.offline import get_plotlyjs

    return f'<script type="text/javascript">{get_plotlyjs()}</script>'


def figure_html(key: str, fig, height: int | None = None) -> str:
    """A figure as a div drawn by plotly.js on load; ``data-rendered`` is set when it is drawn."""
    import plotly.io as pio

    spec = pio.to_json(fig, validate=False).replace("</", "<\\/")
    div = f"plot-{key}"
    style = f' style="height:{height}px"' if height else ""
    return (f'<div class="plot" id="{html.escape(div)}" data-plot="{html.escape(key)}"{style}></div>'
            f'<script>(function(){{var f={spec};var el=document.getElementById({json.dumps(div)});'
            f'Plotly.newPlot(el,f.data,f.layout,{json.dumps(_CONFIG)}).then(function(){{'
            f'el.setAttribute("data-rendered","true");}});}})();</script>')


def _layout(title: str, **kw) -> dict:
    return {"title": {"text": title, "font": {"size": 14}}, "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
            "template": "plotly_white", **kw}


# ------------------------------------------------------------------ plant report
def profile_figure(name: str, prof: dict, extraction_stages: int | None = None, scrub_stages: int | None = None):
    """Aqueous stage profile of one cascade [mol/L, log axis]: stage numbers on the axis, the feed
    stage and the extraction | scrub | strip boundaries marked, one colour per element."""
    import plotly.graph_objects as go

    aq = prof["aqueous_mol_per_L"]
    stages = list(range(1, len(aq) + 1))
    fig = go.Figure()
    for j, comp in enumerate(prof["components"]):
        y = [row[j] if row[j] > 0 else None for row in aq]  # a log axis shows no zero: a gap, not a floor
        fig.add_trace(go.Scatter(x=stages, y=y, mode="lines+markers", name=comp, marker={"size": 4},
                                 line={"color": element_colour(comp)},
                                 hovertemplate=f"{comp} stage %{{x}}: %{{y:.3e}} mol/L<extra></extra>"))
    shapes, notes = [], []
    if extraction_stages:
        n, m = extraction_stages, scrub_stages or 0
        shapes.append(_vline(n + 0.5, "#999", "dot"))
        notes.append(_note(n + 0.5, f"feed (stage {n})") | {"yanchor": "top", "bgcolor": "white"})
        if m:
            shapes.append(_vline(n + m + 0.5, "#999", "dot"))
            notes.append(_note((n + n + m + 1) / 2, "scrub"))
        notes.append(_note((1 + n) / 2, "extraction"))
    fig.update_layout(**_layout(f"{name}: aqueous by stage", shapes=shapes, annotations=notes, height=340,
                                xaxis={"title": "stage (1 = raffinate end)", "dtick": max(1, len(aq) // 12)},
                                yaxis={"title": "mol/L", "type": "log", "exponentformat": "power",
                                       "dtick": _decade_step(aq)}))
    return fig


def _decade_step(rows: list) -> int:
    """Decades between log-axis ticks: every decade up to eight, then fewer (one label per tick).

    >>> _decade_step([[1e-3, 1.0]]), _decade_step([[1e-40, 1.0]])
    (1, 5)
    """
    vals = [v for row in rows for v in row if v > 0]
    if not vals:
        return 1
    span = math.log10(max(vals)) - math.log10(min(vals))
    return max(1, math.ceil(span / 8))


def _vline(x: float, colour: str, dash: str) -> dict:
    return {"type": "line", "x0": x, "x1": x, "y0": 0, "y1": 1, "yref": "paper",
            "line": {"color": colour, "dash": dash, "width": 1}}


def _note(x: float, text: str) -> dict:
    return {"x": x, "y": 1.0, "yref": "paper", "text": text, "showarrow": False, "font": {"size": 10},
            "yanchor": "bottom"}


def sankey_figure(nodes: list[str], labels: list[str], links: list[tuple], tears: set):
    """Rare-earth flows [kg/h of RE metal]: ``links`` = [(source, target, kg/h, stream)] between
    ``nodes`` (unique ids) shown as ``labels``; recycle tears in red."""
    import plotly.graph_objects as go

    index = {n: i for i, n in enumerate(nodes)}
    colours = ["rgba(214,39,40,0.5)" if name in tears else "rgba(31,119,180,0.35)" for *_, name in links]
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat=".3g", valuesuffix=" kg/h",
        node={"label": labels, "pad": 14, "thickness": 14, "color": "#555"},
        link={"source": [index[a] for a, _, _, _ in links], "target": [index[b] for _, b, _, _ in links],
              "value": [kg for _, _, kg, _ in links], "label": [name for *_, name in links], "color": colours}))
    fig.update_layout(**_layout("Rare-earth flows, kg/h of RE metal (recycle in red)", height=560))
    return fig


# ------------------------------------------------------------------ TEA
def cashflow_figure(rows: list):
    """Net cash flow per year (bars) and cumulative (line) [M USD]."""
    import plotly.graph_objects as go

    years = [r["year"] for r in rows]
    net = [r["net"] / 1e6 for r in rows]
    fig = go.Figure([go.Bar(x=years, y=net, name="net cash flow",
                            marker={"color": ["#2ca02c" if v >= 0 else "#d62728" for v in net]},
                            hovertemplate="year %{x}: %{y:,.2f} M USD<extra>net</extra>"),
                     go.Scatter(x=years, y=[r["cumulative"] / 1e6 for r in rows], name="cumulative",
                                mode="lines+markers", line={"color": "#1f77b4"},
                                hovertemplate="year %{x}: %{y:,.2f} M USD<extra>cumulative</extra>")])
    fig.update_layout(**_layout("Cash flow", height=360, xaxis={"title": "year (0: construction)"},
                                yaxis={"title": "M USD"}, legend={"orientation": "h", "y": -0.2}))
    return fig


def hbars_figure(title: str, rows: list, unit: str, scale: float = 1.0):
    """Horizontal bars of non-negative values, largest on top: rows = [(label, value)]."""
    import plotly.graph_objects as go

    rows = sorted(rows, key=lambda r: r[1])
    fig = go.Figure(go.Bar(x=[v * scale for _, v in rows], y=[label for label, _ in rows], orientation="h",
                           marker={"color": "#1f77b4"}, hovertemplate=f"%{{y}}: %{{x:,.3g}} {unit}<extra></extra>"))
    fig.update_layout(**_layout(title, height=120 + 22 * len(rows), xaxis={"title": unit},
                                margin={"l": 230, "r": 20, "t": 40, "b": 50}))
    return fig


def tornado_figure(rows: list, base: float):
    """NPV at the low and the high end of each input, as bars from the base NPV [M USD]."""
    import plotly.graph_objects as go

    rows = list(reversed(rows))  # the largest swing on top
    labels = [r["input"] for r in rows]
    fig = go.Figure()
    for key, name, colour in (("npv_low_usd", "low end of the input", "#d62728"),
                              ("npv_high_usd", "high end of the input", "#2ca02c")):
        fig.add_trace(go.Bar(y=labels, x=[(r[key] - base) / 1e6 for r in rows], base=base / 1e6, orientation="h",
                             name=name, marker={"color": colour},
                             hovertemplate="%{y}: NPV %{x:,.1f} M USD<extra></extra>"))
    fig.update_layout(**_layout(f"NPV at the ends of each input (base {base / 1e6:,.1f} M USD)", barmode="overlay",
                                height=160 + 26 * len(rows), xaxis={"title": "NPV, M USD"},
                                margin={"l": 230, "r": 20, "t": 40, "b": 50},
                                shapes=[_vline_x(base / 1e6)], legend={"orientation": "h", "y": -0.25}))
    return fig


def _vline_x(x: float) -> dict:
    return {"type": "line", "x0": x, "x1": x, "y0": 0, "y1": 1, "yref": "paper", "line": {"color": "#333"}}


# ------------------------------------------------------------------ uncertainty and design
def histogram_figure(name: str, hist: dict, limits: dict):
    """A metric's histogram (counts per bin) with its spec limits drawn."""
    import plotly.graph_objects as go

    edges, counts = hist["edges"], hist["counts"]
    mids = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
    fig = go.Figure(go.Bar(x=mids, y=counts, width=widths, marker={"color": "#1f77b4"}, name="samples",
                           hovertemplate="%{x:.6g}: %{y} samples<extra></extra>"))
    shapes, notes = [], []
    for label, v in limits.items():
        if v is not None and math.isfinite(v):
            shapes.append({"type": "line", "x0": v, "x1": v, "y0": 0, "y1": 1, "yref": "paper",
                           "line": {"color": "#b00", "dash": "dash"}})
            notes.append({"x": v, "y": 1, "yref": "paper", "text": f"{label} {v:.6g}", "showarrow": False,
                          "font": {"color": "#b00", "size": 10}, "yanchor": "bottom"})
    fig.update_layout(**_layout(name, height=300, bargap=0, shapes=shapes, annotations=notes,
                                xaxis={"title": name}, yaxis={"title": "samples (count)"}))
    return fig


def bars_figure(title: str, rows: list, axis: str):
    """Horizontal bars of one value per label (a rank correlation): rows = [(label, value)]."""
    import plotly.graph_objects as go

    rows = list(reversed(rows))
    fig = go.Figure(go.Bar(y=[r[0] for r in rows], x=[r[1] for r in rows], orientation="h",
                           marker={"color": ["#1f77b4" if r[1] >= 0 else "#ff7f0e" for r in rows]},
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(**_layout(title, height=140 + 22 * len(rows), xaxis={"title": axis, "range": [-1, 1]},
                                margin={"l": 200, "r": 20, "t": 40, "b": 50}))
    return fig


def sobol_figure(title: str, rows: list):
    """First- and total-order Sobol indices with their confidence intervals: rows = [(parameter,
    {S1, S1_conf, ST, ST_conf})]."""
    import plotly.graph_objects as go

    rows = list(reversed(rows))
    labels = [r[0] for r in rows]
    fig = go.Figure()
    for key, name, colour in (("S1", "first order S1", "#1f77b4"), ("ST", "total order ST", "#ff7f0e")):
        vals = [_finite(r[1].get(key)) for r in rows]
        conf = [_finite(r[1].get(f"{key}_conf")) for r in rows]
        fig.add_trace(go.Bar(y=labels, x=vals, orientation="h", name=name, marker={"color": colour},
                             error_x={"type": "data", "array": conf, "visible": True},
                             hovertemplate="%{y}: %{x:.3f}<extra>" + name + "</extra>"))
    fig.update_layout(**_layout(title, barmode="group", height=160 + 40 * len(rows),
                                xaxis={"title": "Sobol index (bars: 95 % interval)"},
                                margin={"l": 200, "r": 20, "t": 40, "b": 50},
                                legend={"orientation": "h", "y": -0.2}))
    return fig


def _finite(v):
    return v if isinstance(v, (int, float)) and math.isfinite(v) else None


def pareto_figure(points: list, required: float, chosen, xlabel: str):
    """P(meets spec) and its lower bound against cost for every design tried; the required
    probability drawn, the chosen design marked."""
    import plotly.graph_objects as go

    pts = sorted(points, key=lambda p: p["x"])
    fig = go.Figure([
        go.Scatter(x=[p["x"] for p in pts], y=[p["p"] for p in pts], mode="markers+lines", name="P(meets spec)",
                   text=[p["label"] for p in pts], marker={"color": "#1f77b4"},
                   error_y={"type": "data", "symmetric": False, "array": [0.0] * len(pts),
                            "arrayminus": [p["p"] - p["lower"] for p in pts]},
                   hovertemplate="%{text}: P %{y:.4f} at %{x}<extra></extra>"),
        go.Scatter(x=[p["x"] for p in pts if p["x"] == chosen], y=[p["p"] for p in pts if p["x"] == chosen],
                   mode="markers", name="chosen", marker={"color": "#2ca02c", "size": 14, "symbol": "star"})])
    fig.update_layout(**_layout("Probability of meeting spec against cost", height=360,
                                xaxis={"title": xlabel}, yaxis={"title": "P(meets spec) (bar: lower bound)"},
                                shapes=[{"type": "line", "x0": 0, "x1": 1, "xref": "paper", "y0": required,
                                         "y1": required, "line": {"color": "#b00", "dash": "dash"}}],
                                annotations=[{"x": 1, "xref": "paper", "y": required, "text": f"required {required:g}",
                                              "showarrow": False, "font": {"color": "#b00", "size": 10},
                                              "xanchor": "right", "yanchor": "bottom"}]))
    return fig
