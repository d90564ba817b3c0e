"""Text hygiene: a question as tokens with lemmas, numbers with units, IDs and periods.

Contractions are expanded ("what's" -> "what is", "haven't" -> "have not"), possessives
split off ("HSBC's" -> "HSBC 's"), hyphens and slashes separate words, numbers in words
and with units become values ("three", "20m", "1.5 bn", "250k", "5%"), and every word gets
an English lemma from simplemma, whose dictionaries ship inside its wheel: nothing is
downloaded, and plural or verb folding is not hand-written here. Periods ("last week") are
read first, in Python, into one token each.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

import simplemma

from copilot.core.periods import Period, find_period

__all__ = ["Token", "is_english_word", "lemma", "tokenize"]

TokenKind = Literal["word", "number", "id", "symbol", "period"]

_CONTRACTIONS = (
    (r"\bcan't\b|\bcannot\b", "can not"), (r"\bwon't\b", "will not"),
    (r"\bain't\b", "is not"), (r"(\w)n't\b", r"\1 not"), (r"'re\b", " are"),
    (r"'ve\b", " have"), (r"'ll\b", " will"), (r"'d\b", " would"), (r"\bi'm\b", "i am"),
    (r"\b(what|that|there|it|who|how|where|here|which|when)'s\b", r"\1 is"),
    (r"\b(what|how|where)s\b", r"\1 is"),  # typed without the apostrophe: "whats"
    (r"\blet's\b", "let us"),
)
_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "mio": 1e6,
           "million": 1e6, "millions": 1e6, "bn": 1e9, "b": 1e9, "billion": 1e9,
           "billions": 1e9}
_UNITS = {"%": "percent", "percent": "percent", "pct": "percent"}
_SMALL = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "  # noqa: SIM905
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate(
    "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}  # noqa: SIM905
_TOKEN = re.compile(
    r"(?P<period>\x00\d+\x00)"
    r"|(?P<id>\b[a-z]{1,6}[-_]?\d{3,}[a-z0-9]*\b)"
    r"|(?P<number>\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)"
    r"|(?P<word>[a-z][a-z0-9_&]*(?:\.[a-z0-9]+)*\.?|'s\b)"
    r"|(?P<symbol>>=|<=|!=|<>|[<>=/,&%+])"
)


@dataclass(frozen=True)
class Token:
    """One unit of a question: a word, a number (value and unit), an ID, a symbol or a
    period; `text` is lower case, `original` as typed (capitals decide short values)."""

    text: str
    lemma: str
    kind: TokenKind
    original: str = ""
    value: float | None = None
    unit: str | None = None
    period: Period | None = None


@lru_cache(maxsize=20_000)
def lemma(word: str) -> str:
    """The English lemma of a lower-case word ("fails" -> "fail", "does" -> "do")."""
    if not word.isalpha() or len(word) < 3:
        return word
    found = simplemma.lemmatize(word, lang="en").lower()
    return found or word


@lru_cache(maxsize=20_000)
def is_english_word(word: str) -> bool:
    """Whether simplemma's dictionary knows the word ("us" yes, "eur" no)."""
    return bool(word.isalpha() and simplemma.is_known(word, lang="en"))


def _expand(text: str) -> str:
    # Accents folded to ASCII ("Société" -> "Societe"), as the lexicon's phrases are.
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    text = text.replace("\u201d", '"')
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    text = re.sub(r"(?<=\w)'s\b", " 's", text)            # HSBC's -> HSBC 's
    text = re.sub(r"(?<=s)'(?=\s|$)", " 's", text)        # traders' -> traders 's
    text = re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", " ", text)  # cross-currency
    text = re.sub(r"(?<=[A-Za-z])/(?=[A-Za-z])", " / ", text)  # EUR/USD: a choice, not a word
    return re.sub(r"[?!;:()\[\]\"]", " ", text)


