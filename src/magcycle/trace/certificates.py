"""Product-lot certificates: W3C Verifiable Credentials 2.0 signed with Ed25519 (Data Integrity, eddsa-jcs-2022),
their claims on the element accounts, revocation through a Bitstring Status List, and verification.

Issuing (:func:`certify`)
    A product lot is certified once while its certificate stands. The
    certificate claims the lot's recycled content from the element accounts
    (:mod:`magcycle.trace.accounts`: pre- and post-consumer masses, and the
    DFARS-eligible mass of an eligible lot); a claim beyond an account's
    credit is refused. Two ledger entries are appended: the claim, then the
    certificate (with the SHA-256 of the credential's RFC 8785 JSON). The
    credential carries the hashes of the ledger entries behind it (the feed
    lots' receipts, the campaign, the product lot, the claim) and the
    ledger's checkpoint (size and RFC 6962 Merkle root) up to the claim.

Credential subject (after ../shared/design/traceability-and-planning.md, section 6)
    lot_id, product, product_spec_id, net_mass_kg, production_site,
    campaign_ids, production_period, assays, spec_limits, conformance,
    content {Nd, Pr, Dy, Tb: {mass_kg, pre_consumer_share,
    post_consumer_share, primary_share}}, custody_model, origin (the feed
    lots with their stage countries), dfars_2027_eligible (true, false or
    "unknown") with dfars_basis, pcf_kg_co2e_per_kg, ledger_checkpoint,
    evidence, supersedes; then the proof.

Revocation (:func:`revoke`)
    Sets the certificate's bit in the site's status list (BitstringStatusList,
    purpose revocation), books the claim back (``reversal`` moves) and
    appends a revocation entry. :func:`status_list_credential` is the signed
    list to publish.

Verification (:func:`verify_certificate`)
    Offline: the eddsa-jcs-2022 proof against the key named in the proof, or
    a key the verifier pins. With the site's database: the signing key is one
    of the site's, the evidence entries are in the ledger with those hashes,
    the checkpoint's root is the ledger's, the certificate was issued there
    and is not revoked. With a status-list credential: its own proof and the
    certificate's bit.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from magcycle.documents import clip
from magcycle.errors import InputError
from magcycle.trace import db
from magcycle.trace.accounts import insert_moves, plan_moves
from magcycle.trace.campaigns import campaign
from magcycle.trace.ledger import canonical_json, merkle_root
from magcycle.trace.lots import lot
from magcycle.trace.store import now, record, root, site

__all__ = ["CONTEXT", "CERTIFIED_ELEMENTS", "certificate", "list_certificates", "certify", "revoke", "status_list_credential", "verify_certificate",
           "ledger_root", "status_list_id", "claim_moves"]

CONTEXT = "https://www.w3.org/ns/credentials/v2"
#: the elements every certificate states the content of (CRMA Art. 29 magnet rare earths)
CERTIFIED_ELEMENTS = ("Nd", "Pr", "Dy", "Tb")


def status_list_id(site_id: str) -> str:
    return f"urn:magcycle:{site_id}:status-list:revocation"


def ledger_root(conn: Connection, size: int) -> str:
    """RFC 6962 Merkle root of the first ``size`` ledger entries."""
    hashes = conn.execute(select(db.ledger.c.entry_hash).where(db.ledger.c.seq < size).order_by(db.ledger.c.seq))
    return merkle_root([h for (h,) in hashes])


def claim_moves(doc: dict, site_id: str, sign: float, kind: str) -> list[dict]:
    """The account moves of a claim (sign -1) or its reversal (+1) on a product lot's content."""
    moves = []
    for el, c in doc["content"].items():
        parts = [("pre_consumer", c["mass_kg"] * c["pre_consumer_share"]),
                 ("post_consumer", c["mass_kg"] * c["post_consumer_share"])]
        if doc["dfars_2027_eligible"]["value"] is True:
            parts.append(("dfars_eligible", c["mass_kg"]))
        moves += [{"site": site_id, "element": el, "attribute": a, "period": doc["period"], "kind": kind,
                   "lot_id": doc["id"], "delta_kg": sign * m} for a, m in parts if m > 0]
    return moves


