"""Delivery channels for rendered reports: email (SMTP), Slack and Teams incoming webhooks, and
a folder drop (a share that SharePoint or a pickup job watches). `deliver_all` runs each channel
on its own, with retries: one broken channel never keeps a report from the others. Secrets (the
SMTP password, the webhook URL) never reach a message. urllib honours HTTPS_PROXY, SSL_CERT_FILE.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import secrets
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from http.client import HTTPException
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

from copilot.errors import CopilotError

__all__ = ["Attachment", "Channel", "DeliveryError", "DeliveryOutcome", "EmailChannel",
           "FolderChannel", "ReportMessage", "WebhookChannel", "deliver_all"]

log = logging.getLogger(__name__)

CHAT_ROWS = 10  # a chat message is a glance; the attachment or the link has the rest
EMAIL_ROWS = 50
CELL_CHARS = 40  # wider cells wreck the alignment of a preview table
MAX_REPLY_BYTES = 4_000  # webhooks answer "ok" or a short error; we only quote it
SLACK_TEXT_LIMIT = 3_000  # Slack rejects a section whose text is longer
LINK_TITLE = "Open in OTC Ops Copilot"
SecurityMode = Literal["starttls", "ssl", "none"]
WebhookKind = Literal["slack", "teams"]
_ADDRESS = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+")  # bare addresses: nothing to inject in a header


class DeliveryError(CopilotError):
    """A report could not be delivered on one channel; the message says where and why.
    `retryable` is False when another try would do harm or cannot help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: str  # "text/csv", "application/pdf", the xlsx type, ...


