"""The operations settings section, `settings.ops`: how the process logs, and the Redis
server that several processes share (the dashboards' widget cache, the queue depth the
metrics report).

Read through `settings.section(OpsSettings)`; the composition root (copilot/settings.py)
hands the section to the loader like the sections owned above the core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

from copilot.core.setting_fields import setting

__all__ = ["LOG_FORMATS", "OpsSettings"]

LOG_FORMATS = ("text", "json")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_format(text: str) -> str:
    if text.lower() not in LOG_FORMATS:
        raise ValueError("must be text or json")
    return text.lower()


def _log_level(text: str) -> str:
    if text.upper() not in ("", *_LEVELS):
        raise ValueError(f"must be one of {', '.join(_LEVELS)}")
    return text.upper()


def _redis_url(text: str) -> str:
    """A redis-py URL: redis://, rediss:// (TLS) or unix:// (a socket)."""
    if not re.match(r"(rediss?://[^\s/]+|unix:///\S+)", text):
        raise ValueError("must be a Redis URL such as redis://HOST:6379/0, rediss://... or "
                         "unix:///PATH")
    return text


def _queues(text: str) -> str:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or any(c.isspace() for name in names for c in name):
        raise ValueError("must be queue names separated by commas, like copilot-reports,other")
    return ",".join(names)


@dataclass(frozen=True)
class OpsSettings:
    """Logging, and the Redis server several processes share."""

    name: ClassVar[str] = "ops"
    env_prefix: ClassVar[str] = "OPSCOPILOT_"

    log_format: str = setting(
        "text", parse=_log_format, env="OPSCOPILOT_LOG_FORMAT",
        doc="`json`: one JSON object per log line (ts, level, logger, message, request_id and "
            "the request's user, channel and sizes; never a question's text, a password or a "
            "key), for Splunk or ELK; `text`: lines for a person at a terminal.",
        default_text="`text`")
    log_level: str = setting(
        "", parse=_log_level, env="OPSCOPILOT_LOG_LEVEL",
        doc="Least severe log level written: DEBUG, INFO (a line per question, report run and "
            "delivery), WARNING, ERROR or CRITICAL.",
        default_text="`INFO` with JSON logs; `WARNING` with text, as Python's own default")
    redis_url: str = setting(
        "", parse=_redis_url, env="OPSCOPILOT_REDIS_URL", secret=True,
        doc="Redis shared by several app processes and the report workers: Celery's broker "
            "for report runs (OPSCOPILOT_REPORT_EXECUTION=celery), the dashboards' shared "
            "widget results (N app servers cost one query per widget per interval), and the "
            "queue depth `python -m copilot metrics` reports. Never shown: it may carry "
            "Redis's password.",
        default_text="none: each process caches its own widget results")
    metrics_queues: str = setting(
        "copilot-reports", parse=_queues, env="OPSCOPILOT_METRICS_QUEUES",
        doc="Comma-separated Redis lists (Celery queues) whose length `python -m copilot "
            "metrics` reports as `opscopilot_queue_depth`; read only with "
            "OPSCOPILOT_REDIS_URL.",
        default_text="`copilot-reports` (the report workers' queue)")

    @property
    def level(self) -> str:
        """The level in force: as set, else INFO for JSON (every request is a line to ship)
        and WARNING for text (a terminal shows what went wrong, as before these settings)."""
        return self.log_level or ("INFO" if self.log_format == "json" else "WARNING")

    @property
    def queues(self) -> tuple[str, ...]:
        return tuple(self.metrics_queues.split(","))

    def with_data_dir(self, data_dir: Path) -> Self:
        """Itself: nothing of these settings lives in the data folder."""
        return self
