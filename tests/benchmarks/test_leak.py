"""The leak check's pure parts: what counts as a leak, and seeded notes."""

from __future__ import annotations

import pytest

from benchmarks.leak import LeakCounts, Note, leaks, name_tokens


def test_name_tokens_keep_words_of_three_letters_or_more() -> None:
    assert name_tokens("Jo Ann-Marie O'Neil") == ["Ann", "Marie", "Neil"]
    assert name_tokens("Li Wu") == []
    assert name_tokens("Zoë van der Berg") == ["Zoë", "van", "der", "Berg"]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("Spoke with Anna Novak; follow up.", (True, True)),
        ("Spoke with <PERSON>; follow up.", (False, False)),
        ("Spoke with Anna <PERSON>; follow up.", (False, True)),
        ("Spoke with Annabel Novakova.", (False, False)),  # not as a whole word
        ("spoke with anna novak", (False, False)),  # case-sensitive
    ],
)
def test_leaks(output: str, expected: tuple[bool, bool]) -> None:
    assert leaks("Anna Novak", output) == expected


def test_counts() -> None:
    note = Note("Spoke with Anna Novak.", "Anna Novak", "cs_CZ")
    c = LeakCounts()
    c.add(note, note.text)
    c.add(note, "Spoke with Novak.")
    c.add(note, "Spoke with <PERSON>.")
    assert (c.notes, c.full, c.token, c.unchanged) == (3, 1, 2, 1)


def test_notes_are_seeded_and_hold_their_name() -> None:
    pytest.importorskip("faker")
    from benchmarks.leak import LOCALES, make_notes

    notes = make_notes(40, seed=3)
    assert notes == make_notes(40, seed=3)
    assert notes != make_notes(40, seed=4)
    assert [n.locale for n in notes[: len(LOCALES)]] == list(LOCALES)
    for n in notes:
        assert f"Spoke with {n.name}; follow up at " in n.text
        assert n.text.startswith("Customer called about order ")
