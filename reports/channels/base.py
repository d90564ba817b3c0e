"""What a delivery channel's kind is: the one protocol a new channel implements, and the two
errors a kind raises. The delivering object itself is `reports.message.Channel`."""

from __future__ import annotations

from typing import Protocol

from copilot.core.errors import CopilotError
from copilot.core.settings import Settings
from reports.message import Channel

__all__ = ["ChannelKind", "ChannelSetupError", "DestinationError"]


class DestinationError(CopilotError):
    """One destination of a channel is malformed (not an email address, not an https URL);
    the message names it, or its host when the URL is a secret."""


class ChannelSetupError(CopilotError):
    """A channel cannot be built from the app's settings (no SMTP server for an email)."""


class ChannelKind(Protocol):
    """A kind of place reports go. `name` is the key of its destinations in a template and
    the channel named in the run log and the audit trail (at most 16 characters: the
    delivery ledger's column); `label` and `hint` are what the Reports form shows."""

    @property
    def name(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def hint(self) -> str: ...

    def validate(self, destination: str) -> None:
        """Raise `DestinationError` when `destination` cannot be one of this channel's."""
        ...

    def channels(self, settings: Settings, destinations: tuple[str, ...]
                 ) -> tuple[Channel, ...]:
        """The delivering objects for these (already validated) destinations, in order."""
        ...
