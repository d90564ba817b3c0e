"""Table and column names read as words: split from snake_case and CamelCase, house
abbreviations expanded, a plural made singular, a phrase keyed by its lemmas.

On the lowest floor so that training (which drafts a glossary from a schema) and the
engine (whose lexicon reads the same schema) read every name the same way: a drafted
entity or term is named with exactly the words the engine will see.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import simplemma
import yaml

__all__ = ["ABBREVIATIONS", "TABLE_WORDS", "abbreviations", "lemma", "phrase_key", "raw_words",
           "row_words", "singular", "split_name", "words_of"]

# Data, not code: a bank adds its house abbreviations there.
ABBREVIATIONS = Path(__file__).resolve().parent / "abbreviations.yaml"
_WORD = re.compile(r"[a-z0-9][a-z0-9_&]*(?:\.[a-z0-9]+)*\.?|[%&+]")


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, str]:
    """{abbreviation: the words it stands for}, lower case."""
    data = yaml.safe_load(ABBREVIATIONS.read_text("utf-8")) or {}
    # A bare no, yes, on or off is a boolean to YAML: it must be quoted to be a word.
    bad = [k for k in data if isinstance(k, bool)]
    if bad:
        raise ValueError(f"{ABBREVIATIONS}: quote the abbreviations YAML reads as true/false")
    return {str(k).lower(): str(v).lower() for k, v in data.items()}


def split_name(name: str) -> str:
    """'cpty_ccy_amt' -> 'counterparty currency amount'; 'TradeDate' -> 'trade date'."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").lower()
    return " ".join(abbreviations().get(w, w) for w in spaced.split())


# Words that say "table" rather than what a row is: CUST_MSTR holds customers, TXN_HIST
# transactions.
TABLE_WORDS = frozenset(("master", "mstr", "tbl", "table", "tab", "dim", "fact", "lookup",
                         "history", "hist", "detail", "dtl", "snapshot", "snap"))


def row_words(table_name: str) -> list[str]:
    """The words of a table's name that say what one row is: split, abbreviations
    expanded, table words dropped at either end ('CUST_MSTR' -> ['customer'])."""
    core = split_name(table_name).split()
    while len(core) > 1 and core[-1] in TABLE_WORDS:
        core = core[:-1]
    while len(core) > 1 and core[0] in TABLE_WORDS:
        core = core[1:]
    return core


def raw_words(name: str) -> str:
    """The name split like `split_name` but with no abbreviation expanded ('cpty ccy amt')."""
    return " ".join(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").lower()
                    .split())


@lru_cache(maxsize=20_000)
def lemma(word: str) -> str:
    """The English lemma of a lower-case word, as the engine's tokens carry it."""
    # The same rule as copilot/engine/text.py: short or non-alphabetic words are kept.
    if not word.isalpha() or len(word) < 3:
        return word
    return simplemma.lemmatize(word, lang="en").lower() or word


def singular(words: str) -> str:
    """'legal entities' -> 'legal entity': the last word by its lemma."""
    parts = words.split()
    return " ".join([*parts[:-1], lemma(parts[-1])]) if parts else words


def words_of(text: str) -> tuple[str, ...]:
    """A phrase's words as the engine's tokens read them: lower case, hyphens split."""
    return tuple(_WORD.findall(text.lower().replace("-", " ")))


def phrase_key(text: str) -> tuple[str, ...]:
    """The lemmas of a phrase's words: two phrases with one key read the same to the engine
    ("fails to receive" and "failed to receive")."""
    return tuple(lemma(w) for w in words_of(text))
