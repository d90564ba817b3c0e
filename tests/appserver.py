"""The app as the Quick start launches it, served on loopback for the browser tests, and
the headless Chromium settings they share (Debian's /usr/bin/chromium; nothing downloaded)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# Chromium's background services would try the closed network; keep it quiet and offline.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@contextlib.contextmanager
def browser_tab(height: int = 1200, *, downloads: bool = False) -> Iterator[Page]:
    """A tab in a fresh Debian headless Chromium, 1400 px wide; closed afterwards."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": height},
                                   accept_downloads=downloads)
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as reply:
            if reply.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextlib.contextmanager
def serve_app(settings: dict[str, str], address: str = "127.0.0.1") -> Iterator[str]:
    """streamlit_app.py on a free port with these OPSCOPILOT_ settings; its URL, always on
    127.0.0.1 (`address` is what the app binds: another one still answers there)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
         "--server.address", address, "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, **settings}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(f"{base}/_stcore/health", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextlib.contextmanager
def serve_trained_demo(trained_demo_dir: Path, folder: Path) -> Iterator[str]:
    """The app on a private copy (in `folder`) of the trained demo's data, as of the demo's
    date; its URL."""
    data = Path(shutil.copytree(trained_demo_dir, folder / "data"))
    with serve_app({"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20"}) as base:
        yield base


SCREENSHOTS = ROOT / "docs" / "screenshots"


def shoot(page: Page, folder: Path, name: str, *, whole: bool = True,
          publish: bool = True) -> Path:
    """A screenshot of the page into `folder`; with SAVE_SCREENSHOTS=1 (and `publish`) also
    into docs/screenshots/, where the README shows it. `whole`: the app scrolls inside its
    main section, so the window is first made as tall as its content."""
    if whole:
        tall = page.evaluate("Math.max(...[...document.querySelectorAll('section, div')]"
                             ".map(e => e.scrollHeight))")
        # Plus the header and padding above the content: nothing scrolls out of the shot.
        page.set_viewport_size({"width": 1400, "height": min(max(int(tall) + 200, 1000), 8000)})
        page.wait_for_timeout(1000)  # the charts redraw at the new size
    page.mouse.move(1399, 500)  # no hover highlight left where the last click was
    shot = folder / name
    page.screenshot(path=str(shot), full_page=True)
    if publish and os.environ.get("SAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOTS / name)
    return shot
