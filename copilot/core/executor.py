"""The one way SQL reaches the warehouse: the guard's verdict first, then the read-only
warehouse, or a refusal. Every path runs through it: the engine's and the LLM's answers,
verified pairs, edited SQL, downloads, dashboards, reports, samples, training and eval.

The row cap is a parameter (`capped`): a page shows the guard's cap, a download or a report
takes a larger one, and both are the same guard otherwise (schema, dialect, policy).

With an entitlements policy (copilot/core/entitlements.py), every statement is first limited
to the rows of the user the executor is scoped to (`for_user`), whoever wrote it, and the
filters applied travel with the result for the audit record. An executor scoped to nobody
reads as the policy's default says for an unknown user (deny: no rows).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import sqlglot
import sqlglot.errors
from sqlglot import exp

from copilot.core.directory import GroupLookup
from copilot.core.entitlements import apply_entitlements
from copilot.core.entitlements_policy import EntitlementsSource
from copilot.core.errors import CopilotError, GuardRefusal
from copilot.core.guard import Guard, GuardSchema, Verdict
from copilot.core.warehouse import QueryResult, Warehouse

__all__ = ["Executed", "Executor"]

Statement = str | exp.Expression


@dataclass(frozen=True)
class Executed:
    """What one statement came to: the guard's verdict, then the rows or why not."""

    verdict: Verdict
    result: QueryResult | None = None
    error: CopilotError | None = None  # the warehouse's failure (down, timed out, rejected)
    ms: float = 0.0
    entitlements: tuple[str, ...] = ()  # the row filters applied ("trades: desk = 'Rates'")

    @property
    def refused(self) -> bool:
        """The guard said no: nothing reached the warehouse."""
        return self.verdict.statement is None


@dataclass(frozen=True)
class Executor:
    """A guard and the read-only warehouse it guards."""

    guard: Guard
    warehouse: Warehouse
    # None: every row (no policy configured). A source, read once per statement: under four
    # eyes the approved policy can change while the app runs.
    entitlements: EntitlementsSource | None = None
    user: str = ""  # whose rows, under a policy
    groups: frozenset[str] = frozenset()
    directory: GroupLookup | None = None  # a user's groups when the caller has none

    def for_user(self, user: str, groups: frozenset[str] | None = None) -> Executor:
        """This executor reading only the rows `user` (in `groups`) is entitled to. Without
        `groups`, the directory's (the groups `user`'s last sign-in stated, none when too
        old): a report or dashboard running as its owner reads the owner's rows."""
        if groups is None:
            groups = (self.directory.membership(user).groups
                      if self.directory is not None and user and self.entitlements is not None
                      else frozenset())
        return replace(self, user=user, groups=groups)

    def unrestricted(self) -> Executor:
        """This executor with no policy: the system's own reads (training samples)."""
        return replace(self, entitlements=None, user="", groups=frozenset())

    @property
    def restricted(self) -> bool:
        """True when a policy keeps some rows from this executor's user."""
        return self.entitlements is not None and not self.entitlements.in_force(
            ).is_unrestricted(self.user, self.groups)

    @property
    def dialect(self) -> str:
        """The warehouse's dialect as the registry names it (copilot/core/dialects)."""
        return self.guard.dialect

    @property
    def sqlglot_dialect(self) -> str:
        """The dialect sqlglot writes and reads for this warehouse."""
        return self.warehouse.sqlglot_dialect

    @property
    def row_cap(self) -> int:
        return self.guard.row_cap

    def capped(self, rows: int) -> Executor:
        """The same guard (schema, dialect, policy) with another row cap."""
        return self if rows == self.guard.row_cap else self._with(self.guard.schema, rows)

    def over(self, schema: GuardSchema) -> Executor:
        """The same guard over `schema` (the warehouse's tables read afresh)."""
        return self._with(schema, self.guard.row_cap)

    def _with(self, schema: GuardSchema, rows: int) -> Executor:
        # The one place a guard is rebuilt: whatever changes, the dialect and policy stay.
        return replace(self, guard=Guard(schema, dialect=self.guard.dialect, row_cap=rows,
                                         policy=self.guard.policy))

    def check(self, sql: Statement, *, read: str | None = None) -> Verdict:
        """The guard's verdict alone: what would run, or why not."""
        return self._checked(sql, read)[0]

    def attempt(self, sql: Statement, *, read: str | None = None) -> Executed:
        """Guard, then run; never raises for a refusal or the warehouse's failure, which the
        caller turns into an answer that says so."""
        started = time.perf_counter()
        verdict, applied = self._checked(sql, read)
        if verdict.statement is None:
            return Executed(verdict, ms=_ms(started), entitlements=applied)
        try:
            result = self.warehouse.execute(verdict.statement)
        except CopilotError as exc:
            return Executed(verdict, error=exc, ms=_ms(started), entitlements=applied)
        return Executed(verdict, result, ms=_ms(started), entitlements=applied)

    def run(self, sql: Statement, *, read: str | None = None) -> QueryResult:
        """Guard, then run: the rows, else GuardRefusal or the warehouse's typed error."""
        verdict = self._allowed(sql, read)
        return self.warehouse.execute(verdict.statement)  # type: ignore[arg-type]

    def stream(self, sql: Statement, *, read: str | None = None
               ) -> Iterator[tuple[tuple[str, ...], tuple[tuple[object, ...], ...]]]:
        """Guard, then the rows as (columns, rows) chunks for a file of any size; GuardRefusal
        at once (not at the first chunk) when the guard says no."""
        return self.warehouse.stream(self._allowed(sql, read).statement)  # type: ignore[arg-type]

    def _allowed(self, sql: Statement, read: str | None) -> Verdict:
        verdict = self._checked(sql, read)[0]
        if verdict.statement is None:
            raise GuardRefusal(verdict.rule or "input", verdict.reason)
        return verdict

    def _checked(self, sql: Statement, read: str | None) -> tuple[Verdict, tuple[str, ...]]:
        """The guard's verdict on `sql` limited to the user's rows, and the filters applied."""
        if self.entitlements is None:
            return self.guard.check(sql, read=read), ()
        tree = sql if isinstance(sql, exp.Expression) else _one_statement(
            sql, read or self.sqlglot_dialect)
        if tree is None:  # not one readable statement: the guard says what is wrong
            return self.guard.check(sql, read=read), ()
        limited, applied = apply_entitlements(tree, self.user, self.groups,
                                              self.entitlements.in_force(),
                                              self.guard.schema, self.sqlglot_dialect)
        return self.guard.check(limited, read=read), applied


def _one_statement(sql: str, dialect: str) -> exp.Expression | None:
    try:
        statements = sqlglot.parse(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return None
    return statements[0] if len(statements) == 1 and statements[0] is not None else None


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
