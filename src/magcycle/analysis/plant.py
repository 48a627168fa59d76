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
import math
from dataclasses import dataclass, field

import numpy as np

from magcycle.analysis.model import Metric
from magcycle.analysis.parameters import Distribution, Parameter
from magcycle.documents import clip
from magcycle.errors import ConvergenceError, InputError, MassBalanceError

__all__ = ["DEFAULT_ASSAY_ELEMENTS", "check_feed_domain", "plant_document", "default_plant_parameters", "default_plant_metrics",
           "scale_stages", "sx_stages", "parameter_plan", "metric_plan", "metric_value", "SampleInputs",
           "PlantProblem"]

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
    """Feed variability from the catalogue, each distribution's mode at the nominal: each blend
    weight triangular over +/- ``blend_span`` of its nominal w, triangular(w (1 - span), w,
    w (1 + span)), and each class's Nd, Pr, Dy, Tb triangular over the catalogue range with its
    mode at the catalogue's nominal assay, triangular(low, nominal, high).

    The mean of a triangular distribution is (low + mode + high) / 3: the nominal where the range
    is symmetric about it, and nearer the nominal than a uniform's midpoint where it is not (the
    swarf Dy range 0.6-8 wt % about a nominal 2.5: mean 3.70, a uniform's 4.30)."""
    from magcycle.feed.catalogue import CATALOGUE

    doc = plant_document(plant)
    out = []
    weights = _blend_weights(doc)
    if len(weights) > 1:
        for key, w in weights.items():
            if w <= 0:
                continue  # a part left out of the blend (weight 0) stays out
            out.append(Parameter(f"feed.blend.{key}", Distribution("triangular", (w * (1 - blend_span), w,
                                                                                  w * (1 + blend_span))),
                                 w, "-", "plant [feed] blend +/- 50 %, mode at the nominal"))
    for key in (k for k, w in weights.items() if w > 0):
        cls = CATALOGUE[key]
        for el in DEFAULT_ASSAY_ELEMENTS:
            lo, hi = cls.ranges[el]
            if hi > lo:
                out.append(Parameter(f"feed.{key}.{el}", Distribution("triangular", (lo, cls.nominal[el], hi)),
                                     cls.nominal[el], "wt %", cls.sources.get(el, "feed catalogue range")))
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


def _derived_changes(result) -> dict:
    """The derived cut targets of a plant run to spec as unit parameter changes (a purity target
    replaces the recovery target on its side of the cut)."""
    other = {"extract_purity": "light_recovery", "raffinate_purity": "heavy_recovery"}
    return {cut: {k: v for key, (_, value) in keys.items() for k, v in ((key, value), (other[key], None))}
            for cut, keys in result.derived_targets.items()}


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


def _feed_plan(parts: list[str], where: str) -> tuple:
    from magcycle.feed.catalogue import CATALOGUE

    cls = parts[2] if parts[1] == "blend" else parts[1]
    if cls not in CATALOGUE:
        raise InputError(where, f"unknown feed class {clip(cls)!r}")
    if parts[1] == "blend":
        return ("blend", cls)
    if parts[2] == "moisture":
        return ("moisture", cls)
    if parts[2] in CATALOGUE[cls].nominal and parts[2] != "Fe":
        return ("assay", cls, parts[2])
    raise InputError(where, f"{clip(parts[2])!r} is not an assay element of {cls} (Fe is the balance)")


def parameter_plan(name: str, document: dict) -> tuple:
    """What a plant parameter acts on, from its dotted name (module docstring): ("rate",),
    ("blend", CLASS), ("assay", CLASS, El), ("moisture", CLASS), ("unit", UNIT, KEYS),
    ("econ", KEYS). InputError naming ``parameters.NAME`` for anything else."""
    parts = name.split(".")
    where = f"parameters.{name}"
    if parts == ["feed", "rate"]:
        return ("rate",)
    if len(parts) == 3 and parts[0] == "feed":
        return _feed_plan(parts, where)
    if len(parts) >= 3 and parts[0] == "econ":
        return ("econ", tuple(parts[1:]))
    if len(parts) >= 3 and parts[0] == "units":
        if parts[1] not in (document.get("units") or {}):
            raise InputError(where, f"no unit {clip(parts[1])!r} in the plant")
        if parts[2] == "type":
            raise InputError(where, "the type of a unit is not a parameter to vary")
        return ("unit", parts[1], tuple(parts[2:]))
    raise InputError(where, "expected feed.rate, feed.blend.CLASS, feed.CLASS.El, feed.CLASS.moisture, "
                            "units.UNIT.PARAM or econ.SECTION.KEY")


