"""One way for tests to train an engine on a warehouse file with a glossary folder."""

from __future__ import annotations

from pathlib import Path

from copilot.core.executor import Executor
from copilot.core.guard import Guard, GuardSchema
from copilot.core.warehouse import Warehouse
from copilot.engine.answer import Engine
from training.glossary import load_glossary
from training.trainer import build_content


def engine_for(db: Path, glossary: Path, row_cap: int = 100_000
               ) -> tuple[Engine, Guard, Warehouse]:
    """An engine trained in memory on `db` with `glossary`, its guard and warehouse."""
    warehouse = Warehouse(f"sqlite:///{db}", timeout_s=10)
    guard = Guard(GuardSchema.from_warehouse(warehouse.schema()), dialect="sqlite",
                  row_cap=row_cap)
    content = build_content(warehouse, load_glossary(glossary),
                            Executor(guard, warehouse).run)
    return Engine(content), guard, warehouse
