"""What the LLM was asked and did for one question: the audit log's account of it.

A value beside the Answer that carries it, so that no floor needs the LLM package to read it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

__all__ = ["Failure", "LLMAttempt", "LLMTrace"]

# Why the LLM gave no answer, for the audit log: the first four are the exchange failing,
# the others what the copilot made of a reply (or of the question before asking).
Failure = Literal["timeout", "unreachable", "http_error", "malformed_reply", "error",
                  "unsafe_reply", "declined", "no_usable_sql", "token_budget", "warehouse",
                  "prompt"]


@dataclass(frozen=True)
class LLMAttempt:
    """One SQL the LLM offered and why it was not used ("" when it was)."""

    sql: str
    problem: str = ""


@dataclass(frozen=True)
class LLMTrace:
    """The prompt's hash and size (never its text, which may hold the question's names),
    the tokens and requests spent (failed ones included), every attempt, and the error that
    ended it, if any, with its kind and the endpoint's last HTTP status."""

    model: str
    prompt_sha256: str = ""
    prompt_chars: int = 0
    prompt_tokens: int = 0  # estimated, first prompt
    prompt_tables: tuple[str, ...] = ()
    tokens_used: int = 0
    requests: int = 0
    attempts: tuple[LLMAttempt, ...] = ()
    error: str = ""
    failure: Failure | Literal[""] = ""
    http_status: int = 0  # of the failed exchange, when the endpoint answered one
    ms: float = 0.0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["ms"] = round(self.ms, 1)
        return data