@dataclass(frozen=True)
class ReportMessage:
    """What one report run sends: the same content, shaped per channel."""

    subject: str
    body: str  # plain text: summary sentence(s)
    columns: tuple[str, ...] = ()  # a small table shown inline (first rows of the result)
    rows: tuple[tuple[object, ...], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    link: str = ""  # the app or the full data; left out unless it is an http(s) URL


@dataclass(frozen=True)
class DeliveryOutcome:
    channel: str  # "email", "slack", "teams", "folder"
    target: str  # recipients, webhook host (the URL is a secret) or folder path
    ok: bool
    attempts: int
    error: str = ""
    files: tuple[str, ...] = ()  # folder drop: the paths written


class Channel(Protocol):
    """A place a report goes; `deliver` raises `DeliveryError` and returns files written."""

    @property
    def name(self) -> str: ...

    @property
    def target(self) -> str: ...

    def deliver(self, message: ReportMessage) -> tuple[str, ...]: ...


def deliver_all(message: ReportMessage, channels: Sequence[Channel], *, retries: int = 2,
                backoff_s: float = 0.5,
                sleep: Callable[[float], None] = time.sleep) -> tuple[DeliveryOutcome, ...]:
    """Deliver `message` on every channel in order, each on its own: up to 1 + `retries`
    attempts with exponential backoff (`backoff_s * 2**n`). Never raises for a channel's
    failure; returns one outcome per channel for the run log and the audit trail."""
    outcomes: list[DeliveryOutcome] = []
    for channel in channels:
        attempts, error = 0, ""
        files: tuple[str, ...] = ()
        while True:
            attempts += 1
            try:
                files, error = channel.deliver(message), ""
                break
            except DeliveryError as exc:
                error = str(exc)
                if not exc.retryable or attempts > max(retries, 0):
                    break
                sleep(backoff_s * 2 ** (attempts - 1))
            except Exception as exc:  # a bug: no retry, and its text may hold secrets
                log.exception("delivery on %s failed unexpectedly", channel.name)
                error = f"The {channel.name} delivery failed unexpectedly ({type(exc).__name__})."
                break
        outcomes.append(DeliveryOutcome(channel.name, channel.target, not error, attempts,
                                        error, tuple(files)))
    return tuple(outcomes)


class EmailChannel:
    """Send over SMTP: plain text, an HTML alternative with the inline table, attachments."""

    def __init__(self, *, host: str, port: int, security: SecurityMode, username: str,
                 password: str, sender: str, recipients: Sequence[str],
                 timeout_s: float = 20.0) -> None:
        if security not in ("starttls", "ssl", "none") or not host or not 0 < port < 65536:
            raise DeliveryError(f"Check the SMTP settings: host {host!r}, port {port}, security "
                                f"{security!r} (starttls, ssl or none).")
        if not recipients or not all(map(_ADDRESS.fullmatch, (sender, *recipients))):
            raise DeliveryError(f"Check the email addresses: sender {sender!r}, recipients "
                                f"{', '.join(recipients) or 'none'}.")
        self.name, self.target, self.host, self.port = "email", ", ".join(recipients), host, port
        self.security, self.username, self._password = security, username, password
        self.sender, self.recipients, self.timeout_s = sender, tuple(recipients), timeout_s

    def deliver(self, message: ReportMessage) -> tuple[str, ...]:
        try:
            refused = self._send(self.build(message))
        except (smtplib.SMTPException, OSError) as exc:
            text = self._explain(exc)  # a server's echo must not put the password on a page
            raise DeliveryError(text.replace(self._password, "***") if self._password else text) \
                from None
        if refused:
            # Some recipients already have it: a retry would send them a duplicate.
            raise DeliveryError(f"The mail server {self.host} delivered the report but "
                                f"refused {', '.join(sorted(refused))}.", retryable=False)
        return ()

    def build(self, message: ReportMessage) -> EmailMessage:
        """The MIME message as it will be sent (public so previews and tests can read it)."""
        email = EmailMessage()
        email["Subject"] = _one_line(message.subject)
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email["Date"] = formatdate(localtime=True)
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2])
        link = _safe_link(message.link)
        table = _text_table(message.columns, message.rows, EMAIL_ROWS) if message.columns else ""
        email.set_content("\n\n".join(part for part in (message.body, table,
                                                        link and f"{LINK_TITLE}: {link}") if part))
        email.add_alternative(_html_body(message, link), subtype="html")
        for attachment in message.attachments:
            maintype, _, subtype = (attachment.mime if "/" in attachment.mime
                                    else "application/octet-stream").partition("/")
            email.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                                 filename=_safe_filename(attachment.filename))
        return email

    def _send(self, email: EmailMessage) -> dict[str, tuple[int, bytes]]:
        context = ssl.create_default_context()
        smtp = (smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
                if self.security == "ssl"
                else smtplib.SMTP(self.host, self.port, timeout=self.timeout_s))
        with smtp:
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()  # the server's extensions may differ once encrypted
            if self.username:
                smtp.login(self.username, self._password)
            return smtp.send_message(email, from_addr=self.sender,
                                     to_addrs=list(self.recipients))

    def _explain(self, exc: BaseException) -> str:
        where = f"The mail server {self.host}:{self.port}"
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return (f"{where} refused the login of {self.username!r} (SMTP {exc.smtp_code}); "
                    "check the user name and password.")
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            return f"{where} refused every recipient: {', '.join(sorted(exc.recipients))}."
        if isinstance(exc, smtplib.SMTPResponseException):  # sender refused, login needed, ...
            detail = exc.smtp_error.decode("utf-8", "replace")[:200]
            return f"{where} answered SMTP {exc.smtp_code}: {detail}."
        if isinstance(exc, TimeoutError) or "timed out" in str(exc):
            # smtplib reports a read that timed out as a disconnection
            return f"{where} did not answer within {self.timeout_s:g} s."
        if isinstance(exc, smtplib.SMTPException):  # disconnected, no STARTTLS or AUTH offered
            return f"{where} failed: {str(exc).rstrip('.')}."
        if isinstance(exc, ssl.SSLError):
            return (f"{where}: the TLS handshake failed ({exc.reason or exc}); check the "
                    "security mode and the CA bundle (SSL_CERT_FILE).")
        return f"{where} cannot be reached: {getattr(exc, 'strerror', None) or exc}."


