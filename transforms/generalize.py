"""Generalization and date shifting: keep what analysis needs, drop the detail.

`generalize` coarsens a value by its kind: dates to their month or year, ages
to bands (top-coded: 90 and over become "90+"), postal codes to their leading
characters, coordinates to the south-west corner of a grid cell. Which entity
types are of which kind is policy (`generalize.kinds`). A value that cannot be
read as its kind, or an entity type of no kind, becomes `<ENTITY>`: it is
replaced, never passed through.

`shift_dates` moves every date of one subject (a patient, a customer) by the
same number of days, derived from a keyed hash of the subject's value in the
column the policy names, so intervals within a subject survive and dates of
two subjects do not line up. The offset is in [-max_days, max_days] and never
0. This module gives the pure functions and `DateShifter`; feeding each row's
subject value to it is the pipeline's job (not wired yet).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from hashlib import sha256
from typing import Literal

from ingestguard.transforms.reversible import VersionedKeys

SHIFT_PURPOSE = "shift_dates"

Kind = Literal["date", "age", "postal_code", "coordinates"]
DEFAULT_KINDS: dict[str, Kind] = {
    "DATE_OF_BIRTH": "date",
    "DATE_TIME": "date",
    "AGE": "age",
    "US_ZIP_CODE": "postal_code",
    "POSTAL_CODE": "postal_code",
    "UK_POSTCODE": "postal_code",
}
# Tried in order; the first that reads the whole value wins (so 03/04/2024 is
# US month/day unless the policy lists "%d/%m/%Y" first).
DEFAULT_DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%m/%d/%Y", "%Y%m%d"]
# An ISO date with a time after it: only the date part is read and shifted.
_ISO_PREFIX = re.compile(r"(\d{4}-\d{2}-\d{2})([T ].*)", re.DOTALL)
_NUMBER = r"[-+]?\d{1,3}(?:\.\d+)?"
_COORDINATES = re.compile(rf"\(?\s*({_NUMBER})\s*[,; ]\s*({_NUMBER})\s*\)?")


# -- reading dates ---------------------------------------------------------------


def parse_date(value: str, formats: Iterable[str] = DEFAULT_DATE_FORMATS) -> tuple[date, str, str] | None:
    """(date, the format that read it, the rest after an ISO date) or None."""
    text = value.strip()
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date(), fmt, ""
        except ValueError:
            continue
    match = _ISO_PREFIX.fullmatch(text)
    if match:
        try:
            return date.fromisoformat(match.group(1)), "%Y-%m-%d", match.group(2)
        except ValueError:
            return None
    return None


# -- generalize ------------------------------------------------------------------


def generalize_date(
    value: str, to: Literal["month", "year"] = "year", formats: Iterable[str] = DEFAULT_DATE_FORMATS
) -> str | None:
    """`2024-03-05` -> `2024` (year) or `2024-03` (month); None when unreadable."""
    parsed = parse_date(value, formats)
    if parsed is None:
        return None
    day = parsed[0]
    return f"{day.year:04d}" if to == "year" else f"{day.year:04d}-{day.month:02d}"


def age_band(value: str, width: int = 10, top: int | None = 90) -> str | None:
    """`34` -> `30-39` (width 10); ages at or above `top` -> `90+`; None when unreadable."""
    text = value.strip().removesuffix("years").removesuffix("y").strip()
    try:
        age = int(Decimal(text).to_integral_value(ROUND_FLOOR))
    except (InvalidOperation, ValueError, OverflowError):
        return None
    if not 0 <= age <= 150:
        return None
    if top is not None and age >= top:
        return f"{top}+"
    low = age - age % width
    high = low + width - 1
    if top is not None:
        high = min(high, top - 1)
    return str(low) if width == 1 else f"{low}-{high}"


def postal_prefix(value: str, chars: int = 3) -> str | None:
    """The first `chars` letters and digits (`90210` -> `902`, `SW1A 1AA` -> `SW1`);
    None when the code is not longer than that (nothing would be generalized)."""
    code = "".join(ch for ch in value if ch.isascii() and ch.isalnum()).upper()
    if len(code) <= chars:
        return None
    return code[:chars]


def coordinates_grid(value: str, step: float | str = "0.1") -> str | None:
    """`48.1372, 11.5756` -> `48.1, 11.5`: latitude and longitude floored to the
    grid (the south-west corner of the cell); None when unreadable or out of range."""
    match = _COORDINATES.fullmatch(value.strip())
    if match is None:
        return None
    grid = Decimal(str(step))
    lat, lon = Decimal(match.group(1)), Decimal(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    places = max(0, -grid.normalize().as_tuple().exponent)

    def snap(x: Decimal) -> str:
        return f"{(x / grid).to_integral_value(ROUND_FLOOR) * grid:.{places}f}"

    return f"{snap(lat)}, {snap(lon)}"


class Generalizer:
    """Generalize by the entity type's kind, with the policy's settings."""

    def __init__(
        self,
        kinds: Mapping[str, Kind] | None = None,
        date_to: Literal["month", "year"] = "year",
        age_width: int = 10,
        age_top: int | None = 90,
        postal_chars: int = 3,
        grid_degrees: float | str = "0.1",
        date_formats: Iterable[str] = DEFAULT_DATE_FORMATS,
    ) -> None:
        self.kinds = dict(DEFAULT_KINDS if kinds is None else kinds)
        self.date_to = date_to
        self.age_width = age_width
        self.age_top = age_top
        self.postal_chars = postal_chars
        self.grid_degrees = grid_degrees
        self.date_formats = list(date_formats)

    def generalize(self, entity: str, value: str) -> str:
        kind = self.kinds.get(entity)
        out: str | None = None
        if kind == "date":
            out = generalize_date(value, self.date_to, self.date_formats)
        elif kind == "age":
            out = age_band(value, self.age_width, self.age_top)
        elif kind == "postal_code":
            out = postal_prefix(value, self.postal_chars)
        elif kind == "coordinates":
            out = coordinates_grid(value, self.grid_degrees)
        return f"<{entity}>" if out is None else out


# -- shift_dates ------------------------------------------------------------------


def date_offset(key: bytes, subject: str, max_days: int) -> int:
    """Days in [-max_days, max_days] without 0, from HMAC-SHA256(key, subject)."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    digest = hmac.new(
        key, b"ingestguard/shift_dates/v1\x00" + subject.encode("utf-8", "surrogatepass"), sha256
    )
    k = int.from_bytes(digest.digest(), "big") % (2 * max_days)  # bias < 2**-240
    return k - max_days if k < max_days else k - max_days + 1


