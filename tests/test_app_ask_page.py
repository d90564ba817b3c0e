"""The Ask page through Streamlit's AppTest on a trained copy of the demo."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from newschemas.shipregistry.warehouse import build as build_ships
from streamlit.testing.v1 import AppTest

from app_pages import answer_view
from app_pages.ask_intro import example_questions
from copilot.core.audit import AuditLog
from copilot.core.plaintext import markdown_text
from copilot.engine.answer import Engine
from copilot.engine.labels import NONE
from copilot.settings import load_settings
from copilot.values import Answer, ChartSpec
from copilot.wiring import Services, build_services, dashboards_of
from dashboards.seed import MORNING_CHECK
from reports.scheduler import _RUNNING
from tests.servedlocally import served_on_loopback  # noqa: F401
from training.editing import Target, glossary_from_files

pytestmark = pytest.mark.usefixtures("served_on_loopback")  # the whole app, as run locally

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
    # Headed by the glossary's names, not the columns' ("short_name", "count").
    assert list(table.columns) == ["Counterparty", "Count"] and len(table) > 3
    assert "JOIN counterparties" in app.code[0].value
    assert app.radio(key="chart_0").value == "bar"
    assert len(app.get("plotly_chart")) == 1
    assert _audit(page_env)[-1].question == "Fails by counterparty this month"


def test_a_refused_question_offers_suggestions(page_env: Path) -> None:
    app = _ask(_page(), "fails by conterparty")
    assert "'conterparty'" in app.warning[0].value
    suggestion = app.button(key="suggest_0_0")  # the question again, the word put right
    assert suggestion.label == "fails by counterparty"
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
    assert "cut at the row cap" in _texts(app) and len(app.dataframe[0].value) == 50
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


def _ships(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    """A bank's own warehouse (a CamelCase ship registry), trained from its draft alone."""
    monkeypatch.chdir(tmp_path)
    build_ships(tmp_path / "ships.db")
    for name, value in {"OPSCOPILOT_DATA_DIR": str(tmp_path / "data"),
                        "OPSCOPILOT_AS_OF": "2026-11-20", "OPSCOPILOT_PROFILE": "ships",
                        "OPSCOPILOT_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'ships.db'}"}.items():
        monkeypatch.setenv(name, value)
    services = build_services(load_settings())
    draft = services.training.draft_glossary(by="platform")
    services.training.train_glossary(glossary_from_files(draft.files), by="platform")
    return services


def test_a_word_it_does_not_know_is_taught_in_two_clicks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _ships(tmp_path, monkeypatch)

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
    answer = services.answering.ask("how many hulls are there")
    assert answer.status == "answered" and "Vessel" in (answer.sql or "")
    audit = _audit(tmp_path / "data")
    assert [(r.channel, r.outcome) for r in audit if "hulls" in r.question] == [
        ("ask", "refused"), ("training", "recorded"), ("training", "recorded"),
        ("ask", "answered")]


# A conversation: follow-ups read against the turns before them, drill-downs, comparisons.

