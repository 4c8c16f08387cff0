"""datafog-core as a whole process, Parquet in and out (the issue-9 peer).

    .venv/bin/python -m benchmarks.datafog_peer SRC DST [--entities EMAIL PHONE ...]

Every string value of every batch goes through `datafog_core.scan_and_transform` with
the redact strategy (`[PHONE]`, `[EMAIL]`, ...); other columns pass through. Without
`--entities`, datafog-core's default entity set (which adds DATE, ZIP_CODE, API keys, ...).
Only pyarrow and datafog_core are imported, so the process start is its own.
"""

from __future__ import annotations

import argparse

import datafog_core
import pyarrow as pa
import pyarrow.parquet as pq

# ingestguard's patterns-only entities, in datafog-core's names.
FIVE = ("EMAIL", "PHONE", "SSN", "CREDIT_CARD", "IP_ADDRESS")


def redact_file(src: str, dst: str, entities: list[str] | None) -> int:
    config: dict = {"transform": {"default": {"strategy": "redact"}}}
    if entities:
        config["scan"] = {"entities": entities}
    rows = 0
    pf = pq.ParquetFile(src)
    with pq.ParquetWriter(dst, pf.schema_arrow) as writer:
        for batch in pf.iter_batches():
            arrays = []
            for field, column in zip(batch.schema, batch.columns, strict=True):
                if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
                    out = [
                        None if v is None else datafog_core.scan_and_transform(v, config).text
                        for v in column.to_pylist()
                    ]
                    column = pa.array(out, field.type)
                arrays.append(column)
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=batch.schema))
            rows += batch.num_rows
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--entities", nargs="*", default=None, help="datafog-core entity names (default: its own)")
    a = p.parse_args(argv)
    redact_file(a.src, a.dst, a.entities)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
