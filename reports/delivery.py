"""Delivering rendered reports: `deliver_one` and `deliver_all` run each channel on its own,
with retries where a retry can help, so one broken channel never keeps a report from the
others. The channels themselves live in reports/channels/ (listed in its registry); the ones
tests and callers build by hand are re-exported here. Secrets (the SMTP password, the
webhook URL) never reach a message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from copilot.core.observe import observed_delivery
from reports.channels.chat_webhook import WebhookChannel
from reports.channels.folder import FolderChannel
from reports.email_channel import EmailChannel
from reports.holds import HeldChannel
from reports.message import Attachment, Channel, DeliveryError, DeliveryOutcome, ReportMessage

# The values and the hand-built channels are re-exported: callers need one import.
__all__ = ["Attachment", "Channel", "DeliveryError", "DeliveryOutcome", "EmailChannel",
           "FolderChannel", "ReportMessage", "WebhookChannel", "deliver_all", "deliver_one"]

log = logging.getLogger(__name__)


def deliver_all(message: ReportMessage, channels: Sequence[Channel], *, retries: int = 2,
                backoff_s: float = 0.5,
                sleep: Callable[[float], None] = time.sleep) -> tuple[DeliveryOutcome, ...]:
    """Deliver `message` on every channel in order, each on its own (`deliver_one`). Never
    raises for a channel's failure; returns one outcome per channel."""
    return tuple(deliver_one(message, channel, retries=retries, backoff_s=backoff_s,
                             sleep=sleep) for channel in channels)


@observed_delivery(held=lambda channel: isinstance(channel, HeldChannel))
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
