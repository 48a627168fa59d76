"""Monte Carlo throughput (issue 4 targets); writes benchmarks/results_uq.md. Nothing here asserts a time.

Cases
  * the reference plant under the catalogue's feed variability (23 parameters:
    blend weights and each class's Nd, Pr, Dy, Tb), Latin hypercube, seed 0,
    on the local process pool with every core (target: 1e4 samples <= 60 s;
    median of --repeats runs);
  * 1e5 variants of a 60-stage x 4-component constant_beta cascade (beta of
    three components and the organic flow uncertain), same pool
    (target <= 60 s);
  * the same plant samples on one process, for the per-sample cost.

    python benchmarks/bench_uq.py [--plant-samples N] [--cascade-variants N] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np

from magcycle.analysis import Model
from magcycle.analysis.cascade import CascadeProblem
from magcycle.analysis.parameters import Distribution, Parameter
from magcycle.analysis.plant import PlantProblem
from magcycle.sx.sampling import random_cascade


def cascade_problem():
    spec = random_cascade(np.random.default_rng(3), "constant_beta", components=4, stages=(30, 30, 0))
    doc = spec.to_dict()
    params = [Parameter(f"model.beta.{e}", Distribution("lognormal", (doc["model"]["beta"][e], 1.02)))
              for e in spec.components[1:]]
    params.append(Parameter("flows.organic", Distribution("normal", (doc["flows"]["organic"],
                                                                     0.01 * doc["flows"]["organic"]))))
    return CascadeProblem(spec, params, CascadeProblem.default_metrics(spec))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plant-samples", type=int, default=10000)
    ap.add_argument("--cascade-variants", type=int, default=100000)
    ap.add_argument("--serial-samples", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=3, help="runs of the 1e4-sample case (median reported)")
    args = ap.parse_args()
    cores = os.cpu_count()
    rows = []

    plant = Model(PlantProblem.default())
    t0 = time.perf_counter()
    r = plant.monte_carlo(args.serial_samples, seed=1, executor="serial")
    t = time.perf_counter() - t0
    rows.append(("reference plant, one process", f"{args.serial_samples}", f"{t:.1f} s",
                 f"{1e3 * t / args.serial_samples:.1f} ms", "-", f"P(meets spec) {100 * r.probability()['p']:.1f} %"))

    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        r = plant.monte_carlo(args.plant_samples, seed=0, executor=f"processes:{cores}")
        times.append(time.perf_counter() - t0)
    t = float(np.median(times))
    spread = f" (runs {', '.join(f'{x:.1f}' for x in times)} s)" if len(times) > 1 else ""
    rows.append((f"reference plant, {cores} processes", f"{args.plant_samples}", f"{t:.1f} s{spread}",
                 f"{1e3 * t / args.plant_samples:.2f} ms", "1e4 <= 60 s",
                 f"P(meets spec) {100 * r.probability()['p']:.2f} %, {sum(r.failures().values())} failed"))

    cas = Model(cascade_problem())
    t0 = time.perf_counter()
    r = cas.monte_carlo(args.cascade_variants, seed=0, executor=f"processes:{cores}")
    t = time.perf_counter() - t0
    conv = sum(e is None for e in r.errors)
    rows.append((f"constant_beta 60 x 4, {cores} processes", f"{args.cascade_variants}", f"{t:.1f} s",
                 f"{1e6 * t / args.cascade_variants:.0f} us", "1e5 <= 60 s", f"{conv} converged"))

    head = (f"Measured {date.today()} on {platform.machine()}, CPython {platform.python_version()}, {cores} cores, "
            f"by `python benchmarks/bench_uq.py`. Wall clock, including worker start-up; the "
            f"2-process plant case is the median of {args.repeats} runs, the others one run.\n\n"
            "| case | samples | time | per sample | target | result |\n|---|---|---|---|---|---|\n")
    text = head + "".join(f"| {' | '.join(r)} |\n" for r in rows)
    Path(__file__).with_name("results_uq.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
