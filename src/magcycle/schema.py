"""Declared inputs: the base of every input schema, its field types and the one error formatter.

Every input document of magcycle (cascade, flowsheet and each unit type's
parameters, assay, study, TEA assumptions) is a pydantic v2 model built
from the pieces here, in the layer that owns the document
(:mod:`magcycle.sx.schema`, :mod:`magcycle.units`, ...). The models are
the single statement of each field's type, unit, range, default and
meaning: the loaders validate with them, ``magcycle schema`` prints their
JSON Schema, and the flowsheet reference page is generated from them.

* :class:`Strict` -- the base model: unknown keys are refused, numbers
  must be numbers (``true`` or ``"3"`` is not 3), NaN and infinities are
  refused, instances are frozen.
* :func:`field` -- a field with its unit, range, default, description and
  source, all carried into the JSON Schema.
* Quantity types parse unit strings at the edge through
  :func:`magcycle.chem.quantities.parse_quantity`, the one parser.
* :func:`validate` turns any :class:`pydantic.ValidationError` into one
  :class:`~magcycle.errors.InputError` naming the dotted field path and the
  reason: the line ``magcycle: error: FIELD.PATH: REASON`` of the command
  line.

Limits users will not hit are part of the schemas: at most ``MAX_STAGES``
(1,000) stages per cascade section, text fields of at most
``MAX_TEXT`` (200) characters; file size and nesting are limited when a
document is read (:mod:`magcycle.documents`).

>>> class Leach(Strict):
...     excess: float = field(0.1, ge=0.0, le=5.0, unit="-", description="acid over the demand")
>>> validate(Leach, {"excess": 0.2}).excess
0.2
>>> validate(Leach, {"excess": 9}, prefix="units.leach")
Traceback (most recent call last):
...
magcycle.errors.InputError: units.leach.excess: must be <= 5, got 9
>>> validate(Leach, {"exces": 0.2}, prefix="units.leach")
Traceback (most recent call last):
...
magcycle.errors.InputError: units.leach.exces: unknown key; expected one of excess
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any

import annotated_types
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from magcycle.chem.elements import check_any_element, check_element
from magcycle.chem.quantities import QUANTITY_KINDS, parse_quantity
from magcycle.documents import clip, show
from magcycle.errors import InputError

__all__ = ["MAX_STAGES", "MAX_TEXT", "Strict", "field", "validate", "input_error", "error_field", "fail", "quantity",
           "VolumetricFlow", "Concentration", "Dimensionless", "Fraction", "MassFlowText", "StageCount",
           "ElementSymbol", "RareEarthSymbol", "Text", "Name", "NAME_PATTERN", "FileName", "name_text",
           "whole_number"]

#: most stages of one cascade section (extraction, scrub or strip)
MAX_STAGES = 1000
#: longest free text (names, labels) [characters]
MAX_TEXT = 200


_JSON_BOUNDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}


def _standard_bounds(schema: dict, cls=None) -> None:
    """JSON Schema names for bounds pydantic leaves in its own words (on optional fields)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for short, name in _JSON_BOUNDS.items():
                if short in node and isinstance(node[short], (int, float)) and "type" in node:
                    node[name] = node.pop(short)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


