"""The web application (``magcycle serve``): FastAPI on the site's database, REST under ``/api/v1``, pages.

:func:`create_app` builds it on one database (``--db`` URL, else
``MAGCYCLE_DATABASE_URL``, else ``sqlite:///magcycle.db``), which must be at
the schema head (``magcycle trace init``). Every route names its action in
the policy (:mod:`magcycle.app.policy`) and runs in one transaction
(:mod:`magcycle.app.deps`).

Errors are one JSON document: a request that fails validation, or input a
layer refuses (:class:`~magcycle.errors.InputError`), is 422 with
``{"error", "detail": [{"loc", "field", "msg"}]}`` (``field`` the dotted path
in the request body or query, as the command line names it); 401, 403, 404,
409, 413, 415, 429 and 503 (the database unavailable or busy) carry
``{"detail"}``; anything unexpected is 500 with no
trace of the server's internals. Pages show the same messages beside their
fields.

Limits: a request body above ``max_body_bytes`` (default 2 MB) is 413 before
it is read whole; a caller that fails to sign in ``LOGIN_ATTEMPTS`` times in
``LOGIN_WINDOW_S`` seconds (per user name and per client address) gets 429.
Every answer carries ``X-Content-Type-Options: nosniff``, ``X-Frame-Options:
DENY``, ``Referrer-Policy: same-origin`` and a Content-Security-Policy that
allows scripts from the application only (styles also inline: plotly.js sets
its own); the full reports served as documents carry a policy of their own
(:data:`magcycle.app.pages_ops.REPORT_CSP`).
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
import weakref

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse

from magcycle.app.deps import NotSignedIn
from magcycle.errors import InputError

__all__ = ["create_app", "route_action", "invalid", "LoginLimiter", "DB_SLOTS", "LOGIN_ATTEMPTS", "LOGIN_WINDOW_S", "MAX_BODY_BYTES", "CSP"]

LOGIN_ATTEMPTS, LOGIN_WINDOW_S = 5, 60.0
#: requests that hold database connections at once (each at most two: a sign-in reads, then writes); the others
#: wait for a slot in the event loop (:func:`magcycle.app.deps.connection`)
DB_SLOTS = 16
MAX_BODY_BYTES = 2_000_000
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


class LoginLimiter:
    """Failed sign-ins per key (user name, client address) in a sliding window; thread-safe.

    An attempt is let through while the key has fewer than ``attempts`` failures in the window, and while its
    failures plus the attempts still being checked stay below ``attempts + in_flight``: a burst of concurrent
    guesses gets at most that many before the lock-out, and a script signing in many times at once with the
    right password is not locked out by its own concurrency."""

    def __init__(self, attempts: int = LOGIN_ATTEMPTS, window_s: float = LOGIN_WINDOW_S, in_flight: int = 16):
        self.attempts, self.window_s, self.in_flight = attempts, window_s, in_flight
        self._fails: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._pending: dict[str, int] = collections.defaultdict(int)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> collections.deque:
        q = self._fails[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def _prune(self, now: float) -> None:
        """Forget keys with no failure left in the window (the table does not grow with every name tried)."""
        for k in [k for k, q in self._fails.items() if (not q or q[-1] <= now - self.window_s)
                  and not self._pending.get(k)]:
            del self._fails[k]
            self._pending.pop(k, None)

    def attempt(self, *keys: str) -> float:
        """Check ``keys`` and, when they may go on, count the attempt as under way (atomically): the seconds to
        wait (0: go on, and report the outcome with :meth:`done`)."""
        now = time.monotonic()
        with self._lock:
            if len(self._fails) > 10_000:
                self._prune(now)
            queues = {k: self._recent(k, now) for k in keys}
            waits = [q[0] + self.window_s - now for k, q in queues.items()
                     if len(q) >= self.attempts or (q and len(q) + self._pending[k] >= self.attempts + self.in_flight)]
            if waits:
                return max(waits)
            for k in keys:
                self._pending[k] += 1
            return 0.0

    def done(self, ok: bool, *keys: str) -> None:
        """The attempt begun by :meth:`attempt` is over: a failure counts in the window, a success does not."""
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._pending[k] = max(0, self._pending[k] - 1)
                if not ok:
                    self._recent(k, now).append(now)


class _BodyLimit:
    """ASGI middleware: 413 for a body longer than ``limit`` bytes (by its Content-Length, or as it streams)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.limit:
                return await _too_large(self.limit, send)
            return await self.app(scope, receive, send)
        # no Content-Length (chunked): read the body first, at most the limit, then hand it on
        messages, seen = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.limit:
                return await _too_large(self.limit, send)
            if not message.get("more_body", False):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()
        return await self.app(scope, replay, send)


