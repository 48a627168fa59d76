"""What the benchmark scripts share: a progress line on stderr, a magcycle command run in this process, and
the median time of a call."""

from __future__ import annotations

import contextlib
import io
import statistics
import sys
import time

from magcycle.cli import main as cli_main

__all__ = ["say", "cli", "median_time"]


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


def median_time(fn, repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``fn()`` [s] (a small machine is noisy: medians)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
