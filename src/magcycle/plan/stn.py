"""State-task network (STN) batch scheduling in discrete time (Kondili, Pantelides and Sargent, 1993).

``magcycle plan stn FILE --horizon H``. Materials sit in *states*; *tasks*
turn fixed fractions of input states into fixed fractions of output states,
each output released a fixed delay after the task starts; *units* run one
batch of one task at a time, of at most a maximum size per task. The plan
maximises the value of the final states at the horizon.

Units: times in hours [h], on a grid of ``time_step_h``; amounts (batches,
inventories, capacities) in the mass unit the file uses; prices per that
mass unit.

Formulation (Kondili et al. 1993, with the unit allocation constraint in
the aggregated form of Shah, Pantelides and Sargent 1993). Time points
t = 0 .. N, N = H / time_step_h; a delay of d hours is d / time_step_h
steps. For a task i: input fractions rho_in(i, s) summing to 1, output
fractions rho_out(i, s) summing to 1 released P(i, s) steps after the start,
duration p(i) = max over s of P(i, s), occupancy o(i) = max(p(i), 1) steps
(a task whose outputs are all released at once still takes its unit for the
step it starts in). For a unit j: the tasks I(j) it can run, the largest
batch Vmax(i, j) of each, the smallest batch Vmin(j).

Variables: W(i, j, t) binary, 1 when unit j starts task i at t; B(i, j, t) >= 0
the batch (whole numbers with ``integer_batches``); S(s, t) the inventory
of state s after the transfers of time point t.

* allocation -- one batch at a time on a unit:
  sum over i in I(j) of sum over t' = t - o(i) + 1 .. t of W(i, j, t') <= 1, for every j, t;
* capacity -- Vmin(j) W(i, j, t) <= B(i, j, t) <= Vmax(i, j) W(i, j, t);
* material balance with delays --
  S(s, t) = S(s, t - 1) + sum over i, j of rho_out(i, s) B(i, j, t - P(i, s))
  - sum over i, j of rho_in(i, s) B(i, j, t), with S(s, -1) the initial inventory;
* storage -- 0 <= S(s, t) <= C(s) (no upper bound when the capacity is null);
* horizon -- every task finishes by the horizon: W and B exist only for t + p(i) <= N;
* objective -- maximise the sum over s of price(s) S(s, N).

The model is solved on HiGHS through :class:`magcycle.plan.milp.Model`,
which checks the point against its own rows. The schedule is then
replayed in plain Python (:func:`replay`): the material balance of every
state stepped through time from the schedule alone, mass conserved at
every step (states plus material held in units equal the initial total),
no inventory below zero or above its capacity, no unit running two
batches, every batch within its unit's limits and finished by the horizon,
and the replayed final value equal to the solver's objective. A plan that
fails the replay raises :class:`~magcycle.errors.MassBalanceError`; it is
never returned.

Reference: E. Kondili, C. C. Pantelides, R. W. H. Sargent, "A general
algorithm for short-term scheduling of batch operations -- I. MILP
formulation", Computers & Chemical Engineering 17(2), 211-227 (1993).
N. Shah, C. C. Pantelides, R. W. H. Sargent, "A general algorithm for
short-term scheduling of batch operations -- II. Computational issues",
same volume, 229-244 (1993).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator

from magcycle.documents import show
from magcycle.errors import InputError, MassBalanceError
from magcycle.plan.milp import FEASIBILITY_TOLERANCE, Infeasible, Model, Solution
from magcycle.schema import Name, Strict, fail, field, validate

__all__ = ["StnFile", "StnState", "StnTask", "StnOutput", "StnUnit", "load_stn", "horizon_steps",
           "schedule_stn", "replay", "FRACTION_TOLERANCE", "MAX_STEPS", "MAX_AMOUNT", "MAX_PRICE",
           "MAX_ENTRIES"]

#: how far a task's input or output fractions may sum from 1
FRACTION_TOLERANCE = 1e-9
#: most time steps in a horizon
MAX_STEPS = 10_000
#: largest amount (capacity, initial inventory, batch) [mass unit of the file]
MAX_AMOUNT = 1e12
#: largest price in magnitude [per mass unit]
MAX_PRICE = 1e9
#: most states, tasks or units in a file
MAX_ENTRIES = 1000
#: how far a time may lie from a multiple of the time step, relative to the number of steps
_GRID_TOLERANCE = 1e-9

Amount = Annotated[float, Field(ge=0.0, le=MAX_AMOUNT)]
Batch = Annotated[float, Field(gt=0.0, le=MAX_AMOUNT)]
Share = Annotated[float, Field(gt=0.0, le=1.0 + FRACTION_TOLERANCE)]


class StnState(Strict):
    """A state (a material): its storage capacity, its inventory at time 0 and its price."""

    capacity: float | None = field(None, ge=0.0, le=MAX_AMOUNT, unit="mass unit",
                                   description="most inventory the state can hold; null or left out: unlimited")
    initial: float = field(0.0, ge=0.0, le=MAX_AMOUNT, unit="mass unit", description="inventory at time 0")
    price: float = field(0.0, ge=-MAX_PRICE, le=MAX_PRICE, unit="per mass unit",
                         description="value of one mass unit at the horizon (negative: a penalty on work left "
                                     "in progress)")


class StnOutput(Strict):
    """One output of a task: its share of the batch and when it is released."""

    fraction: Share = field(description="share of the batch released to this state (a task's fractions sum to 1)")
    delay_h: float = field(ge=0.0, le=1e6, unit="h", description="hours after the start at which it is released, "
                                                                 "a multiple of time_step_h")


class StnTask(Strict):
    """A task: the shares of its batch drawn from input states and released to output states."""

    inputs: dict[Name, Share] = field(min_length=1, max_length=MAX_ENTRIES,
                                      description="input state = share of the batch drawn at the start; the "
                                                  "shares sum to 1")
    outputs: dict[Name, StnOutput] = field(min_length=1, max_length=MAX_ENTRIES,
                                           description="output state = {fraction, delay_h}; the fractions sum to 1")


class StnUnit(Strict):
    """A unit (a piece of equipment): the tasks it can run with the largest batch of each, and its smallest batch."""

    tasks_bmax: dict[Name, Batch] = field(min_length=1, max_length=MAX_ENTRIES, unit="mass unit",
                                          description="task = largest batch of that task on this unit (> 0)")
    bmin: float = field(0.0, ge=0.0, le=MAX_AMOUNT, unit="mass unit",
                        description="smallest batch of any task on this unit")


class StnFile(Strict):
    """A state-task network (``magcycle plan stn FILE --horizon H``), Kondili et al. (1993)."""

    time_step_h: float = field(gt=0.0, le=1e6, unit="h", description="the time grid's step; every delay and the "
                                                                     "horizon are multiples of it")
    states: dict[Name, StnState] = field(min_length=1, max_length=MAX_ENTRIES, description="state = "
                                         "{capacity, initial, price}")
    tasks: dict[Name, StnTask] = field(min_length=1, max_length=MAX_ENTRIES, description="task = {inputs, outputs}")
    units: dict[Name, StnUnit] = field(min_length=1, max_length=MAX_ENTRIES, description="unit = {tasks_bmax, bmin}")

    @model_validator(mode="after")
    def _consistent(self):
        for name, task in self.tasks.items():
            _check_task(name, task, self.states, self.time_step_h)
        for name, unit in self.units.items():
            _check_unit(name, unit, self.tasks)
        runnable = {t for unit in self.units.values() for t in unit.tasks_bmax}
        for name in self.tasks:
            if name not in runnable:
                raise fail(("tasks", name), "no unit can run this task; list it in some unit's tasks_bmax")
        return self


def _check_task(name: str, task: StnTask, states: dict, step: float) -> None:
    """Raise a validation error when the task names an undeclared state, its fractions do not sum to 1
    or a delay is off the time grid."""
    declared = ", ".join(list(states)[:20])
    for side in ("inputs", "outputs"):
        for state in getattr(task, side):
            if state not in states:
                raise fail(("tasks", name, side, state), f"state {show(state)} is not declared in [states] "
                                                        f"(declared: {declared})")
    for side, shares in (("inputs", task.inputs.values()), ("outputs", [o.fraction for o in task.outputs.values()])):
        total = math.fsum(shares)
        if abs(total - 1.0) > FRACTION_TOLERANCE:
            raise fail(("tasks", name, side), f"the fractions sum to {total:.12g}; they must sum to 1 "
                                              f"(within {FRACTION_TOLERANCE:g})")
    for state, out in task.outputs.items():
        if _grid_steps(out.delay_h, step) is None:
            raise fail(("tasks", name, "outputs", state, "delay_h"),
                       f"{out.delay_h:g} h is not a multiple of time_step_h = {step:g} h")


def _check_unit(name: str, unit: StnUnit, tasks: dict) -> None:
    """Raise a validation error when the unit lists an unknown task or its bmin is above a task's largest batch."""
    for task, bmax in unit.tasks_bmax.items():
        if task not in tasks:
            raise fail(("units", name, "tasks_bmax", task), f"unknown task {show(task)}; tasks: "
                                                            f"{', '.join(list(tasks)[:20])}")
        if unit.bmin > bmax:
            raise fail(("units", name, "bmin"), f"{unit.bmin:g} is above the largest batch {bmax:g} of task "
                                                f"{show(task)}, so the unit could never run it")


