"""The library inside ML code: Arrow streams, pandas, Polars, HF datasets, texts.

Every adapter is checked on data with seeded values: none is left in the
output, rows keep their order, the schema is kept, and the evidence names the
input and output by their content digests.
"""

from __future__ import annotations

import os

# Set before `datasets` is imported: it reads them once. No hub, no network.
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import pandas as pd
import pyarrow as pa
import pytest

from ingestguard import Guard, Policy, PolicyViolation
from ingestguard.convert import digest_of
from ingestguard.digest import content_digest
from ingestguard.errors import InputError, StreamNotFinishedError
from ingestguard.reports.ledger import read_records

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))


def seeded(rows: int, start: int = 0) -> pa.Table:
    """An id column (kept, shows row order), an email column and a free-text note with the same email."""
    ids = list(range(start, start + rows))
    emails = [f"person{i}.seed@example.org" for i in ids]
    notes = [f"row {i}: please write to person{i}.seed@example.org about order {7000 + i}" for i in ids]
    return pa.table({"id": pa.array(ids, pa.int64()), "email": emails, "note": notes})


def leaked(values: list, rows: range) -> list[str]:
    text = " ".join(str(v) for v in values)
    return [f"person{i}.seed@example.org" for i in rows if f"person{i}.seed@example.org" in text]


# -- the content digest ------------------------------------------------------


def test_content_digest_is_the_same_however_the_data_is_chunked_or_typed():
    table = seeded(300)
    rechunked = pa.concat_tables([table.slice(0, 7), table.slice(7, 200), table.slice(207)])
    assert rechunked.column("email").num_chunks == 3
    large = table.cast(pa.schema([("id", pa.int32()), ("email", pa.large_string()), ("note", pa.string_view())]))
    with_metadata = table.replace_schema_metadata({"origin": "test"})
    digests = {content_digest(t) for t in (table, rechunked, large, with_metadata)}
    assert digests == {content_digest(table)}
    assert digest_of(table.to_pandas()) == (content_digest(table), 300)


def test_content_digest_changes_with_a_value_the_order_or_a_name():
    table = seeded(50)
    changed = table.set_column(1, "email", pa.array(["x" + e for e in table.column("email").to_pylist()]))
    reordered = table.take(pa.array(list(reversed(range(50)))))
    renamed = table.rename_columns(["id", "mail", "note"])
    as_text = table.set_column(0, "id", pa.array([str(i) for i in range(50)]))
    digests = [content_digest(t) for t in (table, changed, reordered, renamed, as_text)]
    assert len(set(digests)) == 5


# -- Arrow -------------------------------------------------------------------


def test_record_batch_comes_back_as_a_protected_record_batch():
    batch = seeded(40).to_batches()[0]
    out, evidence = Guard().protect(batch)
    assert isinstance(out, pa.RecordBatch)
    assert out.column(0).to_pylist() == list(range(40))
    assert not leaked(out.column(1).to_pylist() + out.column(2).to_pylist(), range(40))
    assert evidence.files[0].input_sha256 == content_digest(batch)
    assert evidence.files[0].output_sha256 == content_digest(out)


def test_reader_streams_protected_batches_and_evidence_only_after_the_end():
    pulled = []

    def batches():
        for start in range(0, 3000, 250):
            pulled.append(start)
            yield seeded(250, start).to_batches()[0]

    schema = seeded(1).schema
    reader, pending = Guard().protect(pa.RecordBatchReader.from_batches(schema, batches()))
    assert isinstance(reader, pa.RecordBatchReader)
    # Planning read only the head of the stream (sampling.size = 1000 rows), not the whole.
    assert pulled == [0, 250, 500, 750]
    with pytest.raises(StreamNotFinishedError):
        pending.result()
    first = reader.read_next_batch()
    assert not pending.done
    rest = list(reader)
    out = pa.Table.from_batches([first, *rest])
    evidence = pending.result()
    assert out.column("id").to_pylist() == list(range(3000))
    assert out.schema.names == schema.names
    assert not leaked(out.column("email").to_pylist() + out.column("note").to_pylist(), range(3000))
    assert evidence.status == "passed" and evidence.files[0].rows == evidence.files[0].output_rows == 3000
    whole = pa.concat_tables(seeded(250, s) for s in range(0, 3000, 250))
    assert evidence.files[0].input_sha256 == content_digest(whole)
    assert evidence.files[0].output_sha256 == content_digest(out)


def test_a_stream_stops_before_a_batch_that_fails_and_records_the_failed_run(tmp_path):
    policy = Policy(actions={"US_SSN": "keep"}, fail_on=["US_SSN"])
    clean = pa.table({"id": [1, 2], "note": ["nothing here", "nor here"]})
    bad = pa.table({"id": [3], "note": ["my ssn is 078-05-1120"]})
    reader = pa.RecordBatchReader.from_batches(clean.schema, [*clean.to_batches(), *bad.to_batches()])
    ledger = tmp_path / "ev" / "ledger.jsonl"
    out, pending = Guard(policy, ledger=ledger).protect(reader)
    received = []
    with pytest.raises(PolicyViolation, match="US_SSN"):
        for batch in out:
            received.append(batch)
    assert sum(b.num_rows for b in received) == 2
    assert pending.result().status == "failed"
    assert [r["status"] for r in read_records(ledger)] == ["failed"]


def test_what_protect_cannot_take_is_a_typed_error_naming_the_type():
    with pytest.raises(InputError, match="got dict"):
        Guard().protect({"email": ["a@example.org"]})
    datasets = pytest.importorskip("datasets", reason="datasets is in the ml extra")
    with pytest.raises(InputError, match="protect_dataset"):
        Guard().protect(datasets.Dataset.from_dict({"email": ["a@example.org"]}))


