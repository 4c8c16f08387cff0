"""SIGKILL at random points of a real protect run (issue 13, crash safety).

The run is a CLI process in its own process group, on two Parquet files of
free text, one large enough that NER runs in the worker pool. After each kill:
nothing partial or corrupt is published, no worker outlives the killed process,
and a final rerun into the same destination completes, removes the staging
files the killed runs left, and publishes outputs equal byte for byte to an
uninterrupted run's.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
INGESTGUARD = Path(sys.executable).with_name("ingestguard")
KILLS = 14
# 620 distinct notes: the NER pool takes a call of 300 texts per worker or more.
ROWS = (620, 40)
# spaCy without the names model, and a small planning sample: the pool still
# runs, at a fraction of the cost.
POLICY = "nlp:\n  names_model: false\nsampling:\n  size: 50\n"
FIRST = ("Alice", "Bruno", "Chen", "Dana", "Emeka", "Fatima", "Goran", "Hana")
LAST = ("Moreau", "Okafor", "Lindqvist", "Tanaka", "Novak", "Silva", "Kowalski")


def make_inputs(folder: Path) -> None:
    rng = random.Random(0)
    folder.mkdir()
    for n, rows in enumerate(ROWS):
        notes = [
            f"Call {rng.choice(FIRST)} {rng.choice(LAST)} about order {n}-{i}, "
            f"mail {rng.choice(FIRST).lower()}.{i}@corp-mail.org"
            for i in range(rows)
        ]
        pq.write_table(pa.table({"id": list(range(rows)), "note": notes}), folder / f"part{n}.parquet")


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in a process group, from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp, ...
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def wait_until_gone(pgid: int, patience: float = 10.0) -> list[int]:
    """The group's members still alive once they had `patience` seconds to exit
    (workers check for their parent twice a second, or get PR_SET_PDEATHSIG)."""
    deadline = time.monotonic() + patience
    while (left := group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def published(folder: Path) -> dict[str, str]:
    """Digests of the outputs at the destination (not the hidden staging files)."""
    if not folder.is_dir():
        return {}
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


def staging_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.partial")) if folder.is_dir() else []


def test_sigkill_at_random_points_leaves_nothing_behind(tmp_path: Path) -> None:
    src = tmp_path / "in"
    make_inputs(src)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    env = {**os.environ, "INGESTGUARD_KEY": KEY, "INGESTGUARD_HOME": str(tmp_path / "home")}
    evidence = tmp_path / "ev"  # one ledger for every run: a killed append must not break the next
    started: list[subprocess.Popen] = []

    def start(dest: Path) -> subprocess.Popen:
        args = ["protect", str(src), f"{dest}/", "--no-orchestrator", "--policy", str(policy)]
        proc = subprocess.Popen(
            [str(INGESTGUARD), *args, "--evidence-dir", str(evidence)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: the workers are found by it
        )
        started.append(proc)
        return proc

    try:
        clean = tmp_path / "uninterrupted"
        began = time.monotonic()
        first = start(clean)
        _, err = first.communicate()
        duration = time.monotonic() - began
        assert first.returncode == 0, err.decode()[-500:]
        expected = published(clean)
        assert sorted(expected) == ["part0.parquet", "part1.parquet"]

        out = tmp_path / "out"
        rng = random.Random(20261201)
        killed_with_workers = left_staging = 0
        for run in range(KILLS):
            proc = start(out)
            try:
                proc.wait(timeout=rng.uniform(0.05, duration))
            except subprocess.TimeoutExpired:
                killed_with_workers += len(group_members(proc.pid)) > 1
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            proc.stderr.close()
            orphans = wait_until_gone(proc.pid)
            for pid in orphans:  # ours (same process group): end them before failing
                os.kill(pid, signal.SIGKILL)
            assert orphans == [], f"run {run}: {len(orphans)} processes outlived the killed protect"
            left_staging += bool(staging_files(out))
            for name, digest in published(out).items():
                pq.read_metadata(out / name)  # a whole Parquet file, footer and all
                assert digest == expected[name], f"run {run}: {name} differs from the uninterrupted output"

        assert killed_with_workers > 0, "no kill landed while the NER workers ran; the input is too small"
        assert left_staging > 0, "no kill left a staging file, so the cleanup below proves nothing"
        final = start(out)
        _, err = final.communicate()
        assert final.returncode == 0, err.decode()[-500:]
        assert published(out) == expected
        assert staging_files(out) == []
    finally:
        for proc in started:  # a protect process a failed assertion left running
            if proc.poll() is None:
                proc.kill()
                proc.wait()
