"""The process-wide services, built once and shared by every page and browser session."""

from __future__ import annotations

import hashlib

import streamlit as st

from copilot.core.settings import Settings
from copilot.settings import load_settings
from copilot.wiring import Services, build_services, dashboards_of, reports_of
from dashboards import DashboardService
from reports import ReportService


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
    """Who is asking: the logged-in user when Streamlit login is configured, else the
    configured or operating-system user."""
    try:
        if st.user.get("is_logged_in"):
            return str(st.user.get("email") or st.user.get("name") or settings.app.user)
    except Exception:  # no login configured, or an older Streamlit: fall back, never fail
        pass
    return settings.app.user


@st.cache_resource(show_spinner="Starting the report scheduler…")
def _cached_reports(_services: Services, settings_key: str) -> ReportService:
    # Once per process: the scheduler starts here, whatever reruns the script.
    return reports_of(_services)


def reports() -> ReportService:
    """The report templates, run log and the process's scheduler."""
    svc = services()
    return _cached_reports(svc, _key(svc.settings))
