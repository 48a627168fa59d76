"""Operations pages: plant runs, campaign plans (Gantt), jobs, campaigns, product lots (genealogy, certificate,
certificate of analysis), the verify page and the TEA.

Plots are Plotly: plotly.js and a small renderer are served by the application (``/static/plotly.min.js``,
``/static/app.js``); a figure travels as JSON in a ``<script type="application/json">`` element, which is data,
not code, so the Content-Security-Policy needs no inline script. The full reports of runs, plans and TEA are
the same self-contained documents the command line writes, served as documents of their own
(``/jobs/{id}/report``) with a policy that lets their inline plotly.js run, in a sandbox (an opaque origin: no
cookie, no access to the application), and nothing else load.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from magcycle.app.deps import Call, allow
from magcycle.app.pages import PageRefused, csrf_input, page
from magcycle.app.policy import allowed
from magcycle.errors import InputError
from magcycle.report.html import esc

__all__ = ["router", "REPORT_CSP", "figure_html"]

router = APIRouter()

#: the policy of a served report document: its own inline plotly.js and styles run, nothing is fetched
REPORT_CSP = ("sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
              "img-src data:; font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")

_APP_JS = """document.querySelectorAll('[data-plotly]').forEach(function (el) {
  var fig = JSON.parse(document.getElementById(el.dataset.plotly).textContent);
  Plotly.newPlot(el, fig.data, fig.layout, {displaylogo: false, responsive: true}).then(function () {
    el.setAttribute('data-rendered', 'yes');
  });
});
"""
_PLOTLY: list[str] = []


def _can(call: Call, action: str) -> bool:
    return call.who is not None and allowed(call.who["role"], action)


def figure_html(fig, div_id: str) -> str:
    """A Plotly figure as a div and its JSON (rendered by /static/app.js); every text in the JSON escaped for HTML
    by plotly's own encoder (``<`` as ``\\u003c``)."""
    data = fig.to_json().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (f'<div id="{div_id}" data-plotly="{div_id}-json" class="plot"></div>'
            f'<script type="application/json" id="{div_id}-json">{data}</script>')


def _scripts() -> str:
    return '<script src="/static/plotly.min.js"></script><script src="/static/app.js"></script>'


