"""Feeds: a dry mass flow, an assay [wt %] and moisture; blends and user assays.

A :class:`Feed` is what enters the plant: ``kg_per_h`` of dry solids with
``composition`` in wt % (dry basis, summing to 100 +/- 0.5) and
``moisture_wt_pct`` of water on the wet basis. Element flows follow as

    n_E = kg_per_h * w_E / 100 * 1000 / M_E      [mol/h]

A blend by mass of feeds with masses m_j (or fractions) has composition
w_E = sum_j m_j w_E,j / sum_j m_j, and its wet moisture is the water of the
parts over their wet mass.

Blend weights are relative dry masses and are normalised: ``ev=2,wind=1``
is two parts EV to one part wind, the same blend as ``ev=0.667,wind=0.333``.
When the weights given do not sum to 1 the feed says so
(:attr:`Feed.normalisation`), and the command line prints it. A part whose
weight is below ``MIN_SHARE`` (1e-9) of the total is refused rather than
carried as a trace too small to compute with (give 0 to leave it out).

Feed rates are mass flows parsed by the one quantity parser
(:func:`magcycle.chem.quantities.parse_quantity`); a rate per year uses the
plant's operating hours. Rates lie in [``MIN_RATE_KG_H``, ``MAX_RATE_KG_H``]
(1 mg/h to 10^9 kg/h). An assay's own ``rate`` is honoured; a different rate
given beside it is an error naming both.
"""

from __future__ import annotations

import os

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Sequence

from magcycle.chem.elements import MOLAR_MASS, check_any_element
from magcycle.chem.quantities import parse_quantity
from magcycle.documents import clip, parse_document, read_text, show
from magcycle.errors import InputError
from magcycle.feed.catalogue import CATALOGUE, FeedClass

__all__ = ["COMPOSITION_TOLERANCE_WT_PCT", "DEFAULT_HOURS_PER_YEAR", "DEFAULT_RATE", "MIN_RATE_KG_H",
           "MAX_RATE_KG_H", "MIN_SHARE", "MIN_WT_PCT", "feed_rate", "check_composition", "Feed", "from_class",
           "blend", "load_assay", "resolve_feed"]

#: allowed deviation of an assay's sum from 100 wt %
COMPOSITION_TOLERANCE_WT_PCT = 0.5

#: operating hours per year used to turn t/y into kg/h unless a plant says otherwise
DEFAULT_HOURS_PER_YEAR = 8000.0

#: feed rate where neither the user nor the plant nor the assay gives one
DEFAULT_RATE = "100 kg/h"

#: range of dry feed rates accepted [kg/h]
MIN_RATE_KG_H = 1e-6
MAX_RATE_KG_H = 1e9

#: smallest non-zero share of a blend part (of the blend's total weight)
MIN_SHARE = 1e-9
#: smallest non-zero element content of an assay [wt %]: far above the subnormal range of doubles
#: at any rate accepted, and below what any blend of accepted parts makes
MIN_WT_PCT = 1e-20


def feed_rate(value, field: str = "feed.rate", hours_per_year: float = DEFAULT_HOURS_PER_YEAR) -> float:
    """A dry feed rate [kg/h] from a number (kg/h) or a string such as ``"2 t/d"`` or ``"1200 t/y"``.

    .. math:: \\dot m\\,[kg/h] = \\frac{\\dot m\\,[t/y] \\cdot 1000}{H}, \\qquad
              \\dot m\\,[kg/h] = \\frac{\\dot m\\,[t/d] \\cdot 1000}{24}

    Per-year rates divide by the plant's ``hours_per_year`` H [h/y]
    (operating hours, not 8760; :func:`magcycle.chem.quantities.parse_quantity`,
    kind ``mass_flow``); the other units convert by exact factors.

    Parameters
    ----------
    value : float or str
        A number [kg/h] or a quantity string (kg/h, t/h, kg/d, t/d, t/y, kg/y, ...).
    field : str
        Field named by an error.
    hours_per_year : float
        H, operating hours per year [h/y]; default DEFAULT_HOURS_PER_YEAR (8000).

    Returns
    -------
    float
        Dry feed rate [kg/h], in [MIN_RATE_KG_H, MAX_RATE_KG_H].

    Raises
    ------
    InputError
        ``(field, reason)``: unreadable, wrong unit, or out of range.

    References
    ----------
    Exact unit definitions; no outside source. The 8000 h/y default is a
    project choice, no source.

    Examples
    --------
    >>> feed_rate("1200 t/y")          # 1.2e6 kg / 8000 h
    150.0
    >>> feed_rate("3.6 t/d")           # 3600 kg / 24 h
    150.0
    >>> feed_rate("", "--rate")
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: --rate: empty string; expected a number with a unit
    """
    kg_h = parse_quantity(value, "mass_flow", field=field, hours_per_year=hours_per_year)
    if not MIN_RATE_KG_H <= kg_h <= MAX_RATE_KG_H:
        raise InputError(field, f"a feed rate must lie in [{MIN_RATE_KG_H:g}, {MAX_RATE_KG_H:g}] kg/h, "
                                f"got {show(value)}")
    return kg_h


