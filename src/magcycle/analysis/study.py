"""Study files for ``magcycle uq`` and ``magcycle design`` (TOML or JSON).

The document is declared in :mod:`magcycle.analysis.schema` (``magcycle
schema study``). With a plant and no ``[parameters]``, the feed variability
of the catalogue is used (:func:`magcycle.analysis.plant.default_plant_parameters`);
with no ``[metrics]``, every product's purity, recoveries, output and spec
check (plant), or the targets of the cascade file and ``meets_targets``, or
each component's purity and recovery in each outlet. Relative file names
are taken from the study file's folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from magcycle.documents import present, show
from magcycle.errors import InputError

__all__ = ["Study", "study_from_dict", "load_study", "default_study", "rank_correlations", "histograms",
           "uq_document", "samples_csv"]


@dataclass
class Study:
    kind: str  # "plant" or "cascade"
    problem: Any
    samples: int = 1000
    method: str = "lhs"
    seed: int = 0
    confidence: float = 0.95
    sobol: int = 0
    probability: float = 0.99
    design: Any = None  # cascade: the DesignProblem when the file has [targets]
    max_stages: int | None = None
    source: str = ""
    settings: dict = field(default_factory=dict)
    explicit_samples: bool = False  # the file gave [study] samples


def _resolve(value: str, base: Path | None, field: str) -> Path:
    """A file named in a study, relative to the study file's folder when it is there."""
    p = Path(value)
    if not p.is_absolute() and base is not None and present(base / p, field=field):
        p = base / p
    return p


def _in_file(name: str, call):
    """``call()``, with an InputError about a field of the file ``name`` (named by a study) naming
    the file first, as assays do: ``design.toml.flows.scrub: ...``."""
    try:
        return call()
    except InputError as exc:
        if exc.field == name or exc.field.startswith((f"{name}.", "study.")):
            raise
        raise InputError(f"{name}.{exc.field}", exc.reason) from None


def _cascade_problem(path: Path, parameters, metrics):
    """(problem, design) of a cascade study: a design problem when the file has [targets]."""
    from magcycle.analysis.cascade import CascadeProblem
    from magcycle.documents import read_document
    from magcycle.sx.optimise import design_problem
    from magcycle.sx.spec import CascadeSpec

    cdoc = read_document(path, field="study.cascade")
    if "targets" not in cdoc:
        spec = _in_file(path.name, lambda: CascadeSpec.from_dict(cdoc, source=path.name))
        return CascadeProblem(spec, parameters, metrics or CascadeProblem.default_metrics(spec)), None
    design = _in_file(path.name, lambda: design_problem(cdoc, source=path.name))
    spec = design.spec
    if isinstance(cdoc.get("cascade"), Mapping) and "extraction_stages" in cdoc["cascade"]:
        spec = _in_file(path.name, lambda: CascadeSpec.from_dict(
            {k: v for k, v in cdoc.items() if k not in ("targets", "design")}, source=path.name))
    problem = (CascadeProblem(spec, parameters, metrics) if metrics
               else CascadeProblem.from_targets(spec, parameters, design.targets))
    return problem, design


def _plant_problem(st, parameters, metrics, base: Path | None):
    from magcycle.analysis.plant import PlantProblem, default_plant_metrics, default_plant_parameters, \
        plant_document

    plant = st.plant or "reference"
    p = _resolve(plant, base, "study.plant")
    if present(p, field="study.plant"):
        if p.is_dir():
            raise InputError("study.plant", f"{show(plant)} is a folder, not a plant file")
        pdoc = _in_file(p.name, lambda: plant_document(str(p)))
    else:  # a built-in plant by name
        try:
            pdoc = plant_document(plant)
        except InputError as exc:
            raise InputError("study.plant" if exc.field == "plant" else exc.field, exc.reason) from None
    return PlantProblem(pdoc, parameters or default_plant_parameters(pdoc), metrics or default_plant_metrics(pdoc),
                        **({"chunk_size": st.chunk} if st.chunk is not None else {}))


