"""Warehouse (c), UPPER-case legacy names: a core-banking extract.

Branches (`BRNCH_MSTR`) serve customers (`CUST_MSTR`), who hold accounts (`ACCT_MSTR`:
current, savings, term deposit and loan accounts) whose postings are the transaction
history (`TXN_HIST`: deposits, withdrawals, transfers, fees and interest, by channel).
Names are the upper-case, vowel-dropped style of a mainframe-era core system: `CUST_NO`,
`ACCT_TYP_CD`, `TXN_AMT`, `POST_DT`, `CUR_BAL_AMT`, `CHNL_CD`, `DR_CR_IND`.

Two foreign-key paths in each of two places: an account names its servicing branch
(`ACCT_MSTR.BRNCH_CD`) and its customer, who has a home branch (`CUST_MSTR.BRNCH_CD`), and
the two differ for some accounts; a transfer names its account and its contra account
(`TXN_HIST.CTR_ACCT_NO`). Deterministic for a seed; stdlib only.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from newschemas.load import Table, write_warehouse

__all__ = ["AS_OF", "build"]

AS_OF = date(2026, 11, 20)

_BRANCHES = (("B001", "Kingsway", "NORTH"), ("B002", "Market Street", "NORTH"),
             ("B003", "Harbourside", "SOUTH"), ("B004", "Old Town", "SOUTH"),
             ("B005", "Riverside", "EAST"), ("B006", "Station Road", "EAST"),
             ("B007", "Westgate", "WEST"), ("B008", "Hillcrest", "WEST"))
_FIRST = ("Amelia", "Ben", "Chloe", "Daniel", "Eva", "Farid", "Grace", "Hugo", "Isla",
          "Jonas", "Katya", "Liam", "Maya", "Nikhil", "Olga", "Pavel")
_LAST = ("Archer", "Bennett", "Carvalho", "Dubois", "Ellison", "Fischer", "Gallo", "Hughes",
         "Ivanova", "Jensen", "Kowalski", "Lindgren", "Moreau", "Novak", "Okoro", "Patel")
_FIRMS = ("Harper Logistics", "Greenfield Farms", "Northwind Traders", "Bright Dental",
          "Copperleaf Builders", "Delta Print Works", "Evergreen Cafe", "Foxglove Studio",
          "Granite Engineering", "Hollow Oak Joinery", "Iris Pharmacy", "Juno Textiles",
          "Keystone Motors", "Lumen Electrical", "Maple Bakery", "Nimbus Software",
          "Orchard Wines", "Pioneer Freight", "Quill Legal", "Redbrick Properties",
          "Silverline Travel", "Tidewater Fisheries", "Upland Dairy", "Vista Optics",
          "Willow Care Homes", "Yardley Plumbing")
_SCHEMA = {
    "BRNCH_MSTR": ('"BRNCH_CD" CHAR(4) PRIMARY KEY', '"BRNCH_NM" VARCHAR(30) NOT NULL',
                   '"RGN_CD" VARCHAR(5) NOT NULL', '"OPEN_DT" DATE NOT NULL'),
    "CUST_MSTR": ('"CUST_NO" INTEGER PRIMARY KEY', '"CUST_NM" VARCHAR(40) NOT NULL',
                  '"CUST_TYP_CD" VARCHAR(4) NOT NULL', '"SEG_CD" VARCHAR(8) NOT NULL',
                  '"BRNCH_CD" CHAR(4) NOT NULL REFERENCES "BRNCH_MSTR" ("BRNCH_CD")',
                  '"RISK_RTG_CD" VARCHAR(6) NOT NULL', '"CTRY_CD" CHAR(2) NOT NULL',
                  '"OPEN_DT" DATE NOT NULL', '"BIRTH_DT" DATE'),
    "ACCT_MSTR": ('"ACCT_NO" VARCHAR(10) PRIMARY KEY',
                  '"CUST_NO" INTEGER NOT NULL REFERENCES "CUST_MSTR" ("CUST_NO")',
                  '"BRNCH_CD" CHAR(4) NOT NULL REFERENCES "BRNCH_MSTR" ("BRNCH_CD")',
                  '"ACCT_TYP_CD" VARCHAR(4) NOT NULL', '"CCY_CD" CHAR(3) NOT NULL',
                  '"ACCT_STAT_CD" VARCHAR(8) NOT NULL', '"OPEN_DT" DATE NOT NULL',
                  '"CLS_DT" DATE', '"CUR_BAL_AMT" DECIMAL(18,2) NOT NULL',
                  '"OD_LMT_AMT" DECIMAL(18,2) NOT NULL'),
    "TXN_HIST": ('"TXN_ID" INTEGER PRIMARY KEY',
                 '"ACCT_NO" VARCHAR(10) NOT NULL REFERENCES "ACCT_MSTR" ("ACCT_NO")',
                 '"TXN_TYP_CD" VARCHAR(4) NOT NULL', '"DR_CR_IND" CHAR(1) NOT NULL',
                 '"TXN_AMT" DECIMAL(18,2) NOT NULL', '"CCY_CD" CHAR(3) NOT NULL',
                 '"POST_DT" DATE NOT NULL', '"VAL_DT" DATE NOT NULL',
                 '"CHNL_CD" VARCHAR(6) NOT NULL',
                 '"CTR_ACCT_NO" VARCHAR(10) REFERENCES "ACCT_MSTR" ("ACCT_NO")'),
}
# Transaction type: debit or credit, and the channels it comes through.
_TXN = {"DEP": ("C", ("ATM", "BRANCH", "MOBILE")), "WDL": ("D", ("ATM", "BRANCH")),
        "XFER": ("D", ("ONLINE", "MOBILE", "BRANCH")), "FEE": ("D", ("BATCH",)),
        "INT": ("C", ("BATCH",))}


def _rows(seed: int) -> dict[str, list[tuple[object, ...]]]:
    rng = random.Random(seed)
    branches = [(code, name, region, (date(1985, 1, 1) + timedelta(days=rng.randrange(12000)))
                 .isoformat()) for code, name, region in _BRANCHES]
    people = rng.sample([f"{f} {last}" for f in _FIRST for last in _LAST], 96)
    customers = []
    for n, name in enumerate([*people, *_FIRMS], start=1):
        firm = name in _FIRMS
        kind = rng.choice(("CORP", "SME", "SME")) if firm else "IND"
        segment = rng.choice(("MASS", "MASS", "MASS", "AFFLUENT", "PRIVATE")) if not firm \
            else "BUSINESS"
        opened = date(2005, 1, 1) + timedelta(days=rng.randrange(7990))
        birth = None if firm else (date(1950, 1, 1) + timedelta(days=rng.randrange(18000)))
        customers.append((100_000 + n, name, kind, segment, rng.choice(_BRANCHES)[0],
                          rng.choice(("LOW", "LOW", "MEDIUM", "HIGH")),
                          rng.choice(("GB", "GB", "GB", "IE", "FR", "DE")), opened.isoformat(),
                          birth.isoformat() if birth else None))
    accounts = []
    for n in range(1, 181):
        customer = customers[(n - 1) % len(customers)] if n <= len(customers) \
            else rng.choice(customers)
        kind = rng.choice(("CHK", "CHK", "SAV", "SAV", "TD", "LOAN"))
        opened = max(date.fromisoformat(customer[7]),
                     date(2008, 1, 1) + timedelta(days=rng.randrange(6900)))
        status = rng.choice(("ACTIVE",) * 7 + ("DORMANT", "CLOSED"))
        closed = opened + timedelta(days=rng.randrange(30, 2000)) if status == "CLOSED" else None
        if closed and closed > AS_OF:
            closed = AS_OF - timedelta(days=rng.randrange(1, 60))
        balance = 0.0 if status == "CLOSED" else round(
            -rng.uniform(5_000, 400_000) if kind == "LOAN" else rng.lognormvariate(8.5, 1.3), 2)
        branch = customer[4] if rng.random() < 0.8 else rng.choice(_BRANCHES)[0]
        accounts.append((f"AC{n:08d}", customer[0], branch, kind,
                         rng.choice(("GBP",) * 6 + ("EUR", "USD")), status, opened.isoformat(),
                         closed.isoformat() if closed else None, balance,
                         rng.choice((0, 0, 500, 1000, 2500)) if kind == "CHK" else 0))
    live = [a for a in accounts if a[5] != "CLOSED" and a[3] in ("CHK", "SAV")]
    txns = []
    for _ in range(640):
        account = rng.choice(live)
        kind = rng.choice(("DEP", "DEP", "WDL", "WDL", "XFER", "XFER", "FEE", "INT"))
        sign, channels = _TXN[kind]
        posted = AS_OF - timedelta(days=rng.randrange(0, 150))
        value = posted - timedelta(days=rng.choice((0, 0, 0, 1, 2)))
        amount = round(rng.uniform(1, 35) if kind in ("FEE", "INT") else
                       rng.lognormvariate(5.5, 1.2), 2)
        contra = rng.choice(live)[0] if kind == "XFER" else None
        txns.append((account[0], kind, sign, amount, account[4], posted.isoformat(),
                     value.isoformat(), rng.choice(channels), contra))
    txns.sort(key=lambda t: (t[5], t[0]))
    return {"BRNCH_MSTR": branches, "CUST_MSTR": customers, "ACCT_MSTR": accounts,
            "TXN_HIST": [(9_000_001 + i, *t) for i, t in enumerate(txns)]}


def build(path: Path, postgres_url: str | None = None, seed: int = 15) -> Path:
    """Write the core-banking extract to SQLite at `path` (replaced), and to the empty
    PostgreSQL database at `postgres_url` when given; return `path`."""
    rows = _rows(seed)
    return write_warehouse([Table(name, columns, rows[name])
                            for name, columns in _SCHEMA.items()], path, postgres_url)
