"""`magcycle schema`, `magcycle units`, the flowsheet reference page: generated from the declared models.

The JSON Schemas are checked by an independent validator (jsonschema, not pydantic): every
document magcycle ships validates, and documents with known defects do not.
"""

import copy
import json
import tomllib
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from magcycle import cli
from magcycle.report.reference import flowsheet_reference, json_schema, schema_names
from magcycle.units import UNIT_TYPES

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *args):
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def _toml(path) -> dict:
    return tomllib.loads(Path(path).read_text())


def test_the_checked_in_flowsheet_reference_is_what_the_models_generate():
    page = (ROOT / "docs" / "flowsheet-reference.md").read_text(encoding="utf-8")
    assert page == flowsheet_reference(), "regenerate: magcycle units reference > docs/flowsheet-reference.md"


def test_the_reference_page_documents_every_unit_type_and_parameter():
    page = flowsheet_reference()
    for t, cls in UNIT_TYPES.items():
        assert f"## `{t}`" in page
        for name in cls.Params.model_fields:
            assert f"| `{name}` |" in page, (t, name)


def test_schema_lists_every_document_and_unit_type(capsys):
    status, out, _ = run(capsys, "schema")
    assert status == 0
    for name in ("cascade", "flowsheet", "assay", "study", "assumptions") + tuple(f"unit:{t}" for t in UNIT_TYPES):
        assert name in out and name in schema_names()


@pytest.mark.parametrize("name", sorted(schema_names()))
def test_every_schema_is_a_valid_json_schema(capsys, name):
    status, out, _ = run(capsys, "schema", name)
    assert status == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)


def _plants():
    return sorted((files("magcycle") / "plants").iterdir(), key=lambda p: p.name)


def _examples():
    return sorted(p for p in (files("magcycle") / "examples").iterdir() if p.name.endswith(".toml"))


@pytest.mark.parametrize("plant", [p.name for p in _plants()])
def test_the_flowsheet_schema_accepts_the_built_in_plants(plant):
    doc = _toml(files("magcycle") / "plants" / plant)
    jsonschema.validate(doc, json_schema("flowsheet"))
    for name, unit in doc["units"].items():
        jsonschema.validate(unit, json_schema(f"unit:{unit['type']}"))


@pytest.mark.parametrize("example", [p.name for p in _examples()])
def test_the_cascade_schema_accepts_the_bundled_examples(example):
    jsonschema.validate(_toml(files("magcycle") / "examples" / example), json_schema("cascade"))


def test_the_assumptions_schema_accepts_the_defaults():
    jsonschema.validate(_toml(files("magcycle") / "data" / "econ_defaults.toml"), json_schema("assumptions"))


@pytest.mark.parametrize("mutate", [
    lambda d: d["units"]["leach"].update(excess=-1),                  # below the range
    lambda d: d["units"]["leach"].update(colour="red"),               # an unknown parameter
    lambda d: d["units"]["leach"].update(type="blender"),             # an unknown unit type
    lambda d: d["plant"].update(hours_per_year=9000),                 # more hours than a year has
    lambda d: d["units"]["sx_ndpr"].update(extract_purity=True),      # a boolean is not a number
    lambda d: d["products"]["Dy2O3"].update(elements=[]),             # a product of nothing
])
def test_the_json_schema_and_the_loader_refuse_the_same_defects(mutate):
    from magcycle.errors import InputError
    from magcycle.flowsheet import parse_flowsheet

    doc = copy.deepcopy(_toml(files("magcycle") / "plants" / "reference.toml"))
    mutate(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_schema("flowsheet"))
    with pytest.raises(InputError):
        parse_flowsheet(doc)


def test_units_list_and_show(capsys):
    status, out, _ = run(capsys, "units", "list")
    assert status == 0 and all(t in out for t in UNIT_TYPES)
    status, out, _ = run(capsys, "units", "show", "sx_cascade")
    assert status == 0
    for name in UNIT_TYPES["sx_cascade"].Params.model_fields:
        assert name in out
    assert "inlets: feed" in out and "outlets: raffinate, extract" in out
    status, out, _ = run(capsys, "units", "show", "leach", "--json")
    doc = json.loads(out)
    excess = next(p for p in doc["parameters"] if p["name"] == "excess")
    # the leach's excess: 0 to 5, default 0.1 (units/leach.py LeachParams)
    assert (excess["range"], excess["default"], excess["unit"]) == ("[0, 5]", 0.1, "-")


@pytest.mark.parametrize("args, field", [(("schema", "nope"), "NAME"), (("units", "show", "grinder"), "TYPE"),
                                         (("schema", "unit:grinder"), "NAME")])
def test_unknown_names_are_one_line(capsys, args, field):
    status, out, err = run(capsys, *args)
    assert status == 2 and out == "" and err.startswith(f"magcycle: error: {field}: ") and err.count("\n") == 1
