"""Why a product is off spec: the limiting element and the SX cut meant to remove it.

A product's rare-earth impurity reaches it through the SX cuts upstream of
its stream. Each cut sends a rare earth to its extract when the element's
relative extractability beta is at least that of the cut's heavy key, else
to its raffinate (:mod:`magcycle.units.sx_cascade`). A cut on the product's
path that the path leaves by one outlet only, the other side from the
element, is a cut meant to remove it: the element reached the product
because that cut let it through. A cut both of whose outlets lead to the
product separates nothing for it.

The product's path is the way its own rare earths came: walking upstream
from its stream, each unit's inlets are followed only where they carry at
least ``PATH_SHARE`` (10 %) of the product's basis elements entering that
unit. So a recycled liquor (the acid return to the leach, carrying a few
per cent of what the leach dissolves) is not taken for the path, while a
mixer or a splitter inside the SX circuit is passed through.
"""

from __future__ import annotations

__all__ = ["PATH_SHARE", "cuts_meant_to_remove", "cut_outlets_meant_to_remove", "limiting_element"]

#: least share of a unit's inflow of the product's basis elements an inlet carries to be on its path [-]
PATH_SHARE = 0.1


def limiting_element(composition_treo: dict[str, float], basis: list[str]) -> str | None:
    """The rare earth outside the spec's basis with the largest share of the product's TREO.

    >>> limiting_element({"Tb": 0.97, "Dy": 0.026, "Gd": 0.004}, ["Tb"])
    'Dy'
    >>> limiting_element({"Tb": 1.0}, ["Tb"]) is None
    True
    """
    others = {e: v for e, v in composition_treo.items() if e not in basis and v > 0}
    return max(others, key=others.get) if others else None


def _basis_flow(result, stream: str, basis) -> float:
    els = result.streams[stream].elements()
    return sum(els.get(e, 0.0) for e in basis)


def _path_inlets(result, unit: str, basis) -> list[str]:
    """The inlet streams of ``unit`` that carry at least PATH_SHARE of its inflow of the basis."""
    inlets = [c.name for c in result.spec.connections if c.dst[0] == unit]
    flows = {s: _basis_flow(result, s, basis) for s in inlets}
    total = sum(flows.values())
    return [s for s in inlets if total > 0 and flows[s] >= PATH_SHARE * total]


def _cut_ports(result, stream: str, basis) -> dict[str, set]:
    """Every SX cut on the product's path (module docstring) with the outlets the path leaves it by."""
    ports: dict[str, set] = {}
    seen, todo = set(), [stream]
    while todo:
        name = todo.pop()
        conn = next(c for c in result.spec.connections if c.name == name)
        unit, port = conn.src
        if unit == "feed":
            continue
        if getattr(result.spec.units[unit], "type_name", "") == "sx_cascade":
            ports.setdefault(unit, set()).add(port)
        if unit not in seen:
            seen.add(unit)
            todo.extend(_path_inlets(result, unit, basis))
    return ports


def cut_outlets_meant_to_remove(result, stream: str, element: str, basis: list[str]) -> list[tuple[str, str]]:
    """(cut, outlet toward the product) of each SX cut on the path of ``stream`` (nearest first)
    that the path leaves by one outlet only, the other side from ``element`` (module docstring).

    Parameters
    ----------
    result : PlantResult
        A solved plant (its streams give the path).
    stream : str
        A product's stream.
    element : str
        A rare earth in it.
    basis : list of str
        The rare earths the product is made of (its spec's basis).

    Returns
    -------
    list of (str, str)
        Empty when no SX cut on the path separates the element from the product.
    """
    out = []
    for cut, ports in _cut_ports(result, stream, basis).items():
        if len(ports) != 1:
            continue  # both outlets lead to the product: the cut separates nothing for it
        unit, port = result.spec.units[cut], next(iter(ports))
        heavy = unit.beta.get(element, 0.0) >= unit.beta[unit.p["heavy_key"]]
        if heavy != (port == "extract"):
            out.append((cut, port))
    return out


def cuts_meant_to_remove(result, stream: str, element: str, basis: list[str]) -> list[str]:
    """The cuts of :func:`cut_outlets_meant_to_remove`, by name."""
    return [cut for cut, _ in cut_outlets_meant_to_remove(result, stream, element, basis)]
