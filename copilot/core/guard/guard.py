"""The SQL guard: parse one statement, run the rules, return a Verdict.

Every statement, whoever wrote it (the engine, an LLM, a verified pair, a user, a saved
widget or report), passes `Guard.check` before it runs; the warehouse layer executes only
the GuardedSQL an allowed verdict carries.
"""

from __future__ import annotations

import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.schema import MappingSchema

from copilot.core.dialects import dialect_named, names
from copilot.core.guard.policy import Policy, default_policy
from copilot.core.guard.rules import CHECKS, GuardContext, Refused
from copilot.core.guard.transforms import TRANSFORMS
from copilot.core.guard.verdict import _SEAL, GuardedSQL, GuardSchema, Verdict

__all__ = ["DIALECTS", "MAX_SQL_CHARS", "Guard"]

# The dialects registered when the guard was first imported (the command line's choices);
# a Guard itself asks the registry, so a dialect registered later is checked the same way.
DIALECTS = names()
MAX_SQL_CHARS = 100_000  # far beyond any real query; bigger input is an attack or a mistake

# sqlglot logs a warning each time it falls back to a Command; the guard refuses those anyway.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


class Guard:
    """Checks statements for one warehouse: its schema, its dialect and its row cap."""

    def __init__(
        self,
        schema: GuardSchema,
        *,
        dialect: str,
        row_cap: int,
        policy: Policy | None = None,
    ) -> None:
        spec = dialect_named(dialect)  # UnsupportedDialect, a ValueError, when unknown
        self.schema = schema
        self.dialect = dialect
        self._write = spec.sqlglot
        self._default_schemas = frozenset(s.lower() for s in spec.default_schemas)
        self._system_schemas = frozenset(s.lower() for s in spec.system_schemas)
        self.row_cap = row_cap
        self.policy = policy or default_policy()
        # Normalising the schema for sqlglot costs more than checking a query: do it once.
        self._columns: dict[str, MappingSchema] = {}

    def check(self, sql: str | exp.Expression, *, read: str | None = None) -> Verdict:
        """The verdict on `sql`, written in dialect `read` (default: the warehouse's): a
        registered dialect's name or any sqlglot dialect.

        Never raises for bad input: anything that cannot be shown safe is refused.
        """
        read = _sqlglot_name(read) if read else self._write
        if read not in self._columns:
            self._columns[read] = MappingSchema(self.schema.tables, dialect=read)
        ctx = GuardContext(
            read=read,
            write=self._write,
            schema=self.schema,
            policy=self.policy,
            row_cap=self.row_cap,
            columns=self._columns[read],
            default_schemas=self._default_schemas,
            system_schemas=self._system_schemas,
        )
        try:
            tree = sql.copy() if isinstance(sql, exp.Expression) else _parse_one(sql, ctx.read)
            for check in CHECKS:
                check(tree, ctx)
            for transform in TRANSFORMS:
                tree = transform(tree, ctx)
            final = _render(tree, ctx.write)
        except Refused as refusal:
            return Verdict(allowed=False, rule=refusal.rule, reason=refusal.reason, sql=None)
        except Exception as exc:  # what the guard cannot verify does not run
            return Verdict(
                allowed=False, rule="unverifiable",
                reason=f"The statement could not be verified as safe ({type(exc).__name__}).",
                sql=None,
            )
        tables = tuple(sorted(
            {self.schema.names[t.name.lower()] for t in tree.find_all(exp.Table)
             if t.name.lower() in self.schema.names}
        ))
        statement = GuardedSQL(final, self.dialect, tables, self.row_cap, seal=_SEAL)
        return Verdict(
            allowed=True, rule=None, reason="A single read-only query over known tables.",
            sql=final, tables=tables, statement=statement,
        )


def _sqlglot_name(dialect: str) -> str:
    """sqlglot's name for a registered dialect; any other name is taken as sqlglot's own."""
    try:
        return dialect_named(dialect).sqlglot
    except ValueError:
        return dialect


def _parse_one(sql: str, dialect: str) -> exp.Expression:
    """Exactly one statement, or Refused (rules `input`, `parse`, `single_statement`)."""
    if not isinstance(sql, str) or not sql.strip():
        raise Refused("input", "There is no SQL statement to check.")
    if len(sql) > MAX_SQL_CHARS:
        raise Refused("input", f"The statement is longer than {MAX_SQL_CHARS:,} characters.")
    if "\x00" in sql:
        raise Refused("input", "The statement contains a NUL character.")
    try:
        statements = _statements(sql, dialect)
    except (ParseError, TokenError) as exc:
        raise Refused("parse", f"The SQL could not be parsed: {_first_line(exc)}.") from None
    except Exception as exc:  # a parser crash on hostile input is a refusal, not an outage
        raise Refused("parse", f"The SQL could not be parsed ({type(exc).__name__}).") from None
    if not statements:
        raise Refused("input", "There is no SQL statement to check (only comments or ';').")
    if len(statements) > 1:
        kinds = ", ".join(s.key.upper() for s in statements)
        raise Refused(
            "single_statement",
            f"The text holds {len(statements)} statements ({kinds}); exactly one query may "
            "run at a time.",
        )
    return statements[0]


def _statements(sql: str, dialect: str) -> list[exp.Expression]:
    # sqlglot yields None or a bare Semicolon for empty statements (";", a lone comment).
    return [
        s for s in sqlglot.parse(sql, read=dialect)
        if s is not None and not isinstance(s, exp.Semicolon)
    ]


def _render(tree: exp.Expression, dialect: str) -> str:
    """The statement in the warehouse's dialect, comments dropped, re-checked as one query."""
    try:
        final = tree.sql(dialect=dialect, comments=False)
        again = _statements(final, dialect)
    except Exception as exc:  # an untranslatable statement is refused
        raise Refused(
            "dialect", f"The query cannot be written for {dialect}: {_first_line(exc)}."
        ) from None
    if len(again) != 1 or not isinstance(again[0], exp.Select | exp.SetOperation):
        raise Refused("dialect", f"The query does not translate to one {dialect} query.")
    return final


def _first_line(exc: Exception) -> str:
    # sqlglot's messages carry ANSI underlines and the statement after the first line.
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return (text.splitlines()[0] if text else type(exc).__name__).rstrip(".")
