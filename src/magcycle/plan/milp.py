"""The one MILP layer of ``magcycle.plan``: a small model builder over HiGHS (``scipy.optimize.milp``).

A model is variables (continuous, integer or binary, with bounds), linear
constraints ``lo <= sum_k a_k x_k <= hi`` and a linear objective to minimise
or maximise. :meth:`Model.solve` hands it to HiGHS through
``scipy.optimize.milp`` (no extra dependency; highspy is not imported, so
nothing clashes with OR-Tools, see ../shared/design/traceability-and-planning.md)
and returns a :class:`Solution` with HiGHS's status, the objective, the
proven bound and the relative gap,

    gap = |objective - bound| / max(1, |objective|),

in the model's own sense (a maximisation's bound is an upper bound). A
solution whose values are not finite, or that breaks a constraint or a bound
by more than ``FEASIBILITY_TOLERANCE`` (scaled by the row's size), is an
error, never an answer: every solve is checked against its own model.

Sequencing, the STN scheduler and campaign planning build their
formulations on this class, so each is written once.
"""

from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

__all__ = ["Model", "Solution", "Infeasible", "FEASIBILITY_TOLERANCE", "quiet_stdout"]

#: largest violation of a constraint or bound a solution may show, relative to max(1, |row activity terms|)
FEASIBILITY_TOLERANCE = 1e-6


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """File descriptor 1 pointed at the null device for the duration of a solve: HiGHS 1.12 writes a stray debug
    line (``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``, ERGO-Code/HiGHS#2783) to
    standard output whatever its output options, which would corrupt a command's ``--json``. Where fd 1 cannot
    be duplicated (closed), nothing is changed."""
    with suppress(AttributeError, OSError, ValueError):  # no stdout, or a closed one: nothing to flush
        sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        saved = None
    if saved is None:
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class Infeasible(Exception):
    """The model has no feasible point (HiGHS proved it), or none was found within the limits."""


@dataclass
class Solution:
    """A solve's outcome: ``status`` one of optimal, time_limit (with a feasible point), infeasible,
    unbounded, failed; ``x`` the values by variable index; ``objective``, ``bound`` and ``gap`` in the
    model's sense."""

    status: str
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    message: str = ""

    def value(self, index) -> float | np.ndarray:
        return self.x[index]


@dataclass
class Model:
    """A mixed-integer linear model (module docstring). ``sense`` is "min" or "max"."""

    sense: str = "min"
    names: list[str] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    rows: list[tuple[dict[int, float], float, float, str]] = field(default_factory=list)
    cost: dict[int, float] = field(default_factory=dict)

    def var(self, name: str, lb: float = 0.0, ub: float = math.inf, *, integer: bool = False) -> int:
        """A new variable; its index."""
        if not lb <= ub:
            raise ValueError(f"variable {name}: lower bound {lb} above upper bound {ub}")
        self.names.append(name)
        self.lower.append(float(lb))
        self.upper.append(float(ub))
        self.integer.append(bool(integer))
        return len(self.names) - 1

    def binary(self, name: str) -> int:
        return self.var(name, 0.0, 1.0, integer=True)

    def add(self, terms: dict[int, float], lo: float = -math.inf, hi: float = math.inf, name: str = "") -> int:
        """The constraint lo <= sum terms <= hi; its index. Terms on the same variable add up."""
        row: dict[int, float] = {}
        for k, a in terms.items() if isinstance(terms, dict) else terms:
            row[k] = row.get(k, 0.0) + float(a)
        self.rows.append((row, float(lo), float(hi), name))
        return len(self.rows) - 1

    def objective(self, terms: dict[int, float]) -> None:
        """The objective sum terms (replacing any before), minimised or maximised by ``sense``."""
        self.cost = {}
        for k, a in terms.items():
            self.cost[k] = self.cost.get(k, 0.0) + float(a)

    def solve(self, time_limit: float = 60.0, gap: float = 1e-6) -> Solution:
        """Solve with HiGHS to a relative ``gap`` within ``time_limit`` [s]; a Solution (module docstring)."""
        import time

        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import csr_array

        n = len(self.names)
        sign = -1.0 if self.sense == "max" else 1.0
        c = np.zeros(n)
        for k, a in self.cost.items():
            c[k] = sign * a
        data, ri, ci = [], [], []
        for i, (row, _, _, _) in enumerate(self.rows):
            for k, a in row.items():
                data.append(a)
                ri.append(i)
                ci.append(k)
        cons = []
        if self.rows:
            a = csr_array((data, (ri, ci)), shape=(len(self.rows), n))
            cons = [LinearConstraint(a, [r[1] for r in self.rows], [r[2] for r in self.rows])]
        t = time.perf_counter()
        with quiet_stdout():
            res = milp(c, integrality=np.array(self.integer, dtype=int), bounds=Bounds(self.lower, self.upper),
                       constraints=cons, options={"time_limit": float(time_limit), "mip_rel_gap": float(gap),
                                                  "disp": False})
        seconds = time.perf_counter() - t
        return self._solution(res, sign, seconds)

    def _solution(self, res, sign: float, seconds: float) -> Solution:
        status = {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded"}.get(res.status, "failed")
        if res.x is None:
            return Solution(status if status != "time_limit" else "no_solution", None, None, None, None, seconds,
                            res.message)
        x = np.asarray(res.x, dtype=float)
        x = np.where(np.array(self.integer, dtype=bool), np.round(x), x)  # integers exactly, then checked
        self.check(x)
        objective = sign * float(res.fun)
        raw = getattr(res, "mip_dual_bound", None)
        if raw is None or not math.isfinite(raw):
            bound = objective if status == "optimal" else None
        else:
            bound = sign * float(raw)
        gap = abs(objective - bound) / max(1.0, abs(objective)) if bound is not None else None
        return Solution(status, x, objective, bound, gap, seconds, res.message)

    def require(self, **solve_options) -> Solution:
        """:meth:`solve`, raising :class:`Infeasible` when there is no feasible point to report."""
        sol = self.solve(**solve_options)
        if sol.x is None:
            raise Infeasible(f"{sol.status}: {sol.message}")
        return sol

    def check(self, x: np.ndarray) -> None:
        """Raise ArithmeticError when ``x`` is not finite or breaks a bound or a constraint (module docstring)."""
        if not np.all(np.isfinite(x)):
            raise ArithmeticError("the solver returned a non-finite value")
        tol = FEASIBILITY_TOLERANCE
        lo, hi = np.array(self.lower), np.array(self.upper)
        bad = np.flatnonzero((x < lo - tol * np.maximum(1, abs(lo))) | (x > hi + tol * np.maximum(1, abs(hi))))
        if bad.size:
            raise ArithmeticError(f"the solver's value of {self.names[bad[0]]} breaks its bounds")
        for row, rlo, rhi, name in self.rows:
            act = sum(a * x[k] for k, a in row.items())
            scale = max(1.0, sum(abs(a * x[k]) for k, a in row.items()))
            if act < rlo - tol * scale or act > rhi + tol * scale:
                raise ArithmeticError(f"the solver's point breaks constraint {name or '?'} ({act:g} not in "
                                      f"[{rlo:g}, {rhi:g}])")
