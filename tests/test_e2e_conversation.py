"""End to end: a conversation on the Ask page, served on loopback and driven in headless
Chromium (Debian's /usr/bin/chromium through Playwright, as tests/test_e2e_app.py): three
turns where each follow-up edits the one before, a click on a bar that lists the rows behind
it, and a comparison with last month drawn as both months side by side.

Screenshots go to the test's tmp_path; with SAVE_SCREENSHOTS=1 they are also saved as
docs/screenshots/conversation-*.png (for the README; never written in CI). Not an OPSCOPILOT_
name: the app refuses unknown settings of its own prefix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.appserver import browser_tab, serve_trained_demo, shoot

MESSAGES = '[data-testid="stChatMessage"]'


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory, trained_demo_dir: Path) -> Iterator[str]:
    with serve_trained_demo(trained_demo_dir, tmp_path_factory.mktemp("talk")) as base:
        yield base


@pytest.fixture
def page(served_app: str) -> Iterator[Page]:
    """The Ask page in a fresh browser session (its own conversation), 1400 px wide."""
    with browser_tab(1200) as tab:
        tab.goto(served_app)
        tab.get_by_placeholder("Ask about").wait_for(timeout=60_000)
        yield tab


def _messages(page: Page, count: int) -> None:
    # One user and one assistant message a turn; then the run settles (charts drawn).
    page.wait_for_function(f"document.querySelectorAll('{MESSAGES}').length >= {count}",
                           timeout=90_000)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('[data-stale=\"true\"]').length === 0",
        timeout=90_000)
    page.wait_for_timeout(800)


def _ask(page: Page, question: str, turn: int) -> None:
    box = page.get_by_placeholder("Ask about")
    box.fill(question)
    box.press("Enter")
    _messages(page, 2 * turn)


def _user_text(page: Page, turn: int) -> str:
    return page.locator(MESSAGES).nth(2 * (turn - 1)).inner_text()


def test_a_three_turn_conversation_in_a_real_browser(page: Page, tmp_path: Path) -> None:
    _ask(page, "unconfirmed trades by platform", 1)
    _ask(page, "then by book", 2)
    _ask(page, "only GBP ones", 3)
    second, third = _user_text(page, 2), _user_text(page, 3)
    shoot(page, tmp_path, "conversation-follow-ups.png")
    body = page.inner_text("body")
    assert "Traceback" not in body
    assert "Stands for:" in second and "book" in second and "Same as before," in second
    assert "Stands for:" in third and "GBP" in third

    page.get_by_role("button", name="New conversation").click()
    page.wait_for_function(f"document.querySelectorAll('{MESSAGES}').length === 0",
                           timeout=60_000)


def test_a_click_on_a_bar_lists_the_rows_behind_it(page: Page, tmp_path: Path) -> None:
    _ask(page, "unconfirmed trades by platform", 1)
    bars = page.locator(".js-plotly-plot .barlayer .point path")
    bars.first.wait_for(timeout=60_000)
    leader = page.locator(".js-plotly-plot .xtick text").first.text_content() or ""
    # Where a person clicks: plotly's drag layer lies over the bars and takes the click for
    # the bar under the pointer, so the pointer goes there first.
    box = bars.first.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    _messages(page, 4)
    drill = _user_text(page, 2)
    shoot(page, tmp_path, "conversation-drill.png")
    assert leader in drill and "Stands for:" in drill
    assert "Traceback" not in page.inner_text("body")
    assert page.locator(MESSAGES).nth(3).locator('[data-testid="stDataFrame"]').count() == 1


def test_a_comparison_with_last_month_in_a_real_browser(page: Page, tmp_path: Path) -> None:
    _ask(page, "unconfirmed trades by platform", 1)
    _ask(page, "compare with last month", 2)
    answer = page.locator(MESSAGES).nth(3)
    legend = answer.locator(".js-plotly-plot .legend .traces")
    legend.first.wait_for(timeout=60_000)
    names = [legend.nth(i).text_content() or "" for i in range(legend.count())]
    shoot(page, tmp_path, "conversation-compare.png")
    assert len(names) == 2 and "Traceback" not in page.inner_text("body")
    assert "Stands for:" in _user_text(page, 2)
