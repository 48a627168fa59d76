"""``magcycle plan stn FILE --horizon H [--integer-batches] [--time-limit S] [--json]``: state-task network
batch scheduling (Kondili et al. 1993, :mod:`magcycle.plan.stn`).

Prints the solver's status, objective, bound and gap, the schedule (unit, task, start, end, batch) and
the final states, as tables or as JSON. Exit status 0 with a schedule (optimal, or the best found within
the time limit: the status and gap say which); 1 when no schedule exists or none was found in time, one
line ``magcycle: solve failed: REASON``; 2 on bad input, one line ``magcycle: error: FIELD: REASON``
(``--horizon`` not a positive multiple of the file's ``time_step_h``, ``--time-limit`` not > 0, a bad file).
"""

from __future__ import annotations

from pathlib import Path

from magcycle.cli.common import EXIT_SOLVE, Failure, dumps, guard, one_line, table

__all__ = ["cmd_stn", "stn_text"]


def _number(x: float | None, digits: int = 9) -> str:
    return "-" if x is None else f"{x:.{digits}g}"


def stn_text(result: dict, name: str, doc) -> str:
    """The result of :func:`magcycle.plan.stn.schedule_stn` as text tables."""
    kind = "whole-number" if result["integer_batches"] else "continuous"
    head = [f"STN schedule of {name}: horizon {result['horizon_h']:g} h in steps of {result['time_step_h']:g} h, "
            f"{kind} batches",
            f"status {result['status']}, objective {_number(result['objective'])}, bound {_number(result['bound'])}, "
            f"gap {_number(result['gap'], 3)}, solved in {result['seconds']:.2f} s", ""]
    rows = [[e["unit"], e["task"], f"{e['start_h']:g}", f"{e['end_h']:g}", f"{e['batch']:.6g}"]
            for e in result["schedule"]]
    batches = table(["unit", "task", "start h", "end h", "batch"], rows, right_from=2) if rows else "no batches"
    states = [[s, f"{a:.6g}", f"{doc.states[s].price:g}", f"{doc.states[s].price * a:.6g}"]
              for s, a in result["final_states"].items()]
    return "\n".join(head + [batches, "", table(["state", "final", "price", "value"], states)]) + "\n"


def cmd_stn(args) -> str:
    """Schedule the network of ``args.file`` over ``args.horizon`` hours; the text or JSON to print."""
    from magcycle.plan.milp import Infeasible
    from magcycle.plan.stn import horizon_steps, load_stn, schedule_stn

    limit = args.time_limit  # a finite number > 0 (cli.common.seconds)
    doc = guard(lambda: load_stn(args.file))
    guard(lambda: horizon_steps(doc, args.horizon, field="--horizon"))
    try:
        result = guard(lambda: schedule_stn(doc, args.horizon, integer_batches=args.integer_batches,
                                            time_limit=limit))
    except Infeasible as exc:
        raise Failure(f"solve failed: {one_line(exc)}", EXIT_SOLVE) from None
    return dumps(result) if args.json else stn_text(result, Path(args.file).name, doc)
