"""The flowsheet document (TOML or JSON) as a declared schema: ``magcycle schema flowsheet``.

Document shape::

    [plant]
    name = "reference"
    hours_per_year = 8000

    [feed]                      # default feed; `magcycle run --feed` overrides
    blend = { ev = 0.4, wind = 0.3, swarf = 0.3 }
    rate = "150 kg/h"

    [units.leach]
    type = "leach"              # a unit type: `magcycle units list`
    excess = 0.1                # any parameter of that type: `magcycle units show leach`

    [streams]                   # name = "FROM -> TO"
    crushed = "pretreat.product -> leach.solids"
    "magnet feed" = "feed -> pretreat.feed"
    "NdPr oxide" = "calc_ndpr.oxide -> product"

    [products."NdPr oxide"]
    stream = "NdPr oxide"
    elements = ["Nd", "Pr"]     # the elements the product is sold for
    spec = "ndpr_oxide_995"     # a product specification

FROM is ``feed`` or ``UNIT.OUTLET``; TO is ``UNIT.INLET`` or one of the
sinks ``product``, ``byproduct``, ``waste`` and ``offgas``. Every outlet
must go somewhere and every required inlet must be fed, each exactly once;
the plant feed enters exactly once. These rules, and the ports of each unit
type, are checked by the model (:func:`check_graph`), so the model is the
whole statement of a valid flowsheet.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, PrivateAttr, model_validator

from magcycle.documents import show
from magcycle.errors import InputError
from magcycle.schema import MassFlowText, Name, RareEarthSymbol, Strict, Text, fail, field
from magcycle.units.catalogue import UNIT_TYPES, UnitTable

__all__ = ["SINKS", "PlantSection", "FeedSection", "ProductTable", "FlowsheetDocument", "Connection",
           "check_graph"]

SINKS = ("product", "byproduct", "waste", "offgas")


def _unit_name(name: str) -> str:
    if name in SINKS or name == "feed" or "." in name or "->" in name or not name.strip():
        raise ValueError(f"{show(name)} is reserved or not a unit name (not feed, {', '.join(SINKS)}, "
                         "nor a name with '.' or '->')")
    return name


_UnitName = Annotated[Name, Field(max_length=100), AfterValidator(_unit_name)]


def _stream_text(text: str) -> str:
    if text.count("->") != 1:
        raise ValueError('expected "FROM -> TO"')
    return text


class PlantSection(Strict):
    """``[plant]``: the plant's name and operating hours."""

    name: Name | None = field(None, description="the plant's name (default: the file name)")
    hours_per_year: float = field(8000.0, unit="h/y", gt=0.0, le=8784.0,
                                  description="operating hours per year: turns flows per year into per hour "
                                              "and back", source="[C] 8,000 h/y, a continuous plant's usual basis")


class FeedSection(Strict):
    """``[feed]``: the plant's default feed (``magcycle run --feed`` replaces it)."""

    blend: dict[Annotated[Name, Field(max_length=100)], Annotated[float, Field(ge=0.0)]] | None = field(
        None, unit="-", description="dry-mass weights of catalogue classes (normalised: relative masses)",
        min_length=1)
    feed_class: Annotated[Name, Field(max_length=100)] | None = field(
        None, alias="class", description="one catalogue class (`magcycle feed list`)")
    rate: MassFlowText | None = field(None, unit="kg/h", description="dry feed rate, kg/h or a string such "
                                                                     "as '1200 t/y' (the plant's hours)")

    @model_validator(mode="after")
    def _one_feed(self):
        from magcycle.feed.catalogue import CATALOGUE

        if self.blend is not None and self.feed_class is not None:
            raise fail(("class",), "give a blend or a class, not both")
        for key in list(self.blend or {}) + ([self.feed_class] if self.feed_class is not None else []):
            if key not in CATALOGUE:
                loc = ("blend", key) if self.blend and key in self.blend else ("class",)
                raise fail(loc, f"unknown feed class {show(key)}; built-in classes: {', '.join(CATALOGUE)}")
        if self.blend is not None and not sum(self.blend.values()) > 0:
            raise fail(("blend",), "the blend weights sum to zero")
        return self


def _known_spec(spec_id: str) -> str:
    from magcycle.flowsheet.products import product_specs

    if spec_id not in product_specs():
        raise ValueError(f"unknown product specification {show(spec_id)}; known: {', '.join(product_specs())}")
    return spec_id


class ProductTable(Strict):
    """``[products.NAME]``: a product stream, the rare earths it is sold for and its specification."""

    stream: Text | None = field(None, description="the stream that carries it (default: the product's name); "
                                                  "it must end in 'product'")
    elements: list[RareEarthSymbol] = field(min_length=1, max_length=17,
                                            description="the rare earths the product is sold for")
    spec: Annotated[str, AfterValidator(_known_spec)] = field(
        description="the product specification it is judged by (data/product_specs.toml)")


