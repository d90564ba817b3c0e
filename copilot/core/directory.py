"""The groups each person was last seen in, kept in the state database.

A person's groups come from their login (copilot/core/identity.py) while they are signed in;
what runs without them (a scheduled report running as its owner, a dashboard refreshing as
its owner, a command naming a user) has no login to ask. So the app writes here what the
login said, and the role check (copilot/core/access.py) and the row entitlements
(copilot/core/executor.py) read it for whoever they act for.

Groups are only as good as their last confirmation: an entry older than
`OPSCOPILOT_GROUPS_MAX_AGE_DAYS` counts as no groups at all (fail closed: a person who left
the desk's group, or the bank, stops inheriting its roles and rows even though nobody
deleted the entry), and a refusal says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Column, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.exc import IntegrityError

from copilot.core.identity import Identity
from copilot.core.statedb import state_engine

__all__ = ["Directory", "GroupLookup", "Membership"]

_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
# A confirmation of unchanged groups is written at most this often: a page's every rerun
# reaches remember(), and the age that matters is counted in days.
_RECONFIRM = timedelta(hours=1)
_metadata = MetaData()
_table = Table(
    "directory_people",
    _metadata,
    Column("user_name", String(256), primary_key=True),
    Column("groups", Text, nullable=False),  # JSON list, sorted
    Column("source", String(16), nullable=False),  # oidc, header
    Column("confirmed_at", String(32), nullable=False),  # when the login last stated them
    Column("changed_at", String(32), nullable=False),  # when they last differed
)


@dataclass(frozen=True)
class Membership:
    """A person's groups as the directory holds them, and whether they still count."""

    user: str
    groups: frozenset[str] = frozenset()  # empty when stale or unknown
    confirmed_at: datetime | None = None
    stale: bool = False  # known, but older than the maximum age: counted as none

    def note(self, max_age_days: float) -> str:
        """What a refusal adds when stale groups were set aside; empty otherwise."""
        if not self.stale or self.confirmed_at is None:
            return ""
        return (f" {self.user}'s groups were last confirmed by a sign-in on "
                f"{self.confirmed_at:%Y-%m-%d}, more than {max_age_days:g} days ago "
                "(OPSCOPILOT_GROUPS_MAX_AGE_DAYS), so they count as none until "
                f"{self.user} signs in again.")


class GroupLookup(Protocol):
    """Where the role check and the executor find a person's groups."""

    max_age_days: float

    def membership(self, user: str) -> Membership: ...


class Directory:
    """The people table in the state database at `state_url`."""

    def __init__(self, state_url: str, *, max_age_days: float = 30.0) -> None:
        self.max_age_days = max_age_days
        self._engine = state_engine(state_url)
        _metadata.create_all(self._engine)

    def remember(self, identity: Identity, *, now: datetime | None = None) -> bool:
        """Keep what a login said of `identity`'s groups; True when they changed (or the
        person is new). Confirmed as of the sign-in (an ID token states the groups of the
        moment it was issued), else now."""
        now = now or datetime.now(UTC)
        at = min(identity.signed_in_at or now, now)
        groups = json.dumps(sorted(identity.groups), ensure_ascii=False)
        values = {"groups": groups, "source": identity.source, "confirmed_at": _text(at)}
        for _ in range(2):  # a second sign-in racing ours inserts first: update its row
            with self._engine.begin() as conn:
                row = conn.execute(select(_table).where(
                    _table.c.user_name == identity.user)).first()
                if row is None:
                    try:
                        conn.execute(insert(_table).values(
                            user_name=identity.user, changed_at=_text(now), **values))
                    except IntegrityError:
                        continue
                    return True
                changed = row.groups != groups or row.source != identity.source
                if changed:
                    conn.execute(update(_table).where(_table.c.user_name == identity.user)
                                 .values(changed_at=_text(now), **values))
                elif at - _parse(row.confirmed_at) >= _RECONFIRM:
                    conn.execute(update(_table).where(_table.c.user_name == identity.user)
                                 .values(confirmed_at=_text(at)))
                return changed
        return False

    def membership(self, user: str, *, now: datetime | None = None) -> Membership:
        """`user`'s groups, none when unknown or confirmed longer ago than the maximum age."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_table).where(_table.c.user_name == user)).first()
        if row is None:
            return Membership(user)
        confirmed = _parse(row.confirmed_at)
        if (now or datetime.now(UTC)) - confirmed > timedelta(days=self.max_age_days):
            return Membership(user, confirmed_at=confirmed, stale=True)
        return Membership(user, frozenset(json.loads(row.groups)), confirmed)

    def groups_of(self, user: str) -> frozenset[str]:
        """`user`'s groups that still count."""
        return self.membership(user).groups

    def dispose(self) -> None:
        self._engine.dispose()


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP)


def _parse(text: str) -> datetime:
    return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)
