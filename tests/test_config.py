"""Settings: defaults run the demo, the environment and .env override, bad values are named."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from copilot.core.errors import ConfigError
from copilot.core.settings import Settings, load_settings, setting_docs

README = Path(__file__).resolve().parents[1] / "README.md"


def test_defaults_run_the_embedded_demo(tmp_path: Path) -> None:
    settings = load_settings({"OPSCOPILOT_DATA_DIR": str(tmp_path)}, env_file=tmp_path / "none")
    assert settings.warehouse_url == f"sqlite:///{tmp_path / 'otc_demo.db'}"
    assert settings.state_url == f"sqlite:///{tmp_path / 'state.db'}"
    assert settings.audit_url == f"sqlite:///{tmp_path / 'audit.db'}"
    assert settings.audit_url != settings.state_url
    assert settings.chroma_dir == tmp_path / "chroma"
    assert settings.uses_demo_warehouse
    assert settings.row_cap == 5000 and settings.query_timeout_s == 30
    assert settings.effective_as_of(today=date(2026, 1, 2)) == date(2026, 1, 2)


def test_environment_overrides_and_types(tmp_path: Path) -> None:
    env = {
        "OPSCOPILOT_WAREHOUSE_URL": "postgresql+psycopg://ro@db.internal/otc",
        "OPSCOPILOT_ROW_CAP": "250",
        "OPSCOPILOT_QUERY_TIMEOUT_S": "2.5",
        "OPSCOPILOT_AS_OF": "2026-11-20",
        "UNRELATED": "ignored",
    }
    settings = load_settings(env, env_file=tmp_path / "none")
    assert settings.warehouse_url == "postgresql+psycopg://ro@db.internal/otc"
    assert not settings.uses_demo_warehouse
    assert settings.row_cap == 250
    assert settings.query_timeout_s == 2.5
    assert settings.effective_as_of() == date(2026, 11, 20)


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\n"
        "export OPSCOPILOT_ROW_CAP=100\n"
        "OPSCOPILOT_AS_OF='2026-10-01'\n"
        "OPSCOPILOT_WAREHOUSE_SCHEMA=ops  # trailing comment\n"
    )
    settings = load_settings({"OPSCOPILOT_ROW_CAP": "7"}, env_file=env_file)
    assert settings.row_cap == 7
    assert settings.as_of == date(2026, 10, 1)
    assert settings.warehouse_schema == "ops"


def test_env_file_named_by_variable(tmp_path: Path) -> None:
    env_file = tmp_path / "copilot.env"
    env_file.write_text("OPSCOPILOT_DEMO_TRADES=1234\n")
    settings = load_settings({"OPSCOPILOT_ENV_FILE": str(env_file)})
    assert settings.demo_trades == 1234


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("OPSCOPILOT_ROW_CAP", "0", "OPSCOPILOT_ROW_CAP"),
        ("OPSCOPILOT_ROW_CAP", "lots", "OPSCOPILOT_ROW_CAP"),
        ("OPSCOPILOT_QUERY_TIMEOUT_S", "-1", "seconds"),
        ("OPSCOPILOT_AS_OF", "20/11/2026", "OPSCOPILOT_AS_OF"),
        ("OPSCOPILOT_WAREHOUSE_URL", "oracle://x", "sqlite:///"),
        ("OPSCOPILOT_ROWCAP", "10", "Unknown setting OPSCOPILOT_ROWCAP"),
    ],
)
def test_bad_values_are_refused_with_their_name(
    tmp_path: Path, name: str, value: str, fragment: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        load_settings({name: value}, env_file=tmp_path / "none")


def test_bad_env_file_line_names_file_and_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OPSCOPILOT_ROW_CAP=10\nthis is not a setting\n")
    with pytest.raises(ConfigError, match=r"\.env, line 2"):
        load_settings({}, env_file=env_file)
    env_file.write_text("OPSCOPILOT_ROW_CAP=10\nOPSCOPILOT_ROW_CAP=ten\n")
    with pytest.raises(ConfigError, match=r"\.env, line 2"):
        load_settings({}, env_file=env_file)


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.row_cap = 1  # type: ignore[misc]


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    missing = [doc.env_var for doc in setting_docs() if f"`{doc.env_var}`" not in readme]
    assert not missing, f"settings missing from README.md: {missing}"
    assert "`OPSCOPILOT_ENV_FILE`" in readme
