"""End to end: the Dashboards and Reports pages, served on loopback and driven in headless
Chromium (Debian's /usr/bin/chromium through Playwright, as tests/test_e2e_app.py): the
seeded dashboard with every widget drawn and each widget's CSV downloaded under a name that
says what it holds; the Reports form showing only the fields of the chosen source and frequency.

Screenshots go to the test's tmp_path; with SAVE_SCREENSHOTS=1 they are also saved as
docs/screenshots/dashboard.png and reports-form.png (for the README; never written in CI),
as in tests/test_e2e_conversation.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page

from copilot.core.filenames import download_name
from dashboards.seed import MORNING_CHECK_WIDGETS
from tests.appserver import browser_tab, serve_trained_demo, shoot

SETTLED = ("!document.querySelector('[data-testid=\"stStatusWidget\"]')"
           " && document.querySelectorAll('[data-stale=\"true\"]').length === 0")
# The Reports form's fields that come and go with a choice, by their labels.
FIELDS = ("Question", "Widget", "SQL (checked by the SQL guard)", "Days", "Day of the month",
          "At", "Cron (minute hour day month weekday)", "Weekdays only")


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory, trained_demo_dir: Path) -> Iterator[str]:
    with serve_trained_demo(trained_demo_dir, tmp_path_factory.mktemp("pages")) as base:
        yield base


@pytest.fixture
def browser_page() -> Iterator[Page]:
    """A tab in a fresh browser, 1400 px wide."""
    with browser_tab(1200, downloads=True) as tab:
        yield tab


def _settle(page: Page) -> None:
    page.wait_for_function(SETTLED, timeout=90_000)
    page.wait_for_timeout(500)


def _visible(page: Page) -> set[str]:
    """Which of the form's optional fields are on the page."""
    return {label for label in FIELDS if page.get_by_label(label, exact=True).count()}


def test_the_seeded_dashboard_and_a_widget_csv(served_app: str, browser_page: Page,
                                               tmp_path: Path) -> None:
    page = browser_page
    page.goto(f"{served_app}/dashboards")
    page.get_by_text(MORNING_CHECK_WIDGETS[-1][0]).wait_for(timeout=90_000)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4",
                           timeout=90_000)
    _settle(page)
    body = page.inner_text("body")
    assert "Traceback" not in body
    for title, *_ in MORNING_CHECK_WIDGETS:
        assert title in body

    # A CSV for each widget with rows (the dashboard's export waits in its closed expander).
    buttons = page.locator('[data-testid="stDownloadButton"] [data-testid^="stBaseButton"]'
                           ).filter(visible=True)
    names = {}
    for index in range(buttons.count()):
        with page.expect_download(timeout=30_000) as caught:
            buttons.nth(index).click()
        text = Path(caught.value.path()).read_text(encoding="utf-8")
        names[caught.value.suggested_filename] = text.count("\n")
    expected = {download_name(title, date(2026, 11, 20), "csv")
                for title, *_ in MORNING_CHECK_WIDGETS}
    assert "unconfirmed-trades-by-age-2026-11-20.csv" in names and set(names) <= expected
    assert min(names.values()) >= 2  # a header and rows
    shoot(page, tmp_path, "dashboard.png")


def test_the_reports_form_shows_only_what_applies(served_app: str, browser_page: Page,
                                                  tmp_path: Path) -> None:
    page = browser_page
    page.goto(f"{served_app}/reports")
    page.get_by_text("New report").click()
    page.get_by_label("Name", exact=True).wait_for(timeout=60_000)
    _settle(page)
    assert _visible(page) == {"Question", "At", "Weekdays only"}  # a question, daily

    choices = {"Weekly": {"Question", "Days", "At"},
               "Monthly": {"Question", "Day of the month", "At"},
               "Cron": {"Question", "Cron (minute hour day month weekday)"},
               "Daily": {"Question", "At", "Weekdays only"}}
    for choice, fields in choices.items():
        page.get_by_role("radio", name=choice, exact=True).click()
        _settle(page)
        assert _visible(page) == fields, choice
    page.get_by_role("radio", name="SQL", exact=True).click()
    _settle(page)
    assert _visible(page) == {"SQL (checked by the SQL guard)", "At", "Weekdays only"}
    page.get_by_role("radio", name="A dashboard widget", exact=True).click()
    _settle(page)
    assert _visible(page) == {"Widget", "At", "Weekdays only"}

    page.get_by_label("Name", exact=True).fill("Morning fails")
    page.get_by_label("Name", exact=True).press("Tab")
    _settle(page)
    assert "Traceback" not in page.inner_text("body")
    shoot(page, tmp_path, "reports-form.png")
