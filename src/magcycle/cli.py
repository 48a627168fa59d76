"""Command line: ``magcycle`` (console script) and ``python -m magcycle``.

Subcommands::

    magcycle run [PLANT.toml] [--feed FEED] [--rate RATE] [--out DIR] [--json]
                                      the main job: simulate a plant (default: the
                                      reference plant on its default feed blend)
    magcycle feed list | show FEED    the feedstock catalogue
    magcycle sx solve FILE [--json]   solve one cascade file (cascade-spec.md)
    magcycle sx design FILE [--json] [--optimise-flows]
                                      design a cascade for its [targets]
    magcycle sx examples [--json]     solve the bundled example cascades
    magcycle uq [STUDY|PLANT] [--samples N] [--sobol N] [--scheduler ADDR] ...
                                      Monte Carlo over feed and model uncertainty
    magcycle design [STUDY|PLANT] [--probability P] ...
                                      robust design: fewest stages meeting spec with P
    magcycle tea [PLANT] [--scenario low|base|high] [--assumptions FILE] [--json]
                                      feasibility economics and carbon footprint

Exit status: 0 on success; 2 for bad input (argparse usage errors and
:class:`magcycle.errors.InputError`, printed as ``magcycle: error: FIELD:
REASON`` on one line of stderr); 1 when a solve fails
(:class:`~magcycle.errors.ConvergenceError`,
:class:`~magcycle.errors.MassBalanceError`). Nothing is written on stdout
unless the whole command succeeded.

Only the standard library is imported at module level, so ``magcycle --help``
stays fast; numpy and :mod:`magcycle.sx` are imported by the handlers.

>>> main(["--version"])
magcycle 0.1.0
0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from magcycle import __version__
from magcycle.errors import ConvergenceError, InputError, MassBalanceError

PROG = "magcycle"

#: Exit status for bad input (argparse uses the same) and for a failed solve.
EXIT_INPUT = 2
EXIT_SOLVE = 1

#: ``run`` reports progress on stderr once it has been running this long [s].
PROGRESS_AFTER_S = 2.0


class _Failure(Exception):
    """A handled failure: one line for stderr and an exit status."""

    def __init__(self, line: str, status: int) -> None:
        super().__init__(line)
        self.line = line
        self.status = status


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _guard(call, where: str = ""):
    """Run ``call()``; turn the project's errors into a :class:`_Failure`."""
    suffix = f" ({where})" if where else ""
    try:
        return call()
    except InputError as exc:
        raise _Failure(f"error: {_one_line(exc)}{suffix}", EXIT_INPUT) from None
    except (ConvergenceError, MassBalanceError) as exc:
        raise _Failure(f"solve failed: {_one_line(exc)}{suffix}", EXIT_SOLVE) from None


