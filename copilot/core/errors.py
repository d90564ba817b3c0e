"""The copilot's typed errors.

Every error the product raises on purpose derives from `CopilotError` and carries a message
written for the person using the app: pages and the CLI show `str(error)`, never a traceback.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CopilotError",
    "DemoDataError",
    "DriverMissing",
    "GlossaryError",
    "GuardRefusal",
    "LLMError",
    "LLMTimeout",
    "LLMUnavailable",
    "QueryFailed",
    "QueryTimeout",
    "ReadOnlyViolation",
    "TrainingRequired",
    "WarehouseError",
    "WarehouseUnavailable",
]


class CopilotError(Exception):
    """Root of every error the copilot reports to a user."""


class ConfigError(CopilotError):
    """A setting is missing or malformed; the message names the setting and its source."""


class DemoDataError(CopilotError):
    """The demo warehouse could not be built (bad arguments, unwritable path)."""


class WarehouseError(CopilotError):
    """Something went wrong talking to the warehouse."""


class WarehouseUnavailable(WarehouseError):
    """The warehouse cannot be reached or opened."""


class DriverMissing(WarehouseError):
    """A database driver or its system library is not installed; the message says which."""


class QueryTimeout(WarehouseError):
    """A query ran past the configured time limit and was cancelled."""


class ReadOnlyViolation(WarehouseError):
    """The warehouse refused a statement because the connection is read-only."""


class QueryFailed(WarehouseError):
    """The warehouse rejected a query (syntax, unknown column, ...)."""


class GuardRefusal(CopilotError):
    """The SQL guard refused a statement; `rule` names the rule, the message says why."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule


class GlossaryError(ConfigError):
    """A glossary file is malformed or names what the warehouse lacks; says file and line."""


class TrainingRequired(CopilotError):
    """The active training profile lacks what answering needs; says what and how to train."""


class LLMError(CopilotError):
    """The LLM endpoint failed or answered something unusable; the engine's answer stands."""


class LLMUnavailable(LLMError):
    """The LLM endpoint cannot be reached, refused the key, or kept failing after retries."""


class LLMTimeout(LLMError):
    """The LLM took longer than the question's time allowance."""
