"""What the benchmark scripts share: a progress line on stderr, and a magcycle command run in this process."""

from __future__ import annotations

import contextlib
import io
import sys

from magcycle.cli import main as cli_main

__all__ = ["say", "cli"]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def cli(*argv: str) -> str:
    """``magcycle ARGV`` in this process; its output (a nonzero status stops the benchmark)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli_main(list(argv))
    if status != 0:
        raise SystemExit(f"magcycle {' '.join(argv)}: exit {status}")
    return out.getvalue()
