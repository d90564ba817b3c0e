"""Text hygiene: contractions, possessives, numbers with units, IDs, lemmas, periods."""

from __future__ import annotations

from datetime import date

import pytest

from copilot.engine.text import tokenize


def _texts(question: str) -> list[str]:
    return [t.text for t in tokenize(question)]


@pytest.mark.parametrize(("question", "words"), [
    ("What's pending?", ["what", "is", "pending"]),
    ("which trades don't have a confirmation", ["which", "trades", "do", "not", "have", "a",
                                                "confirmation"]),
    ("isn't it settled", ["is", "not", "it", "settled"]),
    ("we can't see it", ["we", "can", "not", "see", "it"]),
    ("HSBC's fails", ["hsbc", "'s", "fails"]),
    ("traders' books", ["traders", "'s", "books"]),
    ("cross-currency swaps", ["cross", "currency", "swaps"]),
    ("What\u2019s open", ["what", "is", "open"]),
    ("Société Générale", ["societe", "generale"]),
])
def test_contractions_possessives_hyphens(question: str, words: list[str]) -> None:
    assert _texts(question) == words


@pytest.mark.parametrize(("text", "value", "unit"), [
    ("three", 3, None), ("twenty five", 25, None), ("20m", 20e6, None), ("20 mm", 20e6, None),
    ("1.5bn", 1.5e9, None), ("250k", 250e3, None), ("5%", 5, "percent"),
    ("$50m", 50e6, None), ("1,000,000", 1e6, None), ("75 thousand", 75e3, None),
    ("at least one", 1, None),
])
def test_numbers_in_words_and_with_units(text: str, value: float, unit: str | None) -> None:
    numbers = [t for t in tokenize(text) if t.kind == "number"]
    assert len(numbers) == 1 and numbers[0].value == value and numbers[0].unit == unit


def test_one_alone_is_a_word_not_a_number() -> None:
    assert all(t.kind == "word" for t in tokenize("which one is open"))


def test_ids_keep_their_case_and_lemmas_come_from_simplemma() -> None:
    tokens = tokenize("does TRD0000123 have fails")
    assert [t.kind for t in tokens] == ["word", "id", "word", "word"]
    assert tokens[1].original == "TRD0000123"
    assert tokens[0].lemma == "do" and tokens[3].lemma == "fail"
    assert tokenize("counterparties")[0].lemma == "counterparty"


def test_slash_is_a_choice_and_periods_are_one_token() -> None:
    assert "/" in _texts("EUR/USD")
    tokens = tokenize("fails in the last 7 days by desk", date(2026, 11, 20))
    period = [t for t in tokens if t.kind == "period"]
    assert len(period) == 1 and period[0].period is not None
    assert period[0].period.start == date(2026, 11, 14)
    assert [t.text for t in tokens if t.kind != "period"] == ["fails", "in", "the", "by", "desk"]
