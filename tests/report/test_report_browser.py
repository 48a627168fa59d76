"""The report renders in a real headless Chromium (Debian's `chromium`), plots present."""

import re

import pytest

from magcycle.flowsheet import simulate
from magcycle.report import render_report


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    doc = simulate().to_dict()
    path = d / "report.html"
    path.write_text(render_report(doc))
    return d, path, doc


def test_report_renders_with_its_plots(report, browser):
    d, path, doc = report
    dom = browser.dump_dom(path, d / "profile")
    plots = re.findall(r'<svg data-plot="([^"]+)"', dom)
    cascades = [n for n, u in doc["units"].items() if u["type"] == "sx_cascade" and not u["info"]["bypassed"]]
    assert "sankey" in plots
    assert sorted(p for p in plots if p.startswith("profile-")) == sorted(f"profile-{n}" for n in cascades)
    # one polyline per component in every profile, one band per RE-carrying stream in the Sankey
    assert dom.count("<polyline") == sum(len(doc["sx_profiles"][n]["components"]) for n in cascades)
    for table in ("products", "spec", "streams", "reagents"):
        assert f'id="{table}"' in dom
    assert dom.count("<tr>") > len(doc["streams"])


def test_report_screenshot_is_not_blank(report, browser):
    d, path, _ = report
    data = browser.screenshot(path, d / "shot.png", d / "profile2")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a blank page of this size compresses to a few kB
