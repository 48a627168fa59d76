"""magcycle.flowsheet: plant flowsheets declared in TOML and solved with recycles.

>>> from magcycle.flowsheet import simulate
>>> r = simulate(feed="ev")                      # the built-in reference plant   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from magcycle.flowsheet.spec import (FlowsheetSpec, builtin_plants, load_flowsheet, parse_flowsheet,
                                     reference_plant_path)


def simulate(plant=None, feed=None, *, rate=None, warm=None, progress=None):
    """Solve a plant (path, FlowsheetSpec or None for the reference plant) for a feed.

    ``feed``: a class key, a ``key=w,...`` blend, an assay file, a Feed, or
    None for the plant's own ``[feed]``; ``rate`` overrides the feed rate.
    ``warm``: a previous PlantResult of the same plant; its SX designs and
    solutions are reused (same equipment, flows scaled with the feed).
    """
    from magcycle.sx.lockstep import drive

    return drive(simulate_steps(plant, feed, rate=rate, warm=warm, progress=progress))


def simulate_steps(plant=None, feed=None, *, rate=None, warm=None, progress=None):
    """:func:`simulate` as a step generator: yields each (CascadeSpec, warm start) the plant
    needs solved and is sent the CascadeResult, so that many plants can be solved together
    (:func:`magcycle.sx.lockstep.run_together`); returns the PlantResult."""
    from magcycle.feed import resolve_feed
    from magcycle.flowsheet.result import PlantResult
    from magcycle.flowsheet.solve import check_closure, plant_closure, solve_flowsheet_steps
    from magcycle.errors import InputError

    if plant is None:
        spec = load_flowsheet(reference_plant_path())
    elif isinstance(plant, FlowsheetSpec):
        spec = plant
    else:
        spec = load_flowsheet(Path(plant))
    hours = spec.hours_per_year
    if feed is None:
        if "blend" not in spec.feed and "class" not in spec.feed:
            raise InputError("feed", "the plant has no [feed]; give one with --feed")
        src = spec.feed.get("blend", spec.feed.get("class"))
        feed_obj = resolve_feed(src, rate or spec.feed.get("rate", "100 kg/h"), hours)
    else:
        feed_obj = resolve_feed(feed, rate or spec.feed.get("rate", "100 kg/h"), hours)
    state = None
    if warm is not None and warm.spec.name == spec.name:
        import copy
        state = {k: dict(v) if isinstance(v, dict) else v for k, v in copy.copy(warm.state).items()}
        ratio = feed_obj.kg_per_h / warm.feed.kg_per_h if warm.feed.kg_per_h > 0 else 1.0
        if "_tears" in state and ratio != 1.0:
            # every unit is specified by ratios, so the plant is homogeneous of
            # degree one in the feed rate: start the recycle from the
            # neighbour's tears scaled by the rate (only the start; the
            # recycle still converges to its own tolerance)
            from magcycle.units.stream import Stream
            state["_tears"] = {t: Stream(s.phase, {k: v * ratio for k, v in s.mol_h.items()})
                               for t, s in state["_tears"].items()}
    streams, results, stats, state = yield from solve_flowsheet_steps(spec, feed_obj, state=state,
                                                                       progress=progress)
    per_el, _, _ = plant_closure(spec, streams, results)
    worst = check_closure(per_el)
    return PlantResult(spec, feed_obj, streams, results, per_el, worst, stats.recycle_iterations,
                       stats.tear_streams, stats.seconds, state)


__all__ = ["simulate", "simulate_steps", "builtin_plants", "load_flowsheet", "parse_flowsheet", "FlowsheetSpec", "reference_plant_path"]
