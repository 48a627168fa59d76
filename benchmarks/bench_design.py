"""Cascade design times (issue 4 targets), medians of repeats; writes benchmarks/results_design.md.

Cases (constant_beta, P507-like separation factors):
  Pr/Nd 99.8 % both ways at the published organic flow (S 3.30 per mol feed
  RE; reference-data 3d) and the scrub that gives the product split those
  targets imply: about 60 stages, flows fixed (target <= 2 s)
  and flows free (target <= 20 s); Pr/Nd 99.5 % both ways (48 stages, the
  published case); Dy/Tb 99 % / 95 %. Nothing here asserts a time.

    python benchmarks/bench_design.py [--quick]
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from magcycle.sx.design import product_split
from magcycle.sx.optimise import design_problem, minimum_stages, optimise_flows


def beta_doc(feed, beta, organic, scrub, targets):
    return {"cascade": {"model": "constant_beta"}, "flows": {"organic": organic, "feed": 1.0, "scrub": scrub},
            "feed": feed, "model": {"beta": beta, "organic_loading": 1.0, "scrub_acid": 3.0}, "targets": targets}


def prnd(p):
    # S = 3.30 as published; W = S - P with P the product split the targets imply (2.547475 at 99.5 %)
    W = 3.3 - float(product_split(0.75, p, p))
    return beta_doc({"Pr": 0.25, "Nd": 0.75}, {"Pr": 1.0, "Nd": 1.5}, 3.3, W,
                    {"extract": {"Nd": {"purity": p}}, "raffinate": {"Pr": {"purity": p}}})


CASES = [
    ("Pr/Nd 99.8 %/99.8 %", prnd(0.998)),
    ("Pr/Nd 99.5 %/99.5 %", prnd(0.995)),
    ("Dy/Tb 99 %/95 %", beta_doc({"Dy": 0.85, "Tb": 0.15}, {"Dy": 2.0, "Tb": 1.0}, 2.22, 1.366465,
                                 {"extract": {"Dy": {"purity": 0.99}}, "raffinate": {"Tb": {"purity": 0.95}}})),
]


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    quick = "--quick" in sys.argv
    rows = []
    for label, doc in CASES:
        prob = design_problem(doc)
        t_fixed, d = timed(lambda: minimum_stages(prob.spec, prob.targets), 1 if quick else 5)
        t_free, f = timed(lambda: optimise_flows(prob.spec, prob.targets), 1 if quick else 3)
        s = f.best.spec
        rows.append(f"| {label} | {d.total_stages} ({d.extraction_stages}+{d.scrub_stages}) | {d.evaluations} | "
                    f"{t_fixed:.2f} s | {s.n_stages} at organic {s.organic:.3f}, scrub {s.scrub:.3f} | "
                    f"{len(f.points)} | {t_free:.1f} s |")
        print(rows[-1], flush=True)
    head = (f"Measured {date.today()} on {platform.machine()}, CPython {platform.python_version()}, by "
            f"`python benchmarks/bench_design.py`. Medians ({'1 run' if quick else '5 runs fixed, 3 free'}).\n\n"
            "| case | minimum stages, flows fixed (n+m) | cascade solves | time | cheapest design, flows free "
            "| flow settings designed | time |\n|---|---|---|---|---|---|---|\n")
    text = head + "\n".join(rows) + "\n"
    Path(__file__).with_name("results_design.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
