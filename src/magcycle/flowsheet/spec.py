"""Flowsheet specification: units, their parameters and stream connections (TOML).

Document shape::

    [plant]
    name = "reference"
    hours_per_year = 8000

    [feed]                      # default feed; `magcycle run --feed` overrides
    blend = { ev = 0.4, wind = 0.3, swarf = 0.3 }
    rate = "150 kg/h"

    [units.leach]
    type = "leach"              # a key of magcycle.units.UNIT_TYPES
    excess = 0.1                # any parameter of that unit

    [streams]                   # name = "FROM -> TO"
    crushed = "pretreat.product -> leach.solids"
    "magnet feed" = "feed -> pretreat.feed"
    "NdPr oxide" = "calc_ndpr.oxide -> product"

    [products."NdPr oxide"]
    stream = "NdPr oxide"
    elements = ["Nd", "Pr"]     # the elements the product is sold for
    spec = "ndpr_oxide_995"     # a key of the product specifications

FROM is ``feed`` or ``UNIT.OUTLET``; TO is ``UNIT.INLET`` or one of the
sinks ``product``, ``byproduct``, ``waste`` and ``offgas``. Every outlet
must go somewhere and every required inlet must be fed, each exactly once.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from magcycle.errors import InputError

SINKS = ("product", "byproduct", "waste", "offgas")


@dataclass(frozen=True)
class Connection:
    name: str
    src: tuple[str, str]  # (unit or "feed", port)
    dst: tuple[str, str]  # (unit, port) or (sink, "")


@dataclass
class FlowsheetSpec:
    name: str
    hours_per_year: float
    feed: Mapping[str, Any]
    units: dict  # name -> UnitOperation
    connections: list[Connection]
    products: dict[str, dict]
    document: dict = field(repr=False, default_factory=dict)


def _endpoint(text: str, field: str, units: Mapping, outgoing: bool) -> tuple[str, str]:
    text = text.strip()
    if outgoing and text == "feed":
        return ("feed", "")
    if not outgoing and text in SINKS:
        return (text, "")
    if "." not in text:
        what = "feed or UNIT.OUTLET" if outgoing else f"UNIT.INLET or one of {', '.join(SINKS)}"
        raise InputError(field, f"{text!r} is not {what}")
    unit, port = text.split(".", 1)
    if unit not in units:
        raise InputError(field, f"unknown unit {unit!r}")
    u = units[unit]
    ports = u.outlets if outgoing else (u.inlets + u.optional_inlets)
    if port not in ports:
        kind = "outlet" if outgoing else "inlet"
        raise InputError(field, f"unit {unit!r} ({u.type_name}) has no {kind} port {port!r}; "
                                f"{kind}s: {', '.join(ports)}")
    return (unit, port)


def parse_flowsheet(doc: Mapping[str, Any], source: str = "flowsheet") -> FlowsheetSpec:
    """Validate a flowsheet document; raises InputError naming the unit, stream or field."""
    from magcycle.units import UNIT_TYPES

    if not isinstance(doc, Mapping):
        raise InputError(source, "expected a TOML table")
    unknown = set(doc) - {"plant", "feed", "units", "streams", "products"}
    if unknown:
        raise InputError(sorted(unknown)[0], "unknown section; expected plant, feed, units, streams, products")
    plant = doc.get("plant", {})
    name = str(plant.get("name", Path(source).stem))
    hours = plant.get("hours_per_year", 8000)
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 8784:
        raise InputError("plant.hours_per_year", f"expected operating hours in (0, 8784], got {hours!r}")
    units_doc = doc.get("units")
    if not isinstance(units_doc, Mapping) or not units_doc:
        raise InputError("units", "a flowsheet needs at least one unit")
    units = {}
    for uname, table in units_doc.items():
        if not isinstance(table, Mapping):
            raise InputError(f"units.{uname}", "expected a table")
        if uname in SINKS or uname == "feed" or "." in uname:
            raise InputError(f"units.{uname}", "reserved or invalid unit name")
        t = table.get("type")
        if t not in UNIT_TYPES:
            raise InputError(f"units.{uname}.type", f"unknown unit type {t!r}; known: {', '.join(UNIT_TYPES)}")
        params = {k: v for k, v in table.items() if k != "type"}
        units[uname] = UNIT_TYPES[t](uname, **params)
    streams = doc.get("streams")
    if not isinstance(streams, Mapping) or not streams:
        raise InputError("streams", "a flowsheet needs a [streams] table of name = \"FROM -> TO\"")
    conns: list[Connection] = []
    used_out: dict[tuple, str] = {}
    used_in: dict[tuple, str] = {}
    for sname, text in streams.items():
        f = f"streams.{sname}"
        if not isinstance(text, str) or text.count("->") != 1:
            raise InputError(f, "expected \"FROM -> TO\"")
        a, b = text.split("->")
        src = _endpoint(a, f, units, True)
        dst = _endpoint(b, f, units, False)
        if src[0] != "feed":
            if src in used_out:
                raise InputError(f, f"outlet {src[0]}.{src[1]} is already connected by stream {used_out[src]!r}")
            used_out[src] = sname
        elif ("feed", "") in used_out:
            raise InputError(f, f"the plant feed is already connected by stream {used_out[('feed', '')]!r}")
        else:
            used_out[("feed", "")] = sname
        if dst[1]:
            if dst in used_in:
                raise InputError(f, f"inlet {dst[0]}.{dst[1]} is already connected by stream {used_in[dst]!r}")
            used_in[dst] = sname
        if src[0] == dst[0] and src[0] != "feed":
            raise InputError(f, "a unit cannot feed itself directly")
        conns.append(Connection(sname, src, dst))
    if ("feed", "") not in used_out:
        raise InputError("streams", "no stream starts at the plant feed (\"feed -> UNIT.INLET\")")
    for uname, u in units.items():
        for port in u.outlets:
            if (uname, port) not in used_out:
                raise InputError(f"units.{uname}.{port}", "dangling outlet: connect it to a unit or to "
                                                         f"one of {', '.join(SINKS)}")
        for port in u.inlets:
            if (uname, port) not in used_in:
                raise InputError(f"units.{uname}.{port}", "inlet is not connected")
    products = {}
    by_name = {c.name: c for c in conns}
    for pname, table in (doc.get("products") or {}).items():
        f = f"products.{pname}"
        if not isinstance(table, Mapping):
            raise InputError(f, "expected a table")
        s = table.get("stream", pname)
        if s not in by_name or by_name[s].dst[0] != "product":
            raise InputError(f"{f}.stream", f"{s!r} is not a stream that ends in 'product'")
        els = table.get("elements")
        if not isinstance(els, list) or not els:
            raise InputError(f"{f}.elements", "expected a list of the product's rare earths")
        from magcycle.chem.elements import check_element
        els = [check_element(e, f"{f}.elements") for e in els]
        spec = table.get("spec")
        from magcycle.flowsheet.products import product_specs
        if spec not in product_specs():
            raise InputError(f"{f}.spec", f"unknown product specification {spec!r}; known: "
                                          f"{', '.join(product_specs())}")
        products[pname] = {"stream": s, "elements": els, "spec": spec}
    feed = doc.get("feed", {})
    if not isinstance(feed, Mapping):
        raise InputError("feed", "expected a table")
    return FlowsheetSpec(name, float(hours), dict(feed), units, conns, products, dict(doc))


def builtin_plants() -> dict[str, Path]:
    """The plants shipped with magcycle, by name (the file stem in magcycle/plants)."""
    folder = Path(__file__).resolve().parent.parent / "plants"
    return {f.stem: f for f in sorted(folder.glob("*.toml"), key=lambda f: f.stem)}


def load_flowsheet(path: str | Path) -> FlowsheetSpec:
    """Load a flowsheet from a TOML file, or a built-in plant by name (``reference-nd-pr``)."""
    p = Path(path)
    if not p.is_file():
        builtin = builtin_plants()
        if str(path) in builtin:
            p = builtin[str(path)]
        else:
            raise InputError("plant", f"no such file: {path} (built-in plants: {', '.join(builtin)})")
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(p.name, f"not a valid TOML file ({' '.join(str(exc).split())})") from None
    return parse_flowsheet(doc, p.name)


def reference_plant_path() -> Path:
    return Path(__file__).resolve().parent.parent / "plants" / "reference.toml"