@router.get("/static/plotly.min.js", include_in_schema=False)
def plotly_js(call: Call = Depends(allow("public"))) -> Response:
    if not _PLOTLY:
        from plotly.offline import get_plotlyjs

        _PLOTLY.append(get_plotlyjs())
    return Response(_PLOTLY[0], media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/static/app.js", include_in_schema=False)
def app_js(call: Call = Depends(allow("public"))) -> Response:
    return Response(_APP_JS, media_type="text/javascript")


def _parse(text: str, what: str) -> dict:
    """A document pasted in a form: JSON when it starts with '{', else TOML; InputError naming ``what``."""
    from magcycle.documents import parse_document

    text = text.strip()
    if not text:
        raise InputError(what, "empty; paste the document (TOML or JSON)")
    return parse_document(text, ".json" if text.startswith("{") else ".toml", name=what, field=what)


def _refuse(title: str, body: str, call: Call) -> None:
    raise PageRefused(HTMLResponse(page(title, body, call), status_code=422))


# ------------------------------------------------------------ plant runs
@router.get("/runs", response_class=HTMLResponse, include_in_schema=False)
def runs_page(request: Request, call: Call = Depends(allow("read"))) -> str:
    return page("Plant runs", _jobs_table(request, "run") + (_run_form(call) if _can(call, "simulate") else ""), call)


def _run_form(call: Call, values: dict | None = None, error: str = "") -> str:
    from magcycle.flowsheet.spec import builtin_plants

    values = values or {}
    options = "".join(f'<option value="{esc(p)}"{" selected" if p == values.get("plant", "reference") else ""}>'
                      f"{esc(p)}</option>" for p in builtin_plants())
    return ('<h2>Run a plant</h2><form method="post" action="/runs" id="run-form">' + csrf_input(call)
            + f'<label>plant <select name="plant" id="run-plant">{options}</select></label>'
            f'<label>feed <input name="feed" id="run-feed" value="{esc(values.get("feed", ""))}" maxlength="500">'
            f'</label><label>rate <input name="rate" id="run-rate" value="{esc(values.get("rate", ""))}" '
            f'maxlength="100"></label>{_err(error)}<button type="submit" id="run-start">run</button></form>')


def _err(msg: str) -> str:
    return f'<p class="error">{esc(msg)}</p>' if msg else ""


@router.post("/runs", include_in_schema=False)
def start_run(request: Request, call: Call = Depends(allow("simulate", read_only=True))) -> Response:
    from magcycle.app.api import RunRequest, start_run as api_start_run

    form = request.state.form or {}
    values = {k: str(form.get(k, "")).strip() for k in ("plant", "feed", "rate")}
    try:
        if not values["plant"]:
            raise InputError("plant", "missing (required): a built-in plant")
        run = RunRequest(plant=values["plant"], feed=values["feed"] or None,
                         rate=values["rate"] or None)
        job = api_start_run(run, request, call)["job"]
    except (InputError, ValueError) as exc:
        _refuse("Plant runs", _run_form(call, values, _message(exc)), call)
    return RedirectResponse(f"/jobs/{job}", status_code=303)


def _message(exc: Exception) -> str:
    if isinstance(exc, InputError):
        return f"{exc.field}: {exc.reason}"
    errors = getattr(exc, "errors", None)
    if callable(errors):
        e = errors()[0]
        return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
    return str(exc)


def _jobs_table(request: Request, kind: str | None = None) -> str:
    rows = "".join(f'<tr><td><a href="/jobs/{esc(j["id"])}">{esc(j["id"])}</a></td><td>{esc(j["kind"])}</td>'
                   f'<td>{esc(j["owner"])}</td><td>{esc(j["state"])}</td><td>{j["seconds"]:.1f}</td></tr>'
                   for j in request.app.state.jobs.recent(20, kind))
    return ('<table id="jobs"><tr><th>job</th><th>kind</th><th>by</th><th>state</th><th>s</th></tr>'
            f"{rows}</table>")


# ------------------------------------------------------------ jobs and their results
def _report_of(request: Request, job_id: str) -> dict:
    report = request.app.state.jobs.get(job_id)
    if report is None:
        raise HTTPException(404, "unknown job")
    return report


@router.get("/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
def job_page(job_id: str, request: Request, call: Call = Depends(allow("read"))) -> Response:
    report = _report_of(request, job_id)
    head = (f'<p id="job-state" data-state="{esc(report["state"])}">{esc(report["kind"])} job by '
            f'{esc(report["owner"])}: {esc(report["state"])}, {report["seconds"]:.1f} s</p>')
    if report["state"] in ("queued", "running"):
        body = head + '<p><a href="" id="refresh">refresh</a> (the page refreshes itself every second)</p>'
        html = page(f"Job {job_id}", body, call).replace("<head>", '<head><meta http-equiv="refresh" content="1">', 1)
        return HTMLResponse(html)
    if report["state"] == "failed":
        return HTMLResponse(page(f"Job {job_id}", head + f'<p class="error" id="job-error">{esc(report["error"])}</p>',
                                 call))
    show = {"run": _run_result, "plan": _plan_result, "tea": _tea_result}.get(report["kind"], _json_result)
    result = show(report, call)
    link = (f'<p><a href="/jobs/{esc(job_id)}/report" id="full-report">the full report</a></p>'
            if report["kind"] in ("run", "plan", "tea", "uq") else "")
    return HTMLResponse(page(f"Job {job_id}", head + result + link + _scripts(), call))


def _run_result(report: dict, call: Call) -> str:
    doc = report["result"]["results"]
    rows = "".join(f"<tr><td>{esc(p['name'])}</td><td>{p['kg_per_h']:.4g}</td>"
                   f"<td>{'-' if p.get('purity') is None else format(100 * p['purity'], '.3f')}</td>"
                   f"<td>{'pass' if p.get('meets_spec') else 'FAIL'}</td></tr>" for p in doc["products"])
    return ('<h2>Products</h2><table id="products"><tr><th>product</th><th>kg/h</th><th>purity %</th><th>spec</th>'
            f"</tr>{rows}</table>")


def _plan_result(report: dict, call: Call) -> str:
    from magcycle.report.plan import gantt_figure

    plan = report["result"]
    rows = "".join(f"<tr><td>{esc(c['id'])}</td><td>{esc(c['family'])}</td><td>{esc(c['custody'])}</td>"
                   f"<td>{esc(c['start'])}</td><td>{esc(c['end'])}</td><td>{c['feed_kg']:.6g}</td></tr>"
                   for c in plan["campaigns"])
    record = ""
    if _can(call, "plan"):
        record = (f'<form method="post" action="/plans/{esc(report["id"])}/record" id="record-form">'
                  f'{csrf_input(call)}<button type="submit" id="record">record as planned</button></form>')
    gap = "-" if plan["gap"] is None else f"{100 * plan['gap']:.3g} %"
    return (f'<p id="plan-status">HiGHS {esc(plan["status"])}, margin {plan["margin_usd"]:,.0f} USD, gap {gap}</p>'
            + figure_html(gantt_figure(plan), "gantt")
            + '<h2>Campaigns</h2><table id="campaigns"><tr><th>campaign</th><th>family</th><th>custody</th>'
            f"<th>start</th><th>end</th><th>feed kg</th></tr>{rows}</table>" + record)


def _tea_result(report: dict, call: Call) -> str:
    doc = report["result"]
    keys = [("capex_usd", "capex [USD]"), ("opex_usd_per_y", "opex [USD/y]"), ("revenue_usd_per_y", "revenue [USD/y]")]
    rows = "".join(f"<tr><td>{esc(label)}</td><td>{doc[k]:,.0f}</td></tr>" for k, label in keys if k in doc)
    return f'<h2>Economics</h2><table id="tea">{rows}</table>'


def _json_result(report: dict, call: Call) -> str:
    return f'<pre id="result">{esc(json.dumps(report["result"], indent=2)[:200_000])}</pre>'


@router.get("/jobs/{job_id}/report", include_in_schema=False)
def job_report(job_id: str, request: Request, call: Call = Depends(allow("read"))) -> Response:
    from magcycle.report import render_report
    from magcycle.report.plan import render_plan_report
    from magcycle.report.tea import render_tea_report

    report = _report_of(request, job_id)
    if report["state"] != "done":
        raise HTTPException(409, f"the job is {report['state']}")
    from magcycle.report.uq_html import render_uq_report

    render = {"run": lambda r: render_report(r["results"]), "plan": render_plan_report, "tea": render_tea_report,
              "uq": render_uq_report}
    if report["kind"] not in render:
        raise HTTPException(404, f"a {report['kind']} job has no report page; its result is at /api/v1/jobs/{job_id}")
    html = render[report["kind"]](report["result"])
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP})


