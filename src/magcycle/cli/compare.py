"""``magcycle compare``: two or more feeds, plants or saved results side by side.

Each input is a saved results file (a ``results.json`` of ``magcycle run``),
a plant (a flowsheet file or a built-in plant name, run on its own feed or
``--feed``), or a feed (a class, a blend or an assay file, run on
``--plant``, the reference plant by default). Every run is run to its
products' specs at ``--rate`` and priced at ``--scenario``; a saved result
brings no TEA. Everything is checked before the first plant runs.
"""

from __future__ import annotations

from pathlib import Path

from magcycle.cli.common import check_out, dumps, guard, publish, table
from magcycle.errors import InputError

__all__ = ["COMPARE_FILES", "cmd_compare"]

COMPARE_FILES = ("compare.json", "compare.html")


def _saved(text: str) -> dict | None:
    """The results document at ``text`` when it is a saved results.json (else None)."""
    import json

    p = Path(text)
    if p.suffix.lower() != ".json" or not p.is_file():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and "products" in doc and "streams" in doc else None


def _input(text: str, args):
    """(label, what, saved doc or None, plant spec, feed) of one input, all checked."""
    from magcycle.flowsheet.simulation import load_plant, plant_feed
    from magcycle.flowsheet.spec import builtin_plants

    saved = _saved(text)
    if saved is not None:
        return text, f"saved results of plant {saved.get('plant')!r}", saved, None, None
    if Path(text).is_dir():
        raise InputError("inputs", f"{text!r} is a directory, not a results file, plant or feed")
    if text in builtin_plants() or text.endswith((".json",)) or (text.endswith(".toml") and _is_plant(text)):
        spec = load_plant(text)
        return text, f"plant {spec.name!r} on {args.feed or 'its own feed'}", None, spec, \
            plant_feed(spec, args.feed, args.rate)
    spec = load_plant(args.plant)
    return text, f"feed on plant {spec.name!r}", None, spec, plant_feed(spec, text, args.rate)


def _is_plant(path: str) -> bool:
    """Whether a .toml file is a flowsheet (it has [units]) rather than an assay."""
    import tomllib

    try:
        return "units" in tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def _two_or_more(inputs: list) -> None:
    if len(inputs) < 2:
        raise InputError("inputs", f"compare needs two or more inputs (feeds, plants or results files), got "
                                   f"{len(inputs)}")


def _run(spec, feed, scenario: str):
    from magcycle.econ.tea import techno_economics
    from magcycle.flowsheet.targets import run_to_spec

    result = run_to_spec(spec, feed)
    return result.to_dict(), techno_economics(result, None, scenario, extras=False).to_dict()


def cmd_compare(args):
    from magcycle.report.compare import comparison_rows, render_compare_report

    guard(lambda: _two_or_more(args.inputs))
    check_out(args.out, COMPARE_FILES)
    from magcycle.cli.uq import Progress

    inputs = [guard(lambda t=t: _input(t, args)) for t in args.inputs]
    docs, teas = [], []
    progress = Progress("compare", unit="inputs")  # drawn only when stderr is a terminal
    for label, _what, saved, spec, feed in inputs:
        doc, tea = (saved, None) if saved is not None else guard(lambda s=spec, f=feed: _run(s, f, args.scenario))
        docs.append(doc)
        teas.append(tea)
        progress(len(docs), len(inputs))
    rows = comparison_rows(docs, teas)
    doc = {"kind": "compare", "scenario": args.scenario,
           "inputs": [{"label": label, "what": what} for label, what, *_ in inputs], "rows": rows}
    text = dumps(doc)
    publish(args.out, {"compare.json": text, "compare.html": render_compare_report(doc)})
    if args.json:
        return text
    labels = [i[0] for i in inputs]
    body = [[r["row"]] + ["" if v is None else f"{v:.6g}" for v in r["values"]]
            + ["" if r["spread"] is None else f"{r['spread']:.3g}"] for r in rows]
    return (table(["figure"] + labels + ["spread"], body, right_from=1)
            + f"\nwrote {', '.join(COMPARE_FILES)} in {args.out}\n")
