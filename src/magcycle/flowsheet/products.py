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
    """The built-in product specifications (``data/product_specs.toml``): id -> ``name``, ``min_purity``
    [-, TREO basis] and ``max_ppm`` [ppm by mass]; the file names the source of each limit.

    >>> product_specs()["nd_oxide_995"]["min_purity"]
    0.995
    """
    text = resources.files("magcycle").joinpath("data/product_specs.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def oxide_mass_by_element(stream: Stream) -> dict[str, float]:
    """kg/h of each rare earth's oxide in a stream (on the oxide formed in air).

    .. math:: \\dot m_{ox,E} = \\frac{\\dot n_E}{n_{m,E}} \\, \\frac{M_{ox,E}}{1000}

    with n_E the element flow [mol/h] (any species), n_m,E the metal atoms
    per formula unit of its oxide RE_(n_m) O_(n_o) and M_ox,E [g/mol] its
    molar mass.

    Parameters
    ----------
    stream : Stream
        Any stream; its rare earths are counted on an element basis.

    Returns
    -------
    dict of str to float
        Rare earth -> its oxide [kg/h], for the rare earths present.

    References
    ----------
    Oxides formed in air: [A] Balboul, Thermochim. Acta 351 (2000) 55
    (:func:`magcycle.chem.oxides.oxide_formula`); molar masses IUPAC CIAAW 2021.

    Examples
    --------
    >>> m = oxide_mass_by_element(Stream("solid", {"Nd2O3": 1.0, "Pr": 0.06}))
    >>> round(m["Nd"], 6), round(m["Pr"], 6)   # 336.481 / 1000; 0.06 / 6 * 1021.435 / 1000
    (0.336481, 0.010214)
    """
    out = {}
    els = stream.elements()
    for el in RARE_EARTHS:
        n = els.get(el, 0.0)
        if n > 0:
            f = oxide_of(el)
            out[el] = n / parse_formula(f)[el] * formula_mass(f) / 1000.0
    return out


def impurity_ppm(stream: Stream) -> dict[str, float]:
    """Non-rare-earth impurities of a product [ppm by mass of the whole product].

    .. math:: ppm_k = 10^6 \\, \\frac{\\dot m_k}{\\dot m_{total}}

    with m_k: Fe as Fe2O3 (n_Fe / 2 M_Fe2O3), Si as SiO2, Ca as CaO, Cl as
    the element, S as SO4 [kg/h], and m_total the stream's mass [kg/h].

    Parameters
    ----------
    stream : Stream
        The product stream (oxide, with whatever the calcination kept).

    Returns
    -------
    dict of str to float
        ``Fe2O3``, ``SiO2``, ``CaO``, ``Cl``, ``SO4`` -> ppm [mg/kg]; empty for an empty stream.

    References
    ----------
    The species reported are those of the non-RE limits in the product
    specifications ([C] typical GB/T 5240 / 13558 / 12144 style limits).

    Examples
    --------
    >>> ppm = impurity_ppm(Stream("solid", {"Nd2O3": 1.0, "Pr6O11": 0.01, "Fe2O3": 0.001}))
    >>> round(ppm["Fe2O3"], 2)   # 0.159687 / (336.481 + 10.2143496 + 0.159687) * 1e6
    460.39
    """
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
    """A product stream against its specification: mass, purity, recovery, impurities, pass/fail.

    .. math:: purity = \\frac{\\sum_{E \\in product} \\dot m_{ox,E}}{\\sum_{E \\in RE} \\dot m_{ox,E}},
              \\qquad Y_E = \\frac{\\dot n_{E,product}}{\\dot n_{E,feed}},
              \\qquad \\dot m\\,[t/y] = \\dot m\\,[kg/h] \\cdot H / 1000

    (oxide masses from :func:`oxide_mass_by_element`, impurities from
    :func:`impurity_ppm`). The product meets spec when purity >= the spec's
    ``min_purity`` and every impurity is within its ``max_ppm``; a stream with
    none of the product's rare earths is not produced (``meets_spec`` None).

    Parameters
    ----------
    name : str
        Product name.
    stream : Stream
        The product stream [mol/h].
    elements : list of str
        The rare earths that make the product (``["Nd", "Pr"]`` for NdPr oxide).
    spec_id : str
        Id in :func:`product_specs`.
    feed_mol : mapping of str to float
        Element flows of the plant feed [mol/h], for the recoveries.
    hours_per_year : float
        H, operating hours [h/y].

    Returns
    -------
    dict
        ``kg_per_h`` [kg/h], ``t_per_y`` [t/y], ``purity`` [-, TREO basis],
        ``recovery`` [-] per element, ``impurities_ppm``, ``checks``,
        ``meets_spec``, ``composition_treo`` [-] and the spec's name and limit.

    References
    ----------
    Purity limits as in ``data/product_specs.toml`` ([A] Fastmarkets 99.5 %
    Nd and Pr oxide; [A] SMM grades; [C] non-RE limits).

    Examples
    --------
    >>> s = Stream("solid", {"Nd2O3": 1.0, "Pr6O11": 0.01, "Fe2O3": 0.001})
    >>> r = evaluate_product("Nd2O3", s, ["Nd"], "nd_oxide_995", {"Nd": 2.5}, 8000.0)
    >>> round(r["purity"], 6), r["recovery"]["Nd"]   # 336.481 / (336.481 + 10.2143496); 2 / 2.5
    (0.970538, 0.8)
    >>> round(r["t_per_y"], 4), r["meets_spec"]      # 0.3468550 kg/h * 8000 h / 1000
    (2.7748, False)
    """
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
