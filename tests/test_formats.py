"""JSON lines and CSV files in and out: line for line, keys and header kept,
seeded values gone, untouched lines byte for byte."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingestguard import Guard
from ingestguard.cli import app
from ingestguard.io import CsvSource, JsonLinesSource, jsonlines, open_source

runner = CliRunner()
KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
SEEDED = ["jane.doe@example.com", "bob.smith@corp-mail.org", "078-05-1120"]


@pytest.fixture(autouse=True)
def _key(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _protect(src: Path, dst: Path, tmp_path: Path):
    evidence = Guard().protect_file(src, dst, evidence_dir=tmp_path / "evidence")
    assert evidence.status == "passed", evidence.failure
    return evidence


# Lines of a JSON lines file, each with what the protected line must look like.
JSONL_LINES = [
    # (line, changed?)
    ('{"id": 1, "note": "Please mail jane.doe@example.com today", "when": "2024-01-01"}', True),
    ('{"id": 2, "note": "nothing sensitive here", "when": "2024-01-02T10:00:00"}', False),
    ("", False),  # blank lines stay where they are
    ('{"id": 3, "note": "write to bob.smith@corp-mail.org", "score": 1.0}', True),
    ('{"note":"no id, no date",   "id":4}', False),  # own key order and spacing
    ('{"id": 5, "note": null, "big": 123456789012345678901234567890}', False),
    ('{"id": 6, "note": "ssn 078-05-1120 on file", "tags": ["a", "b"]}', True),
]


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_jsonl_round_trip_line_for_line(tmp_path: Path) -> None:
    src = _write_lines(tmp_path / "in.jsonl", [line for line, _ in JSONL_LINES])
    before = _sha(src)
    dst = tmp_path / "out" / "in.jsonl"
    evidence = _protect(src, dst, tmp_path)
    assert evidence.files[0].input_sha256 == before == _sha(src)
    out = dst.read_text(encoding="utf-8")
    lines = out.split("\n")
    assert lines[-1] == ""  # same trailing newline
    assert len(lines) - 1 == len(JSONL_LINES)
    for (original, changed), written in zip(JSONL_LINES, lines, strict=False):
        if not changed:
            assert written == original  # byte for byte
            continue
        assert written != original
        before_obj, after_obj = json.loads(original), json.loads(written)
        assert list(after_obj) == list(before_obj)  # same keys, same order, none added
        for key, value in before_obj.items():
            if key != "note":
                assert after_obj[key] == value  # only the text with the finding changed
    for value in SEEDED:
        assert value not in out
    # Absent keys stay absent: line 1 has no "score", "big" or "tags".
    assert set(json.loads(lines[0])) == {"id", "note", "when"}
    # Strings that look like dates stay strings; numbers keep their own digits.
    assert '"when": "2024-01-01"' in lines[0]
    assert "123456789012345678901234567890" in lines[5]


def test_jsonl_types_read_as_json_means_them(tmp_path: Path) -> None:
    src = _write_lines(tmp_path / "in.jsonl", [line for line, _ in JSONL_LINES])
    source = JsonLinesSource(src)
    assert source.num_rows == 6  # the blank line holds no record
    assert source.schema.field("when").type == pa.string()  # not a timestamp
    assert source.schema.field("id").type == pa.int64()
    assert source.schema.names == ["id", "note", "when", "score", "big", "tags"]  # first-seen order
    rows = pa.Table.from_batches(list(source.batches())).to_pylist()
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[1]["when"] == "2024-01-02T10:00:00"


def test_jsonl_key_first_seen_after_the_first_block(tmp_path: Path, monkeypatch) -> None:
    """pyarrow's streaming reader fixes its schema on the first block; a key seen
    only later (here past 1 MiB) must still be read, not fail or vanish."""
    monkeypatch.setattr(jsonlines, "CHUNK_BYTES", 1 << 16)
    lines = [json.dumps({"id": i, "note": f"row {i}"}) for i in range(60_000)]
    lines.append(json.dumps({"id": 60_000, "note": "last", "late": "only here"}))
    src = _write_lines(tmp_path / "late.jsonl", lines)
    assert src.stat().st_size > 1 << 20
    source = open_source(src)
    assert source.schema.names == ["id", "note", "late"]
    table = pa.Table.from_batches(list(source.batches()))
    assert table.num_rows == 60_001
    assert table.column("late").to_pylist()[-1] == "only here"
    assert table.column("late").null_count == 60_000
    assert source.take(["id", "late"], [0, 60_000]).to_pylist() == [
        {"id": 0, "late": None},
        {"id": 60_000, "late": "only here"},
    ]


CHAT = [
    {
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "My email is jane.doe@example.com, update my account."},
            {"role": "assistant", "content": "Done. I updated the account."},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": "What is two plus two?"},
            {"role": "assistant", "content": "Four."},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": "Reach bob.smith@corp-mail.org about the invoice."},
            {"role": "assistant", "content": "I will write to them."},
        ]
    },
]


def test_chat_file_reads_as_list_of_struct(tmp_path: Path) -> None:
    src = _write_lines(tmp_path / "chat.jsonl", [json.dumps(r) for r in CHAT])
    source = open_source(src)
    assert source.schema.field("messages").type == pa.list_(
        pa.struct([("role", pa.string()), ("content", pa.string())])
    )
    assert source.num_rows == 3


def test_chat_file_keeps_structure_and_roles(tmp_path: Path) -> None:
    """Needs nested list<struct> protection in the pipeline (issue 13)."""
    src = _write_lines(tmp_path / "chat.jsonl", [json.dumps(r) for r in CHAT])
    dst = tmp_path / "out" / "chat.jsonl"
    _protect(src, dst, tmp_path)
    written = dst.read_text(encoding="utf-8").splitlines()
    assert len(written) == len(CHAT)
    for original, line in zip(CHAT, written, strict=True):
        record = json.loads(line)
        assert list(record) == ["messages"]
        assert [m["role"] for m in record["messages"]] == [m["role"] for m in original["messages"]]
        assert all(list(m) == ["role", "content"] for m in record["messages"])
    assert written[1] == json.dumps(CHAT[1])  # nothing sensitive: unchanged byte for byte
    text = "\n".join(written)
    for value in SEEDED[:2]:
        assert value not in text
    assert "update my account" in written[0] and "about the invoice" in written[2]


CSV_TEXT = (
    "id,qty,email,comment,blank\n"
    '001,0042,jane.doe@example.com,"first line\nsecond line",\n'
    '002,0007,bob.smith@corp-mail.org,"says ""hi""",\n'
    "003,0100,carol.jones@example.net,ssn 078-05-1120,\n"
    "004,0003,dan.brown@example.com,plain text,\n"
)


