"""Nested and binary columns seen as flat text leaves, and rebuilt from them.

Detectors and transforms work on flat string arrays. A `list`, `struct` or
`map` column (at any depth) keeps its strings in child arrays, so this module
names each leaf by a path, hands out a text leaf's flat values, and rebuilds
the column around replaced leaves with the same offsets, validity and
non-text children. A leaf that comes back unchanged leaves its column
untouched (the very same array), so only what was protected is rebuilt.

Paths: a struct field is `contact.email`, a list element `tags[]` (also for
large and fixed-size lists), a map's keys and values `attrs{}.key` and
`attrs{}.value`; they compose (`messages[].content`).

Binary leaves hold text when their bytes are UTF-8: `as_text` decodes them for
the detectors (refusing, with the path and never a value, when they are not)
and `restore` gives a protected leaf its original type back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa
import pyarrow.compute as pc

from ingestguard.errors import ScanError

LeafFunction = Callable[[str, pa.Array], pa.Array]


class LeafKind(StrEnum):
    TEXT = "text"  # string, large_string, string_view, dictionary-encoded strings, the JSON extension type
    BINARY = "binary"  # binary, large_binary, binary_view: text when the bytes are UTF-8
    NO_TEXT = "no_text"  # numbers, dates, booleans, nulls: nothing to read
    OPAQUE = "opaque"  # may carry text the guard cannot read (fixed-size binary, unions, list views, ...)


@dataclass(frozen=True)
class Leaf:
    path: str
    type: pa.DataType
    kind: LeafKind


def _is_text(dtype: pa.DataType) -> bool:
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype)


def _is_binary(dtype: pa.DataType) -> bool:
    return pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype) or pa.types.is_binary_view(dtype)


def is_container(dtype: pa.DataType) -> bool:
    """The types whose children this module walks."""
    return (
        pa.types.is_struct(dtype)
        or pa.types.is_map(dtype)
        or pa.types.is_list(dtype)
        or pa.types.is_large_list(dtype)
        or pa.types.is_fixed_size_list(dtype)
    )


def leaf_kind(dtype: pa.DataType) -> LeafKind:
    """What a non-container type holds, as far as text goes."""
    if isinstance(dtype, pa.JsonType):
        return LeafKind.TEXT
    if pa.types.is_dictionary(dtype):
        value = dtype.value_type
        if _is_text(value):
            return LeafKind.TEXT
        if _is_binary(value):
            return LeafKind.BINARY
        return LeafKind.NO_TEXT if _holds_no_text(value) else LeafKind.OPAQUE
    if _is_text(dtype):
        return LeafKind.TEXT
    if _is_binary(dtype):
        return LeafKind.BINARY
    return LeafKind.NO_TEXT if _holds_no_text(dtype) else LeafKind.OPAQUE


def _holds_no_text(dtype: pa.DataType) -> bool:
    """True for types that cannot carry a string anywhere inside them."""
    if isinstance(dtype, pa.BaseExtensionType) or pa.types.is_fixed_size_binary(dtype):
        return False
    if _is_text(dtype) or _is_binary(dtype) or pa.types.is_dictionary(dtype):
        return False
    return all(_holds_no_text(dtype.field(i).type) for i in range(dtype.num_fields))


def _type_children(dtype: pa.DataType) -> list[tuple[str, pa.DataType]]:
    if pa.types.is_struct(dtype):
        return [(f".{f.name}", f.type) for f in dtype]
    if pa.types.is_map(dtype):
        return [("{}.key", dtype.key_type), ("{}.value", dtype.item_type)]
    return [("[]", dtype.value_type)]


def leaves(name: str, dtype: pa.DataType) -> list[Leaf]:
    """Every leaf of a column's type with its path, in schema order."""
    if not is_container(dtype):
        return [Leaf(name, dtype, leaf_kind(dtype))]
    return [leaf for suffix, child in _type_children(dtype) for leaf in leaves(name + suffix, child)]


def _children(array: pa.Array) -> list[tuple[str, pa.Array]]:
    """The child arrays of one container array, cut to the rows it covers.

    List and map children are taken between the first and last offsets, so a
    sliced array yields only its own values, and values under a null list (which
    Arrow allows) are read and rebuilt too rather than left unscanned. Struct
    fields carry the struct's nulls.
    """
    dtype = array.type
    if pa.types.is_struct(dtype):
        # flatten(): a field is null wherever its struct is, so a placeholder Arrow
        # keeps under a null struct is neither sampled nor counted.
        return [(f".{f.name}", child) for f, child in zip(dtype, array.flatten(), strict=True)]
    if pa.types.is_fixed_size_list(dtype):
        size = dtype.list_size
        return [("[]", array.values.slice(array.offset * size, len(array) * size))]
    first, last = array.offsets[0].as_py(), array.offsets[-1].as_py()
    if pa.types.is_map(dtype):
        return [
            ("{}.key", array.keys.slice(first, last - first)),
            ("{}.value", array.items.slice(first, last - first)),
        ]
    return [("[]", array.values.slice(first, last - first))]


