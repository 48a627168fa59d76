"""Cascade configuration: validated, immutable, in internal units.

The public contract is ``shared/design/cascade-spec.md``. A configuration is
read from TOML or JSON (or built from a plain mapping with
:meth:`CascadeSpec.from_dict`), validated field by field, and frozen. Every
validation failure raises :class:`magcycle.errors.InputError` whose ``field``
is the dotted path of the offending key (``flows.organic``, ``model.D.Nd``)
and whose ``reason`` is one line.

Internal units: L/h for volumetric flows, mol/L for concentrations, mol of
rare earth per L of loaded organic for ``organic_loading``. Unit strings
("250 L/h", "36 g/L") are converted here and nowhere else.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from magcycle.chem import check_element, parse_quantity
from magcycle.errors import InputError

MODELS = ("constant_d", "constant_beta", "mass_action")
COUNTER_IONS = ("NH4+", "Na+")

_CASCADE_KEYS = ("model", "extraction_stages", "scrub_stages", "strip_stages")
_FLOW_KEYS = ("organic", "feed", "scrub", "strip")
_MODEL_KEYS = {
    "constant_d": ("D", "D_scrub", "D_strip"),
    "constant_beta": ("beta", "organic_loading", "scrub_acid"),
    "mass_action": (
        "log10_K",
        "extractant",
        "saponification",
        "counter_ion",
        "feed_acid",
        "scrub_acid",
        "strip_acid",
    ),
}
_TOP_KEYS = ("cascade", "flows", "feed", "model", "targets")


def _frozen(values) -> np.ndarray:
    arr = np.array(values, dtype=float)
    arr.setflags(write=False)
    return arr


# --------------------------------------------------------------------------
# Model parameters (one small frozen dataclass per equilibrium model)
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ConstantDParams:
    """Distribution ratios [-] per component, per section."""

    D: np.ndarray
    D_scrub: np.ndarray
    D_strip: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class ConstantBetaParams:
    """Relative extractabilities [-], organic loading [mol/L], scrub acid [mol/L H+]."""

    beta: np.ndarray
    organic_loading: float
    scrub_acid: float


@dataclass(frozen=True, eq=False)
class MassActionParams:
    """Mass-action constants and reagent strengths (see cascade-spec.md)."""

    log10_K: np.ndarray
    extractant: float
    saponification: float
    counter_ion: str
    feed_acid: float
    scrub_acid: float
    strip_acid: float


ModelParams = ConstantDParams | ConstantBetaParams | MassActionParams


# --------------------------------------------------------------------------
# The specification
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CascadeSpec:
    """A validated counter-current cascade (extraction, scrub, strip).

    Stages are numbered 1..N, N = n + m + k; the organic enters stage 1, the
    aqueous feed enters stage n, the scrub stage n+m and the strip stage N.
    """

    model: str
    extraction_stages: int
    scrub_stages: int
    strip_stages: int
    organic: float  # [L/h]
    feed_flow: float  # [L/h]
    scrub: float  # [L/h]
    strip: float  # [L/h]
    components: tuple[str, ...]
    feed: np.ndarray  # [mol/L] per component
    params: ModelParams
    source: str | None = field(default=None, compare=False)

    def __eq__(self, other) -> bool:
        if not isinstance(other, CascadeSpec):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None

    # ---- derived geometry -------------------------------------------------
    @property
    def n_stages(self) -> int:
        """Total stage count N = n + m + k."""
        return self.extraction_stages + self.scrub_stages + self.strip_stages

    @property
    def feed_stage(self) -> int:
        """Stage (1-based) that receives the aqueous feed: n."""
        return self.extraction_stages

    @property
    def feed_mol_per_h(self) -> np.ndarray:
        """Feed flow of each component [mol/h]."""
        return self.feed_flow * self.feed

    def aqueous_flows(self) -> np.ndarray:
        """Aqueous volumetric flow leaving each stage [L/h], shape (N,)."""
        n, m, k = self.extraction_stages, self.scrub_stages, self.strip_stages
        return np.concatenate(
            [
                np.full(n, self.feed_flow + self.scrub),
                np.full(m, self.scrub),
                np.full(k, self.strip),
            ]
        )

    # ---- construction -----------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> "CascadeSpec":
        """Validate a configuration mapping (the TOML/JSON document) into a spec.

        Raises :class:`InputError` naming the field on the first problem.
        The mapping is not modified.
        """
        return _parse(data, source)

    def replace(self, changes: Mapping[str, Any]) -> "CascadeSpec":
        """A validated copy with parts of the document changed.

        ``changes`` has the shape of the configuration document and is merged
        into :meth:`to_dict` table by table, e.g.
        ``spec.replace({"flows": {"organic": 2.0}, "model": {"D": {"Nd": 1.9}}})``.
        """
        return _parse(_merged(self.to_dict(), changes), self.source)

    def to_dict(self) -> dict:
        """The configuration as a plain mapping (internal units), loadable again."""
        p = self.params
        comps = self.components

        def per(arr):
            return {c: float(v) for c, v in zip(comps, arr)}

        if isinstance(p, ConstantDParams):
            model = {"D": per(p.D), "D_scrub": per(p.D_scrub)}
            if p.D_strip is not None:
                model["D_strip"] = per(p.D_strip)
        elif isinstance(p, ConstantBetaParams):
            model = {
                "beta": per(p.beta),
                "organic_loading": p.organic_loading,
                "scrub_acid": p.scrub_acid,
            }
        else:
            model = {
                "log10_K": per(p.log10_K),
                "extractant": p.extractant,
                "saponification": p.saponification,
                "counter_ion": p.counter_ion,
                "feed_acid": p.feed_acid,
                "scrub_acid": p.scrub_acid,
                "strip_acid": p.strip_acid,
            }
        return {
            "cascade": {
                "model": self.model,
                "extraction_stages": self.extraction_stages,
                "scrub_stages": self.scrub_stages,
                "strip_stages": self.strip_stages,
            },
            "flows": {
                "organic": self.organic,
                "feed": self.feed_flow,
                "scrub": self.scrub,
                "strip": self.strip,
            },
            "feed": per(self.feed),
            "model": model,
        }


def _merged(base: Mapping, changes: Mapping) -> dict:
    out = dict(base)
    for key, val in changes.items():
        if isinstance(val, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], val)
        else:
            out[key] = val
    return out


# --------------------------------------------------------------------------
# Loading files
# --------------------------------------------------------------------------


def read_document(path: str | Path) -> dict:
    """Read a TOML or JSON document into a mapping.

    The format is chosen by the suffix (``.toml`` or ``.json``); any other
    suffix is tried as TOML, then JSON. Raises :class:`InputError` with field
    ``file`` when the file is missing or is neither.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file", f"no such file: {str(p)!r}") from None
    except IsADirectoryError:
        raise InputError("file", f"{str(p)!r} is a directory, not a cascade file") from None
    except UnicodeDecodeError:
        raise InputError("file", f"{str(p)!r} is not UTF-8 text (TOML or JSON expected)") from None
    except OSError as exc:
        raise InputError("file", f"cannot read {str(p)!r}: {exc.strerror}") from None
    return parse_document(text, p.suffix.lower(), name=str(p))


