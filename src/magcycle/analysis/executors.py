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
import re
from typing import Callable, Sequence

import numpy as np

from magcycle.documents import clip, show
from magcycle.errors import InputError

__all__ = ["evaluate_chunk", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "scheduler_address",
           "executor_plan", "make_executor"]


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

    def __init__(self, workers: int | None = None, start_method: str | None = None):
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise InputError("workers", f"must be a whole number >= 1, got {workers!r}")
        self.workers = int(workers or os.cpu_count() or 1)
        self.start_method = start_method  # None: fork where the platform has it, else spawn

    def map(self, problem, chunks, progress=None):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        if len(chunks) <= 1 or self.workers == 1:
            return SerialExecutor().map(problem, chunks, progress)
        # fork where the platform has it: no re-import of the caller's script
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context(self.start_method or ("fork" if "fork" in methods else "spawn"))
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


_ADDRESS = re.compile(r"(?P<scheme>tcp|tls|ws|wss)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]{1,5})/?")


def scheduler_address(address: str) -> tuple[str, int]:
    """(host, port) of a Dask scheduler address ``tcp://host:port`` (also tls, ws, wss; an IPv6 host
    in brackets); InputError for anything else.

    >>> scheduler_address("tcp://10.0.0.5:8786")
    ('10.0.0.5', 8786)
    >>> scheduler_address("tcp://")
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: scheduler: expected an address such as tcp://host:8786, got 'tcp://'
    """
    m = _ADDRESS.fullmatch(address)
    if not m or not 0 < int(m["port"]) < 65536:
        raise InputError("scheduler", f"expected an address such as tcp://host:8786, got {show(address)}")
    return m["host"].strip("[]"), int(m["port"])


def _quiet_client_cleanup(client_type) -> None:
    """A Dask client that failed to start leaves an object whose clean-up, at exit, fails again and
    prints a traceback ("Exception ignored in Client.__del__"); the failure has been reported in one
    line already, so that one kind of report is dropped (any other still reaches the previous hook)."""
    import sys

    previous = sys.unraisablehook

    def hook(report):
        if getattr(report.object, "__qualname__", "") != "Client.__del__":
            previous(report)

    if getattr(client_type, "__del__", None) is not None:
        sys.unraisablehook = hook


def _why(exc: Exception) -> str:
    """Why a connection failed, in a few words."""
    if isinstance(exc, UnicodeError):
        return "not a valid host name"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _reachable(host: str, port: int, address: str, timeout: float) -> None:
    """Refuse, before Dask tries, a scheduler no TCP connection reaches (Dask's own failure leaves a
    half-built client whose clean-up prints tracebacks at exit), and over plain TCP one that says
    nothing: a Dask scheduler writes its handshake as soon as a connection opens
    (``distributed.comm.core.Listener.on_connection``), while Dask's client would wait for a silent
    peer for ever (its ``timeout`` does not cover the handshake)."""
    import socket

    wait = min(timeout, 5.0)
    try:
        sock = socket.create_connection((host, port), timeout=wait)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a host name no DNS label can hold
        raise InputError("scheduler", f"cannot reach the Dask scheduler at {clip(address)}: "
                                      f"{_why(exc)}") from None
    with sock:
        if not address.startswith("tcp://"):  # over TLS the client speaks first
            return
        try:
            said, why = sock.recv(1), "the peer closed the connection"
        except TimeoutError:
            said, why = b"", f"nothing received in {wait:g} s"
        except OSError as exc:
            said, why = b"", _why(exc)
        if not said:
            raise InputError("scheduler", f"no Dask scheduler answers at {clip(address)}: {why}")


class DaskExecutor:
    """Chunks as tasks on a Dask distributed cluster reached at ``address``."""

    name = "dask"

    def __init__(self, address: str, timeout: float = 10.0):
        host, port = scheduler_address(address)
        try:
            from distributed import Client
        except ImportError:
            raise InputError("scheduler", "a Dask scheduler needs dask[distributed]: "
                                          "pip install 'magcycle[uq]'") from None
        _reachable(host, port, address, timeout)
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except Exception as exc:  # whatever answers there is not a Dask scheduler (any error of its protocol)
            _quiet_client_cleanup(Client)
            raise InputError("scheduler", f"no Dask scheduler answers at {clip(address)}: "
                                          f"{clip(f'{type(exc).__name__}: {exc}', 120)}") from None
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


def executor_plan(scheduler: str | None = None, workers: int | None = None) -> tuple:
    """What ``make_executor`` would build, checked without building it: ("processes", N or None),
    ("serial",) or ("dask", address); InputError for any other scheduler.

    >>> executor_plan("processes:4"), executor_plan(None, 2), executor_plan("tcp://10.0.0.5:8786")
    (('processes', 4), ('processes', 2), ('dask', 'tcp://10.0.0.5:8786'))
    >>> executor_plan("")
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: scheduler: empty; expected serial, processes[:N] or a Dask address tcp://host:port
    """
    expected = "expected serial, processes[:N] or a Dask address tcp://host:port"
    if scheduler is None or scheduler == "processes":
        return ("processes", workers)
    if not scheduler.strip():
        raise InputError("scheduler", f"empty; {expected}")
    if scheduler == "serial":
        return ("serial",)
    if scheduler.startswith("processes:"):
        n = scheduler.split(":", 1)[1]
        if not (n.isascii() and n.isdigit()) or not 1 <= int(n) <= 4096:
            raise InputError("scheduler", f"expected processes:N with N in [1, 4096], got {show(scheduler)}")
        return ("processes", int(n))
    if "://" in scheduler:
        scheduler_address(scheduler)
        return ("dask", scheduler)
    raise InputError("scheduler", f"{expected}, got {show(scheduler)}")


def make_executor(scheduler: str | None = None, workers: int | None = None):
    """``None`` or ``processes`` -> local pool; ``serial``; ``tcp://...`` -> Dask (:func:`executor_plan`)."""
    plan = executor_plan(scheduler, workers)
    if plan[0] == "processes":
        return ProcessExecutor(plan[1])
    if plan[0] == "serial":
        return SerialExecutor()
    return DaskExecutor(plan[1])
