"""Editing a glossary as values: add a word to what it means, rename an entity, mark a draft
reviewed, and write the result back to YAML files in the format of glossary/README.md.

Every function is pure (the frozen Glossary in, a new one out), so the Training page and the
services can offer edits that become a new profile version only when trained. The files
`glossary_files` writes load again with `load_glossary` into the same glossary (but for the
`source` of each item, which says the file and line it was read from): an edited draft can
be downloaded and kept in version control.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from copilot.core.errors import CopilotError, GlossaryError
from training.corpus import ProfileDiff
from training.glossary import Glossary, ValueSynonym, load_glossary
from training.glossary_yaml import yaml_flow as _flow
from training.glossary_yaml import yaml_scalar as _scalar
from training.profiles import ProfileVersion
from training.trainer import Trainer

__all__ = ["EditRefused", "Target", "TargetKind", "TrainingChange", "active_glossary",
           "add_synonym", "edit_entities", "edit_terms", "files_zip", "glossary_files",
           "glossary_from_files", "split_words", "targets", "train_edit", "with_reviewed",
           "without_sources"]

TargetKind = Literal["entity", "term", "value"]
FILES = ("entities.yaml", "terms.yaml", "values.yaml", "rules.yaml")
MAX_WORD_CHARS = 100


class EditRefused(CopilotError):
    """An edit names what the glossary does not hold, or would make it invalid."""


@dataclass(frozen=True)
class Target:
    """What a word can be taught to mean: an entity or a term (by name), or one stored value
    of a column (`column` is table.column, `name` the value as stored)."""

    kind: TargetKind
    name: str
    column: str = ""

    @property
    def label(self) -> str:
        """How a person picks it from a list."""
        if self.kind == "value":
            return f"value {self.name} of {self.column}"
        return f"{self.kind} {self.name}"


def targets(glossary: Glossary, values: Mapping[str, Sequence[str]]) -> tuple[Target, ...]:
    """Everything a word can be taught to mean: the glossary's entities and terms, and the
    stored values of the columns training sampled (`values`: {"table.column": values})."""
    return (*(Target("entity", e.name) for e in glossary.entities),
            *(Target("term", t.name) for t in glossary.terms),
            *(Target("value", str(v), ref) for ref, stored in sorted(values.items())
              for v in stored))


def split_words(text: object) -> tuple[str, ...]:
    """A comma-separated cell ("ship, boat") as words, blanks and repeats dropped (an empty
    cell, None or NaN, holds none)."""
    words: list[str] = []
    for word in (w.strip() for w in (text if isinstance(text, str) else "").split(",")):
        if word and word.lower() not in {w.lower() for w in words}:
            words.append(word)
    return tuple(words)


def _with_word(words: tuple[str, ...], word: str, name: str = "") -> tuple[str, ...]:
    known = {w.lower() for w in (*words, name)}
    return words if word.lower() in known else (*words, word)


def add_synonym(glossary: Glossary, target: Target, word: str) -> Glossary:
    """`glossary` with `word` as another word for `target`; unchanged when it already is
    one. EditRefused when the target is not in the glossary (an entity or term) or the word
    is blank, or already means another term of the same kind (one word, one meaning)."""
    word = " ".join(str(word).split())
    if not word:
        raise EditRefused("Give the word to add.")
    if len(word) > MAX_WORD_CHARS:
        raise EditRefused(f"A synonym is a word or a short phrase (at most {MAX_WORD_CHARS} "
                          "characters).")
    if target.kind == "entity":
        index = _index([e.name for e in glossary.entities], target)
        entities = list(glossary.entities)
        entity = entities[index]
        entities[index] = replace(entity, synonyms=_with_word(entity.synonyms, word, entity.name))
        return replace(glossary, entities=tuple(entities))
    if target.kind == "term":
        index = _index([t.name for t in glossary.terms], target)
        terms = list(glossary.terms)
        term = terms[index]
        for other in glossary.terms:
            if other is not term and other.kind == term.kind and word.lower() in {
                    w.lower() for w in (other.name, *other.synonyms)}:
                raise EditRefused(f"{word!r} already means the {other.kind} {other.name!r}; "
                                  "one word, one meaning.")
        terms[index] = replace(term, synonyms=_with_word(term.synonyms, word, term.name))
        return replace(glossary, terms=tuple(terms))
    if target.kind == "value" and target.column and target.name:
        values = list(glossary.values)
        for index, synonym in enumerate(values):
            if (synonym.column, synonym.value) == (target.column, target.name):
                values[index] = replace(synonym, synonyms=_with_word(synonym.synonyms, word,
                                                                      synonym.value))
                return replace(glossary, values=tuple(values))
        added = ValueSynonym(column=target.column, value=target.name, synonyms=(word,))
        return replace(glossary, values=(*values, added))
    raise EditRefused(f"Cannot add a word to {target.label}: name an entity, a term, or a "
                      "stored value and its column.")


def _index(names: list[str], target: Target) -> int:
    for index, name in enumerate(names):
        if name == target.name:
            return index
    for index, name in enumerate(names):  # as a person types it
        if name.lower() == target.name.strip().lower():
            return index
    raise EditRefused(f"The glossary has no {target.kind} {target.name!r}.")


def edit_entities(glossary: Glossary, rows: Sequence[tuple[str, Sequence[str]]]) -> Glossary:
    """`glossary` with each entity's name and synonyms replaced by `rows` (one (name,
    synonyms) per entity, in order), as a person edited them in a table."""
    if len(rows) != len(glossary.entities):
        raise EditRefused(f"Expected {len(glossary.entities)} entities, got {len(rows)}.")
    entities, seen = [], set()
    for entity, (name, synonyms) in zip(glossary.entities, rows, strict=True):
        name = " ".join(str(name or "").split())
        if not name:
            raise EditRefused(f"The entity of table {entity.table} needs a name.")
        if name.lower() in seen:
            raise EditRefused(f"Two entities are named {name!r}; give each its own name.")
        seen.add(name.lower())
        words = tuple(w for w in split_words(", ".join(synonyms)) if w.lower() != name.lower())
        entities.append(replace(entity, name=name, synonyms=words))
    return replace(glossary, entities=tuple(entities))


def edit_terms(glossary: Glossary, synonyms: Sequence[Sequence[str]]) -> Glossary:
    """`glossary` with each term's synonyms replaced (one list per term, in order)."""
    if len(synonyms) != len(glossary.terms):
        raise EditRefused(f"Expected {len(glossary.terms)} terms, got {len(synonyms)}.")
    edited = glossary
    for index, (term, words) in enumerate(zip(glossary.terms, synonyms, strict=True)):
        terms = list(edited.terms)
        terms[index] = replace(term, synonyms=())
        edited = replace(edited, terms=tuple(terms))
        for word in split_words(", ".join(words)):
            edited = add_synonym(edited, Target("term", term.name), word)
    return edited


