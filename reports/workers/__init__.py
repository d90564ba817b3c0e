"""Report workers: report runs as Celery tasks on a Redis broker, so that N workers on N
machines share the load of hundreds of reports due at 07:00.

The app, the scheduler and `python -m copilot worker` share one Celery configuration
(`app.py`); the scheduler and Run now put runs on the queue (`queue.py`); the workers take
them and run each through the ordinary ReportRunner (`tasks.py`). Whatever runs twice (two
schedulers, a message redelivered after its worker died), the run log's unique (template,
scheduled time) lets one run through.
"""

from copilot.core.lazy import lazy_exports

_EXPORTS = {
    "QueueUnavailable": ".queue",
    "ReportQueue": ".queue",
    "RUN_REPORT": ".app",
    "celery_app": ".app",
    "execute": ".tasks",
    "queued_dispatch": ".queue",
    "register_tasks": ".tasks",
}
__all__ = ["RUN_REPORT", "QueueUnavailable", "ReportQueue", "celery_app", "execute",
           "queued_dispatch", "register_tasks"]
__getattr__ = lazy_exports(__name__, _EXPORTS)