def _active(conn: Connection, lot_id: str):
    t = db.certificates
    return conn.execute(select(t.c.id).where(t.c.lot_id == lot_id, t.c.revoked_at.is_(None))).first()


def _superseded(conn: Connection, lot_id: str) -> str | None:
    t = db.certificates
    return conn.execute(select(t.c.id).where(t.c.lot_id == lot_id).order_by(t.c.seq.desc()).limit(1)).scalar()


def _entry(conn: Connection, kind: str, **match) -> dict:
    """{seq, hash, kind} of the ledger entry that made a row (``lots`` or ``campaigns`` by id)."""
    table = db.lots if kind in ("receipt", "product_lot") else db.campaigns
    seq = conn.execute(select(table.c.seq).where(table.c.id == match["id"])).scalar()
    h = conn.execute(select(db.ledger.c.entry_hash).where(db.ledger.c.seq == seq)).scalar()
    return {"seq": seq, "kind": kind, "hash": h}


def _assays(doc: dict) -> tuple[list, list]:
    method = "measured" if doc.get("measured") else "magcycle plant simulation of the campaign's blend"
    assays = [{"analyte": "REO/TREO", "value": doc["purity"], "unit": "fraction", "basis": "TREO", "method": method}]
    assays += [{"analyte": k, "value": v, "unit": "ppm", "basis": "product mass", "method": method}
               for k, v in sorted(doc["impurities_ppm"].items())]
    res = {el: m for el, m in doc["element_kg"].items() if el in ("La", "Ce", "Pr", "Nd", "Sm", "Gd", "Tb", "Dy",
                                                                    "Ho", "Er", "Y")}
    total = sum(res.values())
    assays += [{"analyte": f"{el}/TRE", "value": m / total, "unit": "fraction", "basis": "rare-earth metal",
                "method": method} for el, m in sorted(res.items()) if total > 0]
    spec = doc["spec"]  # the specification as the campaign judged the lot by
    limits = [{"analyte": "REO/TREO", "min": spec.get("min_purity")}]
    limits += [{"analyte": k, "max": v, "unit": "ppm"} for k, v in sorted(spec.get("max_ppm", {}).items())]
    return assays, limits


def _content(doc: dict) -> dict:
    out = {}
    for el in CERTIFIED_ELEMENTS:
        c = doc["content"].get(el)
        out[el] = ({"mass_kg": c["mass_kg"], "pre_consumer_share": c["pre_consumer_share"],
                    "post_consumer_share": c["post_consumer_share"], "primary_share": c["primary_share"]}
                   if c else {"mass_kg": 0.0, "pre_consumer_share": None, "post_consumer_share": None,
                              "primary_share": None})
    return out


def _origin(conn: Connection, camp: dict) -> tuple[list, list]:
    origin, evidence = [], []
    for part in camp["lots"]:
        f = lot(conn, part["lot"])
        origin.append({"lot_id": f["id"], "category": f["category"], "supplier": f["supplier"],
                       "consumer": f["consumer"], "consumed_kg": part["consumed_kg"], **f["origin"]})
        evidence.append(_entry(conn, "receipt", id=f["id"]))
    return origin, evidence


def _subject(conn: Connection, doc: dict, site_doc: dict) -> tuple[dict, list]:
    camp = campaign(conn, doc["campaign_id"])
    origin, evidence = _origin(conn, camp)
    evidence += [_entry(conn, "campaign", id=camp["id"]), _entry(conn, "product_lot", id=doc["id"])]
    assays, limits = _assays(doc)
    subject = {
        "id": f"urn:magcycle:{site_doc['id']}:lot:{doc['id']}", "lot_id": doc["id"], "product": doc["product"],
        "oxide": doc["oxide"], "product_spec_id": doc["spec"]["id"], "net_mass_kg": doc["mass_kg"],
        "production_site": site_doc, "campaign_ids": [camp["id"]],
        "production_period": {"start": camp["start"], "end": camp["end"]},
        "assays": assays, "spec_limits": limits,
        "conformance": {"checks": doc["conformance"], "pass": doc["meets_spec"]},
        "content": _content(doc), "custody_model": doc["custody_model"],
        "mass_balance_period": doc["period"] if doc["custody_model"] == "mass_balance" else None,
        "standard_refs": ["ISO 14021:2016", "ISO 22095:2020", "EU 2024/1252 Art. 29", "DFARS 252.225-7052"],
        "origin": origin, "recycling_country": site_doc["country"], "separation_country": site_doc["country"],
        "dfars_2027_eligible": doc["dfars_2027_eligible"]["value"], "dfars_basis": doc["dfars_2027_eligible"]["basis"],
        "pcf_kg_co2e_per_kg": doc["pcf_kg_co2e_per_kg"],
        "pcf_method": "cradle-to-gate of the recycling plant, cut-off for the scrap, economic allocation (magcycle.econ)",
    }
    return subject, evidence


