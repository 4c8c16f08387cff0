"""Our validators agree with python-stdnum's own test vectors.

The vectors (`../shared/eval/stdnum_test_vectors.tsv`) are stdnum's doctest
number lists; rows that stdnum 2.2 itself disagrees with are counted apart,
since our verdicts come from stdnum. A verdict is "valid" when the recognizer
keeps a candidate spanning the whole number at any score: formats whose
layout is weak (an all-letter BIC) validate but stay below the threshold.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS, STDNUM_FORMATS

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "stdnum_test_vectors.tsv"


def _rows(module: str) -> list[dict[str, str]]:
    if not VECTORS.is_file():
        pytest.skip(f"{VECTORS} is absent")
    with VECTORS.open(newline="") as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["stdnum_module"] == module]


@pytest.mark.parametrize("module", sorted(STDNUM_FORMATS))
def test_recognizer_verdicts_match_stdnum_vectors(module: str) -> None:
    rows = _rows(module)
    if not rows:
        pytest.skip(f"no vectors for {module}")
    entity = STDNUM_FORMATS[module]
    recognizer = PATTERN_RECOGNIZERS[entity].build()
    agree, reported, mismatches, stdnum_disputed = 0, 0, [], 0
    for row in rows:
        number, expected = row["number"], row["expected_valid"] == "True"
        results = recognizer.analyze(number, [entity], None)
        verdict = any(r.start == 0 and r.end == len(number) for r in results)
        reported += any(r.score >= 0.5 for r in results)
        if row["agrees_with_python_stdnum_2.2"] != "True":
            stdnum_disputed += 1
        elif verdict == expected:
            agree += 1
        else:
            mismatches.append((number, expected))
    print(
        f"{module}: {agree}/{len(rows) - stdnum_disputed} agree "
        f"({stdnum_disputed} rows stdnum 2.2 disputes; {reported} reported at >= 0.5)"
    )
    assert mismatches == []