def _grid_steps(hours: float, step: float) -> int | None:
    """``hours`` in whole steps of ``step``, or None when it is not a multiple of it."""
    n = hours / step
    if not math.isfinite(n):
        return None
    k = round(n)
    return k if abs(n - k) <= _GRID_TOLERANCE * max(1.0, abs(n)) else None


def load_stn(source: str | Path | dict, *, field: str = "file") -> StnFile:
    """An STN document from a TOML or JSON file, or from a mapping; one InputError when it is bad."""
    from magcycle.documents import read_document

    data = source if isinstance(source, dict) else read_document(source, field=field)
    return validate(StnFile, data)


def horizon_steps(doc: StnFile, horizon_h: Any, *, field: str = "horizon_h") -> int:
    """The horizon in time steps: ``horizon_h`` must be a positive multiple of ``time_step_h`` of at most
    ``MAX_STEPS`` steps (InputError naming ``field`` otherwise)."""
    if isinstance(horizon_h, bool) or not isinstance(horizon_h, (int, float)) or not math.isfinite(horizon_h):
        raise InputError(field, f"expected a finite number of hours, got {show(horizon_h)}")
    if horizon_h <= 0:
        raise InputError(field, f"must be > 0 h, got {show(horizon_h)}")
    k = _grid_steps(float(horizon_h), doc.time_step_h)
    if k is None or k < 1:
        raise InputError(field, f"{horizon_h:g} h is not a positive multiple of time_step_h = {doc.time_step_h:g} h")
    if k > MAX_STEPS:
        raise InputError(field, f"{k} time steps; at most {MAX_STEPS} (a coarser time_step_h or a shorter horizon)")
    return k


