"""Which column stands for what in a plan: the column that names one row of an entity, the
column "how much" means for its rows, and the column a grouping word names.

The subject, measure, condition and final stages all ask these questions, so they live
below them all: a stage module imports them from here, never from another stage.
"""

from __future__ import annotations

import re

from copilot.engine.draft import Draft
from copilot.engine.lexicon import is_date, is_numeric

__all__ = ["default_measure", "label_column"]

_PLAIN_COLUMN = re.compile(r"\w+\.\w+")


def label_column(d: Draft, table: str) -> str:
    """The column that names one row of `table` when grouping or ranking by it."""
    entity = d.entity(table)
    if entity.label:
        return entity.label if "." in entity.label else f"{table}.{entity.label}"
    if entity.list_columns:
        return f"{table}.{entity.list_columns[0]}"
    for term in d.content.glossary.terms:
        if term.dimension and term.dimension.split(".")[0] == table:
            return term.dimension
    info = d.content.schema.table(table)
    named = [c for c in info.columns if not is_numeric(c) and not is_date(c)
             and not c.primary_key and "name" in c.name.lower()]
    key = info.primary_key[0] if info.primary_key else info.columns[0].name
    return f"{table}.{named[0].name if named else key}"


def default_measure(d: Draft, table: str) -> str | None:
    """What 'how much', 'biggest' and 'above 5m' mean for rows of `table`."""
    entity = d.entity(table)
    if entity.measure:
        return entity.measure if "." in entity.measure else f"{table}.{entity.measure}"
    for term in d.content.glossary.terms:
        if term.table == table and term.measure and _PLAIN_COLUMN.fullmatch(term.measure):
            return term.measure
    return None


def _dimension_column(d: Draft, i: int) -> str:
    meaning = d.meaning(i)
    assert meaning is not None and d.subject is not None
    term = d.term(i, "dimension")
    if term is not None and term.dimension:
        name = term.dimension.split(".")[1]
        if name in d.content.schema.table(d.subject).column_names:
            return f"{d.subject}.{name}"  # "currency" of settlements is their own currency
        return term.dimension
    if meaning.kind == "entity":
        return label_column(d, meaning.table)
    return meaning.column or ""
