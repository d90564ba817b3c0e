"""The process-wide services, built once and shared by every page and browser session."""

from __future__ import annotations

import hashlib

import streamlit as st

from copilot.config import Settings, load_settings
from copilot.services import Services, build_services


@st.cache_resource(show_spinner="Preparing the warehouse (the demo is built on first launch)…")
def _cached_services(_settings: Settings, settings_key: str) -> Services:
    # Keyed on the settings' text, so a changed environment (or a test) gets its own services.
    return build_services(_settings)


def services() -> Services:
    """The services for the settings in force; errors propagate as CopilotError."""
    settings = load_settings()
    # The key is kept out of repr(); its hash still tells a rotated key from the old one.
    key = hashlib.sha256(settings.llm_api_key.encode()).hexdigest()
    return _cached_services(settings, f"{settings!r} {key}")


def current_user(settings: Settings) -> str:
    """Who is asking: the logged-in user when Streamlit login is configured, else the
    configured or operating-system user."""
    try:
        if st.user.get("is_logged_in"):
            return str(st.user.get("email") or st.user.get("name") or settings.user)
    except Exception:  # no login configured, or an older Streamlit: fall back, never fail
        pass
    return settings.user
