"""The app's own state database (training profiles, LLM settings, later dashboards and
reports): how every store that keeps its tables there opens it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, ExceptionContext, make_url
from sqlalchemy.exc import DatabaseError

from copilot.core.errors import CopilotError

__all__ = ["StateUnavailable", "now_text", "state_engine"]

# What SQLite says when its file cannot be used at all, as opposed to a statement's fault.
_SQLITE_UNUSABLE = ("unable to open", "not a database", "disk i/o", "readonly database",
                    "database is locked", "malformed")


class StateUnavailable(CopilotError):
    """The state database cannot be reached, opened or used; the message says where."""


def state_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is created on first use. A database that
    is down, unreachable or not a database raises StateUnavailable, not a driver error."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateUnavailable(
                f"The state database {_where(parsed)} cannot be opened: its folder {folder} "
                f"cannot be created ({exc.strerror}). Check OPSCOPILOT_STATE_URL.") from None
    # pre_ping: after a server restart, a pooled connection is replaced, not reported.
    engine = create_engine(parsed, pool_pre_ping=True)
    event.listen(engine, "handle_error", _typed_error(parsed))
    return engine


def _where(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"file {url.database}"
    return f"at {url.host or 'localhost'}:{url.port or 'default port'}/{url.database}"


def _typed_error(url: URL) -> Callable[[ExceptionContext], None]:
    def handle(context: ExceptionContext) -> None:
        # A pre-ping must see the driver's error to replace the dead connection itself.
        if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, DatabaseError):
            return
        reason = str(context.original_exception).strip().splitlines()[0]
        if url.get_backend_name() == "sqlite":
            unusable = any(word in reason.lower() for word in _SQLITE_UNUSABLE)
        else:  # connecting failed, or the server went away under a connection
            unusable = context.connection is None or context.is_disconnect
        if unusable:
            check = ("the file" if url.get_backend_name() == "sqlite"
                     else "that the server is running")
            raise StateUnavailable(
                f"The state database {_where(url)} cannot be reached or used: {reason}. "
                f"Check {check} and OPSCOPILOT_STATE_URL.") from None
    return handle


def now_text() -> str:
    """The UTC time as the state tables store it: ISO 8601 with microseconds and a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
