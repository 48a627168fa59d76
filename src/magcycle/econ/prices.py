"""Product prices and revenue lines of a solved plant under a price scenario.

Revenue of product j: R_j = m_j [t/y] x 1000 x p_j [USD/kg] x (1 - d if it
fails its specification else 1), with d the off-spec discount
(``revenue.off_spec_discount``). A price is looked up by the product's name,
then by its oxide formula, in the scenario's table.
"""

from __future__ import annotations

from typing import Mapping

from magcycle.errors import InputError

__all__ = ["product_price", "revenue_lines"]


def product_price(table: Mapping, product: dict, field: str) -> float:
    """The price [USD/kg] of ``product`` in a scenario's ``table`` (by name, then by oxide).

    >>> product_price({"Dy2O3": 300.0}, {"name": "Dy oxide", "oxide": "Dy2O3"}, "revenue.base")
    300.0
    """
    for key in (product["name"], product["oxide"]):
        if key in table:
            return float(table[key])
    raise InputError(f"{field}.{product['name']}", f"no price for product {product['name']!r} "
                                                  f"({product['oxide']}); give one in [{field}]")


def revenue_lines(products, assumptions: Mapping, scenario: str) -> list[dict]:
    """One line per product made: t/y, USD/kg, whether it meets its spec, USD/y (module docstring).

    >>> a = {"revenue": {"base": {"Tb4O7": 1000.0}, "off_spec_discount": 0.3}}
    >>> p = {"name": "Tb4O7", "oxide": "Tb4O7", "t_per_y": 2.0, "meets_spec": False, "produced": True}
    >>> revenue_lines([p], a, "base")[0]["usd_per_y"]     # 2 t x 1000 kg/t x 1000 USD/kg x 0.7
    1400000.0
    """
    discount = assumptions["revenue"]["off_spec_discount"]
    out = []
    for p in products:
        if not p["produced"]:
            continue
        price = product_price(assumptions["revenue"][scenario], p, f"revenue.{scenario}")
        factor = 1.0 if p["meets_spec"] is not False else 1.0 - discount
        out.append({"product": p["name"], "oxide": p["oxide"], "t_per_y": p["t_per_y"], "usd_per_kg": price,
                    "meets_spec": p["meets_spec"], "usd_per_y": p["t_per_y"] * 1000.0 * price * factor})
    return out
