"""``magcycle sx solve|design|examples``: one cascade file, its design for its targets, the bundled examples."""

from __future__ import annotations

import time

from magcycle.cli.common import EXIT_INPUT, EXIT_SOLVE, PROG, Failure, check_out, dumps, guard, publish, say, table

__all__ = ["PROGRESS_AFTER_S", "MAX_DESIGN_STAGES", "FIT_FILES", "cmd_sx_solve", "cmd_sx_design", "cmd_sx_examples",
           "cmd_sx_fit"]

#: ``sx examples`` reports progress on stderr once it has been running this long [s]
PROGRESS_AFTER_S = 2.0
#: largest --max-stages (extraction + scrub) of ``sx design``: twice the schema's stages per section
MAX_DESIGN_STAGES = 2000


def _outlet_product(result, outlet: str):
    """The product an outlet delivers: (components, purity, recovery).

    The components are those the outlet takes most of (more than half of
    their feed flow); when there is none, the outlet's largest component.
    Purity is their combined mole fraction among the outlet's rare earths,
    recovery their combined share of the feed flow that reaches the outlet.
    For a binary split this is the outlet's main component.
    """
    flows = result.outlets[outlet].mol_per_h
    feed = result.spec.feed_mol_per_h
    frac = result.fractions(outlet)
    picked = [i for i in range(len(feed)) if frac[i] > 0.5]
    if not picked:
        picked = [max(range(len(feed)), key=lambda i: flows[i])]
    total = float(sum(flows))
    got = float(sum(flows[i] for i in picked))
    purity = got / total if total > 0 else float("nan")
    recovery = got / float(sum(feed[i] for i in picked))
    return "+".join(result.components[i] for i in picked), purity, recovery


def _solve_table(result) -> str:
    outlets = list(result.outlets)
    header = ["component"] + [f"to {o}" for o in outlets] + [f"purity in {o}" for o in outlets]
    fr = {o: result.fractions(o) for o in outlets}
    pu = {o: result.purity_of(o) for o in outlets}
    rows = [[c] + [f"{float(fr[o][i]):.8g}" for o in outlets] + [f"{float(pu[o][i]):.8g}" for o in outlets]
            for i, c in enumerate(result.components)]
    spec = result.spec
    head = [f"cascade: {spec.source or '-'}",
            f"model: {result.model}   stages: {spec.extraction_stages} extraction / "
            f"{spec.scrub_stages} scrub / {spec.strip_stages} strip",
            f"iterations: {result.iterations}   closure: {result.closure:.3g}", "",
            "fraction of each component's inflow to each outlet, and its mole fraction among the metals "
            "of that outlet:"]
    return "\n".join(head) + "\n" + table(header, rows) + "\n"


def cmd_sx_solve(args) -> str:
    from magcycle.sx import load_cascade, solve

    spec = guard(lambda: load_cascade(args.file))
    result = guard(lambda: solve(spec))
    return dumps(result.to_dict()) if args.json else _solve_table(result)


def _fmt(x, spec=".4g") -> str:
    return "-" if x is None else format(x, spec)


def _estimates_lines(e: dict) -> list[str]:
    lines = []
    if e.get("key_pair"):
        lines.append(f"short-cut estimates, key pair {'/'.join(e['key_pair'])} (beta {e['beta']:.4g}): "
                     f"Fenske N_min {_fmt(e['fenske_min_stages'], '.2f')}; Underwood S_min {_fmt(e['S_min'])}, "
                     f"W_min {_fmt(e['W_min'])} (design S {_fmt(e['S'])}, W {_fmt(e['W'])}); Xu n "
                     f"{_fmt(e['xu_extraction_stages'], '.1f')}, m {_fmt(e['xu_scrub_stages'], '.1f')}")
    return lines + [f"note: {note}" for note in e.get("notes", [])]


def _design_text(doc: dict, optimise: bool) -> str:
    lines = [f"cascade: {doc.get('source') or '-'}   model: {doc.get('model', '-')}"]
    if not doc["feasible"]:
        return "\n".join(lines + [f"INFEASIBLE: {doc['reason']}"]) + "\n"
    f = doc["flows"]
    lines.append(f"design: {doc['extraction_stages']} extraction + {doc['scrub_stages']} scrub"
                 f" (+ {doc['strip_stages']} strip) = {doc['total_stages']} stages; flows L/h: organic "
                 f"{f['organic']:.6g}, feed {f['feed']:.6g}, scrub {f['scrub']:.6g}, strip {f['strip']:.6g}")
    if optimise:
        lines.append(f"cost {doc['cost']:.6g} = {doc['cost_formula']}, weights {doc['cost_weights']}")
    lines.append("verified by the exact solve (cold start):")
    rows = [[t["outlet"], t["component"], t["kind"], f"{t['minimum']:.6g}", f"{t['achieved']:.8g}"]
            for t in doc["targets"]]
    lines.append(table(["outlet", "component", "target", "minimum", "achieved"], rows, right_from=3))
    lines += _estimates_lines(doc["estimates"])
    if optimise and doc.get("pareto_front"):
        lines.append("Pareto front (fewest stages for each organic flow evaluated):")
        lines.append(table(["organic L/h", "scrub L/h", "total stages"],
                           [[f"{p['organic']:.6g}", f"{p['scrub']:.6g}", str(p["total_stages"])]
                            for p in doc["pareto_front"]]))
    lines.append(f"{doc['designs_evaluated']} flow settings designed, {doc['seconds']:.2f} s" if optimise
                 else f"{doc['evaluations']} cascade solves, {doc['seconds']:.2f} s")
    return "\n".join(lines) + "\n"