def _periods(text: str, as_of: date) -> tuple[str, list[Period]]:
    """Each period the text names, replaced by a numbered placeholder."""
    found: list[Period] = []
    lowered = text.lower()
    while (period := find_period(lowered, as_of)) is not None:
        index = lowered.find(period.words)
        marker = f" \x00{len(found)}\x00 "
        text = text[:index] + marker + text[index + len(period.words):]
        lowered = lowered[:index] + marker + lowered[index + len(period.words):]
        found.append(period)
    return text, found


def _word_number(words: list[str]) -> tuple[int, int] | None:
    """A number written in words at the start of `words`: (value, words used)."""
    value, used = 0, 0
    for word in words:
        if word in _TENS and used == 0:
            value = _TENS[word]
        elif word in _SMALL and (used == 0 or (used == 1 and value % 10 == 0 and value)):
            value += _SMALL[word]
        elif word == "hundred" and used:
            value *= 100
        else:
            break
        used += 1
    return (value, used) if used else None


def tokenize(question: str, as_of: date | None = None) -> tuple[Token, ...]:
    """The question's tokens; with `as_of`, its periods are read into period tokens."""
    text = _expand(question)
    periods: list[Period] = []
    if as_of is not None:
        text, periods = _periods(text, as_of)
    raw: list[tuple[str, str, str]] = []  # (kind, lower text, original)
    for match in _TOKEN.finditer(text.lower()):
        kind = match.lastgroup or "word"
        original = text[match.start():match.end()]
        word = match.group(0)
        if kind == "word" and word.endswith(".") and len(word) > 2 and word.count(".") == 1:
            word, original = word[:-1], original[:-1]  # a full stop, not an initial
        raw.append((kind, word, original))
    return tuple(_merge(raw, periods))


def _merge(raw: list[tuple[str, str, str]], periods: list[Period]) -> list[Token]:
    """Words and digits into tokens: number words and scales join their number."""
    out: list[Token] = []
    i = 0
    while i < len(raw):
        kind, word, original = raw[i]
        if kind == "period":
            period = periods[int(word.strip("\x00"))]
            out.append(Token(period.words, period.words, "period", period.words, period=period))
            i += 1
            continue
        number: float | None = None
        used = 1
        if kind == "number":
            number = float(word.lstrip("$").replace(",", ""))
        elif kind == "word":
            spelled = _word_number([w for k, w, _ in raw[i:i + 4] if k == "word"])
            if spelled and all(k == "word" for k, _, _ in raw[i:i + spelled[1]]) and (
                    word != "one" or _next_is_number_word(raw, i)):
                number, used = float(spelled[0]), spelled[1]
        if number is None:
            lowered = word
            out.append(Token(lowered, lemma(lowered) if kind == "word" else lowered,
                             kind if kind in ("word", "id", "symbol") else "word",  # type: ignore[arg-type]
                             original))
            i += 1
            continue
        unit = None
        nxt = raw[i + used][1] if i + used < len(raw) else ""
        glued = re.fullmatch(r"(k|m|mm|mn|bn|b)", nxt) and raw[i + used][0] == "word"
        if nxt in _SCALES and (glued or nxt in {"thousand", "million", "millions", "billion",
                                                 "billions", "mio", "mm", "mn", "bn"}):
            number *= _SCALES[nxt]
            used += 1
        elif nxt in _UNITS:
            unit = _UNITS[nxt]
            used += 1
        text_words = " ".join(w for _, w, _ in raw[i:i + used])
        out.append(Token(text_words, text_words, "number", text_words, value=number, unit=unit))
        i += used
    return out


def _next_is_number_word(raw: list[tuple[str, str, str]], i: int) -> bool:
    # "one" alone is usually a pronoun ("which one"); "one hundred", "at least one" count.
    return (i + 1 < len(raw) and raw[i + 1][1] in {"hundred", "thousand", "million", "billion"}
            ) or (i > 0 and raw[i - 1][1] in {"least", "than", "most", "top", "over", "under"})
