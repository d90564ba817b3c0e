"""Time training: `python benchmarks/bench_training.py [--tables 500] [--questions 200]`.

Prints the time to train the demo profile from scratch (demo warehouse of 20,000 trades, OTC
glossary, embedding model load included), the time to train a synthetic schema of 500
tables, the retrieval latency (p50, p95) for questions against the trained demo, and the
embedding throughput seen while training.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported for real after the repo root is on sys.path
    from copilot.wiring import Services

from latency import latency_line  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "fails by counterparty this month", "open exceptions by assigned analyst",
    "netting breaks this week", "total notional of live trades by desk",
    "which counterparties are hedge funds", "unconfirmed trades older than 5 days",
    "pending settlements in EUR due in the next 5 days", "fail rate by counterparty",
    "disputed confirmations on paper", "cleared trades by CCP", "trades booked in October",
    "high priority unassigned exceptions", "largest pending settlements",
]
KINDS = ("STATUS", "TYPE", "REGION", "CURRENCY", "OWNER")


def _synthetic_warehouse(path: Path, tables: int, rng: random.Random) -> Path:
    """`tables` tables of 8 to 14 columns, a foreign key each, low-cardinality text columns."""
    conn = sqlite3.connect(path)
    for t in range(tables):
        columns = ["id INTEGER PRIMARY KEY"]
        if t:
            columns.append(f"parent_id INTEGER REFERENCES t{rng.randrange(t):04d} (id)")
        for c in range(rng.randint(6, 12)):
            kind = rng.choice((*KINDS, "AMOUNT", "DATE"))
            sql_type = {"AMOUNT": "DECIMAL(18,2)", "DATE": "DATE"}.get(kind, "VARCHAR(20)")
            columns.append(f"{kind.lower()}_{c} {sql_type}")
        conn.execute(f"CREATE TABLE t{t:04d} ({', '.join(columns)})")
        names = [c.split()[0] for c in columns]
        rows = [
            tuple(r if n == "id" else (0 if n == "parent_id" else
                  f"{n.split('_')[0].upper()}_{rng.randrange(6)}") for n in names)
            for r in range(30)
        ]
        conn.executemany(f"INSERT INTO t{t:04d} VALUES ({', '.join('?' * len(names))})", rows)
    conn.commit()
    conn.close()
    return path


def _synthetic_glossary(folder: Path) -> Path:
    folder.mkdir()
    (folder / "entities.yaml").write_text(
        "kind: entities\nentities:\n  - {name: record, table: t0000, synonyms: [records]}\n")
    (folder / "terms.yaml").write_text(
        "kind: terms\nterms:\n  - {name: open, table: t0000, condition: \"t0000.id > 0\"}\n")
    (folder / "rules.yaml").write_text(
        "kind: rules\nrules:\n  - {id: r1, text: Records are counted by id.}\n")
    return folder


def _services(data: Path, **env: str) -> Services:
    from copilot.settings import load_settings
    from copilot.wiring import build_services

    settings = load_settings({"OPSCOPILOT_DATA_DIR": str(data), **env},
                             env_file=data / "no.env")
    return build_services(settings)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=500, help="synthetic schema size")
    parser.add_argument("--questions", type=int, default=200, help="retrieval samples")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))  # run as a script from a checkout, no install needed
    from copilot.demo import build_demo_warehouse

    with tempfile.TemporaryDirectory(prefix="bench-training-") as folder:
        root = Path(folder)
        demo_data = root / "demo"
        demo_data.mkdir()
        build_demo_warehouse(demo_data / "otc_demo.db", as_of=dt.date(2026, 11, 20))
        started = time.perf_counter()
        demo = _services(demo_data, OPSCOPILOT_AS_OF="2026-11-20")  # first launch: trains
        demo_seconds = time.perf_counter() - started
        version = demo.trainer.active()
        items = sum(version.counts.get(k, 0) for k in ("tables", "columns", "entities",
                                                         "terms", "rules"))

        latencies = []
        for i in range(args.questions):
            question = QUESTIONS[i % len(QUESTIONS)] + ("" if i < len(QUESTIONS) else f" #{i}")
            t0 = time.perf_counter()
            demo.trainer.retrieve(question, k=5)
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()

        rng = random.Random(7)
        warehouse = _synthetic_warehouse(root / "wide.db", args.tables, rng)
        wide_data = root / "wide"
        wide_data.mkdir()
        glossary = _synthetic_glossary(root / "wide-glossary")
        wide = _services(wide_data, OPSCOPILOT_WAREHOUSE_URL=f"sqlite:///{warehouse}",
                         OPSCOPILOT_GLOSSARY_DIR=str(glossary))
        from training.glossary import load_glossary

        started = time.perf_counter()
        wide_version = wide.trainer.train(load_glossary(glossary), by="bench")
        wide_seconds = time.perf_counter() - started
        wide_items = wide_version.counts["tables"] + wide_version.counts["columns"]

    print("training benchmark")
    print(f"demo profile from scratch: {demo_seconds:6.1f} s  ({items} items embedded, "
          f"model load included; target < 20 s)")
    print(f"{args.tables}-table schema:         {wide_seconds:6.1f} s  ({wide_items} schema "
          f"items, {wide_version.counts['value_columns']} value lists; target < 120 s)")
    print(f"embedding throughput:      {wide_items / wide_seconds:6.0f} items/s while training "
          f"the {args.tables}-table schema (sampling values included)")
    print(latency_line("retrieval over 5 kinds:", latencies, 26) + "  (target p50 < 30 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
