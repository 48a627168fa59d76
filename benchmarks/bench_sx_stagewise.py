"""Cascades with the extensions of magcycle.sx.stagewise: solve times and outcomes over random specs.

    python benchmarks/bench_sx_stagewise.py [--quick] [--out benchmarks/results_sx_stagewise.md]

Rows: each nonlinear model at 60 stages x 6 components (``random_cascade`` with fixed seeds) as it
is (its own solver) and with a Murphree efficiency of 0.8, entrainment of 1 % or a loaded organic;
then, per model, the outcomes of random valid specifications with random extensions
(``random_extension``): solved (every closure and stage balance within 1e-12, as each solve
checks), refused as input (exit 2: no steady state by the model's rules), or not converged with the
reason. Times are medians of repeats on a small, noisy machine. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import numpy as np

from magcycle.errors import ConvergenceError, InputError
from magcycle.sx import solve
from magcycle.sx.sampling import random_cascade, random_extension

from _shared import median_time

ROOT = Path(__file__).resolve().parents[1]
STAGES = {"constant_beta": (30, 30, 0), "mass_action": (24, 24, 12), "empirical_ph": (24, 24, 12)}


def timing_rows(repeats: int) -> list[str]:
    rows = []
    for model, stages in STAGES.items():
        spec = random_cascade(np.random.default_rng(5), model, components=6, stages=stages)
        variants = {"as it is": {}, "Murphree 0.8": {"cascade": {"murphree_efficiency": 0.8}},
                    "entrainment 1 %": {"cascade": {"entrainment": 0.01}}}
        if model != "empirical_ph":
            variants["loaded organic"] = {"organic_inlet": {spec.components[0]: 0.005}}
        for label, change in variants.items():
            variant = spec.replace(change)
            r = solve(variant)
            t = median_time(lambda: solve(variant), repeats)
            rows.append(f"| {model} | {len(spec.components)} x {variant.n_stages} | {label} | {t * 1e3:.1f} ms | "
                        f"{r.iterations} | {r.residual:.1e} | {r.closure:.1e} |")
    return rows


def outcome_rows(count: int) -> list[str]:
    rows = []
    for model in STAGES:
        solved = refused = 0
        failed = []
        for seed in range(count):
            rng = np.random.default_rng(10_000 + seed)
            stages = (int(rng.integers(1, 25)), int(rng.integers(0, 20)),
                      0 if model == "constant_beta" else int(rng.integers(0, 8)))
            base = random_cascade(rng, model, components=int(rng.integers(1, 6)), stages=stages)
            try:
                solve(random_extension(rng, base))
                solved += 1
            except InputError:
                refused += 1
            except ConvergenceError as exc:
                failed.append((seed, str(exc).split(": ", 1)[-1][:90]))
        reasons = "; ".join(f"seed {s}: {why}" for s, why in failed[:3])
        rows.append(f"| {model} | {count} | {solved} | {refused} | {len(failed)} | {reasons} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results_sx_stagewise.md"))
    args = ap.parse_args()
    repeats, count = (3, 30) if args.quick else (11, 300)
    lines = ["# Extended cascades (magcycle.sx.stagewise)", "",
             f"`python benchmarks/bench_sx_stagewise.py{' --quick' if args.quick else ''}` on "
             f"{platform.machine()} Python {platform.python_version()}; medians of {repeats} solves.", "",
             "| model | components x stages | variant | solve | iterations | residual | closure |",
             "|---|---|---|---|---|---|---|", *timing_rows(repeats), "",
             f"Random specifications with random extensions (seeds 10000..{10_000 + count - 1}):", "",
             "| model | specs | solved | refused as input (exit 2) | not converged | reasons (first three) |",
             "|---|---|---|---|---|---|", *outcome_rows(count)]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
