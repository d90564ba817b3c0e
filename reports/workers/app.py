"""The one Celery configuration every process of the enterprise deployment uses: the app
(Run now), the scheduler (what is due) and the workers (what runs).

Why these options: a report run is long (a query, files, emails) and must not be lost when
its worker dies, so a message is acknowledged only after the run (`acks_late`) and is given
back to the queue when the process running it is killed (`reject_on_worker_lost`); a worker
takes one message at a time (`prefetch_multiplier=1`), so 500 runs due at once spread over
the workers instead of piling up in the first one's prefetch. A message is redelivered
after `visibility_timeout` even when nothing died: it is set to the hung-run limit, past
which the reaper takes the run over anyway, and the run log's unique key makes a second
delivery of a run that did happen a no-op.
"""

from __future__ import annotations

from celery import Celery

from copilot.core.errors import ConfigError
from copilot.core.ops_settings import OpsSettings
from copilot.core.settings import Settings
from reports.settings import ReportsSettings

__all__ = ["QUEUE", "RUN_REPORT", "celery_app"]

RUN_REPORT = "copilot.reports.run_report"  # the task's name: senders need no import of it
QUEUE = "copilot-reports"


def celery_app(settings: Settings) -> Celery:
    """The Celery app over OPSCOPILOT_REDIS_URL; ConfigError when it is not set."""
    url = settings.section(OpsSettings).redis_url
    if not url:
        raise ConfigError("Report workers need Redis: set OPSCOPILOT_REDIS_URL (like "
                          "redis://HOST:6379/0).")
    limit_s = settings.section(ReportsSettings).run_limit_minutes * 60
    app = Celery("copilot", broker=url, backend=url, set_as_current=False)
    app.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # JSON only: a message is data, never a pickle that runs code when read.
        task_serializer="json", result_serializer="json", accept_content=["json"],
        broker_transport_options={"visibility_timeout": limit_s},
        result_backend_transport_options={"visibility_timeout": limit_s},
        result_expires=24 * 3600,
        # Redis restarted: workers reconnect for as long as it takes, senders retry a while.
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 12, "interval_start": 0,
                                   "interval_step": 1, "interval_max": 5},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True, timezone="UTC",
    )
    return app
