"""``magcycle trace`` against what a careless or hostile user can do: outputs aimed at the database or the
keys, a certificate page that cannot be written, edited settings and keys, forged or misdirected documents,
absurd numbers. Each case is one line, the right exit status, and the database as it was (or, for a
tampered database, the audit naming what was changed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from magcycle.cli import main

from .helpers import campaign, receipt, run, snapshot


def _sql(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for s in statements:
                conn.execute(text(s))
    finally:
        engine.dispose()


@pytest.fixture
def certified(site, capsys):
    tmp = site["tmp"]
    assert run(capsys, "trace", "campaign", campaign(tmp, "C-H", {"GB-EV-0002": "1 t"}))[0] == 0
    assert run(capsys, "trace", "certify", "C-H-NdPr-oxide", "--out", "nd.json")[0] == 0
    return site | {"cert": tmp / "nd.json"}


def test_outputs_never_replace_the_database_or_a_key(certified, capsys):
    tmp, url = certified["tmp"], certified["url"]
    key = next((tmp / "keys").glob("*.pem"))
    cases = [["trace", "certify", "C-H-Dy2O3", "--out", str(key)],
             ["trace", "checkpoint", "--out", str(key)],
             ["trace", "checkpoint", "--out", str(tmp / "keys" / "new.json")]]
    if url.startswith("sqlite"):
        db = url.removeprefix("sqlite:///")
        cases += [["trace", "certify", "C-H-Dy2O3", "--out", db], ["trace", "checkpoint", "--out", db + "-wal"]]
    before, key_bytes = snapshot(url), key.read_bytes()
    for argv in cases:
        status, out, err = run(capsys, *argv)
        assert (status, out, err.count("\n")) == (2, "", 1), (argv, err)
        assert "database or key folder" in err
    assert snapshot(url) == before and key.read_bytes() == key_bytes
    cert = json.loads(certified["cert"].read_text())
    status, _, err = run(capsys, "trace", "revoke", cert["id"], "--status-list", str(key))
    assert status == 2 and snapshot(url) == before  # the revocation was not recorded either


def test_a_certificate_page_that_cannot_be_written_records_nothing(certified, capsys):
    (certified["tmp"] / "dy.coa.html").mkdir()
    before = snapshot(certified["url"])
    status, out, err = run(capsys, "trace", "certify", "C-H-Dy2O3", "--out", "dy.json")
    assert (status, out, err.count("\n")) == (2, "", 1) and "dy.coa.html" in err
    assert snapshot(certified["url"]) == before and not (certified["tmp"] / "dy.json").exists()
    assert run(capsys, "trace", "certify", "C-H-Dy2O3", "--out", "dy2.json")[0] == 0  # nothing was claimed


@pytest.mark.parametrize("statement,named", [
    ("UPDATE settings SET value = 'US' WHERE key = 'site_country'", "table settings, row site_country"),
    ("UPDATE settings SET value = 'Elsewhere' WHERE key = 'site_id'", "table settings, row site_id"),
    ("UPDATE signing_keys SET retired_at = '2026-01-01T00:00:00Z' WHERE retired_at IS NULL", "table signing_keys"),
    ("UPDATE ledger_frontier SET size = size + 1", "table ledger_frontier"),
])
def test_edited_settings_keys_and_frontier_fail_the_audit(certified, capsys, statement, named):
    assert run(capsys, "trace", "audit")[0] == 0
    _sql(certified["url"], statement)
    status, out, err = run(capsys, "trace", "audit")
    assert (status, out, err.count("\n")) == (4, "", 1) and named in err, err


def _signed_copy(doc: dict, **changes) -> dict:
    """``doc`` changed and signed again by a key of nobody's."""
    from magcycle.trace.vc import new_private_key, sign

    body = {k: v for k, v in doc.items() if k != "proof"} | changes
    return sign(body, new_private_key(), created=doc["proof"]["created"])


def test_forged_and_misdirected_documents_fail_verification(certified, capsys):
    tmp, cert = certified["tmp"], certified["cert"]
    doc = json.loads(cert.read_text())
    kid = doc["proof"]["verificationMethod"]
    text_ = cert.read_text()
    # a repeated key: one parser would read 99999, another the signed value
    (tmp / "dup.json").write_text(text_.replace('"lot_id":', '"net_mass_kg": 99999.0, "lot_id":', 1))
    # re-signed by another key: valid offline against its own key, never against the site's
    forged = _signed_copy(doc, credentialSubject=doc["credentialSubject"] | {"net_mass_kg": 99999.0})
    (tmp / "forged.json").write_text(json.dumps(forged))
    # a crafted evidence id and a list-shaped subject, each signed
    odd = dict(doc["credentialSubject"], evidence=[{"id": "urn:x:ledger:²", "hashDigest": "0" * 64}])
    (tmp / "odd.json").write_text(json.dumps(_signed_copy(doc, credentialSubject=odd)))
    (tmp / "list.json").write_text(json.dumps(_signed_copy(doc, credentialSubject=[1, 2])))
    assert run(capsys, "trace", "revoke", doc["id"], "--status-list", "sl.json")[0] == 0
    assert run(capsys, "trace", "checkpoint", "--out", "cp.json")[0] == 0
    # the status list with the certificate's bit cleared, re-signed by another key
    sl = json.loads((tmp / "sl.json").read_text())
    from magcycle.trace.vc import encode_status_list
    clean = _signed_copy(sl, credentialSubject=sl["credentialSubject"] | {"encodedList": encode_status_list([])})
    (tmp / "clean-sl.json").write_text(json.dumps(clean))
    cases = [["dup.json"], ["forged.json", "--key", kid], ["forged.json", "--db", certified["url"]],
             ["odd.json", "--db", certified["url"]], ["list.json"], ["sl.json", "--key", kid], ["cp.json", "--key", kid],
             [str(cert), "--status-list", "clean-sl.json"], [str(cert), "--status-list", "sl.json"]]
    for argv in cases:
        status, out, err = run(capsys, "trace", "verify", *argv)
        assert (status, out, err.count("\n")) == (4, "", 1), (argv, err)
        assert err.startswith("magcycle: verification failed:"), (argv, err)


