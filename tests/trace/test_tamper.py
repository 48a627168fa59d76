"""Tampering with a site's database by SQL, on SQLite and on a real PostgreSQL server: ``trace audit`` and
``trace verify`` find each edit and name the entry or row where it happened.

The site is built once per back end through the command line (init, a key, three receipts, one campaign,
one certificate, a checkpoint) and copied for each test (the SQLite file; a PostgreSQL database made from
it as a template), so that every tamper starts from the same intact site. Each tamper is plain SQL on a
separate connection, as someone with write access to the database would do it.

Oracles: the ledger's own rows (the seq of the entry edited, found by querying it), hashes recomputed
here with ``hashlib`` and ``rfc8785`` (not the project's code) for the full rewrite, and fresh Ed25519
keys of the test's own for forged signatures. Every failure is exit 4, one line on stderr, nothing on
stdout, naming the entry or row.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import rfc8785
import sqlalchemy as sa

from magcycle.cli import main

RECEIPTS = {
    "KR-SW-0001": dict(supplier="Example Magnet Co.", category="swarf", consumer="pre", mass="2.0 t",
                       received="2026-03-02"),
    "EV-0001": dict(supplier="Recycler B", category="ev", consumer="post", mass="1.5 t", received="2026-03-03"),
    "WD-0001": dict(supplier="Wind Farm C", category="wind", consumer="post", mass="1.0 t", received="2026-03-04"),
}
RECEIPT = """id = "{id}"
supplier = "{supplier}"
category = "{category}"
consumer = "{consumer}"
mass = "{mass}"
received = {received}
feed = "{category}"
[origin]
generated = "KR"
"""
CAMPAIGN = """id = "C-2026-01"
plant = "reference"
start = 2026-03-10
end = 2026-03-20
custody = "mass_balance"
[lots]
"KR-SW-0001" = "2.0 t"
"EV-0001" = "1.0 t"
"""
PRODUCT = "C-2026-01-NdPr-oxide"
#: the ledger of the site as built: site, key, three receipts, campaign, three product lots, claim, certificate
KINDS = ["site", "key", "receipt", "receipt", "receipt", "campaign", "product_lot", "product_lot", "product_lot",
         "claim", "certificate"]
N = len(KINDS)


def run(capsys, *argv):
    """(exit status, stdout, stderr) of one command run in this process."""
    status = main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def fails(capsys, *argv, status=4) -> str:
    """The one line a failing command wrote, after checking its status, stdout empty and one stderr line."""
    got, out, err = run(capsys, *argv)
    assert got == status, (got, out, err)
    assert out == "", out
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    if status == 4:
        assert lines[0].startswith("magcycle: verification failed: "), lines[0]
    return lines[0]


def passes(capsys, *argv) -> str:
    got, out, err = run(capsys, *argv)
    assert got == 0, (got, out, err)
    assert err == "", err
    return out


# ------------------------------------------------------------ the site, built once per back end
def _build(folder: Path, url: str, capsys) -> None:
    """Build the site through the command line, files in ``folder`` (the working folder)."""
    for lot_id, fields in RECEIPTS.items():
        (folder / f"{lot_id}.toml").write_text(RECEIPT.format(id=lot_id, **fields), encoding="utf-8")
    (folder / "campaign.toml").write_text(CAMPAIGN, encoding="utf-8")
    keys = folder / "keys"
    passes(capsys, "trace", "init", "--db", url, "--site", "S1", "--country", "DE")
    passes(capsys, "trace", "keys", "create", "--db", url, "--keys", keys)
    for lot_id in RECEIPTS:
        passes(capsys, "trace", "receive", folder / f"{lot_id}.toml", "--db", url)
    passes(capsys, "trace", "campaign", folder / "campaign.toml", "--db", url, "--json")
    passes(capsys, "trace", "certify", PRODUCT, "--db", url, "--keys", keys, "--out", folder / "cert.vc.json")
    passes(capsys, "trace", "checkpoint", "--db", url, "--keys", keys, "--out", folder / "checkpoint.json")


class _Templates:
    """One built site per back end: a SQLite file, or a PostgreSQL database used as a template."""

    def __init__(self, root: Path):
        self.root = root
        self.made: dict[str, tuple[Path, str]] = {}
        self.pg_admin: str | None = None

    def get(self, backend: str, pg_base: str | None, capsys) -> tuple[Path, str]:
        if backend not in self.made:
            folder = self.root / backend
            folder.mkdir()
            if backend == "sqlite":
                url = f"sqlite:///{folder / 'site.db'}"
            else:
                self.pg_admin = pg_base
                name = f"tmpl_{uuid.uuid4().hex}"
                _pg_admin(pg_base, f'CREATE DATABASE "{name}"')
                url = sa.make_url(pg_base).set(database=name).render_as_string(hide_password=False)
            with pytest.MonkeyPatch.context() as mp:
                mp.chdir(folder)
                _build(folder, url, capsys)
            self.made[backend] = (folder, url)
        return self.made[backend]

    def drop(self) -> None:
        if "postgresql" in self.made:
            name = sa.make_url(self.made["postgresql"][1]).database
            _pg_admin(self.pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_admin(base: str, statement: str) -> None:
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(statement))
    finally:
        admin.dispose()


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    t = _Templates(tmp_path_factory.mktemp("sites"))
    yield t
    t.drop()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ("MAGCYCLE_DATABASE_URL", "MAGCYCLE_KEYS_DIR", "MAGCYCLE_KEY_PASSPHRASE", "MAGCYCLE_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MAGCYCLE_ACTOR", "tamper-test")


@dataclass
class Site:
    url: str
    folder: Path

    @property
    def checkpoint(self) -> Path:
        return self.folder / "checkpoint.json"

    @property
    def cert(self) -> Path:
        return self.folder / "cert.vc.json"

    @property
    def keys(self) -> Path:
        return self.folder / "keys"

    def sql(self, *statements) -> None:
        """Run statements (text, or (text, params)) in one committed transaction on a connection of the test's."""
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                for s in statements:
                    sql, params = (s, {}) if isinstance(s, str) else s
                    conn.execute(sa.text(sql), params)
        finally:
            engine.dispose()

    def query(self, sql: str, **params) -> list:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def ledger(self) -> list[tuple]:
        return self.query("SELECT seq, kind, prev_hash, entry_hash, body FROM ledger ORDER BY seq")

    def receipt_seq(self, lot_id: str) -> int:
        """The seq of the ledger entry that received ``lot_id``, read from the ledger's bodies."""
        found = [seq for seq, kind, _, _, body in self.ledger()
                 if kind == "receipt" and json.loads(body)["event"]["lot"]["id"] == lot_id]
        assert len(found) == 1, found
        return found[0]


