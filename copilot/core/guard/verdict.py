"""What the guard returns: a Verdict, and for an allowed statement the GuardedSQL that the
warehouse layer accepts. Only the guard can make a GuardedSQL, so no code path can run a
statement that did not pass it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from copilot.core.schema import WarehouseSchema

__all__ = ["GuardSchema", "GuardedSQL", "RuleName", "Verdict"]

RuleName = Literal[
    "input",
    "parse",
    "single_statement",
    "read_only",
    "no_select_into",
    "no_locking",
    "known_tables",
    "safe_functions",
    "bounded_functions",
    "known_columns",
    "dialect",
    "unverifiable",
]

# Held by the guard module only; GuardedSQL refuses to exist without it.
_SEAL = object()


class GuardedSQL:
    """One statement the guard allowed, as it will run, in the warehouse's dialect."""

    __slots__ = ("_dialect", "_row_cap", "_sql", "_tables")

    def __init__(
        self, sql: str, dialect: str, tables: tuple[str, ...], row_cap: int, *, seal: object
    ) -> None:
        if seal is not _SEAL:
            raise TypeError("GuardedSQL is made only by the SQL guard (copilot.core.guard.Guard)")
        object.__setattr__(self, "_sql", sql)
        object.__setattr__(self, "_dialect", dialect)
        object.__setattr__(self, "_tables", tables)
        object.__setattr__(self, "_row_cap", row_cap)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("GuardedSQL is immutable")

    def __repr__(self) -> str:
        return f"GuardedSQL({self._sql!r}, dialect={self._dialect!r})"

    @property
    def sql(self) -> str:
        return self._sql

    @property
    def dialect(self) -> str:
        return self._dialect

    @property
    def tables(self) -> tuple[str, ...]:
        return self._tables

    @property
    def row_cap(self) -> int:
        """The most rows the caller gets; the SQL itself asks for one more to detect truncation."""
        return self._row_cap


@dataclass(frozen=True)
class Verdict:
    """The guard's answer for one statement."""

    allowed: bool
    rule: RuleName | None  # the rule that refused; None when allowed
    reason: str
    sql: str | None  # the SQL as it will run; None when refused
    tables: tuple[str, ...] = ()
    statement: GuardedSQL | None = None

    def as_json(self) -> dict[str, Any]:
        """The verdict as `python -m copilot sql-check` prints it."""
        return {
            "allowed": self.allowed,
            "rule": self.rule,
            "reason": self.reason,
            "sql": self.sql,
            "tables": list(self.tables),
        }


@dataclass(frozen=True, eq=False)
class GuardSchema:
    """The tables and columns the guard lets a statement read.

    `tables` maps a lower-case table name to its lower-case column names and types;
    `names` keeps each table's name as the warehouse spells it; `db_schema` is the one
    database schema a statement may name explicitly.
    """

    tables: dict[str, dict[str, str]]
    names: dict[str, str]
    db_schema: str | None = None
    # lower-case table -> lower-case column -> the column's name as the warehouse spells it
    spellings: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_warehouse(cls, schema: WarehouseSchema) -> GuardSchema:
        """The guard's view of an introspected (or trained) warehouse schema."""
        return cls(
            tables={
                t.name.lower(): {c.name.lower(): c.type for c in t.columns} for t in schema.tables
            },
            names={t.name.lower(): t.name for t in schema.tables},
            db_schema=schema.db_schema,
            spellings={t.name.lower(): {c.name.lower(): c.name for c in t.columns}
                       for t in schema.tables},
        )
