"""Concurrent writers on one site, on SQLite and on a real PostgreSQL server: separate ``magcycle trace``
processes started at once append to the ledger one after the other (the site's write lock), with no gap
in the sequence, no fork in the hash chain and no lot or account move lost.

Oracles: the commands started (how many entries each makes: one per receipt, one per campaign plus one
per product lot it prints), the ledger's seq numbers 0..n-1, ``trace audit`` (the chain and every
table), the lots table against the ids expected, ``trace accounts --json`` (no balance below zero),
and in the race on one lot: exactly one campaign gets it, the other is refused naming the lot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from magcycle.cli import main

RECEIPT = """id = "{id}"
supplier = "Supplier {id}"
category = "{category}"
consumer = "{consumer}"
mass = "{mass}"
received = 2026-03-02
feed = "{category}"
"""
CAMPAIGN = """id = "{id}"
plant = "reference"
start = 2026-03-10
end = 2026-03-20
custody = "segregated"
[lots]
{lots}
"""
#: feed classes whose one-lot campaigns make every product on spec (exit 0, not 3)
ON_SPEC = ("ev", "swarf", "wind")
TIMEOUT = 120


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ("MAGCYCLE_DATABASE_URL", "MAGCYCLE_KEYS_DIR", "MAGCYCLE_KEY_PASSPHRASE", "MAGCYCLE_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MAGCYCLE_ACTOR", "concurrency-test")


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def ok(capsys, *argv) -> str:
    status, out, err = run(capsys, *argv)
    assert status == 0 and err == "", (status, out, err)
    return out


def receipt(folder: Path, lot_id: str, category: str, mass: str = "1.0 t") -> Path:
    consumer = "pre" if category == "swarf" else "post"
    path = folder / f"{lot_id}.toml"
    path.write_text(RECEIPT.format(id=lot_id, category=category, consumer=consumer, mass=mass), encoding="utf-8")
    return path


def campaign(folder: Path, cid: str, lots: dict[str, str]) -> Path:
    path = folder / f"{cid}.toml"
    path.write_text(CAMPAIGN.format(id=cid, lots="\n".join(f'"{k}" = "{v}"' for k, v in lots.items())),
                    encoding="utf-8")
    return path


def launch_all(commands: list[list], cwd: Path) -> list[tuple[int, str, str]]:
    """Start every command as its own ``python -m magcycle`` process at once; (status, stdout, stderr) of each."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGCYCLE_")}
    env["MAGCYCLE_ACTOR"] = "concurrency-test"
    procs = [subprocess.Popen([sys.executable, "-m", "magcycle", *map(str, c)], cwd=cwd, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in commands]
    results = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=TIMEOUT)
            results.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return results


def ledger(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text("SELECT seq, kind, body FROM ledger ORDER BY seq"))]
    finally:
        engine.dispose()