#: what a feed parameter can be: (least, most, what it is); a distribution must stay within it
_FEED_DOMAINS = {"rate": (0.0, math.inf, "a feed rate [kg/h]"), "blend": (0.0, math.inf, "a blend weight"),
                 "assay": (0.0, 100.0, "a mass fraction [wt %]"), "moisture": (0.0, 100.0, "a moisture [wt %]")}
def check_feed_domain(parameter, plan: tuple) -> None:
    """Refuse a feed parameter whose nominal, or whose bounded distribution's support, leaves what it
    can be (``_FEED_DOMAINS``): a wt % in [-1, 1] is bad input. The draws of an unbounded
    distribution (normal, lognormal) that leave it fail their own sample (:func:`_class_feed`)."""
    if plan[0] not in _FEED_DOMAINS:
        return
    low, high, what = _FEED_DOMAINS[plan[0]]
    bound = "> 0" if plan[0] == "rate" else f"in [{low:g}, {high:g}]"
    lo, hi = parameter.distribution.bounds
    values = [(parameter.nominal, "its nominal is")]
    if math.isfinite(lo) and parameter.distribution.kind != "lognormal":  # lognormal: (0, inf), open
        values.append((lo, "its draws reach"))
    if math.isfinite(hi):
        values.append((hi, "its draws reach"))
    for value, label in values:
        if not low <= value <= high or (value == 0.0 and plan[0] == "rate"):
            raise InputError(f"parameters.{parameter.name}",
                             f"{label} {value:g}, but {what} must be {bound}; narrow the distribution")


_TEA_KEYS = ("npv_usd", "irr", "capex_usd", "opex_usd_per_y", "revenue_usd_per_y", "payback_y")
_PRODUCT_FIELDS = ("purity", "t_per_y", "meets_spec")


def _tea_plan(parts: list[str], products) -> tuple | None:
    if len(parts) == 2 and parts[1] in _TEA_KEYS:
        return ("tea", parts[1], None)
    if len(parts) >= 3 and parts[1] == "co2e_kg_per_kg" and ".".join(parts[2:]) in products:
        return ("tea", parts[1], ".".join(parts[2:]))
    return None


def _product_plan(parts: list[str], products) -> tuple | None:
    if len(parts) < 3 or parts[1] not in products:
        return None
    if len(parts) == 3 and parts[2] in _PRODUCT_FIELDS:
        return ("product", parts[1], parts[2], None)
    if len(parts) == 4 and parts[2] in ("recovery", "impurities_ppm"):
        return ("product", parts[1], parts[2], parts[3])
    return None


def metric_plan(path: str, products) -> tuple | None:
    """What a plant metric reads, from its path (module docstring); None when it is not one."""
    fixed = {"all_products_meet_spec": ("all_pass",), "recycle_iterations": ("recycle",),
             "purchase_cost_usd": ("purchase",)}
    parts = path.split(".")
    if path in fixed:
        return fixed[path]
    if parts[0] == "tea":
        return _tea_plan(parts, products)
    if parts[0] == "reagents" and len(parts) >= 3 and parts[-1] == "kg_per_t":
        return ("reagent", ".".join(parts[1:-1]))  # a species may hold a dot (H2C2O4.2H2O)
    if parts[0] == "products":
        return _product_plan(parts, products)
    return None


def _product_value(p: dict, field: str, key):
    if field == "meets_spec":
        return float(p["meets_spec"] is not False)
    return p[field] if key is None else (p[field] or {}).get(key)


def metric_value(plan: tuple, r, tea: dict | None):
    """The value a metric plan reads from a plant result (None where there is none)."""
    kind = plan[0]
    if kind == "all_pass":
        return float(r.all_products_meet_spec)
    if kind == "recycle":
        return float(r.recycle_iterations)
    if kind == "purchase":
        return sum(float(res.cost["purchase_usd"]) for res in r.units.values())
    if kind == "tea":
        return tea[plan[1]] if plan[2] is None else tea[plan[1]].get(plan[2])
    if kind == "reagent":
        from magcycle.chem.formula import formula_mass

        return r.reagents_mol_h.get(plan[1], 0.0) * formula_mass(plan[1]) / 1000.0 / r.feed.kg_per_h * 1000.0
    p = next(p for p in r.products if p["name"] == plan[1])
    return _product_value(p, plan[2], plan[3])