class Strict(BaseModel):
    """Base of every input model: unknown keys refused (with the keys expected), strict
    types, finite numbers only, frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True,
                              validate_default=False, json_schema_extra=_standard_bounds)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = [f.alias or name for name, f in cls.model_fields.items()]
            for key in data:
                if key not in known:
                    raise PydanticCustomError("unknown_key", "unknown key; expected one of {expected}",
                                              {"key": str(key), "expected": ", ".join(known) or "none"})
        return data


def field(default: Any = ..., *, unit: str | None = None, description: str, source: str | None = None,
          **constraints: Any):
    """A model field with its unit [written as in the docs], its range (``ge``, ``gt``, ``le``,
    ``lt``, ``min_length``, ...), its default, its meaning and the source of its value.

    ``unit`` and ``source`` are carried into the JSON Schema as ``unit`` and
    ``source``; the source is also appended to the description.
    """
    text = description if not source else f"{description} Source: {source}"
    extra = {k: v for k, v in (("unit", unit), ("source", source)) if v is not None}
    if "default_factory" in constraints:
        return Field(description=text, json_schema_extra=extra or None, **constraints)
    return Field(default, description=text, json_schema_extra=extra or None, **constraints)


# ------------------------------------------------------------ field types
class _UnitString:
    """JSON Schema of a quantity: the number (with its range) or a string with a unit."""

    def __init__(self, kind: str):
        self.kind = kind

    def __get_pydantic_json_schema__(self, core_schema, handler):
        number = handler.resolve_ref_schema(handler(core_schema))
        what, example = _EXAMPLES[self.kind]
        return {"anyOf": [dict(number), {"type": "string", "description": f"{what} with its unit, e.g. "
                                                                          f"'{example}'"}]}


_EXAMPLES = {"volumetric_flow": ("a volumetric flow", "250 L/h"), "concentration": ("a concentration", "36 g/L"),
             "dimensionless": ("a number", "35 %"), "mass_flow": ("a mass flow", "1200 t/y")}


def quantity(kind: str, **bounds: float):
    """The type of a quantity of ``kind`` (a key of ``QUANTITY_KINDS``): a number in the internal
    unit, or a unit string parsed by :func:`~magcycle.chem.quantities.parse_quantity` at the edge;
    ``bounds`` (ge, gt, le, lt) apply to the value in the internal unit."""
    def parse(value: Any) -> Any:
        try:
            return parse_quantity(value, kind, field="value")
        except InputError as exc:
            raise PydanticCustomError("quantity", exc.reason) from None

    limits = [getattr(annotated_types, k.capitalize())(v) for k, v in bounds.items()]
    return Annotated[(float, *limits, BeforeValidator(parse), _UnitString(kind))]


def whole_number(value: Any) -> Any:
    """Integers as they are; a float with no fraction as its integer; anything else refused."""
    if isinstance(value, bool):
        raise PydanticCustomError("whole_number", "expected a whole number, got {got}", {"got": show(value)})
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise PydanticCustomError("whole_number", "expected a whole number, got {got}",
                                      {"got": show(value)})
        return int(value)
    return value


def _symbol(check, what: str):
    """A before-validator of an element symbol by ``check`` (``check_any_element`` or ``check_element``)."""
    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise PydanticCustomError("element", "expected {what}, got {got}", {"what": what, "got": show(value)})
        try:
            return check(value, "value")
        except InputError as exc:
            raise PydanticCustomError("element", exc.reason) from None
    return BeforeValidator(parse)


VolumetricFlow = quantity("volumetric_flow")
#: a fraction strictly between 0 and 1 (a purity or recovery target), "99.5 %" accepted
Fraction = quantity("dimensionless", gt=0.0, lt=1.0)
Concentration = quantity("concentration")
Dimensionless = quantity("dimensionless")
#: a mass flow as written (number in kg/h or a string such as "1200 t/y"); converted where the
#: plant's hours are known
MassFlowText = Annotated[float | str, Field(json_schema_extra={"unit": "kg/h"})]
StageCount = Annotated[int, BeforeValidator(whole_number)]
ElementSymbol = Annotated[str, _symbol(check_any_element, "an element symbol")]
RareEarthSymbol = Annotated[str, _symbol(check_element, "a rare-earth symbol")]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


#: character categories a name may not hold: controls, surrogates, line and paragraph separators
#: (format characters such as the zero-width non-joiner of Persian spelling are text)
_CONTROL = frozenset({"Cc", "Cs", "Zl", "Zp"})
#: the same rule for JSON Schema readers (ECMA regex): no control character, no space at an end
NAME_PATTERN = r"^[^\s\x00-\x1f\x7f-\x9f\u2028\u2029](?:[^\x00-\x1f\x7f-\x9f\u2028\u2029]*[^\s\x00-\x1f\x7f-\x9f\u2028\u2029])?$"


def name_text(name: str) -> str:
    """A name as a user reads it in tables and files: printable, not blank, no space at either end.

    >>> name_text("NdPr oxide")
    'NdPr oxide'
    >>> name_text(" ")
    Traceback (most recent call last):
    ...
    ValueError: ' ' is blank or has a space at an end; give a name such as 'NdPr oxide'
    >>> name_text("a\\x00b")
    Traceback (most recent call last):
    ...
    ValueError: 'a\\x00b' holds a control character; a name is printable text
    """
    if not name.strip() or name != name.strip():
        raise ValueError(f"{show(name)} is blank or has a space at an end; give a name such as 'NdPr oxide'")
    if any(unicodedata.category(c) in _CONTROL for c in name):
        raise ValueError(f"{show(name)} holds a control character; a name is printable text")
    return name


#: a file named in a document (relative to that document's folder); at most PATH_MAX (4096) bytes of Linux
FileName = Annotated[str, Field(min_length=1, max_length=4096)]
#: the name of a plant, product, stream, feed part or price (printable, at most MAX_TEXT characters)
Name = Annotated[str, Field(min_length=1, max_length=MAX_TEXT, json_schema_extra={"pattern": NAME_PATTERN}),
                 AfterValidator(name_text)]

assert set(QUANTITY_KINDS) >= {"volumetric_flow", "concentration", "dimensionless", "mass_flow"}


# ------------------------------------------------------------ validation
def validate(model: type[BaseModel], data: Any, *, prefix: str = "", context: dict | None = None):
    """``model.model_validate(data)``; a failure is one :class:`InputError` (see :func:`input_error`)."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise input_error(exc, data, prefix) from None


