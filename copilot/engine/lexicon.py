"""The words the engine knows, built from a training profile version alone.

From the schema: every table is an entity (its name split from snake_case or CamelCase,
with abbreviations expanded from abbreviations.yaml), every column an attribute, qualified
by its entity too ("settlement status"); stored low-cardinality values are values; text
primary keys read IDs. The glossary's entities, terms, value synonyms and value sets, date
words and upcoming words come on top and take precedence. Phrases are keyed by lemmas, so
"failed to receive" also matches "fails to receive"; a match on the exact words is kept
over one through the lemma only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml

from copilot.core.naming import raw_words, row_words, split_name  # one reading of names
from copilot.core.schema import ColumnInfo, TableInfo, WarehouseSchema
from copilot.engine.grammar import CUES, FILLER
from copilot.engine.text import Token, is_english_word, tokenize
from training.glossary import Entity, Term
from training.profiles import ProfileContent

__all__ = ["KIND_COST", "Lexicon", "Match", "Meaning", "split_name"]

MeaningKind = Literal["entity", "term", "value", "column", "date_word", "upcoming", "id"]
# The documented order of preference between meanings of the same words: a glossary term
# beats an entity name, which beats a date word, a stored value, and last a column's name.
KIND_COST = {"term": 0, "entity": 1, "date_word": 2, "upcoming": 2, "id": 2, "value": 3,
             "column": 4}
MAX_PHRASE = 6
_NUMERIC = ("INT", "DEC", "NUM", "REAL", "FLOAT", "DOUBLE", "MONEY", "BIGINT", "SMALLINT")
_DATES = ("DATE", "TIME")


@dataclass(frozen=True)
class Meaning:
    """What a phrase means; `table` is the table it is about."""

    kind: MeaningKind
    label: str
    table: str
    entity: Entity | None = None
    term: Term | None = None
    column: str | None = None  # table.column of a value, a column or a date word
    values: tuple[str, ...] = ()  # the stored value(s) a value or a value set stands for
    synonym: bool = False  # written in the glossary rather than read from the warehouse
    qualified: bool = False  # a column named with its entity ("settlement status")


@dataclass(frozen=True)
class Match:
    """Tokens [start, end) and one thing they may mean; `exact` when the words, not only
    their lemmas, are the phrase's."""

    start: int
    end: int
    words: str
    meaning: Meaning
    exact: bool = True


def is_numeric(column: ColumnInfo) -> bool:
    return column.type.upper().startswith(_NUMERIC) and not column.type.upper().startswith(
        ("INTERVAL",))


def is_date(column: ColumnInfo) -> bool:
    return any(k in column.type.upper() for k in _DATES)


def _singular(words: str) -> str:
    parts = words.split()
    return " ".join([*parts[:-1], tokenize(parts[-1])[0].lemma]) if parts else words


