"""The Microsoft Teams channel: one incoming webhook (or Workflows URL) per destination."""

from __future__ import annotations

from copilot.core.settings import Settings
from reports.channels.chat_webhook import WebhookChannel, check_webhook_url
from reports.message import Channel

__all__ = ["TEAMS", "TeamsKind"]


class TeamsKind:
    """Microsoft Teams incoming webhooks or Workflows URLs (an Adaptive Card is posted)."""

    name = "teams"
    label = "Teams webhooks"
    hint = "https://…/workflows/…/invoke?…"

    def validate(self, destination: str) -> None:
        check_webhook_url(destination, "Teams")

    def channels(self, settings: Settings, destinations: tuple[str, ...]
                 ) -> tuple[Channel, ...]:
        return tuple(WebhookChannel(kind="teams", url=url) for url in destinations)


TEAMS = TeamsKind()
