"""What every route of the web application shares: one transaction per request, the caller, the policy check, CSRF.

One transaction per request
    :func:`connection` opens it (a write transaction, holding the site's
    write lock, for POST, PUT, PATCH and DELETE; a read one otherwise) and
    commits when the route returns, before the response is built (a
    dependency of scope "function"), or rolls it back when it raises: nothing
    half-written, and no success reported for a commit that failed.

The caller
    A bearer token (``Authorization: Bearer ...``, from ``POST
    /api/v1/token``) or the session cookie (``magcycle_session``, from the
    login page). A bearer token that is unknown, expired or revoked is 401
    at once, whatever the route.

The policy (:mod:`magcycle.app.policy`)
    ``Depends(allow(action))`` on every route: not signed in, 401 (pages:
    303 to the login page); signed in without the role, 403. A request that
    changes something with the session cookie must carry the session's CSRF
    token (form field ``csrf_token`` or header ``X-CSRF-Token``), else 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Connection

from magcycle.app import accounts
from magcycle.app.policy import POLICY, allowed

__all__ = ["Call", "connection", "read_connection", "write_transaction", "allow", "caller", "SESSION_COOKIE", "CSRF_FIELD", "CSRF_HEADER", "NotSignedIn", "WRITES"]

SESSION_COOKIE = "magcycle_session"
CSRF_FIELD, CSRF_HEADER = "csrf_token", "x-csrf-token"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Call:
    """What a route receives from :func:`allow`: the request's transaction and the caller (None: anonymous)."""

    conn: Connection
    who: dict | None

    @property
    def actor(self) -> str:
        """The name the ledger records for changes made by this request."""
        return f"web:{self.who['user']}" if self.who else "web:anonymous"


class NotSignedIn(Exception):
    """Raised for a page that needs a signed-in user: the application answers 303 to the login page."""

    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


async def _transaction(request: Request, write: bool) -> AsyncIterator[Connection]:
    """A transaction held by the request, opened and closed on worker threads, after the request has taken one of
    the application's database slots (an asyncio semaphore smaller than half the engine's pool): requests beyond
    the slots wait in the event loop, holding neither a thread nor a connection, so the pool is never exhausted
    while the requests holding connections wait for threads (or a sign-in for its second connection)."""
    from starlette.concurrency import run_in_threadpool

    from magcycle.trace.db import transaction

    async with _slots(request.app):
        manager = transaction(request.app.state.engine, write=write)
        conn = await run_in_threadpool(manager.__enter__)
        try:
            yield conn
        except BaseException as exc:
            await run_in_threadpool(manager.__exit__, type(exc), exc, exc.__traceback__)
            raise
        else:
            await run_in_threadpool(manager.__exit__, None, None, None)


def _slots(app):
    """The application's database slots on the running event loop (one semaphore per loop: a test may drive the
    application from several)."""
    import asyncio

    loop = asyncio.get_running_loop()
    slots = app.state.db_slots
    if loop not in slots:
        slots[loop] = asyncio.Semaphore(app.state.db_slot_count)
    return slots[loop]


async def connection(request: Request) -> AsyncIterator[Connection]:
    """The request's one transaction (module docstring)."""
    async for conn in _transaction(request, request.method in WRITES):
        yield conn


async def read_connection(request: Request) -> AsyncIterator[Connection]:
    """A read transaction whatever the method (the sign-in routes: the password is checked without the write
    lock, and the token or session is written afterwards in a transaction of its own)."""
    async for conn in _transaction(request, False):
        yield conn


def caller(request: Request, conn: Connection) -> dict | None:
    """{user, role, csrf, via} of the request, or None; 401 for a bearer token that is not live."""
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "the Authorization header must be 'Bearer <token>'",
                                headers={"WWW-Authenticate": "Bearer"})
        who = accounts.resolve(conn, "token", token.strip())
        if who is None:
            raise HTTPException(401, "the bearer token is unknown, expired or revoked",
                                headers={"WWW-Authenticate": "Bearer"})
        return dict(who, via="token", secret=token.strip())
    sid = request.cookies.get(SESSION_COOKIE)
    who = accounts.resolve(conn, "session", sid) if sid else None
    return None if who is None else dict(who, via="session", secret=sid)


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _form(request: Request):
    """The request's form, read (and cached by Starlette) before any lock is taken; None for other bodies."""
    if request.method in WRITES and request.headers.get("content-type", "").startswith(_FORMS):
        return await request.form()
    return None


def _who(request: Request) -> dict | None:
    """The caller, resolved in a short read transaction of its own (on a worker thread)."""
    from magcycle.trace.db import transaction

    with transaction(request.app.state.engine, write=False) as conn:
        return caller(request, conn)


def _same_site(request: Request) -> bool:
    """A state-changing request from this site's own pages, as the browser says: Sec-Fetch-Site same-origin or
    none when sent (every current browser sends it); else an Origin of this host when one is sent ("null", from
    a privacy-minded browser, is let through: the CSRF token still guards every signed-in form). Scripts send
    neither."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin in (None, "null") or origin.split("://", 1)[-1].rstrip("/") == request.headers.get("host", "")


def allow(action: str, *, read_only: bool = False):
    """The dependency that lets a request through only as :data:`POLICY` says for ``action`` (with
    ``read_only``, the request's transaction is a read one whatever its method).

    The caller is resolved and checked first, in a read transaction of its own, and a form body is read before
    the request's transaction opens: a request that is refused never takes the site's write lock, and no upload
    streams in while the lock is held. Forms posted with the session cookie carry the session's CSRF token
    (public actions excepted, whose forms act on no one's authority), and come from this site's own pages."""
    from starlette.concurrency import run_in_threadpool

    if action not in POLICY:
        raise KeyError(f"no policy for action {action!r}")
    opened = read_connection if read_only else connection

    async def check(request: Request) -> dict | None:
        form = await _form(request)
        request.state.form = form  # for the (synchronous) routes: the form as read before any lock
        async with _slots(request.app):
            who = await run_in_threadpool(_who, request)
        request.state.caller = who
        if not allowed(who["role"] if who else None, action):
            if who is None:
                if request.url.path.startswith("/api/"):
                    raise HTTPException(401, "sign in first: a bearer token from POST /api/v1/token",
                                        headers={"WWW-Authenticate": "Bearer"})
                raise NotSignedIn(request.url.path)
            raise HTTPException(403, f"the role {who['role']} may not {action}")
        if request.method in WRITES and not _same_site(request):
            raise HTTPException(403, "a change must come from this site's own pages (cross-site request refused)")
        if who is not None and who["via"] == "session" and request.method in WRITES and action != "public":
            sent = request.headers.get(CSRF_HEADER) or (form.get(CSRF_FIELD) if form is not None else None)
            if not accounts.same_secret(sent if isinstance(sent, str) else None, who["csrf"]):
                raise HTTPException(403, "missing or wrong CSRF token")
        return who

    async def call(who: dict | None = Depends(check), conn: Connection = Depends(opened, scope="function")) -> Call:
        return Call(conn, who)

    call.action = action  # read by the access-matrix test and the OpenAPI extension
    return call


def write_transaction(request: Request):
    """A write transaction of its own (after a sign-in's password check in a read one)."""
    from magcycle.trace.db import transaction

    return transaction(request.app.state.engine, write=True)
