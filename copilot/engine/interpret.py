"""The interpretation sentence: every construct the reader applied, in words, so a person
sees a misreading at a glance ("Counting confirmations with status PENDING, with
product type IRS, grouped by desk, most first, top 1.")."""

from __future__ import annotations

from copilot.engine.plan import Filter, QueryPlan

__all__ = ["interpret", "plural"]

# A sum, average, minimum or maximum carries its word in its label ("total notional"), so
# the verb does not say it again ("Summing total notional").
_VERBS = {"count": "Counting", "count_distinct": "Counting", "list": "Listing",
          "sum": "Computing the", "avg": "Computing the", "min": "Computing the",
          "max": "Computing the", "rate": "Computing", "share": "Computing"}
_HAVING = {">": "more than", ">=": "at least", "<": "less than", "<=": "at most",
           "between": "between"}


def plural(noun: str) -> str:
    """'settlement' -> 'settlements', 'counterparty' -> 'counterparties'."""
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun if noun.endswith("s") else noun + "s"


def _readable(column: str) -> str:
    return column.split(".")[-1].replace("_", " ")


def _dates(period: Filter) -> str:
    """'1-20 Nov 2026' from a period filter's label ('sent at 1-20 Nov 2026')."""
    words = period.label.split()
    start = next((i for i, w in enumerate(words) if w[:1].isdigit()), 0)
    return " ".join(words[start:])


def interpret(plan: QueryPlan) -> str:
    """What the plan computes, construct by construct, in one sentence."""
    measure = plan.measure
    entities = plural(plan.entity)
    what = {"count": entities, "list": entities,
            "count_distinct": f"{measure.label} among {entities}",
            "share": f"the percentage of {entities} that are "
                     + " and ".join(f.label for f in measure.numerator)}.get(
        measure.kind, f"{measure.label} of {entities}")
    parts = [f"{_VERBS[measure.kind]} {what}"]
    versus = plan.versus
    filters = [f for f in plan.filters
               if versus is None or f.label != f"{versus.current.label} or {versus.other.label}"]
    if filters:
        parts[0] += " with " + ", ".join(f.label for f in filters)
    if versus is not None:
        parts.append(f"{versus.names[0]} ({_dates(versus.current)}) compared with "
                     f"{versus.names[1]} ({_dates(versus.other)}), with the change and the "
                     "change in percent")
    for e in plan.exists:
        parts[0] += (" that have no " if e.negated else " that have ") + plural(e.label) + (
            " with " + ", ".join(f.label for f in e.filters) if e.filters else "")
    if plan.list_columns and measure.kind == "list":
        parts.append("showing " + ", ".join(_readable(c) for c in plan.list_columns))
    if plan.dimensions:
        parts.append("grouped by " + " and ".join(
            f"{d.bucket} of {_readable(d.column)}" if d.bucket in ("day", "week", "month")
            else d.label for d in plan.dimensions))
    for having in plan.having:
        bound = f"{having.number:g}" + (f" and {having.upper:g}" if having.upper else "")
        parts.append(f"keeping groups with {measure.label} {_HAVING[having.op]} {bound}")
    for order in plan.order:
        if order.key == "measure":
            parts.append("largest first" if order.descending else "smallest first")
        else:
            parts.append(f"by {_readable(order.key)}, "
                         f"{'highest' if order.descending else 'lowest'} first")
    if plan.limit:
        parts.append(f"top {plan.limit}")
    return ", ".join(parts) + "."
