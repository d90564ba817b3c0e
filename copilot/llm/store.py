"""The LLM configuration an administrator saved on the Settings page.

It lives in the state database (one row) and, while present, replaces the environment's
OPSCOPILOT_LLM_* settings as a whole (but for the key: a configuration saved without one
uses OPSCOPILOT_LLM_API_KEY's); clearing it returns to the environment. The key is stored in
its own column, so that nothing that shows the configuration can pick it up by accident, and
only sealed with OPSCOPILOT_SECRET_KEY (copilot/core/secretbox.py): with no secret key, a
configuration with a key is refused. A key an older version saved in clear is still read,
marked `key_in_clear`, and sealed by the next save.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete, insert, select
from sqlalchemy.exc import IntegrityError

from copilot.core.errors import CopilotError
from copilot.core.secretbox import SecretBox
from copilot.core.statedb import state_engine
from copilot.llm.config import LLMConfig

__all__ = ["LLMSettingsStore", "SavedLLMConfig"]

_ATTEMPTS = 10
_metadata = MetaData()
_table = Table(
    "llm_settings",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("config", Text, nullable=False),  # LLMConfig.public() as JSON, without the key
    Column("api_key", Text, nullable=False, default=""),  # sealed: fernet:v1:TOKEN
    Column("saved_by", String(128), nullable=False),
    Column("saved_at", String(32), nullable=False),
)


_WHAT = "The LLM API key saved on the Settings page"


@dataclass(frozen=True)
class SavedLLMConfig:
    """The saved configuration (its key opened), who saved it and when."""

    config: LLMConfig
    saved_by: str
    saved_at: str
    key_in_clear: bool = False  # saved unsealed by an older version; the next save seals it


class LLMSettingsStore:
    """The one saved LLM configuration in the state database; the key sealed at rest."""

    def __init__(self, state_url: str) -> None:
        self._engine = state_engine(state_url)
        _metadata.create_all(self._engine)

    def load(self, box: SecretBox | None = None) -> SavedLLMConfig | None:
        """The saved configuration, its key opened with `box`; None when none is saved. A
        typed ConfigError (never the stored text) when the key does not open."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_table).where(_table.c.id == 1)).first()
        if row is None:
            return None
        opened = (box or SecretBox()).open(row.api_key, what=_WHAT)
        data = json.loads(row.config)
        config = LLMConfig(
            base_url=data["base_url"], model=data["model"], api_key=opened.text,
            key_header=data["key_header"], headers=tuple(sorted(data["headers"].items())),
            timeout_s=float(data["timeout_s"]), retries=int(data["retries"]),
            max_corrections=int(data["max_corrections"]),
            token_budget=int(data["token_budget"]), send_rows=bool(data["send_rows"]),
        )
        return SavedLLMConfig(config, row.saved_by, row.saved_at, key_in_clear=opened.in_clear)

    def save(self, config: LLMConfig, *, by: str,
             box: SecretBox | None = None) -> SavedLLMConfig:
        """Replace the saved configuration; its key sealed with `box`. SecretKeyMissing
        when there is a key and `box` has no secret key: a key is never stored in clear."""
        sealed = (box or SecretBox()).seal(config.api_key, what=_WHAT)
        saved_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        public = {k: v for k, v in config.public().items() if k != "key_set"}
        # Two saves at once: on PostgreSQL the second one's delete misses the row the first
        # just inserted and its insert hits the key; once more, it replaces that row.
        for attempt in range(_ATTEMPTS):
            try:
                with self._engine.begin() as conn:
                    conn.execute(delete(_table))
                    conn.execute(insert(_table).values(
                        id=1, config=json.dumps(public, sort_keys=True),
                        api_key=sealed, saved_by=by, saved_at=saved_at))
                break
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise CopilotError("The LLM settings were being saved by someone else at the "
                                   "same moment; save them again.") from None
        return SavedLLMConfig(config, by, saved_at)

    def clear(self) -> None:
        """Forget the saved configuration (the environment's is used again)."""
        with self._engine.begin() as conn:
            conn.execute(delete(_table))
