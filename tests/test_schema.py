"""The shared schema pieces: strict types, field paths of errors, one-line reasons."""

from typing import Annotated, Literal

import pytest
from pydantic import Field

from magcycle.errors import InputError
from magcycle.schema import (MAX_STAGES, Concentration, ElementSymbol, StageCount, Strict, VolumetricFlow, field,
                             validate)


class Section(Strict):
    flow: VolumetricFlow = field(1.0, unit="L/h", gt=0.0, description="a flow")
    stages: StageCount = field(1, ge=1, le=MAX_STAGES, description="stages")
    kind: Literal["a", "b"] = field("a", description="a choice")


class Leaf(Strict):
    type: Literal["leaf"]
    x: float = field(0.0, ge=0.0, le=1.0, description="x")


class Other(Strict):
    type: Literal["other"]
    y: float = field(0.0, description="y")


class Doc(Strict):
    section: Section = Section()
    items: dict[str, Annotated[Leaf | Other, Field(discriminator="type")]] = {}
    conc: dict[ElementSymbol, Concentration] = {}
    names: list[str] = []


def _err(data, prefix=""):
    with pytest.raises(InputError) as e:
        validate(Doc, data, prefix=prefix)
    assert "\n" not in str(e.value)
    return e.value


@pytest.mark.parametrize("data, path", [
    ({"section": {"flow": -1}}, "section.flow"),
    ({"section": {"flow": "3 furlongs"}}, "section.flow"),
    ({"section": {"flow": True}}, "section.flow"),
    ({"section": {"stages": 2.5}}, "section.stages"),
    ({"section": {"stages": 1e308}}, "section.stages"),
    ({"section": {"stages": MAX_STAGES + 1}}, "section.stages"),
    ({"section": {"kind": "c"}}, "section.kind"),
    ({"section": {"colour": 1}}, "section.colour"),
    ({"section": [1]}, "section"),
    ({"items": {"u": {"type": "leaf", "x": 2}}}, "items.u.x"),        # the union's tag is not in the path
    ({"items": {"u": {"type": "nope"}}}, "items.u.type"),
    ({"items": {"u": {}}}, "items.u.type"),
    ({"items": {"u": {"type": "other", "y": "1"}}}, "items.u.y"),
    ({"conc": {"Xx": 1.0}}, "conc.Xx"),
    ({"conc": {"Nd": "1 L/h"}}, "conc.Nd"),
    ({"names": ["a", 3]}, "names[1]"),
    ({"section": {"flow": float("nan")}}, "section.flow"),
])
def test_errors_name_the_path_in_the_document(data, path):
    assert _err(data).field == path


def test_prefix_and_missing_keys():
    e = _err({"items": {"u": {"type": "leaf", "x": -1}}}, prefix="units")
    assert e.field == "units.items.u.x" and e.reason == "must be >= 0, got -1"
    with pytest.raises(InputError) as err:
        validate(Leaf, {})
    assert err.value.field == "type" and "missing" in err.value.reason


def test_unit_strings_are_parsed_and_booleans_are_not_numbers():
    s = validate(Section, {"flow": "2 m3/h", "stages": 3.0})
    assert s.flow == 2000.0 and s.stages == 3 and isinstance(s.stages, int)
    e = _err({"section": {"stages": True}})
    assert "whole number" in e.reason


def test_a_long_value_is_not_echoed():
    e = _err({"section": {"kind": "x" * 100_000}})
    assert len(str(e)) < 200


def test_json_schema_carries_units_ranges_and_descriptions():
    schema = Section.model_json_schema()
    flow = schema["properties"]["flow"]
    assert flow["unit"] == "L/h" and flow["default"] == 1.0
    number, text = flow["anyOf"]
    assert number == {"type": "number", "exclusiveMinimum": 0.0} and text["type"] == "string"
    assert flow["description"] == "a flow"
    assert schema["properties"]["stages"]["maximum"] == MAX_STAGES