def with_reviewed(glossary: Glossary) -> Glossary:
    """`glossary` marked reviewed (`drafted: false`); EditRefused when it is no draft."""
    if not glossary.drafted:
        raise EditRefused("The glossary is not a draft; there is nothing to mark reviewed.")
    return replace(glossary, drafted=False)


@dataclass(frozen=True)
class TrainingChange:
    """An edited glossary trained: the active version, the one before it, what changed."""

    version: ProfileVersion
    previous: int | None
    diff: ProfileDiff | None  # None for a first version, or when nothing changed

    @property
    def changed(self) -> bool:
        """False when the glossary trained to what the active version already held."""
        return self.previous != self.version.version


def active_glossary(trainer: Trainer) -> Glossary:
    """The glossary of the active version, or TrainingRequired."""
    content = trainer.require_trained().content
    assert content is not None
    return content.glossary


def train_edit(trainer: Trainer, glossary: Glossary, *, by: str, note: str) -> TrainingChange:
    """Train `glossary` as a new version (the active one kept when nothing changed), with
    its diff against the version active before."""
    before = trainer.active()
    version = trainer.train(glossary, by=by, note=note)
    previous = before.version if before else None
    diff = (trainer.diff(previous, version.version)
            if previous is not None and previous != version.version else None)
    return TrainingChange(version, previous, diff)


def without_sources(glossary: Glossary) -> Glossary:
    """`glossary` with every item's `source` (file and line) blanked: what it means, for
    comparing a glossary with the same one read back from other files."""
    changes: dict[str, Any] = {}
    for f in fields(glossary):
        value = getattr(glossary, f.name)
        if isinstance(value, tuple) and value and hasattr(value[0], "source"):
            changes[f.name] = tuple(replace(item, source="") for item in value)
    return replace(glossary, **changes)


def glossary_from_files(files: Mapping[str, str]) -> Glossary:
    """Load glossary files held as text ({file name: YAML}), as `load_glossary` would load
    them from a folder; its errors name the file and the line."""
    with tempfile.TemporaryDirectory(prefix="glossary-") as folder:
        for name, text in files.items():
            if Path(name).name != name or not name.endswith((".yaml", ".yml")):
                raise EditRefused(f"{name!r} is not a glossary file name (NAME.yaml).")
            (Path(folder) / name).write_text(text, encoding="utf-8")
        try:
            return load_glossary(Path(folder))
        except GlossaryError as exc:
            raise GlossaryError(str(exc).replace(f"{folder}/", "")) from None