class WebhookChannel:
    """POST the report as JSON to a Slack or Microsoft Teams incoming webhook."""

    def __init__(self, *, kind: WebhookKind, url: str, timeout_s: float = 20.0) -> None:
        parts = urlsplit(url)
        # urllib would also open file: and ftp: URLs; a webhook is http(s) and nothing else.
        if kind not in ("slack", "teams") or parts.scheme not in ("https", "http") \
                or not parts.hostname:
            raise DeliveryError(f"A {kind} webhook needs an https:// URL (and the kind slack "
                                "or teams).")
        self.kind, self._url, self._host, self.timeout_s = kind, url, parts.hostname, timeout_s
        self.name, self.target = kind, f"{kind}:{parts.hostname}"  # never the secret path
        # A redirected POST arrives as a GET without its body: better fail than "succeed".
        self._opener = urllib.request.build_opener(_NoRedirect())

    def deliver(self, message: ReportMessage) -> tuple[str, ...]:
        payload = _slack_payload(message) if self.kind == "slack" else _teams_payload(message)
        request = urllib.request.Request(self._url, data=json.dumps(payload).encode(), headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "otc-ops-copilot"})
        where = f"The {self.kind.title()} webhook on {self._host}"
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                status, reply = response.status, response.read(MAX_REPLY_BYTES)
        except urllib.error.HTTPError as exc:
            status, reply = exc.code, exc.read(MAX_REPLY_BYTES)
            exc.close()
        except (HTTPException, OSError) as exc:  # URLError is an OSError
            reason = getattr(exc, "reason", exc)
            text = (f"did not answer within {self.timeout_s:g} s"
                    if isinstance(reason, TimeoutError) else f"cannot be reached: {reason}")
            raise DeliveryError(self._scrub(f"{where} {text}.")) from None
        if not 200 <= status < 300:
            detail = self._scrub(reply.decode("utf-8", "replace").strip()[:200])
            raise DeliveryError(f"{where} answered HTTP {status}. {detail}".strip())
        return ()

    def _scrub(self, text: str) -> str:
        # The URL's path and query are the credential (Slack's token, a Teams workflow's sig=).
        parts = urlsplit(self._url)
        for secret in (self._url, parts.path, parts.query):
            text = text.replace(secret, "***") if len(secret) > 1 else text
        return text


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


class FolderChannel:
    """Drop the attachments into a folder, atomically, never replacing an earlier file."""

    def __init__(self, *, folder: Path) -> None:
        self.folder = Path(folder)
        self.name, self.target = "folder", str(folder)

    def deliver(self, message: ReportMessage) -> tuple[str, ...]:
        if not message.attachments:
            raise DeliveryError("The report has no files to drop in a folder.", retryable=False)
        written: list[Path] = []
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for attachment in message.attachments:
                written.append(self._drop(_safe_filename(attachment.filename),
                                          attachment.content))
        except OSError as exc:
            # All or nothing: a retry must not leave "x (2).csv" beside a lone earlier half.
            for path in written:
                path.unlink(missing_ok=True)
            raise DeliveryError(f"The report cannot be written to the folder {self.folder}: "
                                f"{exc.strerror or exc}.") from None
        return tuple(str(path) for path in written)

    def _drop(self, filename: str, content: bytes) -> Path:
        # A hidden temporary name, so a pickup job never sees half a file; os.open's mode
        # honours the umask (mkstemp's 0600 would hide the file from a pickup service user).
        temp = self.folder / f".{filename}.{secrets.token_hex(6)}.part"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())  # on disk before the name appears
            final, n = self.folder / filename, 1
            while final.exists():  # not os.link's atomic no-clobber: many shares lack links
                n += 1
                final = self.folder / f"{Path(filename).stem} ({n}){Path(filename).suffix}"
            temp.replace(final)
            return final
        finally:
            temp.unlink(missing_ok=True)


def _safe_filename(name: str) -> str:
    """A plain file name: no folders, no "..", nothing a Windows share rejects."""
    name = re.sub(r"\.{2,}", ".", re.sub(r'[\x00-\x1f<>:"/\\|?*]', "_", name)).strip(" .")
    return name[:200] or "attachment"