def shift_date(value: str, days: int, formats: Iterable[str] = DEFAULT_DATE_FORMATS) -> str | None:
    """The date moved by `days`, written in the format it was read in (an ISO
    date's time part is kept as it was); None when unreadable."""
    parsed = parse_date(value, formats)
    if parsed is None:
        return None
    day, fmt, rest = parsed
    try:
        moved = day + timedelta(days=days)
    except OverflowError:
        return None
    return moved.strftime(fmt) + rest


class DateShifter:
    """The subject's offset under the keyring's current version, and shifting by it."""

    def __init__(
        self, keys: VersionedKeys, max_days: int = 365, date_formats: Iterable[str] = DEFAULT_DATE_FORMATS
    ) -> None:
        current = keys.current()
        self.key_version: int = current.version
        self.key_id: str = current.key_id
        self._key = current.derive(SHIFT_PURPOSE)
        self.max_days = max_days
        self.date_formats = list(date_formats)

    def __repr__(self) -> str:
        return (
            f"DateShifter(key_id={self.key_id!r}, key_version={self.key_version}, max_days={self.max_days})"
        )

    def to_evidence(self) -> dict[str, str | int]:
        return {
            "action": "shift_dates",
            "key_id": self.key_id,
            "key_version": self.key_version,
            "max_days": self.max_days,
        }

    def offset(self, subject: str) -> int:
        return date_offset(self._key, subject, self.max_days)

    def shift(self, value: str, subject: str, entity: str = "DATE_TIME") -> str:
        """`value` moved by the subject's offset; `<ENTITY>` when unreadable."""
        out = shift_date(value, self.offset(subject), self.date_formats)
        return f"<{entity}>" if out is None else out
