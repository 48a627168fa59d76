r"""Single-line campaign sequencing (``magcycle plan sequence FILE``): order jobs on one line with
family changeovers, minimising the weighted tardiness or the makespan, proven optimal on HiGHS.

The file (TOML or JSON; ``magcycle schema sequence`` prints its JSON Schema)::

    initial_family = "swarf"        # the family the line last ran (the changeover into the first job)
    [jobs.C1]                       # one campaign
    family = "swarf"                # feed family
    proc_days = 4                   # processing time [days], > 0
    due_day = 10                    # due date [days from time 0], >= 0
    weight = 2                      # tardiness weight [1/day], >= 0, default 1
    [setup_days.swarf]              # changeover from a family to another [days], >= 0
    ev = 2.5

Changeovers: ``setup_days[k][l]`` is the time [days] to switch the line from
family ``k`` to family ``l``; a pair within one family left out is 0, a
pair between two different families that can occur (from the initial
family or a job's family to another job's family) must be given: left out,
it is bad input naming ``setup_days.K.L`` (a silent 0 would plan
changeovers away). A family in ``setup_days`` that is neither a job's
family nor the initial family is bad input naming it. The line starts at
time 0 in ``initial_family``: the first job waits ``setup_days[initial][f]``
(which is ``setup_days[k][k]`` when it is of the initial family ``k``).
Setups need not be symmetric nor obey the triangle inequality; they fall
only between consecutive jobs.

Formulation (position-based assignment MILP for the single machine with
sequence-dependent family setups; see Keha, Khowala and Fowler, "Mixed
integer programming formulations for single machine scheduling problems",
Computers & Industrial Engineering 56 (2009) 357-367, the assignment and
positional-date model, with per-position family indicators for the
changeovers). Jobs ``j`` (processing ``p_j``, due ``d_j``, weight ``w_j``,
family ``F(j)``), positions ``q = 1..n``, job families ``K``, initial family
``k0``, setups ``s(k, l)`` [days]:

* family at a position: ``f[k,q]`` in [0, 1] with ``sum_k f[k,q] = 1``;
* transitions, exact without big-M: ``0 <= z[k,l,q] <= 1`` for ``q >= 2``
  with ``sum_l z[k,l,q] = f[k,q-1]`` and ``sum_k z[k,l,q] = f[l,q]``; with
  ``f`` integral this forces ``z[k,l,q] = f[k,q-1] f[l,q]``;
* changeover before position ``q`` [days]: ``S_1 = sum_k s(k0, k) f[k,1]``,
  ``S_q = sum_{k,l} s(k,l) z[k,l,q]``.

Makespan: it depends on the sequence of families only, so ``f`` is binary
with ``sum_q f[k,q] = n_k`` (the number of jobs of ``k``) and no job
variable: minimise ``sum_j p_j + sum_q S_q``. The jobs of a family take its
positions in the order of their names. Valid inequalities on the
transition counts ``N[k,l] = sum_q z[k,l,q]`` (``k != l``): a set ``Q`` of
families without ``k0`` is entered, ``sum_{k not in Q, l in Q} N[k,l] +
sum_{l in Q} f[l,1] >= 1``, and every set ``Q`` is left unless the line
ends in it, ``sum_{k in Q, l not in Q} N[k,l] (+ sum_{l not in Q} f[l,1]
when k0 is in Q) >= 1 - sum_{k in Q} f[k,n]`` -- for every set up to
``ALL_SUBSETS`` families, else for single families and all but one
(subtour-type cuts of the family path; they make the bound of the
relaxation close to the optimum).

Weighted tardiness:

* assignment: ``x[j,q]`` binary, ``sum_q x[j,q] = 1`` for every job,
  ``sum_j x[j,q] = 1`` for every position, ``f[k,q] = sum_{F(j)=k} x[j,q]``;
* end of position ``q`` [days]: ``C_q = C_{q-1} + S_q + sum_j p_j x[j,q]``,
  ``C_0 = 0`` (no idle time: the objective is regular);
* minimise ``sum_j w_j sum_q tau[j,q]``, ``tau[j,q]`` the tardiness of job
  ``j`` were it at position ``q``, without big-M: ``y[j,q] = C_q x[j,q]``
  through ``sum_j y[j,q] = C_q`` and ``L[j,q] x[j,q] <= y[j,q] <= U[j,q]
  x[j,q]`` (with ``x`` integral only the job at ``q`` carries ``C_q``), and
  ``tau[j,q] >= y[j,q] - d_j x[j,q]``, ``tau >= 0``. ``U[j,q]`` (``p_j``, the
  ``q - 1`` largest other processing times, ``q`` times the largest setup)
  and ``L[j,q]`` (``p_j``, the ``q - 1`` smallest other processing times and
  the cheapest changeover into ``F(j)``, or into ``F(j)`` from another
  family when ``F(j) != k0``; exactly ``p_j + s(k0, F(j))`` at ``q = 1``)
  bound job ``j``'s end at position ``q``. Per position, an early place of
  a fractional job cannot offset a late one in the relaxation, which makes
  it much tighter than ``T_j >= C_q - d_j - M (1 - x[j,q])``. A ``tau`` that
  cannot be positive (``U[j,q] <= d_j``) is left out;
* dominance (Emmons): job ``i`` runs before job ``j`` of its family when
  ``p_i <= p_j``, ``d_i <= d_j`` and ``w_i >= w_j`` (ties by name),
  ``sum_q q x[i,q] + 1 <= sum_q q x[j,q]``: swapping two such jobs keeps
  every changeover, ends the jobs between them no later and does not
  increase the pair's weighted tardiness.

Starting order: every order is feasible, so before the solver a local
search (:func:`heuristic_order`: earliest due date, or the same batched by
family, then insertion moves until none improves; ``HEURISTIC_SHARE`` of the
time limit, at most ``HEURISTIC_MAX_S`` s) finds a good order, which is
reported when HiGHS finds none better in the time left (``found_by``
heuristic). scipy's HiGHS takes no starting point, so it does not speed the
solver; it guarantees an answer at every size.

The schedule is recomputed from the order (start, end, setup and
tardiness of each job [days]); the reported objective is that of the
schedule, the bound the larger of HiGHS's and the solver-free
:func:`simple_bound`, and ``gap = |objective - bound| / max(1, |objective|)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from itertools import combinations
from typing import Annotated, Any

from pydantic import Field

from magcycle.documents import clip, show
from magcycle.errors import InputError
from magcycle.plan.milp import Model, Solution
from magcycle.schema import Name, Strict, field, validate

__all__ = ["MAX_JOBS", "MAX_DAYS", "MAX_WEIGHT", "OBJECTIVES", "ALL_SUBSETS", "Job", "SequenceFile", "Built",
           "parse_sequence", "check_families", "setup", "schedule_of", "sequence", "build_model", "heuristic_order",
           "simple_bound", "HEURISTIC_SHARE", "HEURISTIC_MAX_S"]

#: most jobs of one sequencing file
MAX_JOBS = 100
#: longest processing or changeover time and latest due day [days] (about 270 years)
MAX_DAYS = 100_000.0
#: largest tardiness weight [1/day]
MAX_WEIGHT = 1e6
#: what ``sequence`` minimises
OBJECTIVES = ("weighted_tardiness", "makespan")
#: most job families for which every set of families gets its entry and exit cut
ALL_SUBSETS = 6

Days = Annotated[float, Field(ge=0.0, le=MAX_DAYS, json_schema_extra={"unit": "days"})]


class Job(Strict):
    """One job (campaign) on the line."""

    family: Name = field(description="feed family (changeovers are between families)")
    proc_days: float = field(gt=0.0, le=MAX_DAYS, unit="days", description="processing time")
    due_day: float = field(ge=0.0, le=MAX_DAYS, unit="days", description="due date, days from time 0")
    weight: float = field(1.0, ge=0.0, le=MAX_WEIGHT, unit="1/day", description="weight of a day of tardiness")


class SequenceFile(Strict):
    """A single-line sequencing problem (``magcycle plan sequence FILE``)."""

    jobs: dict[Name, Job] = field(min_length=1, max_length=MAX_JOBS, description="job name = job")
    setup_days: dict[Name, dict[Name, Days]] = field(
        default_factory=dict, unit="days", description="changeover from a family to another family [days]; a "
        "pair within one family left out is 0, a pair between different families that can occur must be given")
    initial_family: Name = field(description="the family the line is in at time 0 (a job's family or one with "
                                             "changeovers in setup_days)")


def parse_sequence(data: Any) -> SequenceFile:
    """A sequencing document validated (fields, then families); bad input raises one InputError."""
    doc = validate(SequenceFile, data)
    check_families(doc)
    return doc


def _families(doc: SequenceFile) -> list[str]:
    """The job families, in the order of first appearance."""
    return list(dict.fromkeys(job.family for job in doc.jobs.values()))


def check_families(doc: SequenceFile) -> None:
    """The rules across fields (module docstring): a known initial family, no unknown family in
    ``setup_days``, every changeover between different families that can occur given."""
    fams = _families(doc)
    k0 = doc.initial_family
    if k0 not in fams and k0 not in doc.setup_days:
        raise InputError("initial_family", f"unknown family {show(k0)}; expected a job's family "
                         f"({show(', '.join(fams), 80)}) or one with changeovers in setup_days")
    known = set(fams) | {k0}
    for k, row in doc.setup_days.items():
        if k not in known:
            raise InputError(f"setup_days.{clip(k)}", f"unknown family {show(k)}; no job is of it and it is not "
                             "the initial family")
        for l in row:
            if l not in fams:
                raise InputError(f"setup_days.{clip(k)}.{clip(l)}", f"unknown family {show(l)}; no job is of it")
    for k in dict.fromkeys([k0, *fams]):
        for l in fams:
            if l != k and l not in doc.setup_days.get(k, {}):
                raise InputError(f"setup_days.{clip(k)}.{clip(l)}", f"missing (required): the changeover from "
                                 f"{show(k)} to {show(l)} [days] (0 only within one family)")


def setup(doc: SequenceFile, k: str, l: str) -> float:
    """The changeover from family ``k`` to family ``l`` [days] (0 within a family when not given)."""
    return float(doc.setup_days.get(k, {}).get(l, 0.0))


def schedule_of(doc: SequenceFile, order: list[str]) -> list[dict]:
    """The schedule of jobs run in ``order`` from time 0, without idle time: each job's setup,
    start, end and tardiness [days]."""
    out, t, fam = [], 0.0, doc.initial_family
    for name in order:
        job = doc.jobs[name]
        s = setup(doc, fam, job.family)
        start = t + s
        t = start + job.proc_days
        out.append({"job": name, "family": job.family, "setup_days": s, "start_day": start, "end_day": t,
                    "due_day": job.due_day, "tardiness_days": max(0.0, t - job.due_day)})
        fam = job.family
    return out


# ------------------------------------------------------------ the model
@dataclass
class Built:
    """The position-based model of a document and the indices of its variables (positions from 0)."""

    model: Model
    jobs: list[str]
    fams: list[str]
    objective: str
    x: dict[tuple[str, int], int] = dc_field(default_factory=dict)
    f: dict[tuple[str, int], int] = dc_field(default_factory=dict)
    z: dict[tuple[str, str, int], int] = dc_field(default_factory=dict)
    c: list[int] = dc_field(default_factory=list)
    tau: dict[tuple[str, int], int] = dc_field(default_factory=dict)


def _members(doc: SequenceFile, jobs: list[str], family: str) -> list[str]:
    """The jobs of ``family``, by name."""
    return sorted(j for j in jobs if doc.jobs[j].family == family)


def _family_positions(doc: SequenceFile, b: Built) -> None:
    """f[k,q], one family per position; for the makespan binary, with n_k positions for family k."""
    n, m, alone = len(b.jobs), b.model, b.objective == "makespan"
    for k in b.fams:
        for q in range(n):
            b.f[k, q] = m.binary(f"f[{k},{q + 1}]") if alone else m.var(f"f[{k},{q + 1}]", 0.0, 1.0)
        if alone:
            count = len(_members(doc, b.jobs, k))
            m.add({b.f[k, q]: 1.0 for q in range(n)}, count, count, f"jobs of {k}")
    for q in range(n):
        m.add({b.f[k, q]: 1.0 for k in b.fams}, 1.0, 1.0, f"one family at {q + 1}")


def _assignment(doc: SequenceFile, b: Built) -> None:
    """x[j,q]: each job at one position, one job at each, f[k,q] = sum_{F(j)=k} x[j,q] (weighted tardiness)."""
    n, m = len(b.jobs), b.model
    for j in b.jobs:
        for q in range(n):
            b.x[j, q] = m.binary(f"x[{j},{q + 1}]")
        m.add({b.x[j, q]: 1.0 for q in range(n)}, 1.0, 1.0, f"job {j} once")
    for q in range(n):
        m.add({b.x[j, q]: 1.0 for j in b.jobs}, 1.0, 1.0, f"one job at {q + 1}")
        for k in b.fams:
            m.add({b.f[k, q]: 1.0, **{b.x[j, q]: -1.0 for j in _members(doc, b.jobs, k)}}, 0.0, 0.0,
                  f"family {k} at {q + 1}")


def _transitions(b: Built) -> None:
    """z[k,l,q] = f[k,q-1] f[l,q] through its two marginals (module docstring)."""
    fams, m = b.fams, b.model
    for q in range(1, len(b.jobs)):
        for k in fams:
            for l in fams:
                b.z[k, l, q] = m.var(f"z[{k},{l},{q + 1}]", 0.0, 1.0)
        for k in fams:
            m.add({**{b.z[k, l, q]: 1.0 for l in fams}, b.f[k, q - 1]: -1.0}, 0.0, 0.0, f"leave {k} after {q}")
            m.add({**{b.z[l, k, q]: 1.0 for l in fams}, b.f[k, q]: -1.0}, 0.0, 0.0, f"enter {k} at {q + 1}")


def _setups(doc: SequenceFile, b: Built, q: int) -> dict[int, float]:
    """S_q, the changeover before position q [days], as terms."""
    if q == 0:
        return {b.f[k, 0]: setup(doc, doc.initial_family, k) for k in b.fams}
    return {b.z[k, l, q]: setup(doc, k, l) for k in b.fams for l in b.fams if setup(doc, k, l)}


def _upper_ends(doc: SequenceFile, b: Built) -> list[float]:
    """U_q: an upper bound of the end of position q [days] (module docstring)."""
    smax = max([setup(doc, k, l) for k in dict.fromkeys([doc.initial_family, *b.fams]) for l in b.fams])
    procs = sorted((doc.jobs[j].proc_days for j in b.jobs), reverse=True)
    return [sum(procs[: q + 1]) + (q + 1) * smax for q in range(len(b.jobs))]


def _times(doc: SequenceFile, b: Built) -> None:
    """C_q = C_{q-1} + S_q + sum_j p_j x[j,q] (weighted tardiness)."""
    m, upper = b.model, _upper_ends(doc, b)
    for q in range(len(b.jobs)):
        b.c.append(m.var(f"C[{q + 1}]", 0.0, upper[q]))
        row = {b.c[q]: 1.0, **({b.c[q - 1]: -1.0} if q else {})}
        row.update({v: -a for v, a in _setups(doc, b, q).items()})
        row.update({b.x[j, q]: -doc.jobs[j].proc_days for j in b.jobs})
        m.add(row, 0.0, 0.0, f"end of position {q + 1}")


def _job_ends(doc: SequenceFile, b: Built) -> tuple[dict[tuple[str, int], float], dict[tuple[str, int], float]]:
    """L[j,q] and U[j,q]: bounds of the end of job j when it runs at position q [days]."""
    fams, k0, lo, hi = b.fams, doc.initial_family, {}, {}
    smax = max([setup(doc, k, l) for k in dict.fromkeys([k0, *fams]) for l in fams])
    for j in b.jobs:
        job = doc.jobs[j]
        others = sorted(doc.jobs[i].proc_days for i in b.jobs if i != j)
        into = min(setup(doc, k, job.family) for k in fams)  # the changeover just before j
        if job.family != k0:  # and the line was switched into j's family at least once
            into = max(into, min(setup(doc, k, job.family) for k in {k0, *fams} - {job.family}))
        lo[j, 0] = hi[j, 0] = job.proc_days + setup(doc, k0, job.family)
        for q in range(1, len(b.jobs)):
            lo[j, q] = job.proc_days + sum(others[:q]) + into
            hi[j, q] = job.proc_days + sum(others[-q:]) + (q + 1) * smax
    return lo, hi


def _tardiness(doc: SequenceFile, b: Built) -> None:
    """y[j,q] = C_q x[j,q] through its marginal sum_j y[j,q] = C_q and L[j,q] x[j,q] <= y[j,q] <= U_q x[j,q];
    the tardiness of job j at position q, tau[j,q] >= y[j,q] - d_j x[j,q] (module docstring)."""
    m, n = b.model, len(b.jobs)
    lower, high = _job_ends(doc, b)
    y = {(j, q): m.var(f"y[{j},{q + 1}]", 0.0, high[j, q]) for j in b.jobs for q in range(n)}
    for q in range(n):
        m.add({**{y[j, q]: 1.0 for j in b.jobs}, b.c[q]: -1.0}, 0.0, 0.0, f"end of position {q + 1} by job")
        for j in b.jobs:
            m.add({y[j, q]: 1.0, b.x[j, q]: -high[j, q]}, -math.inf, 0.0, f"y[{j},{q + 1}] only there")
            m.add({y[j, q]: 1.0, b.x[j, q]: -lower[j, q]}, 0.0, math.inf, f"y[{j},{q + 1}] at least")
    for j in b.jobs:
        d = doc.jobs[j].due_day
        for q in range(n):
            if high[j, q] > d:  # else job j cannot be late at position q
                b.tau[j, q] = m.var(f"tau[{j},{q + 1}]", 0.0, high[j, q] - d)
                m.add({b.tau[j, q]: 1.0, y[j, q]: -1.0, b.x[j, q]: d}, 0.0, math.inf, f"tardiness of {j} at {q + 1}")


def _subsets(fams: list[str]) -> list[frozenset[str]]:
    """The nonempty proper subsets of the job families for the cuts: all of them up to
    ``ALL_SUBSETS`` families, else the single families and all but one."""
    if len(fams) <= ALL_SUBSETS:
        return [frozenset(c) for r in range(1, len(fams)) for c in combinations(fams, r)]
    return [frozenset([k]) for k in fams] + [frozenset(fams) - {k} for k in fams]


def _counts(b: Built) -> dict[tuple[str, str], int]:
    """N[k,l] = sum_q z[k,l,q], the number of changeovers from family k to family l != k."""
    count, last = {}, len(b.jobs) - 1
    for k in b.fams:
        for l in b.fams:
            if k != l:
                count[k, l] = b.model.var(f"N[{k},{l}]", 0.0, len(b.jobs))
                b.model.add({count[k, l]: 1.0, **{b.z[k, l, q]: -1.0 for q in range(1, last + 1)}}, 0.0, 0.0,
                            f"transitions {k} to {l}")
    return count


def _cuts(doc: SequenceFile, b: Built) -> None:
    """Every set of families the line must enter is entered, every set it must leave is left
    (module docstring)."""
    m, k0, last, count = b.model, doc.initial_family, len(b.jobs) - 1, _counts(b)
    for group in [*_subsets(b.fams), *([frozenset(b.fams)] if k0 not in b.fams else [])]:
        name, out = ", ".join(sorted(group)), [k for k in b.fams if k not in group]
        if k0 not in group:
            row = {count[k, l]: 1.0 for k in out for l in group}
            m.add({**row, **{b.f[l, 0]: 1.0 for l in group}}, 1.0, math.inf, f"enter {{{name}}}")
        if out:
            row = {count[k, l]: 1.0 for k in group for l in out}
            row.update({b.f[k, last]: 1.0 for k in group})
            row.update({b.f[l, 0]: 1.0 for l in out} if k0 in group else {})
            m.add(row, 1.0, math.inf, f"leave {{{name}}}")


def _before(a: Job, b: Job) -> bool:
    """Whether job a may be put before job b of its family for the weighted tardiness (Emmons)."""
    return a.proc_days <= b.proc_days and a.due_day <= b.due_day and a.weight >= b.weight


def _precedences(doc: SequenceFile, jobs: list[str]) -> list[tuple[str, str]]:
    """Pairs (i, j) of one family: i runs before j in some order of least weighted tardiness (module
    docstring)."""
    pairs = []
    for fam in _families(doc):
        members = _members(doc, jobs, fam)
        for a, i in enumerate(members):
            for j in members[a + 1:]:
                if _before(doc.jobs[i], doc.jobs[j]):
                    pairs.append((i, j))
                elif _before(doc.jobs[j], doc.jobs[i]):
                    pairs.append((j, i))
    return pairs


def _symmetry(doc: SequenceFile, b: Built) -> None:
    """position(i) + 1 <= position(j) for each pair of :func:`_precedences`."""
    n = len(b.jobs)
    for i, j in _precedences(doc, b.jobs):
        row = {b.x[i, q]: float(q) for q in range(1, n)}
        row.update({b.x[j, q]: -float(q) for q in range(1, n)})
        b.model.add(row, -math.inf, -1.0, f"{i} before {j}")


def build_model(doc: SequenceFile, objective: str = "weighted_tardiness") -> Built:
    """The position-based MILP of ``doc`` minimising ``objective`` (module docstring)."""
    if objective not in OBJECTIVES:
        raise InputError("--objective", f"expected one of {', '.join(OBJECTIVES)}, got {show(objective)}")
    b = Built(Model("min"), list(doc.jobs), _families(doc), objective)
    _family_positions(doc, b)
    _transitions(b)
    if objective == "makespan":
        _cuts(doc, b)
        work = sum(job.proc_days for job in doc.jobs.values())
        cost = {b.model.var("processing", work, work): 1.0}
        for q in range(len(b.jobs)):
            for v, a in _setups(doc, b, q).items():
                cost[v] = cost.get(v, 0.0) + a
        b.model.objective(cost)
        return b
    _assignment(doc, b)
    _times(doc, b)
    _symmetry(doc, b)
    _tardiness(doc, b)
    b.model.objective({v: doc.jobs[j].weight for (j, _), v in b.tau.items()})
    return b


def _order(doc: SequenceFile, b: Built, sol: Solution) -> list[str]:
    """The jobs by position: the job at each position, or for the makespan the next job (by name) of the
    family at each position."""
    if b.x:
        return [next(j for j in b.jobs if sol.x[b.x[j, q]] > 0.5) for q in range(len(b.jobs))]
    queues = {k: _members(doc, b.jobs, k)[::-1] for k in b.fams}
    return [queues[next(k for k in b.fams if sol.x[b.f[k, q]] > 0.5)].pop() for q in range(len(b.jobs))]


def _value(rows: list[dict], doc: SequenceFile, objective: str) -> float:
    if objective == "makespan":
        return rows[-1]["end_day"]
    return sum(doc.jobs[r["job"]].weight * r["tardiness_days"] for r in rows)


def _rounded(v: float) -> float:
    return round(v, 9) + 0.0


# ------------------------------------------------------------ a starting order without the solver
#: share of the time limit the starting order's local search may take, and at most this many seconds
HEURISTIC_SHARE, HEURISTIC_MAX_S = 0.2, 10.0


def _evaluator(doc: SequenceFile, objective: str):
    """``value(order)``: the objective of running ``order`` (job names) from time 0 (as :func:`schedule_of`)."""
    jobs = doc.jobs
    fams = {*(_families(doc)), doc.initial_family}
    s = {(k, l): setup(doc, k, l) for k in fams for l in fams}
    p = {j: job.proc_days for j, job in jobs.items()}
    d = {j: job.due_day for j, job in jobs.items()}
    w = {j: job.weight for j, job in jobs.items()}
    f = {j: job.family for j, job in jobs.items()}
    k0, makespan = doc.initial_family, objective == "makespan"

    def value(order) -> float:
        t, k, total = 0.0, k0, 0.0
        for j in order:
            t += s[k, f[j]] + p[j]
            k = f[j]
            if t > d[j]:
                total += w[j] * (t - d[j])
        return t if makespan else total
    return value


def _starts(doc: SequenceFile) -> list[list[str]]:
    """Two constructions: earliest due date (ties: heavier first, then name), and the same within families
    run one after the other, the families by their earliest due date (the initial family first on ties)."""
    edd = sorted(doc.jobs, key=lambda j: (doc.jobs[j].due_day, -doc.jobs[j].weight, j))
    rank = {j: i for i, j in enumerate(edd)}
    first: dict[str, tuple] = {}
    for j in edd:  # a family's key: its earliest due day, the initial family first on ties, then EDD rank
        k = doc.jobs[j].family
        first.setdefault(k, (doc.jobs[j].due_day, k != doc.initial_family, rank[j]))
    batched = sorted(edd, key=lambda j: (first[doc.jobs[j].family], rank[j]))
    return [edd, batched]


def heuristic_order(doc: SequenceFile, objective: str = "weighted_tardiness", seconds: float = 1.0) -> list[str]:
    """A good order found without the solver: the better of :func:`_starts`' orders, improved by first-improvement
    local search over insertions (take a job out, put it at another position; adjacent swaps included) until no
    move improves or ``seconds`` pass. Every order is feasible, so this always answers; :func:`sequence` keeps
    it when the solver finds nothing better."""
    import time

    if objective not in OBJECTIVES:
        raise InputError("--objective", f"expected one of {', '.join(OBJECTIVES)}, got {show(objective)}")
    value = _evaluator(doc, objective)
    order = min(_starts(doc), key=value)
    best, deadline, n = value(order), time.perf_counter() + seconds, len(order)
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for i in range(n):
            rest = order[:i] + order[i + 1:]
            for k in range(n):
                if k == i:
                    continue
                trial = rest[:k] + [order[i]] + rest[k:]
                v = value(trial)
                if v < best - 1e-9 * max(1.0, abs(best)):
                    order, best, improved = trial, v, True
                    break
            if time.perf_counter() >= deadline:
                break
    return order


def simple_bound(doc: SequenceFile, objective: str) -> float:
    """A bound that needs no solver, reported when HiGHS found no order in its time. Makespan: ``sum_j p_j +
    sum_{l != k0} min_{k != l} s(k, l)`` (every family but the initial one is entered once at least). Weighted
    tardiness: ``sum_j w_j max(0, p_j + min_k s(k, F(j)) - d_j)``, each job ending no earlier than its own
    processing after the cheapest changeover into its family (``k`` over every family and ``k0``)."""
    fams = _families(doc)
    sources = list(dict.fromkeys([doc.initial_family, *fams]))
    if objective == "makespan":
        entries = sum(min(setup(doc, k, l) for k in sources if k != l) for l in fams if l != doc.initial_family)
        return sum(j.proc_days for j in doc.jobs.values()) + entries
    into = {l: min(setup(doc, k, l) for k in sources) for l in fams}
    return sum(j.weight * max(0.0, j.proc_days + into[j.family] - j.due_day) for j in doc.jobs.values())


def sequence(doc: SequenceFile | Mapping, objective: str = "weighted_tardiness", time_limit: float = 60.0) -> dict:
    """The best order of ``doc``'s jobs for ``objective`` within ``time_limit`` [s]: objective, order,
    makespan, weighted tardiness, schedule, HiGHS's status, bound and gap, seconds, and ``found_by`` (milp or
    heuristic). A starting order (:func:`heuristic_order`, a share of the time) is kept when HiGHS finds no
    better one; the bound is the larger of HiGHS's and :func:`simple_bound`. Raises InputError on bad input,
    ArithmeticError when HiGHS fails otherwise than by running out of time."""
    import time

    if not isinstance(doc, SequenceFile):
        doc = validate(SequenceFile, doc)
    check_families(doc)
    t0 = time.perf_counter()
    start = heuristic_order(doc, objective, min(HEURISTIC_SHARE * time_limit, HEURISTIC_MAX_S))
    b = build_model(doc, objective)
    sol = b.model.solve(time_limit=max(0.1, time_limit - (time.perf_counter() - t0)))
    if sol.x is None and sol.status != "no_solution":  # every order is feasible: anything else is a failure
        raise ArithmeticError(f"HiGHS returned no order ({sol.status}: {sol.message})")
    rows, found_by = schedule_of(doc, start), "heuristic"
    if sol.x is not None:
        mine = schedule_of(doc, _order(doc, b, sol))
        if _value(mine, doc, objective) <= _value(rows, doc, objective):
            rows, found_by = mine, "milp"
    bound = max(simple_bound(doc, objective), -math.inf if sol.bound is None else sol.bound)
    status = sol.status if sol.x is not None else "time_limit"
    return _result(doc, objective, rows, bound, status, found_by, time.perf_counter() - t0)


def _result(doc: SequenceFile, objective: str, rows: list[dict], bound: float | None, status: str, found_by: str,
            seconds: float) -> dict:
    """The result document of :func:`sequence`, checked against the bound."""
    value = _value(rows, doc, objective)
    if bound is not None and value < bound - 1e-6 * max(1.0, abs(value)):
        raise ArithmeticError(f"the schedule's {objective} {value:g} is below the proven bound {bound:g}")
    gap = abs(value - bound) / max(1.0, abs(value)) if bound is not None else None
    if status != "optimal" and gap is not None and gap <= 1e-9:
        status = "optimal"  # the order meets the bound
    return {"minimise": objective, "objective": _rounded(value), "order": [r["job"] for r in rows],
            "makespan": _rounded(rows[-1]["end_day"]),
            "weighted_tardiness": _rounded(_value(rows, doc, "weighted_tardiness")),
            "schedule": [{k: (_rounded(v) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
            "status": status, "bound": None if bound is None else _rounded(bound),
            "gap": None if gap is None else _rounded(gap), "found_by": found_by, "seconds": round(seconds, 3)}
