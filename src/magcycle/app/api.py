"""The REST API under ``/api/v1`` (OpenAPI at ``/api/openapi.json``, read at ``/api/docs``).

Request bodies are the declared input schemas, the same pydantic models as
the files (a receipt is :class:`magcycle.trace.documents.Receipt`), and the
answers are the documents the command line prints with ``--json``. Every
route runs one transaction and names its action in the policy; changes are
recorded in the ledger with the actor ``web:<user>``.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from magcycle.app import accounts
from magcycle.app.deps import Call, allow
from magcycle.trace.documents import Receipt

__all__ = ["router", "sign_in"]

router = APIRouter()
V1 = "/api/v1"


def sign_in(request: Request, conn, username: str, password: str) -> str:
    """The user's role when the password is right; 429 while the caller is locked out, 401 when wrong."""
    limiter = request.app.state.limiter
    keys = (f"user:{username}", f"addr:{request.client.host if request.client else '?'}")
    wait = limiter.blocked(*keys)
    if wait > 0:
        raise HTTPException(429, f"too many failed sign-ins; try again in {wait:.0f} s",
                            headers={"Retry-After": str(int(wait) + 1)})
    role = accounts.check_password(conn, username, password)
    if role is None:
        limiter.failed(*keys)
        raise HTTPException(401, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"})
    return role


@router.post(f"{V1}/token", summary="a bearer token (OAuth2 password flow: form fields username, password)")
def token(request: Request, username: str = Form(max_length=64), password: str = Form(max_length=1024),
          call: Call = Depends(allow("public"))) -> dict:
    sign_in(request, call.conn, username, password)
    ttl = request.app.state.token_ttl_s
    secret, _ = accounts.issue(call.conn, "token", username, ttl)
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


@router.get(f"{V1}/lots/{{lot_id}}", summary="a lot's record")
def one_lot(lot_id: str, call: Call = Depends(allow("read"))) -> dict:
    from magcycle.trace.lots import lot

    return _found(lambda: lot(call.conn, lot_id))


@router.get(f"{V1}/lots/{{lot_id}}/genealogy", summary="backward or forward genealogy of a lot")
def genealogy(lot_id: str, call: Call = Depends(allow("read"))) -> dict:
    from magcycle.trace.lots import genealogy as trace_genealogy

    return _found(lambda: trace_genealogy(call.conn, lot_id))


def _found(fetch):
    from magcycle.errors import InputError

    try:
        return fetch()
    except InputError as exc:
        if exc.reason.startswith("unknown lot"):
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