def parse_document(text: str, suffix: str = "", *, name: str = "<text>") -> dict:
    """Parse TOML or JSON text; see :func:`read_document`."""
    import tomllib

    def as_toml():
        return tomllib.loads(text)

    def as_json():
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise ValueError("the top level is not an object")
        return doc

    order = {".json": (as_json,), ".toml": (as_toml,)}.get(suffix, (as_toml, as_json))
    errors = []
    for reader in order:
        try:
            return reader()
        except (tomllib.TOMLDecodeError, ValueError) as exc:
            errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    kind = {".json": "JSON", ".toml": "TOML"}.get(suffix, "TOML or JSON")
    raise InputError("file", f"{name} is not valid {kind}: {errors[0]}")


def load_cascade(path: str | Path) -> CascadeSpec:
    """Load and validate a cascade file (TOML or JSON)."""
    return CascadeSpec.from_dict(read_document(path), source=str(path))


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _section(data: Mapping, key: str, *, required: bool = True) -> Mapping:
    if key not in data:
        if required:
            raise InputError(key, "missing section")
        return {}
    sec = data[key]
    if not isinstance(sec, Mapping):
        raise InputError(key, f"must be a table of keys, got {type(sec).__name__}")
    return sec


def _no_unknown(sec: Mapping, allowed, path: str) -> None:
    for key in sec:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise InputError(where, f"unknown key; expected one of {', '.join(allowed)}")


