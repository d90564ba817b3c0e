"""Conversations outside the page: `python -m copilot ask --conversation FILE` carrying the
state between runs, each turn's audit record linked to the one before, and `eval` asking a
`follow_up_of` question in its question's conversation.

These check the plumbing only: the questions stand alone, so the results do not depend on
which follow-ups the engine reads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from copilot.conversations import turn_details
from copilot.core.audit import AuditLog, AuditRecord
from copilot.settings import load_settings
from copilot.values import Answer, Conversation
from copilot.wiring import build_services

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-20"
FIRST = "fails by counterparty this week"
SECOND = "How many live trades do we have?"


def _env(data: Path) -> dict[str, str]:
    """The environment of a run on `data`, with no OPSCOPILOT_ setting of the caller's (an
    LLM configured there would change what is asked)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCOPILOT_")}
    return env | {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": AS_OF,
                  "OPSCOPILOT_ENV_FILE": str(data / "no.env")}


def _cli(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "copilot", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=_env(data))


def _records(data: Path) -> dict[int, AuditRecord]:
    log = AuditLog.from_settings(load_settings(
        {"OPSCOPILOT_DATA_DIR": str(data)}, env_file=data / "no.env"))
    try:
        return dict(log.records())
    finally:
        log.dispose()


def test_two_turns_on_the_command_line_keep_the_conversation_and_link_the_audit(
        trained_data: Path, tmp_path: Path) -> None:
    state = tmp_path / "talk.json"
    first = _cli("ask", FIRST, "--conversation", str(state), data=trained_data)
    assert first.returncode == 0, first.stderr
    started = Conversation.from_json(state.read_text(encoding="utf-8"))
    assert [t.question for t in started.turns] == [FIRST]
    assert started.turns[0].status == "answered" and started.turns[0].sql

    second = _cli("ask", SECOND, "--conversation", str(state), "--json", data=trained_data)
    assert second.returncode == 0, second.stderr
    shown = json.loads(second.stdout)
    assert shown["conversation_id"] == started.id and shown["turn"] == 2
    assert {"stands_for", "changes", "record_id"} <= set(shown)

    kept = Conversation.from_json(state.read_text(encoding="utf-8"))
    assert kept.id == started.id and [t.question for t in kept.turns] == [FIRST, SECOND]
    assert kept.turns[0] == started.turns[0]  # the first turn as it was written
    assert shown["record_id"] == kept.turns[1].record_id
    assert not list(tmp_path.glob(".talk.json.*"))  # no temporary file left behind

    records = _records(trained_data)
    one, two = records[kept.turns[0].record_id], records[kept.turns[1].record_id]
    assert (one.question, one.channel, two.question) == (FIRST, "cli", SECOND)
    first_details, second_details = json.loads(one.details), json.loads(two.details)
    assert first_details["as_of"] == AS_OF
    assert (first_details["conversation_id"], first_details["turn"],
            first_details["previous_record"]) == (started.id, 1, None)
    assert (second_details["conversation_id"], second_details["turn"],
            second_details["previous_record"]) == (started.id, 2, kept.turns[0].record_id)


def test_the_text_output_of_a_turn_prints_the_answer_as_before(
        trained_data: Path, tmp_path: Path) -> None:
    state = tmp_path / "talk.json"
    done = _cli("ask", SECOND, "--conversation", str(state), data=trained_data)
    assert done.returncode == 0, done.stderr
    assert "Counting trades" in done.stdout and "Stands for:" not in done.stdout
    assert len(Conversation.from_json(state.read_text(encoding="utf-8")).turns) == 1


