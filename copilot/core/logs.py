"""The process's logs: one line per event, text for a terminal or JSON for Splunk and ELK
(`OPSCOPILOT_LOG_FORMAT`), each carrying the request id of the question, report run or
delivery it was written during.

A request (`request(...)`) lives in a context variable, so every line logged while it runs,
by any module, carries its id and context (user, channel, sizes), and the audit recorder
puts the same id in the record's details: a Splunk search joins log lines to audit records.
A request started inside another (a report's question, its deliveries) gets its own id and
names the outer one as `parent_request_id`.

Secrets never reach a line: the settings marked secret (the LLM key, the SMTP password),
passwords inside URLs and bearer tokens are replaced by `***` in the formatted line,
whatever logged them; a question's text is not put in the context (its length is).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

from copilot.core.ops_settings import OpsSettings
from copilot.core.settings import Settings

__all__ = ["Request", "add_context", "configure_logging", "current_request", "request",
           "secrets_of"]

_CURRENT: ContextVar[Request | None] = ContextVar("opscopilot_request", default=None)
_TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Bearer tokens and user:password@ in URLs, whoever formatted them into a message.
_PATTERNS = ((re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1***"),
             (re.compile(r"(://[^:/@\s]*:)[^@/\s]+(@)"), r"\1***\2"))
_MIN_SECRET = 4  # shorter "secrets" would blank ordinary words out of every line


@dataclass(frozen=True)
class Request:
    """One question, report run or delivery: its id, what it is, and its context."""

    id: str
    kind: str
    parent: str = ""
    fields: Mapping[str, object] = field(default_factory=dict)


def current_request() -> Request | None:
    """The request this code runs for, if any."""
    return _CURRENT.get()


@contextmanager
def request(kind: str, **fields: object) -> Iterator[Request]:
    """Run the block as one request with a fresh id; `fields` go on every line it logs."""
    outer = _CURRENT.get()
    made = Request(uuid.uuid4().hex[:16], kind, outer.id if outer else "", dict(fields))
    token = _CURRENT.set(made)
    try:
        yield made
    finally:
        _CURRENT.reset(token)


def add_context(**fields: object) -> None:
    """Add `fields` to the current request's context (nothing outside a request)."""
    now = _CURRENT.get()
    if now is not None:
        # Set, not reset: the request's own reset restores what came before it.
        _CURRENT.set(replace(now, fields={**now.fields, **fields}))


class _RequestFilter(logging.Filter):
    """Puts the current request's id, kind and context on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        now = _CURRENT.get()
        record.request_id = now.id if now else ""
        if now is not None:
            record.request_kind = now.kind
            if now.parent:
                record.parent_request_id = now.parent
            for name, value in now.fields.items():
                if not hasattr(record, name):  # never overwrite the record's own attributes
                    setattr(record, name, value)
        return True


class _Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is replaced whole; also as a JSON
        # line spells it (a quote or backslash escaped).
        kept = {s for s in secrets if len(s) >= _MIN_SECRET}
        kept |= {json.dumps(s, ensure_ascii=False)[1:-1] for s in kept}
        self.secrets = sorted(kept, key=len, reverse=True)

    def __call__(self, line: str) -> str:
        for secret in self.secrets:
            line = line.replace(secret, "***")
        for pattern, replacement in _PATTERNS:
            line = pattern.sub(replacement, line)
        return line


class _JsonLines(JsonFormatter):
    def __init__(self, redact: _Redactor) -> None:
        super().__init__("%(message)s", json_ensure_ascii=False)
        self.redact = redact

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        # The names Splunk and ELK users search by, first in the line.
        log_data["ts"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds").replace("+00:00", "Z")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        super().add_fields(log_data, record, message_dict)
        log_data.pop("taskName", None)  # asyncio's, always null here

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class _TextLines(logging.Formatter):
    def __init__(self, redact: _Redactor) -> None:
        super().__init__(_TEXT)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Every secret the settings hold: the fields marked secret, and URLs' passwords."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from copilot.core.setting_fields import section_docs

    found: list[str] = []
    for section in settings.sections:
        for doc in section_docs(type(section)):
            value = getattr(section, doc.attribute.split(".", 1)[1])
            if doc.secret and isinstance(value, str) and value:
                found.append(value)
            elif doc.env_var.endswith("_URL") and isinstance(value, str) and "@" in value:
                try:
                    password = make_url(value).password
                except ArgumentError:
                    continue
                if password:
                    found.append(str(password))
    return tuple(found)


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> logging.Handler:
    """Send the root logger's lines to `stream` (stderr) in the configured format and level;
    called once at process start (the app, each command). Calling it again replaces the
    handler it installed, never adds a second one."""
    ops = settings.section(OpsSettings)
    redact = _Redactor(secrets_of(settings))
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_JsonLines(redact) if ops.log_format == "json" else _TextLines(redact))
    handler.addFilter(_RequestFilter())
    handler.set_name("opscopilot")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "opscopilot"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(ops.level)
    return handler