def _safe_link(link: str) -> str:
    parts = urlsplit(link := link.strip())  # no javascript: or file: links in a report
    return link if parts.scheme in ("https", "http") and parts.netloc and link.isprintable() \
        and " " not in link else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(value: object) -> str:
    return _fit("" if value is None else _one_line(str(value)), CELL_CHARS)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _text_table(columns: Sequence[str], rows: Sequence[Sequence[object]], limit: int) -> str:
    """The first `limit` rows as aligned monospace text."""
    cells = [[_cell(c) for c in columns], *([_cell(v) for v in row] for row in rows[:limit])]
    widths = [max(len(line[i]) for line in cells if i < len(line)) for i in range(len(columns))]
    lines = ["  ".join(text.ljust(widths[i]) for i, text in enumerate(line[:len(columns)]))
             .rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    if len(rows) > limit:
        lines.append(f"(first {limit} of {len(rows)} rows shown)")
    return "\n".join(lines)


def _html_body(message: ReportMessage, link: str) -> str:
    esc = html.escape
    parts = ['<html><body style="font-family:Arial,sans-serif;font-size:14px">']
    parts += [f"<p>{esc(p).replace(chr(10), '<br>')}</p>"
              for p in message.body.split("\n\n") if p.strip()]
    if message.columns:
        # Inline styles: mail clients drop <style> blocks.
        cell = 'style="border:1px solid #ccc;padding:4px 8px;text-align:left"'
        head = "".join(f"<th {cell}>{esc(_cell(c))}</th>" for c in message.columns)
        rows = "".join("<tr>" + "".join(f"<td {cell}>{esc(_cell(v))}</td>" for v in row)
                       + "</tr>" for row in message.rows[:EMAIL_ROWS])
        parts.append(f'<table style="border-collapse:collapse"><thead><tr>{head}</tr></thead>'
                     f"<tbody>{rows}</tbody></table>")
    if link:
        parts.append(f'<p><a href="{esc(link, quote=True)}">{LINK_TITLE}</a></p>')
    return "".join(parts) + "</body></html>"


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters everywhere, code blocks too.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_payload(message: ReportMessage) -> dict[str, object]:
    lead = f"*{_slack_escape(_one_line(message.subject))}*\n{_slack_escape(message.body)}"
    blocks: list[dict[str, object]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _fit(lead, SLACK_TEXT_LIMIT)}}]
    if message.columns:
        table = _slack_escape(_text_table(message.columns, message.rows, CHAT_ROWS))
        code = f"```\n{_fit(table, SLACK_TEXT_LIMIT - 8)}\n```"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": code}})
    if link := _safe_link(message.link):
        target = _slack_escape(link).replace("|", "%7C")  # "|" would end Slack's link syntax
        blocks.append({"type": "context",
                       "elements": [{"type": "mrkdwn", "text": f"<{target}|{LINK_TITLE}>"}]})
    fallback = _slack_escape(f"{_one_line(message.subject)}: {_one_line(message.body)}")
    return {"text": _fit(fallback, SLACK_TEXT_LIMIT), "blocks": blocks}


def _teams_payload(message: ReportMessage) -> dict[str, object]:
    body: list[dict[str, object]] = [
        {"type": "TextBlock", "text": _one_line(message.subject), "weight": "Bolder",
         "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": message.body, "wrap": True}]
    if message.columns:
        # Adaptive Cards 1.4 has no table: a column of one-line TextBlocks per result column
        # keeps the rows level; an empty block would collapse its row, hence the dash.
        body.append({"type": "ColumnSet", "spacing": "Medium", "columns": [
            {"type": "Column", "width": "auto", "items": [
                {"type": "TextBlock", "text": _cell(column), "weight": "Bolder", "wrap": False},
                *({"type": "TextBlock", "text": _cell(row[i] if i < len(row) else None) or "—",
                   "spacing": "Small", "wrap": False} for row in message.rows[:CHAT_ROWS])]}
            for i, column in enumerate(message.columns)]})
    card: dict[str, object] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                               "type": "AdaptiveCard", "version": "1.4", "body": body}
    if link := _safe_link(message.link):
        card["actions"] = [{"type": "Action.OpenUrl", "title": LINK_TITLE, "url": link}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": card}]}
