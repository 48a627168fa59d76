"""Simulate a plant: its flowsheet, a feed, and the units designed for the steady state they reach.

Design passes
    A plant solved from nothing designs its units on the way (the SX cuts
    their stage counts, :mod:`magcycle.units.sx_cascade`) on the feed each
    meets on the first recycle pass, before the recycles have converged.
    Once converged, every unit is asked whether its design still holds on
    the steady state (:meth:`magcycle.units.base.UnitOperation.holds`);
    those that do not are designed again on the feed they now see
    (their stage search starts above the count that fell short, which it
    cannot go below) and the plant is converged again from where it stood.
    Stage counts only grow; at most ``MAX_DESIGN_PASSES`` passes are made.

    A plant solved with ``warm`` (a previous result of the same plant) is
    built equipment: its designs are kept whatever the feed, and no unit is
    designed again (a Monte Carlo sample runs the nominal plant on its own
    feed).

Steps
    :func:`simulate_steps` is :func:`simulate` as a step generator that
    yields each (CascadeSpec, warm start) its SX cuts need solved
    (:mod:`magcycle.sx.lockstep`).
"""

from __future__ import annotations

from pathlib import Path

from magcycle.chem.elements import RARE_EARTHS
from magcycle.documents import clip
from magcycle.errors import ConvergenceError, InputError
from magcycle.flowsheet.spec import FlowsheetSpec, load_flowsheet, reference_plant_path

__all__ = ["MAX_DESIGN_PASSES", "simulate", "simulate_steps", "load_plant", "plant_feed", "warm_state", "off_spec_lines"]

#: most design passes of a plant solved from nothing (module docstring)
MAX_DESIGN_PASSES = 8


def simulate(plant=None, feed=None, *, rate=None, warm=None, progress=None):
    """Solve a plant (path, built-in name, FlowsheetSpec or None for the reference plant) for a feed.

    ``feed``: a class key, a ``key=w,...`` blend, an assay file, a Feed, or
    None for the plant's own ``[feed]``; ``rate`` overrides the feed rate.
    ``warm``: a previous PlantResult of the same plant; its SX designs and
    solutions are reused (same equipment, flows scaled with the feed).
    """
    from magcycle.sx.lockstep import drive

    return drive(simulate_steps(plant, feed, rate=rate, warm=warm, progress=progress))


def load_plant(plant=None) -> FlowsheetSpec:
    """A plant: a FlowsheetSpec as it is, a flowsheet file, a built-in plant by name, or None for
    the reference plant."""
    if plant is None:
        return load_flowsheet(reference_plant_path())
    if isinstance(plant, FlowsheetSpec):
        return plant
    return load_flowsheet(Path(plant) if not isinstance(plant, str) else plant)


def plant_feed(spec: FlowsheetSpec, feed=None, rate=None, *, rate_field: str = "feed.rate"):
    """The Feed a plant runs on: ``feed`` (anything :func:`magcycle.feed.resolve_feed` takes) or
    the plant's own ``[feed]``, at ``rate`` or the feed's own rate or the plant's; a bad ``rate``
    is reported as ``rate_field``."""
    from magcycle.feed import resolve_feed

    default_rate = spec.feed.get("rate")
    if feed is None:
        if "blend" not in spec.feed and "class" not in spec.feed:
            raise InputError("feed", "the plant has no [feed]; give one with --feed")
        feed = spec.feed.get("blend", spec.feed.get("class"))
    out = resolve_feed(feed, rate, spec.hours_per_year, default_rate=default_rate, rate_field=rate_field)
    if not any(w > 0 for el, w in out.composition.items() if el in RARE_EARTHS):
        raise InputError("feed", f"{clip(out.name)} holds no rare earth: nothing for the plant to recover")
    return out


def warm_state(warm, spec: FlowsheetSpec, feed) -> dict | None:
    """The solve state of a neighbouring result to start from: its designs and solutions, and
    its recycle tears scaled by the feed rate (every unit is specified by ratios, so the plant
    is homogeneous of degree one in the feed rate; only the start: the recycle still converges
    to its own tolerance)."""
    if warm is None or warm.spec.name != spec.name:
        return None
    from magcycle.units.stream import Stream

    state = {k: dict(v) if isinstance(v, dict) else v for k, v in warm.state.items()}
    ratio = feed.kg_per_h / warm.feed.kg_per_h if warm.feed.kg_per_h > 0 else 1.0
    if "_tears" in state and ratio != 1.0:
        state["_tears"] = {t: Stream(s.phase, {k: v * ratio for k, v in s.mol_h.items()})
                           for t, s in state["_tears"].items()}
    return state


def _shortfall(results, names) -> float:
    """The largest amount by which a unit's design misses a target (its info's target table)."""
    worst = 0.0
    for name in names:
        table = results[name].info.get("targets")
        for t in (table() if callable(table) else table or {}).values():
            worst = max(worst, t["minimum"] - t["achieved"])
    return worst


def _not_holding(spec: FlowsheetSpec, results, state) -> list[str]:
    return [name for name, u in spec.units.items() if not u.holds(results[name], state.get(name, {}))]


def simulate_steps(plant=None, feed=None, *, rate=None, warm=None, progress=None):
    """:func:`simulate` as a step generator: yields each (CascadeSpec, warm start) the plant
    needs solved and is sent the CascadeResult, so that many plants can be solved together
    (:func:`magcycle.sx.lockstep.run_together`); returns the PlantResult."""
    from magcycle.flowsheet.result import PlantResult
    from magcycle.flowsheet.solve import check_closure, plant_closure, solve_flowsheet_steps

    spec = load_plant(plant)
    feed_obj = plant_feed(spec, feed, rate)
    state = warm_state(warm, spec, feed_obj)
    designing = state is None
    iterations = 0
    for _ in range(MAX_DESIGN_PASSES):
        streams, results, stats, state = yield from solve_flowsheet_steps(spec, feed_obj, state=state,
                                                                           progress=progress)
        iterations += stats.recycle_iterations
        again = _not_holding(spec, results, state) if designing else []
        if not again:
            break
        for name in again:
            spec.units[name].release(state[name])
    else:
        raise ConvergenceError(f"the designs of {', '.join(again)} still fall short of their targets on the "
                               f"plant's steady state after {MAX_DESIGN_PASSES} design passes",
                               _shortfall(results, again), MAX_DESIGN_PASSES)
    per_el, _, _ = plant_closure(spec, streams, results)
    worst = check_closure(per_el)
    return PlantResult(spec, feed_obj, streams, results, per_el, worst, iterations,
                       stats.tear_streams, stats.seconds, state)


def off_spec_lines(result) -> list[str]:
    """One line per product of a plant result that fails its spec: the product, its spec and every failed check."""
    return [f"{p['name']} ({p['spec']}): {' | '.join(p['failures'])}" for p in result.products
            if p["meets_spec"] is False]
