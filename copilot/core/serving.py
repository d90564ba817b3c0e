"""Whether the app may serve pages on the address it is bound to.

The embedded demo has no login: whoever reaches it acts as the configured user. That is fine
on the loopback interface, where only this machine's users reach it, and never on an address
the network reaches. So on any other address (`0.0.0.0`, a LAN address, the empty address
that means every interface) the app refuses to serve until a login is configured: Streamlit's
own OIDC login (`[auth]` in `.streamlit/secrets.toml`) or a trusted single sign-on header
(OPSCOPILOT_TRUSTED_USER_HEADER). Pure functions, so the rule is tested without Streamlit.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

__all__ = ["header_name", "is_loopback", "login_configured", "serving_refusal"]

_UNIX_SOCKET = "unix://"  # Streamlit's prefix for a socket file as the address
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110's field-name


def header_name(text: str) -> str:
    """An HTTP header's name (empty: none); a ValueError for anything else."""
    name = text.strip()
    if name and not _TOKEN.fullmatch(name):
        raise ValueError("must be an HTTP header name, such as X-Forwarded-User")
    return name


def is_loopback(address: str) -> bool:
    """True for an address only this machine reaches: 127.0.0.0/8, ::1, localhost. The empty
    address binds every interface, so it is not."""
    host = address.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # "", a host name: it may resolve to anything
        return False


def login_configured(auth: Mapping[str, object] | None, trusted_user_header: str) -> bool:
    """True when users must sign in: Streamlit's `[auth]` secrets name a client id (for the
    one provider, or for a named one such as `[auth.google]`), or a trusted header is set."""
    if trusted_user_header.strip():
        return True
    if not auth:
        return False
    providers = [auth, *(v for v in auth.values() if isinstance(v, Mapping))]
    return any(str(p.get("client_id") or "").strip() for p in providers)


def serving_refusal(address: str, login_configured: bool) -> str | None:
    """What the app shows instead of its pages when it must not serve them (bound beyond
    loopback with no login), else None."""
    if login_configured or is_loopback(address) or address.startswith(_UNIX_SOCKET):
        return None  # a Unix socket, like loopback, is reached from this machine only
    shown = address.strip() or "every interface"
    return (
        f"This app is served on {shown}, which other machines can reach, and no login is "
        "configured, so it shows nothing. Either serve it on this machine only "
        "(`--server.address 127.0.0.1`, as `scripts/run.sh` does), or configure a login: "
        "Streamlit's OpenID Connect login, with an `[auth]` section in "
        "`.streamlit/secrets.toml` giving `redirect_uri`, `cookie_secret`, `client_id`, "
        "`client_secret` and `server_metadata_url`; or, behind a single sign-on proxy, set "
        "OPSCOPILOT_TRUSTED_USER_HEADER to the name of the header that carries the "
        "signed-in user. See the README, \"Serving to others\".")
