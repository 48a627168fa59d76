"""``magcycle trace`` from the command line, on SQLite and on a real PostgreSQL server: the whole path
(init, receive, campaign, genealogy, keys, certify, verify, revoke, checkpoint, audit), what the
certificate carries, and bad input (one line, exit 2, the database exactly as it was).

Oracles: the catalogue's nominal assays and the masses in the files, by hand (the content shares);
the database itself (every table's rows before and after a refused command); the key file (its
private bytes searched for in every table and every output).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from magcycle.feed.catalogue import CATALOGUE

from .helpers import campaign, receipt, run, snapshot


def test_whole_path_and_certificate_content(site, capsys):
    tmp = site["tmp"]
    status, out, err = run(capsys, "trace", "campaign", campaign(tmp, "C-2026-01", {"KR-SW-0001": "2.0 t",
                                                                                    "GB-EV-0002": "1.5 t"}), "--json")
    assert (status, err) == (0, "")
    doc = json.loads(out)
    assert doc["campaign"] == "C-2026-01"
    lots = {p["product"]: p for p in doc["product_lots"]}
    assert set(lots) == {"NdPr oxide", "Dy2O3", "Tb4O7"}
    assert all(set(p) >= {"id", "product", "net_mass_kg"} and p["net_mass_kg"] > 0 for p in lots.values())

    status, out, err = run(capsys, "trace", "certify", lots["NdPr oxide"]["id"], "--json")
    assert (status, err) == (0, "")
    cred = json.loads(out)
    assert cred == json.loads((tmp / f"{lots['NdPr oxide']['id']}.vc.json").read_text())
    assert "VerifiableCredential" in cred["type"] and cred["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert cred["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    s = cred["credentialSubject"]
    assert s["lot_id"] == lots["NdPr oxide"]["id"] and s["net_mass_kg"] == lots["NdPr oxide"]["net_mass_kg"]
    assert s["custody_model"] == "mass_balance"
    assert s["dfars_2027_eligible"] is False  # mass balance never makes a lot eligible
    # the post-consumer share of each element, by hand: 1.5 t of EV (post) against 2.0 t of swarf (pre)
    for el in ("Nd", "Pr", "Dy", "Tb"):
        ev, sw = 1500 * CATALOGUE["ev"].nominal[el], 2000 * CATALOGUE["swarf"].nominal[el]
        c = s["content"][el]
        assert c["post_consumer_share"] == pytest.approx(ev / (ev + sw), rel=1e-12)
        assert c["pre_consumer_share"] == pytest.approx(sw / (ev + sw), rel=1e-12)
        assert c["primary_share"] == pytest.approx(0.0, abs=1e-12)
    assert {o["lot_id"]: o["mined"] for o in s["origin"]} == {"KR-SW-0001": "CN", "GB-EV-0002": "AU"}
    assert s["pcf_kg_co2e_per_kg"] > 0 and s["conformance"]["pass"] is True
    assert s["ledger_checkpoint"]["tree_size"] >= 6 and len(s["ledger_checkpoint"]["root"]) == 64
    coa = (tmp / f"{lots['NdPr oxide']['id']}.coa.html").read_text()
    assert "EN 10204" in coa and s["lot_id"] in coa

    cert = str(tmp / f"{lots['NdPr oxide']['id']}.vc.json")
    assert run(capsys, "trace", "verify", cert)[0] == 0
    assert run(capsys, "trace", "verify", cert, "--db", site["url"])[0] == 0
    # pinned to the site's key it verifies; pinned to another key it does not
    kid = cred["proof"]["verificationMethod"]
    assert run(capsys, "trace", "verify", cert, "--key", kid)[0] == 0
    from magcycle.trace.vc import new_private_key, public_key_bytes, did_key
    other = did_key(public_key_bytes(new_private_key()))
    status, out, err = run(capsys, "trace", "verify", cert, "--key", other)
    assert status == 4 and out == "" and err.count("\n") == 1 and "verification failed" in err

    # genealogy both ways
    status, out, _ = run(capsys, "trace", "genealogy", lots["NdPr oxide"]["id"], "--json")
    back = json.loads(out)["backward"]
    assert {b["lot"]: b["consumed_kg"] for b in back} == {"KR-SW-0001": 2000.0, "GB-EV-0002": 1500.0}
    status, out, _ = run(capsys, "trace", "genealogy", "GB-EV-0002", "--json")
    forward = json.loads(out)["forward"]
    assert {p["lot"] for c in forward for p in c["product_lots"]} == {p["id"] for p in lots.values()}

    # revoke: the status list marks it, the database says so, the claim is booked back
    status, _, _ = run(capsys, "trace", "revoke", cred["id"], "--reason", "re-assay")
    assert status == 0
    status, _, err = run(capsys, "trace", "verify", cert, "--status-list", "status-list.json")
    assert status == 4 and "revoked" in err
    assert run(capsys, "trace", "verify", cert, "--db", site["url"])[0] == 4
    status, out, _ = run(capsys, "trace", "accounts", "--json")
    assert all(a["debits_kg"] == pytest.approx(0.0, abs=1e-9) or a["balance_kg"] >= 0 for a in json.loads(out))
    # a new certificate after the revocation supersedes it
    status, out, _ = run(capsys, "trace", "certify", lots["NdPr oxide"]["id"], "--json", "--out", "again.json")
    assert status == 0 and json.loads(out)["credentialSubject"]["supersedes"] == cred["id"]

    # checkpoint, then audit with it
    status, out, _ = run(capsys, "trace", "checkpoint", "--out", "cp.json")
    assert status == 0
    status, out, err = run(capsys, "trace", "audit", "--checkpoint", "cp.json", "--json")
    assert (status, err) == (0, "") and json.loads(out)["entries"] == json.loads(Path("cp.json").read_text())["tree_size"]


def test_segregated_clean_campaign_is_dfars_eligible(site, capsys):
    tmp = site["tmp"]
    assert run(capsys, "trace", "receive", receipt(tmp, id="JP-EV-0003", category="ev", consumer="post",
                                                    generated="JP"))[0] == 0
    status, out, _ = run(capsys, "trace", "campaign", campaign(tmp, "C-SEG", {"GB-EV-0002": "1.5 t",
                                                                              "JP-EV-0003": "1.0 t"},
                                                               custody="segregated"), "--json")
    assert status == 0
    doc = json.loads(out)
    assert doc["dfars_2027_eligible"]["value"] is True
    nd = next(p for p in doc["product_lots"] if p["product"] == "NdPr oxide")
    assert nd["content"]["Nd"]["post_consumer_share"] == 1.0 and nd["content"]["Nd"]["pre_consumer_share"] == 0.0


def test_private_key_never_in_database_or_output(site, capsys):
    tmp = site["tmp"]
    from cryptography.hazmat.primitives import serialization

    from magcycle.trace.vc import b58encode

    pem = next((tmp / "keys").glob("*.pem"))
    key = serialization.load_pem_private_key(pem.read_bytes(), None)
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    forms = [seed.hex(), base64.b64encode(seed).decode().rstrip("="), base64.urlsafe_b64encode(seed).decode().rstrip("="),
             b58encode(seed), b58encode(b"\x80\x26" + seed), pem.read_text().splitlines()[1]]
    outputs = []
    for argv in (["trace", "campaign", campaign(tmp, "C-K", {"KR-SW-0001": "1 t"}), "--json"],
                 ["trace", "certify", "C-K-NdPr-oxide", "--json"], ["trace", "checkpoint", "--out", "cp.json"],
                 ["trace", "keys", "rotate"], ["trace", "keys", "--json"], ["trace", "audit", "--json"]):
        status, out, err = run(capsys, *argv)
        assert status == 0, err
        outputs += [out, err]
    written = [p.read_text(errors="replace") for p in tmp.iterdir() if p.is_file() and p.suffix in (".json", ".html")]
    dump = json.dumps(snapshot(site["url"]))
    for form in forms:
        assert all(form not in x for x in [dump, *outputs, *written])
    assert oct(pem.stat().st_mode & 0o777) == "0o600"


# ------------------------------------------------------------ bad input: one line, exit 2, nothing written
BAD_RECEIPTS = {
    "duplicate id": (dict(id="KR-SW-0001"), "id"),
    "zero mass": (dict(id="X-1", mass="0 t"), "mass"),
    "negative mass": (dict(id="X-2", mass="-3 kg"), "mass"),
    "unknown country": (dict(id="X-3", generated="XX"), "origin.generated"),
    "country name, not code": (dict(id="X-4", mined="China"), "origin.mined"),
    "bad date": (dict(id="X-5", received='"2026-02-30"'), "received"),  # a string: TOML itself refuses the bare date
    "unknown class": (dict(id="X-6", category="toaster"), "category"),
}


@pytest.mark.parametrize("case", sorted(BAD_RECEIPTS))
def test_bad_receipt_is_one_line_and_writes_nothing(site, capsys, case):
    kw, field = BAD_RECEIPTS[case]
    before = snapshot(site["url"])
    status, out, err = run(capsys, "trace", "receive", receipt(site["tmp"], **kw))
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"magcycle: error: {field}")
    assert snapshot(site["url"]) == before


def _bad_campaigns(tmp: Path) -> dict:
    return {
        "unknown lot": (campaign(tmp, "C-B1", {"NO-SUCH-LOT": "1 t"}), "lots.NO-SUCH-LOT"),
        "beyond what is left": (campaign(tmp, "C-B2", {"GB-EV-0002": "1.6 t"}), "lots.GB-EV-0002"),
        "zero mass": (campaign(tmp, "C-B3", {"GB-EV-0002": "0 kg"}), "lots.GB-EV-0002"),
        "ends before it begins": (campaign(tmp, "C-B4", {"GB-EV-0002": "1 t"}, start="2026-03-20", end="2026-03-10"),
                                  "end"),
        "segregated, mixed classes": (campaign(tmp, "C-B5", {"KR-SW-0001": "1 t", "GB-EV-0002": "1 t"},
                                               custody="segregated"), "lots.GB-EV-0002"),
        "lot received after the end": (campaign(tmp, "C-B6", {"GB-EV-0002": "1 t"}, start="2026-03-01",
                                                end="2026-03-03"), "lots.GB-EV-0002"),
    }


def test_bad_campaigns_are_one_line_and_write_nothing(site, capsys):
    before = snapshot(site["url"])
    for case, (path, field) in _bad_campaigns(site["tmp"]).items():
        status, out, err = run(capsys, "trace", "campaign", path)
        assert (status, out, err.count("\n")) == (2, "", 1), case
        assert err.startswith(f"magcycle: error: {field}:"), (case, err)
        assert snapshot(site["url"]) == before, case


def test_other_bad_input(site, capsys):
    before = snapshot(site["url"])
    cases = [(["trace", "genealogy", "NOPE"], "lot"), (["trace", "certify", "KR-SW-0001"], "lot"),
             (["trace", "certify", "NOPE"], "lot"), (["trace", "revoke", "urn:uuid:nope"], "certificate"),
             (["trace", "keys", "create"], "keys"), (["trace", "init", "--site", "Other"], "--site"),
             (["trace", "init", "--country", "ZZ"], "--country")]
    for argv, field in cases:
        status, out, err = run(capsys, *argv)
        assert (status, out, err.count("\n")) == (2, "", 1), argv
        assert err.startswith(f"magcycle: error: {field}"), (argv, err)
    assert snapshot(site["url"]) == before


@pytest.mark.parametrize("url", ["postgresql+psycopg://nobody@127.0.0.1:1/none", "sqlite:////no/such/folder/x.db",
                                 "not a url", "mysql://x@127.0.0.1:1/none"])
def test_unreachable_database_is_one_line(tmp_path, monkeypatch, capsys, url):
    monkeypatch.chdir(tmp_path)
    for argv in (["trace", "init", "--db", url], ["trace", "audit", "--db", url], ["trace", "accounts", "--db", url]):
        status, out, err = run(capsys, *argv)
        assert (status, out, err.count("\n")) == (2, "", 1), (argv, err)
        assert err.startswith("magcycle: error: --db:")
    assert list(tmp_path.iterdir()) == []


def test_missing_sqlite_file_is_not_created(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAGCYCLE_DATABASE_URL", raising=False)
    status, _, err = run(capsys, "trace", "accounts")
    assert status == 2 and "trace init" in err
    assert not (tmp_path / "magcycle.db").exists()
    assert run(capsys, "trace", "init")[0] == 0 and (tmp_path / "magcycle.db").is_file()  # the documented default


def test_verify_refuses_malformed_certificates(tmp_path, capsys):
    for i, text_ in enumerate(["", "[]", "{", '{"id": 1}', json.dumps({"proof": {"type": "DataIntegrityProof"}})]):
        p = tmp_path / f"c{i}.json"
        p.write_text(text_)
        status, out, err = run(capsys, "trace", "verify", str(p))
        assert status in (2, 4) and out == "" and err.count("\n") == 1, (text_, err)


def test_bad_files_and_options_of_the_ledger_commands(site, capsys):
    tmp = site["tmp"]
    (tmp / "junk.json").write_text("{not json")
    (tmp / "list.json").write_text("[1, 2]")
    run(capsys, "trace", "campaign", campaign(tmp, "C-F", {"GB-EV-0002": "1 t"}))
    assert run(capsys, "trace", "certify", "C-F-NdPr-oxide", "--out", "ok.json")[0] == 0
    before = snapshot(site["url"])
    cases = [(["trace", "audit", "--checkpoint", "junk.json"], "--checkpoint"),
             (["trace", "audit", "--checkpoint", "list.json"], "--checkpoint"),
             (["trace", "audit", "--checkpoint", "missing.json"], "--checkpoint"),
             (["trace", "checkpoint", "--out", str(tmp / "no" / "cp.json")], "--out"),
             (["trace", "checkpoint", "--out", str(tmp)], "--out"),
             (["trace", "certify", "C-F-Dy2O3", "--out", str(tmp / "no" / "c.json")], "--out"),
             (["trace", "verify", "ok.json", "--key", "did:key:zNOTAKEY"], "--key"),
             (["trace", "verify", "ok.json", "--key", str(tmp / "junk.json")], "--key"),
             (["trace", "verify", "ok.json", "--status-list", "junk.json"], "--status-list"),
             (["trace", "verify", "missing.json"], "certificate"),
             (["trace", "keys", "rotate", "--keys", str(tmp / "junk.json")], "--keys"),
             (["trace", "keys", "destroy"], "action")]
    for argv, field in cases:
        status, out, err = run(capsys, *argv)
        assert (status, out, err.count("\n")) == (2, "", 1), (argv, err)
        assert err.startswith(f"magcycle: error: {field}"), (argv, err)
    assert snapshot(site["url"]) == before
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith(".")) == []  # no staged file left behind


def test_several_receipts_are_one_transaction(site, capsys):
    tmp = site["tmp"]
    good = [receipt(tmp, id=f"B-{i}", category="ev", consumer="post") for i in range(3)]
    bad = receipt(tmp, id="B-bad", mass="0 t")
    before = snapshot(site["url"])
    for files, named in (([good[0], bad, good[2]], "B-bad.toml"), ([good[0], good[1], good[0]], "B-0.toml")):
        status, out, err = run(capsys, "trace", "receive", *files)
        assert (status, out, err.count("\n")) == (2, "", 1) and named in err, err
        assert snapshot(site["url"]) == before  # none recorded
    status, out, err = run(capsys, "trace", "receive", *good, "--json")
    assert status == 0 and [d["id"] for d in json.loads(out)] == ["B-0", "B-1", "B-2"]
    assert run(capsys, "trace", "audit")[0] == 0
