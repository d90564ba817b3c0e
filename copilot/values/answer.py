"""An answer as every floor above the engine sees it: what was asked and understood, the SQL
as it ran, the rows, how to draw them, and the LLM's account when it was asked.

The engine and the LLM writer both return an Answer; the services audit it, dashboards and
reports keep its question, pages draw it. The chart vocabulary is defined here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from copilot.values.trace import LLMTrace

if TYPE_CHECKING:  # the engine's plan rides along for follow-ups; only its type is named
    from copilot.engine.plan import QueryPlan

__all__ = ["CHART_KINDS", "Answer", "ChartKind", "ChartSpec", "Source", "Status",
           "result_chart"]

ChartKind = Literal["bar", "line", "pie", "table", "number"]
CHART_KINDS: tuple[ChartKind, ...] = ("bar", "line", "pie", "table", "number")
Source = Literal["engine", "pair", "llm", "user"]
Status = Literal["answered", "refused", "clarify", "error"]


@dataclass(frozen=True)
class ChartSpec:
    """How the answer is best drawn: bar, line, pie or a table only."""

    kind: ChartKind
    x: str | None = None
    y: str | None = None
    # Further value columns drawn beside `y`: a period comparison's earlier period.
    series: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    """Everything known about one question's answer."""

    question: str
    status: Status
    source: Source
    interpretation: str
    sql: str | None = None  # as it ran, in the warehouse's dialect
    generated_sql: str | None = None  # as the engine or the pair wrote it, before the guard
    tables: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[object, ...], ...] = ()
    truncated: bool = False
    confidence: float = 0.0
    unused_words: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    follow_ups: tuple[str, ...] = ()
    chart: ChartSpec = ChartSpec("table")
    plan: QueryPlan | None = None
    to_sql_ms: float = 0.0
    total_ms: float = 0.0
    final: bool = False  # a refusal no other reader may overturn (empty, too long, a write)
    notes: tuple[str, ...] = ()  # what the page says beside the answer (an LLM that failed)
    llm: LLMTrace | None = None  # what the LLM was asked and did, when it was asked
    # A follow-up: the whole question it was read as, and what changed from the previous
    # turn ("now grouped by book", "GBP only"); empty when the question stood alone.
    stands_for: str = ""
    changes: tuple[str, ...] = ()
    chart_asked: str | None = None  # a chart the question named ("as a pie chart")
    conversation_id: str = ""
    turn: int = 0  # 1 for a conversation's first question
    record_id: int | None = None  # the audit record of this answer, once recorded
    # What each column is called on the page, in charts and in exports' headers
    # ("Counterparty", "Amount (USD)"); copilot/engine/labels.py.
    labels: tuple[str, ...] = ()
    # The row filters the user's entitlements put on the SQL ("trades: desk = 'Rates'"),
    # named in the audit record and on the page; empty when no policy limits the rows.
    entitlements: tuple[str, ...] = ()


def result_chart(columns: tuple[str, ...], rows: tuple[tuple[object, ...], ...]) -> ChartSpec:
    """How to draw rows nobody planned (a pair's, the LLM's, a person's SQL): one number, a
    bar of one label and one number, else a table."""
    if len(rows) == 1 and len(columns) == 1:
        return ChartSpec("number", y=columns[0])
    numeric = rows and isinstance(rows[0][-1], int | float) and len(columns) == 2
    return ChartSpec("bar", x=columns[0], y=columns[-1]) if numeric else ChartSpec("table")


