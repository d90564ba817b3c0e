"""The Training page through Streamlit's AppTest, on a trained copy of the demo, and on a new
warehouse of a bank's own: connect, draft, edit, train, review and teach a word."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from newschemas.shipregistry.warehouse import build as build_ships
from streamlit.testing.v1 import AppTest

from copilot.core.audit import AuditLog, AuditRecord
from copilot.settings import load_settings
from copilot.wiring import build_services
from tests.downloads import record_downloads
from training.editing import Target, glossary_from_files
from training.trainer import PairUpload


def _training_page() -> None:
    from app_pages import training

    training.render()


def _page() -> AppTest:
    app = AppTest.from_function(_training_page, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    return app


def test_page_shows_the_active_version_and_what_it_holds(page_env: Path) -> None:
    app = _page()
    assert "answers from version **1**" in app.caption[0].value
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Tables"] == "8" and int(metrics["Terms"]) >= 30
    versions = app.dataframe[0].value
    assert list(versions["version"]) == [1] and versions["active"][0] == "●"


def test_each_count_at_the_top_is_the_length_of_its_list_below(page_env: Path) -> None:
    app = _page()
    metrics = {m.label: int(m.value) for m in app.metric}
    rules = next(e for e in app.expander if e.label.startswith("Rules ("))
    terms = next(e for e in app.expander if e.label.startswith("Glossary terms ("))
    # The demo's 10 business rules and the period column of each of its 5 dated tables.
    assert metrics["Rules"] == 15 and rules.label == "Rules (15)"
    assert len(rules.markdown) == 15
    assert any("Periods for settlements apply to" in m.value for m in rules.markdown)
    assert terms.label == f"Glossary terms ({metrics['Terms']})"
    assert len(terms.dataframe[0].value) == metrics["Terms"]
    versions = app.dataframe[0].value
    assert versions["rules"][0] == metrics["Rules"] and versions["terms"][0] == metrics["Terms"]


def test_diff_and_roll_back_from_the_page(page_env: Path) -> None:
    services = build_services(load_settings())
    services.trainer.add_pairs(
        [PairUpload("fails today", "SELECT COUNT(*) FROM settlements WHERE status = 'FAILED'")],
        by="analyst",
    )
    app = _page()
    assert list(app.dataframe[0].value["version"]) == [2, 1]
    texts = " ".join(m.value for m in app.markdown)
    assert "**pairs** + fails today" in texts

    app.selectbox(key="rollback_version").select(1).run()
    app.button(key="rollback").click().run()
    assert not app.exception
    assert "Version 1 is active again." in app.success[0].value
    assert services.trainer.active().version == 1


def test_probe_shows_retrieved_items(page_env: Path) -> None:
    app = _page()
    app.text_input(key="training_probe").input("netting breaks this week").run()
    texts = " ".join(m.value for m in app.markdown)
    assert "**terms**: netting break" in texts


def test_untrained_profile_says_how_to_train(
    page_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same data in a warehouse of the bank's own: never trained on its own.
    own = Path(shutil.copy(page_env / "otc_demo.db", tmp_path / "own.db"))
    monkeypatch.setenv("OPSCOPILOT_WAREHOUSE_URL", f"sqlite:///{own}")
    app = _page()
    assert "python -m copilot train" in app.warning[0].value
    app.button(key="train_now").click().run()
    assert "version 1 is active" in app.success[0].value


# ---- a new warehouse: connect, draft, edit, train, review, teach -----------------------


@pytest.fixture
def ship_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bank's own warehouse (a CamelCase ship registry on SQLite), never trained: the data
    folder. The demo glossary is not trained on it; the page drafts one from its schema."""
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    build_ships(tmp_path / "ships.db")
    for name, value in {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20",
                        "OPSCOPILOT_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'ships.db'}",
                        "OPSCOPILOT_PROFILE": "ships"}.items():
        monkeypatch.setenv(name, value)
    return data


def _training_audit(data: Path) -> list[AuditRecord]:
    return [r for _, r in AuditLog(f"sqlite:///{data / 'audit.db'}").records()
            if r.channel == "training"]


def _texts(app: AppTest) -> str:
    return " ".join(m.value for m in app.markdown)