def _assemble(array: pa.Array, children: list[pa.Array]) -> pa.Array:
    """`array` with new children: the same type, lengths and validity."""
    dtype = array.type
    mask = array.is_null() if array.null_count else None
    if pa.types.is_struct(dtype):
        return pa.StructArray.from_arrays(children, fields=list(dtype), mask=mask)
    if pa.types.is_fixed_size_list(dtype):
        return pa.FixedSizeListArray.from_arrays(children[0], type=dtype, mask=mask)
    # Fresh offsets from 0: the constructors take no sliced offsets together with a mask.
    offsets = pc.subtract(array.offsets, array.offsets[0])
    if pa.types.is_map(dtype):
        return pa.MapArray.from_arrays(offsets, children[0], children[1], type=dtype, mask=mask)
    return type(array).from_arrays(offsets, children[0], type=dtype, mask=mask)


def text_leaves(array: pa.Array, name: str) -> Iterator[tuple[str, pa.Array]]:
    """(path, flat values) of every text and binary leaf of one column's array."""
    if is_container(array.type):
        if len(array):
            for suffix, child in _children(array):
                yield from text_leaves(child, name + suffix)
    elif leaf_kind(array.type) in (LeafKind.TEXT, LeafKind.BINARY):
        yield name, array


def map_leaves(array: pa.Array, name: str, fn: LeafFunction) -> pa.Array:
    """The column with each text and binary leaf replaced by `fn(path, values)`,
    which must return an array of the leaf's type and length. Non-text leaves,
    offsets and validity stay as they are; an unchanged leaf (`fn` returning its
    argument) rebuilds nothing."""
    if not is_container(array.type):
        if leaf_kind(array.type) in (LeafKind.TEXT, LeafKind.BINARY):
            return fn(name, array)
        return array
    if not len(array):
        return array
    parts = _children(array)
    rebuilt = [map_leaves(child, name + suffix, fn) for suffix, child in parts]
    if all(new is old for new, (_, old) in zip(rebuilt, parts, strict=True)):
        return array
    return _assemble(array, rebuilt)


def as_text(values: pa.Array, path: str, column: str) -> pa.Array:
    """A leaf's values as strings; binary leaves must decode as UTF-8 in full
    (`column`, the top-level name, is what the policy can skip or drop)."""
    if isinstance(values.type, pa.JsonType):
        values = values.storage
    if pa.types.is_dictionary(values.type) and _is_binary(values.type.value_type):
        values = values.dictionary_decode()
    if pa.types.is_string_view(values.type):  # few compute kernels (take) read views yet
        return values.cast(pa.large_string())
    if not _is_binary(values.type):
        return values
    try:
        return values.cast(pa.large_string())
    except pa.ArrowInvalid:
        raise ScanError(
            f"column '{path}' holds bytes that are not UTF-8 text, which ingestguard cannot scan; "
            f"set columns.{column} to drop_column or skip in the policy"
        ) from None


def restore(values: pa.Array, dtype: pa.DataType) -> pa.Array:
    """Protected text back in its leaf's type (binary stays binary, dictionaries re-encode)."""
    if values.type == dtype:
        return values
    if isinstance(dtype, pa.JsonType):
        return pa.ExtensionArray.from_storage(dtype, restore(values, dtype.storage_type))
    if pa.types.is_dictionary(dtype):
        return restore(values, dtype.value_type).cast(dtype)
    if _is_binary(dtype):
        return values.cast(pa.large_binary()).cast(dtype)
    return values.cast(dtype)


def relaxed(dtype: pa.DataType) -> pa.DataType:
    """The type with every nested field nullable: a redacted leaf holds nulls."""
    if pa.types.is_struct(dtype):
        return pa.struct([f.with_type(relaxed(f.type)).with_nullable(True) for f in dtype])
    if pa.types.is_map(dtype):
        item = dtype.item_field
        return pa.map_(
            dtype.key_field, item.with_type(relaxed(item.type)).with_nullable(True), dtype.keys_sorted
        )
    if is_container(dtype):
        value = dtype.value_field.with_type(relaxed(dtype.value_type)).with_nullable(True)
        if pa.types.is_fixed_size_list(dtype):
            return pa.list_(value, dtype.list_size)
        return pa.large_list(value) if pa.types.is_large_list(dtype) else pa.list_(value)
    return dtype