def test_csv_round_trip_keeps_header_order_and_text(tmp_path: Path) -> None:
    src = tmp_path / "people.csv"
    src.write_text(CSV_TEXT, encoding="utf-8")
    before = _sha(src)
    dst = tmp_path / "out" / "people.csv"
    _protect(src, dst, tmp_path)
    assert _sha(src) == before
    written = dst.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(written)))
    original = list(csv.reader(io.StringIO(CSV_TEXT)))
    assert rows[0] == original[0]  # header and column order
    assert len(rows) == len(original)
    assert [r[0] for r in rows] == ["id", "001", "002", "003", "004"]  # order, leading zeros
    assert [r[1] for r in rows[1:]] == ["0042", "0007", "0100", "0003"]  # not read as numbers
    assert rows[1][3] == "first line\nsecond line" and rows[2][3] == 'says "hi"'
    assert [r[4] for r in rows[1:]] == ["", "", "", ""]
    for value in [*SEEDED, "carol.jones@example.net", "dan.brown@example.com"]:
        assert value not in written
    assert all(r[2] and "@" not in r[2] for r in rows[1:])


def test_csv_reads_every_column_as_text(tmp_path: Path) -> None:
    src = tmp_path / "people.csv"
    src.write_text(CSV_TEXT, encoding="utf-8")
    source = CsvSource(src)
    assert source.schema == pa.schema([(n, pa.string()) for n in ["id", "qty", "email", "comment", "blank"]])
    assert source.num_rows == 4
    assert source.take(["qty"], [1, 3]).column("qty").to_pylist() == ["0007", "0003"]


