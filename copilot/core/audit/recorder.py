"""The one audit recorder: what every record carries (who, the app's version, the details as
canonical JSON) is filled here, so a caller names only what it did.

Questions and answers, training changes, settings, dashboards, reports and the CLI all
record through it; AuditError propagates, because an action that could not be audited must
not look done.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from copilot.core import __version__, metrics
from copilot.core.audit.log import AuditLog
from copilot.core.audit.record import AuditRecord, Channel, Outcome
from copilot.core.logs import current_request

__all__ = ["Recorder"]


@dataclass(frozen=True)
class Recorder:
    """Appends records to `log`; `user` is who acts when a caller names nobody (the
    configured or operating-system user)."""

    log: AuditLog
    user: str

    def record(self, channel: Channel, what: str, *, by: str | None = None,
               outcome: Outcome = "recorded", sql: str = "", reason: str = "",
               details: Mapping[str, object] | str | None = None,
               duration_ms: float | None = None, **fields: object) -> int:
        """Audit one action; its record id. `fields` are further AuditRecord fields
        (sql_generated, engine, tables, row_count, result_sha256, profile_version)."""
        if (now := current_request()) is not None and not isinstance(details, str):
            # The id on the log lines of the same request: Splunk joins the two on it.
            details = {**(details or {}), "request_id": now.id}
        text = details if isinstance(details, str) or details is None else json.dumps(
            dict(details), sort_keys=True, default=str)
        record_id = self.log.append(AuditRecord(
            channel=channel, outcome=outcome, user=by or self.user, question=what,
            sql_run=sql, reason=reason, details=text or "", duration_ms=duration_ms,
            app_version=__version__, **fields))  # type: ignore[arg-type]
        metrics.audited(channel, outcome)
        return record_id
