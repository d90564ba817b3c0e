"""The guard's checks: each a small function over the parsed statement with one job; it
raises `Refused(rule, reason)` with a reason a user can act on. `guard.py` runs them in
order, then the rewrites of transforms.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from copilot.core.guard.policy import Policy
from copilot.core.guard.verdict import GuardSchema, RuleName

__all__ = ["CHECKS", "GuardContext", "Refused", "unwrap"]


class Refused(Exception):  # a verdict, not an error: Guard.check turns it into a Verdict
    """Raised by a rule: the statement may not run."""

    def __init__(self, rule: RuleName, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


@dataclass(frozen=True)
class GuardContext:
    """What the rules need besides the statement."""

    read: str
    write: str
    schema: GuardSchema
    policy: Policy
    row_cap: int
    columns: MappingSchema  # the schema in sqlglot's form for `read`, built once per guard
    # From the warehouse's dialect (copilot/core/dialects/), lower case: where its tables are
    # when no schema is configured, and its own catalogs.
    default_schemas: frozenset[str] = frozenset()
    system_schemas: frozenset[str] = frozenset()


def _optional(*names: str) -> tuple[type[exp.Expression], ...]:
    # sqlglot renames node classes between majors; a missing one simply isn't checked for.
    return tuple(getattr(exp, n) for n in names if isinstance(getattr(exp, n, None), type))


# Node types that change data or schema, manage sessions or transactions, or run code.
# exp.Command is what sqlglot falls back to for statements it does not model (CALL, DO,
# VACUUM, SHOW, LOCK, PREPARE/EXECUTE, SET ROLE, ...): never a plain query.
_FORBIDDEN = _optional(
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterTable",
    "TruncateTable", "Grant", "Revoke", "Command", "Transaction", "Commit", "Rollback",
    "Set", "Use", "Pragma", "Attach", "Detach", "Copy", "Execute", "ExecuteSql", "Declare",
    "Analyze", "LoadData", "Cache", "Uncache", "Refresh", "Kill",
)
_QUERY_ROOTS = _optional("Select", "SetOperation", "Union", "Intersect", "Except")
# How a refusal names a node, where the class name upper-cased (INSERT, DROP, ...) won't do.
_KIND = {
    "AlterTable": "ALTER", "TruncateTable": "TRUNCATE", "Transaction": "BEGIN",
    "Execute": "EXEC", "ExecuteSql": "EXEC", "LoadData": "LOAD DATA",
}


# Words that begin a statement. Unquoted, sqlglot reads one after an expression as an alias
# ("SELECT 1 DELETE FROM trades" is "SELECT 1 AS DELETE ..."), while SQL Server, which needs
# no semicolon between statements, reads two statements there. A name that is one of these
# words must be quoted, as the warehouse itself would insist.
_STATEMENT_WORDS = frozenset({
    "ALTER", "ATTACH", "BACKUP", "BULK", "CALL", "COPY", "CREATE", "DBCC", "DEALLOCATE",
    "DECLARE", "DELETE", "DENY", "DETACH", "DROP", "EXEC", "EXECUTE", "GRANT", "INSERT",
    "KILL", "MERGE", "OPENROWSET", "PRAGMA", "PREPARE", "RECONFIGURE", "RESTORE", "REVOKE",
    "SET", "SHUTDOWN", "TRUNCATE", "UPDATE", "USE", "VACUUM", "WAITFOR",
})


def _kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper() or "a command"
    if isinstance(node, exp.Alias | exp.Column | exp.Identifier):
        # sqlglot reads an unknown leading word (DBCC, NOTIFY, REINDEX) as a name.
        words = node.sql().split()
        return words[0].upper() if words else "It"
    return _KIND.get(type(node).__name__, type(node).__name__.upper())


def unwrap(tree: exp.Expression) -> exp.Expression:
    while isinstance(tree, exp.Subquery | exp.Paren) and tree.this is not None:
        tree = tree.this
    return tree


# ---- checks ---------------------------------------------------------------------------


def read_only(tree: exp.Expression, ctx: GuardContext) -> None:
    """One read-only query: SELECT or WITH ... SELECT, nothing that writes anywhere inside."""
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN):
            where = " inside a WITH clause" if node.find_ancestor(exp.CTE) else ""
            raise Refused(
                "read_only",
                f"The statement contains {_kind(node)}{where}; only read-only queries "
                "(SELECT or WITH ... SELECT) may run against the warehouse.",
            )
    for name in tree.find_all(exp.Identifier):
        if not name.quoted and name.name.upper() in _STATEMENT_WORDS:
            raise Refused(
                "read_only",
                f"{name.name.upper()} starts a statement and cannot stand as a name here; "
                "only read-only queries may run (quote it if it is a column's name).",
            )
    root = unwrap(tree)
    if not isinstance(root, _QUERY_ROOTS):
        raise Refused(
            "read_only",
            f"{_kind(root)} is not a query; only SELECT or WITH ... SELECT may run.",
        )


def no_select_into(tree: exp.Expression, ctx: GuardContext) -> None:
    """SELECT ... INTO creates a table: refused."""
    for select in tree.find_all(exp.Select):
        if select.args.get("into"):
            raise Refused(
                "no_select_into",
                "SELECT ... INTO would create a table from the result; the copilot only reads.",
            )


def no_locking(tree: exp.Expression, ctx: GuardContext) -> None:
    """No FOR UPDATE / FOR SHARE and no locking table hints (UPDLOCK, XLOCK, ...)."""
    for select in tree.find_all(exp.Select):
        if select.args.get("locks"):
            raise Refused(
                "no_locking",
                "FOR UPDATE / FOR SHARE would lock warehouse rows; queries may not take locks.",
            )
    for hint in tree.find_all(exp.WithTableHint):
        for item in hint.expressions:
            name = item.sql().lower()
            if name not in ctx.policy.allowed_table_hints:
                raise Refused(
                    "no_locking",
                    f"The table hint {item.sql().upper()} takes or holds locks; only "
                    f"{', '.join(sorted(ctx.policy.allowed_table_hints)).upper()} are allowed.",
                )


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def known_tables(tree: exp.Expression, ctx: GuardContext) -> None:
    """Only the warehouse's own tables: no catalogs, no other databases, no table functions."""
    ctes = _cte_names(tree)
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise Refused(
                "known_tables",
                f"{table.this.sql(dialect=ctx.read)} is a table function, not a warehouse "
                "table; only the warehouse's tables may be read.",
            )
        name, db, catalog = table.name, table.db, table.catalog
        full = ".".join(part for part in (catalog, db, name) if part)
        if ctx.policy.is_system_catalog(name, db) or (
            catalog and ctx.policy.is_system_catalog(db or name, catalog)
        ) or (db and db.lower() in ctx.system_schemas):
            raise Refused(
                "known_tables",
                f"{full} is a system catalog; the copilot reads only the warehouse's own tables.",
            )
        if catalog:
            raise Refused(
                "known_tables",
                f"{full} names another database; only this warehouse's tables may be read.",
            )
        if db and db.lower() not in _allowed_db_names(ctx):
            raise Refused(
                "known_tables",
                f"{full} is outside the warehouse schema; only its own tables may be read.",
            )
        if not db and name.lower() in ctes:
            continue
        if name.lower() not in ctx.schema.tables:
            raise Refused(
                "known_tables",
                f"There is no table {full} in the warehouse. Known tables: "
                f"{', '.join(sorted(ctx.schema.names.values()))}.",
            )


