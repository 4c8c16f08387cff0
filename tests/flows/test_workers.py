"""Worker processes: a timed-out task is really stopped and leaves nothing behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ingestguard import workers
from ingestguard.completions import STATE_DIR
from ingestguard.demo import write_demo
from ingestguard.errors import InputError, ScanError
from ingestguard.stages import FileJob, protect_in_worker


def write_forever(pid_file: str, growing: str) -> None:
    """A task that never ends: says who it is, then keeps appending."""
    Path(pid_file).write_text(str(os.getpid()))
    with open(growing, "ab") as fh:
        while True:
            fh.write(b"x" * 1024)
            fh.flush()
            time.sleep(0.01)


def stage_then_hang(destination: str) -> None:
    """A task that stages an output the way a sink does, then never finishes."""
    from ingestguard.io.staging import new_staging

    new_staging(Path(destination)).write_bytes(b"PAR1 half a file")
    while True:
        time.sleep(0.01)


def fail_typed() -> None:
    raise InputError("input not found: /nowhere")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(autouse=True, scope="module")
def _stop_pools():
    yield
    workers.shutdown()


def test_a_timed_out_task_is_killed_and_cleaned_up(tmp_path: Path) -> None:
    pid_file, growing = tmp_path / "pid", tmp_path / "growing"
    stopped = []
    with pytest.raises(ScanError, match="did not finish within 3 s; its worker was stopped"):
        workers.run(
            write_forever, (str(pid_file), str(growing)), 1, 3.0, "the slow task", lambda: stopped.append(1)
        )
    assert stopped == [1]
    pid = int(pid_file.read_text())
    assert not alive(pid)  # the worker is gone, not merely abandoned
    size = growing.stat().st_size
    assert size > 0
    # A new worker takes the next task; nothing writes to the file any more.
    with pytest.raises(InputError, match="input not found: /nowhere") as info:
        workers.run(fail_typed, (), 1, None, "a failing task")
    assert info.value.__cause__ is None  # the worker's traceback is not passed on
    assert growing.stat().st_size == size


def test_a_timed_out_protect_leaves_no_partial_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("INGESTGUARD_KEY", "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=")
    src = write_demo(tmp_path / "in" / "a.parquet", rows=20_000, seed=3)
    out = tmp_path / "out"
    job = FileJob(str(src), str(out / "a.parquet"), None, str(out / STATE_DIR))
    # Far more work than 1 s: stopped while planning or protecting, either way nothing is left.
    with pytest.raises(ScanError, match="did not finish within 1 s"):
        protect_in_worker(job, 1, 1.0)
    plans = out / STATE_DIR / "plans"  # a finished plan may stay cached: it is no output
    leftovers = [
        p for p in tmp_path.rglob("*") if p.is_file() and out in p.parents and plans not in p.parents
    ]
    assert leftovers == []


def test_a_killed_worker_s_staged_output_is_removed(tmp_path: Path) -> None:
    from ingestguard.stages import discard_partials

    dest = tmp_path / "out" / "a.parquet"
    with pytest.raises(ScanError, match="did not finish"):
        workers.run(stage_then_hang, (str(dest),), 1, 3.0, "a.parquet", lambda: discard_partials(dest))
    assert list((tmp_path / "out").iterdir()) == []
