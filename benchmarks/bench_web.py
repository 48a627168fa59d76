"""``magcycle serve`` under load (issue 18): reads at 50 concurrent users while 20 plant runs go through the job
pool, all on 127.0.0.1. Nothing asserts a time.

    python benchmarks/bench_web.py [--users 50] [--seconds 60] [--runs 20] [--lots 200]

Needs locust (``pip install 'magcycle[bench]'``) and the ``web`` extra.

The site
    A fresh SQLite database in a temporary folder (``magcycle trace init``),
    users made by ``magcycle users add`` (``--viewers`` viewer accounts, an
    engineer, a planner, a compliance officer), ``--lots`` feed lots of the
    five catalogue families received through ``POST /api/v1/lots``,
    ``--campaigns`` campaigns on two lots each (``POST /api/v1/campaigns``, so
    that genealogy has product lots to walk) and, unless ``--no-plan``, a
    campaign plan recorded through ``POST /api/v1/plans`` (so that
    ``/api/v1/plans/current`` has campaigns). The server is ``python -m
    magcycle serve --host 127.0.0.1`` on a free port, a subprocess, with its
    default job pool (one worker less than the cores).

The load
    ``locust --headless -u USERS -r 10 -t SECONDS`` with
    ``benchmarks/locustfile_web.py``: each user signs in once (a bearer token
    from ``POST /api/v1/token``, argon2) and then reads, with a think time of
    ``--wait`` seconds (uniform; ``--wait 0`` is a closed loop, a saturation
    test): ``GET /api/v1/lots``, ``/api/v1/lots/{id}``,
    ``/api/v1/lots/{id}/genealogy``, ``/api/v1/plans/current``,
    ``/api/v1/me`` and the pages ``/`` and ``/lots`` (weights 3:3:2:1:1:1:1).
    Every answer is checked; a wrong one is a failure.

The plant runs
    ``--runs-at`` seconds after the users start, ``--runs`` ``POST
    /api/v1/runs {"plant": "reference"}`` (engineer) are sent at once (one
    thread each, released together), then every job is polled
    (``GET /api/v1/jobs/{id}``, every 0.25 s) until all are over. A run is
    correct when its state is done, ``meets_requirements`` is true and its
    ``results`` document equals, without the wall-clock field
    ``solve_seconds``, what ``python -m magcycle run reference --json`` prints
    (run once here as the oracle). The time for all is from the first POST
    to the poll that sees the last job done.

Latencies are locust's (client side, per request, in ms), taken from its
per-request log: p50, p95, p99 (nearest rank) and max over the whole test, over
the reads under way while the runs were in flight (submission to the last one
done) and while users were signing in. A request still unanswered when the
test ends (after 5 s of grace) counts as failed, its time counted to the end; one sent
after the stop and cut by locust stopping its users is left out.
Sign-ins are counted apart from the reads. Writes
``benchmarks/results_web.md`` (the date, machine and command) and prints it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "src"))
sys.path.insert(0, str(HERE / "benchmarks"))

from _shared import cli, say  # noqa: E402

HOST = "127.0.0.1"
PASSWORD = "bench web load test password"
FAMILIES = ("swarf", "ev", "wind", "hdd", "ebike")
CLEAN = {"generated": "DE", "mined": "AU", "refined": "MY", "separated": "MY", "melted": "JP", "produced": "JP"}
PLAN = {"start": "2026-03-02", "weeks": 6, "initial_family": "swarf", "allow_shortfall": True,
        "orders": [{"id": "O-1", "product": "NdPr oxide", "mass": "100 kg", "due": "2026-03-16",
                    "price_usd_per_kg": 60},
                   {"id": "O-2", "product": "NdPr oxide", "mass": "200 kg", "due": "2026-04-06",
                    "price_usd_per_kg": 60}]}
P95_TARGET_MS = 100.0
_ENV = dict(os.environ, PYTHONPATH=str(HERE / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
            MAGCYCLE_ACTOR="bench:web")




# ------------------------------------------------------------ HTTP (urllib: no dependency beyond the standard library)
class Http:
    def __init__(self, base: str):
        self.base = base

    def call(self, method: str, path: str, token: str | None = None, body=None, form: dict | None = None,
             timeout: float = 60.0) -> tuple[int, dict | str]:
        headers, data = {}, None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, text = r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def ok(self, method: str, path: str, expect: int, **kw) -> dict:
        status, doc = self.call(method, path, **kw)
        if status != expect:
            raise SystemExit(f"{method} {path}: {status}, {expect} expected: {str(doc)[:500]}")
        return doc

    def token(self, user: str) -> str:
        return self.ok("POST", "/api/v1/token", 200, form={"username": user, "password": PASSWORD})["access_token"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_ready(http: Http, proc, log: Path, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}): {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError):
            if http.call("GET", "/login", timeout=2)[0] == 200:
                return
        time.sleep(0.2)
    raise SystemExit("the server did not answer within 60 s")


def _stop(proc, name: str) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        say(f"  {name} did not stop in 30 s; killing it")
        proc.kill()
        proc.wait(timeout=30)


# ------------------------------------------------------------ the site
def make_site(folder: Path, viewers: int) -> tuple[str, list[str]]:
    url = f"sqlite:///{folder / 'site.db'}"
    cli("trace", "init", "--db", url, "--site", "bench-site", "--country", "DE")
    secret = folder / "password.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    names = [f"viewer{i + 1}" for i in range(viewers)]
    for name, role in [(n, "viewer") for n in names] + [("engineer", "engineer"), ("planner", "planner"),
                                                         ("compliance", "compliance")]:
        cli("users", "add", name, "--role", role, "--password-file", str(secret), "--db", url)
    return url, names


def receipt(i: int) -> dict:
    fam = FAMILIES[i % len(FAMILIES)]
    return {"id": f"BENCH-{fam.upper()}-{i:04d}", "supplier": f"Bench Supplier {i % 7}", "category": fam,
            "consumer": "pre" if fam == "swarf" else "post", "mass": f"{1.0 + (i % 9) * 0.25:.2f} t",
            "received": (dt.date(2026, 1, 5) + dt.timedelta(days=i % 50)).isoformat(), "feed": fam,
            "origin": CLEAN}


def fill_site(http: Http, n_lots: int, campaigns: int, plan: bool) -> tuple[list[str], dict]:
    """Lots, campaigns and a plan through the API; (every lot id, setup timings)."""
    comp = http.token("compliance")
    t = time.perf_counter()
    ids = [http.ok("POST", "/api/v1/lots", 201, token=comp, body=receipt(i))["id"] for i in range(n_lots)]
    took = {"lots": time.perf_counter() - t}
    say(f"  {n_lots} lots received through the API in {took['lots']:.1f} s")
    t = time.perf_counter()
    for c in range(campaigns):
        a, b = ids[(2 * c) % n_lots], ids[(2 * c + 1) % n_lots]
        cf = {"id": f"C-BENCH-{c + 1:02d}", "plant": "reference", "start": "2026-03-09", "end": "2026-03-12",
              "custody": "mass_balance", "lots": {a: "0.5 t", b: "0.5 t"}}
        doc = http.ok("POST", "/api/v1/campaigns", 201, token=comp, body=cf)
        ids += [p["id"] for p in doc["product_lots"]]
    took["campaigns"] = time.perf_counter() - t
    if campaigns:
        say(f"  {campaigns} campaigns recorded in {took['campaigns']:.1f} s")
    if plan:
        t = time.perf_counter()
        planner = http.token("planner")
        job = http.ok("POST", "/api/v1/plans?time_limit=60&gap=0.05", 202, token=planner, body=PLAN)
        report = _wait_job(http, planner, job["job"], 300)
        if report["state"] != "done":
            raise SystemExit(f"the plan job is {report['state']}: {report.get('error')}")
        rec = http.ok("POST", f"/api/v1/plans/{job['job']}/record", 201, token=planner)
        current = http.ok("GET", "/api/v1/plans/current", 200, token=planner)
        took["plan"] = time.perf_counter() - t
        say(f"  a plan of {len(current['campaigns'])} campaigns recorded ({rec.get('plan_id', '?')}) "
             f"in {took['plan']:.1f} s")
    return ids, took


def _wait_job(http: Http, token: str, job: str, seconds: float) -> dict:
    end = time.monotonic() + seconds
    while True:
        report = http.ok("GET", f"/api/v1/jobs/{job}", 200, token=token)
        if report["state"] in ("done", "failed") or time.monotonic() > end:
            return report
        time.sleep(0.25)


def oracle(folder: Path) -> dict:
    """What ``magcycle run reference --json`` prints, without the wall clock."""
    res = subprocess.run([sys.executable, "-m", "magcycle", "run", "reference", "--json", "--out",
                          str(folder / "oracle-run")], env=_ENV, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"magcycle run reference: exit {res.returncode}: {res.stderr.strip()}")
    doc = json.loads(res.stdout)
    doc.pop("solve_seconds")
    return doc


def _first_difference(a, b, where: str = "") -> str:
    if type(a) is not type(b):
        return f"{where or '/'}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{where}/{k}: missing on one side"
            if a[k] != b[k]:
                return _first_difference(a[k], b[k], f"{where}/{k}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{where}[{i}]")
    return f"{where}: {a!r:.60} vs {b!r:.60}"


# ------------------------------------------------------------ the plant runs, during the load
class Runs(threading.Thread):
    """Sends ``n`` plant runs at once when told, polls them until all are over, checks each against the oracle."""

    def __init__(self, http: Http, n: int, expected: dict, go: threading.Event, timeout: float):
        super().__init__(daemon=True)
        self.http, self.n, self.expected, self.go, self.timeout = http, n, expected, go, timeout
        self.t0 = self.t1 = None
        self.submit_ms: list[float] = []
        self.reports: dict[str, dict] = {}
        self.problems: list[str] = []
        self.error: str | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported, not lost in the thread
            self.error = f"{type(exc).__name__}: {exc}"

    def _run(self) -> None:
        token = self.http.token("engineer")
        barrier = threading.Barrier(self.n + 1)
        jobs: list = [None] * self.n

        def submit(i: int) -> None:
            barrier.wait()
            t = time.perf_counter()
            jobs[i] = self.http.call("POST", "/api/v1/runs", token=token, body={"plant": "reference"})
            self.submit_ms.append((time.perf_counter() - t) * 1000)

        threads = [threading.Thread(target=submit, args=(i,), daemon=True) for i in range(self.n)]
        for th in threads:
            th.start()
        self.go.wait()
        self.t0 = time.time()
        barrier.wait()
        for th in threads:
            th.join()
        ids = []
        for status, doc in jobs:
            if status != 202:
                self.problems.append(f"POST /api/v1/runs: {status} {str(doc)[:200]}")
            else:
                ids.append(doc["job"])
        say(f"  {len(ids)} plant runs submitted (slowest answer {max(self.submit_ms):.0f} ms)")
        pending, end = set(ids), time.monotonic() + self.timeout
        while pending and time.monotonic() < end:
            for job in sorted(pending):
                status, report = self.http.call("GET", f"/api/v1/jobs/{job}", token=token)
                if status != 200:
                    self.problems.append(f"GET /api/v1/jobs/{job}: {status}")
                    pending.discard(job)
                elif report["state"] in ("done", "failed"):
                    self.reports[job] = report
                    pending.discard(job)
            if pending:
                time.sleep(0.25)
        self.t1 = time.time()
        if pending:
            self.problems.append(f"{len(pending)} runs not over after {self.timeout:.0f} s")
        for job, report in self.reports.items():
            if report["state"] != "done":
                self.problems.append(f"job {job}: {report['state']}: {report.get('error')}")
                continue
            result = report["result"]
            if result.get("meets_requirements") is not True:
                self.problems.append(f"job {job}: meets_requirements is {result.get('meets_requirements')}")
            doc = dict(result["results"])
            if not isinstance(doc.pop("solve_seconds", None), (int, float)):
                self.problems.append(f"job {job}: no solve_seconds")
            if doc != self.expected:
                self.problems.append(f"job {job}: differs from `magcycle run reference --json` at "
                                     f"{_first_difference(doc, self.expected)}")
        say(f"  runs over after {self.t1 - self.t0:.1f} s; {len(self.problems)} problem(s)")

    @property
    def all_correct(self) -> bool:
        return (self.error is None and not self.problems and len(self.reports) == self.n
                and all(r["state"] == "done" for r in self.reports.values()))


# ------------------------------------------------------------ the load test
def run_locust(folder: Path, base: str, viewers: list[str], lot_ids: list[str], args, runs: Runs,
               go: threading.Event) -> tuple[list[tuple], dict, float]:
    """Locust headless against ``base``; (per-request log, locust's request and failure counts, (start, end) of the
    test [epoch s])."""
    config = folder / "locust-config.json"
    log, started, stopped = folder / "requests.csv", folder / "started", folder / "stopped"
    lo, _, hi = args.wait.partition(",")
    config.write_text(json.dumps({"password": PASSWORD, "viewers": viewers, "lots": lot_ids, "log": str(log),
                                  "started": str(started), "stopped": str(stopped), "wait": [float(lo), float(hi or lo)]}),
                      encoding="utf-8")
    cmd = [sys.executable, "-m", "locust", "-f", str(HERE / "benchmarks" / "locustfile_web.py"), "--headless",
           "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.seconds}s", "--host", base,
           "--csv", str(folder / "locust"), "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"]
    say(f"  locust: {' '.join(cmd[1:])}")
    out = (folder / "locust.out").open("w")
    proc = subprocess.Popen(cmd, env=dict(_ENV, MAGCYCLE_BENCH_CONFIG=str(config)), stdout=out,
                            stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 120
        while not started.exists():
            if proc.poll() is not None or time.monotonic() > end:
                raise SystemExit(f"locust did not start: {(folder / 'locust.out').read_text()[-3000:]}")
            time.sleep(0.05)
        t_start = float(started.read_text())
        delay = t_start + args.runs_at - time.time()
        if delay > 0:
            time.sleep(delay)
        go.set()
        proc.wait(timeout=args.seconds + 300)
    finally:
        _stop(proc, "locust")
        out.close()
    runs.join(timeout=args.run_timeout + 60)
    if not log.exists():
        raise SystemExit(f"locust wrote no request log: {(folder / 'locust.out').read_text()[-3000:]}")
    with log.open(newline="", encoding="utf-8") as f:
        rows = [(float(r["start"]), float(r["ms"]), r["method"], r["name"], int(r["failed"]), int(r["answered"]))
                for r in csv.DictReader(f)]
    agg = {}  # the Aggregated line of the summary locust prints: "Aggregated  202  0(0.00%) | ..."
    summary = re.search(r"^\s*Aggregated\s+(\d+)\s+(\d+)\(", (folder / "locust.out").read_text(), re.M)
    if summary:
        agg = {"requests": int(summary[1]), "failures": int(summary[2])}
    failures = (folder / "locust_failures.csv")
    if failures.exists() and len(failures.read_text().splitlines()) > 1:
        say("  locust failures:\n" + failures.read_text()[:3000])
    t_stop = float(stopped.read_text()) if stopped.exists() else t_start + args.seconds
    # a request sent after the stop and left unanswered was cut by locust stopping its users, not by the server
    rows = [r for r in rows if r[5] or r[0] < t_stop]
    return rows, agg, (t_start, t_stop)


# ------------------------------------------------------------ report
def pct(values: list[float], p: float) -> float:
    """The nearest-rank percentile ``p`` (0 to 100) of ``values``."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


