"""Delivering rendered reports: `deliver_one` and `deliver_all` run each channel on its own,
with retries where a retry can help, so one broken channel never keeps a report from the
others. The channels: email (email_channel.py), Slack and Teams incoming webhooks, and a
folder drop (a share that SharePoint or a pickup job watches). Secrets (the SMTP password,
the webhook URL) never reach a message. urllib honours HTTPS_PROXY, SSL_CERT_FILE.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from http.client import HTTPException
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from reports.email_channel import EmailChannel
from reports.message import Attachment, Channel, DeliveryError, DeliveryOutcome, ReportMessage
from reports.shaping import safe_filename, slack_payload, teams_payload

# The values and the email channel are re-exported: callers need one import for delivery.
__all__ = ["Attachment", "Channel", "DeliveryError", "DeliveryOutcome", "EmailChannel",
           "FolderChannel", "ReportMessage", "WebhookChannel", "deliver_all", "deliver_one"]

log = logging.getLogger(__name__)

MAX_REPLY_BYTES = 4_000  # webhooks answer "ok" or a short error; we only quote it
WebhookKind = Literal["slack", "teams"]


def deliver_all(message: ReportMessage, channels: Sequence[Channel], *, retries: int = 2,
                backoff_s: float = 0.5,
                sleep: Callable[[float], None] = time.sleep) -> tuple[DeliveryOutcome, ...]:
    """Deliver `message` on every channel in order, each on its own (`deliver_one`). Never
    raises for a channel's failure; returns one outcome per channel."""
    return tuple(deliver_one(message, channel, retries=retries, backoff_s=backoff_s,
                             sleep=sleep) for channel in channels)


def deliver_one(message: ReportMessage, channel: Channel, *, retries: int = 2,
                backoff_s: float = 0.5,
                sleep: Callable[[float], None] = time.sleep) -> DeliveryOutcome:
    """Deliver `message` on one channel: up to 1 + `retries` attempts with exponential
    backoff (`backoff_s * 2**n`) while the failure is retryable. Never raises for the
    channel's failure; the outcome goes to the run log and the audit trail."""
    attempts, error, uncertain = 0, "", False
    files: tuple[str, ...] = ()
    while True:
        attempts += 1
        try:
            files, error = channel.deliver(message), ""
            break
        except DeliveryError as exc:
            error, uncertain = str(exc), exc.uncertain
            if not exc.retryable or attempts > max(retries, 0):
                break
            sleep(backoff_s * 2 ** (attempts - 1))
        except Exception as exc:  # a bug: no retry, and its text may hold secrets
            log.exception("delivery on %s failed unexpectedly", channel.name)
            error = f"The {channel.name} delivery failed unexpectedly ({type(exc).__name__})."
            break
    return DeliveryOutcome(channel.name, channel.target, not error, attempts, error,
                           tuple(files), uncertain and bool(error))


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
        payload = slack_payload(message) if self.kind == "slack" else teams_payload(message)
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
                written.append(self._drop(safe_filename(attachment.filename),
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


