"""Flowsheet specification: units, their parameters and stream connections (TOML or JSON).

The document is declared in :mod:`magcycle.flowsheet.schema` (``magcycle
schema flowsheet``; the unit types in ``magcycle units list``). A
:class:`FlowsheetSpec` is a validated document made into objects: each unit
an operation of its type (:mod:`magcycle.units`), each stream a
:class:`~magcycle.flowsheet.schema.Connection`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from magcycle.documents import clip, present, read_document
from magcycle.errors import InputError

__all__ = ["FlowsheetSpec", "parse_flowsheet", "load_flowsheet", "builtin_plants", "reference_plant_path"]

@dataclass
class FlowsheetSpec:
    name: str
    hours_per_year: float
    feed: Mapping[str, Any]
    units: dict  # name -> UnitOperation
    connections: list  # of magcycle.flowsheet.schema.Connection
    products: dict[str, dict]
    document: dict = field(repr=False, default_factory=dict)

    def with_unit_parameters(self, changes: Mapping[str, Mapping[str, Any]]) -> "FlowsheetSpec":
        """A copy with some units' parameters changed (``{unit: {parameter: value}}``, a
        parameter table such as ``beta`` merged key by key); only those units are validated
        and built again, each by its type's model."""
        from magcycle.units import UNIT_TYPES

        units = dict(self.units)
        doc = {**self.document, "units": dict(self.document.get("units", {}))}
        for name, params in changes.items():
            if name not in units:
                raise InputError(f"units.{clip(name)}", "no such unit in the plant")
            if "type" in params:
                raise InputError(f"units.{clip(name)}.type", "the type of a unit is not a parameter to change")
            table = dict(doc["units"][name])
            for key, value in params.items():
                old = table.get(key)
                table[key] = {**old, **value} if isinstance(old, Mapping) and isinstance(value, Mapping) else value
            doc["units"][name] = table
            units[name] = UNIT_TYPES[table["type"]](name, **{k: v for k, v in table.items() if k != "type"})
        return FlowsheetSpec(self.name, self.hours_per_year, self.feed, units, self.connections, self.products, doc)


def parse_flowsheet(doc: Mapping[str, Any], source: str = "flowsheet") -> FlowsheetSpec:
    """Validate a flowsheet document (:class:`magcycle.flowsheet.schema.FlowsheetDocument`) into a
    FlowsheetSpec; raises InputError naming the unit, stream or field."""
    from magcycle.flowsheet.schema import FlowsheetDocument
    from magcycle.schema import validate
    from magcycle.units import UNIT_TYPES

    model = validate(FlowsheetDocument, doc)
    units = {name: UNIT_TYPES[t.type].from_params(name, t) for name, t in model.units.items()}
    products = {name: {"stream": p.stream or name, "elements": list(p.elements), "spec": p.spec}
                for name, p in model.products.items()}
    feed = model.feed.model_dump(by_alias=True, exclude_none=True) if model.feed is not None else {}
    return FlowsheetSpec(model.plant.name or Path(source).stem, float(model.plant.hours_per_year), feed, units,
                         model.connections(), products, dict(doc))


def builtin_plants() -> dict[str, Path]:
    """The plants shipped with magcycle, by name (the file stem in magcycle/plants)."""
    folder = Path(__file__).resolve().parent.parent / "plants"
    return {f.stem: f for f in sorted(folder.glob("*.toml"), key=lambda f: f.stem)}


def load_flowsheet(path: str | Path) -> FlowsheetSpec:
    """Load a flowsheet from a TOML or JSON file, or a built-in plant by name (``reference-nd-pr``)."""
    builtin = builtin_plants()
    if not str(path).strip():
        raise InputError("plant", f"empty; give a plant file or a built-in plant ({', '.join(builtin)})")
    p = Path(path)
    there = present(p, field="plant")
    if str(path) in builtin and not there:
        p = builtin[str(path)]
    elif not there:
        raise InputError("plant", f"no such file: {clip(path, 80)} (built-in plants: {', '.join(builtin)})")
    return parse_flowsheet(read_document(p, field=p.name or "plant"), p.name or "plant")


def reference_plant_path() -> Path:
    return Path(__file__).resolve().parent.parent / "plants" / "reference.toml"
