"""Output files published as one set: all new or all old, whatever fails or is killed on the way."""

import os
import subprocess
import sys

import pytest

from magcycle import cli
from magcycle.errors import InputError
from magcycle.report import publish as pub

SET_A = {"results.json": "{\"run\": 1}\n", "report.html": "<p>1</p>", "streams.csv": "name\nA\n"}
SET_B = {"results.json": "{\"run\": 2}\n", "report.html": "<p>2</p>", "streams.csv": "name\nB\n"}


def _content(folder):
    return {p.name: p.read_text() for p in folder.iterdir()}


def _staging_left(parent):
    return [p.name for p in parent.iterdir() if p.name.startswith(".magcycle-staging-")]


def test_a_new_folder_and_a_replaced_set(tmp_path):
    out = tmp_path / "o"
    pub.publish(str(out), SET_A)
    assert _content(out) == SET_A
    pub.publish(str(out), SET_B)
    assert _content(out) == SET_B and _staging_left(tmp_path) == []


def test_a_failure_while_writing_leaves_the_old_set_whole(tmp_path, monkeypatch):
    out = tmp_path / "o"
    pub.publish(str(out), SET_A)
    real = pub._write

    def half(folder, files):  # the second file cannot be written: the disk is full
        first = dict(list(files.items())[:1])
        real(folder, first)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pub, "_write", half)
    with pytest.raises(InputError) as e:
        pub.publish(str(out), SET_B)
    assert e.value.field == "out" and "No space left" in e.value.reason
    assert _content(out) == SET_A and _staging_left(tmp_path) == []


def test_where_the_exchange_is_missing_the_set_still_moves_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(pub, "exchange", lambda a, b: False)
    out = tmp_path / "o"
    pub.publish(str(out), SET_A)
    pub.publish(str(out), SET_B)
    assert _content(out) == SET_B and _staging_left(tmp_path) == []


def test_staging_folders_of_killed_runs_are_removed(tmp_path):
    # a process that has ended: its pid is free (it was reaped by run())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".magcycle-staging-o-{dead}-abc123"
    stale.mkdir()
    (stale / "results.json").write_text("half")
    alive = tmp_path / f".magcycle-staging-o-{os.getpid()}-xyz789"  # this process: still running
    alive.mkdir()
    pub.publish(str(tmp_path / "o"), SET_A)
    assert not stale.exists() and alive.exists()


@pytest.mark.parametrize("make, words", [
    (lambda d: (d / "o").write_text("a file"), "is a file"),
    (lambda d: ((d / "o").mkdir(), (d / "o" / "thesis.docx").write_text("x")), "other than magcycle"),
    (lambda d: ((d / "o").mkdir(), (d / "o" / "tea.json").write_text("{}")), "another magcycle command"),
    (lambda d: ((d / "o").mkdir(), (d / "o" / "results.json").mkdir()), "is not a file"),
])
def test_folders_that_cannot_take_the_set_are_refused_before_any_work(tmp_path, make, words):
    make(tmp_path)
    with pytest.raises(InputError) as e:
        pub.check_folder(str(tmp_path / "o"), SET_A)
    assert words in e.value.reason


def test_run_checks_its_out_folder_before_it_solves(tmp_path, capsys, monkeypatch):
    import magcycle.flowsheet.simulation as sim

    def never(*a, **k):
        raise AssertionError("the plant was solved before the output folder was checked")

    monkeypatch.setattr(sim, "simulate_steps", never)
    (tmp_path / "o").write_text("a file where the folder should be")
    status = cli.main(["run", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("magcycle: error: --out: ") and err.count("\n") == 1
    status = cli.main(["run", "--out", ""])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("magcycle: error: --out: empty")


def test_a_link_stands_for_its_folder_and_a_dangling_one_is_refused_first(tmp_path):
    real = tmp_path / "real"
    pub.publish(str(real), SET_A)
    (tmp_path / "link").symlink_to(real)
    pub.publish(str(tmp_path / "link"), SET_B)
    assert _content(real) == SET_B and (tmp_path / "link").is_symlink()
    (tmp_path / "dangling").symlink_to(tmp_path / "no" / "such" / "folder")
    with pytest.raises(InputError) as e:
        pub.check_folder(str(tmp_path / "dangling"), SET_A)
    assert "does not exist" in e.value.reason


def test_the_folder_keeps_its_mode(tmp_path):
    out = tmp_path / "o"
    pub.publish(str(out), SET_A)
    os.chmod(out, 0o700)
    pub.publish(str(out), SET_B)
    assert out.stat().st_mode & 0o777 == 0o700
    old = os.umask(0o077)
    try:
        pub.publish(str(tmp_path / "new"), SET_A)
    finally:
        os.umask(old)
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700   # 0o777 & ~0o077
