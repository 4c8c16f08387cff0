"""Bad and hostile input, end to end through `ingestguard protect` (issue 13).

Every case either fails with one clear line and the right exit code, or gives
a correct result; in both, nothing partial is left at the destination, the
input's bytes are unchanged, and no message, output line or evidence file
quotes the value seeded into the data.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingestguard.cli import app
from ingestguard.errors import IngestGuardError
from ingestguard.guard import Guard

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
EMAIL = "wanda.seedling@example.com"
SSN = "536-22-8714"
# What must never appear in a message or an output, whatever form the seed took.
MARKS = ("seedling", "536-22-8714", "536228714", "５３６")
PATTERNS_ONLY = {"entities": ["EMAIL_ADDRESS", "US_SSN"]}
INGESTGUARD = Path(sys.executable).with_name("ingestguard")

runner = CliRunner()


@pytest.fixture(autouse=True)
def _key(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


@dataclass
class Case:
    """One hostile input: where it is, where the output goes, and what must happen.

    `error`: (exit code, a fragment of the one-line message), or None when the
    run must succeed; `check` then verifies the output. `either`: a clear error
    and a correct result are both acceptable (zero rows, zero columns).
    """

    src: Path
    out: Path
    error: tuple[int, str] | None = None
    check: Callable[[Path], None] | None = None
    policy: dict | None = None
    either: bool = False
    via: str = "cli"  # "cli" (CliRunner), "process" (a real process with limits)
    limit_bytes: int | None = None
    cleanup: list[Callable[[], None]] = field(default_factory=list)


def table_note(notes: list, **more) -> pa.Table:
    return pa.table({"id": list(range(len(notes))), "note": notes, **more})


def write(tmp: Path, table: pa.Table, name: str = "in.parquet", **kw) -> Path:
    src = tmp / "in" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, src, **kw)
    return src


def rows_of(path: Path) -> list[dict]:
    """An output's rows, whatever its format."""
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    return pq.read_table(path).to_pylist()


def as_text(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=lambda v: v.decode("utf-8", "replace"))


def clean_output(n: int, column: str = "note") -> Callable[[Path], None]:
    """The output has `n` rows and none of the seed's marks."""

    def check(out: Path) -> None:
        rows = rows_of(out)
        assert len(rows) == n
        text = as_text(rows)
        assert not any(mark in text for mark in MARKS), f"seed left in {column}"

    return check


# -- the inputs --------------------------------------------------------------------------------


def seeded_table(rows: int = 30) -> pa.Table:
    return table_note(
        [f"ticket {i}: mail {EMAIL} or ssn {SSN}" if i % 3 == 0 else f"ticket {i}" for i in range(rows)]
    )


def truncated(tmp: Path) -> Case:
    src = write(tmp, seeded_table())
    src.write_bytes(src.read_bytes()[:-200])
    return Case(src, tmp / "out" / "o.parquet", error=(2, "Parquet"))


