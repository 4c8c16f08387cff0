"""Leak check: do names survive protection of free-text support notes?

    .venv/bin/python -m benchmarks.leak [--notes N] [--seed S]

Writes N support notes ("Customer called about order <N>. Spoke with <name>;
follow up at <email> next week.") to Parquet, names and emails from Faker in
many locales, then protects them two ways: ingestguard's real library path
(`Guard().protect(df)` with the default policy, key generated in a temporary
INGESTGUARD_HOME) and Presidio's default AnalyzerEngine (same spaCy package)
followed by AnonymizerEngine with its default replace operator. For each it
reports the share of notes in which the full name, or any name token of 3+
letters, is still there verbatim (case-sensitive, as a whole word). Recall
figures say how often a span was found; this says how often a name is left
readable, which is what a reader of the output sees.

Also: whether `Guard().protect` keeps a country column (US, GB, DE repeated)
unchanged, with the plan's classification of it.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

# Latin-script locales, so "3+ letters" means the same thing in every note.
LOCALES = (
    "en_US",
    "en_GB",
    "de_DE",
    "fr_FR",
    "nl_NL",
    "sv_SE",
    "cs_CZ",
    "sk_SK",
    "en_AU",
    "en_CA",
    "es_ES",
    "it_IT",
    "pl_PL",
    "pt_BR",
    "fi_FI",
    "tr_TR",
)
NOTE = "Customer called about order {order}. Spoke with {name}; follow up at {email} next week."
COUNTRIES = ("US", "GB", "DE")


@dataclass(frozen=True)
class Note:
    text: str
    name: str
    locale: str


def make_notes(n: int, seed: int = 0) -> list[Note]:
    """`n` notes, locales in turn; a given name and a family name from the
    same locale (Faker's `name()` adds titles such as "Dr." and "MBA")."""
    from faker import Faker

    fake = Faker(list(LOCALES))
    fake.seed_instance(seed)
    out = []
    for i in range(n):
        loc = LOCALES[i % len(LOCALES)]
        f = fake[loc]
        name = f"{f.first_name()} {f.last_name()}"
        order = f.random_int(100000, 99999999)
        out.append(Note(NOTE.format(order=order, name=name, email=f.email()), name, loc))
    return out


def name_tokens(name: str) -> list[str]:
    """The name's tokens of 3+ letters (split on spaces, hyphens, apostrophes)."""
    return [t for t in re.split(r"[\s\-'’.]+", name) if len(t) >= 3 and t.isalpha()]


def _present(word: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def leaks(name: str, output: str) -> tuple[bool, bool]:
    """(full name verbatim in output, some 3+ letter token of it verbatim as a word)."""
    return name in output, any(_present(t, output) for t in name_tokens(name))


@dataclass
class LeakCounts:
    notes: int = 0
    full: int = 0
    token: int = 0
    unchanged: int = 0  # output identical to the input

    def add(self, note: Note, output: str) -> None:
        full, token = leaks(note.name, output)
        self.notes += 1
        self.full += full
        self.token += token
        self.unchanged += output == note.text


def run_ingestguard(notes: Sequence[Note], folder: Path) -> tuple[list[str], float]:
    """The library path on the notes read back from Parquet."""
    from ingestguard import Guard

    path = folder / "notes.parquet"
    pd.DataFrame({"note_id": range(len(notes)), "note": [n.text for n in notes]}).to_parquet(path)
    df = pd.read_parquet(path)
    t = time.perf_counter()
    out, _ = Guard().protect(df)
    return [str(v) for v in out["note"]], time.perf_counter() - t


def run_presidio(notes: Sequence[Note], thresholds: Sequence[float]) -> tuple[dict[float, list[str]], float]:
    """Analyze once per note (all default recognizers), anonymize per threshold."""
    from benchmarks.accuracy import Presidio

    analyzer = Presidio().engine  # first: it sets the offline suffix list before presidio imports tldextract
    from presidio_anonymizer import AnonymizerEngine

    anonymizer = AnonymizerEngine()
    out: dict[float, list[str]] = {t: [] for t in thresholds}
    t0 = time.perf_counter()
    for note in notes:
        found = analyzer.analyze(text=note.text, language="en")
        for t in thresholds:
            kept = [r for r in found if r.score >= t]
            out[t].append(anonymizer.anonymize(text=note.text, analyzer_results=kept).text)
    return out, time.perf_counter() - t0


def country_column_kept(rows: int = 300) -> tuple[bool, str]:
    """Whether `Guard().protect` leaves a country-code column as it was, and how it planned it."""
    from ingestguard import Guard

    df = pd.DataFrame(
        {
            "customer_id": range(rows),
            "country": [COUNTRIES[i % len(COUNTRIES)] for i in range(rows)],
            "amount": [round(10 + i * 0.37, 2) for i in range(rows)],
        }
    )
    out, evidence = Guard().protect(df)
    col = next(c for f in evidence.files for c in f.columns if c.name == "country")
    plan = f"{col.classification}, entity {col.entity}, action {col.action}"
    return out["country"].tolist() == df["country"].tolist(), plan


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notes", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ingestguard-leak-") as tmp:
        if not os.environ.get("INGESTGUARD_KEY"):
            os.environ["INGESTGUARD_HOME"] = str(Path(tmp) / "home")  # the default policy's key goes here
        notes = make_notes(args.notes, args.seed)
        pres, pres_s = run_presidio(notes, (0.0, 0.4))
        ours, ours_s = run_ingestguard(notes, Path(tmp))
        kept, plan = country_column_kept()
    rows: dict[str, LeakCounts] = {"ingestguard Guard().protect": LeakCounts()}
    for note, out in zip(notes, ours, strict=True):
        rows["ingestguard Guard().protect"].add(note, out)
    for t, outs in pres.items():
        label = f"presidio analyze(score >= {t}) + anonymize(replace)"
        rows[label] = LeakCounts()
        for note, out in zip(notes, outs, strict=True):
            rows[label].add(note, out)
    print(
        f"{len(notes)} notes, Faker locales {', '.join(LOCALES)} in turn, seed {args.seed}; "
        f"a leak is the name, or a 3+ letter token of it, still there verbatim (case-sensitive, whole word)."
    )
    print()
    print("| tool | notes | full name left | a name token left | note unchanged |")
    print("|---|---:|---:|---:|---:|")
    for label, c in rows.items():
        cells = [f"{k} ({k / c.notes:.1%})" for k in (c.full, c.token, c.unchanged)]
        print(f"| {label} | {c.notes} | " + " | ".join(cells) + " |")
    print()
    print(f"Time: ingestguard {ours_s:.1f} s, Presidio {pres_s:.1f} s (analyze once, anonymize twice).")
    print(f"Country column (US, GB, DE repeated) kept unchanged by Guard().protect: {kept} ({plan}).")
    examples = [(n, o) for n, o in zip(notes, ours, strict=True) if any(leaks(n.name, o)) and o != n.text][:5]
    for n, o in examples:
        print(f"  ingestguard leak [{n.locale}] {n.name!r}: {o!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
