"""An OpenAI-compatible chat-completions server for tests: real HTTP on a loopback port,
replies scripted by the test, every request recorded.

No model can run here, so the "model" is a script: a list of steps consumed one per
request, or a function of the request. A step is a reply text, or a `Step` with a status,
headers, a raw body, a delay or a trickle (the response sent one byte at a time, each read
of the client succeeding long before its read timeout).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from tests.loopback import LoopbackHTTPServer


@dataclass(frozen=True)
class Step:
    text: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as the body instead of a chat completion
    delay_s: float = 0.0
    trickle_s: float = 0.0  # when set, one byte of the response every trickle_s seconds
    trickle_body_only: bool = False  # the status line and headers at once, then the trickle


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    path: str
    query: str
    headers: dict[str, str]  # names in lower case: HTTP headers ignore case
    body: dict[str, Any]
    raw: str

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.body.get("messages", [])

    @property
    def prompt(self) -> str:
        return "\n".join(m["content"] for m in self.messages)

    @property
    def question(self) -> str:
        """The analyst's question, from the first user message's 'Question:' line."""
        first = next(m["content"] for m in self.messages if m["role"] == "user")
        for line in first.splitlines():
            if line.startswith("Question:"):
                return line.removeprefix("Question:").strip()
        return ""


Script = list[Step | str] | Callable[[Seen], Step | str]


def chat_body(text: str) -> bytes:
    return json.dumps({
        "id": "chatcmpl-test", "object": "chat.completion", "model": "scripted",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }).encode()


class ScriptedLLM(LoopbackHTTPServer):
    """Start with `with ScriptedLLM(script) as llm:`; `llm.base_url` ends in /v1."""

    def __init__(self, script: Script | None = None) -> None:
        self.script: Script = script if script is not None else []
        self.requests: list[Seen] = []
        self.open_connections = 0  # connections the server holds now
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                super().setup()
                with owner._lock:
                    owner.open_connections += 1

            def finish(self) -> None:
                try:
                    super().finish()
                    self.connection.close()  # closed here, not later, so that tests can count
                finally:
                    with owner._lock:
                        owner.open_connections -= 1

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                parts = urlsplit(self.path)
                seen = Seen(parts.path, parts.query,
                            {k.lower(): v for k, v in self.headers.items()},
                            json.loads(raw or "{}"), raw)
                step = owner._next(seen)
                if step.delay_s:
                    time.sleep(step.delay_s)
                body = step.raw if step.raw is not None else (
                    chat_body(step.text) if step.status == 200
                    else json.dumps({"error": {"message": f"scripted {step.status}"}}).encode())
                if step.trickle_s:
                    self._trickle(step, body)
                    return
                try:
                    self.send_response(step.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def _trickle(self, step: Step, body: bytes) -> None:
                head = (f"{self.protocol_version} {step.status} Scripted\r\n"
                        "Content-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n").encode()
                data, at_once = head + body, len(head) if step.trickle_body_only else 0
                try:
                    self.wfile.write(data[:at_once])
                    for i in range(at_once, len(data)):
                        if owner._stopping.wait(step.trickle_s):
                            return
                        self.wfile.write(data[i:i + 1])
                except OSError:
                    pass  # the client closed the connection: what a deadline must do

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()  # a trickle still running (a leaking client) ends with the test
        super().__exit__(*exc)

    @property
    def base_url(self) -> str:
        return self.root + "/v1"

    def _next(self, seen: Seen) -> Step:
        with self._lock:
            self.requests.append(seen)
            if callable(self.script):
                step = self.script(seen)
            elif self.script:
                step = self.script.pop(0)
            else:
                step = Step(status=500)
        return Step(text=step) if isinstance(step, str) else step
