"""The forked NER workers never outlive their parent, even a SIGKILLed one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
# Protect free text over and over, with a pool of two NER workers whatever
# the number of cores (enough distinct texts for the pool to be used).
SCRIPT = textwrap.dedent(
    """
    import threading
    import pandas as pd
    from ingestguard import Guard, pipeline
    pipeline.ner_processes = lambda: 2
    notes = [f"Note {i}: Maria Garcia called about order {i} from Springfield." for i in range(2000)]
    df = pd.DataFrame({"notes": notes})
    def run():
        while True:
            Guard().protect(df)
    if IN_THREAD:  # as under a task runner: no death signal, the pid watch must do
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    else:
        run()
    """
)
# Bounds on waiting for a condition, not timings under test.
START_WAIT = 300
EXIT_WAIT = 30


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0], fields[19]


def _descendants(root: int) -> dict[int, str]:
    """Live descendants of `root`, with their start times (to tell a reused pid)."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None and stat[1] != "Z":
            parents[int(entry)] = (stat[0], stat[2])
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, started) in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = started
                frontier.append(pid)
    return found


def _alive(pid: int, started: str) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[1] != "Z" and stat[2] == started


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the workers")
@pytest.mark.parametrize("in_thread", [False, True], ids=["main-thread", "other-thread"])
def test_workers_exit_when_the_parent_is_sigkilled(tmp_path: Path, in_thread: bool) -> None:
    env = os.environ | {"INGESTGUARD_KEY": KEY, "INGESTGUARD_HOME": str(tmp_path / "home")}
    parent = subprocess.Popen(
        [sys.executable, "-c", f"IN_THREAD = {in_thread}\n{SCRIPT}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + START_WAIT
        workers: dict[int, str] = {}
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.2)
            workers = _descendants(parent.pid)
        assert parent.poll() is None, parent.stderr.read().decode(errors="replace")[-2000:]
        assert len(workers) >= 2, "the NER pool never started"
        time.sleep(1)  # let the workers take up their chunks
        workers = _descendants(parent.pid)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + EXIT_WAIT
    while any(_alive(pid, started) for pid, started in workers.items()) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid, started in workers.items() if _alive(pid, started)]
    for pid in left:  # do not leave them for the next test either
        os.kill(pid, signal.SIGKILL)
    assert left == []
