"""What a report run sends and what came of it, per channel: the values every channel and
the run log share, and the one protocol a channel implements (a new channel is one class)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from copilot.core.errors import CopilotError

__all__ = ["Attachment", "Channel", "DeliveryError", "DeliveryOutcome", "ReportMessage"]


class DeliveryError(CopilotError):
    """A report could not be delivered on one channel; the message says where and why.
    `retryable` is False when another try would do harm or cannot help; `uncertain` when the
    other side may have it all the same (never retried: a duplicate is worse than a gap the
    run log names)."""

    def __init__(self, message: str, *, retryable: bool = True, uncertain: bool = False
                 ) -> None:
        super().__init__(message)
        self.retryable = retryable and not uncertain
        self.uncertain = uncertain


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: str  # "text/csv", "application/pdf", the xlsx type, ...


@dataclass(frozen=True)
class ReportMessage:
    """What one report run sends: the same content, shaped per channel."""

    subject: str
    body: str  # plain text: summary sentence(s)
    columns: tuple[str, ...] = ()  # a small table shown inline (first rows of the result)
    rows: tuple[tuple[object, ...], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    link: str = ""  # the app or the full data; left out unless it is an http(s) URL
    # What the run was, for channels that carry facts rather than prose (a JSON webhook);
    # empty when a message is built by hand.
    report: str = ""  # the template's name
    run_at: str = ""  # ISO 8601, to the second, the server's local time
    as_of: str = ""  # ISO date the result answers for
    row_count: int | None = None  # rows of the whole result (`rows` holds the first few)
    interpretation: str = ""


@dataclass(frozen=True)
class DeliveryOutcome:
    channel: str  # the channel's registered name: "email", "slack", "folder", ...
    target: str  # recipients, webhook host (the URL is a secret) or folder path
    ok: bool
    attempts: int
    error: str = ""
    files: tuple[str, ...] = ()  # folder drop: the paths written
    uncertain: bool = False  # failed in a way that may have delivered it: not sent again


class Channel(Protocol):
    """A place a report goes; `deliver` raises `DeliveryError` and returns files written."""

    @property
    def name(self) -> str: ...

    @property
    def target(self) -> str: ...

    def deliver(self, message: ReportMessage) -> tuple[str, ...]: ...
