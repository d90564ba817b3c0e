"""End to end: the Training page's flow for a new warehouse, served on loopback and driven in
headless Chromium (Debian's /usr/bin/chromium through Playwright, as tests/test_e2e_app.py):
test the connection to a bank's own warehouse, draft its glossary, and look at the draft.

The screenshot goes to the test's tmp_path; with SAVE_SCREENSHOTS=1 it is also saved as
docs/screenshots/training-draft.png (for the README; never written in CI). Not an OPSCOPILOT_
name: the app refuses unknown settings of its own prefix."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from newschemas.shipregistry.warehouse import build as build_ships

from tests.appserver import ROOT, browser_tab, serve_app

SCREENSHOT = ROOT / "docs" / "screenshots" / "training-draft.png"


@pytest.fixture
def served_new_warehouse(tmp_path: Path) -> Iterator[str]:
    """The app on loopback, pointed at a ship registry it was never trained on."""
    build_ships(tmp_path / "ships.db")
    (tmp_path / "data").mkdir()
    with serve_app({"OPSCOPILOT_DATA_DIR": str(tmp_path / "data"),
                    "OPSCOPILOT_AS_OF": "2026-11-20", "OPSCOPILOT_PROFILE": "ships",
                    "OPSCOPILOT_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'ships.db'}"}) as base:
        yield base


def test_connect_and_draft_a_new_warehouse_in_a_real_browser(
        served_new_warehouse: str, tmp_path: Path) -> None:
    shot = tmp_path / "training-draft.png"
    with browser_tab(1700) as page:
        page.goto(f"{served_new_warehouse}/training")
        page.get_by_text("Connect a new warehouse").wait_for(timeout=60_000)
        page.get_by_role("button", name="Test connection").click()
        page.get_by_text("Connected: 5 tables").wait_for(timeout=60_000)
        page.get_by_role("button", name="Draft a glossary from the schema").click()
        page.get_by_text("5 tables, 5 entities").wait_for(timeout=60_000)
        page.wait_for_function(  # the entities editor has drawn its cells
            """() => {
                const grid = document.querySelector('[data-testid="stDataFrame"]');
                return grid !== null && grid.textContent.includes('port call');
            }""", timeout=60_000)
        page.get_by_role("button", name="Train with this draft").wait_for()
        page.wait_for_timeout(1000)  # let the grids and code blocks finish drawing
        body = page.inner_text("body")
        page.screenshot(path=str(shot), full_page=True)
    assert "not been trained" in body and "Traceback" not in body
    assert "Download the draft (YAML files, zip)" in body
    assert "kind: entities" in body  # the first file, as drafted
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if os.environ.get("SAVE_SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
