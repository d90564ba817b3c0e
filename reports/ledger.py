"""What a report run owes its channels, kept so that a run cut short by a crash is finished,
and a message already handed over is never sent twice.

Each run names its owner (host, process id and a token of the process) when it starts. When
its channels are known, the message it sends (subject, body, the rows shown inline, the
files' paths) and one delivery row per channel are written in one transaction, every row
`pending`. A channel moves pending -> sending -> sent | failed | uncertain, and each move is a
compare-and-set, so of two processes finishing the same run only one sends on a channel. A
row still `sending` after a crash may have reached its channel: it becomes `uncertain`, is
named in the run log, and is not sent again. Separate tables, so a state database of an
earlier version needs no migration.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import dataclass, fields
from typing import Any, Literal

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from copilot.core.statedb import now_text, state_engine
from reports.delivery import DeliveryOutcome, ReportMessage

__all__ = ["THIS_PROCESS", "DeliveryLedger", "Owed", "Owner"]

DeliveryState = Literal["pending", "sending", "sent", "failed", "uncertain"]

_metadata = MetaData()
_owners = Table(
    "report_run_owners", _metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("token", String(32), nullable=False),
    Column("message", Text, nullable=False, default=""),  # JSON, once the channels are known
)
_deliveries = Table(
    "report_deliveries", _metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("channel", String(16), nullable=False),
    Column("target", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
    Column("files", Text, nullable=False, default="[]"),
    Column("updated_at", String(32), nullable=False),
)


@dataclass(frozen=True)
class Owner:
    """The process a run belongs to: the token tells a reused process id from its owner."""

    host: str
    pid: int
    token: str

    def alive(self) -> bool | None:
        """True or False when it can be told from here (this host); None on another host."""
        if self.host != THIS_PROCESS.host:
            return None
        if self.pid == THIS_PROCESS.pid:
            return self.token == THIS_PROCESS.token
        try:
            os.kill(self.pid, 0)  # signal 0: only asks whether the process exists
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, under another user
            return True
        return True


THIS_PROCESS = Owner(socket.gethostname(), os.getpid(), secrets.token_hex(8))


def _forked() -> None:
    # A forked child (a Celery prefork worker) is its own owner: claimed under its parent's
    # pid, a run killed with the child would look alive to the reaper while the parent lives.
    global THIS_PROCESS
    THIS_PROCESS = Owner(socket.gethostname(), os.getpid(), secrets.token_hex(8))


os.register_at_fork(after_in_child=_forked)


@dataclass(frozen=True)
class Owed:
    """A channel a run still owes: its place among the template's channels and its name."""

    position: int
    channel: str
    target: str


class DeliveryLedger:
    def __init__(self, state_url: str) -> None:
        self._engine = state_engine(state_url)
        _metadata.create_all(self._engine)

    def claim(self, run_id: int) -> None:
        """This process owns the run (called as the run starts)."""
        with self._engine.begin() as conn:
            conn.execute(insert(_owners).values(
                run_id=run_id, host=THIS_PROCESS.host, pid=THIS_PROCESS.pid,
                token=THIS_PROCESS.token, message=""))

    def owner(self, run_id: int) -> Owner | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(_owners).where(_owners.c.run_id == run_id)).first()
        return None if row is None else Owner(row.host, row.pid, row.token)

    def plan(self, run_id: int, message: ReportMessage, files: tuple[str, ...],
             channels: list[tuple[str, str]]) -> None:
        """The message and one pending row per (channel, target), in one transaction."""
        # Every field but the files' bytes, so a recovered run sends the same message.
        kept = {f.name: getattr(message, f.name) for f in fields(message)
                if f.name != "attachments"}
        document = json.dumps({**kept, "files": files}, default=str)
        now = now_text()
        with self._engine.begin() as conn:
            conn.execute(update(_owners).where(_owners.c.run_id == run_id)
                         .values(message=document))
            for position, (channel, target) in enumerate(channels):
                conn.execute(insert(_deliveries).values(
                    run_id=run_id, position=position, channel=channel, target=target,
                    state="pending", attempts=0, error="", files="[]", updated_at=now))

    def message(self, run_id: int) -> tuple[dict[str, Any], tuple[str, ...]] | None:
        """The planned message's fields and its files' paths, or None if none was planned."""
        with self._engine.connect() as conn:
            text = conn.execute(select(_owners.c.message)
                                .where(_owners.c.run_id == run_id)).scalar()
        if not text:
            return None
        data = json.loads(text)
        files = tuple(data.pop("files"))
        data["columns"] = tuple(data["columns"])
        data["rows"] = tuple(tuple(row) for row in data["rows"])
        return data, files

    def start(self, run_id: int, position: int) -> bool:
        """Move a pending channel to sending; False when another process already did."""
        return self._move(run_id, position, "pending", "sending")

    def finish(self, run_id: int, position: int, outcome: DeliveryOutcome) -> None:
        """Record how a channel this process was sending on ended."""
        state: DeliveryState = ("sent" if outcome.ok else
                                "uncertain" if outcome.uncertain else "failed")
        self._move(run_id, position, "sending", state, attempts=outcome.attempts,
                   error=outcome.error, files=json.dumps(list(outcome.files)))

    def owed(self, run_id: int) -> list[Owed]:
        """The channels still pending, in order."""
        query = (select(_deliveries).where(_deliveries.c.run_id == run_id,
                                           _deliveries.c.state == "pending")
                 .order_by(_deliveries.c.position))
        with self._engine.connect() as conn:
            return [Owed(r.position, r.channel, r.target) for r in conn.execute(query)]

    def abandon_sending(self, run_id: int) -> int:
        """Channels caught mid-send by a crash become uncertain; returns how many."""
        with self._engine.begin() as conn:
            return conn.execute(
                update(_deliveries)
                .where(_deliveries.c.run_id == run_id, _deliveries.c.state == "sending")
                .values(state="uncertain", updated_at=now_text(),
                        error="The run stopped while sending; it may have arrived and is not "
                              "sent again.")).rowcount

    def give_up(self, run_id: int, position: int, reason: str) -> None:
        """A pending channel that cannot be completed, with the reason."""
        self._move(run_id, position, "pending", "failed", error=reason)

    def deliveries(self, run_id: int) -> tuple[dict[str, object], ...]:
        """Every channel of the run as the run log shows it."""
        query = (select(_deliveries).where(_deliveries.c.run_id == run_id)
                 .order_by(_deliveries.c.position))
        with self._engine.connect() as conn:
            return tuple({"channel": r.channel, "target": r.target, "ok": r.state == "sent",
                          "state": r.state, "attempts": r.attempts, "error": r.error,
                          "files": json.loads(r.files)} for r in conn.execute(query))

    def _move(self, run_id: int, position: int, source: DeliveryState,
              target: DeliveryState, **values: object) -> bool:
        with self._engine.begin() as conn:
            return conn.execute(
                update(_deliveries)
                .where(_deliveries.c.run_id == run_id, _deliveries.c.position == position,
                       _deliveries.c.state == source)
                .values(state=target, updated_at=now_text(), **values)).rowcount == 1
