"""Report templates, their schedules, recipients and alert conditions, and the runs they
make, as plain values validated once when they are built."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from copilot.core.errors import CopilotError
from reports.channels.base import DestinationError
from reports.channels.registry import CHANNELS, RENAMED
from reports.renderers.registry import RENDERERS

__all__ = ["DAYS", "FORMATS", "Alert", "Recipients", "ReportError", "ReportRun",
           "ReportTemplate", "RunState", "Schedule"]

FORMATS: tuple[str, ...] = tuple(RENDERERS)  # the registered file formats, in form order
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# partial: some channels failed; interrupted: the process running it stopped or it ran past
# the time limit, and what it had not started was completed by the reaper.
RunState = Literal["queued", "working", "success", "partial", "error", "interrupted",
                   "skipped", "not triggered"]
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class ReportError(CopilotError):
    """A report template is malformed, missing or refused; the message says which."""


@dataclass(frozen=True)
class Schedule:
    """Daily at a time, weekly on chosen days at a time, or a cron expression; each in a
    time zone, optionally on weekdays only."""

    kind: Literal["daily", "weekly", "cron"] = "daily"
    at: str = "07:00"
    days: tuple[str, ...] = ()
    cron: str = ""  # five fields: minute hour day-of-month month day-of-week
    timezone: str = "UTC"
    weekdays_only: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("daily", "weekly", "cron"):
            raise ReportError(f"Unknown schedule {self.kind!r}: daily, weekly or cron.")
        if self.kind in ("daily", "weekly") and not _TIME.fullmatch(self.at):
            raise ReportError(f"A {self.kind} schedule needs a time as HH:MM, not {self.at!r}.")
        if self.kind == "weekly" and (not self.days or set(self.days) - set(DAYS)):
            raise ReportError(f"A weekly schedule needs days among {', '.join(DAYS)}.")
        if self.kind == "cron" and len(self.cron.split()) != 5:
            raise ReportError(f"A cron schedule needs five fields, not {self.cron!r}.")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ReportError(f"Unknown time zone {self.timezone!r}; use a name such as "
                              "Europe/London.") from None

    @property
    def label(self) -> str:
        when = {"daily": f"daily at {self.at}",
                "weekly": f"{', '.join(self.days)} at {self.at}",
                "cron": f"cron '{self.cron}'"}[self.kind]
        return f"{when} {self.timezone}" + (", weekdays only" if self.weekdays_only else "")


@dataclass(frozen=True, init=False)
class Recipients:
    """Where a report goes: destinations keyed by a registered channel's name
    (reports/channels/registry.py), each checked by its channel, kept in the registry's
    order. Webhook URLs are secrets and are never shown whole.

    `Recipients({"email": [...], "json_webhook": [...]})` or `Recipients(email=[...])`; the
    keys of templates saved before the registry (emails, folders) are read as their
    channel's name.
    """

    destinations: tuple[tuple[str, tuple[str, ...]], ...]

    def __init__(self, destinations: Mapping[str, Iterable[str]] | None = None, /,
                 **by_channel: Iterable[str]) -> None:
        found: dict[str, tuple[str, ...]] = {}
        for key, values in {**(destinations or {}), **by_channel}.items():
            name = RENAMED.get(key, key)
            kind = CHANNELS.get(name)
            if kind is None:
                raise ReportError(f"There is no {key!r} channel; the channels are "
                                  f"{', '.join(CHANNELS)}.")
            listed = (values,) if isinstance(values, str) else tuple(values)
            for value in listed:
                try:
                    kind.validate(value)
                except DestinationError as exc:
                    raise ReportError(str(exc)) from None
            found[name] = found.get(name, ()) + listed
        object.__setattr__(self, "destinations", tuple(
            (name, found[name]) for name in CHANNELS if found.get(name)))

    def __getitem__(self, channel: str) -> tuple[str, ...]:
        """The destinations of one channel (none when it has none)."""
        return dict(self.destinations).get(channel, ())

    def as_dict(self) -> dict[str, list[str]]:
        """Channel name -> destinations, as a template stores them."""
        return {name: list(values) for name, values in self.destinations}

    @property
    def empty(self) -> bool:
        return not self.destinations


@dataclass(frozen=True)
class Alert:
    """Deliver only when the result's value (the last column of the first row) crosses a
    threshold, or lies beyond k standard deviations of the trailing runs' values; after a
    delivered alert, stay quiet for the grace period so one breach does not spam."""

    kind: Literal["none", "threshold", "anomaly"] = "none"
    op: Literal[">", ">=", "<", "<=", "=="] = ">"
    value: float = 0.0
    k: float = 3.0
    trailing: int = 20
    grace_minutes: int = 60

    def __post_init__(self) -> None:
        if self.kind not in ("none", "threshold", "anomaly"):
            raise ReportError(f"Unknown alert {self.kind!r}: none, threshold or anomaly.")
        if self.op not in (">", ">=", "<", "<=", "=="):
            raise ReportError(f"Unknown comparison {self.op!r}.")
        if self.kind == "anomaly" and (self.k <= 0 or self.trailing < 3):
            raise ReportError("An anomaly alert needs k above 0 and at least 3 trailing runs.")
        if self.grace_minutes < 0:
            raise ReportError("The alert's grace period cannot be negative.")


@dataclass(frozen=True)
class ReportTemplate:
    """A saved query, how it is rendered, when it runs and where it goes."""

    name: str
    sql: str
    schedule: Schedule = field(default_factory=Schedule)
    recipients: Recipients = field(default_factory=Recipients)
    formats: tuple[str, ...] = ("csv",)  # names of reports/renderers/registry.py
    question: str = ""
    relative: bool = False  # re-ask the question at each run, so periods move with the date
    interpretation: str = ""
    skip_when_empty: bool = False
    subject: str = "{name}: {rows} rows as of {as_of}"
    body: str = "{interpretation}"
    alert: Alert = field(default_factory=Alert)
    paused: bool = False
    id: int | None = None
    created_by: str = ""
    updated_at: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 120:
            raise ReportError("A report needs a name of 1 to 120 characters.")
        if not self.sql.strip():
            raise ReportError(f"The report {self.name!r} has no SQL.")
        if not self.formats or set(self.formats) - set(RENDERERS):
            raise ReportError(f"A report renders one or more of {', '.join(RENDERERS)}.")


@dataclass(frozen=True)
class ReportRun:
    """One run of a template, as the run log keeps it."""

    template_id: int
    template_name: str
    trigger: Literal["schedule", "manual", "catch-up"]
    started_at: str
    state: RunState = "working"
    scheduled_for: str = ""
    ended_at: str = ""
    row_count: int | None = None
    files: tuple[str, ...] = ()
    deliveries: tuple[dict[str, object], ...] = ()  # DeliveryOutcome as dicts
    value: float | None = None
    error: str = ""
    id: int | None = None
