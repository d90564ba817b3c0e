"""A second warehouse of another ops domain: payments operations (a bank's payments desk).

Branches hold client accounts; accounts send payments over SWIFT, SEPA or ACH; a payment
that cannot go straight through lands in the repair queue, worked by an analyst. Column
names follow another house style than the OTC demo (abbreviations such as `acct`, `amt`,
`ccy`, `dt`, `ts`, `nm`), so the engine's schema words are exercised. Deterministic for a
seed; stdlib only.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

__all__ = ["build_payments_warehouse"]

_SCHEMA = """
CREATE TABLE branches (
    branch_id INTEGER PRIMARY KEY, branch_nm VARCHAR(40) NOT NULL, region VARCHAR(8) NOT NULL
);
CREATE TABLE accounts (
    acct_id INTEGER PRIMARY KEY, acct_nm VARCHAR(60) NOT NULL,
    branch_id INTEGER NOT NULL REFERENCES branches (branch_id),
    acct_type VARCHAR(10) NOT NULL, risk_rating VARCHAR(6) NOT NULL, opened_dt DATE NOT NULL
);
CREATE TABLE payments (
    pmt_ref VARCHAR(12) PRIMARY KEY, acct_id INTEGER NOT NULL REFERENCES accounts (acct_id),
    amt DECIMAL(18,2) NOT NULL, ccy CHAR(3) NOT NULL, pmt_status VARCHAR(10) NOT NULL,
    channel VARCHAR(8) NOT NULL, beneficiary_country CHAR(2) NOT NULL,
    value_dt DATE NOT NULL, created_ts TIMESTAMP NOT NULL, released_ts TIMESTAMP
);
CREATE TABLE repairs (
    repair_id INTEGER PRIMARY KEY, pmt_ref VARCHAR(12) NOT NULL REFERENCES payments (pmt_ref),
    repair_reason VARCHAR(20) NOT NULL, queue_status VARCHAR(10) NOT NULL,
    analyst_nm VARCHAR(40), opened_ts TIMESTAMP NOT NULL, closed_ts TIMESTAMP
);
"""
_REGIONS = ("EMEA", "APAC", "AMER")
_CHANNELS = ("SWIFT", "SEPA", "ACH")
_STATUSES = ("RELEASED",) * 6 + ("REJECTED", "HELD", "PENDING", "RETURNED")
_REASONS = ("BAD_IBAN", "SANCTIONS", "MISSING_BIC", "DUPLICATE", "LIMIT_BREACH")
_ANALYSTS = ("K. Osei", "L. Romano", "M. Tanaka", None)


def build_payments_warehouse(path: Path, as_of: date = date(2026, 11, 20),
                             seed: int = 11) -> Path:
    """Write the payments warehouse to `path` (replaced if present) and return it."""
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript(_SCHEMA)
        for b in range(1, 9):
            db.execute("INSERT INTO branches VALUES (?, ?, ?)",
                       (b, f"Branch {b:02d}", _REGIONS[b % 3]))
        for a in range(1, 81):
            opened = date(2015, 1, 1) + timedelta(days=rng.randrange(3900))
            db.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)",
                       (a, f"Client {a:03d}", rng.randint(1, 8),
                        rng.choice(("RETAIL", "CORPORATE", "CORPORATE", "FUND")),
                        rng.choice(("LOW", "MEDIUM", "HIGH")), opened.isoformat()))
        repair_id = 0
        for p in range(1, 4001):
            value = as_of - timedelta(days=rng.randrange(-10, 120))
            created = datetime.combine(value, datetime.min.time()) + timedelta(
                hours=rng.randrange(6, 18), minutes=rng.randrange(60))
            status = rng.choice(_STATUSES) if value <= as_of else "PENDING"
            released = created + timedelta(minutes=rng.randrange(5, 600)) \
                if status == "RELEASED" else None
            ref = f"PMT{p:07d}"
            db.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                ref, rng.randint(1, 80), round(rng.lognormvariate(11, 1.6), 2),
                rng.choice(("USD", "EUR", "GBP", "USD", "CHF")), status, rng.choice(_CHANNELS),
                rng.choice(("US", "GB", "DE", "FR", "SG")), value.isoformat(),
                created.isoformat(sep=" "), released.isoformat(sep=" ") if released else None))
            if status in ("REJECTED", "HELD", "RETURNED") or rng.random() < 0.05:
                repair_id += 1
                closed = created + timedelta(hours=rng.randrange(1, 200)) \
                    if rng.random() < 0.6 else None
                db.execute("INSERT INTO repairs VALUES (?, ?, ?, ?, ?, ?, ?)", (
                    repair_id, ref, rng.choice(_REASONS), "CLOSED" if closed else "OPEN",
                    rng.choice(_ANALYSTS), created.isoformat(sep=" "),
                    closed.isoformat(sep=" ") if closed else None))
    return path
