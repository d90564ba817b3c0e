"""Time the offline embedder and the training store: `python benchmarks/bench_embedding.py`.

Prints the model load time, embedding throughput (texts/s) over 1,000 short schema-like texts
at batch sizes 16 and 64, the time to write a store of about 3,000 items (first write, then an
idempotent rewrite), and retrieval latency p50/p95 over 200 distinct questions, for one kind
(`search`) and for all five kinds with the question embedded once (`search_all`).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

from latency import latency_line  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]

_TABLES = ("trades", "settlements", "confirmations", "legal_entities", "netting_sets",
           "exceptions", "collateral_calls", "cash_flows", "books", "instruments")
_COLUMNS = ("trade_id", "status", "value_date", "trade_date", "notional", "currency",
            "counterparty_id", "book_id", "product_type", "amount", "country", "lei",
            "created_at", "age_days", "reason_code", "desk", "maturity_date", "break_flag")
_WORDS = ("failed", "matched", "pending", "overdue", "unconfirmed", "netted", "settled",
          "cancelled", "amended", "disputed")
_ASKS = ("How many", "Show", "List", "Total notional of", "Which counterparties have",
         "Count of", "Top 10", "Average age of")
_OBJECTS = ("settlements", "trades", "confirmations", "breaks", "collateral calls",
            "exceptions", "cash flows", "netting sets")
_WHEN = ("yesterday", "last week", "this month", "since Monday", "by desk", "by currency",
         "by counterparty", "over 5 days old")


def schema_texts(count: int) -> list[str]:
    """Short column descriptions like the schema ingestion writes, all distinct."""
    combos = itertools.cycle(itertools.product(_TABLES, _COLUMNS, _WORDS))
    return [f"column {table}.{column} ({index}): {word} {column.replace('_', ' ')} of "
            f"{table.replace('_', ' ')}"
            for index, (table, column, word) in zip(range(count), combos, strict=False)]


def store_items(count: int) -> list:
    """About `count` items spread over the five kinds, schema first."""
    from training.store_items import StoreItem

    shares = {"schema": 0.4, "terms": 0.2, "rules": 0.15, "documents": 0.1, "pairs": 0.15}
    texts = schema_texts(count)
    items = []
    for kind, share in shares.items():
        for index in range(int(count * share)):
            text = texts[index]
            if kind == "documents":
                text = f"Procedure {index}: when {text}, ops escalate to the desk head " * 3
            elif kind != "schema":
                text = f"{kind} {index}: {text}"
            items.append(StoreItem.of(kind, text, {"n": index}))
    return items


def questions(count: int) -> list[str]:
    """Distinct ops questions (no two alike, so nothing is answered from a cache)."""
    combos = itertools.product(_ASKS, _WORDS, _OBJECTS, _WHEN)
    return [f"{ask} {word} {obj} {when}" for ask, word, obj, when in itertools.islice(
        combos, 0, None, 7)][:count]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1_000, help="texts for throughput")
    parser.add_argument("--items", type=int, default=3_000, help="items in the store")
    parser.add_argument("--questions", type=int, default=200, help="retrieval questions")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))  # run as a script from a checkout, no install needed
    from training.embedding import MiniLMEmbedder
    from training.store import TrainingStore

    started = time.perf_counter()
    embedder = MiniLMEmbedder()
    embedder.load()
    print(f"model load (onnxruntime import, sha256 checks, session): "
          f"{time.perf_counter() - started:.2f} s")

    texts = schema_texts(args.texts)
    for batch in (16, 64):
        sized = MiniLMEmbedder(batch_size=batch)
        sized.embed(texts[:32])  # load and warm up outside the timing
        started = time.perf_counter()
        sized.embed(texts)
        seconds = time.perf_counter() - started
        print(f"embed {len(texts)} schema texts, batch {batch:>2}: {seconds:5.2f} s  "
              f"{len(texts) / seconds:7.0f} texts/s")

    with tempfile.TemporaryDirectory(prefix="bench-embedding-") as folder:
        store = TrainingStore(Path(folder), embedder)
        items = store_items(args.items)
        stats = store.write_version("bench-1", items)
        print(f"write {len(items)} items: {stats.seconds:5.2f} s "
              f"({stats.newly_embedded} embedded)  {dict(stats.items)}")
        stats = store.write_version("bench-1", items)
        print(f"rewrite same items:   {stats.seconds:5.2f} s ({stats.newly_embedded} embedded)")

        asked = questions(args.questions)
        store.search_all("bench-1", "warm-up question")
        one: list[float] = []
        every: list[float] = []
        for question in asked:
            started = time.perf_counter()
            store.search("bench-1", "schema", question, k=5)
            one.append((time.perf_counter() - started) * 1000)
        for question in asked:
            started = time.perf_counter()
            store.search_all("bench-1", question)
            every.append((time.perf_counter() - started) * 1000)
        print(f"retrieval over {len(items)} items, {len(asked)} distinct questions, k=5:")
        print(latency_line("search (schema)", one))
        print(latency_line("search_all (5 kinds)", every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
