"""Receivers for the delivery tests, on loopback ports: an SMTP server (aiosmtpd) and an HTTP
webhook endpoint standing in for Slack and Teams. Both record what they receive.

The SMTP server can require a login with a given user and password, refuse every login,
refuse chosen recipients, and drop the connection after queueing a message (before its
reply); the webhook answers a scripted status per request (e.g. 500 twice, then 200) so
retries can be tested without a real Slack or Teams.
"""

from __future__ import annotations

import email
import json
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.loopback import LoopbackHTTPServer


@dataclass(frozen=True)
class Received:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage  # parsed with the modern policy: get_body(), iter_attachments()
    login: str | None  # the user the session logged in as, if any

    def attachments(self) -> dict[str, bytes]:
        """File name -> the bytes as sent (get_content() would decode text/* to str)."""
        return {part.get_filename() or "": part.get_payload(decode=True)
                for part in self.message.iter_attachments()}

    def body(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None, f"no text/{subtype} part"
        return part.get_content()


@dataclass(frozen=True)
class LoginAttempt:
    peer: str  # host:port of the client: one per SMTP connection
    user: str
    ok: bool


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        # What aiosmtpd's auth_required does, without its warning about plain-text AUTH.
        if self.server.requires_login and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.server.refuse_recipients:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=default_policy)
        login = session.auth_data.login.decode() if session.authenticated else None
        with self.server.lock:
            self.server.received.append(Received(
                envelope.mail_from or "", tuple(envelope.rcpt_tos), parsed, login))
        if self.server.drop_after_data:
            # The message is queued, then the connection drops before the reply to the
            # final dot: the client cannot know it arrived.
            server.transport.close()
        return "250 Message accepted"


class _LoopbackController(Controller):
    """aiosmtpd's controller, on a port the OS picks (no race for a "free" port)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class MailServer:
    """Start with `with MailServer(user="u", password="p") as smtp:`; `smtp.port` to connect.

    With a user set, logins are checked and mail without a login is refused (530), as at a
    bank's relay; `refuse_logins=True` refuses every login whatever the password."""

    def __init__(self, *, user: str = "", password: str = "", refuse_logins: bool = False,
                 refuse_recipients: frozenset[str] = frozenset(),
                 drop_after_data: bool = False) -> None:
        self.user, self.password, self.refuse_logins = user, password, refuse_logins
        self.drop_after_data = drop_after_data
        self.refuse_recipients = refuse_recipients
        self.received: list[Received] = []
        self.logins: list[LoginAttempt] = []
        self.lock = threading.Lock()
        self.requires_login = bool(user) or refuse_logins
        self._controller = _LoopbackController(
            _Handler(self), hostname="127.0.0.1", port=0,
            # Plain-text AUTH is fine on loopback; a real relay would insist on TLS first.
            auth_require_tls=False,
            authenticator=self._authenticate if self.requires_login else None)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._controller.port

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        ok = not self.refuse_logins and (user, password) == (self.user, self.password)
        with self.lock:
            self.logins.append(LoginAttempt(f"{session.peer[0]}:{session.peer[1]}", user, ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def __enter__(self) -> MailServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


@dataclass(frozen=True)
class Post:
    """One request the webhook receiver got."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: Any  # the JSON document


class WebhookReceiver(LoopbackHTTPServer):
    """An incoming-webhook endpoint: `statuses` are answered one per request, then
    `then_status` for ever (e.g. `statuses=(500, 500)` fails twice, then accepts).

    Start with `with WebhookReceiver() as hook:`; post to `hook.url()`.
    """

    def __init__(self, statuses: tuple[int, ...] = (), then_status: int = 200) -> None:
        self.statuses = list(statuses)
        self.then_status = then_status
        self.posts: list[Post] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status = owner._record(Post(self.path,
                                            {k.lower(): v for k, v in self.headers.items()},
                                            json.loads(raw or b"null")))
                reply = b"ok" if status < 300 else f"scripted failure {status}".encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)

    def _record(self, post: Post) -> int:
        with self._lock:
            self.posts.append(post)
            return self.statuses.pop(0) if self.statuses else self.then_status

    def url(self, path: str = "/services/T000/B000/s3cr3tT0ken") -> str:
        return self.root + path
