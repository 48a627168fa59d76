"""Auditing the ledger: its hash chain, its agreement with signed checkpoints, and the tables it explains.

Chain (one pass, streamed)
    Entry i must have sequence number i, the previous entry's hash as its
    ``prev_hash``, a body whose SHA-256 is its ``entry_hash``, and a body
    that states the same seq, previous hash and kind. The first entry that
    does not is named: an edited, deleted, inserted or reordered entry.

Checkpoints (:func:`make_checkpoint`)
    ``{"type": "LedgerCheckpoint", "site", "tree_size", "root", "issued_at"}``
    signed with the site's key (Data Integrity proof, eddsa-jcs-2022), root
    the RFC 6962 Merkle root of the first ``tree_size`` entry hashes. A
    ledger shorter than a checkpoint was truncated; one whose first
    ``tree_size`` entries give another root was rewritten.

Tables (replayed from the ledger)
    Every row of lots, campaigns, consumptions, account moves, planned
    campaigns, signing keys, certificates and users (name, role) must be what the ledger's events made, and nothing
    else; each account's running balance must equal the balance stored with
    every move and never go below zero. So an edit made by SQL to a table
    (a lot's mass, say) is caught as well as one made to the ledger.
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.engine import Connection

from magcycle.trace import db
from magcycle.trace.accounts import TOLERANCE_KG, account_name
from magcycle.trace.ledger import GENESIS, frontier_push, frontier_root
from magcycle.trace.lots import lot_columns
from magcycle.trace.plans import planned_row
from magcycle.trace.store import now, site

__all__ = ["AuditFailure", "audit", "make_checkpoint"]


class AuditFailure(Exception):
    """The ledger or a table is not what an intact site holds: ``where`` (entry or row) and ``why``."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where, self.why = where, why


def _rows(conn: Connection, sql: str) -> Iterator[tuple]:
    result = conn.execution_options(stream_results=True, yield_per=5000).exec_driver_sql(sql)
    yield from result


_QUERIES = {
    "lots": "SELECT seq, id, kind, product, supplier, category, consumer, mass_kg, gross_mass_kg, dated, campaign_id, "
            "doc FROM lots ORDER BY seq, id",
    "campaigns": "SELECT seq, id, plant, start, \"end\", custody, doc FROM campaigns ORDER BY seq",
    "consumptions": "SELECT c.seq, x.campaign_id, x.lot_id, x.mass_kg FROM consumptions x JOIN campaigns c "
                    "ON c.id = x.campaign_id ORDER BY c.seq",  # a campaign's rows sorted here: no collation
    "account_moves": "SELECT seq, id, site, element, attribute, period, kind, lot_id, delta_kg, balance_after_kg "
                     "FROM account_moves ORDER BY seq, id",
    "planned_campaigns": "SELECT seq, id, plan_id, family, custody, start, \"end\", doc FROM planned_campaigns "
                         "ORDER BY seq",  # a plan's rows sorted here: no collation
}