def test_a_new_warehouse_is_connected_drafted_edited_trained_and_reviewed(
        ship_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    downloads = record_downloads(monkeypatch)
    app = _page()
    assert "not been trained" in app.warning[0].value
    assert "Connect a new warehouse" in [s.value for s in app.subheader]
    assert "ships.db" in _texts(app)

    app.button(key="test_connection").click().run()
    assert "Connected: 5 tables" in app.success[0].value

    app.button(key="draft_glossary").click().run()
    assert not app.exception, app.exception
    assert "5 tables, 5 entities" in _texts(app)
    entities = app.data_editor(key="draft_entities").value
    assert list(entities["name"]) == ["company", "inspection", "port", "port call", "vessel"]
    assert "vessel name" in list(app.data_editor(key="draft_terms").value["term"])
    assert "# name: the table's name split" in app.code[0].value  # the draft, commented

    # A person adds "ship" to the vessels, in the table, as the browser sends the edit.
    row = list(entities["name"]).index("vessel")
    app.session_state["draft_entities"] = {"edited_rows": {row: {"synonyms": "ship, hull"}},
                                           "added_rows": [], "deleted_rows": []}
    app.run()
    assert not app.exception, app.exception
    assert "synonyms: [ship, hull]" in app.code[0].value
    assert "with your edits" in " ".join(c.value for c in app.caption)
    download = app.get("download_button")[0]
    assert "zip" in download.proto.label
    assert downloads["download_draft"] == f"ships-glossary-draft-{date.today()}.zip"

    app.button(key="train_draft").click().run()
    assert not app.exception, app.exception
    assert ("Trained from the draft: version 1 is active (drafted, not reviewed)."
            in app.success[0].value)
    assert "Drafted, not reviewed" in app.warning[0].value
    services = build_services(load_settings())
    assert services.trainer.active().drafted
    answer = services.answering.ask("how many ships are there", user="analyst")
    assert answer.status == "answered" and "Vessel" in (answer.sql or "")

    app.button(key="mark_reviewed").click().run()
    assert not app.exception, app.exception
    assert "Marked reviewed: version 2 is active." in app.success[0].value
    assert "Version 2 answers as version 1 did: glossary marked reviewed." in _texts(app)
    assert not any("Drafted, not reviewed" in w.value for w in app.warning)
    active = services.trainer.active()
    assert active.version == 2 and not active.drafted

    actions = [(r.question, r.outcome) for r in _training_audit(ship_env)]
    for what in ("connection test: sqlite:///", "glossary draft of sqlite:///",
                 "trained from a draft on the Training page", "glossary marked reviewed"):
        assert any(q.startswith(what) and o == "recorded" for q, o in actions), (what, actions)


def test_a_word_taught_on_the_page_answers_the_refused_question(ship_env: Path) -> None:
    services = build_services(load_settings())
    draft = services.training.draft_glossary(by="platform")
    services.training.train_glossary(glossary_from_files(draft.files), by="platform")
    assert services.answering.ask("how many hulls are there").unused_words == ("hulls",)

    app = AppTest.from_function(_training_page, default_timeout=60)
    app.session_state["teach_word"] = "hulls"  # as the Ask page's "Teach" button leaves it
    app.run()
    assert not app.exception, app.exception
    assert app.text_input(key="teach_word_input").value == "hulls"
    assert app.button(key="teach_add").disabled  # nothing picked yet
    app.selectbox(key="teach_target").select(Target("entity", "vessel")).run()
    app.button(key="teach_add").click().run()
    assert not app.exception, app.exception
    assert "'hulls' now means entity vessel: version 2 is active." in app.success[0].value
    assert "**terms** ~ vessel" in _texts(app)  # what changed, shown under the notice

    assert app.text_input(key="teach_word_input").value == ""  # ready for the next word
    assert services.answering.ask("how many hulls are there").status == "answered"
    taught = _training_audit(ship_env)[-1]
    assert taught.question == "taught 'hulls' as entity vessel" and taught.outcome == "recorded"
    assert not any(e.label.startswith("Training warnings") for e in app.expander)

    # A word that also names a stored value trains, with a warning listed on the page.
    app.text_input(key="teach_word_input").input("Panama").run()
    app.button(key="teach_add").click().run()
    assert "version 3 is active" in app.success[0].value
    warnings = next(e for e in app.expander if e.label.startswith("Training warnings"))
    assert "Panama" in " ".join(m.value for m in warnings.markdown)


def test_failed_training_actions_are_shown_and_audited(ship_env: Path) -> None:
    app = _page()
    (ship_env.parent / "ships.db").unlink()  # the warehouse is gone since the app started
    app.button(key="test_connection").click().run()
    assert not app.exception, app.exception
    assert "was deleted or moved" in app.error[0].value
    app.button(key="draft_glossary").click().run()
    assert "was deleted or moved" in app.error[0].value
    assert not app.data_editor  # no draft to edit
    failed = [(r.question.split(":")[0], r.outcome) for r in _training_audit(ship_env)]
    assert failed == [("connection test", "error"), ("glossary draft of sqlite", "error")]