def table(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def check_intact(capsys, url: str, entries: int) -> None:
    """Seq 0..entries-1 without a gap, every prev_hash the hash before it (``trace audit``), no negative balance."""
    seqs = [s for s, *_ in ledger(url)]
    assert seqs == list(range(entries)), seqs
    out = ok(capsys, "trace", "audit", "--db", url, "--json")
    doc = json.loads(out)
    assert doc["intact"] is True and doc["entries"] == entries
    accounts = json.loads(ok(capsys, "trace", "accounts", "--db", url, "--json"))
    assert accounts, "the campaigns credited no account"
    assert all(a["balance_kg"] >= -1e-9 for a in accounts), accounts


def test_eight_writers_at_once_append_one_after_the_other(trace_db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    url = trace_db_url
    ok(capsys, "trace", "init", "--db", url, "--site", "S1")
    # lots for the campaigns, received before: one per campaign, each consumed whole by its own campaign
    early = {f"E-{c}": c for c in ON_SPEC}
    for lot_id, category in early.items():
        ok(capsys, "trace", "receive", receipt(tmp_path, lot_id, category), "--db", url)
    late = {f"N-{i}": cat for i, cat in enumerate(["ev", "swarf", "wind", "hdd", "ebike"])}
    commands = [["trace", "receive", receipt(tmp_path, lot_id, cat), "--db", url] for lot_id, cat in late.items()]
    campaigns = {f"C-{c}": f"E-{c}" for c in ON_SPEC}
    commands += [["trace", "campaign", campaign(tmp_path, cid, {lot_id: "1.0 t"}), "--db", url, "--json"]
                 for cid, lot_id in campaigns.items()]
    assert len(commands) == 8
    # interleave the campaigns with the receipts, so that they race from the start
    order = [0, 5, 1, 6, 2, 7, 3, 4]
    start = time.monotonic()
    results = launch_all([commands[i] for i in order], tmp_path)
    elapsed = time.monotonic() - start
    by_command = {i: r for i, r in zip(order, results)}
    for i, (status, out, err) in by_command.items():
        assert status == 0 and err == "", (commands[i], status, out, err)
    product_lots = {}
    for k, cid in enumerate(campaigns, start=5):
        doc = json.loads(by_command[k][1])
        assert doc["campaign"] == cid
        product_lots[cid] = [p["id"] for p in doc["product_lots"]]
        assert product_lots[cid], cid

    expected = 1 + len(early) + len(late) + sum(1 + len(p) for p in product_lots.values())
    check_intact(capsys, url, expected)
    rows = ledger(url)
    kinds = [k for _, k, _ in rows]
    assert kinds.count("receipt") == len(early) + len(late) and kinds.count("campaign") == len(campaigns)
    # one command, one transaction: each campaign's entries stand together, its product lots right after it
    for cid, lots in product_lots.items():
        (at,) = [s for s, k, body in rows if k == "campaign" and json.loads(body)["event"]["campaign"]["id"] == cid]
        after = [json.loads(rows[at + 1 + j][2])["event"]["lot"]["id"] for j in range(len(lots))]
        assert after == lots, (cid, after)
    # every lot is there, and nothing else
    ids = {i for (i,) in table(url, "SELECT id FROM lots")}
    assert ids == set(early) | set(late) | {p for lots in product_lots.values() for p in lots}
    used = dict(table(url, "SELECT lot_id, mass_kg FROM consumptions"))
    assert used == {lot_id: 1000.0 for lot_id in campaigns.values()}
    print(f"8 writers at once on {url.split(':')[0]}: {elapsed:.1f} s")


def test_two_campaigns_racing_for_one_lot_one_gets_it(trace_db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    url = trace_db_url
    ok(capsys, "trace", "init", "--db", url, "--site", "S1")
    ok(capsys, "trace", "receive", receipt(tmp_path, "R-1", "ev"), "--db", url)
    files = [campaign(tmp_path, cid, {"R-1": "1.0 t"}) for cid in ("C-A", "C-B")]
    results = launch_all([["trace", "campaign", f, "--db", url, "--json"] for f in files], tmp_path)
    statuses = sorted(r[0] for r in results)
    assert statuses == [0, 2], results
    won = next(r for r in results if r[0] == 0)
    lost = next(r for r in results if r[0] == 2)
    assert lost[1] == "", lost
    lines = lost[2].splitlines()
    assert len(lines) == 1, lost[2]
    assert lines[0].startswith("magcycle: error: lots.R-1: consumes 1000 kg, but only 0 kg of the lot is left"), \
        lines[0]
    winner = json.loads(won[1])
    loser_id = "C-B" if winner["campaign"] == "C-A" else "C-A"
    check_intact(capsys, url, 1 + 1 + 1 + len(winner["product_lots"]))
    assert table(url, "SELECT campaign_id, lot_id, mass_kg FROM consumptions") == [(winner["campaign"], "R-1", 1000.0)]
    assert table(url, "SELECT id FROM campaigns") == [(winner["campaign"],)]
    assert not table(url, f"SELECT id FROM lots WHERE campaign_id = '{loser_id}'")
