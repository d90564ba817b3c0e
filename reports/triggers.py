"""A report schedule as an APScheduler 3 cron trigger, in the schedule's time zone.

Crontab day-of-week numbers count from Sunday (0 or 7); APScheduler 3 counts from Monday, so
a plain `from_crontab("0 9 * * 1")` fires on Tuesdays. Numbers are rewritten as day names
before they reach APScheduler.
"""

from __future__ import annotations

import re

from apscheduler.triggers.cron import CronTrigger

from reports.model import ReportError, Schedule

__all__ = ["trigger_for"]

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _day_names(field: str) -> list[str]:
    """Crontab day-of-week text ('1-5', '0,6', '*/2', 'mon-fri') as day names."""
    names: list[str] = []
    for part in field.lower().split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            numbers = list(range(7))
        elif re.fullmatch(r"\d+-\d+", base):
            start, end = (int(n) for n in base.split("-"))
            numbers = list(range(start, end + 1))
        elif re.fullmatch(r"\d+", base):
            numbers = [int(base)]
        elif base in _CRON_DAYS and not step_text:
            names.append(base)
            continue
        elif re.fullmatch(r"[a-z]{3}-[a-z]{3}", base):
            start, end = (_CRON_DAYS.index(d) for d in base.split("-"))
            numbers = list(range(start, end + 1))
        else:
            raise ReportError(f"The cron day-of-week {field!r} is not understood.")
        if any(n > 7 for n in numbers):
            raise ReportError(f"The cron day-of-week {field!r} has a day above 7.")
        names += [_CRON_DAYS[n % 7] for n in numbers[::step]]
    return list(dict.fromkeys(names))


def trigger_for(schedule: Schedule) -> CronTrigger:
    """The cron trigger of a schedule; ReportError when the cron text is not valid."""
    tz = schedule.timezone
    if schedule.kind in ("daily", "weekly"):
        hour, minute = schedule.at.split(":")
        days = list(schedule.days) if schedule.kind == "weekly" else list(_CRON_DAYS)
        minute_f, hour_f, day_f, month_f = minute, hour, "*", "*"
    else:
        minute_f, hour_f, day_f, month_f, dow = schedule.cron.split()
        days = _day_names(dow)
    if schedule.weekdays_only:
        days = [d for d in days if d in _WEEKDAYS]
        if not days:
            raise ReportError("The schedule has no weekday left once weekends are removed.")
    try:
        return CronTrigger(minute=minute_f, hour=hour_f, day=day_f, month=month_f,
                           day_of_week=",".join(days), timezone=tz)
    except ValueError as exc:
        raise ReportError(f"The schedule {schedule.label!r} is not valid: {exc}.") from None
