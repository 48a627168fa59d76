"""The report renders in a real headless Chromium (Debian's `chromium`): every plot drawn by plotly.js,
no network request."""

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


def test_report_renders_every_plot_and_asks_the_network_for_nothing(report, browser):
    d, path, doc = report
    dom, requests = browser.page_requests(path, d / "profile")
    plots = browser.rendered_plots(dom)
    cascades = [n for n, u in doc["units"].items() if u["type"] == "sx_cascade" and not u["info"]["bypassed"]]
    assert "sankey" in plots
    assert sorted(p for p in plots if p.startswith("profile-")) == sorted(f"profile-{n}" for n in cascades)
    assert len(plots) == dom.count('data-plot="')           # every plot div was drawn
    assert requests == []
    for table in ("products", "spec", "streams", "reagents", "discharge"):
        assert f'id="{table}"' in dom
    assert dom.count("<tr>") > len(doc["streams"])


def test_the_network_check_sees_a_request_when_there_is_one(tmp_path, browser):
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://example.invalid/x.png"></body></html>')
    _, requests = browser.page_requests(page, tmp_path / "profile")
    assert requests == ["http://example.invalid/x.png"]


def test_report_screenshot_is_not_blank(report, browser):
    d, path, _ = report
    data = browser.screenshot(path, d / "shot.png", d / "profile2")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a blank page of this size compresses to a few kB
