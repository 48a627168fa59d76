"""The REST API under ``/api/v1`` (OpenAPI at ``/api/openapi.json``, read at ``/api/docs``).

Request bodies are the declared input schemas, the same pydantic models as
the files (a receipt is :class:`magcycle.trace.documents.Receipt`), and the
answers are the documents the command line prints with ``--json``. Every
route runs one transaction and names its action in the policy; changes are
recorded in the ledger with the actor ``web:<user>``.
"""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, Body, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from magcycle.app import accounts
from magcycle.app.deps import Call, allow
from magcycle.errors import InputError
from magcycle.schema import Name, Strict, field
from magcycle.trace.documents import CampaignFile, Receipt

__all__ = ["router", "sign_in", "document_body", "read_csv_upload", "receive_csv", "MAX_CSV_BYTES", "RunRequest", "RevokeRequest", "TeaRequest", "download_name"]

router = APIRouter()
V1 = "/api/v1"


def document_body(name: str) -> dict:
    """``openapi_extra`` declaring a route's JSON body as the input document ``name`` (``magcycle schema NAME``,
    the same pydantic model as the file; its ``$id`` makes its ``$defs`` resolve within it): for routes that take
    the document as a plain object and validate it with that model themselves."""
    from magcycle.report.reference import json_schema

    schema = {k: v for k, v in json_schema(name).items() if k != "$schema"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def sign_in(request: Request, conn, username: str, password: str) -> str:
    """The user's role when the password is right; 429 while the caller is locked out, 401 when wrong."""
    limiter = request.app.state.limiter
    keys = (f"user:{username}", f"addr:{request.client.host if request.client else '?'}")
    wait = limiter.attempt(*keys)
    if wait > 0:
        raise HTTPException(429, f"too many failed sign-ins; try again in {wait:.0f} s",
                            headers={"Retry-After": str(int(wait) + 1)})
    role = None
    try:
        role = accounts.check_password(conn, username, password)
    finally:
        limiter.done(role is not None, *keys)
    if role is None:
        raise HTTPException(401, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"})
    return role


@router.post(f"{V1}/token", summary="a bearer token (OAuth2 password flow: form fields username, password)")
def token(request: Request, username: str = Form(max_length=64), password: str = Form(max_length=1024),
          call: Call = Depends(allow("public", read_only=True))) -> dict:
    from magcycle.app.deps import write_transaction

    sign_in(request, call.conn, username, password)  # argon2, without the write lock
    ttl = request.app.state.token_ttl_s
    with write_transaction(request) as conn:
        secret, _ = accounts.issue(conn, "token", username, ttl)
    return {"access_token": secret, "token_type": "bearer", "expires_in": int(ttl)}


@router.post(f"{V1}/token/revoke", summary="revoke the bearer token of this request")
def revoke_token(call: Call = Depends(allow("session"))) -> dict:
    if call.who["via"] != "token":
        raise HTTPException(400, "send the token to revoke as 'Authorization: Bearer <token>'")
    return {"revoked": accounts.revoke(call.conn, "token", call.who["secret"])}


@router.get(f"{V1}/me", summary="who is calling, and with which role")
def me(call: Call = Depends(allow("session"))) -> dict:
    return {"user": call.who["user"], "role": call.who["role"]}


@router.get(f"{V1}/lots", summary="lots, newest first")
def lots(kind: Literal["feed", "product"] | None = None, limit: int = Query(100, ge=1, le=1000),
         offset: int = Query(0, ge=0, le=10**9), call: Call = Depends(allow("read"))) -> dict:
    from magcycle.trace.lots import list_lots

    return {"lots": list_lots(call.conn, kind, limit, offset)}


@router.post(f"{V1}/lots", status_code=201, summary="receive a feed lot (body: a receipt, as the receipt file)")
def receive_lot(receipt: Receipt, call: Call = Depends(allow("receive"))) -> dict:
    from magcycle.trace.lots import receive

    return receive(call.conn, receipt, call.actor)


#: the largest receipts CSV taken [bytes]
MAX_CSV_BYTES = 1_000_000


def read_csv_upload(upload) -> str:
    """The text of an uploaded receipts CSV: 415 unless it is one (.csv name or text/csv type), 413 above
    :data:`MAX_CSV_BYTES`, 422 unless UTF-8."""
    if upload is None or isinstance(upload, str):
        raise InputError("file", "no file uploaded")
    kind = (upload.content_type or "").split(";")[0].strip().lower()
    if not ((upload.filename or "").lower().endswith(".csv") or kind in ("text/csv", "application/csv")):
        raise HTTPException(415, f"a CSV file is expected (.csv, text/csv), got {kind or 'no type'}")
    upload.file.seek(0)
    raw = upload.file.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(413, f"the file is larger than {MAX_CSV_BYTES} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("file", "not UTF-8 text") from None


def receive_csv(conn, text: str, actor: str) -> list[dict]:
    """Every receipt of the CSV, in the request's one transaction (all recorded, or none)."""
    from magcycle.trace.documents import receipts_from_csv
    from magcycle.trace.lots import receive

    return [receive(conn, r, actor) for r in receipts_from_csv(text)]


@router.post(f"{V1}/lots/csv", status_code=201, summary="receive feed lots from a CSV file (form field file)")
def receive_lots_csv(request: Request, call: Call = Depends(allow("receive"))) -> dict:
    form = request.state.form
    text = read_csv_upload(form.get("file") if form is not None else None)
    return {"lots": receive_csv(call.conn, text, call.actor)}


@router.get(f"{V1}/lots/{{lot_id}}", summary="a lot's record")
def one_lot(lot_id: str, call: Call = Depends(allow("read"))) -> dict:
    from magcycle.trace.lots import lot

    return _found(lambda: lot(call.conn, lot_id))


@router.get(f"{V1}/lots/{{lot_id}}/genealogy", summary="backward or forward genealogy of a lot")
def genealogy(lot_id: str, call: Call = Depends(allow("read"))) -> dict:
    from magcycle.trace.lots import genealogy as trace_genealogy

    return _found(lambda: trace_genealogy(call.conn, lot_id))


def _found(fetch, what: str = "lot"):
    """``fetch()``, its "unknown <what>" refusal answered 404 (any other bad input stays 422)."""
    try:
        return fetch()
    except InputError as exc:
        if exc.reason.startswith(f"unknown {what}"):
            raise HTTPException(404, exc.reason) from None
        raise


@router.get(f"{V1}/plans/current", summary="the planned campaigns of the newest recorded plan")
def current_plan(call: Call = Depends(allow("read"))) -> dict:
    from magcycle.trace.plans import planned_campaigns

    return planned_campaigns(call.conn)


@router.get(f"{V1}/audit", summary="the ledger audit: chain, tables replayed")
def audit(call: Call = Depends(allow("audit"))) -> dict:
    from magcycle.trace.audit import AuditFailure
    from magcycle.trace.audit import audit as run_audit

    try:
        return dict(run_audit(call.conn), intact=True)
    except AuditFailure as exc:
        return {"intact": False, "where": exc.where, "why": exc.why}


@router.get("/api/openapi.json", include_in_schema=False)
def openapi(request: Request, call: Call = Depends(allow("public"))) -> dict:
    return request.app.openapi()


@router.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
def docs(request: Request, call: Call = Depends(allow("public"))) -> str:
    from magcycle.app.pages import api_reference

    return api_reference(request.app.openapi())


# ------------------------------------------------------------ long jobs: plant runs, campaign plans
class RunRequest(Strict):
    """A plant run, as ``magcycle run``: a built-in plant, its feed and rate."""

    plant: Name = field("reference", description="a built-in plant (files are not read from the server)")
    feed: str | None = field(None, max_length=500, description="feed class, blend (ev=0.6,wind=0.4); default the "
                                                                "plant's")
    rate: str | None = field(None, max_length=100, description="dry feed rate, e.g. '150 kg/h'; default the plant's")


def _builtin_plant(name: str, where: str = "plant"):
    from magcycle.flowsheet.simulation import load_plant
    from magcycle.flowsheet.spec import builtin_plants

    if name not in builtin_plants():
        raise InputError(where, f"the web application runs built-in plants only ({', '.join(builtin_plants())}), "
                                f"got {name!r:.60}")
    return load_plant(name)


@router.post(f"{V1}/runs", status_code=202, summary="start a plant run (a job); its id at once")
def start_run(run: RunRequest, request: Request, call: Call = Depends(allow("simulate", read_only=True))) -> dict:
    from magcycle.app.jobs import run_plant
    from magcycle.flowsheet.simulation import plant_feed

    try:  # bad input refused now, not in the job; named as the request names it
        plant_feed(_builtin_plant(run.plant), run.feed, run.rate)
    except InputError as exc:
        head = exc.field.split(".")
        raise InputError("rate" if "rate" in head else head[0], exc.reason) from None
    job = request.app.state.jobs.submit("run", call.who["user"], run_plant, run.plant, run.feed, run.rate)
    return {"job": job, "href": f"{V1}/jobs/{job}"}


@router.get(f"{V1}/jobs/{{job_id}}", summary="a job's state, and its result when done")
def job(job_id: str, request: Request, call: Call = Depends(allow("read"))) -> dict:
    report = request.app.state.jobs.get(job_id)
    if report is None:
        raise HTTPException(404, f"unknown job {job_id[:40]!r}")
    return report


def _plan_document(conn, raw: dict) -> dict:
    """The plan file with the database's lots (as ``plan campaigns --db``), validated."""
    from magcycle.plan.campaigns import PlanFile, check_products
    from magcycle.schema import validate
    from magcycle.trace.lots import available_lots

    if not isinstance(raw, dict):
        raise InputError("body", "a plan document (JSON object) is expected")
    if raw.get("lots"):
        raise InputError("lots", "the web application plans the database's lots; leave lots out")
    spec = _builtin_plant(str(raw.get("plant", "reference")))
    doc = dict(raw, lots=available_lots(conn))
    check_products(validate(PlanFile, doc), list(spec.products))
    return doc


@router.post(f"{V1}/plans", status_code=202, summary="plan campaigns on the database's lots (a job)",
             openapi_extra=document_body("plan"))
def start_plan(request: Request, raw: dict = Body(...), time_limit: float = Query(60.0, gt=0, le=3600),
               gap: float = Query(0.01, ge=0, lt=1), call: Call = Depends(allow("plan", read_only=True))) -> dict:
    from magcycle.app.jobs import plan_job

    doc = _plan_document(call.conn, raw)
    job = request.app.state.jobs.submit("plan", call.who["user"], plan_job, doc, time_limit, gap)
    return {"job": job, "href": f"{V1}/jobs/{job}"}


@router.post(f"{V1}/plans/{{job_id}}/record", status_code=201, summary="record a finished plan as planned")
def record(job_id: str, request: Request, call: Call = Depends(allow("plan"))) -> dict:
    from magcycle.trace.plans import record_plan

    report = request.app.state.jobs.get(job_id)
    if report is None or report["kind"] != "plan":
        raise HTTPException(404, f"no plan job {job_id[:40]!r}")
    if report["state"] != "done":
        raise HTTPException(409, f"the plan job is {report['state']}; record it once it is done")
    jobs = request.app.state.jobs
    if jobs.recorded(job_id):
        raise HTTPException(409, f"this plan is recorded already as {jobs.recorded(job_id)}")
    out = record_plan(call.conn, report["result"], call.actor)
    jobs.mark_recorded(job_id, out["plan_id"])  # (kept only if the transaction commits: see Jobs.mark_recorded)
    return out


# ------------------------------------------------------------ campaigns, certificates, verification
class RevokeRequest(Strict):
    reason: str = field(min_length=1, max_length=500, description="why the certificate is revoked")


@router.post(f"{V1}/campaigns", status_code=201, summary="record a campaign that ran (body: a campaign file)")
def run_campaign(cf: CampaignFile, call: Call = Depends(allow("campaign"))) -> dict:
    from magcycle.trace.campaigns import campaign_summary
    from magcycle.trace.campaigns import run_campaign as trace_campaign

    _builtin_plant(cf.plant)
    return campaign_summary(trace_campaign(call.conn, cf, call.actor))


@router.post(f"{V1}/lots/{{lot_id}}/certificate", status_code=201, summary="issue the certificate of a product lot")
def certify(lot_id: str, request: Request, call: Call = Depends(allow("certify"))) -> dict:
    from magcycle.trace.certificates import certify as trace_certify
    from magcycle.trace.keys import keys_dir, signing_key

    kid, private = signing_key(call.conn, keys_dir(request.app.state.keys_dir))
    return _found(lambda: trace_certify(call.conn, lot_id, kid, private, call.actor))


@router.get(f"{V1}/certificates", summary="certificates issued, newest first")
def certificates(lot: str | None = Query(None, max_length=200), call: Call = Depends(allow("read"))) -> dict:
    from magcycle.trace.certificates import list_certificates

    return {"certificates": list_certificates(call.conn, lot)}


def _certificate(conn, cert_id: str) -> dict:
    from magcycle.trace.certificates import certificate

    return _found(lambda: certificate(conn, cert_id), "certificate")


def download_name(cert_id: str, suffix: str) -> str:
    """A file name for a download: the id's letters, digits, '.', '_' and '-' only (never a path)."""
    import re

    return (re.sub(r"[^A-Za-z0-9._-]+", "_", cert_id).strip("._") or "certificate")[:120] + suffix


@router.get(f"{V1}/certificates/{{cert_id:path}}/coa", response_class=HTMLResponse,
            summary="the certificate of analysis (EN 10204 3.1 form)")
def coa(cert_id: str, call: Call = Depends(allow("read"))) -> Response:
    from magcycle.report.coa import render_coa

    cred = _certificate(call.conn, cert_id)["credential"]
    return HTMLResponse(render_coa(cred))


@router.post(f"{V1}/certificates/{{cert_id:path}}/revoke", summary="revoke a certificate; its claim is booked back")
def revoke(cert_id: str, body: RevokeRequest, call: Call = Depends(allow("certify"))) -> dict:
    from magcycle.trace.certificates import revoke as trace_revoke

    _certificate(call.conn, cert_id)
    return trace_revoke(call.conn, cert_id, body.reason, call.actor)


@router.get(f"{V1}/certificates/{{cert_id:path}}", summary="download a certificate (the signed credential)")
def download(cert_id: str, call: Call = Depends(allow("read"))) -> Response:
    cred = _certificate(call.conn, cert_id)["credential"]
    text = json.dumps(cred, indent=2, ensure_ascii=False) + "\n"
    return Response(text, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="{download_name(cert_id, ".vc.json")}"'})


@router.post(f"{V1}/verify", summary="verify a certificate against this site's ledger (anyone)")
def verify(credential: dict = Body(...), call: Call = Depends(allow("public", read_only=True))) -> dict:
    from magcycle.trace.certificates import verify_certificate

    problems = verify_certificate(credential, None, call.conn)
    return {"valid": not problems, "problems": problems, "id": credential.get("id")}


# ------------------------------------------------------------ cascades, designs, uncertainty, economics
@router.post(f"{V1}/sx/solve", summary="solve one cascade (body: a cascade document, as the file)",
             openapi_extra=document_body("cascade"))
def sx_solve(raw: dict = Body(...), call: Call = Depends(allow("simulate", read_only=True))) -> dict:
    from magcycle.sx import solve
    from magcycle.sx.spec import CascadeSpec

    return solve(CascadeSpec.from_dict(raw, source="api")).to_dict()


@router.post(f"{V1}/sx/design", status_code=202, summary="design a cascade for its [targets] (a job)",
             openapi_extra=document_body("cascade"))
def sx_design(request: Request, raw: dict = Body(...), optimise_flows: bool = False,
              max_stages: int | None = Query(None, ge=1, le=500),
              call: Call = Depends(allow("simulate", read_only=True))) -> dict:
    from magcycle.app.jobs import design_job
    from magcycle.sx.optimise import design_problem

    design_problem(raw, source="api")  # bad input refused now, not in the job
    job = request.app.state.jobs.submit("design", call.who["user"], design_job, raw, optimise_flows, max_stages)
    return {"job": job, "href": f"{V1}/jobs/{job}"}


class TeaRequest(Strict):
    plant: Name = field("reference", description="a built-in plant")
    scenario: Literal["low", "base", "high"] = field("base", description="price and cost scenario")


@router.post(f"{V1}/tea", status_code=202, summary="techno-economics of a built-in plant (a job)")
def tea(body: TeaRequest, request: Request, call: Call = Depends(allow("simulate", read_only=True))) -> dict:
    from magcycle.app.jobs import tea_job

    _builtin_plant(body.plant)
    job = request.app.state.jobs.submit("tea", call.who["user"], tea_job, body.plant, body.scenario)
    return {"job": job, "href": f"{V1}/jobs/{job}"}


@router.post(f"{V1}/uq", status_code=202, summary="an uncertainty study of a built-in plant (a job)",
             openapi_extra=document_body("study"))
def uq(request: Request, raw: dict = Body(...), call: Call = Depends(allow("simulate", read_only=True))) -> dict:
    from magcycle.analysis.study import study_from_dict
    from magcycle.app.jobs import uq_job

    section = raw.get("study") if isinstance(raw, dict) else None
    if isinstance(section, dict):
        if section.get("cascade") is not None:
            raise InputError("study.cascade", "the web application runs studies of built-in plants; name one as "
                                              "study.plant")
        _builtin_plant(str(section.get("plant", "reference")), "study.plant")
    study_from_dict(raw, None, "api")  # bad input refused now, not in the job
    job = request.app.state.jobs.submit_tracked("uq", call.who["user"], uq_job, raw)
    return {"job": job, "href": f"{V1}/jobs/{job}"}