class Connection(Strict):
    """One stream: its name, where it comes from and where it goes (parsed ``FROM -> TO``)."""

    name: str
    src: tuple[str, str]  # (unit or "feed", port)
    dst: tuple[str, str]  # (unit, port) or (sink, "")


class FlowsheetDocument(Strict):
    """A plant: its units, the streams between them, its feed and its products."""

    plant: PlantSection = field(default_factory=PlantSection, description="name and operating hours")
    feed: FeedSection | None = field(None, description="the default feed")
    units: dict[_UnitName, UnitTable] = field(min_length=1, description="the unit operations, by name")
    streams: dict[Name, Annotated[str, AfterValidator(_stream_text)]] \
        = field(min_length=1, description='the streams, name = "FROM -> TO"')
    products: dict[Name, ProductTable] = field(
        default_factory=dict, description="the products, judged against their specifications")
    _connections: Any = PrivateAttr(None)

    @model_validator(mode="after")
    def _graph(self):
        try:
            self._connections = check_graph(self)
        except _GraphError as exc:
            raise fail(exc.loc, exc.reason) from None
        return self

    def connections(self) -> list[Connection]:
        """The streams as connections, in document order (checked by :func:`check_graph`)."""
        return list(self._connections)


# ------------------------------------------------------------------ the graph
class _GraphError(InputError):
    """An InputError that keeps the path of the offending key as a tuple."""

    def __init__(self, loc: tuple, reason: str):
        super().__init__(".".join(loc), reason)
        self.loc = loc

def _endpoint(text: str, where: tuple, units: dict, outgoing: bool) -> tuple[str, str]:
    text = text.strip()
    if outgoing and text == "feed":
        return ("feed", "")
    if not outgoing and text in SINKS:
        return (text, "")
    if "." not in text:
        what = "feed or UNIT.OUTLET" if outgoing else f"UNIT.INLET or one of {', '.join(SINKS)}"
        raise _GraphError(where, f"{text[:60]!r} is not {what}")
    unit, port = text.split(".", 1)
    if unit not in units:
        raise _GraphError(where, f"unknown unit {unit[:60]!r}")
    cls = UNIT_TYPES[units[unit].type]
    ports = cls.outlets if outgoing else cls.inlets + cls.optional_inlets
    if port not in ports:
        kind = "outlet" if outgoing else "inlet"
        raise _GraphError(where, f"unit {unit!r} ({cls.type_name}) has no {kind} port {port[:60]!r}; "
                                f"{kind}s: {', '.join(ports)}")
    return (unit, port)


def _connect(streams: dict, units: dict) -> list[Connection]:
    """Each stream parsed and checked: every outlet and inlet used at most once, the feed once."""
    conns, used_out, used_in = [], {}, {}
    for sname, text in streams.items():
        where = ("streams", sname)
        a, b = text.split("->")
        src, dst = _endpoint(a, where, units, True), _endpoint(b, where, units, False)
        if src in used_out:
            what = "the plant feed" if src[0] == "feed" else f"outlet {src[0]}.{src[1]}"
            raise _GraphError(where, f"{what} is already connected by stream {used_out[src]!r}")
        used_out[src] = sname
        if dst[1]:
            if dst in used_in:
                raise _GraphError(where, f"inlet {dst[0]}.{dst[1]} is already connected by stream "
                                        f"{used_in[dst]!r}")
            used_in[dst] = sname
        if src[0] == dst[0] and src[0] != "feed":
            raise _GraphError(where, "a unit cannot feed itself directly")
        conns.append(Connection(name=sname, src=src, dst=dst))
    return conns


def check_graph(doc: FlowsheetDocument) -> list[Connection]:
    """The connections of a flowsheet; raises InputError naming the stream, port or product when
    a stream names a port that does not exist, a port is used twice, an outlet goes nowhere, a
    required inlet is not fed, the feed does not enter, or a product's stream does not end in
    'product'."""
    conns = _connect(doc.streams, doc.units)
    out = {c.src for c in conns}
    into = {c.dst for c in conns}
    if ("feed", "") not in out:
        raise _GraphError(("streams",), "no stream starts at the plant feed (\"feed -> UNIT.INLET\")")
    for uname, table in doc.units.items():
        cls = UNIT_TYPES[table.type]
        for port in cls.outlets:
            if (uname, port) not in out:
                raise _GraphError(("units", uname, port), "dangling outlet: connect it to a unit or to "
                                                          f"one of {', '.join(SINKS)}")
        for port in cls.inlets:
            if (uname, port) not in into:
                raise _GraphError(("units", uname, port), "inlet is not connected")
    by_name = {c.name: c for c in conns}
    for pname, p in doc.products.items():
        s = p.stream or pname
        if s not in by_name or by_name[s].dst[0] != "product":
            raise _GraphError(("products", pname, "stream"), f"{s[:60]!r} is not a stream that ends in 'product'")
    return conns
