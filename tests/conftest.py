"""Shared test fixtures: a real headless Chromium for the rendered pages.

The pages (plant report, techno-economics, uncertainty and design reports)
are checked in Debian's ``chromium``. Where it is missing the browser tests
are skipped with that reason, unless ``MAGCYCLE_REQUIRE_BROWSER`` is set:
``.ci/run`` installs the browser and sets it, so that CI fails rather than
skips when the browser cannot run.
"""

import json
import os
import re
import shutil
import subprocess

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
