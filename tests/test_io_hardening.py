"""Bad and hostile files, through the CLI: one clear line and exit 2 (or a
correct result), the input unchanged, nothing at the destination, no staging
file left, and never a cell value in the message."""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingestguard import Guard, Policy
from ingestguard.cli import app
from ingestguard.errors import InputError, PolicyError
from ingestguard.io import TableSource, open_source, remove_stale

runner = CliRunner()
KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
SECRET = "quinn.secret@example.com"
GOOD_JSONL = '{"id": 1, "email": "jane.doe@example.com"}\n{"id": 2, "email": "bob.smith@corp-mail.org"}\n'
GOOD_CSV = "id,email\n1,jane.doe@example.com\n2,bob.smith@corp-mail.org\n"


@pytest.fixture(autouse=True)
def _key(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _parquet_bytes() -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"email": [SECRET] * 3}), sink)
    return sink.getvalue().to_pybytes()


def _gzip(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


def _dup_parquet(path: Path) -> None:
    table = pa.Table.from_arrays([pa.array([SECRET]), pa.array(["x"])], names=["email", "email"])
    pq.write_table(table, path)


# name: (file name, content or writer, message fragment)
BAD: dict[str, tuple[str, bytes | Callable[[Path], None], str]] = {
    "parquet duplicate columns": ("in.parquet", _dup_parquet, "two columns named 'email'"),
    "csv duplicate columns": (
        "in.csv",
        f"email,id,email\n{SECRET},1,x\n".encode(),
        "two columns named 'email'",
    ),
    "jsonl duplicate keys": (
        "in.jsonl",
        f'{{"id": 1, "email": "a@b.co"}}\n{{"id": 2, "email": "{SECRET}", "email": "x"}}\n'.encode(),
        "two keys named 'email' in line 2",
    ),
    "parquet truncated": ("in.parquet", _parquet_bytes()[:-30], "not a readable Parquet file"),
    "jsonl truncated": (
        "in.jsonl",
        GOOD_JSONL.encode() + f'{{"id": 3, "email": "{SECRET}'.encode(),
        "line 3 is not valid JSON",
    ),
    "csv truncated": ("in.csv", GOOD_CSV.encode() + f'3,"{SECRET}'.encode(), "unclosed quoted value"),
    "csv short record": ("in.csv", GOOD_CSV.encode() + SECRET.encode() + b"\n", "different number of fields"),
    "jsonl corrupt line": (
        "in.jsonl",
        f'{{"id": 1}}\n{{"id": 2 "email": "{SECRET}"}}\n'.encode(),
        "line 2 is not valid JSON",
    ),
    "parquet wrong magic": ("in.parquet", GOOD_CSV.encode(), "not a readable Parquet file"),
    "jsonl wrong magic": ("in.jsonl", _parquet_bytes(), "is a Parquet file, not JSON lines"),
    "csv wrong magic": ("in.csv", _parquet_bytes(), "is a Parquet file, not CSV"),
    "jsonl gzip bytes": ("in.jsonl", _gzip(GOOD_JSONL + SECRET), "line 1 is not UTF-8"),
    "csv gzip bytes": ("in.csv", _gzip(GOOD_CSV + SECRET), "not UTF-8"),
    "jsonl two objects on a line": (
        "in.jsonl",
        f'{{"id": 1}} {{"id": 2, "email": "{SECRET}"}}\n'.encode(),
        "JSON lines hold one object per line",
    ),
    "jsonl not utf-8": (
        "in.jsonl",
        b'{"id": 1}\n{"id": 2, "note": "caf\xe9 ' + SECRET.encode() + b'"}\n',
        "line 2 is not UTF-8",
    ),
    "csv not utf-8": ("in.csv", b"id,note\n1,caf\xe9 " + SECRET.encode() + b"\n", "not UTF-8"),
    "jsonl line not an object": (
        "in.jsonl",
        f'{{"id": 1}}\n["{SECRET}"]\n'.encode(),
        "line 2 is not a JSON object",
    ),
    "jsonl mixed types": (
        "in.jsonl",
        f'{{"id": 1, "email": "a@b.co"}}\n{{"id": "{SECRET}", "email": "c@d.co"}}\n'.encode(),
        "key 'id' holds a number in one line and a string in line 2",
    ),
    "json document, not lines": (
        "in.json",
        f'{{\n  "email": "{SECRET}"\n}}\n'.encode(),
        "spans several lines",
    ),
    "jsonl empty file": ("in.jsonl", b"", "empty file"),
    "csv empty file": ("in.csv", b"", "empty file"),
    "jsonl zero rows": ("in.jsonl", b"\n  \n\n", "zero rows"),
    "csv zero rows": ("in.csv", b"id,email\n", "zero rows"),
    "jsonl zero columns": ("in.jsonl", b"{}\n{}\n", "no columns"),
}


def _make(path: Path, content: bytes | Callable[[Path], None]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    return path


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _one_line_error(result, message: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert message in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("case", list(BAD))
def test_bad_file_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, case: str) -> None:
    name, content, message = BAD[case]
    src = _make(tmp_path / "in" / name, content)
    before = _sha(src)
    out = tmp_path / "out"
    for args in (["scan", str(src)], ["protect", str(src), f"{out}/", "--no-orchestrator"]):
        result = runner.invoke(
            app, [*args, "--evidence-dir", str(tmp_path / "ev")] if "protect" in args else args
        )
        line = _one_line_error(result, message)
        assert SECRET not in result.output and "quinn" not in line
    assert _sha(src) == before
    assert _files(out) == []


@pytest.mark.parametrize(
    ("name", "content"), [("a.jsonl", GOOD_JSONL), ("a.csv", GOOD_CSV), ("a.json", GOOD_JSONL)]
)
def test_output_equal_to_input_is_refused(tmp_path: Path, name: str, content: str) -> None:
    src = tmp_path / name
    src.write_text(content)
    before = _sha(src)
    result = runner.invoke(app, ["protect", str(src), str(src), "--no-orchestrator"])
    _one_line_error(result, "would overwrite the input")
    assert _sha(src) == before


def test_output_of_another_format_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text(GOOD_JSONL)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "protect",
            str(src),
            str(out / "a.parquet"),
            "--no-orchestrator",
            "--evidence-dir",
            str(tmp_path / "ev"),
        ],
    )
    _one_line_error(result, "outputs keep their input's format")
    assert _files(out) == []


