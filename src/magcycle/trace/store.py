"""The ledger in the database: appending an event in the caller's transaction, reading entries, site settings.

An entry is stored as its body, the RFC 8785 JSON of ``{"seq", "prev_hash",
"recorded_at", "event"}`` (the bytes hashed, :mod:`magcycle.trace.ledger`),
beside its sequence number, kind and hash. :func:`record` runs inside a
write transaction (:func:`magcycle.trace.db.transaction`), which holds the
site's write lock: the head it reads cannot move before it commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Iterator, Mapping

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from magcycle.trace import db
from magcycle.trace.ledger import GENESIS, canonical_json

__all__ = ["now", "record", "entries", "head", "setting", "site", "SITE_KEYS", "as_json"]

#: settings written by ``trace init``: the site's id and country (ISO 3166 alpha-2 or unknown)
SITE_KEYS = ("site_id", "site_country")


def now() -> str:
    """The current UTC time, ISO 8601 with microseconds and a Z."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def head(conn: Connection) -> tuple[int, str]:
    """(sequence number of the next entry, hash of the last one or GENESIS)."""
    row = conn.execute(select(db.ledger.c.seq, db.ledger.c.entry_hash).order_by(db.ledger.c.seq.desc())
                       .limit(1)).first()
    return (0, GENESIS) if row is None else (row.seq + 1, row.entry_hash)


def record(conn: Connection, event: Mapping[str, Any], *, recorded_at: str | None = None) -> dict:
    """Append ``event`` (a JSON object with a ``type``) to the ledger; the entry with its hash."""
    seq, prev = head(conn)
    entry = {"seq": seq, "prev_hash": prev, "recorded_at": recorded_at or now(), "event": dict(event)}
    body = canonical_json(entry)
    entry["entry_hash"] = hashlib.sha256(body).hexdigest()
    conn.execute(insert(db.ledger).values(seq=seq, kind=str(event["type"]), prev_hash=prev,
                                          entry_hash=entry["entry_hash"], body=body.decode("utf-8")))
    return entry


def entries(conn: Connection, batch: int = 10_000) -> Iterator[tuple[int, str, str, str, str]]:
    """Every stored entry in sequence order as (seq, kind, prev_hash, entry_hash, body), streamed."""
    t = db.ledger
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(
        select(t.c.seq, t.c.kind, t.c.prev_hash, t.c.entry_hash, t.c.body).order_by(t.c.seq))
    for row in result:
        yield tuple(row)


def setting(conn: Connection, key: str, default: str | None = None) -> str | None:
    return conn.execute(select(db.settings.c.value).where(db.settings.c.key == key)).scalar() or default


def site(conn: Connection) -> dict:
    """The site's id and country as ``trace init`` recorded them."""
    return {"id": setting(conn, "site_id", "site"), "country": setting(conn, "site_country", "unknown")}


def as_json(obj: Any) -> str:
    """Plain JSON text of a row's document (readable, not canonical)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, allow_nan=False)
