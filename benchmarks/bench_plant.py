"""Reference-plant solve times (median of repeats), cold and warm.

cold: ``simulate()`` from nothing (SX designs and all cascades solved, the
recycle converged from an empty tear). warm: ``simulate(warm=previous)``,
re-solving with the previous SX designs and solutions as the start (the
benchmark target of issue 3: <= 200 ms), for the same feed and for a feed
rate 5 % higher (the recycle then iterates again). Also per built-in feed class.
Writes benchmarks/results_plant.md. Nothing here asserts a time.

    python benchmarks/bench_plant.py
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from magcycle.feed import CATALOGUE
from magcycle.flowsheet import simulate


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main() -> None:
    simulate()  # imports
    rows = []
    for label, feed in [("default blend", None)] + [(k, k) for k in CATALOGUE]:
        base = simulate(feed=feed)
        cold = median_ms(lambda: simulate(feed=feed), 7)
        warm = median_ms(lambda: simulate(feed=feed, warm=base), 15)
        near = median_ms(lambda: simulate(feed=feed, rate=base.feed.kg_per_h * 1.05, warm=base), 15)
        rows.append((label, cold, warm, near, base.recycle_iterations, base.closure))
    lines = [f"Measured {date.today()} on {platform.machine()}, CPython {platform.python_version()}, "
             "by `python benchmarks/bench_plant.py`. Medians.", "",
             "| feed | cold solve | warm re-solve, same feed | warm, feed rate +5 % | recycle iterations (cold) | closure |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {l} | {c:.0f} ms | {w:.1f} ms | {n:.1f} ms | {it} | {cl:.1e} |" for l, c, w, n, it, cl in rows]
    text = "\n".join(lines) + "\n"
    Path(__file__).with_name("results_plant.md").write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
