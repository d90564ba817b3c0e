"""Sign-ins and their last activity, kept in the state database, for the session timeout.

Streamlit's login cookie lasts 30 days and survives a closed tab, so "how long since this
person last did something" cannot live in one browser session: a reload starts a new one.
Each sign-in (one ID token: the person and the moment the IdP signed them in) is a row here,
touched by every interaction; the first interaction after `timeout` without one ends it,
and an ended sign-in stays ended, so the same cookie brought back later is still refused.
Each tab's activity counts only for its own sign-in: a second browser signed in separately
does not keep the first one alive.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Column, MetaData, String, Table, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from copilot.core.statedb import state_engine

__all__ = ["SignIns", "State"]

State = Literal["new", "active", "expired", "ended"]
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
_metadata = MetaData()
_table = Table(
    "sign_ins",
    _metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the login's key
    Column("user_name", String(256), nullable=False),
    Column("signed_in_at", String(32), nullable=False),
    Column("active_at", String(32), nullable=False),
    Column("ended_at", String(32), nullable=True),
    Column("ended_why", String(16), nullable=True),  # timeout, sign-out
)


class SignIns:
    """The sign-ins table in the state database at `state_url`."""

    def __init__(self, state_url: str) -> None:
        self._engine = state_engine(state_url)
        _metadata.create_all(self._engine)

    def touch(self, key: str, user: str, *, timeout: timedelta | None,
              now: datetime | None = None) -> State:
        """One interaction of the sign-in `key`: "new" the first time it is seen, "active"
        while within `timeout` of the last one (None: no timeout), "expired" for the one
        interaction that finds it idle too long (which ends it), "ended" after that or
        after a sign-out."""
        now = now or datetime.now(UTC)
        ident = _id(key)
        for _ in range(2):  # two tabs of a new sign-in at once: the loser reads the row
            with self._engine.begin() as conn:
                row = conn.execute(select(_table).where(_table.c.id == ident)).first()
                if row is None:
                    try:
                        conn.execute(insert(_table).values(
                            id=ident, user_name=user, signed_in_at=_text(now),
                            active_at=_text(now)))
                    except IntegrityError:
                        continue
                    return "new"
                if row.ended_at is not None:
                    return "ended"
                idle = now - _parse(row.active_at)
                if timeout is not None and idle > timeout:
                    return "expired" if _end(conn, ident, "timeout", now) else "ended"
                # The timeout is counted in minutes: a write per second of clicking is waste.
                if timeout is None or idle > min(timeout / 10, timedelta(seconds=30)):
                    conn.execute(update(_table).where(_table.c.id == ident)
                                 .values(active_at=_text(now)))
                return "active"
        return "active"

    def end(self, key: str, why: str = "sign-out", *, now: datetime | None = None) -> bool:
        """End the sign-in `key` (signed out); True when it was still open."""
        with self._engine.begin() as conn:
            return _end(conn, _id(key), why, now or datetime.now(UTC))

    def dispose(self) -> None:
        self._engine.dispose()


def _end(conn: Connection, ident: str, why: str, now: datetime) -> bool:
    # Only the first ender wins (two tabs timing out at once record one timeout).
    done = conn.execute(update(_table).where(
        _table.c.id == ident, _table.c.ended_at.is_(None)).values(
            ended_at=_text(now), ended_why=why))
    return bool(done.rowcount)


def _id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP)


def _parse(text: str) -> datetime:
    return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)
