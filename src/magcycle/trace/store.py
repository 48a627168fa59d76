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

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from magcycle.trace import db
from magcycle.trace.ledger import GENESIS, canonical_json, frontier_push, frontier_root

__all__ = ["now", "record", "entries", "head", "setting", "site", "SITE_KEYS", "as_json", "root", "frontier"]

_INSERT_ENTRY = insert(db.ledger)
_HEAD = select(db.ledger.c.seq, db.ledger.c.entry_hash).order_by(db.ledger.c.seq.desc()).limit(1)
_FRONTIER = select(db.ledger_frontier.c.size, db.ledger_frontier.c.nodes).where(db.ledger_frontier.c.id == 1)
_SET_FRONTIER = update(db.ledger_frontier).where(db.ledger_frontier.c.id == 1)

#: settings written by ``trace init``: the site's id and country (ISO 3166 alpha-2 or unknown)
SITE_KEYS = ("site_id", "site_country")


def now() -> str:
    """The current UTC time, ISO 8601 with microseconds and a Z."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def head(conn: Connection) -> tuple[int, str]:
    """(sequence number of the next entry, hash of the last one or GENESIS)."""
    row = conn.execute(_HEAD).first()
    return (0, GENESIS) if row is None else (row.seq + 1, row.entry_hash)


def frontier(conn: Connection) -> tuple[int, list]:
    """(size, nodes) of the ledger's stored Merkle frontier (:mod:`magcycle.trace.ledger`)."""
    row = conn.execute(_FRONTIER).first()
    return (row.size, json.loads(row.nodes)) if row is not None else (-1, [])


def root(conn: Connection) -> tuple[int, str]:
    """(size, RFC 6962 Merkle root) of the ledger as it stands, from its frontier in O(log n)."""
    size, nodes = frontier(conn)
    return size, frontier_root(nodes)


def record(conn: Connection, event: Mapping[str, Any], *, recorded_at: str | None = None) -> dict:
    """Append ``event`` (a JSON object with a ``type``) to the ledger and its hash to the Merkle frontier; the
    entry with its hash. The head and frontier read are kept on the connection until its transaction ends
    (the write lock holds them still), so a batch of events reads them once."""
    cached = conn.info.get("magcycle_ledger")
    if cached is None:
        (seq, prev), (size, nodes) = head(conn), frontier(conn)
        if size != seq:  # written by something other than magcycle
            raise db.DatabaseError(f"the ledger's Merkle frontier covers {size} entries, the ledger {seq}: the "
                                   "database was changed outside magcycle; run 'magcycle trace audit'")
    else:
        seq, prev, nodes = cached
    entry = {"seq": seq, "prev_hash": prev, "recorded_at": recorded_at or now(), "event": dict(event)}
    body = canonical_json(entry)
    entry["entry_hash"] = hashlib.sha256(body).hexdigest()
    conn.execute(_INSERT_ENTRY, {"seq": seq, "kind": str(event["type"]), "prev_hash": prev,
                                 "entry_hash": entry["entry_hash"], "body": body.decode("utf-8")})
    nodes = frontier_push(nodes, entry["entry_hash"])
    conn.execute(_SET_FRONTIER, {"size": seq + 1, "nodes": json.dumps(nodes)})
    conn.info["magcycle_ledger"] = (seq + 1, entry["entry_hash"], nodes)
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