# ------------------------------------------------------------ the network on the grid
@dataclass(frozen=True)
class _Grid:
    """The document on the time grid: N steps, each output's delay and each task's duration in steps."""

    doc: StnFile
    steps: int
    delay: dict[tuple[str, str], int]
    duration: dict[str, int]

    @classmethod
    def of(cls, doc: StnFile, steps: int) -> _Grid:
        delay = {(i, s): _grid_steps(o.delay_h, doc.time_step_h) for i, t in doc.tasks.items()
                 for s, o in t.outputs.items()}
        duration = {i: max(delay[i, s] for s in t.outputs) for i, t in doc.tasks.items()}
        return cls(doc, steps, delay, duration)

    def occupancy(self, task: str) -> int:
        return max(self.duration[task], 1)

    def starts(self, task: str) -> range:
        """The time points at which ``task`` may start and still finish by the horizon."""
        return range(0, self.steps - self.duration[task] + 1)

    def hours(self, t: int) -> float:
        return t * self.doc.time_step_h


# ------------------------------------------------------------ the model
@dataclass
class _Stn:
    model: Model
    w: dict[tuple[str, str, int], int]
    b: dict[tuple[str, str, int], int]
    s: dict[tuple[str, int], int]


def _variables(grid: _Grid, integer: bool) -> _Stn:
    m = Model(sense="max")
    w, b, s = {}, {}, {}
    for j, unit in grid.doc.units.items():
        for i, bmax in unit.tasks_bmax.items():
            for t in grid.starts(i):
                w[i, j, t] = m.binary(f"W[{i},{j},{t}]")
                b[i, j, t] = m.var(f"B[{i},{j},{t}]", 0.0, bmax, integer=integer)
    for name, state in grid.doc.states.items():
        cap = math.inf if state.capacity is None else state.capacity
        for t in range(grid.steps + 1):
            s[name, t] = m.var(f"S[{name},{t}]", 0.0, cap)
    return _Stn(m, w, b, s)


