"""The action registry: one small class per policy action, in an explicit table.

An action answers one question, what replaces this value of this entity type,
for one value (`apply`, used on spans inside free text) and for a whole Arrow
array of distinct values (`apply_array`, used on entity columns). `None`
means the value is removed (a null cell, or an empty span).
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from ingestguard.keys import Key
from ingestguard.policy import Action, Policy
from ingestguard.transforms.crypto import Pseudonymizer
from ingestguard.transforms.generalize import DateShifter, Generalizer, shift_date
from ingestguard.transforms.reversible import FpeCipher, Tokenizer, VersionedKeys
from ingestguard.transforms.synthesize import Synthesizer

_TEXT = pa.large_string()


class Transform:
    name: Action

    def apply(self, value: str, entity: str) -> str | None:
        raise NotImplementedError

    def apply_array(self, values: pa.Array, entity: str) -> pa.Array:
        """Vectorized where Arrow can do it; this default goes value by value."""
        return pa.array([None if v is None else self.apply(v, entity) for v in values.to_pylist()], _TEXT)


class Redact(Transform):
    name = Action.REDACT

    def apply(self, value: str, entity: str) -> str | None:
        return None

    def apply_array(self, values: pa.Array, entity: str) -> pa.Array:
        return pa.nulls(len(values), _TEXT)


class DropColumn(Redact):
    """Whole columns are dropped by the pipeline; inside free text it redacts."""

    name = Action.DROP_COLUMN


class Replace(Transform):
    name = Action.REPLACE

    def apply(self, value: str, entity: str) -> str | None:
        return f"<{entity}>"

    def apply_array(self, values: pa.Array, entity: str) -> pa.Array:
        return pc.if_else(pc.is_valid(values), pa.scalar(f"<{entity}>", _TEXT), pa.scalar(None, _TEXT))


class Mask(Transform):
    name = Action.MASK

    def __init__(self, keep_last: int, char: str) -> None:
        self.keep_last = keep_last
        self.char = char

    def apply(self, value: str, entity: str) -> str | None:
        # Keep the tail only when at least as much is masked as is kept.
        keep = self.keep_last if len(value) > 2 * self.keep_last else 0
        return self.char * (len(value) - keep) + (value[-keep:] if keep else "")

    def apply_array(self, values: pa.Array, entity: str) -> pa.Array:
        values = values.cast(_TEXT)
        length = pc.utf8_length(values)
        keep = pc.if_else(pc.greater(length, 2 * self.keep_last), self.keep_last, 0)
        stars = pc.binary_repeat(pa.scalar(self.char, _TEXT), pc.subtract(length, keep))
        if not self.keep_last:
            return stars
        empty = pa.scalar("", _TEXT)
        tail = pc.if_else(pc.greater(keep, 0), pc.utf8_slice_codeunits(values, -self.keep_last), empty)
        return pc.binary_join_element_wise(stars, tail, empty)


class Pseudonymize(Transform):
    name = Action.PSEUDONYMIZE

    def __init__(self, pseudonymizer: Pseudonymizer) -> None:
        self.pseudonymizer = pseudonymizer

    def apply(self, value: str, entity: str) -> str | None:
        return self.pseudonymizer.token(entity, value)


class Keep(Transform):
    name = Action.KEEP

    def apply(self, value: str, entity: str) -> str | None:
        return value

    def apply_array(self, values: pa.Array, entity: str) -> pa.Array:
        return values.cast(_TEXT)


class Tokenize(Transform):
    """`tok_<ENTITY>_v<N>_...`: reversible, authenticated (transforms/reversible.py)."""

    name = Action.TOKENIZE

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer

    def apply(self, value: str, entity: str) -> str | None:
        return self.tokenizer.token(entity, value)

    def apply_array(self, values: pa.Array, entity: str) -> pa.Array:
        return _per_value(values, lambda present: self.tokenizer.tokens(entity, present))


class Fpe(Transform):
    """FF1 format-preserving encryption; the key version is `cipher.key_version`
    (the output cannot say it: record it with the output)."""

    name = Action.FPE

    def __init__(self, cipher: FpeCipher) -> None:
        self.cipher = cipher

    def apply(self, value: str, entity: str) -> str | None:
        return self.cipher.encrypt(entity, value)

    def apply_array(self, values: pa.Array, entity: str) -> pa.Array:
        return _per_value(values, lambda present: self.cipher.encrypt_many(entity, present))


class Synthesize(Transform):
    """A keyed, realistic fake of the same entity type."""

    name = Action.SYNTHESIZE

    def __init__(self, synthesizer: Synthesizer) -> None:
        self.synthesizer = synthesizer

    def apply(self, value: str, entity: str) -> str | None:
        return self.synthesizer.fake(entity, value)

    def apply_array(self, values: pa.Array, entity: str) -> pa.Array:
        return _per_value(values, lambda present: self.synthesizer.fakes(entity, present))


class Generalize(Transform):
    """Dates to month or year, ages to bands, postal codes to prefixes, coordinates to a grid."""

    name = Action.GENERALIZE

    def __init__(self, generalizer: Generalizer) -> None:
        self.generalizer = generalizer

    def apply(self, value: str, entity: str) -> str | None:
        return self.generalizer.generalize(entity, value)


class ShiftDates(Transform):
    """Dates moved by their row's subject's keyed offset. Only the pipeline knows
    the row, so entity columns go through `apply_rows`; a date found inside
    free text has no subject and is replaced (`<ENTITY>`), never passed through."""

    name = Action.SHIFT_DATES

    def __init__(self, shifter: DateShifter) -> None:
        self.shifter = shifter

    def apply(self, value: str, entity: str) -> str | None:
        return f"<{entity}>"

    def apply_rows(self, values: pa.Array, subjects: pa.Array, entity: str) -> pa.Array:
        """Row by row: each value shifted by the offset of the subject in the same
        row; unreadable dates and rows without a subject become `<ENTITY>`."""
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        if pa.types.is_dictionary(subjects.type):
            subjects = subjects.cast(subjects.type.value_type)
        subject_text = pc.cast(subjects, _TEXT).to_pylist()
        if pa.types.is_temporal(values.type):
            return self._shift_temporal(values, subject_text)
        offsets: dict[str, int] = {}
        out: list[str | None] = []
        for value, subject in zip(values.cast(_TEXT).to_pylist(), subject_text, strict=True):
            if value is None:
                out.append(None)
            elif subject is None:
                out.append(f"<{entity}>")
            else:
                days = offsets.get(subject)
                if days is None:
                    days = offsets[subject] = self.shifter.offset(subject)
                moved = shift_date(value, days, self.shifter.date_formats)
                out.append(f"<{entity}>" if moved is None else moved)
        return pa.array(out, _TEXT)

    def _shift_temporal(self, values: pa.Array, subjects: list[str | None]) -> pa.Array:
        """Date and timestamp columns move by whole days in their own type; a row
        without a subject has no offset to take, so its date is removed (null)."""
        offsets: dict[str, int] = {}
        days = []
        for subject in subjects:
            if subject is not None and subject not in offsets:
                offsets[subject] = self.shifter.offset(subject)
            days.append(None if subject is None else offsets[subject])
        storage = pa.int32() if pa.types.is_date32(values.type) else pa.int64()
        moved = pc.add(
            values.view(storage) if values.type.bit_width == storage.bit_width else values.cast(storage),
            pc.multiply(pa.array(days, storage), _units_per_day(values.type)),
        )
        return moved.cast(storage).view(values.type)


def _units_per_day(data_type: pa.DataType) -> int:
    """How many of a date or timestamp type's stored units make a day."""
    if pa.types.is_date32(data_type):
        return 1
    if pa.types.is_date64(data_type):
        return 86_400_000
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[data_type.unit]
    return 86_400 * per_second


