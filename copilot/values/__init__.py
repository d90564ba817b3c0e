"""What crosses floors: an answer and its chart, the LLM's account of a question, and a
conversation's turns. Frozen values with no behaviour beyond reading themselves; the engine,
the LLM writer, the services, dashboards, reports and pages all speak them."""

from copilot.values.answer import (
    CHART_KINDS,
    Answer,
    ChartKind,
    ChartSpec,
    Source,
    Status,
    result_chart,
)
from copilot.values.conversation import MAX_TURNS, Conversation, ConversationError, Turn
from copilot.values.trace import Failure, LLMAttempt, LLMTrace

__all__ = ["CHART_KINDS", "MAX_TURNS", "Answer", "ChartKind", "ChartSpec", "Conversation",
           "ConversationError", "Failure", "LLMAttempt", "LLMTrace", "Source", "Status", "Turn",
           "result_chart"]
