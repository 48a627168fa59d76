"""Campaign planning: which feed lots the line runs in which week, for which offtake orders (``magcycle plan
campaigns PLAN.toml``).

Why a planner of its own
    One campaign yields NdPr, Dy and Tb oxides together, in the proportions
    its feed's assay dictates (co-products), so this is not textbook
    lot-sizing; DFARS-only orders need segregated campaigns of eligible lots;
    orders may ask a minimum post-consumer share, met through mass-balance
    credits.

Yields (per lot, from the plant)
    Each distinct lot assay is simulated on the plant at its design rate
    (:func:`magcycle.flowsheet.targets.run_to_spec`, as ``trace campaign``
    runs it); the yield of product p from lot l is Y(l, p) = product rate /
    feed rate [kg/kg]. A blend is planned as the sum of its lots' yields (the
    linear model every lot-sizing plan makes; ``trace campaign`` later
    simulates the campaign's real blend).

Formulation (weekly buckets t = 0 .. T-1 from ``start``; families f; lots l of
mass m(l) [kg] arriving in week a(l); orders o of mass M(o) [kg] of product
p(o), due in week d(o); capacity K [kg/day]; changeover c(f, g) [days])

* line state: y(f, t) binary, sum_f y(f, t) = 1 (the family the line is set
  to, idle weeks included); s(t) binary, 1 when week t is a segregated,
  DFARS-eligible campaign week, with class g(t) binary (1 post-consumer);
* feed: x(l, t) >= 0 kg for t >= a(l); x(l, t) <= m(l) y(fam(l), t);
  sum_t x(l, t) <= m(l); a lot that is not DFARS-eligible: x(l, t) <= m(l)
  (1 - s(t)); in a segregated week only lots of class g(t);
* changeover: h(t) >= c(f, g) (y(f, t-1) + y(g, t) - 1) for f != g, and
  h(t) >= min_f c(f, g) (y(g, t) - y(g, t-1)) (valid; tight where y is fractional),
  h(t) >= flush |s(t) - s(t-1)| (a segregated campaign starts from a flushed
  circuit), the line's state before week 0 being ``initial_family`` in an
  ordinary (not segregated) week, s(-1) = 0 (with no ``initial_family`` the line
  starts clean: no changeover, no flush, in week 0);
  sum_l x(l, t) <= K (7 - h(t));
* products: P(p, t) = sum_l Y(l, p) x(l, t) (co-products in assay
  proportions); DFARS product D(p, t) <= P(p, t), D(p, t) <= sum_{l eligible}
  Y(l, p) x(l, t), D(p, t) <= P_max(p) s(t) with P_max(p) the least of all
  eligible lots' product and a week of feed at the best eligible yield;
* valid rows for the LP relaxation (implied at whole y, s, g; without them a
  fractional week runs every family, and segregated and ordinary feed, at full
  capacity): sum_{l in f} x(l, t) <= 7K y(f, t); sum_{l not eligible} x(l, t)
  <= 7K (1 - s(t)); eligible pre lots <= 7K (2 - s - g), post lots <= 7K (1 -
  s + g); g(t) <= s(t);
  post-consumer credit C(p, t) = sum_{l post} Y(l, p) x(l, t);
* orders: q(o, t) >= 0 delivered in week t >= d(o) (offtakers take delivery at
  the due date, not before), sum_t q(o, t) + short(o) = M(o); short(o) = 0
  unless ``allow_shortfall``; with ``hard_due_dates`` nothing after d(o);
* inventories: I(p, t) = I(p, t-1) + P(p, t) - sum_o q(o, t) >= 0; the
  DFARS inventory J(p, t) = J(p, t-1) + D(p, t) - sum_{o DFARS} q(o, t),
  0 <= J <= I; credits K(p, t) = K(p, t-1) + C(p, t) - sum_o r(o, t) >= 0
  with r(o, t) >= share(o) q(o, t) (each delivery claims its credits in its
  week; claims never exceed credits);
* objective: maximise margin = sum_o price(o) (M(o) - short(o)) - holding
  sum I - tardiness sum_o sum_{t > d(o)} (t - d(o)) q(o, t) - changeover cost
  sum h.

Solution: the LP relaxation bounds the margin; relax and fix over time finds a
first plan, fix and optimise (windows of weeks re-solved with the rest fixed,
Helber & Sahling 2010) improves it until it is within the requested gap of the
bound; only then, if time is left, the full model runs (:func:`_solve`).

Campaigns are the runs of consecutive weeks with one family and one custody
model (a segregated one of one class) in which the line processed feed.
Solved on HiGHS through :class:`magcycle.plan.milp.Model`, which checks the
point against its rows;
the plan is then checked again in plain Python (:func:`check_plan`): lots
not overdrawn nor used before arrival, capacity, every DFARS order served
only from segregated weeks of eligible lots, post-consumer minima, product
balances. When firm orders cannot all be met the problem is solved again
with shortfalls allowed (the least sum of the orders' shares short), and the
orders short are named.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from magcycle.errors import InputError, MassBalanceError
from magcycle.plan.milp import Infeasible, Model
from magcycle.schema import ElementSymbol, Name, Strict, fail, field
from magcycle.trace.documents import Date, Mass, Origin

__all__ = ["PlanFile", "PlanLot", "PlanOrder", "plan_campaigns", "lot_yields", "check_plan", "check_products",
           "dfars_status"]

Days = Annotated[float, Field(ge=0.0, le=365.0)]


class PlanLot(Strict):
    """A feed lot to plan: as a receipt, with its arrival date."""

    id: Name = field(description="lot id")
    family: Name = field(description="feed family (a catalogue class such as swarf, ev, wind, or any name)")
    mass: Mass = field(description="dry mass available, e.g. '2.0 t'")
    arrival: Date = field(description="date the lot is at the plant")
    consumer: Literal["pre", "post"] = field(description="ISO 14021 class")
    feed: str | None = field(None, description="catalogue class whose nominal assay the lot takes")
    assay: dict[ElementSymbol, float] | None = field(None, unit="wt %", description="dry assay, element = wt %")
    origin: Origin = field(default_factory=Origin, description="country of each stage (DFARS)")

    @model_validator(mode="after")
    def _one_assay(self):
        from magcycle.feed.catalogue import CATALOGUE
        from magcycle.feed.feed import check_composition

        if (self.feed is None) == (self.assay is None):
            raise fail(("feed",), "a lot needs an assay: give feed (a catalogue class) or an [assay] table")
        if self.feed is not None and self.feed not in CATALOGUE:
            raise fail(("feed",), f"unknown feed class {self.feed!r}; expected one of {', '.join(CATALOGUE)}")
        if self.assay is not None:
            try:
                check_composition(self.assay, "assay")
            except InputError as exc:
                raise fail(tuple(exc.field.split(".")), exc.reason) from None
        return self

    def composition(self) -> dict[str, float]:
        from magcycle.feed.catalogue import CATALOGUE

        if self.assay is not None:
            return dict(self.assay)
        return {el: w for el, w in CATALOGUE[self.feed].nominal.items() if w > 0}


class PlanOrder(Strict):
    """An offtake order."""

    id: Name = field(description="order id")
    product: Name = field(description="a product of the plant (e.g. 'NdPr oxide')")
    mass: Mass = field(description="net mass ordered")
    due: Date = field(description="due date (delivered in that week or later)")
    price_usd_per_kg: float = field(0.0, ge=0.0, le=1e6, unit="USD/kg", description="price")
    min_post_consumer_share: float = field(0.0, ge=0.0, le=1.0, description="least post-consumer share, a fraction")
    dfars_only: bool = field(False, description="only from segregated campaigns of DFARS-eligible lots")


class PlanFile(Strict):
    """A planning problem (``magcycle plan campaigns PLAN.toml``)."""

    start: Date = field(description="first day of week 0")
    weeks: int = field(52, ge=1, le=260, description="horizon [weeks]")
    plant: Name = field("reference", description="built-in plant or flowsheet file whose yields are planned")
    feed_t_per_day: float | None = field(None, gt=0.0, le=1e4, unit="t/d",
                                         description="line capacity; default: the plant's design feed rate")
    initial_family: Name | None = field(None, description="the family the line is set to before week 0")
    changeover_days: Days = field(2.0, unit="d", description="changeover between two families (default)")
    changeovers: dict[Name, dict[Name, Days]] = field(default_factory=dict, unit="d",
                                                      description="from family = {to family = days}")
    flush_days: Days = field(1.0, unit="d", description="flush into or out of a segregated campaign")
    holding_usd_per_kg_week: float = field(0.01, ge=0.0, le=1e4, unit="USD/(kg week)", description="product held")
    tardiness_usd_per_kg_week: float = field(1.0, ge=0.0, le=1e6, unit="USD/(kg week)", description="late delivery")
    changeover_usd_per_day: float = field(1000.0, ge=0.0, le=1e9, unit="USD/d", description="a day of changeover")
    hard_due_dates: bool = field(False, description="no delivery after the due week")
    allow_shortfall: bool = field(False, description="orders may be short (their revenue lost) instead of firm")
    lots: list[PlanLot] = field(default_factory=list, max_length=5000, description="feed lots (or from --db)")
    orders: list[PlanOrder] = field(min_length=1, max_length=2000, description="offtake orders")

    @model_validator(mode="after")
    def _consistent(self):
        families = {lot.family for lot in self.lots}
        for f, row in self.changeovers.items():
            if f not in families:
                raise fail(("changeovers", f), f"unknown family; the lots' families: {', '.join(sorted(families))}")
            for g in row:
                if g not in families:
                    raise fail(("changeovers", f, g), f"unknown family; the lots' families: "
                                                      f"{', '.join(sorted(families))}")
        if self.initial_family is not None and families and self.initial_family not in families:
            raise fail(("initial_family",), "not a family of any lot")
        _unique(self.lots, "lots")
        _unique(self.orders, "orders")
        try:
            end = self.start + dt.timedelta(weeks=self.weeks)
        except OverflowError:
            raise fail(("weeks",), f"{self.weeks} weeks from {self.start.isoformat()} run past the year 9999") from None
        for i, o in enumerate(self.orders):
            if not self.start <= o.due < end:
                raise fail(("orders", i, "due"), f"{o.due.isoformat()} is outside the horizon "
                                                 f"{self.start.isoformat()} to {end.isoformat()}")
        return self


def _unique(items: list, where: str) -> None:
    seen = set()
    for i, it in enumerate(items):
        if it.id in seen:
            raise fail((where, i, "id"), f"{it.id!r} is given twice")
        seen.add(it.id)


def dfars_status(lot: PlanLot) -> bool | str:
    """A lot's own DFARS 252.225-7052 status: False when a stage is covered, 'unknown' when one is unknown."""
    from magcycle.trace.countries import DFARS_COVERED, DFARS_STAGES, UNKNOWN

    stages = [getattr(lot.origin, s) for s in DFARS_STAGES]
    if any(c in DFARS_COVERED for c in stages):
        return False
    return "unknown" if UNKNOWN in stages else True


