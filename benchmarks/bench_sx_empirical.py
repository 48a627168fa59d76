"""empirical_ph benchmark: solve times at 60 stages x 10 components, PrOMMiS's case, robustness.

    python benchmarks/bench_sx_empirical.py [--quick] [--out benchmarks/results_sx_empirical.md]

Rows: cold and warm solves of random 60-stage (24 extraction, 24 scrub, 12 strip) cascades of 10
components (rare earths and impurities, ``random_cascade(..., "empirical_ph")`` with fixed seeds;
warm = a 1 % change of the extractant from the base solution); PrOMMiS's steady test case
(examples/prommis_d2ehpa_3stage.toml) as it is and with 100 extraction stages; failures over 1,000
random valid specifications (non-rare-earth components and loaded organics included), with the
count of calls of each fallback. Times are medians of repeats on a
small, noisy machine. Nothing here asserts a time: the table is the result.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from magcycle.errors import ConvergenceError
from magcycle.sx import load_cascade, solve
from magcycle.sx import empirical_solver
from magcycle.sx.sampling import random_cascade

from _shared import median_time

ROOT = Path(__file__).resolve().parents[1]



def fmt(s: float) -> str:
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def ten_component_cascades(count: int):
    """Random 60-stage empirical_ph cascades with exactly 10 components."""
    out, seed = [], 0
    while len(out) < count:
        spec = random_cascade(np.random.default_rng(seed), "empirical_ph", components=6, stages=(24, 24, 12))
        seed += 1
        if len(spec.components) == 10:
            out.append(spec)
    return out


def timing_rows(count: int, repeats: int):
    cold, warm, its_cold, its_warm, failed = [], [], [], [], 0
    for spec in ten_component_cascades(count):
        try:
            base = solve(spec)
        except ConvergenceError:
            failed += 1
            continue
        near = spec.replace({"model": {"extractant_vol_pct": spec.params.extractant_vol_pct * 1.01}})
        cold.append(median_time(lambda: solve(spec), repeats))
        warm.append(median_time(lambda: solve(near, warm_start=base), repeats))
        its_cold.append(base.iterations)
        its_warm.append(solve(near, warm_start=base).iterations)
    return [
        ("60 stages x 10 components, cold", fmt(statistics.median(cold)), "<= 30 ms",
         statistics.median(cold) <= 0.030,
         f"median of {len(cold)} cascades ({failed} did not converge); max {fmt(max(cold))}; "
         f"iterations median {statistics.median(its_cold):.0f}"),
        ("60 stages x 10 components, warm", fmt(statistics.median(warm)), "<= 5 ms",
         statistics.median(warm) <= 0.005,
         f"extractant +1 % from the base solution; max {fmt(max(warm))}; "
         f"iterations median {statistics.median(its_warm):.0f}"),
    ]


def prommis_rows(repeats: int):
    spec = load_cascade(ROOT / "examples" / "prommis_d2ehpa_3stage.toml")
    long = spec.replace({"cascade": {"extraction_stages": 100}})
    rows = []
    for name, s in (("PrOMMiS D2EHPA case, 3 stages x 12 components", spec),
                    ("the same with 100 extraction stages", long)):
        res = solve(s)
        rows.append((name, fmt(median_time(lambda: solve(s), repeats)), "", None,
                     f"{res.iterations} iterations, closure {res.closure:.1e}"))
    return rows


#: the solver's fallbacks, in the order it tries them (each counted where it is called)
FALLBACKS = ("trust_region_solve", "acid_continuation", "arclength_continuation", "extractant_continuation",
             "load_continuation", "block_solve")


def robustness_row(count: int):
    calls = dict.fromkeys(FALLBACKS, 0)
    originals = {name: getattr(empirical_solver, name) for name in FALLBACKS}

    def counted(name, fn):
        def run(*a, **k):
            calls[name] += 1
            return fn(*a, **k)
        return run

    for name, fn in originals.items():
        setattr(empirical_solver, name, counted(name, fn))
    failures, times = [], []
    try:
        for seed in range(count):
            spec = random_cascade(np.random.default_rng(seed), "empirical_ph")
            t = time.perf_counter()
            try:
                solve(spec)
            except ConvergenceError:
                failures.append(seed)
            times.append(time.perf_counter() - t)
    finally:
        for name, fn in originals.items():
            setattr(empirical_solver, name, fn)
    used = ", ".join(f"{name} {n}" for name, n in calls.items())
    note = (f"seeds 0..{count - 1}; fallback calls: {used}; solve median {fmt(statistics.median(times))}, "
            f"max {fmt(max(times))}" + (f"; failed seeds {failures[:12]}" if failures else ""))
    return [(f"failures over {count} random valid specifications", str(len(failures)), "0", not failures, note)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results_sx_empirical.md"))
    args = ap.parse_args(argv)
    count, repeats, robust = (3, 3, 50) if args.quick else (10, 7, 1000)
    rows = timing_rows(count, repeats) + prommis_rows(repeats) + robustness_row(robust)
    lines = ["# empirical_ph benchmark", "",
             f"`python benchmarks/bench_sx_empirical.py{' --quick' if args.quick else ''}` on "
             f"{platform.machine()} Python {sys.version.split()[0]}; medians of repeats.", "",
             "| measure | measured | target | met | notes |", "|---|---|---|---|---|"]
    for name, value, target, met, note in rows:
        lines.append(f"| {name} | {value} | {target} | {'' if met is None else ('yes' if met else 'no')} | {note} |")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
