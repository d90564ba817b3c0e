"""The engine first, the LLM when it leaves room: a trained demo copy answering through the
real guard and warehouse, the LLM a scripted OpenAI-compatible server on a loopback port."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.settings import load_settings
from copilot.wiring import Services, build_services
from tests.llmserver import ScriptedLLM, Seen, Step

AS_OF = "2026-11-20"
UNKNOWN = "settlements that failed twice in a row this week"  # the engine refuses it
GOOD_SQL = ("SELECT c.short_name AS counterparty, COUNT(*) AS fails FROM settlements s "
            "JOIN trades t ON s.trade_id = t.trade_id JOIN counterparties c "
            "ON t.counterparty_id = c.counterparty_id WHERE s.status = 'FAILED' "
            "AND s.value_date BETWEEN '2026-11-16' AND '2026-11-20' GROUP BY c.short_name")
PROSE_REPLY = (f"Sure! Here is the query you need.\n\n```sql\n{GOOD_SQL}\n```\n\n"
               "Explanation: Counts failed settlements this week by counterparty.\n"
               "Follow-ups:\n- fails by currency this week\n- fails today\n")
KEY = "sk-test-secret-123"


def _services(data: Path, llm: ScriptedLLM | None = None, **extra: str) -> Services:
    env = {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": AS_OF}
    if llm is not None:
        env |= {"OPSCOPILOT_LLM_BASE_URL": llm.base_url, "OPSCOPILOT_LLM_MODEL": "scripted",
                "OPSCOPILOT_LLM_API_KEY": KEY, "OPSCOPILOT_LLM_TIMEOUT_S": "5"}
    env |= {f"OPSCOPILOT_LLM_{k.upper()}": v for k, v in extra.items()}
    return build_services(load_settings(env, env_file=data / "no.env"))


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        yield server


def _last_details(services: Services) -> dict:
    record = list(services.audit.records())[-1][1]
    return json.loads(record.details)


def test_the_engine_keeps_first_say_and_the_llm_is_not_asked(
        trained_data: Path, llm: ScriptedLLM) -> None:
    services = _services(trained_data, llm)
    answer = services.answering.ask("fails by counterparty this week")
    assert answer.source == "engine" and answer.status == "answered"
    assert llm.requests == []


def test_an_order_to_change_data_is_refused_without_asking_the_llm(
        trained_data: Path, llm: ScriptedLLM) -> None:
    answer = _services(trained_data, llm).answering.ask("Delete all cancelled trades")
    assert answer.status == "refused" and answer.final and llm.requests == []


def test_the_request_carries_the_retrieved_context_and_no_rows(
        trained_data: Path, llm: ScriptedLLM) -> None:
    llm.script = [PROSE_REPLY]
    services = _services(trained_data, llm)
    services.answering.ask(UNKNOWN)
    prompt = llm.requests[0].prompt
    assert f"Question: {UNKNOWN}" in prompt
    assert "SQLite" in prompt and "As-of date (today): Friday 2026-11-20" in prompt
    assert "'this week' means 2026-11-16 to 2026-11-20 inclusive" in prompt
    tables = prompt.split("Tables you may use:")[1].split("\n\n")[0]
    assert "settlements(settlement_id" in tables and "'FAILED'" in tables
    described = {line.split("(")[0] for line in tables.strip().splitlines()}
    assert len(described) <= 10  # only what retrieval found, not the whole warehouse
    assert "Glossary:" in prompt and "fail" in prompt.split("Glossary:")[1]
    assert "Sample rows" not in prompt
    warehouse = sqlite3.connect(trained_data / "otc_demo.db")
    rows = warehouse.execute("SELECT trade_id, notional FROM trades LIMIT 20").fetchall()
    assert not any(trade_id in prompt for trade_id, _ in rows)
    assert KEY not in prompt


def test_sample_rows_are_sent_only_when_the_setting_allows(
        trained_data: Path, llm: ScriptedLLM) -> None:
    llm.script = [PROSE_REPLY]
    _services(trained_data, llm, send_rows="true").answering.ask(UNKNOWN)
    prompt = llm.requests[0].prompt
    assert "Sample rows:" in prompt
    first = sqlite3.connect(trained_data / "otc_demo.db").execute(
        "SELECT trade_id FROM settlements LIMIT 1").fetchone()[0]
    assert first in prompt


def test_a_reply_with_prose_and_a_fenced_block_is_answered_and_marked_llm(
        trained_data: Path, llm: ScriptedLLM) -> None:
    llm.script = [PROSE_REPLY]
    services = _services(trained_data, llm)
    answer = services.answering.ask(UNKNOWN)
    assert answer.status == "answered" and answer.source == "llm"
    assert answer.confidence < 0.8 and answer.columns == ("counterparty", "fails")
    assert answer.interpretation == "Counts failed settlements this week by counterparty."
    assert answer.follow_ups == ("fails by currency this week", "fails today")
    assert "not verified" in answer.notes[0]
    record = list(services.audit.records())[-1][1]
    assert record.engine == "llm" and record.outcome == "answered"
    assert record.sql_generated == GOOD_SQL
    trace = json.loads(record.details)["llm"]
    assert trace["prompt_sha256"] == answer.llm.prompt_sha256 and trace["prompt_chars"] > 500
    assert trace["requests"] == 1 and trace["attempts"][0]["problem"] == ""
    whole = services.answering.full_result(answer)  # the download re-reads the LLM's SQL as written
    assert whole.rows == answer.rows
    assert list(services.audit.records())[-1][1].engine == "llm"
    assert services.trainer.active().content.pairs == ()  # not verified until "correct"
    services.answering.feedback(answer, correct=True)
    assert services.trainer.active().content.pairs[0].question == UNKNOWN


def test_a_destructive_reply_is_refused_whole_and_not_corrected(
        trained_data: Path, llm: ScriptedLLM) -> None:
    llm.script = ["```sql\nDELETE FROM trades\n```", PROSE_REPLY]
    services = _services(trained_data, llm)
    before = sqlite3.connect(trained_data / "otc_demo.db").execute(
        "SELECT COUNT(*) FROM trades").fetchone()
    answer = services.answering.ask(UNKNOWN)
    assert answer.status == "refused" and answer.source == "engine"
    assert "LLM could not help" in answer.notes[0]
    assert "refused as a whole" in answer.notes[0] and "(DELETE)" in answer.notes[0]
    assert len(llm.requests) == 1  # a write is not sent back to be made harmless
    trace = _last_details(services)["llm"]
    assert [a["sql"] for a in trace["attempts"]] == ["DELETE FROM trades"]
    assert trace["failure"] == "unsafe_reply" and trace["requests"] == 1
    after = sqlite3.connect(trained_data / "otc_demo.db").execute(
        "SELECT COUNT(*) FROM trades").fetchone()
    assert before == after


def test_a_correction_succeeds_on_the_second_try(trained_data: Path, llm: ScriptedLLM) -> None:
    llm.script = ["```sql\nSELECT fail_age_days FROM settlements\n```", PROSE_REPLY]
    answer = _services(trained_data, llm).answering.ask(UNKNOWN)
    assert answer.status == "answered" and answer.source == "llm"
    second = llm.requests[1].messages
    assert second[-2] == {"role": "assistant",
                          "content": "```sql\nSELECT fail_age_days FROM settlements\n```"}
    assert "fail_age_days" in second[-1]["content"]
    assert [a.problem != "" for a in answer.llm.attempts] == [True, False]


@pytest.mark.parametrize("reply", [
    f"```sql\n{GOOD_SQL};\nSELECT 1\n```",  # several statements in one block
    f"```sql\n{GOOD_SQL}\n```\nor\n```sql\nSELECT 1\n```",  # several blocks
    "I think you should look at the settlements table.",  # no SQL at all
])
def test_unusable_replies_are_sent_back_for_correction(
        trained_data: Path, llm: ScriptedLLM, reply: str) -> None:
    llm.script = [reply, PROSE_REPLY]
    answer = _services(trained_data, llm).answering.ask(UNKNOWN)
    assert answer.source == "llm" and len(llm.requests) == 2
    problem = answer.llm.attempts[0].problem
    assert "2 statements" in problem or "no SQL" in problem


def test_an_llm_that_cannot_answer_leaves_the_engine_refusal(
        trained_data: Path, llm: ScriptedLLM) -> None:
    llm.script = ["CANNOT ANSWER: exchange-rate forecasts are not in the warehouse"]
    answer = _services(trained_data, llm).answering.ask("What will the EUR/USD rate be next week?")
    assert answer.status == "refused" and answer.source == "engine"
    assert "forecasts are not in the warehouse" in answer.notes[0]


def test_a_slow_llm_times_out_and_the_engine_answer_stands(
        trained_data: Path, llm: ScriptedLLM) -> None:
    llm.script = [Step(text=PROSE_REPLY, delay_s=4)]
    services = _services(trained_data, llm, timeout_s="1")
    started = time.monotonic()
    answer = services.answering.ask(UNKNOWN)
    assert time.monotonic() - started < 3
    assert answer.status == "refused" and "did not answer within 1 s" in answer.notes[0]
    assert _last_details(services)["llm"]["error"].startswith("The LLM did not answer")


def test_an_unreachable_llm_falls_back_to_the_engine(trained_data: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    services = _services(trained_data, base_url=f"http://127.0.0.1:{port}/v1")
    answer = services.answering.ask(UNKNOWN)
    assert answer.status == "refused" and "cannot be reached" in answer.notes[0]
    confident = services.answering.ask("fails by counterparty this week")
    assert confident.status == "answered" and confident.notes == ()


def test_the_key_is_never_written_to_the_audit_log(trained_data: Path, llm: ScriptedLLM) -> None:
    llm.script = [Step(status=401, raw=json.dumps({"error": {"message": f"bad {KEY}"}}).encode())
                  ] * 2
    services = _services(trained_data, llm)
    answer = services.answering.ask(UNKNOWN)
    assert "refused the key" in answer.notes[0]
    with pytest.raises(Exception, match="refused the key"):
        services.llm.test(services.llm.config(), by="admin")
    services.llm.save(services.llm.config(), by="admin")
    assert KEY.encode() not in (trained_data / "audit.db").read_bytes()
    assert all(KEY not in r.canonical() for _, r in services.audit.records())


def test_no_llm_configured_behaves_as_before(trained_data: Path) -> None:
    services = _services(trained_data)
    answer = services.answering.ask(UNKNOWN)
    assert answer.status == "refused" and answer.notes == () and answer.llm is None
    assert "llm" not in _last_details(services)


def test_eval_with_the_llm_configured_keeps_the_engine_accuracy(
        small_demo_db: Path, tmp_path: Path, llm: ScriptedLLM) -> None:
    """The scripted model answers every question with a wrong query, except that it declines
    forecasts as the prompt's rules tell it to: any question the engine gave up would lose
    accuracy, so 100% shows the engine kept first say."""

    def model(seen: Seen) -> str:
        if " will " in f" {seen.question.lower()} ":
            return "CANNOT ANSWER: a forecast is not in the warehouse"
        return "```sql\nSELECT COUNT(*) AS n FROM trades\n```\nExplanation: wrong on purpose."

    llm.script = model
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "pred.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "copilot", "eval",
         str(root / "eval" / "otc_dev_questions.yaml"),
         "--db", f"sqlite:///{small_demo_db}", "--as-of", AS_OF, "--out", str(out)],
        cwd=root, capture_output=True, text=True, timeout=300,
        env={**os.environ, "OPSCOPILOT_DATA_DIR": str(tmp_path / "data"),
             "OPSCOPILOT_LLM_BASE_URL": llm.base_url, "OPSCOPILOT_LLM_MODEL": "scripted"},
    )
    assert done.returncode == 0, done.stderr
    assert "accuracy: 40/40 (100.0%)" in done.stdout
    assert "llm: asked for 1 of 40 questions, answered 0" in done.stdout
    assert [s.question for s in llm.requests] == ["What will the EUR/USD rate be next week?"]
