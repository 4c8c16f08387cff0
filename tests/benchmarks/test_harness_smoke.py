"""Smoke tests for the benchmark harness: its arithmetic, the generator, and one tiny floor run.

No timing assertions.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from benchmarks.generate import (
    DECOY,
    PATTERN_ENTITIES,
    SENSITIVE,
    luhn_valid,
    pattern_table,
    structured_table,
    text_table,
)
from benchmarks.harness import (
    CLI,
    DATAFOG,
    DATAFOG_DEFAULT,
    DECOY_KIND,
    ENTITY_MAP,
    FLOOR,
    FREE_TEXT,
    IG_DETECTOR,
    LIBRARY,
    PATTERN_TEXT,
    PRESIDIO_BATCH,
    PRESIDIO_CELL,
    PRESIDIO_STRUCTURED,
    SPACY_NER_ONLY,
    SPACY_TOK2VEC_NER,
    STRUCTURED_DISTINCT,
    check_f2,
    check_target,
    evaluate_targets,
    extrapolate,
    fbeta,
    finalize,
    median_run,
    pattern_ratios,
    ratios,
    run_contender,
    score_redaction,
    score_spans,
    slot_outputs,
    throughput,
)


def test_throughput_exact():
    assert throughput(1000, 2_000_000, 4.0) == {"rows_per_s": 250.0, "mb_per_s": 0.5}


def test_throughput_zero_seconds():
    assert throughput(10, 10, 0.0) == {"rows_per_s": None, "mb_per_s": None}


def test_extrapolate_exact():
    assert extrapolate(3.0, 300, 200_000) == 2000.0
    assert extrapolate(1.5, 100, 100) == 1.5
    with pytest.raises(ValueError):
        extrapolate(1.0, 0, 10)


def test_ratios_exact():
    results = {
        FLOOR: {"wall_s": 2.0},
        LIBRARY: {"wall_s": 10.0},
        CLI: {"wall_s": 12.5},
        PRESIDIO_CELL: {"wall_s": 400.0},
        PRESIDIO_STRUCTURED: {"wall_s": 2000.0},
        PRESIDIO_BATCH: {"wall_s": 25.0},
        SPACY_TOK2VEC_NER: {"wall_s": 5.0},
        SPACY_NER_ONLY: {"wall_s": 4.0},
        IG_DETECTOR: {"wall_s": 7.5},
    }
    assert ratios(results) == {
        "ingestguard/floor": 5.0,
        "ingestguard_cli/floor": 6.25,
        "ingestguard_cli/ingestguard": 1.25,
        f"{PRESIDIO_CELL}/ingestguard": 40.0,
        f"{PRESIDIO_STRUCTURED}/ingestguard": 200.0,
        f"{PRESIDIO_BATCH}/ingestguard": 2.5,
        f"{SPACY_TOK2VEC_NER}/ingestguard": 0.5,
        f"{SPACY_NER_ONLY}/ingestguard": 0.4,
        f"{IG_DETECTOR}/ingestguard": 0.75,
    }


def test_ratios_missing_contenders_are_none():
    assert ratios({LIBRARY: {"wall_s": 4.0}}) == {
        "ingestguard/floor": None,
        "ingestguard_cli/floor": None,
        "ingestguard_cli/ingestguard": None,
    }


def test_finalize_extrapolates_work_not_setup():
    raw = {"measured_s": 3.0, "measured_rows": 300, "setup_s": 2.0, "peak_rss_mb": 100.0}
    r = finalize(raw, 3000, 5_000_000)
    assert r["extrapolated"] is True
    assert r["wall_s"] == 32.0
    assert r["rows_per_s"] == 3000 / 32.0
    assert r["mb_per_s"] == 5.0 / 32.0
    full = finalize({"measured_s": 4.0, "measured_rows": 10, "peak_rss_mb": 1.0}, 10, 4_000_000)
    assert full["extrapolated"] is False
    assert full["wall_s"] == 4.0
    assert full["mb_per_s"] == 1.0


def test_fbeta_exact():
    assert fbeta(0.5, 0.5) == 0.5
    assert fbeta(1.0, 1.0) == 1.0
    assert fbeta(0.0, 0.0) == 0.0
    assert fbeta(0.5, 1.0) == pytest.approx(2.5 / 3.0)  # recall weighs 4x: (1+4)PR / (4P+R)
    assert fbeta(1.0, 0.5, beta=1.0) == pytest.approx(2.0 / 3.0)


GOLD = [
    [(0, 5, "PERSON"), (10, 20, "EMAIL_ADDRESS")],
    [(0, 4, "LOCATION")],
]
PRED = [
    [(0, 5, "PERSON", 0.9), (12, 20, "EMAIL_ADDRESS", 1.0), (30, 35, "PERSON", 0.8), (10, 20, "URL", 0.5)],
    [(1, 3, "STREET_ADDRESS", 0.7), (2, 4, "LOCATION", 0.6)],
]


def test_score_spans_overlap_exact_values():
    s = score_spans(GOLD, PRED, ENTITY_MAP)
    assert s["ignored"] == 1  # URL is outside the mapping
    assert s["beta"] == 2.0
    per = s["per_entity"]
    assert per["PERSON"] == {
        "gold": 1,
        "found": 1,
        "pred": 2,
        "correct": 1,
        "precision": 0.5,
        "recall": 1.0,
        "f": pytest.approx(2.5 / 3.0),
    }
    assert per["EMAIL_ADDRESS"]["precision"] == per["EMAIL_ADDRESS"]["recall"] == 1.0
    # STREET_ADDRESS maps to LOCATION; two predictions on one gold span are both correct
    assert (per["LOCATION"]["pred"], per["LOCATION"]["correct"], per["LOCATION"]["found"]) == (2, 2, 1)
    o = s["overall"]
    assert (o["gold"], o["found"], o["pred"], o["correct"]) == (3, 3, 5, 4)
    assert o["precision"] == 0.8
    assert o["recall"] == 1.0
    assert o["f"] == pytest.approx(4.0 / 4.2)


def test_score_spans_exact_mode():
    s = score_spans(GOLD, PRED, ENTITY_MAP, exact=True)
    assert s["per_entity"]["EMAIL_ADDRESS"]["found"] == 0
    assert s["per_entity"]["EMAIL_ADDRESS"]["f"] == 0.0
    assert s["per_entity"]["LOCATION"]["correct"] == 0
    o = s["overall"]
    assert (o["gold"], o["found"], o["pred"], o["correct"]) == (3, 1, 5, 1)
    assert o["precision"] == 0.2
    assert o["recall"] == pytest.approx(1 / 3)
    assert o["f"] == pytest.approx(5 * 0.2 * (1 / 3) / (4 * 0.2 + 1 / 3))


def test_score_spans_type_must_match_and_lengths():
    s = score_spans([[(0, 5, "PERSON")]], [[(0, 5, "LOCATION", 1.0)]], ENTITY_MAP)
    assert s["per_entity"]["PERSON"]["found"] == 0
    assert s["per_entity"]["LOCATION"]["correct"] == 0
    assert s["overall"]["f"] == 0.0
    with pytest.raises(ValueError):
        score_spans([[]], [], ENTITY_MAP)


def test_check_target():
    assert check_target(2.5, 3.0, higher_is_better=False) == (True, "target met")
    assert check_target(4.5, 3.0, higher_is_better=False) == (False, "missed by 1.50x")
    assert check_target(150.0, 100.0, higher_is_better=True) == (True, "target met")
    assert check_target(1.6, 2.0, higher_is_better=True) == (False, "missed by 1.25x")
    assert check_target(0.0, 2.0, higher_is_better=True) == (False, "missed by inf")
    assert check_target(None, 2.0, higher_is_better=True) == (None, "not measured")
    assert check_f2(0.9, 0.95) == (False, "missed by 0.050 F2")
    assert check_f2(0.95, 0.95) == (True, "target met")
    assert check_f2(None, 0.95) == (None, "not measured")


def test_evaluate_targets():
    k = "structured_k20000"
    report = {
        "datasets": {
            k: {
                "ratios": {
                    "ingestguard/floor": 6.0,
                    "ingestguard_cli/floor": 2.5,
                    f"{PRESIDIO_STRUCTURED}/ingestguard": 250.0,
                }
            },
            PATTERN_TEXT: {"ratios": {f"ingestguard_cli/{DATAFOG}": 3.0}},
            STRUCTURED_DISTINCT: {"ratios": {"ingestguard/floor": 4.0}},
            FREE_TEXT: {
                "ratios": {f"{SPACY_TOK2VEC_NER}/ingestguard": 0.6, f"{PRESIDIO_BATCH}/ingestguard": 3.0}
            },
        },
        "accuracy": {
            "ingestguard": {"overlap": {"overall": {"f": 0.9}}},
            "presidio_batch@default(0)": {"overlap": {"overall": {"f": 0.95}}},
            "presidio_batch@0.5": {"overlap": {"overall": {"f": 0.8}}},
        },
    }
    got = [(t["met"], t["text"]) for t in evaluate_targets(report, k)]
    assert got == [
        (False, "missed by 2.00x"),
        (True, "target met"),
        (True, "target met"),
        (None, "not measured"),
        (False, "missed by 1.33x"),
        (True, "target met"),
        (True, "target met"),
        (False, "missed by 1.50x"),
        (False, "missed by 0.050 F2"),
        (True, "target met"),
    ]


def test_generate_structured_distinct_and_valid():
    t = structured_table(2_000, None, seed=5)
    assert t.num_columns == 12
    assert t.schema.field("customer_id").type == pa.int64()
    assert t.schema.field("amount").type == pa.float64()
    assert pa.types.is_timestamp(t.schema.field("created_at").type)
    for col in SENSITIVE:
        assert pc.count_distinct(t[col]).as_py() == 2_000, col
    assert pc.count_distinct(t["category"]).as_py() == 8
    assert pc.count_distinct(t["status"]).as_py() == 3
    for ssn in t["ssn"].to_pylist():
        area, group, serial = ssn.split("-")
        assert area not in ("000", "666") and not area.startswith("9")
        assert group != "00" and serial != "0000"
    assert all(len(c) == 16 and luhn_valid(c) for c in t["card_number"].to_pylist())
    phone = re.compile(r"^\(\d{3}\) [2-9]\d{2}-\d{4}$")
    assert all(phone.match(p) and p[6:9] != "555" and p[7:9] != "11" for p in t["phone"].to_pylist())
    addr = re.compile(r"^\d{1,4} [A-Z][a-z]+ [A-Z][a-z]+, [A-Z][a-z]+( [A-Z][a-z]+)?, [A-Z]{2} \d{5}$")
    assert all(addr.match(a) for a in t["street_address"].to_pylist())
    assert t.equals(structured_table(2_000, None, seed=5))
    assert not t.equals(structured_table(2_000, None, seed=6))


def test_generate_structured_k_distinct():
    t = structured_table(5_000, 40, seed=1)
    for col in SENSITIVE:
        assert pc.count_distinct(t[col]).as_py() == 40, col


def test_generate_text_spans():
    table, gold = text_table(200, seed=3)
    notes = table["notes"].to_pylist()
    assert len(notes) == len(gold) == 200
    for text, spans in zip(notes, gold, strict=True):
        assert 200 <= len(text) <= 300
        assert sorted(e for _, _, e in spans) == ["EMAIL_ADDRESS", "LOCATION", "PERSON", "PHONE_NUMBER"]
        values = {e: text[s:t] for s, t, e in spans}
        assert "@" in values["EMAIL_ADDRESS"]
        assert re.fullmatch(r"\(\d{3}\) \d{3}-\d{4}", values["PHONE_NUMBER"])
        assert re.fullmatch(r"\d{1,4} .+, .+, [A-Z]{2} \d{5}", values["LOCATION"])
    assert text_table(200, seed=3)[1] == gold


def test_floor_end_to_end(tmp_path):
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(structured_table(100, 10, seed=3), src, row_group_size=40)
    raw = run_contender(FLOOR, src, dst, tmp_path, subset=100, text_subset=None, timeout=60)
    assert raw["measured_rows"] == 100
    assert raw["peak_rss_mb"] > 0
    a, b = pq.read_table(src), pq.read_table(dst)
    assert b.num_rows == 100
    assert a.schema.equals(b.schema)
    assert a.to_pylist() == b.to_pylist()


def test_pattern_ratios_and_median():
    got = pattern_ratios({CLI: {"wall_s": 6.0}, FLOOR: {"wall_s": 0.5}, DATAFOG: {"wall_s": 2.0}})
    assert got == {
        f"ingestguard_cli/{FLOOR}": 12.0,
        f"ingestguard_cli/{DATAFOG}": 3.0,
        f"ingestguard_cli/{DATAFOG_DEFAULT}": None,
    }
    runs = [{"wall_s": 3.0}, {"error": "x"}, {"wall_s": 1.0}, {"wall_s": 2.0}]
    assert median_run(runs) == {"wall_s": 2.0, "walls": [1.0, 2.0, 3.0]}
    assert median_run([{"error": "boom"}]) == {"error": "boom"}


NOTE = "Call 212-555-0100 about Order 72333."
NOTE_SLOTS = [(5, 17, "PHONE_NUMBER"), (30, 35, DECOY_KIND)]


def test_slot_outputs_reads_each_slot():
    assert slot_outputs(NOTE, "Call [PHONE] about Order 72333.", NOTE_SLOTS) == (["[PHONE]", "72333"], True)
    assert slot_outputs(NOTE, NOTE, NOTE_SLOTS) == (["212-555-0100", "72333"], True)
    # the text around the slots changed: judged by presence of each value
    assert slot_outputs(NOTE, "[REDACTED] 72333", NOTE_SLOTS) == ([None, "72333"], False)
    assert slot_outputs(NOTE, None, NOTE_SLOTS) == ([None, None], False)
    assert slot_outputs("no digits", "no digits", []) == ([], True)


def test_score_redaction_exact():
    notes = [NOTE, NOTE, "plain text"]
    outs = ["Call [PHONE] about Order [ZIP_CODE].", NOTE, "plain [X]"]
    s = score_redaction(notes, outs, [NOTE_SLOTS, NOTE_SLOTS, []])
    assert s["per_kind"] == {"DECOY": {"slots": 2, "changed": 1}, "PHONE_NUMBER": {"slots": 2, "changed": 1}}
    assert s["collateral_notes"] == 1
    assert (s["tp"], s["fp"], s["fn"]) == (1, 2, 1)
    assert s["precision"] == pytest.approx(1 / 3)
    assert s["recall"] == 0.5
    with pytest.raises(ValueError):
        score_redaction(notes, outs[:2], [NOTE_SLOTS] * 3)


def test_generate_pattern_notes_slots():
    table, slots = pattern_table(400, seed=4)
    notes = table["notes"].to_pylist()
    assert DECOY == DECOY_KIND
    kinds = {k for spans in slots for _, _, k in spans}
    assert kinds == {*PATTERN_ENTITIES, DECOY}
    assert any(not spans for spans in slots)  # notes without any value
    for note, spans in zip(notes, slots, strict=True):
        for start, end, kind in spans:
            value = note[start:end]
            if kind == "US_SSN":
                assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", value)
            elif kind == "CREDIT_CARD":
                assert luhn_valid(re.sub(r"\D", "", value))
            elif kind == "EMAIL_ADDRESS":
                assert "@" in value
            elif kind == "IP_ADDRESS":
                assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", value)
    # a perfect redactor scores 1.0 both ways on the generated notes
    outs = []
    for note, spans in zip(notes, slots, strict=True):
        for start, end, kind in reversed(spans):
            if kind != DECOY:
                note = note[:start] + "[X]" + note[end:]
        outs.append(note)
    s = score_redaction(notes, outs, slots)
    assert (s["precision"], s["recall"], s["fp"], s["collateral_notes"]) == (1.0, 1.0, 0, 0)
    assert pattern_table(400, seed=4)[1] == slots


def test_datafog_peer_end_to_end(tmp_path):
    pytest.importorskip("datafog_core")
    table, slots = pattern_table(30, seed=2)
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(table, src)
    raw = run_contender(DATAFOG, src, dst, tmp_path, subset=30, text_subset=None, timeout=120)
    assert raw["measured_rows"] == 30
    out = pq.read_table(dst)
    assert out.schema.equals(table.schema)
    assert out["customer_id"].equals(table["customer_id"])
    s = score_redaction(table["notes"].to_pylist(), out["notes"].to_pylist(), slots)
    assert s["tp"] > 0
    assert s["tp"] + s["fn"] == sum(k != DECOY for spans in slots for _, _, k in spans)