# ------------------------------------------------------------ campaign plans
_PLAN_EXAMPLE = """start = 2026-03-02
weeks = 8
initial_family = "swarf"
allow_shortfall = true
[[orders]]
id = "O-1"
product = "NdPr oxide"
mass = "200 kg"
due = 2026-03-23
price_usd_per_kg = 60
"""


def _plan_form(call: Call, text: str = _PLAN_EXAMPLE, error: str = "") -> str:
    return ('<h2>Plan campaigns on the lots in stock</h2><form method="post" action="/plans" id="plan-form">'
            + csrf_input(call) + '<label>plan (TOML or JSON, without lots: the database\'s lots are planned)'
            f'<textarea name="plan" id="plan-text" rows="14" cols="80">{esc(text)}</textarea></label>'
            '<label>time limit [s] <input name="time_limit" id="plan-time" value="20" maxlength="10"></label>'
            f'{_err(error)}<button type="submit" id="plan-start">plan</button></form>')


@router.get("/plans", response_class=HTMLResponse, include_in_schema=False)
def plans_page(request: Request, call: Call = Depends(allow("read"))) -> str:
    from magcycle.trace.plans import planned_campaigns

    current = planned_campaigns(call.conn)
    rows = "".join(f"<tr><td>{esc(c['id'])}</td><td>{esc(c['family'])}</td><td>{esc(c['custody'])}</td>"
                   f"<td>{esc(c['start'])}</td><td>{esc(c['end'])}</td></tr>" for c in current["campaigns"])
    body = (f"<h2>Current plan: {esc(current['plan_id'] or 'none recorded')}</h2><table id=\"current-plan\">"
            f"<tr><th>campaign</th><th>family</th><th>custody</th><th>start</th><th>end</th></tr>{rows}</table>"
            + _jobs_table(request, "plan") + (_plan_form(call) if _can(call, "plan") else ""))
    return page("Campaign plans", body, call)


