"""The periods of follow-ups: a comparison with another period ("vs last month", "month on
month"), a period shifted back ("the week before", "a month earlier"), and the period of
one group of a daily, weekly or monthly answer (a drill-down). Each gives words the reader
reads in a whole question ("this month vs last month", "2 weeks ago", "on 2026-11-03").
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from copilot.core.periods import Period, find_period, format_period
from copilot.engine import followup_words as fw
from copilot.engine.followup_edits import NotAnEdit
from copilot.engine.followup_parts import Parts
from copilot.engine.plan import QueryPlan

__all__ = ["bucket_period", "compare", "shift"]


def bucket_period(bucket: str, value: str) -> str:
    try:
        if bucket == "month":
            year, month = (int(x) for x in value[:7].split("-"))
            return f"in {calendar.month_name[month]} {year}"
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise NotAnEdit(f"I can't read '{value}' as a date.") from None
    if bucket == "week":
        return f"from {day} to {day + timedelta(days=6)}"
    return f"on {day}"


def compare(rest: str, parts: Parts, plan: QueryPlan, as_of: date) -> str | None:
    """'compare with last month', 'vs the previous week', 'month on month', 'this month
    side by side with last month'."""
    both = _two_periods(rest, as_of)
    if both is not None:
        if plan.measure.kind == "list":
            raise NotAnEdit("A comparison needs a number: ask how many, or a total, first.")
        return parts.render(*parts.without(parts.period)) + f" {both[0]} vs {both[1]}"
    unit_match = fw.UNIT_ON_UNIT.match(rest)
    match = fw.COMPARE.match(rest)
    if unit_match is None and match is None:
        return None
    if plan.measure.kind == "list":
        raise NotAnEdit("A comparison needs a number: ask how many, or a total, first.")
    current = plan.period
    if unit_match is not None:
        unit = (unit_match.group("unit") or {"dod": "day", "wow": "week", "mom": "month",
                                             "qoq": "quarter", "yoy": "year"}[
            unit_match.group("short").lower()]).lower()
        now = current or find_period(_THIS[unit], as_of)
        assert now is not None
        other = _shifted(now, as_of, unit)
    else:
        other_words = match.group("other")  # type: ignore[union-attr]
        shift = fw.SHIFT.fullmatch(other_words)
        if shift is not None:
            unit = shift.group("unit") or shift.group("unit2")
            if current is None and unit not in _THIS:
                raise NotAnEdit("The last question has no period to compare with the one "
                                 "before; name both: 'this month vs last month'.")
            current = current or find_period(_THIS[unit], as_of)
            assert current is not None
            other = _shifted(current, as_of, unit)
        else:
            found = find_period(other_words, as_of) or find_period(f"in {other_words}", as_of)
            if found is None or found.words.removeprefix("in ") != other_words.strip().lower():
                raise NotAnEdit(f"I can't read '{other_words}' as a period to compare with.")
            other = found.words
            if current is None:
                unit = next((u for u in _THIS if u in other), None)
                if unit is None:
                    raise NotAnEdit("Compare which period with it? Name both: 'this month "
                                     "vs last month'.")
                now = find_period(_THIS[unit], as_of)
                assert now is not None
                current = now
    now_words = (current or now).words  # type: ignore[possibly-undefined]
    return parts.render(*parts.without(parts.period)) + f" {now_words} vs {other}"


def _two_periods(rest: str, as_of: date) -> tuple[str, str] | None:
    """The two periods of 'this month side by side with last month', each read whole."""
    match = fw.TWO_PERIODS.match(rest)
    if match is None:
        return None
    found = [find_period(words, as_of) or find_period(f"in {words}", as_of)
             for words in (match.group("now"), match.group("other"))]
    if any(f is None or f.words.removeprefix("in ") != w.strip().lower().removeprefix("in ")
           for f, w in zip(found, (match.group("now"), match.group("other")), strict=True)):
        return None
    return found[0].words, found[1].words  # type: ignore[union-attr]


_THIS = {"day": "today", "week": "this week", "month": "this month", "quarter": "this quarter",
         "year": "this year"}


def shift(rest: str, parts: Parts, plan: QueryPlan, as_of: date) -> str | None:
    """'the week before', 'a month earlier', 'the previous period': the period before."""
    match = fw.SHIFT.search(rest)
    if match is None:
        return None
    if fw.PRONOUNS.sub(" ", rest[:match.start()] + rest[match.end():]).strip(" ,"):
        return None  # more than a shift: read word by word
    unit = match.group("unit") or match.group("unit2")
    if plan.period is None:
        if match.group("unit2") in _THIS:  # "the previous month" with no period: last month
            return parts.render(*parts.without(parts.period)) + " " + _shifted(
                find_period(_THIS[unit], as_of), as_of, unit)  # type: ignore[arg-type]
        raise NotAnEdit("The last question has no period to go back from; name one: "
                         "'last week', 'in October'.")
    return parts.render(*parts.without(parts.period)) + " " + _shifted(plan.period, as_of, unit)


def _shifted(period: Period, as_of: date, unit: str | None) -> str:
    """The period of the same kind right before `period`, in words the reader reads."""
    label = period.label
    simple = {"today": "yesterday", "yesterday": "2 days ago", "this week": "last week",
              "last week": "2 weeks ago", "this month": "last month",
              "last month": "2 months ago", "this quarter": "last quarter",
              "this year": "last year"}
    if label in simple and (unit in (None, "period") or unit in label or (
            unit == "day" and label in ("today", "yesterday"))):
        return simple[label]
    ago = re.fullmatch(r"(\d+) (day|week|month)s? ago", label)
    if ago and unit in (None, "period", ago.group(2)):
        return f"{int(ago.group(1)) + 1} {ago.group(2)}s ago"
    if period.start is None or period.end is None:
        raise NotAnEdit(f"I can't tell which period comes before '{period.words}'.")
    if unit not in (None, "period") and not _is_unit(period, unit):
        raise NotAnEdit(f"The last question's period is {format_period(period)}, not a "
                         f"{unit}; name the period you mean.")
    if re.fullmatch(r"[A-Z][a-z]+ \d{4}", label):  # a named month: the month before it
        first = period.start - timedelta(days=1)
        return f"in {calendar.month_name[first.month]} {first.year}"
    length = (period.end - period.start).days + 1
    start = period.start - timedelta(days=length)
    return f"from {start} to {period.start - timedelta(days=1)}"


def _is_unit(period: Period, unit: str) -> bool:
    assert period.start is not None and period.end is not None
    days = (period.end - period.start).days + 1
    return {"day": days == 1, "week": days == 7, "month": 28 <= days <= 31,
            "quarter": 90 <= days <= 92, "year": days in (365, 366)}.get(unit, False)
