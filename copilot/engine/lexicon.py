"""The words the engine knows, built from a training profile version alone.

Entity names, glossary terms, date words, value synonyms, stored values of the value index
and humanised column names become phrases; a question is read by matching the longest known
phrase at each position. Nothing here knows the OTC demo: a bank's profile brings its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from training.glossary import Entity, Term
from training.profiles import ProfileContent

__all__ = ["Lexicon", "Match", "Meaning", "normalise", "tokens"]

MeaningKind = Literal["entity", "term", "date_word", "upcoming", "value", "column"]
# When two meanings cover the same words, the earlier kind wins: a glossary word is more
# deliberate than a stored value, and a stored value more than a column's name.
_PRIORITY = {"term": 0, "entity": 1, "date_word": 2, "upcoming": 3, "value": 4, "column": 5}
_TOKEN = re.compile(r"[a-z0-9][a-z0-9_.&'/-]*[a-z0-9.]|[a-z0-9]|[<>]=?")
MAX_PHRASE = 6


@dataclass(frozen=True)
class Meaning:
    """What a phrase means."""

    kind: MeaningKind
    label: str
    entity: Entity | None = None
    term: Term | None = None
    column: str | None = None  # table.column for date words, values and columns
    value: str | None = None
    synonym: bool = False  # a value matched through a synonym rather than the stored text


@dataclass(frozen=True)
class Match:
    """A run of question tokens [start, end) and what it may mean (best first)."""

    start: int
    end: int
    words: str
    meanings: tuple[Meaning, ...]

    @property
    def best(self) -> Meaning:
        return self.meanings[0]


def singular(word: str) -> str:
    """A light plural folding, applied to the question and the lexicon alike."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalise(text: str) -> str:
    """Lower case, curly quotes straightened, question marks and commas dropped."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    return re.sub(r"[?!,;:()\"]", " ", text)


def tokens(text: str) -> list[str]:
    """The question's words, plural-folded, punctuation at the ends stripped."""
    return [singular(t.rstrip(".'")) or t for t in _TOKEN.findall(normalise(text))]


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(tokens(phrase))


@dataclass
class Lexicon:
    """Phrase -> meanings, and the matching of a question against them."""

    phrases: dict[tuple[str, ...], list[Meaning]] = field(default_factory=dict)
    short_values: set[tuple[str, ...]] = field(default_factory=set)

    def add(self, phrase: str, meaning: Meaning) -> None:
        key = _key(phrase)
        if not key or len(key) > MAX_PHRASE:
            return
        known = self.phrases.setdefault(key, [])
        if meaning not in known:
            known.append(meaning)
            known.sort(key=lambda m: (_PRIORITY[m.kind], m.synonym is False))

    @classmethod
    def from_content(cls, content: ProfileContent) -> Lexicon:
        """Every phrase a profile version knows."""
        lexicon = cls()
        glossary = content.glossary
        for term in glossary.terms:
            for phrase in (term.name, *term.synonyms):
                lexicon.add(phrase, Meaning("term", term.name, term=term))
        for entity in glossary.entities:
            for phrase in (entity.name, *entity.synonyms, entity.table.replace("_", " ")):
                lexicon.add(phrase, Meaning("entity", entity.name, entity=entity))
        for word in glossary.date_words:
            for phrase in word.words:
                lexicon.add(phrase, Meaning("date_word", phrase, column=word.column))
        for phrase in glossary.upcoming_words:
            lexicon.add(phrase, Meaning("upcoming", phrase))
        for synonym in glossary.values:
            for phrase in synonym.synonyms:
                lexicon.add(phrase, Meaning("value", f"{synonym.column} {synonym.value}",
                                            column=synonym.column, value=synonym.value,
                                            synonym=True))
        for column, values in content.values.items():
            for value in values:
                meaning = Meaning("value", f"{column} {value}", column=column, value=value)
                key = _key(value)
                if len(value) <= 3:
                    lexicon.short_values.add(key)  # "A", "FX", "EUR": only when written in capitals
                lexicon.add(value, meaning)
                if "_" in value:
                    lexicon.add(value.replace("_", " "), meaning)
        for table in content.schema.tables:
            for column in table.columns:
                ref = f"{table.name}.{column.name}"
                for phrase in {column.name, column.name.replace("_", " ")}:
                    lexicon.add(phrase, Meaning("column", ref, column=ref))
        return lexicon

    def match(self, question: str, original: str | None = None,
              skip: Iterable[int] = ()) -> list[Match]:
        """Longest known phrases, left to right, over the question's tokens.

        `original` is the question as typed: short stored values ("EUR", "FX", "A") count
        only where they were written in capitals there.
        """
        words = tokens(question)
        capitals = {singular(t.lower())
                    for t in re.findall(r"\b[A-Z][A-Z0-9_]*\b", original or question)}
        blocked = set(skip)
        found: list[Match] = []
        i = 0
        while i < len(words):
            if i in blocked:
                i += 1
                continue
            for length in range(min(MAX_PHRASE, len(words) - i), 0, -1):
                key = tuple(words[i:i + length])
                if any(j in blocked for j in range(i, i + length)):
                    continue
                meanings = self.phrases.get(key)
                if meanings and key in self.short_values and not (
                    len(key) == 1 and key[0] in capitals
                ):
                    meanings = [m for m in meanings if m.kind != "value" or m.synonym]
                if meanings:
                    found.append(Match(i, i + length, " ".join(key), tuple(meanings)))
                    i += length
                    break
            else:
                i += 1
        return found