def _allowed_db_names(ctx: GuardContext) -> set[str]:
    allowed = {ctx.schema.db_schema.lower()} if ctx.schema.db_schema else set()
    # The default schema names each dialect gives its tables when none is configured.
    return allowed | ctx.default_schemas


# sqlglot models AND, OR and XOR as functions; they are operators, always allowed.
_OPERATORS = _optional("Connector")
_UNMODELLED = _optional("Anonymous", "AnonymousAggFunc")


def _called_name(node: exp.Func) -> str:
    """The name a function goes by: as written when sqlglot does not model it, else sqlglot's."""
    return node.name if isinstance(node, _UNMODELLED) else node.sql_name()


def safe_functions(tree: exp.Expression, ctx: GuardContext) -> None:
    """Only functions and types the policy allows; no server variables or parameters.

    An allow-list: a function nobody listed (a catalog probe such as to_regclass, a session
    fact such as current_user, ts_stat running the SQL in its string) is refused by name.
    """
    policy = ctx.policy
    for node in tree.find_all(exp.Func):
        if isinstance(node, _OPERATORS):
            continue
        name = _called_name(node)
        if isinstance(node.parent, exp.Dot) and node.parent.expression is node:
            raise Refused(
                "safe_functions",
                f"{node.parent.sql(dialect=ctx.read)} calls a function through a schema "
                "prefix; call functions by their plain name.",
            )
        if policy.is_dangerous_function(name):
            raise Refused(
                "safe_functions",
                f"The function {name.upper()} is not allowed: it can reach files, the "
                "network, the server's settings or resources outside the warehouse's data.",
            )
        if isinstance(node, _UNMODELLED):
            allowed = policy.allows_native(name, ctx.read) and policy.allows_native(
                name, ctx.write)
        else:
            allowed = name.lower() in policy.allowed_functions
        if not allowed:
            raise Refused(
                "safe_functions",
                f"The function {name.upper()} is not on the guard's list of allowed "
                "functions; if analysts need it, the platform team can add it to the guard "
                "policy.",
            )
    for datatype in tree.find_all(exp.DataType):
        kind = datatype.this
        kind_name = kind.value if isinstance(kind, exp.DataType.Type) else str(kind)
        if kind_name.lower() not in policy.allowed_types:
            raise Refused(
                "safe_functions",
                f"The type {datatype.sql(dialect=ctx.read)} is not one a query may convert "
                "to; use a number, text, date or time type.",
            )
    for node in tree.find_all(exp.Parameter, exp.SessionParameter, exp.Placeholder):
        raise Refused(
            "safe_functions",
            f"{node.sql(dialect=ctx.read)} is a server variable or a parameter placeholder; "
            "write the value itself in the query.",
        )


