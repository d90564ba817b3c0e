"""The Slack channel: one incoming webhook per destination."""

from __future__ import annotations

from copilot.core.settings import Settings
from reports.channels.chat_webhook import WebhookChannel, check_webhook_url
from reports.message import Channel

__all__ = ["SLACK", "SlackKind"]


class SlackKind:
    """Slack incoming webhooks (https://hooks.slack.com/services/...)."""

    name = "slack"
    label = "Slack webhooks"
    hint = "https://hooks.slack.com/services/…"

    def validate(self, destination: str) -> None:
        check_webhook_url(destination, "Slack")

    def channels(self, settings: Settings, destinations: tuple[str, ...]
                 ) -> tuple[Channel, ...]:
        return tuple(WebhookChannel(kind="slack", url=url) for url in destinations)


SLACK = SlackKind()
