"""How tables relate, from the schema's foreign keys.

A join only ever follows foreign keys from the referencing table to the referenced one
("up", many to one), so joining never multiplies the rows being counted. A table that
references the plan's table ("down", one to many) is reached with EXISTS instead. A
glossary join path is preferred where the keys allow several.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from sqlglot import exp

from copilot.core.schema import WarehouseSchema
from training.glossary import Glossary

__all__ = ["JoinGraph", "Relation", "Step", "col"]

Relation = Literal["self", "up", "down"]


def col(ref: str) -> exp.Column:
    """`table.column` as a sqlglot column."""
    table, column = ref.split(".", 1)
    return exp.column(column, table=table)


@dataclass(frozen=True)
class Step:
    """One join: the table reached and the condition that reaches it."""

    table: str
    on: exp.Expression


@dataclass
class JoinGraph:
    """Many-to-one edges between tables, with shortest up-paths cached."""

    schema: WarehouseSchema
    glossary: Glossary
    _edges: dict[str, list[Step]] = field(default_factory=dict)
    _paths: dict[tuple[str, str], tuple[Step, ...] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for table in self.schema.tables:
            steps = self._edges.setdefault(table.name, [])
            for fk in table.foreign_keys:
                on = exp.and_(*[col(f"{table.name}.{a}").eq(col(f"{fk.ref_table}.{b}"))
                                for a, b in zip(fk.columns, fk.ref_columns, strict=True)])
                if fk.ref_table != table.name:
                    steps.append(Step(fk.ref_table, on))

    def up(self, base: str, target: str) -> tuple[Step, ...] | None:
        """Joins from `base` up to `target` along foreign keys, or None when there is none."""
        key = (base, target)
        if key not in self._paths:
            self._paths[key] = self._preferred(base, target) or self._shortest(base, target)
        return self._paths[key]

    def relation(self, base: str, target: str) -> tuple[Relation, int] | None:
        """How `target` relates to `base`: itself, up n joins, down n joins, or not at all."""
        if base == target:
            return "self", 0
        path = self.up(base, target)
        if path is not None:
            return "up", len(path)
        path = self.up(target, base)
        if path is not None:
            return "down", len(path)
        return None

    def _preferred(self, base: str, target: str) -> tuple[Step, ...] | None:
        via = next((p.via for p in self.glossary.join_paths
                    if p.from_table == base and p.to_table == target), None)
        if not via:
            return None
        steps = []
        for left, right in pairwise(via):
            step = next((s for s in self._edges.get(left, []) if s.table == right), None)
            if step is None:
                return None
            steps.append(step)
        return tuple(steps)

    def _shortest(self, base: str, target: str) -> tuple[Step, ...] | None:
        previous: dict[str, tuple[str, Step] | None] = {base: None}
        queue = deque([base])
        while queue:
            table = queue.popleft()
            if table == target:
                break
            for step in sorted(self._edges.get(table, []), key=lambda s: s.table):
                if step.table not in previous:
                    previous[step.table] = (table, step)
                    queue.append(step.table)
        if target not in previous:
            return None
        steps: list[Step] = []
        node = target
        while (link := previous[node]) is not None:
            steps.append(link[1])
            node = link[0]
        return tuple(reversed(steps))
