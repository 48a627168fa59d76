"""Cut targets derived from the product specifications, for the feed in hand.

The targets typed into a flowsheet's SX cuts (``extract_purity``,
``raffinate_purity``, ...) are the design basis. They say nothing of a
product three cuts downstream: a raffinate purity of 99.9 % of a Sm-Gd-Tb
liquor that is mostly Gd lets through enough Dy to spoil a Tb product that
is a tenth of it. So a plant is run to its products' specifications:

1. solve it with the cuts' own targets;
2. for each product below its purity, take its limiting rare earth E and
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
target stops the passes: the result keeps the last solve, and the product
names its limiting element and that cut (its ``limiting`` table says the
target asked for). Impurities that are not rare earths (Na2O, chloride) are
not separated by the SX cuts and are left to their units.
"""

from __future__ import annotations

from magcycle.errors import ConvergenceError, InputError

__all__ = ["SPEC_MARGIN", "MAX_SPEC_PASSES", "run_to_spec", "tightened_targets"]

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
    from magcycle.flowsheet.simulation import load_plant, simulate

    spec = load_plant(plant)
    result = simulate(spec, feed, rate=rate, progress=progress)
    derived: dict = {}
    for _ in range(MAX_SPEC_PASSES):
        changes = tightened_targets(result)
        if not changes:
            break
        try:
            nxt = simulate(spec.with_unit_parameters(changes), feed, rate=rate)
        except (InputError, ConvergenceError) as exc:  # no cascade of the cut's max_stages meets it
            _cannot(result, changes, exc)
            break
        _record(derived, spec, changes)
        spec, result = nxt.spec, nxt
    result.derived_targets = derived
    return result


def _record(derived: dict, spec, changes: dict) -> None:
    for cut, params in changes.items():
        for key, value in params.items():
            if value is not None:
                typed = derived.get(cut, {}).get(key, (spec.units[cut].p.get(key), None))[0]
                derived.setdefault(cut, {})[key] = (typed, value)


def _cannot(result, changes: dict, exc: Exception) -> None:
    """Say, on each product whose cut cannot reach its derived target, what was asked and why not."""
    for p in result.products:
        lim = p.get("limiting")
        if lim and lim["cuts"] and lim["cuts"][0] in changes:
            asked = {k: v for k, v in changes[lim["cuts"][0]].items() if v is not None}
            lim["asked"] = asked
            p["failures"] = [f"{f}; at this feed it would need {', '.join(f'{k} {v:.6g}' for k, v in asked.items())}"
                             f", which the cut cannot reach ({exc})" if f.startswith("purity ") else f
                             for f in p["failures"]]


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


def tightened_targets(result) -> dict[str, dict]:
    """The target changes one pass asks for (module docstring, step 3): ``{cut: {param: value}}``,
    empty when every product reaches its aim or no cut on the path of one that does not can help."""
    from magcycle.flowsheet.diagnosis import cut_outlets_meant_to_remove, limiting_element

    changes: dict[str, dict] = {}
    for p in result.products:
        aim = 1.0 - (1.0 - p["min_purity"]) * (1.0 - SPEC_MARGIN)
        if not p["produced"] or p["purity"] >= aim:
            continue
        element = limiting_element(p["composition_treo"], p["basis"])
        outlets = cut_outlets_meant_to_remove(result.spec, result.spec.products[p["name"]]["stream"], element) \
            if element else []
        if not outlets:
            continue
        cut, port = outlets[0]
        k = (1.0 - p["purity"]) / (1.0 - aim)
        target = min(1.0 - (1.0 - _outlet_purity(result, cut, port)) / k, _PUREST)
        key, other = ("extract_purity", "light_recovery") if port == "extract" else \
            ("raffinate_purity", "heavy_recovery")
        if target <= (result.spec.units[cut].p.get(key) or 0.0):
            continue  # the cut already aims there (it falls short of its own target): no progress to ask for
        now = changes.setdefault(cut, {})
        now[key] = max(target, now.get(key) or 0.0)
        now[other] = None
    return changes
