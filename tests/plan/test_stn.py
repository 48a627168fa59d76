"""State-task network scheduling (``magcycle plan stn``, Kondili, Pantelides & Sargent 1993).

Oracles, each independent of :mod:`magcycle.plan.stn`:

* tiny instances (1-2 units, 2-3 states, 3-5 time steps): every set of start decisions enumerated;
  for each, the batch sizes solved as an LP built here (continuous batches) or every whole-number
  batch vector simulated in plain Python (``integer_batches``); the best of them is the optimum;
* the literature example at 12 h: a second formulation written here on PuLP/CBC (the unit allocation
  as pairwise conflicts between starts, inventories as expressions rather than variables), and the mirror's
  published GLPK optimum at 10 h (jckantor/STN-Scheduler, notebooks/1_Kondili_State_Task_Network.ipynb:
  2744.375);
* a one-unit, one-task example worked by hand in the comments;
* the replay of every returned schedule (mass balance at every step), and tampered schedules refused.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import random
import tomllib
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle import cli
from magcycle.errors import InputError, MassBalanceError
from magcycle.plan import stn as stn_module
from magcycle.plan.stn import StnFile, horizon_steps, load_stn, replay, schedule_stn
from magcycle.schema import validate

KONDILI_PATH = files("magcycle") / "examples" / "plan" / "stn_kondili.toml"
KONDILI = tomllib.loads(KONDILI_PATH.read_text())


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


# ------------------------------------------------------------ (a) tiny instances, enumerated
_SPLITS = {1: [[1.0]], 2: [[0.5, 0.5], [0.25, 0.75], [0.4, 0.6]]}


def _tiny(seed: int, bmax_top: int) -> dict:
    """A random network: 2-3 states, 1-2 tasks, 1-2 units, delays of 0-2 steps of 1 h."""
    rng = random.Random(seed)
    names = [f"s{k}" for k in range(rng.choice([2, 3]))]
    states = {}
    for s in names:
        cap = rng.choice([None, None, rng.randint(2, 12)])
        states[s] = {"initial": rng.randint(0, 10) if cap is None else rng.randint(0, cap),
                     "price": rng.choice([-1, 0, 1, 2, 5])}
        if cap is not None:
            states[s]["capacity"] = cap
    tasks = {}
    for k in range(rng.choice([1, 2])):
        ins, outs = rng.sample(names, rng.choice([1, 2])), rng.sample(names, rng.choice([1, 2]))
        fin, fout = rng.choice(_SPLITS[len(ins)]), rng.choice(_SPLITS[len(outs)])
        tasks[f"t{k}"] = {"inputs": dict(zip(ins, fin)),
                          "outputs": {s: {"fraction": f, "delay_h": rng.randint(0, 2)} for s, f in zip(outs, fout)}}
    units = {f"u{k}": {"tasks_bmax": {}, "bmin": rng.choice([0, 0, 1])} for k in range(rng.choice([1, 2]))}
    for k, t in enumerate(tasks):  # every task on some unit, then maybe on another
        units[f"u{k % len(units)}"]["tasks_bmax"][t] = rng.randint(1, bmax_top)
        other = rng.choice(list(units))
        units[other]["tasks_bmax"].setdefault(t, rng.randint(1, bmax_top))
    units = {j: u for j, u in units.items() if u["tasks_bmax"]}
    return {"time_step_h": 1, "states": states, "tasks": tasks, "units": units}


def _durations(data: dict) -> dict[str, int]:
    return {i: max(int(o["delay_h"]) for o in t["outputs"].values()) for i, t in data["tasks"].items()}


def _unit_starts(tasks: list[str], dur: dict[str, int], n: int, t: int = 0):
    """Every set of starts (task, t) on one unit that never overlap and finish by n."""
    if t > n:
        yield ()
        return
    yield from _unit_starts(tasks, dur, n, t + 1)  # nothing starts at t
    for i in tasks:
        if t + dur[i] <= n:
            for rest in _unit_starts(tasks, dur, n, t + max(dur[i], 1)):
                yield ((i, t), *rest)


def _patterns(data: dict, n: int) -> list[tuple]:
    dur = _durations(data)
    per_unit = [[tuple((j, i, t) for i, t in p) for p in _unit_starts(list(u["tasks_bmax"]), dur, n)]
                for j, u in data["units"].items()]
    return [sum(combo, ()) for combo in itertools.product(*per_unit)]


def _coefficients(data: dict, starts: tuple, n: int) -> dict[tuple[str, int], list[float]]:
    """Inventory of s at t = initial + sum over starts k of coef[s, t][k] * batch_k."""
    coef = {(s, t): [0.0] * len(starts) for s in data["states"] for t in range(n + 1)}
    for k, (_, i, t0) in enumerate(starts):
        task = data["tasks"][i]
        for t in range(t0, n + 1):
            for s, share in task["inputs"].items():
                coef[s, t][k] -= share
            for s, out in task["outputs"].items():
                if t0 + out["delay_h"] <= t:
                    coef[s, t][k] += out["fraction"]
    return coef


def _lp_best(data: dict, starts: tuple, n: int) -> float | None:
    """The best value of one set of starts with continuous batches (an LP), None when infeasible."""
    from scipy.optimize import linprog

    states = data["states"]
    base = sum(st_["price"] * st_["initial"] for st_ in states.values())
    if not starts:
        return base
    coef = _coefficients(data, starts, n)
    a_ub, b_ub = [], []
    for (s, _), row in coef.items():
        a_ub.append([-c for c in row])  # initial + row.B >= 0
        b_ub.append(states[s]["initial"])
        if "capacity" in states[s]:
            a_ub.append(row)
            b_ub.append(states[s]["capacity"] - states[s]["initial"])
    c = [-sum(states[s]["price"] * coef[s, n][k] for s in states) for k in range(len(starts))]
    bounds = [(data["units"][j]["bmin"], data["units"][j]["tasks_bmax"][i]) for j, i, _ in starts]
    res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
    if res.status == 2:
        return None
    assert res.status == 0, res.message
    return base - res.fun


def _simulated_value(data: dict, starts: tuple, batches: tuple, n: int) -> float | None:
    """The final value of a schedule stepped through in plain Python; None when it breaks a bound."""
    inv = {s: float(v["initial"]) for s, v in data["states"].items()}
    for t in range(n + 1):
        for (_, i, t0), b in zip(starts, batches):
            task = data["tasks"][i]
            for s, out in task["outputs"].items():
                if t0 + out["delay_h"] == t:
                    inv[s] += out["fraction"] * b
            if t0 == t:
                for s, share in task["inputs"].items():
                    inv[s] -= share * b
        for s, v in inv.items():
            if v < -1e-9 or v > data["states"][s].get("capacity", math.inf) + 1e-9:
                return None
    return sum(data["states"][s]["price"] * v for s, v in inv.items())


def _integer_best(data: dict, starts: tuple, n: int) -> float | None:
    ranges = [range(data["units"][j]["bmin"], data["units"][j]["tasks_bmax"][i] + 1) for j, i, _ in starts]
    values = [_simulated_value(data, starts, b, n) for b in itertools.product(*ranges)]
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _best(kind: str, data: dict, n: int) -> float:
    """The optimum by enumeration: the best feasible set of starts (each with its best batches)."""
    one = _lp_best if kind == "lp" else _integer_best
    return max(v for v in (one(data, p, n) for p in _patterns(data, n)) if v is not None)


@lru_cache(maxsize=None)
def _instances(kind: str) -> list[tuple[int, int, float]]:
    """(seed, steps, optimum) of 8 instances small enough to enumerate where scheduling pays (the optimum
    beats doing nothing), half of them on two units; found by walking the seeds."""
    found, seed, top = [], 0, 8 if kind == "lp" else 3
    while len(found) < 8:
        seed += 1
        data = _tiny(seed, top)
        n = random.Random(-seed).randint(3, 5)
        pats = _patterns(data, n)
        size = len(pats) if kind == "lp" else sum(math.prod(data["units"][j]["tasks_bmax"][i] + 1 for j, i, _ in p)
                                                  for p in pats)
        two = sum(len(data["units"]) == 2 for *_, in found)
        if size > (400 if kind == "lp" else 4000) or (len(data["units"]) == 1 and len(found) - two >= 4):
            continue
        best = _best(kind, data, n)
        if best > sum(s["price"] * s["initial"] for s in data["states"].values()) + 0.5:
            found.append((seed, n, best))
    return found


@pytest.mark.parametrize("index", range(8))
def test_tiny_instances_continuous_batches_against_enumeration(index):
    seed, n, best = _instances("lp")[index]
    data = _tiny(seed, 8)
    result = schedule_stn(data, n)
    assert result["status"] == "optimal"
    assert close(result["objective"], best), (seed, n, result["objective"], best)
    assert close(replay(load_stn(data), result["schedule"], n)["value"], best)


@pytest.mark.parametrize("index", range(8))
def test_tiny_instances_whole_batches_against_enumeration(index):
    seed, n, best = _instances("int")[index]
    data = _tiny(seed, 3)
    result = schedule_stn(data, n, integer_batches=True)
    assert result["status"] == "optimal"
    assert close(result["objective"], best), (seed, n, result["objective"], best)
    assert all(e["batch"] == round(e["batch"]) for e in result["schedule"])


def test_the_enumeration_sees_what_it_should():
    # one unit, one task of 2 steps on a 4-step horizon: starts {}, {0}, {1}, {2}, {0, 2}
    data = {"time_step_h": 1, "states": {"a": {}, "b": {}},
            "tasks": {"t": {"inputs": {"a": 1}, "outputs": {"b": {"fraction": 1, "delay_h": 2}}}},
            "units": {"u": {"tasks_bmax": {"t": 1}}}}
    assert sorted(_patterns(data, 4)) == sorted([(), (("u", "t", 0),), (("u", "t", 1),), (("u", "t", 2),),
                                                 (("u", "t", 0), ("u", "t", 2))])


# ------------------------------------------------------------ (b) the literature example
def _pulp_objective(data: dict, n: int, integer: bool) -> float:
    """The same problem on PuLP/CBC, written differently: the unit allocation as pairwise conflicts (two
    starts on one unit whose runs overlap exclude each other) and inventories as expressions."""
    import pulp  # in the test extra: a missing package fails the test rather than skipping it
    step = data["time_step_h"]
    tasks, units, states = data["tasks"], data["units"], data["states"]
    delay = {(i, s): round(o["delay_h"] / step) for i, t in tasks.items() for s, o in t["outputs"].items()}
    dur = {i: max(delay[i, s] for s in t["outputs"]) for i, t in tasks.items()}
    prob = pulp.LpProblem("stn", pulp.LpMaximize)
    w, b = {}, {}
    for j, u in units.items():
        for i, bmax in u["tasks_bmax"].items():
            for t in range(n - dur[i] + 1):
                w[i, j, t] = pulp.LpVariable(f"w_{i}_{j}_{t}", cat="Binary")
                b[i, j, t] = pulp.LpVariable(f"b_{i}_{j}_{t}", lowBound=0, upBound=bmax,
                                             cat="Integer" if integer else "Continuous")
                prob += b[i, j, t] <= bmax * w[i, j, t]
                prob += b[i, j, t] >= u.get("bmin", 0) * w[i, j, t]
    for (i, j, t), (i2, j2, t2) in itertools.combinations(w, 2):
        if j == j2 and t < t2 + max(dur[i2], 1) and t2 < t + max(dur[i], 1):
            prob += w[i, j, t] + w[i2, j2, t2] <= 1

    def inventory(s, t):
        made = [tasks[i]["outputs"][s]["fraction"] * v for (i, _, u), v in b.items()
                if s in tasks[i]["outputs"] and u + delay[i, s] <= t]
        used = [tasks[i]["inputs"][s] * v for (i, _, u), v in b.items() if s in tasks[i]["inputs"] and u <= t]
        return states[s].get("initial", 0) + pulp.lpSum(made) - pulp.lpSum(used)

    for s, spec in states.items():
        for t in range(n + 1):
            prob += inventory(s, t) >= 0
            if spec.get("capacity") is not None:
                prob += inventory(s, t) <= spec["capacity"]
    prob += pulp.lpSum(spec.get("price", 0) * inventory(s, n) for s, spec in states.items())
    status = prob.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=1e-10))
    assert pulp.LpStatus[status] == "Optimal"
    return pulp.value(prob.objective)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PuLP 3 announces its 4.0 API
@pytest.mark.parametrize("integer", [False, True])
def test_kondili_at_12_h_is_proven_optimal_and_matches_a_second_formulation(integer):
    result = schedule_stn(KONDILI, 12, integer_batches=integer)
    assert result["status"] == "optimal" and result["gap"] <= 1e-6
    assert close(result["objective"], _pulp_objective(KONDILI, 12, integer))
    played = replay(load_stn(KONDILI), result["schedule"], 12)
    assert close(played["value"], result["objective"])
    assert played["final"] == result["final_states"]
    assert all(e["end_h"] <= 12 for e in result["schedule"])


def test_kondili_at_10_h_is_the_published_optimum():
    # jckantor/STN-Scheduler, notebooks/1_Kondili_State_Task_Network.ipynb: GLPK, upper = lower bound 2744.375
    assert close(schedule_stn(KONDILI, 10)["objective"], 2744.375, 1e-9)


def test_the_kondili_profile_closes_the_mass_balance():
    result = schedule_stn(KONDILI, 12)
    profile = result["inventory"]
    assert profile["times_h"] == [float(t) for t in range(13)]
    assert [v[-1] for v in profile["states"].values()] == list(result["final_states"].values())
    # mass is conserved: states at the horizon hold the 600 kg of feed (nothing is left in a unit)
    assert close(sum(result["final_states"].values()), 600.0, 1e-9)


def test_the_example_validates_against_the_json_schema():
    import jsonschema

    from magcycle.report.reference import json_schema

    jsonschema.validate(KONDILI, json_schema("stn"))


# ------------------------------------------------------------ (c) by hand
# One unit U runs one task T: T draws its batch from state A and releases it to state P 2 h after the start.
# A holds 100 kg at time 0 and is worth 1 a kg at the horizon; P starts empty and is worth 5 a kg; U takes at
# most 30 kg a batch. Horizon 5 h in steps of 1 h.
# A batch takes U for 2 h and must finish by 5 h, so it starts at 0, 1, 2 or 3 h; two batches fit
# (0 and 2, 0 and 3, or 1 and 3), three would need 6 h. Each kg moved from A to P gains 5 - 1 = 4, so both
# batches are full: 60 kg of P, 40 kg of A left, value 5 * 60 + 1 * 40 = 340.
HAND = {"time_step_h": 1, "states": {"A": {"initial": 100, "price": 1}, "P": {"price": 5}},
        "tasks": {"T": {"inputs": {"A": 1.0}, "outputs": {"P": {"fraction": 1.0, "delay_h": 2}}}},
        "units": {"U": {"tasks_bmax": {"T": 30}}}}


def test_by_hand_two_full_batches():
    result = schedule_stn(HAND, 5)
    assert close(result["objective"], 340.0, 1e-9)
    assert [e["batch"] for e in result["schedule"]] == pytest.approx([30.0, 30.0])
    assert result["final_states"] == pytest.approx({"A": 40.0, "P": 60.0})


def test_by_hand_a_short_horizon_fits_one_batch():
    # 3 h: a batch starting at 2 h would end at 4 h, past the horizon; one batch (0 or 1 h): 5 * 30 + 70 = 220
    assert close(schedule_stn(HAND, 3)["objective"], 220.0, 1e-9)


def test_by_hand_storage_limits_the_product():
    # P holds at most 45 kg: 45 kg made in two batches (30 + 15), value 5 * 45 + 1 * 55 = 280
    doc = copy.deepcopy(HAND)
    doc["states"]["P"]["capacity"] = 45
    assert close(schedule_stn(doc, 5)["objective"], 280.0, 1e-9)
    # with a smallest batch of 25 kg two batches need 50 kg > 45: one full batch, 5 * 30 + 70 = 220
    doc["units"]["U"]["bmin"] = 25
    assert close(schedule_stn(doc, 5)["objective"], 220.0, 1e-9)


def test_by_hand_half_hour_steps():
    # the same plant on a 0.5 h grid: the delay is 4 steps, the answer the same 340
    doc = copy.deepcopy(HAND) | {"time_step_h": 0.5}
    result = schedule_stn(doc, 5)
    assert close(result["objective"], 340.0, 1e-9) and {e["end_h"] - e["start_h"] for e in result["schedule"]} == {2}


# ------------------------------------------------------------ the replay refuses wrong plans
@pytest.mark.parametrize("tamper, words", [
    (lambda s: s[0].update(batch=s[0]["batch"] + 100), "batch"),                       # beyond the unit's bmax
    (lambda s: s.append(dict(s[0])), "at once"),                                         # a unit doing two things
    (lambda s: s.append(dict(s[0], start_h=11.0, end_h=13.0)), "horizon"),              # past the horizon
    (lambda s: s.append({"unit": "Heater", "task": "Reaction_1", "start_h": 0.0, "batch": 1.0}), "cannot run"),
])
def test_the_replay_refuses_a_tampered_schedule(tamper, words):
    schedule = copy.deepcopy(schedule_stn(HAND, 5)["schedule"]) if words != "cannot run" else []
    if words == "cannot run":
        with pytest.raises(MassBalanceError, match=words):
            replay(load_stn(KONDILI), [{"unit": "Heater", "task": "Reaction_1", "start_h": 0.0, "batch": 1.0}], 12)
        return
    tamper(schedule)
    with pytest.raises(MassBalanceError, match=words):
        replay(load_stn(HAND), schedule, 5 if words != "horizon" else 12)


def test_the_replay_refuses_an_overdrawn_state():
    schedule = [{"unit": "U", "task": "T", "start_h": 0.0, "batch": 30.0}]
    doc = copy.deepcopy(HAND)
    doc["states"]["A"]["initial"] = 20
    with pytest.raises(MassBalanceError, match="state A"):
        replay(load_stn(doc), schedule, 5)


def test_a_plan_that_fails_its_replay_is_raised_not_returned(monkeypatch):
    real = stn_module._schedule

    def wrong(*a):
        out = real(*a)
        out[0]["batch"] *= 0.5  # the plan no longer matches the solver's inventories
        return out

    monkeypatch.setattr(stn_module, "_schedule", wrong)
    with pytest.raises(MassBalanceError):
        schedule_stn(HAND, 5)


# ------------------------------------------------------------ (d) command line
def run(capsys, *args):
    status = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def _file(tmp_path, data: dict) -> str:
    path = tmp_path / "stn.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_cli_json(capsys):
    status, out, err = run(capsys, "plan", "stn", KONDILI_PATH, "--horizon", "12", "--json")
    assert status == 0 and err == ""
    doc = json.loads(out)
    assert {"objective", "status", "gap", "bound", "schedule", "final_states", "inventory"} <= set(doc)
    assert doc["status"] == "optimal"
    assert all(set(e) == {"unit", "task", "start_h", "end_h", "batch"} for e in doc["schedule"])
    keys = [(e["start_h"], e["unit"], e["task"]) for e in doc["schedule"]]
    assert keys == sorted(keys)


def test_cli_table(capsys):
    status, out, err = run(capsys, "plan", "stn", KONDILI_PATH, "--horizon", "12", "--integer-batches")
    assert status == 0 and err == ""
    assert "status optimal" in out and "whole-number batches" in out and "Product_2" in out


def _mutated(change):
    data = copy.deepcopy(KONDILI)
    change(data)
    return data


@pytest.mark.parametrize("change, field", [
    (lambda d: d["tasks"]["Reaction_1"].update(inputs={"FeedB": 0.5, "FeedX": 0.5}), "tasks.Reaction_1.inputs.FeedX"),
    (lambda d: d["tasks"]["Heating"]["outputs"].update(Steam={"fraction": 0.0001, "delay_h": 1}),
     "tasks.Heating.outputs.Steam"),
    (lambda d: d["tasks"]["Reaction_1"]["inputs"].update(FeedC=0.6), "tasks.Reaction_1.inputs"),
    (lambda d: d["tasks"]["Reaction_2"]["outputs"]["IntAB"].update(fraction=0.7), "tasks.Reaction_2.outputs"),
    (lambda d: d["states"]["HotA"].update(capacity=-1), "states.HotA.capacity"),
    (lambda d: d["tasks"].update(Drying={"inputs": {"FeedA": 1}, "outputs": {"HotA": {"fraction": 1, "delay_h": 1}}}),
     "tasks.Drying"),
    (lambda d: d["units"]["Still"]["tasks_bmax"].update(Distil=10), "units.Still.tasks_bmax.Distil"),
    (lambda d: d["tasks"]["Heating"]["outputs"]["HotA"].update(delay_h=1.5), "tasks.Heating.outputs.HotA.delay_h"),
    (lambda d: d["units"]["Heater"].update(bmin=150), "units.Heater.bmin"),
    (lambda d: d.update(time_step_h=0), "time_step_h"),
    (lambda d: d["states"]["FeedA"].update(initial=True), "states.FeedA.initial"),
])
def test_cli_bad_file_is_one_line_naming_the_field(capsys, tmp_path, change, field):
    status, out, err = run(capsys, "plan", "stn", _file(tmp_path, _mutated(change)), "--horizon", "12")
    assert status == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith(f"magcycle: error: {field}: "), err


@pytest.mark.parametrize("args, field", [
    (["--horizon", "12.5"], "--horizon"), (["--horizon", "0"], "--horizon"), (["--horizon", "nan"], "--horizon"),
    (["--horizon", "-3"], "--horizon"), (["--horizon", "1e9"], "--horizon"),
    (["--horizon", "12", "--time-limit", "0"], "--time-limit"),
    (["--horizon", "12", "--time-limit", "inf"], "--time-limit"),
])
def test_cli_bad_arguments_are_one_line(capsys, args, field):
    status, out, err = run(capsys, "plan", "stn", KONDILI_PATH, *args)
    assert status == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith(f"magcycle: error: {field}: "), err


def test_cli_infeasible_is_exit_1_one_line(capsys, tmp_path):
    # Product_1 starts above its capacity and nothing draws from it: no schedule exists
    data = _mutated(lambda d: d["states"]["Product_1"].update(initial=50, capacity=10))
    status, out, err = run(capsys, "plan", "stn", _file(tmp_path, data), "--horizon", "12", "--json")
    assert status == 1 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith("magcycle: solve failed: infeasible") and "Product_1" in err


# ------------------------------------------------------------ random malformed documents
_PATHS = [(), ("time_step_h",), ("states",), ("states", "FeedA"), ("states", "FeedA", "capacity"),
          ("states", "FeedA", "initial"), ("states", "HotA", "price"), ("states", "New"), ("tasks",),
          ("tasks", "Heating"), ("tasks", "Heating", "inputs"), ("tasks", "Heating", "inputs", "FeedA"),
          ("tasks", "Heating", "inputs", "New"), ("tasks", "Reaction_2", "outputs"),
          ("tasks", "Reaction_2", "outputs", "IntAB"), ("tasks", "Reaction_2", "outputs", "IntAB", "fraction"),
          ("tasks", "Reaction_2", "outputs", "IntAB", "delay_h"), ("tasks", "New"), ("units",),
          ("units", "Still"), ("units", "Still", "tasks_bmax"), ("units", "Still", "tasks_bmax", "Separation"),
          ("units", "Still", "tasks_bmax", "New"), ("units", "Still", "bmin"), ("units", "New")]
_VALUES = st.one_of(st.just("<delete>"), st.none(), st.booleans(), st.integers(-5, 300), st.floats(allow_nan=True),
                    st.text(max_size=6), st.lists(st.integers(), max_size=2),
                    st.dictionaries(st.sampled_from(["FeedA", "fraction", "delay_h", "x", "Heating", ""]),
                                    st.one_of(st.integers(-1, 2), st.floats(-1, 2), st.text(max_size=2)),
                                    max_size=3))


def _set(doc, path, value):
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        if not isinstance(node, dict):
            return doc
        node = node.setdefault(key, {})
    if isinstance(node, dict):
        if value == "<delete>":
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return doc


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PATHS), _VALUES), min_size=1, max_size=3))
def test_random_malformed_documents_are_one_input_error(changes):
    doc = copy.deepcopy(KONDILI)
    for path, value in changes:
        doc = _set(doc, path, value)
    try:
        parsed = validate(StnFile, doc)
    except InputError as exc:
        assert "\n" not in str(exc) and exc.field and exc.reason
        assert exc.field.split(".")[0] in {"document", "time_step_h", "states", "tasks", "units"} or \
            exc.field in {"x", "fraction", "delay_h", "FeedA", "Heating", ""}, exc.field
        return
    assert isinstance(parsed, StnFile)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.floats(allow_nan=True), st.integers(-10, 10**6), st.booleans(), st.text(max_size=3), st.none()),
       st.integers(1, 10**5).map(lambda k: 1.0 / k))  # every delay of the example a multiple of the step
def test_random_horizons_are_steps_or_one_input_error(horizon, step):
    doc = load_stn(copy.deepcopy(KONDILI) | {"time_step_h": step})
    try:
        k = horizon_steps(doc, horizon)
    except InputError as exc:
        assert exc.field == "horizon_h" and "\n" not in str(exc)
        return
    assert 1 <= k <= 10_000 and math.isclose(k * step, horizon, rel_tol=1e-9)