def _texts(app: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption") for e in getattr(app, kind))


def _history(app: AppTest) -> list[Answer]:
    return list(app.session_state["ask_history"])


def _answered(question: str, columns: tuple[str, ...], rows: tuple[tuple[object, ...], ...],
              chart: ChartSpec, **more: object) -> Answer:
    """An answer as the services return it, for what the page draws of its shape alone."""
    return Answer(question, "answered", "engine", "Counting things.", sql="SELECT 1",
                  generated_sql="SELECT 1", columns=columns, rows=rows, confidence=0.9,
                  chart=chart, **more)


def _page_showing(*answers: Answer) -> AppTest:
    app = AppTest.from_function(_ask_page, default_timeout=60)
    app.session_state["ask_history"] = list(answers)
    app.run()
    assert not app.exception, app.exception
    return app


def test_a_three_turn_conversation_shows_what_each_follow_up_stood_for(
        page_env: Path) -> None:
    app = _page()
    for question in ("unconfirmed trades by platform", "then by book", "only GBP ones"):
        _ask(app, question)
    first, second, third = _history(app)
    assert [a.status for a in (first, second, third)] == ["answered"] * 3
    assert not first.stands_for and not first.changes
    conversation = app.session_state["ask_conversation"]
    assert [t.question for t in conversation.turns] == [
        "unconfirmed trades by platform", "then by book", "only GBP ones"]
    assert {a.conversation_id for a in (first, second, third)} == {conversation.id}
    text = _texts(app)
    for follow_up in (second, third):  # each read as a whole question, and shown as one
        assert follow_up.stands_for and follow_up.changes
        assert markdown_text(f"Stands for: {follow_up.stands_for}") in text
        assert markdown_text("Same as before, " + ", ".join(follow_up.changes)) in text
    assert "book" in second.stands_for and "GBP" in third.stands_for
    assert [r.question for r in _audit(page_env)[-3:]] == [
        "unconfirmed trades by platform", "then by book", "only GBP ones"]

    app.button(key="ask_new").click().run()  # the chat cleared; the next question stands alone
    assert not app.exception, app.exception
    assert not _history(app) and not app.get("chat_message")
    fresh = app.session_state["ask_conversation"]
    assert fresh.id != conversation.id and not fresh.turns
    _ask(app, "how many unconfirmed trades")
    [alone] = _history(app)
    assert not alone.stands_for and "Stands for" not in _texts(app)
    assert [t.question for t in app.session_state["ask_conversation"].turns] == [
        "how many unconfirmed trades"]


def test_a_follow_up_saved_as_a_widget_keeps_the_whole_question(page_env: Path) -> None:
    app = _page()
    _ask(_ask(app, "unconfirmed trades by platform"), "then by book")
    follow_up = _history(app)[1]
    assert follow_up.stands_for
    app.session_state["save_1"] = True  # Save as widget opened: drawn only when open
    app.run()
    assert app.text_input(key="save_1_title").value == follow_up.stands_for[:120]
    assert "save_1_new" not in [t.key for t in app.text_input]  # a name only for a new one
    app.selectbox(key="save_1_board").set_value("New dashboard…").run()
    app.text_input(key="save_1_new").set_value("Desk B")  # asked for once "new" is picked
    app.button(key="save_1_go").click().run()
    assert not app.exception, app.exception
    boards = dashboards_of(build_services(load_settings(env_file=page_env / "no.env")))
    [widget] = boards.store.widgets(boards.store.dashboard("Desk B").id)
    # Re-asked at each refresh with no conversation: it must read alone.
    assert widget.question == follow_up.stands_for and widget.relative


def test_a_follow_up_shows_what_it_stood_for_as_plain_text(page_env: Path) -> None:
    answer = _answered("only [these](http://evil.example) ones", ("platform", "count"),
                       (("SWIFT", 3),), ChartSpec("bar", x="platform", y="count"),
                       stands_for="unconfirmed trades by platform in [GBP](http://evil.example)",
                       changes=("GBP only", "now grouped by book"))
    text = _texts(_page_showing(answer))
    assert markdown_text("Same as before, GBP only, now grouped by book") in text
    assert markdown_text(f"Stands for: {answer.stands_for}") in text
    assert "[GBP](http" not in text  # a link in a question stays text


def test_a_grouped_comparison_draws_both_periods_side_by_side(page_env: Path) -> None:
    columns = ("platform", "count_this_month", "count_last_month", "change", "change_pct")
    answer = _answered("compare with last month", columns,
                       (("MARKITWIRE", 121, 100, 21, 21.0), ("EMAIL", 102, 120, -18, -15.0)),
                       ChartSpec("bar", x="platform", y="count_this_month",
                                 series=("count_last_month",)))
    app = _page_showing(answer)
    [chart] = app.get("plotly_chart")
    traces = json.loads(chart.proto.spec)["data"]
    assert [t["name"] for t in traces] == ["Count last month", "Count this month"]
    assert [t["type"] for t in traces] == ["bar", "bar"]
    assert list(traces[1]["x"]) == ["MARKITWIRE", "EMAIL"]
    assert json.loads(chart.proto.spec)["layout"]["barmode"] == "group"
    assert not app.get("metric")


def test_a_comparison_of_one_number_is_a_headline_with_its_change(page_env: Path) -> None:
    columns = ("count_this_month", "count_last_month", "change", "change_pct")
    answer = _answered("compare with last month", columns, ((382, 400, -18, -4.5),),
                       ChartSpec("number", y="count_this_month", series=("count_last_month",)))
    app = _page_showing(answer)
    now, before = app.metric
    assert (now.label, now.value, now.delta) == ("Count this month", "382", "-18 (-4.5%)")
    assert (before.label, before.value) == ("Count last month", "400")
    assert not app.get("plotly_chart")


def test_a_number_answer_shows_the_rows_behind_it(page_env: Path) -> None:
    app = _ask(_page(), "how many unconfirmed trades")
    count = _history(app)[0]
    assert count.chart.kind == "number"
    app.button(key="rows_0").click().run()
    assert not app.exception, app.exception
    rows = _history(app)[1]
    assert rows.status == "answered" and len(rows.rows) == count.rows[0][0]
    assert len(app.session_state["ask_conversation"].turns) == 2


def test_picking_a_row_of_a_grouped_answer_lists_the_rows_behind_it(page_env: Path) -> None:
    app = _ask(_page(), "unconfirmed trades by platform")
    grouped = _history(app)[0]
    platform, count = grouped.rows[0]
    app.session_state["df_0"] = {"selection": {"rows": [0]}}  # as a click on the first row
    app.run()
    assert not app.exception, app.exception
    drill = _history(app)[1]
    assert drill.status == "answered" and len(drill.rows) == count
    assert str(platform) in (drill.stands_for or drill.question)
    app.run()  # the row stays selected: it is not asked again at the next run
    assert len(_history(app)) == 2


def test_a_follow_up_read_two_ways_asks_which_and_each_option_answers(page_env: Path) -> None:
    app = _page()
    _ask(app, "unconfirmed trades by platform")
    _ask(app, "HSBC")
    _, unclear = _history(app)
    assert unclear.status == "clarify" and len(unclear.suggestions) == 2
    labels = [b.label for b in app.button if b.key and b.key.startswith("suggest_1_")]
    assert labels[1].startswith("New question: HSBC")  # not the engine's "afresh:" marker
    app.button(key="suggest_1_0").click().run()  # the edit: the whole question, asked
    edited = _history(app)[-1]
    assert edited.status == "answered" and "HSBC" in (edited.sql or "")
    assert "GROUP BY confirmations.platform" in (edited.sql or "")
    app.button(key="suggest_1_1").click().run()  # afresh: HSBC read alone
    alone = _history(app)[-1]
    assert alone.status == "answered" and "counterparties" in alone.tables


# Issue 17: a first page that teaches; fast, compact answers; refusals and saving that say
# what to do.

AS_OF = date(2026, 11, 20)


def _examples(app: AppTest) -> list[str]:
    return [b.label for b in app.button if b.key and b.key.startswith("example_")]


def test_the_first_page_says_what_it_knows_and_what_to_try(page_env: Path) -> None:
    app = _page()
    text = _texts(app)
    for entity in ("Trades", "Confirmations", "Settlements", "Netting sets", "Counterparties"):
        assert f"**{entity}**" in text  # the trained entities, with what each one is
    assert ("Answers are as of Fri 20 Nov 2026: \u2018today\u2019 and \u2018last week\u2019 "
            "count from it.") in text
    assert "add it as a synonym on the Training page" in text
    examples = _examples(app)
    assert 4 <= len(examples) <= 6 and len(set(examples)) == len(examples)
    # Built from the glossary and each read by the engine: planned, never run.
    version = build_services(load_settings(env_file=page_env / "no.env")).trainer.active()
    engine = Engine(version.content)
    assert [engine.plan(q, AS_OF).status for q in examples] == ["planned"] * len(examples)
    assert not [r for r in _audit(page_env) if r.channel == "ask"]


def test_an_example_is_asked_with_one_click(page_env: Path) -> None:
    app = _page()
    example = app.button(key="example_0")
    example.click().run()
    assert not app.exception, app.exception
    [answer] = _history(app)
    assert answer.question == example.label and answer.status == "answered"
    assert _audit(page_env)[-1].question == example.label
    assert not _examples(app) and "Try asking" not in _texts(app)  # the chat has begun


def test_the_examples_come_from_the_active_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ships(tmp_path, monkeypatch)
    app = _page()
    examples = " ".join(_examples(app))
    assert examples and "trade" not in examples and "settlement" not in examples
    assert any(word in examples for word in ("vessel", "port", "inspection", "compan"))
    assert "**Vessels**" in _texts(app)


def test_example_questions_keep_those_the_engine_reads(page_env: Path) -> None:
    glossary = build_services(load_settings(env_file=page_env / "no.env")).trainer.active(
        ).content.glossary
    six = example_questions(glossary, lambda q: True)
    assert len(six) == 6 and len(set(six)) == 6
    no_desk = example_questions(glossary, lambda q: "desk" not in q, count=10)
    assert no_desk and not [q for q in no_desk if "desk" in q]
    assert example_questions(glossary, lambda q: False) == ()


def test_only_the_newest_answer_is_drawn_whole(page_env: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    real = answer_view.result
    monkeypatch.setattr(answer_view, "result",
                        lambda answer, frame, key: (drawn.append(key), real(answer, frame, key)))
    app = _page()
    for question in ("unconfirmed trades by platform", "then by book", "only GBP ones"):
        _ask(app, question)
    assert len(app.get("plotly_chart")) == 1 and len(app.dataframe) == 1
    assert [e.label for e in app.expander] == ["Result, SQL and downloads"] * 2
    drawn.clear()
    app.run()  # any rerun (a click, a download) draws one result, however long the chat
    assert drawn == ["2"]
    app.session_state["past_0"] = True  # an older answer opened: drawn then, and only then
    app.run()
    assert not app.exception, app.exception
    assert sorted(drawn[1:]) == ["0", "2"] and len(app.get("plotly_chart")) == 2


def test_the_first_page_loads_chart_and_grid_code_out_of_sight(page_env: Path) -> None:
    app = _page()  # its first run: the page alone, so its question box shows at once
    assert not app.get("plotly_chart") and not app.dataframe
    app.run()  # as the page's ticking fragment does a second later: the warm-up drawn
    assert not app.exception, app.exception
    assert len(app.get("plotly_chart")) == 1 and len(app.dataframe) == 1
    _ask(app, "show live trades")  # a list: a table, no chart
    assert not app.get("plotly_chart") and len(app.dataframe) == 1


def _downloads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bytes]]:
    """(file name, data) of every download button drawn from now on."""
    offered: list[tuple[str, bytes]] = []
    real = st.download_button

    def spy(label: str, data: bytes, *args: object, **kwargs: object) -> bool:
        offered.append((str(kwargs.get("file_name")), data))
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", spy)
    return offered