class _Replay:
    """The rows the ledger's events make, compared as they come with the tables' rows in the same order."""

    def __init__(self, conn: Connection):
        self.cursors = {name: _rows(conn, sql) for name, sql in _QUERIES.items()}
        self.balances: dict[tuple, float] = {}
        self.keys: dict[str, tuple] = {}
        self.certificates: dict[str, list] = {}
        self.settings: dict[str, str] = {}
        self.users: dict[str, tuple] = {}

    def expect(self, table: str, seq: int, expected: tuple, equal=None) -> None:
        actual = next(self.cursors[table], None)
        if actual is None:
            raise AuditFailure(f"table {table}", f"the row made by ledger entry {seq} is missing (deleted)")
        same = equal(actual) if equal else tuple(actual) == expected
        if not same:
            raise AuditFailure(f"table {table}, row {actual[1]!s:.80}",
                               f"differs from what ledger entry {seq} recorded (edited, or a row inserted)")

    def event(self, seq: int, ev: dict) -> None:
        kind = ev["type"]
        if kind in ("receipt", "product_lot"):
            self._lot(seq, ev["lot"])
        if kind == "campaign":
            self._campaign(seq, ev["campaign"])
        if kind == "plan":
            self._plan(seq, ev)
        if "moves" in ev:
            self._moves(seq, ev["moves"])
        if kind == "key":
            for old in ev["retires"]:
                self.keys[old] = (self.keys[old][0], ev["event_time"], self.keys[old][2])
            self.keys[ev["kid"]] = (ev["event_time"], None, seq)
        if kind == "certificate":
            self.certificates[ev["certificate_id"]] = [ev["lot_id"], ev["status_index"], ev["issued_at"], None, seq,
                                                       ev["credential_sha256"]]
        if kind == "revocation":
            self.certificates[ev["certificate_id"]][3] = ev["event_time"]
        if kind == "site":
            self.settings = {"site_id": ev["site_id"], "site_country": ev["country"]}
        if kind == "user":
            self.users[ev["name"]] = (ev["role"], seq)

    def _lot(self, seq: int, doc: dict) -> None:
        row = lot_columns(doc, seq)
        want = (seq, row["id"], row["kind"], row["product"], row["supplier"], row["category"], row["consumer"],
                row["mass_kg"], row["gross_mass_kg"], row["dated"], row["campaign_id"])
        self.expect("lots", seq, want, lambda a: tuple(a[:11]) == want and json.loads(a[11]) == doc)

    def _campaign(self, seq: int, c: dict) -> None:
        want = (seq, c["id"], c["plant"], c["start"], c["end"], c["custody"])
        self.expect("campaigns", seq, want, lambda a: tuple(a[:6]) == want and json.loads(a[6]) == c)
        rows = [next(self.cursors["consumptions"], None) for _ in c["lots"]]
        if None in rows:
            raise AuditFailure("table consumptions", f"a row made by ledger entry {seq} is missing (deleted)")
        wanted = sorted((seq, c["id"], p["lot"], p["consumed_kg"]) for p in c["lots"])
        if sorted(tuple(r) for r in rows) != wanted:
            raise AuditFailure(f"table consumptions, row {c['id']:.80}", f"differs from what ledger entry {seq} "
                                                                          "recorded (edited, or a row inserted)")

    def _plan(self, seq: int, ev: dict) -> None:
        rows = [next(self.cursors["planned_campaigns"], None) for _ in ev["campaigns"]]
        if None in rows:
            raise AuditFailure("table planned_campaigns", f"a row made by ledger entry {seq} is missing (deleted)")
        got = sorted((tuple(r[:7]), json.loads(r[7])) for r in rows)
        want = []
        for c in ev["campaigns"]:
            row = planned_row(c, ev["plan_id"], seq)
            want.append(((seq, row["id"], row["plan_id"], row["family"], row["custody"], row["start"], row["end"]), c))
        if got != sorted(want):
            raise AuditFailure(f"table planned_campaigns, plan {ev['plan_id']:.80}",
                               f"differs from what ledger entry {seq} recorded (edited, or a row inserted)")

    def _moves(self, seq: int, moves: list) -> None:
        for m in moves:
            k = (m["site"], m["element"], m["attribute"], m["period"])
            after = self.balances.get(k, 0.0) + m["delta_kg"]
            if after < -TOLERANCE_KG or abs(after - m["balance_after_kg"]) > 1e-9 * max(1.0, abs(after)):
                raise AuditFailure(f"ledger entry {seq}", f"account {account_name(*k)} would stand at {after:.6g} kg, "
                                                          f"the entry says {m['balance_after_kg']:.6g} kg")
            self.balances[k] = after
            want = (seq, *k, m["kind"], m["lot_id"], m["delta_kg"], m["balance_after_kg"])
            self.expect("account_moves", seq, want, lambda a: (a[0], *a[2:]) == want)  # a[1]: the row's id

    def finish(self, conn: Connection) -> None:
        for table, cursor in self.cursors.items():
            extra = next(cursor, None)
            if extra is not None:
                raise AuditFailure(f"table {table}, row {extra[1]!s:.80}", "no ledger entry made it (inserted)")
        keys = {r.kid: (r.created_at, r.retired_at, r.seq) for r in conn.execute(select(db.signing_keys))}
        if keys != self.keys:
            bad = sorted({k for k in set(keys) | set(self.keys) if keys.get(k) != self.keys.get(k)})[0]
            raise AuditFailure(f"table signing_keys, key {bad:.80}", "differs from the ledger's key entries")
        self._finish_certificates(conn)
        users = {r.name: (r.role, r.seq) for r in conn.execute(select(db.users.c.name, db.users.c.role, db.users.c.seq))}
        if users != self.users:
            bad = sorted(k for k in set(users) | set(self.users) if users.get(k) != self.users.get(k))[0]
            raise AuditFailure(f"table users, row {bad:.80}", "differs from the ledger's user entries (a role edited, "
                                                             "or a user inserted or deleted)")
        settings = {r.key: r.value for r in conn.execute(select(db.settings))}
        if settings != self.settings:
            bad = sorted(k for k in set(settings) | set(self.settings) if settings.get(k) != self.settings.get(k))[0]
            raise AuditFailure(f"table settings, row {bad:.80}", "differs from the ledger's site entry (edited)")

    def _finish_certificates(self, conn: Connection) -> None:
        from magcycle.trace.ledger import canonical_json

        seen = set()
        for r in conn.execute(select(db.certificates)):
            want = self.certificates.get(r.id)
            digest = hashlib.sha256(canonical_json(json.loads(r.credential))).hexdigest()
            if want is None or [r.lot_id, r.status_index, r.issued_at, r.revoked_at, r.seq, digest] != want:
                raise AuditFailure(f"table certificates, row {r.id:.80}", "differs from the ledger's certificate "
                                                                          "entries (edited or inserted)")
            seen.add(r.id)
        missing = sorted(set(self.certificates) - seen)
        if missing:
            raise AuditFailure(f"table certificates, row {missing[0]:.80}", "is missing (deleted)")