@dataclass
class Lexicon:
    """Phrase (lemmas) -> meanings, the entities of every table, and matching."""

    schema: WarehouseSchema
    phrases: dict[tuple[str, ...], list[tuple[tuple[str, ...], Meaning]]] = field(
        default_factory=dict)
    entities: dict[str, Entity] = field(default_factory=dict)
    short_values: set[tuple[str, ...]] = field(default_factory=set)
    # Phrases that only short column names mean: another table's column may share one.
    short_names: set[tuple[str, ...]] = field(default_factory=set)
    id_columns: tuple[str, ...] = ()
    id_shapes: dict[str, set[str]] = field(default_factory=dict)

    def add(self, phrase: str, meaning: Meaning) -> None:
        tokens = tokenize(phrase)
        key = tuple(t.lemma for t in tokens)
        if not key or len(key) > MAX_PHRASE:
            return
        known = self.phrases.setdefault(key, [])
        entry = (tuple(t.text for t in tokens), meaning)
        if entry not in known:
            known.append(entry)

    @classmethod
    def from_content(cls, content: ProfileContent) -> Lexicon:
        """Every phrase a profile version knows."""
        lexicon = cls(schema=content.schema)
        glossary = content.glossary
        for entity in glossary.entities:
            lexicon.entities.setdefault(entity.table, entity)
        for table in content.schema.tables:  # a table the glossary does not name is one too
            name = _singular(" ".join(row_words(table.name)))  # CUST_MSTR: "customer"
            lexicon.entities.setdefault(table.name, Entity(name=name, table=table.name))
        for entity in lexicon.entities.values():
            meaning = Meaning("entity", entity.name, entity.table, entity=entity)
            for phrase in {entity.name, *entity.synonyms, split_name(entity.table)}:
                lexicon.add(phrase, meaning)
        for term in glossary.terms:
            table = term.table or (term.dimension or "").split(".")[0]
            for phrase in (term.name, *term.synonyms):
                lexicon.add(phrase, Meaning("term", term.name, table, term=term))
        for word in glossary.date_words:
            for phrase in word.words:
                lexicon.add(phrase, Meaning("date_word", phrase, word.column.split(".")[0],
                                            column=word.column))
        for phrase in glossary.upcoming_words:
            table = next((c.table for c in _columns(glossary.upcoming_condition)), "")
            lexicon.add(phrase, Meaning("upcoming", phrase, table))
        lexicon._add_values(content)
        lexicon._add_date_verbs({word.column for word in glossary.date_words})
        lexicon._add_columns()
        lexicon._prefer_entities()
        return lexicon

    def _prefer_entities(self) -> None:
        """Words that name both an entity and a dimension of its own table ("counterparty")
        mean the entity: grouping by an entity groups by that very column."""
        for entries in self.phrases.values():
            tables = {m.table for _, m in entries if m.kind == "entity"}
            if tables:
                entries[:] = [(s, m) for s, m in entries if not (
                    m.kind == "term" and m.term is not None and m.term.dimension
                    and m.term.dimension.split(".")[0] in tables)]

    def _add_values(self, content: ProfileContent) -> None:
        glossary = content.glossary
        for synonym in glossary.values:
            meaning = Meaning("value", f"{synonym.column} {synonym.value}",
                              synonym.column.split(".")[0], column=synonym.column,
                              values=(synonym.value,), synonym=True)
            for phrase in synonym.synonyms:
                self.add(phrase, meaning)
        for value_set in glossary.value_sets:
            self.add(value_set.name, Meaning(
                "value", f"{value_set.column} {value_set.name}", value_set.column.split(".")[0],
                column=value_set.column, values=value_set.values, synonym=True))
        for column, values in content.values.items():
            for value in values:
                meaning = Meaning("value", f"{column} {value}", column.split(".")[0],
                                  column=column, values=(value,))
                key = tuple(t.lemma for t in tokenize(value))
                if len(value) <= 2:
                    self.short_values.add(key)  # "A", "US", "DE": as typed in capitals
                self.add(value, meaning)
                if "_" in value:
                    self.add(value.replace("_", " "), meaning)  # LIMIT_BREACH: "limit breach"
        self.id_columns = tuple(
            f"{t.name}.{c.name}" for t in self.schema.tables for c in t.columns
            if c.primary_key and not is_numeric(c) and not is_date(c))
        self.id_shapes = {column: {_shape(v) for v in content.keys.get(column, ())}
                          for column in self.id_columns}

    def _add_columns(self) -> None:
        for table in self.schema.tables:
            entity = self.entities[table.name]
            for column in table.columns:
                ref = f"{table.name}.{column.name}"
                meaning = Meaning("column", split_name(column.name), table.name, column=ref)
                words = split_name(column.name)
                for phrase in {words, column.name.lower()}:
                    self.add(phrase, meaning)
                if not words.startswith(entity.name):
                    self.add(f"{entity.name} {words}", replace(meaning, qualified=True))
                own = split_name(table.name).split()
                if words.split()[:1] == own[-1:] or words.split()[:1] == [entity.name]:
                    self.add(" ".join(words.split()[1:]), meaning)
            self._add_short_names(table)

    def _add_short_names(self, table: TableInfo) -> None:
        """Shorter names people use for a column: its words as written ('fee bps' for
        fee_bps, whatever the abbreviation table expands), without a trailing kind word
        ('status' for stat_cd, 'risk rating' for RISK_RTG_CD), and its last word when no
        other column of the table ends in it ('balance' for CUR_BAL_AMT). Only words that
        mean nothing yet: an entity, a term or a value keeps its meaning."""
        kinds = set(_derivations()["column_kind_words"])
        cores = {}
        for column in table.columns:
            words = split_name(column.name).split()
            while len(words) > 1 and words[-1] in kinds:
                words = words[:-1]
            cores[column.name] = words
        ends = [w[-1] for w in cores.values()]
        for column in table.columns:
            meaning = Meaning("column", split_name(column.name), table.name,
                              column=f"{table.name}.{column.name}")
            core = cores[column.name]
            shorter = {raw_words(column.name), " ".join(core)}
            last = core[-1]
            if len(core) > 1 and ends.count(last) == 1 and last not in kinds \
                    and last not in FILLER and last not in CUES and len(last) > 2:
                shorter.add(last)  # not "to" of assigned_to, not "total" of total_fee
            for phrase in shorter:
                # "status" of sec_loan.stat_cd and of loan_rtn.rtn_stat_cd: both, and the
                # reader takes the one of the rows counted (copilot/engine/owners.py).
                key = tuple(t.lemma for t in tokenize(phrase))
                if key not in self.phrases or key in self.short_names:
                    self.add(phrase, meaning)
                    self.short_names.add(key)

    def _add_date_verbs(self, glossary_dated: set[str]) -> None:
        """'voyages that departed last month': the verb of a date column's name is a date
        word for it (derivations.yaml), unless the words already mean something else or the
        glossary names the column's date words itself."""
        rules = _derivations()
        suffixes, endings = set(rules["date_words"]), dict(rules["verb_endings"])
        for table in self.schema.tables:
            for column in table.columns:
                ref = f"{table.name}.{column.name}"
                words = split_name(column.name).split()
                if not is_date(column) or ref in glossary_dated or len(words) < 2 \
                        or words[-1] not in suffixes:
                    continue
                verb = _verb_of(words[-2], endings)
                if verb and tuple(t.lemma for t in tokenize(verb)) not in self.phrases:
                    self.add(verb, Meaning("date_word", verb, table.name, column=ref))

    def match(self, tokens: tuple[Token, ...]) -> list[Match]:
        """Every known phrase at every position (overlaps kept: the lattice chooses)."""
        found: list[Match] = []
        for i in range(len(tokens)):
            for n in range(1, min(MAX_PHRASE, len(tokens) - i) + 1):
                span = tokens[i:i + n]
                if any(t.kind in ("period", "symbol") and t.text not in "&%" for t in span):
                    break
                key = tuple(t.lemma for t in span)
                entries = self.phrases.get(key)
                if not entries:
                    continue
                texts = tuple(t.text for t in span)
                if key in self.short_values and not _typed_as_value(span):
                    entries = [e for e in entries if e[1].kind != "value" or e[1].synonym]
                exact = [e for e in entries if e[0] == texts]
                # A stored value matches on its words, not their lemmas ("rate" is not
                # RATES), except a plural of a value whose last word is its own lemma
                # ("tankers" is TANKER, "hedge funds" HEDGE_FUND, "sanctions holds"
                # SANCTIONS_HOLD).
                loose = [e for e in entries if e[1].kind not in ("value", "id")
                         or (e[1].kind == "value" and e[0][:-1] == texts[:-1]
                             and e[0][-1] == key[-1])]
                for surface, meaning in (exact or loose):
                    found.append(Match(i, i + n, " ".join(texts), meaning, surface == texts))
        for i, token in enumerate(tokens):
            if token.kind == "id":
                for column in self.id_columns:
                    shapes = self.id_shapes.get(column)
                    if shapes and _shape(token.original.upper()) not in shapes:
                        continue  # not shaped like this key's stored values
                    found.append(Match(i, i + 1, token.text, Meaning(
                        "id", f"{column} {token.original.upper()}", column.split(".")[0],
                        column=column, values=(token.original.upper(),))))
        return found

    def known_words(self) -> set[str]:
        """Every word of every phrase, for suggestions when a word is not known."""
        return {w for entries in self.phrases.values() for surface, _ in entries
                for w in surface if len(w) > 2}

    def value_words(self) -> set[str]:
        """The known words only the warehouse's stored values spell (not the glossary's nor
        the schema's): a suggestion of one would show a value to whoever is told it."""
        spelled = {w for entries in self.phrases.values() for surface, meaning in entries
                   if meaning.kind != "value" or meaning.synonym for w in surface}
        return self.known_words() - spelled


