"""Peak RSS of `ingestguard protect` on a file and on the same data N times over.

Streaming means the peak does not grow with the input. The data is
`ingestguard.demo.synthetic_table` (every email distinct) without its notes,
written `--small` and `--large` times over as 1M-row row groups:

    .venv/bin/python -m benchmarks.memory --small 4 --large 16
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from ingestguard.demo import synthetic_table

KEY = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="


def peak_rss_mb(src: Path, workdir: Path) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one CLI run, read with GNU time."""
    exe = Path(sys.executable).with_name("ingestguard")
    env = dict(os.environ, INGESTGUARD_KEY=KEY, INGESTGUARD_HOME=str(workdir / "home"))
    start = time.monotonic()
    proc = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%M",
            str(exe),
            "protect",
            str(src),
            str(workdir / f"out_{src.name}"),
            "--no-orchestrator",
            "--evidence-dir",
            str(workdir / "evidence"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stderr.strip().splitlines()[-1]) / 1024, time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=4, help="copies of 1M rows in the small file")
    parser.add_argument("--large", type=int, default=16, help="copies of 1M rows in the large file")
    args = parser.parse_args(argv)
    base = synthetic_table(1_000_000, seed=9).drop_columns(["notes"])
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for copies in (args.small, args.large):
            path = workdir / f"copies_{copies}.parquet"
            with pq.ParquetWriter(path, base.schema) as writer:
                for _ in range(copies):
                    writer.write_table(base, row_group_size=1_000_000)
            peak, wall = peak_rss_mb(path, workdir)
            print(
                f"{copies * 1_000_000:>12,} rows {path.stat().st_size / 1e9:5.2f} GB  "
                f"peak RSS {peak:6.0f} MB  wall {wall:6.1f} s",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