def check_composition(comp: Mapping, field: str) -> dict[str, float]:
    """The rule of an assay: known elements, finite wt % each 0 or >= MIN_WT_PCT, summing to
    100 +/- COMPOSITION_TOLERANCE_WT_PCT; returns the composition by element symbol.

    >>> check_composition({"Nd": 30, "Fe": 70}, "feed")
    {'Nd': 30.0, 'Fe': 70.0}
    """
    def where(el):
        return f"{field}.{el}" if field else str(el)

    if not isinstance(comp, Mapping) or not comp:
        raise InputError(field or "composition", "expected a table of element = wt %")
    out: dict[str, float] = {}
    for el, v in comp.items():
        sym = check_any_element(el, where(el))
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(where(el), f"expected a number in wt %, got {show(v)}")
        if v < 0 or 0 < v < MIN_WT_PCT or v > 100:
            raise InputError(where(el), f"a mass fraction must be 0 or in [{MIN_WT_PCT:g}, 100] wt %, "
                                        f"got {show(v)}")
        out[sym] = out.get(sym, 0.0) + float(v)
    total = sum(out.values())
    if abs(total - 100.0) > COMPOSITION_TOLERANCE_WT_PCT:
        raise InputError(field or "composition", f"the composition sums to {total:.3f} wt %, not 100 +/- "
                                                 f"{COMPOSITION_TOLERANCE_WT_PCT} wt %")
    return out


def _check_moisture(v, field) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 <= v < 100:
        raise InputError(field, f"moisture must be a number in [0, 100) wt %, got {show(v)}")
    return float(v)


@dataclass(frozen=True)
class Feed:
    """Dry feed ``kg_per_h``, ``composition`` [wt %, dry] and moisture [wt %, wet]."""

    name: str
    kg_per_h: float
    composition: Mapping[str, float]
    moisture_wt_pct: float = 0.0
    parts: Mapping[str, float] = field(default_factory=dict)  # blend: part name -> dry mass fraction
    weights_given: Mapping[str, float] = field(default_factory=dict)  # blend: the weights as given

    def __post_init__(self):
        if not (isinstance(self.kg_per_h, (int, float)) and MIN_RATE_KG_H <= self.kg_per_h <= MAX_RATE_KG_H):
            raise InputError("feed.rate", f"a feed rate must lie in [{MIN_RATE_KG_H:g}, {MAX_RATE_KG_H:g}] kg/h, "
                                          f"got {show(self.kg_per_h)}")
        comp = check_composition(self.composition, "feed.composition")
        object.__setattr__(self, "composition", MappingProxyType(comp))
        object.__setattr__(self, "moisture_wt_pct", _check_moisture(self.moisture_wt_pct, "feed.moisture"))
        object.__setattr__(self, "parts", MappingProxyType(dict(self.parts)))
        object.__setattr__(self, "weights_given", MappingProxyType(dict(self.weights_given)))

    @property
    def normalisation(self) -> str | None:
        """How the blend weights given were normalised to fractions, when they did not sum to 1."""
        total = sum(self.weights_given.values())
        if not self.weights_given or abs(total - 1.0) <= 1e-9:
            return None
        given = ", ".join(f"{k}={v:g}" for k, v in self.weights_given.items())
        fractions = ", ".join(f"{k} {v:.4g}" for k, v in self.parts.items())
        return f"blend weights {given} sum to {total:g}; normalised to fractions {fractions}"

    def element_kg_h(self) -> dict[str, float]:
        """Dry element mass flows [kg/h]; the assay is used as given (sum within 100 +/- 0.5).

        m_E [kg/h] = kg_per_h [kg/h] * w_E [wt %] / 100, for every w_E > 0.

        >>> Feed("x", 50.0, {"Nd": 30.0, "Fe": 70.0}).element_kg_h()   # 50 * 30/100, 50 * 70/100
        {'Nd': 15.0, 'Fe': 35.0}
        """
        return {el: self.kg_per_h * w / 100.0 for el, w in self.composition.items() if w > 0}

    def element_mol_h(self) -> dict[str, float]:
        """Element flows [mol/h]: n_E = m_E [kg/h] * 1000 [g/kg] / M_E [g/mol].

        M_E: IUPAC CIAAW 2021 atomic weights (:data:`magcycle.chem.elements.MOLAR_MASS`).

        >>> n = Feed("x", 100.0, {"Nd": 30.0, "Fe": 70.0}).element_mol_h()
        >>> round(n["Nd"], 3), round(n["Fe"], 3)   # 30000 / 144.242, 70000 / 55.845
        (207.984, 1253.469)
        """
        return {el: kg * 1000.0 / MOLAR_MASS[el] for el, kg in self.element_kg_h().items()}

    @property
    def water_kg_h(self) -> float:
        """Moisture [kg/h]: m_water = kg_per_h [kg/h, dry] * w / (100 - w), w [wt %, wet basis].

        >>> Feed("x", 80.0, {"Fe": 100.0}, moisture_wt_pct=20.0).water_kg_h   # 80 * 20 / 80
        20.0
        """
        return self.kg_per_h * self.moisture_wt_pct / (100.0 - self.moisture_wt_pct)

    def with_rate(self, kg_per_h: float) -> "Feed":
        return Feed(self.name, kg_per_h, self.composition, self.moisture_wt_pct, self.parts, self.weights_given)

    def to_dict(self) -> dict:
        return {"name": self.name, "kg_per_h": self.kg_per_h, "moisture_wt_pct": self.moisture_wt_pct,
                "composition_wt_pct": dict(self.composition), "parts": dict(self.parts),
                "blend_weights_given": dict(self.weights_given), "normalisation": self.normalisation}


