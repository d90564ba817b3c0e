"""Time the engine: `python benchmarks/bench_engine.py [--rounds N] [--trades N]`.

Builds the demo warehouse, trains a profile of it in memory (schema, values, OTC glossary),
then answers every question of the development set and of tests/fixtures/engine_questions.yaml
several times and prints question-to-SQL (parse, plan, compile, guard) and question-to-answer
(plus running the query) latency, and the accuracy the eval scoring gives.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from functools import partial
from pathlib import Path

import yaml
from latency import latency_line  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
FILES = (REPO.parent / "shared" / "eval" / "otc_dev_questions.yaml",
         REPO / "tests" / "fixtures" / "engine_questions.yaml")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="answers of each question")
    parser.add_argument("--trades", type=int, default=20_000, help="demo warehouse size")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))  # run as a script from a checkout, no install needed
    from copilot.demo import build_demo_warehouse
    from copilot.engine.answer import Engine
    from copilot.guard import Guard, GuardSchema
    from copilot.services import run_guarded
    from copilot.warehouse import Warehouse
    from training.glossary import DEMO_GLOSSARY, load_glossary
    from training.trainer import build_content

    as_of = dt.date(2026, 11, 20)
    questions = [q for f in FILES if f.exists()
                 for q in yaml.safe_load(f.read_text(encoding="utf-8"))["questions"]]
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as folder:
        path = Path(folder) / "otc.db"
        build_demo_warehouse(path, as_of=as_of, trades=args.trades)
        warehouse = Warehouse(f"sqlite:///{path}", timeout_s=30)
        guard = Guard(GuardSchema.from_warehouse(warehouse.schema()), dialect="sqlite",
                      row_cap=5000)
        engine = Engine(build_content(warehouse, load_glossary(DEMO_GLOSSARY),
                                      partial(run_guarded, guard, warehouse)))
        to_sql: list[float] = []
        to_answer: list[float] = []
        refused = 0
        for _ in range(args.rounds):
            for item in questions:
                answer = engine.answer(item["question"], as_of, check=guard.check,
                                       warehouse=warehouse)
                if answer.status == "answered":
                    to_sql.append(answer.to_sql_ms)
                    to_answer.append(answer.total_ms)
                else:
                    refused += 1
        warehouse.dispose()
    print(f"engine on a {args.trades:,}-trade demo warehouse: {len(questions)} questions "
          f"x {args.rounds} rounds ({refused // args.rounds} refused each round)")
    print(latency_line("question -> SQL", to_sql) + "  (target p50 < 50 ms)")
    print(latency_line("question -> answer", to_answer) + "  (target p50 < 200 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
