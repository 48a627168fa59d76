"""Feed lots (receipts), lot look-ups and genealogy.

Genealogy
    A product lot comes from one campaign; its feed lots are that campaign's
    consumptions. Backward, each feed lot is listed with the dry mass the
    campaign consumed of it and its share of the product by mass of each of
    the product's basis elements,

        m_(E,lot->product) = m_(E,product) * m_(E,lot) / sum_lots m_(E,lot),

    with m_(E,lot) = consumed mass * w_(E,lot) / 100 (mass balance: every lot
    of the campaign reaches every product in proportion to what it brought).
    Forward, a feed lot lists every campaign that consumed it and every
    product lot of those campaigns, with the same attribution.
"""

from __future__ import annotations

import json

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Connection

from magcycle.documents import clip
from magcycle.errors import InputError
from magcycle.trace import db
from magcycle.trace.store import as_json, record

__all__ = ["receive", "lot", "lot_row", "lot_columns", "available_lots", "remaining_kg", "feed_lot_doc", "genealogy",
           "list_lots"]


def feed_lot_doc(receipt) -> dict:
    """The record of a received lot (what its ledger entry and its row hold)."""
    return {"id": receipt.id, "kind": "feed", "supplier": receipt.supplier, "category": receipt.category,
            "consumer": receipt.consumer, "mass_kg": receipt.mass, "gross_mass_kg": receipt.gross_mass,
            "received": receipt.received.isoformat(), "feed": receipt.feed, "assay_wt_pct": receipt.composition(),
            "origin": receipt.origin.model_dump(), "evidence": [e.model_dump() for e in receipt.evidence]}


def lot(conn: Connection, lot_id: str, field: str = "lot") -> dict:
    """The record of a lot; an unknown id is bad input naming ``field``."""
    row = conn.execute(select(db.lots.c.doc).where(db.lots.c.id == lot_id)).first()
    if row is None:
        raise InputError(field, f"unknown lot {clip(lot_id)}")
    return json.loads(row.doc)


def remaining_kg(conn: Connection, lot_id: str) -> float:
    """Dry mass of a feed lot not yet consumed by a campaign [kg]."""
    mass = conn.execute(select(db.lots.c.mass_kg).where(db.lots.c.id == lot_id)).scalar()
    used = conn.execute(select(func.coalesce(func.sum(db.consumptions.c.mass_kg), 0.0))
                        .where(db.consumptions.c.lot_id == lot_id)).scalar()
    return float(mass) - float(used)


_INSERT_LOT = insert(db.lots)
_EXISTING = select(db.lots.c.kind, db.lots.c.dated).where(db.lots.c.id == bindparam("lot_id"))


def receive(conn: Connection, receipt, actor: str) -> dict:
    """Record a feed lot and its ledger entry (one transaction, the caller's); the lot's record."""
    existing = conn.execute(_EXISTING, {"lot_id": receipt.id}).first()
    if existing is not None:
        raise InputError("id", f"lot {clip(receipt.id)} exists already ({existing.kind} lot of {existing.dated}); "
                               "a receipt is recorded once")
    doc = feed_lot_doc(receipt)
    entry = record(conn, {"type": "receipt", "actor": actor, "event_time": doc["received"], "lot": doc})
    conn.execute(_INSERT_LOT, lot_row(doc, entry["seq"]))
    return doc


def lot_columns(doc: dict, seq: int) -> dict:
    """The lots row of a lot record (feed or product), all but its ``doc`` column."""
    feed = doc["kind"] == "feed"
    return {"id": doc["id"], "kind": doc["kind"], "product": doc.get("product"), "supplier": doc.get("supplier"),
            "category": doc.get("category"), "consumer": doc.get("consumer"), "mass_kg": doc["mass_kg"],
            "gross_mass_kg": doc.get("gross_mass_kg"), "dated": doc["received"] if feed else doc["produced"],
            "campaign_id": doc.get("campaign_id"), "seq": seq}


def lot_row(doc: dict, seq: int) -> dict:
    """The lots row of a lot record (feed or product)."""
    return lot_columns(doc, seq) | {"doc": as_json(doc)}


def _consumed(conn: Connection, campaign_id: str) -> list[tuple[str, float]]:
    rows = conn.execute(select(db.consumptions.c.lot_id, db.consumptions.c.mass_kg)
                        .where(db.consumptions.c.campaign_id == campaign_id).order_by(db.consumptions.c.lot_id))
    return [(r.lot_id, float(r.mass_kg)) for r in rows]