# ---------------------------------------------------------------- formatting
def _table(header: list[str], rows: list[list[str]], right_from: int = 1) -> str:
    """Plain aligned text table; columns from ``right_from`` on are right-aligned.

    >>> print(_table(["a", "bb"], [["x", "1"], ["yyy", "22"]]))
    a    bb
    ---  --
    x     1
    yyy  22
    """
    cols = list(zip(header, *rows))
    widths = [max(len(c) for c in col) for col in cols]

    def fmt(cells):
        out = [
            c.rjust(w) if i >= right_from else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(out).rstrip()

    lines = [fmt(header), fmt(["-" * w for w in widths])]
    lines += [fmt(r) for r in rows]
    return "\n".join(lines)


def _dumps(doc) -> str:
    return json.dumps(doc, indent=2) + "\n"


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
    frac = result.fraction_to(outlet)
    picked = [i for i in range(len(feed)) if frac[i] > 0.5]
    if not picked:
        picked = [max(range(len(feed)), key=lambda i: flows[i])]
    total = float(sum(flows))
    got = float(sum(flows[i] for i in picked))
    purity = got / total if total > 0 else float("nan")
    recovery = got / float(sum(feed[i] for i in picked))
    names = "+".join(result.components[i] for i in picked)
    return names, purity, recovery


def _solve_table(result) -> str:
    outlets = list(result.outlets)
    header = ["component"]
    header += [f"to {o}" for o in outlets]
    header += [f"purity in {o}" for o in outlets]
    fr = {o: result.fraction_to(o) for o in outlets}
    pu = {o: result.purity_of(o) for o in outlets}
    rows = []
    for i, c in enumerate(result.components):
        rows.append(
            [c]
            + [f"{float(fr[o][i]):.8g}" for o in outlets]
            + [f"{float(pu[o][i]):.8g}" for o in outlets]
        )
    spec = result.spec
    head = [
        f"cascade: {spec.source or '-'}",
        f"model: {result.model}   stages: {spec.extraction_stages} extraction / "
        f"{spec.scrub_stages} scrub / {spec.strip_stages} strip",
        f"iterations: {result.iterations}   closure: {result.closure:.3g}",
        "",
        "fraction of each component's feed flow to each outlet, and its mole "
        "fraction among the rare earths of that outlet:",
    ]
    return "\n".join(head) + "\n" + _table(header, rows) + "\n"


# ------------------------------------------------------------------ handlers
def _cmd_sx_solve(args) -> str:
    from magcycle.sx import load_cascade, solve

    spec = _guard(lambda: load_cascade(args.file))
    result = _guard(lambda: solve(spec))
    return _dumps(result.to_dict()) if args.json else _solve_table(result)


def _fmt(x, spec=".4g") -> str:
    return "-" if x is None else format(x, spec)


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
    lines.append(_table(["outlet", "component", "target", "minimum", "achieved"], rows, right_from=3))
    e = doc["estimates"]
    if e.get("key_pair"):
        lines.append(f"short-cut estimates, key pair {'/'.join(e['key_pair'])} (beta {e['beta']:.4g}): "
                     f"Fenske N_min {_fmt(e['fenske_min_stages'], '.2f')}; Underwood S_min {_fmt(e['S_min'])}, "
                     f"W_min {_fmt(e['W_min'])} (design S {_fmt(e['S'])}, W {_fmt(e['W'])}); Xu n "
                     f"{_fmt(e['xu_extraction_stages'], '.1f')}, m {_fmt(e['xu_scrub_stages'], '.1f')}")
    for note in e.get("notes", []):
        lines.append(f"note: {note}")
    if optimise and doc.get("pareto_front"):
        lines.append("Pareto front (fewest stages for each organic flow evaluated):")
        lines.append(_table(["organic L/h", "scrub L/h", "total stages"],
                            [[f"{p['organic']:.6g}", f"{p['scrub']:.6g}", str(p["total_stages"])]
                             for p in doc["pareto_front"]]))
    if optimise:
        lines.append(f"{doc['designs_evaluated']} flow settings designed, {doc['seconds']:.2f} s")
    else:
        lines.append(f"{doc['evaluations']} cascade solves, {doc['seconds']:.2f} s")
    return "\n".join(lines) + "\n"


def _cmd_sx_design(args):
    from magcycle.sx.optimise import load_design, minimum_stages, optimise_flows

    prob = _guard(lambda: load_design(args.file))
    max_stages = args.max_stages or prob.max_stages
    if args.optimise_flows:
        out = _guard(lambda: optimise_flows(prob.spec, prob.targets, weights=prob.weights,
                                            max_stages=max_stages))
        doc = out.to_dict()
        doc["designs_evaluated"] = len(out.points)
    else:
        doc = _guard(lambda: minimum_stages(prob.spec, prob.targets, max_stages=max_stages)).to_dict()
    doc["source"] = prob.spec.source
    text = _dumps(doc) if args.json else _design_text(doc, args.optimise_flows)
    return text, (0 if doc["feasible"] else EXIT_SOLVE)


def _example_files():
    """(name, Traversable) of each bundled example cascade, sorted by name."""
    from importlib.resources import files

    folder = files("magcycle") / "examples"
    found = [f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file()]
    return [(f.name[: -len(".toml")], f) for f in sorted(found, key=lambda f: f.name)]


def _timed_solve(solve, spec, where: str):
    """Solve ``spec``; return (result, solve time [ms]).

    The time is the better of two solves: the first solve of a model in a
    process also pays one-time lazy imports (scipy's LAPACK for the Newton
    models), which are not the cost of the cascade.
    """
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        result = _guard(lambda: solve(spec), where)
        times.append((time.perf_counter() - t0) * 1e3)
    return result, min(times)


def _cmd_sx_examples(args) -> str:
    from importlib.resources import as_file

    from magcycle.sx import load_cascade, solve

    examples = _example_files()
    if not examples:
        raise _Failure("error: no example cascades found in magcycle/examples", EXIT_SOLVE)
    start = time.perf_counter()
    solved = []
    for i, (name, resource) in enumerate(examples, 1):
        if time.perf_counter() - start > PROGRESS_AFTER_S:
            print(f"{PROG}: solving {name} ({i}/{len(examples)})", file=sys.stderr, flush=True)
        where = f"example {name}"
        with as_file(resource) as path:
            spec = _guard(lambda: load_cascade(path), where)
        result, ms = _timed_solve(solve, spec, where)
        solved.append((name, result, ms))

    if args.json:
        return _dumps({name: result.to_dict() for name, result, _ in solved})

    header = ["example", "outlet", "product", "purity %", "recovery %",
              "model", "iterations", "closure", "solve ms"]
    rows = []
    for name, result, ms in solved:
        for outlet in ("extract", "raffinate"):
            product, purity, recovery = _outlet_product(result, outlet)
            rows.append([name, outlet, product, f"{100 * purity:.4f}",
                         f"{100 * recovery:.4f}", result.model, str(result.iterations),
                         f"{result.closure:.2g}", f"{ms:.1f}"])
    title = ("Products of the bundled example cascades (magcycle/examples); "
             "product = the components an outlet takes most of; "
             "solve ms = best of 2 solves")
    return title + "\n" + _table(header, rows, right_from=3) + "\n"


# ------------------------------------------------------------------ the plant
def _write_atomically(folder, files: dict) -> None:
    """Write every file to a temporary name first, then rename them all."""
    import tempfile
    from pathlib import Path

    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _Failure(f"error: --out: cannot create {folder}: {exc.strerror}", EXIT_INPUT) from None
    if not out.is_dir():
        raise _Failure(f"error: --out: {folder} is not a folder", EXIT_INPUT)
    tmp = []
    try:
        for name, text in files.items():
            fd, path = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            if isinstance(text, bytes):
                with os.fdopen(fd, "wb") as fh:
                    fh.write(text)
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
            os.chmod(path, 0o644)
            tmp.append((path, out / name))
    except OSError as exc:
        for path, _ in tmp:
            os.unlink(path)
        raise _Failure(f"error: --out: cannot write to {folder}: {exc.strerror}", EXIT_INPUT) from None
    for path, final in tmp:
        os.replace(path, final)


def _product_table(result) -> str:
    header = ["product", "oxide", "kg/h", "t/y", "purity %", "recovery %", "spec", "meets spec"]
    rows = []
    for p in result.products:
        rec = " ".join(f"{k} {100 * v:.2f}" for k, v in p["recovery"].items() if v is not None) or "-"
        ok = {True: "pass", False: "FAIL", None: "not produced"}[p["meets_spec"]]
        purity = f"{100 * p['purity']:.3f}" if p["purity"] is not None else "-"
        rows.append([p["name"], p["oxide"], f"{p['kg_per_h']:.3f}", f"{p['t_per_y']:.1f}", purity, rec,
                     p["spec"], ok])
    return _table(header, rows, right_from=2)


def _cmd_run(args) -> str:
    from magcycle.flowsheet import simulate

    def progress(units):
        print(f"{PROG}: solving {units}", file=sys.stderr, flush=True)

    result = _guard(lambda: simulate(args.plant, args.feed, rate=args.rate, progress=progress))
    doc = result.to_dict()
    from magcycle.report import render_report

    text = _dumps(doc)
    _write_atomically(args.out, {"results.json": text, "report.html": render_report(doc),
                                 "streams.csv": result.stream_table().to_csv()})
    if args.json:
        return text
    return (f"Plant {result.spec.name!r}, feed {result.feed.name} at {result.feed.kg_per_h:.4g} kg/h dry; "
            f"element closure {result.closure:.1e}; recycle {result.recycle_iterations} iterations\n"
            + _product_table(result) + "\n"
            + f"wrote results.json, report.html and streams.csv in {args.out}\n")


def _cmd_feed_list(args) -> str:
    from magcycle.feed import CATALOGUE

    rows = [[c.key, c.name, f"{c.nominal['Nd'] + c.nominal['Pr'] + c.nominal['Dy'] + c.nominal['Tb']:.2f}",
             f"{c.moisture_wt_pct:g}"] for c in CATALOGUE.values()]
    return _table(["class", "name", "Nd+Pr+Dy+Tb wt %", "moisture wt %"], rows, right_from=2) + "\n"


def _cmd_feed_show(args) -> str:
    from magcycle.feed import CATALOGUE, resolve_feed

    feed = _guard(lambda: resolve_feed(args.feed, args.rate, rate_field="--rate"))
    if args.json:
        return _dumps(feed.to_dict())
    cls = CATALOGUE.get(args.feed)
    rows = []
    for el, w in sorted(feed.composition.items(), key=lambda kv: -kv[1]):
        lo, hi = cls.ranges.get(el, (None, None)) if cls else (None, None)
        src = (cls.sources.get(el) or cls.sources.get("all") or cls.sources.get("other", "")) if cls else ""
        rows.append([el, f"{w:.3f}", "" if lo is None else f"{lo:g}-{hi:g}",
                     f"{feed.kg_per_h * w / 100:.4g}", src[:70]])
    head = f"{feed.name}: {feed.kg_per_h:.4g} kg/h dry, moisture {feed.moisture_wt_pct:g} wt %\n"
    return head + _table(["element", "wt % (dry)", "range", "kg/h", "source"], rows, right_from=1) + "\n"


# -------------------------------------------------------- uncertainty, design
class _Progress:
    """A progress bar on stderr: redrawn in place on a terminal, a line every few seconds otherwise."""

    def __init__(self, what: str, quiet: bool = False):
        self.what, self.quiet = what, quiet
        self.t0 = self.last = time.perf_counter()
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if done < total and now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        el = now - self.t0
        eta = el / done * (total - done) if done else float("nan")
        bar = "#" * int(30 * done / max(total, 1))
        msg = f"{PROG}: {self.what} [{bar:<30}] {done}/{total} samples, {el:.0f} s, about {eta:.0f} s left"
        if self.tty:
            print("\r" + msg, end="\n" if done >= total else "", file=sys.stderr, flush=True)
        else:
            print(msg, file=sys.stderr, flush=True)


def _study(args):
    from pathlib import Path

    from magcycle.analysis.study import load_study, study_from_dict
    from magcycle.documents import read_document

    target = args.study
    if target is None:
        return study_from_dict({"study": {"plant": "reference"}})
    p = Path(target)
    if p.is_file():
        doc = read_document(p)
        if isinstance(doc, dict) and ("study" in doc or "parameters" in doc):
            return load_study(p)
        if isinstance(doc, dict) and "cascade" in doc:
            raise InputError("study", f"{target} is a cascade file: write a study that names it "
                                      f"([study] cascade = \"{p.name}\") and declares its [parameters]")
        return study_from_dict({"study": {"plant": str(p.resolve())}})
    return study_from_dict({"study": {"plant": target}})  # a built-in plant name


def _apply_overrides(study, args):
    from magcycle.analysis.sampling import METHODS

    for key in ("samples", "seed"):
        v = getattr(args, key, None)
        if v is not None:
            if v < (1 if key == "samples" else 0):
                raise InputError(f"--{key}", f"must be >= {1 if key == 'samples' else 0}, got {v}")
            setattr(study, key, v)
    if getattr(args, "method", None):
        if args.method not in METHODS:
            raise InputError("--method", f"expected one of {', '.join(METHODS)}")
        study.method = args.method
    if getattr(args, "sobol", None) is not None:
        if args.sobol < 0:
            raise InputError("--sobol", f"must be >= 0, got {args.sobol}")
        study.sobol = args.sobol
    if getattr(args, "probability", None) is not None:
        if not 0 < args.probability < 1:
            raise InputError("--probability", f"must be in (0, 1), got {args.probability}")
        study.probability = args.probability
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers", f"must be >= 1, got {args.workers}")
    return study


def _executor(args):
    from magcycle.analysis.executors import make_executor

    return make_executor(args.scheduler, args.workers)


def _cmd_uq(args) -> str:
    from magcycle.analysis.model import Model
    from magcycle.analysis.study import samples_csv, uq_document
    from magcycle.report.uq_html import render_uq_report

    study = _guard(lambda: _apply_overrides(_study(args), args))
    model = _guard(lambda: Model(study.problem))
    ex = _guard(lambda: _executor(args))
    try:
        mc = _guard(lambda: model.monte_carlo(study.samples, method=study.method, seed=study.seed, executor=ex,
                                              confidence=study.confidence,
                                              progress=_Progress("Monte Carlo", args.quiet)))
        sob = None
        if study.sobol:
            sob = _guard(lambda: model.sobol(study.sobol, seed=study.seed, executor=ex, confidence=study.confidence,
                                             progress=_Progress("Sobol design", args.quiet)))
    finally:
        ex.close()
    doc = uq_document(study, mc, sob)
    text = _dumps(doc)
    _write_atomically(args.out, {"results.json": text, "report.html": render_uq_report(doc),
                                 "samples.csv": samples_csv(mc)})
    if args.json:
        return text
    p = mc.probability()
    rows = []
    for m in mc.metrics:
        s = doc["monte_carlo"]["summary"][m.name]
        pr = doc["monte_carlo"]["probability_by_metric"].get(m.name)
        lim = (f">= {m.at_least:g}" if m.at_least is not None else f"<= {m.at_most:g}" if m.at_most is not None
               else "pass" if m.kind == "pass" else "")
        rows.append([m.name, lim] + [f"{s[k]:.6g}" if s.get("n") else "-" for k in ("mean", "p05", "p95")]
                    + ["" if pr is None else f"{100 * pr['p']:.2f}"])
    fails = sum(mc.failures().values())
    head = (f"{doc['subject']}: {mc.n} samples ({mc.method}, seed {mc.seed}) on {mc.executor} "
            f"x{mc.workers} in {mc.seconds:.1f} s; {fails} failed\n")
    if mc.has_spec:
        head += (f"P(meets every spec) = {100 * p['p']:.2f} % ({100 * study.confidence:.0f} % interval "
                 f"{100 * p['lower']:.2f}-{100 * p['upper']:.2f} %)\n")
    else:
        head += "no metric states a limit: give at_least, at_most or kind = \"pass\" for P(meets spec)\n"
    out = head + _table(["metric", "limit", "mean", "5 %", "95 %", "P(meets) %"], rows, right_from=2) + "\n"
    if sob is not None:
        # the terminal shows the spec metrics' five largest total-order indices; the JSON has them all
        shown = [m.name for m in mc.metrics if m.is_spec and m.kind != "pass"] or [m.name for m in mc.metrics][:3]
        srows = []
        for metric in shown:
            idx = sob.indices.get(metric, {})
            top = sorted(idx.items(), key=lambda kv: -(kv[1]["ST"] if kv[1]["ST"] == kv[1]["ST"] else -1))[:5]
            srows += [[metric, name, f"{v['S1']:.3f}", f"{v['ST']:.3f}"] for name, v in top]
        out += ("Sobol indices (largest five total-order per spec metric; all in results.json)\n"
                + _table(["metric", "parameter", "S1", "ST"], srows, right_from=2) + "\n")
    return out + f"wrote results.json, report.html and samples.csv in {args.out}\n"


def _cmd_design(args):
    from magcycle.analysis.robust import STAGE_FACTORS, robust_cascade_design, robust_plant_design
    from magcycle.report.uq_html import render_design_report

    from magcycle.analysis.robust import default_samples

    study = _guard(lambda: _apply_overrides(_study(args), args))
    explicit = args.samples is not None or study.explicit_samples
    if not explicit:
        study.samples = default_samples(study.probability, study.confidence)
    if study.kind == "plant":
        ex = _guard(lambda: _executor(args))
        try:
            d = _guard(lambda: robust_plant_design(
                study.problem, probability=study.probability, confidence=study.confidence, samples=study.samples,
                method=study.method, seed=study.seed, executor=ex,
                factors=study.settings.get("stage_factors") or STAGE_FACTORS, per_cut=args.per_cut,
                progress=None if args.quiet else (lambda m: print(f"{PROG}: {m}", file=sys.stderr, flush=True))))
        finally:
            ex.close()
        subject = f"plant {study.problem.document.get('plant', {}).get('name', '?')}"
    else:
        if study.design is None:
            raise _Failure("error: study.cascade: the cascade file has no [targets] to design for", EXIT_INPUT)
        d = _guard(lambda: robust_cascade_design(
            study.design, study.problem.parameters, probability=study.probability, confidence=study.confidence,
            samples=study.samples, method=study.method, seed=study.seed, max_stages=study.max_stages))
        subject = f"cascade {study.source}"
    doc = {"kind": "design", "subject": subject, "design": d.to_dict()}
    text = _dumps(doc)
    _write_atomically(args.out, {"design.json": text, "report.html": render_design_report(doc)})
    status = 0 if d.feasible else EXIT_SOLVE
    if args.json:
        return text, status
    dd = doc["design"]
    if not d.feasible:
        return f"INFEASIBLE: {d.reason}\n", status
    p = dd["probability"]
    prob = (f"P(meets spec) = {100 * p['p']:.2f} % (lower bound {100 * p['lower']:.2f} % at "
            f"{100 * study.confidence:.0f} % confidence, {p['samples']} samples; required {study.probability:g})")
    if study.kind == "plant":
        cuts = ", ".join(f"{k} {n}+{m}" for k, (n, m) in dd["sx_stages"].items())
        sf = dd["stage_factor"]
        sf_text = f"{sf:g}" if not isinstance(sf, dict) else "per cut (" + ", ".join(
            f"{k} {v:g}" for k, v in sf.items()) + ")"
        return (f"{subject}: stage factor {sf_text} -> {dd['total_sx_stages']} SX stages ({cuts}), "
                f"SX purchase cost {dd['sx_purchase_cost_usd']:,.0f} USD\n{prob}\n"
                f"wrote design.json and report.html in {args.out}\n")
    nom = dd["nominal_design"]
    strip = f" + {dd['strip_stages']} strip" if dd["strip_stages"] else ""
    return (f"{subject}: {dd['extraction_stages']} extraction + {dd['scrub_stages']} scrub{strip} = "
            f"{dd['total_stages']} stages "
            f"(nominal minimum {nom.get('total_stages')})\n{prob}\nwrote design.json and report.html in {args.out}\n")


def _cmd_tea(args):
    from magcycle.econ.tea import techno_economics
    from magcycle.flowsheet import simulate
    from magcycle.report.tea import render_tea_report, tea_workbook

    overrides = None
    if args.assumptions:
        from magcycle.documents import read_document

        overrides = _guard(lambda: read_document(args.assumptions), "--assumptions")
    if overrides is not None:
        from magcycle.econ.tea import assumptions

        _guard(lambda: assumptions(overrides))  # bad assumptions fail before the plant is solved
    result = _guard(lambda: simulate(args.plant, args.feed))
    tea = _guard(lambda: techno_economics(result, overrides, args.scenario))
    doc = tea.to_dict()
    text = _dumps(doc)
    _write_atomically(args.out, {"tea.json": text, "tea.html": render_tea_report(doc), "tea.xlsx": tea_workbook(doc)})
    if args.json:
        return text
    pay = "-" if tea.cash.payback_y is None else f"{tea.cash.payback_y:.1f} y"
    irr = "-" if tea.cash.irr is None else f"{100 * tea.cash.irr:.1f} %"
    lines = [f"Plant {result.spec.name!r}: {tea.feed_t_per_y:,.0f} t/y feed, {args.scenario} prices, "
             f"discount rate {100 * tea.cash.discount_rate:g} %",
             _table(["measure", "magcycle", "published study"], [
                 ["capex", f"{tea.capex_usd / 1e6:,.1f} M USD", f"{doc['comparison'][0]['published'] / 1e6:,.1f} M USD"],
                 ["opex", f"{tea.opex_usd_per_y / 1e6:,.1f} M USD/y", "-"],
                 ["revenue", f"{tea.revenue_usd_per_y / 1e6:,.1f} M USD/y",
                  f"{doc['comparison'][1]['published'] / 1e6:,.1f} M USD/y"],
                 ["NPV", f"{tea.cash.npv / 1e6:,.1f} M USD", f"{doc['comparison'][2]['published'] / 1e6:,.1f} M USD"],
                 ["IRR", irr, f"{100 * doc['comparison'][3]['published']:.1f} %"],
                 ["payback", pay, f"{doc['comparison'][4]['published']:.1f} y"]], right_from=1),
             _table(["product", "t/y", "USD/kg", "kg CO2e/kg"], [
                 [x["product"], f"{x['t_per_y']:.1f}", f"{x['usd_per_kg']:,.0f}",
                  f"{tea.co2e_kg_per_kg.get(x['product'], float('nan')):.2f}"] for x in tea.revenue_lines], right_from=1),
             f"wrote tea.json, tea.html and tea.xlsx in {args.out}"]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="NdFeB magnet recycling: solvent-extraction cascades and plant tools.",
        epilog="Exit status: 0 ok, 1 solve failed, 2 bad input.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="the main job: simulate a plant (default: the built-in reference plant)",
        description="Simulate a plant flowsheet on a feed; print the product table and write "
        "results.json, report.html and streams.csv.",
    )
    run.add_argument("plant", nargs="?", metavar="PLANT.toml",
                     help="flowsheet file, or a built-in plant by name: reference (the default) or "
                     "reference-nd-pr (with the Nd/Pr split)")
    run.add_argument("--feed", help="feed class (see 'magcycle feed list'), blend such as "
                     "ev=0.5,wind=0.5, or assay file (.csv/.toml); default: the plant's [feed]")
    run.add_argument("--rate", help="dry feed rate, e.g. '150 kg/h' or '1200 t/y'")
    run.add_argument("--out", default="magcycle-results", metavar="DIR",
                     help="folder for results.json, report.html and streams.csv (default: magcycle-results)")
    run.add_argument("--json", action="store_true", help="print results.json on stdout")
    run.set_defaults(handler=_cmd_run)

    feed = sub.add_parser("feed", help="feedstock catalogue", description="Feedstock catalogue.")
    feed_sub = feed.add_subparsers(dest="feed_command", metavar="ACTION", required=True)
    fl = feed_sub.add_parser("list", help="list the built-in feed classes")
    fl.set_defaults(handler=_cmd_feed_list)
    fs = feed_sub.add_parser("show", help="show a feed class, blend or assay file")
    fs.add_argument("feed", metavar="FEED")
    fs.add_argument("--rate", help="dry feed rate (default 100 kg/h)")
    fs.add_argument("--json", action="store_true")
    fs.set_defaults(handler=_cmd_feed_show)

    sx = sub.add_parser("sx", help="solvent-extraction cascades",
                        description="Solvent-extraction cascades.")
    sx_sub = sx.add_subparsers(dest="sx_command", metavar="ACTION", required=True)
    solve = sx_sub.add_parser(
        "solve",
        help="solve one cascade file (TOML or JSON)",
        description="Solve one cascade (TOML or JSON; see shared/design/cascade-spec.md "
        "and the examples in magcycle/examples).",
    )
    solve.add_argument("file", metavar="FILE", help="cascade file, .toml or .json")
    solve.add_argument("--json", action="store_true",
                       help="print the result document (cascade-spec.md) as JSON")
    solve.set_defaults(handler=_cmd_sx_solve)
    design = sx_sub.add_parser(
        "design", help="design a cascade for purity/recovery targets",
        description="Fewest extraction + scrub stages that meet the [targets] of a cascade file at its "
        "flows (or, with --optimise-flows, the cheapest stages and flows, with the Pareto front of "
        "stages against organic flow); verified by the exact model. Exit status 1 when infeasible.")
    design.add_argument("file", metavar="FILE", help="cascade file with a [targets] table, .toml or .json")
    design.add_argument("--json", action="store_true", help="print the design document as JSON")
    design.add_argument("--optimise-flows", action="store_true",
                        help="also choose the organic and scrub flows (cost weights in [design])")
    design.add_argument("--max-stages", type=int, metavar="N", help="largest extraction + scrub stages searched")
    design.set_defaults(handler=_cmd_sx_design)
    examples = sx_sub.add_parser("examples", help="solve the bundled example cascades",
                                 description="Solve the bundled example cascades and tabulate their products.")
    examples.add_argument("--json", action="store_true",
                          help="print the result documents as JSON, keyed by example name")
    examples.set_defaults(handler=_cmd_sx_examples)

    def study_options(p, what):
        p.add_argument("study", nargs="?", metavar="STUDY|PLANT",
                       help="study file ([study], [parameters], [metrics]; see magcycle.analysis.study), or a "
                       "plant (built-in name or flowsheet file) with the catalogue's feed variability; "
                       "default: the reference plant")
        p.add_argument("--samples", type=int, metavar="N", help=f"samples {what}")
        p.add_argument("--method", choices=("random", "lhs", "sobol"), help="sampling method (default lhs)")
        p.add_argument("--seed", type=int, help="random seed (default 0): the same seed, the same numbers on "
                       "any executor")
        p.add_argument("--scheduler", metavar="ADDR", help="serial, processes[:N] (default) or a Dask "
                       "scheduler address tcp://host:port")
        p.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: cores)")
        p.add_argument("--json", action="store_true", help="print the result document as JSON")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")

    uq = sub.add_parser("uq", help="Monte Carlo of a plant or cascade under uncertainty",
                        description="Seeded Monte Carlo over feed and model uncertainty: probability of meeting "
                        "spec with its interval, metric distributions, rank correlations and (with --sobol) "
                        "Sobol indices. Writes results.json, report.html and samples.csv.")
    study_options(uq, "(default 1000)")
    uq.add_argument("--sobol", type=int, metavar="N", help="also Sobol indices from N base samples "
                    "(N (d + 2) evaluations)")
    uq.add_argument("--out", default="magcycle-uq", metavar="DIR", help="output folder (default magcycle-uq)")
    uq.set_defaults(handler=_cmd_uq)
    des = sub.add_parser("design", help="robust design: fewest stages meeting spec with a probability",
                         description="Robust design. For a plant: the smallest factor on the SX cuts' stages whose "
                         "Monte Carlo meets every product spec with the required probability (lower confidence "
                         "bound). For a cascade study with [targets]: the fewest extraction + scrub stages with "
                         "P(meets every target) >= probability. Exit status 1 when infeasible.")
    study_options(des, "per candidate design (default: the study's, or enough that one failing sample "
                       "does not decide: 555 at P = 0.99 and 95 %% confidence)")
    des.add_argument("--probability", type=float, metavar="P", help="required probability (default 0.99)")
    des.add_argument("--per-cut", action="store_true", help="plant: after the common stage factor, refine each "
                     "SX cut's own factor (more Monte Carlo runs, fewer stages)")
    des.add_argument("--out", default="magcycle-design", metavar="DIR",
                     help="output folder (default magcycle-design)")
    des.set_defaults(handler=_cmd_design)
    tea = sub.add_parser("tea", help="feasibility economics and carbon footprint of a plant",
                         description="Capex, opex, revenue, discounted cash flow (NPV, IRR, payback), break-even "
                         "prices, tornado, scale and modules, and kg CO2e per kg of each oxide, from a plant solve. "
                         "Writes tea.json, tea.html and tea.xlsx.")
    tea.add_argument("plant", nargs="?", metavar="PLANT.toml", help="flowsheet file or built-in plant name "
                     "(default: the reference plant)")
    tea.add_argument("--feed", help="feed (as for magcycle run; default: the plant's [feed])")
    tea.add_argument("--scenario", choices=("low", "base", "high"), default="base", help="product price scenario")
    tea.add_argument("--assumptions", metavar="FILE", help="TOML/JSON overriding any default assumption "
                     "(magcycle/data/econ_defaults.toml)")
    tea.add_argument("--out", default="magcycle-tea", metavar="DIR", help="output folder (default magcycle-tea)")
    tea.add_argument("--json", action="store_true", help="print tea.json on stdout")
    tea.set_defaults(handler=_cmd_tea)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_INPUT)
    status = 0
    try:
        text = args.handler(args)
        if isinstance(text, tuple):  # (text, status): an answer that is also a failure
            text, status = text
    except _Failure as fail:
        print(f"{PROG}: {fail.line}", file=sys.stderr)
        return fail.status
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `magcycle run | head -1`: the reader left
        # Point stdout at devnull so that the flush at exit does not fail again
        # (the recipe of the Python docs, "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_SOLVE
    return status