@pytest.mark.parametrize(("name", "content"), [("b.jsonl", GOOD_JSONL), ("b.csv", GOOD_CSV)])
def test_one_bad_file_among_good_ones_publishes_nothing(tmp_path: Path, name: str, content: str) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.jsonl").write_text(GOOD_JSONL)
    (root / "c.csv").write_text(GOOD_CSV)
    bad = root / name
    bad.write_text(
        content + (f'{{"id": 9, "email": "{SECRET}"' if name.endswith("jsonl") else f'9,"{SECRET}')
    )
    digests = {p: _sha(p) for p in root.iterdir()}
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["protect", str(root), str(out), "--no-orchestrator", "--evidence-dir", str(tmp_path / "ev")]
    )
    assert result.exit_code == 2, result.output
    assert SECRET not in result.output
    assert _files(out) == []
    assert {p: _sha(p) for p in root.iterdir()} == digests


def test_all_null_and_all_empty_columns_pass_through(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text(
        "".join(json.dumps({"id": i, "nick": None, "email": f"user{i}@example.com"}) + "\n" for i in range(5))
    )
    csv_src = tmp_path / "a.csv"
    csv_src.write_text("id,nick,email\n" + "".join(f"{i},,user{i}@example.com\n" for i in range(5)))
    for source, dest in ((src, tmp_path / "out" / "a.jsonl"), (csv_src, tmp_path / "out" / "a.csv")):
        evidence = Guard().protect_file(source, dest, evidence_dir=tmp_path / "ev")
        assert evidence.status == "passed", evidence.failure
        written = dest.read_text()
        assert "@example.com" not in written
    rows = [json.loads(line) for line in (tmp_path / "out" / "a.jsonl").read_text().splitlines()]
    assert [r["nick"] for r in rows] == [None] * 5 and [r["id"] for r in rows] == list(range(5))
    assert open_source(tmp_path / "out" / "a.csv").take(["nick"], [0, 4]).column("nick").to_pylist() == [
        "",
        "",
    ]


def test_duplicate_column_names_in_a_table_are_refused() -> None:
    table = pa.Table.from_arrays([pa.array([SECRET]), pa.array(["x"])], names=["email", "email"])
    with pytest.raises(InputError, match="two columns named 'email'") as caught:
        TableSource(table)
    assert SECRET not in str(caught.value)


def test_encrypt_column_on_jsonl_or_csv_is_a_policy_error(tmp_path: Path) -> None:
    policy = Policy(columns={"email": {"action": "encrypt_column"}})
    for name, content in (("a.jsonl", GOOD_JSONL), ("a.csv", GOOD_CSV)):
        src = tmp_path / name
        src.write_text(content)
        out = tmp_path / "out"
        with pytest.raises(PolicyError, match="encrypt_column needs Parquet modular encryption"):
            Guard(policy).protect_file(src, out / name, evidence_dir=tmp_path / "ev")
        assert _files(out) == []


# -- staging files ------------------------------------------------------------------------------


def _staging(folder: Path, name: str, age: float = 3600) -> Path:
    path = folder / f".{name}.0123456789ab.partial"
    path.write_bytes(b"PAR1")
    old = time.time() - age
    os.utime(path, (old, old))
    return path


@pytest.fixture
def held_elsewhere() -> Iterator[Callable[[Path], None]]:
    """Hold a flock on a file from another live process, as a running protect would."""
    holders: list[subprocess.Popen] = []

    def hold(path: Path) -> None:
        code = "import fcntl,sys; f=open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()"
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        holders.append(proc)
        assert proc.stdout.readline().strip() == "held"

    yield hold
    for proc in holders:
        proc.stdin.close()
        proc.wait()


def test_next_run_removes_stale_staging_but_not_a_live_runs(tmp_path: Path, held_elsewhere) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stale = _staging(out, "a.jsonl")
    live = _staging(out, "b.jsonl", age=7200)
    held_elsewhere(live)
    unrelated = out / ".notes.partial"  # not our pattern
    unrelated.write_text("x")
    link = out / ".c.jsonl.abcdefabcdef.partial"
    link.symlink_to(unrelated)
    src = tmp_path / "a.jsonl"
    src.write_text(GOOD_JSONL)
    result = runner.invoke(
        app,
        [
            "protect",
            str(src),
            str(out / "a.jsonl"),
            "--no-orchestrator",
            "--evidence-dir",
            str(tmp_path / "ev"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert live.exists() and unrelated.exists() and link.is_symlink()
    assert sorted(p.name for p in out.iterdir()) == sorted(["a.jsonl", live.name, unrelated.name, link.name])


def test_a_staging_file_held_in_this_process_survives_a_sweep(tmp_path: Path) -> None:
    from ingestguard.io import StagedJsonLines

    src = tmp_path / "a.jsonl"
    src.write_text(GOOD_JSONL)
    sink = StagedJsonLines(tmp_path / "out" / "a.jsonl", src)
    os.utime(sink.staging, (time.time() - 3600,) * 2)
    stale = _staging(tmp_path / "out", "b.jsonl")
    assert remove_stale(tmp_path / "out") == [stale]
    assert sink.staging.exists()
    sink.abort()
    assert _files(tmp_path / "out") == []


def test_a_killed_writers_staging_file_is_stale(tmp_path: Path) -> None:
    """SIGKILL a process holding a staging file's lock: its lock dies with it."""
    folder = tmp_path / "out"
    folder.mkdir()
    path = _staging(folder, "a.parquet")
    code = "import fcntl,sys,time; f=open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(600)"
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    assert remove_stale(folder) == []
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with open(path) as fh:  # the lock is free again
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fh, fcntl.LOCK_UN)
    assert remove_stale(folder) == [path]


# -- output that cannot be written --------------------------------------------------------------


def _mount_tmpfs(folder: Path, options: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")


@pytest.fixture
def mounts() -> Iterator[Callable[[Path, str], None]]:
    mounted: list[Path] = []

    def mount(folder: Path, options: str) -> None:
        _mount_tmpfs(folder, options)
        mounted.append(folder)

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], check=False)


def _big_jsonl(path: Path, rows: int = 4000) -> Path:
    path.write_text(
        "".join(json.dumps({"id": i, "email": f"user{i:05d}@example.com"}) + "\n" for i in range(rows))
    )
    return path


def test_unwritable_output_directory(tmp_path: Path, mounts) -> None:
    out = tmp_path / "ro"
    if os.geteuid() == 0:
        mounts(out, "ro,size=1m")
    else:
        out.mkdir()
        out.chmod(0o555)
    src = tmp_path / "a.jsonl"
    src.write_text(GOOD_JSONL)
    before = _sha(src)
    result = runner.invoke(
        app,
        [
            "protect",
            str(src),
            str(out / "a.jsonl"),
            "--no-orchestrator",
            "--evidence-dir",
            str(tmp_path / "ev"),
        ],
    )
    line = _one_line_error(result, f"cannot write the output {out / 'a.jsonl'}")
    assert "choose a writable output" in line
    assert _sha(src) == before and _files(out) == []


@pytest.mark.parametrize("name", ["a.jsonl", "a.csv", "a.parquet"])
def test_disk_full_mid_write(tmp_path: Path, mounts, name: str) -> None:
    out = tmp_path / "small"
    mounts(out, "size=64k")
    src = _big_jsonl(tmp_path / "a.jsonl")
    if name.endswith(".csv"):
        src = tmp_path / name
        src.write_text("id,email\n" + "".join(f"{i},user{i:05d}@example.com\n" for i in range(4000)))
    elif name.endswith(".parquet"):
        src = tmp_path / name
        pq.write_table(
            pa.table({"id": range(20000), "email": [f"user{i:05d}@example.com" for i in range(20000)]}),
            src,
            compression="none",
        )
    assert src.stat().st_size > 64 * 1024
    before = _sha(src)
    result = runner.invoke(
        app,
        ["protect", str(src), str(out / name), "--no-orchestrator", "--evidence-dir", str(tmp_path / "ev")],
    )
    _one_line_error(result, "(No space left on device); free space")
    assert _sha(src) == before and _files(out) == []


def test_file_size_limit_mid_write_in_a_real_process(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes writes past the limit fail (EFBIG) like a full disk;
    needs no privileges. SIGXFSZ is ignored so the write returns an error."""
    src = _big_jsonl(tmp_path / "a.jsonl", rows=6000)
    limit = 96 * 1024
    assert src.stat().st_size > limit
    before = _sha(src)
    out = tmp_path / "out"

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    cli = Path(sys.executable).with_name("ingestguard")
    done = subprocess.run(
        [
            str(cli),
            "protect",
            str(src),
            str(out / "a.jsonl"),
            "--no-orchestrator",
            "--evidence-dir",
            str(tmp_path / "ev"),
        ],
        capture_output=True,
        text=True,
        preexec_fn=limited,
        env={**os.environ, "INGESTGUARD_KEY": KEY, "INGESTGUARD_HOME": str(tmp_path / "home")},
        timeout=600,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "(File too large); free space (or raise the size limit)" in lines[0], (
        done.stderr
    )
    assert _sha(src) == before and _files(out) == []


def _open_files() -> set[str]:
    fds = Path("/proc/self/fd")
    return {os.readlink(fds / fd) for fd in os.listdir(fds) if (fds / fd).exists()}


def test_a_staging_file_published_by_another_process_releases_its_lock(tmp_path: Path) -> None:
    """A worker process stages, the run's main process renames: the worker must
    not keep a descriptor per published file."""
    from ingestguard.io import StagedJsonLines

    src = tmp_path / "a.jsonl"
    src.write_text(GOOD_JSONL)
    first = StagedJsonLines(tmp_path / "out" / "a.jsonl", src)
    first.write(open_source(src).take(["id", "email"], [0, 1]).to_batches()[0])
    first.close()
    published = tmp_path / "out" / "a.jsonl"
    os.replace(first.staging, published)  # as another process would publish it
    assert str(published) in _open_files()  # still held by this process
    second = StagedJsonLines(tmp_path / "out" / "b.jsonl", src)
    assert str(published) not in _open_files()
    assert str(second.staging) in _open_files()
    second.abort()
    assert (tmp_path / "out" / "a.jsonl").read_text() == GOOD_JSONL


def test_two_runs_writing_to_one_folder_keep_each_others_staging(tmp_path: Path) -> None:
    """Run A (a real process) is paused while it writes; run B into the same
    folder sweeps stale staging files and must leave A's alone; A then finishes."""
    out = tmp_path / "out"
    src_a = tmp_path / "a.jsonl"
    src_a.write_text(
        "".join(
            json.dumps({"id": i, "note": f"Customer {i} wrote from user{i}@example.com about order {i}"})
            + "\n"
            for i in range(1000)
        )
    )
    src_b = tmp_path / "b.jsonl"
    src_b.write_text(GOOD_JSONL)
    out.mkdir()
    stale = _staging(out, "old.jsonl")
    cli = Path(sys.executable).with_name("ingestguard")
    env = {**os.environ, "INGESTGUARD_KEY": KEY, "INGESTGUARD_HOME": str(tmp_path / "home")}
    args = [str(cli), "protect", str(src_a), str(out / "a.jsonl"), "--no-orchestrator"]
    run_a = subprocess.Popen([*args, "--evidence-dir", str(tmp_path / "ev")], env=env, stderr=subprocess.PIPE)
    try:
        staged: list[Path] = []
        deadline = time.monotonic() + 600  # a guard against hanging, not a measurement
        while run_a.poll() is None and not staged and time.monotonic() < deadline:
            staged = list(out.glob(".a.jsonl.*.partial"))
            time.sleep(0.02)
        if not staged:
            pytest.skip("run A finished before it could be paused while writing")
        run_a.send_signal(signal.SIGSTOP)
        result = runner.invoke(
            app,
            [
                "protect",
                str(src_b),
                str(out / "b.jsonl"),
                "--no-orchestrator",
                "--evidence-dir",
                str(tmp_path / "ev"),
            ],
        )
        assert result.exit_code == 0, result.output
        assert not stale.exists()  # B removed what a dead run left
        assert staged[0].exists()  # and kept what a live one is writing
    finally:
        run_a.send_signal(signal.SIGCONT)
        _, err = run_a.communicate(timeout=900)
    assert run_a.returncode == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["a.jsonl", "b.jsonl"]
    assert len((out / "a.jsonl").read_text().splitlines()) == 1000
