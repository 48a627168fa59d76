"""Study files for ``magcycle uq`` and ``magcycle design`` (TOML or JSON).

Document shape::

    [study]
    plant = "reference"        # a built-in plant or a flowsheet file; or
    # cascade = "prnd.toml"    # a cascade file (with [targets] for design)
    samples = 1000             # Monte Carlo samples (uq) / samples per candidate (design)
    method = "lhs"             # random | lhs | sobol
    seed = 1
    confidence = 0.95          # of the interval on P(meets spec)
    sobol = 0                  # base samples for Sobol indices (0: none)
    probability = 0.99         # design: required P(meets every spec)

    [parameters]               # name = { distribution = [args] }
    "feed.blend.ev" = { uniform = [0.2, 0.5] }
    "feed.ev.Dy" = { triangular = [2, 4, 8], units = "wt %" }

    [metrics]                  # optional; name = { path, at_least, at_most, kind }
    "NdPr purity" = { path = "products.NdPr oxide.purity", at_least = 0.995 }

With a plant and no ``[parameters]``, the feed variability of the catalogue
is used (:func:`magcycle.analysis.plant.default_plant_parameters`); with no
``[metrics]``, every product's purity, recoveries, output and spec check
(plant), or the targets of the cascade file and ``meets_targets``, or each
component's purity and recovery in each outlet. Relative file names are
taken from the study file's folder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from magcycle.analysis.model import Metric
from magcycle.analysis.parameters import parse_parameter
from magcycle.analysis.sampling import METHODS
from magcycle.errors import InputError

STUDY_KEYS = ("plant", "cascade", "samples", "method", "seed", "confidence", "sobol", "probability",
              "chunk", "max_stages", "stage_factors")


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


def _int(v, field, lo=0):
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise InputError(field, f"must be a whole number >= {lo}, got {v!r}")
    return v


def _fraction(v, field):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 < v < 1:
        raise InputError(field, f"must be a number in (0, 1), got {v!r}")
    return float(v)


def parse_metrics(section, field: str = "metrics") -> list[Metric]:
    if not isinstance(section, Mapping) or not section:
        raise InputError(field, "expected a table of name = { path = ..., at_least = ... }")
    out = []
    for name, m in section.items():
        where = f"{field}.{name}"
        if not isinstance(m, Mapping) or not isinstance(m.get("path"), str):
            raise InputError(where, "expected { path = \"...\" } with optional at_least, at_most, kind")
        extra = sorted(set(m) - {"path", "at_least", "at_most", "kind", "units"})
        if extra:
            raise InputError(f"{where}.{extra[0]}", "unknown key; expected path, at_least, at_most, kind, units")
        for k in ("at_least", "at_most"):
            v = m.get(k)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
                raise InputError(f"{where}.{k}", f"expected a finite number, got {v!r}")
        kind = m.get("kind", "value")
        if kind not in ("value", "pass"):
            raise InputError(f"{where}.kind", f"expected value or pass, got {kind!r}")
        out.append(Metric(str(name), m["path"], m.get("at_least"), m.get("at_most"), kind, str(m.get("units", ""))))
    return out


def study_from_dict(doc: Mapping, base: Path | None = None, source: str = "study") -> Study:
    from magcycle.analysis.cascade import CascadeProblem
    from magcycle.analysis.plant import PlantProblem, _plant_document, default_plant_metrics, \
        default_plant_parameters

    if not isinstance(doc, Mapping):
        raise InputError("study", "the document must be a table of sections")
    extra = sorted(set(doc) - {"study", "parameters", "metrics"})
    if extra:
        raise InputError(extra[0], "unknown section; expected [study], [parameters], [metrics]")
    st = doc.get("study") or {}
    if not isinstance(st, Mapping):
        raise InputError("study", "expected a table")
    bad = sorted(set(st) - set(STUDY_KEYS))
    if bad:
        raise InputError(f"study.{bad[0]}", f"unknown key; expected one of {', '.join(STUDY_KEYS)}")
    if "plant" in st and "cascade" in st:
        raise InputError("study.cascade", "give a plant or a cascade, not both")
    s = {"samples": _int(st.get("samples", 1000), "study.samples", 1),
         "method": st.get("method", "lhs"), "seed": _int(st.get("seed", 0), "study.seed"),
         "confidence": _fraction(st.get("confidence", 0.95), "study.confidence"),
         "sobol": _int(st.get("sobol", 0), "study.sobol"),
         "probability": _fraction(st.get("probability", 0.99), "study.probability")}
    if s["method"] not in METHODS:
        raise InputError("study.method", f"expected one of {', '.join(METHODS)}, got {s['method']!r}")
    max_stages = _int(st["max_stages"], "study.max_stages", 1) if "max_stages" in st else None
    params_doc = doc.get("parameters")
    if params_doc is not None and (not isinstance(params_doc, Mapping) or not params_doc):
        raise InputError("parameters", "expected a table of name = { distribution = [...] }")
    parameters = [parse_parameter(k, v, "parameters") for k, v in (params_doc or {}).items()]
    metrics = parse_metrics(doc["metrics"]) if "metrics" in doc else None

    def resolve(v, field):
        if not isinstance(v, str) or not v:
            raise InputError(field, f"expected a file name, got {v!r}")
        p = Path(v)
        if not p.is_absolute() and base is not None and (base / p).exists():
            p = base / p
        return p

    if "cascade" in st:
        from magcycle.sx.optimise import design_problem
        from magcycle.documents import read_document
        from magcycle.sx.spec import CascadeSpec

        path = resolve(st["cascade"], "study.cascade")
        if not path.is_file():
            raise InputError("study.cascade", f"no such file: {st['cascade']}")
        cdoc = read_document(path)
        if not parameters:
            raise InputError("parameters", "a cascade study needs [parameters] (e.g. \"model.beta.Nd\" = "
                                           "{ normal = [1.5, 0.02] })")
        design = None
        if isinstance(cdoc, Mapping) and "targets" in cdoc:
            design = design_problem(cdoc, source=path.name)
            spec = design.spec
            if isinstance(cdoc.get("cascade"), Mapping) and "extraction_stages" in cdoc["cascade"]:
                spec = CascadeSpec.from_dict({k: v for k, v in cdoc.items() if k not in ("targets", "design")},
                                             source=path.name)
            problem = (CascadeProblem(spec, parameters, metrics) if metrics
                       else CascadeProblem.from_targets(spec, parameters, design.targets))
        else:
            spec = CascadeSpec.from_dict(cdoc, source=path.name)
            problem = CascadeProblem(spec, parameters, metrics or CascadeProblem.default_metrics(spec))
        return Study("cascade", problem, design=design, max_stages=max_stages, source=source,
                     explicit_samples="samples" in st, **s)
    factors = st.get("stage_factors")
    if factors is not None and (not isinstance(factors, list) or not factors or any(
            isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.05 <= f <= 20 for f in factors)):
        raise InputError("study.stage_factors", f"expected a list of numbers in [0.05, 20], got {factors!r}")
    plant = st.get("plant", "reference")
    if not isinstance(plant, str):
        raise InputError("study.plant", f"expected a plant name or file, got {plant!r}")
    p = resolve(plant, "study.plant")
    plant_ref = str(p) if p.exists() else plant
    pdoc = _plant_document(plant_ref)
    problem = PlantProblem(pdoc, parameters or default_plant_parameters(pdoc),
                           metrics or default_plant_metrics(pdoc), **(
                               {"chunk_size": _int(st["chunk"], "study.chunk", 1)} if "chunk" in st else {}))
    return Study("plant", problem, max_stages=max_stages, source=source,
                 settings={"stage_factors": st.get("stage_factors")}, explicit_samples="samples" in st, **s)


def load_study(path) -> Study:
    from magcycle.documents import read_document

    p = Path(path)
    if not p.is_file():
        raise InputError("study", f"no such file: {path}")
    return study_from_dict(read_document(p), p.resolve().parent, p.name)


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
        if hi == lo:
            lo, hi = lo - 0.5 * (abs(lo) or 1) * 1e-6, hi + 0.5 * (abs(hi) or 1) * 1e-6
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
