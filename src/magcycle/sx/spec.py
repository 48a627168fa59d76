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
           "MAX_CONCENTRATION", "RATIO_RANGE", "LOG10_K_RANGE", "MAX_LOADING", "MAX_ACID", "ION_CHARGE",
           "KA2_BISULFATE", "ConstantDParams", "ConstantBetaParams", "MassActionParams", "EmpiricalPhParams",
           "ModelParams", "CascadeSpec", "load_cascade", "spec_from_document", "check_cascade", "beta_flows",
           "check_beta_flows", "target_components", "NON_RARE_EARTH_MODELS", "LOADED_ORGANIC_MODELS",
           "STAGE_EFFICIENCY_MODELS"]

MODELS = ("constant_d", "constant_beta", "mass_action", "empirical_ph")
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
#: charge z of the cation each component is extracted as: z H+ are released per ion loaded.
#: The rare earths (and Sc) as M3+; iron as Fe3+ (the ion acidic extractants load; Fe2+ is
#: barely extracted below pH 3); Al3+; the alkaline-earth and 3d divalent ions as M2+.
ION_CHARGE = {**{el: 3 for el in ("La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm",
                                  "Yb", "Lu", "Y", "Sc", "Fe", "Al")},
              **{el: 2 for el in ("Ca", "Mg", "Mn", "Co", "Ni", "Cu", "Zn")}}
#: second dissociation constant of sulfuric acid, HSO4- = H+ + SO4 2- [mol/L]: pKa2 = 1.99 at
#: 25 C (CRC Handbook of Chemistry and Physics, "Dissociation constants of inorganic acids and
#: bases"; the value PrOMMiS uses, prommis/properties/sulfuric_acid_leaching_properties.py)
KA2_BISULFATE = 10.0 ** -1.99


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
    """Relative extractabilities [-] of the extraction and the scrub sections, organic loading
    [mol/L of trivalent equivalent], scrub acid [mol/L H+], strip-section distribution ratios
    [-] (with strip stages) and the charge of each component's ion [-]."""

    beta: np.ndarray
    organic_loading: float
    scrub_acid: float
    beta_scrub: np.ndarray | None = None
    D_strip: np.ndarray | None = None
    charge: np.ndarray | None = None

    def __post_init__(self):
        if self.beta_scrub is None:
            object.__setattr__(self, "beta_scrub", self.beta)
        if self.charge is None:
            object.__setattr__(self, "charge", _frozen(np.full(len(self.beta), 3.0)))


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
    #: charge z of each component's ion [-] (M^z+ + z (HA)2 = M(HA2)z + z H+)
    charge: np.ndarray | None = None

    def __post_init__(self):
        if self.charge is None:
            object.__setattr__(self, "charge", _frozen(np.full(len(self.log10_K), 3.0)))


@dataclass(frozen=True, eq=False)
class EmpiricalPhParams:
    """Empirical distribution ratios D(pH, free extractant) with a proton balance.

    Per component either the correlation log10 D = (m0 + m1 d) pH + B0 + B1 log10 d
    (``m0``, ``m1``, ``B0``, ``B1``; NaN where a constant D is given) or a constant
    ``D`` (NaN where the correlation is); d is the free extractant [vol %].
    ``charge`` [-] per component, ``extractant_vol_pct`` free extractant of the
    organic inlet [vol %], ``extractant_molar_mass`` [g/mol], ``extractant_density``
    [g/L], ``extractant_per_charge`` [mol extractant per mol of charge loaded],
    ``Ka2`` [mol/L]; acids as titratable H+ (free H+ plus HSO4-) [mol/L] and total
    sulfate [mol/L] of the feed, scrub and strip solutions (sulfate 0 in chloride).
    """

    medium: str
    extractant_vol_pct: float
    extractant_molar_mass: float
    extractant_density: float
    extractant_per_charge: float
    Ka2: float
    m0: np.ndarray
    m1: np.ndarray
    B0: np.ndarray
    B1: np.ndarray
    D: np.ndarray
    charge: np.ndarray
    feed_acid: float
    feed_sulfate: float
    scrub_acid: float
    scrub_sulfate: float
    strip_acid: float
    strip_sulfate: float

    @property
    def correlated(self) -> np.ndarray:
        """True for the components whose D follows the pH correlation."""
        return np.isnan(self.D)

    @property
    def extractant_mol_per_L(self) -> float:
        """Free extractant of the organic inlet [mol/L] = d/100 * density / molar mass."""
        return self.extractant_vol_pct / 100.0 * self.extractant_density / self.extractant_molar_mass