@dataclass
class SampleInputs:
    """One sample's inputs to the plant, gathered from its parameter values."""

    rate: float
    weights: dict
    assay: dict = field(default_factory=dict)  # class -> {element: wt %}
    moisture: dict = field(default_factory=dict)  # class -> wt %
    units: dict = field(default_factory=dict)  # unit -> {param: value or table}
    econ: dict = field(default_factory=dict)  # nested assumptions overrides

    def set(self, plan: tuple, v: float) -> None:
        kind = plan[0]
        if kind == "rate":
            self.rate = v
        elif kind == "blend":
            self.weights[plan[1]] = v
        elif kind == "assay":
            self.assay.setdefault(plan[1], {})[plan[2]] = v
        elif kind == "moisture":
            self.moisture[plan[1]] = v
        elif kind == "unit":
            _nest(self.units.setdefault(plan[1], {}), plan[2], v)
        else:
            _nest(self.econ, plan[1], v)


def _nest(table: dict, keys: tuple, v: float) -> None:
    for k in keys[:-1]:
        table = table.setdefault(k, {})
    table[keys[-1]] = v


def _class_feed(key: str, inputs: SampleInputs):
    """The catalogue class ``key`` with the sample's assay and moisture; Fe is the balance."""
    from magcycle.feed.catalogue import CATALOGUE
    from magcycle.feed.feed import Feed

    cls = CATALOGUE[key]
    comp = dict(cls.nominal) | inputs.assay.get(key, {})
    negative = next((k for k, v in comp.items() if v < 0), None)
    if negative:  # a draw of an unbounded distribution below 0 wt %: this sample fails, nothing is dropped
        raise InputError(f"parameters.feed.{key}.{negative}", f"a draw of {comp[negative]:g} wt % is below 0")
    comp["Fe"] = 100.0 - sum(v for k, v in comp.items() if k != "Fe")
    if comp["Fe"] < 0:
        raise InputError(f"parameters.feed.{key}", f"the assay sums to {100 - comp['Fe']:.2f} wt % before iron")
    return Feed(key, 1.0, {k: v for k, v in comp.items() if v > 0},
                inputs.moisture.get(key, cls.moisture_wt_pct), {key: 1.0})


