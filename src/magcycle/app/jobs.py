"""Long jobs of the web application: plant runs and campaign plans, run off the server's threads.

Where they run
    The executors of :mod:`magcycle.analysis.executors`: a local process
    pool by default (``spawn``ed workers, never forked from the threaded
    server; as many as the machine's cores less one, so that the server
    keeps a core; ``--scheduler processes:N`` sets N), a Dask distributed scheduler with ``magcycle serve --scheduler
    tcp://host:port``. Submitting returns a job id at once; the server never
    waits on a job.

What a job reports
    ``GET /api/v1/jobs/{id}``: {id, kind, owner, state (queued, running,
    done, failed), submitted_at, seconds (so far, or in all), result (done)
    or error (failed: one line, the field and reason for bad input)}. The
    state is the executor's own: a pool future is running once a worker has
    taken it. An uncertainty study also reports ``progress`` {stage (Monte
    Carlo, Sobol), done, total samples}: it is coordinated by a server thread
    that hands its sample chunks to the executor as they come. Jobs live in the server's memory: a restart forgets them (their
    inputs and results are documents the caller keeps).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
import time
from dataclasses import dataclass, field

#: jobs the server keeps (their results in memory); the oldest finished ones are forgotten first
MAX_JOBS = 500

__all__ = ["MAX_JOBS", "Jobs", "Job", "run_plant", "plan_job", "tea_job", "design_job", "uq_job", "describe_error"]


def run_plant(plant: str, feed: str | None, rate: str | None) -> dict:
    """Worker entry point: ``magcycle run PLANT --feed FEED --rate RATE --json``'s document, and whether the
    products meet spec."""
    from magcycle.flowsheet.simulation import load_plant, plant_feed
    from magcycle.flowsheet.targets import run_to_spec

    spec = load_plant(plant)
    result = run_to_spec(spec, plant_feed(spec, feed, rate))
    return {"results": result.to_dict(), "meets_requirements": bool(result.meets_requirements)}


def plan_job(raw: dict, time_limit: float, gap: float) -> dict:
    """Worker entry point: ``magcycle plan campaigns --json``'s plan for the document ``raw`` (lots included)."""
    from magcycle.plan.campaigns import PlanFile, plan_campaigns
    from magcycle.schema import validate

    return plan_campaigns(validate(PlanFile, raw), time_limit=time_limit, gap=gap)


def describe_error(exc: BaseException) -> str:
    """One line for a job that failed: the field and reason for bad input, else the error's kind and text."""
    from magcycle.errors import InputError

    if isinstance(exc, InputError):
        return f"{exc.field}: {exc.reason}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


@dataclass
class Job:
    id: str
    kind: str
    owner: str
    future: object
    submitted_at: str
    t0: float = field(default_factory=time.monotonic)
    t1: float | None = None
    progress: dict | None = None  # {stage, done, total} of a tracked job
    recorded_as: str | None = None  # a plan job recorded as planned


