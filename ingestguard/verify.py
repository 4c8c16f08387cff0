"""`ingestguard verify`: a ledger checked against a public key and, optionally,
against every evidence document of a folder.

Apart from the run machinery on purpose: an auditor's machine checks a ledger
without loading the detectors, and the command starts in a fraction of a second.
"""

from __future__ import annotations

import json
from pathlib import Path

from ingestguard.errors import InputError, KeyringError
from ingestguard.keys import load_public_key, load_signing_key, signing_key_path
from ingestguard.reports.ledger import Verdict, verify


def verify_ledger(
    ledger: Path, evidence_dir: Path | None = None, public_key: Path | None = None, is_slice: bool = False
) -> Verdict:
    """`ingestguard verify`: the ledger against a public key (an auditor's copy,
    or this machine's signing key), and, with `evidence_dir`, against every
    evidence document there, so that records cut from the end are caught."""
    if public_key is not None:
        key = load_public_key(public_key)
    elif signing_key_path().exists():
        key = load_signing_key(generate=False).public_key()
    else:
        raise KeyringError("no signing key on this machine; pass the ledger's key with --public-key")
    documents = []
    if evidence_dir is not None:
        if not evidence_dir.is_dir():
            raise InputError(f"evidence directory not found: {evidence_dir}")
        for path in sorted(evidence_dir.glob("*.evidence.json")):
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                document = None
            if not isinstance(document, dict):
                raise InputError(
                    f"{path} is not an evidence document; it cannot be checked against the ledger"
                )
            documents.append(document)
    return verify(ledger, key, documents, is_slice)
