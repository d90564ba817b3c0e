"""Checking a glossary against a warehouse: every table and column it names must exist, every
stored value it gives other words for must be held, and words that mean two things are told.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from functools import lru_cache

import sqlglot
from sqlglot import exp

from copilot.core.errors import GlossaryError
from copilot.core.naming import singular, split_name, words_of
from copilot.core.schema import WarehouseSchema
from training.glossary import (
    DEMO_GLOSSARY,
    Glossary,
    Term,
    ValueSynonym,
    load_glossary,
    resolve_as_of,
)

__all__ = ["check_against_schema", "check_values", "glossary_warnings"]

DRAFT_HINT = ("Draft a glossary for this warehouse with `python -m copilot glossary draft "
              "--db URL --out DIR`, review it, and train with `python -m copilot train "
              "--glossary DIR`.")


def check_against_schema(glossary: Glossary, schema: WarehouseSchema) -> None:
    """Every table and column the glossary names exists in the warehouse.

    When the glossary is the OTC demo's (the default OPSCOPILOT_GLOSSARY_DIR) and the
    warehouse is not the demo, the error says so and how to draft one instead.
    """
    try:
        _check_names(glossary, schema)
    except GlossaryError as exc:
        if not _is_demo_glossary(glossary):
            raise
        raise GlossaryError(
            f"{exc} This is the OTC demo's glossary ({DEMO_GLOSSARY.parent.name}/"
            f"{DEMO_GLOSSARY.name}, the default OPSCOPILOT_GLOSSARY_DIR), and this warehouse "
            f"is not the demo. {DRAFT_HINT}") from None


@lru_cache(maxsize=1)
def _demo_tables() -> frozenset[str]:
    try:
        return frozenset(e.table for e in load_glossary(DEMO_GLOSSARY).entities)
    except GlossaryError:  # a deployment without the demo folder has no demo to mistake
        return frozenset()


def _is_demo_glossary(glossary: Glossary) -> bool:
    # By the tables its entities live in: a copy of glossary/otc, edited, is still the demo's.
    tables = frozenset(e.table for e in glossary.entities)
    return bool(tables) and tables == _demo_tables()


def _check_names(glossary: Glossary, schema: WarehouseSchema) -> None:
    columns = {t.name.lower(): {c.name.lower() for c in t.columns} for t in schema.tables}

    def need_table(table: str, source: str) -> None:
        if table.lower() not in columns:
            raise GlossaryError(f"{source}: the warehouse has no table {table!r}.")

    def need_column(ref: str, source: str) -> None:
        table, _, column = ref.partition(".")
        need_table(table, source)
        if column.lower() not in columns[table.lower()]:
            raise GlossaryError(f"{source}: the table {table} has no column {column!r}.")

    def need_sql(sql: str, source: str) -> None:
        for col in sqlglot.parse_one(resolve_as_of(sql)).find_all(exp.Column):
            if not col.table:
                raise GlossaryError(f"{source}: write {col.name} as table.column in {sql!r}.")
            need_column(f"{col.table}.{col.name}", source)

    for entity in glossary.entities:
        need_table(entity.table, entity.source)
        for column in (*entity.list_columns, *[c for c in (entity.label, entity.measure) if c]):
            need_column(column if "." in column else f"{entity.table}.{column}", entity.source)
    for term in glossary.terms:
        if term.table:
            need_table(term.table, term.source)
        for sql in (term.condition, term.measure):
            if sql:
                need_sql(sql, term.source)
        for column in (term.dimension, term.start, term.end):
            if column:
                need_column(column, term.source)
    for value in (*glossary.values, *glossary.value_sets):
        need_column(value.column, value.source)
    for table, column in glossary.period_columns:
        need_column(f"{table}.{column}", "rules: period_columns")
    for table, column in glossary.age_columns:
        need_table(table, "rules: age_columns")
        need_column(column, "rules: age_columns")
    for word in glossary.date_words:
        need_column(word.column, word.source)
    if glossary.upcoming_condition:
        need_sql(glossary.upcoming_condition, "rules: upcoming")
    for path in glossary.join_paths:
        for table in path.via:
            need_table(table, path.source)


def check_values(glossary: Glossary, values: Mapping[str, Sequence[str]]) -> None:
    """A stored value the glossary gives other words for (or puts in a set) that its column
    does not hold, where another stored value is plainly the one meant (GOLDMAN for
    "Goldman Sachs", "eur" for EUR, a typo), is an error naming the file, the line and the
    closest stored values: its synonyms would find nothing, silently.

    Checked where training sampled the column's values (a low-cardinality column). A value
    with no stored look-alike may simply not have occurred yet (a rare fail reason): that
    is a warning (`glossary_warnings`), not an error.
    """
    for source, column, value, _, meant in _absent_values(glossary, values):
        if meant:
            raise GlossaryError(
                f"{source}: {column} holds no value {value!r} (stored values match exactly, "
                f"case included); the closest stored values are {', '.join(map(repr, meant))}.")


def _absent_values(glossary: Glossary, values: Mapping[str, Sequence[str]]
                   ) -> list[tuple[str, str, str, tuple[str, ...], list[str]]]:
    """(source, column, value, stored values, the stored values plainly meant) of every
    value the glossary names that its sampled column does not hold."""
    held = {ref.lower(): tuple(v) for ref, v in values.items()}
    found = []
    for item in (*glossary.values, *glossary.value_sets):
        stored = held.get(item.column.lower())
        if not stored:
            continue  # not sampled (free text, a big column): nothing to check against
        named = (item.value,) if isinstance(item, ValueSynonym) else item.values
        found += [(item.source, item.column, value, stored, _meant(value, stored))
                  for value in named if value not in stored]
    return found


def _meant(value: str, stored: Sequence[str]) -> list[str]:
    """Stored values plainly meant by `value`: the same but for case or punctuation, the
    first word of a longer name (GOLDMAN: "Goldman Sachs"), or a near spelling."""
    def norm(text: str) -> str:
        return "".join(c for c in text.lower() if c.isalnum())

    def first(text: str) -> str:
        return norm(text.replace("_", " ").split()[0]) if text.split() else ""

    return [s for s in stored if norm(s) == norm(value) or first(s) == norm(value)
            or first(value) == norm(s)
            or difflib.SequenceMatcher(None, norm(s), norm(value)).ratio() >= 0.85][:3]


# The order the engine prefers meanings in (KIND_COST of copilot/engine/lexicon.py): the
# warning is filed under the glossary entry that wins.
_RANK = {"term": 0, "entity": 1, "value": 3}


def glossary_warnings(glossary: Glossary, schema: WarehouseSchema,
                      values: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Words of the glossary that also mean something else: a stored value, an entity or
    another term. Training lists them for a person to decide; it does not refuse them."""
    # word key -> {meaning: (kind, label, where the glossary says it, or "")}
    meanings: dict[tuple[str, ...], dict[tuple, tuple[str, str, str, str]]] = {}

    def add(word: str, meaning: tuple, kind: str, label: str, source: str = "") -> None:
        # By the words as written: where one meaning is the exact words, the engine keeps
        # it over one that matches through the lemmas only.
        if key := words_of(word):
            known = meanings.setdefault(key, {})
            if meaning not in known or (source and not known[meaning][2]):
                known[meaning] = (kind, label, source, word)

    named = {e.table.lower() for e in glossary.entities}
    for entity in glossary.entities:
        for word in (entity.name, *entity.synonyms):
            add(word, ("entity", entity.table), "entity", f"the entity {entity.name!r}",
                entity.source)
    for table in schema.tables:  # a table the glossary does not name is an entity too
        if table.name.lower() not in named:
            add(singular(split_name(table.name)), ("entity", table.name), "entity",
                f"the table {table.name}")
    for term in glossary.terms:
        for word in (term.name, *term.synonyms):
            add(word, ("term", term.name), "term", f"the term {term.name!r}", term.source)
    # A word for a stored value and that very value are one meaning; so are two sets
    # holding the same values ("swap", "swaps").
    for synonym in glossary.values:
        for word in synonym.synonyms:
            add(word, ("value", synonym.column.lower(), (synonym.value,)), "value",
                f"{synonym.column} = {synonym.value!r}", synonym.source)
    for value_set in glossary.value_sets:
        add(value_set.name, ("value", value_set.column.lower(), tuple(sorted(value_set.values))),
            "value", f"{value_set.column} in {list(value_set.values)!r}", value_set.source)
    for ref, stored in values.items():
        for value in stored:
            for word in {value, value.replace("_", " ")}:
                add(word, ("value", ref.lower(), (value,)), "value", f"{ref} = {value!r}")
    found = []
    for source, column, value, stored, meant in _absent_values(glossary, values):
        if not meant:
            close = difflib.get_close_matches(value, stored, n=3, cutoff=0.5)
            found.append(f"{source}: {column} holds no value {value!r} yet, so its words find "
                         "nothing" + (f"; the closest stored values are "
                                      f"{', '.join(map(repr, close))}" if close else "") + ".")
    for known in meanings.values():
        known = _reconciled(known, glossary)
        sources = [m for m in known.values() if m[2]]
        if len(known) < 2 or not sources:
            continue
        _, _, source, word = min(sources, key=lambda m: (_RANK[m[0]], m[2]))
        ordered = sorted(m[1] for m in known.values())
        found.append(f"{source}: {word!r} means both {' and '.join(ordered)}; the rest of a "
                     "question decides which, so check the questions that use it.")
    return tuple(sorted(found))


def _reconciled(known: dict[tuple, tuple[str, str, str, str]], glossary: Glossary
                ) -> dict[tuple, tuple[str, str, str, str]]:
    """The meanings of one word less those the engine already reconciles: a stored value a
    term of the word filters on ("cleared": clearing = 'CLEARED') is what the term means,
    and an entity's word that is also a dimension term of its own table means the entity
    (grouping by it groups by that very column: "counterparty")."""
    terms = {("term", t.name): t for t in glossary.terms}
    mine = [terms[m] for m in known if m in terms]
    kept = {}
    for meaning, about in known.items():
        if meaning[0] == "value" and any(_filters_on(t, meaning[1], meaning[2]) for t in mine):
            continue
        kept[meaning] = about
    tables = {m[1].lower() for m in kept if m[0] == "entity"}
    if len(tables) == 1:
        kept = {m: a for m, a in kept.items() if not (
            m in terms and terms[m].dimension
            and terms[m].dimension.split(".")[0].lower() in tables)}
    return kept


def _filters_on(term: Term, column: str, values: tuple[str, ...]) -> bool:
    sql = f"{term.condition or ''} {term.measure or ''}".lower()
    return column in sql and all(f"'{v.lower()}'" in sql for v in values)