def from_class(cls: FeedClass | str, kg_per_h: float = 100.0) -> Feed:
    """The nominal feed of a built-in class."""
    if isinstance(cls, str):
        cls = _lookup(cls, "feed")
    comp = {el: w for el, w in cls.nominal.items() if w > 0}
    return Feed(cls.key, kg_per_h, comp, cls.moisture_wt_pct, {cls.key: 1.0})


def _lookup(key: str, field: str) -> FeedClass:
    if key not in CATALOGUE:
        raise InputError(field, f"unknown feed class {show(key)}; built-in classes: {', '.join(CATALOGUE)}")
    return CATALOGUE[key]


def _weights(parts, field: str = "feed.blend") -> tuple[list, list[float]]:
    """(feeds, weights) of a blend: each part a class key or a Feed with a weight >= 0; the
    weights sum to more than 0 and each non-zero one is at least MIN_SHARE of the total."""
    if isinstance(parts, Mapping):
        parts = list(parts.items())
    if not isinstance(parts, (list, tuple)) or not parts:
        raise InputError(field, "expected a table of feed = mass or fraction")
    feeds, weights = [], []
    for key, w in parts:
        label = key.name if isinstance(key, Feed) else clip(key, 30)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise InputError(f"{field}.{label}", f"a blend weight must be a number >= 0, got {show(w)}")
        feeds.append(key if isinstance(key, Feed) else from_class(_lookup(key, f"{field}.{label}")))
        weights.append(float(w))
    total = sum(weights)
    if not 0 < total < math.inf:
        raise InputError(field, f"the blend weights must sum to a finite number > 0, got {total:g}")
    for f, w in zip(feeds, weights):
        if 0 < w < MIN_SHARE * total:
            raise InputError(f"{field}.{f.name}", f"{w:g} is less than {MIN_SHARE:g} of the blend "
                                                  f"(total {total:g}); give 0 to leave the part out")
    return feeds, weights


