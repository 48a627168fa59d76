"""``magcycle trace``: lots, campaigns, genealogy, the ledger, keys and certificates (:mod:`magcycle.trace`).

Each command is one database transaction: it commits whole or leaves the
database exactly as it was. Files it writes (certificates, checkpoints,
status lists, keys) are written beside their final name and moved into
place only once the transaction has committed; a failure removes them.
Exit status 4 when ``audit`` or ``verify`` finds the ledger or a
certificate not intact (one line naming the first bad entry, row or
reason).
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from magcycle.cli.common import EXIT_OFF_SPEC, EXIT_VERIFY, PROG, Failure, dumps, guard, one_line, table

__all__ = ["cmd_init", "cmd_receive", "cmd_campaign", "cmd_genealogy", "cmd_accounts", "cmd_checkpoint", "cmd_audit",
           "cmd_keys", "cmd_certify", "cmd_verify", "cmd_revoke", "cmd_planned", "actor", "session"]


def actor() -> str:
    """Who acts: ``MAGCYCLE_ACTOR``, else the operating-system user, as ``cli:NAME``."""
    try:
        name = os.environ.get("MAGCYCLE_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        name = f"uid {os.getuid()}"
    return f"cli:{name}"


def _engine(args, create: bool = False):
    from magcycle.trace.db import open_engine

    return guard(lambda: open_engine(args.db, create=create))


@contextmanager
def session(args, write: bool = True):
    """One transaction on a database at the schema head; project errors become one-line failures (a database
    error mid-way, exit 1; the transaction is rolled back either way)."""
    from sqlalchemy.exc import SQLAlchemyError

    from magcycle.errors import InputError
    from magcycle.trace.db import require_head, transaction

    engine = _engine(args)
    try:
        with transaction(engine, write=write) as conn:
            require_head(conn)
            yield conn
    except InputError as exc:
        raise Failure(f"error: {one_line(exc)}", 2) from None
    except SQLAlchemyError as exc:
        raise Failure(f"solve failed: database error, nothing recorded: {one_line(getattr(exc, 'orig', exc), 200)}",
                      1) from None
    finally:
        engine.dispose()


def _protected(args) -> list[Path]:
    """Files an output must never replace: the SQLite database (and its journal files), the key folder."""
    from magcycle.trace.db import sqlite_file
    from magcycle.trace.keys import keys_dir

    out = [keys_dir(getattr(args, "keys", None)).resolve()]
    base = sqlite_file(args.db)
    if base is not None:
        base = base.resolve()
        out += [base, *(base.with_name(base.name + x) for x in ("-wal", "-shm", "-journal"))]
    return out


class _Staged:
    """Files written beside their final names, moved into place after the commit (or removed)."""

    def __init__(self, args):
        self.files: list[tuple[Path, Path]] = []
        self.protected = _protected(args)

    def check(self, path: str | Path, field: str) -> Path:
        """An output file name that can be written: not a folder, in a folder that exists and is writable, and
        neither the database nor a file of the key folder."""
        p = Path(path)
        shown = one_line(str(path), 80)
        if p.is_dir():
            raise Failure(f"error: {field}: {shown} is a folder; give a file name", 2)
        if not p.parent.is_dir() or not os.access(p.parent, os.W_OK):
            raise Failure(f"error: {field}: cannot write in the folder {one_line(str(p.parent), 80)}", 2)
        real = p.resolve()
        if real == self.protected[0] or self.protected[0] in real.parents or real in self.protected[1:]:
            raise Failure(f"error: {field}: {shown} is the site's database or key folder; give another file", 2)
        return p

    def write(self, path: Path, text: str) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        tmp.write_text(text, encoding="utf-8")
        self.files.append((tmp, path))

    def commit(self) -> None:
        for tmp, final in self.files:
            os.replace(tmp, final)
        self.files = []

    def discard(self) -> None:
        for tmp, _ in self.files:
            tmp.unlink(missing_ok=True)


@contextmanager
def _staged(args):
    s = _Staged(args)
    try:
        yield s
    finally:
        s.discard()


def _document(path: str, model, field: str = "file", where: str = ""):
    from magcycle.documents import read_document
    from magcycle.schema import validate

    return guard(lambda: validate(model, read_document(path, field=field)), where=where)


# ------------------------------------------------------------ init, receive, campaign
def _site_country(value: str | None) -> str | None:
    from magcycle.trace.documents import _country

    if value is None:
        return None
    try:
        return _country(value)
    except Exception:
        raise Failure(f"error: --country: unknown country code {one_line(value, 40)!r}; an ISO 3166 alpha-2 code "
                      "or 'unknown'", 2) from None


def _record_site(conn, args, country: str | None) -> str:
    """The site of a new database (``--site``, ``--country``) recorded; an existing one kept, never changed."""
    from sqlalchemy import insert

    from magcycle.trace import db
    from magcycle.trace.store import record, setting

    have, cc_have = setting(conn, "site_id"), setting(conn, "site_country")
    if have is not None:
        if (args.site and args.site != have) or (country and country != cc_have):
            raise Failure(f"error: --site: the database belongs to site {one_line(have, 80)!r} ({cc_have}); a "
                          "site's id and country do not change", 2)
        return have
    site_id, cc = args.site or "site", country or "unknown"
    record(conn, {"type": "site", "actor": actor(), "site_id": site_id, "country": cc})
    conn.execute(insert(db.settings), [{"key": "site_id", "value": site_id}, {"key": "site_country", "value": cc}])
    return site_id


def cmd_init(args) -> str:
    """Create the schema (or migrate it to head) and record the site, in one transaction."""
    from magcycle.errors import InputError
    from magcycle.trace import db

    country = _site_country(args.country)
    if args.site is not None and (not args.site.strip() or len(args.site) > 200 or not args.site.isprintable()):
        raise Failure("error: --site: a site id is printable text of 1 to 200 characters", 2)
    url = db.database_url(args.db)
    fresh = db.sqlite_file(args.db)
    fresh = fresh if fresh is not None and not fresh.exists() else None  # removed again if init fails
    engine = _engine(args, create=True)
    try:
        with db.transaction(engine) as conn:
            before, after = db.migrate(conn)
            site_id = _record_site(conn, args, country)
    except InputError as exc:
        raise Failure(f"error: {one_line(exc)}", 2) from None
    except BaseException:
        engine.dispose()
        if fresh is not None:  # nothing is left of a database this command failed to create
            for p in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
                p.unlink(missing_ok=True)
        raise
    engine.dispose()
    what = "created" if before is None else ("migrated from " + before if before != after else "already at head")
    return f"database {url}: schema {what}, revision {after}; site {site_id}\n"


def cmd_receive(args) -> str:
    """One receipt, or several in one transaction (all recorded, or none)."""
    from magcycle.trace.documents import Receipt
    from magcycle.trace.lots import receive

    many = len(args.files) > 1
    receipts = [_document(f, Receipt, where=f if many else "") for f in args.files]
    docs = []
    with session(args) as conn:
        for f, r in zip(args.files, receipts):
            docs.append(guard(lambda r=r: receive(conn, r, actor()), where=f if many else ""))
    if args.json:
        return dumps(docs if many else docs[0])
    return "".join(f"received lot {d['id']}: {d['mass_kg']:.6g} kg dry, {d['consumer']}-consumer {d['category']} "
                   f"from {d['supplier']}, {d['received']}\n" for d in docs)


def _campaign_text(out: dict) -> str:
    c = out["campaign"]
    rows = [[d["id"], d["product"], f"{d['mass_kg']:.4f}", "pass" if d["meets_spec"] else "FAIL",
             " ".join(f"{el} {100 * x['post_consumer_share']:.1f}" for el, x in d["content"].items()
                      if el in ("Nd", "Pr", "Dy", "Tb"))] for d in out["product_lots"]]
    return (f"campaign {c['id']}: {c['feed_kg']:.6g} kg of {len(c['lots'])} lots on {c['plant_name']}, "
            f"{c['custody']}; DFARS 2027 eligible: {c['dfars_2027_eligible']['value']}\n"
            + table(["product lot", "product", "net kg", "spec", "post-consumer %"], rows, right_from=2) + "\n")


def cmd_campaign(args):
    from magcycle.trace.campaigns import run_campaign
    from magcycle.trace.documents import CampaignFile

    cf = _document(args.file, CampaignFile)
    with session(args) as conn:
        out = guard(lambda: run_campaign(conn, cf, actor(), Path(args.file).resolve().parent))
    off = [f"{d['id']}: " + ", ".join(k for k, v in d["conformance"].items() if not v)
           for d in out["product_lots"] if not d["meets_spec"]]
    status = EXIT_OFF_SPEC if off else 0
    if off:
        print(one_line(f"{PROG}: off spec: " + "; ".join(off)), file=sys.stderr)
    if args.json:
        from magcycle.trace.campaigns import campaign_summary

        return dumps(campaign_summary(out)), status
    return _campaign_text(out), status


# ------------------------------------------------------------ genealogy, accounts
def cmd_genealogy(args) -> str:
    from magcycle.trace.lots import genealogy

    with session(args, write=False) as conn:
        g = guard(lambda: genealogy(conn, args.lot))
    if args.json:
        return dumps(g)
    if g["kind"] == "product":
        rows = [[a["lot"], a["consumer"], a["category"], f"{a['consumed_kg']:.6g}",
                 " ".join(f"{el} {a['element_kg_in_product'].get(el, 0.0):.4g}" for el in ("Nd", "Pr", "Dy", "Tb"))]
                for a in g["backward"]]
        return (f"product lot {g['lot']} ({g['product']}, {g['net_mass_kg']:.6g} kg) of campaign {g['campaign']}, "
                "from:\n" + table(["feed lot", "consumer", "category", "consumed kg", "kg in this lot"], rows,
                                  right_from=3) + "\n")
    rows = [[c["campaign"], f"{c['consumed_kg']:.6g}", p["lot"], p["product"],
             " ".join(f"{el} {p['element_kg_from_lot'].get(el, 0.0):.4g}" for el in ("Nd", "Pr", "Dy", "Tb"))]
            for c in g["forward"] for p in c["product_lots"]]
    return (f"feed lot {g['lot']} ({g['mass_kg']:.6g} kg, {g['remaining_kg']:.6g} kg left) reached:\n"
            + (table(["campaign", "consumed kg", "product lot", "product", "kg from this lot"], rows, right_from=1)
               if rows else "no product lot yet") + "\n")


def cmd_planned(args) -> str:
    from magcycle.trace.plans import planned_campaigns

    with session(args, write=False) as conn:
        got = guard(lambda: planned_campaigns(conn, args.plan))
    if args.json:
        return dumps(got)
    if got["plan_id"] is None:
        return "no plan recorded (record one with 'magcycle plan campaigns PLAN --db URL --record')\n"
    rows = [[c["id"], c["family"], c["custody"], c["start"], c["end"], f"{c['feed_kg']:.6g}",
             " ".join(p["lot"] for p in c["lots"])] for c in got["campaigns"]]
    return (f"plan {got['plan_id']}: {len(rows)} planned campaign(s)\n"
            + table(["campaign", "family", "custody", "start", "end", "feed kg", "lots"], rows, right_from=5)
            + "\n")


def cmd_accounts(args) -> str:
    from magcycle.trace.accounts import balances

    with session(args, write=False) as conn:
        rows = balances(conn)
    if args.json:
        return dumps(rows)
    return table(["account", "credits kg", "debits kg", "balance kg"],
                 [[r["account"], f"{r['credits_kg']:.6g}", f"{r['debits_kg']:.6g}", f"{r['balance_kg']:.6g}"]
                  for r in rows]) + "\n"


# ------------------------------------------------------------ keys, checkpoint, audit
def cmd_keys(args) -> str:
    from magcycle.trace.keys import create_key, keys_dir, site_keys

    if args.action == "list":
        with session(args, write=False) as conn:
            keys = site_keys(conn)
        if args.json:
            return dumps(keys)
        return table(["key (did:key verification method)", "created", "retired"],
                     [[k["kid"], k["created_at"], k["retired_at"] or "-"] for k in keys], right_from=3) + "\n"
    folder = keys_dir(args.keys)
    path = None
    try:
        with session(args) as conn:
            kid, path = guard(lambda: create_key(conn, folder, actor(), rotate=args.action == "rotate"))
    except BaseException:
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    return f"{'rotated to' if args.action == 'rotate' else 'created'} signing key {kid}\nprivate key in {path}\n"


def cmd_checkpoint(args) -> str:
    from magcycle.trace.audit import make_checkpoint
    from magcycle.trace.keys import keys_dir, signing_key

    with _staged(args) as files:
        with session(args, write=False) as conn:
            kid, private = guard(lambda: signing_key(conn, keys_dir(args.keys)))
            point = make_checkpoint(conn, kid, private)
            out = files.check(args.out or f"checkpoint-{point['tree_size']}.json", "--out")
            files.write(out, json.dumps(point, indent=2) + "\n")
        files.commit()
    return f"checkpoint of {point['tree_size']} entries, root {point['root']}, signed by {kid}; wrote {out}\n"


def _read_json(path: str, field: str) -> dict:
    """A JSON object from a file: no repeated key (a verifier and a signer must read the same document), no NaN,
    bounded size and depth."""
    from magcycle.documents import parse_document, read_text

    text = guard(lambda: read_text(path, field=field))
    return guard(lambda: parse_document(text, ".json", name=path, field=field))


def cmd_audit(args) -> str:
    from magcycle.trace.audit import AuditFailure, audit

    points = [_read_json(args.checkpoint, "--checkpoint")] if args.checkpoint else []
    with session(args, write=False) as conn:
        try:
            s = audit(conn, points)
        except AuditFailure as exc:
            raise Failure(f"verification failed: {exc}", EXIT_VERIFY) from None
    extra = f"; agrees with the checkpoint of {points[0]['tree_size']} entries" if points else ""
    if args.json:
        return dumps({"intact": True, **s})
    return f"ledger intact: {s['entries']} entries, head {s['head']}; every table agrees with it{extra}\n"


# ------------------------------------------------------------ certificates
def cmd_certify(args):
    from magcycle.report.coa import render_coa
    from magcycle.trace.certificates import certify
    from magcycle.trace.keys import keys_dir, signing_key

    with _staged(args) as files:
        import re

        stem = args.out or re.sub(r"[^A-Za-z0-9._-]+", "_", args.lot).lstrip(".") + ".vc.json"  # a name, never a path
        out = files.check(stem, "--out")
        coa = files.check(out.with_name(out.name.removesuffix(".json").removesuffix(".vc") + ".coa.html"), "--out")
        with session(args) as conn:
            kid, private = guard(lambda: signing_key(conn, keys_dir(args.keys)))
            cred = guard(lambda: certify(conn, args.lot, kid, private, actor()))
            text = json.dumps(cred, indent=2, ensure_ascii=False) + "\n"
            files.write(out, text)
            files.write(coa, render_coa(cred))
        files.commit()
    if args.json:
        return text
    s = cred["credentialSubject"]
    return (f"certificate {cred['id']} for lot {s['lot_id']} ({s['product']}, {s['net_mass_kg']:.6g} kg), "
            f"conformance {'pass' if s['conformance']['pass'] else 'FAIL'}, DFARS 2027 eligible: "
            f"{s['dfars_2027_eligible']}\nwrote {out} and {coa}\n")


def cmd_verify(args) -> str:
    from magcycle.trace.certificates import verify_certificate
    from magcycle.trace.keys import load_public_key

    from magcycle.documents import parse_document, read_text
    from magcycle.errors import InputError

    text = guard(lambda: read_text(args.file, field="certificate"))
    try:  # a file that reads but is no JSON object (a repeated key, a byte changed) is a certificate that fails
        cred = parse_document(text, ".json", name=args.file, field="certificate")
    except InputError as exc:
        raise Failure(f"verification failed: {one_line(exc.reason, 300)}", EXIT_VERIFY) from None
    key = guard(lambda: load_public_key(args.key)) if args.key else None
    status = _read_json(args.status_list, "--status-list") if args.status_list else None
    if args.db:
        with session(args, write=False) as conn:
            problems = verify_certificate(cred, key, conn, status)
    else:
        problems = verify_certificate(cred, key, None, status)
    if problems:
        raise Failure(f"verification failed: certificate {one_line(str(cred.get('id')), 80)}: {problems[0]}",
                      EXIT_VERIFY)
    checks = ["signature"] + (["site key, ledger evidence, checkpoint, registry, not revoked"] if args.db else []) \
        + (["status list"] if status else [])
    signer = cred["proof"]["verificationMethod"]
    pinned = "" if key or args.db else " (key taken from the certificate; pin it with --key or check with --db)"
    return f"valid: certificate {cred['id']} for lot {cred['credentialSubject'].get('lot_id')}; checked " \
           f"{', '.join(checks)}; signed by {signer}{pinned}\n"


def cmd_revoke(args) -> str:
    from magcycle.trace.certificates import revoke, status_list_credential
    from magcycle.trace.keys import keys_dir, signing_key

    with _staged(args) as files:
        out = files.check(args.status_list or "status-list.json", "--status-list")
        with session(args) as conn:
            kid, private = guard(lambda: signing_key(conn, keys_dir(args.keys)))
            row = guard(lambda: revoke(conn, args.certificate, args.reason, actor()))
            files.write(out, json.dumps(status_list_credential(conn, kid, private), indent=2) + "\n")
        files.commit()
    return (f"revoked {row['certificate_id']} (lot {row['lot_id']}, status index {row['status_index']}); its claim "
            f"is booked back; wrote the signed status list {out}\n")
