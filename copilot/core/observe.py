"""Observing what the services do, one decorator each: a question (or SQL), a report run, a
delivery runs as a request of its own (copilot/core/logs.py: an id on every line it logs and
in its audit record), is counted and timed (copilot/core/metrics.py), and ends with one log
line saying how it ended.

The decorators read what they report from the call's arguments and result by name (a
`status`, a `state`, `ok`), so the core needs none of the classes above it; what is logged
is sizes and names, never a question's text or a delivery's target (a webhook URL is a
secret).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from copilot.core import metrics
from copilot.core.access import AccessDenied
from copilot.core.logs import add_context, request

__all__ = ["observed_delivery", "observed_question", "observed_report_run"]

log = logging.getLogger("copilot.requests")
F = TypeVar("F", bound=Callable[..., Any])


def _failure(exc: BaseException) -> str:
    return "blocked" if isinstance(exc, AccessDenied) else "error"


def observed_question(kind: str) -> Callable[[F], F]:
    """For Answering's methods taking the text first and `channel`, `user` by keyword:
    `kind` is "question" or "sql"."""
    def decorate(method: F) -> F:
        @functools.wraps(method)
        def observed(self: Any, text: str, *args: Any, **kwargs: Any) -> Any:
            channel = str(kwargs.get("channel", "ask"))
            user = kwargs.get("user") or getattr(getattr(self, "recorder", None), "user", "")
            with request(kind, user=user, channel=channel, chars=len(text)):
                started = time.perf_counter()
                status = "error"
                try:
                    answer = method(self, text, *args, **kwargs)
                    status = str(getattr(answer, "status", "unknown"))
                    return answer
                except BaseException as exc:
                    status = _failure(exc)
                    raise
                finally:
                    seconds = time.perf_counter() - started
                    metrics.QUESTIONS.labels(channel, kind, status).inc()
                    metrics.ANSWER_SECONDS.labels(channel, kind).observe(seconds)
                    log.info("%s %s", kind, status, extra={
                        "status": status, "duration_ms": round(seconds * 1000, 1)})
        return observed  # type: ignore[return-value]
    return decorate


def observed_report_run(method: F) -> F:
    """For ReportRunner.run(template, *, trigger=...): a request per run, counted by the
    state it ended in."""
    @functools.wraps(method)
    def observed(self: Any, template: Any, *args: Any, **kwargs: Any) -> Any:
        trigger = str(kwargs.get("trigger", "manual"))
        with request("report run", report_id=getattr(template, "id", None),
                     report=getattr(template, "name", ""), trigger=trigger):
            started = time.perf_counter()
            state = "error"
            try:
                run = method(self, template, *args, **kwargs)
                state = str(getattr(run, "state", "unknown"))
                add_context(run_id=getattr(run, "id", None),
                            row_count=getattr(run, "row_count", None))
                return run
            finally:
                seconds = time.perf_counter() - started
                metrics.REPORT_RUNS.labels(state, trigger).inc()
                metrics.REPORT_RUN_SECONDS.observe(seconds)
                log.info("report run %s", state, extra={
                    "state": state, "duration_ms": round(seconds * 1000, 1)})
    return observed  # type: ignore[return-value]


def observed_delivery(*, held: Callable[[Any], bool]) -> Callable[[F], F]:
    """For deliver_one(message, channel, ...): a request per delivery, counted by channel
    and outcome (ok, failed, or held when `held(channel)`)."""
    def decorate(function: F) -> F:
        @functools.wraps(function)
        def observed(message: Any, channel: Any, *args: Any, **kwargs: Any) -> Any:
            name = str(getattr(channel, "name", "?"))
            with request("delivery", channel=name, report=getattr(message, "report", "")):
                outcome = "failed"
                try:
                    result = function(message, channel, *args, **kwargs)
                    outcome = ("ok" if getattr(result, "ok", False)
                               else "held" if held(channel) else "failed")
                    add_context(attempts=getattr(result, "attempts", None))
                    return result
                finally:
                    metrics.DELIVERIES.labels(name, outcome).inc()
                    log.info("delivery %s", outcome, extra={"outcome": outcome})
        return observed  # type: ignore[return-value]
    return decorate
