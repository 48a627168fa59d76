"""``magcycle uq`` and ``magcycle design``: Monte Carlo under uncertainty, and robust design.

The study, the overrides of the command line, the executor and the output
folder are all checked before the first sample runs, so a bad input is one
line with nothing else on stderr; progress is shown only once the work has
started, and only when stderr is a terminal (``--quiet`` hides it there too):
a log or a pipe gets the results and the errors, not a redrawn bar.
"""

from __future__ import annotations

import sys
import time

from magcycle.cli.common import EXIT_INPUT, EXIT_SOLVE, PROG, Failure, check_out, dumps, guard, publish, say, table
from magcycle.errors import InputError

__all__ = ["UQ_FILES", "DESIGN_FILES", "on_terminal", "Progress", "cmd_uq", "cmd_design"]

UQ_FILES = ("results.json", "report.html", "samples.csv")
DESIGN_FILES = ("design.json", "report.html")


def on_terminal() -> bool:
    """Whether stderr is a terminal (a progress bar is drawn only there)."""
    return sys.stderr is not None and sys.stderr.isatty()


class Progress:
    """A progress bar on stderr, redrawn in place, only when stderr is a terminal."""

    def __init__(self, what: str, quiet: bool = False, unit: str = "samples"):
        self.what, self.quiet, self.unit = what, quiet, unit
        self.t0 = self.last = time.perf_counter()
        self.tty = on_terminal()

    def __call__(self, done: int, total: int) -> None:
        if self.quiet or not self.tty:
            return
        now = time.perf_counter()
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        el = now - self.t0
        eta = el / done * (total - done) if done else float("nan")
        bar = "#" * int(30 * done / max(total, 1))
        msg = f"{PROG}: {self.what} [{bar:<30}] {done}/{total} {self.unit}, {el:.0f} s, about {eta:.0f} s left"
        say("\r" + msg, end="\n" if done >= total else "")


def _study(args):
    """The study a command runs: a study file, a plant file or name, or the reference plant."""
    from pathlib import Path

    from magcycle.analysis.study import load_study, study_from_dict
    from magcycle.documents import present, read_document

    target = args.study
    if target is None:
        return study_from_dict({"study": {"plant": "reference"}})
    p = Path(target)
    if not present(p, field="study"):
        try:
            return study_from_dict({"study": {"plant": target}})  # a built-in plant name
        except InputError as exc:  # the argument, not a field of a study file
            raise InputError("plant" if exc.field == "study.plant" else exc.field, exc.reason) from None
    doc = read_document(p, field="study")
    if "study" in doc or "parameters" in doc:
        return load_study(p)
    if "cascade" in doc:
        raise InputError("study", f"{p.name} is a cascade file: write a study that names it "
                                  f"([study] cascade = \"{p.name}\") and declares its [parameters]")
    return study_from_dict({"study": {"plant": str(p.resolve())}})


def _feed_section(feed: str | None, rate: str | None, section: dict) -> dict:
    """A plant's [feed] with ``--feed`` (a class or a blend of classes) and ``--rate`` put in."""
    from magcycle.feed import CATALOGUE, resolve_feed

    if feed is not None:
        if feed.endswith((".csv", ".toml")):
            raise InputError("--feed", "a study varies the catalogue's classes: give a class or a blend of "
                                       "classes, not an assay file")
        weights = dict(resolve_feed(feed).weights_given) or {feed: 1.0}
        unknown = [k for k in weights if k not in CATALOGUE]
        if unknown:
            raise InputError("--feed", f"unknown feed class {unknown[0]!r}")
        section = {"blend": weights} | ({"rate": section["rate"]} if "rate" in section else {})
    return section | ({"rate": rate} if rate is not None else {})


def _with_feed(study, feed: str | None, rate: str | None):
    """The study on ``--feed`` (a class or a blend of classes, varied as the plant's own would be) and
    ``--rate``: its plant's [feed] replaced, its default feed parameters drawn for the new blend."""
    import copy

    from magcycle.analysis.plant import PlantProblem, default_plant_parameters
    from magcycle.flowsheet.spec import parse_flowsheet

    if feed is None and rate is None:
        return study
    if study.kind != "plant":
        raise InputError("--feed" if feed is not None else "--rate", "a cascade study has no plant feed")
    old = study.problem
    doc = copy.deepcopy(old.document)
    doc["feed"] = _feed_section(feed, rate, dict(doc.get("feed") or {}))
    parse_flowsheet(doc, "--feed")  # the new [feed] and rate checked as a plant file's
    defaults = [p.name for p in default_plant_parameters(old.document)]
    params = (default_plant_parameters(doc) if [p.name for p in old.parameters] == defaults
              else old.parameters)
    study.problem = PlantProblem(doc, params, old.metrics, chunk_size=old.chunk_size,
                                 stage_factor=old.stage_factor)
    return study


_LIMITS = {"samples": (1, 10_000_000), "seed": (0, 2**63 - 1), "sobol": (0, 10_000_000), "workers": (1, 4096)}


