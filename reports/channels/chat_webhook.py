"""Slack and Microsoft Teams incoming webhooks: the report as a Slack message (blocks) or a
Teams Adaptive Card, POSTed to the webhook's URL. Shared by the slack and teams channels,
which differ only in the document's shape."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit

from reports.channels.base import DestinationError
from reports.channels.http_post import post_json
from reports.message import DeliveryError, ReportMessage
from reports.shaping import slack_payload, teams_payload

__all__ = ["WebhookChannel", "WebhookKind", "check_webhook_url"]

WebhookKind = Literal["slack", "teams"]
_SHAPES: dict[str, Callable[[ReportMessage], dict[str, object]]] = {
    "slack": slack_payload, "teams": teams_payload}
_URL = re.compile(r"https?://[^/\s]+/")


def check_webhook_url(url: str, service: str) -> None:
    """An http(s) URL with a path, as templates have always been checked. (Plain http is
    still accepted here so that templates saved before keep loading; the URL's host is all
    an error shows, the rest is the secret.)"""
    if not _URL.match(url):
        raise DestinationError(f"A {service} webhook must be an http(s) URL with a path.")


class WebhookChannel:
    """POST the report as JSON to a Slack or Microsoft Teams incoming webhook."""

    def __init__(self, *, kind: WebhookKind, url: str, timeout_s: float = 20.0) -> None:
        parts = urlsplit(url)
        # urllib would also open file: and ftp: URLs; a webhook is http(s) and nothing else.
        if kind not in _SHAPES or parts.scheme not in ("https", "http") or not parts.hostname:
            raise DeliveryError(f"A {kind} webhook needs an https:// URL (and the kind slack "
                                "or teams).")
        self.kind, self._url, self._host, self.timeout_s = kind, url, parts.hostname, timeout_s
        self.name, self.target = kind, f"{kind}:{parts.hostname}"  # never the secret path

    def deliver(self, message: ReportMessage) -> tuple[str, ...]:
        post_json(self._url, _SHAPES[self.kind](message), timeout_s=self.timeout_s,
                  where=f"The {self.kind.title()} webhook on {self._host}")
        return ()
