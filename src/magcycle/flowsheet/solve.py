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
    relative to themselves down to that floor.

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
from magcycle.units.stream import Stream, closure, element_totals

CLOSURE_LIMIT = 1e-9
RTOL = 1e-12
ATOL_FLOOR = 1e-15
MAX_RECYCLE_ITER = 200


def feed_stream(feed: Feed) -> Stream:
    flows = dict(feed.element_mol_h())
    if feed.water_kg_h > 0:
        from magcycle.chem.formula import formula_mass
        flows["H2O"] = feed.water_kg_h * 1000.0 / formula_mass("H2O")
    return Stream("solid", flows)


def _tarjan(nodes, succ):
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
    streams: dict[str, Stream] = {}
    results = {}
    conn_in = {}
    for c in spec.connections:
        if c.dst[1]:
            conn_in[c.dst] = c
    by_src = {c.src: c for c in spec.connections}
    for c in spec.connections:
        if c.src[0] == "feed":
            streams[c.name] = feed_stream(feed)

    inlets_of = {}
    # per unit: (port, stream name) of its connected inlets
    wiring = {name: [(port, conn_in[(name, port)].name) for port in u.inlets + u.optional_inlets
                     if (name, port) in conn_in] for name, u in spec.units.items()}
    nothing = Stream("aqueous", {})

    def run_unit(uname, check=True):
        u = spec.units[uname]
        inlets = {}
        for port, sname in wiring[uname]:
            s = streams.get(sname)
            inlets[port] = nothing if s is None else s
        try:
            res = yield from u.run_steps(inlets, state.setdefault(uname, {}), check=check)
        except InputError as exc:
            if not str(exc.field).startswith("units."):
                raise InputError(f"units.{uname}.{exc.field}", exc.reason) from None
            raise
        results[uname] = res
        inlets_of[uname] = inlets
        for port, s in res.outlets.items():
            streams[by_src[(uname, port)].name] = s

    stats = SolveStats()
    blocks = _calculation_order_cached(spec)
    for order, tears in blocks:
        if progress:
            progress(", ".join(order))
        if not tears:
            for u in order:
                yield from run_unit(u)
            continue
        stats.tear_streams.extend(tears)
        for t in tears:  # start from the last solution or from nothing
            streams[t] = state.get("_tears", {}).get(t, Stream("aqueous", {}))
        prev_x = prev_g = None
        for it in range(1, MAX_RECYCLE_ITER + 1):
            x = {t: streams[t] for t in tears}
            for u in order:
                yield from run_unit(u, check=False)
            g = {t: streams[t] for t in tears}
            worst, done = 0.0, True
            keys = {}
            for t in tears:
                xm, gm = x[t].mol_h, g[t].mol_h
                keys[t] = ks = list(xm) + [k for k in gm if k not in xm]  # a fixed order: no set
                total = max(sum(gm.values()), sum(xm.values()))
                for k in ks:
                    a, b = xm.get(k, 0.0), gm.get(k, 0.0)
                    err = abs(b - a) - RTOL * max(abs(a), abs(b)) - ATOL_FLOOR * total
                    if err > 0:
                        done = False
                        worst = max(worst, abs(b - a) / max(abs(a), abs(b), 1e-300))
            stats.recycle_iterations = it
            if done:
                break
            new = {}
            for t in tears:
                xm, gm = x[t].mol_h, g[t].mol_h
                pxm, pgm = (prev_x[t].mol_h, prev_g[t].mol_h) if prev_x is not None else (None, None)
                flows = {}
                for k in keys[t]:
                    xk, gk = xm.get(k, 0.0), gm.get(k, 0.0)
                    q = 0.0
                    if pxm is not None:
                        dx = xk - pxm.get(k, 0.0)
                        if dx != 0:
                            s = (gk - pgm.get(k, 0.0)) / dx
                            q = min(0.0, max(-5.0, s / (s - 1.0))) if s != 1.0 else 0.0
                    flows[k] = max(0.0, q * xk + (1.0 - q) * gk)
                new[t] = Stream(g[t].phase, flows)
            prev_x, prev_g = x, g
            streams.update(new)
        else:
            raise InputError(f"streams.{tears[0]}", f"the recycle did not converge in {MAX_RECYCLE_ITER} "
                                                    f"iterations (largest relative change {worst:.2e})")
        for u in order:  # each unit's balance, design and cost on the converged pass (the one reported)
            spec.units[u].complete(inlets_of[u], results[u])
        state["_tears"] = {t: streams[t] for t in tears}
    stats.seconds = time.perf_counter() - t0
    return streams, results, stats, state


def plant_closure(spec: FlowsheetSpec, streams, results):
    """Per-element relative closure of the whole plant, and the element totals."""
    inflow = [streams[c.name] for c in spec.connections if c.src[0] == "feed"]
    inflow += [r.reagents for r in results.values()]
    outflow = [streams[c.name] for c in spec.connections if not c.dst[1]]
    tin, tout = element_totals(inflow), element_totals(outflow)
    return closure(tin, tout), tin, tout


def check_closure(per_element: dict[str, float]) -> float:
    worst = max(per_element.values(), default=0.0)
    if worst > CLOSURE_LIMIT:
        el = max(per_element, key=per_element.get)
        raise MassBalanceError(f"the plant loses {el}: relative element closure {worst:.2e} "
                               f"exceeds {CLOSURE_LIMIT:.0e}", worst)
    return worst
