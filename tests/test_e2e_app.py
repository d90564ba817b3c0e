"""End to end: the app as the Quick start launches it, served on loopback and read in headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright; nothing is downloaded)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.appserver import ROOT, browser_tab, serve_trained_demo

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory, trained_demo_dir: Path) -> Iterator[str]:
    with serve_trained_demo(trained_demo_dir, tmp_path_factory.mktemp("e2e")) as base:
        yield base


@contextlib.contextmanager
def _browser_page(height: int) -> Iterator[Page]:
    """A page in Debian's headless Chromium, 1400 px wide; screenshots go to ARTIFACTS."""
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_tab(height) as tab:
        yield tab


def _wait_grid_text(page: Page, index: int, text: str) -> None:
    # Data grids draw on a canvas and fill their accessible text once rendered.
    page.wait_for_function(
        """([index, text]) => {
            const grid = document.querySelectorAll('[data-testid="stDataFrame"]')[index];
            return grid !== undefined && grid.textContent.includes(text);
        }""",
        arg=[index, text],
        timeout=60_000,
    )


def test_data_page_in_a_real_browser(served_app: str) -> None:
    with _browser_page(height=1000) as page:
        page.goto(f"{served_app}/data")
        frames = page.locator('[data-testid="stDataFrame"]')
        _wait_grid_text(page, 0, "ops_exceptions")  # the tables grid has drawn its cells
        header = page.inner_text("body")
        tables = frames.nth(0).text_content() or ""

        # Pick another table the way a user does and wait for its columns to show.
        page.locator('[data-testid="stSelectbox"]').click()
        page.get_by_role("option", name="settlements", exact=True).click()
        _wait_grid_text(page, 1, "netting_sets.netting_set_id")
        columns = frames.nth(1).text_content() or ""
        page.screenshot(path=str(ARTIFACTS / "data_page.png"), full_page=True)
    assert "Fri 20 Nov 2026" in header and "embedded demo" in header
    assert "Traceback" not in header
    for table in ("settlements", "netting_sets", "ops_exceptions", "counterparties"):
        assert table in tables
    assert "trades.trade_id" in columns and "value_date" in columns


def test_training_page_in_a_real_browser(served_app: str) -> None:
    with _browser_page(height=1400) as page:
        page.goto(f"{served_app}/training")
        page.get_by_text("Versions", exact=True).wait_for(timeout=60_000)
        page.get_by_label("Try a question: what does training retrieve for it?").fill(
            "netting breaks this week")
        page.keyboard.press("Enter")
        page.get_by_text("netting break (").first.wait_for(timeout=60_000)
        body = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "training_page.png"), full_page=True)
    assert "answers from version 1" in body and "Traceback" not in body


def test_ask_a_question_in_a_real_browser(served_app: str) -> None:
    with _browser_page(height=1400) as page:
        page.goto(served_app)
        box = page.get_by_placeholder("Ask about")
        box.wait_for(timeout=60_000)
        box.fill("Fails by counterparty this month")
        box.press("Enter")
        page.get_by_text("grouped by counterparty, largest first").wait_for(timeout=60_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # the Chart tab
        page.get_by_role("tab", name="Table").click()  # the table, headed by its label
        _wait_grid_text(page, 0, "Counterparty")
        body = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "ask_page.png"), full_page=True)
    assert "Counting settlements with fail" in body and "Traceback" not in body


def test_seeded_dashboard_in_a_real_browser(served_app: str) -> None:
    with _browser_page(height=1600) as page:
        page.goto(f"{served_app}/dashboards")
        page.get_by_text("Pending settlements, next 5 days, by currency").wait_for(
            timeout=90_000)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4",
                               timeout=90_000)
        page.get_by_text("since last refresh").or_(page.get_by_text("refreshed")).first.wait_for(
            timeout=60_000)
        page.wait_for_timeout(1500)  # let the charts finish their first draw
        body = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    for title in ("Fails today by counterparty", "Unconfirmed trades by age",
                  "Open exceptions by priority", "Netting breaks this week",
                  "Fail rate trend, 30 days"):
        assert title in body
    assert "Traceback" not in body and "error" not in body.lower()
