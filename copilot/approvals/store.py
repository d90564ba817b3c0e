"""Pending changes, and the settings texts last approved (the SMTP fingerprint, the
entitlements policy), in the state database: SQLite or PostgreSQL alike.

A decision is a conditional update (`WHERE state = 'pending'`): of two checkers deciding at
once, one wins and the other is told the change is no longer pending, so a change is never
applied twice."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Row

from copilot.approvals.model import ChangeState, PendingChange
from copilot.core.statedb import now_text, state_engine

__all__ = ["ApprovalStore", "ApprovedValue"]

_metadata = MetaData()
_changes = Table(
    "pending_changes",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("target", String(512), nullable=False, default=""),
    Column("summary", Text, nullable=False),
    Column("payload", Text, nullable=False),  # JSON; secrets only sealed
    Column("diff", Text, nullable=False),
    Column("base", String(128), nullable=False, default=""),
    Column("maker", String(256), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("checker", String(256), nullable=False, default=""),
    Column("decided_at", String(32), nullable=False, default=""),
    Column("reason", Text, nullable=False, default=""),
)
# The last approved text of a setting that comes from outside the app (the environment's
# SMTP server, the entitlements file): what stays in force until a change is approved.
_approved = Table(
    "approved_settings",
    _metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("approved_by", String(256), nullable=False),
    Column("approved_at", String(32), nullable=False),
)


@dataclass(frozen=True)
class ApprovedValue:
    """The approved text of a setting, who approved it and when."""

    value: str
    approved_by: str
    approved_at: str


class ApprovalStore:
    """The pending_changes and approved_settings tables of the state database."""

    def __init__(self, state_url: str) -> None:
        self._engine = state_engine(state_url)
        _metadata.create_all(self._engine)

    def add(self, change: PendingChange) -> PendingChange:
        """Store a new pending change; older pending ones of the same kind and target are
        superseded by it (the newest proposal is the one to decide)."""
        created = now_text()
        with self._engine.begin() as conn:
            if change.target:
                conn.execute(update(_changes).where(
                    _changes.c.kind == change.kind, _changes.c.target == change.target,
                    _changes.c.state == "pending").values(
                    state="superseded", decided_at=created,
                    reason="a newer proposal of the same change replaced it"))
            new_id = conn.execute(insert(_changes).values(
                kind=change.kind, target=change.target, summary=change.summary,
                payload=change.payload_json, diff=change.diff, base=change.base,
                maker=change.maker, created_at=created, state="pending", checker="",
                decided_at="", reason="")).inserted_primary_key[0]
        return replace(change, id=int(new_id), created_at=created, state="pending")

    def get(self, change_id: int) -> PendingChange | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(_changes).where(_changes.c.id == change_id)).first()
        return _change(row) if row is not None else None

    def changes(self, *, state: ChangeState | None = None, kind: str | None = None,
                limit: int = 200) -> list[PendingChange]:
        """Changes newest first, of one state and kind when given."""
        query = select(_changes).order_by(_changes.c.id.desc()).limit(limit)
        if state is not None:
            query = query.where(_changes.c.state == state)
        if kind is not None:
            query = query.where(_changes.c.kind == kind)
        with self._engine.connect() as conn:
            return [_change(row) for row in conn.execute(query)]

    def decide(self, change_id: int, state: ChangeState, *, checker: str, reason: str = "",
               was: ChangeState = "pending") -> bool:
        """Move a change from `was` to `state`; False when it was no longer in `was`."""
        with self._engine.begin() as conn:
            moved = conn.execute(update(_changes).where(
                _changes.c.id == change_id, _changes.c.state == was).values(
                state=state, checker=checker, reason=reason,
                decided_at=now_text() if state != "pending" else ""))
        return moved.rowcount == 1

    def approved(self, name: str) -> ApprovedValue | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(_approved).where(_approved.c.name == name)).first()
        return ApprovedValue(row.value, row.approved_by, row.approved_at) if row else None

    def set_approved(self, name: str, value: str, *, by: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(_approved).where(_approved.c.name == name))
            conn.execute(insert(_approved).values(name=name, value=value, approved_by=by,
                                                  approved_at=now_text()))


def _change(row: Row) -> PendingChange:  # type: ignore[type-arg]
    return PendingChange(
        kind=row.kind, summary=row.summary, payload=json.loads(row.payload), diff=row.diff,
        maker=row.maker, target=row.target, base=row.base, id=int(row.id),
        created_at=row.created_at, state=row.state, checker=row.checker,
        decided_at=row.decided_at, reason=row.reason)
