"""What the guard rewrites in a statement it allows: the row cap written into the SQL, and
names written exactly as the warehouse spells them (names.py). They run after every check
(rules.py) has passed."""

from __future__ import annotations

from sqlglot import exp

from copilot.core.guard.names import exact_names
from copilot.core.guard.rules import GuardContext, unwrap

__all__ = ["TRANSFORMS", "cap_rows"]


def _requested_rows(limit: exp.Expression | None) -> int | None:
    """The row count a LIMIT / TOP / FETCH asks for, when it is a plain number."""
    if limit is None:
        return None
    count = limit.args.get("count") if isinstance(limit, exp.Fetch) else limit.expression
    if isinstance(count, exp.Literal) and not count.is_string:
        try:
            return int(count.this)
        except ValueError:
            return None
    return None


def cap_rows(tree: exp.Expression, ctx: GuardContext) -> exp.Expression:
    """Add a row cap when there is none; tighten one that asks for more.

    The cap written into the SQL is row_cap + 1, so the warehouse layer can tell the user
    that more rows existed without counting them.
    """
    root = unwrap(tree)
    limit = root.args.get("limit")
    options = limit.args.get("limit_options") if limit is not None else None
    relative = options is not None and (options.args.get("percent") or options.args.get(
        "with_ties"))  # TOP 50 PERCENT / WITH TIES: no fixed bound on the rows
    wanted = _requested_rows(limit)
    if wanted is not None and wanted <= ctx.row_cap and not relative:
        return root
    root.set("limit", exp.Limit(expression=exp.Literal.number(ctx.row_cap + 1)))
    return root


TRANSFORMS = (cap_rows, exact_names)
