"""JSON documents held in a text column, seen as string leaves by path.

A column whose sampled values all parse as JSON objects or arrays is planned
like a nested column: each path that holds strings (`payload$.user.email`,
`payload$.items[].name`) is classified like a column of its own. Protection
replaces those strings inside the parsed documents and writes the documents
back, so the JSON stays valid and keeps its keys and non-string values.

Paths: the column's path, `$`, then `.key` for an object member and `[]` for
an array element. `<column>$*` stands for everything the sample did not show:
strings at other paths, and values that are not JSON documents at all; they
are scanned in full.

A document is written back only when one of its strings changed; it is then
serialized again (same keys in the same order, same values; whitespace and
the spelling of numbers may differ from the input).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa

Json = dict[str, Any] | list[Any]
OTHER = "$*"


def parse(text: str | None) -> Json | None:
    """The document a value holds, or None when it is not a JSON object or array."""
    if not text or text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict | list) else None


def holds_json(values: Sequence[str]) -> bool:
    """Whether a column's sampled values are JSON documents: every non-blank one parses."""
    filled = [v for v in values if v.strip()]
    return bool(filled) and all(parse(v) is not None for v in filled)


def _strings(doc: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(doc, str):
        yield path, doc
    elif isinstance(doc, dict):
        for key, value in doc.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(doc, list):
        for value in doc:
            yield from _strings(value, f"{path}[]")


def _filled(doc: Any, strings: Iterator[str | None]) -> Any:
    """`doc` with its strings taken in turn from `strings`, in the order `_strings` reads them."""
    if isinstance(doc, str):
        return next(strings)
    if isinstance(doc, dict):
        return {key: _filled(value, strings) for key, value in doc.items()}
    if isinstance(doc, list):
        return [_filled(value, strings) for value in doc]
    return doc


class Documents:
    """The values of one text array, parsed once, with their strings grouped by path."""

    def __init__(self, values: Sequence[str | None], name: str) -> None:
        self.name = name
        self.texts = list(values)
        self.docs = [parse(v) for v in self.texts]
        self.leaves: dict[str, list[str]] = {}
        for text, doc in zip(self.texts, self.docs, strict=True):
            if doc is not None:
                for path, value in _strings(doc, name + "$"):
                    self.leaves.setdefault(path, []).append(value)
            elif text is not None:  # not a document: the whole value is one string
                self.leaves.setdefault(name + OTHER, []).append(text)

    def rebuild(self, fn: Callable[[str, pa.Array], pa.Array]) -> list[str | None]:
        """The values with each leaf's strings replaced by `fn(path, strings)`;
        a value none of whose strings changed is returned exactly as it came."""
        new = {
            path: iter(fn(path, pa.array(strings, pa.large_string())).to_pylist())
            for path, strings in self.leaves.items()
        }
        out: list[str | None] = []
        for text, doc in zip(self.texts, self.docs, strict=True):
            if doc is None:
                out.append(text if text is None else next(new[self.name + OTHER]))
                continue
            old = list(_strings(doc, self.name + "$"))
            fresh = [next(new[path]) for path, _ in old]
            if fresh == [value for _, value in old]:
                out.append(text)
            else:
                out.append(json.dumps(_filled(doc, iter(fresh)), ensure_ascii=False))
        return out
