"""The unit types a flowsheet may use, their ports and their parameters, from their declared models.

``UNIT_TYPES`` maps the ``type`` of a flowsheet unit to its class. Each
class declares its ports and its ``Params`` model; this module derives from
them what a flowsheet file, ``magcycle units list|show``, ``magcycle schema
unit:TYPE`` and the flowsheet reference page need:

* :func:`unit_table` -- the model of a ``[units.NAME]`` table of one type:
  its parameters plus ``type``;
* :data:`UnitTable` -- any of them, told apart by ``type``;
* :func:`describe` -- ports and parameter rows (type, unit, range,
  default, meaning) of a unit type, as plain data.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal, Union

from pydantic import Field, create_model

from magcycle.schema import field
from magcycle.units.base import UnitOperation
from magcycle.units.calcine import Calcination
from magcycle.units.effluent import EffluentTreatment
from magcycle.units.impurity import ImpurityRemoval
from magcycle.units.leach import Leach
from magcycle.units.mixing import Mixer, Splitter
from magcycle.units.oxalate import OxalatePrecipitation
from magcycle.units.pretreat import Pretreatment
from magcycle.units.sx_cascade import SXCascade

__all__ = ["UNIT_TYPES", "unit_table", "UnitTable", "describe", "parameter_rows"]

UNIT_TYPES: dict[str, type[UnitOperation]] = {cls.type_name: cls for cls in (
    Pretreatment, Leach, ImpurityRemoval, SXCascade, OxalatePrecipitation, Calcination, EffluentTreatment, Mixer,
    Splitter)}


@lru_cache(maxsize=None)
def unit_table(type_name: str):
    """The model of a ``[units.NAME]`` table of ``type_name``: ``type`` and the type's parameters."""
    cls = UNIT_TYPES[type_name]
    return create_model(f"{cls.__name__}Unit", __base__=cls.Params, __doc__=f"A {type_name} unit: {cls.summary}.",
                        type=(Literal[type_name], field(description=f"the unit type: {type_name}")))


#: a ``[units.NAME]`` table of any type (told apart by its ``type``)
UnitTable = Annotated[Union[tuple(unit_table(t) for t in UNIT_TYPES)], Field(discriminator="type")]


def _members(schema: dict) -> list[dict]:
    """The alternatives of a schema, nested anyOf flattened."""
    if "anyOf" not in schema:
        return [schema]
    return [m for s in schema["anyOf"] for m in _members(s)]


def _value_schema(schema: dict) -> dict:
    """The schema of the value itself: optional (null) members dropped, a quantity's number
    member chosen, a table's value schema for a table."""
    if "anyOf" in schema:
        members = [s for s in _members(schema) if s.get("type") != "null"]
        numbers = [s for s in members if s.get("type") in ("number", "integer")]
        schema = (numbers or members or [schema])[0]
    if schema.get("type") == "object" and _values_of(schema):
        return _value_schema(_values_of(schema))
    return schema


def _values_of(table: dict) -> dict:
    """The schema of a table's values: ``additionalProperties``, or the one ``patternProperties``
    entry when the keys follow a pattern (a table keyed by names)."""
    values = table.get("additionalProperties")
    if not isinstance(values, dict) and len(table.get("patternProperties") or {}) == 1:
        values = next(iter(table["patternProperties"].values()))
    return values if isinstance(values, dict) else {}


def _range(schema: dict) -> str:
    """The allowed range of a parameter from its JSON Schema, e.g. '[0, 5]' or '(0, 1)'."""
    v = _value_schema(schema)
    if v.get("enum"):
        return " | ".join(str(x) for x in v["enum"])
    if "const" in v:
        return str(v["const"])
    lo = ((v["minimum"], "[") if "minimum" in v else (v["exclusiveMinimum"], "(") if "exclusiveMinimum" in v
          else None)
    hi = ((v["maximum"], "]") if "maximum" in v else (v["exclusiveMaximum"], ")") if "exclusiveMaximum" in v
          else None)
    if lo is None and hi is None:
        return ""
    left = f"{lo[1]}{lo[0]:g}" if lo else "(-inf"
    right = f"{hi[0]:g}{hi[1]}" if hi else "inf)"
    return f"{left}, {right}"


def _kind(schema: dict) -> str:
    """A parameter's kind in words: number, whole number, text, true/false, table of ..., list of ..."""
    optional = any(s.get("type") == "null" for s in _members(schema))
    members = [s for s in _members(schema) if s.get("type") != "null"]
    types = {s.get("type") for s in members}
    if types == {"number", "string"}:
        text = "number or unit string"
    elif len(members) == 1 and members[0].get("type") == "object":
        text = f"table of {_kind(_values_of(members[0])) or 'values'}"
    elif len(members) == 1 and members[0].get("type") == "array":
        text = f"list of {_kind(members[0].get('items', {}))}"
    else:
        names = {"number": "number", "integer": "whole number", "boolean": "true/false", "string": "text"}
        text = " or ".join(names.get(s.get("type"), "table") for s in members)
    return text + (" (optional)" if optional else "")


def parameter_rows(model) -> list[dict[str, Any]]:
    """One row per parameter of a model: name, kind, unit, range, default, meaning (and source)."""
    schema = model.model_json_schema()
    fields = {f.alias or name: f for name, f in model.model_fields.items()}
    rows = []
    for name, prop in schema["properties"].items():
        if name == "type":
            continue
        f = fields[name]
        default = None if f.is_required() else f.get_default(call_default_factory=True)
        rows.append({"name": name, "kind": _kind(prop), "unit": prop.get("unit", ""), "range": _range(prop),
                     "required": f.is_required(), "default": default,
                     "description": prop.get("description", "")})
    return rows


def describe(type_name: str) -> dict[str, Any]:
    """Ports and parameters of a unit type, as plain data (``magcycle units show``)."""
    cls = UNIT_TYPES[type_name]
    return {"type": type_name, "class": cls.__name__, "summary": cls.summary,
            "inlets": list(cls.inlets), "optional_inlets": list(cls.optional_inlets),
            "outlets": list(cls.outlets), "parameters": parameter_rows(cls.Params),
            "doc": (cls.__module__ and __import__(cls.__module__, fromlist=["_"]).__doc__ or "").strip()}
