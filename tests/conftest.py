"""Shared test fixtures: a real headless Chromium for the rendered pages.

The pages (plant report, techno-economics, uncertainty and design reports)
are checked in Debian's ``chromium``. Where it is missing the browser tests
are skipped with that reason, unless ``MAGCYCLE_REQUIRE_BROWSER`` is set:
``.ci/run`` installs the browser and sets it, so that CI fails rather than
skips when the browser cannot run.

A real PostgreSQL server (Debian's ``postgresql``) for the database tests:
``postgres_server`` starts one per session, ``trace_db_url`` gives each test
a fresh database on it or in SQLite. Where the binaries are missing those tests
are skipped, unless ``MAGCYCLE_REQUIRE_POSTGRES`` is set (``.ci/run`` sets it).
"""

import glob
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Browser:
    """Debian's headless Chromium at ``path``; each call uses its own profile folder."""

    def __init__(self, path: str):
        self.path = path

    def _run(self, args, profile, text=True):
        return subprocess.run([self.path, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=text, timeout=120)

    def dump_dom(self, page, profile) -> str:
        """The DOM of ``page`` (a Path) after the browser has rendered it."""
        proc = self._run(["--dump-dom", page.as_uri()], profile)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    def page_requests(self, page, profile) -> tuple[str, list[str]]:
        """(the DOM, every URL the page itself asked for that is not file:, data: or blob:): the
        browser's network log (``--log-net-log``), the requests keyed to the page's file:// origin
        (the browser's own background requests carry other keys)."""
        log = profile.parent / f"{profile.name}-net.json"
        proc = self._run([f"--log-net-log={log}", "--dump-dom", page.as_uri()], profile)
        assert proc.returncode == 0, proc.stderr[-2000:]
        events = json.loads(log.read_text())["events"]
        urls = set()
        for e in events:
            params = e.get("params") or {}
            url = params.get("url", "")
            if url and "file://" in str(params.get("network_isolation_key", "")) \
                    and not re.match(r"(file|data|blob|chrome|about):", url):
                urls.add(url)
        return proc.stdout, sorted(urls)

    @staticmethod
    def rendered_plots(dom: str) -> list[str]:
        """The ``data-plot`` keys of the Plotly figures that plotly.js drew in a dumped DOM (the div has
        ``data-rendered="true"`` and holds Plotly's main svg)."""
        keys = []
        for m in re.finditer(r'<div class="plot[^"]*"[^>]*>', dom):
            tag = m.group(0)
            key = re.search(r'data-plot="([^"]+)"', tag)
            if key and 'data-rendered="true"' in tag and "main-svg" in dom[m.end():m.end() + 20000]:
                keys.append(key.group(1))
        return keys

    def screenshot(self, page, shot, profile, size="1200,1600") -> bytes:
        """A PNG of ``page`` rendered at ``size``, written to ``shot`` and returned."""
        self._run([f"--screenshot={shot}", f"--window-size={size}", page.as_uri()], profile, text=False)
        return shot.read_bytes()


@pytest.fixture(scope="session")
def browser():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("MAGCYCLE_REQUIRE_BROWSER"):
            pytest.fail("MAGCYCLE_REQUIRE_BROWSER is set but no chromium is on PATH")
        pytest.skip("needs Debian's chromium (.ci/run installs it)")
    return Browser(path)


# --- a real PostgreSQL server -------------------------------------------------------------------------------

def _postgres_bindir() -> str | None:
    """The newest ``/usr/lib/postgresql/*/bin`` (or the folder of ``pg_ctl`` on PATH) that holds
    ``pg_ctl``, ``initdb`` and ``postgres``; None when there is none."""
    def complete(d):
        return all(os.access(os.path.join(d, b), os.X_OK) for b in ("pg_ctl", "initdb", "postgres"))

    def major(d):
        name = os.path.basename(os.path.dirname(d))
        return (int(name), name) if name.isdigit() else (-1, name)
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True):
        if complete(d):
            return d
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl and complete(os.path.dirname(os.path.realpath(pg_ctl))):
        return os.path.dirname(os.path.realpath(pg_ctl))
    return None


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    """Wait until process ``pid`` (the stopped postmaster, which is no child of ours) has left the process
    table: after ``pg_ctl stop`` it lingers a moment as a zombie until init reaps it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() not in ("postgres", "postmaster"):
                    return
        except OSError:
            return
        time.sleep(0.02)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of its own in a fresh temporary folder, on a free port of 127.0.0.1, for the
    session: yields ``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres`` (trust authentication),
    then stops the server and removes the folder, whatever the tests did. As root the server runs as
    the ``postgres`` user (it refuses to run as root)."""
    bindir = _postgres_bindir()
    as_root = os.geteuid() == 0
    if bindir is not None and as_root:
        import pwd
        try:
            pg_user = pwd.getpwnam("postgres")
        except KeyError:
            bindir = None
    if bindir is None:
        if os.environ.get("MAGCYCLE_REQUIRE_POSTGRES"):
            pytest.fail("MAGCYCLE_REQUIRE_POSTGRES is set but no PostgreSQL server binaries (and, as root, "
                        "no postgres user) were found under /usr/lib/postgresql/*/bin or on PATH")
        pytest.skip("needs Debian's postgresql (.ci/run installs it)")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    tmp = tempfile.mkdtemp(prefix="magcycle-pg-")
    data, log = os.path.join(tmp, "data"), os.path.join(tmp, "log")

    def run(*args, check=True):
        proc = subprocess.run([*prefix, *args], cwd=tmp, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            log_tail = open(log).read()[-3000:] if os.path.exists(log) else ""
            pytest.fail(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}"
                        f"\n{proc.stderr[-2000:]}\n{log_tail}")
        return proc

    started, postmaster = False, 0
    try:
        if as_root:
            os.chown(tmp, pg_user.pw_uid, pg_user.pw_gid)
        run(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale",
            "--no-sync")
        for attempt in range(3):  # the free port may be taken between probing it and the server binding it
            port = _free_port()
            options = (f"-p {port} -k {shlex.quote(tmp)} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off")
            proc = run(f"{bindir}/pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start",
                       check=attempt == 2)
            if proc.returncode == 0:
                break
        started = True
        with open(os.path.join(data, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            if run(f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop", check=False).returncode:
                run(f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", check=False)
            if postmaster:
                _wait_gone(postmaster)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def trace_db_url(request, tmp_path):
    """The URL of a fresh, empty database, once in SQLite (a file in ``tmp_path``) and once on the
    session's PostgreSQL server (a new database ``t_<uuid hex>``, dropped after the test). Only the
    postgresql case starts the server."""
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "trace.db")
        return
    import sqlalchemy as sa

    base = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