SIGN_IN = "POST /api/v1/token (sign-in)"


def _stats(rows: list[tuple]) -> dict:
    ms = [r[1] for r in rows]
    return {"n": len(rows), "fail": sum(r[4] for r in rows), "open": sum(1 - r[5] for r in rows), "p50": pct(ms, 50), "p95": pct(ms, 95),
            "p99": pct(ms, 99), "max": max(ms, default=float("nan"))}


def _overlaps(row: tuple, t0: float | None, t1: float | None) -> bool:
    """Whether the request ``row`` was under way at some time between ``t0`` and ``t1`` [epoch s]."""
    return t0 is not None and t1 is not None and row[0] <= t1 and row[0] + row[1] / 1000 >= t0


def _ms(x: float) -> str:
    return "-" if math.isnan(x) else (f"{x:.0f}" if x >= 10 else f"{x:.1f}")


def _revision() -> str:
    """The commit measured, and whether ``src/`` differed from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=HERE, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit"
    return f"commit {head}" + (" with uncommitted changes in src/" if dirty else "")


def report(args, rows: list[tuple], agg: dict, test: tuple[float, float], runs: Runs, setup: dict, n_lots: int) -> str:
    reads = [r for r in rows if r[3] != SIGN_IN]
    signs = [r for r in rows if r[3] == SIGN_IN]
    whole = _stats(reads)
    span = test[1] - test[0]
    t0, t1 = runs.t0, runs.t1
    window = [r for r in reads if _overlaps(r, t0, t1)]
    flight = _stats(window)
    outside = _stats([r for r in reads if not _overlaps(r, t0, t1)])
    si = _stats(signs)
    s0 = min((r[0] for r in signs), default=None)
    s1 = max((r[0] + r[1] / 1000 for r in signs), default=None)
    ramp = _stats([r for r in reads if _overlaps(r, s0, s1)])
    after = _stats([r for r in reads if s1 is not None and r[0] > s1])
    total_fail = whole["fail"] + si["fail"]
    all_ok = runs.all_correct
    took = (t1 - t0) if t0 is not None and t1 is not None else float("nan")

    def met(ok: bool) -> str:
        return "yes" if ok else "**no**"

    lines = [
        f"| reads p50 [ms] | {_ms(whole['p50'])} | | | {whole['n']} reads in {span:.0f} s |",
        f"| reads p95 [ms] | {_ms(whole['p95'])} | <= {P95_TARGET_MS:g} | {met(whole['p95'] <= P95_TARGET_MS)} | |",
        f"| reads p99 [ms] | {_ms(whole['p99'])} | | | max {_ms(whole['max'])} ms |",
        f"| requests (reads + sign-ins) | {whole['n'] + si['n']} | | | {whole['n']} reads, {si['n']} sign-ins |",
        f"| failures | {total_fail} | 0 | {met(total_fail == 0)} | every answer checked (status, document); "
        f"{whole['open'] + si['open']} requests unanswered at the end (5 s grace) counted as failed |",
        f"| reads per second | {whole['n'] / span:.0f} | | | {args.users} users, think time {args.wait} s |",
        f"| sign-ins (argon2), p95 [ms] | {_ms(si['p95'])} | | | {si['n']} tokens, max {_ms(si['max'])} ms |",
        f"| reads p95 while users were signing in [ms] | {_ms(ramp['p95'])} | | | the first "
        f"{(s1 - s0) if s0 is not None else float('nan'):.1f} s: {ramp['n']} reads, p99 {_ms(ramp['p99'])}, "
        f"max {_ms(ramp['max'])} ms |",
        f"| reads p95 after the last sign-in [ms] | {_ms(after['p95'])} | | | {after['n']} reads, p99 "
        f"{_ms(after['p99'])}, max {_ms(after['max'])} ms |",
        f"| {args.runs} plant runs submitted at once: all done and correct | {'yes' if all_ok else 'no'} | yes | "
        f"{met(all_ok)} | state done, meets_requirements, results = `magcycle run reference --json` |",
        f"| time for all {args.runs} plant runs [s] | {took:.1f} | | | from the first POST to the last done "
        f"(polled every 0.25 s); slowest 202 answer {max(runs.submit_ms, default=float('nan')):.0f} ms |",
        f"| reads p95 while the runs were in flight [ms] | {_ms(flight['p95'])} | <= {P95_TARGET_MS:g} | "
        f"{met(flight['p95'] <= P95_TARGET_MS)} | {flight['n']} reads, p50 {_ms(flight['p50'])}, p99 "
        f"{_ms(flight['p99'])}, max {_ms(flight['max'])} ms, {flight['fail']} failed |",
        f"| reads p95 outside that window [ms] | {_ms(outside['p95'])} | | | {outside['n']} reads, p50 "
        f"{_ms(outside['p50'])}, p99 {_ms(outside['p99'])} ms |",
    ]
    by_name: dict[str, list] = {}
    for r in rows:
        by_name.setdefault(r[3], []).append(r)
    per = [f"| {name} | {s['n']} | {s['fail']} | {_ms(s['p50'])} | {_ms(s['p95'])} | {_ms(s['p99'])} | "
           f"{_ms(s['max'])} |" for name, s in ((n, _stats(v)) for n, v in sorted(by_name.items()))]
    cmd = "python benchmarks/bench_web.py" + "".join(f" {a}" for a in sys.argv[1:])
    rev = _revision()
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    from importlib.metadata import version

    cross = (f"Locust's own summary (a cross-check of the request log): {agg['requests']} requests, "
             f"{agg['failures']} failures.") if agg else ""
    problems = "".join(f"\n- {p}" for p in ([runs.error] if runs.error else []) + runs.problems[:20])
    text = (
        f"Measured {today} on {platform.machine()}, CPython {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"SQLite {sqlite3.sqlite_version} in a temporary folder; uvicorn {version('uvicorn')} (one process, "
        f"`magcycle serve`), locust {version('locust')} on the same machine; magcycle at {rev}; by `{cmd}`. One load test of "
        f"{args.seconds} s, {args.users} users spawned at {args.spawn_rate}/s, each signing in once and then reading "
        f"with a think time of {args.wait} s; {args.runs} plant runs (`POST /api/v1/runs`, plant reference) sent at "
        f"once {args.runs_at:g} s after the users start, on the server's default job pool. The site: {n_lots} feed "
        f"lots received through the API ({setup['lots']:.1f} s), {args.campaigns} campaigns"
        f"{', a recorded plan' if 'plan' in setup else ''}. Latencies are client side (locust), percentiles by "
        f"nearest rank over every request; nothing asserts a time. Targets of issue 18: reads p95 at most "
        f"{P95_TARGET_MS:g} ms, no errors, the plant runs all done and correct while the pages stay responsive."
        "\n\n| measure | measured | target | met | notes |\n|---|---|---|---|---|\n"
        + "\n".join(lines)
        + "\n\nBy request (whole test):\n\n| request | count | failures | p50 [ms] | p95 [ms] | p99 [ms] | max [ms] |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(per) + "\n"
        + (f"\n{cross}\n" if cross else "")
        + (f"\nProblems with the plant runs:{problems}\n" if problems else "")
    )
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=50, help="concurrent locust users (default 50)")
    ap.add_argument("--seconds", type=int, default=60, help="length of the load test (default 60)")
    ap.add_argument("--runs", type=int, default=20, help="plant runs submitted at once (default 20)")
    ap.add_argument("--lots", type=int, default=200, help="feed lots received before the test (default 200)")
    ap.add_argument("--campaigns", type=int, default=5, help="campaigns recorded before the test (default 5)")
    ap.add_argument("--no-plan", dest="plan", action="store_false", help="record no campaign plan")
    ap.add_argument("--viewers", type=int, default=5, help="viewer accounts the users share (default 5)")
    ap.add_argument("--wait", default="0.5,1.5", help="think time of a user between requests, MIN,MAX seconds "
                                                      "(default 0.5,1.5; 0 for a closed loop)")
    ap.add_argument("--spawn-rate", type=float, default=10, help="users started per second (default 10)")
    ap.add_argument("--runs-at", type=float, default=10, help="seconds after the users start that the runs are "
                                                              "sent (default 10)")
    ap.add_argument("--run-timeout", type=float, default=600, help="give up on the runs after this (default 600 s)")
    ap.add_argument("--out", type=Path, default=HERE / "benchmarks" / "results_web.md", help="results file")
    ap.add_argument("--dir", type=Path, default=None, help="where the temporary folder goes (default: the system's)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (database, locust's CSV files)")
    args = ap.parse_args()
    import importlib.util

    if importlib.util.find_spec("locust") is None:  # never imported here: locust patches threads with gevent
        raise SystemExit("this benchmark needs locust: pip install 'magcycle[bench]'")
    folder = Path(tempfile.mkdtemp(prefix="magcycle-bench-web-", dir=args.dir))
    server = None
    try:
        say(f"1. the site (in {folder})")
        url, viewers = make_site(folder, args.viewers)
        expected = oracle(folder)
        port = _free_port()
        base = f"http://{HOST}:{port}"
        log = folder / "server.log"
        with log.open("w") as f:
            server = subprocess.Popen([sys.executable, "-m", "magcycle", "serve", "--db", url, "--host", HOST,
                                       "--port", str(port)], env=_ENV, stdout=f, stderr=subprocess.STDOUT)
        http = Http(base)
        _wait_ready(http, server, log)
        say(f"  serving at {base} (pid {server.pid})")
        lot_ids, setup = fill_site(http, args.lots, args.campaigns, args.plan)
        say(f"2. the load: {args.users} users for {args.seconds} s, {args.runs} plant runs at {args.runs_at:g} s")
        go = threading.Event()
        runs = Runs(http, args.runs, expected, go, args.run_timeout)
        runs.start()
        rows, agg, test = run_locust(folder, base, viewers, lot_ids, args, runs, go)
        if server.poll() is not None:
            say(f"  the server exited during the test: {log.read_text()[-2000:]}")
        text = report(args, rows, agg, test, runs, setup, args.lots)
        server_log = log.read_text().strip()
        if server_log:
            say("  server log:\n" + server_log[-3000:])
    finally:
        _stop(server, "the server")
        if args.keep:
            say(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
