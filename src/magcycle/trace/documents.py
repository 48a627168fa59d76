"""The receipt and campaign files of ``magcycle trace`` as declared schemas (``magcycle schema receipt``,
``magcycle schema campaign``); the REST API takes the same documents as JSON.

A receipt (one feed lot)::

    id = "KR-SW-0001"
    supplier = "Example Magnet Co."
    category = "swarf"          # a catalogue class or "other"
    consumer = "pre"            # ISO 14021: "pre" | "post"
    mass = "2.0 t"              # dry mass
    gross_mass = "2.3 t"        # optional: as weighed, with moisture and packaging
    received = 2026-03-02
    feed = "swarf"              # the catalogue assay; or an [assay] table of element = wt %
    [origin]                    # ISO 3166 alpha-2 or "unknown"; a stage left out is "unknown"
    generated = "KR"
    mined = "CN"
    [[evidence]]                # optional: documents behind the receipt, each with its SHA-256
    uri = "https://example.com/weighbridge/0001.pdf"
    sha256 = "9f86d0..."

A campaign::

    id = "C-2026-01"
    plant = "reference"         # a built-in plant or a flowsheet file (relative to this file)
    start = 2026-03-10
    end = 2026-03-20
    custody = "mass_balance"    # or "segregated"
    [lots]                      # lot id = dry mass consumed
    "KR-SW-0001" = "2.0 t"
    [measured."NdPr oxide"]     # optional, per product: what the scale and the lab said
    mass = "610 kg"
    purity = "99.7 %"
    difference = "yield_loss"   # or "wip": how a shortfall against the simulation is booked

Masses are a number in kg or a string with a unit: g, kg, t (1 t = 1000 kg
exactly). Dates are TOML dates or ISO 8601 strings (YYYY-MM-DD).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from contextlib import suppress
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from magcycle.documents import clip, show
from magcycle.errors import InputError
from magcycle.schema import ElementSymbol, Name, Strict, field, fail
from magcycle.trace.countries import DFARS_STAGES, UNKNOWN, is_country

__all__ = ["MASS_UNITS", "MAX_MASS_KG", "parse_mass", "Receipt", "Origin", "Evidence", "CampaignFile", "Measured",
           "ORIGIN_STAGES", "receipts_from_csv", "CSV_COLUMNS", "MAX_CSV_ROWS"]

#: kg per unit of a mass (exact)
MASS_UNITS = {"g": 0.001, "kg": 1.0, "t": 1000.0, "tonne": 1000.0}
#: the largest mass of a lot or a consumption [kg]: a million tonnes, beyond any lot of magnet scrap
MAX_MASS_KG = 1e9
#: the stages of an origin declaration: where the scrap arose, then the DFARS stages upstream
ORIGIN_STAGES = ("generated", *DFARS_STAGES)
_MASS = re.compile(r"^\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_mass(value: Any) -> float:
    """A mass [kg] from a number (kg) or a string with its unit; must be finite, > 0 and at most MAX_MASS_KG.

    >>> parse_mass("2.0 t"), parse_mass(1500), parse_mass("250 g")
    (2000.0, 1500.0, 0.25)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a mass such as '2.0 t' or a number in kg, got {show(value)}")
    try:
        if isinstance(value, str):
            m = _MASS.match(value)
            if not m or (m[2] or "kg") not in MASS_UNITS:
                raise ValueError(f"expected a mass such as '2.0 t' (units {', '.join(MASS_UNITS)}), got {show(value)}")
            kg = float(m[1]) * MASS_UNITS[m[2] or "kg"]
        else:
            kg = float(value)
    except OverflowError:
        kg = math.inf
    if not math.isfinite(kg) or kg <= 0 or kg > MAX_MASS_KG:
        raise ValueError(f"a mass must be a finite number > 0 and at most {MAX_MASS_KG:g} kg, got {show(value)}")
    return kg


def _mass(value: Any) -> float:
    try:
        return parse_mass(value)
    except ValueError as exc:
        raise PydanticCustomError("mass", str(exc)) from None


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise PydanticCustomError("date", "expected a date (YYYY-MM-DD) without a time, got {got}",
                                  {"got": show(str(value))})
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        with suppress(ValueError):
            return dt.date.fromisoformat(value)
    raise PydanticCustomError("date", "expected a date such as 2026-03-02, got {got}", {"got": show(value)})


