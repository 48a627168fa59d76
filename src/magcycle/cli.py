"""Command line: ``magcycle`` (console script) and ``python -m magcycle``.

Subcommands::

    magcycle sx solve FILE [--json]   solve one cascade file (cascade-spec.md)
    magcycle run [--json]             the main job (for now: the bundled examples)

Exit status: 0 on success; 2 for bad input (argparse usage errors and
:class:`magcycle.errors.InputError`, printed as ``magcycle: error: FIELD:
REASON`` on one line of stderr); 1 when a solve fails
(:class:`~magcycle.errors.ConvergenceError`,
:class:`~magcycle.errors.MassBalanceError`). Nothing is written on stdout
unless the whole command succeeded.

Only the standard library is imported at module level, so ``magcycle --help``
stays fast; numpy and :mod:`magcycle.sx` are imported by the handlers.

>>> main(["--version"])
magcycle 0.1.0
0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from magcycle import __version__
from magcycle.errors import ConvergenceError, InputError, MassBalanceError

PROG = "magcycle"

#: Exit status for bad input (argparse uses the same) and for a failed solve.
EXIT_INPUT = 2
EXIT_SOLVE = 1

#: ``run`` reports progress on stderr once it has been running this long [s].
PROGRESS_AFTER_S = 2.0


class _Failure(Exception):
    """A handled failure: one line for stderr and an exit status."""

    def __init__(self, line: str, status: int) -> None:
        super().__init__(line)
        self.line = line
        self.status = status


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _guard(call, where: str = ""):
    """Run ``call()``; turn the project's errors into a :class:`_Failure`."""
    suffix = f" ({where})" if where else ""
    try:
        return call()
    except InputError as exc:
        raise _Failure(f"error: {_one_line(exc)}{suffix}", EXIT_INPUT) from None
    except (ConvergenceError, MassBalanceError) as exc:
        raise _Failure(f"solve failed: {_one_line(exc)}{suffix}", EXIT_SOLVE) from None


