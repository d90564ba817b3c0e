"""Every delivery channel, in the order a run delivers on them and the Reports form shows
them. A new channel is one module under reports/channels/ and one line here."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from reports.channels.base import ChannelKind
from reports.channels.email import EMAIL
from reports.channels.folder import FOLDER
from reports.channels.json_webhook import JSON_WEBHOOK
from reports.channels.slack import SLACK
from reports.channels.teams import TEAMS

__all__ = ["CHANNELS", "RENAMED"]

_KINDS: tuple[ChannelKind, ...] = (
    EMAIL,
    SLACK,
    TEAMS,
    FOLDER,
    JSON_WEBHOOK,
)

CHANNELS: Mapping[str, ChannelKind] = MappingProxyType({kind.name: kind for kind in _KINDS})

# Templates saved before channels were a registry keep their recipients under these keys.
RENAMED: Mapping[str, str] = MappingProxyType({"emails": "email", "folders": "folder"})

# The delivery ledger keeps a channel's name in 16 characters; a kind is named once.
assert len(CHANNELS) == len(_KINDS), "two channels share a name"
assert all(0 < len(name) <= 16 and name.isidentifier() for name in CHANNELS), \
    "a channel's name is an identifier of at most 16 characters"
