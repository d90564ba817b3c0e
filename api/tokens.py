"""API tokens: who a REST call acts for, kept in the state database.

A token is `occ_<id>_<secret>`: the id (12 hex digits) names it in listings, the audit log
and `revoke`; the secret is 32 random bytes shown once, when the token is made, and kept
only as its SHA-256, so a copy of the state database lets nobody call the API. A token
belongs to one person (and optionally the groups an administrator stated for them), expires
(90 days unless told otherwise) and can be revoked; a revoked or expired token stays listed,
so the audit trail's token ids can always be looked up.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Column, MetaData, String, Table, insert, select, update

from copilot.core.errors import CopilotError
from copilot.core.identity import IdentityRefused, from_claims
from copilot.core.statedb import state_engine

__all__ = ["MAX_EXPIRY_DAYS", "ApiToken", "ApiTokens", "TokenRefused", "token_id_of"]

_PREFIX = "occ"
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
MAX_EXPIRY_DAYS = 3650  # ten years: a token that never expires is a finding in any review
_metadata = MetaData()
_table = Table(
    "api_tokens",
    _metadata,
    Column("id", String(16), primary_key=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("user_name", String(256), nullable=False),
    Column("groups", String, nullable=False),  # JSON list, sorted
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("expires_at", String(32), nullable=True),
    Column("revoked_at", String(32), nullable=True),
)


class TokenRefused(CopilotError):
    """A call's token is missing, malformed, unknown, expired or revoked (HTTP 401), or a
    token cannot be made as asked; the message says which."""


@dataclass(frozen=True)
class ApiToken:
    """One token as stored: never its secret."""

    id: str
    user: str
    groups: frozenset[str]
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def state(self, now: datetime | None = None) -> Literal["active", "expired", "revoked"]:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and (now or datetime.now(UTC)) >= self.expires_at:
            return "expired"
        return "active"


def token_id_of(text: str) -> str | None:
    """The id part of a presented token, or None when it is not shaped like one (for the
    audit record of a refused call: which token was tried, never its secret)."""
    parts = text.split("_", 2)
    if len(parts) == 3 and parts[0] == _PREFIX and len(parts[1]) == 12 and all(
            c in "0123456789abcdef" for c in parts[1]):
        return parts[1]
    return None


class ApiTokens:
    """The api_tokens table in the state database at `state_url`."""

    def __init__(self, state_url: str) -> None:
        self._engine = state_engine(state_url)
        _metadata.create_all(self._engine)

    def create(self, user: str, *, by: str, groups: frozenset[str] = frozenset(),
               expires_days: float | None = 90, now: datetime | None = None
               ) -> tuple[ApiToken, str]:
        """A new token for `user` and the text to hand over (shown once, never stored)."""
        try:  # the same rules as a sign-in's name and groups: plain, bounded text
            identity = from_claims({"sub": user, "groups": sorted(groups)}, user_claim="sub")
        except IdentityRefused as exc:
            raise TokenRefused(f"Cannot make a token: {exc}") from None
        if expires_days is not None and not 0 < expires_days <= MAX_EXPIRY_DAYS:
            raise TokenRefused(f"A token expires after 1 to {MAX_EXPIRY_DAYS} days, not "
                               f"{expires_days:g}.")
        now = now or datetime.now(UTC)
        secret = secrets.token_urlsafe(32)
        token = ApiToken(secrets.token_hex(6), identity.user, identity.groups, now, by,
                         now + timedelta(days=expires_days) if expires_days else None)
        with self._engine.begin() as conn:
            conn.execute(insert(_table).values(
                id=token.id, secret_sha256=_digest(secret), user_name=token.user,
                groups=json.dumps(sorted(token.groups), ensure_ascii=False),
                created_at=_text(now), created_by=by,
                expires_at=_text(token.expires_at) if token.expires_at else None))
        return token, f"{_PREFIX}_{token.id}_{secret}"

    def verify(self, text: str, *, now: datetime | None = None) -> ApiToken:
        """The active token `text` presents; TokenRefused saying why it is not one."""
        ident = token_id_of(text)
        row = None
        if ident is not None:
            with self._engine.connect() as conn:
                row = conn.execute(select(_table).where(_table.c.id == ident)).first()
        secret = text.split("_", 2)[-1]
        # Compared in constant time, and a missing row compared too, so timing tells nothing.
        stored = row.secret_sha256 if row is not None else "0" * 64
        if not hmac.compare_digest(stored, _digest(secret)) or row is None:
            raise TokenRefused("The API token is not valid. Ask an administrator for one "
                               "(python -m copilot api-token create).")
        token = _token(row)
        state = token.state(now)
        if state == "revoked":
            assert token.revoked_at is not None
            raise TokenRefused(f"The API token {token.id} was revoked on "
                               f"{token.revoked_at:%Y-%m-%d}; ask an administrator for a new one.")
        if state == "expired":
            assert token.expires_at is not None
            raise TokenRefused(f"The API token {token.id} expired on "
                               f"{token.expires_at:%Y-%m-%d}; ask an administrator for a new one.")
        return token

    def tokens(self) -> list[ApiToken]:
        """Every token, newest first (revoked and expired ones too)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(_table).order_by(_table.c.created_at.desc(),
                                                        _table.c.id)).all()
        return [_token(row) for row in rows]

    def revoke(self, token_id: str, *, now: datetime | None = None) -> ApiToken:
        """Revoke the token `token_id` at once; TokenRefused when there is none. Revoking a
        revoked token keeps its first revocation."""
        with self._engine.begin() as conn:
            conn.execute(update(_table).where(_table.c.id == token_id,
                                              _table.c.revoked_at.is_(None))
                         .values(revoked_at=_text(now or datetime.now(UTC))))
            row = conn.execute(select(_table).where(_table.c.id == token_id)).first()
        if row is None:
            raise TokenRefused(f"There is no API token {token_id!r}; "
                               "python -m copilot api-token list shows them.")
        return _token(row)

    def dispose(self) -> None:
        self._engine.dispose()


def _token(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id, user=row.user_name, groups=frozenset(json.loads(row.groups)),
        created_at=_parse(row.created_at), created_by=row.created_by,
        expires_at=_parse(row.expires_at) if row.expires_at else None,
        revoked_at=_parse(row.revoked_at) if row.revoked_at else None)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP)


def _parse(text: str) -> datetime:
    return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)
