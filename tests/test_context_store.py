"""Prompts and answers: placeholders kept in a RedactionContext, restored into
a model's answer, safe across threads, and encrypted at rest."""

from __future__ import annotations

import json
import stat
import sys
import threading

import pytest

from ingestguard import Guard, Policy, RedactionContext
from ingestguard.context import ContextError, ContextKeyError, TamperedContextError
from ingestguard.errors import KeyDestroyedError
from ingestguard.keyring import Keyring

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="

PROMPT = (
    "Hi, I am Maria Lopez. Please draft a reply to my landlord saying he can reach me "
    "at maria.lopez@example.com or on (212) 555-0147 after six."
)
VALUES = ["Maria Lopez", "maria.lopez@example.com", "(212) 555-0147"]


@pytest.fixture(autouse=True)
def _key(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard()


@pytest.fixture
def ring(tmp_path):
    with Keyring.open(Policy(), home=tmp_path / "home") as keyring:
        yield keyring


def _filled() -> RedactionContext:
    ctx = RedactionContext()
    for entity, value in [
        ("PERSON", "Maria Lopez"),
        ("EMAIL_ADDRESS", "maria.lopez@example.com"),
        ("PHONE_NUMBER", "(212) 555-0147"),
        ("PERSON", "Jürgen Groß"),
    ]:
        ctx.placeholder_for(entity, value)
    return ctx


# -- redact and restore ----------------------------------------------------------


def test_placeholders_replace_each_entity_in_place(guard):
    ctx = RedactionContext()
    text = "Write to jane.roe@example.org or call (212) 555-0147."
    assert guard.redact_text(text, context=ctx) == "Write to <EMAIL_ADDRESS_1> or call <PHONE_NUMBER_1>."
    assert ctx.mapping() == {
        "<EMAIL_ADDRESS_1>": "jane.roe@example.org",
        "<PHONE_NUMBER_1>": "(212) 555-0147",
    }


def test_prompt_round_trip_through_a_model_answer(guard):
    ctx = RedactionContext()
    redacted = guard.redact_text(PROMPT, context=ctx)
    assert redacted == (
        "Hi, I am <PERSON_1>. Please draft a reply to my landlord saying he can reach me "
        "at <EMAIL_ADDRESS_1> or on <PHONE_NUMBER_1> after six."
    )
    assert not any(v in redacted for v in VALUES)
    # What a model would answer: the placeholders copied, in another order, one twice.
    answer = (
        "Dear landlord,\n\nPlease contact <PERSON_1> by email (<EMAIL_ADDRESS_1>) or phone "
        "(<PHONE_NUMBER_1>) after six.\n\nKind regards,\n<PERSON_1>"
    )
    assert guard.restore_text(answer, context=ctx) == (
        "Dear landlord,\n\nPlease contact Maria Lopez by email (maria.lopez@example.com) or phone "
        "((212) 555-0147) after six.\n\nKind regards,\nMaria Lopez"
    )
    # A model that changes nothing gives the prompt back.
    assert guard.restore_text(redacted, context=ctx) == PROMPT


def test_same_value_same_placeholder_across_turns_numbered_per_type(guard):
    ctx = RedactionContext()
    first = guard.redact_text("Write to jane.roe@example.org and call (212) 555-0147.", context=ctx)
    second = guard.redact_text(
        "Also cc bob.stone@example.net, then jane.roe@example.org again, at (212) 555-0147.", context=ctx
    )
    assert first == "Write to <EMAIL_ADDRESS_1> and call <PHONE_NUMBER_1>."
    assert second == "Also cc <EMAIL_ADDRESS_2>, then <EMAIL_ADDRESS_1> again, at <PHONE_NUMBER_1>."
    assert ctx.lookup("<EMAIL_ADDRESS_2>") == "bob.stone@example.net"
    assert len(ctx) == 3


def test_unknown_and_literal_placeholders_are_left_alone(guard):
    ctx = RedactionContext()
    # The user's own placeholder-shaped text is not one of ours: its number is reserved.
    redacted = guard.redact_text("Template <EMAIL_ADDRESS_1> goes to jane.roe@example.org.", context=ctx)
    assert redacted == "Template <EMAIL_ADDRESS_1> goes to <EMAIL_ADDRESS_2>."
    answer = "Sent <EMAIL_ADDRESS_1> to <EMAIL_ADDRESS_2>; <PERSON_7> and <EMAIL_ADDRESS_3> unknown."
    assert guard.restore_text(answer, context=ctx) == (
        "Sent <EMAIL_ADDRESS_1> to jane.roe@example.org; <PERSON_7> and <EMAIL_ADDRESS_3> unknown."
    )


def test_restore_is_one_pass_so_values_are_never_rewritten():
    ctx = RedactionContext()
    a = ctx.placeholder_for("PERSON", "<PERSON_2>")  # a value that looks like a placeholder
    b = ctx.placeholder_for("PERSON", "Ann Lee")
    assert (a, b) == ("<PERSON_1>", "<PERSON_2>")
    assert ctx.restore(f"{a} and {b}") == "<PERSON_2> and Ann Lee"


def test_keep_action_is_not_replaced():
    guard = Guard(Policy(actions={"EMAIL_ADDRESS": "keep", "PHONE_NUMBER": "mask"}))
    ctx = RedactionContext()
    text = "Write to jane.roe@example.org or call (212) 555-0147."
    assert guard.redact_text(text, context=ctx) == "Write to jane.roe@example.org or call <PHONE_NUMBER_1>."
    assert ctx.mapping() == {"<PHONE_NUMBER_1>": "(212) 555-0147"}


def test_without_context_redact_text_is_unchanged(guard):
    text = "Write to jane.roe@example.org or call (212) 555-0147."
    out = guard.redact_text(text)
    assert "<" not in out and "jane.roe" not in out and out.endswith("0147.")


def test_repr_shows_counts_not_values():
    ctx = _filled()
    text = repr(ctx) + str(ctx)
    assert "EMAIL_ADDRESS=1" in text and "PERSON=2" in text
    assert not any(v in text for v in [*VALUES, "Jürgen Groß", "Lopez", "555"])


# -- threads ----------------------------------------------------------------------


def test_many_threads_share_one_context(guard):
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, to make races show
    try:
        ctx = RedactionContext()
        threads_n, per_thread = 8, 6
        barrier = threading.Barrier(threads_n)
        failures: list[str] = []

        def work(t: int) -> None:
            barrier.wait()
            for i in range(per_thread):
                email = f"user{t}x{i}@example.com"
                prompt = f"Forward it to {email} and to shared.desk@example.org please."
                redacted = guard.redact_text(prompt, context=ctx)
                if email in redacted or "shared.desk" in redacted:
                    failures.append(f"value left in thread {t}")
                answer = f"Done: {redacted.split('to ', 1)[1]}"
                if (
                    guard.restore_text(answer, context=ctx)
                    != f"Done: {email} and to shared.desk@example.org please."
                ):
                    failures.append(f"wrong restore in thread {t}")

        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == []
    mapping = ctx.mapping()
    expected = {f"user{t}x{i}@example.com" for t in range(threads_n) for i in range(per_thread)}
    expected.add("shared.desk@example.org")
    assert sorted(mapping.values()) == sorted(expected)  # one placeholder per value, none lost
    assert set(mapping) == {f"<EMAIL_ADDRESS_{n}>" for n in range(1, len(expected) + 1)}
    for placeholder, value in mapping.items():
        assert ctx.placeholder_for("EMAIL_ADDRESS", value) == placeholder


def test_many_threads_allocating_directly_get_unique_numbers():
    ctx = RedactionContext()
    threads_n, per_thread = 16, 200
    barrier = threading.Barrier(threads_n)
    got: dict[int, list[tuple[str, str]]] = {}

    def work(t: int) -> None:
        barrier.wait()
        mine = []
        for i in range(per_thread):
            value = f"Person {t}-{i}"
            mine.append((value, ctx.placeholder_for("PERSON", value)))
            ctx.placeholder_for("PERSON", "Common Name")
            assert ctx.restore(mine[-1][1]) == value
        got[t] = mine

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    pairs = [p for mine in got.values() for p in mine]
    assert len(pairs) == threads_n * per_thread
    placeholders = [p for _, p in pairs] + [ctx.placeholder_for("PERSON", "Common Name")]
    assert len(set(placeholders)) == len(placeholders)
    assert set(placeholders) == {f"<PERSON_{n}>" for n in range(1, len(placeholders) + 1)}
    assert all(ctx.lookup(p) == v for v, p in pairs)


# -- at rest ----------------------------------------------------------------------


def test_save_load_round_trip_encrypted_0600(tmp_path, ring):
    ctx = _filled()
    path = ctx.save(tmp_path / "chats" / "c1.ctx", ring)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["c1.ctx"]  # no partial file left
    raw = path.read_bytes()
    for value in [*VALUES, "Jürgen Groß", "Lopez", "example.com", "555-0147", "PERSON"]:
        assert value.encode() not in raw and value.encode("utf-16-le") not in raw
    doc = json.loads(raw)
    assert doc["key_version"] == 1 and doc["key_id"] == ring.current().key_id

    back = RedactionContext.load(path, ring)
    assert back.mapping() == ctx.mapping()
    assert back.placeholder_for("PERSON", "Maria Lopez") == "<PERSON_1>"
    assert back.placeholder_for("PERSON", "New Person") == "<PERSON_3>"  # numbering continues
    assert back.restore("<PERSON_2> at <EMAIL_ADDRESS_1>") == "Jürgen Groß at maria.lopez@example.com"


def test_save_and_load_with_the_policy_keyring(tmp_path):
    ctx = _filled()
    path = ctx.save(tmp_path / "c.ctx")  # the default policy's keyring in INGESTGUARD_HOME
    assert RedactionContext.load(path).mapping() == ctx.mapping()


def test_reserved_numbers_survive_a_save(tmp_path, ring):
    ctx = RedactionContext()
    ctx.redact("see <PERSON_4>", [])
    path = ctx.save(tmp_path / "c.ctx", ring)
    assert RedactionContext.load(path, ring).placeholder_for("PERSON", "Ann") == "<PERSON_5>"


def _edit_ciphertext(doc):
    c = doc["ciphertext"]
    doc["ciphertext"] = c[:10] + ("A" if c[10] != "A" else "B") + c[11:]


def _edit_nonce(doc):
    n = doc["nonce"]
    doc["nonce"] = ("A" if n[0] != "A" else "B") + n[1:]


def _truncate(doc):
    doc["ciphertext"] = doc["ciphertext"][:-8]


def _swap_kind(doc):
    doc["kind"] = "something-else"


@pytest.mark.parametrize("edit", [_edit_ciphertext, _edit_nonce, _truncate, _swap_kind])
def test_tampered_file_is_refused(tmp_path, ring, edit):
    path = _filled().save(tmp_path / "c.ctx", ring)
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(TamperedContextError) as info:
        RedactionContext.load(path, ring)
    assert not any(v in str(info.value) for v in VALUES)


def test_garbage_and_missing_files_are_refused(tmp_path, ring):
    (tmp_path / "g.ctx").write_bytes(b"\x00\x01 not json")
    with pytest.raises(TamperedContextError):
        RedactionContext.load(tmp_path / "g.ctx", ring)
    with pytest.raises(ContextError, match="no redaction context"):
        RedactionContext.load(tmp_path / "missing.ctx", ring)


def test_a_header_naming_another_version_is_refused(tmp_path, ring):
    path = _filled().save(tmp_path / "c.ctx", ring)
    ring.rotate()
    doc = json.loads(path.read_text())
    doc["key_version"] = 2  # exists, but the file was not made with it
    path.write_text(json.dumps(doc))
    with pytest.raises(ContextKeyError, match="version 2"):
        RedactionContext.load(path, ring)
    doc["key_version"], doc["key_id"] = 2, ring.current().key_id  # and a matching id: no tag
    path.write_text(json.dumps(doc))
    with pytest.raises(TamperedContextError):
        RedactionContext.load(path, ring)


def test_opens_after_rotation_and_refused_once_its_version_is_destroyed(tmp_path, ring):
    ctx = _filled()
    old = ctx.save(tmp_path / "old.ctx", ring)
    ring.rotate()
    assert RedactionContext.load(old, ring).mapping() == ctx.mapping()  # v1 is retired, still usable
    new = ctx.save(tmp_path / "new.ctx", ring)
    assert json.loads(new.read_text())["key_version"] == 2

    ring.destroy(1)
    with pytest.raises(ContextKeyError, match="key version 1") as info:
        RedactionContext.load(old, ring)
    assert isinstance(info.value.__cause__, KeyDestroyedError)
    assert not any(v in str(info.value) for v in VALUES)
    assert RedactionContext.load(new, ring).mapping() == ctx.mapping()  # the current version still works
