"""Seeded reproducibility across executors and worker counts, including a real Dask cluster
(scheduler and workers started here as separate processes)."""

import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from magcycle.analysis import Model
from magcycle.analysis.cascade import CascadeProblem
from magcycle.analysis.executors import DaskExecutor, make_executor
from magcycle.analysis.parameters import Distribution, Parameter
from magcycle.analysis import plant
from magcycle.analysis.plant import PlantProblem
from magcycle.errors import InputError
from magcycle.sx import CascadeSpec


def beta_problem():
    spec = CascadeSpec.from_dict({"cascade": {"model": "constant_beta", "extraction_stages": 20, "scrub_stages": 20},
                                  "flows": {"organic": 3.3, "feed": 1.0, "scrub": 2.547475},
                                  "feed": {"Pr": 0.25, "Nd": 0.75},
                                  "model": {"beta": {"Pr": 1.0, "Nd": 1.5}, "organic_loading": 1.0,
                                            "scrub_acid": 3.0}})
    params = [Parameter("model.beta.Nd", Distribution("normal", (1.5, 0.02))),
              Parameter("feed.Pr", Distribution("uniform", (0.2, 0.3)))]
    return CascadeProblem(spec, params, CascadeProblem.default_metrics(spec), chunk_size=16)


def plant_problem():
    p = PlantProblem.default(chunk_size=3)
    return PlantProblem(p.document, p.parameters[:6], p.metrics, chunk_size=3)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """`python -m dask scheduler` and `python -m dask worker` (2 worker processes) on loopback."""
    pytest.importorskip("distributed")
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("dask")
    procs = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=open(log / "scheduler.log", "w"), stderr=subprocess.STDOUT)]
    procs.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", addr, "--nworkers", "2", "--nthreads", "1",
                                   "--no-dashboard", "--local-directory", str(log)],
                                  stdout=open(log / "workers.log", "w"), stderr=subprocess.STDOUT))
    try:
        deadline = time.time() + 90
        while True:
            try:
                ex = DaskExecutor(addr, timeout=5)
                if ex.client.scheduler_info().get("workers") and len(ex.client.scheduler_info()["workers"]) == 2:
                    ex.close()
                    break
                ex.close()
            except InputError:
                pass
            if time.time() > deadline:
                raise RuntimeError("the Dask cluster did not start: " + (log / "workers.log").read_text()[-2000:])
            time.sleep(1)
        yield addr
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_cascade_study_is_identical_on_every_local_executor():
    model = Model(beta_problem())
    runs = [model.monte_carlo(100, seed=9, executor=e) for e in ("serial", "processes:1", "processes:2", "processes:3")]
    for r in runs[1:]:
        assert np.array_equal(r.Y, runs[0].Y, equal_nan=True) and np.array_equal(r.X, runs[0].X)
    assert runs[2].executor == "processes" and runs[2].workers == 2
    assert not np.array_equal(model.monte_carlo(100, seed=10, executor="serial").Y, runs[0].Y)


def test_plant_study_is_identical_serial_and_in_processes():
    model = Model(plant_problem())
    a = model.monte_carlo(8, seed=2, executor="serial")
    plant._NOMINAL.clear()  # forked workers must design the plant themselves, not inherit it
    b = model.monte_carlo(8, seed=2, executor="processes:2")
    assert a.failures() == {} and np.array_equal(a.Y, b.Y, equal_nan=True)


def test_dask_cluster_gives_the_same_numbers(dask_cluster):
    model = Model(beta_problem())
    local = model.monte_carlo(100, seed=9, executor="serial")
    ex = make_executor(dask_cluster)
    try:
        assert ex.name == "dask" and ex.workers == 2
        remote = model.monte_carlo(100, seed=9, executor=ex)
        plant_remote = Model(plant_problem()).monte_carlo(6, seed=2, executor=ex)
    finally:
        ex.close()
    assert np.array_equal(remote.Y, local.Y, equal_nan=True)
    plant_local = Model(plant_problem()).monte_carlo(6, seed=2, executor="serial")
    assert np.array_equal(plant_remote.Y, plant_local.Y, equal_nan=True)


def test_executor_names_are_checked():
    for bad in ("threads", "processes:x", "processes:0"):
        with pytest.raises(InputError, match="scheduler|workers"):
            make_executor(bad)
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        DaskExecutor(f"tcp://127.0.0.1:{_free_port()}", timeout=1)


def _uq_against_a_peer(tmp_path, on_connect):
    """``magcycle uq`` (in a subprocess) with --scheduler at a local server that calls
    ``on_connect(conn)`` for each connection; the server's connections are closed at the end."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    held = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            on_connect(conn)

    threading.Thread(target=serve, daemon=True).start()
    try:
        exe = [sys.executable, "-c", "import sys; from magcycle.cli import main; sys.exit(main())"]
        r = subprocess.run([*exe, "uq", "--samples", "2", "--scheduler", f"tcp://127.0.0.1:{port}",
                            "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    finally:
        server.close()
        for conn in held:
            conn.close()
    return r, port


def test_a_peer_that_is_not_a_dask_scheduler_is_one_line(tmp_path):
    """Whatever answers at the address but speaks no Dask (here a server writing bytes and hanging up):
    exit status 2, one line, and no traceback from the half-started client at exit."""
    def answer(conn):
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + b"\xff" * 64)
        conn.close()

    r, _ = _uq_against_a_peer(tmp_path, answer)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("magcycle: error: scheduler: no Dask scheduler answers at"), r.stderr
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert not (tmp_path / "o").exists()


def test_a_peer_that_says_nothing_is_refused_not_waited_for(tmp_path):
    """A server that accepts and never writes: a Dask scheduler writes its handshake at once, so
    after 5 s of silence the run stops in one line (Dask's client would wait for ever)."""
    r, port = _uq_against_a_peer(tmp_path, lambda conn: None)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == (f"magcycle: error: scheduler: no Dask scheduler answers at tcp://127.0.0.1:{port}: "
                                "nothing received in 5 s")