def _allocation(grid: _Grid, stn: _Stn) -> None:
    """One batch at a time on each unit, and each batch within the unit's limits."""
    for j, unit in grid.doc.units.items():
        for t in range(grid.steps + 1):
            busy = {stn.w[i, j, u]: 1.0 for i in unit.tasks_bmax
                    for u in range(t - grid.occupancy(i) + 1, t + 1) if (i, j, u) in stn.w}
            if len(busy) > 1:
                stn.model.add(busy, hi=1.0, name=f"allocation[{j},{t}]")
        for i, bmax in unit.tasks_bmax.items():
            for t in grid.starts(i):
                stn.model.add({stn.b[i, j, t]: 1.0, stn.w[i, j, t]: -bmax}, hi=0.0, name=f"bmax[{i},{j},{t}]")
                if unit.bmin > 0:
                    stn.model.add({stn.b[i, j, t]: 1.0, stn.w[i, j, t]: -unit.bmin}, lo=0.0,
                                  name=f"bmin[{i},{j},{t}]")


def _balances(grid: _Grid, stn: _Stn) -> None:
    """S(s, t) - S(s, t - 1) - released at t + drawn at t = 0 (module docstring)."""
    doc = grid.doc
    flows: dict[tuple[str, int], list[tuple[int, float]]] = {}
    for (i, _, u), k in stn.b.items():
        task = doc.tasks[i]
        for name, share in task.inputs.items():
            flows.setdefault((name, u), []).append((k, share))
        for name, out in task.outputs.items():
            flows.setdefault((name, u + grid.delay[i, name]), []).append((k, -out.fraction))
    for name, state in doc.states.items():
        for t in range(grid.steps + 1):
            terms = [(stn.s[name, t], 1.0)] + ([(stn.s[name, t - 1], -1.0)] if t > 0 else [])
            rhs = state.initial if t == 0 else 0.0
            stn.model.add(terms + flows.get((name, t), []), lo=rhs, hi=rhs, name=f"balance[{name},{t}]")


def _build(grid: _Grid, integer: bool) -> _Stn:
    stn = _variables(grid, integer)
    _allocation(grid, stn)
    _balances(grid, stn)
    stn.model.objective({stn.s[name, grid.steps]: st.price for name, st in grid.doc.states.items() if st.price})
    return stn


# ------------------------------------------------------------ the schedule and its replay
def _schedule(grid: _Grid, stn: _Stn, sol: Solution) -> list[dict]:
    """The batches of the solution, zero batches left out, sorted by start, unit and task."""
    out = []
    for (i, j, t), k in stn.b.items():
        batch = max(0.0, float(sol.x[k]))
        if sol.x[stn.w[i, j, t]] > 0.5 and batch > 1e-9 * max(1.0, grid.doc.units[j].tasks_bmax[i]):
            out.append({"unit": j, "task": i, "start_h": grid.hours(t), "end_h": grid.hours(t + grid.duration[i]),
                        "batch": batch})
    return sorted(out, key=lambda e: (e["start_h"], e["unit"], e["task"]))


def _tolerance(doc: StnFile) -> float:
    """Absolute tolerance of the replay: FEASIBILITY_TOLERANCE times the mass in the network."""
    return FEASIBILITY_TOLERANCE * max(1.0, math.fsum(s.initial for s in doc.states.values()))