def corrupt_page(tmp: Path) -> Case:
    src = write(
        tmp, table_note([f"{EMAIL} {os.urandom(40).hex()}" for _ in range(400)]), compression="snappy"
    )
    data = bytearray(src.read_bytes())
    for at in range(200, len(data) // 2, 97):  # garble data pages, keep the footer
        data[at] ^= 0x5A
    src.write_bytes(bytes(data))
    return Case(src, tmp / "out" / "o.parquet", error=(2, "corrupt"))


def wrong_magic(tmp: Path) -> Case:
    src = write(tmp, seeded_table())
    src.write_bytes(b"PAR0" + src.read_bytes()[4:-4] + b"PAR0")
    return Case(src, tmp / "out" / "o.parquet", error=(2, "Parquet"))


def wrong_leading_magic(tmp: Path) -> Case:
    """Readers go by the footer: refusing the file and reading it right are both fine."""
    src = write(tmp, seeded_table())
    src.write_bytes(b"PAR0" + src.read_bytes()[4:])
    return Case(src, tmp / "out" / "o.parquet", error=(2, "Parquet"), check=clean_output(30), either=True)


def text_named_parquet(tmp: Path) -> Case:
    src = tmp / "in" / "in.parquet"
    src.parent.mkdir()
    src.write_text(f"id,note\n1,{EMAIL}\n")
    return Case(src, tmp / "out" / "o.parquet", error=(2, "Parquet"))


def empty_file(tmp: Path) -> Case:
    src = tmp / "in" / "in.parquet"
    src.parent.mkdir()
    src.write_bytes(b"")
    return Case(src, tmp / "out" / "o.parquet", error=(2, "empty"))


def one_bad_among_good(tmp: Path) -> Case:
    for name in ("a.parquet", "b.parquet"):
        write(tmp, seeded_table(), name)
    bad = write(tmp, seeded_table(), "c.parquet")
    bad.write_bytes(bad.read_bytes()[:-100])
    return Case(tmp / "in", tmp / "out", error=(2, "c.parquet"))


def zero_rows(tmp: Path) -> Case:
    return Case(
        write(tmp, seeded_table().slice(0, 0)),
        tmp / "out" / "o.parquet",
        error=(2, "zero rows"),
        check=clean_output(0),
        either=True,
    )


def zero_columns(tmp: Path) -> Case:
    return Case(
        write(tmp, pa.table({})),
        tmp / "out" / "o.parquet",
        error=(2, "input"),
        check=clean_output(0),
        either=True,
    )


def all_null_columns(tmp: Path) -> Case:
    table = pa.table(
        {
            "id": [1, 2, 3],
            "nick": pa.array([None] * 3, pa.string()),
            "score": pa.array([None] * 3, pa.int64()),
            "note": [f"mail {EMAIL}", None, "fine"],
        }
    )

    def check(out: Path) -> None:
        clean_output(3)(out)
        got = pq.read_table(out)
        assert got.column("nick").null_count == 3 and got.column("score").null_count == 3
        assert got.column("id").to_pylist() == [1, 2, 3] and got.column("note")[1].as_py() is None

    return Case(write(tmp, table), tmp / "out" / "o.parquet", check=check)


def duplicate_names(tmp: Path) -> Case:
    table = pa.Table.from_arrays([pa.array([EMAIL]), pa.array(["x"])], names=["email", "email"])
    return Case(write(tmp, table), tmp / "out" / "o.parquet", error=(2, "'email'"))


def non_utf8_binary(tmp: Path) -> Case:
    table = table_note(
        [f"mail {EMAIL}", "ok"], blob=pa.array([b"\xff\xfe\x00\x9c" + EMAIL.encode(), b"\x80"])
    )
    return Case(write(tmp, table), tmp / "out" / "o.parquet", error=(2, "'blob'"))


def binary_utf8(tmp: Path) -> Case:
    table = table_note(["a", "b"], payload=pa.array([f"contact {EMAIL} today".encode(), b"nothing here"]))

    def check(out: Path) -> None:
        clean_output(2)(out)
        got = pq.read_table(out)
        assert pa.types.is_binary(got.schema.field("payload").type)
        assert got.column("payload")[1].as_py() == b"nothing here"

    return Case(write(tmp, table), tmp / "out" / "o.parquet", check=check)


BIG = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def huge_cell_file(tmp_path_factory) -> Path:
    """One 50 MB cell with the seed at its very end, built once for the module."""
    src = tmp_path_factory.mktemp("huge") / "in.parquet"
    filler = "lorem ipsum dolor sit amet " * (BIG // 27)
    pq.write_table(pa.table({"id": [1, 2], "note": [filler + f" reach me at {EMAIL}", "short"]}), src)
    return src


def huge_cell(tmp: Path, huge: Path) -> Case:
    def check(out: Path) -> None:
        got = pq.read_table(out).column("note")
        cell = got[0].as_py()
        assert len(cell) > BIG - 100 and cell.startswith("lorem ipsum") and "seedling" not in cell
        assert got[1].as_py() == "short"

    # Pattern recognizers only: NER over 50 MB of text is not a unit test's cost.
    return Case(huge, tmp / "out" / "o.parquet", check=check, policy=PATTERNS_ONLY)


def million_empty_strings(tmp: Path) -> Case:
    n = 1_000_000
    table = pa.table({"id": pa.array(range(n), pa.int64()), "note": pa.array([""] * n, pa.string())})

    def check(out: Path) -> None:
        got = pq.read_table(out)
        assert got.num_rows == n and got.column("note").null_count == 0
        assert pa.compute.all(pa.compute.equal(got.column("note"), "")).as_py()

    return Case(write(tmp, table), tmp / "out" / "o.parquet", check=check)


def obfuscated(note: str) -> Callable[[Path], Case]:
    def build(tmp: Path) -> Case:
        table = table_note([note, "an ordinary line", note])
        return Case(write(tmp, table), tmp / "out" / "o.parquet", check=clean_output(3))

    return build


ZERO_WIDTH = "reach wanda.seedling\u200b@example.com soon"
FULL_WIDTH = "ssn ５３６-２２-８７１４ on file"
LOOK_ALIKE = "mail w\u0430nda.seedling@ex\u0430mple.com (Cyrillic a)"
MIXED_SCRIPTS = f"Κωδικός {SSN}, почта {EMAIL}, 連絡 {EMAIL}"
RTL_OVERRIDE = f"mail \u202e{EMAIL}\u202c today, ssn \u202e{SSN}\u202c"


def json_text(tmp: Path) -> Case:
    docs = [json.dumps({"user": {"email": EMAIL, "age": 40}, "tags": ["a", SSN]}), json.dumps({"user": None})]

    def check(out: Path) -> None:
        clean_output(2)(out)
        first = json.loads(pq.read_table(out).column("note")[0].as_py())
        assert set(first) == {"user", "tags"} and set(first["user"]) == {"email", "age"}
        assert first["user"]["age"] == 40 and first["tags"][0] == "a"

    return Case(write(tmp, table_note(docs)), tmp / "out" / "o.parquet", check=check)


def backtracking_regex(tmp: Path) -> Case:
    policy = {**PATTERNS_ONLY, "custom_recognizers": [{"entity": "ORDER_REF", "regex": "(a+)+b"}]}
    table = table_note(["a" * 50_000 + "!", f"mail {EMAIL}"])

    def check(out: Path) -> None:
        clean_output(2)(out)
        assert pq.read_table(out).column("note")[0].as_py() == "a" * 50_000 + "!"

    return Case(write(tmp, table), tmp / "out" / "o.parquet", check=check, policy=policy)


def backreference_regex(tmp: Path) -> Case:
    policy = {**PATTERNS_ONLY, "custom_recognizers": [{"entity": "ORDER_REF", "regex": r"(\w+) \1"}]}
    return Case(write(tmp, seeded_table()), tmp / "out" / "o.parquet", error=(2, "RE2"), policy=policy)


def output_is_input(tmp: Path) -> Case:
    src = write(tmp, seeded_table())
    return Case(src, src, error=(2, "overwrite the input"))


def output_inside_input(tmp: Path) -> Case:
    write(tmp, seeded_table(), "a.parquet")
    write(tmp, seeded_table(), "b.parquet")
    return Case(tmp / "in", tmp / "in" / "out", error=(2, "inside the input"))


def output_not_writable(tmp: Path) -> Case:
    out = tmp / "ro"
    out.mkdir()
    case = Case(write(tmp, seeded_table()), out / "o.parquet", error=(2, "cannot write the output"))
    if os.geteuid() == 0:  # root writes through file modes: a read-only mount instead
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(out)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip("running as root and cannot mount a read-only tmpfs")
        case.cleanup.append(lambda: subprocess.run(["umount", str(out)], check=False))
    else:
        out.chmod(0o555)
        case.cleanup.append(lambda: out.chmod(0o755))
    return case


def disk_fills(tmp: Path) -> Case:
    """RLIMIT_FSIZE in a real process: writes past 256 KiB fail (EFBIG) as on a full disk."""
    notes = [f"row {i} {os.urandom(48).hex()} mail {EMAIL}" for i in range(20_000)]
    src = write(tmp, table_note(notes), compression="none")
    assert src.stat().st_size > 1024 * 1024
    return Case(
        src,
        tmp / "out" / "o.parquet",
        error=(2, "o.parquet"),
        policy=PATTERNS_ONLY,
        via="process",
        limit_bytes=256 * 1024,
    )


def nested(column: pa.Array, check_value: Callable[[object], None]) -> Callable[[Path], Case]:
    def build(tmp: Path) -> Case:
        def check(out: Path) -> None:
            clean_output(len(column))(out)
            got = pq.read_table(out)
            assert got.schema.field("contact").type == column.type
            check_value(got.column("contact").to_pylist())

        table = pa.table({"id": list(range(len(column))), "contact": column})
        return Case(write(tmp, table), tmp / "out" / "o.parquet", check=check)

    return build


def _list_kept(values) -> None:
    assert [len(v) for v in values] == [2, 1] and values[0][1] == "plain tag"


def _struct_kept(values) -> None:
    assert values[1] == {"email": None, "age": 7} and values[0]["age"] == 30


def _map_kept(values) -> None:
    assert [k for k, _ in values[0]] == ["work", "note"] and values[0][1][1] == "nothing"


def _deep_kept(values) -> None:
    assert values[0]["people"][1] == {"email": None, "tags": []} and values[1] is None


LIST = pa.array([[EMAIL, "plain tag"], [f"cc {EMAIL}"]], pa.list_(pa.string()))
STRUCT = pa.array(
    [{"email": EMAIL, "age": 30}, {"email": None, "age": 7}],
    pa.struct([("email", pa.string()), ("age", pa.int64())]),
)
MAP = pa.array(
    [[("work", EMAIL), ("note", "nothing")], [("home", f"ssn {SSN}")]], pa.map_(pa.string(), pa.string())
)
DEEP = pa.array(
    [{"people": [{"email": EMAIL, "tags": [f"ssn {SSN}"]}, {"email": None, "tags": []}]}, None],
    pa.struct([("people", pa.list_(pa.struct([("email", pa.string()), ("tags", pa.list_(pa.string()))])))]),
)


def dictionary_strings(tmp: Path) -> Case:
    notes = pa.array([f"mail {EMAIL}", "plain", f"mail {EMAIL}"]).dictionary_encode()

    def check(out: Path) -> None:
        clean_output(3)(out)
        assert pq.read_table(out).column("note")[1].as_py() == "plain"

    return Case(write(tmp, table_note(notes)), tmp / "out" / "o.parquet", check=check)


def large_strings(tmp: Path) -> Case:
    notes = pa.array([f"mail {EMAIL}", f"ssn {SSN}"], pa.large_string())
    return Case(write(tmp, table_note(notes)), tmp / "out" / "o.parquet", check=clean_output(2))


def jsonl_input(tmp: Path) -> Case:
    src = tmp / "in" / "in.jsonl"
    src.parent.mkdir()
    src.write_text(
        "".join(
            json.dumps({"id": i, "note": f"mail {EMAIL} ssn {SSN}", "n": i * 2}) + "\n" for i in range(5)
        ),
        encoding="utf-8",
    )

    def check(out: Path) -> None:
        clean_output(5)(out)
        assert [r["n"] for r in rows_of(out)] == [0, 2, 4, 6, 8]

    return Case(src, tmp / "out" / "o.jsonl", check=check)


def csv_input(tmp: Path) -> Case:
    src = tmp / "in" / "in.csv"
    src.parent.mkdir()
    src.write_text("id,code,note\n" + "".join(f"{i},0{i},mail {EMAIL}\n" for i in range(5)), encoding="utf-8")

    def check(out: Path) -> None:
        clean_output(5)(out)
        assert [r["code"] for r in rows_of(out)] == [f"0{i}" for i in range(5)]  # leading zeros kept

    return Case(src, tmp / "out" / "o.csv", check=check)


def jsonl_bad_utf8(tmp: Path) -> Case:
    src = tmp / "in" / "in.jsonl"
    src.parent.mkdir()
    src.write_bytes(b'{"id": 1, "note": "' + EMAIL.encode() + b' \xff\xfe"}\n')
    return Case(src, tmp / "out" / "o.jsonl", error=(2, "UTF-8"))


def csv_unclosed_quote(tmp: Path) -> Case:
    src = tmp / "in" / "in.csv"
    src.parent.mkdir()
    src.write_text(f'id,note\n1,"mail {EMAIL}\n2,ok\n', encoding="utf-8")
    return Case(src, tmp / "out" / "o.csv", error=(2, "in.csv"))


def stale_staging(tmp: Path) -> Case:
    out = tmp / "out"
    out.mkdir()
    stale = out / ".o.parquet.0123456789ab.partial"
    stale.write_bytes(b"PAR1")
    os.utime(stale, (1_000_000_000, 1_000_000_000))

    def check(path: Path) -> None:
        clean_output(30)(path)
        assert not stale.exists()

    return Case(write(tmp, seeded_table()), out / "o.parquet", check=check)


def missing_input(tmp: Path) -> Case:
    return Case(tmp / "in" / "nope.parquet", tmp / "out" / "o.parquet", error=(2, "not found"))


CASES: dict[str, Callable[..., Case]] = {
    "truncated parquet": truncated,
    "corrupt data page": corrupt_page,
    "wrong magic bytes": wrong_magic,
    "wrong leading magic bytes only": wrong_leading_magic,
    "csv text named .parquet": text_named_parquet,
    "empty file": empty_file,
    "one bad file among good ones": one_bad_among_good,
    "zero rows": zero_rows,
    "zero columns": zero_columns,
    "all-null columns": all_null_columns,
    "duplicate column names": duplicate_names,
    "non-UTF-8 bytes in a binary column": non_utf8_binary,
    "binary holding UTF-8": binary_utf8,
    "a 50 MB cell": huge_cell,
    "a million empty strings": million_empty_strings,
    "zero-width character in an email": obfuscated(ZERO_WIDTH),
    "full-width digits in an SSN": obfuscated(FULL_WIDTH),
    "look-alike letters in an email": obfuscated(LOOK_ALIKE),
    "mixed scripts": obfuscated(MIXED_SCRIPTS),
    "right-to-left overrides": obfuscated(RTL_OVERRIDE),
    "JSON text in a string column": json_text,
    "backtracking-prone policy regex": backtracking_regex,
    "backreference policy regex": backreference_regex,
    "output equal to the input": output_is_input,
    "output inside the input directory": output_inside_input,
    "output directory not writable": output_not_writable,
    "disk fills mid-write": disk_fills,
    "list of emails": nested(LIST, _list_kept),
    "struct with an email": nested(STRUCT, _struct_kept),
    "map of strings": nested(MAP, _map_kept),
    "struct of lists of structs": nested(DEEP, _deep_kept),
    "dictionary-encoded strings": dictionary_strings,
    "large_string column": large_strings,
    "JSON lines input": jsonl_input,
    "CSV input": csv_input,
    "JSON lines with invalid UTF-8": jsonl_bad_utf8,
    "CSV with an unclosed quote": csv_unclosed_quote,
    "stale staging file at the destination": stale_staging,
    "missing input": missing_input,
}


# -- the one test ------------------------------------------------------------------------------


def digests(path: Path) -> dict[str, str]:
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.is_file())
        if path.exists()
        else []
    )
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def run(case: Case, tmp: Path) -> tuple[int, str, str, str]:
    """Exit code, stdout, stderr and any escaped exception's text."""
    args = ["protect", str(case.src), str(case.out), "--no-orchestrator", "--evidence-dir", str(tmp / "ev")]
    if case.policy is not None:
        policy = tmp / "policy.yaml"
        policy.write_text(json.dumps(case.policy), encoding="utf-8")
        args += ["--policy", str(policy)]
    if case.via == "process":
        limit = case.limit_bytes

        def limits() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        done = subprocess.run(
            [str(INGESTGUARD), *args],
            capture_output=True,
            text=True,
            preexec_fn=limits,
            env=os.environ,
            timeout=600,
        )
        return done.returncode, done.stdout, done.stderr, ""
    result = runner.invoke(app, args)
    escaped = (
        "" if result.exception is None or isinstance(result.exception, SystemExit) else repr(result.exception)
    )
    return result.exit_code, result.stdout, result.stderr, escaped