def bounded_functions(tree: exp.Expression, ctx: GuardContext) -> None:
    """No string built far longer than its input: repeat('x', 1e9), printf('%.*c', ...) and
    nested REPLACEs exhaust the server's memory in one function call, which no time limit
    interrupts. Each amplifying call's factor, times its amplifying ancestors', must stay
    within the policy's max_string_growth."""
    factors = {id(node): _growth(node, ctx) for node in tree.find_all(*_AMPLIFIERS)}
    for node in tree.find_all(*_AMPLIFIERS):
        total = factors[id(node)]
        parent = node.parent
        while parent is not None:
            total *= factors.get(id(parent), 1)
            parent = parent.parent
        if total > ctx.policy.max_string_growth:
            raise Refused(
                "bounded_functions",
                f"{_called_name(node).upper()} here could build a string {total:,.0f} times "
                f"longer than its input; the limit is {ctx.policy.max_string_growth:,}.",
            )


_AMPLIFIERS = (*_optional("Repeat", "Space", "Pad", "Replace", "Format", "NumberToStr",
                           "TimeToStr"),
               exp.Anonymous)
# A width or precision in a printf-style or .NET format: %5d, %.3f, %*c, D1000.
_FORMAT_WIDTHS = re.compile(r"%[-+ 0#,!']*(\d+|\*)?(?:\.(\d+|\*))?|[A-Za-z](\d+)")


def _count(arg: exp.Expression | None, what: str) -> int:
    """A number written in the query (what a bound can be checked against), else Refused."""
    if isinstance(arg, exp.Literal) and not arg.is_string:
        try:
            return max(0, int(float(arg.this)))
        except ValueError:
            pass
    raise Refused("bounded_functions", f"{what} must be a number written in the query.")


def _text(arg: exp.Expression | None, what: str) -> str:
    if isinstance(arg, exp.Literal) and arg.is_string:
        return arg.this
    raise Refused("bounded_functions", f"{what} must be a string written in the query.")


def _growth(node: exp.Expression, ctx: GuardContext) -> float:
    """How many times longer than its input this call's output can be."""
    name = _called_name(node).upper()  # type: ignore[arg-type]
    if isinstance(node, exp.Anonymous):
        if node.name.lower() != "printf":
            return 1
        return _format_growth(_text(node.expressions[0] if node.expressions else None,
                                    "PRINTF's format"))
    if isinstance(node, exp.Repeat):
        return _count(node.args.get("times"), f"{name}'s count")
    if isinstance(node, exp.Space | exp.Pad):
        target = node.this if isinstance(node, exp.Space) else node.expression
        return _count(target, f"{name}'s length")
    if isinstance(node, exp.Replace):
        replacement = node.args.get("replacement")
        if replacement is None or isinstance(replacement, exp.Null):
            return 1
        written = _text(replacement, "REPLACE's replacement")
        needle = node.expression
        needle_len = len(needle.this) if isinstance(needle, exp.Literal) else 1
        return max(1.0, len(written) / max(1, needle_len))
    pattern = node.args.get("this") if isinstance(node, exp.Format) else node.args.get("format")
    return _format_growth(_text(pattern, f"{name}'s format"))


def _format_growth(pattern: str) -> float:
    widths = [1]
    for match in _FORMAT_WIDTHS.finditer(pattern):
        for part in match.groups():
            if part == "*":
                raise Refused("bounded_functions",
                              "A format width taken from an argument (*) cannot be bounded; "
                              "write the width as a number.")
            if part:
                widths.append(int(part))
    return max(widths)


_COLUMN_ERROR = re.compile(r"Column '([^']+)' could not be resolved|Unknown column: (\S+)")


def known_columns(tree: exp.Expression, ctx: GuardContext) -> None:
    """Every column resolves against the schema (sqlglot's qualify): invented ones are named."""
    probe = tree.copy()
    for table in probe.find_all(exp.Table):  # schema prefixes were vetted by known_tables
        table.set("db", None)
        table.set("catalog", None)
    for name in probe.find_all(exp.Identifier):
        name.set("quoted", False)  # names match without regard to case, quoted or not
    try:
        qualify(
            probe,
            schema=ctx.columns,
            dialect=ctx.read,
            validate_qualify_columns=True,
            quote_identifiers=False,
        )
    except OptimizeError as exc:
        message = str(exc)
        match = _COLUMN_ERROR.search(message)
        if match:
            column = match.group(1) or match.group(2)
            raise Refused(
                "known_columns",
                f"The column {column} does not exist in the tables the query reads.",
            ) from None
        raise Refused(
            "known_columns", f"The columns could not be checked: {message.rstrip('.')}."
        ) from None


CHECKS = (
    read_only,
    no_select_into,
    no_locking,
    known_tables,
    safe_functions,
    bounded_functions,
    known_columns,
)
