"""Cut targets derived from the product specifications, for the feed in hand.

The targets typed into a flowsheet's SX cuts (``extract_purity``,
``raffinate_purity``, ...) are the design basis. They say nothing of a
product three cuts downstream: a raffinate purity of 99.9 % of a Sm-Gd-Tb
liquor that is mostly Gd lets through enough Dy to spoil a Tb product that
is a tenth of it. So a plant is run to its products' specifications:

1. solve it with the cuts' own targets;
2. for each product below its aim (below), take its limiting rare earth E and
   the SX cut meant to remove it (:mod:`magcycle.flowsheet.diagnosis`),
   with the outlet of that cut toward the product;
3. tighten that outlet's purity target by the factor k by which the
   product's impurity exceeds its aim:

       k = (1 - purity) / ((1 - min_purity) (1 - SPEC_MARGIN)),
       target' = 1 - (1 - achieved) / k,

   where ``achieved`` is what the outlet reaches now (its side's mole
   fraction of the outlet's rare earths) and SPEC_MARGIN (0.2) keeps the
   aim a fifth inside the spec: 99.6 % for a 99.5 % product. The purity
   target replaces a recovery target on that side of the cut;
4. solve again (the cut is designed for its new target at this feed, its
   flows set by feed-forward) and repeat, at most ``MAX_SPEC_PASSES``
   times, until every product reaches its aim or a cut can do no more.

A cut that no cascade of up to its ``max_stages`` can make meet its new
target, or whose tightening does not raise the product's purity, is not
asked again for that product (the next cut on its path may be); the other
changes of the pass are applied. A product still off spec names its
limiting element, the cut and why it could not help. Products that meet
their spec but not their aim are tightened too: the margin is the point.
Impurities that are not rare earths (Na2O, chloride) are not separated by
the SX cuts and are left to their units.
"""

from __future__ import annotations

from magcycle.errors import ConvergenceError, InputError

__all__ = ["SPEC_MARGIN", "MAX_SPEC_PASSES", "run_to_spec", "run_to_spec_steps", "tightened_targets", "blamed_cut"]

#: share of each product's impurity allowance kept in hand when cut targets are derived [-]
SPEC_MARGIN = 0.2
#: most solves of a plant to its products' specifications
MAX_SPEC_PASSES = 6
#: the purest target a cut is asked for (a Fraction is below 1) [-]
_PUREST = 1.0 - 1e-9


def run_to_spec(plant=None, feed=None, *, rate=None, progress=None):
    """Solve a plant with its cuts' targets derived from its products' specifications for this feed
    (module docstring). Returns the PlantResult; ``result.derived_targets`` lists each target
    changed, ``{cut: {target: (typed or None, derived)}}``."""
    from magcycle.sx.lockstep import drive

    return drive(run_to_spec_steps(plant, feed, rate=rate, progress=progress))


def run_to_spec_steps(plant=None, feed=None, *, rate=None, warm=None, progress=None):
    """:func:`run_to_spec` as a step generator (:mod:`magcycle.sx.lockstep`). With ``warm`` (a solved
    plant of the same flowsheet: the built plant) every pass runs that plant's equipment, its
    stage counts kept, and a tightened target is met by the cuts' feed-forward flows alone; without
    it each pass designs the cuts for their targets, as ``magcycle run`` does."""
    from magcycle.flowsheet.simulation import load_plant, simulate_steps

    spec = load_plant(plant)
    result = yield from simulate_steps(spec, feed, rate=rate, warm=warm, progress=progress)
    derived: dict = {}
    skip: set = set()  # (product, cut): a cut that cannot help a product (unreachable, or no progress)
    notes: dict = {}  # product -> why its cut could not help
    for _ in range(MAX_SPEC_PASSES):
        asked = tightened_targets(result, skip, notes)
        if not asked:
            break
        nxt = yield from _solve_feasible(spec, feed, rate, asked, skip, notes, result if warm is not None else None)
        if nxt is None:
            continue
        after, changed = nxt
        _stalled(result, after, changed, asked, skip, notes)
        _record(derived, spec, {cut: c for cut, (c, _) in asked.items() if cut in changed})
        spec, result = after.spec, after
    else:
        if tightened_targets(result, skip):
            for p in result.products:
                notes.setdefault(p["name"], f"still short after {MAX_SPEC_PASSES} passes")
    _say(result, notes)
    result.derived_targets = derived
    return result


