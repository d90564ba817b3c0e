"""The Settings page and the Ask page's LLM marking, through Streamlit's AppTest, against a
scripted OpenAI-compatible server on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from copilot.core.audit import AuditLog
from copilot.core.secretbox import new_secret_key
from tests.llmserver import ScriptedLLM
from tests.test_llm_routing import PROSE_REPLY, UNKNOWN

KEY = "sk-page-secret-42"


def _settings_page() -> None:
    from app_pages import settings

    settings.render()


def _ask_page() -> None:
    from app_pages import ask

    ask.render()


def _run(page) -> AppTest:
    app = AppTest.from_function(page, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    return app


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        yield server


def _texts(app: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "success", "error", "warning")
             for e in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)


def test_saving_the_llm_on_the_page_is_used_by_ask_and_never_shows_the_key(
        page_env: Path, llm: ScriptedLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSCOPILOT_SECRET_KEY", new_secret_key())
    app = _run(_settings_page)
    assert "No LLM is configured" in _texts(app)
    app.text_input(key="llm_base_url").set_value(llm.base_url)
    app.text_input(key="llm_model").set_value("scripted-model")
    app.text_input(key="llm_api_key").set_value(KEY)
    app.button(key="FormSubmitter:llm_form-Save").click().run()
    assert not app.exception, app.exception
    assert "Saved" in _texts(app)
    assert KEY.encode() not in (page_env / "state.db").read_bytes()  # sealed at rest

    again = _run(_settings_page)  # a fresh session: the key is not shown back anywhere
    assert again.text_input(key="llm_api_key").value == ""
    assert "a key is set" in again.text_input(key="llm_api_key").placeholder
    assert KEY not in again.dataframe[0].value.to_string() and KEY not in _texts(again)
    assert again.text_input(key="llm_model").value == "scripted-model"

    llm.script = [PROSE_REPLY]
    ask = _run(_ask_page)
    ask.chat_input(key="ask_input").set_value(UNKNOWN).run()
    assert not ask.exception, ask.exception
    text = _texts(ask)
    assert "Counts failed settlements this week by counterparty." in text
    assert "written by the LLM" in text and "not verified" in text
    assert llm.requests[0].headers["authorization"] == f"Bearer {KEY}"

    records = [r for _, r in AuditLog(f"sqlite:///{page_env / 'audit.db'}").records()]
    assert any(r.channel == "settings" and "saved" in r.question for r in records)
    assert records[-1].engine == "llm"
    assert KEY.encode() not in (page_env / "audit.db").read_bytes()


def test_test_connection_reports_the_endpoint_error_and_changes_nothing(
        page_env: Path) -> None:
    app = _run(_settings_page)
    app.text_input(key="llm_base_url").set_value("http://127.0.0.1:9/v1")  # discard port
    app.button(key="FormSubmitter:llm_form-Test connection").click().run()
    assert "cannot be reached" in app.error[0].value
    assert "No LLM is configured" in _texts(_run(_settings_page))


def test_a_malformed_header_setting_is_refused_with_its_name(page_env: Path) -> None:
    app = _run(_settings_page)
    app.text_input(key="llm_base_url").set_value("http://127.0.0.1:9/v1")
    app.text_input(key="llm_headers").set_value("X-Desk: ops")
    app.button(key="FormSubmitter:llm_form-Save").click().run()
    assert "OPSCOPILOT_LLM_HEADERS" in app.error[0].value
    assert "No LLM is configured" in _texts(_run(_settings_page))


def test_without_a_secret_key_the_page_refuses_to_save_a_key_and_saves_the_rest(
        page_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSCOPILOT_LLM_API_KEY", "sk-env-secret-9")
    app = _run(_settings_page)
    assert "OPSCOPILOT_LLM_API_KEY" in app.text_input(key="llm_api_key").placeholder
    app.text_input(key="llm_base_url").set_value("http://127.0.0.1:9/v1")
    app.text_input(key="llm_model").set_value("page-model")
    app.text_input(key="llm_api_key").set_value(KEY)
    app.button(key="FormSubmitter:llm_form-Save").click().run()
    error = app.error[0].value
    assert "OPSCOPILOT_SECRET_KEY" in error and "OPSCOPILOT_LLM_API_KEY" in error
    assert KEY not in _texts(app) and "Saved" not in _texts(app)
    assert "From the environment" in _texts(_run(_settings_page))  # nothing was saved

    app = _run(_settings_page)  # the rest, with the key field empty: saved
    app.text_input(key="llm_base_url").set_value("http://127.0.0.1:9/v1")
    app.text_input(key="llm_model").set_value("page-model")
    app.button(key="FormSubmitter:llm_form-Save").click().run()
    assert "Saved" in _texts(app) and not app.error
    again = _run(_settings_page)
    assert again.text_input(key="llm_model").value == "page-model"
    assert "the environment's key" in again.text_input(key="llm_api_key").placeholder
    for raw in ((page_env / "state.db").read_bytes(), (page_env / "audit.db").read_bytes()):
        assert KEY.encode() not in raw and b"sk-env-secret-9" not in raw


def test_a_key_saved_with_another_secret_key_is_reported_not_shown(
        page_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSCOPILOT_SECRET_KEY", new_secret_key())
    app = _run(_settings_page)
    app.text_input(key="llm_base_url").set_value("http://127.0.0.1:9/v1")
    app.text_input(key="llm_api_key").set_value(KEY)
    app.button(key="FormSubmitter:llm_form-Save").click().run()
    assert "Saved" in _texts(app)
    monkeypatch.setenv("OPSCOPILOT_SECRET_KEY", new_secret_key())  # rotated without care
    app = _run(_settings_page)
    assert "OPSCOPILOT_SECRET_KEY" in app.error[0].value and "fernet:" not in _texts(app)
    app.button(key="llm_forget").click().run()
    assert not app.exception, app.exception
    assert "From the environment" in _texts(app)
