"""The LLM API key saved through the LLM administration is sealed at rest (Fernet, keyed by
OPSCOPILOT_SECRET_KEY): the raw SQLite file and the PostgreSQL table hold no key, the audit
trail and the application log of the save hold none, a wrong or missing key is a typed error
that names the setting and never shows the stored text, and a key an older version saved in
clear is still read, reported and sealed by the next save."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, insert

from copilot.core.audit import AuditLog, Recorder
from copilot.core.errors import ConfigError, CopilotError
from copilot.core.secretbox import (
    SEALED_PREFIX,
    SecretBox,
    SecretKeyInvalid,
    SecretKeyMismatch,
    SecretKeyMissing,
    new_secret_key,
)
from copilot.core.settings import settings_in_force
from copilot.llm import LLMConfig
from copilot.llm.admin import LLMAdmin
from copilot.llm.store import LLMSettingsStore, _table
from copilot.settings import load_settings
from tests.pgserver import PostgresServer

KEY = "sk-at-rest-secret-7731"
SECRET_KEY = new_secret_key()


def _admin(data: Path, secret_key: str = SECRET_KEY, state_url: str = "",
           **env: str) -> LLMAdmin:
    values = {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_SECRET_KEY": secret_key,
              "OPSCOPILOT_STATE_URL": state_url, **env}
    settings = load_settings(values, env_file=data / "no.env")
    return LLMAdmin(settings, LLMSettingsStore(settings.state.url),
                    Recorder(AuditLog(settings.audit.url), "tester"))


def _config(key: str = KEY) -> LLMConfig:
    return LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", api_key=key)


# ---- the box ------------------------------------------------------------------------------

def test_a_sealed_secret_round_trips_and_never_shows_its_text() -> None:
    box = SecretBox(SECRET_KEY)
    sealed = box.seal(KEY, what="k")
    assert sealed.startswith(SEALED_PREFIX) and KEY not in sealed
    assert box.seal(KEY, what="k") != sealed  # a fresh IV each time
    opened = box.open(sealed, what="k")
    assert opened.text == KEY and not opened.in_clear
    assert KEY not in repr(opened) and SECRET_KEY not in repr(box)
    assert box.seal("", what="k") == ""


def test_a_wrong_missing_or_malformed_key_is_a_typed_error_naming_the_setting() -> None:
    sealed = SecretBox(SECRET_KEY).seal(KEY, what="The key")
    for box, kind in ((SecretBox(new_secret_key()), SecretKeyMismatch),
                      (SecretBox(""), SecretKeyMissing),
                      (SecretBox("not-a-fernet-key-hunter2"), SecretKeyInvalid)):
        with pytest.raises(kind) as caught:
            box.open(sealed, what="The key")
        message = str(caught.value)
        assert isinstance(caught.value, ConfigError) and "OPSCOPILOT_SECRET_KEY" in message
        assert sealed.removeprefix(SEALED_PREFIX)[:20] not in message
        assert "hunter2" not in message and KEY not in message
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(SecretKeyMismatch):
        SecretBox(SECRET_KEY).open(tampered, what="The key")
    with pytest.raises(SecretKeyMissing, match="OPSCOPILOT_SECRET_KEY is not set"):
        SecretBox("").seal(KEY, what="The key")


def test_the_secret_key_setting_is_never_shown(tmp_path: Path) -> None:
    settings = load_settings({"OPSCOPILOT_DATA_DIR": str(tmp_path),
                              "OPSCOPILOT_SECRET_KEY": SECRET_KEY}, env_file=tmp_path / "n")
    assert settings.app.secret_key == SECRET_KEY and SECRET_KEY not in repr(settings)
    shown = {doc.env_var: text for doc, text in settings_in_force(settings)}
    assert shown["OPSCOPILOT_SECRET_KEY"] == "(set)"


# ---- the service, on SQLite and PostgreSQL -------------------------------------------------

def test_saving_through_the_service_keeps_no_key_in_the_sqlite_file_audit_or_log(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    admin = _admin(tmp_path)
    with caplog.at_level(logging.DEBUG):
        admin.save(_config(), by="ana")
        assert admin.config().api_key == KEY  # round trip
    state = (tmp_path / "state.db").read_bytes()
    assert KEY.encode() not in state and SEALED_PREFIX.encode() in state
    assert KEY.encode() not in (tmp_path / "audit.db").read_bytes()
    records = [r for _, r in AuditLog(f"sqlite:///{tmp_path / 'audit.db'}").records()]
    assert any(r.channel == "settings" and "saved" in r.question for r in records)
    assert all(KEY not in r.canonical() for r in records)
    assert KEY not in caplog.text and SECRET_KEY not in caplog.text

    with pytest.raises(SecretKeyMismatch, match="OPSCOPILOT_SECRET_KEY"):
        _admin(tmp_path, secret_key=new_secret_key()).config()
    with pytest.raises(SecretKeyMissing, match="OPSCOPILOT_SECRET_KEY"):
        _admin(tmp_path, secret_key="").config()


def test_without_a_secret_key_a_key_is_refused_and_the_rest_can_be_saved(
        tmp_path: Path) -> None:
    admin = _admin(tmp_path, secret_key="", OPSCOPILOT_LLM_API_KEY="sk-from-env")
    with pytest.raises(SecretKeyMissing) as caught:
        admin.save(_config(), by="ana")
    assert "OPSCOPILOT_SECRET_KEY" in str(caught.value)
    assert "OPSCOPILOT_LLM_API_KEY" in str(caught.value) and KEY not in str(caught.value)
    assert admin.saved() is None  # nothing saved
    # The environment's key, in force, is used but never copied into the state database.
    admin.save(_config(key=admin.config().api_key), by="ana")
    assert admin.saved() is not None and admin.saved().config.api_key == ""
    assert admin.config().api_key == "sk-from-env" and admin.config().model == "m"
    assert b"sk-from-env" not in (tmp_path / "state.db").read_bytes()


def test_a_key_saved_in_clear_by_an_older_version_is_read_reported_and_sealed_on_save(
        tmp_path: Path) -> None:
    admin = _admin(tmp_path)
    admin.save(_config(key=""), by="old")
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    with engine.begin() as conn:  # what the version before this one wrote
        conn.execute(_table.delete())
        conn.execute(insert(_table).values(
            id=1, config='{"base_url": "http://127.0.0.1:9/v1", "model": "m", '
            '"key_header": "Authorization", "headers": {}, "timeout_s": 30, "retries": 2, '
            '"max_corrections": 2, "token_budget": 12000, "send_rows": false}',
            api_key=KEY, saved_by="old", saved_at="2026-01-01T00:00:00Z"))
    engine.dispose()
    saved = admin.saved()
    assert saved is not None and saved.key_in_clear and admin.config().api_key == KEY
    admin.save(admin.config(), by="ana")
    assert not admin.saved().key_in_clear and admin.config().api_key == KEY
    assert KEY.encode() not in (tmp_path / "state.db").read_bytes()


def test_on_postgresql_the_table_holds_only_the_sealed_key(
        tmp_path: Path, postgres: PostgresServer) -> None:
    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user={postgres.superuser} "
                         "dbname=postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS secrets_state")
        conn.execute("CREATE DATABASE secrets_state")
    admin = _admin(tmp_path, state_url=postgres.url("secrets_state"))
    admin.save(_config(), by="ana")
    assert admin.config().api_key == KEY
    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user={postgres.superuser} "
                         "dbname=secrets_state") as conn:
        rows = conn.execute("SELECT * FROM llm_settings").fetchall()
    text = repr(rows)
    assert len(rows) == 1 and KEY not in text and SEALED_PREFIX in text
    with pytest.raises(CopilotError, match="OPSCOPILOT_SECRET_KEY"):
        _admin(tmp_path, secret_key=new_secret_key(),
               state_url=postgres.url("secrets_state")).config()
    admin.store._engine.dispose()
