"""Self-contained HTML page of an uncertainty study or a robust design (plotly.js inline, no network).

Uncertainty (``magcycle uq``): probability of meeting spec with its
interval, a table of every metric, one histogram per numeric metric (its
spec limit drawn), tornado bars of Spearman rank correlations between
parameters and the spec metrics, and Sobol first/total-order bars when the
study computed them. Design (``magcycle design``): the probability of
meeting spec against cost (stages) for every design tried, the required
probability drawn, the chosen design marked. Every plot is a Plotly figure
in a ``data-plot`` div (:mod:`magcycle.report.plots`).
"""

from __future__ import annotations

import math

from magcycle.report.html import esc, page_head
from magcycle.report.plots import bars_figure, figure_html, histogram_figure, pareto_figure, sobol_figure

__all__ = ["render_envelope_report", "render_uq_report", "render_design_report"]


def _num(x, digits=6) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}g}"


def _page(title: str, body: list[str]) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\">{page_head(title)}<body><h1>{esc(title)}</h1>"
            + "".join(body) + "</body></html>")


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
            body.append(figure_html(f"hist-{i}", histogram_figure(m["name"], h, {"min": m["at_least"],
                                                                                   "max": m["at_most"]})))
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
        body.append(figure_html(f"tornado-{i}", bars_figure(f"{metric}: Spearman rank correlation", rows,
                                                            "rank correlation rho")))
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
        body.append(figure_html(f"sobol-{i}", sobol_figure(metric, rows)))
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
                    + figure_html("pareto", pareto_figure(pts, d["required_probability"], chosen, "total SX stages")))
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
                    + figure_html("pareto", pareto_figure(pts, d["required_probability"], d.get("total_stages"),
                                                          "total stages")))
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
