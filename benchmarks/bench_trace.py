"""``magcycle trace`` against its targets (issue 16) on SQLite in a temporary folder. Nothing asserts a time.

    python benchmarks/bench_trace.py [--entries 1000000] [--quick] [--rounds 5] [--events 2000]

Recording events (target at least 2000 ledger events/s)
    Receipts through the Python API, (a) each in its own write transaction
    (``db.transaction`` + ``require_head`` + ``lots.receive`` of a validated
    ``Receipt``: what one ``trace receive`` does, minus process start and
    reading the TOML file), and (b) many in one transaction. Also the CLI,
    one process per receipt, for scale.

Auditing a ledger of 10^6 entries (target at most 30 s)
    The ledger is built in bulk: entries made as :func:`magcycle.trace.store.record`
    makes them (body the RFC 8785 JSON of ``{"seq", "prev_hash", "recorded_at",
    "event"}``, entry_hash its SHA-256) with the lots rows of their receipts,
    inserted with executemany in batches, the Merkle frontier updated once a
    batch. A 10^4 ledger built the same way
    must pass ``audit.audit`` first. Then ``audit.audit(conn)`` is timed, with
    and without a signed checkpoint, and ``magcycle trace audit`` once each.
    Certifying a product lot on the big ledger is timed too.

Certifying a lot (target at most 0.5 s)
    After campaigns on the reference plant (two lots each), each product
    lot certified in-process (``certificates.certify`` in one transaction,
    the signing key read from its file), then ``magcycle trace certify`` in
    a fresh process once (process start included) and in-process through
    ``magcycle.cli.main``.

Writes ``benchmarks/results_trace.md`` (medians; the date, machine and command).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "src"))
sys.path.insert(0, str(HERE / "benchmarks"))

from _shared import cli, say  # noqa: E402
from magcycle.schema import validate  # noqa: E402
from magcycle.trace import audit, certificates, db, keys, lots, store  # noqa: E402
from magcycle.trace.campaigns import product_lot_id, run_campaign  # noqa: E402
from magcycle.trace.documents import CampaignFile, Receipt  # noqa: E402
from magcycle.trace.ledger import canonical_json, frontier_push  # noqa: E402

ACTOR = "bench:trace"
SITE = ("--site", "bench-site", "--country", "DE")
PRODUCTS = ("NdPr oxide", "Dy2O3", "Tb4O7")
_ENV = dict(os.environ, PYTHONPATH=str(HERE / "src"), MAGCYCLE_ACTOR=ACTOR)




def _process(*argv: str) -> float:
    """Wall-clock seconds of ``python -m magcycle ARGV`` in a fresh interpreter."""
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "magcycle", *argv], env=_ENV, capture_output=True, text=True)
    took = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"magcycle {' '.join(argv)}: exit {res.returncode}: {res.stderr.strip()}")
    return took


def _database(folder: Path, name: str):
    """A new database (``trace init``): (url, engine)."""
    url = f"sqlite:///{folder / name}"
    cli("trace", "init", "--db", url, *SITE)
    return url, db.open_engine(url)


def _receipt(lot_id: str, consumer: str = "pre") -> dict:
    feed = "swarf" if consumer == "pre" else "ev"
    return {"id": lot_id, "supplier": "Bench Recycling GmbH", "category": feed, "consumer": consumer,
            "mass": "2.0 t", "received": dt.date(2026, 3, 2), "feed": feed,
            "origin": {"generated": "DE", "mined": "unknown", "refined": "unknown", "separated": "unknown",
                       "melted": "DE", "produced": "DE"}}


def _toml(d: dict) -> str:
    lines = [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v.isoformat()}"
             for k, v in d.items() if k != "origin"]
    return "\n".join(lines + ["[origin]"] + [f'{k} = "{v}"' for k, v in d["origin"].items()]) + "\n"


def _audited(engine, entries: int | None = None) -> dict:
    with db.transaction(engine, write=False) as conn:
        s = audit.audit(conn)
    if entries is not None and s["entries"] != entries:
        raise SystemExit(f"the ledger has {s['entries']} entries, {entries} expected")
    return s


# ------------------------------------------------------------ 1. recording events
def bench_record(folder: Path, rounds: int, n: int, cli_runs: int) -> list[tuple]:
    rows = []
    url, engine = _database(folder, "record-each.db")
    rates = []
    for r in range(rounds):
        t = time.perf_counter()
        for i in range(n):
            receipt = validate(Receipt, _receipt(f"E-{r}-{i:06d}"))
            with db.transaction(engine) as conn:
                db.require_head(conn)
                lots.receive(conn, receipt, ACTOR)
        rates.append(n / (time.perf_counter() - t))
        say(f"  receipts, one transaction each, round {r + 1}: {rates[-1]:.0f} events/s")
    _audited(engine, 1 + rounds * n)
    engine.dispose()
    rows.append(("record receipts, one transaction each (API) [events/s]", rates, ">= 2000", "ge", 2000.0,
                 f"{rounds} rounds of {n}"))

    url, engine = _database(folder, "record-batch.db")
    rates = []
    for r in range(rounds):
        t = time.perf_counter()
        with db.transaction(engine) as conn:
            db.require_head(conn)
            for i in range(n):
                lots.receive(conn, validate(Receipt, _receipt(f"B-{r}-{i:06d}")), ACTOR)
        rates.append(n / (time.perf_counter() - t))
        say(f"  receipts, {n} in one transaction, round {r + 1}: {rates[-1]:.0f} events/s")
    _audited(engine, 1 + rounds * n)
    engine.dispose()
    rows.append((f"record receipts, {n} in one transaction (API) [events/s]", rates, ">= 2000", "ge", 2000.0,
                 f"{rounds} rounds of {n}"))

    times = []
    for i in range(cli_runs):
        f = folder / f"receipt-{i}.toml"
        f.write_text(_toml(_receipt(f"CLI-{i:04d}")), encoding="utf-8")
        times.append(_process("trace", "receive", str(f), "--db", url))
    rows.append(("`magcycle trace receive`, one process per receipt [events/s]", [1.0 / t for t in times],
                 "(process start; for scale)", None, None, f"{cli_runs} processes"))
    return rows


# ------------------------------------------------------------ 2. auditing
def build_ledger(engine, n: int, batch: int = 20_000, tag: str = "L") -> None:
    """Append receipts until the ledger holds ``n`` entries, as :func:`store.record` and :func:`lots.receive` make
    them, inserted in batches (one transaction each)."""
    template = lots.feed_lot_doc(validate(Receipt, _receipt(f"{tag}-0000000")))
    ledger_sql = "INSERT INTO ledger (seq, kind, prev_hash, entry_hash, body) VALUES (?, ?, ?, ?, ?)"
    cols = ("id", "kind", "product", "supplier", "category", "consumer", "mass_kg", "gross_mass_kg", "dated",
            "campaign_id", "doc", "seq")
    lots_sql = f"INSERT INTO lots ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    with db.transaction(engine, write=False) as conn:
        first, _ = store.head(conn)
    t0, k, batches = time.perf_counter(), 0, 0
    while True:
        with db.transaction(engine) as conn:
            seq, prev = store.head(conn)
            if seq >= n:
                break
            _, nodes = store.frontier(conn)  # the Merkle frontier, kept as store.record keeps it
            entries, rows = [], []
            for seq in range(seq, min(n, seq + batch)):
                k += 1
                doc = dict(template, id=f"{tag}-{k:07d}", mass_kg=1000.0 + k % 997,
                           received=(dt.date(2026, 1, 1) + dt.timedelta(days=k % 59)).isoformat())
                event = {"type": "receipt", "actor": ACTOR, "event_time": doc["received"], "lot": doc}
                body = canonical_json({"seq": seq, "prev_hash": prev, "recorded_at": store.now(), "event": event})
                h = hashlib.sha256(body).hexdigest()
                entries.append((seq, "receipt", prev, h, body.decode("utf-8")))
                row = lots.lot_row(doc, seq)
                rows.append(tuple(row[c] for c in cols))
                prev = h
                nodes = frontier_push(nodes, h)
            conn.exec_driver_sql(ledger_sql, entries)
            conn.exec_driver_sql(lots_sql, rows)
            conn.exec_driver_sql("UPDATE ledger_frontier SET size = ?, nodes = ? WHERE id = 1",
                                 (seq + 1, json.dumps(nodes)))
        batches += 1
        if n - first > 10 * batch and batches % 10 == 0:
            say(f"  built {seq + 1} entries ({time.perf_counter() - t0:.0f} s)")


def _keyed_database(folder: Path, name: str):
    """A new database with a signing key: (url, engine, key folder)."""
    url, engine = _database(folder, name)
    kdir = folder / f"{name}-keys"
    with db.transaction(engine) as conn:
        keys.create_key(conn, kdir, ACTOR, rotate=False)
    return url, engine, kdir


def bench_audit(folder: Path, n: int, rounds: int) -> list[tuple]:
    say("  checking the bulk builder: a 10^4 ledger must pass the audit")
    _, engine, _ = _keyed_database(folder, "audit-check.db")
    build_ledger(engine, 10_000, tag="V")
    s = _audited(engine, 10_000)
    say(f"  ... intact: {s['entries']} entries, head {s['head'][:16]}")
    engine.dispose()

    url, engine, kdir = _keyed_database(folder, "audit.db")
    t = time.perf_counter()
    build_ledger(engine, n)
    built = time.perf_counter() - t
    size = (folder / "audit.db").stat().st_size
    say(f"  built a ledger of {n} entries in {built:.0f} s ({size / 1e6:.0f} MB)")
    per = 1e6 / n
    plain, checked, signing = [], [], []
    with db.transaction(engine, write=False) as conn:
        kid, private = keys.signing_key(conn, kdir)
        t = time.perf_counter()
        point = audit.make_checkpoint(conn, kid, private)
        signing.append(time.perf_counter() - t)
    cp = folder / "checkpoint.json"
    cp.write_text(json.dumps(point), encoding="utf-8")
    for r in range(rounds):
        for out, points in ((plain, []), (checked, [point])):
            with db.transaction(engine, write=False) as conn:
                t = time.perf_counter()
                s = audit.audit(conn, points)
                out.append(time.perf_counter() - t)
            if s["entries"] != n:
                raise SystemExit(f"audit saw {s['entries']} entries, {n} expected")
        say(f"  audit round {r + 1}: {plain[-1]:.1f} s, with the checkpoint {checked[-1]:.1f} s")
    cli_plain = _process("trace", "audit", "--db", url)
    cli_checked = _process("trace", "audit", "--db", url, "--checkpoint", str(cp))
    say(f"  magcycle trace audit: {cli_plain:.1f} s, with --checkpoint {cli_checked:.1f} s")

    # a certificate on the big ledger: a campaign on two of its lots, then certify each product
    camp = validate(CampaignFile, {"id": "C-BIG", "plant": "reference", "start": dt.date(2026, 3, 10),
                                   "end": dt.date(2026, 3, 12), "custody": "mass_balance",
                                   "lots": {"L-0000001": "1.0 t", "L-0000002": "1.0 t"}})
    with db.transaction(engine) as conn:
        run_campaign(conn, camp, ACTOR)
    big_cert = [_certify(engine, kdir, product_lot_id("C-BIG", p)) for p in PRODUCTS]
    say(f"  certify on the {n}-entry ledger: {', '.join(f'{x:.2f}' for x in big_cert)} s")
    _audited(engine, n + 4 + 2 * len(PRODUCTS))
    engine.dispose()

    label = f"{n:,}".replace(",", " ")
    full = n == 1_000_000
    note = "" if full else f" (scaled from {label} entries)"
    return [
        (f"audit a ledger of {label} entries, `audit.audit` [s]", plain, "<= 30 per 10^6", "le", 30.0 / per,
         f"{rounds} runs; {per * statistics.median(plain):.1f} s per 10^6{note}"),
        (f"audit of {label} entries with a signed checkpoint [s]", checked, "<= 30 per 10^6", "le", 30.0 / per,
         f"{rounds} runs; {per * statistics.median(checked):.1f} s per 10^6{note}"),
        (f"`magcycle trace audit`, {label} entries (fresh process) [s]", [cli_plain], "<= 30 per 10^6",
         "le" if full else None, 30.0, "1 run" + ("" if full else "; process start included, not scaled")),
        (f"`magcycle trace audit --checkpoint`, {label} entries (fresh process) [s]", [cli_checked],
         "<= 30 per 10^6", "le" if full else None, 30.0,
         "1 run" + ("" if full else "; process start included, not scaled")),
        (f"`audit.make_checkpoint`, {label} entries [s]", signing, "(for scale)", None, None, "1 run"),
        (f"certify a product lot on the {label}-entry ledger (API) [s]", big_cert, "<= 0.5", "le", 0.5,
         f"{len(big_cert)} lots of one campaign"),
        (f"build the {label}-entry ledger in bulk [s]", [built], "(setup)", None, None,
         f"1 run; {size / 1e6:.0f} MB of SQLite"),
    ]


# ------------------------------------------------------------ 3. certifying
def _certify(engine, kdir: Path, lot_id: str) -> float:
    t = time.perf_counter()
    with db.transaction(engine) as conn:
        db.require_head(conn)
        kid, private = keys.signing_key(conn, kdir)
        certificates.certify(conn, lot_id, kid, private, ACTOR)
    return time.perf_counter() - t


def _campaign(engine, c: int) -> str:
    cid = f"C-2026-{c:02d}"
    with db.transaction(engine) as conn:
        for consumer in ("pre", "post"):
            lots.receive(conn, validate(Receipt, _receipt(f"{cid}-{consumer}", consumer)), ACTOR)
    cf = validate(CampaignFile, {"id": cid, "plant": "reference", "start": dt.date(2026, 3, 10),
                                 "end": dt.date(2026, 3, 12), "custody": "mass_balance",
                                 "lots": {f"{cid}-pre": "2.0 t", f"{cid}-post": "2.0 t"}})
    with db.transaction(engine) as conn:
        run_campaign(conn, cf, ACTOR)
    return cid


def bench_certify(folder: Path, campaigns: int) -> list[tuple]:
    url, engine, kdir = _keyed_database(folder, "certify.db")
    api, camp_s = [], []
    for c in range(1, campaigns + 1):
        t = time.perf_counter()
        cid = _campaign(engine, c)
        camp_s.append(time.perf_counter() - t)
        for p in PRODUCTS:
            api.append(_certify(engine, kdir, product_lot_id(cid, p)))
        say(f"  campaign {cid} ({camp_s[-1]:.2f} s), certify: {', '.join(f'{x:.3f}' for x in api[-3:])} s")
    cid = _campaign(engine, campaigns + 1)
    first, *rest = (product_lot_id(cid, p) for p in PRODUCTS)
    proc = _process("trace", "certify", first, "--db", url, "--keys", str(kdir), "--out", str(folder / "p.vc.json"))
    inproc = []
    for i, lot_id in enumerate(rest):
        t = time.perf_counter()
        cli("trace", "certify", lot_id, "--db", url, "--keys", str(kdir), "--out", str(folder / f"i{i}.vc.json"))
        inproc.append(time.perf_counter() - t)
    say(f"  magcycle trace certify: process {proc:.2f} s, in-process {', '.join(f'{x:.3f}' for x in inproc)} s")
    entries = _audited(engine)["entries"]
    engine.dispose()
    return [
        ("certify a product lot, `certificates.certify` in one transaction [s]", api, "<= 0.5", "le", 0.5,
         f"{len(api)} lots of {campaigns} campaign(s); ledger of <= {entries} entries"),
        ("`magcycle trace certify` in-process (`cli.main`, CoA page included) [s]", inproc, "<= 0.5", "le", 0.5,
         f"{len(inproc)} lots"),
        ("`magcycle trace certify`, fresh process (start included) [s]", [proc], "<= 0.5", "le", 0.5, "1 lot"),
        ("a campaign on the reference plant, two lots (for scale) [s]", camp_s, "", None, None,
         f"{len(camp_s)} campaign(s)"),
    ]


# ------------------------------------------------------------ report
def _fmt(x: float) -> str:
    return f"{x:.0f}" if x >= 100 else (f"{x:.2f}" if x >= 1 else f"{x:.3f}")


def _row(case, values, target, sense, limit, runs) -> str:
    med = statistics.median(values)
    met = "" if sense is None else ("yes" if (med >= limit if sense == "ge" else med <= limit) else "**no**")
    spread = f" (min {_fmt(min(values))}, max {_fmt(max(values))})" if len(values) > 1 else ""
    return f"| {case} | {_fmt(med)} | {target} | {met} | {runs}{spread} |\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=1_000_000, help="size of the ledger audited")
    ap.add_argument("--quick", action="store_true", help="a ledger of 10^4 entries, fewer rounds (a check)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of recording")
    ap.add_argument("--events", type=int, default=2000, help="receipts per round of recording")
    ap.add_argument("--audit-rounds", type=int, default=3)
    ap.add_argument("--campaigns", type=int, default=3, help="campaigns whose 3 products are certified")
    ap.add_argument("--dir", type=Path, default=None, help="where the temporary folder goes (default: the system's)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    if args.quick:
        args.entries, args.rounds, args.events, args.audit_rounds, args.campaigns = 10_000, 2, 500, 2, 1
    folder = Path(tempfile.mkdtemp(prefix="magcycle-bench-trace-", dir=args.dir))
    try:
        say(f"1. recording events (in {folder})")
        recording = bench_record(folder, args.rounds, args.events, 3 if args.quick else 10)
        say("3. certifying")
        certifying = bench_certify(folder, args.campaigns)
        say(f"2. auditing a ledger of {args.entries} entries")
        auditing = bench_audit(folder, args.entries, args.audit_rounds)
    finally:
        if args.keep:
            say(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    rows = recording + auditing + certifying
    cmd = "python benchmarks/bench_trace.py" + "".join(f" {a}" for a in sys.argv[1:])
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    head = (f"Measured {today} on {platform.machine()}, CPython {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL) in a temporary folder on local disk, by "
            f"`{cmd}`. Medians over the runs; nothing asserts a time. Targets of issue 16: recording at least 2000 "
            "ledger events/s, auditing 10^6 entries in at most 30 s, certifying a lot in at most 0.5 s.\n\n"
            "| case | measured (median) | target | met | runs |\n|---|---|---|---|---|\n")
    text = head + "".join(_row(*r) for r in rows)
    (HERE / "benchmarks" / "results_trace.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
