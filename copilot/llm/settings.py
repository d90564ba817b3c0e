"""The LLM's settings section, `settings.llm`: read from `OPSCOPILOT_LLM_*`.

Owned here rather than in the core because only the LLM connector reads it; the composition
root (copilot/settings.py) hands it to the loader. `LLMConfig.from_settings` turns it into
the endpoint the client calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

from copilot.core import setting_parsers as parse
from copilot.core.setting_fields import setting

__all__ = ["LLMSettings"]


def _headers(text: str) -> tuple[tuple[str, str], ...]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError('must be a JSON object of header names and texts, like {"X-Desk": "ops"}')
    return tuple(sorted(value.items()))


@dataclass(frozen=True)
class LLMSettings:
    """One OpenAI-compatible endpoint, and how much a question may spend on it."""

    name: ClassVar[str] = "llm"
    env_prefix: ClassVar[str] = "OPSCOPILOT_LLM_"

    base_url: str = setting(
        "", parse=parse.http_url,
        doc="Base URL of an OpenAI-compatible chat-completions API (a bank's gateway, Groq, "
            "vLLM, Ollama, Azure OpenAI; see \"Using an LLM\"). Empty: no LLM, the engine "
            "alone answers.",
        default_text="empty (no LLM)")
    model: str = setting("", parse=parse.stripped, doc="Model name sent with every LLM request.",
                         default_text="empty")
    api_key: str = setting(
        "", parse=parse.stripped, secret=True,
        doc="API key of the LLM endpoint. Never shown back, logged or written to the audit log.",
        default_text="empty (no key, as for a local Ollama)")
    key_header: str = setting(
        "Authorization", parse=parse.stripped,
        doc="Header that carries the key: `Authorization` sends `Bearer KEY`; any other name "
            "(Azure's `api-key`) sends the key as it is.",
        default_text="`Authorization`")
    headers: tuple[tuple[str, str], ...] = setting(
        (), parse=_headers,
        doc="Extra HTTP headers for the LLM endpoint as a JSON object, for example "
            "`{\"X-Desk\": \"ops\"}`. Not for secrets: they are shown on the Settings page.",
        default_text="none")
    timeout_s: float = setting(
        30.0, parse=parse.positive_float,
        doc="Seconds the LLM may take for one question, retries and corrections included; "
            "then the engine's answer stands.",
        default_text="`30`")
    retries: int = setting(
        2, parse=parse.count, doc="Retries of one LLM request answered 429 or 5xx, with backoff.",
        default_text="`2`")
    max_corrections: int = setting(
        2, parse=parse.count,
        doc="Times the LLM may correct its SQL after the guard or the warehouse rejected it.",
        default_text="`2`")
    token_budget: int = setting(
        12_000, parse=parse.positive_int,
        doc="Most tokens (prompt and reply, estimated) one question may spend on the LLM; the "
            "prompt's context is trimmed to fit.",
        default_text="`12000`")
    send_rows: bool = setting(
        False, parse=parse.flag,
        doc="Whether the LLM may see sample rows of the tables it is given (three per table). "
            "Off: it sees names, types, keys and the trained code lists only.",
        default_text="`false`")

    def with_data_dir(self, data_dir: Path) -> Self:
        """Itself: nothing of the LLM's lives in the data folder."""
        return self
