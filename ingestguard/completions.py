"""Files an earlier run already protected, so running the same command again
(after a crash, a SIGKILL, a reboot) skips them.

Where: a hidden folder `.ingestguard-state/` in the output directory (the
common folder of the run's destinations). A user who deletes the output to
start over deletes this too; dataset readers skip hidden folders (pyarrow's
datasets ignore names starting with "."), and its files do not end in
`.parquet`, so protecting the output again does not pick them up.

What: per finished file, its outcome (digests and counts, never a value) and
its protected output, held here until the run publishes it. A record is keyed
by the input's digest, the destination, the policy's digest, the key ids and
the detectors' version: change any of them and the file is protected again.

How it meets the ledger: a record is not evidence. Only a run that finishes
writes evidence and a ledger record, and that evidence covers every file of
the run, those reused from a record included, so the ledger never holds the
killed run and always holds the one that published.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ingestguard.io import FilePair, discard_staged, file_sha256
from ingestguard.pipeline import FileOutcome

STATE_DIR = ".ingestguard-state"


def state_dir(pairs: list[FilePair]) -> Path:
    """`.ingestguard-state` in the common folder of the run's destinations."""
    parents = [str(p.destination.resolve().parent) for p in pairs]
    return Path(os.path.commonpath(parents)) / STATE_DIR


def completion_key(
    input_sha256: str, destination: Path, policy_sha256: str, key_ids: dict | None, detectors: str
) -> str:
    parts = [
        input_sha256,
        str(destination.resolve()),
        policy_sha256,
        json.dumps(key_ids, sort_keys=True),
        detectors,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class Completions:
    """Completion records and held outputs under one state folder."""

    def __init__(self, folder: Path) -> None:
        self.records = folder / "completions"
        self.held = folder / "held"

    def find(self, key: str, pair: FilePair) -> FileOutcome | None:
        """The recorded outcome when its output still exists unchanged: held here
        (staging points at it) or already published at the destination."""
        try:
            outcome = FileOutcome.from_dict(json.loads((self.records / f"{key}.json").read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        outcome.input, outcome.output = str(pair.source), str(pair.destination)
        held = self._held(key)
        if _has_digest(held, outcome.output_sha256):
            outcome.staging = str(held)
            return outcome
        if _has_digest(pair.destination, outcome.output_sha256):
            outcome.staging = None  # published by an earlier run
            return outcome
        return None

    def keep(self, key: str, outcome: FileOutcome) -> FileOutcome:
        """Move the staged output here and record the outcome (output first, then
        the record: a record never names an output that is not there)."""
        held = self._held(key)
        held.parent.mkdir(parents=True, exist_ok=True)
        os.replace(outcome.staging, held)
        discard_staged(Path(outcome.staging))  # gone already: this releases its staging lock
        outcome.staging = str(held)
        self.records.mkdir(parents=True, exist_ok=True)
        record = self.records / f"{key}.json"
        tmp = record.with_name(f".{record.name}.{os.getpid()}.partial")
        tmp.write_text(json.dumps(outcome.to_dict()), encoding="utf-8")
        os.replace(tmp, record)
        return outcome

    def _held(self, key: str) -> Path:
        return self.held / f"{key}.held"


def _has_digest(path: Path, sha256: str | None) -> bool:
    return sha256 is not None and path.is_file() and file_sha256(path) == sha256
