"""Reference documentation generated from the declared input models: JSON Schemas and the flowsheet page.

* :func:`schema_names` and :func:`json_schema` -- the JSON Schema of each
  input document (``magcycle schema [NAME]``): ``cascade``, ``flowsheet``,
  ``unit:TYPE`` for each unit type, ``assay``, ``study``, ``assumptions``.
* :func:`flowsheet_reference` -- ``docs/flowsheet-reference.md``: the
  flowsheet format, every unit type with its ports and parameters (kind,
  unit, range, default, meaning and source). A test compares the page in
  the repository with what this function makes, so the two cannot drift;
  ``magcycle units reference > docs/flowsheet-reference.md`` writes it anew.
"""

from __future__ import annotations

import json

from magcycle.errors import InputError

__all__ = ["schema_names", "json_schema", "flowsheet_reference", "unit_text"]

_DOCUMENTS = {
    "cascade": ("magcycle.sx.schema", "CascadeDocument", "a cascade file (magcycle sx solve, sx design)"),
    "flowsheet": ("magcycle.flowsheet.schema", "FlowsheetDocument", "a plant flowsheet (magcycle run PLANT.toml)"),
    "assay": ("magcycle.feed.schema", "AssayDocument", "a feed assay (--feed lot.toml)"),
    "study": ("magcycle.analysis.schema", "StudyDocument", "a study (magcycle uq / design STUDY.toml)"),
    "assumptions": ("magcycle.econ.schema", "AssumptionsDocument", "TEA assumptions (magcycle tea --assumptions)"),
    "receipt": ("magcycle.trace.documents", "Receipt", "a feed-lot receipt (magcycle trace receive)"),
    "campaign": ("magcycle.trace.documents", "CampaignFile", "a campaign (magcycle trace campaign)"),
    "plan": ("magcycle.plan.campaigns", "PlanFile", "a campaign plan (magcycle plan campaigns)"),
    "stn": ("magcycle.plan.stn", "StnFile", "a state-task network (magcycle plan stn)"),
    "sequence": ("magcycle.plan.sequence", "SequenceFile", "a sequencing file (magcycle plan sequence)"),
}


def schema_names() -> dict[str, str]:
    """Every schema name with what it describes."""
    from magcycle.units import UNIT_TYPES

    names = {name: what for name, (_, _, what) in _DOCUMENTS.items()}
    names |= {f"unit:{t}": f"the parameters of a {t} unit ([units.NAME] with type = \"{t}\")" for t in UNIT_TYPES}
    return names


def _model(name: str):
    import importlib

    from magcycle.units import UNIT_TYPES, unit_table

    if name in _DOCUMENTS:
        module, cls, _ = _DOCUMENTS[name]
        return getattr(importlib.import_module(module), cls)
    if name.startswith("unit:") and name[5:] in UNIT_TYPES:
        return unit_table(name[5:])
    raise InputError("NAME", f"unknown schema {name[:60]!r}; one of {', '.join(schema_names())}")


def json_schema(name: str) -> dict:
    """The JSON Schema (draft 2020-12, as pydantic writes it) of the document ``name``."""
    schema = _model(name).model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"magcycle:{name}"} | schema


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value) if value else ""
    return str(value).replace("|", "\\|")


def _parameter_table(rows: list[dict]) -> list[str]:
    if not rows:
        return ["No parameters."]
    out = ["| parameter | kind | unit | range | default | meaning |", "|---|---|---|---|---|---|"]
    for r in rows:
        default = "required" if r["required"] else _cell(r["default"])
        out.append(f"| `{r['name']}` | {r['kind']} | {_cell(r['unit'])} | {_cell(r['range'])} | {default} | "
                   f"{_cell(r['description'])} |")
    return out


def unit_text(type_name: str) -> list[str]:
    """The section of one unit type: summary, ports and parameter table (markdown lines)."""
    from magcycle.units import describe

    d = describe(type_name)
    ports = [f"- inlets: {', '.join(f'`{p}`' for p in d['inlets']) or 'none'}"]
    if d["optional_inlets"]:
        ports.append(f"- optional inlets: {', '.join(f'`{p}`' for p in d['optional_inlets'])}")
    ports.append(f"- outlets: {', '.join(f'`{p}`' for p in d['outlets'])}")
    return [f"## `{type_name}`", "", d["summary"][:1].upper() + d["summary"][1:] + ".", "", *ports, "",
            *_parameter_table(d["parameters"]), ""]


_INTRO = """# Flowsheet reference

Generated from magcycle's declared input models by `magcycle units reference`; do not edit by hand
(a test fails when this page and the models differ). The JSON Schema of the whole document is
`magcycle schema flowsheet`; of one unit type, `magcycle schema unit:TYPE`.

A flowsheet is a TOML (or JSON) file:

```toml
[plant]
name = "reference"
hours_per_year = 8000         # operating hours per year

[feed]                        # the default feed; `magcycle run --feed` replaces it
blend = { ev = 0.35, wind = 0.25, swarf = 0.25, hdd = 0.10, ebike = 0.05 }
rate = "1200 t/y"             # a number in kg/h or a mass flow with its unit

[units.leach]                 # a unit: its name, its type and any of the type's parameters
type = "leach"
excess = 0.1

[streams]                     # name = "FROM -> TO"
"magnet feed" = "feed -> pretreat.feed"
"crushed magnet" = "pretreat.product -> leach.solids"
"NdPr oxide" = "calc_ndpr.oxide -> product"

[products."NdPr oxide"]
stream = "NdPr oxide"         # a stream ending in `product`
elements = ["Nd", "Pr"]       # the rare earths the product is sold for
spec = "ndpr_oxide_995"       # its specification
```

Rules:

- FROM is `feed` or `UNIT.OUTLET`; TO is `UNIT.INLET` or a sink: `product`, `byproduct`, `waste`, `offgas`.
- Every outlet of every unit is connected exactly once; every inlet (not the optional ones) is fed exactly
  once; the plant feed enters exactly once; a unit does not feed itself directly.
- Unit names are not `feed` nor a sink, and hold no `.`.
- Numbers may be written with units where a quantity is expected (`"250 L/h"`, `"36 g/L"`, `"35 %"`);
  ranges below are in the unit shown.
- Specifications: {specs}.

## Sections

{sections}

# Unit types

{types}
"""


def _section_rows(model) -> list[str]:
    from magcycle.units.catalogue import parameter_rows

    return _parameter_table(parameter_rows(model))


def flowsheet_reference() -> str:
    """The flowsheet reference page (markdown), from the declared models."""
    from magcycle.flowsheet.products import product_specs
    from magcycle.flowsheet.schema import FeedSection, PlantSection, ProductTable
    from magcycle.units import UNIT_TYPES

    sections = []
    for title, model in (("`[plant]`", PlantSection), ("`[feed]`", FeedSection),
                         ("`[products.NAME]`", ProductTable)):
        sections += [f"### {title}", "", (model.__doc__ or "").strip().replace("``", "`"), "",
                     *_section_rows(model), ""]
    types = ["- " + ", ".join(f"`{t}`" for t in UNIT_TYPES), ""]
    for t in UNIT_TYPES:
        types += unit_text(t)
    specs = ", ".join(f"`{k}` ({v['name']})" for k, v in product_specs().items())
    text = _INTRO.replace("{specs}", specs).replace("{sections}", "\n".join(sections).rstrip())
    return text.replace("{types}", "\n".join(types).rstrip()) + "\n"
