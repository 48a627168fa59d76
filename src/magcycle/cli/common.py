"""What every command shares: the one-line failure, exit statuses, argument parsing that fails in
one line, tables, JSON that holds only numbers, and the output folder.

Exit statuses: 0 ok, 1 solve failed, 2 bad input, 3 products off spec,
4 verification failed. A failure is one line on stderr,
``magcycle: error: FIELD: REASON`` (bad input) or ``magcycle: solve
failed: REASON``, never longer than ``MAX_LINE`` characters, and nothing
on stdout.

Only the standard library is imported here, so ``magcycle --help`` stays
fast.
"""

from __future__ import annotations

import argparse
import json
import math
import re

from magcycle.errors import ConvergenceError, InputError, MassBalanceError

__all__ = ["PROG", "EXIT_OK", "EXIT_SOLVE", "EXIT_INPUT", "EXIT_OFF_SPEC", "EXIT_VERIFY", "MAX_LINE", "Failure",
           "one_line", "say", "guard", "Parser", "Once", "seconds", "file_name", "table", "dumps", "check_out", "publish"]

PROG = "magcycle"
EXIT_OK, EXIT_SOLVE, EXIT_INPUT, EXIT_OFF_SPEC, EXIT_VERIFY = 0, 1, 2, 3, 4
#: longest line a failure prints [characters]
MAX_LINE = 400


class Failure(Exception):
    """A handled failure: one line for stderr and an exit status."""

    def __init__(self, line: str, status: int) -> None:
        super().__init__(line)
        self.line = line
        self.status = status


def one_line(text: object, limit: int = MAX_LINE) -> str:
    """``text`` on one line of at most ``limit`` characters.

    >>> one_line("a\\n  b" + "c" * 500)[:8], len(one_line("x" * 1000))
    ('a bccccc', 400)
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def say(text: str, end: str = "\n") -> None:
    """Write to stderr when there is one that takes it: a closed stderr (``2>&-``) or a full one
    (``2>/dev/full``) loses a progress line, never the run."""
    import sys
    from contextlib import suppress

    if sys.stderr is None:
        return
    with suppress(OSError, ValueError):  # ValueError: the stream was closed
        sys.stderr.write(text + end)
        sys.stderr.flush()


def guard(call, where: str = ""):
    """Run ``call()``; turn the project's errors into a :class:`Failure`."""
    suffix = f" ({where})" if where else ""
    try:
        return call()
    except InputError as exc:
        raise Failure(f"error: {one_line(exc)}{suffix}", EXIT_INPUT) from None
    except (ConvergenceError, MassBalanceError) as exc:
        raise Failure(f"solve failed: {one_line(exc)}{suffix}", EXIT_SOLVE) from None


# ------------------------------------------------------------ arguments
_ARGUMENT = re.compile(r"argument (?P<name>[^:]+): (?P<reason>.*)", re.S)


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line naming the argument:
    ``magcycle: error: --samples: invalid int value: 'x' (magcycle uq --help)``."""

    def error(self, message: str):
        field, reason = "arguments", message
        m = _ARGUMENT.match(message)
        if m:
            field, reason = m["name"].split("/")[0], m["reason"]
        elif message.startswith("unrecognized arguments: "):
            given = message.split(": ", 1)[1]
            field, reason = (given.split() or [repr(given)])[0], "unrecognised argument"
        elif message.startswith("the following arguments are required: "):
            field, reason = message.split(": ", 1)[1].split(",")[0], "required"
        raise Failure(f"error: {one_line(field, 60)}: {one_line(reason, 200)} ({self.prog} --help)", EXIT_INPUT)


def seconds(value: str) -> float:
    """An argument giving a time in seconds (a solver's time limit): a finite number > 0.

    >>> seconds("2.5")
    2.5
    """
    try:
        out = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not (math.isfinite(out) and out > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds > 0, got {value!r}")
    return out


def file_name(value: str) -> str:
    """An argument naming a file: not empty (``''`` would name the working folder)."""
    if not value.strip():
        raise argparse.ArgumentTypeError(f"empty ({value!r}); give a file")
    return value


class Once(argparse.Action):
    """Store an option's value, refusing the option given twice (``--feed a --feed b``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault("_given", set())
        if self.dest in seen:
            hint = "; a blend such as ev=0.5,wind=0.5 mixes feeds" if self.dest == "feed" else ""
            raise Failure(f"error: {option_string}: given twice; give it once{hint}", EXIT_INPUT)
        seen.add(self.dest)
        setattr(namespace, self.dest, values)


# ------------------------------------------------------------ output
def table(header: list[str], rows: list[list[str]], right_from: int = 1) -> str:
    """Plain aligned text table; columns from ``right_from`` on are right-aligned.

    >>> print(table(["a", "bb"], [["x", "1"], ["yyy", "22"]]))
    a    bb
    ---  --
    x     1
    yyy  22
    """
    cols = list(zip(header, *rows))
    widths = [max(len(c) for c in col) for col in cols]

    def fmt(cells):
        out = [c.rjust(w) if i >= right_from else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(out).rstrip()

    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def dumps(doc) -> str:
    """A result document as JSON: a NaN or an infinity is not JSON and not an answer, so it fails
    the command (exit 1) naming where it is.

    >>> dumps({"a": 1.5})
    '{\\n  "a": 1.5\\n}\\n'
    >>> dumps({"a": [1.0, float("nan")]})
    Traceback (most recent call last):
    ...
    magcycle.cli.common.Failure: solve failed: the result holds a non-finite number at a[1]
    """
    try:
        return json.dumps(doc, indent=2, allow_nan=False) + "\n"
    except ValueError:
        raise Failure(f"solve failed: the result holds a non-finite number at {_non_finite(doc) or '?'}",
                      EXIT_SOLVE) from None


def _non_finite(doc, path: str = "") -> str | None:
    """The path of the first NaN or infinity in a document (iterative)."""
    stack = [(doc, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return where
        if isinstance(node, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in reversed(list(node.items())))
        elif isinstance(node, (list, tuple)):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(node))))
    return None


def check_out(folder: str, names) -> None:
    """Refuse, before any work, an ``--out`` folder the set of ``names`` cannot be published to
    (:func:`magcycle.report.publish.check_folder`)."""
    from magcycle.report.publish import check_folder

    guard(lambda: check_folder(folder, names, field="--out"))


def publish(folder: str, files: dict) -> None:
    """Write the set of output files all at once (:func:`magcycle.report.publish.publish`)."""
    from magcycle.report.publish import publish as write

    guard(lambda: write(folder, files, field="--out"))