@router.post("/plans", include_in_schema=False)
def start_plan(request: Request, call: Call = Depends(allow("plan", read_only=True))) -> Response:
    from magcycle.app.api import start_plan as api_start_plan

    form = request.state.form or {}
    text = str(form.get("plan", ""))
    try:
        raw = _parse(text, "plan")
        limit = float(str(form.get("time_limit", "20")) or 20)
        if not 0 < limit <= 600:
            raise InputError("time_limit", f"seconds in (0, 600], got {limit:g}")
        job = api_start_plan(request, raw, limit, 0.01, call)["job"]
    except (InputError, ValueError) as exc:
        _refuse("Campaign plans", _plan_form(call, text, _message(exc)), call)
    return RedirectResponse(f"/jobs/{job}", status_code=303)


@router.post("/plans/{job_id}/record", include_in_schema=False)
def record_plan(job_id: str, request: Request, call: Call = Depends(allow("plan"))) -> Response:
    from magcycle.app.api import record as api_record

    api_record(job_id, request, call)
    return RedirectResponse("/plans", status_code=303)


# ------------------------------------------------------------ campaigns
_CAMPAIGN_EXAMPLE = """id = "C-2026-01"
plant = "reference"
start = 2026-03-09
end = 2026-03-12
custody = "mass_balance"
[lots]
"""


def _campaign_form(call: Call, text: str = _CAMPAIGN_EXAMPLE, error: str = "") -> str:
    return ('<h2>Record a campaign</h2><form method="post" action="/campaigns" id="campaign-form">' + csrf_input(call)
            + '<label>campaign (TOML or JSON: id, plant, start, end, custody, [lots] LOT = "mass")'
            f'<textarea name="campaign" id="campaign-text" rows="12" cols="80">{esc(text)}</textarea></label>'
            f'{_err(error)}<button type="submit" id="campaign-run">run and record</button></form>')


@router.get("/campaigns", response_class=HTMLResponse, include_in_schema=False)
def campaigns_page(call: Call = Depends(allow("read"))) -> str:
    from magcycle.trace.lots import list_lots

    rows = "".join(f'<tr><td><a href="/lots/{esc(x["id"])}">{esc(x["id"])}</a></td><td>{esc(x["product"])}</td>'
                   f'<td>{esc(x["campaign_id"])}</td><td>{x["mass_kg"]:.6g}</td><td>{esc(x["dated"])}</td></tr>'
                   for x in list_lots(call.conn, "product", 200))
    body = ('<h2>Product lots</h2><table id="product-lots"><tr><th>lot</th><th>product</th><th>campaign</th>'
            f"<th>kg</th><th>produced</th></tr>{rows}</table>"
            + (_campaign_form(call) if _can(call, "campaign") else ""))
    return page("Campaigns", body, call)