def fail(loc: tuple, message: str, value: Any = None) -> ValidationError:
    """A ValidationError at ``loc`` (relative to the model that raises it) with ``message``:
    for checks across fields, raised from a model's validator."""
    return ValidationError.from_exception_data("magcycle", [
        {"type": PydanticCustomError("rule", message), "loc": tuple(loc), "input": value}])


def input_error(exc: ValidationError, data: Any, prefix: str = "") -> InputError:
    """The first error of ``exc`` as an InputError: the dotted path of the offending key in
    ``data`` (pydantic's union tags and type names left out) and a one-line reason."""
    return InputError(*error_field(exc.errors(include_url=False)[0], data, prefix))


def error_field(err: dict, data: Any, prefix: str = "") -> tuple[str, str]:
    """(dotted path, one-line reason) of one pydantic error ``err`` (an item of ``errors()``) on ``data``, as
    :func:`input_error` names it (used by the REST API too, so both name a field alike)."""
    parts = _path(err["loc"], data, keep_missing=err["type"] in ("missing", "rule"))
    ctx = err.get("ctx") or {}
    if err["type"] == "unknown_key":
        parts.append(ctx["key"])
    elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        parts.append(str(ctx.get("discriminator", "type")).strip("'"))
    path = prefix
    for q in parts:  # a list index attaches as [i]; a key, even one that starts with "[", after a dot
        path = path + q if isinstance(q, _Index) and path else (f"{path}.{clip(q)}" if path else clip(q))
    return path or "document", _reason(err)


class _Index(str):
    """A list index in a field path, written ``[i]`` right after its list's name."""