def lot_yields(doc: PlanFile) -> tuple[dict[str, dict[str, float]], float, list[str]]:
    """({lot: {product: kg per kg of lot}}, the plant's feed rate [kg/h], products), each distinct assay simulated
    once on the plant (module docstring)."""
    from magcycle.feed import Feed
    from magcycle.flowsheet.simulation import load_plant, plant_feed
    from magcycle.flowsheet.targets import run_to_spec

    try:
        spec = load_plant(doc.plant)
    except InputError as exc:
        raise InputError("plant", f"{doc.plant}: {exc}") from None
    try:
        rate = plant_feed(spec).kg_per_h
    except InputError:
        rate = 100.0
    cache: dict[tuple, dict[str, float]] = {}
    out = {}
    for lot in doc.lots:
        key = tuple(sorted(lot.composition().items()))
        if key not in cache:
            result = run_to_spec(spec, Feed(f"lot {lot.id}", rate, dict(key)))
            cache[key] = {p["name"]: p["kg_per_h"] / rate for p in result.products}
        out[lot.id] = cache[key]
    return out, rate, list(spec.products)


@dataclass
class _Vars:
    model: Model
    x: dict
    y: dict
    s: dict
    g: dict
    h: dict
    q: dict
    short: dict
    inv: dict
    dinv: dict
    credit: dict
    claim: dict
    prod: dict
    model_x: Any = None  # the solver's values, once solved


