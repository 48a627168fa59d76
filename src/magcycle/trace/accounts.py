"""Element accounts: mass-balance credits and claims per site x element x attribute x period.

Accounts
    One account per (site, element, attribute, period), attribute one of
    :data:`ATTRIBUTES` and period the calendar month ``YYYY-MM`` in which the
    credit arose. Pre- and post-consumer accounts are never merged.

Moves
    * ``transformation`` (a campaign's product lot): + m_E * s_(E,attr), the
      product's element mass times the attribute's share of that element in
      the campaign's inputs (:mod:`magcycle.trace.campaigns`); into the
      ``dfars_eligible`` account the whole m_E of an eligible lot.
    * ``claim`` (a certificate): - the same masses of the certified lot.
    * ``reversal`` (a revoked certificate): + what its claim took.

    The balance after every move is stored with it. A move that would take a
    balance below zero is refused, naming the account and the shortfall: a
    claim never exceeds the credits of its period.
"""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from magcycle.errors import InputError
from magcycle.trace import db

__all__ = ["ATTRIBUTES", "TOLERANCE_KG", "account_name", "balance", "plan_moves", "insert_moves", "balances"]

ATTRIBUTES = ("pre_consumer", "post_consumer", "dfars_eligible")
#: round-off allowed below zero before a balance counts as negative [kg]
TOLERANCE_KG = 1e-9


def account_name(site: str, element: str, attribute: str, period: str) -> str:
    """``site/element/attribute/period``.

    >>> account_name("Site-1", "Nd", "post_consumer", "2026-03")
    'Site-1/Nd/post_consumer/2026-03'
    """
    return f"{site}/{element}/{attribute}/{period}"


def _key(m: dict) -> tuple:
    return m["site"], m["element"], m["attribute"], m["period"]


def balance(conn: Connection, site: str, element: str, attribute: str, period: str) -> float:
    """The account's balance [kg]: the sum of its moves."""
    t = db.account_moves
    return float(conn.execute(select(func.coalesce(func.sum(t.c.delta_kg), 0.0)).where(
        t.c.site == site, t.c.element == element, t.c.attribute == attribute, t.c.period == period)).scalar())


def plan_moves(conn: Connection, moves: list[dict], field: str = "claim") -> list[dict]:
    """The moves with their ``balance_after_kg``, in order; refused (InputError on ``field``) when a balance
    would go below zero."""
    running: dict[tuple, float] = {}
    out = []
    for m in moves:
        k = _key(m)
        if k not in running:
            running[k] = balance(conn, *k)
        after = running[k] + m["delta_kg"]
        if after < -TOLERANCE_KG:
            raise InputError(field, f"claim beyond the available credit: account {account_name(*k)} holds "
                                    f"{running[k]:.6g} kg, the claim needs {-m['delta_kg']:.6g} kg "
                                    f"(shortfall {-after:.6g} kg)")
        running[k] = after
        out.append({**m, "balance_after_kg": after})
    return out


def insert_moves(conn: Connection, seq: int, moves: list[dict]) -> None:
    """Store planned moves under the ledger entry ``seq`` that records them."""
    if moves:
        conn.execute(insert(db.account_moves), [{**m, "seq": seq} for m in moves])


def balances(conn: Connection) -> list[dict]:
    """Every account with its credits, debits and balance [kg]."""
    t = db.account_moves
    rows = conn.execute(select(t.c.site, t.c.element, t.c.attribute, t.c.period,
                               func.sum(func.abs(t.c.delta_kg) + t.c.delta_kg) / 2,
                               func.sum(func.abs(t.c.delta_kg) - t.c.delta_kg) / 2,
                               func.sum(t.c.delta_kg))
                        .group_by(t.c.site, t.c.element, t.c.attribute, t.c.period)
                        .order_by(t.c.site, t.c.period, t.c.element, t.c.attribute))
    return [{"account": account_name(*r[:4]), "site": r[0], "element": r[1], "attribute": r[2], "period": r[3],
             "credits_kg": float(r[4]), "debits_kg": float(r[5]), "balance_kg": float(r[6])} for r in rows]
