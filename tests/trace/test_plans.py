"""Planned campaigns in the trace database (``magcycle plan campaigns --db URL --record``, ``magcycle trace
planned``), on SQLite and on a real PostgreSQL server.

Oracles: the plan.json the same command wrote (the rows and the ledger entry must say what it says, with the
plan's id prefixed), the lots' masses before and after (a planned campaign consumes nothing), the database
read whole before and after a refused command (nothing written), ``trace audit`` (the replay of the ledger
against the table, which an edit, an insert or a delete by SQL must fail).
"""

from __future__ import annotations

import hashlib
import json

import pytest
import rfc8785
from sqlalchemy import create_engine, text

from magcycle.errors import InputError
from magcycle.plan import campaigns as campaigns_module
from magcycle.trace.db import open_engine, transaction
from magcycle.trace.plans import planned_campaigns, record_plan

from .helpers import run, snapshot

YIELDS = {"swarf": {"NdPr oxide": 0.3, "Dy2O3": 0.02, "Tb4O7": 0.003},
          "ev": {"NdPr oxide": 0.25, "Dy2O3": 0.04, "Tb4O7": 0.006}}
PLAN = """start = 2026-03-02
weeks = 6
feed_t_per_day = 0.5
initial_family = "swarf"
allow_shortfall = true
[[orders]]
id = "NDPR-1"
product = "NdPr oxide"
mass = "{ndpr} kg"
due = 2026-03-16
price_usd_per_kg = 60
[[orders]]
id = "DY-1"
product = "Dy2O3"
mass = "40 kg"
due = 2026-03-30
price_usd_per_kg = 300
min_post_consumer_share = 0.5
"""


@pytest.fixture
def planning(site, monkeypatch):
    """The site's two lots (KR swarf 2 t, GB EV 1.5 t) planned with fixed yields per family (no plant run)."""
    monkeypatch.setattr(campaigns_module, "lot_yields", lambda doc: (
        {L.id: dict(YIELDS[L.family]) for L in doc.lots}, 100.0, ["NdPr oxide", "Dy2O3", "Tb4O7"]))
    return site


def plan_file(tmp, ndpr: float = 300.0) -> str:
    path = tmp / f"plan-{ndpr:g}.toml"
    path.write_text(PLAN.format(ndpr=ndpr), encoding="utf-8")
    return str(path)


def lots_left(capsys, url: str) -> dict:
    out = {}
    for lot in ("KR-SW-0001", "GB-EV-0002"):
        status, text_, err = run(capsys, "trace", "genealogy", lot, "--db", url, "--json")
        assert (status, err) == (0, ""), err
        out[lot] = json.loads(text_)["remaining_kg"]
    return out


def record(capsys, planning, ndpr: float = 300.0, out="out") -> dict:
    tmp, url = planning["tmp"], planning["url"]
    status, text_, err = run(capsys, "plan", "campaigns", plan_file(tmp, ndpr), "--db", url, "--record", "--json",
                             "--out", str(tmp / out))
    assert (status, err) == (0, ""), err
    plan = json.loads(text_)
    assert plan == json.loads((tmp / out / "plan.json").read_text())
    return plan


def test_a_recorded_plan_is_in_the_ledger_and_the_table_and_consumes_nothing(planning, capsys):
    url = planning["url"]
    before = lots_left(capsys, url)
    assert before == {"KR-SW-0001": 2000.0, "GB-EV-0002": 1500.0}
    plan = record(capsys, planning)
    pid = plan["recorded_as"]
    assert pid.startswith("PLAN-") and plan["campaigns"]
    # the Dy order's post-consumer half needs the EV lot: the plan has an ev campaign
    assert "ev" in {c["family"] for c in plan["campaigns"]}

    status, text_, err = run(capsys, "trace", "planned", "--db", url, "--json")
    assert (status, err) == (0, "")
    got = json.loads(text_)
    assert got["plan_id"] == pid
    want = [{"id": f"{pid}/{c['id']}", "family": c["family"], "custody": c["custody"], "start": c["start"],
             "end": c["end"], "feed_kg": c["feed_kg"], "lots": c["lots"], "products_kg": c["products_kg"]}
            for c in plan["campaigns"]]
    assert got["campaigns"] == want

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            (body,) = conn.execute(text("SELECT body FROM ledger WHERE kind = 'plan'")).one()
            rows = conn.execute(text('SELECT id, plan_id, family, custody, start, "end" FROM planned_campaigns '
                                     "ORDER BY id")).all()
    finally:
        engine.dispose()
    event = json.loads(body)["event"]
    assert event["plan_id"] == pid and event["campaigns"] == want and event["status"] == plan["status"]
    # the digest, recomputed from the file with the rfc8785 package (not the project's encoder)
    on_disk = json.loads((planning["tmp"] / "out" / "plan.json").read_text())
    del on_disk["recorded_as"]
    assert event["plan_sha256"] == hashlib.sha256(rfc8785.dumps(on_disk)).hexdigest()
    assert event["margin_usd"] == plan["margin_usd"] and event["actor"]
    assert [tuple(r) for r in rows] == [(c["id"], pid, c["family"], c["custody"], c["start"], c["end"])
                                        for c in want]
    assert lots_left(capsys, url) == before  # planned, not consumed
    status, out, err = run(capsys, "trace", "audit", "--db", url)
    assert (status, err) == (0, "") and out.startswith("ledger intact"), out

    text_out = run(capsys, "trace", "planned", "--db", url)[1]
    assert text_out.startswith(f"plan {pid}: {len(want)} planned campaign(s)\n")
    for c in want:
        assert c["id"] in text_out