@pytest.fixture
def site(trace_db_url, tmp_path, monkeypatch, capsys, templates, request) -> Site:
    """A fresh copy of the built site at ``trace_db_url``; its files (keys, certificate, checkpoint) in
    ``tmp_path``, the working folder."""
    backend = "sqlite" if trace_db_url.startswith("sqlite") else "postgresql"
    pg_base = request.getfixturevalue("postgres_server") if backend == "postgresql" else None
    folder, url = templates.get(backend, pg_base, capsys)
    if backend == "sqlite":
        shutil.copyfile(folder / "site.db", sa.make_url(trace_db_url).database)
        for suffix in ("-wal", "-shm"):
            assert not (folder / f"site.db{suffix}").exists()  # every connection was closed: one file holds it all
    else:
        name, template = sa.make_url(trace_db_url).database, sa.make_url(url).database
        _pg_admin(pg_base, f'DROP DATABASE "{name}"')
        _pg_admin(pg_base, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    for item in ("keys", "cert.vc.json", "checkpoint.json"):
        src = folder / item
        (shutil.copytree if src.is_dir() else shutil.copyfile)(src, tmp_path / item)
    monkeypatch.chdir(tmp_path)
    s = Site(trace_db_url, tmp_path)
    assert [k for _, k, *_ in s.ledger()] == KINDS
    return s


def audit(capsys, site: Site, checkpoint: bool = False, status=4):
    extra = ["--checkpoint", site.checkpoint] if checkpoint else []
    if status == 0:
        return passes(capsys, "trace", "audit", "--db", site.url, *extra)
    return fails(capsys, "trace", "audit", "--db", site.url, *extra, status=status)


# ------------------------------------------------------------ the intact site
def test_the_untampered_site_audits_clean_with_and_without_its_checkpoint(site, capsys):
    out = audit(capsys, site, status=0)
    assert out.startswith(f"ledger intact: {N} entries, head {site.ledger()[-1][3]}; every table agrees")
    out = audit(capsys, site, checkpoint=True, status=0)
    assert out.rstrip().endswith(f"agrees with the checkpoint of {N} entries")
    doc = json.loads(passes(capsys, "trace", "audit", "--db", site.url, "--checkpoint", site.checkpoint, "--json"))
    assert doc["intact"] is True and doc["entries"] == N
    assert doc["root"] == json.loads(site.checkpoint.read_text())["root"]
    assert passes(capsys, "trace", "verify", site.cert).startswith("valid: certificate urn:uuid:")
    assert passes(capsys, "trace", "verify", site.cert, "--db", site.url).startswith("valid: ")


# ------------------------------------------------------------ the ledger edited
@pytest.mark.parametrize("how", ["mass", "mass-rehashed", "actor-rehashed"])
def test_an_edited_ledger_entry_is_named(site, capsys, how):
    n = site.receipt_seq("EV-0001")
    assert 0 < n < N - 1
    body = dict((r[0], r[4]) for r in site.ledger())[n]
    old, new = ('"mass_kg":1500', '"mass_kg":1501') if how.startswith("mass") else \
        ('"actor":"cli:tamper-test"', '"actor":"cli:someone-else"')
    assert body.count(old) == 1  # RFC 8785 writes 1500.0 as 1500
    edited = body.replace(old, new)
    rehash = how.endswith("rehashed")
    site.sql(("UPDATE ledger SET body = :b" + (", entry_hash = :h" if rehash else "") + " WHERE seq = :n",
              {"b": edited, "h": hashlib.sha256(edited.encode()).hexdigest(), "n": n}))
    line = fails(capsys, "trace", "audit", "--db", site.url)
    if how == "mass":
        assert f"ledger entry {n}: its content does not match its hash (edited)" in line, line
    elif how == "mass-rehashed":  # entry n matches its new hash; its lot's row, checked next, does not match it
        assert f"table lots, row EV-0001: differs from what ledger entry {n} recorded" in line, line
    else:  # no row holds the actor: the next entry no longer links to the edited one
        assert f"ledger entry {n + 1}: its previous hash is not the hash of the entry before it" in line, line


@pytest.mark.parametrize("column", ["mass_kg", "doc"])
def test_a_mass_edited_in_the_lots_table_only_names_the_row(site, capsys, column):
    n = site.receipt_seq("EV-0001")
    if column == "mass_kg":
        site.sql("UPDATE lots SET mass_kg = 1501 WHERE id = 'EV-0001'")
    else:
        (doc,), = site.query("SELECT doc FROM lots WHERE id = 'EV-0001'")
        d = json.loads(doc)
        assert d["mass_kg"] == 1500.0
        site.sql(("UPDATE lots SET doc = :d WHERE id = 'EV-0001'", {"d": json.dumps(d | {"mass_kg": 1501.0})}))
    line = fails(capsys, "trace", "audit", "--db", site.url)
    assert f"table lots, row EV-0001: differs from what ledger entry {n} recorded" in line, line


def test_an_entry_deleted_in_the_middle_names_the_first_entry_after_the_gap(site, capsys):
    n = site.receipt_seq("EV-0001")
    site.sql(("DELETE FROM ledger WHERE seq = :n", {"n": n}))
    line = fails(capsys, "trace", "audit", "--db", site.url)
    # the entry now at position n is the one numbered n + 1
    assert f"ledger entry {n}: sequence number {n + 1} where {n} belongs" in line, line


@pytest.mark.parametrize("how", ["seq", "body-and-hash"])
def test_two_entries_swapped_name_the_first_swapped_position(site, capsys, how):
    a, b = site.receipt_seq("EV-0001"), site.receipt_seq("WD-0001")
    assert b == a + 1
    if how == "seq":  # the rows trade places (seq is the key: through a free number)
        site.sql(("UPDATE ledger SET seq = -1 WHERE seq = :a", {"a": a}),
                 ("UPDATE ledger SET seq = :a WHERE seq = :b", {"a": a, "b": b}),
                 ("UPDATE ledger SET seq = :b WHERE seq = -1", {"b": b}))
        why = "its previous hash is not the hash of the entry before it"
    else:  # the rows keep their seq and prev_hash, and trade their bodies and hashes (hashes are unique)
        rows = {r[0]: r for r in site.ledger()}
        site.sql(("UPDATE ledger SET entry_hash = 'x' WHERE seq = :a", {"a": a}),
                 ("UPDATE ledger SET entry_hash = 'y' WHERE seq = :b", {"b": b}),
                 ("UPDATE ledger SET body = :body, entry_hash = :h WHERE seq = :a",
                  {"body": rows[b][4], "h": rows[b][3], "a": a}),
                 ("UPDATE ledger SET body = :body, entry_hash = :h WHERE seq = :b",
                  {"body": rows[a][4], "h": rows[a][3], "b": b}))
        why = "its columns disagree with its hashed content"
    line = fails(capsys, "trace", "audit", "--db", site.url)
    assert f"ledger entry {a}: {why}" in line, line


def test_a_truncated_tail_passes_a_plain_audit_and_fails_against_the_checkpoint(site, capsys):
    (first,), = site.query("SELECT seq FROM ledger WHERE kind = 'campaign'")
    assert first == 5
    # drop the campaign and everything after it, with every row those entries made
    site.sql(("DELETE FROM certificates WHERE seq >= :s", {"s": first}),
             ("DELETE FROM consumptions WHERE campaign_id IN (SELECT id FROM campaigns WHERE seq >= :s)",
              {"s": first}),
             ("DELETE FROM account_moves WHERE seq >= :s", {"s": first}),
             ("DELETE FROM lots WHERE seq >= :s", {"s": first}),
             ("DELETE FROM campaigns WHERE seq >= :s", {"s": first}),
             ("DELETE FROM ledger WHERE seq >= :s", {"s": first}))
    # the stored Merkle frontier still covers the whole ledger: a plain audit catches that much
    line = audit(capsys, site)
    assert f"table ledger_frontier: is not the Merkle frontier of the ledger's {first} entries" in line, line
    # an operator who also rewrites the frontier leaves a shorter chain, a valid chain whose tables agree
    # with it: this is why checkpoints exist
    site.sql(*_frontier_of(site))
    out = audit(capsys, site, status=0)
    assert out.startswith(f"ledger intact: {first} entries")
    line = audit(capsys, site, checkpoint=True)
    assert f"ledger entry {first}: missing: the ledger has {first} entries" in line, line
    assert f"the checkpoint of {json.loads(site.checkpoint.read_text())['issued_at']} {N} (truncated)" in line, line
    line = fails(capsys, "trace", "verify", site.cert, "--db", site.url)  # the certificate's evidence is gone too
    assert "ledger" in line or "not issued by this site" in line, line


def _frontier_of(site) -> list:
    """The statement that sets the stored Merkle frontier to that of the ledger as it now stands (what an
    operator rewriting the ledger would also do)."""
    from magcycle.trace.ledger import frontier_push

    nodes = []
    for row in site.ledger():
        nodes = frontier_push(nodes, row[3])
    return [("UPDATE ledger_frontier SET size = :n, nodes = :f WHERE id = 1",
             {"n": len(site.ledger()), "f": json.dumps(nodes)})]


def _canonical_hash(entry: dict) -> tuple[str, str]:
    body = rfc8785.dumps(entry)
    return body.decode("utf-8"), hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("table_too", [False, True], ids=["ledger-only", "ledger-and-table"])
def test_a_full_rewrite_with_every_hash_recomputed(site, capsys, table_too):
    rows = site.ledger()
    for seq, _, prev, h, body in rows:  # the test's own hashing reproduces the stored chain
        assert _canonical_hash(json.loads(body)) == (body, h)
    n = site.receipt_seq("KR-SW-0001")
    updates, prev = [], rows[n - 1][3]
    for seq, _, _, _, body in rows[n:]:
        entry = json.loads(body)
        if seq == n:
            assert entry["event"]["lot"]["mass_kg"] == 2000
            entry["event"]["lot"]["mass_kg"] = 2500.0
            new_doc = entry["event"]["lot"]
        entry["prev_hash"] = prev
        text, prev = _canonical_hash(entry)
        updates.append(("UPDATE ledger SET body = :b, prev_hash = :p, entry_hash = :h WHERE seq = :s",
                        {"b": text, "p": entry["prev_hash"], "h": prev, "s": seq}))
    if table_too:
        updates.append(("UPDATE lots SET mass_kg = 2500, doc = :d WHERE id = 'KR-SW-0001'",
                        {"d": json.dumps(new_doc)}))
    site.sql(*updates)
    if table_too:
        site.sql(*_frontier_of(site))
    if table_too:  # the chain is intact and every table agrees: only a checkpoint kept outside can tell
        audit(capsys, site, status=0)
    else:
        line = audit(capsys, site)
        assert f"table lots, row KR-SW-0001: differs from what ledger entry {n} recorded" in line, line
    line = audit(capsys, site, checkpoint=True)
    if table_too:
        assert f"ledger entries 0 to {N - 1}: disagree with the checkpoint" in line and "(rewritten)" in line, line
    # a certificate issued before the rewrite carries the old hashes of its evidence
    line = fails(capsys, "trace", "verify", site.cert, "--db", site.url)
    assert "is not in the ledger with that hash" in line or "checkpoint it carries" in line, line


# ------------------------------------------------------------ rows no ledger entry made
def test_a_lots_row_inserted_at_the_end_is_named(site, capsys):
    site.sql("INSERT INTO lots (id, kind, supplier, category, consumer, mass_kg, dated, doc, seq) VALUES "
             "('FAKE-0001', 'feed', 'Nobody', 'ev', 'post', 5000, '2026-03-05', '{}', 99)")
    line = fails(capsys, "trace", "audit", "--db", site.url)
    assert "table lots, row FAKE-0001: no ledger entry made it (inserted)" in line, line


def test_a_lots_row_inserted_among_real_ones_is_named(site, capsys):
    n = site.receipt_seq("EV-0001")
    # with that entry's seq and an id sorting before its lot's: met where the ledger expects EV-0001
    site.sql(("INSERT INTO lots (id, kind, supplier, category, consumer, mass_kg, dated, doc, seq) VALUES "
              "('EV-0000', 'feed', 'Nobody', 'ev', 'post', 5000, '2026-03-05', '{}', :n)", {"n": n}))
    line = fails(capsys, "trace", "audit", "--db", site.url)
    assert f"table lots, row EV-0000: differs from what ledger entry {n} recorded" in line, line


@pytest.mark.parametrize("where", ["end", "among"])
def test_an_account_move_inserted_is_named(site, capsys, where):
    (seq,), = site.query("SELECT seq FROM lots WHERE id = :i", i=PRODUCT)
    (after,), = site.query("SELECT max(seq) FROM account_moves")
    at = after + 100 if where == "end" else seq
    site.sql(("INSERT INTO account_moves (seq, site, element, attribute, period, kind, lot_id, delta_kg, "
              "balance_after_kg) VALUES (:s, 'S1', 'Nd', 'post_consumer', '2026-03', 'transformation', :lot, 50, 50)",
              {"s": at, "lot": PRODUCT}))
    (move_id,), = site.query("SELECT max(id) FROM account_moves")
    line = fails(capsys, "trace", "audit", "--db", site.url)
    assert f"table account_moves, row {move_id}:" in line, line
    if where == "end":
        assert "no ledger entry made it (inserted)" in line, line


# ------------------------------------------------------------ certificates and checkpoints
def _change_one_digit(text: str, key: str) -> str:
    i = text.index(f'"{key}": ') + len(key) + 4
    j = i + 4  # a digit after the first few characters of the number
    assert text[j].isdigit(), text[i:i + 20]
    return text[:j] + str((int(text[j]) + 1) % 10) + text[j + 1:]


def _change_one_char(text: str, key: str) -> str:
    i = text.index(f'"{key}": "') + len(key) + 5
    j = i + 20
    swap = "2" if text[j] != "2" else "3"  # both in the base58 alphabet
    return text[:j] + swap + text[j + 1:]


@pytest.mark.parametrize("change", ["net_mass_kg", "proofValue"])
def test_a_certificate_with_one_changed_byte_fails_verification(site, capsys, change):
    text = site.cert.read_text()
    cert_id = json.loads(text)["id"]
    bad = _change_one_digit(text, change) if change == "net_mass_kg" else _change_one_char(text, change)
    assert sum(x != y for x, y in zip(text, bad)) == 1 and len(bad) == len(text)
    tampered = site.folder / "tampered.vc.json"
    tampered.write_text(bad)
    for extra in ([], ["--db", site.url]):
        line = fails(capsys, "trace", "verify", tampered, *extra)
        assert f"certificate {cert_id}:" in line, line
        assert passes(capsys, "trace", "verify", site.cert, *extra).startswith(f"valid: certificate {cert_id}")


def _site_private_key(site: Site):
    from cryptography.hazmat.primitives import serialization

    (pem,) = list(site.keys.glob("*.pem"))
    return serialization.load_pem_private_key(pem.read_bytes(), None)


@pytest.mark.parametrize("forgery", ["root-changed", "proofValue-changed", "foreign-key", "site-key-wrong-root",
                                     "site-key-larger-tree"])
def test_a_forged_checkpoint_fails_the_audit(site, capsys, forgery):
    from magcycle.trace.vc import new_private_key, sign

    point = json.loads(site.checkpoint.read_text())
    unsigned = {k: v for k, v in point.items() if k != "proof"}
    created = point["proof"]["created"]
    if forgery == "root-changed":
        point["root"] = ("0" if point["root"][0] != "0" else "1") + point["root"][1:]
        why = "checkpoint: its signature does not verify"
    elif forgery == "proofValue-changed":
        pv = point["proof"]["proofValue"]
        point["proof"]["proofValue"] = pv[:20] + ("2" if pv[20] != "2" else "3") + pv[21:]
        why = "checkpoint: its signature does not verify"
    elif forgery == "foreign-key":  # a valid signature, by a key that is not the site's
        point = sign(unsigned, new_private_key(), created=created)
        why = "which is not one of the site's keys"
    elif forgery == "site-key-wrong-root":  # the site's own key signing a root its ledger does not have
        point = sign(unsigned | {"root": "ab" * 32}, _site_private_key(site), created=created,
                     verification_method=point["proof"]["verificationMethod"])
        why = f"ledger entries 0 to {N - 1}: disagree with the checkpoint"
    else:
        point = sign(unsigned | {"tree_size": N + 3}, _site_private_key(site), created=created,
                     verification_method=point["proof"]["verificationMethod"])
        why = f"ledger entry {N}: missing: the ledger has {N} entries"
    site.checkpoint.write_text(json.dumps(point, indent=2))
    assert audit(capsys, site, status=0).startswith(f"ledger intact: {N} entries")  # the ledger itself is intact
    line = audit(capsys, site, checkpoint=True)
    assert why in line, line