SLOW = {"a 50 MB cell"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in CASES])
def test_hostile_input(name: str, tmp_path: Path, request) -> None:
    build = CASES[name]
    case = (
        build(tmp_path, request.getfixturevalue("huge_cell_file")) if build is huge_cell else build(tmp_path)
    )
    try:
        before = digests(case.src)
        code, stdout, stderr, escaped = run(case, tmp_path)
        after = digests(case.src) if case.src.exists() else {}
        out_root = case.out if case.out.suffix == "" else case.out.parent
        leftovers = sorted(p.name for p in out_root.rglob("*.partial")) if out_root.is_dir() else []
        evidence = (
            "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "ev").glob("*"))
            if (tmp_path / "ev").is_dir()
            else ""
        )
        published = case.out.exists() and case.out != case.src
    finally:
        for undo in case.cleanup:
            undo()

    assert after == before, "the input changed"
    for text in (stdout, stderr, escaped, evidence):
        assert not any(mark in text for mark in MARKS), "a message or the evidence quotes the seeded value"
    assert not escaped, f"an exception escaped the CLI: {escaped.split('(')[0]}"
    assert leftovers == [], f"staging files left behind: {leftovers}"
    succeeded = code == 0
    if case.error is not None and not (case.either and succeeded):
        want_code, fragment = case.error
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert code == want_code, f"exit {code}, wanted {want_code}: {' | '.join(lines)[:300]}"
        assert len(lines) == 1 and lines[0].startswith("error:"), f"not one error line: {lines[:5]}"
        assert fragment in lines[0], lines[0]
        if case.src != case.out:
            assert not published, "an output was published by a failed run"
            assert not out_root.exists() or not any(out_root.rglob("*.parquet")), "an output was published"
    else:
        assert code == 0, f"exit {code}: {stderr.strip()[:300]}"
        assert published
        case.check(case.out)


def test_pandas_object_column_mixing_strings_and_numbers() -> None:
    """The library path: scanned as text with the numbers kept as the user gave them,
    or a typed error naming the column; never a raw pyarrow error, never the value."""
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "mixed": [f"mail {EMAIL}", 42, 3.5, None]})
    original = frame.copy(deep=True)
    try:
        out, evidence = Guard().protect(frame)
    except IngestGuardError as exc:
        assert "'mixed'" in str(exc) and not any(mark in str(exc) for mark in MARKS)
    else:
        assert evidence.status == "passed"
        assert out["mixed"].dtype == object and out["mixed"].tolist()[1:3] == [42, 3.5]
        assert "seedling" not in str(out["mixed"][0]) and pd.isna(out["mixed"][3])
    pd.testing.assert_frame_equal(frame, original)
