"""Warehouse (a), snake_case with abbreviations: a securities-lending desk.

Four lending desks in three regions intermediate loans of securities (equities, government
and corporate bonds) from lenders (pension funds, insurers, asset managers) to borrowers
(banks, brokers, hedge funds). A loan is traded, settles a business day or more later, is
open, recalled by its lender or returned; returns (`loan_rtn`) are settled, pending or
failed. Names follow a house style of abbreviations: `cpty_nm`, `ccy`, `loan_amt`, `trd_dt`,
`sttl_dt`, `stat_cd`, `lndr_cpty_id`, `brwr_cpty_id`, `rtn_qty`, `cr_rtg`, `rgn_cd`.

Two foreign-key paths join `sec_loan` to `cpty`: its lender and its borrower.
Deterministic for a seed; stdlib only.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from newschemas.load import Table, write_warehouse

__all__ = ["AS_OF", "build"]

AS_OF = date(2026, 11, 20)

_DESKS = ((1, "Equity Finance London", "EMEA"), (2, "Equity Finance New York", "AMER"),
          (3, "Fixed Income Lending London", "EMEA"), (4, "Equity Finance Tokyo", "APAC"))
_LENDERS = ("Northgate Pension Fund", "Ridgeway Insurance", "Calder Asset Management",
            "Lowland Pension Scheme", "Beacon Life Assurance", "Meridian Investors",
            "Thornbury Pension Trust", "Eastwick Insurance", "Pinecrest Asset Management",
            "Holloway Retirement Fund", "Sable Mutual", "Corrib Investment Partners")
_LENDER_TYPES = ("PENSION", "INSURER", "ASSET_MGR", "PENSION", "INSURER", "ASSET_MGR",
                 "PENSION", "INSURER", "ASSET_MGR", "PENSION", "INSURER", "ASSET_MGR")
_BORROWERS = ("Kestrel Securities", "Harbour Bank", "Alder Capital", "Quayside Brokers",
              "Summit Bank", "Fenwick Capital Partners", "Osprey Markets", "Granite Bank",
              "Larkspur Fund", "Trident Brokerage", "Vantage Bank", "Wexford Capital",
              "Juniper Securities", "Halcyon Fund", "Marlow Bank", "Redwood Brokers",
              "Ironbridge Capital", "Solent Securities")
_BORROWER_TYPES = ("BROKER", "BANK", "HEDGE_FUND", "BROKER", "BANK", "HEDGE_FUND")
_COUNTRIES = ("GB", "US", "DE", "FR", "JP", "CH", "NL")
_RATINGS = ("AA", "A", "A", "BBB", "BBB", "BB")
_SECURITIES = (
    ("Aster Motors", "EQUITY", "DE"), ("Bluewater Energy", "EQUITY", "GB"),
    ("Cobalt Mining", "EQUITY", "GB"), ("Delta Pharma", "EQUITY", "CH"),
    ("Elm Retail", "EQUITY", "US"), ("Falcon Aerospace", "EQUITY", "US"),
    ("Gemini Software", "EQUITY", "US"), ("Heron Foods", "EQUITY", "FR"),
    ("Ibis Telecom", "EQUITY", "FR"), ("Jade Electronics", "EQUITY", "JP"),
    ("Kite Robotics", "EQUITY", "JP"), ("Lumen Utilities", "EQUITY", "DE"),
    ("Mosaic Media", "EQUITY", "NL"), ("Nova Chemicals", "EQUITY", "NL"),
    ("Orion Shipping", "EQUITY", "GB"), ("Pavo Semiconductors", "EQUITY", "US"),
    ("Quartz Insurance", "EQUITY", "CH"), ("Raven Steel", "EQUITY", "DE"),
    ("Sirius Bank", "EQUITY", "FR"), ("Tern Logistics", "EQUITY", "JP"),
    ("UK Gilt 2031", "GOVT_BOND", "GB"), ("UK Gilt 2045", "GOVT_BOND", "GB"),
    ("US Treasury 2030", "GOVT_BOND", "US"), ("US Treasury 2034", "GOVT_BOND", "US"),
    ("Bund 2033", "GOVT_BOND", "DE"), ("Bund 2040", "GOVT_BOND", "DE"),
    ("OAT 2032", "GOVT_BOND", "FR"), ("JGB 2035", "GOVT_BOND", "JP"),
    ("DSL 2036", "GOVT_BOND", "NL"), ("Swiss Confederation 2038", "GOVT_BOND", "CH"),
    ("Aster Motors 4.5% 2029", "CORP_BOND", "DE"), ("Bluewater Energy 5% 2031", "CORP_BOND", "GB"),
    ("Elm Retail 3.75% 2028", "CORP_BOND", "US"), ("Falcon Aerospace 6% 2033", "CORP_BOND", "US"),
    ("Heron Foods 2.5% 2030", "CORP_BOND", "FR"), ("Jade Electronics 1% 2027", "CORP_BOND", "JP"),
    ("Mosaic Media 4% 2032", "CORP_BOND", "NL"), ("Sirius Bank 3% 2029", "CORP_BOND", "FR"),
    ("Raven Steel 5.5% 2034", "CORP_BOND", "DE"), ("Delta Pharma 2% 2031", "CORP_BOND", "CH"),
)
_CCY = {"GB": "GBP", "US": "USD", "DE": "EUR", "FR": "EUR", "NL": "EUR", "JP": "JPY",
        "CH": "CHF"}
_SCHEMA = {
    "desk": ('"desk_id" INTEGER PRIMARY KEY', '"desk_nm" VARCHAR(40) NOT NULL',
             '"rgn_cd" VARCHAR(4) NOT NULL'),
    "cpty": ('"cpty_id" INTEGER PRIMARY KEY', '"cpty_nm" VARCHAR(40) NOT NULL UNIQUE',
             '"cpty_typ" VARCHAR(12) NOT NULL', '"ctry_cd" CHAR(2) NOT NULL',
             '"cr_rtg" VARCHAR(4) NOT NULL'),
    "sec": ('"sec_id" INTEGER PRIMARY KEY', '"isin" CHAR(12) NOT NULL UNIQUE',
            '"sec_nm" VARCHAR(40) NOT NULL', '"asset_cls" VARCHAR(10) NOT NULL',
            '"ccy" CHAR(3) NOT NULL', '"ctry_cd" CHAR(2) NOT NULL'),
    "sec_loan": ('"loan_id" VARCHAR(8) PRIMARY KEY',
                 '"sec_id" INTEGER NOT NULL REFERENCES "sec" ("sec_id")',
                 '"lndr_cpty_id" INTEGER NOT NULL REFERENCES "cpty" ("cpty_id")',
                 '"brwr_cpty_id" INTEGER NOT NULL REFERENCES "cpty" ("cpty_id")',
                 '"desk_id" INTEGER NOT NULL REFERENCES "desk" ("desk_id")',
                 '"loan_qty" INTEGER NOT NULL', '"loan_amt" DECIMAL(18,2) NOT NULL',
                 '"ccy" CHAR(3) NOT NULL', '"fee_bps" DECIMAL(7,2) NOT NULL',
                 '"trd_dt" DATE NOT NULL', '"sttl_dt" DATE NOT NULL',
                 '"stat_cd" VARCHAR(10) NOT NULL'),
    "loan_rtn": ('"rtn_id" INTEGER PRIMARY KEY',
                 '"loan_id" VARCHAR(8) NOT NULL REFERENCES "sec_loan" ("loan_id")',
                 '"rtn_qty" INTEGER NOT NULL', '"rtn_dt" DATE NOT NULL',
                 '"rtn_stat_cd" VARCHAR(8) NOT NULL'),
}


def _business_day(day: date, step: int) -> date:
    """`day` moved `step` business days (weekends skipped); step 0 rolls a weekend back."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    while step:
        day += timedelta(days=1 if step > 0 else -1)
        if day.weekday() < 5:
            step += -1 if step > 0 else 1
    return day


