"""``magcycle serve`` as a real server (uvicorn on 127.0.0.1) and ``magcycle users``: the command's bad input.

Oracles: the HTTP answers of the running server, the exit status and the one line of each refused command.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from magcycle.cli import main

from .conftest import PASSWORD, make_site


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, proc, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited: {proc.stderr.read()}")
        try:
            urllib.request.urlopen(base + "/login", timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError("the server did not answer")


@pytest.fixture
def server(tmp_path, capsys):
    url = "sqlite:///" + str(tmp_path / "served.db")
    make_site(url, tmp_path)
    capsys.readouterr()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "magcycle", "serve", "--db", url, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_served_application_signs_in_and_answers(server):
    data = urllib.parse.urlencode({"username": "viewer", "password": PASSWORD}).encode()
    token = json.loads(urllib.request.urlopen(server + "/api/v1/token", data=data, timeout=10).read())
    request = urllib.request.Request(server + "/api/v1/me", headers={
        "Authorization": f"Bearer {token['access_token']}"})
    assert json.loads(urllib.request.urlopen(request, timeout=10).read()) == {"user": "viewer", "role": "viewer"}
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(server + "/api/v1/lots", timeout=10)
    assert exc.value.code == 401


def refused(capsys, *argv) -> str:
    status = main(list(argv))
    out = capsys.readouterr()
    assert status == 2 and out.out == "" and len(out.err.splitlines()) == 1 and "Traceback" not in out.err, out
    return out.err


def test_serve_refuses_a_database_without_the_schema_and_a_bad_port(tmp_path, capsys):
    err = refused(capsys, "serve", "--db", "sqlite:///" + str(tmp_path / "none.db"))
    assert "trace init" in err or "no such" in err or "does not exist" in err
    url = "sqlite:///" + str(tmp_path / "ok.db")
    make_site(url, tmp_path)
    capsys.readouterr()
    assert "--port" in refused(capsys, "serve", "--db", url, "--port", "0")
    assert "--port" in refused(capsys, "serve", "--db", url, "--port", "70000")


@pytest.mark.parametrize("args, field", [
    (["users", "add", "-x", "--role", "viewer"], "name"),
    (["users", "add", "ok", "--role", "root"], "role"),
    (["users", "add", "a b", "--role", "viewer"], "name"),
    (["users", "add", "x" * 65, "--role", "viewer"], "name"),
])
def test_users_add_refuses_bad_names_and_roles(tmp_path, capsys, args, field):
    url = "sqlite:///" + str(tmp_path / "u.db")
    make_site(url, tmp_path)
    capsys.readouterr()
    secret = tmp_path / "pw.txt"
    secret.write_text(PASSWORD)
    err = refused(capsys, *args, "--password-file", str(secret), "--db", url)
    assert f"error: {field}:" in err.lower()  # "-x" reads as an option: refused naming NAME


def test_users_add_refuses_a_short_password_a_missing_file_and_no_terminal(tmp_path, capsys, monkeypatch):
    url = "sqlite:///" + str(tmp_path / "u.db")
    make_site(url, tmp_path)
    capsys.readouterr()
    short = tmp_path / "short.txt"
    short.write_text("hunter2\n")
    assert "password:" in refused(capsys, "users", "add", "new", "--role", "viewer", "--password-file", str(short),
                                  "--db", url)
    assert "--password-file" in refused(capsys, "users", "add", "new", "--role", "viewer", "--password-file",
                                        str(tmp_path / "missing.txt"), "--db", url)
    monkeypatch.setattr("sys.stdin", open("/dev/null"))  # noqa: SIM115 - closed with the test
    assert "--password-file" in refused(capsys, "users", "add", "new", "--role", "viewer", "--db", url)
    status = main(["users", "list", "--db", url, "--json"])
    assert status == 0
    assert [u["name"] for u in json.loads(capsys.readouterr().out)] == sorted(
        ["viewer", "engineer", "planner", "compliance", "admin"])


def test_more_requests_at_once_than_database_connections_all_succeed(server):
    """80 reads and 20 sign-ins at once against the served application (more than its threads, its database
    slots and its pool of connections): every one answers 200 (a server that let requests hold connections
    while waiting for threads would stall, then fail them when the pool gives up)."""
    from concurrent.futures import ThreadPoolExecutor

    data = urllib.parse.urlencode({"username": "viewer", "password": PASSWORD}).encode()
    token = json.loads(urllib.request.urlopen(server + "/api/v1/token", data=data, timeout=60).read())["access_token"]

    def read(_):
        req = urllib.request.Request(server + "/api/v1/lots", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status

    def sign_in(_):
        with urllib.request.urlopen(server + "/api/v1/token", data=data, timeout=120) as r:
            return r.status
    with ThreadPoolExecutor(max_workers=100) as pool:
        futures = [pool.submit(read, i) for i in range(80)] + [pool.submit(sign_in, i) for i in range(20)]
        statuses = [f.result() if f.exception() is None else repr(f.exception()) for f in futures]
    assert statuses == [200] * 100