def _stage_count(sec: Mapping, key: str, minimum: int, default: int | None = None) -> int:
    path = f"cascade.{key}"
    if key not in sec:
        if default is None:
            raise InputError(path, "missing (a whole number of stages)")
        return default
    v = sec[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(path, f"must be a whole number, got {v!r}")
    if isinstance(v, float):
        if not math.isfinite(v) or v != int(v):
            raise InputError(path, f"must be a whole number, got {v!r}")
        v = int(v)
    if v < minimum:
        raise InputError(path, f"must be >= {minimum}, got {v}")
    return int(v)


def _number(value, path: str, kind: str, *, element: str | None = None) -> float:
    return float(parse_quantity(value, kind, field=path, element=element))


def _positive(value: float, path: str, unit: str) -> float:
    if not value > 0:
        raise InputError(path, f"must be > 0 {unit}, got {value:g}")
    return value


def _per_component(sec: Mapping, key: str, comps, kind: str, *, required: bool = True):
    path = f"model.{key}"
    if key not in sec:
        if required:
            raise InputError(path, f"missing (one value for each of {', '.join(comps)})")
        return None
    table = sec[key]
    if not isinstance(table, Mapping):
        raise InputError(path, f"must be a table of element = value, got {table!r}")
    for el in table:
        if el not in comps:
            check_element(el, f"{path}.{el}")
            raise InputError(f"{path}.{el}", f"{el} is not in [feed] ({', '.join(comps)})")
    values = []
    for el in comps:
        if el not in table:
            raise InputError(f"{path}.{el}", "missing (every feed component needs a value)")
        values.append(_number(table[el], f"{path}.{el}", kind))
    return values


def _parse(data: Mapping[str, Any], source: str | None) -> CascadeSpec:
    if not isinstance(data, Mapping):
        raise InputError("file", "the document must be a table of sections")
    _no_unknown(data, _TOP_KEYS, "")
    cas = _section(data, "cascade")
    _no_unknown(cas, _CASCADE_KEYS, "cascade")
    model = cas.get("model", None)
    if model is None:
        raise InputError("cascade.model", f"missing; one of {', '.join(MODELS)}")
    if model not in MODELS:
        raise InputError("cascade.model", f"unknown model {model!r}; one of {', '.join(MODELS)}")
    n = _stage_count(cas, "extraction_stages", 1)
    m = _stage_count(cas, "scrub_stages", 0, default=0)
    k = _stage_count(cas, "strip_stages", 0, default=0)

    flows = _section(data, "flows")
    _no_unknown(flows, _FLOW_KEYS, "flows")
    q = {}
    for key in _FLOW_KEYS:
        if key in flows:
            q[key] = _number(flows[key], f"flows.{key}", "volumetric_flow")
            if not math.isfinite(q[key]) or q[key] < 0:
                raise InputError(f"flows.{key}", f"must be >= 0 L/h, got {q[key]:g}")
        elif key in ("organic", "feed"):
            raise InputError(f"flows.{key}", "missing (L/h)")
        else:
            q[key] = 0.0
    _positive(q["organic"], "flows.organic", "L/h")
    _positive(q["feed"], "flows.feed", "L/h")
    if m > 0 and not q["scrub"] > 0:
        raise InputError("flows.scrub", f"must be > 0 L/h when scrub_stages = {m}")
    if model == "constant_beta" and not q["scrub"] > 0:
        raise InputError("flows.scrub", "must be > 0 L/h: the scrub acid sets the reflux W")
    if k > 0 and not q["strip"] > 0:
        raise InputError("flows.strip", f"must be > 0 L/h when strip_stages = {k}")

    feed_sec = _section(data, "feed")
    if not feed_sec:
        raise InputError("feed", "no components; give mol/L of at least one rare earth")
    comps = []
    feed = []
    for el, val in feed_sec.items():
        path = f"feed.{el}"
        check_element(el, path)
        c = _number(val, path, "concentration", element=el)
        if not (math.isfinite(c) and c > 0):
            raise InputError(path, f"must be > 0 mol/L (leave the element out instead), got {c:g}")
        comps.append(el)
        feed.append(c)
    comps = tuple(comps)

    msec = _section(data, "model")
    _no_unknown(msec, _MODEL_KEYS[model], "model")
    if model == "constant_d":
        params = _parse_constant_d(msec, comps, k)
    elif model == "constant_beta":
        params = _parse_constant_beta(msec, comps, k)
    else:
        params = _parse_mass_action(msec, comps, n, m, k, q, feed)

    spec = CascadeSpec(
        model=model,
        extraction_stages=n,
        scrub_stages=m,
        strip_stages=k,
        organic=q["organic"],
        feed_flow=q["feed"],
        scrub=q["scrub"],
        strip=q["strip"],
        components=comps,
        feed=_frozen(feed),
        params=params,
        source=source,
    )
    if model == "constant_beta":
        check_beta_flows(spec)
    return spec


def _checked_ratio(values, comps, path: str, what: str):
    for el, v in zip(comps, values):
        if not (math.isfinite(v) and v > 0):
            raise InputError(f"{path}.{el}", f"{what} must be > 0, got {v:g}")
    return _frozen(values)


def _parse_constant_d(msec, comps, k) -> ConstantDParams:
    D = _checked_ratio(_per_component(msec, "D", comps, "dimensionless"), comps, "model.D", "D")
    Ds = _per_component(msec, "D_scrub", comps, "dimensionless", required=False)
    Ds = D if Ds is None else _checked_ratio(Ds, comps, "model.D_scrub", "D")
    Dt = _per_component(msec, "D_strip", comps, "dimensionless", required=False)
    if Dt is not None:
        Dt = _checked_ratio(Dt, comps, "model.D_strip", "D")
    elif k > 0:
        raise InputError("model.D_strip", f"missing; required when strip_stages = {k}")
    return ConstantDParams(D=D, D_scrub=Ds, D_strip=Dt)


def _scalar(msec, key, kind="concentration", *, default=None, unit="mol/L"):
    path = f"model.{key}"
    if key not in msec:
        if default is None:
            raise InputError(path, f"missing ({unit})")
        return default
    v = _number(msec[key], path, kind)
    if not math.isfinite(v):
        raise InputError(path, f"must be finite, got {v}")
    return v


def _parse_constant_beta(msec, comps, k) -> ConstantBetaParams:
    if k > 0:
        raise InputError(
            "cascade.strip_stages",
            "must be 0 for constant_beta (the loaded organic is totally refluxed)",
        )
    beta = _checked_ratio(
        _per_component(msec, "beta", comps, "dimensionless"), comps, "model.beta", "beta"
    )
    loading = _positive(_scalar(msec, "organic_loading"), "model.organic_loading", "mol/L")
    acid = _positive(_scalar(msec, "scrub_acid"), "model.scrub_acid", "mol/L")
    return ConstantBetaParams(beta=beta, organic_loading=loading, scrub_acid=acid)


def beta_flows(spec: CascadeSpec) -> tuple[float, float, float, float, float]:
    """Rare-earth flows of the constant-beta model [mol/h]: (S, W, F, P, R).

    S = Q_org * loading, W = Q_scrub * [H+]_scrub / 3, F = Q_feed * sum(c),
    P = S - W, R = F + W - S.
    """
    p = spec.params
    S = spec.organic * p.organic_loading
    W = spec.scrub * p.scrub_acid / 3.0
    F = spec.feed_flow * float(np.sum(spec.feed))
    return S, W, F, S - W, F + W - S


def check_beta_flows(spec: CascadeSpec) -> None:
    """Raise InputError unless S > W and R = F + W - S > 0."""
    S, W, F, P, R = beta_flows(spec)
    if not S > W:
        raise InputError(
            "flows.organic",
            f"organic rare-earth flow S = {S:.6g} mol/h must exceed the scrub reflux "
            f"W = {W:.6g} mol/h (raise the organic flow or loading, or lower the scrub)",
        )
    if not R > 0:
        raise InputError(
            "flows.organic",
            f"raffinate R = F + W - S = {R:.6g} mol/h must be > 0: the organic "
            f"(S = {S:.6g} mol/h) would take all of the feed (F = {F:.6g}) and scrub (W = {W:.6g})",
        )


def _parse_mass_action(msec, comps, n, m, k, q, feed) -> MassActionParams:
    logK = _per_component(msec, "log10_K", comps, "dimensionless")
    for el, v in zip(comps, logK):
        if not math.isfinite(v):
            raise InputError(f"model.log10_K.{el}", f"must be finite, got {v}")
    extractant = _positive(_scalar(msec, "extractant"), "model.extractant", "mol/L")
    sap = _scalar(msec, "saponification", "dimensionless", default=0.0, unit="fraction")
    if not 0.0 <= sap < 1.0:
        raise InputError("model.saponification", f"must be in [0, 1), got {sap:g}")
    ion = msec.get("counter_ion", "NH4+")
    if ion not in COUNTER_IONS:
        raise InputError("model.counter_ion", f"must be one of {', '.join(COUNTER_IONS)}, got {ion!r}")
    feed_acid = _scalar(msec, "feed_acid", default=0.0)
    scrub_acid = _scalar(msec, "scrub_acid", default=0.0)
    strip_acid = _scalar(msec, "strip_acid", default=0.0)
    for key, v in (("feed_acid", feed_acid), ("scrub_acid", scrub_acid), ("strip_acid", strip_acid)):
        if v < 0:
            raise InputError(f"model.{key}", f"must be >= 0 mol/L, got {v:g}")
    if m > 0 and not scrub_acid > 0:
        raise InputError("model.scrub_acid", f"must be > 0 mol/L when scrub_stages = {m}")
    if k > 0 and not strip_acid > 0:
        raise InputError("model.strip_acid", f"must be > 0 mol/L when strip_stages = {k}")
    # Electroneutrality of the stage-1 aqueous: the counter-ion released by the
    # saponified organic must leave room for H+ and RE3+ within the chloride.
    chloride = q["feed"] * (3.0 * sum(feed) + feed_acid) + q["scrub"] * scrub_acid  # [mol/h]
    released = sap * extractant * q["organic"]  # [mol/h]
    if released >= chloride:
        raise InputError(
            "model.saponification",
            f"the counter-ion released by the organic ({released:.4g} mol/h) must be less than "
            f"the chloride of the extraction-section aqueous ({chloride:.4g} mol/h); "
            f"lower the saponification or the organic flow",
        )
    return MassActionParams(
        log10_K=_frozen(logK),
        extractant=extractant,
        saponification=sap,
        counter_ion=ion,
        feed_acid=feed_acid,
        scrub_acid=scrub_acid,
        strip_acid=strip_acid,
    )
