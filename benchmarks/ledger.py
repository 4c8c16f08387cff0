"""Cost of the evidence ledger: signed, fsynced appends and a full verify.

    .venv/bin/python -m benchmarks.ledger [--records N]

Appends N records (one subject each, as a one-file run writes) to a new ledger
in a temporary directory, each under the lock with its fsync, then verifies the
whole ledger. Prints per-record cost and size; the disk decides most of it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ingestguard.reports.ledger import Ledger, Subject, verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1000)
    args = parser.parse_args(argv)
    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory(prefix="ig-ledger-") as tmp:
        ledger = Ledger(Path(tmp) / "ledger.jsonl", key)
        started = time.perf_counter()
        for i in range(args.records):
            with ledger.next_position() as position:
                ledger.append(
                    position,
                    kind="protect",
                    run_id=f"run{i}",
                    subjects=[Subject("in.parquet", "0" * 64), Subject("out.parquet", "1" * 64)],
                    details={"status": "passed", "evidence_sha256": "2" * 64},
                )
        appended = time.perf_counter() - started
        started = time.perf_counter()
        verdict = verify(ledger.path, key.public_key())
        verified = time.perf_counter() - started
        size = ledger.path.stat().st_size
    print(
        f"{args.records} appends: {appended:.2f} s ({appended / args.records * 1000:.2f} ms each, fsync included)"
    )
    print(f"verify: {verified:.2f} s, ok={verdict.ok}, {size / args.records:.0f} bytes per record")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
