"""The deterministic answering engine: question -> query plan -> SQL, driven only by the
active training profile (schema, value index, glossary, business rules, verified pairs).
It does not know the LLM exists (docs/architecture.md)."""

from copilot.core.lazy import lazy_exports

_EXPORTS = {
    "Engine": ".answer",
    "interpret": ".interpret",
    "plural": ".interpret",
    "column_labels": ".labels",
    "compose": ".followup",
    "drill_question": ".followup",
    "follow_up_ideas": ".followup_ideas",
    "QueryPlan": ".plan",
    "ParseResult": ".reader",
    "Reader": ".reader",
    "same_result": ".scoring",
}
__all__ = ["Engine", "ParseResult", "QueryPlan", "Reader", "column_labels", "compose",
           "drill_question", "follow_up_ideas", "interpret", "plural", "same_result"]
__getattr__ = lazy_exports(__name__, _EXPORTS)