@pytest.mark.parametrize("content", [
    "{not json", '{"turns": []}', '{"id": "abc", "turns": [{"question": "q"}]}',
    '{"id": "abc", "turns": [{"question": "q", "stands_for": "q", "status": "answered", '
    '"mood": "happy"}]}', b"\xff\xfe not text",
], ids=["not-json", "no-id", "half-a-turn", "unknown-field", "not-utf8"])
def test_an_unusable_conversation_file_stops_the_run_and_is_left_alone(
        trained_data: Path, tmp_path: Path, content: str | bytes) -> None:
    state = tmp_path / "talk.json"
    if isinstance(content, bytes):
        state.write_bytes(content)
    else:
        state.write_text(content, encoding="utf-8")
    before, audited = state.read_bytes(), len(_records(trained_data))
    done = _cli("ask", SECOND, "--conversation", str(state), data=trained_data)
    assert done.returncode == 2, done.stdout
    assert done.stderr.startswith("error: ") and str(state) in done.stderr
    assert "conversation" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert state.read_bytes() == before
    assert len(_records(trained_data)) == audited  # nothing was asked


def test_a_conversation_path_that_cannot_be_a_file_is_an_error(
        trained_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    done = _cli("ask", SECOND, "--conversation", str(folder), data=trained_data)
    assert done.returncode == 2 and "Cannot read the conversation" in done.stderr
    missing = tmp_path / "nowhere" / "talk.json"
    done = _cli("ask", SECOND, "--conversation", str(missing), data=trained_data)
    assert done.returncode == 2 and "does not exist" in done.stderr
    assert not missing.parent.exists()


def test_the_audit_record_of_each_turn_names_its_conversation(trained_data: Path) -> None:
    services = build_services(load_settings(
        {"OPSCOPILOT_DATA_DIR": str(trained_data), "OPSCOPILOT_AS_OF": AS_OF},
        env_file=trained_data / "no.env"))
    conversation = Conversation.new()
    first = services.answering.ask(FIRST, conversation=conversation)
    assert (first.conversation_id, first.turn) == (conversation.id, 1)
    assert first.record_id == max(dict(services.audit.records()))
    conversation = conversation.after(first)
    refused = services.answering.ask("only the hairy ones", conversation=conversation)
    assert refused.status == "refused" and refused.turn == 2
    conversation = conversation.after(refused)
    third = services.answering.ask(SECOND, conversation=conversation)
    assert third.turn == 3

    records = dict(services.audit.records())
    details = [json.loads(records[a.record_id].details) for a in (first, refused, third)]
    assert [d["conversation_id"] for d in details] == [conversation.id] * 3
    assert [d["turn"] for d in details] == [1, 2, 3]
    # The previous record is the turn before: a follow-up of a refused turn has no answer
    # to edit, and the record says which turn it came after.
    assert [d["previous_record"] for d in details] == [None, first.record_id, refused.record_id]

    alone = services.answering.ask(SECOND)  # outside a conversation: as before, plus its record id
    assert (alone.conversation_id, alone.turn) == ("", 0)
    record = dict(services.audit.records())[alone.record_id]
    assert record.question == SECOND and alone.record_id == max(records) + 1
    assert not {"conversation_id", "turn", "previous_record"} & set(json.loads(record.details))
    services.warehouse.dispose()


def test_a_follow_up_keeps_what_it_stands_for_and_what_changed_in_the_audit() -> None:
    conversation = Conversation.new()
    fresh = Answer(FIRST, "answered", "engine", "Counting settlements.", sql="SELECT 1",
                   record_id=7)
    conversation = conversation.after(fresh)
    follow_up = Answer("only GBP", "answered", "engine", "Counting settlements in GBP.",
                       stands_for=f"{FIRST} in GBP", changes=("GBP only",))
    details = turn_details(conversation, follow_up)
    assert details == {"conversation_id": conversation.id, "turn": 2, "previous_record": 7,
                       "stands_for": f"{FIRST} in GBP", "changes": ["GBP only"]}
    assert "stands_for" not in turn_details(conversation, fresh)
    assert turn_details(None, follow_up) == {}


GOLD_FAILS = """SELECT c.short_name, COUNT(*) AS fails FROM settlements s
      JOIN trades t ON s.trade_id = t.trade_id
      JOIN counterparties c ON t.counterparty_id = c.counterparty_id
      WHERE s.status = 'FAILED' AND s.value_date BETWEEN '2026-11-16' AND '2026-11-20'
      GROUP BY c.short_name"""
# The drill's keys with a column the answer does not have: right only when scored by keys.
GOLD_KEYS = ("SELECT settlement_id, 'gold only' AS note FROM settlements WHERE status = "
             "'FAILED' AND value_date BETWEEN '2026-11-16' AND '2026-11-20'")


def _eval(tmp_path: Path, questions: list[dict]) -> tuple[subprocess.CompletedProcess[str],
                                                         Path]:
    source, out = tmp_path / "questions.yaml", tmp_path / "pred.jsonl"
    source.write_text(json.dumps({"as_of": AS_OF, "questions": questions}), encoding="utf-8")
    return _cli("eval", str(source), "--db", f"sqlite:///{tmp_path / 'demo.db'}",
                "--out", str(out), data=tmp_path / "data"), out


@pytest.fixture
def eval_dir(tmp_path: Path, small_demo_db: Path) -> Path:
    import shutil

    shutil.copy(small_demo_db, tmp_path / "demo.db")
    return tmp_path


def test_eval_asks_follow_ups_in_their_conversation_and_tallies_them(eval_dir: Path) -> None:
    questions = [
        {"id": "a", "question": FIRST, "sql": GOLD_FAILS},
        {"id": "b", "follow_up_of": "a", "question": SECOND,
         "sql": "SELECT COUNT(*) FROM trades WHERE status = 'LIVE'"},
        {"id": "c", "follow_up_of": "b", "question": "list failed settlements this week",
         "score": "keys", "sql": GOLD_KEYS},
        {"id": "d", "follow_up_of": "c", "question": "only the hairy ones", "expect": "refuse"},
        {"id": "e", "question": "how many in EUR today", "expect": "clarify"},
        {"id": "f", "follow_up_of": "a", "question": "Number of confirmation breaks",
         "sql": "SELECT COUNT(*) FROM confirmations WHERE status IN ('UNMATCHED', 'DISPUTED')"},
        {"id": "g", "question": "list failed settlements this week", "sql": GOLD_KEYS},
    ]
    done, out = _eval(eval_dir, questions)
    assert done.returncode == 0, done.stderr
    predictions = {p["id"]: p for p in map(json.loads, out.read_text().splitlines())}
    assert [predictions[k]["turn"] for k in "abcdefg"] == [1, 2, 3, 4, 1, 2, 1]
    assert [predictions[k]["follow_up_of"] for k in "abcdefg"] == [
        None, "a", "b", "c", None, "a", None]
    assert all("stands_for" in p for p in predictions.values())
    assert predictions["e"]["status"] == "clarify" and predictions["e"]["correct"] is True
    assert predictions["c"]["correct"] is True  # the keys, whatever columns the drill shows
    assert predictions["g"]["correct"] is False  # the same gold, scored as whole rows
    assert "accuracy: 6/7 (85.7%)" in done.stdout
    lines = done.stdout.splitlines()
    assert lines[-1] == "follow-ups: 4 right of 4 scored, 0 wrong, 1 refused, 0 clarified"


def test_eval_without_follow_ups_prints_no_follow_up_line(eval_dir: Path) -> None:
    done, _ = _eval(eval_dir, [{"id": "a", "question": SECOND}])
    assert done.returncode == 0, done.stderr
    assert "follow-ups:" not in done.stdout


@pytest.mark.parametrize(("questions", "named"), [
    ([{"id": "a", "question": SECOND}, {"id": "b", "follow_up_of": "zz", "question": FIRST}],
     "follow_up_of zz, which is the id of no question"),
    ([{"id": "a", "follow_up_of": "b", "question": SECOND}, {"id": "b", "question": FIRST}],
     "follow_up_of b, which comes after it"),
], ids=["unknown", "later"])
def test_eval_refuses_a_follow_up_of_no_earlier_question(
        eval_dir: Path, questions: list[dict], named: str) -> None:
    done, out = _eval(eval_dir, questions)
    assert done.returncode == 2 and done.stderr.startswith("error: ")
    assert named in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()  # checked before anything was asked
