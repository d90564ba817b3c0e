"""The operations workflow around the demo trades: confirmations and exception cases.

Confirmations age like real ones: today's trades are mostly still pending, last year's are
signed. Exception cases are derived from the data (breaks, fails, netting breaks, missing
instructions, amendments), so every open case points at a row that explains it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from copilot.demo.columns import (
    DAY,
    Column,
    Table,
    choose,
    choose_by_group,
    later,
    lognormal_seconds,
)
from copilot.demo.generator import FX_TO_USD, TradeArrays
from copilot.demo.reference import PRODUCTS, ReferenceData
from copilot.demo.settlement_flow import (
    EXCEPTION,
    EXCEPTION_REASONS,
    FAIL_REASONS,
    PENDING,
    SETTLED,
    NettingArrays,
    SettlementArrays,
)

__all__ = ["ConfirmationArrays", "generate_confirmations", "generate_exceptions"]

PLATFORMS = ("MARKITWIRE", "DTCC", "SWIFT", "PAPER", "EMAIL")
CONFIRMATION_STATUSES = ("PENDING", "UNMATCHED", "DISPUTED", "MATCHED", "CONFIRMED")
C_PENDING, C_UNMATCHED, C_DISPUTED, C_MATCHED, C_CONFIRMED = range(5)
BREAK_REASONS = ("ECONOMIC_MISMATCH", "RATE_MISMATCH", "DATE_MISMATCH", "NOTIONAL_MISMATCH",
                 "MISSING_COUNTERPARTY_CONFIRM")
EXCEPTION_TYPES = ("CONFIRMATION_BREAK", "SETTLEMENT_FAIL", "NETTING_BREAK", "MISSING_SSI",
                   "TRADE_AMENDMENT")
PRIORITIES = ("HIGH", "MEDIUM", "LOW")
CASE_STATUSES = ("OPEN", "IN_PROGRESS", "RESOLVED")
# Per product: weights of MARKITWIRE, DTCC, SWIFT, PAPER, EMAIL.
_PLATFORM_MIX = {
    "IRS": (78, 5, 2, 5, 10), "OIS": (80, 5, 2, 4, 9), "CCS": (65, 5, 5, 10, 15),
    "FX_FORWARD": (5, 5, 70, 5, 15), "FX_SWAP": (5, 5, 72, 3, 15),
    "FX_OPTION": (25, 5, 35, 10, 25), "CDS": (25, 60, 2, 5, 8), "CDX": (30, 62, 1, 2, 5),
    "EQUITY_SWAP": (45, 15, 2, 18, 20), "EQUITY_OPTION": (40, 20, 2, 18, 20),
    "COMMODITY_SWAP": (35, 5, 5, 25, 30),
}
# Per exception type: median days to resolve, and log10 of a typical amount in USD (priority).
_RESOLVE_DAYS = (1.5, 2.0, 1.5, 3.0, 0.8)
_TYPICAL_LOG_USD = (7.3, 5.5, 6.6, 5.5, 7.3)
_NEVER = np.iinfo(np.int64).max // 2


@dataclass(frozen=True, eq=False)
class ConfirmationArrays:
    """Per-confirmation arrays (row i confirms trade i)."""

    platform: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    sent_s: np.ndarray
    matched_s: np.ndarray


def generate_confirmations(trades: TradeArrays, rng: np.random.Generator,
                           as_of_day: int) -> tuple[Table, ConfirmationArrays]:
    """One confirmation per trade; young trades are likelier to be pending or broken."""
    n = len(trades.trade_day)
    eod = as_of_day * DAY + DAY - 1
    platform = choose_by_group(rng, trades.product,
                               np.array([_PLATFORM_MIX[p] for p in PRODUCTS], dtype=float))
    manual = platform >= PLATFORMS.index("PAPER")
    age = (as_of_day - trades.trade_day).astype(float)
    slow = np.where(manual, 2.0, 1.0)  # paper and e-mail take longer and break more
    p_pending = np.minimum(0.9, slow * (0.50 * np.exp(-age / 1.2) + 0.003))
    p_break = np.minimum(0.5, slow * (0.10 * np.exp(-age / 8) + 0.008))
    p_matched = 0.25 * np.exp(-age / 5) + 0.01
    u = rng.random(n)
    status = np.full(n, C_CONFIRMED)
    status[u < p_pending + p_break + p_matched] = C_MATCHED
    status[u < p_pending + p_break] = C_UNMATCHED
    status[u < p_pending] = C_PENDING
    # Breaks that linger turn into disputes.
    disputed = rng.random(n) < 0.2 + 0.4 * (1 - np.exp(-age / 20))
    status[(status == C_UNMATCHED) & disputed] = C_DISPUTED
    reason = choose_by_group(rng, manual.astype(np.int64),
                             np.array([[22, 20, 14, 16, 28], [15, 12, 12, 16, 45]]))

    sent = later(rng, trades.created_s, np.where(
        manual, lognormal_seconds(rng, 3 * 3600, 0.8, n), lognormal_seconds(rng, 240, 1.0, n)),
        eod)
    matched = later(rng, sent, np.where(
        manual, lognormal_seconds(rng, 2 * DAY, 0.8, n), lognormal_seconds(rng, 2400, 1.2, n)),
        eod)
    confirmed = later(rng, matched, np.where(
        manual, lognormal_seconds(rng, 3 * DAY, 0.8, n), lognormal_seconds(rng, 3 * 3600, 1.0, n)),
        eod)
    broken = (status == C_UNMATCHED) | (status == C_DISPUTED)
    table = Table("confirmations", (
        Column("confirmation_id", "int", np.arange(1, n + 1)),
        Column("trade_id", "text", trades.trade_ids),
        Column("platform", "code", platform, labels=PLATFORMS),
        Column("method", "code", manual.astype(np.int64), labels=("ELECTRONIC", "MANUAL")),
        Column("status", "code", status, labels=CONFIRMATION_STATUSES),
        Column("sent_at", "timestamp", sent),
        Column("matched_at", "timestamp", matched, nulls=status < C_MATCHED),
        Column("confirmed_at", "timestamp", confirmed, nulls=status != C_CONFIRMED),
        Column("break_reason", "code", reason, nulls=~broken, labels=BREAK_REASONS),
    ))
    return table, ConfirmationArrays(platform=platform, status=status, reason=reason,
                                     sent_s=sent, matched_s=matched)


@dataclass(frozen=True, eq=False)
class _Cases:
    """Exception cases of one kind before they are merged and numbered."""

    kind: int
    trade: np.ndarray  # -1 = no trade
    opened_s: np.ndarray
    resolve_s: np.ndarray  # when it gets resolved; _NEVER = still open whatever its age
    amount_usd: np.ndarray
    severity: np.ndarray
    descriptions: list[str]


def _words(code: str) -> str:
    return code.replace("_", " ").lower()


def generate_exceptions(ref: ReferenceData, trades: TradeArrays, conf: ConfirmationArrays,
                        sett: SettlementArrays, nets: NettingArrays,
                        rng: np.random.Generator, as_of_day: int) -> Table:
    """The ops_exceptions table, derived from breaks, fails, netting breaks and amendments."""
    eod = as_of_day * DAY + DAY - 1
    names = [p.short_name for p in ref.counterparties]
    ccys = ref.currencies
    ids = trades.trade_ids
    notional_usd = trades.notional_usd_cents / 100.0
    cases = []

    # Current confirmation breaks stay open until the confirmation matches.
    rows = np.flatnonzero((conf.status == C_UNMATCHED) | (conf.status == C_DISPUTED))
    disputed = conf.status[rows] == C_DISPUTED
    cases.append(_Cases(
        0, rows, later(rng, conf.sent_s[rows], lognormal_seconds(rng, 7200, 1.0, len(rows)), eod),
        np.full(len(rows), _NEVER), notional_usd[rows], np.where(disputed, 0.3, 0.0),
        [f"{'Disputed' if d else 'Unmatched'} {PLATFORMS[p]} confirmation for {ids[i]} with "
         f"{names[c]}: {_words(BREAK_REASONS[r])}." for i, d, p, c, r in zip(
             rows.tolist(), disputed.tolist(), conf.platform[rows].tolist(),
             trades.counterparty[rows].tolist(), conf.reason[rows].tolist(), strict=True)]))
    # Past breaks, resolved when the confirmation finally matched.
    gap = conf.matched_s - conf.sent_s
    rows = np.flatnonzero((conf.status >= C_MATCHED) & (gap >= 120)
                          & (rng.random(len(gap)) < 0.04))
    reason = choose(rng, [22, 20, 14, 16, 28], len(rows))
    cases.append(_Cases(
        0, rows, conf.sent_s[rows] + (gap[rows] * rng.uniform(0.05, 0.5, len(rows))).astype(
            np.int64), conf.matched_s[rows], notional_usd[rows], np.zeros(len(rows)),
        [f"{PLATFORMS[p]} confirmation for {ids[i]} with {names[c]} did not match: "
         f"{_words(BREAK_REASONS[r])}." for i, p, c, r in zip(
             rows.tolist(), conf.platform[rows].tolist(), trades.counterparty[rows].tolist(),
             reason.tolist(), strict=True)]))

    # Every fail opens a case after the cut-off on its value date.
    rows = np.flatnonzero(sett.failed_ever)
    t = sett.trade[rows]
    opened = sett.day[rows] * DAY + 10 * 3600 + rng.integers(0, 6 * 3600, len(rows))
    reason = sett.fail_reason[rows]
    cured = sett.status[rows] == SETTLED
    cases.append(_Cases(
        1, t, opened, np.where(cured, sett.settled_s[rows], _planned(rng, 1, opened)),
        sett.amount_usd_cents[rows] / 100.0,
        np.select([reason == 4, reason == 1], [1.0, 0.3], 0.0),
        [f"{ccys[y]} {a / 100:,.2f} {'payment to' if p else 'receipt from'} {names[c]} "
         f"failed on {_date(d)}: {_words(FAIL_REASONS[r])}." for y, a, p, c, d, r in zip(
             sett.currency[rows].tolist(), sett.amount_cents[rows].tolist(),
             sett.pay[rows].tolist(), trades.counterparty[t].tolist(),
             sett.day[rows].tolist(), reason.tolist(), strict=True)]))
    # Missing instructions: behind some SSI fails, and found early on some pending flows.
    ssi = sett.failed_ever & (sett.fail_reason == 0) & (rng.random(len(sett.day)) < 0.5)
    early = (sett.status == PENDING) & (sett.day > as_of_day)
    early &= rng.random(len(sett.day)) < 0.006
    rows = np.flatnonzero(ssi | early)
    t = sett.trade[rows]
    before = (as_of_day - rng.integers(0, 6, len(rows))) * DAY
    before += rng.integers(8 * 3600, 18 * 3600, len(rows))
    opened = np.where(ssi[rows], sett.day[rows] * DAY + 11 * 3600
                      + rng.integers(0, 5 * 3600, len(rows)),
                      np.minimum(eod, np.maximum(before, trades.created_s[t] + 3600)))
    cases.append(_Cases(
        3, t, opened, _planned(rng, 3, opened), sett.amount_usd_cents[rows] / 100.0,
        np.zeros(len(rows)),
        [f"No standing settlement instructions on file for {names[c]} in {ccys[y]} "
         f"(settlement {s + 1}, value date {_date(d)})." for c, y, s, d in zip(
             trades.counterparty[t].tolist(), sett.currency[rows].tolist(), rows.tolist(),
             sett.day[rows].tolist(), strict=True)]))

    # Netting breaks: on the value date, or up to three days ahead for future sets.
    rows = np.flatnonzero(nets.status == EXCEPTION)
    day = nets.day[rows]
    when = np.minimum(day, as_of_day - rng.integers(0, 4, len(rows)) * (day > as_of_day))
    opened = np.maximum(when * DAY + rng.integers(9 * 3600, 17 * 3600, len(rows)),
                        nets.last_created_s[rows] + 600)
    opened = np.minimum(opened, eod)
    fx = np.array([FX_TO_USD[c] for c in ccys])[nets.currency[rows]]
    gross = np.maximum(nets.pay_cents[rows], nets.receive_cents[rows]) * fx / 100.0
    cases.append(_Cases(
        2, np.where(rng.random(len(rows)) < 0.7, nets.first_trade[rows], -1), opened,
        _planned(rng, 2, opened), gross, np.zeros(len(rows)),
        [f"Netting set {s + 1} with {names[c]} in {ccys[y]} for {_date(d)}: "
         f"{_words(EXCEPTION_REASONS[r])}." for s, c, y, d, r in zip(
             rows.tolist(), nets.counterparty[rows].tolist(), nets.currency[rows].tolist(),
             day.tolist(), nets.reason[rows].tolist(), strict=True)]))

    rows = np.flatnonzero(trades.amended & (rng.random(len(trades.amended)) < 0.4))
    opened = later(rng, trades.amended_s[rows], lognormal_seconds(rng, 1200, 1.0, len(rows)), eod)
    cases.append(_Cases(
        4, rows, opened, _planned(rng, 4, opened), notional_usd[rows], np.zeros(len(rows)),
        [f"{ids[i]} amended after booking; re-check the confirmation and settlement "
         "instructions." for i in rows.tolist()]))
    return _case_table(ref, ids, cases, rng, eod)


def _planned(rng: np.random.Generator, kind: int, opened: np.ndarray) -> np.ndarray:
    """When a case gets resolved: lognormal delay; a few cases get stuck and age."""
    n = len(opened)
    delay = lognormal_seconds(rng, _RESOLVE_DAYS[kind] * DAY, 1.0, n)
    return np.where(rng.random(n) < 0.03, _NEVER, opened + np.maximum(delay, 300))


def _date(day: int) -> str:
    return str(np.datetime64(day, "D"))


def _case_table(ref: ReferenceData, trade_ids: np.ndarray, cases: list[_Cases],
                rng: np.random.Generator, eod: int) -> Table:
    """Merge the cases, number them by opening time and decide status, owner and priority."""
    kind = np.concatenate([np.full(len(c.trade), c.kind) for c in cases])
    trade = np.concatenate([c.trade for c in cases])
    opened = np.concatenate([c.opened_s for c in cases])
    resolve = np.concatenate([c.resolve_s for c in cases])
    amount = np.concatenate([c.amount_usd for c in cases])
    severity = np.concatenate([c.severity for c in cases])
    descriptions = np.array([d for c in cases for d in c.descriptions], dtype=object)
    order = np.argsort(opened, kind="stable")
    kind, trade, opened, resolve = kind[order], trade[order], opened[order], resolve[order]
    amount, severity, descriptions = amount[order], severity[order], descriptions[order]
    n = len(kind)

    resolved = resolve <= eod
    age_days = (np.where(resolved, resolve, eod) - opened) / DAY
    in_progress = ~resolved & (rng.random(n) < 0.25 + 0.55 * (1 - np.exp(-age_days / 1.5)))
    status = np.where(resolved, 2, np.where(in_progress, 1, 0))
    # Someone owns every case that is being worked or was closed; half the new ones wait.
    unassigned = (status == 0) & (rng.random(n) < 0.5)
    analysts = np.linspace(1.3, 0.8, len(ref.ops_analysts))
    analyst = choose(rng, analysts, n)
    # Priority: size relative to the case type's typical amount, plus severity and ageing.
    score = np.log10(np.maximum(amount, 1.0)) - np.array(_TYPICAL_LOG_USD)[kind]
    score += severity + np.minimum(0.5, 0.05 * age_days * ~resolved)
    score += 0.35 * rng.standard_normal(n)
    priority = np.where(score > 0.6, 0, np.where(score < -0.35, 2, 1))
    return Table("ops_exceptions", (
        Column("exception_id", "int", np.arange(1, n + 1)),
        Column("trade_id", "code", np.maximum(trade, 0), nulls=trade < 0,
               labels=trade_ids),
        Column("exception_type", "code", kind, labels=EXCEPTION_TYPES),
        Column("priority", "code", priority, labels=PRIORITIES),
        Column("status", "code", status, labels=CASE_STATUSES),
        Column("assigned_to", "code", analyst, nulls=unassigned, labels=ref.ops_analysts),
        Column("opened_at", "timestamp", opened),
        Column("resolved_at", "timestamp", np.where(resolved, resolve, 0), nulls=~resolved),
        Column("description", "text", descriptions),
    ))