def _per_value(values: pa.Array, many: Callable[[list[str]], list[str]]) -> pa.Array:
    """`many` over the non-null values, nulls kept in place."""
    items = values.to_pylist()
    out = iter(many([v for v in items if v is not None]))
    return pa.array([None if v is None else next(out) for v in items], _TEXT)


def build_transforms(
    policy: Policy, key: Key | None, keyring: VersionedKeys | None = None
) -> dict[Action, Transform]:
    """The table of transforms a run uses; pseudonymization only with a key, and
    tokenize, fpe, synthesize, generalize and shift_dates only with a keyring (they take its
    current version when built: one version per run).

    A scan passes no key: it transforms nothing, and must not generate a key file.
    """
    table: dict[Action, Transform] = {
        Action.REDACT: Redact(),
        Action.DROP_COLUMN: DropColumn(),
        Action.REPLACE: Replace(),
        Action.MASK: Mask(policy.mask.keep_last, policy.mask.char),
        Action.KEEP: Keep(),
    }
    if key is not None:
        table[Action.PSEUDONYMIZE] = Pseudonymize(Pseudonymizer(key, policy.pseudonymize.hex_chars))
    if keyring is not None:
        fpe, gen = policy.fpe, policy.generalize
        table[Action.TOKENIZE] = Tokenize(Tokenizer(keyring))
        table[Action.FPE] = Fpe(FpeCipher(keyring, fpe.alphanumeric, fpe.luhn, fpe.separators))
        table[Action.SYNTHESIZE] = Synthesize(Synthesizer(keyring))
        table[Action.GENERALIZE] = Generalize(
            Generalizer(
                kinds=gen.kinds,
                date_to=gen.date,
                age_width=gen.age_band,
                age_top=gen.age_top,
                postal_chars=gen.postal_chars,
                grid_degrees=gen.grid_degrees,
                date_formats=gen.date_formats,
            )
        )
        shift = policy.shift_dates
        table[Action.SHIFT_DATES] = ShiftDates(DateShifter(keyring, shift.max_days, shift.date_formats))
    return table