def _country(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("country", "expected an ISO 3166 alpha-2 code or 'unknown', got {got}",
                                  {"got": show(value)})
    if value.strip().lower() == UNKNOWN:
        return UNKNOWN
    code = value.strip().upper()
    if not is_country(code):
        raise PydanticCustomError("country", "unknown country code {got}; expected an ISO 3166 alpha-2 code "
                                  "(such as KR, DE, US) or 'unknown'", {"got": show(value)})
    return code


Mass = Annotated[float, BeforeValidator(_mass), Field(json_schema_extra={"unit": "kg"})]
Date = Annotated[dt.date, BeforeValidator(_date)]
Country = Annotated[str, BeforeValidator(_country)]
LotId = Annotated[Name, Field(max_length=120)]


class Origin(Strict):
    """Where the scrap was generated, and the countries of each DFARS stage upstream of it."""

    generated: Country = field(UNKNOWN, description="country where the scrap arose (ISO 3166 alpha-2 or unknown)")
    mined: Country = field(UNKNOWN, description="country where the ore was mined")
    refined: Country = field(UNKNOWN, description="country where the rare earths were refined")
    separated: Country = field(UNKNOWN, description="country where the rare earths were separated")
    melted: Country = field(UNKNOWN, description="country where the alloy was melted")
    produced: Country = field(UNKNOWN, description="country where the magnet was produced")


class Evidence(Strict):
    """A document behind a receipt (weighbridge ticket, supplier declaration, assay report)."""

    uri: Name = field(description="where the document is kept")
    sha256: str = field(description="SHA-256 of the document, 64 hex digits", pattern=r"^[0-9a-fA-F]{64}$")


class Receipt(Strict):
    """One feed lot as received (``magcycle trace receive RECEIPT.toml``)."""

    id: LotId = field(description="lot id, unique on the site")
    supplier: Name = field(description="supplier's name (printable text)")
    category: str = field(description="a feed class of the catalogue (magcycle feed list) or 'other'")
    consumer: Literal["pre", "post"] = field(description="ISO 14021: pre-consumer (manufacturing scrap such as "
                                                         "swarf) or post-consumer (end-of-life magnets)")
    mass: Mass = field(description="dry mass received, e.g. '2.0 t'")
    gross_mass: Mass | None = field(None, description="mass as weighed (moisture, packaging), at least the dry mass")
    received: Date = field(description="date received")
    feed: str | None = field(None, description="the catalogue class whose nominal assay the lot takes")
    assay: dict[ElementSymbol, float] | None = field(None, unit="wt %", description="dry assay, element = wt %, "
                                                     "summing to 100 +/- 0.5 (instead of feed)")
    origin: Origin = field(default_factory=Origin, description="country of each stage")
    evidence: list[Evidence] = field(default_factory=list, max_length=100, description="documents with their hashes")

    @field_validator("category", "feed")
    @classmethod
    def _known_class(cls, value: str | None, info) -> str | None:
        from magcycle.feed.catalogue import CATALOGUE

        allowed = list(CATALOGUE) + (["other"] if info.field_name == "category" else [])
        if value is not None and value not in allowed:
            raise PydanticCustomError("feed_class", "unknown feed class {got}; expected one of {allowed}",
                                      {"got": show(value), "allowed": ", ".join(allowed)})
        return value

    @field_validator("assay", mode="after")
    @classmethod
    def _assay_sums(cls, comp):
        from magcycle.errors import InputError
        from magcycle.feed.feed import check_composition

        if comp is None:
            return comp
        try:
            return check_composition(comp, "")
        except InputError as exc:
            raise fail(tuple(p for p in exc.field.split(".") if p and p != "composition"), exc.reason) from None

    @model_validator(mode="after")
    def _one_assay(self):
        if (self.feed is None) == (self.assay is None):
            raise fail(("feed",), "give either feed (a catalogue class) or an [assay] table, not both or neither")
        if self.gross_mass is not None and self.gross_mass < self.mass:
            raise fail(("gross_mass",), f"{self.gross_mass:g} kg is less than the dry mass {self.mass:g} kg")
        return self

    def composition(self) -> dict[str, float]:
        """The lot's dry assay [wt %]: its own, or its catalogue class's nominal."""
        from magcycle.feed.catalogue import CATALOGUE

        if self.assay is not None:
            return dict(self.assay)
        return {el: w for el, w in CATALOGUE[self.feed].nominal.items() if w > 0}


class Measured(Strict):
    """What the scale and the laboratory said of one product of a campaign."""

    mass: Mass = field(description="net mass produced, e.g. '610 kg'")
    purity: float | None = field(None, gt=0.0, le=1.0, description="measured REO/TREO purity, a fraction")
    impurities_ppm: dict[Name, Annotated[float, Field(ge=0.0)]] | None = field(
        None, unit="ppm", description="measured impurities [ppm] (>= 0), as the spec names them")
    difference: Literal["yield_loss", "wip"] = field(
        "yield_loss", description="how simulated minus measured mass is booked: yield loss, or work in progress "
                                  "held up in the circuit (a measured mass above the simulated one can only come "
                                  "from work in progress released: give 'wip')")

    @field_validator("purity", mode="before")
    @classmethod
    def _percent(cls, value):
        if isinstance(value, str) and value.strip().endswith("%"):
            with suppress(ValueError):  # not a number before the %: the float check names it
                return float(value.strip()[:-1]) / 100.0
        return value


class CampaignFile(Strict):
    """A campaign run on the plant (``magcycle trace campaign CAMPAIGN.toml``)."""

    id: LotId = field(description="campaign id, unique on the site")
    plant: Name = field("reference", description="a built-in plant or a flowsheet file (relative to this file)")
    start: Date = field(description="first day")
    end: Date = field(description="last day, not before start")
    custody: Literal["segregated", "mass_balance"] = field(description="ISO 22095 chain-of-custody model")
    lots: dict[LotId, Mass] = field(min_length=1, max_length=10_000, description="lot id = dry mass consumed")
    measured: dict[Name, Measured] = field(default_factory=dict, description="per product: measured mass and assay")

    @model_validator(mode="after")
    def _dates(self):
        if self.end < self.start:
            raise fail(("end",), f"{self.end.isoformat()} is before start {self.start.isoformat()}")
        return self


#: the columns of a receipts CSV (one lot per row): the receipt's fields, its origin as origin_<stage>
CSV_COLUMNS = ("id", "supplier", "category", "consumer", "mass", "gross_mass", "received", "feed",
               "origin_generated", "origin_mined", "origin_refined", "origin_separated", "origin_melted",
               "origin_produced")
MAX_CSV_ROWS = 5000


def _csv_header(header: list[str]) -> None:
    if not header or header == [""]:
        raise InputError("columns", f"no header row; expected {', '.join(CSV_COLUMNS)}")
    for h in header:
        if h not in CSV_COLUMNS:
            raise InputError(f"columns.{clip(h)}", f"unknown column; expected {', '.join(CSV_COLUMNS)}")
    if len(set(header)) != len(header):
        raise InputError("columns", "a column is given twice")


def _csv_receipt(n: int, header: list[str], cells: list[str]) -> Receipt:
    from magcycle.schema import input_error

    if len(cells) != len(header):
        raise InputError(f"row {n}", f"{len(cells)} cells for {len(header)} columns")
    values = {h: c.strip() for h, c in zip(header, cells) if c.strip()}
    doc = {k: v for k, v in values.items() if not k.startswith("origin_")}
    origin = {k[len("origin_"):]: v for k, v in values.items() if k.startswith("origin_")}
    if origin:
        doc["origin"] = origin
    try:
        return Receipt.model_validate(doc)
    except ValidationError as exc:
        err = input_error(exc, doc)
        raise InputError(f"row {n}.{err.field}", err.reason) from None


def receipts_from_csv(text: str) -> list[Receipt]:
    """Receipts from CSV text (a header row of :data:`CSV_COLUMNS`, any order, at least id, supplier, category,
    consumer, mass, received and feed; an empty cell is a field left out). The first bad row is an InputError
    named ``row N.FIELD`` (N from 2, the header being row 1); an unknown column is named ``columns.NAME``."""
    import csv
    import io

    rows = csv.reader(io.StringIO(text, newline=""))
    out = []
    try:
        header = [h.strip() for h in next(rows, [])]
        _csv_header(header)
        for n, cells in enumerate(rows, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(out) >= MAX_CSV_ROWS:
                raise InputError("rows", f"more than {MAX_CSV_ROWS} lots in one file")
            out.append(_csv_receipt(n, header, cells))
    except csv.Error as exc:  # a cell beyond the csv module's size limit, a stray quote in strict files
        raise InputError(f"row {rows.line_num}", f"not CSV: {exc}") from None
    if not out:
        raise InputError("rows", "no lots in the file")
    return out
