"""Feeds: a dry mass flow, an assay [wt %] and moisture; blends and user assays.

A :class:`Feed` is what enters the plant: ``kg_per_h`` of dry solids with
``composition`` in wt % (dry basis, summing to 100 +/- 0.5) and
``moisture_wt_pct`` of water on the wet basis. Element flows follow as

    n_E = kg_per_h * w_E / 100 * 1000 / M_E      [mol/h]

A blend by mass of feeds with masses m_j (or fractions) has composition
w_E = sum_j m_j w_E,j / sum_j m_j, and its wet moisture is the water of the
parts over their wet mass.
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Sequence

from magcycle.chem.elements import MOLAR_MASS, check_any_element
from magcycle.errors import InputError
from magcycle.feed.catalogue import CATALOGUE, FeedClass

#: allowed deviation of an assay's sum from 100 wt %
COMPOSITION_TOLERANCE_WT_PCT = 0.5

#: operating hours per year used to turn t/y into kg/h unless a plant says otherwise
DEFAULT_HOURS_PER_YEAR = 8000.0

_MASS_UNITS = {"kg/h": 1.0, "t/h": 1000.0, "t/d": 1000.0 / 24.0, "kg/d": 1.0 / 24.0, "g/h": 1e-3}


def parse_mass_flow(value, field: str, hours_per_year: float = DEFAULT_HOURS_PER_YEAR) -> float:
    """A mass flow in kg/h from a number (kg/h) or a string such as ``"2 t/d"``.

    ``t/y`` and ``kg/y`` divide by ``hours_per_year`` operating hours.

    >>> parse_mass_flow("1200 t/y", "feed.rate")
    150.0
    >>> parse_mass_flow(12.5, "feed.rate")
    12.5
    """
    if isinstance(value, bool):
        raise InputError(field, f"expected a mass flow, got {value!r}")
    if isinstance(value, (int, float)):
        x = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z/]+)\s*", value)
        if not m:
            raise InputError(field, f"cannot read {value!r} as a mass flow (e.g. '150 kg/h', '1200 t/y')")
        x, unit = float(m.group(1)), m.group(2)
        if unit in _MASS_UNITS:
            x *= _MASS_UNITS[unit]
        elif unit in ("t/y", "t/a", "kg/y"):
            x *= (1000.0 if unit != "kg/y" else 1.0) / hours_per_year
        else:
            raise InputError(field, f"unknown mass-flow unit {unit!r}; use kg/h, t/h, t/d, kg/d or t/y")
    else:
        raise InputError(field, f"expected a mass flow, got {value!r}")
    if not math.isfinite(x) or x <= 0:
        raise InputError(field, f"the mass flow must be positive and finite, got {value!r}")
    return x


def check_composition(comp: Mapping, field: str) -> dict[str, float]:
    """Validate an assay: known elements, finite values >= 0, sum 100 +/- 0.5 wt %."""
    if not isinstance(comp, Mapping) or not comp:
        raise InputError(field, "expected a table of element = wt %")
    out: dict[str, float] = {}
    for el, v in comp.items():
        sym = check_any_element(el, f"{field}.{el}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{field}.{el}", f"expected a number in wt %, got {v!r}")
        if v < 0:
            raise InputError(f"{field}.{el}", f"a mass fraction cannot be negative, got {v!r}")
        out[sym] = out.get(sym, 0.0) + float(v)
    total = sum(out.values())
    if abs(total - 100.0) > COMPOSITION_TOLERANCE_WT_PCT:
        raise InputError(field, f"the composition sums to {total:.3f} wt %, not 100 +/- "
                                f"{COMPOSITION_TOLERANCE_WT_PCT} wt %")
    return out


def _check_moisture(v, field) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 <= v < 100:
        raise InputError(field, f"moisture must be a number in [0, 100) wt %, got {v!r}")
    return float(v)


@dataclass(frozen=True)
class Feed:
    """Dry feed ``kg_per_h``, ``composition`` [wt %, dry] and moisture [wt %, wet]."""

    name: str
    kg_per_h: float
    composition: Mapping[str, float]
    moisture_wt_pct: float = 0.0
    parts: Mapping[str, float] = field(default_factory=dict)  # blend: part name -> dry mass fraction

    def __post_init__(self):
        if not (isinstance(self.kg_per_h, (int, float)) and math.isfinite(self.kg_per_h) and self.kg_per_h > 0):
            raise InputError("feed.rate", f"the feed rate must be positive, got {self.kg_per_h!r}")
        comp = check_composition(self.composition, "feed.composition")
        object.__setattr__(self, "composition", MappingProxyType(comp))
        object.__setattr__(self, "moisture_wt_pct", _check_moisture(self.moisture_wt_pct, "feed.moisture"))
        object.__setattr__(self, "parts", MappingProxyType(dict(self.parts)))

    def element_kg_h(self) -> dict[str, float]:
        """Dry element mass flows [kg/h]; the assay is used as given (sum within 100 +/- 0.5)."""
        return {el: self.kg_per_h * w / 100.0 for el, w in self.composition.items() if w > 0}

    def element_mol_h(self) -> dict[str, float]:
        """Element flows [mol/h]."""
        return {el: kg * 1000.0 / MOLAR_MASS[el] for el, kg in self.element_kg_h().items()}

    @property
    def water_kg_h(self) -> float:
        """Moisture [kg/h]: kg_dry * w / (100 - w)."""
        return self.kg_per_h * self.moisture_wt_pct / (100.0 - self.moisture_wt_pct)

    def with_rate(self, kg_per_h: float) -> "Feed":
        return Feed(self.name, kg_per_h, self.composition, self.moisture_wt_pct, self.parts)

    def to_dict(self) -> dict:
        return {"name": self.name, "kg_per_h": self.kg_per_h, "moisture_wt_pct": self.moisture_wt_pct,
                "composition_wt_pct": dict(self.composition), "parts": dict(self.parts)}


def from_class(cls: FeedClass | str, kg_per_h: float = 100.0) -> Feed:
    """The nominal feed of a built-in class."""
    if isinstance(cls, str):
        cls = _lookup(cls, "feed")
    comp = {el: w for el, w in cls.nominal.items() if w > 0}
    return Feed(cls.key, kg_per_h, comp, cls.moisture_wt_pct, {cls.key: 1.0})


def _lookup(key: str, field: str) -> FeedClass:
    if key not in CATALOGUE:
        raise InputError(field, f"unknown feed class {key!r}; built-in classes: {', '.join(CATALOGUE)}")
    return CATALOGUE[key]


def blend(parts: Mapping[str, float | int] | Sequence[tuple[str | Feed, float]], rate, name: str | None = None,
          hours_per_year: float = DEFAULT_HOURS_PER_YEAR) -> Feed:
    """Blend feeds by dry mass; ``parts`` maps class keys to masses or fractions
    (or is a list of (class key or Feed, weight) pairs).

    The weights are normalised, so ``{"ev": 2, "wind": 1}`` and ``{"ev": 2/3,
    "wind": 1/3}`` are the same blend. ``rate`` is the dry feed rate (number
    in kg/h or a string such as ``"1200 t/y"``).
    """
    kg_h = parse_mass_flow(rate, "feed.rate", hours_per_year)
    if isinstance(parts, Mapping):
        parts = list(parts.items())
    if not isinstance(parts, (list, tuple)) or not parts:
        raise InputError("feed.blend", "expected a table of feed = mass or fraction")
    feeds, weights = [], []
    for key, w in parts:
        label = key.name if isinstance(key, Feed) else str(key)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise InputError(f"feed.blend.{label}", f"a blend weight must be a number >= 0, got {w!r}")
        feeds.append(key if isinstance(key, Feed) else from_class(_lookup(key, f"feed.blend.{key}")))
        weights.append(float(w))
    total = sum(weights)
    if total <= 0:
        raise InputError("feed.blend", "the blend weights sum to zero")
    fr = [w / total for w in weights]
    comp: dict[str, float] = {}
    water = 0.0
    for f, x in zip(feeds, fr):
        for el, w in f.composition.items():
            comp[el] = comp.get(el, 0.0) + x * w
        water += x * f.moisture_wt_pct / (100.0 - f.moisture_wt_pct)  # kg water per kg dry blend
    moisture = 100.0 * water / (1.0 + water)
    label = name or " + ".join(f"{100 * x:.0f}% {f.name}" for f, x in zip(feeds, fr) if x > 0)
    return Feed(label, kg_h, comp, moisture, {f.name: x for f, x in zip(feeds, fr)})


def load_assay(path: str | Path, rate=None) -> Feed:
    """A user assay from CSV (columns ``element,wt_pct``) or TOML.

    TOML: ``name``, ``rate`` (optional), ``moisture_wt_pct`` (optional) and a
    ``[composition]`` table of element = wt %. Raises InputError naming the
    file and field for anything unreadable.
    """
    p = Path(path)
    where = p.name
    if not p.is_file():
        raise InputError("feed", f"no such file: {path}")
    text = p.read_text(encoding="utf-8", errors="replace")
    moisture = 0.0
    name = p.stem
    if p.suffix.lower() == ".csv":
        rows = list(csv.reader(text.splitlines()))
        rows = [r for r in rows if r and any(c.strip() for c in r)]
        if not rows or [c.strip().lower() for c in rows[0][:2]] != ["element", "wt_pct"]:
            raise InputError(f"{where}", "a CSV assay needs the header 'element,wt_pct'")
        comp = {}
        for i, r in enumerate(rows[1:], start=2):
            if len(r) < 2:
                raise InputError(f"{where}:{i}", "expected element,wt_pct")
            try:
                comp[r[0].strip()] = float(r[1])
            except ValueError:
                raise InputError(f"{where}:{i}.wt_pct", f"not a number: {r[1]!r}") from None
    elif p.suffix.lower() == ".toml":
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(where, f"not valid TOML ({exc})") from None
        unknown = set(doc) - {"name", "rate", "moisture_wt_pct", "composition"}
        if unknown:
            raise InputError(f"{where}.{sorted(unknown)[0]}", "unknown key")
        name = str(doc.get("name", name))
        moisture = _check_moisture(doc.get("moisture_wt_pct", 0.0), f"{where}.moisture_wt_pct")
        comp = doc.get("composition")
        if rate is None and "rate" in doc:
            rate = doc["rate"]
        if comp is None:
            raise InputError(f"{where}.composition", "missing")
    else:
        raise InputError("feed", f"{where}: an assay file must be .csv or .toml")
    comp = check_composition(comp, f"{where}.composition")
    kg_h = parse_mass_flow(rate if rate is not None else 100.0, "feed.rate")
    return Feed(name, kg_h, comp, moisture, {name: 1.0})


def resolve_feed(spec, rate, hours_per_year: float = DEFAULT_HOURS_PER_YEAR) -> Feed:
    """A feed from a class key, a ``key=weight,key=weight`` blend, an assay path or a Feed."""
    if isinstance(spec, Feed):
        return spec.with_rate(parse_mass_flow(rate, "feed.rate", hours_per_year)) if rate else spec
    if isinstance(spec, Mapping):
        return blend(spec, rate, hours_per_year=hours_per_year)
    s = str(spec)
    if s in CATALOGUE:
        return from_class(s, parse_mass_flow(rate, "feed.rate", hours_per_year))
    if "=" in s:
        parts = {}
        for item in s.split(","):
            k, _, v = item.partition("=")
            try:
                parts[k.strip()] = float(v)
            except ValueError:
                raise InputError(f"feed.blend.{k.strip()}", f"not a number: {v!r}") from None
        return blend(parts, rate, hours_per_year=hours_per_year)
    if s.endswith((".csv", ".toml")):
        return load_assay(s, rate)
    raise InputError("feed", f"unknown feed {s!r}; give a class ({', '.join(CATALOGUE)}), "
                             "a blend such as ev=0.5,wind=0.5, or an assay file (.csv/.toml)")
