"""The whole path in a real headless Chromium (Debian's, driven by Playwright through its executable path) against
``magcycle serve`` on 127.0.0.1: compliance receives lots, a planner plans campaigns and records the plan,
compliance runs a campaign and issues a certificate, which is downloaded and verified on the verify page (and a
tampered copy is not); a viewer can do none of it; no page asks anything of another host.

Oracles: what the pages show (ids, states, the verdict), the files the browser downloads (the certificate, its
id and lot), the server's HTTP statuses for the viewer's attempts (403), and the browser's own request log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from magcycle.cli import main

from .conftest import PASSWORD, make_site
from .test_serve import free_port, wait_ready

PLAN = """start = 2026-03-02
weeks = 6
initial_family = "swarf"
allow_shortfall = true
[[orders]]
id = "WALK-ORDER"
product = "NdPr oxide"
mass = "100 kg"
due = 2026-03-16
price_usd_per_kg = 60
"""
CAMPAIGN = """id = "C-WALK-1"
plant = "reference"
start = 2026-03-09
end = 2026-03-12
custody = "mass_balance"
[lots]
"WALK-SW-1" = "1.0 t"
"WALK-EV-2" = "0.5 t"
"""


@pytest.fixture
def served(tmp_path, capsys, browser):
    url = "sqlite:///" + str(tmp_path / "walk.db")
    make_site(url, tmp_path)
    env = dict(os.environ, MAGCYCLE_KEYS_DIR=str(tmp_path / "keys"))
    assert main(["trace", "keys", "create", "--db", url, "--keys", str(tmp_path / "keys")]) == 0
    capsys.readouterr()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "magcycle", "serve", "--db", url, "--port", str(port),
                             "--scheduler", "processes:1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base, browser.path
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def sign_in(pw_browser, base: str, role: str, requests: list):
    context = pw_browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.goto(base + "/login")
    page.fill("#username", role)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(base + "/")
    assert f"{role} ({role})" in page.inner_text("nav")
    return context, page


def receive(page, base: str, lot: dict) -> None:
    page.goto(base + "/lots")
    for name, value in lot.items():
        page.fill(f"#intake-{name}", value)
    page.click("#receive")
    page.wait_for_url(base + "/lots")
    assert lot["id"] in page.inner_text("#lots")


def test_the_whole_path_as_each_role(served, tmp_path):
    from playwright.sync_api import sync_playwright

    base, chromium = served
    requests: list[str] = []
    clean = {"origin_mined": "AU", "origin_refined": "MY", "origin_separated": "MY", "origin_melted": "JP",
             "origin_produced": "JP"}
    with sync_playwright() as p:
        pw = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            # compliance receives two lots through the intake form
            ctx, page = sign_in(pw, base, "compliance", requests)
            receive(page, base, dict(id="WALK-SW-1", supplier="Swarf & Co <b>", category="swarf", consumer="pre",
                                     mass="2.0 t", received="2026-03-02", feed="swarf", **clean))
            receive(page, base, dict(id="WALK-EV-2", supplier="EV Recycler", category="ev", consumer="post",
                                     mass="1.5 t", received="2026-03-03", feed="ev", **clean))
            assert "Swarf & Co <b>" in page.inner_text("#lots")  # shown as text, not markup
            page.fill("#intake-id", "WALK-BAD")
            page.fill("#intake-mass", "-5 t")
            page.click("#receive")
            assert "a mass must be a finite number" in page.inner_text("#intake")  # beside its field

            # a planner plans campaigns on them, sees the Gantt chart, records the plan
            pctx, ppage = sign_in(pw, base, "planner", requests)
            ppage.goto(base + "/plans")
            ppage.fill("#plan-text", PLAN)
            ppage.click("#plan-start")
            ppage.wait_for_selector("#job-state[data-state=done]", timeout=120_000)
            ppage.wait_for_selector("#gantt[data-rendered=yes]", timeout=30_000)
            assert "optimal" in ppage.inner_text("#plan-status") or "gap" in ppage.inner_text("#plan-status")
            planned = ppage.inner_text("#campaigns")
            ppage.click("#record")
            ppage.wait_for_url(base + "/plans")
            assert "PLAN-" in ppage.inner_text("h2") and ppage.inner_text("#current-plan").count("/P-") >= 1
            assert planned.split("\n")[1].split("\t")[0] in ppage.inner_text("#current-plan")

            # compliance runs a campaign, issues the certificate, downloads it and its CoA
            page.goto(base + "/campaigns")
            page.fill("#campaign-text", CAMPAIGN)
            page.click("#campaign-run")
            page.wait_for_url(base + "/lots/C-WALK-1-NdPr-oxide")
            page.wait_for_selector("#genealogy[data-rendered=yes]")
            assert "WALK-SW-1" in page.inner_text("#feed-lots") and "WALK-EV-2" in page.inner_text("#feed-lots")
            page.click("#certify")
            page.wait_for_selector("#certificates a.download")
            with page.expect_download() as dl:
                page.click("#certificates a.download")
            path = tmp_path / dl.value.suggested_filename
            dl.value.save_as(path)
            cred = json.loads(path.read_text())
            assert cred["credentialSubject"]["lot_id"] == "C-WALK-1-NdPr-oxide" and "proof" in cred
            coa = page.request.get(base + page.get_attribute("#certificates a.coa", "href"))
            assert coa.status == 200 and "C-WALK-1-NdPr-oxide" in coa.text()

            # anyone verifies it on the verify page; a tampered copy is invalid and says why
            anon = pw.new_context()
            vpage = anon.new_page()
            vpage.on("request", lambda r: requests.append(r.url))
            vpage.goto(base + "/verify")
            vpage.set_input_files("#verify-file", str(path))
            vpage.click("#verify")
            assert vpage.inner_text("#verdict") == "valid"
            cred["credentialSubject"]["net_mass_kg"] *= 2
            forged = tmp_path / "forged.vc.json"
            forged.write_text(json.dumps(cred))
            vpage.set_input_files("#verify-file", str(forged))
            vpage.click("#verify")
            assert vpage.inner_text("#verdict") == "invalid" and "signature" in vpage.inner_text("#why")

            # a viewer sees it all and can change none of it
            vctx, vw = sign_in(pw, base, "viewer", requests)
            for path_, form in (("/lots", "#intake"), ("/plans", "#plan-form"), ("/campaigns", "#campaign-form"),
                                ("/lots/C-WALK-1-NdPr-oxide", "#certify-form"), ("/runs", "#run-form"),
                                ("/tea", "#tea-form")):
                vw.goto(base + path_)
                assert vw.query_selector(form) is None, path_
            vw.goto(base + "/campaigns")
            assert "C-WALK-1-NdPr-oxide" in vw.inner_text("#product-lots")  # reading is allowed
            vw.goto(base + "/lots")
            csrf = vw.get_attribute("input[name=csrf_token]", "value")
            for path_, data in (("/lots", {"id": "V-1", "supplier": "x", "category": "swarf", "consumer": "pre",
                                           "mass": "1 t", "received": "2026-03-05", "feed": "swarf"}),
                                ("/plans", {"plan": PLAN}), ("/campaigns", {"campaign": CAMPAIGN}),
                                ("/lots/C-WALK-1-NdPr-oxide/certificate", {}), ("/runs", {"plant": "reference"})):
                r = vctx.request.post(base + path_, form=dict(data, csrf_token=csrf), max_redirects=0)
                assert r.status == 403, (path_, r.status)
            for ctx_ in (ctx, pctx, anon, vctx):
                ctx_.close()
        finally:
            pw.close()
    foreign = sorted({u for u in requests if not u.startswith(base + "/") and not u.startswith(("data:", "blob:"))})
    assert foreign == []
