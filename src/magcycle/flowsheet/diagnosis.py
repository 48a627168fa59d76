"""Why a product is off spec: the limiting element and the SX cut meant to remove it.

A product's rare-earth impurity reaches it through the SX cuts upstream of
its stream. Each cut sends a rare earth to its extract when the element's
relative extractability beta is at least that of the cut's heavy key, else
to its raffinate (:mod:`magcycle.units.sx_cascade`). A cut on the product's
path whose outlet toward the product is the other side from the element is
the cut meant to remove it: the element reached the product because that
cut let it through.

The path is walked upstream from the product's stream through any unit
(calcination, oxalate precipitation, a mixer) until the first SX cut, then
through SX cuts only: the first unit above the SX circuit (Fe removal,
leach) ends it, so recycled liquors feeding the front end are not taken for
the product's path.
"""

from __future__ import annotations

__all__ = ["cuts_meant_to_remove", "cut_outlets_meant_to_remove", "limiting_element"]


def limiting_element(composition_treo: dict[str, float], basis: list[str]) -> str | None:
    """The rare earth outside the spec's basis with the largest share of the product's TREO.

    >>> limiting_element({"Tb": 0.97, "Dy": 0.026, "Gd": 0.004}, ["Tb"])
    'Dy'
    >>> limiting_element({"Tb": 1.0}, ["Tb"]) is None
    True
    """
    others = {e: v for e, v in composition_treo.items() if e not in basis and v > 0}
    return max(others, key=others.get) if others else None


def _upstream(spec, stream: str):
    """(unit name, outlet port) of the unit that makes ``stream``, or None for the feed."""
    conn = next(c for c in spec.connections if c.name == stream)
    return None if conn.src[0] == "feed" else conn.src


def _inlet_streams(spec, unit: str) -> list[str]:
    return [c.name for c in spec.connections if c.dst[0] == unit]


def cuts_meant_to_remove(spec, stream: str, element: str) -> list[str]:
    """The SX cuts upstream of ``stream`` (nearest first) whose outlet toward it is the other side
    from ``element`` (module docstring).

    Parameters
    ----------
    spec : FlowsheetSpec
        The plant.
    stream : str
        A product's stream.
    element : str
        A rare earth in it.

    Returns
    -------
    list of str
        Unit names; empty when no SX cut on the path separates the element from the product.
    """
    return [cut for cut, _ in cut_outlets_meant_to_remove(spec, stream, element)]


def cut_outlets_meant_to_remove(spec, stream: str, element: str) -> list[tuple[str, str]]:
    """(cut, outlet toward the product) of each cut of :func:`cuts_meant_to_remove`."""
    found, seen, todo = [], set(), [(stream, False)]
    while todo:
        name, in_circuit = todo.pop()
        src = _upstream(spec, name)
        if src is None or src[0] in seen:
            continue
        unit = spec.units[src[0]]
        is_cut = getattr(unit, "type_name", "") == "sx_cascade"
        if in_circuit and not is_cut:
            continue  # above the SX circuit: the front end
        seen.add(src[0])
        if is_cut:
            heavy = unit.beta.get(element, 0.0) >= unit.beta[unit.p["heavy_key"]]
            if heavy != (src[1] == "extract"):
                found.append((src[0], src[1]))
        todo.extend((s, in_circuit or is_cut) for s in _inlet_streams(spec, src[0]))
    return found
