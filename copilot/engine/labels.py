"""Column labels people read: "Counterparty", "Amount (USD)", "Count this month", not
`short_name`, `amount_usd`, `count_this_month`.

A label comes from what the plan says a column is (a grouping, the measure, a listed
column) and the glossary's words and units for it: the entity a label column names, the
term a column is the dimension or measure of, a unit written on the term. An answer with no
plan (a verified pair, the LLM, edited SQL) gets the same by column name where the glossary
knows it, else the name made readable. Tables, charts, dashboards, reports and exports'
headers all use these labels, so a column reads the same everywhere.
"""

from __future__ import annotations

import re

from copilot.engine.plan import QueryPlan
from training.profiles import ProfileContent

__all__ = ["NONE", "column_labels"]

NONE = "(none)"  # how an empty value (NULL) is shown, in tables and charts alike
_UNITS = {"usd": "USD", "eur": "EUR", "gbp": "GBP", "percent": "%", "pct": "%", "days": "days",
          "hours": "hours", "bps": "bps"}


def _readable(name: str) -> str:
    words = name.split(".")[-1].replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def _with_unit(label: str, unit: str | None) -> str:
    if not unit:
        return label
    shown = _UNITS.get(unit.lower(), unit)
    return label if shown.lower() in re.findall(r"[\w%]+", label.lower()) else \
        f"{label} ({shown})"


def _glossary_names(content: ProfileContent | None) -> dict[str, str]:
    """table.column -> the glossary's name for it: an entity's label column is the entity
    ("Counterparty" for counterparties.short_name), a term's dimension or measure is the
    term, with its unit."""
    if content is None:
        return {}
    names: dict[str, str] = {}
    for term in content.glossary.terms:
        for column in (term.dimension, term.measure):
            if column and re.fullmatch(r"\w+\.\w+", column):
                names.setdefault(column, _with_unit(_readable(term.name), term.unit))
    for entity in content.glossary.entities:
        label = entity.label  # the column that names a row: "Counterparty", not an id
        if label:
            names.setdefault(label if "." in label else f"{entity.table}.{label}",
                             _readable(entity.name))
    return names


def _suffix_unit(column: str) -> str:
    """'amount_usd' -> 'Amount (USD)', 'fee_bps' -> 'Fee (bps)': a unit the name ends in."""
    head, _, tail = column.rpartition("_")
    if head and tail.lower() in _UNITS:
        return _with_unit(_readable(head), tail)
    return _readable(column)


def column_labels(columns: tuple[str, ...], plan: QueryPlan | None,
                  content: ProfileContent | None) -> tuple[str, ...]:
    """One label per result column, in order."""
    known = _glossary_names(content)
    if plan is None:
        by_name = {ref.split(".")[-1]: label for ref, label in known.items()}
        return tuple(by_name.get(c.lower(), _suffix_unit(c)) for c in columns)
    labels: list[str] = []
    for dim in plan.dimensions:
        if dim.bucket in ("day", "week", "month"):
            labels.append(dim.bucket.capitalize())
        elif dim.bucket == "age":
            labels.append("Age")
        else:
            labels.append(known.get(dim.column) or _readable(dim.label))
    measure = plan.measure
    if measure.kind == "list":
        labels.extend(known.get(c) or _suffix_unit(c.split(".")[-1]) for c in plan.list_columns)
    else:
        name = "Count" if measure.kind in ("count",) else _readable(measure.label)
        name = _with_unit(name, measure.unit)
        if plan.versus is not None:
            now, then = plan.versus.names
            labels.extend([f"{name}, {now}", f"{name}, {then}", "Change", "Change (%)"])
        else:
            labels.append(name)
    if len(labels) != len(columns):  # a shape the plan does not describe: by name
        return column_labels(columns, None, content)
    return tuple(labels)

