"""This tree against another commit, in one run: ``import magcycle.sx``, ``magcycle --help`` and the
1e4-sample plant Monte Carlo (issue 13: at most 5 % slower than the commit before). Nothing asserts a time.

    git worktree add /tmp/magcycle-base <commit>
    python benchmarks/bench_compare.py /tmp/magcycle-base [--samples 10000] [--rounds 3] [--starts 30]

Each measurement runs in a fresh interpreter with ``PYTHONPATH`` pointing at one
tree's ``src``, the two trees alternating round by round so that the noise of
a shared machine falls on both alike; the table reports medians and the ratio
this/base. Writes ``benchmarks/results_compare.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

_IMPORT = "import time; t = time.perf_counter(); import magcycle.sx; print(time.perf_counter() - t)"
_HELP = ("import time, io, contextlib; t = time.perf_counter(); from magcycle.cli import main\n"
         "with contextlib.redirect_stdout(io.StringIO()): main(['--help'])\nprint(time.perf_counter() - t)")
_MC = """
import os, time
from magcycle.analysis.model import Model
from magcycle.analysis.plant import PlantProblem
cores = os.cpu_count()
t = time.perf_counter()
r = Model(PlantProblem.default()).monte_carlo({n}, seed=0, executor=f"processes:{{cores}}")
print(time.perf_counter() - t, r.probability()["p"], sum(r.failures().values()))
"""


def _run(tree: Path, code: str) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return [float(x) for x in out.stdout.split()]


def _alternate(trees: dict, code: str, rounds: int) -> dict[str, list[list[float]]]:
    results: dict = {name: [] for name in trees}
    for _ in range(rounds):
        for name, tree in trees.items():
            results[name].append(_run(tree, code))
    return results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("base", type=Path, help="source tree of the commit to compare with (a git worktree)")
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3, help="Monte Carlo runs of each tree")
    ap.add_argument("--starts", type=int, default=30, help="interpreter starts of each tree per import case")
    args = ap.parse_args()
    trees = {"this": HERE, "base": args.base.resolve()}
    rows = []
    for label, code, rounds in (("python -c 'import magcycle.sx' [ms]", _IMPORT, args.starts),
                                ("magcycle --help [ms]", _HELP, args.starts)):
        res = _alternate(trees, code, rounds)
        med = {k: 1e3 * statistics.median(v[0] for v in runs) for k, runs in res.items()}
        rows.append((label, f"{med['this']:.1f}", f"{med['base']:.1f}", f"{med['this'] / med['base']:.3f}", ""))
    res = _alternate(trees, _MC.format(n=args.samples), args.rounds)
    med = {k: statistics.median(r[0] for r in runs) for k, runs in res.items()}
    note = "; ".join(f"{k}: runs {', '.join(f'{r[0]:.1f}' for r in runs)} s, P {100 * runs[-1][1]:.2f} %, "
                     f"{int(runs[-1][2])} failed" for k, runs in res.items())
    rows.append((f"plant Monte Carlo, {args.samples} samples, {os.cpu_count()} processes [s]", f"{med['this']:.1f}",
                 f"{med['base']:.1f}", f"{med['this'] / med['base']:.3f}", note))
    head = (f"Measured {date.today()} on {platform.machine()}, CPython {platform.python_version()}, "
            f"{os.cpu_count()} cores, by `python benchmarks/bench_compare.py {args.base}`. Medians; the two trees "
            "alternate run by run.\n\n| case | this tree | base | ratio this/base | runs |\n|---|---|---|---|---|\n")
    text = head + "".join(f"| {' | '.join(r)} |\n" for r in rows)
    (HERE / "benchmarks" / "results_compare.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
