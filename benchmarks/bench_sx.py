"""SX engine benchmark: median solve times, batched throughput, import time.

    python benchmarks/bench_sx.py [--quick] [--out benchmarks/results_sx.md]

Cascades are drawn by ``magcycle.sx.sampling.random_cascade`` with a fixed
seed, for 20/60/120 stages x 2/4/6 components and each model. "cold" is a
solve from nothing; "warm" re-solves a neighbouring specification (first
log K / beta / D of the first component moved by 1 %) from the base
solution; "batched" is the time per variant of ``solve_many`` over many
variants of the same cascade. Times are medians of repeated runs (the
machine is small and noisy; compare ratios, not single numbers). The
mass_action robustness row counts failures over 1,000 random valid
specifications. Nothing here asserts a time: the table is the result.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from magcycle.sx import solve, solve_many
from magcycle.sx.sampling import random_cascade

from _shared import median_time

GEOMETRY = {  # total stages -> (n, m, k) per model
    "constant_d": lambda N: (N // 2, N - N // 2, 0),
    "constant_beta": lambda N: (N // 2, N - N // 2, 0),
    "mass_action": lambda N: (2 * N // 5, 2 * N // 5, N - 2 * (2 * N // 5)),
}
FIRST_PARAM = {"constant_d": "model.D", "constant_beta": "model.beta", "mass_action": "model.log10_K"}
BATCH = {"constant_d": 100_000, "constant_beta": 2_000, "mass_action": 300}



def neighbour(spec, factor=1.01):
    key = FIRST_PARAM[spec.model]
    table, name = key.split(".")[1], spec.components[0]
    value = spec.to_dict()["model"][table][name]
    new = value + 0.01 if spec.model == "mass_action" else value * factor
    return spec.replace({"model": {table: {name: new}}}), f"{key}.{name}", value


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def bench_case(model, N, C, quick):
    rng = np.random.default_rng(1000 * N + C)
    spec = random_cascade(rng, model, components=C, stages=GEOMETRY[model](N))
    base = solve(spec)  # also pays one-off imports
    reps = 3 if quick else (50 if model == "constant_d" else 7)
    cold = median_time(lambda: solve(spec), reps)
    near, key, value = neighbour(spec)
    warm = median_time(lambda: solve(near, warm_start=base), reps)
    warm_it = solve(near, warm_start=base).iterations
    B = BATCH[model] // (10 if quick else 1)
    if model == "constant_beta" and N >= 120:
        B //= 2
    spread = np.random.default_rng(7).uniform(-0.02, 0.02, B)
    values = value + spread if model == "mass_action" else value * (1 + spread)
    t = time.perf_counter()
    batch = solve_many(spec, {key: values}, on_failure="mark")
    per_variant = (time.perf_counter() - t) / B
    return {
        "model": model, "stages": spec.n_stages, "components": C,
        "cold": cold, "cold_it": base.iterations, "warm": warm, "warm_it": warm_it,
        "batched": per_variant, "B": B, "failed": int((~batch.converged).sum()),
        "closure": max(base.closure, float(np.nanmax(batch.closure))),
    }


def import_times(repeats: int = 7):
    def run(cmd):
        return median_time(lambda: subprocess.run(cmd, check=True, capture_output=True), repeats)

    exe = Path(sys.executable).with_name("magcycle")
    return {
        "python -c 'import magcycle.sx'": run([sys.executable, "-c", "import magcycle.sx"]),
        "python -c 'pass' (interpreter alone)": run([sys.executable, "-c", "pass"]),
        "magcycle --help": run([str(exe), "--help"]) if exe.exists() else float("nan"),
    }


def robustness(n_specs: int, model: str = "mass_action", max_section: int | None = None):
    """Cold-solve n random valid specs; (failures, n, median and max iterations, median time)."""
    rng = np.random.default_rng(2026)
    fails, its, times = 0, [], []
    for _ in range(n_specs):
        stages = (0, None, None)
        if max_section:
            stages = (int(rng.integers(1, max_section + 1)), int(rng.integers(0, max_section + 1)), None)
        spec = random_cascade(rng, model, stages=stages)
        t = time.perf_counter()
        try:
            r = solve(spec)
        except Exception:  # noqa: BLE001 - counting failures is the point
            fails += 1
            continue
        times.append(time.perf_counter() - t)
        its.append(r.iterations)
    return fails, n_specs, statistics.median(its), max(its), statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and variants (smoke run)")
    ap.add_argument("--out", default=str(Path(__file__).with_name("results_sx.md")))
    ap.add_argument("--robustness", action="store_true",
                    help="only the robustness runs: 1,000 random specs each of mass_action "
                         "(default ranges) and constant_beta (up to 120 stages per section)")
    args = ap.parse_args(argv)
    if args.robustness:
        for model, max_section in (("mass_action", None), ("constant_beta", 120)):
            fails, n, med_it, max_it, med_t = robustness(1000, model, max_section)
            print(f"{model}: {fails} failures in {n} random valid specifications (seed 2026"
                  f"{f', up to {max_section} stages per section' if max_section else ''}); median "
                  f"{med_it:.0f} iterations (max {max_it}), median {fmt(med_t)} per cold solve")
        return
    rows = []
    for model in ("constant_d", "constant_beta", "mass_action"):
        for N in (20, 60, 120):
            for C in (2, 4, 6):
                row = bench_case(model, N, C, args.quick)
                rows.append(row)
                print(f"{model:14s} N={row['stages']:3d} C={C}  cold {fmt(row['cold'])}"
                      f"  warm {fmt(row['warm'])}  batched {fmt(row['batched'])}/variant", flush=True)
    imports = import_times(3 if args.quick else 7)
    rob = robustness(100 if args.quick else 1000)
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, numpy {np.__version__}, by `python benchmarks/bench_sx.py"
        f"{' --quick' if args.quick else ''}`. Medians.",
        "",
        "| model | stages | components | cold solve | iterations | warm solve | iterations "
        "| batched, per variant | variants | failed | worst closure |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['stages']} | {r['components']} | {fmt(r['cold'])} | {r['cold_it']} "
            f"| {fmt(r['warm'])} | {r['warm_it']} | {fmt(r['batched'])} | {r['B']} | {r['failed']} "
            f"| {r['closure']:.1e} |")
    lines += ["", "| start-up | median |", "|---|---|"]
    lines += [f"| {k} | {fmt(v)} |" for k, v in imports.items()]
    fails, n, med_it, max_it, med_t = rob
    lines += ["", f"mass_action robustness: {fails} failures in {n} random valid specifications "
                  f"(`magcycle.sx.sampling.random_cascade`, seed 2026); median {med_it:.0f} "
                  f"iterations (max {max_it}), median {fmt(med_t)} per cold solve."]
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
