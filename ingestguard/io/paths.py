"""Which files an input names, where each one's output goes, and file digests."""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ingestguard.errors import InputError

_GLOB_CHARS = set("*?[")
# What a directory input picks up. `.json` files are taken only when named
# (a file or a glob): a folder of outputs also holds evidence `.json` files,
# which are documents, not JSON lines.
DIRECTORY_SUFFIXES = (".parquet", ".jsonl", ".csv")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_input_file(path: Path) -> int:
    """The size of an input file that exists and is not empty; InputError otherwise."""
    if not path.is_file():
        raise InputError(f"input not found: {path}")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"input is an empty file (0 bytes): {path}")
    return size


def is_parquet(path: Path) -> bool:
    """Whether the file starts with Parquet's magic bytes, whatever its suffix."""
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"


@dataclass(frozen=True)
class FilePair:
    """One input file and where its protected copy goes."""

    source: Path
    destination: Path


def list_inputs(input_path: str | Path) -> tuple[list[Path], Path]:
    """The data files a file, directory or glob names, and the folder they are relative to."""
    text = str(input_path)
    if _GLOB_CHARS & set(text) and not Path(text).exists():
        files = sorted(Path(m) for m in glob.glob(text, recursive=True) if Path(m).is_file())
        if not files:
            raise InputError(f"no files match the pattern: {text}")
        return files, Path(_glob_root(text))
    source = Path(text)
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in DIRECTORY_SUFFIXES and p.is_file())
        if not files:
            raise InputError(f"no .parquet, .jsonl or .csv files found under directory: {source}")
        return files, source
    if not source.exists():
        raise InputError(f"input not found: {source}")
    return [source], source.parent


def resolve_inputs(input_path: str | Path, output_path: str | Path) -> list[FilePair]:
    """Expand a file, directory or glob into (input, output) pairs.

    A directory or glob output mirrors the input tree under `output_path`; a
    single file goes into `output_path` when that is a directory or ends in "/".
    The output may never be, or lie inside, the input: protecting in place
    would destroy the original on the first bug.
    """
    files, base = list_inputs(input_path)
    output = Path(output_path)
    single = len(files) == 1 and files[0] == Path(str(input_path))
    if single and not (output.is_dir() or str(output_path).endswith(("/", os.sep))):
        pairs = [FilePair(files[0], output)]
    elif single:
        pairs = [FilePair(files[0], output / files[0].name)]
    else:
        if Path(str(input_path)).is_dir() and _inside(output, base):
            raise InputError("the output directory lies inside the input directory; choose another")
        pairs = [FilePair(f, output / f.relative_to(base)) for f in files]
    for pair in pairs:
        if pair.destination.resolve() == pair.source.resolve():
            raise InputError(f"the output would overwrite the input {pair.source}; choose another output")
    return pairs


def _glob_root(pattern: str) -> str:
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if _GLOB_CHARS & set(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."


def _inside(child: Path, parent: Path) -> bool:
    return child.resolve().is_relative_to(parent.resolve())
