"""Administering the LLM: the configuration in force (saved on the Settings page, else the
environment's), the writer built from it, saving it and testing it; every change audited
without the key. The saved key is sealed with OPSCOPILOT_SECRET_KEY (copilot/core/secretbox.py).

Under four eyes a save is held: `hold` (given by the composition root, since the approvals
sit above this floor) proposes it and returns the pending change's id; `apply` saves it when
another admin approves."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from copilot.core.access import Access
from copilot.core.audit import Recorder
from copilot.core.audit.record import Outcome
from copilot.core.errors import LLMError
from copilot.core.secretbox import SecretBox, SecretKeyMissing
from copilot.core.settings import Settings
from copilot.llm.client import ChatMessage, LLMExchangeError, OpenAICompatibleClient
from copilot.llm.config import LLMConfig
from copilot.llm.store import LLMSettingsStore, SavedLLMConfig
from copilot.llm.writer import LLMWriter

__all__ = ["LLMAdmin"]

_NO_SECRET_KEY = (
    "Nothing was saved: the API key would be stored in the state database, where keys are "
    "kept only encrypted, and OPSCOPILOT_SECRET_KEY is not set. Set OPSCOPILOT_SECRET_KEY (a "
    "Fernet key) and save again, or give the key by OPSCOPILOT_LLM_API_KEY instead and save "
    "the rest with the key field empty (or \"Remove the key\" ticked).")


@dataclass(frozen=True)
class LLMAdmin:
    """The LLM configuration and its writer, for the routing and the Settings page."""

    settings: Settings
    store: LLMSettingsStore
    recorder: Recorder
    access: Access = field(default_factory=Access)  # only an admin changes or tests them
    # Four eyes: proposes a save (config None: back to the environment's) by a person and
    # returns the pending change's id; None applies it at once (four eyes off).
    hold: Callable[[LLMConfig | None, str], int | None] | None = field(default=None,
                                                                      compare=False)
    _writers: dict[LLMConfig, LLMWriter] = field(default_factory=dict, repr=False,
                                                 compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def box(self) -> SecretBox:
        """What seals the saved key: OPSCOPILOT_SECRET_KEY (may be unset)."""
        return SecretBox(self.settings.app.secret_key)

    def saved(self) -> SavedLLMConfig | None:
        """The configuration saved on the Settings page, its key opened; None when none is.
        A ConfigError naming OPSCOPILOT_SECRET_KEY when the saved key does not open."""
        return self.store.load(self.box)

    def config(self) -> LLMConfig:
        """The configuration saved on the Settings page, else the environment's. A saved
        configuration without a key uses OPSCOPILOT_LLM_API_KEY's, so that a platform team
        can keep the key in its secret store and still set the rest on the page."""
        environment = LLMConfig.from_settings(self.settings)
        saved = self.saved()
        if saved is None:
            return environment
        if saved.config.api_key:
            return saved.config
        return replace(saved.config, api_key=environment.api_key)

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

    def save(self, config: LLMConfig | None, *, by: str) -> int | None:
        """Save the page's LLM configuration (None: back to the environment's); audited
        without the key. A key is saved only sealed: SecretKeyMissing, and nothing saved,
        when there is one and OPSCOPILOT_SECRET_KEY is not set. Under four eyes it is
        proposed instead: the pending change's id is returned, nothing is in force yet."""
        self.access.check(by, "change settings", "LLM settings", recorder=self.recorder)
        config = self.storable(config)
        if self.hold is not None:
            held = self.hold(config, by)
            if held is not None:
                return held
        self.apply(config, by=by)
        return None

    def storable(self, config: LLMConfig | None) -> LLMConfig | None:
        """`config` as it may be kept: the environment's key is read from the environment
        again, never copied into the state database."""
        if config is not None and config.api_key == LLMConfig.from_settings(
                self.settings).api_key:
            return replace(config, api_key="")
        return config

    def sealed_key(self, config: LLMConfig) -> str:
        """`config`'s key sealed as a pending change keeps it (never in clear)."""
        try:
            return self.box.seal(config.api_key, what="The LLM API key of a pending change")
        except SecretKeyMissing:
            raise SecretKeyMissing(_NO_SECRET_KEY) from None

    def apply(self, config: LLMConfig | None, *, by: str) -> None:
        """Put `config` in force now (an approved change, or a save without four eyes)."""
        if config is None:
            self.store.clear()
        else:
            try:
                self.store.save(config, by=by, box=self.box)
            except SecretKeyMissing:
                raise SecretKeyMissing(_NO_SECRET_KEY) from None
        self.recorder.record("settings", "LLM settings " + (
            "saved" if config else "reset to the environment"), by=by,
            details=self.config().public())

    def test(self, config: LLMConfig, *, by: str) -> str:
        """Send one tiny request to `config`'s endpoint; what it answered, or LLMError."""
        self.access.check(by, "change settings", f"LLM connection test: {config.endpoint}",
                          recorder=self.recorder)
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
