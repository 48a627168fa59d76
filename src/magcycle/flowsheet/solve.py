"""Sequential-modular solve with automatic tear streams and Wegstein acceleration.

Order
    Units form a directed graph through their streams. Strongly connected
    components (Tarjan) are solved in topological order; inside a component
    with a cycle, the streams closing a depth-first search's back edges are
    torn, which leaves an acyclic order for the rest.

Recycle convergence
    Tear streams are iterated as x <- g(x) with Wegstein's acceleration per
    species, x_{k+1} = q x_k + (1 - q) g(x_k), s = (g_k - g_{k-1}) / (x_k - x_{k-1}),
    q = s / (s - 1), bounded to [-5, 0] (Wegstein, Commun. ACM 1 (1958) 9).
    Converged when every species satisfies |g - x| <= rtol max(|g|, |x|) + atol,
    with atol = atol_floor x the tear's total flow, so trace species are judged
    relative to themselves down to that floor (:mod:`magcycle.flowsheet.wegstein`).

Steps
    ``solve_flowsheet_steps`` is the solve as a step generator: it passes on
    the cascades its SX units ask for (:mod:`magcycle.sx.lockstep`);
    ``solve_flowsheet`` solves each alone.

Closure
    Every unit's element balance is checked on the results reported: units
    outside a recycle as they run, units inside one on the pass the recycle
    converges on (the trial passes before it are discarded unchecked). After
    convergence the plant's element balance (feed + every unit's reagents =
    every stream leaving to a sink) is computed per element; a relative
    error above ``CLOSURE_LIMIT`` raises MassBalanceError.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from magcycle.errors import InputError, MassBalanceError
from magcycle.feed import Feed
from magcycle.flowsheet.spec import FlowsheetSpec
from magcycle.flowsheet.wegstein import TearConvergence
from magcycle.units.stream import Stream, closure, element_totals

__all__ = ["CLOSURE_LIMIT", "MAX_RECYCLE_ITER", "feed_stream", "calculation_order", "SolveStats", "solve_flowsheet",
           "solve_flowsheet_steps", "plant_closure", "check_closure"]

#: largest relative element closure error of the whole plant
CLOSURE_LIMIT = 1e-9
#: most passes around a recycle
MAX_RECYCLE_ITER = 200


def feed_stream(feed: Feed) -> Stream:
    """The feed as a solid stream of elements [mol/h], with its water."""
    flows = dict(feed.element_mol_h())
    if feed.water_kg_h > 0:
        from magcycle.chem.formula import formula_mass
        flows["H2O"] = feed.water_kg_h * 1000.0 / formula_mass("H2O")
    return Stream("solid", flows)


def _tarjan(nodes, succ):
    """Strongly connected components of a graph, in topological order (Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in nodes:
        if v not in index:
            visit(v)
    return out[::-1]  # Tarjan emits sinks first


def calculation_order(spec: FlowsheetSpec):
    """[(units in order, tear connection names)] per strongly connected component."""
    names = list(spec.units)
    succ = {u: [] for u in names}
    edges = {}
    for c in spec.connections:
        if c.src[0] in spec.units and c.dst[0] in spec.units:
            succ[c.src[0]].append(c.dst[0])
            edges.setdefault((c.src[0], c.dst[0]), []).append(c.name)
    blocks = []
    for comp in _tarjan(names, succ):
        cs = set(comp)
        if len(comp) == 1 and comp[0] not in succ[comp[0]]:
            blocks.append((comp, []))
            continue
        # start where the component is fed from outside
        fed = [u for u in comp if any(c.dst[0] == u and c.src[0] not in cs for c in spec.connections)]
        start = fed[0] if fed else comp[0]
        tears, seen, active, post = [], set(), set(), []

        def dfs(v):
            seen.add(v)
            active.add(v)
            for w in succ[v]:
                if w not in cs:
                    continue
                if w in active:
                    tears.extend(edges[(v, w)])
                elif w not in seen:
                    dfs(w)
            active.discard(v)
            post.append(v)

        dfs(start)
        for v in comp:
            if v not in seen:
                dfs(v)
        blocks.append((post[::-1], sorted(set(tears))))
    return blocks


_ORDERS: dict = {}


def _calculation_order_cached(spec: FlowsheetSpec):
    """calculation_order(spec), remembered for the graph (unit names and connections) it was
    found for: a Monte Carlo study solves the same plant thousands of times."""
    key = (tuple(spec.units), tuple((c.name, c.src, c.dst) for c in spec.connections))
    if key not in _ORDERS:
        if len(_ORDERS) > 64:
            _ORDERS.clear()
        _ORDERS[key] = calculation_order(spec)
    return _ORDERS[key]


@dataclass
class SolveStats:
    """Recycle iterations (of the last recycle solved), tear streams and wall time [s] of a solve."""

    recycle_iterations: int = 0
    tear_streams: list = field(default_factory=list)
    seconds: float = 0.0


def solve_flowsheet(spec: FlowsheetSpec, feed: Feed, *, state: dict | None = None,
                    progress: Callable[[str], None] | None = None):
    """Solve ``spec`` for ``feed``; returns (streams, unit_results, stats, state)."""
    from magcycle.sx.lockstep import drive

    return drive(solve_flowsheet_steps(spec, feed, state=state, progress=progress))


def solve_flowsheet_steps(spec: FlowsheetSpec, feed: Feed, *, state: dict | None = None,
                          progress: Callable[[str], None] | None = None):
    """:func:`solve_flowsheet` as a step generator: yields each (CascadeSpec, warm start) its
    units need solved and is sent the CascadeResult (:mod:`magcycle.sx.lockstep`)."""
    t0 = time.perf_counter()
    state = {} if state is None else state
    plant = _PlantSolve(spec, feed, state)
    stats = SolveStats()
    for order, tears in _calculation_order_cached(spec):
        if progress:
            progress(", ".join(order))
        if not tears:
            yield from plant.run_units(order)
            continue
        stats.tear_streams.extend(tears)
        stats.recycle_iterations = yield from plant.converge(order, tears)
        plant.complete(order)
        state["_tears"] = {t: plant.streams[t] for t in tears}
    stats.seconds = time.perf_counter() - t0
    return plant.streams, plant.results, stats, state


#: what an unconnected optional inlet, and a tear with no solution yet, carry
_NOTHING = Stream("aqueous", {})


def _feed_streams(spec: FlowsheetSpec, feed: Feed) -> dict[str, Stream]:
    """The streams leaving the feed, by connection name."""
    return {c.name: feed_stream(feed) for c in spec.connections if c.src[0] == "feed"}


def _wiring(spec: FlowsheetSpec) -> dict[str, list[tuple[str, str]]]:
    """Per unit, (port, stream name) of each of its connected inlets, in port order."""
    conn_in = {c.dst: c for c in spec.connections if c.dst[1]}
    return {name: [(port, conn_in[(name, port)].name) for port in u.inlets + u.optional_inlets
                   if (name, port) in conn_in] for name, u in spec.units.items()}


class _PlantSolve:
    """The streams and unit results of one solve, and the wiring of the units to the streams."""

    __slots__ = ("spec", "state", "streams", "results", "inlets_of", "wiring", "outlet_stream")

    def __init__(self, spec: FlowsheetSpec, feed: Feed, state: dict):
        self.spec = spec
        self.state = state
        self.streams = _feed_streams(spec, feed)
        self.results = {}
        self.inlets_of = {}
        self.wiring = _wiring(spec)
        self.outlet_stream = {c.src: c.name for c in spec.connections}

    def run_unit(self, uname: str, check: bool = True):
        """Runs one unit on its inlet streams (a step generator); keeps its result and outlets."""
        streams = self.streams
        inlets = {}
        for port, sname in self.wiring[uname]:
            s = streams.get(sname)
            inlets[port] = _NOTHING if s is None else s
        try:
            res = yield from self.spec.units[uname].run_steps(inlets, self.state.setdefault(uname, {}), check=check)
        except InputError as exc:
            if not str(exc.field).startswith("units."):
                raise InputError(f"units.{uname}.{exc.field}", exc.reason) from None
            raise
        self.results[uname] = res
        self.inlets_of[uname] = inlets
        for port, s in res.outlets.items():
            streams[self.outlet_stream[(uname, port)]] = s

    def run_units(self, order: list[str], check: bool = True):
        """Runs the units of ``order`` in turn (a step generator)."""
        for u in order:
            yield from self.run_unit(u, check)

    def converge(self, order: list[str], tears: list[str]):
        """Iterates a recycle from its last solution (or nothing) until its tears converge (a step
        generator, :class:`~magcycle.flowsheet.wegstein.TearConvergence`); returns the iterations."""
        streams = self.streams
        last = self.state.get("_tears", {})
        for t in tears:
            streams[t] = last.get(t, _NOTHING)
        tc = TearConvergence()
        for it in range(1, MAX_RECYCLE_ITER + 1):
            x = {t: streams[t] for t in tears}
            yield from self.run_units(order, check=False)
            g = {t: streams[t] for t in tears}
            if tc.converged(x, g):
                return it
            streams.update(tc.next_guess(x, g))
        raise InputError(f"streams.{tears[0]}", f"the recycle did not converge in {MAX_RECYCLE_ITER} "
                                                f"iterations (largest relative change {tc.worst:.2e})")

    def complete(self, order: list[str]) -> None:
        """Each unit's balance, design and cost on the converged pass (the one reported)."""
        for u in order:
            self.spec.units[u].complete(self.inlets_of[u], self.results[u])


def plant_closure(spec: FlowsheetSpec, streams, results):
    """Per-element relative closure of the whole plant, and the element totals."""
    inflow = [streams[c.name] for c in spec.connections if c.src[0] == "feed"]
    inflow += [r.reagents for r in results.values()]
    outflow = [streams[c.name] for c in spec.connections if not c.dst[1]]
    tin, tout = element_totals(inflow), element_totals(outflow)
    return closure(tin, tout), tin, tout


def check_closure(per_element: dict[str, float]) -> float:
    """The largest per-element closure error; MassBalanceError above CLOSURE_LIMIT."""
    worst = max(per_element.values(), default=0.0)
    if worst > CLOSURE_LIMIT:
        el = max(per_element, key=per_element.get)
        raise MassBalanceError(f"the plant loses {el}: relative element closure {worst:.2e} "
                               f"exceeds {CLOSURE_LIMIT:.0e}", worst)
    return worst
