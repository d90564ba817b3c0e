"""The LLM connector: an `LLMClient` protocol and one implementation over the
OpenAI-compatible chat-completions HTTP API (bank gateways, Groq, vLLM, Ollama, Azure).

The standard library's urllib is enough and honours the proxy (`HTTPS_PROXY`, `NO_PROXY`) and
CA (`SSL_CERT_FILE`) variables a bank's platform team sets. Every request runs on a thread
that the caller waits for until the question's deadline only. urllib's timeout bounds each
socket read, not the exchange: a server trickling one byte a second would keep that thread
and its socket for as long as it likes. So at the deadline the caller shuts the request's
socket down, which ends the thread's read at once, and waits for the thread to finish.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from typing import Any, Literal, Protocol

from copilot.core.errors import LLMError, LLMTimeout, LLMUnavailable
from copilot.llm.config import LLMConfig
from copilot.values import Failure

__all__ = ["ChatMessage", "LLMClient", "LLMExchangeError", "LLMExchangeTimeout",
           "LLMExchangeUnavailable", "LLMReply", "OpenAICompatibleClient"]

MAX_REPLY_BYTES = 1_000_000  # a chat completion is a few KB; more is not one
RETRYABLE = frozenset({429, 500, 502, 503, 504})
CUT_GRACE_S = 1.0  # how long a request's thread may take to notice its socket was shut


class LLMExchangeError(LLMError):
    """A failed exchange with its account for the audit log: why it failed (`failure`, and
    the last HTTP status when there was one) and how many HTTP requests it made."""

    def __init__(self, message: str, *, failure: Failure, http_status: int = 0,
                 requests: int = 0) -> None:
        super().__init__(message)
        self.failure: Failure = failure
        self.http_status = http_status
        self.requests = requests


class LLMExchangeTimeout(LLMExchangeError, LLMTimeout):
    """The exchange ran out of the question's time."""


class LLMExchangeUnavailable(LLMExchangeError, LLMUnavailable):
    """The endpoint cannot be reached, refused the key, or kept failing."""


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class LLMReply:
    """The text of the first choice and what it cost."""

    text: str
    prompt_tokens: int  # as the endpoint reported them; estimated when it did not
    completion_tokens: int
    attempts: int  # HTTP requests made, retries included
    ms: float


class LLMClient(Protocol):
    """Anything that turns chat messages into a reply before a deadline (time.monotonic)."""

    @property
    def model(self) -> str: ...

    def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int,
                 deadline: float) -> LLMReply: ...


@dataclass(frozen=True)
class _Response:
    status: int
    headers: Mapping[str, str] | Message
    body: bytes


def estimate_tokens(text: str) -> int:
    """About four characters a token for English and SQL, as tokenizers of GPT-like models
    average; good enough for budgets, and the endpoint's own count replaces it when given."""
    return (len(text) + 3) // 4


class OpenAICompatibleClient:
    """POST {base}/chat/completions with retries on 429 and 5xx, backing off, within the
    deadline the caller gives."""

    def __init__(self, config: LLMConfig) -> None:
        if not config.enabled:
            raise LLMUnavailable("No LLM is configured (OPSCOPILOT_LLM_BASE_URL is empty).")
        self.config = config

    @property
    def model(self) -> str:
        return self.config.model

    def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int,
                 deadline: float) -> LLMReply:
        started = time.monotonic()
        body = json.dumps({
            "model": self.config.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": 0,
            "max_tokens": max_tokens,
        }).encode()
        attempts = 0
        try:
            while True:
                if deadline - time.monotonic() <= 0:
                    raise LLMExchangeTimeout("The question's time for the LLM ran out.",
                                             failure="timeout")
                attempts += 1
                response = self._send(body, deadline)
                if response.status == 200:
                    return self._reply(response.body, messages, attempts, started)
                if response.status not in RETRYABLE or attempts > self.config.retries:
                    raise self._http_error(response)
                pause = _backoff(attempts, response.headers.get("Retry-After"))
                if time.monotonic() + pause >= deadline:
                    raise LLMExchangeTimeout(
                        f"The LLM endpoint was busy (HTTP {response.status}) and the "
                        "question's time ran out before another try.",
                        failure="timeout", http_status=response.status)
                time.sleep(pause)
        except LLMExchangeError as exc:
            exc.requests = attempts  # the audit log counts failed requests too
            raise

    def _send(self, body: bytes, deadline: float) -> _Response:
        remaining = deadline - time.monotonic()
        request = urllib.request.Request(self.config.endpoint, data=body, method="POST",
                                         headers=self.config.request_headers())
        outcome: dict[str, _Response | BaseException] = {}
        done = threading.Event()
        sockets = _Sockets()

        def work() -> None:
            try:
                with sockets.opener().open(request, timeout=remaining) as response:
                    outcome["ok"] = _Response(response.status, response.headers,
                                              response.read(MAX_REPLY_BYTES + 1))
            except urllib.error.HTTPError as exc:
                outcome["ok"] = _Response(exc.code, exc.headers, exc.read(MAX_REPLY_BYTES + 1))
            except BaseException as exc:  # reported to the caller below
                outcome["error"] = exc
            finally:
                done.set()

        worker = threading.Thread(target=work, name="llm-request", daemon=True)
        worker.start()
        try:
            if not done.wait(remaining):
                sockets.cut()
                worker.join(CUT_GRACE_S)
                raise LLMExchangeTimeout(
                    f"The LLM did not answer within {self.config.timeout_s:g} s.",
                    failure="timeout")
            worker.join(CUT_GRACE_S)
        finally:
            sockets.close()
        if "error" in outcome:
            raise self._network_error(outcome["error"])  # type: ignore[arg-type]
        return outcome["ok"]  # type: ignore[return-value]

    def _reply(self, body: bytes, messages: Sequence[ChatMessage], attempts: int,
               started: float) -> LLMReply:
        if len(body) > MAX_REPLY_BYTES:
            raise LLMExchangeError("The LLM endpoint sent more than 1 MB; that is not a chat "
                                   "reply.", failure="malformed_reply", http_status=200)
        try:
            data = json.loads(body)
            text = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMExchangeError("The LLM endpoint answered something that is not a chat "
                                   "completion (no choices[0].message.content).",
                                   failure="malformed_reply", http_status=200) from None
        if not isinstance(text, str):
            raise LLMExchangeError("The LLM endpoint's reply has no text.",
                                   failure="malformed_reply", http_status=200)
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        prompt_estimate = sum(estimate_tokens(m.content) for m in messages)
        return LLMReply(
            text=text,
            prompt_tokens=_int(usage.get("prompt_tokens"), prompt_estimate),
            completion_tokens=_int(usage.get("completion_tokens"), estimate_tokens(text)),
            attempts=attempts, ms=(time.monotonic() - started) * 1000,
        )

    def _http_error(self, response: _Response) -> LLMExchangeError:
        detail = self._scrub(_error_message(response.body))
        status = response.status
        if status in (401, 403):
            message = (f"The LLM endpoint refused the key (HTTP {status}); check the API key "
                       "and the key header.")
        elif status == 404:
            message = ("The LLM endpoint says not found (HTTP 404); check the base URL and "
                       f"the model or deployment name. {detail}")
        elif status in RETRYABLE:
            message = (f"The LLM endpoint kept failing (HTTP {status}) after "
                       f"{self.config.retries} retries. {detail}")
        else:
            return LLMExchangeError(f"The LLM endpoint rejected the request (HTTP {status}). "
                                    f"{detail}".strip(), failure="http_error",
                                    http_status=status)
        return LLMExchangeUnavailable(message.strip(), failure="http_error", http_status=status)

    def _network_error(self, exc: BaseException) -> LLMExchangeError:
        reason = getattr(exc, "reason", exc)  # urllib wraps a connect timeout in URLError
        if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
            return LLMExchangeTimeout(
                f"The LLM did not answer within {self.config.timeout_s:g} s.", failure="timeout")
        return LLMExchangeUnavailable(f"The LLM endpoint {self.config.endpoint} cannot be "
                                      f"reached: {self._scrub(str(reason))}.",
                                      failure="unreachable")

    def _scrub(self, text: str) -> str:
        # An endpoint echoing the request must not put the key on a page.
        return text.replace(self.config.api_key, "***") if self.config.api_key else text


