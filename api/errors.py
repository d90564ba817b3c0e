"""The API's typed errors and the HTTP status of each error the copilot raises.

Every refusal reaches the caller as JSON `{"error": message}` with the message written for
a person (the same text a page shows); never a traceback. Which status an error gets is a
registry looked up along the error's class hierarchy, so an error type added later gets its
status with one `register_status` line instead of an edit to a closed list.
"""

from __future__ import annotations

from api.tokens import TokenRefused
from copilot.core.access import AccessDenied
from copilot.core.audit import AuditError
from copilot.core.errors import (
    CopilotError,
    QueryTimeout,
    WarehouseError,
    WarehouseUnavailable,
)
from copilot.core.statedb import StateUnavailable

__all__ = ["BodyTooLarge", "NotFound", "register_status", "status_of"]


class NotFound(CopilotError):
    """The report, dashboard or path a call names does not exist (HTTP 404)."""


class BodyTooLarge(CopilotError):
    """A request body past the API's limit (HTTP 413); nothing of it was read further."""


_STATUS: dict[type[BaseException], int] = {}


def register_status(error: type[BaseException], status: int) -> None:
    """Answer `error` (and its subclasses without a status of their own) with `status`."""
    _STATUS[error] = status


for _error, _status in (
        (CopilotError, 400),  # the caller can fix it: the message says how
        (TokenRefused, 401), (AccessDenied, 403), (NotFound, 404), (BodyTooLarge, 413),
        # The copilot could not record what it did: the action must not look done.
        (AuditError, 500),
        (WarehouseError, 502), (StateUnavailable, 503), (WarehouseUnavailable, 503),
        (QueryTimeout, 504)):
    register_status(_error, _status)


def status_of(error: BaseException) -> int:
    """The HTTP status of `error`: its nearest registered class's; 500 for a defect."""
    for kind in type(error).__mro__:
        if kind in _STATUS:
            return _STATUS[kind]
    return 500