async def _too_large(limit: int, send) -> None:
    body = JSONResponse({"detail": f"request body above {limit} bytes"}, status_code=413).body
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _field(loc) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "form"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _detail(err: dict, body) -> dict:
    """One validation error: for the request body, the field and reason as the command line names them
    (:func:`magcycle.schema.error_field`); for the query or path, the parameter's name and pydantic's message."""
    from magcycle.schema import error_field

    loc = tuple(err.get("loc", ()))
    if loc and loc[0] == "body" and err.get("type") not in ("json_invalid",) and isinstance(body, (dict, list)):
        try:
            field, msg = error_field(dict(err, loc=loc[1:]), body)
        except Exception:  # an error shape the file validator never meets: pydantic's own words
            field, msg = _field(loc), str(err.get("msg", ""))
    else:
        field, msg = _field(loc), str(err.get("msg", ""))
    return {"loc": [str(p) for p in loc], "field": field, "msg": msg}


def invalid(detail: list[dict]) -> JSONResponse:
    """The 422 document (module docstring)."""
    first = detail[0] if detail else {"field": "body", "msg": "invalid"}
    return JSONResponse({"error": f"{first['field']}: {first['msg']}", "detail": detail}, status_code=422)


def _errors(app: FastAPI) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from magcycle.app.pages import PageRefused
    from magcycle.trace.db import DatabaseError

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return invalid([_detail(e, exc.body) for e in exc.errors()])

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError):
        return invalid([{"loc": ["body", *exc.field.split(".")], "field": exc.field, "msg": exc.reason}])

    @app.exception_handler(PageRefused)
    async def _refused(request: Request, exc: PageRefused):
        return exc.response

    @app.exception_handler(DatabaseError)
    async def _database(request: Request, exc: DatabaseError):
        return JSONResponse({"detail": f"the database is unavailable, nothing was recorded: {exc.reason}"},
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(SQLAlchemyError)
    async def _sql(request: Request, exc: SQLAlchemyError):
        return JSONResponse({"detail": "the database is unavailable or busy, nothing was recorded"},
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(NotSignedIn)
    async def _sign_in(request: Request, exc: NotSignedIn):
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.path, safe='/')}", status_code=303)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        return JSONResponse({"detail": "internal error; nothing was recorded"}, status_code=500)


def _headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def _secure(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def create_app(db_url: str | None = None, *, token_ttl_s: float = 3600.0, session_ttl_s: float = 8 * 3600.0,
               max_body_bytes: int = MAX_BODY_BYTES, limiter: LoginLimiter | None = None,
               secure_cookies: bool = False, scheduler: str | None = None, keys: str | None = None,
               workers: int | None = None) -> FastAPI:
    """The application on database ``db_url`` (module docstring). Raises DatabaseError (an InputError) when the
    database cannot be opened or is not at the schema head."""
    from magcycle.app import api, pages, pages_ops
    from magcycle.trace.db import open_engine, require_head, transaction

    engine = open_engine(db_url, pool=2 * DB_SLOTS + 4)
    try:
        with transaction(engine, write=False) as conn:
            require_head(conn)
    except Exception:
        engine.dispose()
        raise
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            yield
        finally:
            app.state.jobs.close()
            engine.dispose()

    app = FastAPI(title="magcycle", version="1", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.engine = engine
    app.state.db_slot_count = DB_SLOTS  # requests holding database connections at once
    app.state.db_slots = weakref.WeakKeyDictionary()  # event loop -> its semaphore
    app.state.token_ttl_s, app.state.session_ttl_s = token_ttl_s, session_ttl_s
    app.state.limiter = limiter or LoginLimiter()
    app.state.secure_cookies = secure_cookies
    from magcycle.app.jobs import Jobs

    app.state.jobs = Jobs(scheduler, workers)  # long jobs: a local process pool, or Dask at ``scheduler``
    app.state.keys_dir = keys  # the site's signing keys (None: $MAGCYCLE_KEYS_DIR, else magcycle-keys)
    _errors(app)
    _headers(app)
    for router in (api.router, pages.router, pages_ops.router):  # the routes themselves (paths are absolute): one flat list
        app.router.routes.extend(router.routes)
    for route in app.routes:  # each route's action, in the OpenAPI document and on the API reference page
        action = route_action(route)
        if action is not None and hasattr(route, "openapi_extra"):
            route.openapi_extra = dict(route.openapi_extra or {}, **{"x-magcycle-action": action})
    app.add_middleware(_BodyLimit, limit=max_body_bytes)
    return app


def route_action(route) -> str | None:
    """The policy action a route checks (the :func:`magcycle.app.deps.allow` among its dependencies), or None."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dep = stack.pop()
        action = getattr(dep.call, "action", None)
        if action is not None:
            return action
        stack.extend(dep.dependencies)
    return None
