"""Planned campaigns in the trace database: a campaign plan recorded as planned, and read back.

What is recorded
    ``magcycle plan campaigns PLAN --db URL --record`` solves a plan on the
    database's lots and records it here, in one transaction: a ``plan``
    ledger entry (plan id, actor, the plan's status, margin, bound, gap, the
    SHA-256 of its plan.json (:func:`plan_digest`), and every planned campaign: id, family,
    custody, start, end, feed kg, lots with kg, products kg) and one row per
    campaign in ``planned_campaigns``, which ``trace audit`` replays against
    the ledger. A planned campaign consumes nothing: lots are consumed only
    when ``trace campaign`` records a campaign that ran.

Plan ids
    ``PLAN-<seq>``, the sequence number of the plan's ledger entry; each
    planned campaign is ``PLAN-<seq>/P-001`` and so on. Plans are never
    edited: planning again records a new plan, and the newest plan is the
    current one (:func:`planned_campaigns`).

Rules
    Every lot of the plan must be a feed lot of the database with at least
    the planned mass left (a lot received or consumed since the plan read the
    lots is caught here, not later); otherwise :class:`InputError` naming the
    lot, and nothing is written.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from magcycle.documents import clip
from magcycle.errors import InputError
from magcycle.trace import db
from magcycle.trace.lots import remaining_kg
from magcycle.trace.ledger import canonical_json
from magcycle.trace.store import as_json, head, now, record

__all__ = ["record_plan", "planned_campaigns", "plan_ids", "planned_row", "plan_digest", "PLAN_TOLERANCE_KG"]

#: planned kilograms may exceed the kilograms left by this much (the solver's rounding)
PLAN_TOLERANCE_KG = 1e-6


def _campaign(plan_id: str, c: dict) -> dict:
    return {"id": f"{plan_id}/{c['id']}", "family": c["family"], "custody": c["custody"], "start": c["start"],
            "end": c["end"], "feed_kg": float(c["feed_kg"]),
            "lots": [{"lot": p["lot"], "mass_kg": float(p["mass_kg"])} for p in c["lots"]],
            "products_kg": {k: float(v) for k, v in c["products_kg"].items()}}


def planned_row(c: dict, plan_id: str, seq: int) -> dict:
    """The ``planned_campaigns`` row of planned campaign ``c`` (as the plan's ledger entry holds it)."""
    return {"id": c["id"], "plan_id": plan_id, "family": c["family"], "custody": c["custody"],
            "start": c["start"][:10], "end": c["end"][:10], "doc": as_json(c), "seq": seq}


def _check_lots(conn: Connection, campaigns: list[dict]) -> None:
    planned: dict[str, float] = {}
    for c in campaigns:
        for part in c["lots"]:
            planned[part["lot"]] = planned.get(part["lot"], 0.0) + part["mass_kg"]
    for lot_id, kg in planned.items():
        kind = conn.execute(select(db.lots.c.kind).where(db.lots.c.id == lot_id)).scalar()
        if kind != "feed":
            raise InputError("lots", f"{clip(lot_id)} is not a feed lot of this database; the plan cannot be "
                                     "recorded (plan with --db to take the database's lots)")
        left = remaining_kg(conn, lot_id)
        if kg > left + PLAN_TOLERANCE_KG * max(1.0, kg):
            raise InputError("lots", f"{clip(lot_id)} has {left:.6g} kg left, the plan uses {kg:.6g} kg (the lot "
                                     "was consumed since the plan read it); plan again")


def plan_digest(plan: dict) -> str:
    """SHA-256 [hex] of the plan's RFC 8785 canonical JSON, ``recorded_as`` left out: what anyone holding the
    plan.json the command wrote can recompute (``json.load``, drop ``recorded_as``, canonicalise, hash)."""
    return hashlib.sha256(canonical_json({k: v for k, v in plan.items() if k != "recorded_as"})).hexdigest()


def record_plan(conn: Connection, plan: dict, actor: str) -> dict:
    """Record ``plan`` (:func:`magcycle.plan.campaigns.plan_campaigns`'s result) as planned, in the caller's write
    transaction; {plan_id, seq, campaigns}. Raises InputError (module docstring) before writing anything."""
    seq, _ = head(conn)
    plan_id = f"PLAN-{seq}"
    campaigns = [_campaign(plan_id, c) for c in plan["campaigns"]]
    _check_lots(conn, campaigns)
    try:
        digest = plan_digest(plan)
    except ValueError:
        raise InputError("plan", "holds a number that is not finite; nothing recorded") from None
    event = {"type": "plan", "actor": actor, "event_time": now(), "plan_id": plan_id, "status": plan["status"],
             "margin_usd": float(plan["margin_usd"]), "bound_usd": plan["bound"], "gap": plan["gap"],
             "plan_sha256": digest, "campaigns": campaigns}
    entry = record(conn, event)
    if entry["seq"] != seq:  # cannot happen under the write lock; refuse rather than mislabel
        raise db.DatabaseError(f"the ledger moved while plan {plan_id} was recorded")
    if campaigns:
        conn.execute(insert(db.planned_campaigns), [planned_row(c, plan_id, seq) for c in campaigns])
    return {"plan_id": plan_id, "seq": seq, "campaigns": campaigns}


def plan_ids(conn: Connection) -> list[str]:
    """The recorded plans' ids, oldest first."""
    rows = conn.execute(select(db.ledger.c.seq).where(db.ledger.c.kind == "plan").order_by(db.ledger.c.seq))
    return [f"PLAN-{seq}" for (seq,) in rows]


def planned_campaigns(conn: Connection, plan_id: str | None = None) -> dict:
    """{plan_id, campaigns} of plan ``plan_id``, by default the newest; {plan_id: None, campaigns: []} when no plan
    is recorded. Raises InputError for an unknown plan id."""
    if plan_id is None:
        newest = conn.execute(select(func.max(db.ledger.c.seq)).where(db.ledger.c.kind == "plan")).scalar()
        if newest is None:
            return {"plan_id": None, "campaigns": []}
        plan_id = f"PLAN-{newest}"
    elif plan_id not in plan_ids(conn):
        raise InputError("plan", f"no plan {clip(plan_id)} is recorded")
    rows = conn.execute(select(db.planned_campaigns.c.doc).where(db.planned_campaigns.c.plan_id == plan_id)
                        .order_by(db.planned_campaigns.c.id))
    return {"plan_id": plan_id, "campaigns": [json.loads(d) for (d,) in rows]}
