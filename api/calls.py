"""Every call under /api/v1, before and after its route: who calls (the bearer token), the
bound on its body, and its one audit record on the `api` channel.

Pure ASGI rather than a route dependency, so that what no route sees is recorded too: a
call without a valid token, a body refused for its size, a path that does not exist, a
failure of the copilot itself. The record is written when the response starts and before
it is sent: a call whose record could not be written answers 500, it does not look done.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BodyTooLarge, status_of
from api.tokens import ApiTokens, TokenRefused, token_id_of
from copilot.core.audit import Recorder
from copilot.core.audit.record import Outcome
from copilot.core.directory import Directory
from copilot.core.errors import CopilotError
from copilot.core.identity import Identity

__all__ = ["ANONYMOUS", "API_PREFIX", "ApiCalls", "Caller", "Unauthenticated",
           "error_body", "outcome_of"]

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
# Who the audit record names when no token said who called: not a name a login can give
# (identity.py refuses the angle brackets), so it never reads as a person.
ANONYMOUS = "<no valid token>"


@dataclass(frozen=True)
class Caller:
    """The person a valid token acts for, and which token."""

    user: str
    groups: frozenset[str]
    token_id: str


@dataclass(frozen=True)
class Unauthenticated:
    """No valid token: why (for the 401), and which token id was tried, if any."""

    reason: str
    token_id: str | None = None


def error_body(message: str) -> bytes:
    return json.dumps({"error": message}, ensure_ascii=False).encode()


def outcome_of(status: int, state: MutableMapping[str, Any]) -> Outcome:
    """The audit outcome of a call: refused access and bodies are blocked, as is what a
    route marked so (SQL the guard refused); other client errors refused; ours error."""
    if state.get("blocked") or status in (401, 403, 413):
        return "blocked"
    if status >= 500:
        return "error"
    return "refused" if status >= 400 else "recorded"


class ApiCalls:
    """The middleware: `tokens` say who calls, a token's groups are stated to `directory`
    (as a sign-in states them), `recorder` writes each call's record, bodies past
    `max_body` bytes are refused with 413."""

    def __init__(self, app: ASGIApp, *, tokens: ApiTokens, recorder: Recorder,
                 directory: Directory, max_body: int) -> None:
        self.app = app
        self.tokens = tokens
        self.recorder = recorder
        self.directory = directory
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        headers = Headers(scope=scope)
        recorded = False

        async def sending(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                await anyio.to_thread.run_sync(self._record, scope, message["status"], started)
            await send(message)

        try:
            state["caller"] = await anyio.to_thread.run_sync(
                self._caller, headers.get("authorization", ""))
            too_big = self._too_big(headers.get("content-length", ""))
            if too_big is not None:
                await self._refuse(scope, sending, too_big)
                return
            await self.app(scope, self._bounded(receive, state), sending)
        except CopilotError as exc:  # the state database down while reading the token
            if recorded:
                raise
            state.setdefault("caller", Unauthenticated(str(exc)))
            await self._refuse(scope, sending, exc)
        except Exception:
            # A defect: recorded as an error here; ServerErrorMiddleware, outside, answers
            # the typed 500 (api/app.py) and logs the traceback.
            if not recorded:
                state.setdefault("caller", Unauthenticated("(not read)"))
                state.setdefault("error", "the copilot failed on this call")
                recorded = True
                await anyio.to_thread.run_sync(self._record, scope, 500, started)
            raise

    def _caller(self, authorization: str) -> Caller | Unauthenticated:
        if not authorization.strip():
            return Unauthenticated("This call has no API token: send the header "
                                   "'Authorization: Bearer <token>' (an administrator makes "
                                   "one with: python -m copilot api-token create).")
        scheme, _, text = authorization.strip().partition(" ")
        text = text.strip()
        if scheme.lower() != "bearer" or not text:
            return Unauthenticated("The Authorization header is not 'Bearer <token>'.")
        try:
            token = self.tokens.verify(text)
        except TokenRefused as exc:
            return Unauthenticated(str(exc), token_id_of(text))
        if token.groups:
            # The services look a person's groups up in the directory (roles, row
            # entitlements): the token states them there as a sign-in would.
            self.directory.remember(Identity(token.user, token.groups, "configured"))
        return Caller(token.user, token.groups, token.id)

    def _too_big(self, length: str) -> BodyTooLarge | None:
        if not length:
            return None
        if not length.isdigit() or int(length) > self.max_body:
            return BodyTooLarge(f"The request body is larger than the API accepts "
                                f"({self.max_body:,} bytes).")
        return None

    def _bounded(self, receive: Receive, state: MutableMapping[str, Any]) -> Receive:
        """`receive`, refusing with 413 once a body sent without a length passes the limit
        (read no further: a chunked upload cannot fill the memory)."""
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    text = (f"The request body is larger than the API accepts "
                            f"({self.max_body:,} bytes).")
                    state["error"] = text
                    # An HTTPException, not a CopilotError: FastAPI passes it on as it is
                    # while reading a body, where any other error becomes a 400.
                    raise HTTPException(413, text)
            return message

        return bounded

    async def _refuse(self, scope: Scope, send: Send, error: CopilotError) -> None:
        status = status_of(error)
        scope["state"]["error"] = str(error)
        body = error_body(str(error))
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    def _record(self, scope: Scope, status: int, started: float) -> None:
        state = scope["state"]
        caller = state.get("caller")
        route = scope.get("route")
        details: dict[str, object] = {
            "endpoint": getattr(route, "path", scope["path"]), "method": scope["method"],
            "status": status}
        if token := getattr(caller, "token_id", None):  # which token, valid or not
            details["token"] = token
        if isinstance(caller, Unauthenticated) and status == 401:
            state.setdefault("error", caller.reason)
        if "answer_record" in state:  # the record of the answer this call returned
            details["answer_record"] = state["answer_record"]
        self.recorder.record(
            "api", f"{scope['method']} {scope['path']}"[:500],
            by=caller.user if isinstance(caller, Caller) else ANONYMOUS,
            outcome=outcome_of(status, state), reason=str(state.get("error", "")),
            details=details, duration_ms=(time.perf_counter() - started) * 1000)