class _Sockets:
    """The sockets one request opens, so that the deadline can cut them from another thread.

    Each connection keeps a duplicate of its socket: shutdown() on the duplicate ends the
    connection itself (TLS and proxy tunnels included, which replace the socket object), so
    the thread blocked in a read returns at once; closing a socket from another thread would
    not wake it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spares: list[socket.socket] = []
        self._cut = False

    def opener(self) -> urllib.request.OpenerDirector:
        """An opener whose HTTP and HTTPS connections register their sockets here; the
        environment's proxies and CA settings apply as with urllib's default opener."""
        return urllib.request.build_opener(_handler(urllib.request.HTTPHandler, self),
                                            _handler(urllib.request.HTTPSHandler, self))

    def connection(self, http_class: type[http.client.HTTPConnection]
                   ) -> Callable[..., http.client.HTTPConnection]:
        """`http_class`, its sockets opened through `_connect`."""
        def build(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            conn = http_class(host, **kwargs)
            # http.client's own seam for how a connection opens its socket.
            conn._create_connection = self._connect  # type: ignore[attr-defined]
            return conn
        return build

    def _connect(self, address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        sock = socket.create_connection(address, *args, **kwargs)
        with self._lock:
            if self._cut:  # the deadline passed while connecting
                sock.close()
                raise TimeoutError("the question's time ran out while connecting")
            self._spares.append(sock.dup())
        return sock

    def cut(self) -> None:
        """End every connection of the request now; its thread's next read fails."""
        with self._lock:
            self._cut = True
            for spare in self._spares:
                with contextlib.suppress(OSError):  # already closed by the other side
                    spare.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with self._lock:
            for spare in self._spares:
                spare.close()
            self._spares.clear()


def _handler(base: type[urllib.request.AbstractHTTPHandler], sockets: _Sockets
             ) -> urllib.request.AbstractHTTPHandler:
    """urllib's HTTP or HTTPS handler, its connections' sockets registered in `sockets`."""

    class Registering(base):  # type: ignore[misc, valid-type]
        def do_open(self, http_class: Any, req: urllib.request.Request, **kwargs: Any
                    ) -> http.client.HTTPResponse:
            return super().do_open(sockets.connection(http_class), req, **kwargs)

    return Registering()


def _backoff(attempt: int, retry_after: str | None) -> float:
    """Exponential backoff with jitter; the server's Retry-After (seconds) when it says."""
    try:
        if retry_after is not None:
            return min(max(float(retry_after), 0.0), 30.0)
    except ValueError:
        pass  # an HTTP date: fall back to our own schedule
    return 0.5 * 2 ** (attempt - 1) * (1 + random.random() / 4)


def _error_message(body: bytes) -> str:
    try:
        error = json.loads(body).get("error")
        message = error.get("message") if isinstance(error, dict) else error
        return str(message)[:300] if message else ""
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace").strip()


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and value >= 0 else default
