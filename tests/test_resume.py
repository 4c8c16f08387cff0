"""Resume and atomicity: a CLI run SIGKILLed mid-run publishes nothing and
records nothing; the same command again skips what was done and publishes
outputs byte-identical to an uninterrupted run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestguard.completions import STATE_DIR, Completions, completion_key
from ingestguard.demo import write_demo
from ingestguard.io import FilePair, file_sha256
from ingestguard.pipeline import FileOutcome
from tests.test_e2e import KEY, run_cli

FILES = ["a.parquet", "b.parquet", "c/d.parquet", "c/e.parquet"]


def _outcome(src: Path, staging: Path, dst: Path) -> FileOutcome:
    return FileOutcome(
        input=str(src),
        input_sha256=file_sha256(src),
        rows=3,
        columns=[],
        residual={},
        output=str(dst),
        output_sha256=file_sha256(staging),
        output_rows=3,
        staging=str(staging),
    )


def test_a_completion_is_found_while_its_output_is_held_or_published(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.parquet", tmp_path / "out" / "in.parquet"
    pq.write_table(pa.table({"n": [1, 2, 3]}), src)
    staging = tmp_path / "out" / ".in.parquet.0123456789ab.partial"
    staging.parent.mkdir()
    pq.write_table(pa.table({"n": [7, 8, 9]}), staging)
    store = Completions(tmp_path / "out" / STATE_DIR)
    key = completion_key(file_sha256(src), dst, "p" * 64, {"id": "igk_1"}, "detectors")
    kept = store.keep(key, _outcome(src, staging, dst))
    assert not staging.exists() and Path(kept.staging).is_file()
    pair = FilePair(src, dst)
    found = store.find(key, pair)
    assert found is not None and found.staging == kept.staging and found.output_sha256 == kept.output_sha256
    os.replace(kept.staging, dst)  # the run published it
    found = store.find(key, pair)
    assert found is not None and found.staging is None
    dst.write_bytes(b"edited by someone")  # the published output changed: do it again
    assert store.find(key, pair) is None
    other = completion_key(file_sha256(src), dst, "q" * 64, {"id": "igk_1"}, "detectors")
    assert other != key and store.find(other, pair) is None  # another policy: another record


def _inputs(base: Path) -> Path:
    for i, name in enumerate(FILES):
        write_demo(base / "in" / name, rows=250, seed=20 + i)
    return base / "in"


def session_workers(session: int) -> list[int]:
    """Worker processes (multiprocessing spawn children) left in a process session."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == session and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, ProcessLookupError):
            continue
    return found


def wait_until(condition, limit: float = 600.0) -> bool:
    """Poll `condition` (not a timing assertion: `limit` only bounds a hung test)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_publishes_the_uninterrupted_outputs(
    tmp_path: Path,
    prefect_api: str,
) -> None:
    src = _inputs(tmp_path)
    server = {"PREFECT_API_URL": prefect_api}
    reference = run_cli(
        ["protect", str(src), str(tmp_path / "ref"), "--evidence-dir", str(tmp_path / "ev-ref")],
        tmp_path,
        server,
    )
    assert reference.returncode == 0, reference.stderr[-2000:]

    out, ev = tmp_path / "out", tmp_path / "ev"
    args = ["protect", str(src), str(out), "--evidence-dir", str(ev), "--workers", "1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "INGESTGUARD_KEY": KEY,
        "INGESTGUARD_HOME": str(tmp_path / "ig"),
    }
    exe = str(Path(sys.executable).with_name("ingestguard"))
    proc = subprocess.Popen(
        [exe, *args], env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    records = out / STATE_DIR / "completions"
    try:
        # Kill once a file is done and before the run can finish.
        assert wait_until(lambda: proc.poll() is not None or len(list(records.glob("*.json"))) >= 1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        done_before = len(list(records.glob("*.json")))
        assert 1 <= done_before < len(FILES)
        # The workers notice their parent is gone and exit.
        assert wait_until(lambda: not session_workers(proc.pid), limit=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything of its session still there
    assert not any((out / name).exists() for name in FILES)  # nothing published
    assert not (ev / "ledger.jsonl").exists()  # and nothing recorded

    rerun = run_cli(args, tmp_path, server)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"resumed:  {done_before} of {len(FILES)} files were done by an earlier run" in rerun.stdout
    for name in FILES:
        assert file_sha256(out / name) == file_sha256(tmp_path / "ref" / name), name
    leftovers = [p.name for p in out.rglob("*.partial")]
    assert leftovers == []
    assert not list((out / STATE_DIR / "held").iterdir())  # every held output was published