def _week(doc: PlanFile, day: dt.date) -> int:
    return max(0, (day - doc.start).days // 7)


def _changeover(doc: PlanFile, f: str, g: str) -> float:
    if f == g:
        return 0.0
    return doc.changeovers.get(f, {}).get(g, doc.changeover_days)


def _line(m: Model, doc: PlanFile, families: list[str], T: int):
    y = {(f, t): m.binary(f"y[{f},{t}]") for f in families for t in range(T)}
    s = {t: m.binary(f"s[{t}]") for t in range(T)}
    g = {t: m.binary(f"g[{t}]") for t in range(T)}
    h = {t: m.var(f"h[{t}]", 0.0, 7.0) for t in range(T)}
    for t in range(T):
        m.add({y[f, t]: 1.0 for f in families}, 1.0, 1.0, f"one family, week {t}")
        _changeovers(m, doc, families, y, h, t)
        _entering(m, doc, families, y, h, t)
        _flush(m, doc, s, h, t)
    return y, s, g, h


def _changeovers(m: Model, doc: PlanFile, families: list[str], y, h, t: int) -> None:
    """h(t) >= c(f, g) (y(f, t-1) + y(g, t) - 1); in week 0 from the initial family."""
    for f in families:
        for f2 in families:
            c = _changeover(doc, f, f2)
            if c <= 0:
                continue
            if t:
                m.add({h[t]: 1.0, y[f, t - 1]: -c, y[f2, t]: -c}, -c, name=f"changeover {f}->{f2}, week {t}")
            elif doc.initial_family == f:
                m.add({h[t]: 1.0, y[f2, t]: -c}, 0.0, name=f"changeover from the initial {f}, week 0")


def _entering(m: Model, doc: PlanFile, families: list[str], y, h, t: int) -> None:
    """Entering a family costs at least its cheapest changeover (valid; tight where y is fractional)."""
    for f2 in families:
        c_in = min((_changeover(doc, f, f2) for f in families if f != f2), default=0.0)
        if c_in > 0 and t:
            m.add({h[t]: 1.0, y[f2, t]: -c_in, y[f2, t - 1]: c_in}, 0.0, name=f"entering {f2}, week {t}")
        elif c_in > 0 and doc.initial_family is not None and doc.initial_family != f2:
            m.add({h[t]: 1.0, y[f2, t]: -_changeover(doc, doc.initial_family, f2)}, 0.0,
                  name=f"entering {f2} from the initial family, week 0")


def _flush(m: Model, doc: PlanFile, s, h, t: int) -> None:
    """h(t) >= flush |s(t) - s(t-1)|; in week 0, into a segregated week when the line ran ordinary feed before."""
    if doc.flush_days <= 0:
        return
    if t:
        m.add({h[t]: 1.0, s[t]: -doc.flush_days, s[t - 1]: doc.flush_days}, 0.0, name=f"flush in, week {t}")
        m.add({h[t]: 1.0, s[t]: doc.flush_days, s[t - 1]: -doc.flush_days}, 0.0, name=f"flush out, week {t}")
    elif doc.initial_family is not None:
        m.add({h[t]: 1.0, s[t]: -doc.flush_days}, 0.0, name="flush in, week 0")


def _feed(m: Model, doc: PlanFile, y, s, g, h, cap_kg_day: float, T: int):
    x = {}
    for lot in doc.lots:
        a = _week(doc, lot.arrival)
        eligible = dfars_status(lot) is True
        for t in range(a, T):
            v = m.var(f"x[{lot.id},{t}]", 0.0, lot.mass)
            x[lot.id, t] = v
            m.add({v: 1.0, y[lot.family, t]: -lot.mass}, hi=0.0, name=f"{lot.id} only in its family's weeks")
            if not eligible:
                m.add({v: 1.0, s[t]: lot.mass}, hi=lot.mass, name=f"{lot.id} not in a segregated DFARS week")
            elif lot.consumer == "pre":  # a segregated week takes one class: pre lots only when g = 0
                m.add({v: 1.0, s[t]: lot.mass, g[t]: lot.mass}, hi=2 * lot.mass, name=f"{lot.id} class")
            else:
                m.add({v: 1.0, s[t]: lot.mass, g[t]: -lot.mass}, hi=lot.mass, name=f"{lot.id} class")
        m.add({x[lot.id, t]: 1.0 for t in range(a, T)}, hi=lot.mass, name=f"lot {lot.id} mass")
    for t in range(T):
        terms = {x[k]: 1.0 for k in x if k[1] == t}
        terms[h[t]] = cap_kg_day
        m.add(terms, hi=7.0 * cap_kg_day, name=f"capacity, week {t}")
        _week_cuts(m, doc, x, y, s, g, 7.0 * cap_kg_day, t)
    return x


def _week_cuts(m: Model, doc: PlanFile, x, y, s, g, week_kg: float, t: int) -> None:
    """Valid rows that the lot-by-lot rows imply only at whole y, s, g (they tighten the LP relaxation, whose
    fractional week could otherwise run every family, and segregated and ordinary feed, at full capacity): the
    feed of a family, of lots that are not DFARS-eligible and of each class of eligible lots, each within the
    week's capacity times the share of the week the line state allows; g(t) <= s(t) (the class of an ordinary
    week is immaterial: fixed at 0)."""
    groups: dict[tuple, dict[int, float]] = {}
    for lot in doc.lots:
        if (lot.id, t) not in x:
            continue
        eligible = dfars_status(lot) is True
        groups.setdefault(("family", lot.family), {})[x[lot.id, t]] = 1.0
        key = ("not eligible",) if not eligible else ("eligible", lot.consumer)
        groups.setdefault(key, {})[x[lot.id, t]] = 1.0
    for key, terms in groups.items():
        if key[0] == "family":  # sum x <= K7 y(f, t)
            m.add({**terms, y[key[1], t]: -week_kg}, hi=0.0, name=f"family {key[1]} within its weeks, week {t}")
        elif key[0] == "not eligible":  # sum x <= K7 (1 - s)
            m.add({**terms, s[t]: week_kg}, hi=week_kg, name=f"lots not eligible outside DFARS weeks, week {t}")
        elif key[1] == "pre":  # sum x <= K7 (2 - s - g)
            m.add({**terms, s[t]: week_kg, g[t]: week_kg}, hi=2 * week_kg, name=f"pre-consumer class, week {t}")
        else:  # sum x <= K7 (1 - s + g)
            m.add({**terms, s[t]: week_kg, g[t]: -week_kg}, hi=week_kg, name=f"post-consumer class, week {t}")
    m.add({g[t]: 1.0, s[t]: -1.0}, hi=0.0, name=f"class only in a segregated week, week {t}")


def _dfars_max(doc: PlanFile, yields, products, eligible: set, cap_kg_day: float) -> dict[str, float]:
    """P_max(p): the least of all eligible lots' product and a week of feed at the best eligible yield [kg]."""
    return {p: min(sum(lot.mass * yields[lot.id].get(p, 0.0) for lot in doc.lots if lot.id in eligible),
                   7.0 * cap_kg_day * max((yields[i].get(p, 0.0) for i in eligible), default=0.0))
            for p in products}


def _made(week: list[tuple[str, int]], yields, p: str, only=None) -> dict[int, float]:
    """{x(l, t): Y(l, p)} over ``week``, the (lot, variable) pairs of week t (the lots in ``only``, when given)."""
    return {i: yields[lot].get(p, 0.0) for lot, i in week if only is None or lot in only}


def _products(m: Model, doc: PlanFile, x, s, yields, products, cap_kg_day: float, T: int):
    post = {lot.id for lot in doc.lots if lot.consumer == "post"}
    eligible = {lot.id for lot in doc.lots if dfars_status(lot) is True}
    dfars_max = _dfars_max(doc, yields, products, eligible, cap_kg_day)
    prod, dfars, credit = {}, {}, {}
    weeks: dict[int, list[tuple[str, int]]] = {t: [] for t in range(T)}
    for (lot, t), i in x.items():
        weeks[t].append((lot, i))
    for p in products:
        for t in range(T):
            prod[p, t] = m.var(f"P[{p},{t}]")
            m.add({prod[p, t]: 1.0, **_neg(_made(weeks[t], yields, p))}, 0.0, 0.0, f"product {p}, week {t}")
            dfars[p, t] = m.var(f"D[{p},{t}]")
            m.add({dfars[p, t]: 1.0, prod[p, t]: -1.0}, hi=0.0, name=f"DFARS {p} <= product, week {t}")
            m.add({dfars[p, t]: 1.0, s[t]: -dfars_max[p]}, hi=0.0, name=f"DFARS {p} only segregated, week {t}")
            m.add({dfars[p, t]: 1.0, **_neg(_made(weeks[t], yields, p, eligible))}, hi=0.0,
                  name=f"DFARS {p} only from eligible lots, week {t}")
            credit[p, t] = m.var(f"C[{p},{t}]")
            m.add({credit[p, t]: 1.0, **_neg(_made(weeks[t], yields, p, post))}, 0.0, 0.0,
                  f"post-consumer credit {p}, week {t}")
    return prod, dfars, credit


def _neg(terms: dict[int, float]) -> dict[int, float]:
    return {k: -a for k, a in terms.items()}


def _orders(m: Model, doc: PlanFile, T: int):
    q, short, claim = {}, {}, {}
    for o in doc.orders:
        d = _week(doc, o.due)
        last = d + 1 if doc.hard_due_dates else T
        for t in range(d, last):
            q[o.id, t] = m.var(f"q[{o.id},{t}]", 0.0, o.mass)
            if o.min_post_consumer_share > 0:  # claims only where an order asks for recycled content
                claim[o.id, t] = m.var(f"r[{o.id},{t}]", 0.0, o.mass)
        short[o.id] = m.var(f"short[{o.id}]", 0.0, o.mass if doc.allow_shortfall else 0.0)
        m.add({**{q[o.id, t]: 1.0 for t in range(d, last)}, short[o.id]: 1.0}, o.mass, o.mass, f"order {o.id}")
        for t in range(d, last):  # each delivery carries its claim, booked on the credits of that week
            if o.min_post_consumer_share > 0:
                m.add({claim[o.id, t]: 1.0, q[o.id, t]: -o.min_post_consumer_share}, 0.0,
                      name=f"order {o.id} post-consumer share, week {t}")
    return q, short, claim


def _balances(m: Model, doc: PlanFile, products, prod, dfars, credit, q, claim, T: int):
    inv, dinv, cred = {}, {}, {}
    for p in products:
        for t in range(T):
            inv[p, t] = m.var(f"I[{p},{t}]")
            dinv[p, t] = m.var(f"J[{p},{t}]")
            cred[p, t] = m.var(f"K[{p},{t}]")
            out = {q[k]: 1.0 for k in q if k[1] == t and _product_of(doc, k[0]) == p}
            dout = {q[k]: 1.0 for k in q if k[1] == t and _product_of(doc, k[0]) == p and _dfars(doc, k[0])}
            cl = {claim[k]: 1.0 for k in claim if k[1] == t and _product_of(doc, k[0]) == p}
            for var, made, used, name in ((inv, prod, out, "inventory"), (dinv, dfars, dout, "DFARS inventory"),
                                          (cred, credit, cl, "post-consumer credits")):
                terms = {var[p, t]: 1.0, made[p, t]: -1.0, **used}
                if t:
                    terms[var[p, t - 1]] = -1.0
                m.add(terms, 0.0, 0.0, f"{name} {p}, week {t}")
            m.add({dinv[p, t]: 1.0, inv[p, t]: -1.0}, hi=0.0, name=f"DFARS inventory within inventory {p}, week {t}")
    return inv, dinv, cred


def _product_of(doc: PlanFile, order_id: str) -> str:
    return next(o.product for o in doc.orders if o.id == order_id)


def _dfars(doc: PlanFile, order_id: str) -> bool:
    return next(o.dfars_only for o in doc.orders if o.id == order_id)


def _objective(m: Model, doc: PlanFile, v: _Vars, products, T: int) -> None:
    """The margin, its constant (the firm orders' revenue) carried by a variable fixed at 1, so that the solver's
    relative gap is the margin's."""
    one = m.var("revenue of the orders (fixed)", 1.0, 1.0)
    terms: dict[int, float] = {one: sum(o.price_usd_per_kg * o.mass for o in doc.orders)}
    for o in doc.orders:
        terms[v.short[o.id]] = terms.get(v.short[o.id], 0.0) - o.price_usd_per_kg
        d = _week(doc, o.due)
        for t in range(d, T):
            if (o.id, t) in v.q and t > d:
                terms[v.q[o.id, t]] = -doc.tardiness_usd_per_kg_week * (t - d)
    for p in products:
        for t in range(T):
            terms[v.inv[p, t]] = -doc.holding_usd_per_kg_week
    for t in range(T):
        terms[v.h[t]] = -doc.changeover_usd_per_day
    m.objective(terms)


def _build(doc: PlanFile, yields, products, cap_kg_day: float) -> _Vars:
    T = doc.weeks
    m = Model("max")
    families = sorted({lot.family for lot in doc.lots} | ({doc.initial_family} if doc.initial_family else set()))
    y, s, g, h = _line(m, doc, families, T)
    x = _feed(m, doc, y, s, g, h, cap_kg_day, T)
    prod, dfars, credit = _products(m, doc, x, s, yields, products, cap_kg_day, T)
    q, short, claim = _orders(m, doc, T)
    inv, dinv, cred = _balances(m, doc, products, prod, dfars, credit, q, claim, T)
    v = _Vars(m, x, y, s, g, h, q, short, inv, dinv, cred, claim, prod)
    _objective(m, doc, v, products, T)
    return v


def _runs(doc: PlanFile, v: _Vars, x, cap_kg_day: float) -> list[dict]:
    """Runs of consecutive weeks with one family, one custody model (and, segregated, one class) in which feed was
    processed: {family, custody, start_day, end_day, changeover_days, lots {lot: kg}}."""
    fams = sorted({f for f, _ in v.y})
    runs: list[dict] = []
    for t in range(doc.weeks):
        used = {k[0]: x[k] for k in v.x if k[1] == t and x[k] > 1e-6}
        if not used:
            continue
        fam = next(f for f in fams if x_val(v, v.y[f, t]) > 0.5)
        custody = "segregated" if x_val(v, v.s[t]) > 0.5 else "mass_balance"
        key = (fam, custody, x_val(v, v.g[t]) > 0.5 if custody == "segregated" else None)
        h = x_val(v, v.h[t])
        if not runs or runs[-1]["_key"] != key or runs[-1]["_last"] != t - 1:
            runs.append({"family": fam, "custody": custody, "start_day": 7 * t + h, "lots": {}, "_key": key,
                         "changeover_days": h})
        run = runs[-1]
        for lot, kg in used.items():
            run["lots"][lot] = run["lots"].get(lot, 0.0) + kg
        run["end_day"] = 7 * t + h + sum(used.values()) / cap_kg_day
        run["_last"] = t
    return runs


def _campaigns(doc: PlanFile, v: _Vars, x, cap_kg_day: float, yields, products) -> list[dict]:
    """The plan's campaigns (:func:`_runs`) with dates, lots and products."""
    out = []
    for i, r in enumerate(_runs(doc, v, x, cap_kg_day)):
        out.append({"id": f"P-{i + 1:03d}", "family": r["family"], "custody": r["custody"],
                    "start": (doc.start + dt.timedelta(days=r["start_day"])).isoformat(),
                    "end": (doc.start + dt.timedelta(days=r["end_day"])).isoformat(),
                    "start_day": r["start_day"], "end_day": r["end_day"], "changeover_days": r["changeover_days"],
                    "feed_kg": sum(r["lots"].values()),
                    "lots": [{"lot": k, "mass_kg": m} for k, m in sorted(r["lots"].items())],
                    "products_kg": {p: sum(m * yields[k].get(p, 0.0) for k, m in r["lots"].items())
                                    for p in products}})
    return out


def x_val(v: _Vars, index: int) -> float:
    return float(v.model_x[index])


def _fulfilment(doc: PlanFile, v: _Vars) -> list[dict]:
    out = []
    for o in doc.orders:
        d = _week(doc, o.due)
        deliveries = [{"week": t, "date": (doc.start + dt.timedelta(weeks=t)).isoformat(), "mass_kg": x_val(v, i)}
                      for (oid, t), i in sorted(v.q.items(), key=lambda kv: kv[0][1]) if oid == o.id
                      and x_val(v, i) > 1e-6]
        late = sum(dl["mass_kg"] * (dl["week"] - d) for dl in deliveries if dl["week"] > d)
        out.append({"order": o.id, "product": o.product, "mass_kg": o.mass, "due": o.due.isoformat(),
                    "delivered_kg": sum(dl["mass_kg"] for dl in deliveries), "shortfall_kg": x_val(v, v.short[o.id]),
                    "late_kg_weeks": late, "dfars_only": o.dfars_only,
                    "min_post_consumer_share": o.min_post_consumer_share,
                    "post_consumer_credit_kg": sum(x_val(v, i) for (oid, _), i in v.claim.items() if oid == o.id),
                    "deliveries": deliveries})
    return out


def check_plan(doc: PlanFile, plan: dict, yields: dict, cap_kg_day: float, tol: float = 1e-6) -> None:
    """The plan checked in plain Python, from its campaigns and deliveries alone (module docstring); raises
    MassBalanceError naming what fails."""
    lots = {lot.id: lot for lot in doc.lots}
    used: dict[str, float] = {}
    for c in plan["campaigns"]:
        for part in c["lots"]:
            lot = lots[part["lot"]]
            used[lot.id] = used.get(lot.id, 0.0) + part["mass_kg"]
            if lot.family != c["family"]:
                raise MassBalanceError(f"lot {lot.id} ({lot.family}) in a {c['family']} campaign", math.inf)
            if (doc.start + dt.timedelta(days=c["end_day"])) < lot.arrival - dt.timedelta(days=6):
                raise MassBalanceError(f"lot {lot.id} used before it arrives", math.inf)
            if c["custody"] == "segregated" and dfars_status(lot) is not True:
                raise MassBalanceError(f"lot {lot.id} (DFARS {dfars_status(lot)}) in segregated campaign {c['id']}",
                                       math.inf)
        if c["custody"] == "segregated" and len({lots[p["lot"]].consumer for p in c["lots"]}) > 1:
            raise MassBalanceError(f"segregated campaign {c['id']} mixes pre- and post-consumer lots", math.inf)
    for lot_id, kg in used.items():
        if kg > lots[lot_id].mass * (1 + tol) + tol:
            raise MassBalanceError(f"lot {lot_id} overdrawn: {kg:g} of {lots[lot_id].mass:g} kg", math.inf)
    _check_orders(doc, plan, tol)


def _check_orders(doc: PlanFile, plan: dict, tol: float) -> None:
    made: dict[str, float] = {}
    dfars_made: dict[str, float] = {}
    for c in plan["campaigns"]:
        for p, kg in c["products_kg"].items():
            made[p] = made.get(p, 0.0) + kg
            if c["custody"] == "segregated":
                dfars_made[p] = dfars_made.get(p, 0.0) + kg
    taken: dict[str, float] = {}
    dfars_taken: dict[str, float] = {}
    for f in plan["orders"]:
        o = next(x for x in doc.orders if x.id == f["order"])
        if abs(f["delivered_kg"] + f["shortfall_kg"] - o.mass) > tol * max(1.0, o.mass):
            raise MassBalanceError(f"order {o.id}: delivered plus short is not the order", math.inf)
        if f["post_consumer_credit_kg"] < o.min_post_consumer_share * f["delivered_kg"] - tol * max(1.0, o.mass):
            raise MassBalanceError(f"order {o.id}: post-consumer share below {o.min_post_consumer_share}", math.inf)
        taken[o.product] = taken.get(o.product, 0.0) + f["delivered_kg"]
        if o.dfars_only:
            dfars_taken[o.product] = dfars_taken.get(o.product, 0.0) + f["delivered_kg"]
    for p, kg in taken.items():
        if kg > made.get(p, 0.0) * (1 + tol) + tol:
            raise MassBalanceError(f"{p}: {kg:g} kg delivered, {made.get(p, 0.0):g} kg made", math.inf)
    for p, kg in dfars_taken.items():
        if kg > dfars_made.get(p, 0.0) * (1 + tol) + tol:
            raise MassBalanceError(f"{p}: {kg:g} kg to DFARS-only orders, {dfars_made.get(p, 0.0):g} kg made in "
                                   "segregated campaigns of eligible lots", math.inf)


def check_products(doc: PlanFile, products: list[str]) -> None:
    """Every order of a product the plant makes, and lots to plan; InputError naming the order otherwise."""
    for i, o in enumerate(doc.orders):
        if o.product not in products:
            raise InputError(f"orders[{i}].product", f"unknown product {o.product!r}; the plant makes "
                                                     f"{', '.join(products)}")
    if not doc.lots:
        raise InputError("lots", "no lots to plan (give [[lots]] or --db)")


def _capacity(doc: PlanFile, rate_kg_h: float) -> float:
    return doc.feed_t_per_day * 1000.0 if doc.feed_t_per_day is not None else rate_kg_h * 24.0


def _binding(doc: PlanFile, yields, products, cap: float, time_limit: float) -> str:
    """The orders that cannot be met: the plan again with shortfalls allowed and the least sum of the orders'
    shares short, sum_o short(o) / M(o) (neither the best margin, which may drop orders that could be met, nor the
    least kg, which may short a small order instead of a large one), each order named with its shortfall."""
    relaxed = doc.model_copy(update={"allow_shortfall": True})
    v = _build(relaxed, yields, products, cap)
    v.model.objective({v.short[o.id]: -1.0 / o.mass for o in doc.orders})
    sol = v.model.solve(time_limit=time_limit, gap=1e-4)
    if sol.x is None:
        return "no plan exists even with shortfalls allowed"
    v.model_x = sol.x
    shorts = sorted(((x_val(v, i), oid) for oid, i in v.short.items() if x_val(v, i) > 1e-6), reverse=True)
    if not shorts:
        return "the orders can be met only with shortfalls the solver could not rule out"
    return "; ".join(f"order {oid} short by {kg:.6g} kg" for kg, oid in shorts[:5])


#: weeks whose line binaries are made whole at once in relax-and-fix
WINDOW_WEEKS = 8


def _week_of_binaries(v: _Vars) -> dict[int, int]:
    out = {i: t for (_, t), i in v.y.items()}
    out.update({i: t for t, i in v.s.items()})
    out.update({i: t for t, i in v.g.items()})
    return out


def _relax_and_fix(v: _Vars, weeks: int, time_limit: float, gap: float):
    """Relax and fix over time: window by window (``WINDOW_WEEKS``), the window's line binaries whole, the later
    ones relaxed, the earlier ones fixed to what the window before chose; a plan feasible for the full model, or
    None."""
    from dataclasses import replace

    m = v.model
    week_of = _week_of_binaries(v)
    rows = list(m.rows)
    windows = max(1, math.ceil(weeks / WINDOW_WEEKS))
    sol = None
    for start in range(0, weeks, WINDOW_WEEKS):
        integer = [m.integer[i] and week_of.get(i, -1) < start + WINDOW_WEEKS for i in range(len(m.names))]
        sol = replace(m, rows=rows, integer=integer).solve(time_limit=max(0.5, time_limit / windows), gap=gap / 2)
        if sol.x is None:
            return None
        rows = rows + [({i: 1.0}, round(sol.x[i]), round(sol.x[i]), f"week {t} as relax-and-fix chose")
                       for i, t in week_of.items() if start <= t < start + WINDOW_WEEKS]
    return sol


def _fix_and_optimize(v: _Vars, sol, bound: float, weeks: int, time_limit: float, gap: float):
    """Fix and optimise (Helber & Sahling 2010, Int. J. Prod. Econ. 123, 247-256): windows of ``WINDOW_WEEKS``
    weeks, overlapping by half, are re-solved with their line binaries free and every other one fixed at the plan's
    value; the plan is a feasible point of each sub-problem, so the margin never falls. Passes repeat while they
    improve, until the plan is within ``gap`` of ``bound`` or the time is spent; returns the best plan."""
    import time
    from dataclasses import replace

    m = v.model
    week_of = _week_of_binaries(v)
    deadline = time.perf_counter() + time_limit
    window_s = max(1.0, time_limit / 4)  # no window takes the whole budget
    step = max(1, WINDOW_WEEKS // 2)
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for start in range(0, max(1, weeks - step), step):
            left = deadline - time.perf_counter()
            if left <= 0.2 or _gap(bound, sol) <= gap:
                return sol
            lower, upper = list(m.lower), list(m.upper)
            for i, t in week_of.items():
                if not start <= t < start + WINDOW_WEEKS:
                    lower[i] = upper[i] = float(round(sol.x[i]))
            try:
                trial = replace(m, lower=lower, upper=upper).solve(time_limit=min(left, window_s), gap=gap / 4)
            except ArithmeticError:  # a point that fails its check: keep the plan, try the next window
                continue
            if trial.x is not None and trial.objective > sol.objective + 1e-9 * max(1.0, abs(sol.objective)):
                improved = improved or trial.objective > sol.objective + gap / 20 * max(1.0, abs(sol.objective))
                sol = trial
    return sol


def _better(bound: float, best, full):
    """(the tighter bound, the better plan) of relax-and-fix and the full model."""
    if full.bound is not None:
        bound = min(bound, full.bound)
    if full.x is not None and (best is None or full.objective > best.objective):
        best = full
    return bound, best


def _solve(v: _Vars, weeks: int, time_limit: float, gap: float):
    """The best plan and the tightest bound within ``time_limit`` (a Solution).

    1. the LP relaxation bounds the margin from above (and, infeasible, proves the model infeasible);
    2. relax and fix (:func:`_relax_and_fix`) finds a plan feasible for the full model, within 40 % of the time;
    3. fix and optimise (:func:`_fix_and_optimize`) improves it until it is within ``gap`` of the bound, within
       85 % of the time in all;
    4. when the gap is still above ``gap``, the full model runs with the time left, for a better plan or a
       tighter bound. The plan reported is the best one, the bound the tightest, the gap theirs:
       gap = (bound - margin) / max(1, |margin|)."""
    import time
    from dataclasses import replace

    t0 = time.perf_counter()
    m = v.model
    lp = replace(m, integer=[False] * len(m.names)).solve(time_limit=time_limit, gap=gap)
    if lp.x is None or not any(m.integer):
        return lp if lp.x is None else replace(lp, status="optimal")
    bound = lp.bound if lp.bound is not None else lp.objective
    best = _relax_and_fix(v, weeks, 0.4 * time_limit, gap)
    best = best if best is not None and best.x is not None else None
    if best is not None and _gap(bound, best) > gap and weeks > WINDOW_WEEKS:  # else relax-and-fix was the MILP
        best = _fix_and_optimize(v, best, bound, weeks, 0.85 * time_limit - (time.perf_counter() - t0), gap)
    left = time_limit - (time.perf_counter() - t0)
    if best is None or (_gap(bound, best) > gap and left > 1.0):
        return _with_full_model(m, bound, best, left, gap, t0)
    return _reported(bound, best, gap, t0)


def _with_full_model(m: Model, bound: float, best, left: float, gap: float, t0: float):
    """Step 4 of :func:`_solve`: the full model with the time left."""
    import time
    from dataclasses import replace

    full = m.solve(time_limit=max(1.0, left), gap=gap)
    if _full_wins(full, best):
        return replace(full, seconds=time.perf_counter() - t0)
    bound, best = _better(bound, best, full)
    if best is None:
        return full
    return _reported(bound, best, gap, t0)


def _reported(bound: float, best, gap: float, t0: float):
    """The plan with the tightest bound, its gap and status."""
    import time
    from dataclasses import replace

    g = _gap(bound, best)
    status = "optimal" if g <= 1e-9 else ("gap_reached" if g <= gap else "time_limit")
    return replace(best, bound=bound, gap=g, status=status, seconds=time.perf_counter() - t0)


def _full_wins(full, best) -> bool:
    """The full model solved to optimality with a plan at least as good as relax-and-fix's."""
    return full.x is not None and full.status == "optimal" and (best is None or full.objective >= best.objective)


def _gap(bound: float, sol) -> float:
    return max(0.0, (bound - sol.objective) / max(1.0, abs(sol.objective)))


def plan_campaigns(doc: PlanFile, *, time_limit: float = 60.0, gap: float = 0.01, yields=None) -> dict:
    """The plan (module docstring): {status, objective (margin, USD), bound, gap, campaigns, orders, yields,
    capacity_kg_per_day, model}. Raises InputError (bad input), Infeasible (naming the orders that cannot be
    met) or MassBalanceError (a plan that fails its check)."""
    if yields is None:
        yields, rate, products = lot_yields(doc) if doc.lots else ({}, 100.0, [])
    else:
        yields, rate, products = yields
    check_products(doc, products)
    cap = _capacity(doc, rate)
    v = _build(doc, yields, products, cap)
    try:
        sol = _solve(v, doc.weeks, time_limit, gap)
    except ArithmeticError as exc:
        raise MassBalanceError(f"the solver's plan fails its check: {exc}", math.inf) from None
    if sol.x is None:
        if sol.status == "infeasible":
            raise Infeasible(f"infeasible: {_binding(doc, yields, products, cap, time_limit)}")
        raise Infeasible(f"no plan found within {time_limit:g} s (HiGHS status {sol.status})")
    v.model_x = sol.x
    x = {k: x_val(v, i) for k, i in v.x.items()}
    plan = {"status": sol.status, "objective": sol.objective, "margin_usd": sol.objective, "bound": sol.bound,
            "gap": sol.gap, "seconds": sol.seconds, "capacity_kg_per_day": cap,
            "campaigns": _campaigns(doc, v, x, cap, yields, products), "orders": _fulfilment(doc, v),
            "yields_kg_per_kg": yields,
            "model": {"variables": len(v.model.names), "binaries": sum(v.model.integer),
                      "constraints": len(v.model.rows)}}
    check_plan(doc, plan, yields, cap)
    return plan
