"""The warehouse's own spelling of every table and column a statement names.

The guard matches names without regard to case, as SQLite and SQL Server do. PostgreSQL
folds an unquoted name to lower case, so a table created as "Vessel" or CUST_MSTR in quotes
is found only when quoted in its exact case: `FROM Vessel` asks for "vessel", which does not
exist. This transform writes each name the warehouse knows as the warehouse spells it,
quoted where the warehouse's dialect would otherwise change it, whoever wrote the SQL.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from copilot.core.guard.rules import GuardContext

__all__ = ["exact_names"]

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _identifier(name: str, dialect: str) -> exp.Identifier:
    folds = dialect == "postgres" and name != name.lower()
    return exp.to_identifier(name, quoted=folds or not _PLAIN.fullmatch(name))


def exact_names(tree: exp.Expression, ctx: GuardContext) -> exp.Expression:
    """Tables and columns of the warehouse in their exact case, quoted where needed."""
    exact_tables = ctx.schema.names
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    scope: dict[str, str] = {}  # alias or name (lower case) -> table (lower case)
    for table in tree.find_all(exp.Table):
        key = table.name.lower()
        if not isinstance(table.this, exp.Identifier) or key in ctes or key not in exact_tables:
            continue
        scope[table.alias_or_name.lower()] = key
        scope[key] = key
        if table.this.name != exact_tables[key] or not table.this.quoted:
            table.set("this", _identifier(exact_tables[key], ctx.write))
    for column in tree.find_all(exp.Column):
        name = column.name.lower()
        owner = scope.get(column.table.lower()) if column.table else next(
            (t for t in dict.fromkeys(scope.values()) if name in ctx.schema.spellings.get(t, {})),
            None)
        spelled = ctx.schema.spellings.get(owner or "", {}).get(name)
        if spelled is not None and isinstance(column.this, exp.Identifier):
            column.set("this", _identifier(spelled, ctx.write))
            if column.table and column.table.lower() == owner and owner in exact_tables:
                column.set("table", _identifier(exact_tables[owner], ctx.write))
    return tree
