"""How to reach one OpenAI-compatible chat-completions endpoint, and how much it may cost.

Built from the settings' LLM section (the environment) or from what an administrator saved
on the Settings page. The key is kept out of repr() and of `public()`, which is what pages
and the audit log see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from copilot.core.setting_fields import parse_setting
from copilot.core.settings import Settings
from copilot.llm.settings import LLMSettings

__all__ = ["LLMConfig"]


@dataclass(frozen=True)
class LLMConfig:
    """One LLM endpoint; `enabled` is False when no base URL is set."""

    base_url: str = ""
    model: str = ""
    api_key: str = field(default="", repr=False)
    key_header: str = "Authorization"
    headers: tuple[tuple[str, str], ...] = ()
    timeout_s: float = 30.0  # the whole question: retries and corrections included
    retries: int = 2
    max_corrections: int = 2
    token_budget: int = 12_000
    send_rows: bool = False
    max_reply_tokens: int = 800

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMConfig:
        """The endpoint the settings' LLM section describes."""
        llm = settings.section(LLMSettings)
        return cls(
            base_url=llm.base_url, model=llm.model, api_key=llm.api_key,
            key_header=llm.key_header or "Authorization", headers=llm.headers,
            timeout_s=llm.timeout_s, retries=llm.retries, max_corrections=llm.max_corrections,
            token_budget=llm.token_budget, send_rows=llm.send_rows,
        )

    @classmethod
    def from_text(cls, values: Mapping[str, str], *, api_key: str) -> LLMConfig:
        """A configuration from text fields named like the LLM section's (base_url, model,
        ...), each checked as its setting is; ConfigError otherwise."""
        parsed = {name: parse_setting(LLMSettings, name, text) for name, text in values.items()
                  if text.strip()}
        return cls(api_key=api_key, **parsed)

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)

    @property
    def endpoint(self) -> str:
        """The chat-completions URL: `/chat/completions` added to the base URL's path, its
        query kept (Azure's `?api-version=`)."""
        parts = urlsplit(self.base_url)
        path = parts.path.rstrip("/")
        if not path.endswith("/chat/completions"):
            path += "/chat/completions"
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))

    def request_headers(self) -> dict[str, str]:
        """Every header of a request, the key included (never logged)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   **dict(self.headers)}
        if self.api_key:
            bearer = self.key_header.lower() == "authorization"
            headers[self.key_header] = f"Bearer {self.api_key}" if bearer else self.api_key
        return headers

    def public(self) -> dict[str, object]:
        """The configuration as pages and the audit log may show it: no key, only whether
        one is set."""
        return {
            "base_url": self.base_url, "model": self.model, "key_set": bool(self.api_key),
            "key_header": self.key_header, "headers": dict(self.headers),
            "timeout_s": self.timeout_s, "retries": self.retries,
            "max_corrections": self.max_corrections, "token_budget": self.token_budget,
            "send_rows": self.send_rows,
        }
