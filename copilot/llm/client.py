"""The LLM connector: an `LLMClient` protocol and one implementation over the
OpenAI-compatible chat-completions HTTP API (bank gateways, Groq, vLLM, Ollama, Azure).

The standard library's urllib is enough and honours the proxy (`HTTPS_PROXY`, `NO_PROXY`) and
CA (`SSL_CERT_FILE`) variables a bank's platform team sets. Every request runs on a daemon
thread that the caller waits for until the question's deadline only: a server that stalls
or trickles bytes cannot hang the page.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from typing import Literal, Protocol

from copilot.errors import LLMError, LLMTimeout, LLMUnavailable
from copilot.llm.config import LLMConfig

__all__ = ["ChatMessage", "LLMClient", "LLMReply", "OpenAICompatibleClient"]

MAX_REPLY_BYTES = 1_000_000  # a chat completion is a few KB; more is not one
RETRYABLE = frozenset({429, 500, 502, 503, 504})


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
        self._opener = urllib.request.build_opener()

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
        while True:
            attempts += 1
            response = self._send(body, deadline)
            if response.status == 200:
                return self._reply(response.body, messages, attempts, started)
            if response.status not in RETRYABLE or attempts > self.config.retries:
                raise self._http_error(response)
            pause = _backoff(attempts, response.headers.get("Retry-After"))
            if time.monotonic() + pause >= deadline:
                raise LLMTimeout(f"The LLM endpoint was busy (HTTP {response.status}) and the "
                                 "question's time ran out before another try.")
            time.sleep(pause)

    def _send(self, body: bytes, deadline: float) -> _Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LLMTimeout("The question's time for the LLM ran out.")
        request = urllib.request.Request(self.config.endpoint, data=body, method="POST",
                                         headers=self.config.request_headers())
        outcome: dict[str, _Response | BaseException] = {}
        done = threading.Event()

        def work() -> None:
            try:
                with self._opener.open(request, timeout=remaining) as response:
                    outcome["ok"] = _Response(response.status, response.headers,
                                              response.read(MAX_REPLY_BYTES + 1))
            except urllib.error.HTTPError as exc:
                outcome["ok"] = _Response(exc.code, exc.headers, exc.read(MAX_REPLY_BYTES + 1))
            except BaseException as exc:  # reported to the caller below
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=work, name="llm-request", daemon=True).start()
        if not done.wait(remaining):
            raise LLMTimeout(f"The LLM did not answer within {self.config.timeout_s:g} s.")
        if "error" in outcome:
            raise self._network_error(outcome["error"])  # type: ignore[arg-type]
        return outcome["ok"]  # type: ignore[return-value]

    def _reply(self, body: bytes, messages: Sequence[ChatMessage], attempts: int,
               started: float) -> LLMReply:
        if len(body) > MAX_REPLY_BYTES:
            raise LLMError("The LLM endpoint sent more than 1 MB; that is not a chat reply.")
        try:
            data = json.loads(body)
            text = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMError("The LLM endpoint answered something that is not a chat "
                           "completion (no choices[0].message.content).") from None
        if not isinstance(text, str):
            raise LLMError("The LLM endpoint's reply has no text.")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        prompt_estimate = sum(estimate_tokens(m.content) for m in messages)
        return LLMReply(
            text=text,
            prompt_tokens=_int(usage.get("prompt_tokens"), prompt_estimate),
            completion_tokens=_int(usage.get("completion_tokens"), estimate_tokens(text)),
            attempts=attempts, ms=(time.monotonic() - started) * 1000,
        )

    def _http_error(self, response: _Response) -> LLMError:
        detail = self._scrub(_error_message(response.body))
        status = response.status
        if status in (401, 403):
            return LLMUnavailable(f"The LLM endpoint refused the key (HTTP {status}); check "
                                  "the API key and the key header.")
        if status == 404:
            return LLMUnavailable("The LLM endpoint says not found (HTTP 404); check the base "
                                  f"URL and the model or deployment name. {detail}".strip())
        if status in RETRYABLE:
            return LLMUnavailable(f"The LLM endpoint kept failing (HTTP {status}) after "
                                  f"{self.config.retries} retries. {detail}".strip())
        return LLMError(f"The LLM endpoint rejected the request (HTTP {status}). {detail}"
                        .strip())

    def _network_error(self, exc: BaseException) -> LLMError:
        if isinstance(exc, TimeoutError):
            return LLMTimeout(f"The LLM did not answer within {self.config.timeout_s:g} s.")
        reason = getattr(exc, "reason", exc)
        return LLMUnavailable(f"The LLM endpoint {self.config.endpoint} cannot be reached: "
                              f"{self._scrub(str(reason))}.")

    def _scrub(self, text: str) -> str:
        # An endpoint echoing the request must not put the key on a page.
        return text.replace(self.config.api_key, "***") if self.config.api_key else text


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
