"""End to end: the app bound to every interface (`--server.address 0.0.0.0`; the test still
connects through 127.0.0.1 only) shows the refusal and nothing else without a login, and the
Ask page once OPSCOPILOT_TRUSTED_USER_HEADER names a single sign-on header; headless
Chromium, as tests/test_e2e_pages.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.appserver import browser_tab, serve_app

SETTLED = "!document.querySelector('[data-testid=\"stStatusWidget\"]')"


@pytest.fixture
def browser_page() -> Iterator[Page]:
    with browser_tab(1000) as tab:
        yield tab


def _settings(trained_demo_dir: Path, folder: Path, **extra: str) -> dict[str, str]:
    data = Path(shutil.copytree(trained_demo_dir, folder / "data"))
    return {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20", **extra}


def test_every_interface_without_a_login_shows_only_the_refusal(
        trained_demo_dir: Path, tmp_path: Path, browser_page: Page) -> None:
    page = browser_page
    with serve_app(_settings(trained_demo_dir, tmp_path), address="0.0.0.0") as base:
        page.goto(f"{base}/ask")
        alert = page.get_by_text("no login is configured")
        alert.wait_for(timeout=60_000)
        page.wait_for_function(SETTLED, timeout=60_000)
        body = page.inner_text("body")
        assert "secrets.toml" in body and "OPSCOPILOT_TRUSTED_USER_HEADER" in body
        assert page.get_by_test_id("stChatInput").count() == 0
        assert page.get_by_test_id("stSidebarNav").count() == 0


def test_every_interface_with_a_trusted_header_serves_the_ask_page(
        trained_demo_dir: Path, tmp_path: Path, browser_page: Page) -> None:
    page = browser_page
    settings = _settings(trained_demo_dir, tmp_path,
                         OPSCOPILOT_TRUSTED_USER_HEADER="X-Forwarded-User")
    with serve_app(settings, address="0.0.0.0") as base:
        page.set_extra_http_headers({"X-Forwarded-User": "hal@bank.test"})  # as the proxy
        page.goto(f"{base}/ask")
        page.get_by_test_id("stChatInput").wait_for(timeout=90_000)
        assert "no login is configured" not in page.inner_text("body")
