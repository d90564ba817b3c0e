"""Who answers: the deterministic engine first; the LLM only when the engine refuses (for a
reason another reader could overcome) or is unsure, and only when one is configured.

The floor above both: the engine does not know the LLM exists, and the LLM writer knows the
engine only through the Answer it was handed (copilot/values).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from copilot.core.executor import Executor
from copilot.core.warehouse import QueryResult
from copilot.engine.answer import Engine
from copilot.engine.labels import column_labels
from copilot.llm.writer import LLMWriter, Retrieve
from copilot.values import Answer, Turn

__all__ = ["UNSURE_BELOW", "needs_llm", "route"]

UNSURE_BELOW = 0.8  # an engine answer below this confidence is checked by the LLM


def needs_llm(answer: Answer) -> bool:
    """Whether the engine's answer leaves room for the LLM."""
    if answer.final:
        return False
    return answer.status == "refused" or (
        answer.status == "answered" and answer.confidence < UNSURE_BELOW)



def route(question: str, as_of: date, *, engine: Engine, run: Executor,
          writer: Callable[[], LLMWriter | None] | None = None,
          retrieve: Retrieve | None = None,
          sample: Callable[[str], QueryResult] | None = None,
          previous: Turn | None = None) -> Answer:
    """The engine's answer, or the LLM's when the engine leaves room and one is configured.

    `writer` is asked for only then, so a question the engine answers costs no look-up of
    the LLM configuration. `previous` is the conversation's last turn."""
    first = engine.answer(question, as_of, run=run, previous=previous)
    if writer is None or retrieve is None or not needs_llm(first):
        return first
    llm = writer()
    if llm is None:
        return first
    answer = llm.answer(first, as_of=as_of, content=engine.content, retrieve=retrieve,
                        run=run, sample=sample, previous=previous)
    if answer.source == "llm":  # its columns read as the engine's would
        answer = replace(answer, labels=column_labels(answer.columns, None, engine.content))
    return answer
