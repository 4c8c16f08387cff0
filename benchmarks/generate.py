"""Seeded synthetic data for the benchmark harness (issue 4).

    .venv/bin/python -m benchmarks.generate structured out.parquet --rows 1000000 [--distinct 20000]
    .venv/bin/python -m benchmarks.generate text out.parquet --rows 3000   # also writes out.gold.json
    .venv/bin/python -m benchmarks.generate patterns out.parquet --rows 100000   # also out.gold.json

`structured_table(rows, distinct, seed)`: 12 columns, no free text. Seven sensitive string
columns (full_name, email, phone, ssn, card_number, street_address, ip_address) and five
clean ones (customer_id int64, amount float64, category 8 labels, created_at timestamp,
status 3 labels). `distinct=None`: every sensitive value in a column is distinct;
`distinct=K`: each sensitive column is drawn (uniformly, with replacement) from K distinct
values, so about K distinct values appear per column when rows >> K.

Each sensitive column has a finite value space (e.g. SSN = area x group x serial). A value
is decoded from an index in that space; distinct values come from the injective map
`i -> (a*i + b) mod size` with `gcd(a, size) == 1` (a, b seeded). The decode is numpy; only
the final string formatting is a Python loop.

Values look valid: SSN area 001-899 without 666, group 01-99, serial 0001-9999; Luhn-valid
16-digit Visa (4...) and Mastercard (51-55...) numbers; US phones `(AAA) EEE-LLLL` with real
area codes and exchanges 201-989 (no N11, no 555); US-style street addresses
`1234 Oak Street, Springfield, IL 62704`; public-looking IPv4 (first octet 11-99).

`text_table(rows, seed)`: `customer_id` + `notes`, 200 to 300 character notes that mention a
full name, an email, a phone and a street address, and the gold spans per note as
`(start, end, entity)` with entity one of PERSON, EMAIL_ADDRESS, PHONE_NUMBER, LOCATION.
LOCATION is the *whole* address (house number to ZIP), not only the city: a detector that
finds just "Springfield" overlaps it (counted under overlap matching), but does not match
it exactly.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard "
    "Susan Joseph Jessica Thomas Sarah Christopher Karen Daniel Nancy Matthew Lisa Anthony Betty Mark "
    "Margaret Steven Sandra Andrew Ashley Joshua Emily Kevin Donna Brian Michelle George Carol Edward "
    "Amanda Ronald Melissa Timothy Deborah Jason Stephanie Jeffrey Rebecca Ryan Laura Jacob Sharon Gary "
    "Cynthia Nicholas Kathleen Eric Amy Jonathan Angela Stephen Shirley Larry Anna Justin Brenda Scott "
    "Pamela Brandon Emma Benjamin Nicole Samuel Helen Gregory Samantha Alexander Katherine Frank "
    "Christine Patrick Debra Raymond Rachel Jack Carolyn Dennis Janet Jerry Catherine Tyler Maria Aaron "
    "Heather"
)
LAST = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker "
    "Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
    "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
    "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster "
    "Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher "
    "Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno "
    "West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall "
    "Owens Harrison Fernandez Mcdonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb"
)
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
AREA_CODES = _words("212 213 206 214 305 312 313 404 415 503 512 602 617 646 702 713 718 720 818 917")
EXCHANGES = np.array([e for e in range(201, 990) if e % 100 != 11 and e != 555], dtype=np.int64)
STREETS = _words(
    "Oak Maple Pine Cedar Elm Washington Lake Hill Park Main Church Walnut Spring Highland Sunset "
    "Jefferson Lincoln Madison Franklin Chestnut Willow Meadow Ridge River Forest Jackson Adams Cherry "
    "Birch Prospect"
)
SUFFIXES = ("Street", "Avenue", "Road", "Lane", "Drive", "Boulevard", "Court", "Place")
# (city, state, first 3 digits of its ZIPs)
CITIES = (
    ("Springfield", "IL", "627"),
    ("Chicago", "IL", "606"),
    ("Austin", "TX", "787"),
    ("Houston", "TX", "770"),
    ("Denver", "CO", "802"),
    ("Portland", "OR", "972"),
    ("Seattle", "WA", "981"),
    ("Boston", "MA", "021"),
    ("Columbus", "OH", "432"),
    ("Phoenix", "AZ", "850"),
    ("Atlanta", "GA", "303"),
    ("Nashville", "TN", "372"),
    ("Sacramento", "CA", "958"),
    ("San Diego", "CA", "921"),
    ("Madison", "WI", "537"),
    ("Raleigh", "NC", "276"),
    ("Richmond", "VA", "232"),
    ("Albany", "NY", "122"),
    ("Tampa", "FL", "336"),
    ("Omaha", "NE", "681"),
)
CATEGORIES = ("groceries", "electronics", "travel", "dining", "utilities", "health", "apparel", "books")
STATUSES = ("active", "suspended", "closed")
SENSITIVE = ("full_name", "email", "phone", "ssn", "card_number", "street_address", "ip_address")
ENTITIES = ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "LOCATION")

# --------------------------------------------------------------------------- value spaces

_NF, _NL = len(FIRST), len(LAST)
# name: optional middle name (index 0 = none) x first x last
NAME_SPACE = (_NF + 1) * _NF * _NL
EMAIL_SPACE = _NF * _NL * 10_000 * len(DOMAINS)
PHONE_SPACE = len(AREA_CODES) * len(EXCHANGES) * 10_000
SSN_SPACE = 898 * 99 * 9999
CARD_BODY = 10**13  # free digits after the 2-digit prefix, before the check digit
CARD_SPACE = 6 * CARD_BODY  # prefixes 4x (one of 40..49 picked from the body), 51..55
ADDRESS_SPACE = 9999 * len(STREETS) * len(SUFFIXES) * len(CITIES) * 100
IP_SPACE = 89 * 256 * 256 * 254


def _indices(size: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` distinct indices in [0, size): (a*i + b) mod size, gcd(a, size) == 1."""
    if count > size:
        raise ValueError(f"asked for {count} distinct values from a space of {size}")
    # keep a*i below 2**63 for i < count
    hi = max(3, min(size - 1, (2**62) // max(count, 1)))
    a = int(rng.integers(hi // 2, hi)) | 1
    while math.gcd(a, size) != 1:
        a += 2
    b = int(rng.integers(0, size))
    i = np.arange(count, dtype=np.int64)
    return (
        (i * a % size + b) % size
        if a * count < 2**62
        else np.array([(a * int(k) + b) % size for k in range(count)], dtype=np.int64)
    )


def _digits(x: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    return x % base, x // base


def names(idx: np.ndarray) -> list[str]:
    last, r = _digits(idx, _NL)
    first, middle = _digits(r, _NF)
    return [
        f"{FIRST[f]} {FIRST[m - 1]} {LAST[s]}" if m else f"{FIRST[f]} {LAST[s]}"
        for f, m, s in zip(first.tolist(), middle.tolist(), last.tolist(), strict=True)
    ]


def emails(idx: np.ndarray) -> list[str]:
    dom, r = _digits(idx, len(DOMAINS))
    num, r = _digits(r, 10_000)
    last, first = _digits(r, _NL)
    return [
        f"{FIRST[f].lower()}.{LAST[s].lower()}{n}@{DOMAINS[d]}"
        for f, s, n, d in zip(first.tolist(), last.tolist(), num.tolist(), dom.tolist(), strict=True)
    ]


def phones(idx: np.ndarray) -> list[str]:
    line, r = _digits(idx, 10_000)
    exch, area = _digits(r, len(EXCHANGES))
    exch = EXCHANGES[exch]
    return [
        f"({AREA_CODES[a]}) {e}-{ln:04d}"
        for a, e, ln in zip(area.tolist(), exch.tolist(), line.tolist(), strict=True)
    ]


def ssns(idx: np.ndarray) -> list[str]:
    serial, r = _digits(idx, 9999)
    group, area = _digits(r, 99)
    area = area + 1
    area = area + (area >= 666)  # skip 666; 898 areas -> 001..899
    return [
        f"{a:03d}-{g + 1:02d}-{s + 1:04d}"
        for a, g, s in zip(area.tolist(), group.tolist(), serial.tolist(), strict=True)
    ]


def _luhn_check(body: np.ndarray, ndigits: int) -> np.ndarray:
    """Luhn check digit for each integer `body` of `ndigits` digits (vectorized)."""
    total = np.zeros(len(body), dtype=np.int64)
    x = body.copy()
    for pos in range(ndigits):  # pos 0 = rightmost digit of the body, doubled
        d = x % 10
        x //= 10
        if pos % 2 == 0:
            d = d * 2
            d = np.where(d > 9, d - 9, d)
        total += d
    return (10 - total % 10) % 10


def cards(idx: np.ndarray) -> list[str]:
    free, kind = _digits(idx, CARD_BODY)
    # kind 0: Visa 4 + one digit from the index; 1..5: Mastercard 51..55
    prefix = np.where(kind == 0, 40 + free % 10, 50 + kind)
    body = prefix * CARD_BODY + free  # 15 digits
    check = _luhn_check(body, 15)
    return [f"{b}{c}" for b, c in zip(body.tolist(), check.tolist(), strict=True)]


def luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def addresses(idx: np.ndarray) -> list[str]:
    zip2, r = _digits(idx, 100)
    city, r = _digits(r, len(CITIES))
    suffix, r = _digits(r, len(SUFFIXES))
    street, house = _digits(r, len(STREETS))
    return [
        f"{h + 1} {STREETS[s]} {SUFFIXES[x]}, {CITIES[c][0]}, {CITIES[c][1]} {CITIES[c][2]}{z:02d}"
        for h, s, x, c, z in zip(
            house.tolist(), street.tolist(), suffix.tolist(), city.tolist(), zip2.tolist(), strict=True
        )
    ]


def ips(idx: np.ndarray) -> list[str]:
    d, r = _digits(idx, 254)
    c, r = _digits(r, 256)
    b, a = _digits(r, 256)
    return [
        f"{w + 11}.{x}.{y}.{z + 1}"
        for w, x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), d.tolist(), strict=True)
    ]


_COLUMNS = {
    "full_name": (NAME_SPACE, names),
    "email": (EMAIL_SPACE, emails),
    "phone": (PHONE_SPACE, phones),
    "ssn": (SSN_SPACE, ssns),
    "card_number": (CARD_SPACE, cards),
    "street_address": (ADDRESS_SPACE, addresses),
    "ip_address": (IP_SPACE, ips),
}


def sensitive_column(name: str, rows: int, distinct: int | None, rng: np.random.Generator) -> pa.Array:
    size, fmt = _COLUMNS[name]
    if distinct is None:
        return pa.array(fmt(_indices(size, rows, rng)), pa.string())
    pool = pa.array(fmt(_indices(size, distinct, rng)), pa.string())
    return pool.take(pa.array(rng.integers(0, distinct, rows)))


def structured_table(rows: int, distinct: int | None = None, seed: int = 0) -> pa.Table:
    """N rows x 12 columns (7 sensitive); see the module docstring."""
    if distinct is not None and distinct <= 0:
        raise ValueError("distinct must be positive or None")
    rng = np.random.default_rng(seed)
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    cols: dict[str, pa.Array] = {"customer_id": pa.array(np.arange(rows, dtype=np.int64) + 1_000_000)}
    for name in SENSITIVE:
        cols[name] = sensitive_column(name, rows, distinct, rng)
    cols["amount"] = pa.array(np.round(rng.uniform(5, 500, rows), 2))
    cols["category"] = pa.array(CATEGORIES, pa.string()).take(
        pa.array(rng.integers(0, len(CATEGORIES), rows))
    )
    secs = start + rng.integers(0, 2 * 365 * 86400, rows)
    cols["created_at"] = pa.array(secs * 1_000_000, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    cols["status"] = pa.array(STATUSES, pa.string()).take(pa.array(rng.integers(0, len(STATUSES), rows)))
    return pa.table(cols)


# --------------------------------------------------------------------------- free text

# Every template holds each placeholder once; no dates, no 5-digit numbers, no other PII.
TEMPLATES = (
    "Customer {name} called about a billing problem on the last invoice. Please send the corrected "
    "copy to {email} and call back on {phone} if anything is unclear. Mailing address on file: {address}.",
    "Spoke with {name} who wants the shipping address changed to {address}. Confirmation should go "
    "to {email}; the customer can also be reached at {phone} during business hours.",
    "Follow-up needed: {name} reported that the export keeps failing. Contact them by email at "
    "{email} or by phone at {phone}. Replacement hardware goes to {address}.",
    "{name} asked us to close the account and mail the final statement to {address}. Any questions "
    "should be sent to {email} or asked by phone on {phone}.",
    "Left a voicemail for {name} at {phone} about the delayed order. Sent the same update to {email}. "
    "Package will be redelivered to {address} once the carrier confirms.",
    "Refund approved for {name}. The check will be mailed to {address}, and a receipt was emailed to "
    "{email}. Call {phone} if the customer disputes the amount.",
)
FILLERS = (
    " The customer was polite and patient.",
    " No further action is required from support.",
    " Escalate if there is no reply.",
    " Case notes reviewed by the team lead.",
    " Priority is normal.",
    " Reminder sent.",
)


def _note(values: dict[str, str], template: str, rng: np.random.Generator) -> tuple[str, list]:
    keys = {"name": "PERSON", "email": "EMAIL_ADDRESS", "phone": "PHONE_NUMBER", "address": "LOCATION"}
    parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    rest = template
    while "{" in rest:
        pre, _, tail = rest.partition("{")
        key, _, rest = tail.partition("}")
        parts.append(pre)
        pos += len(pre)
        v = values[key]
        spans.append((pos, pos + len(v), keys[key]))
        parts.append(v)
        pos += len(v)
    parts.append(rest)
    text = "".join(parts)
    order = rng.permutation(len(FILLERS))
    for k in order:
        if len(text) >= 200:
            break
        if len(text) + len(FILLERS[k]) <= 300:
            text += FILLERS[k]
    return text, spans


def text_table(rows: int, seed: int = 0) -> tuple[pa.Table, list[list[tuple[int, int, str]]]]:
    """`customer_id` + `notes` (200-300 chars each) and the gold spans of every note."""
    rng = np.random.default_rng(seed)
    n = {
        "name": names(_indices(NAME_SPACE, rows, rng)),
        "email": emails(_indices(EMAIL_SPACE, rows, rng)),
        "phone": phones(_indices(PHONE_SPACE, rows, rng)),
        "address": addresses(_indices(ADDRESS_SPACE, rows, rng)),
    }
    order = rng.integers(0, len(TEMPLATES), rows)
    notes: list[str] = []
    gold: list[list[tuple[int, int, str]]] = []
    for i in range(rows):
        values = {k: v[i] for k, v in n.items()}
        t = int(order[i])
        for attempt in range(len(TEMPLATES)):
            text, spans = _note(values, TEMPLATES[(t + attempt) % len(TEMPLATES)], rng)
            if 200 <= len(text) <= 300:
                break
        else:
            raise RuntimeError(f"no template fits 200-300 chars for row {i}: {values}")
        notes.append(text)
        gold.append(spans)
    table = pa.table(
        {
            "customer_id": pa.array(np.arange(rows, dtype=np.int64) + 5_000_000),
            "notes": pa.array(notes, pa.string()),
        }
    )
    return table, gold


# --------------------------------------------------------------------------- pattern notes

# Short notes for the patterns-only comparison (issue 9): the five pattern entities in the
# layouts people write them, next to number-shaped values that are none of them (order
# numbers, amounts, dates, times, versions, SKUs). DECOY slots must come out unchanged.
PATTERN_ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IP_ADDRESS")
DECOY = "DECOY"
PATTERN_TEMPLATES = (
    "Customer called from {phone} about Order {order5}.",
    "Refund of {amount} sent; receipt emailed to {email}.",
    "SSN on file: {ssn}. Verified on {date}.",
    "Card {card} declined at {time}, customer will retry.",
    "Login from {ip} flagged; ticket {order7} opened.",
    "Please call back at {phone} or write to {email}.",
    "Client updated to {version}; no customer data involved.",
    "Customer asked about delivery times, no action needed.",
    "Shipment of {qty} items, SKU {sku}, left the warehouse.",
    "Paid {amount} by card {card} for Order {order5}.",
    "Callback requested: {phone}. Order {order5} is delayed.",
    "Access from {ip} at {time} with the usual device.",
    "Employee record: SSN {ssn}, email {email}.",
    "No contact details given; follow up next week.",
    "Invoice {invoice} for {amount} is due on {date}.",
    "Reach me at {email}, reference {sku}.",
)
_SLOT_ENTITY = {
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "ssn": "US_SSN",
    "card": "CREDIT_CARD",
    "ip": "IP_ADDRESS",
}


def _phone_layouts(plain: list[str], pick: np.ndarray) -> list[str]:
    """The generator's `(AAA) EEE-LLLL` phones in the layouts people write."""
    out = []
    for p, k in zip(plain, pick.tolist(), strict=True):
        a, e, n = p[1:4], p[6:9], p[10:]
        out.append(
            (p, f"{a}-{e}-{n}", f"{a}.{e}.{n}", f"+1 {a} {e} {n}", f"+1-{a}-{e}-{n}", f"1 ({a}) {e}-{n}")[k]
        )
    return out


def _card_layouts(plain: list[str], pick: np.ndarray) -> list[str]:
    out = []
    for c, k in zip(plain, pick.tolist(), strict=True):
        groups = [c[i : i + 4] for i in range(0, 16, 4)]
        out.append((" ".join(groups), "-".join(groups), c)[k])
    return out


def _decoys(rows: int, rng: np.random.Generator) -> dict[str, list[str]]:
    """Number-shaped values that are not personal data."""
    ri = rng.integers
    return {
        "order5": [str(x) for x in ri(10_000, 100_000, rows).tolist()],
        "order7": [f"#{x}" for x in ri(1_000_000, 10_000_000, rows).tolist()],
        "amount": [f"${x / 100:,.2f}" for x in ri(100, 500_000, rows).tolist()],
        "date": [
            f"{y}-{m:02d}-{d:02d}"
            for y, m, d in zip(
                ri(2019, 2027, rows).tolist(), ri(1, 13, rows).tolist(), ri(1, 29, rows).tolist(), strict=True
            )
        ],
        "time": [
            f"{h:02d}:{m:02d}"
            for h, m in zip(ri(0, 24, rows).tolist(), ri(0, 60, rows).tolist(), strict=True)
        ],
        "version": [
            f"v{a}.{b}.{c}"
            for a, b, c in zip(
                ri(1, 10, rows).tolist(), ri(0, 20, rows).tolist(), ri(0, 50, rows).tolist(), strict=True
            )
        ],
        "qty": [str(x) for x in ri(1, 500, rows).tolist()],
        "sku": [
            f"{a}-{b}"
            for a, b in zip(ri(1000, 10_000, rows).tolist(), ri(1000, 10_000, rows).tolist(), strict=True)
        ],
        "invoice": [
            f"{y}-{n:05d}"
            for y, n in zip(ri(2019, 2027, rows).tolist(), ri(1, 100_000, rows).tolist(), strict=True)
        ],
    }


def pattern_table(rows: int, seed: int = 0) -> tuple[pa.Table, list[list[tuple[int, int, str]]]]:
    """`customer_id` + short `notes` from `PATTERN_TEMPLATES`, and each note's slots as
    `(start, end, kind)`: kind is one of `PATTERN_ENTITIES`, or `DECOY` for a value that
    is none of them. Every sensitive value is distinct; about one note in eight has no
    digits at all."""
    rng = np.random.default_rng(seed)
    values = {
        "email": emails(_indices(EMAIL_SPACE, rows, rng)),
        "phone": _phone_layouts(phones(_indices(PHONE_SPACE, rows, rng)), rng.integers(0, 6, rows)),
        "ssn": ssns(_indices(SSN_SPACE, rows, rng)),
        "card": _card_layouts(cards(_indices(CARD_SPACE, rows, rng)), rng.integers(0, 3, rows)),
        "ip": ips(_indices(IP_SPACE, rows, rng)),
        **_decoys(rows, rng),
    }
    order = rng.integers(0, len(PATTERN_TEMPLATES), rows).tolist()
    notes: list[str] = []
    slots: list[list[tuple[int, int, str]]] = []
    for i, t in enumerate(order):
        parts: list[str] = []
        spans: list[tuple[int, int, str]] = []
        pos, rest = 0, PATTERN_TEMPLATES[t]
        while "{" in rest:
            pre, _, tail = rest.partition("{")
            key, _, rest = tail.partition("}")
            v = values[key][i]
            pos += len(pre)
            spans.append((pos, pos + len(v), _SLOT_ENTITY.get(key, DECOY)))
            parts += [pre, v]
            pos += len(v)
        parts.append(rest)
        notes.append("".join(parts))
        slots.append(spans)
    table = pa.table(
        {
            "customer_id": pa.array(np.arange(rows, dtype=np.int64) + 7_000_000),
            "notes": pa.array(notes, pa.string()),
        }
    )
    return table, slots


def write(table: pa.Table, path: Path, row_group_size: int = 100_000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["structured", "text", "patterns"])
    p.add_argument("out", type=Path)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--distinct", type=int, default=None, help="structured: K distinct values per column")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    if a.kind == "structured":
        write(structured_table(a.rows, a.distinct, a.seed), a.out)
    else:
        table, gold = (text_table if a.kind == "text" else pattern_table)(a.rows, a.seed)
        write(table, a.out)
        a.out.with_suffix(".gold.json").write_text(json.dumps(gold))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
