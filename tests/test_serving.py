"""Beyond loopback, the app serves nothing without a login: the rule over addresses and
configurations, the whole app under AppTest, and scripts/run.sh binding to 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from copilot.core.errors import ConfigError
from copilot.core.serving import header_name, is_loopback, login_configured, serving_refusal
from copilot.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
CLIENT = {"client_id": "copilot", "client_secret": "s", "redirect_uri": "x",
          "cookie_secret": "c", "server_metadata_url": "https://idp/.well-known"}


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost",
                                     "LOCALHOST", " 127.0.0.1 ", "unix:///run/copilot.sock"])
def test_loopback_is_served_without_a_login(address: str) -> None:
    assert serving_refusal(address, login_configured=False) is None


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "", "10.1.2.3", "192.168.0.7",
                                     "fe80::1", "copilot.bank.internal", "128.0.0.1"])
def test_any_other_address_is_refused_without_a_login_and_served_with_one(address: str) -> None:
    refusal = serving_refusal(address, login_configured=False)
    assert refusal is not None and not is_loopback(address)
    assert "secrets.toml" in refusal and "[auth]" in refusal and "client_id" in refusal
    assert "OPSCOPILOT_TRUSTED_USER_HEADER" in refusal
    assert (address or "every interface") in refusal
    assert serving_refusal(address, login_configured=True) is None


def test_what_counts_as_a_login() -> None:
    assert not login_configured(None, "") and not login_configured({}, "  ")
    assert not login_configured({"redirect_uri": "x", "cookie_secret": "c"}, "")
    assert not login_configured({"client_id": " "}, "")
    assert login_configured(CLIENT, "")
    assert login_configured({"cookie_secret": "c", "google": {"client_id": "g"}}, "")
    assert login_configured(None, "X-Forwarded-User")


def test_the_trusted_header_setting_takes_only_a_header_name(tmp_path: Path) -> None:
    assert header_name(" X-Forwarded-User ") == "X-Forwarded-User" and header_name("") == ""
    env = {"OPSCOPILOT_DATA_DIR": str(tmp_path)}
    settings = load_settings({**env, "OPSCOPILOT_TRUSTED_USER_HEADER": "X-Remote-User"},
                             env_file=tmp_path / "none")
    assert settings.app.trusted_user_header == "X-Remote-User"
    assert load_settings(env, env_file=tmp_path / "none").app.trusted_user_header == ""
    with pytest.raises(ConfigError, match="OPSCOPILOT_TRUSTED_USER_HEADER"):
        load_settings({**env, "OPSCOPILOT_TRUSTED_USER_HEADER": "X User: me"},
                      env_file=tmp_path / "none")


def _whole_app(address: str | None, monkeypatch: pytest.MonkeyPatch, **env: str) -> AppTest:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = config.get_option("server.address")
    config.set_option("server.address", address)
    try:
        app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90)
        app.run()
    finally:
        config.set_option("server.address", before)
    assert not app.exception, app.exception
    return app


def test_the_app_refuses_every_interface_before_building_services(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"  # empty: building the services would build the demo here
    app = _whole_app(None, monkeypatch, OPSCOPILOT_DATA_DIR=str(data))
    assert len(app.error) == 1 and "no login is configured" in app.error[0].value
    assert not data.exists()


# ---- scripts/run.sh ------------------------------------------------------------------------

def _run_script(tmp_path: Path, *args: str) -> list[str]:
    """scripts/run.sh in a copy of the project whose setup and Python are stubs; the
    arguments the stub Python was given to run streamlit."""
    (tmp_path / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "run.sh", tmp_path / "scripts" / "run.sh")
    (tmp_path / "scripts" / "setup.sh").write_text("exit 0\n")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\nprintf "%s\\n" "$@" >> "$(dirname "$0")/calls"\n')
    python.chmod(0o755)
    subprocess.run(["bash", str(tmp_path / "scripts" / "run.sh"), *args], check=True,
                   env={**os.environ}, timeout=30)
    calls = (python.parent / "calls").read_text().splitlines()
    return calls[calls.index("streamlit") - 1:]


def test_run_sh_binds_to_loopback_unless_told_otherwise(tmp_path: Path) -> None:
    launched = _run_script(tmp_path / "a", "--server.port", "8600")
    assert launched == ["-m", "streamlit", "run", "streamlit_app.py", "--server.address",
                        "127.0.0.1", "--server.port", "8600"]
    launched = _run_script(tmp_path / "b", "--server.address", "0.0.0.0")
    assert launched.count("--server.address") == 1 and "127.0.0.1" not in launched
    launched = _run_script(tmp_path / "c", "--server.address=10.0.0.5")
    assert "--server.address" not in launched and "--server.address=10.0.0.5" in launched
