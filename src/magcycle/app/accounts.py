"""Users, bearer tokens and browser sessions of the web application, in the site's database.

Users
    ``magcycle users add NAME --role ROLE [--password-file FILE]``: the
    password is read from a prompt or a file, never from an argument;
    hashed with argon2id (``argon2-cffi``'s defaults: RFC 9106's second
    recommended option, t=3, m=64 MiB, p=4). The user's name and role are a
    ``user`` ledger entry with the actor, which ``trace audit`` replays (a role
    edited by SQL fails the audit); the hash is kept in ``users`` only.

Tokens and sessions
    A bearer token or a session cookie is 32 random bytes (``secrets``),
    shown once; the database keeps its SHA-256 only, with its expiry and,
    once revoked, the time. A session carries its CSRF token, which every
    form posts back. Times are UTC ISO 8601 strings of one width, so they
    compare as text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from magcycle.app.policy import ROLES
from magcycle.errors import InputError
from magcycle.trace import db
from magcycle.trace.store import record

__all__ = ["add_user", "check_password", "user_role", "issue", "resolve", "revoke", "revoke_all", "same_secret", "MIN_PASSWORD",
           "MAX_PASSWORD", "USER_NAME"]

#: user names: letters, digits, '.', '_', '-'; 1 to 64 characters
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MIN_PASSWORD, MAX_PASSWORD = 12, 1024
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _at(seconds_from_now: float = 0.0) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds_from_now)).strftime(_TIME)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def add_user(conn: Connection, name: str, role: str, password: str, actor: str) -> dict:
    """Create user ``name`` with ``role`` (one transaction, the caller's); {name, role}. InputError naming the
    field for a bad name, role or password, or a name taken."""
    if not USER_NAME.fullmatch(name or ""):
        raise InputError("name", "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if role not in ROLES:
        raise InputError("role", f"expected one of {', '.join(ROLES)}, got {role!r:.40}")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InputError("password", f"{MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if conn.execute(select(db.users.c.name).where(db.users.c.name == name)).first() is not None:
        raise InputError("name", f"user {name} exists already")
    entry = record(conn, {"type": "user", "actor": actor, "event_time": _at(), "name": name, "role": role})
    conn.execute(insert(db.users).values(name=name, role=role, password_hash=_hasher().hash(password),
                                         created_at=_at(), seq=entry["seq"]))
    return {"name": name, "role": role}


def user_role(conn: Connection, name: str) -> str | None:
    return conn.execute(select(db.users.c.role).where(db.users.c.name == name)).scalar()


#: a hash to verify against when the user does not exist, so both cases take the same time
_DUMMY: list[str] = []


def check_password(conn: Connection, name: str, password: str) -> str | None:
    """The user's role when ``password`` is theirs, else None (an unknown user costs the same argon2 work)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    row = conn.execute(select(db.users.c.role, db.users.c.password_hash).where(db.users.c.name == name)).first()
    if not _DUMMY:
        _DUMMY.append(_hasher().hash(secrets.token_hex(16)))
    stored = row.password_hash if row is not None else _DUMMY[0]
    try:
        ok = _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        ok = False
    return row.role if ok and row is not None else None


def _table(kind: str):
    return {"token": db.api_tokens, "session": db.web_sessions}[kind]


def issue(conn: Connection, kind: str, user: str, ttl_s: float) -> tuple[str, str | None]:
    """A new bearer token or session for ``user``, valid ``ttl_s`` seconds: (the secret, the session's CSRF
    token or None). Only the secret's SHA-256 is stored."""
    secret = secrets.token_urlsafe(32)
    values = {"digest": _digest(secret), "user_name": user, "created_at": _at(), "expires_at": _at(ttl_s)}
    csrf = None
    if kind == "session":
        csrf = values["csrf"] = secrets.token_urlsafe(32)
    conn.execute(insert(_table(kind)).values(**values))
    return secret, csrf


def resolve(conn: Connection, kind: str, secret: str | None) -> dict | None:
    """{user, role, csrf} of a live token or session (not expired, not revoked), else None."""
    if not secret or len(secret) > 200:
        return None
    t = _table(kind)
    cols = [t.c.user_name, t.c.expires_at, t.c.revoked_at, db.users.c.role]
    if kind == "session":
        cols.append(t.c.csrf)
    row = conn.execute(select(*cols).join(db.users, db.users.c.name == t.c.user_name)
                       .where(t.c.digest == _digest(secret))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= _at():
        return None
    return {"user": row.user_name, "role": row.role, "csrf": getattr(row, "csrf", None)}


def same_secret(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two secrets (either missing: False)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def revoke(conn: Connection, kind: str, secret: str) -> bool:
    """Revoke one token or session by its secret; True when it was live."""
    t = _table(kind)
    done = conn.execute(update(t).where(t.c.digest == _digest(secret), t.c.revoked_at.is_(None)).values(
        revoked_at=_at()))
    return done.rowcount > 0


def revoke_all(conn: Connection, kind: str, user: str) -> int:
    """Revoke every live token (or session) of ``user``; how many."""
    t = _table(kind)
    done = conn.execute(update(t).where(t.c.user_name == user, t.c.revoked_at.is_(None)).values(revoked_at=_at()))
    return done.rowcount