def test_an_answer_reads_in_the_glossary_s_names_in_table_chart_and_downloads(
        page_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offered = _downloads(monkeypatch)
    app = _ask(_page(), "fails by counterparty this month")
    assert [t.label for t in app.tabs] == ["Chart", "Table"]  # the result, then in tabs
    assert list(app.dataframe[0].value.columns) == ["Counterparty", "Count"]
    layout = json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]
    assert (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]) == (
        "Counterparty", "Count")
    (csv_name, csv), (xlsx_name, _) = offered[-2:]
    assert (csv_name, xlsx_name) == ("fails-by-counterparty-this-month-2026-11-20.csv",
                                     "fails-by-counterparty-this-month-2026-11-20.xlsx")
    assert csv.decode("utf-8-sig").splitlines()[0] == "Counterparty,Count"


def test_a_follow_up_downloads_under_the_question_it_stood_for(
        page_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offered = _downloads(monkeypatch)
    app = _ask(_ask(_page(), "unconfirmed trades by platform"), "then by book")
    assert _history(app)[1].stands_for == "unconfirmed trades by book"
    assert offered[-2][0] == "unconfirmed-trades-by-book-2026-11-20.csv"


def _action_row(app: AppTest) -> list[str]:
    """The labels in the row that holds the CSV download, in order."""
    def blocks(node: object) -> list:
        children = list(getattr(node, "children", {}).values())
        return [node, *[b for c in children for b in blocks(c)]]

    for block in blocks(app._tree):
        kids = list(getattr(block, "children", {}).values())
        if any(getattr(k, "type", "") == "download_button" for k in kids):
            return [k.proto.popover.label if k.type == "popover" else k.label for k in kids]
    return []


def test_an_answer_has_one_row_of_actions_and_follow_ups_as_chips(page_env: Path) -> None:
    app = _ask(_page(), "fails by counterparty this month")
    assert _action_row(app) == ["SQL", "CSV", "Excel", "Save as widget", "Schedule",
                                "Correct", "Wrong"]
    assert "JOIN counterparties" in app.code[0].value  # the SQL, in its popover
    [chips] = app.pills
    answer = _history(app)[0]
    assert chips.options == list(answer.follow_ups)
    chips.set_value(answer.follow_ups[0]).run()  # a chip asks its question
    assert not app.exception, app.exception
    assert _history(app)[-1].question == answer.follow_ups[0]


def test_a_viewer_is_offered_no_action_their_roles_refuse(
        page_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roles = page_env / "roles.yaml"
    roles.write_text("users: {vera: [viewer], ann: [analyst]}\n")
    monkeypatch.setenv("OPSCOPILOT_ROLES", str(roles))
    monkeypatch.setenv("OPSCOPILOT_USER", "vera")
    viewer = _ask(_page(), "fails by counterparty this month")
    row = _action_row(viewer)
    assert row[:3] == ["SQL", "CSV", "Excel"]
    assert not {"Save as widget", "Schedule"} & set(row)
    assert "Re-run" not in [b.label for b in viewer.button]  # the SQL is shown, not editable
    monkeypatch.setenv("OPSCOPILOT_USER", "ann")
    analyst = _ask(_page(), "fails by counterparty this month")
    assert {"Save as widget", "Schedule"} <= set(_action_row(analyst))
    assert "Re-run" in [b.label for b in analyst.button]


def test_a_number_is_a_headline(page_env: Path) -> None:
    app = _ask(_page(), "how many live trades")
    [metric] = app.metric
    assert metric.label == "Count" and metric.value.replace(",", "").isdigit()
    assert not app.tabs and app.button(key="rows_0").label == "Show the rows"


def test_an_empty_group_reads_none_in_the_table_and_the_chart(page_env: Path) -> None:
    app = _ask(_page(), "how many exceptions by analyst")
    table = app.dataframe[0].value
    assert NONE in list(table[table.columns[0]])
    [trace] = json.loads(app.get("plotly_chart")[0].proto.spec)["data"]
    assert NONE in trace["x"]


def _layout(app: AppTest) -> dict:
    return json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]


def test_a_series_in_time_is_on_a_date_axis_and_counts_on_whole_numbers(page_env: Path) -> None:
    days = _answered("daily fails", ("day", "count"),
                     (("2026-11-02", 3), ("2026-11-03", 1), ("2026-11-05", 2)),
                     ChartSpec("line", x="day", y="count"))
    axes = _layout(_page_showing(days))
    assert (axes["xaxis"]["type"], axes["xaxis"]["tickformat"]) == ("date", "%d %b")
    assert axes["xaxis"]["dtick"] == 86_400_000  # one tick a day, none at 12:00
    assert (axes["yaxis"]["dtick"], axes["yaxis"]["tickformat"]) == (1, ",d")  # no 0.5
    months = _answered("monthly trades", ("month", "count"),
                       (("2026-09", 870), ("2026-10", 808), ("2026-11", 1014)),
                       ChartSpec("line", x="month", y="count"))
    axes = _layout(_page_showing(months))
    assert (axes["xaxis"]["tickformat"], axes["xaxis"]["dtick"]) == ("%b %Y", "M1")
    assert "dtick" not in axes["yaxis"] and axes["yaxis"]["tickformat"] == ",d"


def test_a_pie_only_when_its_parts_make_the_whole(page_env: Path) -> None:
    app = _ask(_page(), "top 5 counterparties by notional as a pie chart")
    chart = app.radio(key="chart_0")
    assert chart.options == ["bar", "line"] and chart.value == "bar"  # the top 5 only
    assert "a pie would mislead" in _texts(app)
    app.button(key="ask_new").click().run()
    _ask(app, "fails by fail reason this month as a pie chart")
    assert app.radio(key="chart_0").value == "pie"
    assert json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["type"] == "pie"


def test_a_refusal_offers_the_question_with_the_word_put_right(page_env: Path) -> None:
    app = _ask(_page(), "settlment fails by ccy")
    offer = app.button(key="suggest_0_0")
    assert offer.label == "settlement fails by ccy"  # not "settlement" alone
    assert "Not understood: \u2018settlment\u2019" in _texts(app)
    assert "add it as a synonym on the Training page" in _texts(app)
    assert app.button(key="teach_0_0").label == "Teach 'settlment'"
    offer.click().run()
    assert not app.exception, app.exception
    fixed = _history(app)[-1]
    assert fixed.question == "settlement fails by ccy" and fixed.status == "answered"


def test_two_unknown_words_are_offered_put_right_together_first(page_env: Path) -> None:
    app = _ask(_page(), "settlment fials by ccy")
    offers = [b.label for b in app.button if b.key and b.key.startswith("suggest_0_")]
    assert offers[0] == "settlement fails by ccy"  # both words put right
    assert "settlment fails by ccy" in offers  # and each alone
    assert all(o.endswith(" by ccy") for o in offers)


def test_save_as_widget_says_where_it_went_with_a_link(page_env: Path) -> None:
    app = _ask(_page(), "fails by counterparty this month")
    app.session_state["save_0"] = True  # "Save as widget" opened
    app.run()
    assert app.selectbox(key="save_0_board").value == MORNING_CHECK  # an existing one
    app.button(key="save_0_go").click().run()
    assert not app.exception, app.exception
    assert f"to '{MORNING_CHECK}'; it re-asks the question" in app.success[0].value
    assert [link.value for link in app.page_link] == [f"Open {MORNING_CHECK}"]
    assert app.session_state["save_0"] is False  # closed, so the message is not under it
    assert app.session_state["dashboard_next"] == MORNING_CHECK  # the link opens on it
    boards = dashboards_of(build_services(load_settings(env_file=page_env / "no.env")))
    widgets = boards.store.widgets(boards.store.dashboard(MORNING_CHECK).id)
    assert widgets[-1].question == "fails by counterparty this month"


def test_a_new_dashboard_needs_its_name(page_env: Path) -> None:
    app = _ask(_page(), "fails by counterparty this month")
    app.session_state["save_0"] = True
    app.run()
    app.selectbox(key="save_0_board").set_value("New dashboard…").run()
    app.button(key="save_0_go").click().run()
    assert "Type the name of the new dashboard." in app.error[0].value
    assert not app.page_link


def test_schedule_opens_the_reports_page_with_the_answer(page_env: Path) -> None:
    app = AppTest.from_file(APP, default_timeout=90)
    try:
        app.run()
        _ask(_ask(app, "unconfirmed trades by platform"), "then by book")
        app.button(key="schedule_1").click().run()
        assert not app.exception, app.exception
        assert app.title[0].value == "Reports"
        # The new report's source: this answer, as the whole question it stood for.
        assert app.session_state["new_report_source"] == "answer"
        assert app.session_state["new_report_answer"] == "unconfirmed trades by book"
    finally:
        for scheduler in list(_RUNNING.values()):  # the whole app started one
            scheduler.shutdown()
