"""Administering the LLM: the configuration in force (saved on the Settings page, else the
environment's), the writer built from it, saving it and testing it; every change audited
without the key."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from copilot.core.audit import Recorder
from copilot.core.audit.record import Outcome
from copilot.core.errors import LLMError
from copilot.core.settings import Settings
from copilot.llm.client import ChatMessage, LLMExchangeError, OpenAICompatibleClient
from copilot.llm.config import LLMConfig
from copilot.llm.store import LLMSettingsStore
from copilot.llm.writer import LLMWriter

__all__ = ["LLMAdmin"]


@dataclass(frozen=True)
class LLMAdmin:
    """The LLM configuration and its writer, for the routing and the Settings page."""

    settings: Settings
    store: LLMSettingsStore
    recorder: Recorder
    _writers: dict[LLMConfig, LLMWriter] = field(default_factory=dict, repr=False,
                                                 compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def config(self) -> LLMConfig:
        """The configuration saved on the Settings page, else the environment's."""
        saved = self.store.load()
        return saved.config if saved else LLMConfig.from_settings(self.settings)

    def writer(self) -> LLMWriter | None:
        """The LLM writer for the configuration in force, or None when no LLM is set."""
        config = self.config()
        if not config.enabled:
            return None
        with self._lock:  # asked from page threads and the scheduler's thread alike
            if config not in self._writers:
                self._writers.clear()
                self._writers[config] = LLMWriter(OpenAICompatibleClient(config), config)
            return self._writers[config]

    def save(self, config: LLMConfig | None, *, by: str) -> None:
        """Save the page's LLM configuration (None: back to the environment's); audited
        without the key."""
        if config is None:
            self.store.clear()
        else:
            self.store.save(config, by=by)
        self.recorder.record("settings", "LLM settings " + (
            "saved" if config else "reset to the environment"), by=by,
            details=self.config().public())

    def test(self, config: LLMConfig, *, by: str) -> str:
        """Send one tiny request to `config`'s endpoint; what it answered, or LLMError."""
        started = time.perf_counter()
        outcome: Outcome = "error"
        reason = ""
        account: dict[str, object] = {}
        try:
            reply = OpenAICompatibleClient(config).complete(
                [ChatMessage("user", "Reply with the word OK.")], max_tokens=5,
                deadline=time.monotonic() + config.timeout_s)
            outcome = "recorded"
            account = {"requests": reply.attempts}
            return reply.text.strip()[:200]
        except LLMError as exc:
            reason = str(exc)
            if isinstance(exc, LLMExchangeError):  # what a failed test cost, and why
                account = {"requests": exc.requests, "failure": exc.failure,
                           "http_status": exc.http_status}
            raise
        finally:
            self.recorder.record("settings", f"LLM connection test: {config.endpoint}", by=by,
                                 outcome=outcome, reason=reason, details=account or None,
                                 duration_ms=(time.perf_counter() - started) * 1000)
