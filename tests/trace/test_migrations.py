"""Schema migrations, on SQLite and on a real PostgreSQL server: a database made at the first revision
(0001: settings, ledger, lots, campaigns, consumptions, account moves) and holding a site, two receipts and
their ledger entries upgrades to head with ``trace init``, its rows byte for byte as they were; every other
command refuses a database not at head, or without the schema, in one line that says to run ``trace init``,
and leaves it as it was.

Oracles: the rows read before the migration (compared whole after it), the ``alembic_version`` table and
the tables present, ``trace audit`` on the migrated ledger.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from magcycle.cli import main
from magcycle.schema import validate
from magcycle.trace import db, lots, store
from magcycle.trace.documents import Receipt

REVISION_0002_TABLES = ("signing_keys", "certificates", "ledger_frontier", "planned_campaigns", "users", "api_tokens",
                        "web_sessions")  # 0002 to 0005
REVISION_0001_TABLES = ("settings", "ledger", "lots", "campaigns", "consumptions", "account_moves")
RECEIPTS = [
    {"id": "KR-SW-0001", "supplier": "Example Magnet Co.", "category": "swarf", "consumer": "pre", "mass": "2.0 t",
     "received": "2026-03-02", "feed": "swarf", "origin": {"generated": "KR", "mined": "CN"}},
    {"id": "EV-0001", "supplier": "Recycler B", "category": "ev", "consumer": "post", "mass": "1.5 t",
     "gross_mass": "1.7 t", "received": "2026-03-03", "feed": "ev",
     "evidence": [{"uri": "https://example.com/weighbridge/1.pdf", "sha256": "ab" * 32}]},
]
THIRD = """id = "WD-0001"
supplier = "Wind Farm C"
category = "wind"
consumer = "post"
mass = "1.0 t"
received = 2026-03-04
feed = "wind"
"""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ("MAGCYCLE_DATABASE_URL", "MAGCYCLE_KEYS_DIR", "MAGCYCLE_KEY_PASSPHRASE", "MAGCYCLE_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MAGCYCLE_ACTOR", "migration-test")


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def refused(capsys, *argv) -> str:
    """The one line of a command refused as bad input (exit 2, nothing on stdout)."""
    status, out, err = run(capsys, *argv)
    assert status == 2, (status, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def ok(capsys, *argv) -> str:
    status, out, err = run(capsys, *argv)
    assert status == 0 and err == "", (status, out, err)
    return out


def read(url: str):
    """(revision or None, table names, the rows of the 0001 tables) as the database holds them."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() \
                if "alembic_version" in names else None
            rows = {t: [tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM "{t}" ORDER BY 1'))]
                    for t in REVISION_0001_TABLES if t in names}
            return rev, names, rows
    finally:
        engine.dispose()


def record_0001(conn, event: dict) -> dict:
    """A ledger entry as revision 0001 wrote it: the row alone (the Merkle frontier came with 0003)."""
    import hashlib

    from magcycle.trace.ledger import GENESIS, canonical_json

    last = conn.execute(sa.text("SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1")).first()
    seq, prev = (0, GENESIS) if last is None else (last[0] + 1, last[1])
    entry = {"seq": seq, "prev_hash": prev, "recorded_at": store.now(), "event": event}
    body = canonical_json(entry)
    conn.execute(sa.insert(db.ledger).values(seq=seq, kind=event["type"], prev_hash=prev,
                                             entry_hash=hashlib.sha256(body).hexdigest(), body=body.decode()))
    return entry


def make_0001_site(url: str) -> None:
    """A site with two receipts written at revision 0001, as that revision's code would have."""
    engine = db.open_engine(url, create=True)
    try:
        assert db.migrate(engine, to="0001") == (None, "0001")
        with db.transaction(engine) as conn:
            record_0001(conn, {"type": "site", "actor": "cli:old", "site_id": "S1", "country": "DE"})
            conn.execute(sa.insert(db.settings), [{"key": "site_id", "value": "S1"},
                                                  {"key": "site_country", "value": "DE"}])
            for r in RECEIPTS:
                doc = lots.feed_lot_doc(validate(Receipt, r))
                entry = record_0001(conn, {"type": "receipt", "actor": "cli:old", "event_time": doc["received"],
                                            "lot": doc})
                conn.execute(sa.insert(db.lots).values(lots.lot_row(doc, entry["seq"])))
    finally:
        engine.dispose()


def test_a_0001_database_upgrades_to_head_with_its_data_intact(trace_db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    url = trace_db_url
    make_0001_site(url)
    rev, names, before = read(url)
    assert rev == "0001"
    assert set(REVISION_0001_TABLES) <= names and not names & set(REVISION_0002_TABLES), names
    assert [r[1] for r in before["ledger"]] == ["site", "receipt", "receipt"]
    assert [r[0] for r in before["lots"]] == ["EV-0001", "KR-SW-0001"]

    out = ok(capsys, "trace", "init", "--db", url)
    assert f"schema migrated from 0001, revision {db.SCHEMA_HEAD}; site S1" in out, out
    rev, names, after = read(url)
    assert rev == db.SCHEMA_HEAD == "0005"
    assert set(REVISION_0001_TABLES) | set(REVISION_0002_TABLES) <= names
    assert after == before  # every row of every 0001 table, byte for byte (no site entry recorded twice)
    out = ok(capsys, "trace", "audit", "--db", url)
    assert out.startswith("ledger intact: 3 entries"), out
    assert "already at head" in ok(capsys, "trace", "init", "--db", url)

    # the migrated site takes the new revision's commands
    keys = tmp_path / "keys"
    assert ok(capsys, "trace", "keys", "create", "--db", url, "--keys", keys).startswith("created signing key ")
    (tmp_path / "third.toml").write_text(THIRD, encoding="utf-8")
    ok(capsys, "trace", "receive", tmp_path / "third.toml", "--db", url)
    ok(capsys, "trace", "checkpoint", "--db", url, "--keys", keys, "--out", tmp_path / "cp.json")
    out = ok(capsys, "trace", "audit", "--db", url, "--checkpoint", tmp_path / "cp.json")
    assert out.startswith("ledger intact: 5 entries"), out
    rev, _, final = read(url)
    assert final["ledger"][:3] == before["ledger"] and [r[1] for r in final["ledger"][3:]] == ["key", "receipt"]
    assert json.loads(ok(capsys, "trace", "genealogy", "EV-0001", "--db", url, "--json"))["mass_kg"] == 1500.0


def _commands(tmp_path: Path, url: str) -> list[list]:
    (tmp_path / "third.toml").write_text(THIRD, encoding="utf-8")
    return [["trace", "receive", tmp_path / "third.toml", "--db", url],
            ["trace", "audit", "--db", url],
            ["trace", "accounts", "--db", url],
            ["trace", "genealogy", "EV-0001", "--db", url],
            ["trace", "keys", "create", "--db", url, "--keys", tmp_path / "keys"],
            ["trace", "keys", "list", "--db", url]]


def test_a_0001_database_is_refused_by_every_command_but_init(trace_db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    url = trace_db_url
    make_0001_site(url)
    before = read(url)
    for argv in _commands(tmp_path, url):
        line = refused(capsys, *argv)
        assert line == ("magcycle: error: --db: the database is at schema revision 0001, this magcycle needs "
                        f"{db.SCHEMA_HEAD}; migrate it with 'magcycle trace init'"), (argv, line)
        assert read(url) == before, argv
    assert not (tmp_path / "keys").exists() or not list((tmp_path / "keys").iterdir())


def test_a_database_without_the_schema_is_refused_and_left_empty(trace_db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    url = trace_db_url
    if url.startswith("sqlite"):
        Path(sa.make_url(url).database).touch()  # an empty file is an empty SQLite database
    for argv in _commands(tmp_path, url):
        line = refused(capsys, *argv)
        assert line == ("magcycle: error: --db: the database has no magcycle schema; create it with "
                        "'magcycle trace init'"), (argv, line)
        assert read(url) == (None, set(), {}), argv
    assert f"schema created, revision {db.SCHEMA_HEAD}" in ok(capsys, "trace", "init", "--db", url)


def test_a_missing_sqlite_file_is_refused_and_not_created(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    url = "sqlite:///none.db"  # relative to the working folder
    for argv in _commands(tmp_path, url):
        line = refused(capsys, *argv)
        assert line == "magcycle: error: --db: no database at none.db; create it with 'magcycle trace init'", line
        assert not (tmp_path / "none.db").exists()
