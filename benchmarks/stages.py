"""Where a protect run's time goes: the protect stage against the residual re-scan (issue 9).

    .venv/bin/python -m benchmarks.stages patterns --rows 100000     # patterns-only notes, five entities
    .venv/bin/python -m benchmarks.stages structured --rows 1000000  # 12 columns, K=20,000, default policy

One in-process `Guard(policy).protect_file` on a seeded file (`benchmarks.generate`), with
timers around the two per-batch steps of `ingestguard.pipeline.protect_stream`:
`BatchProtector.__call__` (detect and transform one batch) and `residual_scan` (re-scan the
protected batch with the pattern detector). Prints both sums, their ratio, and the whole
run's wall time. The issue's target: the re-scan at most 20% of the protect stage.
"""

from __future__ import annotations

import argparse
import base64
import os
import tempfile
import time
from pathlib import Path

PATTERN_ENTITIES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IP_ADDRESS"]


def timed(owner: object, name: str, totals: dict[str, float], label: str) -> None:
    """Replace `owner.name` with a wrapper that adds its run time to `totals[label]`."""
    inner = getattr(owner, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            totals[label] = totals.get(label, 0.0) + time.perf_counter() - t0

    setattr(owner, name, wrapper)


def run(kind: str, rows: int, seed: int, workdir: Path) -> dict[str, float]:
    from benchmarks.generate import pattern_table, structured_table, write

    src = workdir / f"{kind}.parquet"
    table = pattern_table(rows, seed)[0] if kind == "patterns" else structured_table(rows, 20_000, seed)
    write(table, src)
    os.environ.setdefault("INGESTGUARD_KEY", base64.b64encode(bytes(range(32))).decode())
    os.environ.setdefault("INGESTGUARD_HOME", str(workdir / "home"))
    t0 = time.perf_counter()
    from ingestguard import Guard, pipeline
    from ingestguard.policy import Policy

    totals: dict[str, float] = {}
    timed(pipeline.BatchProtector, "__call__", totals, "protect")
    timed(pipeline, "residual_scan", totals, "verify")
    policy = Policy(entities=PATTERN_ENTITIES) if kind == "patterns" else Policy()
    Guard(policy).protect_file(str(src), str(workdir / "out.parquet"), evidence_dir=str(workdir / "evidence"))
    totals["wall"] = time.perf_counter() - t0
    return totals


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["patterns", "structured"])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=3)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ig-stages-") as tmp:
        t = run(a.kind, a.rows, a.seed, Path(tmp))
    share = t.get("verify", 0.0) / t["protect"] if t.get("protect") else float("nan")
    print(
        f"{a.kind} {a.rows:,} rows: protect {t.get('protect', 0.0):.2f} s, verify {t.get('verify', 0.0):.2f} s "
        f"(verify/protect {share:.1%}), whole run {t['wall']:.2f} s (imports included)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