def _solve_feasible(spec, feed, rate, asked: dict, skip: set, notes: dict, warm=None):
    """Solve with every asked change a cut can take; a cut no cascade of its ``max_stages`` makes
    meet its new target is dropped (and named on the products that asked it), the rest applied:
    (result, the cuts changed), or None when no change could be applied. A step generator; ``warm``
    runs the built plant (:func:`run_to_spec_steps`)."""
    from magcycle.errors import MassBalanceError
    from magcycle.flowsheet.simulation import simulate_steps

    todo = dict(asked)
    while todo:
        try:
            changed = spec.with_unit_parameters({c: ch for c, (ch, _) in todo.items()})
            return (yield from simulate_steps(changed, feed, rate=rate, warm=warm)), set(todo)
        except (InputError, ConvergenceError, MassBalanceError) as exc:
            cut = blamed_cut(str(getattr(exc, "field", "")), todo)
            for c in [cut] if cut else list(todo):  # not pinned on a cut: every change is dropped
                change, products = todo.pop(c)
                want = ", ".join(f"{k} {v:.9g}" for k, v in change.items() if v is not None)
                for name in products:
                    skip.add((name, c))
                    notes[name] = f"at this feed it would need {c} {want}, which the cut cannot reach ({exc})"
    return None


def blamed_cut(field: str, cuts) -> str | None:
    """The cut among ``cuts`` an error's field names (``units.CUT`` or ``units.CUT.PARAM``), or None.

    >>> blamed_cut("units.sx_tbdy", ["sx_tb", "sx_tbdy"]), blamed_cut("units.sx_tb.beta.Gd", ["sx_tbdy", "sx_tb"])
    ('sx_tbdy', 'sx_tb')
    >>> blamed_cut("feed.rate", ["sx_tb"]) is None
    True
    """
    parts = field.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "units" and parts[1] in cuts else None


def _stalled(before, after, changed: set, asked: dict, skip: set, notes: dict) -> None:
    """A product whose purity did not rise for the change asked of its cut: that cut cannot help it."""
    was = {p["name"]: p["purity"] for p in before.products}
    for cut, (_, products) in asked.items():
        for p in after.products:
            if p["name"] in products and cut in changed and p["purity"] <= was[p["name"]] * (1 + 1e-9):
                skip.add((p["name"], cut))
                notes[p["name"]] = f"tightening {cut} did not raise its purity"


def _say(result, notes: dict) -> None:
    """Add, to each product still off spec, why no cut could bring it in."""
    for p in result.products:
        if p["meets_spec"] is False and p["name"] in notes:
            p["failures"] = [f"{f}; {notes[p['name']]}" if f.startswith("purity ") else f for f in p["failures"]]


def _record(derived: dict, spec, changes: dict) -> None:
    for cut, params in changes.items():
        for key, value in params.items():
            if value is not None:
                typed = derived.get(cut, {}).get(key, (spec.units[cut].p.get(key), None))[0]
                derived.setdefault(cut, {})[key] = (typed, value)


def _outlet_purity(result, cut: str, port: str) -> float:
    """The mole fraction of an outlet's rare earths that belong to its side of the cut."""
    from magcycle.chem.elements import RARE_EARTHS

    unit = result.spec.units[cut]
    stream = next(c.name for c in result.spec.connections if c.src == (cut, port))
    hk = unit.beta[unit.p["heavy_key"]]
    re = {e: n for e, n in result.streams[stream].elements().items() if e in RARE_EARTHS and n > 0}
    total = sum(re.values())
    side = sum(n for e, n in re.items() if (unit.beta.get(e, 0.0) >= hk) == (port == "extract"))
    return side / total if total > 0 else 1.0


def tightened_targets(result, skip=frozenset(), notes: dict | None = None) -> dict[str, tuple[dict, set]]:
    """The target changes one pass asks for (module docstring, step 3): ``{cut: ({param: value},
    products asking)}``, empty when every product reaches its aim or no cut on the path of one that
    does not can help (``skip`` holds the (product, cut) pairs known not to)."""
    from magcycle.flowsheet.diagnosis import cut_outlets_meant_to_remove, limiting_element

    changes: dict[str, tuple[dict, set]] = {}
    for p in result.products:
        aim = 1.0 - (1.0 - p["min_purity"]) * (1.0 - SPEC_MARGIN)
        if not p["produced"] or p["purity"] >= aim:
            continue
        element = limiting_element(p["composition_treo"], p["basis"])
        stream = result.spec.products[p["name"]]["stream"]
        outlets = [o for o in (cut_outlets_meant_to_remove(result, stream, element, p["basis"]) if element else [])
                   if (p["name"], o[0]) not in skip]
        if not outlets:
            continue
        cut, port = outlets[0]
        k = (1.0 - p["purity"]) / (1.0 - aim)
        target = min(1.0 - (1.0 - _outlet_purity(result, cut, port)) / k, _PUREST)
        key, other = ("extract_purity", "light_recovery") if port == "extract" else \
            ("raffinate_purity", "heavy_recovery")
        typed = result.spec.units[cut].p.get(key) or 0.0
        if target <= typed:  # the cut already aims there and falls short of it: no progress to ask for
            if notes is not None:
                notes[p["name"]] = (f"{cut} falls short of its own {key} {typed:g} at this feed (its outlet "
                                    f"reaches {_outlet_purity(result, cut, port):.6g})")
            continue
        now, asking = changes.setdefault(cut, ({}, set()))
        now[key] = max(target, now.get(key) or 0.0)
        now[other] = None
        asking.add(p["name"])
    return changes
