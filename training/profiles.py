"""Versioned training profiles in the app's state database.

A profile version is an immutable, numbered snapshot of everything trained: the schema, the
value index, the glossary, documents and verified question/SQL pairs, with who made it and
when. Exactly one version of a profile is active; activating an older one is a rollback and
restores exactly what the copilot knew then, because the snapshot, not the live warehouse,
is what it answers from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from copilot.core.errors import CopilotError
from copilot.core.schema import WarehouseSchema
from copilot.core.statedb import state_engine
from training.glossary import Glossary
from training.schema_check import glossary_warnings

__all__ = [
    "Document",
    "Pair",
    "ProfileContent",
    "ProfileRepository",
    "ProfileVersion",
]

_metadata = MetaData()
_versions = Table(
    "training_versions",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("profile", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("counts", Text, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("content", Text, nullable=False),
    UniqueConstraint("profile", "version"),
)
_active = Table(
    "training_active",
    _metadata,
    Column("profile", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("activated_at", String(32), nullable=False),
    Column("activated_by", String(128), nullable=False),
)


@dataclass(frozen=True)
class Document:
    """An uploaded document, already cut into chunks for retrieval."""

    name: str
    chunks: tuple[str, ...]


@dataclass(frozen=True)
class Pair:
    """A verified question and the SQL (as the guard returned it) that answers it."""

    question: str
    sql: str
    added_by: str = ""
    added_at: str = ""


@dataclass(frozen=True)
class ProfileContent:
    """Everything one profile version knows."""

    schema: WarehouseSchema
    values: Mapping[str, tuple[str, ...]]
    glossary: Glossary
    documents: tuple[Document, ...] = ()
    pairs: tuple[Pair, ...] = ()
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # text key samples

    def to_json(self) -> str:
        return json.dumps(
            {
                "schema": self.schema.as_dict(),
                "values": {k: list(v) for k, v in sorted(self.values.items())},
                "glossary": self.glossary.as_dict(),
                "documents": [asdict(d) for d in self.documents],
                "pairs": [asdict(p) for p in self.pairs],
                "keys": {k: list(v) for k, v in sorted(self.keys.items())},
            },
            sort_keys=True,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> ProfileContent:
        data = json.loads(text)
        return cls(
            schema=WarehouseSchema.from_dict(data["schema"]),
            values={k: tuple(v) for k, v in data["values"].items()},
            glossary=Glossary.from_dict(data["glossary"]),
            documents=tuple(Document(d["name"], tuple(d["chunks"])) for d in data["documents"]),
            pairs=tuple(Pair(**p) for p in data["pairs"]),
            keys={k: tuple(v) for k, v in data.get("keys", {}).items()},
        )

    @property
    def drafted(self) -> bool:
        """Trained from a glossary `glossary draft` wrote and nobody has marked reviewed."""
        return self.glossary.drafted

    @cached_property
    def warnings(self) -> tuple[str, ...]:
        """Glossary words that also mean something else (a stored value, an entity, another
        term): listed at training and on the Training page, for a person to decide."""
        return glossary_warnings(self.glossary, self.schema, self.values)

    def counts(self) -> dict[str, int]:
        """What the version holds, for lists and the gate (`drafted` and `warnings` only
        when there are any, so older versions' counts read the same)."""
        marks = {"drafted": int(self.drafted), "warnings": len(self.warnings)}
        return {
            "tables": len(self.schema.tables),
            "columns": sum(len(t.columns) for t in self.schema.tables),
            "value_columns": len(self.values),
            "entities": len(self.glossary.entities),
            "terms": len(self.glossary.terms),
            "value_synonyms": len(self.glossary.values),
            "rules": len(self.glossary.rules) + len(self.glossary.period_columns),
            "documents": len(self.documents),
            "pairs": len(self.pairs),
        } | {k: v for k, v in marks.items() if v}


@dataclass(frozen=True)
class ProfileVersion:
    """One numbered version of a profile; `content` is loaded on demand."""

    profile: str
    version: int
    created_at: str
    created_by: str
    note: str
    counts: Mapping[str, int]
    content_sha256: str
    active: bool = False
    content: ProfileContent | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        """The name of this version's collections in the vector store."""
        return f"{self.profile}-{self.version}"

    @property
    def drafted(self) -> bool:
        """Trained from a drafted glossary not yet reviewed: "drafted, not reviewed" in lists
        (known from the counts, so a version listed without its content says it too)."""
        return bool(self.counts.get("drafted"))

    @property
    def warnings(self) -> tuple[str, ...]:
        """The glossary's warnings (see ProfileContent.warnings); () without content."""
        return self.content.warnings if self.content is not None else ()


_T = TypeVar("_T")
_ATTEMPTS = 20  # a number taken by another process is read again, this many times at most


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _until_no_conflict(engine: Engine, work: Callable[[Connection], _T], what: str) -> _T:
    """Run `work` in a transaction, again when another process's insert got in between its
    read and its own insert (two trainings numbering a version, two activations): the
    unique key refuses the second, on SQLite and PostgreSQL alike, and it reads again."""
    for _ in range(_ATTEMPTS):
        try:
            with engine.begin() as conn:
                return work(conn)
        except IntegrityError:
            continue
    raise CopilotError(f"Could not {what}: other processes kept changing the training "
                       "profile at the same moment. Try again.")


class ProfileRepository:
    """Profile versions in the state database (SQLite or PostgreSQL)."""

    def __init__(self, state_url: str) -> None:
        self._engine: Engine = state_engine(state_url)
        _metadata.create_all(self._engine)

    def create_version(
        self, profile: str, content: ProfileContent, *, created_by: str, note: str = ""
    ) -> ProfileVersion:
        """Store `content` as the next version of `profile` (not yet active)."""
        text = content.to_json()
        digest = hashlib.sha256(text.encode()).hexdigest()
        counts = content.counts()
        created_at = _now()

        def insert_next(conn: Connection) -> int:
            latest = conn.execute(
                select(func.max(_versions.c.version)).where(_versions.c.profile == profile)
            ).scalar()
            number = (latest or 0) + 1
            conn.execute(
                _versions.insert().values(
                    profile=profile, version=number, created_at=created_at,
                    created_by=created_by, note=note, counts=json.dumps(counts),
                    content_sha256=digest, content=text,
                )
            )
            return number

        number = _until_no_conflict(self._engine, insert_next, f"train {profile!r}")
        return ProfileVersion(profile, number, created_at, created_by, note, counts, digest,
                              content=content)

    def versions(self, profile: str) -> list[ProfileVersion]:
        """Every version of `profile`, newest first, without content."""
        active = self.active_number(profile)
        columns = [c for c in _versions.c if c.name != "content"]
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(*columns).where(_versions.c.profile == profile)
                .order_by(_versions.c.version.desc())
            ).mappings().all()
        return [self._version(row, active) for row in rows]

    def get(self, profile: str, version: int) -> ProfileVersion:
        """One version with its content; CopilotError when there is none."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(_versions).where(
                    (_versions.c.profile == profile) & (_versions.c.version == version)
                )
            ).mappings().first()
        if row is None:
            raise CopilotError(f"The training profile {profile!r} has no version {version}.")
        found = self._version(row, self.active_number(profile))
        return replace(found, content=ProfileContent.from_json(row["content"]))

    def active_number(self, profile: str) -> int | None:
        with self._engine.connect() as conn:
            return conn.execute(
                select(_active.c.version).where(_active.c.profile == profile)
            ).scalar()

    def active(self, profile: str) -> ProfileVersion | None:
        """The active version with its content, or None when the profile was never trained."""
        number = self.active_number(profile)
        return None if number is None else self.get(profile, number)

    def activate(self, profile: str, version: int, *, by: str) -> ProfileVersion:
        """Make `version` the one the copilot answers from (a rollback when it is older)."""
        target = self.get(profile, version)

        def replace_active(conn: Connection) -> None:
            conn.execute(_active.delete().where(_active.c.profile == profile))
            conn.execute(_active.insert().values(
                profile=profile, version=version, activated_at=_now(), activated_by=by))

        _until_no_conflict(self._engine, replace_active, f"activate {profile!r}")
        return replace(target, active=True)

    def dispose(self) -> None:
        self._engine.dispose()

    @staticmethod
    def _version(row: Mapping[str, Any], active: int | None) -> ProfileVersion:
        return ProfileVersion(
            profile=row["profile"], version=row["version"], created_at=row["created_at"],
            created_by=row["created_by"], note=row["note"], counts=json.loads(row["counts"]),
            content_sha256=row["content_sha256"], active=row["version"] == active,
        )