def _max_stages(value, default: int) -> int:
    if value is None:
        return default
    if not 1 <= value <= MAX_DESIGN_STAGES:
        raise Failure(f"error: --max-stages: must be a whole number in [1, {MAX_DESIGN_STAGES}], got {value}",
                      EXIT_INPUT)
    return value


def cmd_sx_design(args):
    from magcycle.sx.optimise import load_design, minimum_stages, optimise_flows

    prob = guard(lambda: load_design(args.file))
    max_stages = _max_stages(args.max_stages, prob.max_stages)
    if args.optimise_flows:
        out = guard(lambda: optimise_flows(prob.spec, prob.targets, weights=prob.weights, max_stages=max_stages))
        doc = out.to_dict()
        doc["designs_evaluated"] = len(out.points)
    else:
        doc = guard(lambda: minimum_stages(prob.spec, prob.targets, max_stages=max_stages)).to_dict()
    doc["source"] = prob.spec.source
    text = dumps(doc) if args.json else _design_text(doc, args.optimise_flows)
    return text, (0 if doc["feasible"] else EXIT_SOLVE)


def _example_files():
    """(name, Traversable) of each bundled example cascade, sorted by name."""
    from importlib.resources import files

    folder = files("magcycle") / "examples"
    found = [f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file()]
    return [(f.name[: -len(".toml")], f) for f in sorted(found, key=lambda f: f.name)]


def _timed_solve(solve, spec, where: str):
    """Solve ``spec``; return (result, solve time [ms]), the better of two solves: the first solve
    of a model in a process also pays one-time lazy imports (scipy's LAPACK)."""
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        result = guard(lambda: solve(spec), where)
        times.append((time.perf_counter() - t0) * 1e3)
    return result, min(times)


def _solve_examples(examples) -> list:
    from importlib.resources import as_file

    from magcycle.sx import load_cascade, solve

    start = time.perf_counter()
    solved = []
    for i, (name, resource) in enumerate(examples, 1):
        if time.perf_counter() - start > PROGRESS_AFTER_S:
            say(f"{PROG}: solving {name} ({i}/{len(examples)})")
        where = f"example {name}"
        with as_file(resource) as path:
            spec = guard(lambda: load_cascade(path), where)
        result, ms = _timed_solve(solve, spec, where)
        solved.append((name, result, ms))
    return solved


def cmd_sx_examples(args) -> str:
    examples = _example_files()
    if not examples:
        raise Failure("error: no example cascades found in magcycle/examples", EXIT_SOLVE)
    solved = _solve_examples(examples)
    if args.json:
        return dumps({name: result.to_dict() for name, result, _ in solved})
    header = ["example", "outlet", "product", "purity %", "recovery %", "model", "iterations", "closure", "solve ms"]
    rows = []
    for name, result, ms in solved:
        for outlet in ("extract", "raffinate"):
            product, purity, recovery = _outlet_product(result, outlet)
            rows.append([name, outlet, product, f"{100 * purity:.4f}", f"{100 * recovery:.4f}", result.model,
                         str(result.iterations), f"{result.closure:.2g}", f"{ms:.1f}"])
    title = ("Products of the bundled example cascades (magcycle/examples); product = the components an outlet "
             "takes most of; solve ms = best of 2 solves")
    return title + "\n" + table(header, rows, right_from=3) + "\n"


#: what ``sx fit --out DIR`` writes
FIT_FILES = ("fit.json", "fit.html", "parameters.toml")


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:  # a byte-order mark (spreadsheets) is dropped
            return fh.read()
    except FileNotFoundError:
        raise Failure(f"error: {path}: no such file", EXIT_INPUT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Failure(f"error: {path}: cannot be read as UTF-8 text ({type(exc).__name__})", EXIT_INPUT) from None


def _fit_text(doc: dict) -> str:
    lines = [f"fit: {doc['source']}   model: {doc['model']}"
             + (f"   reference: {doc['reference']} (beta = 1)" if doc.get("reference") else ""),
             f"weighted least squares of log10 D; residual RMS {doc['residual_rms_log10_D']:.4g}"]
    rows = []
    for el, f in doc["elements"].items():
        for name, v in f["parameters"].items():
            ci = (f["interval_95"] or {}).get(name)
            rows.append([el, name, f"{v:.6g}", "-" if ci is None else f"{ci[0]:.6g} .. {ci[1]:.6g}", str(f["points"])])
        rows += [[el, name, f"{v:.6g}", "fixed", ""] for name, v in f["fixed"].items()]
    lines.append(table(["element", "parameter", "value", "95 % interval", "points"], rows, right_from=2))
    lines.append("for the cascade file:")
    return "\n".join(lines) + "\n" + doc["parameter_block"]


def cmd_sx_fit(args) -> str:
    from magcycle.report.fit import render_fit_report
    from magcycle.sx.fit import fit_shakeouts, read_shakeouts

    if args.out:
        check_out(args.out, FIT_FILES)
    text = _read_text(args.data)
    data = guard(lambda: read_shakeouts(text, args.model, name=args.data))
    result = guard(lambda: fit_shakeouts(data, args.model, elements=args.element, reference=args.reference))
    doc = {"source": args.data, **result.to_dict()}
    if args.out:
        page = dict(doc, rows={"element": list(result.row_element), "observed": result.observed.tolist(),
                               "predicted": result.predicted.tolist(), "pH": result.row_pH.tolist()})
        publish(args.out, {"fit.json": dumps(doc), "fit.html": render_fit_report(page),
                           "parameters.toml": doc["parameter_block"]})
    return dumps(doc) if args.json else _fit_text(doc)
