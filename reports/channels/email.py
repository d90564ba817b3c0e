"""The email channel: one message over SMTP to every address of the template, with the
SMTP server, login and sender from the app's settings (OPSCOPILOT_SMTP_*)."""

from __future__ import annotations

import re

from copilot.core.settings import Settings
from reports.channels.base import ChannelSetupError, DestinationError
from reports.email_channel import EmailChannel
from reports.message import Channel

__all__ = ["EMAIL", "EmailKind"]

_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")


class EmailKind:
    """Email recipients: the addresses of one message (each sees the others in To)."""

    name = "email"
    label = "Email recipients"
    hint = "ops@bank.example, risk@bank.example"

    def validate(self, destination: str) -> None:
        if not _EMAIL.fullmatch(destination):
            raise DestinationError(f"{destination!r} is not an email address.")

    def channels(self, settings: Settings, destinations: tuple[str, ...]
                 ) -> tuple[Channel, ...]:
        if not destinations:
            return ()
        if not settings.smtp.host:
            raise ChannelSetupError("The report has email recipients but no SMTP server is "
                                    "set (OPSCOPILOT_SMTP_HOST).")
        # One message to all: a recipient refused is named, and the rest are not sent twice.
        return (EmailChannel(
            host=settings.smtp.host, port=settings.smtp.port,
            security=settings.smtp.security,  # type: ignore[arg-type]
            username=settings.smtp.user, password=settings.smtp.password,
            sender=settings.smtp.sender or f"opscopilot@{settings.smtp.host}",
            recipients=destinations),)


EMAIL = EmailKind()
