"""Self-contained HTML page of an uncertainty study or a robust design (inline SVG, no script).

Uncertainty (``magcycle uq``): probability of meeting spec with its
interval, a table of every metric, one histogram per numeric metric (its
spec limit drawn), tornado bars of Spearman rank correlations between
parameters and the spec metrics, and Sobol first/total-order bars when the
study computed them. Design (``magcycle design``): the probability of
meeting spec against cost (stages) for every design tried, the required
probability drawn, the chosen design marked. Every plot is an ``<svg>``
with a ``data-plot`` attribute naming it.
"""

from __future__ import annotations

import math

from magcycle.report.html import CSS, esc

__all__ = ["render_envelope_report", "histogram_svg", "bars_svg", "pareto_svg", "render_uq_report", "render_design_report"]

_BAR = "#1f77b4"
_BAR2 = "#ff7f0e"


def _num(x, digits=6) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}g}"


def histogram_svg(key: str, name: str, hist: dict, limits: dict, width=360, height=200) -> str:
    edges, counts = hist["edges"], hist["counts"]
    pad_l, pad_b, pad_t = 40, 34, 20
    W, H = width - pad_l - 10, height - pad_b - pad_t
    lo, hi = edges[0], edges[-1]
    span = (hi - lo) or 1.0
    top = max(counts) or 1
    parts = [f'<svg data-plot="hist-{esc(key)}" width="{width}" height="{height}" role="img">',
             f'<text x="{pad_l}" y="14" font-size="12">{esc(name)}</text>']
    for i, c in enumerate(counts):
        x0 = pad_l + (edges[i] - lo) / span * W
        x1 = pad_l + (edges[i + 1] - lo) / span * W
        h = c / top * H
        parts.append(f'<rect x="{x0:.1f}" y="{pad_t + H - h:.1f}" width="{max(0.5, x1 - x0 - 0.5):.1f}" '
                     f'height="{h:.1f}" fill="{_BAR}"/>')
    for label, v in limits.items():
        if v is not None and lo <= v <= hi:
            x = pad_l + (v - lo) / span * W
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{pad_t}" y2="{pad_t + H}" stroke="#b00" '
                         f'stroke-dasharray="4 2"/><text x="{x + 2:.1f}" y="{pad_t + 10}" font-size="10" '
                         f'fill="#b00">{esc(label)}</text>')
    parts.append(f'<line x1="{pad_l}" x2="{pad_l + W}" y1="{pad_t + H}" y2="{pad_t + H}" stroke="#333"/>')
    parts.append(f'<text x="{pad_l}" y="{height - 16}" font-size="10">{_num(lo)}</text>')
    parts.append(f'<text x="{pad_l + W}" y="{height - 16}" font-size="10" text-anchor="end">{_num(hi)}</text>')
    parts.append(f'<text x="{pad_l - 4}" y="{pad_t + 8}" font-size="10" text-anchor="end">{top}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(key: str, title: str, rows: list, series: list[str], width=520, lo=-1.0, hi=1.0) -> str:
    """Horizontal bars: rows = [(label, [v per series])], values in [lo, hi]."""
    row_h = 16 * len(series) + 6
    pad_l, pad_t = 170, 22
    height = pad_t + row_h * len(rows) + 24
    W = width - pad_l - 20
    zero = pad_l + (0 - lo) / (hi - lo) * W
    colors = [_BAR, _BAR2]
    parts = [f'<svg data-plot="{esc(key)}" width="{width}" height="{height}" role="img">',
             f'<text x="4" y="14" font-size="12">{esc(title)}</text>']
    for r, (label, vals) in enumerate(rows):
        y = pad_t + r * row_h
        parts.append(f'<text x="{pad_l - 6}" y="{y + 12}" font-size="11" text-anchor="end">{esc(label)}</text>')
        for s, v in enumerate(vals):
            if v is None or not math.isfinite(v):
                continue
            v = min(hi, max(lo, v))
            x = pad_l + (v - lo) / (hi - lo) * W
            x0, x1 = sorted((zero, x))
            parts.append(f'<rect class="bar" x="{x0:.1f}" y="{y + 2 + 16 * s}" width="{max(0.5, x1 - x0):.1f}" '
                         f'height="13" fill="{colors[s % 2]}"><title>{esc(series[s])} {v:.3f}</title></rect>')
    parts.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{pad_t}" y2="{height - 20}" stroke="#333"/>')
    parts.append(f'<text x="{pad_l}" y="{height - 6}" font-size="10">{lo:g}</text>'
                 f'<text x="{pad_l + W}" y="{height - 6}" font-size="10" text-anchor="end">{hi:g}</text>')
    for s, name in enumerate(series):
        parts.append(f'<rect x="{pad_l + 120 * s}" y="{height - 18}" width="10" height="10" fill="{colors[s % 2]}"/>'
                     f'<text x="{pad_l + 14 + 120 * s}" y="{height - 9}" font-size="10">{esc(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def pareto_svg(points: list, required: float, chosen, xlabel: str, width=560, height=300) -> str:
    """P(meets spec) (and its lower bound) against cost for every design tried."""
    pad_l, pad_b, pad_t = 50, 40, 20
    W, H = width - pad_l - 20, height - pad_b - pad_t
    xs = [p["x"] for p in points]
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    ymin = min([required] + [p["lower"] for p in points])
    ymin = max(0.0, min(ymin, 0.9) - 0.02)

    def X(v):
        return pad_l + (v - x0) / (x1 - x0) * W

    def Y(v):
        return pad_t + (1 - (v - ymin) / (1.0 - ymin)) * H

    parts = [f'<svg data-plot="pareto" width="{width}" height="{height}" role="img">',
             f'<line x1="{pad_l}" x2="{pad_l + W}" y1="{Y(required):.1f}" y2="{Y(required):.1f}" stroke="#b00" '
             f'stroke-dasharray="4 2"/><text x="{pad_l + W}" y="{Y(required) - 3:.1f}" font-size="10" fill="#b00" '
             f'text-anchor="end">required {required:g}</text>']
    for p in sorted(points, key=lambda p: p["x"]):
        cx, cy, cl = X(p["x"]), Y(p["p"]), Y(p["lower"])
        mark = p["x"] == chosen
        parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{cy:.1f}" y2="{cl:.1f}" stroke="#999"/>')
        parts.append(f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="{6 if mark else 4}" '
                     f'fill="{"#2ca02c" if mark else _BAR}"><title>{esc(p["label"])}: P {p["p"]:.4f} '
                     f'(lower {p["lower"]:.4f})</title></circle>')
    parts.append(f'<line x1="{pad_l}" x2="{pad_l + W}" y1="{pad_t + H}" y2="{pad_t + H}" stroke="#333"/>'
                 f'<line x1="{pad_l}" x2="{pad_l}" y1="{pad_t}" y2="{pad_t + H}" stroke="#333"/>')
    parts.append(f'<text x="{pad_l + W / 2}" y="{height - 6}" font-size="11" text-anchor="middle">{esc(xlabel)}</text>'
                 f'<text x="{pad_l}" y="{height - 22}" font-size="10">{_num(x0)}</text>'
                 f'<text x="{pad_l + W}" y="{height - 22}" font-size="10" text-anchor="end">{_num(x1)}</text>'
                 f'<text x="{pad_l - 4}" y="{Y(1.0) + 4:.1f}" font-size="10" text-anchor="end">1</text>'
                 f'<text x="{pad_l - 4}" y="{Y(ymin):.1f}" font-size="10" text-anchor="end">{ymin:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _page(title: str, body: list[str]) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{esc(title)}</h1>" + "".join(body) + "</body></html>")


def _prob(p: dict) -> str:
    if not p:
        return "-"
    return (f"{100 * p['p']:.2f} % ({p['passes']}/{p['samples']}; {100 * p.get('confidence', 0.95):.0f} % "
            f"interval {100 * p['lower']:.2f}-{100 * p['upper']:.2f} %)")


def render_uq_report(doc: dict) -> str:
    """The page of an uncertainty study's result document."""
    mc = doc["monte_carlo"]
    body = _uq_summary(doc, mc) + _parameter_table(mc) + _metric_table(mc) + _histograms(doc, mc)
    body += _tornado(doc) + _sobol(doc)
    return _page(f"magcycle uncertainty study: {doc.get('subject', '')}", body)


def _uq_summary(doc: dict, mc: dict) -> list[str]:
    """The study in a sentence, P(meets every spec) and the failed samples."""
    body = [f"<p>{esc(doc.get('subject', ''))}: {mc['samples']} samples ({esc(mc['method'])}, seed {mc['seed']}), "
            f"{esc(mc['executor'])} with {mc['workers']} worker(s), {mc['seconds']:.1f} s.</p>",
            f'<p id="probability">P(meets every spec) = <b>{esc(_prob(mc["probability_meets_spec"]))}</b></p>'
            if mc["probability_meets_spec"] else '<p id="probability">No metric states a limit.</p>']
    if mc["failed_samples"]:
        body.append("<p>Failed samples (counted as not meeting spec): "
                    + "; ".join(f"{esc(k)} x {v}" for k, v in mc["failed_samples"].items()) + "</p>")
    return body


def _parameter_table(mc: dict) -> list[str]:
    """The uncertain parameters: distribution, nominal value, units and source."""
    body = ['<h2>Parameters</h2><table id="parameters"><tr><th>parameter</th><th>distribution</th>'
            '<th>nominal</th><th>units</th><th>source</th></tr>']
    for p in mc["parameters"]:
        body.append(f"<tr><td>{esc(p['name'])}</td><td>{esc(p['distribution'])}({', '.join(_num(a) for a in p['args'])})"
                    f"</td><td>{_num(p['nominal'])}</td><td>{esc(p['units'])}</td><td>{esc(p['source'][:80])}</td></tr>")
    body.append("</table>")
    return body


def _limit(m: dict) -> str:
    """A metric's limit as text (at least, at most, pass, or none)."""
    return (f"&ge; {_num(m['at_least'])}" if m["at_least"] is not None else
            f"&le; {_num(m['at_most'])}" if m["at_most"] is not None else "pass" if m["kind"] == "pass" else "")


def _metric_table(mc: dict) -> list[str]:
    """Every metric: limit, nominal, mean, sd, percentiles and P(meets)."""
    body = ['<h2>Metrics</h2><table id="metrics"><tr><th>metric</th><th>limit</th><th>nominal</th><th>mean</th>'
            "<th>sd</th><th>5 %</th><th>50 %</th><th>95 %</th><th>P(meets)</th></tr>"]
    probs = mc["probability_by_metric"]
    for m in mc["metrics"]:
        s = mc["summary"][m["name"]]
        pr = probs.get(m["name"])
        pr_text = "" if pr is None else f"{100 * pr['p']:.2f} %"
        body.append(f"<tr><td>{esc(m['name'])}</td><td>{_limit(m)}</td><td>{_num(mc['nominal'].get(m['name']))}</td>"
                    f"<td>{_num(s.get('mean'))}</td><td>{_num(s.get('sd'))}</td><td>{_num(s.get('p05'))}</td>"
                    f"<td>{_num(s.get('p50'))}</td><td>{_num(s.get('p95'))}</td>"
                    f"<td>{pr_text}</td></tr>")
    body.append("</table>")
    return body


def _histograms(doc: dict, mc: dict) -> list[str]:
    """A histogram of each numeric metric, its limits drawn."""
    body = ["<h2>Distributions</h2><div class=\"charts\">"]
    for i, m in enumerate(mc["metrics"]):
        h = doc["histograms"].get(m["name"])
        if h and m["kind"] != "pass":
            body.append(histogram_svg(str(i), m["name"], h, {"min": m["at_least"], "max": m["at_most"]}))
    body.append("</div>")
    return body


def _tornado(doc: dict) -> list[str]:
    """Spearman rank correlations of the parameters with each metric, largest twelve (none: nothing)."""
    tornado = doc.get("rank_correlation") or {}
    if not tornado:
        return []
    body = ["<h2>Which inputs matter: rank correlation (tornado)</h2><div class=\"charts\">"]
    for i, (metric, corr) in enumerate(tornado.items()):
        rows = sorted(corr.items(), key=lambda kv: -abs(kv[1]))[:12]
        body.append(bars_svg(f"tornado-{i}", f"{metric}: Spearman rank correlation",
                             [(k, [v]) for k, v in rows], ["rho"]))
    body.append("</div>")
    return body


def _sobol(doc: dict) -> list[str]:
    """First and total-order Sobol indices per metric, largest twelve (not computed: nothing)."""
    sob = doc.get("sobol")
    if not sob:
        return []
    body = [f"<h2>Sobol indices</h2><p>{sob['evaluations']} evaluations ({sob['base_samples']} base samples, "
            f"Saltelli design, SALib).</p><div class=\"charts\">"]
    for i, (metric, idx) in enumerate(sob["indices"].items()):
        rows = sorted(idx.items(), key=lambda kv: -(kv[1]["ST"] if math.isfinite(kv[1]["ST"]) else -1))[:12]
        body.append(bars_svg(f"sobol-{i}", f"{metric}", [(k, [v["S1"], v["ST"]]) for k, v in rows],
                             ["first order", "total order"], lo=0.0, hi=1.0))
    body.append("</div>")
    return body


def render_design_report(doc: dict) -> str:
    d = doc["design"]
    body = [f"<p>{esc(doc.get('subject', ''))}: required P(meets every spec) &ge; {d['required_probability']:g} "
            f"(lower {100 * d['confidence']:.0f} % bound), {d['samples']} samples ({esc(d['method'])}, seed "
            f"{d['seed']}), {d['seconds']:.1f} s.</p>"]
    if d["feasible"]:
        body.append(f'<p id="answer" class="pass">Design found: P = {esc(_prob(d["probability"]))}</p>')
    else:
        body.append(f'<p id="answer" class="fail">INFEASIBLE: {esc(d["reason"])}</p>')
    if "probability_by_stage_factor" in d:
        curve = d["probability_by_stage_factor"]
        def factor_text(c):
            if c["stage_factor"] is not None:
                return f"{c['stage_factor']:g}"
            return ", ".join(f"{k} {v:g}" for k, v in c["cut_factors"].items())

        pts = [{"x": c["total_sx_stages"], "p": c["p"], "lower": c["lower"],
                "label": f"factor {factor_text(c)}"} for c in curve]
        chosen = d.get("total_sx_stages")
        body.append("<h2>Probability of meeting spec against SX stages</h2>"
                    + pareto_svg(pts, d["required_probability"], chosen, "total SX stages"))
        body.append('<table id="designs"><tr><th>stage factor</th><th>total SX stages</th><th>SX purchase USD</th>'
                    "<th>P</th><th>lower</th><th>upper</th><th>stages per cut (n+m)</th></tr>")
        for c in curve:
            cuts = ", ".join(f"{k} {v[0]}+{v[1]}" for k, v in c["sx_stages"].items())
            body.append(f"<tr><td>{esc(factor_text(c))}</td><td>{c['total_sx_stages']}</td>"
                        f"<td>{c['sx_purchase_cost_usd']:,.0f}</td><td>{c['p']:.4f}</td><td>{c['lower']:.4f}</td>"
                        f"<td>{c['upper']:.4f}</td><td>{esc(cuts)}</td></tr>")
    else:
        curve = d["probability_by_total_stages"]
        pts = [{"x": c["total_stages"], "p": c["p"], "lower": c["lower"],
                "label": f"{c['extraction_stages']}+{c['scrub_stages']}"} for c in curve]
        body.append("<h2>Probability of meeting the targets against total stages</h2>"
                    + pareto_svg(pts, d["required_probability"], d.get("total_stages"), "total stages"))
        nom = d["nominal_design"]
        body.append(f"<p>Nominal minimum-stage design: {nom.get('extraction_stages')} + {nom.get('scrub_stages')} "
                    f"stages (feasible: {nom.get('feasible')}).</p>")
        body.append('<table id="designs"><tr><th>total stages</th><th>extraction</th><th>scrub</th><th>P</th>'
                    "<th>lower</th><th>upper</th></tr>")
        for c in curve:
            body.append(f"<tr><td>{c['total_stages']}</td><td>{c['extraction_stages']}</td><td>{c['scrub_stages']}"
                        f"</td><td>{c['p']:.4f}</td><td>{c['lower']:.4f}</td><td>{c['upper']:.4f}</td></tr>")
    body.append("</table>")
    return _page(f"magcycle robust design: {doc.get('subject', '')}", body)


def render_envelope_report(doc: dict) -> str:
    """The report of a plant built for the feed envelope: each SX cut's stages, the rounds, the
    blends verified and any that still fail."""
    d = doc["design"]
    verdict = ('<p id="answer" class="pass">Every product meets spec on every blend verified.</p>' if d["feasible"]
               else f'<p id="answer" class="fail">{len(d["failures"])} blends still fail.</p>')
    rows = "".join(f"<tr><td>{esc(c)}</td><td>{s['extraction']}</td><td>{s['scrub']}</td></tr>"
                   for c, s in d["stages"].items())
    body = [f"<p>{esc(doc['subject'])}: SX cuts sized for the catalogue's feed envelope (the plant's blend, each "
            f"class alone, every 1:1 pair, and the random blends that failed) in {d['rounds']} rounds; verified on "
            f"{d['verified_blends']} seeded random blends (seed {d['seed']}).</p>", verdict,
            '<table id="stages"><tr><th>cut</th><th>extraction stages</th><th>scrub stages</th></tr>'
            f"{rows}</table><p>Total SX stages: {d['total_sx_stages']}.</p>"]
    if d["failures"]:
        body.append("<ul>" + "".join(f"<li>{esc(f)}</li>" for f in d["failures"][:50]) + "</ul>")
    return _page("magcycle envelope design", body)
