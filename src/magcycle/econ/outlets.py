"""Every stream that leaves the plant, classified and priced (``magcycle tea``).

Each stream sent to a sink is one of:

* **product** -- a declared product (``[products]``), sold at its scenario
  price (:mod:`magcycle.econ.prices`);
* **by-product** -- sent to ``byproduct``; earns R = sum_e m_e p_e over its
  elements e with a payable price p_e [USD/kg of contained element]
  (``revenue.byproduct_usd_per_kg``, e.g. Co and Ni in a mixed hydroxide).
  A by-product carrying no element with a price above zero is refused:
  give a price or send it to ``waste``;
* **waste** -- sent to ``waste``: a solid costs ``opex.waste_usd_per_t``
  per t of wet mass; a liquid leaving an effluent-treatment unit's
  ``water`` outlet is treated water, discharged at
  ``opex.discharge_usd_per_m3``; any other liquid is untreated liquid waste
  taken off site at ``opex.liquid_waste_usd_per_m3``;
* **emission** -- a gas, wherever it is sent (``offgas`` or any other sink):
  its greenhouse gases are counted in the carbon footprint
  (:func:`magcycle.econ.tea.direct_emissions`).

A stream with no flow is classified **empty** and costs nothing.
"""

from __future__ import annotations

from typing import Mapping

from magcycle.errors import InputError

__all__ = ["OUTLET_CLASSES", "classify_outlets", "disposal_lines", "byproduct_lines"]

OUTLET_CLASSES = ("product", "by-product", "waste", "emission", "empty")


def _treated(result, conn) -> bool:
    """Whether ``conn`` is the water outlet of an effluent-treatment unit."""
    unit = result.spec.units.get(conn.src[0])
    return unit is not None and unit.type_name == "effluent_treatment" and conn.src[1] == "water"


def _byproduct_value(stream, prices: Mapping[str, float]) -> tuple[float, dict[str, float]]:
    """(USD/h, {element: kg/h}) of the priced elements a by-product carries."""
    from magcycle.chem.formula import formula_mass

    kg = {el: n * formula_mass(el) / 1000.0 for el, n in stream.elements().items() if prices.get(el, 0.0) > 0}
    return sum(kg[el] * prices[el] for el in kg), kg


def _classify(result, conn, stream, a: Mapping) -> dict:
    """One outlet row: class, amount and yearly money (revenue > 0, cost < 0) with its basis."""
    o, hours = a["opex"], result.spec.hours_per_year
    if not stream.mol_h:
        return {"class": "empty", "amount": 0.0, "unit": "", "usd_per_y": 0.0, "basis": "no flow"}
    if stream.phase == "gas":
        return {"class": "emission", "amount": stream.kg_h() * hours / 1000.0, "unit": "t/y", "usd_per_y": 0.0,
                "basis": "greenhouse gases counted in the carbon footprint"}
    sink = conn.dst[0]
    if sink == "product":
        return {"class": "product", "amount": stream.kg_h() * hours / 1000.0, "unit": "t/y", "usd_per_y": 0.0,
                "basis": "sold at its scenario price (revenue lines)"}
    if sink == "byproduct":
        prices = a["revenue"]["byproduct_usd_per_kg"]
        usd_h, kg = _byproduct_value(stream, prices)
        if not kg:
            raise InputError("revenue.byproduct_usd_per_kg", f"the by-product {conn.name!r} carries none of the "
                             f"elements with a price ({', '.join(sorted(k for k, v in prices.items() if v > 0)) or 'none'}); "
                             "give a price for one of "
                             "its elements or send it to waste")
        paid = ", ".join(f"{el} {kg[el] * hours / 1000.0:.2f} t/y x {prices[el]:g} USD/kg" for el in sorted(kg))
        return {"class": "by-product", "amount": stream.kg_h() * hours / 1000.0, "unit": "t/y",
                "usd_per_y": usd_h * hours, "basis": f"payable {paid}"}
    if stream.phase == "aqueous":
        m3_y = stream.volume_L_h * hours / 1000.0
        key = "discharge_usd_per_m3" if _treated(result, conn) else "liquid_waste_usd_per_m3"
        what = "treated water discharged" if key == "discharge_usd_per_m3" else "untreated liquid waste off site"
        return {"class": "waste", "amount": m3_y, "unit": "m3/y", "usd_per_y": -m3_y * o[key],
                "basis": f"{what}: {m3_y:.0f} m3/y x {o[key]:g} USD/m3"}
    t_y = stream.kg_h() * hours / 1000.0
    return {"class": "waste", "amount": t_y, "unit": "t/y", "usd_per_y": -t_y * o["waste_usd_per_t"],
            "basis": f"solid waste: {t_y:.1f} t/y (wet) x {o['waste_usd_per_t']:g} USD/t"}


def classify_outlets(result, a: Mapping) -> list[dict]:
    """One row per stream leaving the plant: ``stream``, ``sink``, ``phase``, ``class`` (one of
    :data:`OUTLET_CLASSES`), ``amount`` and ``unit``, ``usd_per_y`` (revenue > 0, disposal cost < 0)
    and ``basis`` (module docstring). ``a`` is a validated assumptions document."""
    from magcycle.flowsheet.schema import SINKS

    rows = []
    for conn in result.spec.connections:
        if conn.dst[0] not in SINKS:
            continue
        stream = result.streams[conn.name]
        rows.append({"stream": conn.name, "sink": conn.dst[0], "phase": stream.phase}
                    | _classify(result, conn, stream, a))
    return rows


def disposal_lines(outlets: list[dict]) -> list[dict]:
    """Operating-cost lines of the waste outlets: one per outlet [USD/y]."""
    return [{"item": f"disposal: {r['stream']}", "kind": "variable", "basis": r["basis"], "usd_per_y": -r["usd_per_y"]}
            for r in outlets if r["class"] == "waste"]


def byproduct_lines(outlets: list[dict]) -> list[dict]:
    """Revenue lines of the by-products, shaped like the products' (no specification: meets_spec None)."""
    return [{"product": r["stream"], "oxide": "", "kind": "by-product", "t_per_y": r["amount"],
             "usd_per_kg": r["usd_per_y"] / (r["amount"] * 1000.0) if r["amount"] > 0 else 0.0,
             "meets_spec": None, "usd_per_y": r["usd_per_y"]}
            for r in outlets if r["class"] == "by-product"]
