"""The REST API's operations against the command line's answers for the same inputs: plant runs and campaign
plans (long jobs on the process pool), campaigns, certificates (issue, download, verify, revoke); downloads that
never leave their folder; bad input on each.

Oracles: the command line's ``--json`` documents on a twin database (or the same database, read-only), the
signature check of the downloaded credential, the statuses the issue names.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle.app.api import download_name
from magcycle.cli import main

from ..analysis.test_executors import dask_cluster  # noqa: F401 - the fixture
from .conftest import RECEIPT, Site, make_site

CLEAN = {"generated": "DE", "mined": "AU", "refined": "MY", "separated": "MY", "melted": "JP", "produced": "JP"}
EV = dict(RECEIPT, id="DE-EV-0002", category="ev", consumer="post", mass="1.5 t", feed="ev", origin=CLEAN)
CAMPAIGN = {"id": "C-API-1", "plant": "reference", "start": "2026-03-09", "end": "2026-03-12",
            "custody": "mass_balance", "lots": {"KR-SW-0001": "1.0 t", "DE-EV-0002": "0.5 t"}}
PLAN = {"start": "2026-03-02", "weeks": 6, "initial_family": "swarf", "allow_shortfall": True,
        "orders": [{"id": "O-1", "product": "NdPr oxide", "mass": "100 kg", "due": "2026-03-16",
                    "price_usd_per_kg": 60}]}


@pytest.fixture
def ops(tmp_path, capsys, monkeypatch):
    """A site with a signing key and two lots, the application on it (one worker for jobs), and a twin database
    with the same lots for the command line."""
    keys = tmp_path / "keys"
    monkeypatch.setenv("MAGCYCLE_KEYS_DIR", str(keys))
    url, twin = ("sqlite:///" + str(tmp_path / name) for name in ("site.db", "twin.db"))
    make_site(url, tmp_path)
    assert main(["trace", "keys", "create", "--db", url]) == 0
    assert main(["trace", "init", "--db", twin, "--site", "Plant-DE", "--country", "DE"]) == 0
    for i, r in enumerate((RECEIPT, EV)):
        path = tmp_path / f"r{i}.json"
        path.write_text(json.dumps(r))
        assert main(["trace", "receive", str(path), "--db", twin]) == 0
    capsys.readouterr()
    site = Site(url, workers=1)
    for r in (RECEIPT, EV):
        assert site.http.post("/api/v1/lots", json=r, headers=site.auth("compliance")).status_code == 201
    yield site, twin, tmp_path
    site.app.state.jobs.close()


def cli_json(capsys, *argv) -> dict:
    status = main(list(argv))
    out = capsys.readouterr()
    assert status in (0, 3), out.err
    return json.loads(out.out)


def test_a_campaign_and_its_certificate_as_the_command_line_makes_them(ops, capsys):
    site, twin, tmp = ops
    r = site.http.post("/api/v1/campaigns", json=CAMPAIGN, headers=site.auth("compliance"))
    assert r.status_code == 201, r.text
    path = tmp / "c.json"
    path.write_text(json.dumps(CAMPAIGN))
    assert r.json() == cli_json(capsys, "trace", "campaign", str(path), "--db", twin, "--json")

    lot = r.json()["product_lots"][0]["id"]
    cert = site.http.post(f"/api/v1/lots/{lot}/certificate", headers=site.auth("compliance"))
    assert cert.status_code == 201
    cid = cert.json()["id"]
    got = site.http.get(f"/api/v1/certificates/{cid}", headers=site.auth("viewer"))
    disposition = got.headers["content-disposition"]
    assert got.json() == cert.json() and re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+\.vc\.json"', disposition)
    saved = tmp / "cert.vc.json"
    saved.write_text(got.text)
    assert main(["trace", "verify", str(saved), "--db", site.url]) == 0  # the command line agrees: valid
    assert site.http.post("/api/v1/verify", json=got.json()).json() == {"valid": True, "problems": [], "id": cid}
    forged = dict(got.json(), credentialSubject=dict(got.json()["credentialSubject"], net_mass_kg=1.0))
    verdict = site.http.post("/api/v1/verify", json=forged).json()
    assert verdict["valid"] is False and verdict["problems"]
    assert site.http.post(f"/api/v1/lots/{lot}/certificate", headers=site.auth("compliance")).status_code == 422
    r = site.http.post(f"/api/v1/certificates/{cid}/revoke", json={"reason": "assay corrected"},
                       headers=site.auth("compliance"))
    assert r.status_code == 200 and r.json()["certificate_id"] == cid
    verdict = site.http.post("/api/v1/verify", json=got.json()).json()
    assert verdict["valid"] is False and verdict["problems"][0].startswith("revoked")
    report_csp = __import__("magcycle.app.pages_ops", fromlist=["REPORT_CSP"]).REPORT_CSP
    assert report_csp.startswith("sandbox allow-scripts;")  # report documents run in an opaque origin
    coa = site.http.get(f"/api/v1/certificates/{cid}/coa", headers=site.auth("viewer"))
    assert coa.status_code == 200 and lot in coa.text
    assert main(["trace", "audit", "--db", site.url]) == 0


def test_a_plant_run_job_answers_what_magcycle_run_prints(ops, capsys):
    site, _, tmp = ops
    r = site.http.post("/api/v1/runs", json={"plant": "reference", "feed": "ev"}, headers=site.auth("engineer"))
    assert r.status_code == 202
    report = site.app.state.jobs.wait(r.json()["job"], 300)
    assert report["state"] == "done", report
    polled = site.http.get(r.json()["href"], headers=site.auth("viewer")).json()
    assert polled["state"] == "done" and polled["owner"] == "engineer"
    cli = cli_json(capsys, "run", "reference", "--feed", "ev", "--json", "--out", str(tmp / "run"))
    mine = json.loads(json.dumps(polled["result"]["results"]))
    assert mine.pop("solve_seconds") > 0 and cli.pop("solve_seconds") > 0  # the wall clock, not a result
    assert mine == cli


def test_a_plan_job_answers_what_plan_campaigns_prints_and_records(ops, capsys):
    site, _, tmp = ops
    r = site.http.post("/api/v1/plans", json=PLAN, headers=site.auth("planner"))
    assert r.status_code == 202, r.text
    report = site.app.state.jobs.wait(r.json()["job"], 300)
    assert report["state"] == "done", report
    path = tmp / "plan.json"
    path.write_text(json.dumps(PLAN))
    cli = cli_json(capsys, "plan", "campaigns", str(path), "--db", site.url, "--json", "--out", str(tmp / "p"))
    mine = json.loads(json.dumps(report["result"]))
    for doc in (mine, cli):
        doc.pop("seconds")
    assert mine == cli
    rec = site.http.post(f"/api/v1/plans/{report['id']}/record", headers=site.auth("planner"))
    assert rec.status_code == 201
    again = site.http.post(f"/api/v1/plans/{report['id']}/record", headers=site.auth("planner"))
    assert again.status_code == 409 and rec.json()["plan_id"] in again.json()["detail"]  # not a second plan
    assert site.http.get("/api/v1/plans/current", headers=site.auth("viewer")).json()["plan_id"] == rec.json()[
        "plan_id"]


def test_a_failed_job_says_why_and_unknown_jobs_are_404(ops):
    site, _, _ = ops
    infeasible = dict(PLAN, allow_shortfall=False, orders=[dict(PLAN["orders"][0], mass="100 t")])
    r = site.http.post("/api/v1/plans", json=infeasible, headers=site.auth("planner"))
    report = site.app.state.jobs.wait(r.json()["job"], 300)
    assert report["state"] == "failed" and "order O-1 short by" in report["error"]
    assert site.http.post(f"/api/v1/plans/{report['id']}/record", headers=site.auth("planner")).status_code == 409
    assert site.http.get("/api/v1/jobs/nope", headers=site.auth("viewer")).status_code == 404


@pytest.mark.parametrize("route, body, field", [
    ("/api/v1/runs", {"plant": "/etc/passwd"}, "plant"),
    ("/api/v1/runs", {"plant": "reference", "feed": "unobtainium"}, "feed"),
    ("/api/v1/runs", {"plant": "reference", "rate": "-3 kg/h"}, "rate"),
    ("/api/v1/campaigns", dict(CAMPAIGN, plant="../../plants/evil.toml"), "plant"),
    ("/api/v1/campaigns", dict(CAMPAIGN, lots={"NO-SUCH": "1 t"}), "lots"),
    ("/api/v1/plans", dict(PLAN, lots=[{"id": "X"}]), "lots"),
    ("/api/v1/plans", dict(PLAN, orders=[dict(PLAN["orders"][0], product="gold")]), "orders"),
])
def test_bad_operations_are_422_naming_the_field(ops, route, body, field):
    site, _, _ = ops
    role = {"/api/v1/runs": "engineer", "/api/v1/campaigns": "compliance", "/api/v1/plans": "planner"}[route]
    r = site.http.post(route, json=body, headers=site.auth(role))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"].split(".")[0].split("[")[0] == field, r.json()


@pytest.mark.parametrize("path", ["/api/v1/certificates/../../etc/passwd", "/api/v1/certificates/%2e%2e%2f%2e%2e%2fetc",
                                  "/api/v1/certificates/..%2F..%2Fsite.db", "/static/../site.db",
                                  "/static/%2e%2e/%2e%2e/etc/passwd", "/api/v1/certificates/%00"])
def test_download_paths_never_leave_their_folder(ops, path):
    site, _, _ = ops
    r = site.http.get(path, headers=site.auth("viewer"))
    assert r.status_code == 404 and "root:" not in r.text and "SQLite" not in r.text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_a_download_name_is_a_plain_file_name(cert_id):
    name = download_name(cert_id, ".vc.json")
    assert re.fullmatch(r"[A-Za-z0-9._-]+\.vc\.json", name) and "/" not in name and "\\" not in name
    assert not name.startswith(".") and len(name) <= 128


DESIGN = """
[cascade]
model = "constant_beta"
[flows]
organic = 2.22
feed = 1.0
scrub = 1.366465
[feed]
Dy = 0.85
Tb = 0.15
[model]
beta = { Dy = 2.0, Tb = 1.0 }
organic_loading = 1.0
scrub_acid = 3.0
[targets]
extract = { Dy = { purity = 0.99 } }
raffinate = { Tb = { purity = 0.95 } }
"""
STUDY = """
[study]
plant = "reference"
samples = 6
seed = 1
[parameters]
"feed.blend.ev" = { uniform = [0.2, 0.5], nominal = 0.35 }
"""


def _toml(text: str) -> dict:
    import tomllib

    return tomllib.loads(text)


def _without(doc, *keys):
    """``doc`` through JSON, without ``keys`` at any depth (wall-clock times and the input's file name)."""
    def drop(x):
        if isinstance(x, dict):
            return {k: drop(v) for k, v in x.items() if k not in keys}
        return [drop(v) for v in x] if isinstance(x, list) else x
    return drop(json.loads(json.dumps(doc)))


def test_a_cascade_solve_answers_what_sx_solve_prints(ops, capsys):
    from importlib.resources import files

    site, _, _ = ops
    example = files("magcycle") / "examples" / "pr_nd_split.toml"
    r = site.http.post("/api/v1/sx/solve", json=_toml(example.read_text()), headers=site.auth("engineer"))
    assert r.status_code == 200, r.text
    cli = cli_json(capsys, "sx", "solve", str(example), "--json")
    assert _without(r.json(), "source", "seconds") == _without(cli, "source", "seconds")
    bad = _toml(example.read_text())
    bad["flows"]["organic"] = -1.0
    r = site.http.post("/api/v1/sx/solve", json=bad, headers=site.auth("engineer"))
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "flows.organic"


def test_design_tea_and_uq_jobs_answer_what_the_command_line_prints(ops, capsys):
    site, _, tmp = ops
    headers = site.auth("engineer")
    design = site.http.post("/api/v1/sx/design", json=_toml(DESIGN), headers=headers)
    tea = site.http.post("/api/v1/tea", json={"plant": "reference", "scenario": "base"}, headers=headers)
    uq = site.http.post("/api/v1/uq", json=_toml(STUDY), headers=headers)
    assert (design.status_code, tea.status_code, uq.status_code) == (202, 202, 202), (design.text, tea.text, uq.text)
    reports = {k: site.app.state.jobs.wait(r.json()["job"], 600) for k, r in
               (("design", design), ("tea", tea), ("uq", uq))}
    assert all(r["state"] == "done" for r in reports.values()), reports
    (tmp / "d.toml").write_text(DESIGN)
    cli = cli_json(capsys, "sx", "design", str(tmp / "d.toml"), "--json")
    assert _without(reports["design"]["result"], "source", "seconds") == _without(cli, "source", "seconds")
    cli = cli_json(capsys, "tea", "reference", "--json", "--out", str(tmp / "tea"))
    assert _without(reports["tea"]["result"]) == _without(cli)
    (tmp / "s.toml").write_text(STUDY)
    cli = cli_json(capsys, "uq", str(tmp / "s.toml"), "--scheduler", "processes:1", "--quiet", "--json", "--out",
                   str(tmp / "uq"))
    assert _without(reports["uq"]["result"], "source", "seconds") == _without(cli, "source", "seconds")
    assert reports["uq"]["result"]["monte_carlo"]["samples"] == 6
    assert reports["uq"]["progress"] == {"stage": "Monte Carlo", "done": 6, "total": 6}


@pytest.mark.parametrize("route, body, field", [
    ("/api/v1/tea", {"plant": "reference", "scenario": "worst"}, "scenario"),
    ("/api/v1/tea", {"plant": "../plants/x"}, "plant"),
    ("/api/v1/uq", {"study": {"cascade": "/etc/passwd"}}, "study.cascade"),
    ("/api/v1/uq", {"study": {"plant": "elsewhere.toml"}}, "study.plant"),
    ("/api/v1/sx/design", {"cascade": {"model": "constant_beta"}}, None),
])
def test_bad_science_requests_are_422(ops, route, body, field):
    site, _, _ = ops
    r = site.http.post(route, json=body, headers=site.auth("engineer"))
    assert r.status_code == 422, r.text
    if field is not None:
        assert r.json()["detail"][0]["field"] == field, r.json()


def test_jobs_run_on_a_dask_scheduler_when_the_server_is_given_one(dask_cluster, tmp_path, capsys):  # noqa: F811
    """``magcycle serve --scheduler tcp://...``: a plant run and an uncertainty study go to the Dask cluster
    (scheduler and two workers, real processes on loopback) and answer as on the local pool."""
    url = "sqlite:///" + str(tmp_path / "dask.db")
    make_site(url, tmp_path)
    capsys.readouterr()
    site = Site(url, scheduler=dask_cluster)
    try:
        headers = site.auth("engineer")
        run = site.http.post("/api/v1/runs", json={"plant": "reference"}, headers=headers).json()["job"]
        uq = site.http.post("/api/v1/uq", json=_toml(STUDY), headers=headers).json()["job"]
        run, uq = (site.app.state.jobs.wait(j, 600) for j in (run, uq))
        assert run["state"] == "done" and uq["state"] == "done", (run, uq)
        assert site.app.state.jobs.plan[0] == "dask"
        cli = cli_json(capsys, "run", "reference", "--json", "--out", str(tmp_path / "r"))
        assert _without(run["result"]["results"], "solve_seconds") == _without(cli, "solve_seconds")
        assert uq["result"]["monte_carlo"]["executor"] == "dask" and uq["progress"]["done"] == 6
    finally:
        site.app.state.jobs.close()
