"""Report email over SMTP: plain text, an HTML alternative with the inline table, the files
attached. Sent once where a second try could harm: never after a refused login (lockouts),
a refused sender or recipients (5xx), or once the message went out and its acknowledgement
was lost (the server may have it)."""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from reports.message import DeliveryError, ReportMessage
from reports.shaping import (
    EMAIL_ROWS,
    LINK_TITLE,
    html_body,
    one_line,
    safe_filename,
    safe_link,
    text_table,
)

__all__ = ["EmailChannel", "SecurityMode"]

SecurityMode = Literal["starttls", "ssl", "none"]
_ADDRESS = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+")  # bare addresses: nothing to inject in a header


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
        progress = _Progress()
        try:
            refused = self._send(self.build(message), progress)
        except (smtplib.SMTPException, OSError) as exc:
            text = self._explain(exc)  # a server's echo must not put the password on a page
            text = text.replace(self._password, "***") if self._password else text
            if progress.data_sent and not isinstance(exc, smtplib.SMTPResponseException):
                # The message went out and the answer to its final dot never came: the
                # server may have queued it, so another try could deliver a second copy.
                raise DeliveryError(f"{text} The message was sent but not acknowledged; it "
                                    "may have arrived and is not sent again.",
                                    uncertain=True) from None
            raise DeliveryError(text, retryable=not _final(exc)) from None
        if refused:
            # Some recipients already have it: a retry would send them a duplicate.
            raise DeliveryError(f"The mail server {self.host} delivered the report but "
                                f"refused {', '.join(sorted(refused))}.", retryable=False)
        return ()

    def build(self, message: ReportMessage) -> EmailMessage:
        """The MIME message as it will be sent (public so previews and tests can read it)."""
        email = EmailMessage()
        email["Subject"] = one_line(message.subject)
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email["Date"] = formatdate(localtime=True)
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2])
        link = safe_link(message.link)
        table = text_table(message.columns, message.rows, EMAIL_ROWS) if message.columns else ""
        email.set_content("\n\n".join(part for part in (message.body, table,
                                                        link and f"{LINK_TITLE}: {link}") if part))
        email.add_alternative(html_body(message, link), subtype="html")
        for attachment in message.attachments:
            maintype, _, subtype = (attachment.mime if "/" in attachment.mime
                                    else "application/octet-stream").partition("/")
            email.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                                 filename=safe_filename(attachment.filename))
        return email

    def _send(self, email: EmailMessage, progress: _Progress) -> dict[str, tuple[int, bytes]]:
        context = ssl.create_default_context()
        smtp = (smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
                if self.security == "ssl"
                else smtplib.SMTP(self.host, self.port, timeout=self.timeout_s))
        progress.watch(smtp)
        with smtp:
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()  # the server's extensions may differ once encrypted
            if self.username:
                _login_once(smtp, self.username, self._password)
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


def _login_once(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with one mechanism. smtplib's login() tries every mechanism the server offers
    in turn, so one wrong password counts as two or three failed logins toward a lockout."""
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("the server offers no login (no SMTP AUTH)")
    offered = smtp.esmtp_features["auth"].upper().split()
    mechanism = next((m for m in ("CRAM-MD5", "PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        raise smtplib.SMTPException(f"no login mechanism in common (the server offers "
                                    f"{' '.join(offered) or 'none'})")
    smtp.user, smtp.password = user, password
    smtp.auth(mechanism, getattr(smtp, "auth_" + mechanism.lower().replace("-", "_")))


def _final(exc: BaseException) -> bool:
    """A refused login, or a sender or every recipient refused for good (5xx): the same
    again is refused again, and repeated failed logins lock a service account out."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return True
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return exc.smtp_code >= 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return False


class _Progress:
    """Whether an SMTP session reached DATA: smtplib's send_message calls `self.data`, so an
    instance attribute wrapping it notes the moment without re-implementing sendmail. From
    then on a dropped connection cannot tell "not received" from "received, reply lost"."""

    def __init__(self) -> None:
        self.data_sent = False

    def watch(self, smtp: smtplib.SMTP) -> None:
        data = smtp.data

        def noting_data(msg: bytes | str) -> tuple[int, bytes]:
            self.data_sent = True
            return data(msg)

        smtp.data = noting_data  # type: ignore[method-assign]