def _isin(country: str, n: int, rng: random.Random) -> str:
    return f"{country}{rng.randrange(10**9):09d}{n % 10}"


def _rows(seed: int) -> dict[str, list[tuple[object, ...]]]:
    rng = random.Random(seed)
    cpty = []
    for i, name in enumerate(_LENDERS):
        cpty.append((i + 1, name, _LENDER_TYPES[i], rng.choice(_COUNTRIES), rng.choice(_RATINGS)))
    for i, name in enumerate(_BORROWERS):
        cpty.append((len(_LENDERS) + i + 1, name, _BORROWER_TYPES[i % 6],
                     rng.choice(_COUNTRIES), rng.choice(_RATINGS)))
    sec = [(i + 1, _isin(country, i, rng), name, cls, _CCY[country], country)
           for i, (name, cls, country) in enumerate(_SECURITIES)]
    loans, returns = [], []
    for n in range(1, 321):
        security = rng.choice(sec)
        trade = _business_day(AS_OF - timedelta(days=rng.randrange(0, 330)), 0)
        settle = _business_day(trade, rng.choice((1, 1, 2, 2, 3, 7)))
        if settle > AS_OF:
            status = "PENDING"
        else:
            status = rng.choice(("OPEN",) * 5 + ("RETURNED",) * 3 + ("RECALLED",))
        qty = rng.randint(1, 400) * 1000
        price = rng.uniform(80, 120) if security[3] != "EQUITY" else rng.uniform(5, 150)
        desk = 3 if security[3] != "EQUITY" else rng.choice((1, 1, 2, 2, 4))
        loan_id = f"SL{n:06d}"
        loans.append((loan_id, security[0], rng.randint(1, len(_LENDERS)),
                      rng.randint(len(_LENDERS) + 1, len(cpty)), desk, qty,
                      round(qty * price, 2), security[4], round(rng.uniform(5, 250), 2),
                      trade.isoformat(), settle.isoformat(), status))
        days_out = (AS_OF - settle).days
        if status == "RETURNED":
            parts = (qty,) if rng.random() < 0.7 else (qty // 2, qty - qty // 2)
            for part in parts:
                back = settle + timedelta(days=rng.randint(1, max(1, days_out)))
                returns.append((loan_id, part, _business_day(back, 0).isoformat(), "SETTLED"))
        elif status == "RECALLED":
            due = _business_day(AS_OF + timedelta(days=rng.randrange(-6, 8)), 0)
            returns.append((loan_id, qty, due.isoformat(), "FAILED" if due < AS_OF
                            else "PENDING"))
        elif status == "OPEN" and rng.random() < 0.25 and days_out > 2:
            back = _business_day(settle + timedelta(days=rng.randint(1, days_out)), 0)
            returns.append((loan_id, qty // 4, back.isoformat(), "SETTLED"))
    returns.sort(key=lambda r: (r[2], r[0]))
    return {"desk": list(_DESKS), "cpty": cpty, "sec": sec, "sec_loan": loans,
            "loan_rtn": [(i + 1, *r) for i, r in enumerate(returns)]}


def build(path: Path, postgres_url: str | None = None, seed: int = 15) -> Path:
    """Write the securities-lending warehouse to SQLite at `path` (replaced), and to the
    empty PostgreSQL database at `postgres_url` when given; return `path`."""
    rows = _rows(seed)
    return write_warehouse([Table(name, columns, rows[name])
                            for name, columns in _SCHEMA.items()], path, postgres_url)
