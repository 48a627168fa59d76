"""Where sample chunks are evaluated: in this process, a local process pool, or a Dask cluster.

Reproducibility
    A study's samples are drawn once, in the calling process, from its seed.
    They are cut into chunks of a size fixed by the problem (never by the
    number of workers), and every chunk is evaluated the same way wherever
    it runs (the same warm starts, in the same order), so a seed gives the
    same numbers, bit for bit, on every executor and any number of workers.
    Results are put back in sample order.

Executors
    ``serial``          this process;
    ``processes[:N]``   concurrent.futures.ProcessPoolExecutor with N workers
                        (default: the machine's cores), forked where the
                        platform can (Linux), else spawned;
    ``tcp://host:port`` a running Dask distributed scheduler
                        (``pip install 'magcycle[uq]'``); the workers must
                        have magcycle installed.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np

from magcycle.errors import InputError


def evaluate_chunk(problem, X: np.ndarray, U: np.ndarray):
    """Worker entry point: the problem's outputs for one chunk -> (Y, errors)."""
    return problem.evaluate(X, U)


class SerialExecutor:
    name = "serial"
    workers = 1

    def map(self, problem, chunks: Sequence, progress: Callable | None = None) -> list:
        out = []
        for X, U in chunks:
            out.append(evaluate_chunk(problem, X, U))
            if progress:
                progress(len(X))
        return out

    def close(self):
        """Nothing to release: the chunks ran in this process."""


class ProcessExecutor:
    """A pool of ``workers`` Python processes on this machine."""

    name = "processes"

    def __init__(self, workers: int | None = None):
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise InputError("workers", f"must be a whole number >= 1, got {workers!r}")
        self.workers = int(workers or os.cpu_count() or 1)

    def map(self, problem, chunks, progress=None):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        if len(chunks) <= 1 or self.workers == 1:
            return SerialExecutor().map(problem, chunks, progress)
        # fork where the platform has it: no re-import of the caller's script
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        out = [None] * len(chunks)
        with ProcessPoolExecutor(max_workers=min(self.workers, len(chunks)), mp_context=ctx) as pool:
            futures = {pool.submit(evaluate_chunk, problem, X, U): i for i, (X, U) in enumerate(chunks)}
            for f in as_completed(futures):
                i = futures[f]
                out[i] = f.result()
                if progress:
                    progress(len(chunks[i][0]))
        return out

    def close(self):
        """Nothing to release: each map opens and shuts its own pool."""


class DaskExecutor:
    """Chunks as tasks on a Dask distributed cluster reached at ``address``."""

    name = "dask"

    def __init__(self, address: str, timeout: float = 10.0):
        try:
            from distributed import Client
        except ImportError:
            raise InputError("scheduler", "a Dask scheduler needs dask[distributed]: "
                                          "pip install 'magcycle[uq]'") from None
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise InputError("scheduler", f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.address = address
        self.workers = len(self.client.scheduler_info().get("workers", {}))

    def map(self, problem, chunks, progress=None):
        handle = self.client.scatter(problem, broadcast=True)
        futures = [self.client.submit(evaluate_chunk, handle, X, U, pure=False) for X, U in chunks]
        out = []
        for (X, _), f in zip(chunks, futures):  # collected in order; the cluster works ahead
            out.append(f.result())
            if progress:
                progress(len(X))
        return out

    def close(self):
        self.client.close()


def make_executor(scheduler: str | None = None, workers: int | None = None):
    """``None`` or ``processes`` -> local pool; ``serial``; ``tcp://...`` -> Dask."""
    if scheduler in (None, "", "processes"):
        return ProcessExecutor(workers)
    if scheduler == "serial":
        return SerialExecutor()
    if scheduler.startswith("processes:"):
        try:
            n = int(scheduler.split(":", 1)[1])
        except ValueError:
            raise InputError("scheduler", f"expected processes:N, got {scheduler!r}") from None
        return ProcessExecutor(n)
    if "://" in scheduler:
        return DaskExecutor(scheduler)
    raise InputError("scheduler", f"expected serial, processes[:N] or a Dask address tcp://host:port, "
                                  f"got {scheduler!r}")