@router.post("/campaigns", include_in_schema=False)
def run_campaign(request: Request, call: Call = Depends(allow("campaign"))) -> Response:
    from magcycle.app.api import run_campaign as api_run_campaign
    from magcycle.schema import validate
    from magcycle.trace.documents import CampaignFile

    form = request.state.form or {}
    text = str(form.get("campaign", ""))
    try:
        out = api_run_campaign(validate(CampaignFile, _parse(text, "campaign")), call)
    except InputError as exc:
        _refuse("Campaigns", _campaign_form(call, text, _message(exc)), call)
    return RedirectResponse(f"/lots/{out['product_lots'][0]['id']}" if out["product_lots"] else "/campaigns",
                            status_code=303)


# ------------------------------------------------------------ product lots, certificates
def _genealogy_figure(g: dict):
    import plotly.graph_objects as go

    feeds = [a["lot"] for a in g["backward"]]
    labels = feeds + [g["lot"]]
    fig = go.Figure(go.Sankey(node={"label": labels, "pad": 12},
                              link={"source": list(range(len(feeds))), "target": [len(feeds)] * len(feeds),
                                    "value": [max(a["consumed_kg"], 1e-9) for a in g["backward"]]}))
    fig.update_layout(title={"text": "Feed lots into this product lot (kg consumed by the campaign)"},
                      margin={"l": 20, "r": 20, "t": 40, "b": 20}, height=320)
    return fig


@router.get("/lots/{lot_id}", response_class=HTMLResponse, include_in_schema=False)
def lot_page(lot_id: str, call: Call = Depends(allow("read"))) -> str:
    from magcycle.trace.certificates import list_certificates
    from magcycle.trace.lots import genealogy, lot

    try:
        doc, g = lot(call.conn, lot_id), genealogy(call.conn, lot_id)
    except InputError as exc:
        raise HTTPException(404, exc.reason) from None
    facts = "".join(f"<tr><td>{esc(k)}</td><td>{esc(doc.get(k))}</td></tr>" for k in
                    ("id", "kind", "product", "campaign_id", "mass_kg", "supplier", "category", "consumer", "dated",
                     "received", "produced") if doc.get(k) is not None)
    body = f'<table id="lot">{facts}</table>'
    if g["kind"] == "product":
        rows = "".join(f"<tr><td>{esc(a['lot'])}</td><td>{esc(a['consumer'])}</td><td>{a['consumed_kg']:.6g}</td></tr>"
                       for a in g["backward"])
        body += (figure_html(_genealogy_figure(g), "genealogy") + '<table id="feed-lots"><tr><th>feed lot</th>'
                 f"<th>class</th><th>kg consumed</th></tr>{rows}</table>")
        body += _certificates_html(call, lot_id, list_certificates(call.conn, lot_id))
    return page(f"Lot {lot_id}", body + _scripts(), call)


def _certificates_html(call: Call, lot_id: str, certs: list[dict]) -> str:
    from urllib.parse import quote

    rows = "".join(
        f'<tr><td>{esc(c["id"])}</td><td>{esc(c["issued_at"])}</td><td>{esc(c["revoked_at"] or "")}</td>'
        f'<td><a href="/api/v1/certificates/{quote(c["id"], safe=":")}" class="download">download</a> '
        f'<a href="/api/v1/certificates/{quote(c["id"], safe=":")}/coa" class="coa">certificate of analysis</a>'
        "</td></tr>" for c in certs)
    out = ('<h2>Certificates</h2><table id="certificates"><tr><th>certificate</th><th>issued</th><th>revoked</th>'
           f"<th></th></tr>{rows}</table>")
    if _can(call, "certify") and not any(c["revoked_at"] is None for c in certs):
        out += (f'<form method="post" action="/lots/{esc(lot_id)}/certificate" id="certify-form">{csrf_input(call)}'
                '<button type="submit" id="certify">issue the certificate</button></form>')
    return out