def blend(parts: Mapping[str, float | int] | Sequence[tuple[str | Feed, float]], rate, name: str | None = None,
          hours_per_year: float = DEFAULT_HOURS_PER_YEAR, *, rate_field: str = "feed.rate") -> Feed:
    """Blend feeds by dry mass; ``parts`` maps class keys to masses or fractions
    (or is a list of (class key or Feed, weight) pairs).

    The weights are normalised, so ``{"ev": 2, "wind": 1}`` and ``{"ev": 2/3,
    "wind": 1/3}`` are the same blend (:attr:`Feed.normalisation` says how).
    With x_j = m_j / sum_k m_k the dry mass fraction of part j:

    .. math:: w_E = \\sum_j x_j w_{E,j}, \\qquad
              u = \\sum_j x_j \\frac{w_{m,j}}{100 - w_{m,j}}, \\qquad
              w_m = \\frac{100\\,u}{1 + u},

    with w [wt %, dry] the composition, u the water per kg of dry blend
    [kg/kg] and w_m [wt %, wet basis] the moisture.

    Parameters
    ----------
    parts : mapping or sequence of (str or Feed, float)
        Class key (or Feed) -> relative dry mass m_j [-], >= 0.
    rate : float or str
        Dry feed rate of the blend (number in kg/h or a string such as ``"1200 t/y"``).
    name : str, optional
        Name of the blend; default from its parts.
    hours_per_year : float
        Operating hours [h/y] for a per-year rate.
    rate_field : str
        Field an error about the rate names.

    Returns
    -------
    Feed
        The blend, with ``parts`` (x_j) and ``weights_given`` (m_j).

    References
    ----------
    Mass balance of the parts (no outside source).

    Examples
    --------
    >>> a = Feed("a", 1.0, {"Nd": 30.0, "Fe": 70.0})
    >>> b = Feed("b", 1.0, {"Nd": 20.0, "Fe": 80.0}, moisture_wt_pct=50.0)
    >>> f = blend([(a, 1.0), (b, 3.0)], 100.0)
    >>> f.composition["Nd"]                 # 0.25 * 30 + 0.75 * 20
    22.5
    >>> round(f.moisture_wt_pct, 4)         # u = 0.75 * 50/50 = 0.75; 100 * 0.75 / 1.75
    42.8571
    """
    kg_h = feed_rate(rate, rate_field, hours_per_year)
    feeds, weights = _weights(parts)
    total = sum(weights)
    fr = [w / total for w in weights]
    comp: dict[str, float] = {}
    water = 0.0
    for f, x in zip(feeds, fr):
        for el, w in f.composition.items():
            comp[el] = comp.get(el, 0.0) + x * w
        water += x * f.moisture_wt_pct / (100.0 - f.moisture_wt_pct)  # kg water per kg dry blend
    moisture = 100.0 * water / (1.0 + water)
    label = name or " + ".join(f"{100 * x:.0f}% {f.name}" for f, x in zip(feeds, fr) if x > 0)
    given = {f.name: w for f, w in zip(feeds, weights)}
    return Feed(label, kg_h, comp, moisture, {f.name: x for f, x in zip(feeds, fr)}, given)


def _assay_document(p: Path, where: str) -> dict:
    """The content of an assay file as an assay document (a CSV gives its composition)."""
    text = read_text(p, field="feed")
    if p.suffix.lower() == ".toml":
        return parse_document(text, ".toml", name=where, field="feed")
    return {"composition": _csv_composition(text, where)}


#: a number as a CSV assay writes it: decimal, with an optional exponent (no "nan", no "1_000")
_CSV_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _csv_composition(text: str, where: str) -> dict[str, float]:
    """element -> wt % of a CSV assay (header ``element,wt_pct``); fields named ``FILE:LINE``.

    >>> _csv_composition("element,wt_pct\\nNd,30\\n\\nFe,70\\n", "a.csv")
    {'Nd': 30.0, 'Fe': 70.0}
    >>> _csv_composition("element,wt_pct\\nNd,30\\nNd,1\\n", "a.csv")
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: a.csv:3.element: 'Nd' is given twice (first on line 2)
    """
    try:
        lines = [(i, r) for i, r in enumerate(csv.reader(text.splitlines()), start=1)
                 if r and any(c.strip() for c in r)]
    except csv.Error as exc:
        raise InputError(where, f"not a valid CSV file: {clip(exc, 80)}") from None
    if not lines or [c.strip().lower() for c in lines[0][1][:2]] != ["element", "wt_pct"]:
        raise InputError(where, "a CSV assay needs the header 'element,wt_pct'")
    comp: dict[str, float] = {}
    first: dict[str, int] = {}
    for i, r in lines[1:]:
        if len(r) < 2:
            raise InputError(f"{where}:{i}", "expected element,wt_pct")
        el, value = r[0].strip(), r[1].strip()
        if el in first:
            raise InputError(f"{where}:{i}.element", f"{show(el)} is given twice (first on line {first[el]})")
        if not _CSV_NUMBER.fullmatch(value):
            raise InputError(f"{where}:{i}.wt_pct", f"not a number: {show(r[1])}")
        first[el], comp[el] = i, float(value)
    return comp


