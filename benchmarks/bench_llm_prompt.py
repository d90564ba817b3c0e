"""Prompt size against schema size: `python benchmarks/bench_llm_prompt.py [--questions 30]`.

Trains synthetic warehouses of 10, 100 and 500 tables (and the OTC demo), then builds the
LLM prompt for questions through the real retrieval, and prints the prompt's estimated
tokens and the tables it describes beside what describing the whole schema would cost. No
LLM is called: the prompt is what would be sent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_training import QUESTIONS, _services, _synthetic_glossary, _synthetic_warehouse
from latency import percentile

REPO = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 20)
WORDS = ("status", "type", "region", "currency", "owner", "amount", "date")


def _synthetic_questions(n: int, tables: int, rng: random.Random) -> list[str]:
    return [f"{rng.choice(('count', 'total', 'list'))} {rng.choice(WORDS)} "
            f"{rng.choice(WORDS).upper()}_{rng.randrange(6)} by {rng.choice(WORDS)} "
            f"in t{rng.randrange(tables):04d} this week" for _ in range(n)]


def _measure(services, questions: list[str]) -> dict[str, float]:
    from copilot.llm.client import estimate_tokens
    from copilot.llm.config import LLMConfig
    from copilot.llm.prompt import build_prompt, describe_tables

    config = LLMConfig()
    content = services.trainer.active().content
    tokens, tables, millis = [], [], []
    for question in questions:
        started = time.perf_counter()
        prompt = build_prompt(question, content=content,
                              hits=services.trainer.retrieve(question, k=12),
                              dialect=services.warehouse.dialect, as_of=AS_OF,
                              budget_tokens=config.token_budget - config.max_reply_tokens)
        millis.append((time.perf_counter() - started) * 1000)
        tokens.append(prompt.tokens)
        tables.append(len(prompt.tables))
    # What the prompt would cost if it described every table instead of the retrieved ones.
    bare = build_prompt("q", content=content, hits={}, dialect="sqlite", as_of=AS_OF,
                        budget_tokens=10**9).tokens
    whole = bare + estimate_tokens(describe_tables(content.schema.table_names, content))
    return {"tables": len(content.schema.tables), "whole": whole,
            "p50": statistics.median(tokens), "max": max(tokens),
            "tables_p50": statistics.median(tables), "tables_max": max(tables),
            "ms_p50": statistics.median(millis), "ms_p95": percentile(millis, 0.95)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=30)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from copilot.demo import build_demo_warehouse
    from training.glossary import load_glossary

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-llm-prompt-") as folder:
        root = Path(folder)
        demo_data = root / "demo"
        demo_data.mkdir()
        build_demo_warehouse(demo_data / "otc_demo.db", as_of=AS_OF)
        demo = _services(demo_data, OPSCOPILOT_AS_OF=AS_OF.isoformat())
        rows.append(("OTC demo", _measure(demo, QUESTIONS * (args.questions // len(QUESTIONS)
                                                              + 1))))
        glossary = _synthetic_glossary(root / "glossary")
        for size in (10, 100, 500):
            rng = random.Random(size)
            warehouse = _synthetic_warehouse(root / f"w{size}.db", size, rng)
            data = root / f"w{size}"
            data.mkdir()
            services = _services(data, OPSCOPILOT_WAREHOUSE_URL=f"sqlite:///{warehouse}",
                                 OPSCOPILOT_GLOSSARY_DIR=str(glossary))
            services.trainer.train(load_glossary(glossary), by="bench")
            rows.append((f"{size} tables", _measure(
                services, _synthetic_questions(args.questions, size, rng))))

    print("LLM prompt size against schema size (tokens estimated at 4 characters each; "
          f"{args.questions}+ questions per schema; budget 12,000 minus 800 for the reply)")
    print(f"{'schema':<10} {'tables':>6} {'whole schema':>13} {'prompt p50':>11} "
          f"{'prompt max':>11} {'tables sent p50/max':>20} {'build p50/p95 ms':>17}")
    for label, m in rows:
        print(f"{label:<10} {m['tables']:>6} {m['whole']:>13,.0f} {m['p50']:>11,.0f} "
              f"{m['max']:>11,.0f} {m['tables_p50']:>14.0f}/{m['tables_max']:<5.0f} "
              f"{m['ms_p50']:>8.1f}/{m['ms_p95']:<8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
