"""Many flowsheet solves in lockstep, their cascade solves batched.

Configuration
    A unit that needs cascades solved (the SX cut) is written as a step
    generator: it yields ``(spec, warm_start)`` for each cascade and is sent
    the :class:`~magcycle.sx.result.CascadeResult` (or thrown the error
    :func:`~magcycle.sx.solver.solve` raised). The flowsheet solve passes
    these requests up (``yield from``), so a whole plant solve is one step
    generator too (:func:`magcycle.flowsheet.simulate_steps`).

    :func:`drive` runs one step generator, solving each cascade alone on
    request: that is what ``unit.run()``, ``solve_flowsheet()`` and
    ``simulate()`` do. :func:`run_together` runs many: each round, every
    generator still running is advanced to its next request, and the
    requests are solved together by
    :func:`magcycle.sx.solver.solve_warm_many` (the constant-beta cascades of
    the same stages share each residual evaluation).

Why
    One cascade of a plant is tens of stages by a handful of components, so
    a solve is a few dozen array operations on a few hundred numbers: the
    cost is the operations, not the numbers. Solving a chunk's cascades
    together spreads each operation over the chunk.

Reproducibility
    Everything runs in the calling thread, in generator order; each
    cascade's answer depends only on its own spec and warm start
    (:func:`~magcycle.sx.solver.solve_warm_many`), so a plant solved
    together with others gives the numbers it gives alone with joint solves.

Errors
    A generator's exception is returned in its place. A cascade's solve
    error is thrown into the generator that asked for it, at its yield; a
    request that breaks the joint solve makes the round's cascades be
    solved one by one, so the error reaches only that generator.
"""

from __future__ import annotations

__all__ = ["drive", "run_together"]

_START = object()  # "advance to the first request"


def _solve_one(request):
    from magcycle.sx.solver import solve

    spec, warm_start = request
    return solve(spec, warm_start=warm_start)


def drive(steps):
    """Run a step generator to its end, solving each cascade it asks for alone; its value.

    >>> import numpy as np
    >>> from magcycle.sx.sampling import random_cascade
    >>> spec = random_cascade(np.random.default_rng(4), "constant_beta", components=3, stages=(8, 6, 0))
    >>> def steps():
    ...     first = yield (spec, None)
    ...     again = yield (spec.replace({"flows": {"organic": spec.organic * 1.01}}), first)
    ...     return first.converged and again.converged
    >>> drive(steps())
    True
    """
    try:
        request = next(steps)
        while True:
            try:
                answer = _solve_one(request)
            except Exception as exc:  # noqa: BLE001 - raised where the cascade was asked for
                request = steps.throw(exc)
                continue
            request = steps.send(answer)
    except StopIteration as stop:
        return stop.value


def run_together(generators) -> list:
    """Run step generators in lockstep, each round's cascades solved together; returns each
    generator's value, or the exception it raised, in order.

    >>> import numpy as np
    >>> from magcycle.sx import solve
    >>> from magcycle.sx.sampling import random_cascade
    >>> spec = random_cascade(np.random.default_rng(4), "constant_beta", components=3, stages=(8, 6, 0))
    >>> first = solve(spec)
    >>> moved = [spec.replace({"flows": {"organic": spec.organic * f}}) for f in (1.001, 1.002)]
    >>> def steps(s):
    ...     r = yield (s, first)
    ...     return r.outlets["extract"].mol_per_h
    >>> together = run_together([steps(s) for s in moved])
    >>> alone = [solve(s).outlets["extract"].mol_per_h for s in moved]
    >>> all(np.allclose(t, a, rtol=1e-10) for t, a in zip(together, alone))
    True
    """
    from magcycle.sx.solver import solve_warm_many

    gens = list(generators)
    results: list = [None] * len(gens)
    pending: dict = {}

    def advance(i, answer=_START, error=None):
        try:
            if error is not None:
                pending[i] = gens[i].throw(error)
            elif answer is _START:
                pending[i] = next(gens[i])
            else:
                pending[i] = gens[i].send(answer)
        except StopIteration as stop:
            results[i] = stop.value
        except Exception as exc:  # noqa: BLE001 - returned in the generator's place
            results[i] = exc

    for i in range(len(gens)):
        advance(i)
    while pending:
        asked = sorted(pending)
        requests = [pending.pop(i) for i in asked]
        try:
            answers = solve_warm_many([r[0] for r in requests], [r[1] for r in requests])
        except Exception:  # noqa: BLE001 - some request broke the joint solve: each alone
            answers = []
            for r in requests:
                try:
                    answers.append(_solve_one(r))
                except Exception as exc:  # noqa: BLE001 - thrown into the generator that asked
                    answers.append(exc)
        for i, a in zip(asked, answers):
            if isinstance(a, BaseException):
                advance(i, error=a)
            else:
                advance(i, answer=a)
    return results
