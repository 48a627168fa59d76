"""``magcycle schema [NAME]`` and ``magcycle units list|show|reference``: the declared inputs, for people and programs."""

from __future__ import annotations

from magcycle.cli.common import dumps, guard, table

__all__ = ["cmd_schema", "cmd_units_list", "cmd_units_show", "cmd_units_reference"]


def cmd_schema(args) -> str:
    from magcycle.report.reference import json_schema, schema_names

    if args.name is None:
        rows = [[name, what] for name, what in schema_names().items()]
        return ("JSON Schemas of magcycle's input documents: magcycle schema NAME\n"
                + table(["name", "document"], rows, right_from=2) + "\n")
    return dumps(guard(lambda: json_schema(args.name)))


def cmd_units_list(args) -> str:
    from magcycle.units import UNIT_TYPES, describe

    rows = []
    for t in UNIT_TYPES:
        d = describe(t)
        inlets = d["inlets"] + [f"({p})" for p in d["optional_inlets"]]
        rows.append([t, ", ".join(inlets) or "-", ", ".join(d["outlets"]), d["summary"]])
    return ("unit types of a flowsheet ([units.NAME] type = ...); magcycle units show TYPE for the parameters\n"
            + table(["type", "inlets", "outlets", "what it does"], rows, right_from=4) + "\n")


def _unit_type(name: str) -> str:
    from magcycle.errors import InputError
    from magcycle.units import UNIT_TYPES

    if name not in UNIT_TYPES:
        raise InputError("TYPE", f"unknown unit type {name[:60]!r}; known: {', '.join(UNIT_TYPES)}")
    return name


def cmd_units_show(args) -> str:
    from magcycle.units import describe

    d = describe(guard(lambda: _unit_type(args.type)))
    if args.json:
        return dumps({k: v for k, v in d.items() if k != "doc"})
    ports = (f"inlets: {', '.join(d['inlets']) or '-'}"
             + (f"; optional: {', '.join(d['optional_inlets'])}" if d["optional_inlets"] else "")
             + f"; outlets: {', '.join(d['outlets'])}")
    rows = [[r["name"], r["kind"], r["unit"], r["range"], "required" if r["required"] else str(r["default"]),
             r["description"]] for r in d["parameters"]]
    body = table(["parameter", "kind", "unit", "range", "default", "meaning"], rows, right_from=6) if rows \
        else "no parameters"
    return f"{d['type']}: {d['summary']}\n{ports}\n{body}\n\n{d['doc']}\n"


def cmd_units_reference(args) -> str:
    from magcycle.report.reference import flowsheet_reference

    return flowsheet_reference()
