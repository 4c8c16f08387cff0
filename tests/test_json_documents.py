"""JSON documents in text columns: recognized, read path by path, written back valid."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestguard.json_documents import OTHER, Documents, holds_json, parse
from ingestguard.keys import _make_key
from ingestguard.pipeline import Engine, protect_table
from ingestguard.policy import Policy

KEY = _make_key(bytes(range(32)), source="test")


@pytest.mark.parametrize(
    ("text", "doc"),
    [
        ('{"a": 1}', {"a": 1}),
        (' [1, "x"] ', [1, "x"]),
        ('"just a string"', None),
        ("42", None),
        ("{broken", None),
        ("", None),
        (None, None),
        ("hello {world}", None),
    ],
)
def test_only_objects_and_arrays_are_documents(text: str | None, doc: object) -> None:
    assert parse(text) == doc


def test_a_column_holds_json_when_every_non_blank_sampled_value_parses() -> None:
    assert holds_json(['{"a": 1}', "[]", "  "])
    assert not holds_json(['{"a": 1}', "plain words"])
    assert not holds_json(["", " "])


def test_strings_are_grouped_by_path_and_written_back_in_place() -> None:
    texts = [
        '{"user": {"email": "a@x.org", "age": 3}, "tags": ["t1", "b@x.org"], "ok": true, "n": null}',
        None,
        "not a document",
        '[{"email": "c@x.org"}]',
    ]
    docs = Documents(texts, "p")
    assert docs.leaves == {
        "p$.user.email": ["a@x.org"],
        "p$.tags[]": ["t1", "b@x.org"],
        "p$*": ["not a document"],
        "p$[].email": ["c@x.org"],
    }

    def upper_emails(path: str, strings: pa.Array) -> pa.Array:
        return pa.array([s.upper() if "@" in s else s for s in strings.to_pylist()], pa.large_string())

    out = docs.rebuild(upper_emails)
    assert json.loads(out[0]) == {
        "user": {"email": "A@X.ORG", "age": 3},
        "tags": ["t1", "B@X.ORG"],
        "ok": True,
        "n": None,
    }
    assert list(json.loads(out[0])) == ["user", "tags", "ok", "n"]  # keys and their order kept
    assert out[1:3] == [None, "not a document"]
    assert json.loads(out[3]) == [{"email": "C@X.ORG"}]


def test_a_document_with_nothing_replaced_keeps_its_exact_text() -> None:
    texts = ['{ "a" :  "x@y.org",\n "b": 1.50 }', '{"b":  2.0E3}']
    out = Documents(texts, "p").rebuild(
        lambda path, strings: (
            pa.array(["<E>"] * len(strings), pa.large_string()) if path == "p$.a" else strings
        )
    )
    assert json.loads(out[0]) == {"a": "<E>", "b": 1.5}
    assert out[1] == texts[1]  # untouched, spelling of its number included


def test_json_column_is_protected_by_path_and_stays_valid_json() -> None:
    engine = Engine(Policy(sampling={"size": 50, "seed": 1}), KEY)
    rows = 3_000
    docs = [
        json.dumps(
            {
                "user": {"name": "John Smith", "email": f"john{i}@example.com", "age": i},
                "items": [{"sku": f"A-{i}", "note": f"call 555-201-{1000 + i:04d}"}],
                "ok": True,
            }
        )
        for i in range(rows)
    ]
    # After the sample: a value that is no JSON, and one with a path the sample never showed.
    docs[2_345] = "not json; write to zed@example.org"
    docs[2_346] = json.dumps({"extra": "reach me at amy@example.org", "user": {"email": "q@example.com"}})
    docs[7] = None
    out, outcome = protect_table(pa.table({"payload": docs}), engine)
    assert out.schema == pa.schema([("payload", pa.string())])
    written = out.column("payload").to_pylist()
    assert written[7] is None
    assert "@example" not in "".join(w for w in written if w)
    assert "; write to EMAIL_ADDRESS_" in written[2_345]
    assert json.loads(written[2_346])["extra"].startswith("reach me at EMAIL_ADDRESS_")
    for before, after in zip(docs[:100], written[:100], strict=True):
        if before is None:
            continue
        b, a = json.loads(before), json.loads(after)
        assert list(a) == list(b) and list(a["user"]) == list(b["user"])
        assert (a["user"]["age"], a["ok"], a["items"][0]["sku"]) == (
            b["user"]["age"],
            True,
            b["items"][0]["sku"],
        )
        assert a["user"]["name"].startswith("PERSON_") and a["user"]["email"].startswith("EMAIL_ADDRESS_")
        assert a["items"][0]["note"].startswith("call ") and "555-201" not in a["items"][0]["note"]
    columns = {c["name"]: c for c in outcome.columns}
    assert list(columns) == [
        "payload$.user.name",
        "payload$.user.email",
        "payload$.items[].sku",
        "payload$.items[].note",
        "payload" + OTHER,
    ]
    assert (columns["payload$.user.email"]["classification"], columns["payload$.user.email"]["entity"]) == (
        "entity",
        "EMAIL_ADDRESS",
    )
    assert columns["payload$.user.email"]["values_transformed"] == rows - 3 + 1
    assert columns["payload$.items[].sku"]["values_transformed"] == 0
    assert columns["payload" + OTHER]["findings"]["EMAIL_ADDRESS"] == 2
    assert outcome.residual == {}


def test_json_inside_a_nested_leaf_is_read_too() -> None:
    """Tool calls in chat files carry their arguments as JSON text."""
    engine = Engine(Policy(sampling={"size": 50, "seed": 1}), KEY)
    calls = pa.list_(pa.struct([("name", pa.string()), ("arguments", pa.string())]))
    rows = [
        [{"name": "send_mail", "arguments": json.dumps({"to": f"u{i}@example.com", "n": i})}]
        for i in range(60)
    ]
    out, outcome = protect_table(pa.table({"tool_calls": pa.array(rows, calls)}), engine)
    assert out.schema == pa.schema([("tool_calls", calls)])
    for i, row in enumerate(out.column("tool_calls").to_pylist()):
        args = json.loads(row[0]["arguments"])
        assert row[0]["name"] == "send_mail" and args["n"] == i and args["to"].startswith("EMAIL_ADDRESS_")
    assert [c["name"] for c in outcome.columns] == [
        "tool_calls[].name",
        "tool_calls[].arguments$.to",
        "tool_calls[].arguments$*",
    ]


def test_the_policy_names_json_paths_like_columns() -> None:
    policy = Policy(
        sampling={"size": 50, "seed": 1},
        columns={"p$.owner": {"skip": True}, "p$.contact": {"action": "mask"}},
    )
    docs = [json.dumps({"owner": f"o{i}@example.com", "contact": f"c{i}@example.com"}) for i in range(60)]
    out, outcome = protect_table(pa.table({"p": docs}), Engine(policy, KEY))
    for i, text in enumerate(out.column("p").to_pylist()):
        doc = json.loads(text)
        assert (
            doc["owner"] == f"o{i}@example.com"
            and doc["contact"] == "*" * (len(f"c{i}@example.com") - 4) + ".com"
        )
    plans = {c["name"]: (c["classification"], c["action"]) for c in outcome.columns}
    assert plans == {
        "p$.owner": ("skipped", "keep"),
        "p$.contact": ("forced", "mask"),
        "p$*": ("free_text", "per_span"),
    }
    assert outcome.residual == {"p": {"EMAIL_ADDRESS": 60}}  # skipping is not vouching


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
DOCUMENTS = st.lists(
    st.lists(JSON_VALUES, max_size=3) | st.dictionaries(st.text(max_size=5), JSON_VALUES), max_size=6
)


def _marked(doc: object) -> object:
    if isinstance(doc, str):
        return f"<{doc[::-1]}>"
    if isinstance(doc, dict):
        return {key: _marked(value) for key, value in doc.items()}
    if isinstance(doc, list):
        return [_marked(value) for value in doc]
    return doc


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS)
def test_rebuilt_documents_keep_keys_and_non_strings_and_replace_every_string(docs: list) -> None:
    texts = [json.dumps(doc) for doc in docs]

    def mark(_path: str, strings: pa.Array) -> pa.Array:
        return pa.array([f"<{s[::-1]}>" for s in strings.to_pylist()], pa.large_string())

    assert Documents(texts, "p").rebuild(lambda _path, strings: strings) == texts
    out = Documents(texts, "p").rebuild(mark)
    assert [json.loads(text) for text in out] == [_marked(doc) for doc in docs]
    for before, after in zip(docs, out, strict=True):
        if isinstance(before, dict):
            assert list(json.loads(after)) == list(before)
