"""Uncertainty of a whole plant: feed blend and assays, rate, unit parameters.

Configuration
    The plant's equipment is designed once, at the nominal point (every
    parameter at its nominal value): that solve fixes the SX stage counts
    and flow ratios (organic and scrub per mol of rare earth fed), as a
    built plant would have them. Each sample then runs that plant on its
    own feed and parameters; the SX controls follow the feed (flows scaled
    with the rare earth fed), the stages do not change.

Parameters (dotted names, values in the units given)
    ``feed.rate``                dry feed [kg/h]
    ``feed.blend.CLASS``         blend weight of a catalogue class [-, relative]
    ``feed.CLASS.El``            assay of element El in CLASS [wt %, dry]; Fe is
                                 the balance, so the class still sums to 100 wt %
    ``feed.CLASS.moisture``      moisture of CLASS [wt %]
    ``units.UNIT.PARAM[.KEY]``   a unit parameter (e.g. ``units.sx_ndpr.beta.Pr``);
                                 parameters that only shape the design (targets)
                                 have no effect once the design is fixed
    ``econ.SECTION.KEY[.KEY]``   an economic assumption of :mod:`magcycle.econ`
                                 (e.g. ``econ.revenue.base.Dy2O3`` [USD/kg],
                                 ``econ.finance.discount_rate``)

Metrics (``path``)
    ``products.NAME.purity``, ``products.NAME.recovery.El``,
    ``products.NAME.t_per_y``, ``products.NAME.impurities_ppm.X``,
    ``products.NAME.meets_spec`` (pass), ``all_products_meet_spec`` (pass),
    ``reagents.SPECIES.kg_per_t`` (per tonne of dry feed),
    ``purchase_cost_usd`` (equipment purchase cost, the sum of the units'
    ``cost(design(...))``), ``recycle_iterations``; and the techno-economics
    of :mod:`magcycle.econ` at the base price scenario with the sample's
    ``econ.*`` parameters: ``tea.npv_usd``, ``tea.irr``, ``tea.capex_usd``,
    ``tea.opex_usd_per_y``, ``tea.revenue_usd_per_y``, ``tea.payback_y``,
    ``tea.co2e_kg_per_kg.PRODUCT``.

Stage margin
    ``stage_factor`` f scales every SX cut of the nominal design to
    ceil(f n) extraction and ceil(f m) scrub stages before the samples run
    (used by the robust plant design, :mod:`magcycle.analysis.robust`); a
    mapping cut -> f scales each cut on its own.

Warm start and lockstep
    Every sample starts from the nominal solution: its SX profiles (with
    their factorised multiplier Jacobians) and recycle tear streams are the
    starting point. The samples of a chunk are solved in lockstep
    (:mod:`magcycle.sx.lockstep`): each runs its own plant solve as a step
    generator, and at each step their SX cascades are solved together, each
    answer checked as a lone solve's is. A sample's numbers depend only on
    its own parameters and the nominal solution. (The nominal is the
    nearest solved neighbour when a chunk starts; solving a chunk in two
    waves, the second from the nearest of the nominal and the first, was
    measured 3 to 14 % slower: the waves halve the joint solves, and in the
    23-parameter default study the nominal is still the nearest for 75 % of
    the second wave.) A sample whose solve fails
    (no convergence, lost mass, a physically impossible feed) is recorded
    with its reason and counts as not meeting spec.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from magcycle.analysis.model import Metric
from magcycle.analysis.parameters import Distribution, Parameter
from magcycle.errors import ConvergenceError, InputError, MassBalanceError

#: nominal plant solves, per process, keyed by the problem's token
_NOMINAL: dict[str, tuple] = {}
#: elements whose class ranges the default study varies
DEFAULT_ASSAY_ELEMENTS = ("Nd", "Pr", "Dy", "Tb")


def plant_document(plant) -> dict:
    from magcycle.flowsheet.spec import FlowsheetSpec, load_flowsheet, reference_plant_path

    if plant is None:
        return load_flowsheet(reference_plant_path()).document
    if isinstance(plant, FlowsheetSpec):
        return plant.document
    if isinstance(plant, dict):
        return plant
    return load_flowsheet(plant).document


def _blend_weights(doc: dict) -> dict[str, float]:
    feed = doc.get("feed") or {}
    if "blend" in feed:
        return {k: float(v) for k, v in feed["blend"].items()}
    if "class" in feed:
        return {str(feed["class"]): 1.0}
    raise InputError("feed", "the plant has no [feed] blend or class to vary")


def default_plant_parameters(plant=None, blend_span: float = 0.5) -> list[Parameter]:
    """Feed variability from the catalogue: each blend weight uniform within
    +/- ``blend_span`` of its nominal, and each class's Nd, Pr, Dy, Tb uniform
    over the catalogue range (nominal: the catalogue's nominal assay)."""
    from magcycle.feed.catalogue import CATALOGUE

    doc = plant_document(plant)
    out = []
    weights = _blend_weights(doc)
    if len(weights) > 1:
        for key, w in weights.items():
            out.append(Parameter(f"feed.blend.{key}", Distribution("uniform", (w * (1 - blend_span),
                                                                               w * (1 + blend_span))),
                                 w, "-", "plant [feed] blend +/- 50 %"))
    for key in weights:
        cls = CATALOGUE[key]
        for el in DEFAULT_ASSAY_ELEMENTS:
            lo, hi = cls.ranges[el]
            if hi > lo:
                out.append(Parameter(f"feed.{key}.{el}", Distribution("uniform", (lo, hi)), cls.nominal[el],
                                     "wt %", cls.sources.get(el, "feed catalogue range")))
    return out


def default_plant_metrics(plant=None) -> list[Metric]:
    from magcycle.flowsheet.products import product_specs

    doc = plant_document(plant)
    specs = product_specs()
    out = []
    for name, p in (doc.get("products") or {}).items():
        out.append(Metric(f"{name} purity", f"products.{name}.purity", at_least=specs[p["spec"]]["min_purity"]))
        for el in p["elements"]:
            out.append(Metric(f"{name} recovery {el}", f"products.{name}.recovery.{el}"))
        out.append(Metric(f"{name} t/y", f"products.{name}.t_per_y", units="t/y"))
        out.append(Metric(f"{name} meets spec", f"products.{name}.meets_spec", kind="pass"))
    out.append(Metric("all products meet spec", "all_products_meet_spec", kind="pass"))
    for sp, label in (("HCl", "HCl"), ("NaOH", "NaOH"), ("H2O2", "H2O2"), ("H2C2O4.2H2O", "oxalic acid dihydrate")):
        out.append(Metric(f"{label} kg/t feed", f"reagents.{sp}.kg_per_t", units="kg/t"))
    out.append(Metric("equipment purchase cost", "purchase_cost_usd", units="USD"))
    return out


def scale_stages(result, factor):
    """A copy of ``result`` whose frozen SX designs have ceil(f n), ceil(f m) stages; ``factor`` is
    one f for every cut or a mapping cut -> f (cuts not named keep f = 1)."""
    import dataclasses
    import math

    state = {}
    for k, v in result.state.items():
        v = dict(v) if isinstance(v, dict) else v
        if isinstance(v, dict) and "design" in v:
            f = factor.get(k, 1.0) if isinstance(factor, dict) else factor
            d = dict(v["design"])
            d["n"] = max(1, math.ceil(f * d["n"] - 1e-9))
            d["m"] = max(1, math.ceil(f * d["m"] - 1e-9))
            v["design"] = d
            v.pop("result", None)
        state[k] = v
    return dataclasses.replace(result, state=state)


def sx_stages(result) -> dict[str, tuple[int, int]]:
    """(extraction, scrub) stages of each SX cut of a plant solve."""
    return {k: (v["design"]["n"], v["design"]["m"]) for k, v in result.state.items()
            if isinstance(v, dict) and "design" in v}


@dataclass
class PlantProblem:
    """A plant document, its uncertain parameters and its metrics (see the module docstring)."""

    document: dict
    parameters: list
    metrics: list
    chunk_size: int = 64
    stage_factor: float | dict = 1.0
    token: str = field(default="", repr=False)

    def __post_init__(self):
        self.document = copy.deepcopy(self.document)
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise InputError(f"parameters.{dup}", "declared twice")
        values = self.stage_factor.values() if isinstance(self.stage_factor, dict) else [self.stage_factor]
        for f in values:
            if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.05 <= f <= 20:
                raise InputError("stage_factor", f"must be a number in [0.05, 20] (or a table of them per "
                                                 f"cut), got {self.stage_factor!r}")
        blob = json.dumps([self.document, [p.to_dict() for p in self.parameters],
                           [m.to_dict() for m in self.metrics], self.stage_factor], sort_keys=True, default=str)
        self.token = hashlib.sha256(blob.encode()).hexdigest()[:16]
        # check every name and path now, on the nominal point, not in a worker
        _, _, overrides = self._build(np.array([p.nominal for p in self.parameters]))
        if overrides or any(m.path.startswith("tea.") for m in self.metrics):
            from magcycle.econ.tea import assumptions

            try:
                assumptions(overrides)
            except InputError as exc:
                raise InputError(f"parameters.econ.{exc.field}", exc.reason) from None
        for m in self.metrics:
            self._check_metric(m)

    @classmethod
    def default(cls, plant=None, **kw) -> "PlantProblem":
        return cls(plant_document(plant), default_plant_parameters(plant), default_plant_metrics(plant), **kw)

    # -------------------------------------------------------------- building
    def _build(self, x: np.ndarray):
        """(FlowsheetSpec, Feed) for one sample's parameter values."""
        from magcycle.feed.catalogue import CATALOGUE
        from magcycle.feed.feed import Feed, blend, feed_rate
        from magcycle.flowsheet.spec import parse_flowsheet

        doc = self.document
        feed_doc = doc.get("feed") or {}
        weights = _blend_weights(doc)
        hours = float((doc.get("plant") or {}).get("hours_per_year", 8000))
        rate = feed_rate(feed_doc.get("rate", "100 kg/h"), "feed.rate", hours)
        assay: dict[str, dict] = {}
        moisture: dict[str, float] = {}
        unit_changes = []
        econ: list = []
        for p, v in zip(self.parameters, x):
            parts = p.name.split(".")
            where = f"parameters.{p.name}"
            v = float(v)
            if parts == ["feed", "rate"]:
                rate = v
            elif len(parts) == 3 and parts[:2] == ["feed", "blend"]:
                if parts[2] not in CATALOGUE:
                    raise InputError(where, f"unknown feed class {parts[2]!r}")
                weights[parts[2]] = v
            elif len(parts) == 3 and parts[0] == "feed":
                if parts[1] not in CATALOGUE:
                    raise InputError(where, f"unknown feed class {parts[1]!r}")
                if parts[2] == "moisture":
                    moisture[parts[1]] = v
                elif parts[2] in CATALOGUE[parts[1]].nominal and parts[2] != "Fe":
                    assay.setdefault(parts[1], {})[parts[2]] = v
                else:
                    raise InputError(where, f"{parts[2]!r} is not an assay element of {parts[1]} "
                                            "(Fe is the balance)")
            elif len(parts) >= 3 and parts[0] == "econ":
                econ.append((parts[1:], v))
            elif len(parts) >= 3 and parts[0] == "units":
                if parts[1] not in (doc.get("units") or {}):
                    raise InputError(where, f"no unit {parts[1]!r} in the plant")
                unit_changes.append((parts[1:], v))
            else:
                raise InputError(where, "expected feed.rate, feed.blend.CLASS, feed.CLASS.El, "
                                        "feed.CLASS.moisture, units.UNIT.PARAM or econ.SECTION.KEY")
        pairs = []
        for key, w in weights.items():
            cls = CATALOGUE[key]
            comp = dict(cls.nominal)
            comp.update(assay.get(key, {}))
            comp["Fe"] = 100.0 - sum(v for k, v in comp.items() if k != "Fe")
            if comp["Fe"] < 0:
                raise InputError(f"parameters.feed.{key}", f"the assay sums to {100 - comp['Fe']:.2f} wt % "
                                                           "before iron")
            comp = {k: v for k, v in comp.items() if v > 0}
            pairs.append((Feed(key, 1.0, comp, moisture.get(key, cls.moisture_wt_pct), {key: 1.0}), w))
        feed = blend(pairs, rate, hours_per_year=hours)
        spec = None
        if unit_changes:
            d = copy.deepcopy(doc)
            for path, v in unit_changes:
                table = d["units"][path[0]]
                for k in path[1:-1]:
                    table = table.setdefault(k, {})
                table[path[-1]] = v
            spec = parse_flowsheet(d, "study")
        overrides: dict = {}
        for path, v in econ:
            table = overrides
            for k in path[:-1]:
                table = table.setdefault(k, {})
            table[path[-1]] = v
        return spec, feed, overrides

    def _check_metric(self, m: Metric) -> None:
        parts = m.path.split(".")
        products = self.document.get("products") or {}
        tea_keys = ("npv_usd", "irr", "capex_usd", "opex_usd_per_y", "revenue_usd_per_y", "payback_y")
        ok = (m.path in ("all_products_meet_spec", "recycle_iterations", "purchase_cost_usd")
              or (parts[0] == "tea" and len(parts) == 2 and parts[1] in tea_keys)
              or (parts[0] == "tea" and len(parts) >= 3 and parts[1] == "co2e_kg_per_kg"
                  and ".".join(parts[2:]) in products)
              or (parts[0] == "reagents" and len(parts) >= 3 and parts[-1] == "kg_per_t")
              or (parts[0] == "products" and len(parts) >= 3 and parts[1] in products
                  and (parts[2:] in (["purity"], ["t_per_y"], ["meets_spec"])
                       or (len(parts) == 4 and parts[2] in ("recovery", "impurities_ppm")))))
        if not ok:
            raise InputError(f"metrics.{m.name}", f"unknown plant metric {m.path!r}; products: "
                                                  f"{', '.join(products)}")

    # ------------------------------------------------------------ evaluating
    def _nominal(self):
        if self.token not in _NOMINAL:
            from magcycle.flowsheet import parse_flowsheet, simulate

            x = np.array([p.nominal for p in self.parameters])
            spec, feed, _ = self._build(x)
            spec = spec or parse_flowsheet(self.document, "study")
            r = simulate(spec, feed)
            if isinstance(self.stage_factor, dict) or self.stage_factor != 1.0:
                r = simulate(spec, feed, warm=scale_stages(r, self.stage_factor))
            _NOMINAL.clear()  # one study at a time per process
            _NOMINAL[self.token] = (parse_flowsheet(self.document, "study"), r)
        return _NOMINAL[self.token]

    def nominal_result(self):
        """The nominal plant solve (its SX design is the one every sample runs)."""
        return self._nominal()[1]

    def values(self, r, overrides=None) -> np.ndarray:
        from magcycle.chem.formula import formula_mass

        tea = None
        if any(m.path.startswith("tea.") for m in self.metrics):
            from magcycle.econ.tea import techno_economics

            tea = techno_economics(r, overrides, extras=False).to_dict()

        products = {p["name"]: p for p in r.products}
        reagents = r.reagents_mol_h
        out = np.full(len(self.metrics), np.nan)
        for j, m in enumerate(self.metrics):
            parts = m.path.split(".")
            if m.path == "all_products_meet_spec":
                v = float(r.all_products_meet_spec)
            elif m.path == "recycle_iterations":
                v = float(r.recycle_iterations)
            elif parts[0] == "tea":
                v = tea[parts[1]] if len(parts) == 2 else tea[parts[1]].get(".".join(parts[2:]))
            elif m.path == "purchase_cost_usd":
                v = sum(float(res.cost["purchase_usd"]) for res in r.units.values())
            elif parts[0] == "reagents":
                sp = ".".join(parts[1:-1])  # a species may hold a dot (H2C2O4.2H2O)
                v = reagents.get(sp, 0.0) * formula_mass(sp) / 1000.0 / r.feed.kg_per_h * 1000.0
            else:
                p = products[parts[1]]
                if parts[2] == "meets_spec":
                    v = float(p["meets_spec"] is not False)
                elif len(parts) == 3:
                    v = p[parts[2]]
                else:
                    v = (p[parts[2]] or {}).get(parts[3])
            out[j] = np.nan if v is None else float(v)
        return out

    def evaluate(self, X, U):
        from magcycle.flowsheet import simulate_steps
        from magcycle.sx.lockstep import run_together

        base_spec, nominal = self._nominal()

        def sample(x):
            spec, feed, overrides = self._build(x)
            r = yield from simulate_steps(spec or base_spec, feed, warm=nominal)
            return self.values(r, overrides)

        Y = np.full((len(X), len(self.metrics)), np.nan)
        errors: list = [None] * len(X)
        for i, out in enumerate(run_together([sample(x) for x in X])):
            if isinstance(out, (ConvergenceError, MassBalanceError, InputError)):
                errors[i] = f"{type(out).__name__}: {out}"
            elif isinstance(out, BaseException):
                raise out
            else:
                Y[i] = out
        return Y, errors

    def nominal_metrics(self) -> dict:
        _, r = self._nominal()
        _, _, overrides = self._build(np.array([p.nominal for p in self.parameters]))
        return {m.name: float(v) for m, v in zip(self.metrics, self.values(r, overrides))}