ModelParams = ConstantDParams | ConstantBetaParams | MassActionParams | EmpiricalPhParams


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
    #: metal already loaded on the organic entering stage 1 [mol/L] per component (None: barren)
    organic_inlet: np.ndarray | None = None
    #: Murphree stage efficiency of the organic phase (0, 1] [-], every stage
    murphree: float = 1.0
    #: volume fraction of aqueous entrained in the organic leaving each stage [0, 1) [-]
    entrainment: float = 0.0

    @property
    def entrained_L_per_L(self) -> float:
        """Entrained aqueous per volume of organic [L/L] = phi / (1 - phi)."""
        return self.entrainment / (1.0 - self.entrainment)

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
        """Flow of each component into the cascade [mol/h]: the feed's, plus what the organic
        inlet already carries when it is loaded (the basis of closures and outlet fractions)."""
        if self.organic_inlet is None:
            return self.feed_flow * self.feed
        return self.feed_flow * self.feed + self.organic * self.organic_inlet

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
            if not np.array_equal(p.beta_scrub, p.beta):
                model["beta_scrub"] = per(p.beta_scrub)
            if p.D_strip is not None:
                model["D_strip"] = per(p.D_strip)
            model.update(_charges(p, comps))
        elif isinstance(p, EmpiricalPhParams):
            model = _empirical_ph_dict(p, comps)
        else:
            model = {
                "log10_K": per(p.log10_K),
                "extractant": p.extractant,
                "saponification": p.saponification,
                "counter_ion": p.counter_ion,
                "feed_acid": p.feed_acid,
                "scrub_acid": p.scrub_acid,
                "strip_acid": p.strip_acid,
                **_charges(p, comps),
            }
        doc = {
            "cascade": {
                "model": self.model,
                "extraction_stages": self.extraction_stages,
                "scrub_stages": self.scrub_stages,
                "strip_stages": self.strip_stages,
                **({"murphree_efficiency": self.murphree} if self.murphree != 1.0 else {}),
                **({"entrainment": self.entrainment} if self.entrainment else {}),
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
        if self.organic_inlet is not None:
            doc["organic_inlet"] = {c: float(v) for c, v in zip(comps, self.organic_inlet) if v > 0}
        return doc


def _charges(p, comps) -> dict:
    """``charge`` of a constant_beta or mass_action ``[model]`` where some ion is not the usual one."""
    usual = [ION_CHARGE[c] for c in comps]
    if np.array_equal(p.charge, usual):
        return {}
    return {"charge": {c: int(z) for c, z in zip(comps, p.charge)}}


def _empirical_ph_dict(p: "EmpiricalPhParams", comps) -> dict:
    """The ``[model]`` table of an empirical_ph spec, loadable again."""
    model = {"medium": p.medium, "extractant_vol_pct": p.extractant_vol_pct,
             "extractant_molar_mass": p.extractant_molar_mass, "extractant_density": p.extractant_density,
             "extractant_per_charge": p.extractant_per_charge, "Ka2": p.Ka2,
             "feed_acid": p.feed_acid, "scrub_acid": p.scrub_acid, "strip_acid": p.strip_acid,
             "charge": {c: int(z) for c, z in zip(comps, p.charge)}}
    if p.medium == "sulfate":
        model.update(feed_sulfate=p.feed_sulfate, scrub_sulfate=p.scrub_sulfate, strip_sulfate=p.strip_sulfate)
    fit = {c: {"m0": float(a), "m1": float(b), "B0": float(c0), "B1": float(d)}
           for c, a, b, c0, d, on in zip(comps, p.m0, p.m1, p.B0, p.B1, p.correlated) if on}
    const = {c: float(v) for c, v, on in zip(comps, p.D, p.correlated) if not on}
    if fit:
        model["log10_D"] = fit
    if const:
        model["D"] = const
    return model


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
    if doc.cascade.model == "empirical_ph":
        return _empirical_ph_params(m, comps)
    charge = _charge_table(m.charge, comps)
    if doc.cascade.model == "constant_beta":
        beta = _per_component(m.beta, "beta", comps)
        Bs = _per_component(m.beta_scrub, "beta_scrub", comps, required=False)
        return ConstantBetaParams(beta=beta, organic_loading=float(m.organic_loading), scrub_acid=float(m.scrub_acid),
                                  beta_scrub=beta if Bs is None else Bs,
                                  D_strip=_per_component(m.D_strip, "D_strip", comps, required=False), charge=charge)
    return MassActionParams(log10_K=_per_component(m.log10_K, "log10_K", comps), extractant=float(m.extractant),
                            saponification=float(m.saponification), counter_ion=m.counter_ion,
                            feed_acid=float(m.feed_acid), scrub_acid=float(m.scrub_acid),
                            strip_acid=float(m.strip_acid), charge=charge)


def _charge_table(table, comps) -> np.ndarray:
    """Each component's ion charge: ``[model.charge]`` where given, else the usual one (ION_CHARGE)."""
    for el in table or {}:
        if el not in comps:
            raise InputError(f"model.charge.{el}", f"{el} is not in [feed] ({', '.join(comps)})")
    return _frozen([(table or {}).get(el, ION_CHARGE.get(el, 3)) for el in comps])


def _organic_inlet(doc, comps) -> np.ndarray | None:
    """``[organic_inlet]`` in the feed's component order [mol/L] (0 for those not named)."""
    table = getattr(doc, "organic_inlet", None)
    if not table:
        return None
    for el in table:
        if el not in comps:
            raise InputError(f"organic_inlet.{el}", f"{el} is not in [feed] ({', '.join(comps)}); a component the "
                                                    "organic brings needs a feed entry (it may be tiny)")
    return _frozen([table.get(el, 0.0) for el in comps])


def _check_empirical_tables(m, comps) -> None:
    """Each component's D from exactly one of ``log10_D`` and ``D``; table keys in [feed]."""
    fit, const = m.log10_D or {}, m.D or {}
    for table, key in ((fit, "log10_D"), (const, "D"), (m.charge or {}, "charge")):
        for el in table:
            if el not in comps:
                raise InputError(f"model.{key}.{el}", f"{el} is not in [feed] ({', '.join(comps)})")
    for el in comps:
        if el in fit and el in const:
            raise InputError(f"model.D.{el}", f"{el} has both a correlation (model.log10_D.{el}) and a constant D; "
                                              "give one")
        if el not in fit and el not in const:
            raise InputError(f"model.log10_D.{el}", f"missing: give [model.log10_D.{el}] = {{m0, m1, B0, B1}} "
                                                    f"or model.D.{el}")


def _empirical_acids(m) -> dict:
    """Titratable acid and sulfate of the feed, scrub and strip [mol/L]; a feed pH becomes its acid
    h + S h / (h + Ka2); scrub and strip sulfate default to half their acid in sulfate (H2SO4)."""
    sulfate = m.medium == "sulfate"
    feed_s = float(m.feed_sulfate or 0.0)
    feed_acid = m.feed_acid
    if m.feed_pH is not None:
        h = 10.0 ** -m.feed_pH
        feed_acid = h + feed_s * h / (h + m.Ka2)

    def default(value, acid):
        return float(value) if value is not None else (acid / 2.0 if sulfate else 0.0)

    return dict(feed_acid=float(feed_acid), feed_sulfate=feed_s, scrub_acid=float(m.scrub_acid),
                scrub_sulfate=default(m.scrub_sulfate, m.scrub_acid), strip_acid=float(m.strip_acid),
                strip_sulfate=default(m.strip_sulfate, m.strip_acid))


def _empirical_ph_params(m, comps) -> EmpiricalPhParams:
    """The parameters of an empirical_ph ``[model]`` (:class:`EmpiricalPhParams`)."""
    _check_empirical_tables(m, comps)
    fit, const = m.log10_D or {}, m.D or {}
    nan = float("nan")
    coef = {k: _frozen([getattr(fit[el], k) if el in fit else nan for el in comps]) for k in ("m0", "m1", "B0", "B1")}
    charge = _charge_table(m.charge, comps)
    return EmpiricalPhParams(
        medium=m.medium, extractant_vol_pct=float(m.extractant_vol_pct),
        extractant_molar_mass=float(m.extractant_molar_mass), extractant_density=float(m.extractant_density),
        extractant_per_charge=float(m.extractant_per_charge), Ka2=float(m.Ka2), **coef,
        D=_frozen([const.get(el, nan) for el in comps]), charge=charge, **_empirical_acids(m))


def spec_from_document(doc, source: str | None = None) -> CascadeSpec:
    """The CascadeSpec of a validated :class:`magcycle.sx.schema.CascadeDocument`; the rules
    across fields (:func:`check_cascade`) are applied here."""
    c, q = doc.cascade, doc.flows
    comps = tuple(doc.feed)
    _check_component_names(c.model, comps)
    spec = CascadeSpec(model=c.model, extraction_stages=c.extraction_stages, scrub_stages=c.scrub_stages,
                       strip_stages=c.strip_stages, organic=float(q.organic), feed_flow=float(q.feed),
                       scrub=float(q.scrub), strip=float(q.strip), components=comps,
                       feed=_frozen([doc.feed[el] for el in comps]), params=_model_params(doc, comps),
                       source=source, organic_inlet=_organic_inlet(doc, comps),
                       murphree=float(c.murphree_efficiency), entrainment=float(c.entrainment))
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


#: the models whose components may be other metals than the rare earths, and which take a loaded organic
NON_RARE_EARTH_MODELS = MODELS
LOADED_ORGANIC_MODELS = MODELS
#: the models that take a Murphree efficiency below 1 and entrainment
STAGE_EFFICIENCY_MODELS = MODELS


def _check_component_names(model: str, components) -> None:
    for el in components:
        if el not in ION_CHARGE:
            raise InputError(f"feed.{el}", f"{el} is not a metal the SX engine knows (rare earths, Sc, Fe, Al, Ca, "
                                           "Mg, Mn, Co, Ni, Cu, Zn)")
        if el in _NON_RARE_EARTHS and model not in NON_RARE_EARTH_MODELS:
            raise InputError(f"feed.{el}", f"{el} is not a rare earth: model {model} takes rare earths only "
                                           f"({' or '.join(NON_RARE_EARTH_MODELS)} take other metals)")


def _check_stage_model(spec: CascadeSpec) -> None:
    """Murphree efficiency in (0, 1] and entrainment in [0, 1), for the models that take them; the
    entrained aqueous must leave the raffinate a positive flow."""
    if not 0.0 < spec.murphree <= 1.0:
        raise InputError("cascade.murphree_efficiency", f"must be in (0, 1], got {spec.murphree!r}")
    if not 0.0 <= spec.entrainment < 1.0:
        raise InputError("cascade.entrainment", f"must be in [0, 1), got {spec.entrainment!r}")
    for key, value, default in (("murphree_efficiency", spec.murphree, 1.0), ("entrainment", spec.entrainment, 0.0)):
        if value != default and spec.model not in STAGE_EFFICIENCY_MODELS:
            raise InputError(f"cascade.{key}", f"not available for model {spec.model} yet (only "
                                               f"{', '.join(STAGE_EFFICIENCY_MODELS)})")
    if spec.entrainment and spec.murphree < 1.0:
        raise InputError("cascade.entrainment", "entrainment with a Murphree efficiency below 1 is not available: "
                                                "the entrained aqueous and the organic reach the next stage at "
                                                "different compositions")
    if spec.entrainment and not spec.entrained_L_per_L * spec.organic < spec.feed_flow + spec.scrub:
        raise InputError("cascade.entrainment", "the aqueous entrained up the cascade would exceed the feed and "
                                                "scrub that come down it (the raffinate flow would not be > 0)")


def _check_components(spec: CascadeSpec) -> None:
    _check_stage_model(spec)
    if spec.organic_inlet is not None:
        if spec.model not in LOADED_ORGANIC_MODELS:
            raise InputError("organic_inlet", f"a loaded organic inlet needs model {' or '.join(LOADED_ORGANIC_MODELS)}")
        bad = [i for i, v in enumerate(spec.organic_inlet.tolist()) if not 0.0 <= v <= MAX_CONCENTRATION]
        if bad:
            raise InputError(f"organic_inlet.{spec.components[bad[0]]}",
                             f"must be in [0, {MAX_CONCENTRATION:g}] mol/L, got {spec.organic_inlet[bad[0]]:g}")


_NON_RARE_EARTHS = frozenset({"Sc", "Fe", "Al", "Ca", "Mg", "Mn", "Co", "Ni", "Cu", "Zn"})


def _check_empirical_ph(spec: CascadeSpec) -> None:
    """The rules of an empirical_ph spec across fields: acids with their sections, a loading the
    free extractant can carry."""
    p, m, k = spec.params, spec.scrub_stages, spec.strip_stages
    if not 0.0 < p.extractant_vol_pct < 100.0:
        raise InputError("model.extractant_vol_pct", f"must be in (0, 100) vol %, got {p.extractant_vol_pct:g}")
    if not p.feed_acid > 0.0:
        raise InputError("model.feed_acid", "the feed needs acid (> 0 mol/L, or model.feed_pH): the stage pH "
                                            "follows from the proton balance")
    if m > 0 and not p.scrub_acid > 0:
        raise InputError("model.scrub_acid", f"must be > 0 mol/L when scrub_stages = {m}")
    if k > 0 and not p.strip_acid > 0:
        raise InputError("model.strip_acid", f"must be > 0 mol/L when strip_stages = {k}")
    for key in ("m0", "m1", "B0", "B1"):
        vals = getattr(p, key)
        for el, v, on in zip(spec.components, vals.tolist(), p.correlated.tolist()):
            if on and not np.isfinite(v):
                raise InputError(f"model.log10_D.{el}.{key}", f"must be a finite number, got {v!r}")
    if spec.organic_inlet is not None:
        # the loaded metal holds extractant too: free plus loaded may not exceed neat extractant
        loaded = p.extractant_per_charge * float(np.dot(p.charge, spec.organic_inlet))  # [mol/L]
        total_pct = p.extractant_vol_pct + 100.0 * loaded * p.extractant_molar_mass / p.extractant_density
        if not total_pct < 100.0:
            raise InputError("organic_inlet", f"the entering organic would hold {total_pct:.4g} vol % of extractant "
                                              f"(free {p.extractant_vol_pct:g} plus {loaded:.4g} mol/L loaded); "
                                              "it must stay below neat extractant (100 vol %)")


def _check_loaded_capacity(spec: CascadeSpec) -> None:
    """A loaded organic inlet of constant_beta or mass_action within what its organic can hold."""
    p, y = spec.params, spec.organic_inlet
    if y is None or spec.model not in ("constant_beta", "mass_action"):
        return
    charge = float(np.dot(p.charge, y))  # [mol/L of charge]
    if spec.model == "constant_beta" and not charge / 3.0 < p.organic_loading:
        raise InputError("organic_inlet", f"the entering organic would carry {charge / 3.0:.4g} mol/L (trivalent "
                                          f"equivalent), not below model.organic_loading = {p.organic_loading:g}")
    if spec.model == "mass_action" and not 2.0 * charge + p.saponification * p.extractant < p.extractant:
        raise InputError("organic_inlet", f"the loaded metal would hold {2.0 * charge:.4g} mol/L of extractant and "
                                          f"the saponification {p.saponification * p.extractant:.4g}, together not "
                                          f"below model.extractant = {p.extractant:g}")


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
    _check_components(spec)
    _check_loaded_capacity(spec)
    p, k = spec.params, spec.strip_stages
    if spec.model == "constant_d":
        if k > 0 and p.D_strip is None:
            raise InputError("model.D_strip", f"missing; required when strip_stages = {k}")
    elif spec.model == "empirical_ph":
        _check_empirical_ph(spec)
    elif spec.model == "constant_beta":
        if k > 0 and p.D_strip is None:
            raise InputError("model.D_strip", f"missing; required when strip_stages = {k}")
        if k == 0 and p.D_strip is not None:
            raise InputError("model.D_strip", "only with strip stages (cascade.strip_stages > 0)")
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
    if spec.organic_inlet is not None or not all(z == 3.0 for z in p.charge.tolist()):
        # other charges and a loaded organic: trivalent equivalents
        F = spec.feed_flow * float(np.dot(p.charge, spec.feed)) / 3.0
        if spec.organic_inlet is not None:
            F += spec.organic * float(np.dot(p.charge, spec.organic_inlet)) / 3.0
    R = F + W - S
    general = spec.murphree < 1.0 or spec.strip_stages
    if not S > W:
        raise InputError(
            "flows.organic",
            f"organic rare-earth flow S = {S:.6g} mol/h must exceed the scrub reflux "
            f"W = {W:.6g} mol/h (raise the organic flow or loading, or lower the scrub)",
        )
    if general:
        _check_beta_supply(spec, S, W)
        return
    if not R > 0:
        raise InputError(
            "flows.organic",
            f"raffinate R = F + W - S = {R:.6g} mol/h must be > 0: the organic "
            f"(S = {S:.6g} mol/h) would take all of the feed (F = {F:.6g}) and scrub (W = {W:.6g})",
        )


def _check_beta_supply(spec: CascadeSpec, S: float, W: float) -> None:
    """The rule R > 0 of a constant_beta cascade with a Murphree efficiency or a strip section
    (magcycle.sx.stagewise), where the outlet flows are no longer fixed by S and W.

    The organic in equilibrium with each stage's aqueous holds 3 S of charge, so the charge the
    organic carries follows whatever the composition: U_k = 3S - (3S - U_0)(1 - E)^k, U_0 that of
    the inlet (entrainment only adds to it). Of component i's part U_i of U_{n+m}, the reflux
    returns q_i = (W/S) T_i, T_i the share the strip section strips (1 without strip stages), so
    F_i = R_i + U_i (1 - q_i), F_i what enters (feed and inlet). A steady state with R_i >= 0
    therefore needs sum_i z_i F_i / (1 - q_i) > U_{n+m}; without stage efficiency or a strip this
    is R = F + W - S > 0. Across the scrub the organic takes up U_{n+m} - U_n, which only the reflux
    brings (at most max_i q_i U_{n+m}): the aqueous leaving the scrub's bottom stage stays positive
    only if that is larger.
    """
    from magcycle.sx.linear import run_recursions

    p = spec.params
    Fi = spec.feed_mol_per_h
    U0 = 0.0 if spec.organic_inlet is None else spec.organic * float(np.dot(p.charge, spec.organic_inlet))
    Ne, k = spec.extraction_stages + spec.scrub_stages, spec.strip_stages
    U = 3.0 * S - (3.0 * S - U0) * (1.0 - spec.murphree) ** Ne
    one_less_q = np.full(len(Fi), 1.0 - W / S)
    if k:
        phi = spec.entrained_L_per_L
        le = np.log((p.D_strip + phi) * spec.organic / spec.strip)[:, None] * np.ones((1, k))
        E = np.full(k, spec.murphree)
        with np.errstate(divide="ignore"):
            _, _, ls, lt = run_recursions(le, np.log(E), np.log1p(-E))
        one_less_q = (1.0 - W / S) + W / S * np.exp(-ls[:, 0])  # 1 - (W/S) T, T = 1 - 1/sigma_0
    supply = float(np.sum(p.charge * Fi / one_less_q))
    # the scrub: the organic gains U - U_n of charge across it, which only the reflux can bring
    # (at most the largest q_i of U); the aqueous leaving its bottom stage must stay positive
    U_n = 3.0 * S - (3.0 * S - U0) * (1.0 - spec.murphree) ** spec.extraction_stages
    reflux = float(np.max(1.0 - one_less_q)) * U
    if spec.scrub_stages and not reflux > U - U_n:
        raise InputError("flows.scrub", f"no steady state: across the scrub the organic takes up {(U - U_n) / 3.0:.6g} "
                                        f"mol/h (trivalent equivalent; Murphree efficiency {spec.murphree:g}), more "
                                        f"than the reflux can return ({reflux / 3.0:.6g} mol/h at most) (raise the scrub "
                                        "acid or flow, strip more, or fewer scrub stages)")
    if not supply > U:
        where = " once the reflux returns what the strip section strips" if k else ""
        raise InputError("flows.organic", f"no steady state: the organic carries {U / 3.0:.6g} mol/h (trivalent "
                                          f"equivalent) out of the scrub, more than the feed can supply "
                                          f"({supply / 3.0:.6g} mol/h even with no raffinate){where} (lower the "
                                          "organic flow or loading, or raise the scrub" + (", or strip more)" if k
                                                                                           else ")"))


def _check_mass_action(spec: CascadeSpec) -> None:
    p, m, k = spec.params, spec.scrub_stages, spec.strip_stages
    if m > 0 and not p.scrub_acid > 0:
        raise InputError("model.scrub_acid", f"must be > 0 mol/L when scrub_stages = {m}")
    if k > 0 and not p.strip_acid > 0:
        raise InputError("model.strip_acid", f"must be > 0 mol/L when strip_stages = {k}")
    # Electroneutrality of the stage-1 aqueous: the counter-ion released by the
    # saponified organic must leave room for H+ and RE3+ within the chloride.
    charge_fed = 3.0 * float(np.sum(spec.feed)) if np.all(p.charge == 3.0) else float(np.dot(p.charge, spec.feed))
    chloride = spec.feed_flow * (charge_fed + p.feed_acid) + spec.scrub * p.scrub_acid  # [mol/h]
    released = p.saponification * p.extractant * spec.organic  # [mol/h]
    if released >= chloride:
        raise InputError(
            "model.saponification",
            f"the counter-ion released by the organic ({released:.4g} mol/h) must be less than "
            f"the chloride of the extraction-section aqueous ({chloride:.4g} mol/h); "
            f"lower the saponification or the organic flow",
        )