def _chain_step(i: int, prev: str, row: tuple) -> dict:
    seq, kind, prev_hash, entry_hash, body = row
    where = f"ledger entry {i}"
    if seq != i:
        raise AuditFailure(where, f"sequence number {seq} where {i} belongs (an entry deleted, inserted or moved)")
    if prev_hash != prev:
        raise AuditFailure(where, "its previous hash is not the hash of the entry before it (entries deleted or "
                                  "reordered)")
    if hashlib.sha256(body.encode("utf-8")).hexdigest() != entry_hash:
        raise AuditFailure(where, "its content does not match its hash (edited)")
    entry = json.loads(body)
    if entry.get("seq") != seq or entry.get("prev_hash") != prev_hash or entry.get("event", {}).get("type") != kind:
        raise AuditFailure(where, "its columns disagree with its hashed content (edited)")
    return entry["event"]


def audit(conn: Connection, checkpoints: list[dict] = ()) -> dict:
    """Check the chain, the checkpoints and the tables (module docstring); a summary, or AuditFailure."""
    from magcycle.trace.store import entries, frontier

    sizes = {_checked_size(point, conn) for point in checkpoints}
    replay = _Replay(conn)
    prev, nodes, count, roots = GENESIS, [], 0, {}
    if 0 in sizes:
        roots[0] = frontier_root([])
    for i, row in enumerate(entries(conn)):
        replay.event(i, _chain_step(i, prev, row))
        prev = row[3]
        nodes = frontier_push(nodes, prev)
        count = i + 1
        if count in sizes:
            roots[count] = frontier_root(nodes)
    replay.finish(conn)
    if frontier(conn) != (count, nodes):
        raise AuditFailure("table ledger_frontier", f"is not the Merkle frontier of the ledger's {count} entries "
                                                    "(edited)")
    for point in checkpoints:
        _agrees(point, count, roots)
    return {"entries": count, "head": prev, "root": frontier_root(nodes),
            "checkpoints": [{"tree_size": p["tree_size"], "root": p["root"]} for p in checkpoints],
            "accounts": len(replay.balances)}


def _checked_size(point: dict, conn: Connection) -> int:
    """A checkpoint's tree size, once its signature (by a key of the site's) is checked."""
    from magcycle.trace.vc import verify

    if not isinstance(point, dict) or point.get("type") != "LedgerCheckpoint":
        raise AuditFailure("checkpoint", "not a magcycle ledger checkpoint")
    ok, why = verify(point)
    if not ok:
        raise AuditFailure("checkpoint", f"its signature does not verify: {why}")
    kid = point["proof"]["verificationMethod"]
    if conn.execute(select(db.signing_keys.c.kid).where(db.signing_keys.c.kid == kid)).first() is None:
        raise AuditFailure("checkpoint", f"signed by {kid:.80}, which is not one of the site's keys")
    size = point.get("tree_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise AuditFailure("checkpoint", f"tree_size {size!r:.40} is not a size")
    return size


def _agrees(point: dict, count: int, roots: dict) -> None:
    """The ledger holds at least the checkpoint's entries, and their root is the checkpoint's."""
    size = point["tree_size"]
    if count < size:
        raise AuditFailure(f"ledger entry {count}", f"missing: the ledger has {count} entries, the checkpoint of "
                                                    f"{point.get('issued_at')} {size} (truncated)")
    if roots[size] != point.get("root"):
        # the chain itself is intact (checked first), so the ledger was rewritten from some entry on and its hashes
        # recomputed; a checkpoint keeps only its root, so it can name the range it covers, not the entry
        raise AuditFailure(f"ledger entries 0 to {size - 1}", f"disagree with the checkpoint of "
                                                             f"{point.get('issued_at')}: their Merkle root is not "
                                                             "the checkpoint's (rewritten)")


def make_checkpoint(conn: Connection, kid: str, private) -> dict:
    """The signed checkpoint of the ledger as it stands (module docstring), its root from the frontier."""
    from magcycle.trace.store import head, root
    from magcycle.trace.vc import sign

    size, merkle = root(conn)
    at = now()[:19] + "Z"
    doc = {"type": "LedgerCheckpoint", "site": site(conn)["id"], "tree_size": size, "root": merkle,
           "head": head(conn)[1], "issued_at": at}
    return sign(doc, private, created=at, verification_method=kid)
