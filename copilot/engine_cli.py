"""`python -m copilot ask` and `python -m copilot eval`: the engine from the command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import date
from pathlib import Path

import yaml

from copilot.conversations import read_conversation, write_conversation
from copilot.core.errors import CopilotError
from copilot.core.executor import Executor
from copilot.core.settings import Settings
from copilot.engine.scoring import same_result
from copilot.eval_report import EvalTally
from copilot.values import Answer, Conversation
from copilot.wiring import build_services, throwaway_services

__all__ = ["run_ask", "run_eval"]

GOLD_ROWS = 1_000_000  # gold results are compared whole, far above any page's cap


def _answer_json(answer: Answer) -> dict[str, object]:
    return {
        "question": answer.question, "status": answer.status, "sql": answer.sql,
        "interpretation": answer.interpretation, "confidence": answer.confidence,
        "columns": list(answer.columns), "rows": [list(r) for r in answer.rows],
        "truncated": answer.truncated, "unused_words": list(answer.unused_words),
        "suggestions": list(answer.suggestions), "follow_ups": list(answer.follow_ups),
        "chart": dataclasses.asdict(answer.chart), "latency_ms": round(answer.total_ms, 2),
        "source": answer.source, "notes": list(answer.notes),
        "stands_for": answer.stands_for, "changes": list(answer.changes),
        "conversation_id": answer.conversation_id, "turn": answer.turn,
        "record_id": answer.record_id,
    }


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question from the active training profile (the gate applies); with
    `--conversation FILE`, as the next turn of the conversation kept in FILE."""
    # Read first: a conversation file that cannot be used stops the run before anything is
    # asked or audited, and is left as it was.
    conversation = read_conversation(args.conversation) if args.conversation else None
    services = build_services(settings.for_warehouse(args.db))
    services.trainer.require_trained()  # the gate: a clear error before anything runs
    answer = services.answering.ask(args.question, as_of=args.as_of, channel="cli",
                                    conversation=conversation)
    if conversation is not None:
        write_conversation(args.conversation, conversation.after(answer))
    if args.json:
        print(json.dumps(_answer_json(answer), default=str))
    else:
        for note in answer.notes:
            print(f"note: {note}")
        if answer.stands_for:
            print(f"Stands for: {answer.stands_for}")
        if answer.changes:
            print(f"Changed: {'; '.join(answer.changes)}")
        print(answer.interpretation)
        if answer.sql:
            print(f"\n{answer.sql}\n")
        if answer.columns:
            print("\t".join(answer.columns))
            for row in answer.rows[:50]:
                print("\t".join("" if v is None else str(v) for v in row))
            more = len(answer.rows) - 50
            if more > 0 or answer.truncated:
                print(f"... {max(more, 0)} more rows" + (" (cut at the row cap)"
                                                         if answer.truncated else ""))
        for suggestion in answer.suggestions:
            print(f"did you mean: {suggestion}")
    return {"answered": 0, "refused": 1}.get(answer.status, 2)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Answer every question of a file with no LLM; score by execution where gold SQL is."""
    try:
        document = yaml.safe_load(Path(args.questions).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CopilotError(f"Cannot read {args.questions}: {exc}") from None
    questions = document.get("questions", []) if isinstance(document, dict) else document
    _check_follow_ups(questions)  # before anything is asked: a wrong id is the file's error
    as_of = args.as_of or (date.fromisoformat(str(document["as_of"]))
                           if isinstance(document, dict) and document.get("as_of")
                           else settings.warehouse.effective_as_of())
    scored = right = asked_llm = by_llm = 0
    tally = EvalTally()
    # Each question's conversation after it was asked, by id: a follow_up_of question is
    # asked in its question's, so chains (c follows b follows a) carry every turn.
    conversations: dict[str, Conversation] = {}
    # The production objects, trained on the glossary in a throwaway folder: eval never
    # writes to the real state database, training store or audit trail.
    glossary = args.glossary or settings.app.glossary_dir
    with throwaway_services(settings.for_warehouse(args.db), glossary) as services, \
            Path(args.out).open("w", encoding="utf-8") as out:
        gold = services.executor.capped(GOLD_ROWS)
        for item in questions:
            of = item.get("follow_up_of")
            conversation = conversations[str(of)] if of is not None else Conversation.new()
            answer = services.answering.ask(item["question"], as_of=as_of, channel="cli",
                                            conversation=conversation)
            if item.get("id") is not None:
                conversations[str(item["id"])] = conversation.after(answer)
            asked_llm += answer.llm is not None
            by_llm += answer.source == "llm"
            constructs = _constructs(item, answer)
            record = {"id": item.get("id"), "question": item["question"],
                      "status": answer.status, "source": answer.source, "sql": answer.sql,
                      "interpretation": answer.interpretation,
                      "confidence": answer.confidence, "constructs": list(constructs),
                      "latency_ms": round(answer.total_ms, 2), "follow_up_of": of,
                      "turn": len(conversation.turns) + 1, "stands_for": answer.stands_for,
                      "changes": list(answer.changes)}
            try:
                correct = _score(item, answer, gold)
            except CopilotError as exc:  # a gold SQL the guard refuses: an error, go on
                record["status"], record["error"] = "error", str(exc)
                correct = None
            tally.add(record["status"], answer.confidence, correct, constructs,
                      follow_up=of is not None)
            if correct is not None:
                scored += 1
                right += correct
                record["correct"] = correct
            out.write(json.dumps(record, default=str) + "\n")
        llm_on = services.llm.config().enabled
    if scored:
        print(f"accuracy: {right}/{scored} ({100.0 * right / scored:.1f}%) by execution, "
              f"as of {as_of}")
    for line in tally.lines():
        print(line)
    if llm_on:
        print(f"llm: asked for {asked_llm} of {len(questions)} questions, "
              f"answered {by_llm}")
    return 0


def _check_follow_ups(questions: list[dict]) -> None:
    """CopilotError naming the id when a follow_up_of names no earlier question."""
    ids = {str(item.get("id")) for item in questions if item.get("id") is not None}
    earlier: set[str] = set()
    for number, item in enumerate(questions, start=1):
        of = item.get("follow_up_of")
        if of is not None and str(of) not in earlier:
            where = ("comes after it (or is itself)" if str(of) in ids
                     else "is the id of no question in the file")
            name = item.get("id", f"number {number}")
            raise CopilotError(f"Question {name} is a follow_up_of {of}, which {where}: a "
                               "follow-up must name an earlier question's id.")
        if item.get("id") is not None:
            earlier.add(str(item["id"]))


def _constructs(item: dict, answer: Answer) -> tuple[str, ...]:
    tags = item.get("construct")
    if tags:
        return tuple(str(t) for t in (tags if isinstance(tags, list) else [tags]))
    return answer.plan.constructs if answer.plan is not None else ()


def _score(item: dict, answer: Answer, gold_run: Executor) -> bool | None:
    if item.get("expect") == "refuse":
        return answer.status == "refused"
    if item.get("expect") == "clarify":  # two readings: asking which is the right answer
        return answer.status == "clarify"
    if "sql" not in item:
        return None
    if answer.status != "answered":
        return False
    # Gold SQL is written for SQLite; the guard writes it for this warehouse.
    executed = gold_run.attempt(item["sql"], read="sqlite")
    if executed.refused:
        raise CopilotError(f"The gold SQL of {item.get('id')} is refused: "
                           f"{executed.verdict.reason}")
    if executed.result is None:
        raise CopilotError(f"The gold SQL of {item.get('id')} failed: {executed.error}")
    gold = executed.result
    if item.get("score") == "keys":
        # A drill lists whole rows, and which columns it shows is the engine's choice; the
        # gold names the rows by their keys: the first columns, compared as sets.
        return same_result(_keys(answer.rows), _keys(gold.rows))
    return same_result(answer.rows, gold.rows, ordered=bool(item.get("order_matters")))


def _keys(rows: tuple[tuple[object, ...], ...]) -> list[tuple[object]]:
    return list(dict.fromkeys((row[0],) for row in rows if row))
