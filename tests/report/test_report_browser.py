"""The report renders in a real headless Chromium (Debian's `chromium`), plots present."""

import re
import shutil
import subprocess

import pytest

from magcycle.flowsheet import simulate
from magcycle.report import render_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    doc = simulate().to_dict()
    path = d / "report.html"
    path.write_text(render_report(doc))
    return d, path, doc


def test_report_renders_with_its_plots(report):
    d, path, doc = report
    proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={d / 'profile'}", "--dump-dom",
                           path.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    plots = re.findall(r'<svg data-plot="([^"]+)"', dom)
    cascades = [n for n, u in doc["units"].items() if u["type"] == "sx_cascade" and not u["info"]["bypassed"]]
    assert "sankey" in plots
    assert sorted(p for p in plots if p.startswith("profile-")) == sorted(f"profile-{n}" for n in cascades)
    # one polyline per component in every profile, one band per RE-carrying stream in the Sankey
    assert dom.count("<polyline") == sum(len(doc["sx_profiles"][n]["components"]) for n in cascades)
    for table in ("products", "spec", "streams", "reagents"):
        assert f'id="{table}"' in dom
    assert dom.count("<tr>") > len(doc["streams"])


def test_report_screenshot_is_not_blank(report):
    d, path, _ = report
    shot = d / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={d / 'profile2'}", f"--screenshot={shot}",
                    "--window-size=1200,1600", path.as_uri()], capture_output=True, timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a blank page of this size compresses to a few kB
