"""Server-rendered pages of the web application: sign-in, dashboard, feed-lot intake, the API reference.

Every text from the database or the user is escaped (:func:`magcycle.report.html.esc`); every form carries
the session's CSRF token; a form refused by a layer is shown again with the message beside its field. Styles
and scripts are served by the application (``/static``), none inline, so the Content-Security-Policy allows
nothing else.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from magcycle.app import accounts
from magcycle.app.deps import CSRF_FIELD, SESSION_COOKIE, Call, allow
from magcycle.report.html import CSS, esc

__all__ = ["router", "api_reference", "page", "PageRefused"]

router = APIRouter()

_APP_CSS = CSS + """
nav{margin-bottom:1.5em}nav a{margin-right:1em}form.inline{display:inline}
label{display:block;margin:.4em 0}.error{color:#b00}input,select{font:inherit}
"""


def page(title: str, body: str, call: Call | None = None) -> str:
    """A whole page: head, navigation (with the user and a sign-out form when signed in), ``body``."""
    nav = ('<nav><a href="/">dashboard</a><a href="/lots">lots</a><a href="/plans">plans</a>'
           '<a href="/campaigns">campaigns</a><a href="/runs">plant runs</a><a href="/tea">TEA</a>'
           '<a href="/verify">verify</a><a href="/api/docs">API</a>')
    if call is not None and call.who is not None:
        nav += (f'<span>{esc(call.who["user"])} ({esc(call.who["role"])})</span> '
                f'<form class="inline" method="post" action="/logout">{csrf_input(call)}'
                '<button type="submit">sign out</button></form>')
    nav += "</nav>"
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)} - magcycle</title>'
            f'<link rel="stylesheet" href="/static/app.css"></head><body>{nav}<h1>{esc(title)}</h1>{body}'
            "</body></html>")


def csrf_input(call: Call) -> str:
    token = call.who["csrf"] if call.who and call.who.get("csrf") else ""
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{esc(token)}">'


@router.get("/static/app.css", include_in_schema=False)
def app_css(call: Call = Depends(allow("public"))) -> Response:
    return Response(_APP_CSS, media_type="text/css")


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(next: str = "/", error: str = "", call: Call = Depends(allow("public"))) -> str:
    return page("Sign in", _login_form(next, error))


def _login_form(next_path: str, error: str = "") -> str:
    msg = f'<p class="error" id="login-error">{esc(error)}</p>' if error else ""
    return (f'{msg}<form method="post" action="/login"><input type="hidden" name="next" value="{esc(next_path)}">'
            '<label>user <input name="username" id="username" autocomplete="username" maxlength="64"></label>'
            '<label>password <input name="password" id="password" type="password" autocomplete="current-password" '
            'maxlength="1024"></label><button type="submit" id="sign-in">sign in</button></form>')


def _local(path: str) -> str:
    """Only a path on this site may follow a sign-in (no open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


@router.post("/login", include_in_schema=False)
def login(request: Request, call: Call = Depends(allow("public", read_only=True))) -> Response:
    from magcycle.app.api import sign_in
    from magcycle.app.deps import write_transaction

    form = request.state.form or {}
    user, password = str(form.get("username", ""))[:64], str(form.get("password", ""))[:1024]
    next_path = _local(str(form.get("next", "/")))
    try:  # argon2 on a worker thread (this route is synchronous): other requests go on meanwhile
        sign_in(request, call.conn, user, password)
    except HTTPException as exc:
        return HTMLResponse(page("Sign in", _login_form(next_path, str(exc.detail))), status_code=exc.status_code)
    with write_transaction(request) as conn:
        secret, _ = accounts.issue(conn, "session", user, request.app.state.session_ttl_s)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(request.app.state.session_ttl_s), httponly=True,
                        samesite="strict", secure=request.app.state.secure_cookies, path="/")
    return response


@router.post("/logout", include_in_schema=False)
def logout(call: Call = Depends(allow("session"))) -> Response:
    if call.who["via"] == "session":
        accounts.revoke(call.conn, "session", call.who["secret"])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard(request: Request, call: Call = Depends(allow("read"))) -> str:
    from magcycle.trace.lots import list_lots
    from magcycle.trace.plans import planned_campaigns

    feed = list_lots(call.conn, "feed", 1000)
    by_family: dict[tuple, float] = {}
    for lot in feed:
        key = (lot["category"], lot["consumer"])
        by_family[key] = by_family.get(key, 0.0) + (lot["remaining_kg"] or 0.0)
    rows = "".join(f"<tr><td>{esc(f)}</td><td>{esc(c)}</td><td>{kg:.6g}</td></tr>"
                   for (f, c), kg in sorted(by_family.items()))
    plan = planned_campaigns(call.conn)
    camp = "".join(f"<tr><td>{esc(c['id'])}</td><td>{esc(c['family'])}</td><td>{esc(c['custody'])}</td>"
                   f"<td>{esc(c['start'])}</td><td>{esc(c['end'])}</td></tr>" for c in plan["campaigns"])
    from magcycle.trace.certificates import list_certificates

    jobs = "".join(f'<tr><td><a href="/jobs/{esc(j["id"])}">{esc(j["id"])}</a></td><td>{esc(j["kind"])}</td>'
                   f'<td>{esc(j["owner"])}</td><td>{esc(j["state"])}</td></tr>'
                   for j in request.app.state.jobs.recent(10))
    certs = "".join(f'<tr><td>{esc(c["id"])}</td><td><a href="/lots/{esc(c["lot_id"])}">{esc(c["lot_id"])}</a></td>'
                    f'<td>{esc(c["issued_at"])}</td><td>{"revoked" if c["revoked_at"] else ""}</td></tr>'
                    for c in list_certificates(call.conn)[:20])
    body = ("<h2>Inventory by family and class</h2><table id=\"inventory\"><tr><th>family</th><th>class</th>"
            f"<th>kg left</th></tr>{rows}</table>"
            f"<h2>Planned campaigns ({esc(plan['plan_id'] or 'no plan recorded')})</h2><table id=\"planned\">"
            f"<tr><th>campaign</th><th>family</th><th>custody</th><th>start</th><th>end</th></tr>{camp}</table>"
            f'<h2>Latest jobs</h2><table id="latest-jobs"><tr><th>job</th><th>kind</th><th>by</th><th>state</th></tr>'
            f"{jobs}</table>"
            f'<h2>Certificates issued</h2><table id="issued"><tr><th>certificate</th><th>lot</th><th>issued</th><th>'
            f"</th></tr>{certs}</table>")
    return page("Dashboard", body, call)


def _lots_table(call: Call) -> str:
    from magcycle.trace.lots import list_lots

    rows = "".join(
        f"<tr><td>{esc(x['id'])}</td><td>{esc(x['kind'])}</td><td>{esc(x['supplier'] or x['product'] or '')}</td>"
        f"<td>{esc(x['category'] or '')}</td><td>{esc(x['consumer'] or '')}</td><td>{x['mass_kg']:.6g}</td>"
        f"<td>{'' if x['remaining_kg'] is None else format(x['remaining_kg'], '.6g')}</td><td>{esc(x['dated'])}</td>"
        "</tr>" for x in list_lots(call.conn, None, 200))
    return ('<table id="lots"><tr><th>lot</th><th>kind</th><th>supplier / product</th><th>category</th>'
            f"<th>class</th><th>kg</th><th>kg left</th><th>dated</th></tr>{rows}</table>")


_INTAKE = (("id", "lot id"), ("supplier", "supplier"), ("category", "category (feed class)"),
           ("consumer", "pre or post"), ("mass", "dry mass, e.g. 2.0 t"), ("received", "received (YYYY-MM-DD)"),
           ("feed", "feed class of the nominal assay"), ("origin_mined", "mined in (ISO country)"),
           ("origin_refined", "refined in"), ("origin_separated", "separated in"), ("origin_melted", "melted in"),
           ("origin_produced", "produced in"))


def _intake_form(call: Call, values: dict, errors: dict) -> str:
    fields = "".join(
        f'<label>{esc(label)} <input name="{name}" id="intake-{name}" value="{esc(values.get(name, ""))}" '
        f'maxlength="200">{_error(errors.get(name))}</label>' for name, label in _INTAKE)
    return (f'<h2>Receive a feed lot</h2>{_error(errors.get("_"))}<form method="post" action="/lots" id="intake">'
            f'{csrf_input(call)}{fields}<button type="submit" id="receive">receive</button></form>'
            '<h2>Receive lots from a CSV file</h2><p>Columns: id, supplier, category, consumer, mass, gross_mass, '
            'received, feed, origin_generated, origin_mined, origin_refined, origin_separated, origin_melted, '
            'origin_produced (one lot per row; all rows are recorded, or none).</p>'
            f'<form method="post" action="/lots/csv" enctype="multipart/form-data" id="csv-form">{csrf_input(call)}'
            '<input type="file" name="file" id="csv-file" accept=".csv,text/csv">'
            f'{_error(errors.get("file"))}<button type="submit" id="csv-upload">upload</button></form>')


def _error(msg) -> str:
    return f' <span class="error">{esc(msg)}</span>' if msg else ""


@router.get("/lots", response_class=HTMLResponse, include_in_schema=False)
def lots_page(call: Call = Depends(allow("read"))) -> str:
    from magcycle.app.policy import allowed

    form = _intake_form(call, {}, {}) if allowed(call.who["role"], "receive") else ""
    return page("Lots", _lots_table(call) + form, call)


def _receipt_from_form(form) -> dict:
    raw = {k: str(form.get(k, "")).strip() for k, _ in _INTAKE}
    doc = {k: v for k, v in raw.items() if v and not k.startswith("origin_")}
    origin = {k[len("origin_"):]: v for k, v in raw.items() if k.startswith("origin_") and v}
    if origin:
        doc["origin"] = origin
    return doc


@router.post("/lots", response_class=HTMLResponse, include_in_schema=False)
def receive_form(request: Request, call: Call = Depends(allow("receive"))) -> Response:
    from pydantic import ValidationError

    from magcycle.errors import InputError
    from magcycle.schema import error_field
    from magcycle.trace.documents import Receipt
    from magcycle.trace.lots import receive

    form = request.state.form or {}
    raw = _receipt_from_form(form)
    try:
        receive(call.conn, Receipt.model_validate(raw), call.actor)
    except ValidationError as exc:
        named = [error_field(e, raw) for e in exc.errors(include_url=False)]
        _refused(call, form, {_form_field(path.split(".")): msg for path, msg in reversed(named)})
    except InputError as exc:
        _refused(call, form, {_form_field(exc.field.split(".")): exc.reason})
    return RedirectResponse("/lots", status_code=303)


@router.post("/lots/csv", response_class=HTMLResponse, include_in_schema=False)
def receive_csv_form(request: Request, call: Call = Depends(allow("receive"))) -> Response:
    from magcycle.app.api import read_csv_upload, receive_csv
    from magcycle.errors import InputError

    form = request.state.form
    try:
        receive_csv(call.conn, read_csv_upload(form.get("file") if form is not None else None), call.actor)
    except InputError as exc:
        _refused(call, {}, {"file": f"{exc.field}: {exc.reason}"})
    return RedirectResponse("/lots", status_code=303)


def _form_field(loc) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "origin" and len(parts) > 1:
        return f"origin_{parts[1]}"
    return parts[0] if parts and parts[0] in dict(_INTAKE) else "_"


def _refused(call: Call, form, errors: dict):
    """The form again with its values and each message beside its field, raised (:class:`PageRefused`) so that
    the request's transaction is rolled back."""
    values = {k: str(form.get(k, "")) for k, _ in _INTAKE} if form else {}
    body = _lots_table(call) + _intake_form(call, values, errors)
    raise PageRefused(HTMLResponse(page("Lots", body, call), status_code=422))


class PageRefused(Exception):
    """A form refused: the page to answer with (422), the transaction rolled back."""

    def __init__(self, response: Response):
        super().__init__("form refused")
        self.response = response


def api_reference(spec: dict) -> str:
    """The OpenAPI document as a page: each path, method, summary, action and roles, request body schema."""
    from magcycle.app.policy import POLICY

    rows = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, op in methods.items():
            action = op.get("x-magcycle-action", "?")
            roles = "anyone" if action == "public" else ", ".join(sorted(POLICY.get(action, ())))
            body = op.get("requestBody", {}).get("content", {})
            schema = next(iter(body.values()), {}).get("schema", {}) if body else {}
            schema = schema.get("$ref") or schema.get("$id") or ""
            rows.append(f"<tr><td>{esc(method.upper())}</td><td>{esc(path)}</td><td>{esc(op.get('summary', ''))}"
                        f"</td><td>{esc(action)}</td><td>{esc(roles)}</td><td>{esc(schema.rsplit('/', 1)[-1])}</td>"
                        "</tr>")
    return page("REST API (v1)", '<p>The OpenAPI document: <a href="/api/openapi.json">/api/openapi.json</a>. '
                "Bearer tokens from POST /api/v1/token (form fields username, password).</p><table id=\"api\">"
                "<tr><th>method</th><th>path</th><th>what</th><th>action</th><th>roles</th><th>body</th></tr>"
                + "".join(rows) + "</table>")
