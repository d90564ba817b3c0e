"""Load and validate a glossary folder: entities, terms, value synonyms and business rules.

The files are data (see glossary/README.md for the format); a bank writes its own. Every
error names the file, the line and what is wrong, and nothing about any one warehouse is
known here: a term's SQL is only parsed, and checked against the warehouse's schema by
`check_against_schema` at training time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from copilot.core.errors import GlossaryError
from training.glossary_yaml import LineLoader, Reader, key_line

__all__ = [
    "DEMO_GLOSSARY",
    "DateWord",
    "Entity",
    "Glossary",
    "JoinPath",
    "Rule",
    "Term",
    "ValueSet",
    "ValueSynonym",
    "load_glossary",
    "resolve_as_of",
]

DEMO_GLOSSARY = Path(__file__).resolve().parents[1] / "glossary" / "otc"
_AS_OF = re.compile(r"\{\s*as_of\s*(?:([+-])\s*(\d+)\s*)?\}")
_KINDS = ("entities", "terms", "values", "rules")


@dataclass(frozen=True)
class Entity:
    """Something counted or listed, and the table it lives in."""

    name: str
    table: str
    synonyms: tuple[str, ...] = ()
    list_columns: tuple[str, ...] = ()
    description: str = ""
    source: str = ""
    label: str = ""  # the column that names one row when grouping or ranking by the entity
    measure: str = ""  # the default measure: what "how much", "biggest", "above 5m" use


@dataclass(frozen=True)
class Term:
    """An ops word: a condition, a measure, a dimension or a duration (exactly one of the
    four, except that a measure or a duration may carry the condition of its population)."""

    name: str
    synonyms: tuple[str, ...] = ()
    table: str | None = None
    condition: str | None = None
    measure: str | None = None
    dimension: str | None = None
    unit: str | None = None
    description: str = ""
    source: str = ""
    start: str | None = None  # a duration: from this table.column ...
    end: str | None = None  # ... to this one, in `unit` (days or hours)

    @property
    def kind(self) -> str:
        if self.measure:
            return "measure"
        if self.start:
            return "duration"
        return "dimension" if self.dimension else "condition"


@dataclass(frozen=True)
class ValueSynonym:
    """Other words for one stored value of a column ("Goldman" for GOLDMAN)."""

    column: str
    value: str
    synonyms: tuple[str, ...]
    source: str = ""


@dataclass(frozen=True)
class ValueSet:
    """An adjective for several stored values of one column ("manual" platforms)."""

    column: str
    name: str
    values: tuple[str, ...]
    source: str = ""


@dataclass(frozen=True)
class DateWord:
    """Words that make a period apply to another date column ("resolved" -> resolved_at)."""

    words: tuple[str, ...]
    column: str
    source: str = ""


@dataclass(frozen=True)
class JoinPath:
    """A preferred join path from one table to another, through `via` (ends included)."""

    from_table: str
    to_table: str
    via: tuple[str, ...]
    source: str = ""


@dataclass(frozen=True)
class Rule:
    """A business rule in plain words, retrieved as context for answering."""

    id: str
    text: str
    source: str = ""


@dataclass(frozen=True)
class Glossary:
    """Everything a glossary folder says, validated."""

    entities: tuple[Entity, ...] = ()
    terms: tuple[Term, ...] = ()
    values: tuple[ValueSynonym, ...] = ()
    value_sets: tuple[ValueSet, ...] = ()
    period_columns: tuple[tuple[str, str], ...] = ()
    age_columns: tuple[tuple[str, str], ...] = ()
    date_words: tuple[DateWord, ...] = ()
    upcoming_words: tuple[str, ...] = ()
    upcoming_condition: str | None = None
    join_paths: tuple[JoinPath, ...] = ()
    rules: tuple[Rule, ...] = ()
    drafted: bool = False  # drafted by `glossary draft` and not yet marked reviewed

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, as stored in a training profile version."""
        data = asdict(self)
        if not self.drafted:
            # Left out when false, so a version trained before the flag existed keeps its
            # digest: re-training the same glossary stays idempotent.
            del data["drafted"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Glossary:
        """The inverse of `as_dict`."""
        nested = {"entities": Entity, "terms": Term, "values": ValueSynonym, "value_sets": ValueSet,
                  "date_words": DateWord, "join_paths": JoinPath, "rules": Rule}
        args: dict[str, Any] = {}
        for f in fields(cls):
            raw = data.get(f.name, f.default)
            if f.name in nested:
                args[f.name] = tuple(nested[f.name](**_tuples(item)) for item in raw)
            elif f.name in ("period_columns", "age_columns"):
                args[f.name] = tuple(tuple(pair) for pair in raw)
            elif isinstance(raw, list):
                args[f.name] = tuple(raw)
            else:
                args[f.name] = raw
        return cls(**args)


def _tuples(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in item.items()}


def resolve_as_of(sql: str, as_of_literal: str | None = None) -> str:
    """Replace {as_of}, {as_of - N}, {as_of + N} with date literals (or a dummy to parse).

    With no `as_of_literal` a fixed date stands in, for validation only; the engine
    resolves real dates itself.
    """
    from datetime import date, timedelta

    base = date.fromisoformat(as_of_literal) if as_of_literal else date(2000, 1, 15)

    def literal(match: re.Match[str]) -> str:
        sign, days = match.group(1), int(match.group(2) or 0)
        return f"'{base + timedelta(days=-days if sign == '-' else days)}'"

    return _AS_OF.sub(literal, sql)


def _items(path: Path, document: dict[str, Any], key: str) -> list[Any]:
    items = document.get(key, [])
    if not isinstance(items, list):
        Reader(path, document, f"the file's '{key}'", document).fail(f"'{key}' must be a list")
    return items


def _entities(path: Path, document: dict[str, Any]) -> list[Entity]:
    out = []
    for item in _items(path, document, "entities"):
        r = Reader(path, item, "an entity",
                    ("name", "table", "synonyms", "list_columns", "description", "label",
                     "measure"))
        out.append(Entity(name=r.text("name"), table=r.text("table"), synonyms=r.words("synonyms"),
                          list_columns=r.words("list_columns"),
                          description=r.text("description", required=False) or "",
                          source=r.source, label=r.text("label", required=False) or "",
                          measure=r.text("measure", required=False) or ""))
    return out


def _terms(path: Path, document: dict[str, Any]) -> list[Term]:
    out = []
    for item in _items(path, document, "terms"):
        r = Reader(path, item, f"the term {item.get('name', '?')!r}" if isinstance(item, dict)
                    else "a term", ("name", "synonyms", "table", "condition", "measure",
                                    "dimension", "unit", "description", "duration"))
        start, end = _duration(r, item.get("duration"))
        term = Term(
            name=r.text("name"), synonyms=r.words("synonyms"), table=r.text("table", False),
            condition=r.sql("condition", condition=True), measure=r.sql("measure", condition=False),
            dimension=r.column("dimension"), unit=r.text("unit", False),
            description=r.text("description", False) or "", source=r.source,
            start=start, end=end,
        )
        if not (term.condition or term.measure or term.dimension or term.start):
            r.fail(f"{r.where} needs one of 'condition', 'measure', 'dimension' or 'duration'")
        if term.dimension and (term.condition or term.measure or term.start):
            r.fail(f"{r.where} is a dimension; it cannot also have a condition or measure")
        if term.start and term.measure:
            r.fail(f"{r.where} is a duration; it cannot also have a measure")
        if term.start and (term.unit or "days") not in ("days", "hours"):
            r.fail(f"the unit of the duration {r.where} must be days or hours")
        if (term.condition or term.measure or term.start) and not term.table:
            r.fail(f"{r.where} needs the 'table' its condition or measure is about")
        out.append(term)
    return out


def _duration(r: Reader, raw: Any) -> tuple[str | None, str | None]:
    """`duration: {start: t.col, end: t.col}`: the two dates a duration runs between."""
    if raw is None:
        return None, None
    d = Reader(r.path, raw, f"the duration of {r.where}", ("start", "end"))
    start, end = d.column("start"), d.column("end")
    if not start or not end:
        d.fail(f"the duration of {r.where} needs 'start' and 'end' (table.column)")
    return start, end


def _values(path: Path, document: dict[str, Any]) -> list[ValueSynonym]:
    out = []
    for item in _items(path, document, "values"):
        r = Reader(path, item, "a values entry", ("column", "synonyms", "sets"))
        column = r.column("column")
        if column is None:
            r.fail("a values entry needs 'column' (table.column)")
        synonyms = item.get("synonyms", {} if "sets" in item else None)
        if not isinstance(synonyms, dict) or not (
                [k for k in synonyms if k != "__line__"] or "sets" in item):
            r.fail(f"'synonyms' of {column} must map each stored value to a list of words")
        for value, words in synonyms.items():
            if value == "__line__":
                continue
            if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
                r.fail(f"the synonyms of {column} = {value!r} must be a list of words")
            out.append(ValueSynonym(column=column, value=str(value),
                                    synonyms=tuple(w.strip() for w in words),
                                    source=f"{path.name}, line {key_line(synonyms, value)}"))
    return out


def _value_sets(path: Path, document: dict[str, Any]) -> list[ValueSet]:
    """`sets: {manual: [PAPER, EMAIL]}` of a values entry: adjectives for several values."""
    out = []
    for item in _items(path, document, "values"):
        if not isinstance(item, dict) or "sets" not in item:
            continue
        r = Reader(path, item, "a values entry", ("column", "synonyms", "sets"))
        sets = item["sets"]
        if not isinstance(sets, dict) or not [k for k in sets if k != "__line__"]:
            r.fail(f"'sets' of {item.get('column')} must map each word to a list of stored values")
        for name, values in sets.items():
            if name == "__line__":
                continue
            if not isinstance(values, list) or not all(
                    isinstance(v, str | int) and str(v).strip() for v in values):
                r.fail(f"the set {name!r} of {item.get('column')} must be a list of stored values")
            out.append(ValueSet(column=str(item["column"]), name=str(name),
                                values=tuple(str(v).strip() for v in values),
                                source=f"{path.name}, line {key_line(sets, name)}"))
    return out


def _rules(path: Path, document: dict[str, Any]) -> dict[str, Any]:
    top = Reader(path, document, "a rules file",
                  ("kind", "drafted", "period_columns", "age_columns", "date_words", "upcoming",
                   "join_paths", "rules"))
    if not isinstance(document.get("drafted", False), bool):
        top.fail("'drafted' must be true or false")
    periods = document.get("period_columns", {})
    if not isinstance(periods, dict):
        top.fail("'period_columns' must map each table to its date column")
    ages = document.get("age_columns", {})
    if not isinstance(ages, dict) or not all(
        isinstance(v, str) and "." in v for k, v in ages.items() if k != "__line__"
    ):
        top.fail("'age_columns' must map each table to a table.column date")
    date_words = []
    for item in _items(path, document, "date_words"):
        r = Reader(path, item, "a date_words entry", ("words", "column"))
        date_words.append(DateWord(words=r.words("words", required=True),
                                   column=r.column("column") or r.fail("needs 'column'"),
                                   source=r.source))
    upcoming_words: tuple[str, ...] = ()
    upcoming_condition = None
    if document.get("upcoming") is not None:
        r = Reader(path, document["upcoming"], "'upcoming'", ("words", "condition"))
        upcoming_words = r.words("words", required=True)
        upcoming_condition = r.sql("condition", condition=True)
    joins = []
    for item in _items(path, document, "join_paths"):
        r = Reader(path, item, "a join path", ("from", "to", "via"))
        via = r.words("via", required=True)
        joins.append(JoinPath(from_table=r.text("from"), to_table=r.text("to"), via=via,
                              source=r.source))
    rules = []
    for item in _items(path, document, "rules"):
        r = Reader(path, item, "a rule", ("id", "text"))
        rules.append(Rule(id=r.text("id"), text=r.text("text"), source=r.source))
    return {
        "period_columns": tuple((str(t), str(c)) for t, c in periods.items() if t != "__line__"),
        "age_columns": tuple((str(t), str(c)) for t, c in ages.items() if t != "__line__"),
        "date_words": tuple(date_words),
        "upcoming_words": upcoming_words,
        "upcoming_condition": upcoming_condition,
        "join_paths": tuple(joins),
        "rules": tuple(rules),
        "drafted": document.get("drafted", False),
    }


def load_glossary(folder: Path) -> Glossary:
    """Load every *.yaml file of `folder` (sorted by name) into one validated Glossary."""
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not folder.is_dir() or not files:
        raise GlossaryError(f"{folder} holds no glossary files (*.yaml).")
    parts: dict[str, list[Any]] = {"entities": [], "terms": [], "values": [], "value_sets": []}
    rules: dict[str, Any] = {}
    for path in files:
        try:
            # LineLoader is a SafeLoader: no Python objects are built from the file.
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=LineLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f", line {mark.line + 1}" if mark else ""
            raise GlossaryError(f"{path}{line}: not valid YAML ({exc}).") from None
        if not isinstance(document, dict) or document.get("kind") not in _KINDS:
            raise GlossaryError(
                f"{path}, line 1: the file must start with 'kind:' one of {', '.join(_KINDS)}."
            )
        kind = document["kind"]
        if kind == "rules":
            if rules:
                raise GlossaryError(f"{path}, line 1: only one rules file per glossary.")
            rules = _rules(path, document)
        else:
            parts[kind].extend({"entities": _entities, "terms": _terms, "values": _values}[kind](
                path, document))
            if kind == "values":
                parts["value_sets"].extend(_value_sets(path, document))
    glossary = Glossary(entities=tuple(parts["entities"]), terms=tuple(parts["terms"]),
                        values=tuple(parts["values"]), value_sets=tuple(parts["value_sets"]),
                        **rules)
    _check_duplicates(glossary)
    return glossary


def _check_duplicates(glossary: Glossary) -> None:
    seen: dict[tuple[str, str], str] = {}
    for term in glossary.terms:
        for word in (term.name, *term.synonyms):
            key = (word.lower(), term.kind)
            if key in seen and seen[key] != term.source:
                raise GlossaryError(
                    f"{term.source}: the word {word!r} already means another {term.kind} "
                    f"(at {seen[key]}); one word, one meaning."
                )
            seen[key] = term.source