def certify(conn: Connection, lot_id: str, kid: str, private, actor: str, issued_at: str | None = None) -> dict:
    """Issue the certificate of a product lot (module docstring) in the caller's transaction; the signed
    credential."""
    from magcycle.trace.vc import sign

    doc = lot(conn, lot_id)
    if doc["kind"] != "product":
        raise InputError("lot", f"{clip(lot_id)} is a feed lot; certificates are issued for product lots")
    held = _active(conn, lot_id)
    if held is not None:
        raise InputError("lot", f"{clip(lot_id)} is certified already by {held.id}; revoke that certificate "
                                "first (a second would claim the same content twice)")
    site_doc = site(conn)
    cert_id = f"urn:uuid:{uuid.uuid4()}"
    issued_at = issued_at or now()
    subject, evidence = _subject(conn, doc, site_doc)
    moves = plan_moves(conn, claim_moves(doc, doc["site"]["id"], -1.0, "claim"), field="claim")
    claim = record(conn, {"type": "claim", "actor": actor, "event_time": issued_at, "lot_id": lot_id,
                          "claim_target": cert_id, "moves": moves})
    insert_moves(conn, claim["seq"], moves)
    evidence.append({"seq": claim["seq"], "kind": "claim", "hash": claim["entry_hash"]})
    index = conn.execute(select(func.coalesce(func.max(db.certificates.c.status_index) + 1, 0))).scalar()
    subject["evidence"] = [{"id": f"urn:magcycle:{site_doc['id']}:ledger:{e['seq']}", "type": e["kind"],
                            "hashDigest": e["hash"], "hashMethod": "SHA-256"} for e in evidence]
    size, merkle = root(conn)
    subject["ledger_checkpoint"] = {"tree_size": size, "root": merkle}
    subject["supersedes"] = _superseded(conn, lot_id)
    credential = {
        "@context": [CONTEXT], "id": cert_id, "type": ["VerifiableCredential", "ProductLotCertificate"],
        "issuer": {"id": kid.split("#")[0], "name": site_doc["id"]}, "validFrom": issued_at[:19] + "Z",
        "credentialStatus": {"id": f"{status_list_id(site_doc['id'])}#{index}", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(index),
                             "statusListCredential": status_list_id(site_doc["id"])},
        "credentialSubject": subject}
    signed = sign(credential, private, created=issued_at[:19] + "Z", verification_method=kid)
    digest = hashlib.sha256(canonical_json(signed)).hexdigest()
    entry = record(conn, {"type": "certificate", "actor": actor, "event_time": issued_at, "certificate_id": cert_id,
                          "lot_id": lot_id, "status_index": index, "issued_at": issued_at, "credential_sha256": digest})
    conn.execute(insert(db.certificates).values(id=cert_id, lot_id=lot_id, status_index=index, issued_at=issued_at,
                                                credential=json.dumps(signed, ensure_ascii=False), revoked_at=None,
                                                seq=entry["seq"]))
    return signed


