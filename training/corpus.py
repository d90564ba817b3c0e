"""What a profile version puts in the vector store, and how two versions differ.

The items are derived from the version's content alone, deterministically, with ids that
hash their content: the same content always gives the same items, so re-training is
idempotent and a diff is a comparison of ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from training.ingest import describe_column, describe_table
from training.profiles import ProfileContent
from training.store_items import KINDS, Kind, StoreItem, item_id

__all__ = ["KindDiff", "ProfileDiff", "content_items", "diff_contents"]


def _item(kind: Kind, text: str, label: str, **metadata: str) -> StoreItem:
    meta = {"label": label, **metadata}
    return StoreItem(id=item_id(kind, text, meta), kind=kind, text=text, metadata=meta)


def content_items(content: ProfileContent) -> list[StoreItem]:
    """Every item of every kind for one version's content."""
    glossary = content.glossary
    aliases = {e.table.lower(): (e.name, *e.synonyms) for e in glossary.entities}
    items: list[StoreItem] = []
    for table in content.schema.tables:
        items.append(_item("schema", describe_table(table, aliases.get(table.name.lower(), ())),
                           table.name, table=table.name, column=""))
        for index, column in enumerate(table.columns):
            values = content.values.get(f"{table.name}.{column.name}", ())
            items.append(_item("schema", describe_column(table, index, values),
                               f"{table.name}.{column.name}", table=table.name,
                               column=column.name))
    for entity in glossary.entities:
        text = (f"{entity.name} ({', '.join(entity.synonyms)}): rows of table {entity.table}. "
                f"{entity.description}").strip()
        items.append(_item("terms", text, entity.name, term_kind="entity", table=entity.table))
    for term in glossary.terms:
        meaning = term.condition or term.measure or term.dimension or ""
        text = f"{term.name} ({', '.join(term.synonyms)}): {term.kind} {meaning}"
        if term.description:
            text += f". {term.description}"
        items.append(_item("terms", text, term.name, term_kind=term.kind,
                           table=term.table or (term.dimension or "").split(".")[0]))
    for rule in glossary.rules:
        items.append(_item("rules", rule.text, rule.id))
    for table, column in glossary.period_columns:
        items.append(_item("rules", f"Periods for {table} apply to {table}.{column}.",
                           f"period:{table}"))
    for word in glossary.date_words:
        items.append(_item("rules", f"'{', '.join(word.words)}' dates use {word.column}.",
                           f"date:{word.column}"))
    for document in content.documents:
        for number, chunk in enumerate(document.chunks, start=1):
            items.append(_item("documents", chunk, f"{document.name} #{number}",
                               document=document.name))
    for pair in content.pairs:
        items.append(_item("pairs", pair.question, pair.question, sql=pair.sql))
    return items


@dataclass(frozen=True)
class KindDiff:
    """Labels of the items one kind gained, lost or changed between two versions."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProfileDiff:
    """What changed from version `old` to version `new`, per kind."""

    old: int
    new: int
    kinds: dict[str, KindDiff]

    @property
    def unchanged(self) -> bool:
        return not any(d.added or d.removed or d.changed for d in self.kinds.values())


def _labels(items: Iterable[StoreItem], ids: set[str]) -> tuple[str, ...]:
    return tuple(sorted({str(i.metadata["label"]) for i in items if i.id in ids}))


def diff_contents(old: ProfileContent, new: ProfileContent, old_n: int, new_n: int) -> ProfileDiff:
    """Items added and removed, by kind, labelled (table, column, term, rule, question)."""
    before, after = content_items(old), content_items(new)
    kinds: dict[str, KindDiff] = {}
    for kind in KINDS:
        old_ids = {i.id for i in before if i.kind == kind}
        new_ids = {i.id for i in after if i.kind == kind}
        added = set(_labels(after, new_ids - old_ids))
        removed = set(_labels(before, old_ids - new_ids))
        kinds[kind] = KindDiff(added=tuple(sorted(added - removed)),
                               removed=tuple(sorted(removed - added)),
                               changed=tuple(sorted(added & removed)))
    return ProfileDiff(old=old_n, new=new_n, kinds=kinds)
