"""Editing a glossary as values (training/editing.py): words added to entities, terms and
stored values, entity names and synonyms edited as in a table, a draft marked reviewed, and
the result written back to YAML files that load again into the same glossary."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from newschemas.shipregistry.warehouse import build

from copilot.core.errors import CopilotError, GlossaryError
from copilot.core.warehouse import Warehouse
from copilot.settings import load_settings
from copilot.training_actions import draft_from_warehouse
from copilot.wiring import executor_for
from training.editing import (
    EditRefused,
    Target,
    add_synonym,
    edit_entities,
    edit_terms,
    files_zip,
    glossary_files,
    glossary_from_files,
    split_words,
    targets,
    with_reviewed,
    without_sources,
)
from training.glossary import DEMO_GLOSSARY, Glossary, load_glossary


def _round_trip(glossary: Glossary, tmp_path: Path) -> Glossary:
    """Write the files into a folder, as a person keeps them, and load that folder."""
    folder = tmp_path / "kept"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in glossary_files(glossary).items():
        (folder / name).write_text(text, encoding="utf-8")
    return load_glossary(folder)


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory) -> Glossary:
    """The draft of a CamelCase ship registry, loaded as the Training page loads it."""
    folder = tmp_path_factory.mktemp("ships")
    build(folder / "ships.db")
    warehouse = Warehouse(f"sqlite:///{folder / 'ships.db'}", timeout_s=10)
    try:
        draft = draft_from_warehouse(executor_for(warehouse, load_settings(
            {"OPSCOPILOT_DATA_DIR": str(folder)}, env_file=folder / "no.env")))
    finally:
        warehouse.dispose()
    return glossary_from_files(draft.files)


def test_the_demo_glossary_round_trips_through_yaml(tmp_path: Path) -> None:
    demo = load_glossary(DEMO_GLOSSARY)
    back = _round_trip(demo, tmp_path)
    assert without_sources(back) == without_sources(demo)
    # every kind of item is there: conditions, measures, durations, value synonyms and sets,
    # period and age columns, date words, upcoming, join paths and rules
    assert back.value_sets and back.date_words and back.upcoming_condition and back.join_paths
    assert any(t.kind == "duration" for t in back.terms)
    assert glossary_files(back) == glossary_files(demo)  # writing is deterministic


def test_a_draft_round_trips_and_stays_drafted(drafted: Glossary, tmp_path: Path) -> None:
    assert drafted.drafted
    back = _round_trip(drafted, tmp_path)
    assert without_sources(back) == without_sources(drafted) and back.drafted
    reviewed = _round_trip(with_reviewed(drafted), tmp_path / "reviewed")
    assert not reviewed.drafted
    assert without_sources(reviewed) == without_sources(with_reviewed(drafted))


def test_awkward_text_survives_the_round_trip(tmp_path: Path) -> None:
    from training.glossary import Entity, Rule, Term, ValueSynonym

    glossary = Glossary(
        entities=(Entity("deal: the # one", "trades", synonyms=("yes", "no", "2010", "a, b"),
                         list_columns=("trade_id",), description='says "hi"\nand more'),),
        terms=(Term("fail", synonyms=("on", "null"), table="settlements",
                    condition="settlements.status = 'FAILED'"),),
        values=(ValueSynonym("counterparties.short_name", "N. Singh", ("true", "- dash")),
                ValueSynonym("counterparties.short_name", "2024", ("year",))),
        rules=(Rule("r-1", "Text: with a colon, and 'quotes' # no comment"),),
    )
    assert without_sources(_round_trip(glossary, tmp_path)) == without_sources(glossary)


def test_add_synonym_to_an_entity_a_term_and_a_stored_value(drafted: Glossary) -> None:
    vessel = Target("entity", "vessel")
    edited = add_synonym(drafted, vessel, "ship")
    assert next(e for e in edited.entities if e.name == "vessel").synonyms == ("ship",)
    assert add_synonym(edited, vessel, "Ship") == edited  # already a word for it
    assert add_synonym(edited, Target("entity", "Vessel"), "hull") != edited  # as typed

    term = drafted.terms[0]
    with_term = add_synonym(drafted, Target("term", term.name), "house")
    assert next(t for t in with_term.terms if t.name == term.name).synonyms[-1] == "house"

    value = Target("value", "Panama", "Vessel.FlagState")
    once = add_synonym(drafted, value, "Panamanian")
    twice = add_synonym(once, value, "PA")
    assert [(v.column, v.value, v.synonyms) for v in twice.values] == [
        ("Vessel.FlagState", "Panama", ("Panamanian", "PA"))]
    assert drafted.values == ()  # values are frozen: the original is untouched


def test_an_unknown_target_or_a_blank_word_is_a_typed_error(drafted: Glossary) -> None:
    with pytest.raises(EditRefused, match="no entity 'submarine'"):
        add_synonym(drafted, Target("entity", "submarine"), "sub")
    with pytest.raises(EditRefused, match="no term"):
        add_synonym(drafted, Target("term", "tonnage please"), "weight")
    with pytest.raises(EditRefused, match="stored value"):
        add_synonym(drafted, Target("value", "Panama"), "PA")  # no column
    with pytest.raises(EditRefused, match="Give the word"):
        add_synonym(drafted, Target("entity", "vessel"), "   ")
    with pytest.raises(EditRefused, match="short phrase"):
        add_synonym(drafted, Target("entity", "vessel"), "word " * 30)
    assert issubclass(EditRefused, CopilotError)


def test_a_word_cannot_mean_two_terms_of_one_kind(drafted: Glossary) -> None:
    first, second = drafted.terms[0], drafted.terms[1]
    assert first.kind == second.kind == "dimension"
    with pytest.raises(EditRefused, match="one word, one meaning"):
        add_synonym(drafted, Target("term", second.name), first.name)


def test_entities_and_terms_edited_as_rows(drafted: Glossary) -> None:
    rows = [(e.name, e.synonyms) for e in drafted.entities]
    index = [e.name for e in drafted.entities].index("vessel")
    rows[index] = ("ship", split_words("vessel, boat, , Boat"))
    edited = edit_entities(drafted, rows)
    ship = edited.entities[index]
    assert (ship.name, ship.synonyms, ship.table) == ("ship", ("vessel", "boat"), "Vessel")
    rows[index] = ("port", ())
    with pytest.raises(EditRefused, match="Two entities are named 'port'"):
        edit_entities(drafted, rows)
    rows[index] = ("  ", ())
    with pytest.raises(EditRefused, match="needs a name"):
        edit_entities(drafted, rows)

    words = [t.synonyms for t in drafted.terms]
    words[0] = ("owner", "holder")
    assert edit_terms(drafted, words).terms[0].synonyms == ("owner", "holder")
    assert edit_terms(drafted, [t.synonyms for t in drafted.terms]) == drafted


def test_split_words_reads_a_cell() -> None:
    assert split_words(" a,b , A,, c ") == ("a", "b", "c")
    assert split_words(None) == () and split_words(float("nan")) == ()


def test_targets_list_entities_terms_and_stored_values(drafted: Glossary) -> None:
    found = targets(drafted, {"Vessel.FlagState": ("Panama", "Liberia")})
    assert Target("entity", "vessel") in found
    assert Target("term", drafted.terms[0].name) in found
    assert Target("value", "Liberia", "Vessel.FlagState") in found
    assert Target("value", "Liberia", "Vessel.FlagState").label == (
        "value Liberia of Vessel.FlagState")


def test_with_reviewed_refuses_a_glossary_that_is_no_draft() -> None:
    with pytest.raises(EditRefused, match="not a draft"):
        with_reviewed(Glossary())


def test_files_load_from_text_with_errors_naming_the_file() -> None:
    with pytest.raises(GlossaryError, match=r"^entities\.yaml, line 1"):
        glossary_from_files({"entities.yaml": "kind: nonsense\n"})
    with pytest.raises(EditRefused, match="not a glossary file name"):
        glossary_from_files({"../x.yaml": "kind: rules\n"})


def test_files_zip_holds_one_folder_of_files(drafted: Glossary) -> None:
    files = glossary_files(drafted)
    with zipfile.ZipFile(io.BytesIO(files_zip(files))) as archive:
        assert sorted(archive.namelist()) == sorted(f"glossary/{n}" for n in files)
        assert archive.read("glossary/rules.yaml").decode() == files["rules.yaml"]
