"""The product's settings: every section, named once, and the loader over them.

The core reads its own sections (app, warehouse, state, audit); the sections owned above it
are listed here, where a module may import every floor: the LLM's and the reports'. The
composition root (copilot/wiring.py, to come) may take this tuple over; `read_settings` in
copilot/core/settings_loader.py takes any sections.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from copilot.approvals.settings import ApprovalsSettings
from copilot.core.ops_settings import OpsSettings
from copilot.core.setting_fields import SettingDoc, SettingsSection
from copilot.core.settings import Settings, setting_docs
from copilot.core.settings_loader import read_settings
from copilot.llm.settings import LLMSettings
from reports.settings import ReportsSettings, SMTPSettings, WorkersSettings

__all__ = ["SECTIONS", "all_setting_docs", "load_settings"]

SECTIONS: tuple[type[SettingsSection], ...] = (LLMSettings, ReportsSettings, SMTPSettings,
                                               WorkersSettings, ApprovalsSettings, OpsSettings)


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Every section's settings from the environment (default: os.environ) and the `.env`
    file (`OPSCOPILOT_ENV_FILE`, else `.env` in the working directory)."""
    return read_settings(SECTIONS, environ, env_file)


def all_setting_docs() -> tuple[SettingDoc, ...]:
    """Every setting of the product, as the README table lists them."""
    return setting_docs(SECTIONS)