def test_the_newest_plan_is_current_and_an_older_one_is_read_by_its_id(planning, capsys):
    url = planning["url"]
    first = record(capsys, planning, 300.0, "a")["recorded_as"]
    second = record(capsys, planning, 100.0, "b")["recorded_as"]
    assert int(second.split("-")[1]) > int(first.split("-")[1])
    assert json.loads(run(capsys, "trace", "planned", "--db", url, "--json")[1])["plan_id"] == second
    older = json.loads(run(capsys, "trace", "planned", "--db", url, "--plan", first, "--json")[1])
    assert older["plan_id"] == first and all(c["id"].startswith(first + "/") for c in older["campaigns"])
    assert run(capsys, "trace", "audit", "--db", url)[0] == 0


def test_no_plan_recorded_yet(site, capsys):
    status, out, err = run(capsys, "trace", "planned", "--db", site["url"], "--json")
    assert (status, err) == (0, "") and json.loads(out) == {"plan_id": None, "campaigns": []}


@pytest.mark.parametrize("plan_id", ["PLAN-999999", "PLAN-0", "<script>", "'; DROP TABLE lots; --"])
def test_an_unknown_plan_id_is_one_line_exit_2(site, capsys, plan_id):
    before = snapshot(site["url"])
    status, out, err = run(capsys, "trace", "planned", "--db", site["url"], "--plan", plan_id)
    assert status == 2 and out == "" and len(err.splitlines()) == 1 and "plan" in err and "Traceback" not in err
    assert snapshot(site["url"]) == before


def test_record_needs_db_and_writes_nothing_without_it(planning, capsys):
    tmp = planning["tmp"]
    before = snapshot(planning["url"])
    status, out, err = run(capsys, "plan", "campaigns", plan_file(tmp), "--record", "--out", str(tmp / "x"))
    assert status == 2 and out == "" and err.count("\n") == 1 and "--record" in err and "--db" in err
    assert not (tmp / "x").exists() and snapshot(planning["url"]) == before


def _plan_using(kg: float, lot: str = "GB-EV-0002") -> dict:
    return {"status": "optimal", "margin_usd": 1.0, "bound": 1.0, "gap": 0.0,
            "campaigns": [{"id": "P-001", "family": "ev", "custody": "mass_balance", "start": "2026-03-02",
                           "end": "2026-03-05", "feed_kg": kg, "lots": [{"lot": lot, "mass_kg": kg}],
                           "products_kg": {"NdPr oxide": 0.25 * kg}}]}


@pytest.mark.parametrize("plan, why", [
    (_plan_using(1500.1), "has 1500 kg left, the plan uses 1500.1 kg"),  # consumed since the plan read it
    (_plan_using(10.0, "NO-SUCH-LOT"), "NO-SUCH-LOT is not a feed lot of this database"),
])
def test_a_plan_the_lots_no_longer_allow_is_refused_and_nothing_written(site, plan, why):
    before = snapshot(site["url"])
    engine = open_engine(site["url"])
    try:
        with pytest.raises(InputError, match="^lots: ") as exc, transaction(engine) as conn:
            record_plan(conn, plan, "tester")
        assert why in str(exc.value)
        with transaction(engine, write=False) as conn:
            assert planned_campaigns(conn) == {"plan_id": None, "campaigns": []}
    finally:
        engine.dispose()
    assert snapshot(site["url"]) == before
    # exactly the lot's mass left is accepted (the boundary)
    engine = open_engine(site["url"])
    try:
        with transaction(engine) as conn:
            got = record_plan(conn, _plan_using(1500.0), "tester")
        assert got["campaigns"][0]["id"] == f"{got['plan_id']}/P-001"
    finally:
        engine.dispose()


@pytest.mark.parametrize("sql", [
    "UPDATE planned_campaigns SET family = 'wind'",
    "UPDATE planned_campaigns SET doc = replace(doc, 'mass_balance', 'segregated')",
    "DELETE FROM planned_campaigns",
    "INSERT INTO planned_campaigns (id, plan_id, family, custody, start, \"end\", doc, seq) "
    "VALUES ('PLAN-1/P-999', 'PLAN-1', 'ev', 'mass_balance', '2026-03-02', '2026-03-03', '{}', 1)",
])
def test_planned_campaigns_edited_by_sql_fail_the_audit(planning, capsys, sql):
    url = planning["url"]
    record(capsys, planning)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            assert conn.execute(text(sql)).rowcount >= 1
    finally:
        engine.dispose()
    status, out, err = run(capsys, "trace", "audit", "--db", url)
    assert status == 4 and len(err.splitlines()) == 1 and "planned_campaigns" in err, (status, out, err)
