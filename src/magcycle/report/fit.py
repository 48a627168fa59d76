"""A shake-out fit as a page: the parameters with their 95 % intervals, a parity plot of log10 D
(measured against fitted, one colour per element) and the residuals against pH, and the block to
paste into a cascade file. plotly.js is inline: the page opens offline. Every text is escaped."""

from __future__ import annotations

from magcycle.report.html import esc, page_head
from magcycle.report.plots import element_colour, figure_html

__all__ = ["parity_figure", "residual_figure", "render_fit_report"]


def _by_element(doc_rows: dict):
    for el in dict.fromkeys(doc_rows["element"]):
        idx = [i for i, e in enumerate(doc_rows["element"]) if e == el]
        yield el, idx


def parity_figure(rows: dict):
    """Measured against fitted log10 D, with the line of equality."""
    import plotly.graph_objects as go

    fig = go.Figure()
    lo = min(rows["observed"] + rows["predicted"])
    hi = max(rows["observed"] + rows["predicted"])
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="equal", line={"color": "#999",
                                                                                        "dash": "dash"}))
    for el, idx in _by_element(rows):
        fig.add_trace(go.Scatter(x=[rows["predicted"][i] for i in idx], y=[rows["observed"][i] for i in idx],
                                 mode="markers", name=el, marker={"color": element_colour(el)}))
    fig.update_layout(title={"text": "Parity: measured against fitted log10 D", "font": {"size": 14}},
                      template="plotly_white", xaxis_title="fitted log10 D", yaxis_title="measured log10 D",
                      margin={"l": 60, "r": 20, "t": 40, "b": 50})
    return fig


def residual_figure(rows: dict):
    """Residual log10 D (measured - fitted) against pH."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for el, idx in _by_element(rows):
        fig.add_trace(go.Scatter(x=[rows["pH"][i] for i in idx],
                                 y=[rows["observed"][i] - rows["predicted"][i] for i in idx],
                                 mode="markers", name=el, marker={"color": element_colour(el)}))
    fig.update_layout(title={"text": "Residuals of log10 D against pH", "font": {"size": 14}},
                      template="plotly_white", xaxis_title="pH", yaxis_title="measured - fitted log10 D",
                      margin={"l": 60, "r": 20, "t": 40, "b": 50})
    return fig


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.5g}"


def render_fit_report(doc: dict) -> str:
    """The page of a fit document (:meth:`magcycle.sx.fit.FitResult.to_dict` plus ``rows``)."""
    body = []
    for el, f in doc["elements"].items():
        for name, value in f["parameters"].items():
            ci = (f["interval_95"] or {}).get(name)
            body.append(f"<tr><td>{esc(el)}</td><td>{esc(name)}</td><td>{_fmt(value)}</td>"
                        f"<td>{'-' if ci is None else esc(f'{ci[0]:.5g} to {ci[1]:.5g}')}</td>"
                        f"<td>{f['points']}</td><td>{_fmt(f['residual_rms_log10_D'])}</td></tr>")
        for name, value in f["fixed"].items():
            body.append(f"<tr><td>{esc(el)}</td><td>{esc(name)}</td><td>{_fmt(value)}</td>"
                        f"<td>fixed (not identifiable from the data)</td><td></td><td></td></tr>")
    rows = doc["rows"]
    return ("<!DOCTYPE html><html lang=\"en\">" + page_head(f"SX fit: {doc['model']}") + "<body>"
            f"<h1>Shake-out fit: {esc(doc['model'])}</h1>"
            f"<p>Source: {esc(doc.get('source') or '-')}; weighted least squares of log10 D; residual RMS "
            f"{_fmt(doc['residual_rms_log10_D'])}.</p>"
            "<table><thead><tr><th>element</th><th>parameter</th><th>value</th><th>95 % interval</th>"
            "<th>points</th><th>RMS log10 D</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>"
            + figure_html("parity", parity_figure(rows)) + figure_html("residuals", residual_figure(rows))
            + f"<h2>For the cascade file</h2><pre>{esc(doc['parameter_block'])}</pre></body></html>")
