"""Seeded synthetic customer data with known sensitive values, for demos and tests.

Every sensitive value is made up but well-formed: SSNs outside the reserved
ranges, Luhn-valid card numbers on test prefixes, dialable-looking US phone
numbers, and emails under example domains.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Christopher",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Margaret",
    "Steven",
    "Sandra",
    "Andrew",
    "Ashley",
    "Joshua",
    "Emily",
    "Kevin",
    "Donna",
    "Brian",
    "Michelle",
    "George",
    "Carol",
    "Edward",
    "Amanda",
    "Ronald",
    "Melissa",
    "Timothy",
    "Deborah",
    "Jason",
    "Stephanie",
    "Jeffrey",
    "Rebecca",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
]
DOMAINS = ["example.com", "example.org", "example.net"]
AREA_CODES = ["212", "312", "415", "617", "646", "702", "713", "818", "917", "206"]
PLANS = ["free", "pro", "team", "enterprise"]
NOTES = [
    "Customer {name} called about invoice {n}; follow up at {email}.",
    "Spoke with {name} today. Refund approved, confirmation sent to {email}.",
    "{name} asked to update the billing address. Reach them at {phone}.",
    "Ticket {n}: {name} reports the export fails. Contact {email} or {phone}.",
    "Renewal discussed with {name}; they prefer email ({email}).",
    "Order {n} delayed. Left a voicemail for {name} at {phone}.",
    "No personal details in this note: order {n} shipped on time.",
]


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def _ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _phone(rng: random.Random) -> str:
    return f"({rng.choice(AREA_CODES)}) {rng.randint(201, 989)}-{rng.randint(1000, 9999)}"


def synthetic_table(rows: int, seed: int = 0) -> pa.Table:
    """A customers table: 6 sensitive columns, a free-text notes column, 3 clean ones."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    cols: dict[str, list] = {
        k: []
        for k in (
            "customer_id",
            "full_name",
            "email",
            "phone",
            "ssn",
            "card_number",
            "notes",
            "plan",
            "signup_at",
            "amount",
        )
    }
    for i in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last}"
        email = f"{first.lower()}.{last.lower()}{rng.randint(1, 9999)}@{rng.choice(DOMAINS)}"
        phone = _phone(rng)
        cols["customer_id"].append(100_000 + i)
        cols["full_name"].append(name)
        cols["email"].append(email)
        cols["phone"].append(phone)
        cols["ssn"].append(_ssn(rng))
        prefix, length = rng.choice([("4", 16), ("51", 16), ("37", 15)])  # Visa, Mastercard, Amex
        cols["card_number"].append(_luhn_complete(prefix, length, rng))
        cols["notes"].append(
            rng.choice(NOTES).format(name=name, email=email, phone=phone, n=rng.randint(1000, 99999))
        )
        cols["plan"].append(rng.choice(PLANS))
        cols["signup_at"].append(start + timedelta(minutes=rng.randint(0, 500_000)))
        cols["amount"].append(round(rng.uniform(5, 500), 2))
    return pa.table(
        {
            "customer_id": pa.array(cols["customer_id"], pa.int64()),
            "full_name": pa.array(cols["full_name"], pa.string()),
            "email": pa.array(cols["email"], pa.string()),
            "phone": pa.array(cols["phone"], pa.string()),
            "ssn": pa.array(cols["ssn"], pa.string()),
            "card_number": pa.array(cols["card_number"], pa.string()),
            "notes": pa.array(cols["notes"], pa.string()),
            "plan": pa.array(cols["plan"], pa.string()),
            "signup_at": pa.array(cols["signup_at"], pa.timestamp("us", tz="UTC")),
            "amount": pa.array(cols["amount"], pa.float64()),
        }
    )


def write_demo(path: Path, rows: int = 2_000, seed: int = 0, row_group_size: int = 500) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(synthetic_table(rows, seed), path, row_group_size=row_group_size)
    return path
