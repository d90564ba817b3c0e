"""The JSON webhook channel: a small, documented JSON document POSTed to any https endpoint,
for ticketing and ChatOps tools (a ServiceNow or Jira automation, an Opsgenie or PagerDuty
integration, a bot) that read facts rather than a chat message.

The document (schema "otc-ops-copilot/report-v1") holds the report's name, subject, run
time, as-of date, row count, interpretation, the first rows as objects keyed by the column
labels, the names of the run's files and the app's link; never a secret (no URL, no
setting). The endpoint's URL is the secret: errors and the run log name only its host.
Plain http is refused except to loopback. An `Idempotency-Key` header, the same on every
try of one message, lets a receiver drop the copy a retry after a lost reply would make.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from decimal import Decimal
from urllib.parse import urlsplit

from copilot.core.settings import Settings
from reports.channels.base import DestinationError
from reports.channels.http_post import is_loopback, post_json
from reports.message import Channel, DeliveryError, ReportMessage
from reports.shaping import CHAT_ROWS, safe_filename, safe_link

__all__ = ["JSON_WEBHOOK", "SCHEMA", "JsonWebhookChannel", "JsonWebhookKind", "document"]

SCHEMA = "otc-ops-copilot/report-v1"


def _url_problem(url: str) -> str:
    """Why `url` cannot be a JSON webhook ("" when it can); never quotes the URL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "A JSON webhook must be an https:// URL."
    if not url.isprintable() or " " in url or not parts.hostname:
        return "A JSON webhook must be an https:// URL."
    if parts.username or parts.password:
        return (f"A JSON webhook on {parts.hostname} must not carry a user name or password "
                "in its URL; put the token in the path or the query.")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname)):
        return ""
    return f"A JSON webhook must be an https:// URL (not {parts.scheme or 'no scheme'}://)."


class JsonWebhookKind:
    """JSON webhooks: one POST per destination."""

    name = "json_webhook"
    label = "JSON webhooks (ticketing, ChatOps)"
    hint = "https://tickets.bank.example/hooks/…"

    def validate(self, destination: str) -> None:
        if problem := _url_problem(destination):
            raise DestinationError(problem)

    def channels(self, settings: Settings, destinations: tuple[str, ...]
                 ) -> tuple[Channel, ...]:
        return tuple(JsonWebhookChannel(url=url) for url in destinations)


class JsonWebhookChannel:
    """POST the report's facts as one JSON document."""

    def __init__(self, *, url: str, timeout_s: float = 20.0) -> None:
        if problem := _url_problem(url):  # checked again: a channel may be built by hand
            raise DeliveryError(problem, retryable=False)
        self._url, self.timeout_s = url, timeout_s
        self._host = urlsplit(url).hostname or ""
        self.name, self.target = JSON_WEBHOOK.name, f"{JSON_WEBHOOK.name}:{self._host}"

    def deliver(self, message: ReportMessage) -> tuple[str, ...]:
        payload = document(message)
        # The same message gives the same key on every try: a receiver that saw it once
        # (the reply to the first try was lost) can drop the second.
        key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]
        post_json(self._url, payload, timeout_s=self.timeout_s,
                  where=f"The JSON webhook on {self._host}",
                  headers={"Idempotency-Key": key})
        return ()


def document(message: ReportMessage) -> dict[str, object]:
    """The JSON document a report run sends: plain values only, the first rows as objects
    keyed by the column labels (a label repeated gets " (2)", so no value is lost)."""
    labels = _unique(message.columns)
    return {
        "schema": SCHEMA,
        "report": message.report,
        "subject": message.subject,
        "run_at": message.run_at,
        "as_of": message.as_of,
        "row_count": message.row_count,
        "interpretation": message.interpretation,
        "columns": labels,
        "rows": [{label: _value(v) for label, v in zip(labels, row, strict=False)}
                 for row in message.rows[:CHAT_ROWS]],
        "files": [safe_filename(a.filename) for a in message.attachments],
        "link": safe_link(message.link) or None,
    }


def _unique(columns: tuple[str, ...]) -> list[str]:
    seen: dict[str, int] = {}
    labels = []
    for column in columns:
        seen[column] = seen.get(column, 0) + 1
        labels.append(column if seen[column] == 1 else f"{column} ({seen[column]})")
    return labels


def _value(value: object) -> object:
    """A JSON value: numbers stay numbers (a Decimal as its exact text, NaN as null, which
    strict JSON parsers require), dates as ISO text, anything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


JSON_WEBHOOK = JsonWebhookKind()
