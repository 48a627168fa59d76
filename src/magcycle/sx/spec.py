"""Cascade configuration: validated, immutable, in internal units.

The public contract is the cascade document, declared as a schema in
:mod:`magcycle.sx.schema` (``magcycle schema cascade`` prints it). A configuration
is read from TOML or JSON (:func:`load_cascade`) or built from a plain
mapping (:meth:`CascadeSpec.from_dict`), validated by that schema and
frozen. Every validation failure raises :class:`magcycle.errors.InputError`
whose ``field`` is the dotted path of the offending key (``flows.organic``,
``model.D.Nd``) and whose ``reason`` is one line.

Variants of a validated spec -- other flows, feed or stage counts, as a
design search or a plant's SX cut makes them thousands of times -- come from
:meth:`CascadeSpec.with_flows` and :meth:`CascadeSpec.with_stages`: no
document is parsed, and :func:`check_cascade` applies the loader's rules to
the new values. :meth:`CascadeSpec.replace` merges a partial document and
validates it whole.

Internal units: L/h for volumetric flows, mol/L for concentrations, mol of
rare earth per L of loaded organic for ``organic_loading``. Unit strings
("250 L/h", "36 g/L") are converted by the schema and nowhere else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from magcycle.documents import read_document
from magcycle.errors import InputError

__all__ = ["MODELS", "MAX_SECTION_STAGES", "MIN_FLOW_L_PER_H", "MAX_FLOW_L_PER_H", "MIN_CONCENTRATION",
           "MAX_CONCENTRATION", "RATIO_RANGE", "LOG10_K_RANGE", "MAX_LOADING", "MAX_ACID", "ConstantDParams", "ConstantBetaParams", "MassActionParams",
           "ModelParams", "CascadeSpec", "load_cascade", "spec_from_document", "check_cascade", "beta_flows",
           "check_beta_flows", "target_components"]

MODELS = ("constant_d", "constant_beta", "mass_action")
# The limits of a cascade: the one statement used by the document's schema (magcycle.sx.schema),
# by every variant (check_cascade) and by batches of variants (magcycle.sx.batch). No plant
# comes near them; they keep every number far inside the range of doubles.
#: most stages of one section (magcycle.schema.MAX_STAGES)
MAX_SECTION_STAGES = 1000
#: volumetric flows [L/h]: a microlitre a day is 4e-8 L/h; 10^9 m3/h is no plant
MIN_FLOW_L_PER_H, MAX_FLOW_L_PER_H = 1e-12, 1e12
#: feed concentrations [mol/L]: rare-earth chlorides dissolve to about 3-4 mol/L
MIN_CONCENTRATION, MAX_CONCENTRATION = 1e-40, 100.0
#: distribution ratios and relative extractabilities [-]
RATIO_RANGE = (1e-12, 1e12)
#: log10 of the mass-action extraction constants [-]
LOG10_K_RANGE = (-30.0, 30.0)
#: organic loading and extractant [mol/L] (at most), and acids [mol/L] (at most)
MAX_LOADING, MAX_ACID = 10.0, 20.0


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
    """Mass-action constants and reagent strengths.

    Ln3+ + 3 (HA)2(org) = Ln(HA2)3(org) + 3 H+, so D_i = K_i [(HA)2]^3 / [H+]^3:
    ``log10_K`` per component, ``extractant`` [mol/L of HA as monomer],
    ``saponification`` [-] (share of HA pre-neutralised by ``counter_ion``),
    ``feed_acid``, ``scrub_acid``, ``strip_acid`` [mol/L of H+]. The fields of
    ``[model]`` for ``mass_action`` in ``magcycle schema cascade``.
    """

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
        from magcycle.schema import validate
        from magcycle.sx.schema import CascadeDocument

        return validate(CascadeDocument, data).to_spec(source)

    def replace(self, changes: Mapping[str, Any]) -> "CascadeSpec":
        """A validated copy with parts of the document changed.

        ``changes`` has the shape of the configuration document and is merged
        into :meth:`to_dict` table by table, e.g.
        ``spec.replace({"flows": {"organic": 2.0}, "model": {"D": {"Nd": 1.9}}})``.
        """
        return CascadeSpec.from_dict(_merged(self.to_dict(), changes), source=self.source)

    def with_flows(self, *, organic: float | None = None, feed_flow: float | None = None,
                   scrub: float | None = None, strip: float | None = None,
                   feed=None) -> "CascadeSpec":
        """A copy with other flows [L/h] and feed concentrations [mol/L, one per component],
        checked by the loader's rules (:func:`check_cascade`); no document is parsed.

        >>> spec = CascadeSpec.from_dict({"cascade": {"model": "constant_d", "extraction_stages": 3},
        ...     "flows": {"organic": 1.0, "feed": 1.0}, "feed": {"Nd": 0.1}, "model": {"D": {"Nd": 2.0}}})
        >>> spec.with_flows(organic=2.5).organic
        2.5
        >>> spec.with_flows(organic=-1.0)
        Traceback (most recent call last):
        ...
        magcycle.errors.InputError: flows.organic: must be in [1e-12, 1e+12] L/h, got -1
        """
        changes = {k: float(v) for k, v in (("organic", organic), ("feed_flow", feed_flow), ("scrub", scrub),
                                            ("strip", strip)) if v is not None}
        if feed is not None:
            changes["feed"] = _frozen(feed)
        out = dataclasses.replace(self, **changes)
        check_cascade(out, stages=False)  # the stage counts are this spec's, already checked
        return out

    def with_stages(self, extraction: int | None = None, scrub: int | None = None,
                    strip: int | None = None) -> "CascadeSpec":
        """A copy with other stage counts, checked by the loader's rules (:func:`check_cascade`).

        >>> spec = CascadeSpec.from_dict({"cascade": {"model": "constant_d", "extraction_stages": 3},
        ...     "flows": {"organic": 1.0, "feed": 1.0}, "feed": {"Nd": 0.1}, "model": {"D": {"Nd": 2.0}}})
        >>> spec.with_stages(extraction=7).n_stages
        7
        >>> spec.with_stages(scrub=2)
        Traceback (most recent call last):
        ...
        magcycle.errors.InputError: flows.scrub: must be > 0 L/h when scrub_stages = 2
        """
        changes = {k: v for k, v in (("extraction_stages", extraction), ("scrub_stages", scrub),
                                     ("strip_stages", strip)) if v is not None}
        out = dataclasses.replace(self, **changes)
        check_cascade(out)
        return out

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


def target_components(label: str, components) -> tuple[int, ...]:
    """Indices of the feed components a target's label names: one (``Nd``) or a group (``Pr+Nd``).

    A group's purity or recovery is that of the sum of its members, so ``Pr+Nd`` targets didymium.
    Raises :class:`ValueError` with the reason when a member is not in ``components`` or is named
    twice; the document schema and :func:`magcycle.sx.optimise.parse_targets` both read labels here.

    >>> target_components("Pr+Nd", ("La", "Pr", "Nd"))
    (1, 2)
    >>> target_components("Dy", ("Pr", "Nd"))
    Traceback (most recent call last):
    ValueError: Dy is not a component of the feed (Pr, Nd)
    """
    comps = list(components)
    names = label.split("+")
    unknown = [c for c in names if c not in comps]
    if unknown:
        raise ValueError(f"{'+'.join(unknown)} is not a component of the feed ({', '.join(comps)})")
    if len(set(names)) != len(names):
        raise ValueError(f"{label} names a component twice")
    return tuple(comps.index(c) for c in names)


# --------------------------------------------------------------------------
# Loading files and building specs
# --------------------------------------------------------------------------


def load_cascade(path: str | Path) -> CascadeSpec:
    """Load and validate a cascade file (TOML or JSON)."""
    return CascadeSpec.from_dict(read_document(path), source=str(path))


def _per_component(table: Mapping | None, key: str, comps, *, required: bool = True):
    """The values of a per-component model table in the feed's order (None when absent and
    not required); every feed component needs one, and only feed components may appear."""
    path = f"model.{key}"
    if table is None:
        if required:
            raise InputError(path, f"missing (one value for each of {', '.join(comps)})")
        return None
    for el in table:
        if el not in comps:
            raise InputError(f"{path}.{el}", f"{el} is not in [feed] ({', '.join(comps)})")
    for el in comps:
        if el not in table:
            raise InputError(f"{path}.{el}", "missing (every feed component needs a value)")
    return _frozen([table[el] for el in comps])


def _model_params(doc, comps) -> ModelParams:
    m = doc.model
    if doc.cascade.model == "constant_d":
        D = _per_component(m.D, "D", comps)
        Ds = _per_component(m.D_scrub, "D_scrub", comps, required=False)
        return ConstantDParams(D=D, D_scrub=D if Ds is None else Ds,
                               D_strip=_per_component(m.D_strip, "D_strip", comps, required=False))
    if doc.cascade.model == "constant_beta":
        return ConstantBetaParams(beta=_per_component(m.beta, "beta", comps),
                                  organic_loading=float(m.organic_loading), scrub_acid=float(m.scrub_acid))
    return MassActionParams(log10_K=_per_component(m.log10_K, "log10_K", comps), extractant=float(m.extractant),
                            saponification=float(m.saponification), counter_ion=m.counter_ion,
                            feed_acid=float(m.feed_acid), scrub_acid=float(m.scrub_acid),
                            strip_acid=float(m.strip_acid))


def spec_from_document(doc, source: str | None = None) -> CascadeSpec:
    """The CascadeSpec of a validated :class:`magcycle.sx.schema.CascadeDocument`; the rules
    across fields (:func:`check_cascade`) are applied here."""
    c, q = doc.cascade, doc.flows
    comps = tuple(doc.feed)
    spec = CascadeSpec(model=c.model, extraction_stages=c.extraction_stages, scrub_stages=c.scrub_stages,
                       strip_stages=c.strip_stages, organic=float(q.organic), feed_flow=float(q.feed),
                       scrub=float(q.scrub), strip=float(q.strip), components=comps,
                       feed=_frozen([doc.feed[el] for el in comps]), params=_model_params(doc, comps),
                       source=source)
    check_cascade(spec)
    return spec


# --------------------------------------------------------------------------
# The rules every spec keeps
# --------------------------------------------------------------------------


def _check_stages(spec: CascadeSpec) -> None:
    for key, lo in (("extraction_stages", 1), ("scrub_stages", 0), ("strip_stages", 0)):
        v = getattr(spec, key)
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= MAX_SECTION_STAGES:
            raise InputError(f"cascade.{key}", f"must be a whole number in [{lo}, {MAX_SECTION_STAGES}], got {v!r}")


def _check_flow_ranges(spec: CascadeSpec) -> None:
    for key, name, required in (("organic", "organic", True), ("feed_flow", "feed", True),
                                ("scrub", "scrub", False), ("strip", "strip", False)):
        v = getattr(spec, key)
        ok = (MIN_FLOW_L_PER_H <= v <= MAX_FLOW_L_PER_H) or (not required and v == 0.0)
        if not ok:  # NaN fails too
            raise InputError(f"flows.{name}", f"must be {'' if required else '0 or '}in [{MIN_FLOW_L_PER_H:g}, "
                                              f"{MAX_FLOW_L_PER_H:g}] L/h, got {v:g}")


def _check_section_flows(spec: CascadeSpec) -> None:
    m, k = spec.scrub_stages, spec.strip_stages
    if m > 0 and not spec.scrub > 0:
        raise InputError("flows.scrub", f"must be > 0 L/h when scrub_stages = {m}")
    if spec.model == "constant_beta" and not spec.scrub > 0:
        raise InputError("flows.scrub", "must be > 0 L/h: the scrub acid sets the reflux W")
    if k > 0 and not spec.strip > 0:
        raise InputError("flows.strip", f"must be > 0 L/h when strip_stages = {k}")


def _check_feed(spec: CascadeSpec) -> None:
    feed = spec.feed.tolist()  # plain floats: a variant is checked thousands of times in a Monte Carlo
    if len(feed) != len(spec.components) or not (min(feed) >= MIN_CONCENTRATION and max(feed) <= MAX_CONCENTRATION):
        bad = next((i for i, c in enumerate(feed) if not MIN_CONCENTRATION <= c <= MAX_CONCENTRATION), 0)
        raise InputError(f"feed.{spec.components[bad]}", f"must be in [{MIN_CONCENTRATION:g}, "
                                                         f"{MAX_CONCENTRATION:g}] mol/L, got {feed[bad]:g}")


def check_cascade(spec: CascadeSpec, *, stages: bool = True) -> None:
    """The rules of a valid cascade, for a spec from a document or a variant of one.

    Stage counts in range; flows in [1e-12, 1e12] L/h (scrub and strip may be 0); a scrub
    flow with scrub stages (and always for constant_beta, whose scrub acid
    sets the reflux); a strip flow with strip stages; feed concentrations in
    [1e-40, 100] mol/L; the strip-section ratios of constant_d with strip
    stages; for constant_beta no strip section, S > W and R = F + W - S > 0
    (:func:`check_beta_flows`); for mass_action scrub and strip acids with
    their sections and an organic whose released counter-ion leaves room for
    H+ and RE3+ in the chloride of the extraction section. Raises
    :class:`InputError` naming the field. ``stages=False`` leaves out the
    check of the stage counts alone (a variant with other flows only).
    """
    if stages:
        _check_stages(spec)
    _check_flow_ranges(spec)
    _check_section_flows(spec)
    _check_feed(spec)
    p, k = spec.params, spec.strip_stages
    if spec.model == "constant_d":
        if k > 0 and p.D_strip is None:
            raise InputError("model.D_strip", f"missing; required when strip_stages = {k}")
    elif spec.model == "constant_beta":
        if k > 0:
            raise InputError("cascade.strip_stages",
                             "must be 0 for constant_beta (the loaded organic is totally refluxed)")
        check_beta_flows(spec)
    else:
        _check_mass_action(spec)


def beta_flows(spec: CascadeSpec) -> tuple[float, float, float, float, float]:
    """Rare-earth flows of the constant-beta model [mol/h]: (S, W, F, P, R).

        S = Q_org * loading,  W = Q_scrub * [H+]_scrub / 3,  F = Q_feed * sum(c),
        P = S - W,  R = F + W - S

    (the constant_beta convention of the cascade document, ``magcycle schema
    cascade``: three H+ of the scrub acid return one RE3+).

    >>> spec = CascadeSpec.from_dict({"cascade": {"model": "constant_beta", "extraction_stages": 5},
    ...     "flows": {"organic": 3.3, "feed": 1.0, "scrub": 2.5}, "feed": {"Pr": 0.25, "Nd": 0.75},
    ...     "model": {"beta": {"Pr": 1.0, "Nd": 1.5}, "organic_loading": 1.0, "scrub_acid": 3.0}})
    >>> [round(x, 6) for x in beta_flows(spec)]   # S = 3.3, W = 2.5, F = 1, P = 0.8, R = 0.2
    [3.3, 2.5, 1.0, 0.8, 0.2]
    """
    p = spec.params
    S = spec.organic * p.organic_loading
    W = spec.scrub * p.scrub_acid / 3.0
    F = spec.feed_flow * float(np.sum(spec.feed))
    return S, W, F, S - W, F + W - S


def check_beta_flows(spec: CascadeSpec) -> None:
    """Raise InputError unless S > W and R = F + W - S > 0 (:func:`beta_flows`; F summed here in plain
    floats: this rule runs on every variant of a Monte Carlo sample)."""
    p = spec.params
    S, W = spec.organic * p.organic_loading, spec.scrub * p.scrub_acid / 3.0
    F = spec.feed_flow * sum(spec.feed.tolist())
    R = F + W - S
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


def _check_mass_action(spec: CascadeSpec) -> None:
    p, m, k = spec.params, spec.scrub_stages, spec.strip_stages
    if m > 0 and not p.scrub_acid > 0:
        raise InputError("model.scrub_acid", f"must be > 0 mol/L when scrub_stages = {m}")
    if k > 0 and not p.strip_acid > 0:
        raise InputError("model.strip_acid", f"must be > 0 mol/L when strip_stages = {k}")
    # Electroneutrality of the stage-1 aqueous: the counter-ion released by the
    # saponified organic must leave room for H+ and RE3+ within the chloride.
    chloride = spec.feed_flow * (3.0 * float(np.sum(spec.feed)) + p.feed_acid) + spec.scrub * p.scrub_acid  # [mol/h]
    released = p.saponification * p.extractant * spec.organic  # [mol/h]
    if released >= chloride:
        raise InputError(
            "model.saponification",
            f"the counter-ion released by the organic ({released:.4g} mol/h) must be less than "
            f"the chloride of the extraction-section aqueous ({chloride:.4g} mol/h); "
            f"lower the saponification or the organic flow",
        )