def glossary_files(glossary: Glossary) -> dict[str, str]:
    """`glossary` as the four files of the documented format ({file name: YAML text})."""
    header = "# Written by the Training page. Format: see glossary/README.md.\n"
    return {name: header + text for name, text in zip(FILES, (
        _entities_yaml(glossary), _terms_yaml(glossary), _values_yaml(glossary),
        _rules_yaml(glossary)), strict=True)}


def files_zip(files: Mapping[str, str], folder: str = "glossary") -> bytes:
    """Glossary files as a zip archive of one folder, to download and keep."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted(files.items()):
            archive.writestr(f"{folder}/{name}", text)
    return buffer.getvalue()


def _fields(pairs: Sequence[tuple[str, object]], indent: str = "    ") -> list[str]:
    """`key: value` lines, the first as a list item; empty values left out."""
    lines = []
    for key, value in pairs:
        if value in (None, "", ()):
            continue
        text = _flow(value) if isinstance(value, tuple) else _scalar(str(value))
        lines.append(f"{indent}{key}: {text}")
    return ["  - " + lines[0].lstrip(), *lines[1:]] if lines else []


def _entities_yaml(g: Glossary) -> str:
    lines = ["kind: entities", "entities:" if g.entities else "entities: []"]
    for e in g.entities:
        lines += _fields((("name", e.name), ("table", e.table), ("synonyms", e.synonyms),
                          ("list_columns", e.list_columns), ("label", e.label),
                          ("measure", e.measure), ("description", e.description)))
    return "\n".join(lines) + "\n"


def _terms_yaml(g: Glossary) -> str:
    lines = ["kind: terms", "terms:" if g.terms else "terms: []"]
    for t in g.terms:
        lines += _fields((("name", t.name), ("synonyms", t.synonyms), ("table", t.table),
                          ("condition", t.condition), ("measure", t.measure),
                          ("dimension", t.dimension), ("unit", t.unit),
                          ("description", t.description)))
        if t.start and t.end:
            lines.append(f"    duration: {{start: {_scalar(t.start)}, end: {_scalar(t.end)}}}")
    return "\n".join(lines) + "\n"


def _values_yaml(g: Glossary) -> str:
    # One entry per run of one column's synonyms, then per run of its sets: the file reads
    # back in the same order, and no stored value is a key twice in one mapping.
    entries: list[tuple[str, str, list[tuple[str, tuple[str, ...]]]]] = []
    for key, items in (("synonyms", [(s.column, s.value, s.synonyms) for s in g.values]),
                       ("sets", [(s.column, s.name, s.values) for s in g.value_sets])):
        for column, name, words in items:
            last = entries[-1] if entries else None
            if last is None or last[:2] != (column, key) or name in dict(last[2]):
                entries.append((column, key, []))
            entries[-1][2].append((name, words))
    lines = ["kind: values", "values:" if entries else "values: []"]
    for column, key, items in entries:
        lines += [f"  - column: {_scalar(column)}", f"    {key}:"]
        lines += [f"      {_scalar(name)}: {_flow(words)}" for name, words in items]
    return "\n".join(lines) + "\n"


def _rules_yaml(g: Glossary) -> str:
    lines = ["kind: rules"] + (["drafted: true"] if g.drafted else [])
    for key, pairs in (("period_columns", g.period_columns), ("age_columns", g.age_columns)):
        if pairs:
            lines += [f"{key}:", *[f"  {_scalar(t)}: {_scalar(c)}" for t, c in pairs]]
    if g.date_words:
        lines.append("date_words:")
        for word in g.date_words:
            lines += _fields((("words", word.words), ("column", word.column)))
    if g.upcoming_words:
        lines += ["upcoming:", f"  words: {_flow(g.upcoming_words)}"]
        if g.upcoming_condition:
            lines.append(f"  condition: {_scalar(g.upcoming_condition)}")
    if g.join_paths:
        lines.append("join_paths:")
        lines += [f"  - {{from: {_scalar(j.from_table)}, to: {_scalar(j.to_table)}, "
                  f"via: {_flow(j.via)}}}" for j in g.join_paths]
    lines.append("rules:" if g.rules else "rules: []")
    for rule in g.rules:
        lines += _fields((("id", rule.id), ("text", rule.text)))
    return "\n".join(lines) + "\n"
