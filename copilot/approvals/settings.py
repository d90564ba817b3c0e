"""The four-eyes settings section, `settings.approvals`: OPSCOPILOT_FOUR_EYES.

Owned here rather than in the core because only the approvals read it; the composition root
(copilot/settings.py) hands it to the loader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

from copilot.core import setting_parsers as parse
from copilot.core.setting_fields import setting
from copilot.core.settings import Settings

__all__ = ["ApprovalsSettings", "four_eyes_on"]


def _switch(text: str) -> bool | None:
    """on/off in the spellings .env files use; empty (or auto): decided by the roles file."""
    if text.strip().lower() in ("", "auto"):
        return None
    return parse.flag(text.strip())


@dataclass(frozen=True)
class ApprovalsSettings:
    """Whether a second person must approve the changes that matter."""

    name: ClassVar[str] = "approvals"
    env_prefix: ClassVar[str] = "OPSCOPILOT_"

    four_eyes: bool | None = setting(
        None, parse=_switch, env="OPSCOPILOT_FOUR_EYES",
        doc="Four eyes (`on` or `off`): a verified pair, a glossary change, a training "
            "version's activation, report recipients outside the bank's domains and a change "
            "of LLM, SMTP or entitlement settings take effect only when a second person with "
            "the approving role approves it on the Approvals page.",
        default_text="on when `OPSCOPILOT_ROLES` is set, off without (the single-user demo)")

    def with_data_dir(self, data_dir: Path) -> Self:
        """Itself: nothing of the approvals' settings lives in the data folder."""
        return self


def four_eyes_on(settings: Settings) -> bool:
    """Four eyes in force: as set, else on exactly when a roles file names who is who
    (without one everyone holds every role, and a second person cannot be told apart)."""
    chosen = settings.section(ApprovalsSettings).four_eyes
    return bool(settings.app.roles) if chosen is None else chosen
