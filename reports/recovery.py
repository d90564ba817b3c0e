"""Finishing report runs that were cut short: the process running them died (SIGKILL, a
crash, a host restart) or they ran past the time limit.

Found when a scheduler starts and, after that, by a reaper job every few minutes. A run is
taken over when its owner is known to be gone (same host, process not running) or it has
been working longer than `report_run_limit_minutes`; it is marked `interrupted` (one
process wins that change), the channels caught mid-send become `uncertain` and the channels
never started are sent, once, from the files and message the run had prepared.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from copilot.core.errors import CopilotError
from copilot.core.statedb import now_text
from reports.delivery import Attachment, Channel, ReportMessage
from reports.ledger import Owed
from reports.model import ReportRun
from reports.render import MIME
from reports.runner import ReportRunner, delivery_errors

__all__ = ["recover_runs"]

log = logging.getLogger(__name__)


def recover_runs(runner: ReportRunner, *, now: datetime | None = None) -> list[ReportRun]:
    """Take over every working run that is dead or past the limit; the runs as they ended."""
    now = now or datetime.now(UTC)
    limit = timedelta(minutes=runner.settings.reports.run_limit_minutes)
    recovered = []
    for run in runner.store.runs(state="working", limit=1_000):
        assert run.id is not None
        owner = runner.ledger.owner(run.id)
        alive = owner.alive() if owner else None
        if alive is False:
            why = "the process running it stopped"
        elif now - _started(run) > limit:
            why = f"it ran longer than the limit of {limit.total_seconds() / 60:g} min"
        else:
            continue  # running here or elsewhere, within its time
        if runner.store.interrupt(run.id):  # one process takes it over, never two
            recovered.append(_complete(runner, run, why))
    return recovered


def _complete(runner: ReportRunner, run: ReportRun, why: str) -> ReportRun:
    assert run.id is not None
    ledger = runner.ledger
    uncertain = ledger.abandon_sending(run.id)
    owed = ledger.owed(run.id)
    planned = ledger.message(run.id)
    if owed and planned is not None:
        fields, files = planned
        try:
            channels = _channels_for(runner, run, owed)
            message = ReportMessage(**fields, attachments=tuple(
                Attachment(Path(f).name, Path(f).read_bytes(), MIME[Path(f).suffix[1:]])
                for f in files))
        except (CopilotError, OSError) as exc:
            reason = f"Not completed after the interruption: {exc}"
            for item in owed:
                ledger.give_up(run.id, item.position, reason)
        else:
            runner.deliver(run.id, message, channels)
    deliveries = ledger.deliveries(run.id)
    owed_positions = {item.position for item in owed}
    sent_now = [f"{d['channel']} {d['target']}" for i, d in enumerate(deliveries)
                if d["ok"] and i in owed_positions]
    story = [f"Interrupted: {why}."]
    if planned is None:
        story.append("It stopped before anything was sent; run it again from the Reports page.")
    if sent_now:
        story.append(f"Completed afterwards for {', '.join(sent_now)}.")
    if uncertain:
        story.append(f"{uncertain} channel(s) were being sent to when it stopped and may not "
                     "have received it; they were not sent again.")
    if errors := delivery_errors(deliveries):
        story.append(errors)
    ended = replace(run, state="interrupted", deliveries=deliveries, ended_at=now_text(),
                    error=" ".join(story))
    runner.store.finish_run(ended, was="interrupted")
    log.warning("report run %s of %r recovered: %s", run.id, run.template_name, ended.error)
    return runner.log(ended, "reaper", runner.store.template_by_id(run.template_id))


def _channels_for(runner: ReportRunner, run: ReportRun, owed: list[Owed]
                  ) -> dict[int, Channel]:
    """The template's channels at the owed positions, each checked to be the one planned:
    a template edited since the run started is not guessed at."""
    template = runner.store.template_by_id(run.template_id)
    current = runner.channels(template) if template is not None else []
    channels: dict[int, Channel] = {}
    for item in owed:
        channel = current[item.position] if item.position < len(current) else None
        if channel is None or (channel.name, channel.target) != (item.channel, item.target):
            runner.ledger.give_up(run.id or 0, item.position,
                                  "The report's recipients changed after the run started; "
                                  "not sent.")
        else:
            channels[item.position] = channel
    return channels


def _started(run: ReportRun) -> datetime:
    return datetime.strptime(run.started_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