def revoke(conn: Connection, cert_id: str, reason: str, actor: str) -> dict:
    """Revoke a certificate (module docstring); its row as it now stands."""
    t = db.certificates
    row = conn.execute(select(t.c.lot_id, t.c.revoked_at, t.c.status_index).where(t.c.id == cert_id)).first()
    if row is None:
        raise InputError("certificate", f"unknown certificate {clip(cert_id)}")
    if row.revoked_at is not None:
        raise InputError("certificate", f"{clip(cert_id)} was revoked already, at {row.revoked_at}")
    doc = lot(conn, row.lot_id)
    moves = plan_moves(conn, claim_moves(doc, doc["site"]["id"], 1.0, "reversal"), field="certificate")
    at = now()
    entry = record(conn, {"type": "revocation", "actor": actor, "event_time": at, "certificate_id": cert_id,
                          "lot_id": row.lot_id, "status_index": row.status_index, "reason": reason, "moves": moves})
    insert_moves(conn, entry["seq"], moves)
    conn.execute(update(t).where(t.c.id == cert_id).values(revoked_at=at))
    return {"certificate_id": cert_id, "lot_id": row.lot_id, "status_index": row.status_index, "revoked_at": at,
            "reason": reason}


def status_list_credential(conn: Connection, kid: str, private) -> dict:
    """The site's revocation status list as a signed BitstringStatusListCredential."""
    from magcycle.trace.vc import encode_status_list, sign

    site_id = site(conn)["id"]
    revoked = [i for (i,) in conn.execute(select(db.certificates.c.status_index)
                                          .where(db.certificates.c.revoked_at.is_not(None)))]
    size = max(131072, -(-(max(revoked, default=0) + 1) // 8) * 8)
    at = now()[:19] + "Z"
    doc = {"@context": [CONTEXT], "id": status_list_id(site_id),
           "type": ["VerifiableCredential", "BitstringStatusListCredential"],
           "issuer": {"id": kid.split("#")[0], "name": site_id}, "validFrom": at,
           "credentialSubject": {"id": f"{status_list_id(site_id)}#list", "type": "BitstringStatusList",
                                 "statusPurpose": "revocation", "encodedList": encode_status_list(revoked, size)}}
    return sign(doc, private, created=at, verification_method=kid)


def _key_problem(conn: Connection, credential: dict) -> str | None:
    method = credential.get("proof", {}).get("verificationMethod") if isinstance(credential.get("proof"), dict) else None
    keys = {k: retired for k, retired in conn.execute(select(db.signing_keys.c.kid, db.signing_keys.c.retired_at))}
    if method not in keys:
        return f"signed by {clip(method, 80)}, which is not one of the site's keys"
    retired = keys[method]
    created = credential["proof"].get("created", "")
    if retired is not None and str(created) > retired[:19] + "Z":
        return f"signed at {created} by a key retired at {retired}"
    return None


def _evidence_seq(e) -> int | None:
    """The ledger sequence number an evidence id names (``urn:magcycle:SITE:ledger:SEQ``), or None."""
    import re

    m = re.fullmatch(r".*:ledger:([0-9]{1,18})", str(e.get("id", ""))) if isinstance(e, dict) else None
    return int(m[1]) if m else None


def _ledger_problems(conn: Connection, subject: dict) -> list[str]:
    out = []
    evidence = subject.get("evidence")
    for e in evidence if isinstance(evidence, list) else []:
        seq = _evidence_seq(e)
        h = conn.execute(select(db.ledger.c.entry_hash).where(db.ledger.c.seq == seq)).scalar() \
            if seq is not None else None
        if h is None or h != e.get("hashDigest"):
            out.append(f"evidence {clip(e.get('id') if isinstance(e, dict) else e, 80)} is not in the ledger with "
                       "that hash")
    point = subject.get("ledger_checkpoint")
    point = point if isinstance(point, dict) else {}
    size = point.get("tree_size")
    count = conn.execute(select(func.count()).select_from(db.ledger)).scalar()
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= count or \
            ledger_root(conn, size) != point.get("root"):
        out.append("the ledger checkpoint it carries does not agree with the ledger")
    return out


def _registry_problems(conn: Connection, credential: dict) -> list[str]:
    t = db.certificates
    cid = credential.get("id")
    row = conn.execute(select(t.c.credential, t.c.revoked_at).where(t.c.id == cid)).first() \
        if isinstance(cid, str) else None
    if row is None:
        return [f"certificate {clip(credential.get('id'), 80)} was not issued by this site"]
    if json.loads(row.credential) != credential:
        return ["it differs from the certificate the site issued under that id"]
    return [f"revoked at {row.revoked_at}"] if row.revoked_at else []


def _status_problem(credential: dict, status_list: dict, conn: Connection | None) -> str | None:
    """Why the status list does not clear the certificate: its own proof, its signer (the certificate's key, or
    with the database any of the site's keys), its id, and the certificate's bit."""
    from magcycle.trace.vc import status_bit, verify

    if not isinstance(status_list, dict) or "BitstringStatusListCredential" not in (status_list.get("type") or []):
        return "the status list given is not a BitstringStatusListCredential"
    ok, why = verify(status_list)
    if not ok:
        return f"the status list does not verify: {why}"
    signer = status_list["proof"]["verificationMethod"]
    own = credential["proof"]["verificationMethod"]
    site_keys = {k for (k,) in conn.execute(select(db.signing_keys.c.kid))} if conn is not None else set()
    if signer != own and signer not in site_keys:
        return ("the status list is signed by another key than the certificate (after a key rotation, check with "
                "--db, which knows the site's keys)")
    entry = credential.get("credentialStatus")
    entry = entry if isinstance(entry, dict) else {}
    if entry.get("statusListCredential") != status_list.get("id"):
        return "the status list given is not the certificate's"
    try:
        if status_bit(status_list["credentialSubject"]["encodedList"], int(entry["statusListIndex"])):
            return "revoked (its bit is set in the status list)"
    except (KeyError, TypeError, ValueError) as exc:
        return f"cannot read the status list: {clip(exc, 80)}"
    return None


def _shape_problem(credential: dict) -> str | None:
    """Not a product-lot certificate at all (a status list, a checkpoint, another credential)."""
    subject = credential.get("credentialSubject")
    types = credential.get("type")
    if not isinstance(types, list) or "ProductLotCertificate" not in types or not isinstance(subject, dict) \
            or not isinstance(subject.get("lot_id"), str):
        return "not a magcycle product-lot certificate (type ProductLotCertificate with a credentialSubject lot_id)"
    return None


def verify_certificate(credential, public_key: bytes | None = None, conn: Connection | None = None,
                       status_list: dict | None = None) -> list[str]:
    """Why the certificate is not valid (module docstring): an empty list when it is."""
    from magcycle.trace.vc import verify

    if not isinstance(credential, dict):
        return ["not a JSON object"]
    ok, why = verify(credential, public_key)
    if not ok:
        return [why]
    shape = _shape_problem(credential)
    if shape:
        return [shape]
    problems = []
    if conn is not None:
        problems += [p for p in [_key_problem(conn, credential)] if p]
        problems += _ledger_problems(conn, credential["credentialSubject"]) + _registry_problems(conn, credential)
    if status_list is not None:
        problems += [p for p in [_status_problem(credential, status_list, conn)] if p]
    return problems


def certificate(conn: Connection, cert_id: str) -> dict:
    """{id, lot_id, issued_at, revoked_at, credential} of an issued certificate; InputError for an unknown id."""
    t = db.certificates
    row = conn.execute(select(t.c.id, t.c.lot_id, t.c.issued_at, t.c.revoked_at, t.c.credential)
                       .where(t.c.id == cert_id)).first()
    if row is None:
        raise InputError("certificate", f"unknown certificate {clip(cert_id)}")
    return {"id": row.id, "lot_id": row.lot_id, "issued_at": row.issued_at, "revoked_at": row.revoked_at,
            "credential": json.loads(row.credential)}


def list_certificates(conn: Connection, lot_id: str | None = None) -> list[dict]:
    """{id, lot_id, issued_at, revoked_at} of the certificates issued (of ``lot_id``), newest first."""
    t = db.certificates
    q = select(t.c.id, t.c.lot_id, t.c.issued_at, t.c.revoked_at).order_by(t.c.seq.desc())
    if lot_id is not None:
        q = q.where(t.c.lot_id == lot_id)
    return [dict(r._mapping) for r in conn.execute(q)]
