"""The certificate of analysis of a product lot: an HTML page in the form of an EN 10204:2004 type 3.1
inspection certificate, rendered from the lot's signed credential (:mod:`magcycle.trace.certificates`).

EN 10204 3.1: a document issued by the manufacturer's authorised inspection
representative, independent of manufacturing, declaring that the products
comply with the order, with test results. The page states the product, lot,
specification, each test result against its limit, the recycled content,
the origin and DFARS statement, the carbon footprint, the certificate's id,
its ledger checkpoint and its proof; the credential (JSON) is the
authoritative copy, and the page says how to verify it. Every value is
escaped: a supplier or lot name is shown as written, never run.
"""

from __future__ import annotations

from magcycle.report.html import CSS, esc

__all__ = ["render_coa"]


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _rows(rows: list[list]) -> str:
    return "".join("<tr>" + "".join(f"<td>{esc(_fmt(c))}</td>" for c in r) + "</tr>" for r in rows)


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    return f"<table><tr>{head}</tr>{_rows(rows)}</table>"


def _results(s: dict) -> str:
    limits = {x["analyte"]: x for x in s.get("spec_limits", [])}
    checks = s.get("conformance", {}).get("checks", {})
    rows = []
    for a in s.get("assays", []):
        lim = limits.get(a["analyte"], {})
        limit = f">= {_fmt(lim['min'])}" if lim.get("min") is not None else (
            f"<= {_fmt(lim['max'])}" if lim.get("max") is not None else "")
        verdict = checks.get("purity" if a["analyte"] == "REO/TREO" else a["analyte"])
        rows.append([a["analyte"], a["value"], a["unit"], a["basis"], limit,
                     "" if verdict is None else ("pass" if verdict else "FAIL"), a["method"]])
    return _table(["analyte", "result", "unit", "basis", "limit", "verdict", "method"], rows)


def render_coa(credential: dict) -> str:
    """The certificate-of-analysis page of a signed product-lot credential."""
    s = credential["credentialSubject"]
    ok = s.get("conformance", {}).get("pass")
    content = [[el, c["mass_kg"], c["pre_consumer_share"], c["post_consumer_share"], c["primary_share"]]
               for el, c in s.get("content", {}).items()]
    origin = [[o["lot_id"], o["category"], o["supplier"], o["consumer"], o["consumed_kg"], o["generated"], o["mined"],
               o["refined"], o["separated"], o["melted"], o["produced"]] for o in s.get("origin", [])]
    point = s.get("ledger_checkpoint", {})
    proof = credential.get("proof", {})
    site = s.get("production_site", {})
    return "".join([
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Certificate of analysis '
        f'{esc(s["lot_id"])}</title><style>{CSS}</style></head><body>',
        "<h1>Inspection certificate 3.1 (EN 10204:2004): certificate of analysis</h1>",
        _table(["", ""], [["certificate", credential.get("id")], ["issuer", credential.get("issuer", {}).get("name")],
                          ["issued", credential.get("validFrom")], ["product", s.get("product")],
                          ["oxide", s.get("oxide")], ["lot", s.get("lot_id")], ["net mass [kg]", s.get("net_mass_kg")],
                          ["specification", s.get("product_spec_id")],
                          ["campaigns", ", ".join(s.get("campaign_ids", []))],
                          ["production period", f"{s.get('production_period', {}).get('start')} to "
                                                f"{s.get('production_period', {}).get('end')}"],
                          ["production site", f"{site.get('id')} ({site.get('country')})"],
                          ["supersedes", s.get("supersedes")]]),
        "<h2>Test results</h2>", _results(s),
        f'<p>Conformance with the specification: <span class="{"pass" if ok else "fail"}">'
        f'{"PASS" if ok else "FAIL"}</span></p>',
        "<h2>Recycled content (ISO 14021; chain of custody ISO 22095)</h2>",
        f"<p>Chain-of-custody model: {esc(s.get('custody_model'))}</p>",
        _table(["element", "mass [kg]", "pre-consumer share", "post-consumer share", "primary share"], content),
        "<h2>Origin of the feed lots</h2>",
        _table(["lot", "category", "supplier", "consumer", "consumed [kg]", "generated", "mined", "refined",
                "separated", "melted", "produced"], origin),
        f"<p>DFARS 252.225-7052 (from 1 January 2027) eligible: <b>{esc(_fmt(s.get('dfars_2027_eligible')))}</b>"
        f" &mdash; {esc(s.get('dfars_basis'))}</p>",
        f"<p>Product carbon footprint: {esc(_fmt(s.get('pcf_kg_co2e_per_kg')))} kg CO2e per kg "
        f"({esc(s.get('pcf_method'))})</p>",
        "<h2>Verification</h2>",
        _table(["", ""], [["ledger checkpoint", f"{point.get('tree_size')} entries, root {point.get('root')}"],
                          ["proof", f"{proof.get('type')} {proof.get('cryptosuite')}"],
                          ["signed by", proof.get("verificationMethod")], ["signed at", proof.get("created")]]),
        "<p>This page shows a signed W3C Verifiable Credential. The credential (JSON) is the authoritative copy: "
        "check it with <code>magcycle trace verify CERTIFICATE.json</code>.</p></body></html>"])
