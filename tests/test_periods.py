"""Relative periods resolved against the as-of date, as the demo's ops semantics define them."""

from __future__ import annotations

from datetime import date

import pytest

from copilot.core.periods import find_period, format_period

FRIDAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("words", "start", "end"),
    [
        ("fails today", "2026-11-20", "2026-11-20"),
        ("breaks yesterday", "2026-11-19", "2026-11-19"),
        ("netting sets for value date tomorrow", "2026-11-21", "2026-11-21"),
        ("fails this week", "2026-11-16", "2026-11-20"),
        ("fails week to date", "2026-11-16", "2026-11-20"),
        ("fails last week", "2026-11-09", "2026-11-15"),
        ("fails this month", "2026-11-01", "2026-11-20"),
        ("fails MTD", "2026-11-01", "2026-11-20"),
        ("fails month to date", "2026-11-01", "2026-11-20"),
        ("notional traded last month", "2026-10-01", "2026-10-31"),
        ("trades this year", "2026-01-01", "2026-11-20"),
        ("trades YTD", "2026-01-01", "2026-11-20"),
        ("fails in the last 30 days", "2026-10-22", "2026-11-20"),
        ("fails 2 weeks ago", "2026-11-02", "2026-11-08"),
        ("fails the week before last", "2026-11-02", "2026-11-08"),
        ("fails two months ago", "2026-09-01", "2026-09-30"),
        ("fails 3 days ago", "2026-11-17", "2026-11-17"),
        ("fails from 2026-11-02 to 2026-11-08", "2026-11-02", "2026-11-08"),
        ("fails between 2026-11-08 and 2026-11-02", "2026-11-02", "2026-11-08"),
        ("fails on 2026-11-03", "2026-11-03", "2026-11-03"),
        ("fails in the past 7 days", "2026-11-14", "2026-11-20"),
        ("pending in the next 5 days", "2026-11-21", "2026-11-25"),
        ("trades booked in October", "2026-10-01", "2026-10-31"),
        ("trades booked in December", "2025-12-01", "2025-12-31"),
        ("trades in Q1", "2026-01-01", "2026-03-31"),
        ("exceptions since 2026-11-02", "2026-11-02", "2026-11-20"),
        ("fails in the last two days", "2026-11-19", "2026-11-20"),
        ("fails since 1 September", "2026-09-01", "2026-11-20"),
        ("fails since the start of October", "2026-10-01", "2026-11-20"),
        ("fails since the start of Q3", "2026-07-01", "2026-11-20"),
        ("fails since the beginning of the month", "2026-11-01", "2026-11-20"),
        ("counterparties onboarded before 2015", "1900-01-01", "2014-12-31"),
        ("trades in 2025", "2025-01-01", "2025-12-31"),
        ("settlements next week", "2026-11-23", "2026-11-29"),
        ("trades maturing next month", "2026-12-01", "2026-12-31"),
        ("fails this quarter", "2026-10-01", "2026-11-20"),
        ("trades last quarter", "2026-07-01", "2026-09-30"),
    ],
)
def test_periods_resolve_to_inclusive_dates(words: str, start: str, end: str) -> None:
    period = find_period(words, FRIDAY)
    assert period is not None, words
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


def test_no_period_and_fixed_periods() -> None:
    assert find_period("open exceptions by analyst", FRIDAY) is None
    assert not find_period("since 2026-11-02", FRIDAY).relative
    assert find_period("this week", FRIDAY).relative


def test_periods_move_with_the_as_of_date() -> None:
    monday = date(2026, 11, 23)
    assert find_period("this week", monday).start == monday
    assert find_period("last week", monday).start == date(2026, 11, 16)
    assert find_period("last month", date(2026, 1, 5)).start == date(2025, 12, 1)


def test_format_period_reads_well() -> None:
    assert format_period(find_period("this month", FRIDAY)) == "1-20 Nov 2026"
    assert format_period(find_period("today", FRIDAY)) == "20 Nov 2026"
    assert format_period(find_period("last 30 days", FRIDAY)) == "22 Oct - 20 Nov 2026"
