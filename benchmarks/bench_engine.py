"""Time the engine: `python benchmarks/bench_engine.py [--rounds N] [--trades N]`.

Builds the demo warehouse, trains a profile of it in memory (schema, values, OTC glossary),
then reads every question of the project's evaluation sets (eval/*.yaml and
tests/fixtures/engine_questions.yaml) several times and prints question-to-SQL latency
(read, plan, compile: the pure engine) and question-to-answer latency (plus the guard and
the query). It does the same for question-to-SQL on a 500-table profile: the demo's tables
plus 492 generated ones with keys, foreign keys and stored values, as a bank's warehouse.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import yaml
from latency import latency_line  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
FILES = (*sorted((REPO / "eval").glob("*.yaml")),
         REPO / "tests" / "fixtures" / "engine_questions.yaml")


def _wide_profile(content: object, tables: int) -> object:
    """The demo profile with generated tables added until it has `tables` of them."""
    from copilot.core.schema import ColumnInfo, ForeignKeyInfo, TableInfo, WarehouseSchema

    rng = random.Random(5)
    words = ["ledger", "position", "limit", "margin", "collateral", "nostro", "swift", "fee",
             "rate", "curve", "price", "risk", "exposure", "account", "client", "desk", "book",
             "region", "product", "event", "payment", "instruction", "party", "report"]
    schema = content.schema  # type: ignore[attr-defined]
    extra, values = [], dict(content.values)  # type: ignore[attr-defined]
    for n in range(tables - len(schema.tables)):
        name = f"{rng.choice(words)}_{rng.choice(words)}_{n:03d}"
        parent = extra[rng.randrange(len(extra))].name if extra and n % 3 else None
        columns = [ColumnInfo(f"{name}_id", "INTEGER", False, True),
                   ColumnInfo("status", "VARCHAR(12)", False),
                   ColumnInfo(f"{rng.choice(words)}_amount", "DECIMAL(20,2)", True),
                   ColumnInfo(f"{rng.choice(words)}_date", "DATE", True),
                   ColumnInfo(f"{rng.choice(words)}_code", "VARCHAR(16)", True),
                   ColumnInfo("created_at", "TIMESTAMP", False)]
        fks = ()
        if parent:
            columns.append(ColumnInfo(f"{parent}_id", "INTEGER", True))
            fks = (ForeignKeyInfo((f"{parent}_id",), parent, (f"{parent}_id",)),)
        extra.append(TableInfo(name, tuple(columns), (f"{name}_id",), fks))
        values[f"{name}.status"] = ("ACTIVE", "CLOSED", "HELD")
    wide = WarehouseSchema((*schema.tables, *extra), schema.db_schema)
    return replace(content, schema=wide, values=values)  # type: ignore[type-var]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="answers of each question")
    parser.add_argument("--trades", type=int, default=20_000, help="demo warehouse size")
    parser.add_argument("--tables", type=int, default=500, help="tables of the wide profile")
    args = parser.parse_args(argv)
    from trained_demo import AS_OF, trained_demo

    from copilot.engine.answer import Engine

    as_of = AS_OF
    questions = [q for f in FILES if f.exists()
                 for q in yaml.safe_load(f.read_text(encoding="utf-8"))["questions"]]
    from copilot.core.executor import Executor

    with trained_demo(args.trades) as (engine, guard, warehouse):
        run = Executor(guard, warehouse)
        content = engine.content
        to_sql: list[float] = []
        to_answer: list[float] = []
        planned = 0
        for _ in range(args.rounds):
            for item in questions:
                engine.reader.forget()  # time first readings, not the kept ones
                started = time.perf_counter()
                planned += engine.plan(item["question"], as_of).tree is not None
                to_sql.append((time.perf_counter() - started) * 1000)
                engine.reader.forget()
                answer = engine.answer(item["question"], as_of, run=run)
                to_answer.append(answer.total_ms)
    started = time.perf_counter()
    wide = Engine(_wide_profile(content, args.tables))  # type: ignore[arg-type]
    built_ms = (time.perf_counter() - started) * 1000
    wide_sql: list[float] = []
    for _ in range(args.rounds):
        for item in questions:
            wide.reader.forget()
            started = time.perf_counter()
            wide.plan(item["question"], as_of)
            wide_sql.append((time.perf_counter() - started) * 1000)
    print(f"engine on a {args.trades:,}-trade demo warehouse: {len(questions)} questions "
          f"x {args.rounds} rounds ({planned // args.rounds} planned each round)")
    print(latency_line("question -> SQL", to_sql) + "  (target p50 < 20 ms)")
    print(latency_line("question -> answer", to_answer) + "  (target p50 < 200 ms)")
    print(f"{args.tables}-table profile: reader built in {built_ms:.0f} ms")
    print(latency_line(f"question -> SQL, {args.tables} tables", wide_sql)
          + "  (target p50 < 20 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
