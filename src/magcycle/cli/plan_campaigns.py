"""``magcycle plan campaigns PLAN.toml [--db URL [--record]] [--json] [--out DIR]``: the campaign plan
(:mod:`magcycle.plan.campaigns`).

Lots come from the file's ``[[lots]]``, or with ``--db`` from the trace
database (every feed lot with dry mass left, through
:func:`magcycle.trace.lots.available_lots`). Writes plan.json and plan.html
(a Gantt chart) to ``--out`` (default magcycle-plan). Exit 1, one line naming
the orders short, when the orders cannot all be met. With ``--record`` the
planned campaigns are recorded in the ``--db`` database as planned
(:mod:`magcycle.trace.plans`), before any file is written; plan.json then
carries ``recorded_as`` (the plan id).
"""

from __future__ import annotations

from magcycle.cli.common import EXIT_INPUT, Failure, check_out, dumps, guard, one_line, publish, table

__all__ = ["cmd_campaigns", "PLAN_FILES"]

PLAN_FILES = ("plan.json", "plan.html")


def _document(args):
    from magcycle.documents import read_document
    from magcycle.plan.campaigns import PlanFile
    from magcycle.schema import validate

    raw = guard(lambda: read_document(args.file))
    if args.db:
        if raw.get("lots"):
            raise Failure("error: --db: the plan file lists [[lots]] too; take the lots from one place", EXIT_INPUT)
        raw = dict(raw, lots=_lots_from_db(args))
    return guard(lambda: validate(PlanFile, raw))


def _lots_from_db(args) -> list[dict]:
    from magcycle.trace.db import open_engine, require_head, transaction
    from magcycle.trace.lots import available_lots

    engine = guard(lambda: open_engine(args.db))
    try:
        with transaction(engine, write=False) as conn:
            guard(lambda: require_head(conn))
            return available_lots(conn)
    finally:
        engine.dispose()


def _text(plan: dict) -> str:
    rows = [[c["id"], c["family"], c["custody"], c["start"], c["end"], f"{c['feed_kg']:.6g}",
             " ".join(f"{p} {kg:.4g}" for p, kg in c["products_kg"].items())] for c in plan["campaigns"]]
    orders = [[o["order"], o["product"], f"{o['mass_kg']:.6g}", o["due"], f"{o['delivered_kg']:.6g}",
               f"{o['shortfall_kg']:.6g}", f"{o['late_kg_weeks']:.6g}"] for o in plan["orders"]]
    gap = "-" if plan["gap"] is None else f"{100 * plan['gap']:.3g} %"
    return (f"plan: HiGHS {plan['status']}, margin {plan['margin_usd']:,.0f} USD, gap {gap}, "
            f"{plan['seconds']:.2f} s\n"
            + table(["campaign", "family", "custody", "start", "end", "feed kg", "products kg"], rows, right_from=5)
            + "\n\n" + table(["order", "product", "kg", "due", "delivered", "short", "late kg x wk"], orders,
                             right_from=2) + "\n")


def cmd_campaigns(args):
    from magcycle.plan.campaigns import plan_campaigns
    from magcycle.plan.milp import Infeasible
    from magcycle.report.plan import render_plan_report

    limit = args.time_limit  # a finite number > 0 (cli.common.seconds)
    if not 0 <= args.gap < 1:  # NaN fails too
        raise Failure(f"error: --gap: a relative gap in [0, 1), got {args.gap!r}", EXIT_INPUT)
    if args.record and not args.db:
        raise Failure("error: --record: needs --db (the database whose lots are planned and where the plan is "
                      "recorded)", EXIT_INPUT)
    doc = _document(args)
    check_out(args.out, PLAN_FILES)
    try:
        plan = guard(lambda: plan_campaigns(doc, time_limit=limit, gap=args.gap))
    except Infeasible as exc:
        raise Failure(f"solve failed: {one_line(exc)}", 1) from None
    recorded = _record(args, plan) if args.record else None  # first: a refused record leaves no files either
    text = dumps(plan if recorded is None else dict(plan, recorded_as=recorded))
    publish(args.out, {"plan.json": text, "plan.html": render_plan_report(plan)})
    if args.json:
        return text
    note = "" if recorded is None else (f"recorded plan {recorded} ({len(plan['campaigns'])} planned campaign(s)) "
                                        "in the trace database\n")
    return _text(plan) + note + f"wrote {', '.join(PLAN_FILES)} in {args.out}\n"


def _record(args, plan: dict) -> str:
    """Record the plan as planned in one write transaction on --db; its plan id."""
    from magcycle.cli.trace import actor, session
    from magcycle.trace.plans import record_plan

    with session(args) as conn:
        return record_plan(conn, plan, actor())["plan_id"]
