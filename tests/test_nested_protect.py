"""Nested and binary columns through protect, the residual re-scan and scan.

The chat-message shape of fine-tuning files (list<struct<role, content>>) is
tested on its own: roles stay as they are, and only the sensitive spans
inside `content` change.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingestguard.cli import app
from ingestguard.errors import ScanError
from ingestguard.io import TableSource
from ingestguard.keys import _make_key
from ingestguard.pipeline import Engine, protect_table, residual_scan, scan_source
from ingestguard.policy import Policy

KEY = _make_key(bytes(range(32)), source="test")
CHAT = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
NEUTRAL = [
    "How do I reverse a list?",
    "Use slicing with a step of minus one.",
    "Thanks, that helps!",
]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(Policy(sampling={"size": 50, "seed": 1}), KEY)


def _chats(rows: int) -> list[list[dict] | None]:
    """Conversations with a system prompt, questions, answers; some null, empty, or with null content."""
    out: list[list[dict] | None] = []
    for i in range(rows):
        if i % 11 == 5:
            out.append(None)
            continue
        if i % 13 == 7:
            out.append([])
            continue
        messages = [{"role": "system", "content": "You are a helpful assistant."}]
        if i % 2:
            messages.append(
                {"role": "user", "content": f"Hi, I am John Smith, mail me at john.smith{i}@example.com"}
            )
        else:
            messages.append({"role": "user", "content": NEUTRAL[i % 3]})
        messages.append({"role": "assistant", "content": None if i % 17 == 3 else NEUTRAL[(i + 1) % 3]})
        out.append(messages)
    return out


def _emails(chats: list[list[dict] | None]) -> int:
    return sum(bool(m["content"]) and "@" in m["content"] for chat in chats or [] if chat for m in chat)


def test_chat_messages_keep_roles_and_structure_and_lose_only_sensitive_spans(engine: Engine) -> None:
    chats = _chats(90)
    table = pa.table({"id": pa.array(range(90), pa.int64()), "messages": pa.array(chats, CHAT)})
    out, outcome = protect_table(table, engine)
    assert out.schema == table.schema
    assert out.column("id").equals(table.column("id"))
    emails = 0
    for before, after in zip(chats, out.column("messages").to_pylist(), strict=True):
        if before is None or before == []:
            assert after == before
            continue
        assert [m["role"] for m in after] == [m["role"] for m in before]
        for old, new in zip(before, after, strict=True):
            if old["content"] is None or "@" not in old["content"]:
                assert new["content"] == old["content"]
                continue
            emails += 1
            assert "@example.com" not in new["content"] and "John Smith" not in new["content"]
            assert new["content"].startswith("Hi, I am ") and ", mail me at " in new["content"]
    assert emails == _emails(chats) > 30
    columns = {c["name"]: c for c in outcome.columns}
    assert list(columns) == ["id", "messages[].role", "messages[].content"]
    content = columns["messages[].content"]
    assert (content["type"], content["classification"], content["action"]) == (
        "string",
        "free_text",
        "per_span",
    )
    assert content["findings"] == {"EMAIL_ADDRESS": emails, "PERSON": emails}
    assert content["values_transformed"] == emails
    assert (
        columns["messages[].role"]["findings"] == {} and columns["messages[].role"]["values_transformed"] == 0
    )
    assert outcome.residual == {}


def test_struct_map_and_list_leaves_are_protected_and_other_leaves_survive(engine: Engine) -> None:
    person = pa.struct(
        [
            ("email", pa.string()),
            ("age", pa.int32()),
            ("seen", pa.timestamp("us")),
            ("address", pa.struct([("kind", pa.string()), ("note", pa.large_string())])),
        ]
    )
    rows = 80
    contact = [
        None
        if i % 9 == 4
        else {
            "email": None if i % 10 == 3 else f"user{i}@example.org",
            "age": i,
            "seen": datetime(2024, 1, 1, 0, i % 60),
            "address": {"kind": "home", "note": f"call 555-01{i:02d} or card 4111 1111 1111 1111"},
        }
        for i in range(rows)
    ]
    attrs = [[("plan", "pro"), ("owner", f"owner{i}@example.net")] if i % 8 else None for i in range(rows)]
    tags = [[f"tag{i % 4}", f"x{i}@example.com", ""] if i % 6 else [] for i in range(rows)]
    table = pa.table(
        {
            "contact": pa.array(contact, person),
            "attrs": pa.array(attrs, pa.map_(pa.string(), pa.string())),
            "tags": pa.array(tags, pa.large_list(pa.string())),
        }
    )
    # Two batches, the second a slice of the column's buffers.
    table = pa.Table.from_batches(table.to_batches(max_chunksize=50))
    out, outcome = protect_table(table, engine)
    assert out.schema == table.schema
    text = json.dumps(out.to_pylist(), default=str)
    assert "@example" not in text and "4111 1111 1111 1111" not in text
    for before, after in zip(contact, out.column("contact").to_pylist(), strict=True):
        if before is None:
            assert after is None
            continue
        assert (after["age"], after["seen"], after["address"]["kind"]) == (
            before["age"],
            before["seen"],
            before["address"]["kind"],
        )
        assert (after["email"] is None) == (before["email"] is None)
        assert after["email"] is None or after["email"].startswith("EMAIL_ADDRESS_")
    for before, after in zip(attrs, out.column("attrs").to_pylist(), strict=True):
        assert after is None if before is None else [k for k, _ in after] == ["plan", "owner"]
        assert before is None or after[0] == ("plan", "pro")
    for before, after in zip(tags, out.column("tags").to_pylist(), strict=True):
        assert len(after) == len(before) and after[0::2] == before[0::2]
    columns = {c["name"]: c for c in outcome.columns}
    assert list(columns) == [
        "contact.email",
        "contact.age",
        "contact.seen",
        "contact.address.kind",
        "contact.address.note",
        "attrs{}.key",
        "attrs{}.value",
        "tags[]",
    ]
    assert (columns["contact.email"]["classification"], columns["contact.email"]["entity"]) == (
        "entity",
        "EMAIL_ADDRESS",
    )
    # Nulls (a null struct, a null email) are not values: 80 - 9 null structs - 7 null emails.
    assert columns["contact.email"]["values_transformed"] == 64
    assert columns["contact.age"]["classification"] == "not_text"
    assert columns["attrs{}.key"]["values_transformed"] == 0
    assert columns["attrs{}.value"]["findings"] == {"EMAIL_ADDRESS": 70}
    assert outcome.residual == {}


def test_a_leftover_in_a_nested_column_is_caught_by_the_residual_scan(engine: Engine) -> None:
    policy = Policy(sampling={"size": 50, "seed": 1}, actions={"EMAIL_ADDRESS": "keep"})
    keeping = Engine(policy, KEY)
    table = pa.table(
        {
            "contact": pa.array(
                [{"email": f"user{i}@example.org"} for i in range(60)], pa.struct([("email", pa.string())])
            )
        }
    )
    _, outcome = protect_table(table, keeping)
    assert outcome.residual == {"contact.email": {"EMAIL_ADDRESS": 60}}
    leftover = pa.record_batch(
        {
            "messages": pa.array(
                [[{"role": "user", "content": "write to jane.doe@example.com"}], None, []], CHAT
            ),
            "blob": pa.array([b"ssn 536-22-1983", None, b"fine"], pa.binary()),
        }
    )
    assert residual_scan(leftover, engine.patterns) == {
        "messages[].content": Counter({"EMAIL_ADDRESS": 1}),
        "blob": Counter({"US_SSN": 1}),
    }


def test_binary_holding_utf8_is_protected_and_stays_binary(engine: Engine) -> None:
    blobs = [f"note: ssn 536-22-{1000 + i} for the file".encode() if i % 3 else None for i in range(60)]
    table = pa.table({"blob": pa.array(blobs, pa.large_binary())})
    out, outcome = protect_table(table, engine)
    assert out.schema == table.schema
    for before, after in zip(blobs, out.column("blob").to_pylist(), strict=True):
        assert after == (None if before is None else b"note: ssn  for the file")
    [blob] = outcome.columns
    assert (blob["name"], blob["type"], blob["findings"]) == ("blob", "large_binary", {"US_SSN": 40})


def test_binary_that_stops_being_utf8_after_the_sample_fails_the_run(engine: Engine) -> None:
    blobs = [f"ticket {i}".encode() for i in range(5_000)]
    blobs[4_321] = b"\xff\xfe jane@example.com"  # a 50-row sample will not see it
    with pytest.raises(ScanError) as info:
        protect_table(pa.table({"blob": pa.array(blobs, pa.binary())}), engine)
    assert str(info.value) == (
        "column 'blob' holds bytes that are not UTF-8 text, which ingestguard cannot scan; "
        "set columns.blob to drop_column or skip in the policy"
    )


def test_a_skipped_leaf_is_left_as_it_is(engine: Engine) -> None:
    policy = Policy(sampling={"size": 50, "seed": 1}, columns={"messages[].role": {"skip": True}})
    chats = [[{"role": f"agent{i}@example.com", "content": "hello there"}] for i in range(60)]
    out, outcome = protect_table(pa.table({"messages": pa.array(chats, CHAT)}), Engine(policy, KEY))
    assert out.column("messages").to_pylist() == chats
    role = next(c for c in outcome.columns if c["name"] == "messages[].role")
    assert (role["classification"], role["reasons"]) == ("skipped", ["policy: skip"])
    # Skipping is not vouching: the re-scan still reports what the skipped leaf holds.
    assert outcome.residual == {"messages[].role": {"EMAIL_ADDRESS": 60}}


def test_scan_counts_nested_findings_by_path(engine: Engine) -> None:
    table = pa.table(
        {
            "messages": pa.array(_chats(90), CHAT),
            "contact": pa.array(
                [{"email": f"user{i}@example.org"} for i in range(90)], pa.struct([("email", pa.string())])
            ),
        }
    )
    outcome = scan_source(TableSource(table), engine)
    found = {c["name"]: c["findings"] for c in outcome.columns}
    assert found["contact.email"] == {"EMAIL_ADDRESS": 90}
    assert found["messages[].content"]["EMAIL_ADDRESS"] == _emails(_chats(90))
    assert found["messages[].role"] == {}


def test_protect_cli_writes_nested_parquet_with_the_same_schema(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("INGESTGUARD_KEY", "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=")
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    src, dst = tmp_path / "chats.parquet", tmp_path / "out.parquet"
    pq.write_table(pa.table({"messages": pa.array(_chats(90), CHAT)}), src)
    result = CliRunner().invoke(
        app, ["protect", str(src), str(dst), "--no-orchestrator", "--evidence-dir", str(tmp_path / "ev")]
    )
    assert result.exit_code == 0, result.output
    assert pq.read_schema(dst) == pq.read_schema(src)
    written = pq.read_table(dst).column("messages").to_pylist()
    assert [None if m is None else [x["role"] for x in m] for m in written] == [
        None if m is None else [x["role"] for x in m] for m in _chats(90)
    ]
    assert "@example.com" not in json.dumps(written)
    [evidence] = (tmp_path / "ev").glob("*.evidence.json")
    doc = json.loads(evidence.read_text())
    assert [c["name"] for c in doc["files"][0]["columns"]] == ["messages[].role", "messages[].content"]
    assert doc["status"] == "passed"


def test_redacting_a_non_nullable_nested_field_makes_it_nullable(engine: Engine) -> None:
    person = pa.struct(
        [pa.field("ssn", pa.string(), nullable=False), pa.field("id", pa.int64(), nullable=False)]
    )
    schema = pa.schema([pa.field("person", person, nullable=False)])
    rows = [{"ssn": f"536-22-{1000 + i}", "id": i} for i in range(60)]
    out, outcome = protect_table(pa.table({"person": pa.array(rows, person)}, schema=schema), engine)
    assert out.schema == pa.schema([("person", pa.struct([("ssn", pa.string()), ("id", pa.int64())]))])
    assert out.column("person").to_pylist() == [{"ssn": None, "id": i} for i in range(60)]
    ssn = next(c for c in outcome.columns if c["name"] == "person.ssn")
    assert (ssn["entity"], ssn["action"], ssn["values_transformed"]) == ("US_SSN", "redact", 60)


def test_map_keys_that_would_be_redacted_are_replaced_since_keys_cannot_be_null() -> None:
    policy = Policy(sampling={"size": 50, "seed": 1}, actions={"EMAIL_ADDRESS": "redact"})
    scores = [[(f"user{i}@example.com", "high")] for i in range(60)]
    table = pa.table({"scores": pa.array(scores, pa.map_(pa.string(), pa.string()))})
    out, outcome = protect_table(table, Engine(policy, KEY))
    assert out.column("scores").to_pylist() == [[("<EMAIL_ADDRESS>", "high")]] * 60
    key = next(c for c in outcome.columns if c["name"] == "scores{}.key")
    assert key["action"] == "replace"
    assert "map keys cannot be null: replaced instead of redacted" in key["reasons"]


def test_bytes_that_are_not_utf8_fail_the_run_and_are_reported_not_scanned(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("INGESTGUARD_KEY", "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=")
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    blobs = [f"ticket {i}".encode() for i in range(5_000)]
    blobs[4_321] = b"\xff\xfe jane@example.com"  # past any sample
    src, dst = tmp_path / "in.parquet", tmp_path / "out" / "out.parquet"
    pq.write_table(pa.table({"blob": pa.array(blobs, pa.binary())}), src)
    before = src.read_bytes()
    result = CliRunner().invoke(
        app, ["protect", str(src), str(dst), "--no-orchestrator", "--evidence-dir", str(tmp_path / "ev")]
    )
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert "column 'blob' holds bytes that are not UTF-8 text" in line and "jane" not in line
    assert not dst.parent.exists() or list(dst.parent.iterdir()) == []  # not even a staging file
    assert src.read_bytes() == before
    [evidence] = (tmp_path / "ev").glob("*.evidence.json")
    doc = json.loads(evidence.read_text())
    assert doc["status"] == "failed"
    [entry] = doc["not_scanned"]
    assert (
        entry["file"] == str(src) and "column 'blob' holds bytes that are not UTF-8 text" in entry["reason"]
    )
    assert "jane" not in evidence.read_text()


def test_a_text_action_the_policy_sets_on_a_nested_column_reaches_each_text_leaf() -> None:
    policy = Policy(sampling={"size": 50, "seed": 1}, columns={"messages": {"action": "replace"}})
    chats = [[{"role": "user", "content": "hello"}], None, []]
    out, outcome = protect_table(pa.table({"messages": pa.array(chats, CHAT)}), Engine(policy, KEY))
    assert out.column("messages").to_pylist() == [
        [{"role": "<SENSITIVE>", "content": "<SENSITIVE>"}],
        None,
        [],
    ]
    assert [(c["name"], c["classification"], c["action"]) for c in outcome.columns] == [
        ("messages[].role", "forced", "replace"),
        ("messages[].content", "forced", "replace"),
    ]


def test_view_types_inside_nested_columns_are_protected(engine):
    """string_view at depth (a list's items, a struct's field, a map's keys and
    items) is read as large_string, so the leaves can be taken and rebuilt."""
    emails = [f"person{i}@example.com" for i in range(60)]
    table = pa.table(
        {
            "tags": pa.array([[e, "ok"] for e in emails], pa.list_(pa.string_view())),
            "contact": pa.array(
                [{"email": e, "age": i} for i, e in enumerate(emails)],
                pa.struct([("email", pa.string_view()), ("age", pa.int64())]),
            ),
            "attrs": pa.array([[("mail", e)] for e in emails], pa.map_(pa.string_view(), pa.string_view())),
        }
    )
    out, outcome = protect_table(table, engine)
    text = json.dumps(out.to_pylist())
    assert not any(e in text for e in emails)
    assert out.column("contact").to_pylist()[7]["age"] == 7
    assert outcome.residual == {}
