"""End to end: the Ask page as a newcomer meets it, served on loopback and driven in headless
Chromium (Debian's /usr/bin/chromium through Playwright, as tests/test_e2e_app.py): the first
page (what it knows, questions to try, the as-of date), an example asked with one click, a
chat of three answers (only the newest drawn whole, one row of actions, a date axis, a CSV
named for its question), and Save as widget saying where the widget went, with a link.

Screenshots go to the test's tmp_path; with SAVE_SCREENSHOTS=1 the first page and the
three-answer chat are also saved as docs/screenshots/ask-first-page.png and
ask-three-answers.png (for the README; never written in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.appserver import browser_tab, serve_trained_demo, shoot

MESSAGES = '[data-testid="stChatMessage"]'
SETTLED = ("!document.querySelector('[data-testid=\"stStatusWidget\"]')"
           " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
           " && document.querySelectorAll('[data-stale=\"true\"]').length === 0")


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory, trained_demo_dir: Path) -> Iterator[str]:
    with serve_trained_demo(trained_demo_dir, tmp_path_factory.mktemp("first")) as base:
        yield base


@pytest.fixture
def page(served_app: str) -> Iterator[Page]:
    """The Ask page in a fresh browser session, 1400 px wide, settled."""
    with browser_tab(1000, downloads=True) as tab:
        tab.goto(served_app)
        tab.get_by_text("Try asking").wait_for(timeout=60_000)
        tab.wait_for_function(SETTLED, timeout=60_000)
        yield tab


def _settle(page: Page, messages: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('{MESSAGES}').length >= {messages}",
                           timeout=90_000)
    page.wait_for_function(SETTLED, timeout=90_000)
    page.wait_for_timeout(500)


def _ask(page: Page, question: str, turn: int) -> None:
    box = page.get_by_placeholder("Ask about")
    box.fill(question)
    box.press("Enter")
    _settle(page, 2 * turn)


def test_the_first_page_teaches_and_an_example_asks_itself(page: Page, tmp_path: Path) -> None:
    body = page.inner_text("body")
    shoot(page, tmp_path, "ask-first-page.png", whole=False)
    assert "What it knows" in body and "Trades" in body and "Counterparties" in body
    assert "Answers are as of Fri 20 Nov 2026" in body
    assert "add it as a synonym on the Training page" in body
    examples = page.locator('[class*="st-key-example_"] button')
    assert examples.count() >= 4
    first = examples.first.inner_text().strip().splitlines()[-1]  # after the icon's name
    examples.first.click()
    _settle(page, 2)
    chat = page.locator(MESSAGES)
    assert first in chat.nth(0).inner_text()
    answer = chat.nth(1)
    answer.locator(".js-plotly-plot .main-svg, [data-testid='stMetricValue']").first.wait_for(
        timeout=10_000)
    assert "Try asking" not in page.inner_text("body") and "Traceback" not in answer.inner_text()


def test_three_answers_newest_whole_older_collapsed(page: Page, tmp_path: Path) -> None:
    _ask(page, "how many fails this week", 1)
    _ask(page, "by counterparty", 2)
    _ask(page, "daily count of fails this month", 3)
    chat = page.locator(MESSAGES)
    # The older two say what they understood; their results wait in a closed expander.
    for older in (chat.nth(1), chat.nth(3)):
        assert older.locator('[data-testid="stExpander"]').count() == 1
        assert older.locator(".js-plotly-plot, [data-testid='stDataFrame']").count() == 0
    newest = chat.nth(5)
    newest.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    # A day series on a date axis: a tick a day or more, never "12:00".
    ticks = [t.text_content() or "" for t in newest.locator(".xtick text").all()]
    assert ticks and not [t for t in ticks if ":" in t], ticks
    # One row of actions: every button on the same line.
    names = ("SQL", "CSV", "Excel", "Save as widget", "Schedule", "Correct", "Wrong")
    tops = {round(newest.get_by_role("button", name=n).bounding_box()["y"]) for n in names}
    assert len(tops) == 1, tops
    with page.expect_download() as download:
        newest.get_by_role("button", name="CSV").click()
    assert download.value.suggested_filename == (
        "count-settlements-fails-by-daily-this-month-2026-11-20.csv")
    shoot(page, tmp_path, "ask-three-answers.png", whole=True)
    assert "Traceback" not in page.inner_text("body")


def test_save_as_widget_says_where_it_went(page: Page, tmp_path: Path) -> None:
    _ask(page, "fails by counterparty this month", 1)
    answer = page.locator(MESSAGES).nth(1)
    answer.get_by_role("button", name="Save as widget").click()
    board = page.get_by_label("Dashboard", exact=True)
    board.wait_for(timeout=30_000)
    board.click()
    page.get_by_role("option", name="New dashboard…").click()
    name = page.get_by_label("Name of the new dashboard")
    name.wait_for(timeout=30_000)
    name.fill("Desk B morning")
    name.press("Enter")
    page.wait_for_function(SETTLED, timeout=30_000)
    page.get_by_role("button", name="Save", exact=True).click()
    saved = page.get_by_text("to 'Desk B morning'; it re-asks the question")
    saved.wait_for(timeout=30_000)
    page.wait_for_function(SETTLED, timeout=30_000)
    # The popover has closed: nothing lies over the message or its link.
    assert page.get_by_label("Name of the new dashboard").count() == 0
    link = page.get_by_role("link", name="Open Desk B morning")
    assert saved.is_visible() and link.is_visible()
    shoot(page, tmp_path, "ask-saved-widget.png", whole=False, publish=False)
    link.click()
    page.get_by_role("heading", name="Dashboards").wait_for(timeout=60_000)
    # Open on the new dashboard: its one widget, the question saved.
    page.get_by_text("fails by counterparty this month").first.wait_for(timeout=60_000)
    assert "Traceback" not in page.inner_text("body")
