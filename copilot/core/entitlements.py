"""Entitlements inside the SQL: every read of an entitled table sees only the user's rows,
whoever wrote the statement (the engine, an LLM, a verified pair, the user's own SQL).

`apply_entitlements` replaces each reference to a warehouse table on the parsed tree by
`(SELECT * FROM table AS a WHERE <the user's filter over a>) AS a`, `a` being the
reference's alias or the table's name. Swapping the reference itself, rather than adding
to a WHERE, covers every position at once (FROM, JOIN, subqueries, CTE bodies,
set-operation branches, EXISTS / IN, derived tables) and cannot be escaped by aliasing: a
self-join's two aliases each get their own filtered copy, and the name the rest of the
query uses is unchanged. The filter's columns are qualified with the inner table's alias,
so none of them can resolve to a column of an outer query.

A CTE whose name matches a table is not the table: a reference is left alone only where
it certainly reads a CTE (the same name, spelled and quoted the same way, declared by an
enclosing WITH in the query's body or in an earlier sibling CTE). Everywhere else the
reference is wrapped; where it was in fact a CTE, the worst outcome is fewer rows or an
error, never more rows. The policy itself (file format, loading) is in
`copilot/core/entitlements_policy.py`.

The rewritten tree still goes through the guard, which writes it for the warehouse.
"""

from __future__ import annotations

from sqlglot import exp

from copilot.core.entitlements_policy import (
    Default,
    Entitlements,
    EntitlementsError,
    Grant,
    Rule,
    load_entitlements,
)
from copilot.core.guard.verdict import GuardSchema

__all__ = [
    "Default",
    "Entitlements",
    "EntitlementsError",
    "Grant",
    "Rule",
    "apply_entitlements",
    "load_entitlements",
]

# Arguments of a table reference that belong to the name the query uses (the wrapper),
# not to the table read inside it (hints, time travel, sampling, ONLY stay inside).
_OUTER_ARGS = ("alias", "joins", "laterals", "pivots")


def apply_entitlements(
    tree: exp.Expression,
    user: str,
    groups: frozenset[str],
    policy: Entitlements,
    schema: GuardSchema,
    dialect: str | None = None,
) -> tuple[exp.Expression, tuple[str, ...]]:
    """`tree` with every read of a warehouse table limited to `user`'s rows, and the filters
    applied as a person reads them ("trades: asset_class = 'RATES'"), one per table.

    An unrestricted user gets the tree unchanged and no filters. Otherwise a table the
    policy gives the user is filtered by the OR of their filters; any other table of
    `schema` (the guard's, which refuses every other table) is read as the policy's default
    says (deny: no rows; allow: unfiltered). `tree` is not changed.
    """
    if policy.is_unrestricted(user, groups):
        return tree, ()
    grants = policy.grants(user, groups)
    denied = policy.default == "deny"
    out = tree.copy()
    applied: dict[str, str] = {}
    # Collected before any change, so the tables inside the wrappers are not visited.
    for table in list(out.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier) or _reads_cte(table):
            continue  # a table function is the guard's to refuse; a CTE is filtered inside
        key = table.name.lower()
        if key not in schema.tables:
            continue  # not a warehouse table: a CTE's name, or one the guard will refuse
        grant = grants.get(key)
        if grant is None and not denied:
            continue
        if grant is None:
            grant = Grant(key, exp.false(), "FALSE (no rule gives this table)")
        shown = schema.names.get(key, table.name)
        table.replace(_filtered(table, grant.condition, shown))
        applied.setdefault(key, f"{shown}: {grant.text}")
    return out, tuple(applied.values())


def _filtered(table: exp.Table, condition: exp.Expression, spelled: str) -> exp.Subquery:
    """`(SELECT * FROM table AS name WHERE condition) AS name` for one table reference.

    `name` is the reference's own alias, so each alias of a self-join gets its own filter
    written against it (and the guard, which spells a column by the table its qualifier
    names, still knows which table `v.col` reads). Without an alias it is the table's name
    as the warehouse spells it (`spelled`), quoted: PostgreSQL would fold an unquoted
    "Vessel" to vessel, which the guard's spelling of the qualifier no longer matches.
    """
    alias = table.args.get("alias")
    given = alias.this if isinstance(alias, exp.TableAlias) else None
    name = given.copy() if isinstance(given, exp.Identifier) else exp.to_identifier(
        spelled, quoted=True)
    inner = table.copy()
    for arg in _OUTER_ARGS:
        inner.set(arg, None)
    inner.set("alias", exp.TableAlias(this=name.copy()))
    where = condition.copy()
    for column in where.find_all(exp.Column):
        column.set("table", name.copy())
    select = exp.Select(expressions=[exp.Star()]).from_(inner, copy=False).where(
        where, copy=False)
    wrapper = exp.Subquery(this=select)
    for arg in _OUTER_ARGS:
        value = table.args.get(arg)
        if value:
            wrapper.set(arg, value)
    if wrapper.args.get("alias") is None:
        wrapper.set("alias", exp.TableAlias(this=name.copy()))
    return wrapper


def _reads_cte(table: exp.Table) -> bool:
    """True only when `table` certainly names a CTE: unqualified, and an enclosing WITH
    declares a CTE of the very same spelling visible where it stands (in the WITH's query,
    or in a CTE body after that CTE's). A recursive CTE's reference to itself is not
    counted: databases disagree on it, so it is treated as the table."""
    if table.args.get("db") or table.args.get("catalog"):
        return False
    via: exp.Expression | None = None  # the CTE whose body the walk is leaving
    child: exp.Expression = table
    node = table.parent
    while node is not None:
        if isinstance(node, exp.CTE):
            via = node
        if isinstance(node, exp.Query) and node.ctes:
            ctes = node.ctes
            if isinstance(child, exp.With):
                at = next((i for i, cte in enumerate(ctes) if cte is via), 0)
                ctes = ctes[:at]
            if any(_same_name(cte.args.get("alias"), table.this) for cte in ctes):
                return True
        child, node = node, node.parent
    return False


def _same_name(alias: exp.Expression | None, name: exp.Identifier) -> bool:
    """The same identifier in every dialect: same text, same quoting."""
    this = alias.this if isinstance(alias, exp.TableAlias) else None
    return isinstance(this, exp.Identifier) and this.this == name.this and bool(
        this.quoted) == bool(name.quoted)
