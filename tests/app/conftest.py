"""Fixtures of the web application's tests: a site database with one user per role, the application on it
(the real FastAPI application on a real database, driven in process by Starlette's test client)."""

from __future__ import annotations

import warnings

import pytest

from magcycle.app.policy import ROLES
from magcycle.cli import main

PASSWORD = "correct horse battery staple"
RECEIPT = {"id": "KR-SW-0001", "supplier": "Example Magnet Co.", "category": "swarf", "consumer": "pre",
           "mass": "2.0 t", "received": "2026-03-02", "feed": "swarf",
           "origin": {"generated": "KR", "mined": "AU", "refined": "MY", "separated": "MY", "melted": "JP",
                      "produced": "JP"}}


def make_site(url: str, tmp_path) -> None:
    """``trace init`` and one user per role (named after the role), through the command line."""
    assert main(["trace", "init", "--db", url, "--site", "Plant-DE", "--country", "DE"]) == 0
    secret = tmp_path / "password.txt"
    secret.write_text(PASSWORD + "\n")
    for role in ROLES:
        assert main(["users", "add", role, "--role", role, "--password-file", str(secret), "--db", url]) == 0


def client(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    return TestClient(app, raise_server_exceptions=False)


class Site:
    """The application on a site, and a bearer token per role (issued once, again after a revocation)."""

    def __init__(self, url: str, **options):
        from magcycle.app import create_app
        from magcycle.app.server import LoginLimiter

        self.url = url
        options.setdefault("limiter", LoginLimiter(attempts=10**6))  # the rate limit has a test of its own
        self.app = create_app(url, **options)
        self.http = client(self.app)
        self._tokens: dict[str, str] = {}

    def token(self, role: str) -> str:
        if role not in self._tokens:
            r = self.http.post("/api/v1/token", data={"username": role, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[role] = r.json()["access_token"]
        return self._tokens[role]

    def forget(self, role: str) -> None:
        self._tokens.pop(role, None)

    def auth(self, role: str | None) -> dict:
        return {} if role is None else {"Authorization": f"Bearer {self.token(role)}"}

    def login(self, role: str):
        """A browser-like session: a fresh client signed in with the session cookie, and its CSRF token."""
        import re

        browser = client(self.app)
        r = browser.post("/login", data={"username": role, "password": PASSWORD, "next": "/"}, follow_redirects=False)
        assert r.status_code == 303, r.text
        page = browser.get("/lots").text
        return browser, re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


@pytest.fixture(scope="session")
def site_template(tmp_path_factory):
    """One SQLite site made by the command line (init, five users: argon2 is slow on purpose), copied by each
    test that needs a fresh one."""
    folder = tmp_path_factory.mktemp("site-template")
    make_site("sqlite:///" + str(folder / "site.db"), folder)
    return folder / "site.db"


@pytest.fixture
def site(tmp_path, capsys, site_template):
    import shutil

    shutil.copyfile(site_template, tmp_path / "site.db")
    capsys.readouterr()
    return Site("sqlite:///" + str(tmp_path / "site.db"))


@pytest.fixture
def any_site(trace_db_url, tmp_path, capsys):
    """The same, once on SQLite and once on the PostgreSQL server."""
    make_site(trace_db_url, tmp_path)
    capsys.readouterr()
    return Site(trace_db_url)
