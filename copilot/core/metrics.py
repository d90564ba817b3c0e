"""Prometheus metrics: what every process counts, and the registry `python -m copilot metrics`
serves.

The app, the report workers and the API are separate processes, so the counts are kept in
prometheus_client's multiprocess mode when `PROMETHEUS_MULTIPROC_DIR` names a folder (set
for every process, before it starts; emptied when they all restart): each process writes
its own files there and the metrics command adds them up. Without it a process counts for
itself only.

The queue depth is read when scraped, from Redis (`OPSCOPILOT_REDIS_URL`): the length of each
Celery queue named by `OPSCOPILOT_METRICS_QUEUES`; absent without Redis.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

__all__ = ["ANSWER_SECONDS", "AUDIT_RECORDS", "DELIVERIES", "MULTIPROC_ENV", "QUESTIONS",
           "REFUSALS", "REPORT_RUNS", "REPORT_RUN_SECONDS", "QueueDepth", "audited",
           "exposition_registry", "multiprocess_dir"]

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_REFUSED = frozenset({"blocked", "refused"})

QUESTIONS = Counter(
    "opscopilot_questions", "Questions and SQL answered, by channel, kind (question or sql) "
    "and status (answered, clarify, refused, error, blocked).", ["channel", "kind", "status"])
ANSWER_SECONDS = Histogram(
    "opscopilot_answer_seconds", "Time to answer a question or run SQL, audit included.",
    ["channel", "kind"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
AUDIT_RECORDS = Counter(
    "opscopilot_audit_records", "Audit records written, by channel and outcome.",
    ["channel", "outcome"])
REFUSALS = Counter(
    "opscopilot_refusals", "Refusals (the guard's, the engine's, a role's): audit records "
    "whose outcome is blocked or refused, by channel.", ["channel", "outcome"])
REPORT_RUNS = Counter(
    "opscopilot_report_runs", "Report runs ended, by state and trigger.", ["state", "trigger"])
REPORT_RUN_SECONDS = Histogram(
    "opscopilot_report_run_seconds", "Time from a report run's start to its end.",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600))
DELIVERIES = Counter(
    "opscopilot_deliveries", "Report deliveries, by channel and outcome (ok, failed, held).",
    ["channel", "outcome"])


def audited(channel: str, outcome: str) -> None:
    """Count one audit record (and a refusal, when it is one)."""
    AUDIT_RECORDS.labels(channel, outcome).inc()
    if outcome in _REFUSED:
        REFUSALS.labels(channel, outcome).inc()


def multiprocess_dir() -> str:
    """The multiprocess folder in force ("" without one)."""
    return os.environ.get(MULTIPROC_ENV, "")


class QueueDepth(Collector):
    """`opscopilot_queue_depth{queue}`: each Redis list's length when scraped, and
    `opscopilot_redis_up` (0 when Redis does not answer: the depth is then absent)."""

    def __init__(self, redis_url: str, queues: Sequence[str]) -> None:
        self.redis_url = redis_url
        self.queues = tuple(queues)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        import redis  # only a process that reports a queue needs the client

        depth = GaugeMetricFamily("opscopilot_queue_depth",
                                  "Tasks waiting in each Celery queue on Redis.",
                                  labels=["queue"])
        up = GaugeMetricFamily("opscopilot_redis_up", "1 when Redis answered the scrape.")
        try:
            client = redis.Redis.from_url(self.redis_url, socket_timeout=2,
                                          socket_connect_timeout=2)
            try:
                lengths = [(queue, client.llen(queue)) for queue in self.queues]
            finally:
                client.close()
        except redis.RedisError as exc:
            log.warning("the queue depth could not be read from Redis (%s)",
                        type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        for queue, length in lengths:
            depth.add_metric([queue], float(length))  # type: ignore[arg-type]
        up.add_metric([], 1)
        yield depth
        yield up


def exposition_registry(redis_url: str = "", queues: Sequence[str] = ()) -> CollectorRegistry:
    """What the metrics endpoint shows: every process's counts from the multiprocess folder
    (else this process's own), and the queue depth when Redis is configured."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Own())
    if redis_url:
        registry.register(QueueDepth(redis_url, queues))
    return registry


class _Own(Collector):
    """This process's default registry, inside a registry of its own (so the queue depth
    is never added to the process-wide one)."""

    def collect(self) -> Iterator[object]:
        yield from REGISTRY.collect()