@lru_cache(maxsize=1)
def _derivations() -> dict[str, object]:
    return yaml.safe_load(Path(__file__).with_name("derivations.yaml").read_text("utf-8"))


def _verb_of(noun: str, endings: dict[str, str]) -> str | None:
    """'departure' -> 'depart', 'arrival' -> 'arrive', 'created' -> 'created' (its lemma is
    the verb); None when no ending gives an English verb."""
    if noun.endswith("ed") and is_english_word(noun):
        return noun
    for ending, replacements in endings.items():
        for replacement in replacements.split("|"):
            verb = noun[: -len(ending)] + replacement
            if noun.endswith(ending) and len(noun) > len(ending) + 2 and is_english_word(verb):
                return verb
    # A noun that is its own verb (trade, post, open, discharge): "traded last week".
    return noun if is_english_word(noun) and noun not in _derivations()["not_verbs"] else None


def _shape(value: str) -> str:
    """'TRD0000123' -> 'TRD9999999': the letters kept, every digit a 9."""
    return re.sub(r"\d", "9", value.upper())


def _typed_as_value(span: tuple[Token, ...]) -> bool:
    # A short stored value counts where it was typed in capitals, or where it is not an
    # English word at all ("eur"); "us" and "a" stay words unless typed "US" and "A".
    return len(span) == 1 and (span[0].original.isupper() or not is_english_word(span[0].text))


@dataclass(frozen=True)
class _Col:
    table: str
    name: str


def _columns(sql: str | None) -> list[_Col]:
    return [_Col(*m.groups()) for m in re.finditer(r"\b(\w+)\.(\w+)\b", sql or "")]
