"""The ledger: appends that chain and sign, and a verify that catches every edit."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ingestguard.reports.ledger import (
    GENESIS,
    Ledger,
    Subject,
    document_sha256,
    line_sha256,
    read_records,
    verify,
)

KEY = Ed25519PrivateKey.generate()


def _document(run_id: str, sequence: int) -> dict:
    """A stand-in evidence document, sealed as real ones are."""
    doc = {"run_id": run_id, "status": "passed", "ledger": {"sequence": sequence}}
    return {**doc, "evidence_sha256": document_sha256(doc)}


def _append(ledger: Ledger, run_id: str) -> dict:
    with ledger.next_position() as position:
        doc = _document(run_id, position.sequence)
        ledger.append(
            position,
            kind="protect",
            run_id=run_id,
            subjects=[Subject("in.parquet", "a" * 64), Subject("out.parquet", "b" * 64)],
            details={"status": "passed", "evidence_sha256": doc["evidence_sha256"]},
        )
    return doc


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    ledger = Ledger(tmp_path / "ledger.jsonl", KEY)
    for i in range(5):
        _append(ledger, f"run{i}")
    return ledger.path


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def _write(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def test_threads_appending_at_once_keep_one_chain(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ledger = Ledger(tmp_path / "ledger.jsonl", KEY)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: _append(Ledger(ledger.path, KEY), f"t{i}"), range(40)))
    verdict = verify(ledger.path, KEY.public_key())
    assert verdict.ok and verdict.records == 40


def test_records_chain_from_genesis_in_sequence(ledger_file: Path) -> None:
    records = read_records(ledger_file)
    lines = _lines(ledger_file)
    assert [r["sequence"] for r in records] == [0, 1, 2, 3, 4]
    assert records[0]["previous_sha256"] == GENESIS
    assert [r["previous_sha256"] for r in records[1:]] == [line_sha256(line) for line in lines[:-1]]
    statement = json.loads(__import__("base64").b64decode(json.loads(lines[0])["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"][1] == {"name": "out.parquet", "digest": {"sha256": "b" * 64}}


def test_an_untouched_ledger_verifies(ledger_file: Path) -> None:
    verdict = verify(ledger_file, KEY.public_key())
    assert verdict.ok and verdict.records == 5 and verdict.problem is None


@pytest.mark.parametrize("at", [0, 2, 4])
def test_any_edited_byte_is_caught(ledger_file: Path, at: int) -> None:
    lines = _lines(ledger_file)
    for position in (10, len(lines[at]) // 2, len(lines[at]) - 3):
        edited = bytearray(lines[at])
        edited[position] = ord("A") if edited[position] != ord("A") else ord("B")
        _write(ledger_file, [*lines[:at], bytes(edited), *lines[at + 1 :]])
        verdict = verify(ledger_file, KEY.public_key())
        assert not verdict.ok and verdict.bad_sequence == at, (position, verdict)


def test_a_removed_record_in_the_middle_is_caught(ledger_file: Path) -> None:
    lines = _lines(ledger_file)
    _write(ledger_file, [*lines[:2], *lines[3:]])
    verdict = verify(ledger_file, KEY.public_key())
    assert not verdict.ok and verdict.bad_sequence == 2 and "sequence" in verdict.problem


def test_swapped_records_are_caught(ledger_file: Path) -> None:
    lines = _lines(ledger_file)
    lines[1], lines[2] = lines[2], lines[1]
    _write(ledger_file, lines)
    verdict = verify(ledger_file, KEY.public_key())
    assert not verdict.ok and verdict.bad_sequence == 1


def test_a_record_re_signed_with_another_key_is_caught(ledger_file: Path, tmp_path: Path) -> None:
    lines = _lines(ledger_file)
    forger = Ledger(tmp_path / "forged.jsonl", Ed25519PrivateKey.generate())
    for line in lines[:3]:  # the forger copies the chain, then appends a record of their own
        forger.path.open("ab").write(line + b"\n")
    _append(forger, "forged")
    verdict = verify(forger.path, KEY.public_key())
    assert not verdict.ok and verdict.bad_sequence == 3 and "signature" in verdict.problem


def test_records_cut_from_the_end_are_caught_with_the_evidence(ledger_file: Path) -> None:
    documents = [_document(f"run{i}", i) for i in range(5)]
    assert verify(ledger_file, KEY.public_key(), documents).ok
    _write(ledger_file, _lines(ledger_file)[:3])
    assert verify(ledger_file, KEY.public_key()).ok  # alone, a shorter chain looks whole
    verdict = verify(ledger_file, KEY.public_key(), documents)
    assert not verdict.ok and "run3" in verdict.problem


def test_an_edited_evidence_document_is_caught_even_with_its_old_digest(ledger_file: Path) -> None:
    edited = {**_document("run1", 1), "status": "failed"}  # the body changed, the seal kept
    verdict = verify(ledger_file, KEY.public_key(), [edited])
    assert not verdict.ok and "edited" in verdict.problem
    moved = _document("run1", 3)  # a document that claims another place
    assert not verify(
        ledger_file, KEY.public_key(), [{**moved, "evidence_sha256": _document("run1", 1)["evidence_sha256"]}]
    ).ok


@pytest.mark.parametrize(
    "change",
    [
        lambda env: {**env, "extra": 1},
        lambda env: {**env, "signatures": [*env["signatures"], {"keyid": "x", "sig": "AAAA"}]},
        lambda env: {**env, "signatures": [{**env["signatures"][0], "note": "x"}]},
        lambda env: {**env, "payload": 5},
        lambda env: {**env, "payloadType": None},
    ],
)
def test_an_envelope_with_more_or_other_than_its_signed_parts_is_caught(ledger_file: Path, change) -> None:
    import rfc8785

    lines = _lines(ledger_file)
    lines[-1] = rfc8785.dumps(change(json.loads(lines[-1])))
    _write(ledger_file, lines)
    verdict = verify(ledger_file, KEY.public_key())
    assert not verdict.ok and verdict.bad_sequence == 4


def test_a_blank_line_is_caught(ledger_file: Path) -> None:
    lines = _lines(ledger_file)
    _write(ledger_file, [*lines[:2], b"", *lines[2:]])
    assert not verify(ledger_file, KEY.public_key()).ok


def test_a_last_record_without_its_newline_is_ended_before_the_next(ledger_file: Path) -> None:
    ledger_file.write_bytes(ledger_file.read_bytes().rstrip(b"\n"))
    _append(Ledger(ledger_file, KEY), "after")
    verdict = verify(ledger_file, KEY.public_key())
    assert verdict.ok and verdict.records == 6


def test_a_torn_last_record_stops_appends_with_the_fix(ledger_file: Path) -> None:
    from ingestguard.errors import LedgerError

    ledger_file.write_bytes(ledger_file.read_bytes() + b'{"payload":"eyJf')
    with pytest.raises(LedgerError, match="last record .* is unreadable"):
        _append(Ledger(ledger_file, KEY), "after")


def _append_many(path: str, n: int) -> None:
    ledger = Ledger(Path(path), KEY)
    for i in range(n):
        _append(ledger, f"p{multiprocessing.current_process().pid}-{i}")


def test_two_processes_appending_at_once_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_append_many, args=(str(path), 20)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    verdict = verify(path, KEY.public_key())
    assert verdict.ok and verdict.records == 40


def test_a_slice_verifies_from_its_first_record_and_still_catches_edits(ledger_file: Path) -> None:
    part = ledger_file.with_name("slice.jsonl")
    lines = _lines(ledger_file)
    _write(part, lines[2:4])
    assert not verify(part, KEY.public_key()).ok  # as a whole ledger, it does not start at 0
    verdict = verify(part, KEY.public_key(), is_slice=True)
    assert verdict.ok and verdict.records == 2
    _write(part, [lines[2], lines[4]])  # a record missing inside the slice
    verdict = verify(part, KEY.public_key(), is_slice=True)
    assert not verdict.ok and verdict.bad_sequence == 3
