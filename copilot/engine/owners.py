"""Whose column a word names, when two tables have a column of that name: the rows the
question is about keep their own. One check per reading, each refusing the reading that
takes the other table's column, so the reading that keeps the rows' own is chosen."""

from __future__ import annotations

from copilot.engine.draft import Draft, Refusal
from copilot.engine.lexicon import Meaning

__all__ = ["NO_MEANING", "own_column_first", "owner_named_after"]

NO_MEANING = Meaning("column", "", "")  # stands in for no meaning in a kind test


def owner_named_after(d: Draft) -> None:
    """'the population of cities': a column followed by an entity whose own table has a
    column of that name is that entity's column. The reading that takes another table's
    column and makes the entity a condition ('countries that have cities') is refused."""
    for i in range(len(d.items) - 1):
        column, owner = d.meaning(i), d.meaning(i + 1)
        if column is None or owner is None or column.kind != "column" \
                or owner.kind != "entity" or column.table == owner.table:
            continue
        name = (column.column or "").split(".")[-1].lower()
        if name in {c.name.lower() for c in d.content.schema.table(owner.table).columns}:
            raise Refusal(f"'{d.words(i)} of {d.words(i + 1)}' is the "
                          f"{d.entity(owner.table).name}'s own {d.words(i)}.")


def own_column_first(d: Draft) -> None:
    """'cities with a population over 1m': a column word the rows' own table has is their
    own column; the reading that takes another table's column of that name (the country's
    population) is refused, unless the question named that table with it ('country
    population')."""
    own = {c.name.lower() for c in d.content.schema.table(d.subject or "").columns}
    for i in range(len(d.items)):
        meaning = d.meaning(i)
        if meaning is not None and meaning.kind == "column" and not meaning.qualified \
                and meaning.table != d.subject \
                and (meaning.column or "").split(".")[-1].lower() in own:
            raise Refusal(f"'{d.words(i)}' is the {d.entity(d.subject or '').name}'s own.")
