"""Vectorised generation of the demo warehouse: reference tables and trades.

Dates are int64 days since 1970-01-01 and timestamps int64 seconds since the epoch until the
writer encodes them, so every rule below is a numpy expression over whole columns. All
randomness comes from generators spawned from `numpy.random.default_rng(seed)`: the same seed,
as-of date and trade count give the same rows. The column types and the draws every
generator shares are in columns.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np

from copilot.demo.columns import (
    DAY,
    Column,
    Table,
    business_days,
    choose,
    choose_by_group,
    later,
    lognormal_seconds,
)
from copilot.demo.reference import ASSET_CLASS_OF_PRODUCT, PRODUCTS, ReferenceData

__all__ = [
    "ASSET_CLASSES", "FX_TO_USD", "TRADE_STATUSES", "Books", "TradeArrays", "generate_trades",
    "reference_tables",
]

ASSET_CLASSES = ("RATES", "FX", "CREDIT", "EQUITY", "COMMODITY")
TRADE_STATUSES = ("LIVE", "MATURED", "TERMINATED", "CANCELLED")
DIRECTIONS = ("BUY", "SELL")
CLEARING = ("CLEARED", "BILATERAL")
VENUES = ("VOICE", "SEF", "MTF", "BLOOMBERG", "TRADEWEB")
# Fixed USD value of one unit of each currency: the demo needs stable, plausible conversions.
FX_TO_USD = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067, "CHF": 1.13, "AUD": 0.66,
             "CAD": 0.73, "SGD": 0.75}


@dataclass(frozen=True, eq=False)
class Books:
    """The books table as arrays: desk index, legal entity index and code of each book."""

    codes: tuple[str, ...]
    desk: np.ndarray
    entity: np.ndarray


@dataclass(frozen=True, eq=False)
class TradeArrays:
    """Per-trade arrays the later tables derive from (row i is trade_id trade_ids[i])."""

    trade_ids: np.ndarray
    trade_day: np.ndarray
    effective_day: np.ndarray
    maturity_day: np.ndarray
    product: np.ndarray
    counterparty: np.ndarray
    entity: np.ndarray
    buy: np.ndarray
    currency: np.ndarray
    notional_cents: np.ndarray
    notional_usd_cents: np.ndarray
    cleared: np.ndarray
    status: np.ndarray
    created_s: np.ndarray
    amended_s: np.ndarray
    amended: np.ndarray


def _day(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


def _lei(short_name: str) -> str:
    """A well-formed, stable LEI: LOU prefix, '00', 12 characters, ISO 7064 check digits."""
    digest = hashlib.sha256(short_name.encode()).digest()
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    prefix = ("5493", "2138", "7245", "9695", "5299", "8156")[digest[0] % 6]
    body = prefix + "00" + "".join(alphabet[b % 36] for b in digest[1:13])
    number = int("".join(str(int(ch, 36)) for ch in body + "00"))
    return f"{body}{98 - number % 97:02d}"


# Books per (desk code, entity code) where a desk runs more than one; every pair has >= 1.
_EXTRA_BOOKS = {("RATES", "BANK-LDN"): 3, ("RATES", "BANK-NY"): 2, ("FX", "BANK-LDN"): 2,
                ("FX", "BANK-NY"): 2, ("CREDIT", "BANK-LDN"): 2}


def reference_tables(ref: ReferenceData, rng: np.random.Generator,
                     as_of_day: int) -> tuple[tuple[Table, Table, Table], Books]:
    """legal_entities, counterparties and books, exactly as the reference file names them."""
    entities = Table("legal_entities", (
        Column("legal_entity_id", "int", np.arange(1, len(ref.legal_entities) + 1)),
        Column("code", "text", [e.code for e in ref.legal_entities]),
        Column("name", "text", [e.name for e in ref.legal_entities]),
        Column("country", "text", [e.country for e in ref.legal_entities]),
    ))
    parties = ref.counterparties
    n = len(parties)
    # Onboarded between 15 years and ~26 months before as-of: before the first demo trade.
    onboarded = as_of_day - rng.integers(790, 15 * 365, n)
    counterparties = Table("counterparties", (
        Column("counterparty_id", "int", np.arange(1, n + 1)),
        Column("short_name", "text", [p.short_name for p in parties]),
        Column("legal_name", "text", [p.legal_name for p in parties]),
        Column("lei", "text", [_lei(p.short_name) for p in parties]),
        Column("country", "text", [p.country for p in parties]),
        Column("sector", "text", [p.sector for p in parties]),
        Column("credit_rating", "text", [p.credit_rating for p in parties],
               nulls=np.array([p.credit_rating is None for p in parties])),
        Column("is_ccp", "bool", np.array([p.is_ccp for p in parties])),
        Column("onboarded_date", "date", business_days(onboarded)),
    ))
    codes, desks, ents = [], [], []
    for d, desk in enumerate(ref.desks):
        for e, entity in enumerate(ref.legal_entities):
            for number in range(1, _EXTRA_BOOKS.get((desk.code, entity.code), 1) + 1):
                codes.append(f"{desk.code}-{entity.code.split('-')[-1]}-{number:02d}")
                desks.append(d)
                ents.append(e)
    books = Books(codes=tuple(codes), desk=np.array(desks), entity=np.array(ents))
    book_table = Table("books", (
        Column("book_id", "int", np.arange(1, len(codes) + 1)),
        Column("book_code", "text", list(codes)),
        Column("desk", "code", books.desk, labels=[d.name for d in ref.desks]),
        Column("legal_entity_id", "int", books.entity + 1),
        Column("region", "code", books.entity,
               labels=[e.region for e in ref.legal_entities]),
    ))
    return (entities, counterparties, book_table), books


# Per product: share of trades, median notional (USD millions), lognormal sigma, P(cleared).
_PRODUCT_MIX = {
    "IRS": (0.22, 50.0, 0.9, 0.72), "OIS": (0.10, 100.0, 0.9, 0.80),
    "CCS": (0.05, 40.0, 0.8, 0.0), "FX_FORWARD": (0.15, 10.0, 1.0, 0.0),
    "FX_SWAP": (0.11, 25.0, 1.0, 0.0), "FX_OPTION": (0.06, 15.0, 0.9, 0.0),
    "CDS": (0.08, 10.0, 0.6, 0.30), "CDX": (0.05, 50.0, 0.7, 0.85),
    "EQUITY_SWAP": (0.06, 15.0, 0.9, 0.0), "EQUITY_OPTION": (0.05, 5.0, 1.0, 0.0),
    "COMMODITY_SWAP": (0.07, 8.0, 0.9, 0.0),
}
# Per product: (tenor in months, weight); 0.23 months is the one-week FX tenor.
_TENORS = {
    "IRS": ((24, 12), (36, 12), (60, 22), (84, 10), (120, 22), (180, 8), (240, 6), (360, 8)),
    "OIS": ((3, 15), (6, 20), (12, 30), (24, 15), (36, 10), (60, 10)),
    "CCS": ((12, 15), (24, 20), (36, 20), (60, 25), (84, 10), (120, 10)),
    "FX_FORWARD": ((0.23, 10), (1, 25), (2, 20), (3, 20), (6, 15), (12, 10)),
    "FX_SWAP": ((0.23, 25), (1, 30), (2, 15), (3, 15), (6, 10), (12, 5)),
    "FX_OPTION": ((1, 25), (2, 20), (3, 25), (6, 20), (12, 10)),
    "CDS": ((12, 5), (36, 15), (60, 60), (84, 10), (120, 10)),
    "CDX": ((36, 10), (60, 70), (84, 10), (120, 10)),
    "EQUITY_SWAP": ((3, 25), (6, 30), (12, 30), (24, 15)),
    "EQUITY_OPTION": ((1, 20), (3, 30), (6, 25), (12, 15), (24, 10)),
    "COMMODITY_SWAP": ((3, 20), (6, 25), (12, 30), (24, 15), (36, 10)),
}
# Per product: weights of VOICE, SEF, MTF, BLOOMBERG, TRADEWEB.
_VENUES = {
    "IRS": (20, 30, 15, 10, 25), "OIS": (15, 30, 20, 10, 25), "CCS": (55, 5, 10, 15, 15),
    "FX_FORWARD": (30, 2, 18, 40, 10), "FX_SWAP": (35, 2, 20, 33, 10),
    "FX_OPTION": (50, 5, 15, 25, 5), "CDS": (45, 15, 10, 20, 10), "CDX": (15, 45, 15, 15, 10),
    "EQUITY_SWAP": (75, 0, 5, 20, 0), "EQUITY_OPTION": (70, 0, 10, 20, 0),
    "COMMODITY_SWAP": (70, 5, 5, 20, 0),
}
_ENTITY_SHARE = {"BANK-LDN": 0.50, "BANK-NY": 0.33, "BANK-SG": 0.17}
_CCY_BY_ENTITY = {
    "BANK-LDN": {"USD": 30, "EUR": 36, "GBP": 18, "JPY": 4, "CHF": 5, "AUD": 2, "CAD": 2, "SGD": 3},
    "BANK-NY": {"USD": 65, "EUR": 15, "GBP": 4, "JPY": 5, "CHF": 2, "AUD": 2, "CAD": 6, "SGD": 1},
    "BANK-SG": {"USD": 40, "EUR": 12, "GBP": 4, "JPY": 18, "CHF": 2, "AUD": 12, "CAD": 1,
                "SGD": 11},
}
_CCY_DEFAULT = {"USD": 45, "EUR": 27, "GBP": 9, "JPY": 7, "CHF": 3, "AUD": 4, "CAD": 3, "SGD": 2}
# Credit indices and commodities trade almost only in the major currencies.
_CCY_BY_PRODUCT = {"CDS": {"USD": 55, "EUR": 35, "GBP": 5, "JPY": 5},
                   "CDX": {"USD": 70, "EUR": 30},
                   "COMMODITY_SWAP": {"USD": 85, "EUR": 10, "GBP": 5}}
# Per asset class: weights of BANK, HEDGE_FUND, ASSET_MANAGER, CORPORATE, INSURER counterparties.
_SECTOR_MIX = {
    "RATES": (55, 10, 13, 10, 12), "FX": (55, 15, 10, 17, 3), "CREDIT": (55, 30, 10, 0, 5),
    "EQUITY": (45, 35, 12, 3, 5), "COMMODITY": (45, 15, 2, 35, 3),
}
_DEALER_SIZE = {"JPMORGAN": 1.6, "GOLDMAN": 1.5, "CITI": 1.3, "BARCLAYS": 1.3,
                "MORGAN_STANLEY": 1.3, "DEUTSCHE": 1.2, "HSBC": 1.2, "BNP": 1.1}
_REGION_OF_COUNTRY = {"US": "AMER", "CA": "AMER", "JP": "APAC", "SG": "APAC", "AU": "APAC",
                      "HK": "APAC", "CN": "APAC"}
# CCP choice for cleared trades: rates (default, EUR, USD booked in the Americas), credit
# (default, EUR); columns LCH, CME, EUREX, ICE.
_CCP_MIX = ((62, 25, 13, 0), (55, 7, 38, 0), (45, 50, 5, 0), (15, 0, 0, 85), (45, 0, 0, 55))


def _counterparty_tables(ref: ReferenceData) -> tuple[np.ndarray, np.ndarray]:
    """Weight tables over counterparties: bilateral by (asset class, entity), CCP by group."""
    parties = ref.counterparties
    n_ent = len(ref.legal_entities)
    sectors = ("BANK", "HEDGE_FUND", "ASSET_MANAGER", "CORPORATE", "INSURER")
    per_sector = {s: sum(p.sector == s for p in parties) or 1 for s in sectors}
    bilateral = np.zeros((len(ASSET_CLASSES) * n_ent, len(parties)))
    for a, asset_class in enumerate(ASSET_CLASSES):
        for e, entity in enumerate(ref.legal_entities):
            for c, party in enumerate(parties):
                if party.is_ccp:
                    continue
                weight = _SECTOR_MIX[asset_class][sectors.index(party.sector)]
                weight *= _DEALER_SIZE.get(party.short_name, 1.0) / per_sector[party.sector]
                # Entities trade more with counterparties from their own region.
                if _REGION_OF_COUNTRY.get(party.country, "EMEA") == entity.region:
                    weight *= 2.5
                bilateral[a * n_ent + e, c] = weight
    ccps = np.zeros((len(_CCP_MIX), len(parties)))
    names = ("LCH", "CME", "EUREX", "ICE")
    for c, party in enumerate(parties):
        if party.is_ccp:
            ccps[:, c] = [row[names.index(party.short_name)] for row in _CCP_MIX]
    ccps[ccps.sum(axis=1) == 0] = [p.is_ccp for p in parties]
    return bilateral, ccps


def _trade_days(rng: np.random.Generator, as_of: dt.date, n: int) -> np.ndarray:
    """Weekday trade dates over the two years to as-of, volume growing towards as-of."""
    try:
        start = as_of.replace(year=as_of.year - 2)
    except ValueError:  # 29 February
        start = as_of.replace(year=as_of.year - 2, day=28)
    days = np.arange(_day(start) + 1, _day(as_of) + 1)
    days = days[(days + 3) % 7 < 5]  # 1970-01-01 was a Thursday
    growth = (days - days[0]) / max(1, days[-1] - days[0])
    weights = np.exp(np.log(2.4) * growth) * rng.gamma(16.0, 1 / 16, len(days))
    # One trade reserved for each of the last ten weekdays: "today" and "this week" are never
    # empty, even in a small warehouse.
    reserved = min(n, 10, len(days))
    counts = rng.multinomial(n - reserved, weights / weights.sum())
    counts[len(days) - reserved:] += 1
    return np.repeat(days, counts)


def generate_trades(ref: ReferenceData, books: Books, rng: np.random.Generator,
                    as_of: dt.date, n: int) -> tuple[Table, TradeArrays]:
    """The trades table and the per-trade arrays that confirmations and settlements use."""
    as_of_day, n_ent = _day(as_of), len(ref.legal_entities)
    eod = as_of_day * DAY + DAY - 1
    trade_day = _trade_days(rng, as_of, n)
    product = choose(rng, [_PRODUCT_MIX[p][0] for p in PRODUCTS], n)
    mix = np.array([_PRODUCT_MIX[p] for p in PRODUCTS])
    asset = np.array([ASSET_CLASSES.index(ASSET_CLASS_OF_PRODUCT[p]) for p in PRODUCTS])[product]
    desk = np.array([ref.desks.index(ref.desk_of_product(p)) for p in PRODUCTS])[product]
    entity = choose(rng, [_ENTITY_SHARE.get(e.code, 0.2) for e in ref.legal_entities], n)

    book_weights = np.zeros((len(ref.desks) * n_ent, len(books.codes)))
    for b, code in enumerate(books.codes):
        rank = int(code.rsplit("-", 1)[1]) - 1  # book 01 carries most of the flow
        book_weights[books.desk[b] * n_ent + books.entity[b], b] = (0.6, 0.3, 0.1)[min(rank, 2)]
    book = choose_by_group(rng, desk * n_ent + entity, book_weights)

    profiles = [_CCY_BY_ENTITY.get(e.code, _CCY_DEFAULT) for e in ref.legal_entities]
    profiles += list(_CCY_BY_PRODUCT.values())
    ccy_table = np.array([[p.get(c, 0) for c in ref.currencies] for p in profiles], dtype=float)
    ccy_table[ccy_table.sum(axis=1) == 0] = 1.0
    override = np.array([list(_CCY_BY_PRODUCT).index(p) if p in _CCY_BY_PRODUCT else -1
                         for p in PRODUCTS])[product]
    currency = choose_by_group(rng, np.where(override >= 0, n_ent + override, entity), ccy_table)
    fx = np.array([FX_TO_USD[c] for c in ref.currencies])[currency]

    usd = mix[product, 1] * 1e6 * np.exp(mix[product, 2] * rng.standard_normal(n))
    local = np.clip(usd, 2.5e5, 4e9) / fx
    step = 10.0 ** (np.floor(np.log10(local)) - 2)  # dealers book round notionals: 3 digits
    local = np.rint(local / step) * step
    notional_cents = np.rint(local * 100).astype(np.int64)
    notional_usd_cents = np.rint(local * fx * 100).astype(np.int64)

    cleared = rng.random(n) < mix[product, 3]
    bilateral_w, ccp_w = _counterparty_tables(ref)
    eur = np.array([c == "EUR" for c in ref.currencies])[currency]
    usd_amer = np.array([c == "USD" for c in ref.currencies])[currency] & (
        np.array([e.region == "AMER" for e in ref.legal_entities])[entity])
    credit = asset == ASSET_CLASSES.index("CREDIT")
    ccp_group = np.where(credit, 3 + eur, np.where(eur, 1, np.where(usd_amer, 2, 0)))
    counterparty = np.where(cleared, choose_by_group(rng, ccp_group, ccp_w),
                            choose_by_group(rng, asset * n_ent + entity, bilateral_w))

    tenor_months = np.zeros((len(PRODUCTS), 8))
    tenor_weights = np.zeros((len(PRODUCTS), 8))
    for p, name in enumerate(PRODUCTS):
        for k, (months, weight) in enumerate(_TENORS[name]):
            tenor_months[p, k], tenor_weights[p, k] = months, weight
    tenor = tenor_months[product, choose_by_group(rng, product, tenor_weights)]
    lag = np.where(credit, 1, 2)  # T+1 step-in for CDS, spot T+2 elsewhere
    forward_start = np.isin(product, [PRODUCTS.index("IRS"), PRODUCTS.index("CCS")])
    forward_start &= rng.random(n) < 0.08
    lag = lag + np.where(forward_start, rng.integers(20, 260, n), 0)
    effective_day = business_days(trade_day, lag)
    maturity_day = business_days(effective_day + np.rint(tenor * 30.4375).astype(np.int64))

    age_years = (as_of_day - trade_day) / 365.0
    status = np.zeros(n, dtype=np.int64)
    status[rng.random(n) < 0.02 + 0.03 * age_years] = TRADE_STATUSES.index("TERMINATED")
    status[rng.random(n) < 0.012] = TRADE_STATUSES.index("CANCELLED")
    status[maturity_day < as_of_day] = TRADE_STATUSES.index("MATURED")

    created_s = trade_day * DAY + (7 * 3600 + rng.beta(2.2, 3.0, n) * 12 * 3600).astype(np.int64)
    amended = rng.random(n) < 0.07
    amended_s = later(rng, created_s, lognormal_seconds(rng, 1.5 * DAY, 1.3, n), eod)
    traders = np.zeros((len(ref.desks), len(ref.traders)))
    for t in range(len(ref.traders)):  # trader t sits on desk t mod n; the first is busiest
        traders[t % len(ref.desks), t] = 1.0 / (1 + 0.3 * (t // len(ref.desks)))
    trader = choose_by_group(rng, desk, traders)
    buy = rng.random(n) < 0.52
    venue = choose_by_group(rng, product, np.array([_VENUES[p] for p in PRODUCTS], dtype=float))

    width = max(7, len(str(n)))
    trade_ids = np.array([f"TRD{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
    table = Table("trades", (
        Column("trade_id", "text", trade_ids),
        Column("trade_date", "date", trade_day),
        Column("effective_date", "date", effective_day),
        Column("maturity_date", "date", maturity_day),
        Column("product_type", "code", product, labels=PRODUCTS),
        Column("asset_class", "code", asset, labels=ASSET_CLASSES),
        Column("counterparty_id", "int", counterparty + 1),
        Column("book_id", "int", book + 1),
        Column("trader", "code", trader, labels=ref.traders),
        Column("direction", "code", (~buy).astype(np.int64), labels=DIRECTIONS),
        Column("notional", "money", notional_cents),
        Column("currency", "code", currency, labels=ref.currencies),
        Column("notional_usd", "money", notional_usd_cents),
        Column("clearing", "code", (~cleared).astype(np.int64), labels=CLEARING),
        Column("ccp", "code", counterparty, nulls=~cleared,
               labels=[p.short_name for p in ref.counterparties]),
        Column("execution_venue", "code", venue, labels=VENUES),
        Column("status", "code", status, labels=TRADE_STATUSES),
        Column("created_at", "timestamp", created_s),
        Column("amended_at", "timestamp", amended_s, nulls=~amended),
    ))
    arrays = TradeArrays(
        trade_ids=trade_ids, trade_day=trade_day, effective_day=effective_day,
        maturity_day=maturity_day, product=product, counterparty=counterparty,
        entity=books.entity[book], buy=buy, currency=currency, notional_cents=notional_cents,
        notional_usd_cents=notional_usd_cents, cleared=cleared, status=status,
        created_s=created_s, amended_s=amended_s, amended=amended,
    )
    return table, arrays
