"""The Ask page through Streamlit's AppTest on a trained copy of the demo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from newschemas.shipregistry.warehouse import build as build_ships
from streamlit.testing.v1 import AppTest

from copilot.audit import AuditLog
from copilot.config import load_settings
from copilot.services import build_services
from reports.scheduler import _RUNNING
from training.editing import Target, glossary_from_files

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def _ask_page() -> None:
    from app_pages import ask

    ask.render()


def _page() -> AppTest:
    app = AppTest.from_function(_ask_page, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    return app


def _ask(app: AppTest, question: str) -> AppTest:
    app.chat_input(key="ask_input").set_value(question).run()
    assert not app.exception, app.exception
    return app


def _audit(page_env: Path) -> list:
    return [r for _, r in AuditLog(f"sqlite:///{page_env / 'audit.db'}").records()]


def test_a_question_is_answered_with_table_sql_and_chart(page_env: Path) -> None:
    app = _ask(_page(), "Fails by counterparty this month")
    text = " ".join(m.value for m in app.markdown)
    assert "grouped by counterparty, largest first" in text
    table = app.dataframe[0].value
    assert list(table.columns) == ["short_name", "count"] and len(table) > 3
    assert "JOIN counterparties" in app.code[0].value
    assert app.radio(key="chart_0").value == "bar"
    assert len(app.get("plotly_chart")) == 1
    assert _audit(page_env)[-1].question == "Fails by counterparty this month"


def test_a_refused_question_offers_suggestions(page_env: Path) -> None:
    app = _ask(_page(), "fails by conterparty")
    assert "'conterparty'" in app.warning[0].value
    suggestion = app.button(key="suggest_0_0")
    assert suggestion.label == "counterparty"
    assert _audit(page_env)[-1].outcome == "refused"


def test_a_question_read_two_ways_offers_whole_questions(page_env: Path) -> None:
    app = _ask(_page(), "how many in EUR today")
    assert "which did you mean" in app.info[0].value
    option = app.button(key="suggest_0_0")
    assert option.label.startswith("how many in ") and option.label.endswith(" EUR today")
    record = _audit(page_env)[-1]
    assert record.outcome == "clarify" and option.label in record.reason
    option.click().run()  # the whole question is asked, and answered
    assert not app.exception
    assert _audit(page_env)[-1].question == option.label
    assert _audit(page_env)[-1].outcome == "answered"


def test_edited_destructive_sql_is_refused_and_audited(page_env: Path) -> None:
    app = _ask(_page(), "how many live trades do we have")
    app.text_area(key="edit_0").set_value("DELETE FROM trades").run()
    app.button(key="rerun_0").click().run()
    assert "refused" in app.warning[0].value and "DELETE" in app.warning[0].value
    last = _audit(page_env)[-1]
    assert last.outcome == "blocked" and last.engine == "user"


def test_feedback_correct_makes_the_next_identical_question_come_from_the_pair(
    page_env: Path,
) -> None:
    app = _ask(_page(), "how many disputed confirmations are on paper")
    app.button(key="correct_0").click().run()
    assert "verified pair" in app.success[0].value
    again = _ask(_page(), "how many disputed confirmations are on paper")
    assert "verified pair" in " ".join(c.value for c in again.caption)
    assert "Answered with the verified question" in " ".join(m.value for m in again.markdown)


def test_the_page_refuses_until_trained(page_env: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    own = Path(shutil.copy(page_env / "otc_demo.db", tmp_path / "own.db"))
    monkeypatch.setenv("OPSCOPILOT_WAREHOUSE_URL", f"sqlite:///{own}")
    app = _page()
    assert "python -m copilot train" in app.warning[0].value
    assert not app.get("chat_input")


def test_truncated_answer_downloads_the_full_result(
    page_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSCOPILOT_ROW_CAP", "50")
    app = _ask(_page(), "show live trades")
    assert "cut at the row cap" in app.caption[0].value and len(app.dataframe[0].value) == 50
    app.button(key="full_0").click().run()
    assert not app.exception
    full = next(c.value for c in app.caption if c.value.startswith("Full result"))
    assert int(full.split()[2].replace(",", "")) > 50
    assert _audit(page_env)[-1].question.endswith("(full download)")


def test_feedback_is_audited(page_env: Path) -> None:
    app = _ask(_page(), "how many live trades do we have")
    app.text_input(key="comment_0").input("counts cancelled too").run()
    app.button(key="wrong_0").click().run()
    last = _audit(page_env)[-1]
    assert last.reason == "feedback: wrong" and "cancelled too" in last.details


def test_a_word_it_does_not_know_is_taught_in_two_clicks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bank's own warehouse (a CamelCase ship registry), trained from its draft alone.
    monkeypatch.chdir(tmp_path)
    build_ships(tmp_path / "ships.db")
    for name, value in {"OPSCOPILOT_DATA_DIR": str(tmp_path / "data"),
                        "OPSCOPILOT_AS_OF": "2026-11-20", "OPSCOPILOT_PROFILE": "ships",
                        "OPSCOPILOT_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'ships.db'}"}.items():
        monkeypatch.setenv(name, value)
    services = build_services(load_settings())
    draft = services.draft_glossary(by="platform")
    services.train_glossary(glossary_from_files(draft.files), by="platform")

    app = AppTest.from_file(APP, default_timeout=90)  # the whole app: Ask, then Training
    try:
        app.run()
        _ask(app, "how many hulls are there")
        assert "'hulls'" in app.warning[0].value
        teach = app.button(key="teach_0_0")
        assert teach.label == "Teach 'hulls'"
        teach.click().run()  # first click: to the Training page, the word filled in
        assert not app.exception, app.exception
        assert app.title[0].value == "Training"
        assert app.text_input(key="teach_word_input").value == "hulls"
        app.selectbox(key="teach_target").select(Target("entity", "vessel")).run()
        app.button(key="teach_add").click().run()  # second click: a new version
        assert not app.exception, app.exception
        assert "version 2 is active" in app.success[0].value
    finally:
        for scheduler in list(_RUNNING.values()):  # the whole app started one
            scheduler.shutdown()
    answer = services.ask("how many hulls are there")
    assert answer.status == "answered" and "Vessel" in (answer.sql or "")
    audit = _audit(tmp_path / "data")
    assert [(r.channel, r.outcome) for r in audit if "hulls" in r.question] == [
        ("ask", "refused"), ("training", "recorded"), ("training", "recorded"),
        ("ask", "answered")]
