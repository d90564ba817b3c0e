"""Deliveries held back by four eyes: a channel whose settings wait for an admin's approval
(the SMTP server, reports/smtp_kind.py) is replaced, for one run, by a `HeldChannel` that
fails at once with the reason. The run log then names the held delivery, the other channels
deliver as usual, and running the report again after the approval sends it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from reports.message import DeliveryError, ReportMessage

__all__ = ["HeldChannel", "Holds"]

# A channel's registered name -> why its deliveries are held now ("" when they may go).
Holds = Mapping[str, Callable[[], str]]


class HeldChannel:
    """Stands for a channel whose deliveries are held: its name and target, never sent."""

    def __init__(self, name: str, target: str, reason: str) -> None:
        self.name, self.target, self.reason = name, target, reason

    def deliver(self, message: ReportMessage) -> tuple[str, ...]:
        # Not retried: only an approval (and a new run) can change the answer.
        raise DeliveryError(self.reason, retryable=False)
