"""The demo warehouse built and trained in memory for the engine benchmarks (schema, values,
the OTC glossary): the engine, its guard and the warehouse, in a temporary folder."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 20)
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script from a checkout, no install needed


@contextlib.contextmanager
def trained_demo(trades: int) -> Iterator[tuple[Any, Any, Any]]:
    """(engine, guard, warehouse) over a `trades`-trade demo warehouse, as of AS_OF."""
    from copilot.core.executor import Executor
    from copilot.core.guard import Guard, GuardSchema
    from copilot.core.warehouse import Warehouse
    from copilot.demo import build_demo_warehouse
    from copilot.engine.answer import Engine
    from training.glossary import DEMO_GLOSSARY, load_glossary
    from training.trainer import build_content

    with tempfile.TemporaryDirectory(prefix="bench-engine-") as folder:
        path = Path(folder) / "otc.db"
        build_demo_warehouse(path, as_of=AS_OF, trades=trades)
        warehouse = Warehouse(f"sqlite:///{path}", timeout_s=30)
        guard = Guard(GuardSchema.from_warehouse(warehouse.schema()), dialect="sqlite",
                      row_cap=5000)
        content = build_content(warehouse, load_glossary(DEMO_GLOSSARY),
                                Executor(guard, warehouse).run)
        try:
            yield Engine(content), guard, warehouse
        finally:
            warehouse.dispose()
