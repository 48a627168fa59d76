"""Locust users of the web load benchmark (issue 18); run by ``benchmarks/bench_web.py``, which builds the site.

Each user signs in once (``POST /api/v1/token`` as one of the viewer accounts, round robin) and then reads, with
a think time between requests: the lots list, a lot, a lot's genealogy, the current plan, who am I, and the pages
``/`` (dashboard) and ``/lots`` with the bearer token. Every answer is checked (status 200, no redirect to the
sign-in page, the document about what was asked), so a wrong answer counts as a failure, not as a fast read.

The site comes from the JSON file named by ``MAGCYCLE_BENCH_CONFIG``: {"password", "viewers": [names],
"lots": [ids], "wait": [min, max] seconds, "log": path, "started": path, "stopped": path}. Every request is
also written to ``log`` (CSV: start [epoch s], response time [ms], method, name, failed 0/1, answered 0/1) when
locust quits, for percentiles over any time window; a request still unanswered then (its user stopped at the end
of the test, after locust's ``--stop-timeout``) is written too, failed and unanswered, its time counted to the
stop. ``started`` and ``stopped`` get the epoch time the users start and the time limit ends.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import time
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant, events, task

CONFIG = json.loads(open(os.environ["MAGCYCLE_BENCH_CONFIG"], encoding="utf-8").read())  # noqa: SIM115
_NEXT_VIEWER = itertools.count()
_LOG: list[tuple] = []
_OPEN: dict[int, tuple[float, str, str]] = {}  # requests sent and not yet answered: key -> (start, method, name)
_KEYS = itertools.count()


@events.request.add_listener
def _record(request_type, name, response_time, exception, start_time=None, **_kw):
    start = start_time if start_time is not None else time.time() - response_time / 1000
    _LOG.append((start, response_time, request_type, name, 0 if exception is None else 1, 1))


def _stamp(path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(repr(time.time()))


@events.test_start.add_listener
def _started(**_kw):
    _stamp(CONFIG["started"])


@events.test_stopping.add_listener
def _stopped(**_kw):
    _stamp(CONFIG["stopped"])


@events.quitting.add_listener
def _dump(**_kw):
    now = time.time()
    unanswered = [(t, (now - t) * 1000, m, n, 1, 0) for t, m, n in _OPEN.values()]
    with open(CONFIG["log"], "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("start", "ms", "method", "name", "failed", "answered"))
        w.writerows((f"{s:.6f}", f"{ms:.3f}", m, n, e, a) for s, ms, m, n, e, a in _LOG + unanswered)


def _sent(method: str, name: str) -> int:
    key = next(_KEYS)
    _OPEN[key] = (time.time(), method, name)
    return key


def _wait():
    lo, hi = CONFIG["wait"]
    return constant(lo) if hi <= lo else between(lo, hi)


class Reader(FastHttpUser):
    """A signed-in viewer reading lots, genealogy, the plan and the pages."""

    wait_time = _wait()

    def on_start(self):
        self.account = CONFIG["viewers"][next(_NEXT_VIEWER) % len(CONFIG["viewers"])]
        self.token = None
        body = urlencode({"username": self.account, "password": CONFIG["password"]})
        key = _sent("POST", "POST /api/v1/token (sign-in)")
        with self.client.post("/api/v1/token", data=body, name="POST /api/v1/token (sign-in)",
                              headers={"Content-Type": "application/x-www-form-urlencoded"},
                              catch_response=True) as r:
            del _OPEN[key]  # answered (a user stopped while waiting never gets here: it stays open)
            if r.status_code != 200:
                r.failure(f"sign-in: {r.status_code} {r.text[:200]}")
                return
            self.token = r.json()["access_token"]
        self.auth = {"Authorization": f"Bearer {self.token}"}

    def _get(self, path: str, name: str, check) -> None:
        if self.token is None:  # the sign-in failed (counted): nothing to read with
            return
        key = _sent("GET", name)
        with self.client.get(path, name=name, headers=self.auth, allow_redirects=False, catch_response=True) as r:
            del _OPEN[key]
            if r.status_code != 200:
                r.failure(f"{r.status_code} {(r.text or '')[:200]}")
                return
            try:
                why = check(r)
            except Exception as exc:  # an answer that is not the document asked for
                why = f"{type(exc).__name__}: {exc}"
            if why:
                r.failure(why)

    @task(3)
    def lots(self):
        self._get("/api/v1/lots", "GET /api/v1/lots",
                  lambda r: None if r.json()["lots"] else "no lots listed")

    @task(3)
    def one_lot(self):
        lot = random.choice(CONFIG["lots"])
        self._get(f"/api/v1/lots/{lot}", "GET /api/v1/lots/{id}",
                  lambda r: None if r.json()["id"] == lot else f"asked {lot}, got {r.json()['id']}")

    @task(2)
    def genealogy(self):
        lot = random.choice(CONFIG["lots"])
        self._get(f"/api/v1/lots/{lot}/genealogy", "GET /api/v1/lots/{id}/genealogy",
                  lambda r: None if r.json()["lot"] == lot else f"asked {lot}, got {r.json()['lot']}")

    @task(1)
    def plan(self):
        self._get("/api/v1/plans/current", "GET /api/v1/plans/current",
                  lambda r: None if "campaigns" in r.json() else "no campaigns key")

    @task(1)
    def me(self):
        self._get("/api/v1/me", "GET /api/v1/me",
                  lambda r: None if r.json() == {"user": self.account, "role": "viewer"} else f"me: {r.text[:100]}")

    @task(1)
    def dashboard(self):
        self._get("/", "GET / (page)", self._page)

    @task(1)
    def lots_page(self):
        self._get("/lots", "GET /lots (page)", self._page)

    def _page(self, r) -> str | None:
        text = r.text
        if "</html>" not in text or 'id="sign-in"' in text or f"{self.account} (viewer)" not in text:
            return "not the signed-in page"
        return None
