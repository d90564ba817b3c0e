"""Entitlements as the product applies them (OPSCOPILOT_ENTITLEMENTS): every path that reads
the warehouse for a person reads only that person's rows, whoever wrote the SQL, and the
audit record names the filters; dashboards and reports read their owner's rows.

The policy is the shipped example (docs/entitlements.example.yaml): alice and bob are on
the rates desk (RATES trades), dave is an auditor (everything), anyone else reads nothing.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from copilot.settings import load_settings
from copilot.wiring import Services, build_services, dashboards_of, report_runner
from dashboards.model import Refresh
from reports.model import Recipients, ReportTemplate, Schedule

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "docs" / "entitlements.example.yaml"
AS_OF = date(2026, 11, 20)
LIVE = "SELECT COUNT(*) FROM trades WHERE status = 'LIVE'"


@pytest.fixture
def services(trained_data: Path) -> Services:
    return build_services(load_settings(
        {"OPSCOPILOT_DATA_DIR": str(trained_data), "OPSCOPILOT_AS_OF": AS_OF.isoformat(),
         "OPSCOPILOT_ENTITLEMENTS": str(POLICY), "OPSCOPILOT_USER": "alice"},
        env_file=trained_data / "no.env"))


def _count(db: Path, where: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM trades WHERE {where}").fetchone()[0]


def _last_details(services: Services) -> dict[str, object]:
    record = list(services.audit.records())[-1][1]
    return json.loads(record.details or "{}")


def test_a_question_reads_only_the_asker_s_rows_and_the_audit_names_the_filter(
        services: Services, trained_data: Path) -> None:
    db = trained_data / "otc_demo.db"
    rates = _count(db, "status = 'LIVE' AND asset_class = 'RATES'")
    everything = _count(db, "status = 'LIVE'")
    assert 0 < rates < everything  # the check can fail both ways
    alice = services.answering.ask("how many live trades", user="alice")
    assert alice.status == "answered" and alice.rows[0][-1] == rates
    assert alice.entitlements == ("trades: asset_class = 'RATES'",)
    assert _last_details(services)["entitlements"] == ["trades: asset_class = 'RATES'"]
    dave = services.answering.ask("how many live trades", user="dave")  # an auditor
    assert dave.rows[0][-1] == everything and dave.entitlements == ()
    stranger = services.answering.ask("how many live trades", user="mallory")
    assert stranger.rows[0][-1] == 0


@pytest.mark.parametrize("sql", [
    LIVE,
    f"{LIVE} UNION ALL SELECT COUNT(*) FROM trades WHERE status = 'LIVE'",
    "WITH t AS (SELECT * FROM trades) SELECT COUNT(*) FROM t WHERE status = 'LIVE'",
    "SELECT COUNT(*) FROM (SELECT a.* FROM trades a JOIN trades b ON a.trade_id = b.trade_id)"
    " x WHERE x.status = 'LIVE'",
])
def test_sql_a_person_writes_cannot_escape(services: Services, trained_data: Path,
                                          sql: str) -> None:
    rates = _count(trained_data / "otc_demo.db", "status = 'LIVE' AND asset_class = 'RATES'")
    answer = services.answering.run_sql(sql, user="bob")
    assert answer.status == "answered", answer.interpretation
    assert {row[0] for row in answer.rows} == {rates}
    assert "trades: asset_class = 'RATES'" in _last_details(services)["entitlements"]


def test_downloads_and_samples_keep_to_the_same_rows(services: Services,
                                                     trained_data: Path) -> None:
    answer = services.answering.ask("show live trades", user="alice")
    whole = services.answering.full_result(answer, user="alice")
    rates = _count(trained_data / "otc_demo.db", "status = 'LIVE' AND asset_class = 'RATES'")
    assert whole.row_count == rates
    sample = services.answering.sample("trades", 50, user="alice")
    kind = sample.columns.index("asset_class")
    assert sample.rows and {row[kind] for row in sample.rows} == {"RATES"}


def test_a_dashboard_shows_its_owner_s_rows_to_every_viewer(services: Services,
                                                            trained_data: Path) -> None:
    boards = dashboards_of(services)
    answer = services.answering.ask("how many live trades", user="alice")
    widget = boards.save_answer(answer, dashboard="Rates desk", title="Live",
                                chart="number", refresh=Refresh("minutes", 5), by="alice")
    result, _ = boards.runner.result(widget, as_of=AS_OF, user="dave")  # viewed by dave
    rates = _count(trained_data / "otc_demo.db", "status = 'LIVE' AND asset_class = 'RATES'")
    assert result.rows[0][-1] == rates
    details = _last_details(services)
    assert details["rows_of"] == "alice" and details["entitlements"]


def test_a_report_reads_its_owner_s_rows_and_says_whose(services: Services,
                                                        trained_data: Path) -> None:
    runner = report_runner(services)
    template = runner.store.save(ReportTemplate(
        name="Rates live", sql=LIVE, question="how many live trades", relative=True,
        interpretation="Live trades.", schedule=Schedule("daily", at="07:00"),
        recipients=Recipients(folders=(str(trained_data / "drop"),)), formats=("csv",),
        created_by="bob"))
    run = runner.run(template, as_of=AS_OF, by="scheduler")
    assert run.state == "success", run.error
    rates = _count(trained_data / "otc_demo.db", "status = 'LIVE' AND asset_class = 'RATES'")
    assert run.row_count == 1 and run.value == rates
    written = next((trained_data / "drop").rglob("*.csv")).read_text()
    assert str(rates) in written


def test_the_llm_s_sql_reads_only_the_asker_s_rows(trained_data: Path) -> None:
    from tests.llmserver import ScriptedLLM

    with ScriptedLLM() as llm:
        llm.script = ["Counts live trades.\n\n```sql\nSELECT COUNT(*) AS live FROM trades "
                      "WHERE status = 'LIVE'\n```"]
        services = build_services(load_settings(
            {"OPSCOPILOT_DATA_DIR": str(trained_data), "OPSCOPILOT_AS_OF": AS_OF.isoformat(),
             "OPSCOPILOT_ENTITLEMENTS": str(POLICY), "OPSCOPILOT_LLM_BASE_URL": llm.base_url,
             "OPSCOPILOT_LLM_MODEL": "scripted", "OPSCOPILOT_LLM_API_KEY": "sk-test"},
            env_file=trained_data / "no.env"))
        answer = services.answering.ask("settlements that failed twice in a row this week",
                                        user="alice")
    assert answer.source == "llm", answer.interpretation
    rates = _count(trained_data / "otc_demo.db", "status = 'LIVE' AND asset_class = 'RATES'")
    assert answer.rows == ((rates,),) and answer.entitlements
    assert _last_details(services)["entitlements"] == ["trades: asset_class = 'RATES'"]


def test_a_refusal_suggests_no_stored_value_to_a_restricted_person(services: Services) -> None:
    """A misspelt word close to a value only the warehouse spells is suggested to dave
    (unrestricted), never to alice: the value may be in rows she may not read."""
    lexicon = services.answering.engine(services.trainer.active()).lexicon
    value = next(w for w in sorted(lexicon.value_words()) if len(w) >= 6 and w.isalpha())
    question = f"how many trades with {value[:-1]}q{value[-1]} zzqx"
    seen = services.answering.ask(question, user="dave")
    assert value in seen.suggestions, (value, seen.suggestions, seen.message)
    kept = services.answering.ask(question, user="alice")
    assert kept.status == seen.status and value not in kept.suggestions