@dataclass
class PlantProblem:
    """A plant document, its uncertain parameters and its metrics (see the module docstring)."""

    document: dict
    parameters: list
    metrics: list
    chunk_size: int = 64
    stage_factor: float | dict = 1.0
    token: str = field(default="", repr=False)
    plans: list = field(default_factory=list, repr=False)  # what each parameter acts on
    metric_plans: list = field(default_factory=list, repr=False)  # what each metric reads

    def __post_init__(self):
        self.document = copy.deepcopy(self.document)
        self._check_names()
        self.plans = [parameter_plan(p.name, self.document) for p in self.parameters]
        for p, plan in zip(self.parameters, self.plans):
            check_feed_domain(p, plan)
        self.metric_plans = [self._metric_plan(m) for m in self.metrics]
        blob = json.dumps([self.document, [p.to_dict() for p in self.parameters],
                           [m.to_dict() for m in self.metrics], self.stage_factor], sort_keys=True, default=str)
        self.token = hashlib.sha256(blob.encode()).hexdigest()[:16]
        self._check_nominal()

    def _check_names(self) -> None:
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise InputError(f"parameters.{dup}", "declared twice")
        values = self.stage_factor.values() if isinstance(self.stage_factor, dict) else [self.stage_factor]
        for f in values:
            if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.05 <= f <= 20:
                raise InputError("stage_factor", f"must be a number in [0.05, 20] (or a table of them per "
                                                 f"cut), got {self.stage_factor!r}")

    def _metric_plan(self, m: Metric) -> tuple:
        products = self.document.get("products") or {}
        plan = metric_plan(m.path, products)
        if plan is None:
            raise InputError(f"metrics.{m.name}", f"unknown plant metric {clip(m.path)!r}; products: "
                                                  f"{', '.join(products)}")
        return plan

    def _check_nominal(self) -> None:
        """Every value at the nominal point, checked now rather than in a worker: the feed, the units'
        parameters and the economic assumptions."""
        from magcycle.flowsheet.spec import parse_flowsheet

        inputs = self._inputs(np.array([p.nominal for p in self.parameters]))
        self._feed(inputs)
        if inputs.units:
            parse_flowsheet(self.document, "study").with_unit_parameters(inputs.units)
        if inputs.econ or any(plan[0] == "tea" for plan in self.metric_plans):
            from magcycle.econ.tea import assumptions

            try:
                assumptions(inputs.econ)
            except InputError as exc:
                raise InputError(f"parameters.econ.{exc.field}", exc.reason) from None
            if inputs.econ:  # a price for nothing the plant makes or uses: at its nominal solve
                from magcycle.econ.tea import check_names

                nominal = self.nominal_result()  # the plant's own errors keep their own fields
                try:
                    check_names(nominal, inputs.econ)
                except InputError as exc:
                    raise InputError(f"parameters.econ.{exc.field}", exc.reason) from None

    @classmethod
    def default(cls, plant=None, **kw) -> "PlantProblem":
        return cls(plant_document(plant), default_plant_parameters(plant), default_plant_metrics(plant), **kw)

    # -------------------------------------------------------------- building
    def _base_rate(self) -> float:
        """The plant's own feed rate [kg/h] (read once per process)."""
        rate = self.__dict__.get("_rate")
        if rate is None:
            from magcycle.feed.feed import feed_rate

            doc = self.document
            hours = float((doc.get("plant") or {}).get("hours_per_year", 8000))
            rate = self.__dict__["_rate"] = feed_rate((doc.get("feed") or {}).get("rate", "100 kg/h"),
                                                      "feed.rate", hours)
        return rate

    def _inputs(self, x: np.ndarray) -> SampleInputs:
        """One sample's inputs: the plant's feed with each parameter's value set."""
        inputs = SampleInputs(self._base_rate(), _blend_weights(self.document))
        for plan, v in zip(self.plans, x):
            inputs.set(plan, float(v))
        return inputs

    def _feed(self, inputs: SampleInputs):
        from magcycle.feed.feed import blend

        hours = float((self.document.get("plant") or {}).get("hours_per_year", 8000))
        pairs = [(_class_feed(key, inputs), w) for key, w in inputs.weights.items()]
        return blend(pairs, inputs.rate, hours_per_year=hours)

    def _build(self, x: np.ndarray, base_spec=None):
        """(FlowsheetSpec or None, Feed, assumptions overrides) for one sample's parameter values."""
        inputs = self._inputs(x)
        spec = base_spec.with_unit_parameters(inputs.units) if inputs.units and base_spec is not None else None
        return spec, self._feed(inputs), inputs.econ

    # ------------------------------------------------------------ evaluating
    def _nominal(self):
        """(the flowsheet the samples run, the nominal plant): the plant run to its products' specs at
        the nominal feed (its cut targets derived there, flowsheet.targets), built, and with its stages
        scaled by ``stage_factor``."""
        if self.token not in _NOMINAL:
            from magcycle.flowsheet import parse_flowsheet, simulate
            from magcycle.flowsheet.targets import run_to_spec

            base = parse_flowsheet(self.document, "study")
            spec, feed, _ = self._build(np.array([p.nominal for p in self.parameters]), base)
            r = run_to_spec(spec or base, feed)
            base = base.with_unit_parameters(_derived_changes(r)) if r.derived_targets else base
            if isinstance(self.stage_factor, dict) or self.stage_factor != 1.0:
                r = simulate(r.spec, feed, warm=scale_stages(r, self.stage_factor))
            _NOMINAL.clear()  # one study at a time per process
            _NOMINAL[self.token] = (base, r)
        return _NOMINAL[self.token]

    def nominal_result(self):
        """The nominal plant solve (its SX design is the one every sample runs)."""
        return self._nominal()[1]

    def values(self, r, overrides=None) -> np.ndarray:
        """The metrics of a plant result (NaN where a metric has no value)."""
        tea = None
        if any(plan[0] == "tea" for plan in self.metric_plans):
            from magcycle.econ.tea import techno_economics

            tea = techno_economics(r, overrides, extras=False).to_dict()
        out = np.full(len(self.metrics), np.nan)
        for j, plan in enumerate(self.metric_plans):
            v = metric_value(plan, r, tea)
            out[j] = np.nan if v is None else float(v)
        return out

    def evaluate(self, X, U):
        """Each sample runs the built nominal plant (its stages) on its feed, with the cut targets
        derived from the products' specs for that feed and met by feed-forward flows
        (:func:`magcycle.flowsheet.targets.run_to_spec_steps`), the samples' cascades solved in
        lockstep."""
        from magcycle.flowsheet.targets import run_to_spec_steps
        from magcycle.sx.lockstep import run_together

        base_spec, nominal = self._nominal()

        def sample(x):
            spec, feed, overrides = self._build(x, base_spec)
            r = yield from run_to_spec_steps(spec or base_spec, feed, warm=nominal)
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
        base, r = self._nominal()
        _, _, overrides = self._build(np.array([p.nominal for p in self.parameters]), base)
        return {m.name: float(v) for m, v in zip(self.metrics, self.values(r, overrides))}