@router.post("/lots/{lot_id}/certificate", include_in_schema=False)
def certify(lot_id: str, request: Request, call: Call = Depends(allow("certify"))) -> Response:
    from urllib.parse import quote

    from magcycle.app.api import certify as api_certify

    try:
        api_certify(lot_id, request, call)
    except InputError as exc:
        _refuse(f"Lot {lot_id}", _err(_message(exc)), call)
    return RedirectResponse(f"/lots/{quote(lot_id)}", status_code=303)


# ------------------------------------------------------------ verify
_VERIFY_FORM = ('<form method="post" action="/verify" enctype="multipart/form-data" id="verify-form">{csrf}'
                '<label>certificate (.vc.json) <input type="file" name="certificate" id="verify-file" '
                'accept=".json,application/json"></label><button type="submit" id="verify">verify</button></form>')


@router.get("/verify", response_class=HTMLResponse, include_in_schema=False)
def verify_page(call: Call = Depends(allow("public"))) -> str:
    return page("Verify a certificate", _VERIFY_FORM.format(csrf=csrf_input(call)), call)


@router.post("/verify", response_class=HTMLResponse, include_in_schema=False)
def verify(request: Request, call: Call = Depends(allow("public", read_only=True))) -> str:
    from magcycle.trace.certificates import verify_certificate

    form = request.state.form or {}
    upload = form.get("certificate")
    problems: list[str]
    if upload is None or isinstance(upload, str):
        problems = ["no file uploaded"]
    else:
        upload.file.seek(0)
        raw = upload.file.read(1_000_001)
        problems = ["the file is larger than 1 MB"] if len(raw) > 1_000_000 else []
        if not problems:
            try:
                cred = json.loads(raw.decode("utf-8"))
                problems = verify_certificate(cred, None, call.conn) if isinstance(cred, dict) else \
                    ["not a JSON object"]
            except (UnicodeDecodeError, ValueError) as exc:
                problems = [f"not JSON: {exc}"]
    verdict = ('<p id="verdict" class="pass">valid</p>' if not problems else
               '<p id="verdict" class="fail">invalid</p><ul id="why">'
               + "".join(f"<li>{esc(p)}</li>" for p in problems) + "</ul>")
    return page("Verify a certificate", verdict + _VERIFY_FORM.format(csrf=csrf_input(call)), call)


# ------------------------------------------------------------ TEA
@router.get("/tea", response_class=HTMLResponse, include_in_schema=False)
def tea_page(request: Request, call: Call = Depends(allow("read"))) -> str:
    from magcycle.flowsheet.spec import builtin_plants

    form = ""
    if _can(call, "simulate"):
        options = "".join(f'<option value="{esc(p)}">{esc(p)}</option>' for p in builtin_plants())
        form = ('<h2>Techno-economics of a plant</h2><form method="post" action="/tea" id="tea-form">'
                + csrf_input(call) + f'<label>plant <select name="plant">{options}</select></label>'
                '<label>scenario <select name="scenario"><option>base</option><option>low</option><option>high'
                '</option></select></label><button type="submit" id="tea-start">compute</button></form>')
    return page("Techno-economics", _jobs_table(request, "tea") + form, call)


@router.post("/tea", include_in_schema=False)
def start_tea(request: Request, call: Call = Depends(allow("simulate", read_only=True))) -> Response:
    from magcycle.app.api import _builtin_plant
    from magcycle.app.jobs import tea_job

    form = request.state.form or {}
    plant, scenario = str(form.get("plant", "")), str(form.get("scenario", "base"))
    try:
        _builtin_plant(plant, "plant")
        if scenario not in ("low", "base", "high"):
            raise InputError("scenario", "low, base or high")
    except InputError as exc:
        _refuse("Techno-economics", _err(_message(exc)), call)
    job = request.app.state.jobs.submit("tea", call.who["user"], tea_job, plant, scenario)
    return RedirectResponse(f"/jobs/{job}", status_code=303)