def _apply_overrides(study, args):
    """The command line's --samples, --seed, --method, --sobol and --probability over the study's."""
    for key, (lo, hi) in _LIMITS.items():
        v = getattr(args, key, None)
        if v is not None and not lo <= v <= hi:
            raise InputError(f"--{key}", f"must be a whole number in [{lo}, {hi}], got {v}")
        if v is not None and key != "workers":
            setattr(study, key, v)
    if getattr(args, "method", None):
        study.method = args.method
    if getattr(args, "probability", None) is not None:
        if not 0 < args.probability < 1:
            raise InputError("--probability", f"must be in (0, 1), got {args.probability}")
        study.probability = args.probability
    return study


def _executor(args):
    from magcycle.analysis.executors import make_executor

    return guard(lambda: make_executor(args.scheduler, args.workers))


def _summary_rows(mc, doc) -> list:
    rows = []
    for m in mc.metrics:
        s = doc["monte_carlo"]["summary"][m.name]
        pr = doc["monte_carlo"]["probability_by_metric"].get(m.name)
        lim = (f">= {m.at_least:g}" if m.at_least is not None else f"<= {m.at_most:g}" if m.at_most is not None
               else "pass" if m.kind == "pass" else "")
        rows.append([m.name, lim] + [f"{s[k]:.6g}" if s.get("n") else "-" for k in ("mean", "p05", "p95")]
                    + ["" if pr is None else f"{100 * pr['p']:.2f}"])
    return rows


def _sobol_text(mc, sob) -> str:
    # the terminal shows the spec metrics' five largest total-order indices; the JSON has them all
    shown = [m.name for m in mc.metrics if m.is_spec and m.kind != "pass"] or [m.name for m in mc.metrics][:3]
    doc = sob.to_dict()
    indices = doc["indices"]
    rows = []
    for metric in shown:
        if metric in doc["not_defined"]:
            rows.append([metric, "(not defined: the metric does not vary)", "-", "-"])
            continue
        top = sorted(indices.get(metric, {}).items(), key=lambda kv: -kv[1]["ST"])[:5]
        rows += [[metric, name, f"{v['S1']:.3f}", f"{v['ST']:.3f}"] for name, v in top]
    return ("Sobol indices (largest five total-order per spec metric; all in results.json)\n"
            + table(["metric", "parameter", "S1", "ST"], rows, right_from=2) + "\n")


def _uq_text(study, mc, sob, doc, out: str) -> str:
    p = mc.probability()
    fails = sum(mc.failures().values())
    head = (f"{doc['subject']}: {mc.n} samples ({mc.method}, seed {mc.seed}) on {mc.executor} "
            f"x{mc.workers} in {mc.seconds:.1f} s; {fails} failed\n")
    if mc.has_spec:
        head += (f"P(meets every spec) = {100 * p['p']:.2f} % ({100 * study.confidence:.0f} % interval "
                 f"{100 * p['lower']:.2f}-{100 * p['upper']:.2f} %)\n")
    else:
        head += "no metric states a limit: give at_least, at_most or kind = \"pass\" for P(meets spec)\n"
    text = head + table(["metric", "limit", "mean", "5 %", "95 %", "P(meets) %"], _summary_rows(mc, doc),
                        right_from=2) + "\n"
    if sob is not None:
        text += _sobol_text(mc, sob)
    return text + f"wrote {', '.join(UQ_FILES)} in {out}\n"


def cmd_uq(args) -> str:
    from magcycle.analysis.model import Model
    from magcycle.analysis.study import samples_csv, uq_document
    from magcycle.report.uq_html import render_uq_report

    study = guard(lambda: _with_feed(_apply_overrides(_study(args), args), args.feed, args.rate))
    model = guard(lambda: Model(study.problem))
    check_out(args.out, UQ_FILES)
    ex = _executor(args)
    try:
        mc = guard(lambda: model.monte_carlo(study.samples, method=study.method, seed=study.seed, executor=ex,
                                             confidence=study.confidence, progress=Progress("Monte Carlo", args.quiet)))
        sob = None
        if study.sobol:
            sob = guard(lambda: model.sobol(study.sobol, seed=study.seed, executor=ex, confidence=study.confidence,
                                            progress=Progress("Sobol design", args.quiet)))
    finally:
        ex.close()
    doc = uq_document(study, mc, sob)
    text = dumps(doc)
    publish(args.out, {"results.json": text, "report.html": render_uq_report(doc), "samples.csv": samples_csv(mc)})
    return text if args.json else _uq_text(study, mc, sob, doc, args.out)


def _plant_design(study, args):
    from magcycle.analysis.robust import STAGE_FACTORS, robust_plant_design

    ex = _executor(args)
    try:
        return guard(lambda: robust_plant_design(
            study.problem, probability=study.probability, confidence=study.confidence, samples=study.samples,
            method=study.method, seed=study.seed, executor=ex,
            factors=study.settings.get("stage_factors") or STAGE_FACTORS, per_cut=args.per_cut,
            progress=None if args.quiet or not on_terminal() else (lambda m: say(f"{PROG}: {m}"))))
    finally:
        ex.close()