def test_scan_reads_jsonl_and_csv(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    _write_lines(tmp_path / "in" / "a.jsonl", [line for line, _ in JSONL_LINES])
    (tmp_path / "in" / "b.csv").write_text(CSV_TEXT, encoding="utf-8")
    result = runner.invoke(app, ["scan", str(tmp_path / "in"), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    evidence = json.loads(result.stdout)
    files = {Path(f["input"]).name: f for f in evidence["files"]}
    assert set(files) == {"a.jsonl", "b.csv"}
    assert files["a.jsonl"]["rows"] == 6 and files["b.csv"]["rows"] == 4
    jsonl = {c["name"]: c for c in files["a.jsonl"]["columns"]}
    assert jsonl["note"]["findings"].get("EMAIL_ADDRESS") == 2
    assert {c["name"]: c for c in files["b.csv"]["columns"]}["email"]["entity"] == "EMAIL_ADDRESS"
    for value in SEEDED:
        assert value not in result.output


def test_directory_of_three_formats_mirrors_each_in_its_own(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    emails = ["jane.doe@example.com", "bob.smith@corp-mail.org"]
    pq.write_table(pa.table({"id": [1, 2], "email": emails}), root / "a.parquet")
    _write_lines(root / "sub" / "b.jsonl", [line for line, _ in JSONL_LINES])
    (root / "c.csv").write_text(CSV_TEXT, encoding="utf-8")
    (root / "notes.json").write_text('{"not": "json lines"}')  # a .json document: left alone
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["protect", str(root), str(out), "--no-orchestrator", "--evidence-dir", str(tmp_path / "ev")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "a.parquet",
        "c.csv",
        "sub/b.jsonl",
    ]
    assert pq.read_table(out / "a.parquet").column("id").to_pylist() == [1, 2]
    assert len((out / "sub" / "b.jsonl").read_text().split("\n")) - 1 == len(JSONL_LINES)
    everything = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    for value in SEEDED:
        assert value.encode() not in everything


def test_a_line_longer_than_a_reader_block(tmp_path: Path) -> None:
    """pyarrow fails on a record that straddles its blocks; blocks are sized to hold the longest."""
    long_text = "word " * 600_000  # 3 MB, over pyarrow's 1 MiB default block
    src = _write_lines(
        tmp_path / "long.jsonl",
        [json.dumps({"id": 1, "text": "short"}), json.dumps({"id": 2, "text": long_text})],
    )
    table = pa.Table.from_batches(list(open_source(src).batches()))
    assert table.column("text").to_pylist() == ["short", long_text]
    # A CSV record with line breaks is longer than any of its lines.
    lines = "\n".join(["line"] * 400_000)
    csv_src = tmp_path / "long.csv"
    csv_src.write_text(f'id,text\n1,"{lines}"\n2,short\n', encoding="utf-8")
    source = open_source(csv_src)
    assert source.num_rows == 2
    assert pa.Table.from_batches(list(source.batches())).column("text").to_pylist() == [lines, "short"]


def test_jsonl_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    src = tmp_path / "crlf.jsonl"
    src.write_bytes(b'{"id": 1, "note": "mail jane.doe@example.com"}\r\n{"id": 2, "note": "plain words"}\r\n')
    dst = tmp_path / "out" / "crlf.jsonl"
    _protect(src, dst, tmp_path)
    first, second, end = dst.read_bytes().split(b"\r\n")
    assert end == b"" and second == b'{"id": 2, "note": "plain words"}'
    assert b"jane.doe@example.com" not in first and json.loads(first)["id"] == 1


def test_jsonl_key_with_two_types_in_different_blocks(tmp_path: Path, monkeypatch) -> None:
    from ingestguard.errors import InputError

    monkeypatch.setattr(jsonlines, "CHUNK_BYTES", 64)
    lines = [json.dumps({"id": i, "note": "x" * 40}) for i in range(5)]
    lines.append(json.dumps({"id": "jane.doe@example.com", "note": "y"}))
    src = _write_lines(tmp_path / "mixed.jsonl", lines)
    with pytest.raises(InputError, match="key 'id' holds different JSON types in different lines") as caught:
        open_source(src)
    assert "jane.doe" not in str(caught.value)


def test_a_dropped_column_leaves_every_line_and_the_header(tmp_path: Path) -> None:
    from ingestguard import Policy

    policy = Policy(columns={"email": {"action": "drop_column"}})
    src = _write_lines(
        tmp_path / "d.jsonl",
        ['{"id": 1, "email": "jane.doe@example.com", "n": 1}', '{"id": 2, "n": 2}', ""],
    )
    csv_src = tmp_path / "d.csv"
    csv_src.write_text("id,email,n\n1,jane.doe@example.com,1\n2,bob.smith@corp-mail.org,2\n")
    for source in (src, csv_src):
        evidence = Guard(policy).protect_file(
            source, tmp_path / "out" / source.name, evidence_dir=tmp_path / "ev"
        )
        assert evidence.status == "passed", evidence.failure
    assert (tmp_path / "out" / "d.jsonl").read_text() == '{"id": 1, "n": 1}\n{"id": 2, "n": 2}\n\n'
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "d.csv").read_text())))
    assert rows == [["id", "n"], ["1", "1"], ["2", "2"]]
