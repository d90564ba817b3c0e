"""A third ops domain for the engine: collateral management and margin calls.

A bank's collateral ops team works margin calls under its collateral agreements (CSA for
derivatives, GMRA for repo, GMSLA for securities lending): every business day a call is
issued to, or received from, a counterparty; it is agreed or disputed, and settled by
collateral movements (cash, government or corporate bonds, equities) on their value dates.
Disputes are tracked until resolved, and calls are worked by the margin analysts of three
regional teams.

Column names follow yet another house style than the OTC demo and the payments warehouse
(`cpty_id`, `agmt_id`, `ccy`, `call_amt_usd`, `call_dt`, `agreed_ts`, `mkt_val_usd`,
`haircut_pct`, `sts`), so that the engine's schema words and abbreviations are exercised.
`margin_calls` references both its agreement and, denormalised as in many collateral
systems, its counterparty: two foreign-key paths to `counterparties`, which the glossary's
`join_paths` settles. Deterministic for a seed; stdlib only; builds in well under a second.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path

__all__ = ["build_collateral_warehouse"]

_SCHEMA = """
CREATE TABLE teams (
    team_id INTEGER PRIMARY KEY, team_nm VARCHAR(40) NOT NULL, location VARCHAR(20) NOT NULL
);
CREATE TABLE analysts (
    analyst_id INTEGER PRIMARY KEY, analyst_nm VARCHAR(40) NOT NULL,
    team_id INTEGER NOT NULL REFERENCES teams (team_id)
);
CREATE TABLE counterparties (
    cpty_id INTEGER PRIMARY KEY, cpty_nm VARCHAR(20) NOT NULL UNIQUE,
    legal_nm VARCHAR(80) NOT NULL, region VARCHAR(4) NOT NULL, sector VARCHAR(16) NOT NULL,
    credit_rating VARCHAR(4) NOT NULL, tier VARCHAR(10) NOT NULL, onboarded_dt DATE NOT NULL
);
CREATE TABLE agreements (
    agmt_id VARCHAR(8) PRIMARY KEY,
    cpty_id INTEGER NOT NULL REFERENCES counterparties (cpty_id),
    agmt_type VARCHAR(5) NOT NULL, base_ccy CHAR(3) NOT NULL,
    threshold_usd DECIMAL(18,2) NOT NULL, min_transfer_usd DECIMAL(18,2) NOT NULL,
    signed_dt DATE NOT NULL, agmt_status VARCHAR(10) NOT NULL, terminated_dt DATE
);
CREATE TABLE margin_calls (
    call_id VARCHAR(8) PRIMARY KEY,
    agmt_id VARCHAR(8) NOT NULL REFERENCES agreements (agmt_id),
    cpty_id INTEGER NOT NULL REFERENCES counterparties (cpty_id),
    call_dt DATE NOT NULL, due_dt DATE NOT NULL, call_type VARCHAR(2) NOT NULL,
    direction VARCHAR(8) NOT NULL, call_amt_usd DECIMAL(18,2) NOT NULL, ccy CHAR(3) NOT NULL,
    call_status VARCHAR(10) NOT NULL, agreed_ts TIMESTAMP, settled_ts TIMESTAMP,
    analyst_id INTEGER REFERENCES analysts (analyst_id)
);
CREATE TABLE collateral_movements (
    movement_id INTEGER PRIMARY KEY,
    call_id VARCHAR(8) NOT NULL REFERENCES margin_calls (call_id),
    asset_type VARCHAR(10) NOT NULL, isin CHAR(12), mkt_val_usd DECIMAL(18,2) NOT NULL,
    haircut_pct DECIMAL(5,2) NOT NULL, value_dt DATE NOT NULL, sts VARCHAR(8) NOT NULL
);
CREATE TABLE disputes (
    dispute_id INTEGER PRIMARY KEY,
    call_id VARCHAR(8) NOT NULL REFERENCES margin_calls (call_id),
    raised_ts TIMESTAMP NOT NULL, resolved_ts TIMESTAMP,
    diff_amt_usd DECIMAL(18,2) NOT NULL, dispute_reason VARCHAR(20) NOT NULL
);
"""

_TEAMS = ((1, "Margin EMEA", "London"), (2, "Margin Americas", "New York"),
          (3, "Margin APAC", "Singapore"))
# Analysts by team; a call is worked by an analyst of its counterparty's region's team.
_ANALYSTS = {"EMEA": ("A. Mensah", "B. Kowalski", "C. Okafor"),
             "AMER": ("D. Rivera", "E. Schultz", "F. Nguyen"),
             "APAC": ("G. Tan", "H. Sato", "I. Kapoor")}
_TEAM_OF_REGION = {"EMEA": 1, "AMER": 2, "APAC": 3}

# (short name, legal name, region, sector, rating, tier)
_CPTYS = (
    ("NORDEA", "Nordea Bank Abp", "EMEA", "BANK", "AA", "CORE"),
    ("RABOBANK", "Cooperatieve Rabobank U.A.", "EMEA", "BANK", "A", "CORE"),
    ("SANTANDER", "Banco Santander S.A.", "EMEA", "BANK", "A", "CORE"),
    ("ING", "ING Bank N.V.", "EMEA", "BANK", "A", "CORE"),
    ("COMMERZBANK", "Commerzbank AG", "EMEA", "BANK", "BBB", "STANDARD"),
    ("LLOYDS", "Lloyds Bank plc", "EMEA", "BANK", "A", "CORE"),
    ("NATWEST", "NatWest Markets plc", "EMEA", "BANK", "A", "STANDARD"),
    ("AVIVA", "Aviva Investors Ltd", "EMEA", "INSURER", "A", "STANDARD"),
    ("LEGAL_GENERAL", "Legal & General Assurance Society", "EMEA", "INSURER", "AA", "STANDARD"),
    ("APG", "APG Asset Management N.V.", "EMEA", "PENSION", "AA", "STANDARD"),
    ("MARSHALL_WACE", "Marshall Wace LLP", "EMEA", "HEDGE_FUND", "BB", "WATCH"),
    ("SCHRODERS", "Schroders Investment Management", "EMEA", "ASSET_MANAGER", "A", "STANDARD"),
    ("WELLS_FARGO", "Wells Fargo Bank N.A.", "AMER", "BANK", "A", "CORE"),
    ("BNY", "The Bank of New York Mellon", "AMER", "BANK", "AA", "CORE"),
    ("STATE_STREET", "State Street Bank and Trust", "AMER", "BANK", "AA", "CORE"),
    ("MILLENNIUM", "Millennium Partners L.P.", "AMER", "HEDGE_FUND", "BB", "WATCH"),
    ("TWO_SIGMA", "Two Sigma Investments LP", "AMER", "HEDGE_FUND", "BBB", "STANDARD"),
    ("CALPERS", "California Public Employees Retirement System", "AMER", "PENSION", "AA",
     "STANDARD"),
    ("VANGUARD", "The Vanguard Group Inc", "AMER", "ASSET_MANAGER", "AA", "STANDARD"),
    ("METLIFE", "Metropolitan Life Insurance Co", "AMER", "INSURER", "A", "STANDARD"),
    ("CARGILL", "Cargill Incorporated", "AMER", "CORPORATE", "BBB", "WATCH"),
    ("DBS", "DBS Bank Ltd", "APAC", "BANK", "AA", "CORE"),
    ("MACQUARIE", "Macquarie Bank Limited", "APAC", "BANK", "A", "CORE"),
    ("ANZ", "Australia and New Zealand Banking Group", "APAC", "BANK", "AA", "CORE"),
    ("MUFG", "MUFG Bank Ltd", "APAC", "BANK", "A", "CORE"),
    ("TEMASEK", "Temasek Holdings Pte Ltd", "APAC", "PENSION", "AA", "STANDARD"),
    ("GIC", "GIC Private Limited", "APAC", "PENSION", "AA", "STANDARD"),
    ("AIA", "AIA Company Limited", "APAC", "INSURER", "A", "STANDARD"),
    ("TOYOTA_TSUSHO", "Toyota Tsusho Corporation", "APAC", "CORPORATE", "BBB", "WATCH"),
    ("NOMURA_AM", "Nomura Asset Management Co", "APAC", "ASSET_MANAGER", "BBB", "STANDARD"),
)
# Onboarded this year and still negotiating their documents: no agreement yet, so that
# "counterparties without an agreement" has an answer.
_NO_AGREEMENT = {"TOYOTA_TSUSHO", "NOMURA_AM"}
_BASE_CCY = {"EMEA": ("EUR", "EUR", "GBP"), "AMER": ("USD",), "APAC": ("USD", "JPY", "AUD")}
_REASONS = ("VALUATION",) * 7 + ("PORTFOLIO_MISMATCH",) * 6 + ("LATE_CALL",) * 3 + (
    "THRESHOLD_MTA",) * 2 + ("ELIGIBILITY",) * 2
# Haircut ranges by asset type, in percent: cash none, sovereigns small, equities large.
_HAIRCUT = {"CASH": (0.0, 0.0), "GOVT_BOND": (0.5, 4.0), "CORP_BOND": (5.0, 15.0),
            "EQUITY": (15.0, 25.0)}
_ASSETS = ("CASH",) * 11 + ("GOVT_BOND",) * 6 + ("CORP_BOND",) * 2 + ("EQUITY",)


def _business_days_after(day: date, n: int) -> date:
    """The n-th business day after `day` (weekends skipped; no holiday calendar)."""
    while n:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _isin_pool(rng: random.Random) -> dict[str, list[str]]:
    """A fixed pool of ISINs per security type, so the same bonds recur across calls."""
    def isin(prefix: str) -> str:
        # Country prefix, national number and a check digit: 12 characters.
        return prefix + "".join(rng.choice("0123456789") for _ in range(12 - len(prefix)))

    return {"GOVT_BOND": [isin(p) for p in ("US912828", "DE000110", "GB00B128", "JP11200")
                          for _ in range(4)],
            "CORP_BOND": [isin(p) for p in ("XS2", "US0") for _ in range(6)],
            "EQUITY": [isin(p) for p in ("US0378", "GB0002", "NL00001", "JP3633")
                       for _ in range(2)]}


def build_collateral_warehouse(path: Path, as_of: date = date(2026, 11, 20),
                               seed: int = 11) -> Path:
    """Write the collateral warehouse to `path` (replaced if present) and return it.

    Calls span the year up to `as_of`; collateral value dates run a few business days past
    it, so "upcoming" deliveries exist. Nothing is timestamped after 17:00 on `as_of`.
    """
    rng = random.Random(seed)
    cutoff = datetime.combine(as_of, time(17, 0))
    path.unlink(missing_ok=True)
    isins = _isin_pool(rng)
    with sqlite3.connect(path) as db:
        db.executescript(_SCHEMA)
        db.executemany("INSERT INTO teams VALUES (?, ?, ?)", _TEAMS)
        analyst_ids: dict[str, list[int]] = {}
        n = 0
        for region, names in _ANALYSTS.items():
            for name in names:
                n += 1
                analyst_ids.setdefault(region, []).append(n)
                db.execute("INSERT INTO analysts VALUES (?, ?, ?)",
                           (n, name, _TEAM_OF_REGION[region]))

        # Counterparties and their agreements. Every documented firm has a CSA; banks
        # usually repo with us too (GMRA), buy-side firms sometimes lend securities (GMSLA).
        agreements: list[tuple] = []
        for cpty_id, (short, legal, region, sector, rating, tier) in enumerate(_CPTYS, 1):
            onboarded = (as_of - timedelta(days=rng.randrange(30, 200))
                         if short in _NO_AGREEMENT
                         else date(2008, 1, 1) + timedelta(days=rng.randrange(5800)))
            db.execute("INSERT INTO counterparties VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (cpty_id, short, legal, region, sector, rating, tier,
                        onboarded.isoformat()))
            if short in _NO_AGREEMENT:
                continue
            types = ["CSA"]
            if sector == "BANK" and rng.random() < 0.7:
                types.append("GMRA")
            if sector in ("ASSET_MANAGER", "PENSION", "INSURER") and rng.random() < 0.5:
                types.append("GMSLA")
            for agmt_type in types:
                signed = onboarded + timedelta(days=rng.randrange(20, 400))
                if signed > as_of - timedelta(days=20):
                    signed = as_of - timedelta(days=rng.randrange(20, 60))
                # Bank-to-bank CSAs are zero-threshold under the margin rules; others not.
                threshold = 0 if sector == "BANK" else rng.choice(
                    (0, 250_000, 1_000_000, 5_000_000, 10_000_000))
                mta = rng.choice((50_000, 100_000, 250_000, 500_000))
                agreements.append([f"AGR{len(agreements) + 1:04d}", cpty_id, agmt_type,
                                   rng.choice(_BASE_CCY[region]), float(threshold),
                                   float(mta), signed.isoformat(), "ACTIVE", None, region])
        # A few agreements terminated during the year (calls stop then), and two recent
        # CSAs that have not produced a call yet ("agreements without any call").
        for agmt in rng.sample(agreements, 4):
            agmt[7] = "TERMINATED"
            agmt[8] = (as_of - timedelta(days=rng.randrange(40, 300))).isoformat()
        quiet = {a[0] for a in rng.sample([a for a in agreements if a[7] == "ACTIVE"], 2)}
        for agmt in agreements:
            if agmt[0] in quiet:
                agmt[6] = (as_of - timedelta(days=rng.randrange(3, 12))).isoformat()
        db.executemany("INSERT INTO agreements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [tuple(a[:9]) for a in agreements])

        calls: list[tuple] = []
        movements: list[tuple] = []
        disputes: list[tuple] = []
        day = as_of - timedelta(days=364)
        while day <= as_of:
            if day.weekday() >= 5:
                day += timedelta(days=1)
                continue
            for agmt_id, cpty_id, agmt_type, base_ccy, _thr, mta, signed, _st, ended, region \
                    in agreements:
                if agmt_id in quiet or day.isoformat() < signed \
                        or (ended and day.isoformat() >= ended):
                    continue
                # Repo and lending agreements call less often than derivatives CSAs.
                if rng.random() > (0.2 if agmt_type == "CSA" else 0.08):
                    continue
                calls.append(_call(rng, len(calls) + 1, day, as_of, cutoff, agmt_id, cpty_id,
                                   base_ccy, mta, region, analyst_ids, movements, disputes,
                                   isins))
            day += timedelta(days=1)
        db.executemany("INSERT INTO margin_calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       calls)
        db.executemany("INSERT INTO collateral_movements VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       movements)
        db.executemany("INSERT INTO disputes VALUES (?, ?, ?, ?, ?, ?)", disputes)
    return path


def _ts(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds")


def _call(rng: random.Random, number: int, day: date, as_of: date, cutoff: datetime,
          agmt_id: str, cpty_id: int, base_ccy: str, mta: float, region: str,
          analyst_ids: dict[str, list[int]], movements: list[tuple], disputes: list[tuple],
          isins: dict[str, list[str]]) -> tuple:
    """One margin call with its lifecycle; appends its movements and dispute, if any."""
    call_id = f"MC{number:06d}"
    due = _business_days_after(day, 1)
    call_type = "IM" if rng.random() < 0.15 else "VM"
    direction = "ISSUED" if rng.random() < 0.55 else "RECEIVED"
    # No call is made for less than the minimum transfer amount: a smaller draw is moved
    # to a few times the MTA (spread out, so amounts do not tie in rankings).
    amount = rng.lognormvariate(14.3, 1.25)
    if amount < mta:
        amount = mta * rng.uniform(1.05, 4.0)
    amount = round(amount, 2)
    ccy = base_ccy if rng.random() < 0.85 else "USD"
    # Fresh calls are still being worked: nobody may have picked them up yet.
    age = (as_of - day).days
    analyst = None if rng.random() < (0.35 if age < 5 else 0.06) \
        else rng.choice(analyst_ids[region])
    issued_at = datetime.combine(day, time(8)) + timedelta(minutes=rng.randrange(180))
    agreed = settled = None

    roll = rng.random()
    if roll < 0.03:
        status = "CANCELLED"
    elif roll < 0.15:
        # Disputed on the call date; most disputes older than a week are resolved (within
        # hours to weeks, on a business day), then the call is agreed and settled.
        raised = issued_at + timedelta(minutes=rng.randrange(60, 480))
        resolved = raised + timedelta(hours=rng.randrange(6, 24 * 20))
        if resolved.weekday() >= 5:
            resolved += timedelta(days=7 - resolved.weekday())
        if resolved > cutoff or (age > 7 and rng.random() < 0.1):
            resolved = None
        if raised > cutoff:
            raised = cutoff - timedelta(minutes=rng.randrange(30, 300))
        disputes.append((len(disputes) + 1, call_id, _ts(raised),
                         _ts(resolved) if resolved else None,
                         round(amount * rng.uniform(0.04, 0.7), 2), rng.choice(_REASONS)))
        if resolved is None:
            status = "DISPUTED"
        else:
            agreed = resolved
            settled = datetime.combine(_business_days_after(agreed.date(), 1), time(10)) \
                + timedelta(minutes=rng.randrange(420))
            status = "SETTLED" if settled <= cutoff else "AGREED"
    else:
        # Most calls are agreed the same day; some only the next business morning.
        agreed = issued_at + timedelta(minutes=rng.randrange(20, 600)) \
            if rng.random() < 0.85 else datetime.combine(due, time(9)) + timedelta(
                minutes=rng.randrange(60))
        # Late by a few business days when a delivery failed and had to be re-delivered.
        late = rng.randrange(1, 5) if rng.random() < 0.04 else 0
        settled = datetime.combine(_business_days_after(due, late), time(10)) + timedelta(
            minutes=rng.randrange(420))
        stuck = rng.random()
        if agreed > cutoff:
            status = "OPEN"
        elif stuck < 0.025:
            status = "OPEN"  # never answered by the other side: overdue
        elif settled > cutoff or stuck < 0.045:
            status = "AGREED"
        else:
            status = "SETTLED"
    if status in ("OPEN", "DISPUTED", "CANCELLED"):
        agreed = None
    if status != "SETTLED":
        settled = None

    if status in ("AGREED", "SETTLED"):
        settle_day = settled.date() if settled else due
        _movements(rng, call_id, amount, settle_day, as_of, status, movements, isins)
    return (call_id, agmt_id, cpty_id, day.isoformat(), due.isoformat(), call_type,
            direction, amount, ccy, status, _ts(agreed) if agreed else None,
            _ts(settled) if settled else None, analyst)


def _movements(rng: random.Random, call_id: str, amount: float, settle_day: date, as_of: date,
               status: str, movements: list[tuple], isins: dict[str, list[str]]) -> None:
    """Split an agreed call into 1-3 deliveries whose post-haircut value covers it."""
    parts = 1 if rng.random() < 0.6 else rng.choice((2, 2, 3))
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    for weight in weights:
        asset = rng.choice(_ASSETS)
        low, high = _HAIRCUT[asset]
        haircut = round(rng.uniform(low, high), 1)
        value = round(amount * weight / sum(weights) / (1 - haircut / 100), 2)
        # Securities settle a business day after cash.
        value_day = settle_day if asset == "CASH" else _business_days_after(settle_day, 1)
        isin = None if asset == "CASH" else rng.choice(isins[asset])
        if status == "SETTLED":
            if rng.random() < 0.05:  # failed first, then re-delivered and settled
                failed_day = value_day - timedelta(days=1)
                while failed_day.weekday() >= 5:
                    failed_day -= timedelta(days=1)
                movements.append((len(movements) + 1, call_id, asset, isin, value, haircut,
                                  failed_day.isoformat(), "FAILED"))
            sts = "SETTLED"
        else:
            # Agreed but not settled: a delivery in the future is pending; one whose value
            # date has passed has failed (that is why the call is still outstanding).
            sts = "PENDING" if value_day >= as_of else rng.choice(("FAILED", "FAILED",
                                                                    "PENDING"))
        movements.append((len(movements) + 1, call_id, asset, isin, value, haircut,
                          value_day.isoformat(), sts))
