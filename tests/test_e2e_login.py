"""End to end: who is at the keyboard. The real app (tests/appserver.serve_app) on 127.0.0.1
signs people in at an OpenID Connect provider on 127.0.0.1 (tests/oidcprovider.py) through
Streamlit's own login, configured by a secrets file outside the repository
(STREAMLIT_SECRETS_FILES); headless Chromium clicks through it. Then, behind a trusted
header, the header's person and groups. Roles come from the IdP's groups (a roles file).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from copilot.core.audit import AuditLog
from tests.appserver import browser_tab, serve_app
from tests.oidcprovider import offline, oidc_provider, secrets_toml

SETTLED = "!document.querySelector('[data-testid=\"stStatusWidget\"]')"
ROLES = """\
groups:
  ops-viewers: [viewer]
  ops-auditors: [auditor]
  ops-admins: [admin]
"""
PEOPLE = {
    "viv": {"email": "viv@bank.test", "groups": ["ops-viewers", "all-staff"]},
    "aud": {"email": "aud@bank.test", "groups": "ops-auditors"},  # one group, as a string
    "ada": {"email": "ada@bank.test", "groups": ["ops-admins"]},
}
ALL_PAGES = ("Ask", "Dashboards", "Reports", "Data", "Training", "Audit", "Settings")


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with oidc_provider(PEOPLE) as url:
        yield url


@pytest.fixture
def browser_page() -> Iterator[Page]:
    with browser_tab(1000) as tab:
        offline(tab)
        yield tab


def _settings(trained_demo_dir: Path, folder: Path, **extra: str) -> dict[str, str]:
    data = Path(shutil.copytree(trained_demo_dir, folder / "data"))
    roles = folder / "roles.yaml"
    roles.write_text(ROLES, encoding="utf-8")
    return {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20",
            "OPSCOPILOT_ROLES": str(roles), **extra}


def _oidc(trained_demo_dir: Path, folder: Path, issuer: str, **extra: str) -> dict[str, str]:
    secrets = folder / "secrets.toml"  # outside the repository: Streamlit is pointed at it
    secrets.write_text(secrets_toml(issuer), encoding="utf-8")
    return {**_settings(trained_demo_dir, folder, **extra),
            "STREAMLIT_SECRETS_FILES": str(secrets)}


def _settle(page: Page) -> None:
    page.wait_for_function(SETTLED, timeout=60_000)
    page.wait_for_timeout(300)


def _sign_in(page: Page, base: str, sub: str) -> None:
    page.goto(base)
    page.get_by_role("button", name="Sign in").click(timeout=90_000)
    page.get_by_role("button", name=sub, exact=True).click(timeout=30_000)  # the IdP's page
    page.wait_for_url(f"{base}/**", timeout=30_000)
    page.get_by_role("button", name="Sign out").wait_for(timeout=90_000)
    _settle(page)
    # The page keeps an address from becoming a link with an invisible word joiner.
    assert f"Signed in as {PEOPLE[sub]['email']}" in page.inner_text("body").replace("\u2060", "")


def _pages(page: Page) -> set[str]:
    """The pages the sidebar lists (none when there is only one: Streamlit hides it)."""
    nav = page.get_by_test_id("stSidebarNav")
    if nav.count() == 0:
        return set()
    text = nav.inner_text()
    return {name for name in ALL_PAGES if name in text.splitlines()}


def _audit(data: Path) -> list[tuple[str, str, str, str]]:
    log = AuditLog(f"sqlite:///{data / 'audit.db'}")
    try:
        return [(r.channel, r.user, r.question, r.outcome) for _, r in log.records()]
    finally:
        log.dispose()


def test_oidc_sign_in_shows_each_role_its_pages_and_audits_the_idp_name(
        trained_demo_dir: Path, tmp_path: Path, issuer: str, browser_page: Page) -> None:
    page = browser_page
    with serve_app(_oidc(trained_demo_dir, tmp_path, issuer)) as base:
        # Not signed in: the sign-in page and nothing else.
        page.goto(base)
        page.get_by_role("button", name="Sign in").wait_for(timeout=90_000)
        _settle(page)
        assert page.get_by_test_id("stChatInput").count() == 0
        assert page.get_by_test_id("stSidebarNav").count() == 0

        _sign_in(page, base, "viv")
        assert _pages(page) == {"Ask", "Dashboards", "Reports", "Data"}
        chat = page.get_by_test_id("stChatInput").locator("textarea")
        chat.fill("How many trades are there?")
        chat.press("Enter")
        page.get_by_test_id("stChatMessage").nth(1).wait_for(timeout=90_000)
        _settle(page)

        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="End session").click(timeout=30_000)  # the IdP's page
        page.get_by_role("button", name="Sign in").wait_for(timeout=90_000)
        assert page.get_by_test_id("stChatInput").count() == 0

        _sign_in(page, base, "aud")
        assert _pages(page) == set()  # one page only: the audit trail
        assert page.get_by_role("heading", name="Audit").count() >= 1
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="End session").click(timeout=30_000)
        page.get_by_role("button", name="Sign in").wait_for(timeout=90_000)

        _sign_in(page, base, "ada")
        assert _pages(page) == {"Ask", "Dashboards", "Reports", "Data", "Settings"}

    records = _audit(tmp_path / "data")
    asked = [r for r in records if r[0] == "ask"]
    assert asked and {r[1] for r in asked} == {"viv@bank.test"}
    logins = [(user, what) for channel, user, what, _ in records if channel == "login"]
    assert ("viv@bank.test", "signed in through OpenID Connect") in logins
    assert ("viv@bank.test", "signed out") in logins
    assert ("aud@bank.test", "signed in through OpenID Connect") in logins
    assert ("ada@bank.test", "signed in through OpenID Connect") in logins


def test_a_session_idle_past_the_timeout_is_signed_out(
        trained_demo_dir: Path, tmp_path: Path, issuer: str, browser_page: Page) -> None:
    page = browser_page
    settings = _oidc(trained_demo_dir, tmp_path, issuer,
                     OPSCOPILOT_SESSION_TIMEOUT_MINUTES="0.1")  # six seconds
    with serve_app(settings) as base:
        _sign_in(page, base, "viv")
        page.get_by_role("link", name="Dashboards").click()  # active: still signed in
        _settle(page)
        assert page.get_by_role("button", name="Sign out").count() == 1
        time.sleep(7)
        page.get_by_role("link", name="Ask").click()  # the next interaction after idling
        page.get_by_role("button", name="End session").click(timeout=60_000)
        page.get_by_role("button", name="Sign in").wait_for(timeout=90_000)
        assert page.get_by_test_id("stChatInput").count() == 0
    logins = [(r[1], r[2]) for r in _audit(tmp_path / "data") if r[0] == "login"]
    assert ("viv@bank.test", "signed out: session timed out") in logins


def test_a_trusted_header_names_the_person_and_its_groups_their_roles(
        trained_demo_dir: Path, tmp_path: Path, browser_page: Page) -> None:
    page = browser_page
    settings = _settings(trained_demo_dir, tmp_path,
                         OPSCOPILOT_TRUSTED_USER_HEADER="X-Forwarded-User",
                         OPSCOPILOT_TRUSTED_GROUPS_HEADER="X-Forwarded-Groups")
    with serve_app(settings) as base:
        # No header: refused, whatever the OS user; nothing but the refusal.
        page.goto(base)
        page.get_by_text("did not come through the sign-on proxy").wait_for(timeout=90_000)
        _settle(page)
        assert page.get_by_test_id("stChatInput").count() == 0
        assert page.get_by_test_id("stSidebarNav").count() == 0

        page.set_extra_http_headers({"X-Forwarded-User": "hal@bank.test",
                                     "X-Forwarded-Groups": "all-staff, ops-viewers"})
        page.goto(base)
        chat = page.get_by_test_id("stChatInput").locator("textarea")
        chat.wait_for(timeout=90_000)
        _settle(page)
        assert _pages(page) == {"Ask", "Dashboards", "Reports", "Data"}
        assert "Signing out is the sign-on proxy's" in page.inner_text("body")
        chat.fill("How many trades are there?")
        chat.press("Enter")
        page.get_by_test_id("stChatMessage").nth(1).wait_for(timeout=90_000)
        _settle(page)

        page.set_extra_http_headers({"X-Forwarded-User": "aud@bank.test",
                                     "X-Forwarded-Groups": "ops-auditors"})
        page.goto(base)
        page.get_by_role("heading", name="Audit").first.wait_for(timeout=90_000)
        _settle(page)
        assert _pages(page) == set()
        assert page.get_by_test_id("stChatInput").count() == 0

    records = _audit(tmp_path / "data")
    assert {r[1] for r in records if r[0] == "ask"} == {"hal@bank.test"}
    refused = [r for r in records if r[0] == "login" and r[3] == "blocked"]
    assert refused and refused[0][1] == "(unidentified)"
    assert ("login", "hal@bank.test", "signed in through the sign-on proxy", "recorded") \
        in records