def _path(loc: tuple, data: Any, keep_missing: bool = True) -> list[str]:
    """Walk ``data`` along ``loc``: keys and indexes present in the data are kept, a last key
    missing from a table is kept when the error is about a missing field (``keep_missing``),
    anything else (a union member's tag or type name) is dropped."""
    node, out = data, []
    for i, seg in enumerate(loc):
        if seg == "[key]":  # pydantic's mark of an error in a key: the key is already in the path
            continue
        if isinstance(node, Mapping) and seg in node:
            out.append(str(seg))
            node = node[seg]
        elif isinstance(node, (list, tuple)) and isinstance(seg, int) and 0 <= seg < len(node):
            out.append(_Index(f"[{seg}]"))
            node = node[seg]
        elif keep_missing and i == len(loc) - 1 and isinstance(node, Mapping) and isinstance(seg, str):
            out.append(seg)
    return out


def _bound(err: dict) -> str:
    ctx = err.get("ctx") or {}
    for key, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
        if key in ctx:
            v = ctx[key]
            return f"must be {sign} {v:g}" if isinstance(v, float) else f"must be {sign} {v}"
    return "out of range"


def _length(err: dict) -> str:
    ctx, value, t = err.get("ctx") or {}, err.get("input"), err["type"]
    size = ctx.get("min_length", ctx.get("max_length"))
    what = "at least" if t.endswith("too_short") else "at most"
    text = isinstance(value, str)
    unit = ("character" if text else "entry") if size == 1 else ("characters" if text else "entries")
    return f"must have {what} {size} {unit}" + ("" if text and len(value) > 40 else f", got {show(value)}")


def _tag(err: dict) -> str:
    ctx = err.get("ctx") or {}
    if err["type"] == "union_tag_not_found":
        return "missing (required)"
    what = str(ctx.get("discriminator", "type")).strip("'")
    known = str(ctx.get("expected_tags", "")).replace("'", "")
    return f"unknown {_TAG_NAMES.get(what, what)} {show(ctx.get('tag'))}; known: {known}"


def _literal(err: dict) -> str:
    expected = str((err.get("ctx") or {}).get("expected", "")).replace("'", "")
    if expected in ("True", "False"):  # a literal boolean: as TOML and JSON write it
        return f"must be {expected.lower()}, got {show(err.get('input'))}"
    return f"expected one of {expected}, got {show(err.get('input'))}"


def _message(err: dict) -> str:
    """A custom error's own message (pydantic's "Value error, " prefix dropped) on one line; pydantic's
    "Input should be ..." as "must be ...". The case is kept (a message may start with an element)."""
    msg = " ".join(str(err.get("msg", err["type"])).removeprefix("Value error, ").split())
    for said in ("Input should ", "String should ", "List should ", "Dictionary should "):
        if msg.startswith(said):
            msg = "must " + msg[len(said):]
            break
    return msg


_KINDS = {"float_type": "expected a number", "int_type": "expected a whole number",
          "int_from_float": "expected a whole number", "string_type": "expected a string",
          "bool_type": "expected true or false", "dict_type": "expected a table",
          "model_type": "expected a table", "model_attributes_type": "expected a table",
          "list_type": "expected a list", "finite_number": "must be a finite number",
          "int_parsing_size": "a whole number too large", "float_parsing": "expected a number",
          "int_parsing": "expected a whole number", "mapping_type": "expected a table"}

#: what the tag of a tagged union names, in messages (the unit tables of a flowsheet)
_TAG_NAMES = {"type": "unit type"}

_REASONS = {"missing": lambda err: "missing (required)", "literal_error": _literal,
            **dict.fromkeys(("too_short", "too_long", "string_too_short", "string_too_long"), _length), "union_tag_invalid": _tag, "union_tag_not_found": _tag,
            **{t: _bound for t in ("greater_than", "greater_than_equal", "less_than", "less_than_equal")},
            **{t: (lambda err, text=text: f"{text}, got {show(err.get('input'))}") for t, text in _KINDS.items()}}


def _reason(err: dict) -> str:
    """One line saying what is wrong with the value of one pydantic error."""
    reason = _REASONS.get(err["type"], _message)(err)
    return reason + (f", got {show(err.get('input'))}" if err["type"].startswith(("greater", "less")) else "")
