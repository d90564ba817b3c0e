"""Cash flows of the demo trades: settlements and the bilateral netting sets over them.

Every trade carries a schedule of cash-flow legs (coupons, principal exchanges, premiums,
upfronts, fees); only flows whose value date falls in the settlement window (90 days before
as-of to 30 days after) become settlement rows. Netting sets group bilateral flows by
(counterparty, currency, value date); a netting set's outcome decides its members' outcome,
because the net payment is what actually moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from copilot.demo.columns import DAY, Column, Table, business_days, choose, choose_by_group
from copilot.demo.generator import FX_TO_USD, TRADE_STATUSES, TradeArrays
from copilot.demo.reference import PRODUCTS, ReferenceData

__all__ = ["NettingArrays", "SettlementArrays", "generate_settlements"]

WINDOW_BEFORE, WINDOW_AFTER = 90, 30
SETTLEMENT_STATUSES = ("PENDING", "SETTLED", "FAILED", "CANCELLED")
PENDING, SETTLED, FAILED, CANCELLED = range(4)
FLOW_TYPES = ("COUPON", "PREMIUM", "PRINCIPAL", "FEE", "UPFRONT")
FAIL_REASONS = ("SSI_MISMATCH", "INSUFFICIENT_FUNDS", "LATE_INSTRUCTION", "COUNTERPARTY_FAIL",
                "SANCTIONS_HOLD")
NETTING_STATUSES = ("PROPOSED", "AGREED", "EXCEPTION", "SETTLED")
PROPOSED, AGREED, EXCEPTION, NET_SETTLED = range(4)
EXCEPTION_REASONS = ("AMOUNT_DISAGREEMENT", "MISSING_TRADE", "LATE_AGREEMENT")
BASE_FAIL_RATE = 0.028
# Short-term rates by currency, for coupon amounts.
_RATE = {"USD": 0.043, "EUR": 0.022, "GBP": 0.040, "JPY": 0.005, "CHF": 0.006, "AUD": 0.038,
         "CAD": 0.030, "SGD": 0.028}
# Second currency of FX and cross-currency trades dealt in USD.
_USD_PAIRS = {"EUR": 50, "JPY": 20, "GBP": 15, "CAD": 5, "AUD": 5, "CHF": 5}
_NOSTROS = {"USD": 3, "EUR": 3, "GBP": 2, "JPY": 2}


@dataclass(frozen=True)
class _Leg:
    """One cash-flow leg of a product's schedule.

    `pays` is P(we pay) for a BUY trade and for a SELL trade; `gate` names a per-trade draw that
    legs share (an FX option's two exercise legs exist together or not at all).
    """

    products: tuple[str, ...]
    flow: str
    schedule: str  # periodic | start | end | fee
    amount: str  # rate | cds | perf | commodity | principal | counter | premium | upfront | fee
    pays: tuple[float, float]
    period: int = 0
    other_currency: bool = False
    gate: str = ""


_BUY_PAYS, _SELL_PAYS, _EITHER = (1.0, 0.0), (0.0, 1.0), (0.5, 0.5)
_LEGS = (
    _Leg(("IRS",), "COUPON", "periodic", "rate", _BUY_PAYS, period=91),  # fixed leg
    _Leg(("IRS",), "COUPON", "periodic", "rate", _SELL_PAYS, period=91),  # floating leg
    _Leg(("OIS",), "COUPON", "periodic", "rate", _BUY_PAYS, period=365),  # annual fixed
    _Leg(("OIS",), "COUPON", "periodic", "rate", _SELL_PAYS, period=365),  # compounded float
    _Leg(("CCS",), "COUPON", "periodic", "rate", _BUY_PAYS, period=91),
    _Leg(("CCS",), "COUPON", "periodic", "rate", _SELL_PAYS, period=91, other_currency=True),
    _Leg(("CCS", "FX_SWAP"), "PRINCIPAL", "start", "principal", _SELL_PAYS),
    _Leg(("CCS", "FX_SWAP"), "PRINCIPAL", "start", "counter", _BUY_PAYS, other_currency=True),
    _Leg(("CCS", "FX_SWAP"), "PRINCIPAL", "end", "principal", _BUY_PAYS),
    _Leg(("CCS", "FX_SWAP"), "PRINCIPAL", "end", "counter", _SELL_PAYS, other_currency=True),
    _Leg(("FX_FORWARD", "FX_OPTION"), "PRINCIPAL", "end", "principal", _SELL_PAYS,
         gate="exercise"),
    _Leg(("FX_FORWARD", "FX_OPTION"), "PRINCIPAL", "end", "counter", _BUY_PAYS,
         other_currency=True, gate="exercise"),
    _Leg(("FX_OPTION", "EQUITY_OPTION"), "PREMIUM", "start", "premium", _BUY_PAYS),
    _Leg(("CDS", "CDX"), "COUPON", "periodic", "cds", _BUY_PAYS, period=91),
    _Leg(("CDS", "CDX"), "UPFRONT", "start", "upfront", _EITHER, gate="upfront"),
    _Leg(("EQUITY_SWAP",), "COUPON", "periodic", "rate", _BUY_PAYS, period=30),  # funding
    _Leg(("EQUITY_SWAP",), "COUPON", "periodic", "perf", _SELL_PAYS, period=30),  # performance
    _Leg(("COMMODITY_SWAP",), "COUPON", "periodic", "commodity", _EITHER, period=30),
    _Leg(PRODUCTS, "FEE", "fee", "fee", (0.9, 0.9), gate="fee"),  # brokerage, clearing fees
)
# Share of trades for which a gated leg exists; forwards always deliver.
_GATES = {"exercise": {"FX_FORWARD": 1.0, "FX_OPTION": 0.4}, "upfront": 0.85, "fee": 0.04}


@dataclass(frozen=True, eq=False)
class SettlementArrays:
    """Per-settlement arrays the exception cases derive from (row i is settlement_id i+1)."""

    trade: np.ndarray
    day: np.ndarray
    currency: np.ndarray
    amount_cents: np.ndarray
    amount_usd_cents: np.ndarray
    pay: np.ndarray
    status: np.ndarray
    fail_reason: np.ndarray
    failed_ever: np.ndarray
    settled_s: np.ndarray
    netting_set: np.ndarray  # index into NettingArrays, -1 when settled gross


@dataclass(frozen=True, eq=False)
class NettingArrays:
    """Per-netting-set arrays (row i is netting_set_id i+1)."""

    counterparty: np.ndarray
    currency: np.ndarray
    day: np.ndarray
    pay_cents: np.ndarray
    receive_cents: np.ndarray
    count: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    first_trade: np.ndarray
    last_created_s: np.ndarray
    settle_s: np.ndarray


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row index and position within its group for `counts[i]` copies of each row i."""
    rows = np.repeat(np.arange(len(counts)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return rows, np.arange(len(rows)) - starts


def _leg_rows(leg: _Leg, trades: TradeArrays, gate: np.ndarray, window: tuple[int, int]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trade index, value day and accrual days of the leg's flows inside the window."""
    first, last = window
    codes = [PRODUCTS.index(p) for p in leg.products]
    idx = np.flatnonzero(np.isin(trades.product, codes) & gate)
    eff, mat = trades.effective_day[idx], trades.maturity_day[idx]
    if leg.schedule == "periodic":
        length = mat - eff
        periods = np.maximum(1, np.rint(length / leg.period)).astype(np.int64)
        # Payment k falls on eff + k * length / periods, rolled to a weekday (at most +2 days).
        k_lo = np.maximum(1, np.ceil((first - 3 - eff) * periods / length)).astype(np.int64)
        k_hi = np.minimum(periods, np.floor((last - eff) * periods / length)).astype(np.int64)
        rows, offset = _expand(np.maximum(0, k_hi - k_lo + 1))
        k = k_lo[rows] + offset
        day = business_days(eff[rows] + k * length[rows] // periods[rows])
        idx, accrual = idx[rows], length[rows] / periods[rows]
    else:
        day = {"start": eff, "end": mat}.get(leg.schedule)
        if day is None:
            day = business_days(trades.trade_day[idx], 3)
        accrual = np.zeros(len(idx))
    keep = (day >= first) & (day <= last)
    return idx[keep], day[keep], accrual[keep]


def _amounts(rng: np.random.Generator, kind: np.ndarray, notional: np.ndarray,
             rate: np.ndarray, accrual: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """Flow amounts in the settlement currency, from the leg's amount rule (vectorised)."""
    n = len(kind)
    years = accrual / 360.0
    coupon = notional * np.maximum(0.0005, rate + 0.004 * rng.standard_normal(n)) * years
    cds = notional * np.where(rng.random(n) < 0.75, 0.01, 0.05) * years
    move = np.abs(rng.standard_normal(n)) * np.sqrt(np.maximum(years, 1 / 360))
    by_kind = {
        "rate": coupon, "cds": cds, "perf": notional * 0.22 * move,
        "commodity": notional * 0.10 * move,
        "principal": notional,
        "counter": notional * (1 + 0.01 * rng.standard_normal(n)),  # at the dealt rate
        "premium": notional * rng.uniform(0.004, 0.04, n),
        "upfront": notional * (0.001 + np.abs(0.025 * rng.standard_normal(n))),
        "fee": rng.uniform(250, 25_000, n) / fx,
    }
    amount = np.zeros(n)
    for name, values in by_kind.items():
        mask = kind == name
        amount[mask] = values[mask]
    return amount


def _flow_rows(trades: TradeArrays, rng: np.random.Generator, window: tuple[int, int]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Trade, value day, accrual days and leg number of every flow, in settlement_id order."""
    n_trades = len(trades.trade_day)
    gates = {}
    for name, share in _GATES.items():
        if isinstance(share, dict):
            share = np.array([share.get(p, 0.0) for p in PRODUCTS])[trades.product]
        gates[name] = rng.random(n_trades) < share
    parts = []
    for number, leg in enumerate(_LEGS):
        gate = gates[leg.gate] if leg.gate else np.ones(n_trades, dtype=bool)
        t, day, accrual = _leg_rows(leg, trades, gate, window)
        parts.append((t, day, accrual, np.full(len(t), number)))
    t, day, accrual, leg_no = (np.concatenate(cols) for cols in zip(*parts, strict=True))
    # At most four flows per trade in the window: keep a random four of a busy trade's flows.
    order = np.lexsort((rng.random(len(t)), t))
    _, rank = _expand(np.bincount(t, minlength=n_trades))
    order = order[rank < 4]
    # settlement_id follows value date, then trade, then leg.
    order = order[np.lexsort((leg_no[order], t[order], day[order]))]
    return t[order], day[order], accrual[order], leg_no[order]


def generate_settlements(ref: ReferenceData, trades: TradeArrays, rng: np.random.Generator,
                         as_of_day: int) -> tuple[Table, Table, SettlementArrays, NettingArrays]:
    """The settlements and netting_sets tables, plus arrays for the exception cases."""
    ccys, parties = ref.currencies, ref.counterparties
    n_trades = len(trades.trade_day)
    t, day, accrual, leg_no = _flow_rows(
        trades, rng, (as_of_day - WINDOW_BEFORE, as_of_day + WINDOW_AFTER))
    m = len(t)

    fx_of = np.array([FX_TO_USD[c] for c in ccys])
    usd = ccys.index("USD") if "USD" in ccys else 0
    pairs = np.array([_USD_PAIRS.get(c, 0) for c in ccys], dtype=float)
    if not pairs.any():  # a reference file without the usual pairs: any other currency
        pairs = (np.arange(len(ccys)) != usd).astype(float) + 1e-12
    other = np.where(trades.currency == usd, choose(rng, pairs, n_trades), usd)
    legs_other = np.array([leg.other_currency for leg in _LEGS])[leg_no]
    currency = np.where(legs_other, other[t], trades.currency[t])
    fx = fx_of[currency]
    notional = trades.notional_cents[t] / 100.0 * fx_of[trades.currency[t]] / fx
    kind = np.array([leg.amount for leg in _LEGS], dtype=object)[leg_no]
    rate = np.array([_RATE[c] for c in ccys])[currency]
    amount = _amounts(rng, kind, notional, rate, accrual, fx)
    whole = np.array([c == "JPY" for c in ccys])[currency]  # yen settle in whole units
    cents = np.where(whole, np.rint(amount) * 100, np.rint(amount * 100)).astype(np.int64)
    cents = np.maximum(cents, np.where(whole, 100, 1))
    usd_cents = np.maximum(1, np.rint(cents * fx)).astype(np.int64)
    pays = np.array([leg.pays for leg in _LEGS])[leg_no, (~trades.buy[t]).astype(np.int64)]
    pay = rng.random(m) < pays
    flow = np.array([FLOW_TYPES.index(leg.flow) for leg in _LEGS])[leg_no]

    # A few counterparties fail far more often than the rest; CCPs almost never fail.
    ccp = np.array([p.is_ccp for p in parties])
    multiplier = np.clip(rng.lognormal(0.0, 0.25, len(parties)), 0.6, 1.6)
    troubled = rng.choice(np.flatnonzero(~ccp), size=int(rng.integers(3, 5)), replace=False)
    multiplier[troubled] = rng.uniform(3.5, 5.0, len(troubled))
    multiplier[ccp] = 0.2
    cpty = trades.counterparty[t]
    due = day <= as_of_day
    status = np.full(m, PENDING)
    status[due] = SETTLED
    status[due & (day == as_of_day) & (rng.random(m) < 0.38)] = PENDING  # still in flight today
    status[due & (rng.random(m) < BASE_FAIL_RATE * multiplier[cpty])] = FAILED
    trade_status = trades.status[t]
    cancelled = rng.random(m) < 0.008
    cancelled |= trade_status == TRADE_STATUSES.index("CANCELLED")
    cancelled |= (trade_status == TRADE_STATUSES.index("TERMINATED")) & ~due
    status[cancelled] = CANCELLED

    # CCPs net cleared flows themselves; a flow that fails on its own is taken out of the
    # bilateral net and settled gross, as operations teams do to save the rest of the set.
    eligible = ~trades.cleared[t] & (status != CANCELLED) & (status != FAILED)
    netting_set, nets = _net(rng, trades, t, day, currency, cents, pay, eligible,
                             multiplier, as_of_day, len(parties), len(ccys))
    in_set = netting_set >= 0
    member_status = nets.status[netting_set[in_set]]
    netted = status[in_set]
    netted[member_status == NET_SETTLED] = SETTLED
    netted[(member_status == AGREED) | (member_status == PROPOSED)] = PENDING
    broken_due = (member_status == EXCEPTION) & due[in_set]
    netted[broken_due & (rng.random(len(netted)) < 0.5)] = FAILED
    status[in_set] = netted

    # Settled-late fails: the fail is history, the cash moved one to three days later.
    failed_ever = status == FAILED
    cure_day = business_days(day, rng.integers(1, 4, m))
    cured = failed_ever & (day < as_of_day - 3) & (cure_day <= as_of_day) & (rng.random(m) < 0.25)
    status[cured] = SETTLED
    settle_time = (8 * 3600 + rng.beta(2.0, 2.0, m) * 9.5 * 3600).astype(np.int64)
    settled_s = np.where(cured, cure_day, day) * DAY + settle_time
    together = in_set & ~cured  # a netted payment settles once, for all its members
    settled_s[together] = nets.settle_s[netting_set[together]]
    failed = status == FAILED
    troubled_row = np.isin(cpty, troubled).astype(np.int64)
    reason = choose_by_group(rng, troubled_row,
                             np.array([[34, 14, 30, 19, 3], [38, 12, 22, 26, 2]]))
    nostro_count = np.array([_NOSTROS.get(c, 1) for c in ccys])
    nostro = (np.cumsum(nostro_count) - nostro_count)[currency]
    nostro += trades.entity[t] % nostro_count[currency]  # each entity uses its own nostro
    nostro_labels = [f"NOSTRO-{c}-{k:02d}" for c, n in zip(ccys, nostro_count, strict=True)
                     for k in range(1, n + 1)]

    table = Table("settlements", (
        Column("settlement_id", "int", np.arange(1, m + 1)),
        Column("trade_id", "code", t, labels=trades.trade_ids),
        Column("netting_set_id", "int", netting_set + 1, nulls=~in_set),
        Column("value_date", "date", day),
        Column("currency", "code", currency, labels=ccys),
        Column("amount", "money", cents),
        Column("amount_usd", "money", usd_cents),
        Column("direction", "code", (~pay).astype(np.int64), labels=("PAY", "RECV")),
        Column("cash_flow_type", "code", flow, labels=FLOW_TYPES),
        Column("status", "code", status, labels=SETTLEMENT_STATUSES),
        Column("settled_at", "timestamp", settled_s, nulls=status != SETTLED),
        Column("fail_reason", "code", reason, nulls=~failed, labels=FAIL_REASONS),
        Column("nostro_account", "code", nostro, labels=nostro_labels),
    ))
    arrays = SettlementArrays(
        trade=t, day=day, currency=currency, amount_cents=cents, amount_usd_cents=usd_cents,
        pay=pay, status=status, fail_reason=np.where(failed, reason, -1),
        failed_ever=failed_ever, settled_s=settled_s, netting_set=netting_set,
    )
    return table, _netting_table(nets, ccys), arrays, nets


def _net(rng: np.random.Generator, trades: TradeArrays, t: np.ndarray, day: np.ndarray,
         currency: np.ndarray, cents: np.ndarray, pay: np.ndarray, eligible: np.ndarray,
         multiplier: np.ndarray, as_of_day: int, n_cpty: int, n_ccy: int
         ) -> tuple[np.ndarray, NettingArrays]:
    """Group eligible flows into netting sets; return each flow's set index (-1: gross)."""
    cpty = trades.counterparty[t]
    key = ((day - day.min(initial=0)) * n_cpty + cpty) * n_ccy + currency  # date-major ids
    rows = np.flatnonzero(eligible)
    _, inverse, counts = np.unique(key[rows], return_inverse=True, return_counts=True)
    is_set = counts >= 2
    netting_set = np.full(len(t), -1, dtype=np.int64)
    netting_set[rows] = np.where(is_set, np.cumsum(is_set) - 1, -1)[inverse.ravel()]
    members = np.flatnonzero(netting_set >= 0)
    order = members[np.argsort(netting_set[members], kind="stable")]
    sid = netting_set[order]
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]]) if len(sid) else sid
    k = len(starts)

    def total(values: np.ndarray) -> np.ndarray:  # exact int64 sums per set
        return np.add.reduceat(values, starts) if k else values[:0]

    first = order[starts]
    set_day = day[first]
    ahead = np.busday_count(np.datetime64(as_of_day, "D"), set_day.astype("datetime64[D]"))
    u = rng.random(k)
    status = np.where(set_day < as_of_day, NET_SETTLED, PROPOSED)
    status[(set_day == as_of_day)] = np.where(u[set_day == as_of_day] < 0.62, NET_SETTLED, AGREED)
    status[(set_day > as_of_day) & (u < np.where(ahead <= 2, 0.75, 0.3))] = AGREED
    # Netting breaks are likelier with the counterparties that fail most.
    p_break = np.where(set_day > as_of_day, 0.03, np.minimum(0.5, 0.02 * multiplier[cpty[first]]))
    status[rng.random(k) < p_break] = EXCEPTION
    nets = NettingArrays(
        counterparty=cpty[first], currency=currency[first], day=set_day,
        pay_cents=total(np.where(pay[order], cents[order], 0)),
        receive_cents=total(np.where(pay[order], 0, cents[order])),
        count=np.diff(np.r_[starts, len(order)]).astype(np.int64), status=status,
        reason=choose(rng, [50, 30, 20], k), first_trade=t[first],
        last_created_s=(np.maximum.reduceat(trades.created_s[t[order]], starts) if k
                        else set_day),
        settle_s=set_day * DAY + (9 * 3600 + rng.beta(2.0, 2.0, k) * 8 * 3600).astype(np.int64),
    )
    return netting_set, nets


def _netting_table(nets: NettingArrays, ccys: tuple[str, ...]) -> Table:
    """The netting_sets table; net = receive - pay holds to the cent (integer cents)."""
    k = len(nets.day)
    return Table("netting_sets", (
        Column("netting_set_id", "int", np.arange(1, k + 1)),
        Column("counterparty_id", "int", nets.counterparty + 1),
        Column("currency", "code", nets.currency, labels=ccys),
        Column("value_date", "date", nets.day),
        Column("gross_pay", "money", nets.pay_cents),
        Column("gross_receive", "money", nets.receive_cents),
        Column("net_amount", "money", nets.receive_cents - nets.pay_cents),
        Column("settlement_count", "int", nets.count),
        Column("status", "code", nets.status, labels=NETTING_STATUSES),
        Column("exception_reason", "code", nets.reason, nulls=nets.status != EXCEPTION,
               labels=EXCEPTION_REASONS),
    ))