# -- pandas ------------------------------------------------------------------


def test_pandas_object_column_mixing_strings_and_numbers_is_scanned_as_text():
    values = ["ann.seed@example.org", 42, 3.5, None, "plain words", "bob.seed@example.org", 7] * 10
    df = pd.DataFrame({"ref": values, "n": range(70)})
    with pytest.raises(pa.ArrowTypeError):
        pa.Table.from_pandas(df)  # what the guard must not let escape
    out, evidence = Guard().protect(df)
    assert out["ref"].dtype == object
    assert out["ref"].tolist()[1:5] == [42, 3.5, None, "plain words"]
    assert isinstance(out["ref"][1], int) and isinstance(out["ref"][2], float)
    assert not {"ann.seed@example.org", "bob.seed@example.org"} & set(map(str, out["ref"]))
    assert out["n"].tolist() == list(range(70))
    assert evidence.files[0].columns[0].name == "ref"
    assert evidence.files[0].output_sha256 == digest_of(out)[0]


def test_dataframe_with_two_columns_of_one_name_is_a_typed_error():
    df = pd.DataFrame([[1, "a@example.org"]], columns=["x", "x"])
    with pytest.raises(InputError, match="same name"):
        Guard().protect(df)


# -- Polars ------------------------------------------------------------------


def test_polars_dataframe_comes_back_as_polars():
    pl = pytest.importorskip("polars", reason="polars is in the ml extra")
    df = pl.from_arrow(seeded(60))
    out, evidence = Guard().protect(df)
    assert isinstance(out, pl.DataFrame)
    assert out.columns == df.columns and out["id"].to_list() == list(range(60))
    assert not leaked(out["email"].to_list() + out["note"].to_list(), range(60))
    assert evidence.files[0].input_sha256 == content_digest(seeded(60))
    assert evidence.files[0].output_sha256 == digest_of(out)[0]


# -- Hugging Face datasets ---------------------------------------------------


def test_protect_dataset_keeps_features_columns_and_row_order():
    datasets = pytest.importorskip("datasets", reason="datasets is in the ml extra")
    ds = datasets.Dataset.from_dict(seeded(120).to_pydict()).shuffle(seed=3)
    order = ds["id"]
    out, evidence = Guard().protect_dataset(ds)
    assert isinstance(out, datasets.Dataset)
    assert out.features == ds.features and out.column_names == ds.column_names
    assert out["id"] == order
    assert not leaked(list(out["email"]) + list(out["note"]), range(120))
    assert evidence.files[0].input_sha256 == digest_of(ds)[0]
    assert evidence.files[0].output_sha256 == digest_of(out)[0]
    assert evidence.files[0].rows == 120


def test_batch_function_protects_each_batch_of_a_map_and_adds_up_the_evidence(tmp_path):
    datasets = pytest.importorskip("datasets", reason="datasets is in the ml extra")
    ds = datasets.Dataset.from_dict(seeded(130).to_pydict())
    ledger = tmp_path / "ev" / "ledger.jsonl"
    fn = Guard(ledger=ledger).batch_function()
    out = ds.map(fn, batched=True, batch_size=50, load_from_cache_file=False)
    with pytest.raises(StreamNotFinishedError):
        fn.evidence.result()
    evidence = fn.finish()
    assert out["id"] == list(range(130)) and out.column_names == ds.column_names
    assert not leaked(list(out["email"]) + list(out["note"]), range(130))
    assert evidence.files[0].rows == 130
    assert evidence.files[0].columns[1].findings == {"EMAIL_ADDRESS": 130}
    assert evidence.files[0].output_sha256 == digest_of(out)[0]
    assert [r["run_id"] for r in read_records(ledger)] == [evidence.run_id]


# -- texts -------------------------------------------------------------------


def test_iter_protected_yields_in_order_and_reads_the_iterable_lazily():
    pulled = 0

    def lines():
        nonlocal pulled
        for i in range(2500):
            pulled += 1
            yield f"line {i}: ask person{i}.seed@example.org"

    texts = Guard().iter_protected(lines(), batch_size=1000)
    first = next(texts)
    assert pulled == 1000  # one batch read, not the whole generator
    assert first.startswith("line 0: ask ") and "person0.seed@example.org" not in first
    rest = list(texts)
    out = [first, *rest]
    assert len(out) == 2500
    assert [t.split(":")[0] for t in out] == [f"line {i}" for i in range(2500)]
    assert not leaked(out, range(2500))
    evidence = texts.evidence.result()
    assert evidence.files[0].rows == 2500
    assert evidence.files[0].columns[0].findings == {"EMAIL_ADDRESS": 2500}


def test_iter_protected_refuses_what_is_not_a_string_without_quoting_it():
    with pytest.raises(InputError, match="item 1 is a int") as err:
        list(Guard().iter_protected(["fine", 123456789]))
    assert "123456789" not in str(err.value)


def test_torch_iterable_dataset_yields_protected_texts():
    from ingestguard.torch_data import ProtectedTextDataset

    data = ProtectedTextDataset(Guard(), [f"mail person{i}.seed@example.org" for i in range(5)], batch_size=2)
    out = list(data)
    assert len(out) == 5 and all(t.startswith("mail EMAIL_ADDRESS_") for t in out)
    assert not leaked(out, range(5))
    assert data.evidence.files[0].rows == 5
    torch = pytest.importorskip("torch", reason="torch is optional (not in the ml extra: its wheel is 555 MB)")
    assert isinstance(data, torch.utils.data.IterableDataset)
    loader = torch.utils.data.DataLoader(data, batch_size=None)
    assert not leaked(list(loader), range(5))
