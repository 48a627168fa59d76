"""Product specifications (data) and the evaluation of a product stream against one.

A product is judged by its specification, on the spec's own basis:

    purity = sum_{E in the spec's basis} m(oxide of E) / sum_{all RE} m(oxide of E)

by mass, with the oxides formed in air (Nd2O3, Pr6O11, Tb4O7, CeO2, others
RE2O3): (Nd2O3 + Pr6O11)/TREO for didymium oxide, Dy2O3/TREO for
dysprosium oxide. Every non-rare-earth element in the product is reported
as ppm of the whole product mass, as the compound its limit is written for
(Fe2O3, SiO2, CaO, Na2O, CoO, NiO, CuO, Al2O3, B2O3, chloride, sulfate),
and checked against the spec's limit or reported "no limit in spec".
Recovery of element E is its flow in the product over its flow in the
plant feed.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Mapping

from magcycle.chem.elements import RARE_EARTHS
from magcycle.chem.formula import formula_mass, parse_formula
from magcycle.units.calcine import oxide_of
from magcycle.units.stream import Stream

__all__ = ["REPORTED_AS", "product_specs", "oxide_mass_by_element", "impurity_ppm", "element_verdicts",
           "evaluate_product"]


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


#: how a non-rare-earth element of a product is reported: the compound its limit is written for
REPORTED_AS = {"Fe": "Fe2O3", "Si": "SiO2", "Ca": "CaO", "Na": "Na2O", "Co": "CoO", "Ni": "NiO", "Cu": "CuO",
               "Al": "Al2O3", "B": "B2O3", "Ga": "Ga2O3", "Nb": "Nb2O5", "Cl": "Cl", "S": "SO4", "C": "C",
               "N": "N"}
#: elements that make the oxide itself (its oxygen) or leave as moisture: not impurities
_NOT_IMPURITIES = frozenset({"O", "H"})


def impurity_ppm(stream: Stream) -> dict[str, float]:
    """Non-rare-earth impurities of a product [ppm by mass of the whole product], each as the
    compound its limit is written for (:data:`REPORTED_AS`).

    .. math:: ppm_k = 10^6 \\, \\frac{\\dot n_E \\, M_k / \\nu_{E,k}}{1000 \\, \\dot m_{total}}

    with n_E the element's flow [mol/h], M_k the molar mass of the compound
    k it is reported as [g/mol], nu_E,k its atoms of E per formula unit, and
    m_total the stream's mass [kg/h]. Every non-rare-earth element present
    is reported (O and H, the oxide's own oxygen and moisture, are not).

    Parameters
    ----------
    stream : Stream
        The product stream (oxide, with whatever the calcination kept).

    Returns
    -------
    dict of str to float
        Compound (``Fe2O3``, ``Na2O``, ``Cl``, ``SO4``, ...) -> ppm [mg/kg]; empty for an empty stream.

    References
    ----------
    The compounds are those the non-RE limits of the product specifications
    are written for ([C] typical GB/T 5240 / 13558 / 12144 style limits).

    Examples
    --------
    >>> ppm = impurity_ppm(Stream("solid", {"Nd2O3": 1.0, "Pr6O11": 0.01, "Fe2O3": 0.001}))
    >>> round(ppm["Fe2O3"], 2)   # 0.159687 / (336.481 + 10.2143496 + 0.159687) * 1e6
    460.39
    >>> round(impurity_ppm(Stream("solid", {"Nd2O3": 1.0, "NaCl": 0.01}))["Na2O"], 2)
    919.38
    >>> # 0.005 mol Na2O x 61.97854 g/mol / (336.481 + 0.01 x 58.43977 g) x 1e6 = 919.384
    """
    total = stream.kg_h()
    if total <= 0:
        return {}
    out = {}
    for el, n in stream.elements().items():
        if el in RARE_EARTHS or el in _NOT_IMPURITIES or n <= 0:
            continue
        compound = REPORTED_AS.get(el, el)
        out[compound] = n / parse_formula(compound)[el] * formula_mass(compound) / 1000.0 / total * 1e6
    return out


def element_verdicts(stream: Stream, basis: list[str], spec: Mapping) -> dict[str, dict]:
    """Every element of a product and how the spec judges it: a basis rare earth (the purity's
    numerator), another rare earth (in the TREO of the purity), or a non-rare-earth impurity
    against its limit, or "no limit in spec".

    >>> v = element_verdicts(Stream("solid", {"Nd2O3": 1.0, "Dy2O3": 0.01, "NaCl": 0.01, "Ga2O3": 1e-6}),
    ...                      ["Nd"], {"max_ppm": {"Na2O": 100, "Cl": 500}})
    >>> [(e, v[e]["verdict"]) for e in ("Nd", "Dy", "Na", "Cl", "Ga")]
    [('Nd', 'basis'), ('Dy', 'in TREO'), ('Na', 'fail'), ('Cl', 'fail'), ('Ga', 'no limit in spec')]
    """
    ppm = impurity_ppm(stream)
    limits = spec.get("max_ppm", {})
    out = {}
    for el, n in sorted(stream.elements().items()):
        if n <= 0 or el in _NOT_IMPURITIES:
            continue
        if el in RARE_EARTHS:
            out[el] = {"as": oxide_of(el), "verdict": "basis" if el in basis else "in TREO"}
            continue
        compound = REPORTED_AS.get(el, el)
        limit = limits.get(compound)
        verdict = "no limit in spec" if limit is None else ("pass" if ppm[compound] <= limit else "fail")
        out[el] = {"as": compound, "ppm": ppm[compound], "max_ppm": limit, "verdict": verdict}
    return out


def _failures(purity: float, spec: Mapping, basis: list[str], ox: Mapping, verdicts: Mapping) -> list[str]:
    """Why a product fails its spec, one phrase per failed check (the largest other oxide named)."""
    out = []
    if purity < spec["min_purity"]:
        treo = sum(ox.values())
        others = sorted(((v, e) for e, v in ox.items() if e not in basis), reverse=True)
        worst = f"; most of the rest is {oxide_of(others[0][1])} at {100 * others[0][0] / treo:.3g} % of TREO" \
            if others else ""
        top = "+".join(oxide_of(e) for e in basis)
        out.append(f"purity {100 * purity:.3f} % < {100 * spec['min_purity']:g} % on the basis "
                   f"{f'({top})' if len(basis) > 1 else top}/TREO{worst}")
    for el, v in verdicts.items():
        if v["verdict"] == "fail":
            out.append(f"{v['as']} {v['ppm']:.4g} ppm > {v['max_ppm']:g} ppm")
    return out


def _judged(stream: Stream, spec: Mapping, basis: list[str], purity, produced: bool) -> tuple[dict, dict, dict]:
    """(impurities ppm, element verdicts, checks) of a product; every compound the spec limits is
    reported, at 0 when absent."""
    ppm = impurity_ppm(stream)
    if stream.kg_h() > 0:
        ppm = {k: 0.0 for k in spec.get("max_ppm", {})} | ppm
    if not produced:
        return ppm, {}, {}
    return ppm, element_verdicts(stream, basis, spec), _checks(purity, ppm, spec)


def _checks(purity: float, ppm: Mapping[str, float], spec: Mapping) -> dict[str, bool]:
    """Each check of a spec: the purity against ``min_purity``, each limit of ``max_ppm``."""
    checks = {"purity": purity >= spec["min_purity"]}
    for k, lim in spec.get("max_ppm", {}).items():
        checks[k] = ppm.get(k, 0.0) <= lim
    return checks


def evaluate_product(name: str, stream: Stream, elements: list[str], spec_id: str,
                     feed_mol: Mapping[str, float], hours_per_year: float) -> dict:
    """A product stream judged by its specification: mass, purity on the spec's basis, recovery,
    every element's verdict, pass/fail and why.

    .. math:: purity = \\frac{\\sum_{E \\in basis} \\dot m_{ox,E}}{\\sum_{E \\in RE} \\dot m_{ox,E}},
              \\qquad Y_E = \\frac{\\dot n_{E,product}}{\\dot n_{E,feed}},
              \\qquad \\dot m\\,[t/y] = \\dot m\\,[kg/h] \\cdot H / 1000

    The basis is the spec's (``basis``: Nd and Pr for didymium oxide), not
    the product's own element list, so a product holding rare earths its
    spec does not count fails on purity. Oxide masses come from
    :func:`oxide_mass_by_element`, impurities from :func:`impurity_ppm`.
    The product meets spec when purity >= ``min_purity`` and every limit of
    ``max_ppm`` holds; every other element is reported (:func:`element_verdicts`).
    A stream with none of the product's rare earths is not produced
    (``meets_spec`` None).

    Parameters
    ----------
    name : str
        Product name.
    stream : Stream
        The product stream [mol/h].
    elements : list of str
        The rare earths the flowsheet makes the product of (its recoveries are reported).
    spec_id : str
        Id in :func:`product_specs`.
    feed_mol : mapping of str to float
        Element flows of the plant feed [mol/h], for the recoveries.
    hours_per_year : float
        H, operating hours [h/y].

    Returns
    -------
    dict
        ``kg_per_h`` [kg/h], ``t_per_y`` [t/y], ``purity`` [-, spec basis],
        ``basis``, ``recovery`` [-] per element, ``impurities_ppm``,
        ``elements`` (verdict per element), ``checks``, ``meets_spec``,
        ``failures`` (why not), ``composition_treo`` [-] and the spec's name
        and limit.

    References
    ----------
    Limits as in ``data/product_specs.toml`` ([A] Fastmarkets 99.5 % Nd
    and Pr oxide; [A] SMM grades; [C] non-RE limits).

    Examples
    --------
    >>> s = Stream("solid", {"Nd2O3": 1.0, "Pr6O11": 0.01, "Fe2O3": 0.001})
    >>> r = evaluate_product("Nd2O3", s, ["Nd"], "nd_oxide_995", {"Nd": 2.5}, 8000.0)
    >>> round(r["purity"], 6), r["recovery"]["Nd"]   # 336.481 / (336.481 + 10.2143496); 2 / 2.5
    (0.970538, 0.8)
    >>> round(r["t_per_y"], 4), r["meets_spec"]      # 0.3468550 kg/h * 8000 h / 1000
    (2.7748, False)
    >>> r["failures"][1]                             # 0.159687 / 346.855 * 1e6
    'Fe2O3 460.4 ppm > 100 ppm'
    """
    spec = product_specs()[spec_id]
    basis = list(spec["basis"])
    ox = oxide_mass_by_element(stream)
    treo = sum(ox.values())
    kg_h = stream.kg_h()
    els = stream.elements()
    produced = treo > 0 and sum(ox.get(e, 0.0) for e in set(elements) | set(basis)) > 0
    purity = sum(ox.get(e, 0.0) for e in basis) / treo if treo > 0 else None
    ppm, verdicts, checks = _judged(stream, spec, basis, purity, produced)
    meets = all(checks.values()) if produced else None
    recovery = {e: (els.get(e, 0.0) / feed_mol[e] if feed_mol.get(e, 0.0) > 0 else None) for e in elements}
    oxides = "+".join(oxide_of(e) for e in elements)
    return {"name": name, "oxide": oxides, "kg_per_h": kg_h, "t_per_y": kg_h * hours_per_year / 1000.0,
            "purity": purity, "basis": basis, "recovery": recovery, "spec": spec_id, "spec_name": spec["name"],
            "min_purity": spec["min_purity"], "meets_spec": meets, "produced": produced,
            "impurities_ppm": ppm, "elements": verdicts, "checks": checks,
            "failures": _failures(purity, spec, basis, ox, verdicts) if produced and not meets else [],
            "composition_treo": {e: v / treo for e, v in ox.items()} if treo > 0 else {}}