def study_from_dict(doc: Mapping, base: Path | None = None, source: str = "study") -> Study:
    """A Study from a study document (:class:`magcycle.analysis.schema.StudyDocument`); files it
    names are looked up beside ``base``."""
    from magcycle.analysis.schema import StudyDocument, metric_of, parameter_of
    from magcycle.schema import validate

    model = validate(StudyDocument, doc)
    st = model.study
    parameters = [parameter_of(k, v) for k, v in (model.parameters or {}).items()]
    metrics = [metric_of(k, v) for k, v in model.metrics.items()] if model.metrics else None
    common = {"samples": st.samples, "method": st.method, "seed": st.seed, "confidence": st.confidence,
              "sobol": st.sobol, "probability": st.probability, "max_stages": st.max_stages, "source": source,
              "explicit_samples": "samples" in st.model_fields_set}
    if st.cascade is not None:
        path = _resolve(st.cascade, base, "study.cascade")
        if not present(path, field="study.cascade"):
            raise InputError("study.cascade", f"no such file: {st.cascade}")
        if not parameters:
            raise InputError("parameters", "a cascade study needs [parameters] (e.g. \"model.beta.Nd\" = "
                                           "{ normal = [1.5, 0.02] })")
        problem, design = _cascade_problem(path, parameters, metrics)
        return Study("cascade", problem, design=design, **common)
    return Study("plant", _plant_problem(st, parameters, metrics, base),
                 settings={"stage_factors": st.stage_factors}, **common)


def load_study(path) -> Study:
    """A Study from a study file (TOML or JSON)."""
    from magcycle.documents import read_document

    p = Path(path)
    return study_from_dict(read_document(p, field="study"), p.resolve().parent, p.name)


def default_study() -> Study:
    """The reference plant with the catalogue's feed variability, 1000 LHS samples, seed 0."""
    return study_from_dict({"study": {"plant": "reference"}})


def rank_correlations(mc, metrics: list[str] | None = None) -> dict:
    """Spearman rank correlation of each parameter with each chosen metric (failed samples dropped)."""
    import numpy as np
    from scipy.stats import rankdata

    chosen = metrics or [m.name for m in mc.metrics if m.kind != "pass" and m.is_spec] or \
        [m.name for m in mc.metrics if m.kind != "pass"][:3]
    out = {}
    for name in chosen:
        y = mc.column(name)
        ok = np.isfinite(y)
        if ok.sum() < 3 or np.ptp(y[ok]) == 0:
            continue
        ry = rankdata(y[ok])
        row = {}
        for j, p in enumerate(mc.parameters):
            rx = rankdata(mc.X[ok, j])
            c = np.corrcoef(rx, ry)[0, 1] if np.ptp(rx) > 0 else 0.0
            row[p.name] = float(c) if np.isfinite(c) else 0.0
        out[name] = row
    return out


def histograms(mc, bins: int = 30) -> dict:
    import numpy as np

    out = {}
    for j, m in enumerate(mc.metrics):
        y = mc.Y[:, j]
        y = y[np.isfinite(y)]
        if y.size == 0:
            continue
        lo, hi = float(y.min()), float(y.max())
        span = max(abs(lo), abs(hi)) or 1.0
        if hi - lo <= 1e-9 * span:  # (nearly) constant: bins a few ulps wide cannot be formed
            mid = 0.5 * (lo + hi)
            lo, hi = mid - 0.5e-6 * span, mid + 0.5e-6 * span
        counts, edges = np.histogram(y, bins=bins, range=(lo, hi))
        out[m.name] = {"edges": edges.tolist(), "counts": counts.astype(int).tolist()}
    return out


def uq_document(study: Study, mc, sobol=None) -> dict:
    """The results.json of ``magcycle uq``: summaries, histograms, rank correlations, Sobol indices."""
    subject = (f"plant {study.problem.document.get('plant', {}).get('name', '?')}" if study.kind == "plant"
               else f"cascade ({study.problem.spec.model}, {study.problem.spec.extraction_stages}+"
                    f"{study.problem.spec.scrub_stages} stages)")
    return {"kind": "uq", "subject": subject, "source": study.source,
            "monte_carlo": mc.to_dict(samples=False), "histograms": histograms(mc),
            "rank_correlation": rank_correlations(mc),
            "sobol": sobol.to_dict() if sobol is not None else None}


def samples_csv(mc) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["sample"] + [p.name for p in mc.parameters] + [m.name for m in mc.metrics] + ["error"])
    for i in range(mc.n):
        w.writerow([i] + [repr(float(v)) for v in mc.X[i]] + ["" if v != v else repr(float(v)) for v in mc.Y[i]]
                   + [mc.errors[i] or ""])
    return buf.getvalue()