# ---------------------------------------------------------------- formatting
def _table(header: list[str], rows: list[list[str]], right_from: int = 1) -> str:
    """Plain aligned text table; columns from ``right_from`` on are right-aligned.

    >>> print(_table(["a", "bb"], [["x", "1"], ["yyy", "22"]]))
    a    bb
    ---  --
    x     1
    yyy  22
    """
    cols = list(zip(header, *rows))
    widths = [max(len(c) for c in col) for col in cols]

    def fmt(cells):
        out = [
            c.rjust(w) if i >= right_from else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(out).rstrip()

    lines = [fmt(header), fmt(["-" * w for w in widths])]
    lines += [fmt(r) for r in rows]
    return "\n".join(lines)


def _dumps(doc) -> str:
    return json.dumps(doc, indent=2) + "\n"


def _outlet_product(result, outlet: str):
    """The product an outlet delivers: (components, purity, recovery).

    The components are those the outlet takes most of (more than half of
    their feed flow); when there is none, the outlet's largest component.
    Purity is their combined mole fraction among the outlet's rare earths,
    recovery their combined share of the feed flow that reaches the outlet.
    For a binary split this is the outlet's main component.
    """
    flows = result.outlets[outlet].mol_per_h
    feed = result.spec.feed_mol_per_h
    frac = result.fraction_to(outlet)
    picked = [i for i in range(len(feed)) if frac[i] > 0.5]
    if not picked:
        picked = [max(range(len(feed)), key=lambda i: flows[i])]
    total = float(sum(flows))
    got = float(sum(flows[i] for i in picked))
    purity = got / total if total > 0 else float("nan")
    recovery = got / float(sum(feed[i] for i in picked))
    names = "+".join(result.components[i] for i in picked)
    return names, purity, recovery


def _solve_table(result) -> str:
    outlets = list(result.outlets)
    header = ["component"]
    header += [f"to {o}" for o in outlets]
    header += [f"purity in {o}" for o in outlets]
    fr = {o: result.fraction_to(o) for o in outlets}
    pu = {o: result.purity_of(o) for o in outlets}
    rows = []
    for i, c in enumerate(result.components):
        rows.append(
            [c]
            + [f"{float(fr[o][i]):.8g}" for o in outlets]
            + [f"{float(pu[o][i]):.8g}" for o in outlets]
        )
    spec = result.spec
    head = [
        f"cascade: {spec.source or '-'}",
        f"model: {result.model}   stages: {spec.extraction_stages} extraction / "
        f"{spec.scrub_stages} scrub / {spec.strip_stages} strip",
        f"iterations: {result.iterations}   closure: {result.closure:.3g}",
        "",
        "fraction of each component's feed flow to each outlet, and its mole "
        "fraction among the rare earths of that outlet:",
    ]
    return "\n".join(head) + "\n" + _table(header, rows) + "\n"


# ------------------------------------------------------------------ handlers
def _cmd_sx_solve(args) -> str:
    from magcycle.sx import load_cascade, solve

    spec = _guard(lambda: load_cascade(args.file))
    result = _guard(lambda: solve(spec))
    return _dumps(result.to_dict()) if args.json else _solve_table(result)


def _example_files():
    """(name, Traversable) of each bundled example cascade, sorted by name."""
    from importlib.resources import files

    folder = files("magcycle") / "examples"
    found = [f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file()]
    return [(f.name[: -len(".toml")], f) for f in sorted(found, key=lambda f: f.name)]


def _timed_solve(solve, spec, where: str):
    """Solve ``spec``; return (result, solve time [ms]).

    The time is the better of two solves: the first solve of a model in a
    process also pays one-time lazy imports (scipy's LAPACK for the Newton
    models), which are not the cost of the cascade.
    """
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        result = _guard(lambda: solve(spec), where)
        times.append((time.perf_counter() - t0) * 1e3)
    return result, min(times)


def _cmd_run(args) -> str:
    from importlib.resources import as_file

    from magcycle.sx import load_cascade, solve

    examples = _example_files()
    if not examples:
        raise _Failure("error: no example cascades found in magcycle/examples", EXIT_SOLVE)
    start = time.perf_counter()
    solved = []
    for i, (name, resource) in enumerate(examples, 1):
        if time.perf_counter() - start > PROGRESS_AFTER_S:
            print(f"{PROG}: solving {name} ({i}/{len(examples)})", file=sys.stderr, flush=True)
        where = f"example {name}"
        with as_file(resource) as path:
            spec = _guard(lambda: load_cascade(path), where)
        result, ms = _timed_solve(solve, spec, where)
        solved.append((name, result, ms))

    if args.json:
        return _dumps({name: result.to_dict() for name, result, _ in solved})

    header = ["example", "outlet", "product", "purity %", "recovery %",
              "model", "iterations", "closure", "solve ms"]
    rows = []
    for name, result, ms in solved:
        for outlet in ("extract", "raffinate"):
            product, purity, recovery = _outlet_product(result, outlet)
            rows.append([name, outlet, product, f"{100 * purity:.4f}",
                         f"{100 * recovery:.4f}", result.model, str(result.iterations),
                         f"{result.closure:.2g}", f"{ms:.1f}"])
    title = ("Products of the bundled example cascades (magcycle/examples); "
             "product = the components an outlet takes most of; "
             "solve ms = best of 2 solves")
    return title + "\n" + _table(header, rows, right_from=3) + "\n"


# -------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="NdFeB magnet recycling: solvent-extraction cascades and plant tools.",
        epilog="Exit status: 0 ok, 1 solve failed, 2 bad input.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="the main job (for now: solve the bundled example cascades)",
        description="Solve the bundled example cascades and tabulate their products.",
    )
    run.add_argument("--json", action="store_true",
                     help="print the result documents as JSON, keyed by example name")
    run.set_defaults(handler=_cmd_run)

    sx = sub.add_parser("sx", help="solvent-extraction cascades",
                        description="Solvent-extraction cascades.")
    sx_sub = sx.add_subparsers(dest="sx_command", metavar="ACTION", required=True)
    solve = sx_sub.add_parser(
        "solve",
        help="solve one cascade file (TOML or JSON)",
        description="Solve one cascade (TOML or JSON; see shared/design/cascade-spec.md "
        "and the examples in magcycle/examples).",
    )
    solve.add_argument("file", metavar="FILE", help="cascade file, .toml or .json")
    solve.add_argument("--json", action="store_true",
                       help="print the result document (cascade-spec.md) as JSON")
    solve.set_defaults(handler=_cmd_sx_solve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_INPUT)
    try:
        text = args.handler(args)
    except _Failure as fail:
        print(f"{PROG}: {fail.line}", file=sys.stderr)
        return fail.status
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `magcycle run | head -1`: the reader left
        # Point stdout at devnull so that the flush at exit does not fail again
        # (the recipe of the Python docs, "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_SOLVE
    return 0
