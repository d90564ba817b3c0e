"""Issue 20, report workers: Celery workers on a real Redis and the state and audit on a real
PostgreSQL, all on loopback; workers and schedulers are real `python -m copilot` processes.

200 reports due in the same minute with two schedulers firing them run once each; a worker
process killed with SIGKILL mid-delivery loses no run and sends nothing twice; Redis
restarted mid-run, the run finishes and the next runs go through."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pgserver import PostgresServer
from redisserver import RedisServer, running_redis
from statestores import fresh_database
from test_report_crash import HoldingReceiver

from copilot.settings import load_settings
from copilot.wiring import build_services, report_runner
from reports.model import Recipients, ReportRun, ReportTemplate, Schedule
from reports.runner import ReportRunner
from reports.scheduler import ReportScheduler
from reports.workers import ReportQueue

ROOT = Path(__file__).resolve().parents[1]
SQL = "SELECT status, COUNT(*) AS n FROM settlements GROUP BY status ORDER BY status"


@dataclass
class Cluster:
    """Redis, PostgreSQL state and audit, two workers, and this process's view of them."""

    env: dict[str, str]
    redis: RedisServer
    runner: ReportRunner
    queue: ReportQueue
    share: Path
    logs: Path
    workers: list[subprocess.Popen[bytes]]

    def spawn(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        return subprocess.Popen([sys.executable, "-m", "copilot", *args], cwd=ROOT,
                                env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def template(self, name: str, created_by: str = "", **recipients: tuple[str, ...]
                 ) -> ReportTemplate:
        return self.runner.store.save(ReportTemplate(
            name=name, sql=SQL, formats=("csv",), created_by=created_by,
            recipients=Recipients(folders=(str(self.share / name),), **recipients)))

    def runs(self, template: ReportTemplate) -> list[ReportRun]:
        return self.runner.store.runs(template_id=template.id)


def _wait(what: str, done: Callable[[], object], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="module")
def cluster(postgres: PostgresServer, trained_demo_dir: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("workers")
    data = Path(shutil.copytree(trained_demo_dir, root / "data"))
    (root / "logs").mkdir()
    with running_redis() as redis:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCOPILOT_")} | {
            "OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20",
            "OPSCOPILOT_STATE_URL": fresh_database(postgres),
            "OPSCOPILOT_AUDIT_URL": fresh_database(postgres),
            "OPSCOPILOT_AUDIT_KEY_DIR": str(root / "audit-keys"),
            "OPSCOPILOT_AUDIT_CHECKPOINT_DIR": str(root / "audit-checkpoints"),
            "OPSCOPILOT_REDIS_URL": redis.url, "OPSCOPILOT_REPORT_EXECUTION": "celery",
            "OPSCOPILOT_ENV_FILE": str(root / "none.env")}
        settings = load_settings(env, env_file=root / "none.env")
        runner = report_runner(build_services(settings))  # trains the demo on PostgreSQL
        made = Cluster(env, redis, runner, ReportQueue(settings), root / "share", root / "logs",
                       [])
        made.workers = [made.spawn("worker", "--concurrency", "2", "--name", f"w{n}",
                                   name=f"worker{n}") for n in (1, 2)]
        try:
            _wait("two workers", lambda: len(made.queue.app.control.ping(timeout=0.5)) == 2,
                  90)
            yield made
        finally:
            for worker in made.workers:
                _stop(worker)


def test_two_hundred_reports_due_in_one_minute_under_two_schedulers_run_once_each(
        cluster: Cluster) -> None:
    every_minute = Schedule("cron", cron="* * * * *")
    templates = [cluster.runner.store.save(ReportTemplate(
        name=f"minute {n:03d}", sql=SQL, formats=("csv",), schedule=every_minute,
        recipients=Recipients(folders=(str(cluster.share / f"minute {n:03d}"),))))
        for n in range(200)]
    # The app's part in celery mode: the job store follows the templates, nothing fires here.
    ReportScheduler.start_for(cluster.runner, fires=False).shutdown()
    schedulers = [cluster.spawn("scheduler", name=f"scheduler{n}") for n in (1, 2)]
    try:
        _wait("the first scheduled run", lambda: any(
            r.scheduled_for for r in cluster.runner.store.runs(limit=5)), 150)
        first = next(r.scheduled_for for r in cluster.runner.store.runs(limit=5)
                     if r.scheduled_for)
        for scheduler in schedulers:  # before the next minute queues them all again
            _stop(scheduler)
        for scheduler in schedulers:
            assert scheduler.returncode == 0
    finally:
        for scheduler in schedulers:
            _stop(scheduler)

    def finished() -> list[ReportRun]:
        return [r for r in cluster.runner.store.runs(limit=1_000)
                if r.scheduled_for == first and r.state not in ("working", "queued")]

    _wait("200 runs of the minute", lambda: len(finished()) >= 200, 120)
    runs = [r for r in cluster.runner.store.runs(limit=1_000) if r.template_name.startswith(
        "minute ")]
    per_time = Counter((r.template_id, r.scheduled_for) for r in runs)
    assert max(per_time.values()) == 1  # no scheduled time of any template ran twice
    assert {r.template_id for r in runs if r.scheduled_for == first} == {
        t.id for t in templates}
    assert {r.state for r in runs if r.scheduled_for == first} == {"success"}
    # Each report's folder got the files of its runs: one file a run, none twice.
    for template in templates:
        made = [r for r in runs if r.template_id == template.id]
        files = list((cluster.share / template.name).iterdir())
        assert len(files) == len(made), (template.name, files)
    # Run by the workers, not here: two workers' processes each took a share.
    assert len({tuple(r.deliveries[0]["files"]) for r in runs}) == len(runs)
    for template in templates:
        cluster.runner.store.delete(template.id or 0)


@pytest.fixture
def holding() -> Iterator[HoldingReceiver]:
    with HoldingReceiver() as receiver:
        yield receiver
        receiver.release.set()


def test_a_worker_killed_mid_run_loses_no_run_and_sends_nothing_twice(
        cluster: Cluster, holding: HoldingReceiver) -> None:
    template = cluster.template("killed mid-run", slack=(holding.root + "/hold",))
    queued = cluster.queue.run_now(template, by="ops")
    assert queued.state == "queued" and queued.id is None
    assert holding.holding.wait(60), "the run never reached its webhook"
    [working] = cluster.runs(template)
    assert working.state == "working" and working.scheduled_for == queued.scheduled_for
    owner = cluster.runner.ledger.owner(working.id or 0)
    assert owner is not None and owner.pid not in {w.pid for w in cluster.workers}
    os.kill(owner.pid, signal.SIGKILL)  # the worker process running it, mid-send to Slack

    # The message comes back (acks_late, reject_on_worker_lost); the worker that takes it
    # finds the run in the log and finishes what the dead one had not started.
    _wait("the run finished", lambda: cluster.runs(template)[0].state != "working", 60)
    holding.release.set()
    [ended] = cluster.runs(template)
    assert ended.id == working.id and ended.state == "interrupted"
    assert [(d["channel"], d["state"]) for d in ended.deliveries] == [
        ("slack", "uncertain"), ("folder", "sent")]
    assert "the process running it stopped" in ended.error
    assert holding.paths == ["/hold"]  # Slack was not sent again
    assert len(list((cluster.share / template.name).iterdir())) == 1
    # The worker whose process died replaced it and still takes runs.
    again = cluster.queue.run_now(template, by="ops")
    _wait("the next run", lambda: any(r.scheduled_for == again.scheduled_for and
                                      r.state != "working" for r in cluster.runs(template)))
    assert all(w.poll() is None for w in cluster.workers)


def test_redis_restarted_mid_run_the_run_finishes_and_the_next_runs_go_through(
        cluster: Cluster, holding: HoldingReceiver) -> None:
    template = cluster.template("through a restart", slack=(holding.root + "/hold",))
    cluster.queue.run_now(template, by="ops")
    assert holding.holding.wait(60)
    cluster.redis.stop()  # nothing persisted: the queue and the unacked message are gone
    cluster.redis.start()
    holding.release.set()
    _wait("the held run", lambda: cluster.runs(template)[0].state != "working", 60)
    assert cluster.runs(template)[0].state == "success"

    after = cluster.template("after the restart")
    stamps = [cluster.queue.run_now(after, by="ops").scheduled_for for _ in range(5)]
    _wait("five runs after the restart", lambda: len(
        [r for r in cluster.runs(after) if r.state == "success"]) == 5, 90)
    assert sorted(r.scheduled_for for r in cluster.runs(after)) == sorted(stamps)
    assert len(list((cluster.share / after.name).iterdir())) == 5
    assert holding.paths == ["/hold"]


def test_run_now_in_celery_mode_is_queued_and_audited(cluster: Cluster) -> None:
    from reports.service import ReportService

    service = ReportService(cluster.runner.answering, cluster.runner.recorder,
                            cluster.runner.settings, start_scheduler=False)
    user = cluster.runner.settings.app.user
    template = cluster.template("queued from the page", created_by=user)
    queued = service.run_now(template, by=user)
    assert queued.state == "queued"
    _wait("the queued run", lambda: [r.state for r in cluster.runs(template)] == ["success"])
    whats = [record.question for _, record in cluster.runner.recorder.log.records()]
    assert f"report {template.name!r} run now queued for {queued.scheduled_for}" in whats
    assert any(w == f"report {template.name!r} (manual)" for w in whats)  # the worker's run
    assert datetime.fromisoformat(queued.scheduled_for).tzinfo == UTC
