"""``magcycle plan sequence FILE [--objective weighted_tardiness|makespan] [--time-limit S] [--json]``:
order jobs (campaigns) on one line with family changeovers (:mod:`magcycle.plan.sequence`).

Prints the schedule (position, job, family, changeover, start, end, due
day, tardiness [days]) and the objective with HiGHS's status, bound and
gap, or the result as JSON. Every order is feasible, so an order is always
reported: when HiGHS finds none better within the time limit, the starting
order of the local search (``found_by`` heuristic) with the LP relaxation's
bound. Exit status 2 for bad input (one line naming the field), 1 when the
solve failed (a schedule that breaks the proven bound).
"""

from __future__ import annotations


from magcycle.cli.common import EXIT_SOLVE, Failure, dumps, guard, one_line, table

__all__ = ["cmd_sequence"]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.10g}"


def _text(result: dict) -> str:
    """The schedule as a table, then the objective and the solver's verdict."""
    rows = [[str(i + 1), r["job"], r["family"], _num(r["setup_days"]), _num(r["start_day"]), _num(r["end_day"]),
             _num(r["due_day"]), _num(r["tardiness_days"])] for i, r in enumerate(result["schedule"])]
    head = ["position", "job", "family", "setup [d]", "start [d]", "end [d]", "due [d]", "tardiness [d]"]
    lines = [table(head, rows, right_from=3), "",
             f"objective ({result['minimise']}): {_num(result['objective'])}",
             f"makespan: {_num(result['makespan'])} days; weighted tardiness: {_num(result['weighted_tardiness'])}",
             (f"status: {result['status']}; bound {_num(result['bound'])}; gap {_num(result['gap'])}; "
              f"order found by the {'solver' if result['found_by'] == 'milp' else 'local search'}; "
              f"{result['seconds']:.3f} s")]
    return "\n".join(lines) + "\n"


def cmd_sequence(args) -> str:
    """Read, validate and solve a sequencing file; the table or the JSON document."""
    from magcycle.documents import read_document
    from magcycle.plan.sequence import parse_sequence, sequence

    limit = args.time_limit  # a finite number > 0 (cli.common.seconds)
    doc = guard(lambda: parse_sequence(read_document(args.file)))
    try:
        result = guard(lambda: sequence(doc, args.objective, limit))  # HiGHS kept off stdout by the MILP layer
    except ArithmeticError as exc:
        raise Failure(f"solve failed: {one_line(exc, 300)}", EXIT_SOLVE) from None
    return dumps(result) if args.json else _text(result)
