from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestguard.errors import InputError
from ingestguard.io import FilePair, ParquetSource, StagedParquet, TableSource, resolve_inputs


def _table(rows: int = 5) -> pa.Table:
    return pa.table({"id": pa.array(range(rows), pa.int64()), "name": [f"v{i}" for i in range(rows)]})


def _parquet(path: Path, rows: int = 5, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(_table(rows), path, **kwargs)
    return path


# -- resolve_inputs -------------------------------------------------------------------------------


def test_single_file_to_file(tmp_path: Path) -> None:
    src = _parquet(tmp_path / "in" / "a.parquet")
    out = tmp_path / "out" / "b.parquet"
    assert resolve_inputs(src, out) == [FilePair(src, out)]
    assert resolve_inputs(str(src), str(out)) == [FilePair(src, out)]


def test_single_file_to_directory_given_with_slash(tmp_path: Path) -> None:
    src = _parquet(tmp_path / "in" / "a.parquet")
    assert not (tmp_path / "out").exists()
    assert resolve_inputs(src, f"{tmp_path / 'out'}/") == [FilePair(src, tmp_path / "out" / "a.parquet")]


def test_single_file_to_existing_directory(tmp_path: Path) -> None:
    src = _parquet(tmp_path / "in" / "a.parquet")
    (tmp_path / "out").mkdir()
    assert resolve_inputs(src, tmp_path / "out") == [FilePair(src, tmp_path / "out" / "a.parquet")]


def test_directory_mirrors_nested_tree_and_takes_only_parquet(tmp_path: Path) -> None:
    root = tmp_path / "in"
    a = _parquet(root / "a.parquet")
    b = _parquet(root / "sub" / "b.parquet")
    c = _parquet(root / "sub" / "deeper" / "c.parquet")
    (root / "notes.txt").write_text("x")
    (root / "sub" / "b.parquet.bak").write_text("x")
    (root / "dir.parquet").mkdir()  # a directory with the suffix is not a file
    out = tmp_path / "out"
    assert resolve_inputs(root, out) == [
        FilePair(a, out / "a.parquet"),
        FilePair(b, out / "sub" / "b.parquet"),
        FilePair(c, out / "sub" / "deeper" / "c.parquet"),
    ]


def test_directory_without_data_files(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.txt").write_text("a,b\n")
    (tmp_path / "in" / "evidence.json").write_text("{}\n")  # .json only when named
    with pytest.raises(InputError, match="no .parquet, .jsonl or .csv files found under directory"):
        resolve_inputs(tmp_path / "in", tmp_path / "out")


def test_glob_mirrors_below_its_fixed_root(tmp_path: Path) -> None:
    root = tmp_path / "in"
    a = _parquet(root / "2024" / "a.parquet")
    b = _parquet(root / "2025" / "b.parquet")
    _parquet(root / "2025" / "skip.data")
    (root / "2026.parquet").mkdir()
    out = tmp_path / "out"
    assert resolve_inputs(f"{root}/*/*.parquet", out) == [
        FilePair(a, out / "2024" / "a.parquet"),
        FilePair(b, out / "2025" / "b.parquet"),
    ]
    assert resolve_inputs(f"{root}/**/*.parquet", out) == [
        FilePair(a, out / "2024" / "a.parquet"),
        FilePair(b, out / "2025" / "b.parquet"),
    ]
    assert resolve_inputs(f"{root}/202[4]/*.parquet", out) == [FilePair(a, out / "2024" / "a.parquet")]


def test_relative_glob(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _parquet(tmp_path / "a.parquet")
    monkeypatch.chdir(tmp_path)
    assert resolve_inputs("*.parquet", "out") == [FilePair(Path("a.parquet"), Path("out/a.parquet"))]


def test_glob_without_matches(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        resolve_inputs(f"{tmp_path}/*.parquet", tmp_path / "out")
    assert str(info.value) == f"no files match the pattern: {tmp_path}/*.parquet"


def test_existing_file_with_bracket_in_its_name(tmp_path: Path) -> None:
    src = _parquet(tmp_path / "report[1].parquet")
    out = tmp_path / "out.parquet"
    assert resolve_inputs(src, out) == [FilePair(src, out)]


def test_output_equal_to_input_file(tmp_path: Path) -> None:
    src = _parquet(tmp_path / "a.parquet")
    with pytest.raises(InputError) as info:
        resolve_inputs(src, src)
    assert str(info.value) == f"the output would overwrite the input {src}; choose another output"
    # The same file reached by another spelling, or as a directory output.
    with pytest.raises(InputError, match="would overwrite the input"):
        resolve_inputs(src, tmp_path / "." / "x" / ".." / "a.parquet")
    with pytest.raises(InputError, match="would overwrite the input"):
        resolve_inputs(src, f"{tmp_path}/")


def test_output_equal_to_glob_root(tmp_path: Path) -> None:
    _parquet(tmp_path / "a.parquet")
    with pytest.raises(InputError, match="would overwrite the input"):
        resolve_inputs(f"{tmp_path}/*.parquet", tmp_path)


@pytest.mark.parametrize("sub", [".", "out", "nested/out"])
def test_output_directory_inside_input_directory(tmp_path: Path, sub: str) -> None:
    root = tmp_path / "in"
    _parquet(root / "a.parquet")
    with pytest.raises(InputError) as info:
        resolve_inputs(root, root / sub)
    assert str(info.value) == "the output directory lies inside the input directory; choose another"


def test_output_directory_beside_input_with_shared_prefix_is_allowed(tmp_path: Path) -> None:
    a = _parquet(tmp_path / "in" / "a.parquet")
    assert resolve_inputs(tmp_path / "in", tmp_path / "in2") == [FilePair(a, tmp_path / "in2" / "a.parquet")]


def test_nonexistent_input(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        resolve_inputs(tmp_path / "missing.parquet", tmp_path / "out")
    assert str(info.value) == f"input not found: {tmp_path / 'missing.parquet'}"


# -- ParquetSource --------------------------------------------------------------------------------


def test_parquet_source_reads_schema_rows_and_batches(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "a.parquet", rows=25, row_group_size=10)
    source = ParquetSource(path)
    assert source.num_rows == 25
    assert source.schema == _table().schema
    assert source.name == str(path)
    batches = list(source.batches(["name"]))
    assert [b.schema.names for b in batches] == [["name"]] * len(batches)
    assert sum(b.num_rows for b in batches) == 25
    assert pa.Table.from_batches(batches).column("name").to_pylist() == [f"v{i}" for i in range(25)]
    assert len(source.sha256()) == 64


def test_parquet_source_on_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^input not found: "):
        ParquetSource(tmp_path / "missing.parquet")


def test_parquet_source_on_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    path.touch()
    with pytest.raises(InputError) as info:
        ParquetSource(path)
    assert str(info.value) == f"input is an empty file (0 bytes): {path}"


def test_parquet_source_on_text_file(tmp_path: Path) -> None:
    path = tmp_path / "text.parquet"
    path.write_text("id,name\n1,jane\n" * 20)
    with pytest.raises(InputError) as info:
        ParquetSource(path)
    assert str(info.value) == (
        f"input is not a readable Parquet file (bad magic bytes or truncated footer): {path}"
    )


def test_parquet_source_on_truncated_file(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "cut.parquet", rows=200)
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(InputError) as info:
        ParquetSource(path)
    assert str(info.value) == (
        f"input is not a readable Parquet file (bad magic bytes or truncated footer): {path}"
    )


@pytest.mark.parametrize(
    "rows",
    [
        [0],
        [9, 10],
        [0, 5, 19, 20, 21, 39, 44],
        [44],
        list(range(45)),
        [],
    ],
)
def test_parquet_take_across_row_groups(tmp_path: Path, rows: list[int]) -> None:
    path = _parquet(tmp_path / "rg.parquet", rows=45, row_group_size=10)
    source = ParquetSource(path)
    assert pq.ParquetFile(path).metadata.num_row_groups == 5
    got = source.take(["name", "id"], rows)
    assert got.schema.names == ["name", "id"]
    assert got.column("id").to_pylist() == rows
    assert got.column("name").to_pylist() == [f"v{i}" for i in rows]


def test_table_source_take_matches_parquet_take(tmp_path: Path) -> None:
    table = _table(45)
    rows = [1, 12, 30, 44]
    assert TableSource(table).take(["name"], rows).column("name").to_pylist() == ["v1", "v12", "v30", "v44"]
    parquet = ParquetSource(_parquet(tmp_path / "t.parquet", rows=45, row_group_size=10))
    assert parquet.take(["name"], rows).to_pylist() == TableSource(table).take(["name"], rows).to_pylist()
    assert TableSource(table).sha256() is None
    assert sum(b.num_rows for b in TableSource(table).batches()) == 45


# -- StagedParquet --------------------------------------------------------------------------------


def test_staged_abort_leaves_nothing(tmp_path: Path) -> None:
    destination = tmp_path / "out" / "a.parquet"
    staged = StagedParquet(destination, _table().schema)
    assert staged.staging.parent == destination.parent
    assert staged.staging.name.startswith(".a.parquet.")
    assert staged.staging.name.endswith(".partial")
    staged.write(_table(5).to_batches()[0])
    assert staged.rows == 5
    assert staged.staging.exists()
    assert not destination.exists()
    staged.abort()
    assert not destination.exists()
    assert not staged.staging.exists()
    assert os.listdir(destination.parent) == []


def test_staged_close_then_commit(tmp_path: Path) -> None:
    from ingestguard.io import commit_staged

    destination = tmp_path / "a.parquet"
    staged = StagedParquet(destination, _table().schema)
    staged.write(_table(7).to_batches()[0])
    staged.close()
    assert not destination.exists()
    commit_staged(staged.staging, destination)
    assert not staged.staging.exists()
    assert pq.read_table(destination).equals(_table(7))
