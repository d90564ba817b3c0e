"""Putting report runs on the queue: the scheduler's runs due and the Reports page's Run now.

A run is named by its template and the time it is for: a scheduled run by its schedule's
fire time (two schedulers name it alike, so the run log lets one through), a Run now by the
moment it was clicked (a redelivered message of that click is the same run, not a second).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from celery import Celery
from kombu.exceptions import KombuError, OperationalError

from copilot.core.errors import CopilotError
from copilot.core.settings import Settings
from copilot.core.statedb import now_text
from reports.model import ReportRun, ReportTemplate
from reports.runner import ReportRunner
from reports.workers.app import QUEUE, RUN_REPORT, celery_app

__all__ = ["QueueUnavailable", "ReportQueue", "queued_dispatch"]

log = logging.getLogger(__name__)


class QueueUnavailable(CopilotError):
    """The report queue (Redis) cannot be reached; the message says what to check."""


class ReportQueue:
    """Sends report runs to the workers over `settings`' Redis."""

    def __init__(self, settings: Settings, app: Celery | None = None) -> None:
        self.app = app or celery_app(settings)

    def enqueue(self, template: ReportTemplate, *, trigger: str, scheduled_for: datetime,
                by: str) -> None:
        """Queue one run; QueueUnavailable when Redis did not take it (after retries)."""
        try:
            self.app.send_task(RUN_REPORT, args=[template.id, scheduled_for.isoformat(),
                                                 trigger, by], queue=QUEUE)
        except (OperationalError, KombuError, OSError) as exc:
            raise QueueUnavailable(
                f"The report queue cannot be reached ({exc}); the run of {template.name!r} "
                "was not queued. Check that Redis is running and OPSCOPILOT_REDIS_URL."
            ) from None

    def run_now(self, template: ReportTemplate, *, by: str) -> ReportRun:
        """Queue a run of `template` for now; the run as queued (not yet in the run log)."""
        assert template.id is not None
        requested = datetime.now(UTC)
        self.enqueue(template, trigger="manual", scheduled_for=requested, by=by)
        return ReportRun(template.id, template.name, "manual", now_text(), "queued",
                         scheduled_for=requested.isoformat())

    def depth(self) -> int:
        """Messages waiting in the queue (not those a worker holds)."""
        with self.app.connection_for_read() as conn:
            return int(conn.default_channel.client.llen(QUEUE))


def queued_dispatch(runner: ReportRunner, queue: ReportQueue
                    ) -> Callable[[ReportTemplate, str, datetime], None]:
    """What the scheduler does with a run due: queue it. A run that cannot be queued is
    audited as an error (it is not put in the run log: another scheduler may have queued the
    same time, and its run must not be refused as a duplicate)."""

    def dispatch(template: ReportTemplate, trigger: str, scheduled_for: datetime) -> None:
        try:
            queue.enqueue(template, trigger=trigger, scheduled_for=scheduled_for,
                          by="scheduler")
        except QueueUnavailable as exc:
            log.error("%s", exc)
            runner.recorder.record(
                "report", f"report {template.name!r} ({trigger}) not queued", by="scheduler",
                outcome="error", reason=str(exc),
                details={"scheduled_for": scheduled_for.isoformat()})

    return dispatch