def _entry_steps(grid: _Grid, entry: dict, tol: float) -> int:
    """The start of one schedule entry in steps, after checking its unit, task, start, end and batch."""
    doc, unit, task = grid.doc, entry["unit"], entry["task"]
    if unit not in doc.units or task not in doc.units[unit].tasks_bmax:
        raise MassBalanceError(f"the schedule runs task {task!r} on unit {unit!r}, which cannot run it", math.inf)
    t = _grid_steps(float(entry["start_h"]), doc.time_step_h)
    if t is None or t < 0 or t + grid.duration[task] > grid.steps:
        raise MassBalanceError(f"{unit}/{task} at {entry['start_h']} h does not start on the grid or does not "
                               "finish by the horizon", math.inf)
    batch, bmax, bmin = float(entry["batch"]), doc.units[unit].tasks_bmax[task], doc.units[unit].bmin
    if not bmin - tol <= batch <= bmax + tol:
        raise MassBalanceError(f"{unit}/{task} at {entry['start_h']} h: batch {batch:g} outside [{bmin:g}, "
                               f"{bmax:g}]", math.inf)
    return t


def _check_units(grid: _Grid, starts: list[tuple[int, dict]]) -> None:
    """No unit runs two batches at one time point."""
    busy: dict[tuple[str, int], str] = {}
    for t, e in starts:
        for u in range(t, t + grid.occupancy(e["task"])):
            if (e["unit"], u) in busy:
                raise MassBalanceError(f"unit {e['unit']} runs {busy[e['unit'], u]} and {e['task']} at once "
                                       f"({grid.hours(u):g} h)", math.inf)
            busy[e["unit"], u] = e["task"]


def _transfers(grid: _Grid, starts: list[tuple[int, dict]]) -> dict[int, list[tuple[str, float, float]]]:
    """By time point: (state, amount into the state, amount out of the units) of every transfer."""
    events: dict[int, list[tuple[str, float, float]]] = {}
    for u, e in starts:
        task, batch = grid.doc.tasks[e["task"]], float(e["batch"])
        for s, share in task.inputs.items():
            events.setdefault(u, []).append((s, -share * batch, -share * batch))
        for s, out in task.outputs.items():
            events.setdefault(u + grid.delay[e["task"], s], []).append((s, out.fraction * batch, out.fraction * batch))
    return events


def _check_point(grid: _Grid, inventory: dict[str, float], held: float, total: float, t: int, tol: float) -> None:
    for s, amount in inventory.items():
        cap = grid.doc.states[s].capacity
        if amount < -tol or (cap is not None and amount > cap + tol):
            raise MassBalanceError(f"state {s} holds {amount:.9g} at {grid.hours(t):g} h, outside [0, "
                                   f"{'unlimited' if cap is None else f'{cap:g}'}]", abs(amount) / max(1.0, total))
    closure = abs(math.fsum(inventory.values()) + held - total)
    if closure > tol:
        raise MassBalanceError(f"mass is not conserved at {grid.hours(t):g} h", closure / max(1.0, total))


def _replay(grid: _Grid, schedule: list[dict]) -> dict:
    tol = _tolerance(grid.doc)
    starts = sorted(((_entry_steps(grid, e, tol), e) for e in schedule), key=lambda p: p[0])
    _check_units(grid, starts)
    inventory = {s: st.initial for s, st in grid.doc.states.items()}
    total, held = math.fsum(inventory.values()), 0.0
    profile: dict[str, list[float]] = {s: [] for s in inventory}
    events = _transfers(grid, starts)
    for t in range(grid.steps + 1):
        for s, amount, left in events.get(t, []):
            inventory[s] += amount
            held -= left
        _check_point(grid, inventory, held, total, t, tol)
        for s, amount in inventory.items():
            profile[s].append(amount if abs(amount) > tol else 0.0)  # a solver's 1e-11 is 0
    if abs(held) > tol:
        raise MassBalanceError(f"{held:.9g} is still held in units at the horizon", abs(held) / max(1.0, total))
    final = {s: amounts[-1] for s, amounts in profile.items()}
    value = math.fsum(grid.doc.states[s].price * a for s, a in final.items())
    return {"times_h": [grid.hours(t) for t in range(grid.steps + 1)], "inventory": profile, "final": final,
            "value": value}


