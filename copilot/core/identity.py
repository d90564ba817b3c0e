"""Who a person is: their name and groups, read from what the login hands the app.

Two logins give an identity (copilot/core/serving.py says which are configured):

- Streamlit's OpenID Connect login puts the ID token's claims in `st.user`. The name is the
  configured claim (`OPSCOPILOT_USER_CLAIM`, `email` by default), else `preferred_username`,
  else `sub` (every ID token has one): an IdP that sends no email (a service account, an
  ADFS user without a mail attribute) still has a stable name, and the name never silently
  changes meaning once a claim is there. Groups come from `OPSCOPILOT_GROUPS_CLAIM`
  (`groups`), a list of strings or one string.
- A single sign-on proxy passes the name in a trusted header (`OPSCOPILOT_TRUSTED_USER_HEADER`)
  and, optionally, the groups in another, comma-separated.

Both are untrusted text until checked here: a name or group is plain text (no control or
format characters, no markup), bounded in length; anything else refuses the identity
(IdentityRefused) instead of trimming it into someone else's name. Pure functions, so the
rules are tested without Streamlit.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from copilot.core.errors import CopilotError

__all__ = ["MAX_GROUPS", "MAX_NAME", "Identity", "IdentityRefused", "Source",
           "from_claims", "from_headers", "login_id"]

Source = Literal["oidc", "header", "configured"]
MAX_NAME = 256  # longer than any e-mail address (254) a real IdP sends
MAX_GROUPS = 200  # Entra ID stops listing groups in the token past 200 (it sends an overage)
_FALLBACK_CLAIMS = ("preferred_username", "sub")


class IdentityRefused(CopilotError):
    """The login handed over no usable name (missing, empty, too long or not plain text)."""


@dataclass(frozen=True)
class Identity:
    """A signed-in person: their name, their groups, which login said so and when."""

    user: str
    groups: frozenset[str] = frozenset()
    source: Source = "configured"
    signed_in_at: datetime | None = None  # the ID token's `iat`: when the IdP signed them in


def from_claims(claims: Mapping[str, object], *, user_claim: str = "email",
                groups_claim: str = "groups") -> Identity:
    """The identity in an ID token's claims (`st.user`); IdentityRefused when no claim
    names the person."""
    user = ""
    for claim in (user_claim, *_FALLBACK_CLAIMS):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            user = _plain(value, f"the {claim!r} claim")
            break
    if not user:
        raise IdentityRefused(
            f"The sign-in named nobody: the ID token has no {user_claim!r}, "
            "'preferred_username' or 'sub' claim. Ask your administrator to check "
            "OPSCOPILOT_USER_CLAIM and the identity provider's claims.")
    return Identity(user, _groups(claims.get(groups_claim), f"the {groups_claim!r} claim"),
                    "oidc", _issued_at(claims.get("iat")))


def from_headers(headers: Mapping[str, str], *, user_header: str,
                 groups_header: str = "") -> Identity:
    """The identity a trusted proxy passed in `headers` (looked up case-insensitively);
    IdentityRefused when the user header is missing, empty or not a plain name."""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    raw = lowered.get(user_header.lower())
    if raw is None or not str(raw).strip():
        raise IdentityRefused(
            f"This request did not come through the sign-on proxy: its {user_header} header, "
            "which names the signed-in person, is missing or empty. Open the app through "
            "the proxy's address.")
    user = _plain(str(raw), f"the {user_header} header")
    groups: frozenset[str] = frozenset()
    if groups_header and (text := lowered.get(groups_header.lower())):
        groups = _groups(str(text).split(","), f"the {groups_header} header")
    return Identity(user, groups, "header")


def login_id(identity: Identity, extra: str = "") -> str:
    """A stable key for one sign-in: the same person signed in at the same moment (and
    `extra`, such as the IdP's `sid`) is the same login, whichever tab or process sees it."""
    stamp = identity.signed_in_at.isoformat() if identity.signed_in_at else ""
    return f"{identity.source}|{identity.user}|{stamp}|{extra}"


def _groups(value: object, where: str) -> frozenset[str]:
    """Groups from a claim or a header: a list of strings, or one string; blanks dropped."""
    if value is None:
        return frozenset()
    items: Iterable[object] = [value] if isinstance(value, str) else (
        value if isinstance(value, list | tuple) else [value])
    if not all(isinstance(i, str) for i in items):  # a number, a mapping: not names
        raise IdentityRefused(f"{where.capitalize()} is not a list of group names.")
    names = [str(i).strip() for i in items if str(i).strip()]
    if len(names) > MAX_GROUPS:
        raise IdentityRefused(f"{where.capitalize()} lists {len(names)} groups; at most "
                              f"{MAX_GROUPS} are read. Ask your administrator to send only "
                              "the groups the app's roles name.")
    return frozenset(_plain(name, where) for name in names)


def _plain(text: str, where: str) -> str:
    """`text` stripped when it is a plain, bounded name; else IdentityRefused."""
    name = text.strip()
    if len(name) > MAX_NAME:
        raise IdentityRefused(f"{where.capitalize()} is longer than {MAX_NAME} characters.")
    # Control and format characters (newlines, bidi overrides, zero-width joiners) would let
    # one name look like another in the audit trail; markup would be drawn by a page.
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name) or any(
            c in name for c in "<>`"):
        raise IdentityRefused(f"{where.capitalize()} is not a plain name.")
    return name


def _issued_at(value: object) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None
