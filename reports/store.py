"""Report templates and their run log in the app's state database.

The template table is the source of truth: the scheduler's jobs are rebuilt from it. A
template's definition is a JSON column, so a new option needs no migration; its name and
paused flag are columns, because the page filters and the scheduler look them up.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
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
from sqlalchemy.exc import IntegrityError

from copilot.core.statedb import now_text, state_engine
from reports.model import Alert, Recipients, ReportError, ReportRun, ReportTemplate, Schedule

__all__ = ["ReportStore"]

_metadata = MetaData()
_templates = Table(
    "report_templates", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("definition", Text, nullable=False),
    Column("paused", Boolean, nullable=False, default=False),
    Column("created_by", String(128), nullable=False),
    Column("updated_at", String(32), nullable=False),
)
_runs = Table(
    "report_runs", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("template_id", Integer, nullable=False, index=True),
    Column("template_name", String(120), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("scheduled_for", String(40), nullable=False, default=""),
    Column("started_at", String(32), nullable=False),
    Column("ended_at", String(32), nullable=False, default=""),
    Column("state", String(16), nullable=False),
    Column("row_count", Integer),
    Column("files", Text, nullable=False, default="[]"),
    Column("deliveries", Text, nullable=False, default="[]"),
    Column("value", Float),
    Column("error", Text, nullable=False, default=""),
)
# A scheduled time runs once, even when two processes (the app and `python -m copilot
# scheduler`) fire the same job: the second insert fails and that run is skipped.
Index("report_runs_scheduled_once", _runs.c.template_id, _runs.c.scheduled_for, unique=True,
      sqlite_where=_runs.c.scheduled_for != "", postgresql_where=_runs.c.scheduled_for != "")
_DEFINITION = ("sql", "schedule", "recipients", "formats", "question", "relative",
               "interpretation", "skip_when_empty", "subject", "body", "alert")


class ReportStore:
    def __init__(self, state_url: str) -> None:
        self._engine = state_engine(state_url)
        _metadata.create_all(self._engine)

    # ---- templates ---------------------------------------------------------------------

    def templates(self) -> list[ReportTemplate]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(_templates)).all()
        # By code point, in Python: the same order whatever the database's collation.
        return sorted((_template(r) for r in rows), key=lambda t: t.name)

    def template(self, name: str) -> ReportTemplate:
        with self._engine.connect() as conn:
            row = conn.execute(select(_templates).where(_templates.c.name == name)).first()
        if row is None:
            raise ReportError(f"There is no report named {name!r}.")
        return _template(row)

    def template_by_id(self, template_id: int) -> ReportTemplate | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(_templates).where(_templates.c.id == template_id)).first()
        return None if row is None else _template(row)

    def save(self, template: ReportTemplate) -> ReportTemplate:
        """Insert a new template (no id) or replace one (same id)."""
        saved = replace(template, name=" ".join(template.name.split()), updated_at=now_text())
        values = {"name": saved.name, "definition": _definition(saved), "paused": saved.paused,
                  "created_by": saved.created_by, "updated_at": saved.updated_at}
        try:
            with self._engine.begin() as conn:
                if saved.id is None:
                    new_id = conn.execute(insert(_templates).values(**values)
                                          ).inserted_primary_key[0]
                    saved = replace(saved, id=new_id)
                else:
                    conn.execute(update(_templates).where(_templates.c.id == saved.id)
                                 .values(**values))
        except IntegrityError:
            raise ReportError(f"A report named {saved.name!r} already exists.") from None
        return saved

    def delete(self, template_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(_templates).where(_templates.c.id == template_id))

    # ---- the run log -------------------------------------------------------------------

    def start_run(self, run: ReportRun) -> ReportRun:
        """Log a run; ReportError when its scheduled time is already in the log."""
        try:
            with self._engine.begin() as conn:
                new_id = conn.execute(insert(_runs).values(**_run_row(run))
                                      ).inserted_primary_key[0]
        except IntegrityError:
            raise ReportError(f"The run of {run.template_name!r} scheduled for "
                              f"{run.scheduled_for} has already been made.") from None
        return replace(run, id=new_id)

    def finish_run(self, run: ReportRun, *, was: str = "working") -> bool:
        """Record how a run ended, if it is still in the state `was`; False when another
        process moved it meanwhile (the reaper interrupted it), and nothing is changed."""
        with self._engine.begin() as conn:
            return conn.execute(update(_runs).where(_runs.c.id == run.id,
                                                    _runs.c.state == was)
                                .values(**_run_row(run))).rowcount == 1

    def interrupt(self, run_id: int) -> bool:
        """Mark a working run interrupted; False when it is no longer working (it ended, or
        another process interrupted it first)."""
        with self._engine.begin() as conn:
            return conn.execute(update(_runs).where(_runs.c.id == run_id,
                                                    _runs.c.state == "working")
                                .values(state="interrupted")).rowcount == 1

    def run(self, run_id: int) -> ReportRun:
        with self._engine.connect() as conn:
            return _run(conn.execute(select(_runs).where(_runs.c.id == run_id)).one())

    def runs(self, *, template_id: int | None = None, state: str | None = None,
             limit: int = 200) -> list[ReportRun]:
        """The latest runs first, optionally of one template or in one state."""
        query = select(_runs).order_by(_runs.c.id.desc()).limit(limit)
        if template_id is not None:
            query = query.where(_runs.c.template_id == template_id)
        if state:
            query = query.where(_runs.c.state == state)
        with self._engine.connect() as conn:
            return [_run(r) for r in conn.execute(query).all()]

    def values(self, template_id: int, limit: int) -> list[float]:
        """The alert values of the template's last successful or untriggered runs, newest
        first: what an anomaly is measured against."""
        query = (select(_runs.c.value).where(_runs.c.template_id == template_id,
                                              _runs.c.value.is_not(None),
                                              _runs.c.state.in_(("success", "not triggered")))
                 .order_by(_runs.c.id.desc()).limit(limit))
        with self._engine.connect() as conn:
            return [float(v) for v in conn.execute(query).scalars()]


def _definition(template: ReportTemplate) -> str:
    data = {**asdict(template), "recipients": template.recipients.as_dict()}
    return json.dumps({k: data[k] for k in _DEFINITION}, sort_keys=True)


def _template(row: Any) -> ReportTemplate:
    data = json.loads(row.definition)
    schedule = data.pop("schedule")
    recipients = data.pop("recipients")
    return ReportTemplate(
        name=row.name, paused=bool(row.paused), id=row.id, created_by=row.created_by,
        updated_at=row.updated_at,
        schedule=Schedule(**{**schedule, "days": tuple(schedule["days"])}),
        # Keyed by channel name; the keys saved before the registry (emails, folders) are
        # read as their channel's by Recipients itself.
        recipients=Recipients(recipients),
        alert=Alert(**data.pop("alert")), formats=tuple(data.pop("formats")), **data,
    )


def _run_row(run: ReportRun) -> dict[str, object]:
    return {
        "template_id": run.template_id, "template_name": run.template_name,
        "trigger": run.trigger, "scheduled_for": run.scheduled_for,
        "started_at": run.started_at, "ended_at": run.ended_at, "state": run.state,
        "row_count": run.row_count, "files": json.dumps(list(run.files)),
        "deliveries": json.dumps(list(run.deliveries), default=str), "value": run.value,
        "error": run.error,
    }


def _run(row: Any) -> ReportRun:
    return ReportRun(
        template_id=row.template_id, template_name=row.template_name, trigger=row.trigger,
        started_at=row.started_at, state=row.state, scheduled_for=row.scheduled_for,
        ended_at=row.ended_at, row_count=row.row_count, files=tuple(json.loads(row.files)),
        deliveries=tuple(json.loads(row.deliveries)), value=row.value, error=row.error,
        id=row.id,
    )