def _attribution(conn: Connection, product: dict) -> list[dict]:
    """The feed lots of a product lot, each with its consumed mass and element attribution (module docstring)."""
    consumed = _consumed(conn, product["campaign_id"])
    feeds = {lot_id: lot(conn, lot_id) for lot_id, _ in consumed}
    brought = {lot_id: {el: m * w / 100.0 for el, w in feeds[lot_id]["assay_wt_pct"].items()}
               for lot_id, m in consumed}
    out = []
    for lot_id, m in consumed:
        share = {}
        for el, c in product["content"].items():
            total = sum(b.get(el, 0.0) for b in brought.values())
            share[el] = c["mass_kg"] * brought[lot_id].get(el, 0.0) / total if total > 0 else 0.0
        f = feeds[lot_id]
        out.append({"lot": lot_id, "consumed_kg": m, "consumer": f["consumer"], "category": f["category"],
                    "supplier": f["supplier"], "origin": f["origin"], "element_kg_in_product": share})
    return out


def genealogy(conn: Connection, lot_id: str) -> dict:
    """Backward (product to feed lots) or forward (feed lot to product lots) genealogy of a lot."""
    doc = lot(conn, lot_id)
    if doc["kind"] == "product":
        return {"lot": lot_id, "kind": "product", "product": doc["product"], "net_mass_kg": doc["mass_kg"],
                "campaign": doc["campaign_id"], "backward": _attribution(conn, doc)}
    forward = []
    for campaign_id, m in conn.execute(select(db.consumptions.c.campaign_id, db.consumptions.c.mass_kg)
                                       .where(db.consumptions.c.lot_id == lot_id)
                                       .order_by(db.consumptions.c.campaign_id)):
        products = [json.loads(r.doc) for r in conn.execute(
            select(db.lots.c.doc).where(db.lots.c.campaign_id == campaign_id).order_by(db.lots.c.id))]
        reached = []
        for p in products:
            mine = next(a for a in _attribution(conn, p) if a["lot"] == lot_id)
            reached.append({"lot": p["id"], "product": p["product"], "net_mass_kg": p["mass_kg"],
                            "element_kg_from_lot": mine["element_kg_in_product"]})
        forward.append({"campaign": campaign_id, "consumed_kg": float(m), "product_lots": reached})
    return {"lot": lot_id, "kind": "feed", "mass_kg": doc["mass_kg"], "remaining_kg": remaining_kg(conn, lot_id),
            "forward": forward}


def available_lots(conn: Connection) -> list[dict]:
    """Every feed lot with dry mass left, as a planner reads it: {id, family (its category), mass [kg left],
    arrival (received), consumer, assay (wt %), origin}, oldest first."""
    rows = conn.execute(select(db.lots.c.doc).where(db.lots.c.kind == "feed").order_by(db.lots.c.dated, db.lots.c.id))
    out = []
    for (text_,) in rows:
        doc = json.loads(text_)
        left = remaining_kg(conn, doc["id"])
        if left > 1e-9:
            out.append({"id": doc["id"], "family": doc["category"], "mass": left, "arrival": doc["received"],
                        "consumer": doc["consumer"], "assay": doc["assay_wt_pct"], "origin": doc["origin"]})
    return out


def list_lots(conn: Connection, kind: str | None = None, limit: int = 1000, offset: int = 0) -> list[dict]:
    """Lots as a list shows them, newest first: {id, kind, product, supplier, category, consumer, mass_kg,
    remaining_kg (feed lots), dated, campaign_id}; ``kind`` feed or product to filter."""
    t = db.lots
    used = (select(db.consumptions.c.lot_id, func.sum(db.consumptions.c.mass_kg).label("used"))
            .group_by(db.consumptions.c.lot_id).subquery())
    q = (select(t.c.id, t.c.kind, t.c.product, t.c.supplier, t.c.category, t.c.consumer, t.c.mass_kg, t.c.dated,
                t.c.campaign_id, func.coalesce(used.c.used, 0.0).label("used"))
         .outerjoin(used, used.c.lot_id == t.c.id).order_by(t.c.seq.desc(), t.c.id).limit(limit).offset(offset))
    if kind is not None:
        q = q.where(t.c.kind == kind)
    out = []
    for r in conn.execute(q):
        row = {k: getattr(r, k) for k in ("id", "kind", "product", "supplier", "category", "consumer", "mass_kg",
                                          "dated", "campaign_id")}
        row["remaining_kg"] = float(r.mass_kg) - float(r.used) if r.kind == "feed" else None
        out.append(row)
    return out