class Jobs:
    """The server's jobs on one executor (module docstring)."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        from magcycle.analysis.executors import executor_plan

        self.plan = executor_plan(scheduler, workers)
        self._pool = self._client = self._threads = None
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def _executor(self):
        if self.plan[0] == "dask":
            if self._client is None:
                from magcycle.analysis.executors import DaskExecutor

                self._client = DaskExecutor(self.plan[1]).client
            return self._client
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # by default one core is left to the server, so that its pages answer while jobs run
            workers = self.plan[1] if self.plan[0] == "processes" and self.plan[1] else max(1, (os.cpu_count() or 2) - 1)
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def submit(self, kind: str, owner: str, fn, *args) -> str:
        """Start ``fn(*args)`` on the executor; the job's id."""
        with self._lock:
            ex = self._executor()
            future = ex.submit(fn, *args, pure=False) if self.plan[0] == "dask" else ex.submit(fn, *args)
            job_id = secrets.token_hex(8)
            now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self._jobs[job_id] = Job(job_id, kind, owner, future, now)
            self._forget_old()
        return job_id

    def submit_tracked(self, kind: str, owner: str, fn, *args) -> str:
        """Start ``fn(progress, executor, *args)`` in a server thread that hands its work to a fresh executor of
        the server's kind (the samples of a study run there, not in the thread) and reports its progress."""
        from concurrent.futures import ThreadPoolExecutor

        from magcycle.analysis.executors import DaskExecutor, ProcessExecutor, SerialExecutor

        def run(job_holder: list):
            plan = self.plan
            ex = (DaskExecutor(plan[1]) if plan[0] == "dask" else SerialExecutor() if plan[0] == "serial"
                  else ProcessExecutor(plan[1] or max(1, (os.cpu_count() or 2) - 1), start_method="spawn"))

            def progress(stage: str, done: int, total: int) -> None:
                job_holder[0].progress = {"stage": stage, "done": int(done), "total": int(total)}
            try:
                return fn(progress, ex, *args)
            finally:
                ex.close()
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="magcycle-job")
            holder: list = []
            future = self._threads.submit(run, holder)
            job_id = secrets.token_hex(8)
            now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            holder.append(Job(job_id, kind, owner, future, now))
            self._jobs[job_id] = holder[0]
            self._forget_old()
        return job_id

    def get(self, job_id: str) -> dict | None:
        """The job's report (module docstring), or None for an unknown id."""
        job = self._jobs.get(job_id)
        if job is None:
            return None
        f = job.future
        out = {"id": job.id, "kind": job.kind, "owner": job.owner, "submitted_at": job.submitted_at}
        if job.progress is not None:
            out["progress"] = dict(job.progress)
        if not f.done():
            running = f.status == "processing" if hasattr(f, "status") else f.running()
            return dict(out, state="running" if running else "queued", seconds=time.monotonic() - job.t0)
        if job.t1 is None:
            job.t1 = time.monotonic()
        out["seconds"] = job.t1 - job.t0
        exc = f.exception()
        if exc is not None:
            return dict(out, state="failed", error=describe_error(exc))
        return dict(out, state="done", result=f.result())

    def recorded(self, job_id: str) -> str | None:
        job = self._jobs.get(job_id)
        return None if job is None else job.recorded_as

    def mark_recorded(self, job_id: str, plan_id: str) -> None:
        """Note that the plan of ``job_id`` is recorded as ``plan_id`` (a second record is refused). Called inside
        the recording transaction: should it fail to commit, the mark is a false refusal the caller can clear by
        planning again, never a plan recorded twice."""
        self._jobs[job_id].recorded_as = plan_id

    def _forget_old(self) -> None:
        """Keep at most :data:`MAX_JOBS` jobs: the oldest finished ones go first."""
        if len(self._jobs) <= MAX_JOBS:
            return
        for job_id in [j.id for j in self._jobs.values() if j.future.done()][: len(self._jobs) - MAX_JOBS]:
            del self._jobs[job_id]

    def recent(self, n: int = 20, kind: str | None = None) -> list[dict]:
        """The newest ``n`` jobs (of ``kind``), their reports without results."""
        with self._lock:
            ids = [j.id for j in self._jobs.values() if kind is None or j.kind == kind][-n:]
        return [{k: v for k, v in self.get(i).items() if k != "result"} for i in reversed(ids)]

    def wait(self, job_id: str, timeout: float) -> dict | None:
        """The report once the job is over or ``timeout`` seconds have passed (for tests and scripts)."""
        end = time.monotonic() + timeout
        while True:
            report = self.get(job_id)
            if report is None or report["state"] in ("done", "failed") or time.monotonic() > end:
                return report
            time.sleep(0.05)

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            self._client.close()


def tea_job(plant: str, scenario: str) -> dict:
    """Worker entry point: ``magcycle tea PLANT --scenario S --json``'s document."""
    from magcycle.econ.tea import techno_economics
    from magcycle.flowsheet.simulation import load_plant, off_spec_lines, plant_feed
    from magcycle.flowsheet.targets import run_to_spec

    spec = load_plant(plant)
    result = run_to_spec(spec, plant_feed(spec, None, None))
    doc = techno_economics(result, None, scenario).to_dict()
    doc["derived_targets"] = result.to_dict()["derived_targets"] if result.derived_targets else {}
    doc["off_spec"] = off_spec_lines(result)
    return doc


def design_job(raw: dict, optimise: bool, max_stages: int | None) -> dict:
    """Worker entry point: ``magcycle sx design FILE [--optimise-flows] --json``'s document for the design
    document ``raw`` (a cascade and its [targets])."""
    from magcycle.sx.optimise import design_problem, minimum_stages, optimise_flows

    prob = design_problem(raw, source="api")
    stages = max_stages or prob.max_stages
    if optimise:
        out = optimise_flows(prob.spec, prob.targets, weights=prob.weights, max_stages=stages)
        doc = out.to_dict()
        doc["designs_evaluated"] = len(out.points)
    else:
        doc = minimum_stages(prob.spec, prob.targets, max_stages=stages).to_dict()
    doc["source"] = prob.spec.source
    return doc


def uq_job(progress, executor, raw: dict) -> dict:
    """A tracked job (runs in a server thread, its samples on ``executor``): ``magcycle uq STUDY --json``'s
    document (Monte Carlo, and Sobol when the study asks), reporting ``progress(stage, done, total)``."""
    from magcycle.analysis.model import Model
    from magcycle.analysis.study import study_from_dict, uq_document

    study = study_from_dict(raw, None, "api")
    model = Model(study.problem)
    mc = model.monte_carlo(study.samples, method=study.method, seed=study.seed, executor=executor,
                           confidence=study.confidence, progress=lambda d, t: progress("Monte Carlo", d, t))
    sob = None
    if study.sobol:
        sob = model.sobol(study.sobol, seed=study.seed, executor=executor, confidence=study.confidence,
                          progress=lambda d, t: progress("Sobol", d, t))
    return uq_document(study, mc, sob)