def load_assay(path: str | Path, rate=None, hours_per_year: float = DEFAULT_HOURS_PER_YEAR, *,
               default_rate=None, rate_field: str = "feed.rate") -> Feed:
    """A user assay from CSV (columns ``element,wt_pct``) or TOML (:class:`magcycle.feed.schema.AssayDocument`).

    The rate is the assay's own ``rate`` (per year with ``hours_per_year``);
    ``rate`` given as well must agree with it, else the error names both
    (as ``rate_field``); without either, ``default_rate`` or DEFAULT_RATE.
    Raises InputError naming the file and field for anything unreadable.
    """
    from magcycle.feed.schema import AssayDocument
    from magcycle.schema import validate

    p = Path(path)
    where = p.name
    if p.suffix.lower() not in (".csv", ".toml"):
        raise InputError("feed", f"{show(where)}: an assay file must be .csv or .toml")
    doc = validate(AssayDocument, _assay_document(p, where), prefix=where)
    kg_h = _assay_rate(doc.rate, rate, hours_per_year, where, default_rate, rate_field)
    name = doc.name or p.stem
    return Feed(name, kg_h, doc.composition, doc.moisture_wt_pct, {name: 1.0})


def _assay_rate(own, given, hours: float, where: str, default_rate, rate_field: str) -> float:
    if own is None:
        return feed_rate(given if given is not None else default_rate or DEFAULT_RATE, rate_field, hours)
    kg_h = feed_rate(own, f"{where}.rate", hours)
    if given is not None:
        other = feed_rate(given, rate_field, hours)
        if abs(other - kg_h) > 1e-12 * kg_h:
            raise InputError(rate_field, f"the rate given ({show(given)}, {other:.6g} kg/h; --rate on the command "
                                         f"line) conflicts with the rate of the assay {where} ({show(own)}, "
                                         f"{kg_h:.6g} kg/h); give the rate in one place")
    return kg_h


def resolve_feed(spec, rate=None, hours_per_year: float = DEFAULT_HOURS_PER_YEAR, *, default_rate=None,
                 rate_field: str = "feed.rate") -> Feed:
    """A feed from a class key, a ``key=weight,key=weight`` blend, an assay path or a Feed.

    ``rate`` is the rate asked for (None: not given), ``default_rate`` the
    plant's; an assay's own rate is honoured (see :func:`load_assay`).
    """
    if isinstance(spec, Feed):
        return spec.with_rate(feed_rate(rate, rate_field, hours_per_year)) if rate is not None else spec
    if isinstance(spec, str) and spec.endswith((".csv", ".toml")) and "=" not in spec:
        return load_assay(spec, rate, hours_per_year, default_rate=default_rate, rate_field=rate_field)
    kg, field = (rate, rate_field) if rate is not None else (default_rate or DEFAULT_RATE, "feed.rate")
    if isinstance(spec, Mapping):
        return blend(spec, kg, hours_per_year=hours_per_year, rate_field=field)
    s = str(spec)
    if s in CATALOGUE:
        return from_class(s, feed_rate(kg, field, hours_per_year))
    if "=" in s:
        return blend(_blend_text(s), kg, hours_per_year=hours_per_year, rate_field=field)
    if os.path.isdir(s):
        raise InputError("feed", f"{show(s)} is a directory, not an assay file (.csv/.toml)")
    raise InputError("feed", f"unknown feed {show(s)}; give a class ({', '.join(CATALOGUE)}), "
                             "a blend such as ev=0.5,wind=0.5, or an assay file (.csv/.toml)")


def _blend_text(text: str) -> dict[str, float]:
    """``ev=0.5,wind=0.5`` as a table of weights (each class once)."""
    parts: dict[str, float] = {}
    for item in text.split(","):
        k, _, v = item.partition("=")
        k = k.strip()
        if k in parts:
            raise InputError(f"feed.blend.{clip(k, 30)}", "named twice")
        try:
            parts[k] = float(v)
        except ValueError:
            raise InputError(f"feed.blend.{clip(k, 30)}", f"not a number: {show(v)}") from None
    return parts