def replay(doc: StnFile, schedule: list[dict], horizon_h: float) -> dict:
    """Step the material balances through time from ``schedule`` alone (entries {unit, task, start_h, batch})
    and check them (module docstring); {times_h, inventory {state: amounts}, final {state: amount}, value}.
    A schedule that breaks a balance, a capacity, a unit's limits or the horizon raises MassBalanceError."""
    return _replay(_Grid.of(doc, horizon_steps(doc, horizon_h)), schedule)


def _agree(stn: _Stn, grid: _Grid, sol: Solution, played: dict) -> None:
    """The replay's final states and value are the solver's."""
    tol = _tolerance(grid.doc)
    for name, amount in played["final"].items():
        if abs(amount - sol.x[stn.s[name, grid.steps]]) > tol:
            raise MassBalanceError(f"the replayed final inventory of {name} ({amount:.9g}) is not the solver's "
                                   f"({sol.x[stn.s[name, grid.steps]]:.9g})", math.inf)
    scale = tol * max(1.0, math.fsum(abs(s.price) for s in grid.doc.states.values()))
    if abs(played["value"] - sol.objective) > scale + 1e-9 * abs(sol.objective):
        raise MassBalanceError(f"the replayed value {played['value']:.9g} is not the solver's objective "
                               f"{sol.objective:.9g}", math.inf)


def _infeasible(doc: StnFile, sol: Solution, time_limit: float) -> Infeasible:
    if sol.status == "no_solution":
        return Infeasible(f"no feasible schedule found within the time limit of {time_limit:g} s")
    if sol.status != "infeasible":
        return Infeasible(f"HiGHS stopped with status {sol.status}: {sol.message}")
    over = [f"state {s} starts at {st.initial:g}, above its capacity {st.capacity:g}" for s, st in doc.states.items()
            if st.capacity is not None and st.initial > st.capacity]
    hint = f" ({'; '.join(over[:3])})" if over else ""
    return Infeasible(f"infeasible: no schedule keeps every state within [0, capacity]{hint}")


def schedule_stn(doc: StnFile | dict, horizon_h: float, integer_batches: bool = False,
                 time_limit: float = 60.0) -> dict:
    """The schedule of greatest final value within ``horizon_h`` hours (module docstring).

    Returns {status, objective, bound, gap, seconds, horizon_h, time_step_h, integer_batches, schedule
    [{unit, task, start_h, end_h, batch}], final_states {state: amount}, inventory {times_h, states
    {state: amounts}}, model {variables, binaries, constraints}}. Raises InputError on bad input,
    :class:`~magcycle.plan.milp.Infeasible` when no schedule exists (or none was found in time), and
    MassBalanceError when the solver's plan fails its replay.
    """
    if not isinstance(doc, StnFile):
        doc = load_stn(doc)
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not 0 < time_limit < math.inf:
        raise InputError("time_limit", f"must be a finite number of seconds > 0, got {show(time_limit)}")
    grid = _Grid.of(doc, horizon_steps(doc, horizon_h))
    stn = _build(grid, bool(integer_batches))
    try:
        sol = stn.model.solve(time_limit=float(time_limit))
    except ArithmeticError as exc:  # the solver's point broke the model's own rows
        raise MassBalanceError(f"the solver's schedule fails its check: {exc}", math.inf) from None
    if sol.x is None:
        raise _infeasible(doc, sol, time_limit)
    schedule = _schedule(grid, stn, sol)
    played = _replay(grid, schedule)
    _agree(stn, grid, sol, played)
    m = stn.model
    return {"status": sol.status, "objective": sol.objective, "bound": sol.bound, "gap": sol.gap,
            "seconds": sol.seconds, "horizon_h": grid.hours(grid.steps), "time_step_h": doc.time_step_h,
            "integer_batches": bool(integer_batches), "schedule": schedule, "final_states": played["final"],
            "inventory": {"times_h": played["times_h"], "states": played["inventory"]},
            "model": {"variables": len(m.names), "binaries": len(stn.w), "constraints": len(m.rows)}}
