"""Time follow-up questions: `python benchmarks/bench_followups.py [--rounds N] [--trades N]`.

Builds the demo warehouse, trains a profile of it in memory (schema, values, OTC glossary),
then replays every conversation of eval/otc_conversations*.yaml several times. For each
follow-up it times question -> SQL on the pure engine (reading the follow-up as an edit of
the previous turn, composing the whole question and reading it; only the previous turn's
reading is kept, as in the app) and, for comparison, the
whole question it stands for asked fresh; then question -> answer through the guard and the
warehouse. The issue's bar: a follow-up costs no more than a fresh question (p50 < 20 ms).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml
from latency import latency_line  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="replays of each conversation")
    parser.add_argument("--trades", type=int, default=20_000, help="demo warehouse size")
    args = parser.parse_args(argv)
    from trained_demo import AS_OF, trained_demo

    from copilot.engine.followup import compose
    from copilot.engine.followup_words import split_chart
    from copilot.values import Conversation

    as_of = AS_OF
    questions = [q for f in sorted((REPO / "eval").glob("otc_conversations*.yaml"))
                 for q in yaml.safe_load(f.read_text(encoding="utf-8"))["questions"]]
    follow_sql: list[float] = []
    fresh_sql: list[float] = []
    follow_answer: list[float] = []
    edits = 0
    from copilot.core.executor import Executor

    with trained_demo(args.trades) as (engine, guard, warehouse):
        run = Executor(guard, warehouse)
        for _ in range(args.rounds):
            conversations: dict[str, Conversation] = {}
            edits = 0
            for item in questions:
                parent = item.get("follow_up_of")
                conversation = conversations[parent] if parent else Conversation.new()
                previous = conversation.previous
                if previous is not None:
                    # As in the app: only the previous turn's question was just read.
                    engine.reader.forget()
                    engine.reader.read(split_chart(previous.stands_for)[1], as_of)
                    started = time.perf_counter()
                    composed = compose(engine.reader, item["question"], previous, as_of)
                    if composed.kind in ("edit", "fresh"):
                        engine.reader.read(composed.stands_for, as_of)
                    follow_sql.append((time.perf_counter() - started) * 1000)
                    if composed.kind == "edit":
                        edits += 1
                        engine.reader.forget()
                        started = time.perf_counter()
                        engine.plan(composed.stands_for, as_of)
                        fresh_sql.append((time.perf_counter() - started) * 1000)
                engine.reader.forget()
                if previous is not None:  # as in the app: the previous question was read
                    engine.reader.read(split_chart(previous.stands_for)[1], as_of)
                answer = engine.answer(item["question"], as_of, run=run, previous=previous)
                if previous is not None:
                    follow_answer.append(answer.total_ms)
                conversations[item["id"]] = conversation.after(answer)
    print(f"follow-ups on a {args.trades:,}-trade demo warehouse: "
          f"{len(follow_answer) // args.rounds} follow-ups x {args.rounds} rounds ({edits} read "
          "as edits each round)")
    print(latency_line("follow-up -> SQL", follow_sql, 30) + "  (target p50 < 20 ms)")
    print(latency_line("same question, fresh -> SQL", fresh_sql, 30))
    print(latency_line("follow-up -> answer", follow_answer, 30) + "  (target p50 < 200 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
