"""The process-wide services, built once and shared by every page and browser session."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import streamlit as st

from copilot.core.identity import Identity, IdentityRefused
from copilot.core.serving import login_configured
from copilot.core.settings import Settings
from copilot.settings import load_settings
from copilot.wiring import Services, build_services, dashboards_of, reports_of
from dashboards import DashboardService
from reports import ReportService

IDENTITY_KEY = "identity"  # the session's Identity, set by the login gate


@st.cache_resource(show_spinner="Preparing the warehouse (the demo is built on first launch)…")
def _cached_services(_settings: Settings, settings_key: str) -> Services:
    # Keyed on the settings' text, so a changed environment (or a test) gets its own services.
    return build_services(_settings)


def _key(settings: Settings) -> str:
    # The keys are kept out of repr(); their hash still tells a rotated key from the old one.
    secrets = "\n".join((settings.llm.api_key, settings.app.secret_key))
    return f"{settings!r} {hashlib.sha256(secrets.encode()).hexdigest()}"


def services() -> Services:
    """The services for the settings in force; errors propagate as CopilotError."""
    settings = load_settings()
    return _cached_services(settings, _key(settings))


@st.cache_resource(show_spinner="Preparing the dashboards…")
def _cached_dashboards(_services: Services, settings_key: str) -> DashboardService:
    # One per process, so its result cache is shared by every browser session.
    boards = dashboards_of(_services)
    boards.ensure_demo_dashboard(as_of=_services.settings.warehouse.effective_as_of())
    return boards


def dashboards() -> DashboardService:
    """The dashboards of the services in force (the demo's seeded on first use)."""
    svc = services()
    return _cached_dashboards(svc, _key(svc.settings))


def current_user(settings: Settings) -> str:
    """Who is asking: the person the login gate (app_pages/login.py) let in for this
    session; without a login configured, the configured or operating-system user. Never
    the configured user when a login is configured: IdentityRefused instead."""
    identity = st.session_state.get(IDENTITY_KEY)
    if isinstance(identity, Identity):
        return identity.user
    if settings.app.trusted_user_header or oidc_configured():
        raise IdentityRefused("Nobody is signed in in this session; reload the page to sign in.")
    return settings.app.user


def oidc_configured() -> bool:
    """Streamlit's `[auth]` secrets name a client (the OpenID Connect login is on)."""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets.toml at all (StreamlitSecretNotFoundError), or unreadable
        return False
    return login_configured(auth if isinstance(auth, Mapping) else None, "")


@st.cache_resource(show_spinner="Starting the report scheduler…")
def _cached_reports(_services: Services, settings_key: str) -> ReportService:
    # Once per process: the scheduler starts here, whatever reruns the script.
    return reports_of(_services)


def reports() -> ReportService:
    """The report templates, run log and the process's scheduler."""
    svc = services()
    return _cached_reports(svc, _key(svc.settings))