def test_absurd_numbers_and_text_are_one_line(site, capsys):
    tmp = site["tmp"]
    before = snapshot(site["url"])
    huge = receipt(tmp, id="H-1", mass="1" + "0" * 400 + " kg")
    Path(huge).write_text(Path(huge).read_text().replace('mass = "1' + "0" * 400 + ' kg"', "mass = 1" + "0" * 400))
    cases = [(huge, "mass"), (receipt(tmp, id="H-2", mass="1e308 t"), "mass"),
             (receipt(tmp, id="H-3", supplier="A\\u0000B"), "supplier"),
             (receipt(tmp, id="H-4", supplier="A\\nB"), "supplier")]
    for path, field in cases:
        status, out, err = run(capsys, "trace", "receive", path)
        assert (status, out, err.count("\n")) == (2, "", 1), (path, err)
        assert err.startswith(f"magcycle: error: {field}"), err
    assert snapshot(site["url"]) == before


def test_a_campaign_audits_on_a_database_that_sorts_by_locale(postgres_server, tmp_path, monkeypatch, capsys):
    """PostgreSQL with an ICU collation sorts 'a-1' and 'B-2' the other way round from byte order: the audit
    does not depend on the database's collation."""
    import uuid

    import sqlalchemy as sa

    name = f"t_icu_{uuid.uuid4().hex}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
                             "LOCALE 'C'"))
    url = sa.make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    try:
        monkeypatch.chdir(tmp_path)
        with create_engine(url).connect() as conn:  # the oracle: this database orders the two ids by locale
            order = [r[0] for r in conn.execute(sa.text("SELECT x FROM (VALUES ('a-1'), ('B-2')) v(x) ORDER BY x"))]
        assert order == ["a-1", "B-2"] and sorted(order) == ["B-2", "a-1"]
        assert main(["trace", "init", "--db", url]) == 0
        for lot in ("a-1", "B-2"):
            assert main(["trace", "receive", receipt(tmp_path, id=lot, category="ev", consumer="post"),
                         "--db", url]) == 0
        assert main(["trace", "campaign", campaign(tmp_path, "C-ICU", {"a-1": "1 t", "B-2": "1 t"}), "--db", url]) == 0
        capsys.readouterr()
        status, out, err = run(capsys, "trace", "audit", "--db", url)
        assert (status, err) == (0, ""), err
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _values():
    from hypothesis import strategies as st

    return st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(), st.text(max_size=8),
                     st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=4), st.text(max_size=4),
                                                                         max_size=2))


def test_random_malformed_receipts_and_campaigns_from_the_command_line(tmp_path, monkeypatch, capsys):
    """Any document: exit 0 (then one row more) or one line, exit 2, the database unchanged; never a traceback."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert main(["trace", "init", "--db", url]) == 0
    good_receipt = {"id": "R", "supplier": "S", "category": "ev", "consumer": "post", "mass": "1 t",
                    "received": "2026-03-02", "feed": "ev"}
    good_campaign = {"id": "C", "start": "2026-03-10", "end": "2026-03-11", "custody": "segregated",
                     "lots": {"R": "1 t"}}
    counter = iter(range(10**6))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(["receive", "campaign"]), st.sampled_from(sorted(good_receipt) + ["lots", "custody"]),
           _values())
    def check(command, key, value):
        doc = dict(good_receipt if command == "receive" else good_campaign)
        doc[key] = value
        n = next(counter)
        doc["id"] = doc["id"] + str(n) if key != "id" else value
        path = tmp_path / f"doc{n}.json"
        try:
            path.write_text(json.dumps(doc, allow_nan=True))
        except (TypeError, ValueError):
            return
        capsys.readouterr()
        before = snapshot(url)
        status = main(["trace", command, str(path), "--db", url])
        out, err = capsys.readouterr()
        if status == 0:
            return
        assert status in (2, 3) or (command == "campaign" and status == 1), (status, err)
        if status == 2:
            assert out == "" and err.count("\n") == 1 and err.startswith("magcycle: error: "), err
            assert snapshot(url) == before

    check()
