"""Product specifications (data) and the evaluation of a product stream against one.

REO purity is by mass on the total-rare-earth-oxide basis:

    purity = sum_{E in product elements} m(oxide of E) / sum_{all RE} m(oxide of E)

with the oxides formed in air (Nd2O3, Pr6O11, Tb4O7, CeO2, others RE2O3).
Impurities are ppm of the whole product mass: Fe2O3, SiO2, CaO as their
oxides, Cl as the element, SO4 from the sulfur. Recovery of element E is
its flow in the product over its flow in the plant feed.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Mapping

from magcycle.chem.elements import MOLAR_MASS, RARE_EARTHS
from magcycle.chem.formula import formula_mass, parse_formula
from magcycle.units.calcine import oxide_of
from magcycle.units.stream import Stream

__all__ = ["product_specs", "oxide_mass_by_element", "impurity_ppm", "evaluate_product"]


@lru_cache(maxsize=1)
def product_specs() -> dict[str, dict]:
    text = resources.files("magcycle").joinpath("data/product_specs.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def oxide_mass_by_element(stream: Stream) -> dict[str, float]:
    """kg/h of each rare earth's oxide in a stream (on the oxide formed in air)."""
    out = {}
    els = stream.elements()
    for el in RARE_EARTHS:
        n = els.get(el, 0.0)
        if n > 0:
            f = oxide_of(el)
            out[el] = n / parse_formula(f)[el] * formula_mass(f) / 1000.0
    return out


def impurity_ppm(stream: Stream) -> dict[str, float]:
    total = stream.kg_h()
    if total <= 0:
        return {}
    els = stream.elements()
    kg = {
        "Fe2O3": els.get("Fe", 0.0) / 2.0 * formula_mass("Fe2O3") / 1000.0,
        "SiO2": els.get("Si", 0.0) * formula_mass("SiO2") / 1000.0,
        "CaO": els.get("Ca", 0.0) * formula_mass("CaO") / 1000.0,
        "Cl": els.get("Cl", 0.0) * MOLAR_MASS["Cl"] / 1000.0,
        "SO4": els.get("S", 0.0) * formula_mass("SO4") / 1000.0,
    }
    return {k: v / total * 1e6 for k, v in kg.items()}


def evaluate_product(name: str, stream: Stream, elements: list[str], spec_id: str,
                     feed_mol: Mapping[str, float], hours_per_year: float) -> dict:
    spec = product_specs()[spec_id]
    ox = oxide_mass_by_element(stream)
    treo = sum(ox.values())
    kg_h = stream.kg_h()
    els = stream.elements()
    produced = treo > 0 and sum(ox.get(e, 0.0) for e in elements) > 0
    purity = sum(ox.get(e, 0.0) for e in elements) / treo if treo > 0 else None
    ppm = impurity_ppm(stream)
    checks = {}
    if produced:
        checks["purity"] = purity >= spec["min_purity"]
        for k, lim in spec.get("max_ppm", {}).items():
            checks[k] = ppm.get(k, 0.0) <= lim
    meets = all(checks.values()) if produced else None
    recovery = {e: (els.get(e, 0.0) / feed_mol[e] if feed_mol.get(e, 0.0) > 0 else None) for e in elements}
    oxides = "+".join(oxide_of(e) for e in elements)
    return {"name": name, "oxide": oxides, "kg_per_h": kg_h, "t_per_y": kg_h * hours_per_year / 1000.0,
            "purity": purity, "recovery": recovery, "spec": spec_id, "spec_name": spec["name"],
            "min_purity": spec["min_purity"], "meets_spec": meets, "produced": produced,
            "impurities_ppm": ppm, "checks": checks,
            "composition_treo": {e: v / treo for e, v in ox.items()} if treo > 0 else {}}