def _cascade_design(study, args):
    from magcycle.analysis.executors import executor_plan
    from magcycle.analysis.robust import robust_cascade_design

    # a cascade design runs its batched solves in this process; the options are still checked
    guard(lambda: executor_plan(args.scheduler, args.workers))
    if study.design is None:
        raise Failure("error: study.cascade: the cascade file has no [targets] to design for", EXIT_INPUT)
    return guard(lambda: robust_cascade_design(
        study.design, study.problem.parameters, probability=study.probability, confidence=study.confidence,
        samples=study.samples, method=study.method, seed=study.seed, max_stages=study.max_stages))


def _design_text(study, subject: str, d, dd: dict, out: str) -> str:
    if not d.feasible:
        return f"INFEASIBLE: {d.reason}\n"
    p = dd["probability"]
    prob = (f"P(meets spec) = {100 * p['p']:.2f} % (lower bound {100 * p['lower']:.2f} % at "
            f"{100 * study.confidence:.0f} % confidence, {p['samples']} samples; required {study.probability:g})")
    wrote = f"wrote {', '.join(DESIGN_FILES)} in {out}\n"
    if study.kind == "plant":
        cuts = ", ".join(f"{k} {n}+{m}" for k, (n, m) in dd["sx_stages"].items())
        sf = dd["stage_factor"]
        sf_text = f"{sf:g}" if not isinstance(sf, dict) else "per cut (" + ", ".join(
            f"{k} {v:g}" for k, v in sf.items()) + ")"
        return (f"{subject}: stage factor {sf_text} -> {dd['total_sx_stages']} SX stages ({cuts}), "
                f"SX purchase cost {dd['sx_purchase_cost_usd']:,.0f} USD\n{prob}\n{wrote}")
    nom = dd["nominal_design"]
    strip = f" + {dd['strip_stages']} strip" if dd["strip_stages"] else ""
    return (f"{subject}: {dd['extraction_stages']} extraction + {dd['scrub_stages']} scrub{strip} = "
            f"{dd['total_stages']} stages (nominal minimum {nom.get('total_stages')})\n{prob}\n{wrote}")


def _envelope_design(args, study):
    """``magcycle design --envelope``: the plant built for the catalogue's feed envelope."""
    from magcycle.flowsheet import parse_flowsheet
    from magcycle.flowsheet.envelope import design_for_envelope
    from magcycle.report.uq_html import render_envelope_report

    if study.kind != "plant":
        raise Failure("error: --envelope: a plant is built for the feed envelope; give a plant, not a cascade "
                      "study", EXIT_INPUT)
    check_out(args.out, DESIGN_FILES)
    name = study.problem.document.get("plant", {}).get("name", "plant")
    spec = guard(lambda: parse_flowsheet(study.problem.document, name))
    verify, seed = args.samples or 300, args.seed or 0
    d = guard(lambda: design_for_envelope(spec, verify=verify, seed=seed))
    design = {"feasible": not d.failures, "rounds": d.rounds, "verified_blends": d.verified, "seed": seed,
              "stages": {c: {"extraction": n, "scrub": m} for c, (n, m) in d.stages.items()},
              "total_sx_stages": sum(n + m for n, m in d.stages.values()), "failures": d.failures}
    doc = {"kind": "envelope design", "subject": f"plant {name}", "design": design}
    text = dumps(doc)
    publish(args.out, {"design.json": text, "report.html": render_envelope_report(doc)})
    cuts = ", ".join(f"{c} {n}+{m}" for c, (n, m) in d.stages.items())
    said = (f"plant {name}: built for the feed envelope in {d.rounds} rounds, verified on {verify} random blends "
            f"(seed {seed}): {cuts} = {design['total_sx_stages']} SX stages"
            + ("" if design["feasible"] else f"; {len(d.failures)} blends still fail, e.g. {d.failures[0]}")
            + f"\nwrote {', '.join(DESIGN_FILES)} in {args.out}\n")
    return (text if args.json else said), (0 if design["feasible"] else EXIT_SOLVE)


def cmd_design(args):
    from magcycle.analysis.robust import default_samples
    from magcycle.report.uq_html import render_design_report

    study = guard(lambda: _with_feed(_apply_overrides(_study(args), args), args.feed, args.rate))
    if args.envelope:
        return _envelope_design(args, study)
    if args.samples is None and not study.explicit_samples:
        study.samples = default_samples(study.probability, study.confidence)
    check_out(args.out, DESIGN_FILES)
    if study.kind == "plant":
        d = _plant_design(study, args)
        subject = f"plant {study.problem.document.get('plant', {}).get('name', '?')}"
    else:
        d = _cascade_design(study, args)
        subject = f"cascade {study.source}"
    doc = {"kind": "design", "subject": subject, "design": d.to_dict()}
    text = dumps(doc)
    publish(args.out, {"design.json": text, "report.html": render_design_report(doc)})
    status = 0 if d.feasible else EXIT_SOLVE
    return (text if args.json else _design_text(study, subject, d, doc["design"], args.out)), status
