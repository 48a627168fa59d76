"""Attacks and bad input on the web application: CSRF, tokens expired or revoked, injection strings, oversized
bodies, sign-in rate limit, a role raised by SQL, bad JSON; and the API's answers against the command line's.

Oracles: the HTTP statuses the issue names (403, 401, 413, 422, 429), the database read whole before and after
(nothing half-written), the strings sent (stored verbatim, shown escaped), ``trace receive --json`` on a twin
database for the same receipt.
"""

from __future__ import annotations

import html
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from magcycle.cli import main

from ..trace.helpers import snapshot
from .conftest import PASSWORD, RECEIPT, Site, client

INJECTIONS = ["'; DROP TABLE lots; --", "<script>alert('x')</script>", "\" onmouseover=\"alert(1)", "Robert'); --",
              "<img src=x onerror=alert(1)>", "1 OR 1=1"]


def without_sessions(snap: dict) -> dict:
    return {k: v for k, v in snap.items() if k not in ("web_sessions", "api_tokens")}


# ------------------------------------------------------------ CSRF
@pytest.mark.parametrize("token", [None, "", "wrong", "x" * 43])
def test_a_form_without_its_csrf_token_is_403_and_changes_nothing(site, token):
    browser, good = site.login("compliance")
    before = snapshot(site.url)
    form = {"id": "CSRF-1", "supplier": "x", "category": "swarf", "consumer": "pre", "mass": "1 t",
            "received": "2026-03-03", "feed": "swarf"}
    if token is not None:
        form["csrf_token"] = token
    r = browser.post("/lots", data=form, follow_redirects=False)
    assert r.status_code == 403 and r.json() == {"detail": "missing or wrong CSRF token"}
    assert snapshot(site.url) == before
    r = browser.post("/logout", data={} if token is None else {"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403
    r = browser.post("/lots", data=dict(form, csrf_token=good), follow_redirects=False)  # the right one works
    assert r.status_code == 303 and "CSRF-1" in browser.get("/lots").text


def test_the_session_cookie_is_httponly_and_samesite_strict(site):
    r = client(site.app).post("/login", data={"username": "viewer", "password": PASSWORD}, follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie


def test_a_session_from_another_user_does_not_carry_its_csrf_token(site):
    alice, alice_csrf = site.login("compliance")
    bob, _ = site.login("admin")
    r = bob.post("/lots", data={"csrf_token": alice_csrf, "id": "X"}, follow_redirects=False)
    assert r.status_code == 403


# ------------------------------------------------------------ tokens
def test_an_expired_token_is_401(tmp_path, capsys):
    from .conftest import make_site

    url = "sqlite:///" + str(tmp_path / "exp.db")
    make_site(url, tmp_path)
    s = Site(url, token_ttl_s=0.5)
    headers = s.auth("viewer")
    assert s.http.get("/api/v1/me", headers=headers).status_code == 200
    time.sleep(0.6)
    r = s.http.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and r.json()["detail"] == "the bearer token is unknown, expired or revoked"


def test_a_revoked_token_is_401_and_others_stay_valid(site):
    first = site.auth("planner")
    site.forget("planner")
    second = site.auth("planner")
    assert site.http.post("/api/v1/token/revoke", headers=first).json() == {"revoked": True}
    assert site.http.get("/api/v1/lots", headers=first).status_code == 401
    assert site.http.get("/api/v1/lots", headers=second).status_code == 200


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "a" * 500, "token abc"])
def test_malformed_authorization_is_401(site, header):
    r = site.http.get("/api/v1/lots", headers={"Authorization": header})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_the_password_flow_answers_as_oauth2_says(site):
    r = site.http.post("/api/v1/token", data={"username": "engineer", "password": PASSWORD})
    body = r.json()
    assert r.status_code == 200 and body["token_type"] == "bearer" and len(body["access_token"]) >= 40
    r = site.http.post("/api/v1/token", data={"username": "engineer", "password": PASSWORD + "x"})
    assert r.status_code == 401 and "access_token" not in r.text
    r = site.http.post("/api/v1/token", data={"username": "nobody", "password": PASSWORD})
    assert r.status_code == 401


def test_tokens_and_passwords_are_not_in_the_database(site):
    token = site.token("admin")
    dump = json.dumps(snapshot(site.url))
    assert token not in dump and PASSWORD not in dump
    assert "$argon2id$" in dump  # the hashes are there instead


# ------------------------------------------------------------ rate limit
def test_sign_in_is_rate_limited_per_user_and_address(tmp_path):
    from magcycle.app.server import LOGIN_ATTEMPTS

    from .conftest import make_site

    url = "sqlite:///" + str(tmp_path / "rate.db")
    make_site(url, tmp_path)
    from magcycle.app import create_app

    http = client(create_app(url))
    for _ in range(LOGIN_ATTEMPTS):
        assert http.post("/api/v1/token", data={"username": "admin", "password": "guess"}).status_code == 401
    r = http.post("/api/v1/token", data={"username": "admin", "password": PASSWORD})  # even the right one, now
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    r = http.post("/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 429 and "too many failed sign-ins" in html.unescape(r.text)


# ------------------------------------------------------------ injection strings, escaping
@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_strings_are_stored_verbatim_and_shown_escaped(any_site, evil):
    site = any_site
    r = site.http.post("/api/v1/lots", json=dict(RECEIPT, id="EVIL-1", supplier=evil), headers=site.auth("compliance"))
    assert r.status_code == 201, r.text
    assert site.http.get("/api/v1/lots/EVIL-1", headers=site.auth("viewer")).json()["supplier"] == evil
    page = site.http.get("/lots", headers=site.auth("viewer")).text
    assert html.escape(evil, quote=True) in page
    if any(c in evil for c in "<>\""):
        assert evil not in page
    assert site.http.get("/api/v1/lots", headers=site.auth("viewer")).status_code == 200  # the table is still there


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_strings_in_ids_and_queries_are_refused_or_not_found(site, evil):
    r = site.http.get("/api/v1/lots/" + evil.replace("/", "%2F"), headers=site.auth("viewer"))
    assert r.status_code in (404, 422)
    r = site.http.get("/api/v1/lots", params={"kind": evil}, headers=site.auth("viewer"))
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "kind"


# ------------------------------------------------------------ size limits, bad input
def test_an_oversized_body_is_413_and_changes_nothing(tmp_path):
    from .conftest import make_site

    url = "sqlite:///" + str(tmp_path / "big.db")
    make_site(url, tmp_path)
    site = Site(url, max_body_bytes=10_000)
    headers = site.auth("compliance")
    before = without_sessions(snapshot(url))
    big = dict(RECEIPT, supplier="x" * 20_000)
    r = site.http.post("/api/v1/lots", json=big, headers=headers)
    assert r.status_code == 413 and "10000 bytes" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit counts the body as it streams
        for _ in range(30):
            yield b" " * 1000
    r = site.http.post("/api/v1/lots", content=chunks(), headers=dict(headers, **{"content-type": "application/json"}))
    assert r.status_code == 413
    assert without_sessions(snapshot(url)) == before


@pytest.mark.parametrize("body, field", [
    ("{not json", None),
    (json.dumps(dict(RECEIPT, mass="-2 t")), "mass"),
    (json.dumps(dict(RECEIPT, consumer="both")), "consumer"),
    (json.dumps({k: v for k, v in RECEIPT.items() if k != "supplier"}), "supplier"),
    (json.dumps(dict(RECEIPT, origin={"mined": "XX"})), "origin.mined"),
    (json.dumps(dict(RECEIPT, extra_field=1)), "extra_field"),
])
def test_bad_json_is_422_with_the_field_path_in_one_document(site, body, field):
    before = without_sessions(snapshot(site.url))
    r = site.http.post("/api/v1/lots", content=body, headers=dict(site.auth("compliance"),
                                                                     **{"content-type": "application/json"}))
    assert r.status_code == 422
    doc = r.json()
    assert set(doc) == {"error", "detail"} and doc["detail"] and "Traceback" not in r.text
    if field is not None:
        assert doc["detail"][0]["field"] == field and doc["error"].startswith(f"{field}: ")
    assert without_sessions(snapshot(site.url)) == before


def test_a_lot_received_twice_is_422_and_the_first_stays(site):
    headers = site.auth("compliance")
    assert site.http.post("/api/v1/lots", json=RECEIPT, headers=headers).status_code == 201
    before = without_sessions(snapshot(site.url))
    r = site.http.post("/api/v1/lots", json=RECEIPT, headers=headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "id" and "exists already" in r.text
    assert without_sessions(snapshot(site.url)) == before


def test_a_refused_form_shows_the_message_beside_its_field(site):
    browser, csrf = site.login("compliance")
    before = without_sessions(snapshot(site.url))
    r = browser.post("/lots", data={"csrf_token": csrf, "id": "F-1", "supplier": "x", "category": "swarf",
                                    "consumer": "pre", "mass": "-1 t", "received": "2026-03-03", "feed": "swarf"})
    assert r.status_code == 422
    assert ('id="intake-mass" value="-1 t" maxlength="200"> <span class="error">a mass must be a finite number'
            in r.text)
    assert without_sessions(snapshot(site.url)) == before


# ------------------------------------------------------------ the API equals the command line
def test_the_api_receives_a_lot_as_the_command_line_does(any_site, tmp_path, capsys):
    r = any_site.http.post("/api/v1/lots", json=RECEIPT, headers=any_site.auth("compliance"))
    assert r.status_code == 201
    twin = "sqlite:///" + str(tmp_path / "twin.db")
    assert main(["trace", "init", "--db", twin, "--site", "Plant-DE", "--country", "DE"]) == 0
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(RECEIPT))
    capsys.readouterr()
    assert main(["trace", "receive", str(path), "--db", twin, "--json"]) == 0
    assert r.json() == json.loads(capsys.readouterr().out)
    listed = any_site.http.get("/api/v1/lots", headers=any_site.auth("viewer")).json()["lots"]
    assert [(x["id"], x["mass_kg"], x["remaining_kg"]) for x in listed] == [("KR-SW-0001", 2000.0, 2000.0)]
    g = any_site.http.get("/api/v1/lots/KR-SW-0001/genealogy", headers=any_site.auth("viewer")).json()
    assert main(["trace", "genealogy", "KR-SW-0001", "--db", twin, "--json"]) == 0
    assert g == json.loads(capsys.readouterr().out)


def test_changes_carry_the_web_user_as_actor_and_the_audit_replays_users(site, capsys):
    site.http.post("/api/v1/lots", json=RECEIPT, headers=site.auth("compliance"))
    engine = create_engine(site.url)
    try:
        with engine.connect() as conn:
            bodies = [json.loads(b) for (b,) in conn.execute(text("SELECT body FROM ledger ORDER BY seq"))]
    finally:
        engine.dispose()
    kinds = [(b["event"]["type"], b["event"].get("actor")) for b in bodies]
    assert kinds[-1] == ("receipt", "web:compliance")
    assert [k for k, _ in kinds].count("user") == 5
    assert site.http.get("/api/v1/audit", headers=site.auth("compliance")).json()["intact"] is True
    engine = create_engine(site.url)
    try:
        with engine.begin() as conn:  # a viewer made admin by SQL
            conn.execute(text("UPDATE users SET role = 'admin' WHERE name = 'viewer'"))
    finally:
        engine.dispose()
    assert site.http.post("/api/v1/token", data={"username": "viewer", "password": PASSWORD}).status_code == 200
    doc = site.http.get("/api/v1/audit", headers=site.auth("compliance")).json()
    assert doc["intact"] is False and doc["where"] == "table users, row viewer"
    assert main(["trace", "audit", "--db", site.url]) == 4


# ------------------------------------------------------------ CSV intake
def _csv(rows) -> bytes:
    head = "id,supplier,category,consumer,mass,received,feed,origin_mined\n"
    return (head + "".join(",".join(r) + "\n" for r in rows)).encode()


GOOD = [("CSV-1", "A", "swarf", "pre", "1 t", "2026-03-02", "swarf", "AU"),
        ("CSV-2", "B", "ev", "post", "500 kg", "2026-03-03", "ev", "")]


def test_a_csv_of_receipts_is_received_whole_or_not_at_all(site):
    headers = site.auth("compliance")
    before = without_sessions(snapshot(site.url))
    bad = GOOD + [("CSV-3", "C", "wind", "post", "-1 t", "2026-03-04", "wind", "")]
    r = site.http.post("/api/v1/lots/csv", files={"file": ("lots.csv", _csv(bad), "text/csv")}, headers=headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "row 4.mass"
    assert without_sessions(snapshot(site.url)) == before  # CSV-1 and CSV-2 were not kept either
    r = site.http.post("/api/v1/lots/csv", files={"file": ("lots.csv", _csv(GOOD), "text/csv")}, headers=headers)
    assert r.status_code == 201 and [d["id"] for d in r.json()["lots"]] == ["CSV-1", "CSV-2"]
    assert r.json()["lots"][0]["origin"]["mined"] == "AU"
    assert site.http.post("/api/v1/lots/csv", files={"file": ("lots.csv", _csv(GOOD), "text/csv")},
                          headers=site.auth("viewer")).status_code == 403


@pytest.mark.parametrize("name, kind, body, status", [
    ("lots.exe", "application/octet-stream", b"MZ\x90\x00", 415),
    ("lots.csv", "text/csv", b"\xff\xfe\x00bad", 422),
    ("lots.csv", "text/csv", b"id\n" + b"x" * 1_000_001, 413),
])
def test_uploads_of_the_wrong_type_or_size_are_refused(site, name, kind, body, status):
    before = without_sessions(snapshot(site.url))
    r = site.http.post("/api/v1/lots/csv", files={"file": (name, body, kind)}, headers=site.auth("compliance"))
    assert r.status_code == status, r.text
    assert without_sessions(snapshot(site.url)) == before


def test_the_intake_page_takes_a_csv_and_shows_a_bad_row_beside_the_upload(site):
    browser, csrf = site.login("compliance")
    r = browser.post("/lots/csv", data={"csrf_token": csrf},
                     files={"file": ("lots.csv", _csv([GOOD[0][:4] + ("zero", "2026-03-02", "swarf", "")]),
                                     "text/csv")})
    assert r.status_code == 422 and "row 2.mass" in r.text
    r = browser.post("/lots/csv", data={"csrf_token": csrf}, files={"file": ("lots.csv", _csv(GOOD), "text/csv")},
                     follow_redirects=False)
    assert r.status_code == 303 and "CSV-2" in browser.get("/lots").text


# ------------------------------------------------------------ locks, cross-site requests, concurrency of limits
def test_a_refused_request_never_waits_for_the_write_lock(site):
    """Another connection holds the site's write lock (SQLite BEGIN IMMEDIATE): an anonymous or under-privileged
    POST is refused at once (401, 403), not queued behind the lock; only an allowed one would wait for it."""
    import sqlite3

    viewer = site.auth("viewer")  # a token first: issuing one is a write
    path = site.url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, timeout=1, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        t = time.monotonic()
        assert site.http.post("/api/v1/lots", json=RECEIPT).status_code == 401
        assert site.http.post("/api/v1/lots", json=RECEIPT, headers=viewer).status_code == 403
        assert site.http.post("/api/v1/verify", json={"id": "x"}).status_code == 200  # public, read only
        assert time.monotonic() - t < 30  # the lock's wait is 60 s: none of these waited for it
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_cross_site_form_post_is_refused(site):
    browser, csrf = site.login("compliance")
    r = browser.post("/lots", data={"csrf_token": csrf, "id": "X"}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "cross-site" in r.json()["detail"]
    r = client(site.app).post("/login", data={"username": "viewer", "password": PASSWORD},
                              headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert r.status_code == 403  # no login CSRF: another site cannot sign a browser in
    r = client(site.app).post("/login", data={"username": "viewer", "password": PASSWORD},
                              headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert r.status_code == 403


def test_signed_in_users_can_verify_and_sign_in_again(site):
    browser, csrf = site.login("viewer")
    page = browser.get("/verify").text
    assert 'name="csrf_token"' in page
    r = browser.post("/verify", data={"csrf_token": csrf}, files={"certificate": ("c.json", b"{}", "application/json")})
    assert r.status_code == 200 and 'id="verdict" class="fail"' in r.text
    r = browser.post("/login", data={"username": "viewer", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303


def test_concurrent_sign_in_attempts_cannot_pass_the_limit():
    """Guesses: 5 wrong ones lock the key out for the window. 40 threads guessing at once on a fresh key: at most
    LOGIN_ATTEMPTS + in_flight get through before the lock-out, and once they have failed every next attempt
    waits. 40 right ones at once are all let through (a script's own concurrency never locks it out)."""
    from concurrent.futures import ThreadPoolExecutor

    from magcycle.app.server import LOGIN_ATTEMPTS, LoginLimiter

    limiter = LoginLimiter(in_flight=8)
    for _ in range(LOGIN_ATTEMPTS):
        assert limiter.attempt("user:a", "addr:x") == 0
        limiter.done(False, "user:a", "addr:x")
    assert limiter.attempt("user:a", "addr:z") > 0  # locked out by the user's failures, from any address

    burst = LoginLimiter(in_flight=8)
    assert burst.attempt("user:b", "addr:y") == 0  # one failure first: concurrency now counts
    burst.done(False, "user:b", "addr:y")
    with ThreadPoolExecutor(max_workers=40) as pool:
        waits = list(pool.map(lambda _: burst.attempt("user:b", "addr:y"), range(40)))
    passed = sum(w == 0 for w in waits)
    assert passed <= LOGIN_ATTEMPTS + 8 - 1
    for _ in range(passed):
        burst.done(False, "user:b", "addr:y")
    assert burst.attempt("user:b", "addr:y") > 0

    right = LoginLimiter(in_flight=8)
    with ThreadPoolExecutor(max_workers=40) as pool:
        waits = list(pool.map(lambda _: right.attempt("user:c", "addr:w"), range(40)))
    assert waits == [0.0] * 40


# ------------------------------------------------------------ random malformed bodies
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                 max_size=5), max_leaves=12)
_ROUTES = {"/api/v1/lots": "compliance", "/api/v1/campaigns": "compliance", "/api/v1/plans": "planner",
           "/api/v1/runs": "engineer", "/api/v1/sx/solve": "engineer", "/api/v1/tea": "engineer",
           "/api/v1/uq": "engineer", "/api/v1/sx/design": "engineer", "/api/v1/verify": None}


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory):
    from .conftest import make_site

    folder = tmp_path_factory.mktemp("fuzz")
    url = "sqlite:///" + str(folder / "fuzz.db")
    make_site(url, folder)
    site = Site(url, workers=1)
    yield site
    site.app.state.jobs.close()


@settings(max_examples=60, deadline=None)
@given(route=st.sampled_from(sorted(_ROUTES)), body=_JSON | st.binary(max_size=40))
def test_random_malformed_bodies_are_one_error_document_never_a_crash(fuzz_site, route, body):
    """Any JSON (or any bytes) on a route that takes a document: refused with one JSON error document (4xx), or
    accepted; never a 500, and a refused request writes nothing."""
    site = fuzz_site
    before = without_sessions(snapshot(site.url))
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = dict(site.auth(_ROUTES[route]), **{"content-type": "application/json"})
    r = site.http.post(route, content=content, headers=headers)
    assert r.status_code < 500, (route, body, r.text)
    doc = r.json()
    if r.status_code == 422:
        assert set(doc) == {"error", "detail"} and doc["detail"][0]["field"]
    if r.status_code >= 400:
        assert without_sessions(snapshot(site.url)) == before
