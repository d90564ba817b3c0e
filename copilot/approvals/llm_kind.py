"""The LLM settings kind of change: a save on the Settings page, held until a second admin
approves it. The key travels sealed with OPSCOPILOT_SECRET_KEY (copilot/core/secretbox.py),
as the saved configuration keeps it: never in clear in the pending change's row."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from copilot.approvals.diff import json_text, text_diff
from copilot.approvals.model import PendingChange
from copilot.approvals.service import Approvals
from copilot.core.audit.record import Channel
from copilot.llm.admin import LLMAdmin
from copilot.llm.config import LLMConfig

__all__ = ["LLM_SETTINGS", "LLMSettingsKind"]

LLM_SETTINGS = "LLM settings"


@dataclass(frozen=True)
class LLMSettingsKind:
    """The LLM configuration saved on the Settings page (or the reset to the environment's)."""

    admin: LLMAdmin
    name: str = LLM_SETTINGS
    label: str = "LLM settings"
    channel: Channel = "settings"
    propose_action: str = "change settings"
    approve_action: str = "approve settings"

    def holder(self, approvals: Approvals) -> Callable[[LLMConfig | None, str], int | None]:
        """What LLMAdmin.save calls: proposes the save under four eyes, else None."""

        def hold(config: LLMConfig | None, by: str) -> int | None:
            if not approvals.enabled:
                return None
            change = approvals.propose(self.name, self.payload(config), by=by, summary=(
                f"LLM: {config.model or '(no model)'} at {config.base_url or '(no LLM)'}"
                if config else "LLM settings back to the environment's"))
            return change.id

        return hold

    def payload(self, config: LLMConfig | None) -> dict[str, Any]:
        if config is None:
            return {"reset": True}
        public = {k: v for k, v in config.public().items() if k != "key_set"}
        return {"reset": False, "config": public, "api_key": self.admin.sealed_key(config)}

    @staticmethod
    def config(payload: Mapping[str, Any], key: str) -> LLMConfig:
        data = payload["config"]
        return LLMConfig(
            base_url=data["base_url"], model=data["model"], api_key=key,
            key_header=data["key_header"], headers=tuple(sorted(data["headers"].items())),
            timeout_s=float(data["timeout_s"]), retries=int(data["retries"]),
            max_corrections=int(data["max_corrections"]),
            token_budget=int(data["token_budget"]), send_rows=bool(data["send_rows"]))

    def _shown(self, payload: Mapping[str, Any] | None) -> dict[str, object]:
        """The configuration in force (None) or proposed, as the diff shows it: no key."""
        if payload is None:
            saved = self.admin.saved()
            shown = self.admin.config().public()
            shown["source"] = "saved on the Settings page" if saved else "the environment"
            return shown
        if payload["reset"]:
            return {"source": "the environment (OPSCOPILOT_LLM_*)"}
        return {**payload["config"], "source": "saved on the Settings page",
                 "key_set": bool(payload["api_key"])}

    def target(self, payload: Mapping[str, Any]) -> str:
        return "llm"

    def diff(self, payload: Mapping[str, Any]) -> str:
        return text_diff(json_text(self._shown(None)), json_text(self._shown(payload)),
                         "LLM settings")

    def base(self, payload: Mapping[str, Any]) -> str:
        # Who saved what, when: a save by anyone since the proposal moves it (the key is
        # left out, and need not be opened to tell).
        return hashlib.sha256(json.dumps(self._saved_stamp()).encode()).hexdigest()

    def _saved_stamp(self) -> list[str]:
        saved = self.admin.saved()
        return [saved.saved_by, saved.saved_at] if saved else []

    def apply(self, change: PendingChange, checker: str) -> str:
        payload = change.payload
        if payload["reset"]:
            self.admin.apply(None, by=change.maker)
            return "the environment's LLM settings are in force"
        key = self.admin.box.open(payload["api_key"], what="The LLM API key of a pending "
                                  "change").text if payload["api_key"] else ""
        self.admin.apply(self.config(payload, key), by=change.maker)
        return "the LLM settings are in force"
