"""Relative time in a question, resolved in Python against the as-of date into literal dates.

"yesterday", "this week", "last month", "MTD", "last 30 days", "next 5 days", "in October",
"in Q3", "since 2026-11-02" become a Period with inclusive start and end dates, so the SQL
holds literal dates: portable across SQLite, PostgreSQL and SQL Server, reproducible in the
audit log and replayable against another as-of date.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["Period", "find_period", "format_period"]

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "fourteen": 14, "thirty": 30, "ninety": 90}
_N = r"(\d{1,4}|" + "|".join(_NUMBERS) + r")"
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))


@dataclass(frozen=True)
class Period:
    """Inclusive dates a question's period covers; `words` is the text it was read from."""

    start: date | None
    end: date | None
    words: str
    label: str
    relative: bool = True  # "this week" moves with the as-of date; "since 2026-11-02" does not


def _n(text: str) -> int:
    return _NUMBERS.get(text.lower()) or int(text)


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


Resolver = Callable[[re.Match[str]], tuple[date | None, date | None, str]]


def _rules(today: date) -> list[tuple[str, Resolver]]:
    """(pattern, resolver) pairs, most specific first; a resolver returns (start, end, label)."""
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)

    def fixed(start: date | None, end: date | None, label: str) -> Resolver:
        return lambda m: (start, end, label)

    return [
        (r"\b(?:last|past|previous|prior)\s+" + _N + r"\s+(?:business\s+|calendar\s+)?days?\b",
         lambda m: (today - timedelta(days=_n(m.group(1)) - 1), today,
                    f"last {_n(m.group(1))} days")),
        (r"\b(?:next|coming|following)\s+" + _N + r"\s+(?:business\s+|calendar\s+)?days?\b",
         lambda m: (today + timedelta(days=1), today + timedelta(days=_n(m.group(1))),
                    f"next {_n(m.group(1))} days")),
        (r"\b(?:last|past|previous)\s+" + _N + r"\s+weeks?\b",
         lambda m: (today - timedelta(days=7 * _n(m.group(1)) - 1), today,
                    f"last {_n(m.group(1))} weeks")),
        (r"\b(?:last|past|previous)\s+" + _N + r"\s+months?\b",
         lambda m: (today - timedelta(days=30 * _n(m.group(1)) - 1), today,
                    f"last {_n(m.group(1))} months")),
        (r"\b(?:from|between)\s+(\d{4}-\d{2}-\d{2})\s+(?:to|and|until|through|till)\s+"
         r"(\d{4}-\d{2}-\d{2})\b",
         lambda m: _dated(m.group(1), m.group(2))),
        (r"\bon\s+(\d{4}-\d{2}-\d{2})\b", lambda m: _dated(m.group(1), m.group(1))),
        (r"\b" + _N + r"\s+(day|week|month)s?\s+ago\b",
         lambda m: _ago(today, _n(m.group(1)), m.group(2))),
        (r"\b(?:the\s+)?(week|month)\s+before\s+last\b",
         lambda m: _ago(today, 2, m.group(1))),
        (r"\bsince\s+(\d{4}-\d{2}-\d{2})\b",
         lambda m: (date.fromisoformat(m.group(1)), today, f"since {m.group(1)}")),
        (r"\bsince\s+(?:the\s+)?(?:start|beginning)\s+of\s+(?:the\s+)?(week|month|year)\b",
         lambda m: ({"week": monday, "month": first, "year": today.replace(month=1, day=1)}[
             m.group(1)], today, f"since the start of the {m.group(1)}")),
        (r"\bsince\s+(?:the\s+)?(?:start\s+of\s+|beginning\s+of\s+)?q([1-4])\b",
         lambda m: (_quarter(today.year, int(m.group(1)))[0], today,
                    f"since Q{m.group(1)} {today.year}")),
        (r"\bsince\s+(?:the\s+)?(?:start\s+of\s+|beginning\s+of\s+)?(?:(\d{1,2})(?:st|nd|rd|th)?"
         r"\s+)?(" + _MONTH_NAMES + r")\b(?:\s+(\d{1,2})(?:st|nd|rd|th)?\b)?",
         lambda m: _since_month(today, m.group(2), m.group(1) or m.group(3))),
        (r"\bbefore\s+(\d{4})\b",
         lambda m: (date(1900, 1, 1), date(int(m.group(1)) - 1, 12, 31),
                    f"before {m.group(1)}")),
        (r"\bafter\s+(\d{4})\b",
         lambda m: (date(int(m.group(1)) + 1, 1, 1), date(9999, 12, 31),
                    f"after {m.group(1)}")),
        (r"\b(?:in|during|for|of)\s+((?:19|20)\d{2})\b",
         lambda m: (date(int(m.group(1)), 1, 1), date(int(m.group(1)), 12, 31), m.group(1))),
        (r"\b(?:today|today's|todays)\b", fixed(today, today, "today")),
        (r"\byesterday(?:'s)?\b", fixed(today - timedelta(days=1), today - timedelta(days=1),
                                        "yesterday")),
        (r"\btomorrow(?:'s)?\b", fixed(today + timedelta(days=1), today + timedelta(days=1),
                                       "tomorrow")),
        (r"\b(?:this|current)\s+week\b|\bweek\s+to\s+date\b|\bwtd\b",
         fixed(monday, today, "this week")),
        (r"\b(?:last|previous|prior)\s+week\b",
         fixed(monday - timedelta(days=7), monday - timedelta(days=1), "last week")),
        (r"\b(?:next|coming|following)\s+week\b",
         fixed(monday + timedelta(days=7), monday + timedelta(days=13), "next week")),
        (r"\b(?:next|coming|following)\s+month\b",
         lambda m: (*_month_bounds(*_next_month(today)), "next month")),
        (r"\b(?:this|current)\s+quarter\b|\bquarter\s+to\s+date\b|\bqtd\b",
         lambda m: (_quarter(today.year, (today.month - 1) // 3 + 1)[0], today, "this quarter")),
        (r"\b(?:last|previous|prior)\s+quarter\b",
         lambda m: (*_previous_quarter(today), "last quarter")),
        (r"\b(?:this|current)\s+month\b|\bmonth\s+to\s+date\b|\bmtd\b",
         fixed(first, today, "this month")),
        (r"\b(?:last|previous|prior)\s+month\b",
         fixed(last_month_end.replace(day=1), last_month_end, "last month")),
        (r"\b(?:this|current)\s+year\b|\byear\s+to\s+date\b|\bytd\b",
         fixed(today.replace(month=1, day=1), today, "this year")),
        (r"\b(?:last|previous|prior)\s+year\b",
         fixed(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), "last year")),
        (r"\b(?:in|during|for)\s+q([1-4])\b|\bq([1-4])\b",
         lambda m: (*_quarter(today.year, int(m.group(1) or m.group(2))),
                    f"Q{m.group(1) or m.group(2)} {today.year}")),
        (r"\b(?:in|during|for|of)\s+(" + "|".join(sorted(_MONTHS, key=len, reverse=True))
         + r")\b(?:\s+(\d{4}))?",
         lambda m: _named_month(today, m.group(1), m.group(2))),
    ]


def _dated(first: str, last: str) -> tuple[date, date, str]:
    """'from 2026-11-02 to 2026-11-08', 'on 2026-11-03': dates written out, in either order."""
    start, end = sorted((date.fromisoformat(first), date.fromisoformat(last)))
    label = f"on {start}" if start == end else f"from {start} to {end}"
    return start, end, label


def _ago(today: date, n: int, unit: str) -> tuple[date, date, str]:
    """'2 weeks ago': the whole calendar week (month, day) n before the current one."""
    if unit == "day":
        day = today - timedelta(days=n)
        return day, day, f"{n} day{'s' * (n != 1)} ago"
    if unit == "week":
        monday = today - timedelta(days=today.weekday() + 7 * n)
        return monday, monday + timedelta(days=6), f"{n} week{'s' * (n != 1)} ago"
    month = today.year * 12 + today.month - 1 - n
    return (*_month_bounds(month // 12, month % 12 + 1), f"{n} month{'s' * (n != 1)} ago")


def _since_month(today: date, name: str, day: str | None) -> tuple[date, date, str]:
    """'since 1 September', 'since October': from that day (the 1st) of the last such month."""
    month = _MONTHS[name.lower()]
    year = today.year - (month > today.month)
    start = date(year, month, min(int(day or 1), calendar.monthrange(year, month)[1]))
    return start, today, f"since {start.isoformat()}"


def _next_month(today: date) -> tuple[int, int]:
    return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)


def _previous_quarter(today: date) -> tuple[date, date]:
    quarter = (today.month - 1) // 3 + 1
    return _quarter(today.year - 1, 4) if quarter == 1 else _quarter(today.year, quarter - 1)


def _quarter(year: int, quarter: int) -> tuple[date, date]:
    start, _ = _month_bounds(year, 3 * quarter - 2)
    _, end = _month_bounds(year, 3 * quarter)
    return start, end


def _named_month(today: date, name: str, year_text: str | None) -> tuple[date, date, str]:
    month = _MONTHS[name.lower()]
    # "in October" is the last October that is not after the as-of month.
    year = int(year_text) if year_text else today.year - (month > today.month)
    start, end = _month_bounds(year, month)
    return start, end, f"{calendar.month_name[month]} {year}"


def find_period(question: str, today: date) -> Period | None:
    """The first period the question names, resolved against `today`, or None."""
    lowered = question.lower()
    for pattern, resolve in _rules(today):
        match = re.search(pattern, lowered)
        if match:
            start, end, label = resolve(match)
            relative = not label.startswith("since") and not re.search(r"\d{4}", match.group(0))
            return Period(start, end, match.group(0), label, relative)
    return None


def format_period(period: Period) -> str:
    """'1-20 Nov 2026', '20 Nov 2026', '28 Oct - 3 Nov 2026' for interpretation sentences."""
    start, end = period.start, period.end
    if start is None or end is None:
        return period.label
    if start == end:
        return f"{start.day} {start:%b %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}-{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} - {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} - {end.day} {end:%b %Y}"
