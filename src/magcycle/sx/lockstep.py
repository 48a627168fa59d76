"""Many flowsheet solves in lockstep, their cascade solves batched.

Configuration
    ``run_lockstep(tasks)`` runs each task (a function of no arguments, e.g.
    one Monte Carlo sample's plant solve) in its own thread. Inside a task,
    :func:`solve` (which the SX unit calls for every cascade) does not solve
    at once: it waits until every task still running has asked for a
    cascade, then all waiting cascades are solved together by
    :func:`magcycle.sx.solver.solve_warm_many` (the constant-beta ones of
    the same stages share each residual evaluation) and every task resumes
    with its own answer. Outside a lockstep run, :func:`solve` is
    :func:`magcycle.sx.solver.solve`.

Why
    One cascade of a plant is tens of stages by a handful of components, so
    a solve is a few dozen array operations on a few hundred numbers: the
    cost is the operations, not the numbers. Solving a chunk's cascades
    together spreads each operation over the chunk.

Scheduling and reproducibility
    The threads never run at the same time: in each round the running
    tasks take turns in task order, each running until it asks for a
    cascade (or ends) and then passing the turn on; after the last, the
    calling thread solves the waiting cascades and starts the next round. The
    order of everything is thus fixed by the tasks alone, never by thread
    timing (and no two tasks contend for the interpreter); each cascade's
    answer depends only on its own spec and warm start
    (:func:`~magcycle.sx.solver.solve_warm_many`). Tasks must still not
    share mutable state: each plant solve works on its own copies of the
    neighbour's state.

Errors
    A task's exception is returned in its place; an error while solving a
    round's cascades is handed to the tasks that asked, never left waiting.
"""

from __future__ import annotations

import contextvars
import threading

from magcycle.sx import solver as _solver

_BATCH: contextvars.ContextVar = contextvars.ContextVar("magcycle_sx_lockstep", default=None)


def solve(spec, *, warm_start=None):
    """:func:`magcycle.sx.solver.solve`, batched with the other tasks inside a lockstep run."""
    batch = _BATCH.get()
    if batch is None:
        return _solver.solve(spec, warm_start=warm_start)
    return batch.solve(spec, warm_start)


class _Lockstep:
    """Tasks in threads that run strictly one at a time: within a round each task runs until it
    needs a cascade (or ends) and passes the turn to the next task; the last hands it back to the
    scheduler (the calling thread), which solves the round's cascades together."""

    def __init__(self, tasks):
        self.tasks = list(tasks)
        n = len(self.tasks)
        self.turn = [threading.Semaphore(0) for _ in range(n)]  # task i may run
        self.back = threading.Semaphore(0)  # the round is over
        self.next: list = [None] * n  # who runs after task i in this round (None: the scheduler)
        self.request: list = [None] * n  # (spec, warm start) a task waits for
        self.answer: list = [None] * n
        self.done = [False] * n
        self.results: list = [None] * n
        self.rounds = 0

    def _pass_turn(self, i):
        nxt = self.next[i]
        (self.back if nxt is None else self.turn[nxt]).release()

    def solve(self, spec, warm_start):
        i = _TASK.get()
        self.request[i] = (spec, warm_start)
        self._pass_turn(i)
        self.turn[i].acquire()
        answer, self.answer[i] = self.answer[i], None
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def _task(self, i):
        _BATCH.set(self)
        _TASK.set(i)
        self.turn[i].acquire()
        try:
            self.results[i] = self.tasks[i]()
        except BaseException as exc:  # noqa: BLE001 - returned in the task's place
            self.results[i] = exc
        finally:
            self.done[i] = True
            self._pass_turn(i)

    def run(self) -> list:
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(self._task, i), daemon=True)
                   for i in range(len(self.tasks))]
        for t in threads:
            t.start()
        live = list(range(len(self.tasks)))
        while live:
            for a, b in zip(live, live[1:] + [None]):
                self.next[a] = b
            self.turn[live[0]].release()  # the round: each task in turn, then back here
            self.back.acquire()
            live = [i for i in live if not self.done[i]]
            if not live:
                break
            self.rounds += 1
            try:
                answers = _solver.solve_warm_many([self.request[i][0] for i in live],
                                                  [self.request[i][1] for i in live])
            except Exception as exc:  # noqa: BLE001 - handed to every task that asked
                answers = [exc] * len(live)
            for i, a in zip(live, answers):
                self.request[i], self.answer[i] = None, a
        for t in threads:
            t.join()
        return self.results


_TASK: contextvars.ContextVar = contextvars.ContextVar("magcycle_sx_lockstep_task", default=0)


def run_lockstep(tasks) -> list:
    """Run ``tasks`` (functions of no arguments) in lockstep; returns their values, or the
    exception each raised, in order.

    >>> from magcycle.sx.sampling import random_cascade
    >>> import numpy as np
    >>> spec = random_cascade(np.random.default_rng(4), "constant_beta", components=3, stages=(8, 6, 0))
    >>> first = solve(spec)
    >>> moved = [spec.replace({"flows": {"organic": spec.organic * f}}) for f in (1.001, 1.002)]
    >>> together = run_lockstep([lambda s=s: solve(s, warm_start=first) for s in moved])
    >>> alone = [_solver.solve(s) for s in moved]
    >>> all(np.allclose(t.outlets["extract"].mol_per_h, a.outlets["extract"].mol_per_h, rtol=1e-10)
    ...     for t, a in zip(together, alone))
    True
    """
    return _Lockstep(tasks).run()
