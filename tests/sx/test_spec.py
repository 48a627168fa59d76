"""Loading and validating cascade files: units, formats, one-line errors."""

import json

import numpy as np
import pytest

from magcycle.chem import MOLAR_MASS
from magcycle.errors import InputError
from magcycle.sx import CascadeSpec, load_cascade, solve

BASE_TOML = """
[cascade]
model = "constant_d"
extraction_stages = 20
scrub_stages = 20
strip_stages = 0

[flows]
organic = 1.0
feed = 1.0
scrub = 2.0

[feed]
Pr = 0.25
Nd = 0.75

[model]
D = { Pr = 1.2, Nd = 1.8 }
"""


def base_doc():
    return {
        "cascade": {"model": "constant_d", "extraction_stages": 20, "scrub_stages": 20},
        "flows": {"organic": 1.0, "feed": 1.0, "scrub": 2.0},
        "feed": {"Pr": 0.25, "Nd": 0.75},
        "model": {"D": {"Pr": 1.2, "Nd": 1.8}},
    }


def test_toml_and_json_files_give_the_same_spec(tmp_path):
    t = tmp_path / "c.toml"
    t.write_text(BASE_TOML)
    j = tmp_path / "c.json"
    j.write_text(json.dumps(base_doc()))
    a, b = load_cascade(t), load_cascade(j)
    assert a == b
    assert a != CascadeSpec.from_dict(mutate(["flows", "organic"], 2.0))
    assert a.components == ("Pr", "Nd")


def test_unit_strings_are_converted_at_the_edge():
    doc = base_doc()
    doc["flows"] = {"organic": "1 L/h", "feed": "16.666666666666668 mL/min", "scrub": "0.002 m3/h"}
    # 36 g/L of Nd with M(Nd) = 144.242 g/mol (IUPAC) -> 36 / 144.242 mol/L
    doc["feed"] = {"Pr": "0.25 mol/L", "Nd": "36 g/L"}
    spec = CascadeSpec.from_dict(doc)
    assert spec.feed_flow == pytest.approx(1.0, rel=1e-12)
    assert spec.scrub == pytest.approx(2.0, rel=1e-12)
    assert spec.feed[1] == pytest.approx(36 / 144.242, rel=1e-12)
    assert MOLAR_MASS["Nd"] == 144.242


def test_the_callers_document_is_not_modified():
    doc = base_doc()
    snapshot = json.dumps(doc, sort_keys=True)
    spec = CascadeSpec.from_dict(doc)
    spec.replace({"flows": {"organic": 3.0}})
    assert json.dumps(doc, sort_keys=True) == snapshot


def test_spec_arrays_are_read_only():
    spec = CascadeSpec.from_dict(base_doc())
    with pytest.raises(ValueError):
        spec.feed[0] = 9.0


def mutate(path, value):
    doc = base_doc()
    node = doc
    *parents, last = path
    for key in parents:
        node = node.setdefault(key, {})
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return doc


DELETE = object()
BETA = {"cascade": {"model": "constant_beta", "extraction_stages": 5, "scrub_stages": 5},
        "flows": {"organic": 3.3, "feed": 1.0, "scrub": 2.5},
        "feed": {"Nd": 0.75, "Pr": 0.25},
        "model": {"beta": {"Nd": 1.5, "Pr": 1.0}, "organic_loading": 1.0, "scrub_acid": 3.0}}


@pytest.mark.parametrize("doc, field", [
    (mutate(["flows", "organic"], 0.0), "flows.organic"),
    (mutate(["flows", "feed"], -1.0), "flows.feed"),
    (mutate(["flows", "scrub"], 0.0), "flows.scrub"),  # scrub stages need a scrub
    (mutate(["feed", "Xx"], 0.1), "feed.Xx"),
    (mutate(["feed", "Fe"], 0.1), "model.D.Fe"),  # constant_d takes other metals: Fe then needs its D
    (mutate(["feed", "Nd"], 0.0), "feed.Nd"),
    (mutate(["cascade", "extraction_stages"], 0), "cascade.extraction_stages"),
    (mutate(["cascade", "extraction_stages"], 2.5), "cascade.extraction_stages"),
    (mutate(["cascade", "scrub_stages"], -1), "cascade.scrub_stages"),
    (mutate(["cascade", "strip_stages"], 3), "flows.strip"),
    (mutate(["cascade", "model"], "magic"), "cascade.model"),
    (mutate(["cascade", "extration_stages"], 3), "cascade.extration_stages"),
    (mutate(["model", "D", "Nd"], -1.0), "model.D.Nd"),
    (mutate(["model", "D", "Nd"], "1.x"), "model.D.Nd"),
    (mutate(["model", "D", "Sm"], 1.0), "model.D.Sm"),
    (mutate(["model", "D"], {"Pr": 1.2}), "model.D.Nd"),
    (mutate(["flows", "organic"], "3 furlongs"), "flows.organic"),
    (mutate(["flows", "organic"], "2 mol/L"), "flows.organic"),
    (mutate(["model"], DELETE), "model"),
    ({**base_doc(), "cascade": {**base_doc()["cascade"], "strip_stages": 2},
      "flows": {**base_doc()["flows"], "strip": 1.0}}, "model.D_strip"),
    ({**BETA, "model": {**BETA["model"], "beta": {"Nd": 0.0, "Pr": 1.0}}}, "model.beta.Nd"),
    ({**BETA, "flows": {**BETA["flows"], "organic": 2.0}}, "flows.organic"),  # S <= W
    ({**BETA, "flows": {**BETA["flows"], "organic": 3.6}}, "flows.organic"),  # R <= 0
    ({**BETA, "cascade": {**BETA["cascade"], "strip_stages": 2}}, "flows.strip"),
])
def test_bad_input_names_the_field(doc, field):
    with pytest.raises(InputError) as err:
        CascadeSpec.from_dict(doc)
    assert err.value.field == field
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("sap", [1.0, 1.2, -0.1])
def test_saponification_outside_unit_interval(sap):
    doc = {"cascade": {"model": "mass_action", "extraction_stages": 3},
           "flows": {"organic": 1.0, "feed": 1.0},
           "feed": {"Nd": 0.1},
           "model": {"log10_K": {"Nd": -1.0}, "extractant": 1.5, "saponification": sap}}
    with pytest.raises(InputError) as err:
        CascadeSpec.from_dict(doc)
    assert err.value.field == "model.saponification"


@pytest.mark.parametrize("text, suffix", [("[cascade\nmodel=", ".toml"), ("{not json", ".json"),
                                          ("just words", ".txt")])
def test_files_that_are_not_toml_or_json(tmp_path, text, suffix):
    p = tmp_path / f"bad{suffix}"
    p.write_text(text)
    with pytest.raises(InputError) as err:
        load_cascade(p)
    assert err.value.field == "file"


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as err:
        load_cascade(tmp_path / "nope.toml")
    assert err.value.field == "file"


def test_round_trip_through_to_dict():
    spec = CascadeSpec.from_dict(base_doc())
    again = CascadeSpec.from_dict(spec.to_dict())
    assert again.to_dict() == spec.to_dict()
    np.testing.assert_array_equal(solve(again).fraction_to_extract, solve(spec).fraction_to_extract)
