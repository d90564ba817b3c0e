"""Who is at the keyboard, before any page is drawn: the sign-in page, the refusal of a
request the sign-on proxy did not vouch for, the session timeout, and the sign-out button.

`gate()` returns the person's Identity or draws the page that stands in for the app and
stops the script, so no page runs for nobody. With Streamlit's OpenID Connect login the
person signs in at the identity provider; behind a trusted header each session's request
names them; with neither, the app runs as the configured user (the single-user demo, on
loopback only: copilot/core/serving.py). Every sign-in, sign-out, timeout and refused
request is in the audit log on the `login` channel.
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from app_pages.state import IDENTITY_KEY, oidc_configured, services
from copilot.core.errors import CopilotError
from copilot.core.identity import Identity, IdentityRefused, from_claims, from_headers, login_id
from copilot.core.plaintext import markdown_text
from copilot.core.settings import Settings
from copilot.settings import load_settings

__all__ = ["gate", "settings_or_stop", "sign_out_button"]

_SEEN_KEY = "login_seen"  # the sign-in (or header identity) this session already recorded
_REFUSED_KEY = "login_refused"  # this session's refused request is recorded once


def gate(settings: Settings) -> Identity:
    """The person this session acts for; else the sign-in or refusal page, and a stop."""
    if settings.app.trusted_user_header:
        return _from_proxy(settings)
    if oidc_configured():
        return _from_oidc(settings)
    identity = Identity(settings.app.user)  # no login: the configured user, on loopback
    st.session_state[IDENTITY_KEY] = identity
    return identity


def _from_proxy(settings: Settings) -> Identity:
    app = settings.app
    try:
        identity = from_headers(dict(st.context.headers), user_header=app.trusted_user_header,
                                groups_header=app.trusted_groups_header)
    except IdentityRefused as exc:
        st.session_state.pop(IDENTITY_KEY, None)
        if not st.session_state.get(_REFUSED_KEY):
            st.session_state[_REFUSED_KEY] = True
            # Who it was is exactly what is unknown; the header's name says what was missing.
            services().recorder.record("login", "request without a usable identity header",
                                       by="(unidentified)", outcome="blocked", reason=str(exc),
                                       details={"header": app.trusted_user_header})
        _stand_in("Not signed in", str(exc))
    _welcome(identity, identity.user)
    return identity


def _from_oidc(settings: Settings) -> Identity:
    app = settings.app
    if not st.user.get("is_logged_in"):
        st.session_state.pop(IDENTITY_KEY, None)
        _sign_in_page()
    claims = {k: v for k, v in st.user.items() if k != "tokens"}
    try:
        identity = from_claims(claims, user_claim=app.user_claim, groups_claim=app.groups_claim)
    except IdentityRefused as exc:
        st.session_state.pop(IDENTITY_KEY, None)
        if not st.session_state.get(_REFUSED_KEY):
            st.session_state[_REFUSED_KEY] = True
            services().recorder.record("login", "sign-in refused", by="(unidentified)",
                                       outcome="blocked", reason=str(exc))
        if st.button("Sign out", key="sign_out_refused"):  # to sign in as someone else
            st.logout()
        _stand_in("Not signed in", str(exc))
    key = login_id(identity, str(claims.get("nonce") or ""))
    minutes = app.session_timeout_minutes
    svc = services()
    state = svc.sign_ins.touch(key, identity.user,
                               timeout=timedelta(minutes=minutes) if minutes else None)
    if state in ("expired", "ended"):
        if state == "expired":
            svc.recorder.record("login", "signed out: session timed out", by=identity.user,
                                reason=f"no activity for more than {minutes:g} minutes "
                                       "(OPSCOPILOT_SESSION_TIMEOUT_MINUTES)")
        st.session_state.pop(IDENTITY_KEY, None)
        st.logout()
        st.stop()
    _welcome(identity, key, new=state == "new")
    return identity


def _welcome(identity: Identity, key: str, *, new: bool | None = None) -> None:
    """Keep the person for this session; the first time, their groups in the directory
    and, for a new sign-in (or each proxy session), a record in the audit log."""
    st.session_state[IDENTITY_KEY] = identity
    if st.session_state.get(_SEEN_KEY) == key:
        return
    svc = services()
    changed = svc.directory.remember(identity)
    if new if new is not None else True:
        how = "the sign-on proxy" if identity.source == "header" else "OpenID Connect"
        svc.recorder.record("login", f"signed in through {how}", by=identity.user,
                            details={"groups": sorted(identity.groups),
                                     "groups_changed": changed})
    st.session_state[_SEEN_KEY] = key


def sign_out_button(identity: Identity) -> None:
    """The sidebar's signed-in name and its way out."""
    if identity.source == "configured":
        return
    with st.sidebar:
        st.caption(f"Signed in as {markdown_text(identity.user)}")
        if identity.source == "header":
            st.caption("Signing out is the sign-on proxy's: close the browser or use the "
                       "proxy's sign-out page.")
            return
        if st.button("Sign out", icon=":material/logout:", key="sign_out"):
            svc = services()
            claims = {k: v for k, v in st.user.items() if k != "tokens"}
            svc.sign_ins.end(login_id(identity, str(claims.get("nonce") or "")))
            svc.recorder.record("login", "signed out", by=identity.user)
            st.session_state.pop(IDENTITY_KEY, None)
            st.logout()
            st.stop()


def _sign_in_page() -> None:
    st.title("OTC Ops Copilot")
    st.write("Sign in with your organisation's account to continue.")
    if st.button("Sign in", type="primary", icon=":material/login:", key="sign_in"):
        st.login()
    st.stop()


def _stand_in(title: str, message: str) -> None:
    st.title(title)
    st.error(markdown_text(message))
    st.stop()


def settings_or_stop() -> Settings:
    """The settings in force; a malformed one is shown and nothing else runs (no login can
    be trusted from settings that do not read)."""
    try:
        return load_settings()
    except CopilotError as exc:
        _stand_in("Settings", str(exc))
        raise  # not reached: st.stop() ends the run
