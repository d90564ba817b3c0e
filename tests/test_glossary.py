"""The glossary format: the demo's files load, and every kind of bad file is rejected with
its path, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.core.errors import GlossaryError
from copilot.core.warehouse import Warehouse
from training.glossary import (
    DEMO_GLOSSARY,
    Glossary,
    load_glossary,
    resolve_as_of,
)
from training.schema_check import check_against_schema

GOOD_RULES = "kind: rules\nrules:\n  - {id: r1, text: Counts are rows.}\n"


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "glossary"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return folder


def test_demo_glossary_encodes_the_semantics(small_demo_db: Path) -> None:
    glossary = load_glossary(DEMO_GLOSSARY)
    terms = {t.name: t for t in glossary.terms}
    assert terms["fail"].condition == "settlements.status = 'FAILED'"
    assert "settlement fail" in terms["fail"].synonyms
    assert terms["fail rate"].kind == "measure" and terms["fail rate"].unit == "percent"
    assert terms["counterparty"].dimension == "counterparties.short_name"
    assert "{as_of - 5}" in terms["aged"].condition
    assert dict(glossary.period_columns)["ops_exceptions"] == "opened_at"
    assert {"due", "upcoming"} <= set(glossary.upcoming_words)
    synonyms = {(v.column, v.value): v.synonyms for v in glossary.values}
    assert "Germany" in synonyms[("counterparties.country", "DE")]
    assert "Deutsche Bank" in synonyms[("counterparties.short_name", "DEUTSCHE")]
    assert terms["fail"].source.startswith("terms.yaml, line ")
    check_against_schema(glossary, Warehouse(f"sqlite:///{small_demo_db}", timeout_s=5).schema())
    assert Glossary.from_dict(glossary.as_dict()) == glossary


def test_relative_dates_resolve_against_the_as_of_date() -> None:
    sql = "t.d < {as_of - 5} AND t.e >= {as_of} AND t.f <= {as_of+30}"
    assert resolve_as_of(sql, "2026-11-20") == (
        "t.d < '2026-11-15' AND t.e >= '2026-11-20' AND t.f <= '2026-12-20'"
    )


BAD_FILES = [
    # (file name, contents, expected line, words of the reason)
    ("terms", "kind: terms\nterms:\n  - name: fail\n    condition: \"settlements.status = \"\n"
              "    table: settlements\n", 3, "not valid SQL"),
    ("terms", "kind: terms\nterms:\n  - name: fail\n    table: settlements\n", 3,
     "needs one of 'condition', 'measure', 'dimension' or 'duration'"),
    ("terms", "kind: terms\nterms:\n  - name: x\n    dimension: short_name\n", 3,
     "table.column"),
    ("terms", "kind: terms\nterms:\n  - name: x\n    table: t\n    condition: \"t.a = 1\"\n"
              "    colour: red\n", 3, "unknown field(s): colour"),
    ("terms", "kind: terms\nterms:\n  - name: x\n    table: t\n    condition: \"t.a + 1\"\n", 3,
     "must be a condition"),
    ("terms", "kind: terms\nterms:\n  - {name: a, table: t, condition: \"t.a = 1\"}\n"
              "  - {name: b, synonyms: [a], table: t, condition: \"t.b = 1\"}\n", 4,
     "already means another condition"),
    ("entities", "kind: entities\nentities:\n  - name: trade\n    synonyms: [deal]\n", 3,
     "needs 'table'"),
    ("values", "kind: values\nvalues:\n  - column: counterparties.short_name\n"
               "    synonyms: {GOLDMAN: Goldman}\n", 3, "must be a list of words"),
    ("terms", "kind: terms\nterms:\n  - name: lag\n    table: t\n"
              "    duration: {start: t.a}\n", 5, "needs 'start' and 'end'"),
    ("terms", "kind: terms\nterms:\n  - name: lag\n    table: t\n"
              "    duration: {start: t.a, end: t.b}\n    unit: weeks\n", 3, "days or hours"),
    ("terms", "kind: terms\nterms:\n  - name: lag\n    table: t\n"
              "    duration: {start: t.a, end: b}\n", 5, "table.column"),
    ("values", "kind: values\nvalues:\n  - column: trades.product_type\n"
               "    sets: {swaps: IRS}\n", 3, "must be a list of stored values"),
    ("entities", "kind: entities\nentities:\n  - name: trade\n    table: trades\n"
                 "    measure: [a, b]\n", 3, "must be non-empty text"),
    ("stuff", "kind: widgets\n", 1, "must start with 'kind:'"),
    ("rules2", "kind: rules\ndrafted: maybe\nrules: []\n", 1, "'drafted' must be true or false"),
    ("terms", "kind: terms\nterms:\n  - name: [unclosed\n", 4, "not valid YAML"),
]


@pytest.mark.parametrize(("name", "text", "line", "reason"), BAD_FILES,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_FILES)])
def test_bad_file_is_rejected_with_file_and_line(
    tmp_path: Path, name: str, text: str, line: int, reason: str
) -> None:
    files = {"rules": GOOD_RULES, name: text}
    if name == "rules2":  # the rules file itself is the bad one
        del files["rules"]
    folder = _folder(tmp_path, **files)
    with pytest.raises(GlossaryError) as raised:
        load_glossary(folder)
    message = str(raised.value)
    assert f"{name}.yaml, line {line}" in message, message
    assert reason in message, message


def test_unknown_table_or_column_is_named_with_its_line(
    tmp_path: Path, small_demo_db: Path
) -> None:
    folder = _folder(
        tmp_path, rules=GOOD_RULES,
        terms="kind: terms\nterms:\n  - {name: a, dimension: counterparties.short_name}\n"
              "  - {name: b, table: trades, condition: \"trades.colour = 'RED'\"}\n",
    )
    glossary = load_glossary(folder)
    schema = Warehouse(f"sqlite:///{small_demo_db}", timeout_s=5).schema()
    with pytest.raises(GlossaryError, match=r"terms\.yaml, line 4: the table trades has no col"):
        check_against_schema(glossary, schema)


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(GlossaryError, match="holds no glossary files"):
        load_glossary(tmp_path / "empty")


def test_new_fields_load_and_are_checked_against_the_schema(
    tmp_path: Path, small_demo_db: Path
) -> None:
    folder = _folder(
        tmp_path, rules=GOOD_RULES,
        entities="kind: entities\nentities:\n  - {name: trade, table: trades, "
                 "measure: notional_usd, label: trade_id}\n",
        terms="kind: terms\nterms:\n  - name: time to match\n    table: confirmations\n"
              "    duration: {start: confirmations.sent_at, end: confirmations.matched_at}\n"
              "    unit: hours\n",
        values="kind: values\nvalues:\n  - column: trades.product_type\n"
               "    sets: {swaps: [IRS, OIS]}\n",
    )
    glossary = load_glossary(folder)
    assert glossary.entities[0].measure == "notional_usd" and glossary.entities[0].label
    term = glossary.terms[0]
    assert term.kind == "duration" and term.end == "confirmations.matched_at"
    assert glossary.value_sets[0].values == ("IRS", "OIS")
    schema = Warehouse(f"sqlite:///{small_demo_db}", timeout_s=5).schema()
    check_against_schema(glossary, schema)
    (tmp_path / "b").mkdir()
    broken = _folder(tmp_path / "b", rules=GOOD_RULES, terms=(
        "kind: terms\nterms:\n  - name: lag\n    table: confirmations\n"
        "    duration: {start: confirmations.sent_at, end: confirmations.signed_on}\n"))
    with pytest.raises(GlossaryError, match="has no column 'signed_on'"):
        check_against_schema(load_glossary(broken), schema)


def test_a_draft_is_marked_and_the_mark_leaves_older_profiles_unchanged(tmp_path: Path) -> None:
    drafted = load_glossary(_folder(tmp_path, rules="kind: rules\ndrafted: true  # a draft\n"
                                                    "rules: []\n"))
    assert drafted.drafted and Glossary.from_dict(drafted.as_dict()) == drafted
    reviewed = load_glossary(DEMO_GLOSSARY)
    assert not reviewed.drafted
    # Left out of a reviewed glossary's stored form: versions trained before the flag keep
    # their digest, so re-training them stays idempotent.
    assert "drafted" not in reviewed.as_dict()
    assert not Glossary.from_dict(reviewed.as_dict()).drafted


def test_each_value_synonym_knows_its_own_line(tmp_path: Path) -> None:
    folder = _folder(tmp_path, rules=GOOD_RULES, values=(
        "kind: values\nvalues:\n  - column: counterparties.short_name\n    synonyms:\n"
        "      GOLDMAN: [Goldman]\n      CITI: [Citibank]\n"
        "    sets:\n      big: [GOLDMAN, CITI]\n"))
    glossary = load_glossary(folder)
    assert [(v.value, v.source) for v in glossary.values] == [
        ("GOLDMAN", "values.yaml, line 5"), ("CITI", "values.yaml, line 6")]
    assert glossary.value_sets[0].source == "values.yaml, line 8"
