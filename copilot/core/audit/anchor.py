"""Anchors: places outside the audit database that keep a copy of every checkpoint.

Whoever can rewrite the audit database should not be able to rewrite its anchors too: point
the folder anchor at WORM storage (object lock, an append-only mount) or another machine's
share. An anchor is anything with `append`, `lines` and `last`; a write-only one (syslog, a
ticketing system) returns no lines. A new kind is one class and one line in `ANCHOR_KINDS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from copilot.core.audit.errors import AuditError

__all__ = ["ANCHOR_KINDS", "CHECKPOINT_FILE", "Anchor", "FolderAnchor", "open_anchor"]

CHECKPOINT_FILE = "checkpoints.jsonl"


class Anchor(Protocol):
    """Somewhere a checkpoint line is kept, one line per append."""

    @property
    def where(self) -> str:
        """Where the lines are, for messages (a path, a host)."""
        ...

    def append(self, line: str) -> None:
        """Keep one more line; AuditError when it cannot."""
        ...

    def lines(self) -> Iterator[str]:
        """Every line kept, oldest first (none for a write-only anchor)."""
        ...

    def last(self) -> str | None:
        """The newest line, read cheaply; None when there is none."""
        ...


class FolderAnchor:
    """Checkpoint lines appended to `FOLDER/checkpoints.jsonl`: JSON lines, never rewritten."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / CHECKPOINT_FILE

    @property
    def where(self) -> str:
        return str(self.path)

    def append(self, line: str) -> None:
        # Opened per line, not kept open: a file deleted or moved away is then noticed (a
        # new one is started, which verify reports) instead of written to unseen.
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(descriptor, (line + "\n").encode())  # one write: one whole line
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as exc:
            raise AuditError(f"The audit checkpoint could not be written to {self.path}: "
                             f"{exc.strerror}; answers are withheld until it can.") from None

    def lines(self) -> Iterator[str]:
        try:
            with self.path.open(encoding="utf-8", newline="\n") as handle:
                yield from handle
        except FileNotFoundError:
            return
        except OSError as exc:
            raise AuditError(f"The audit checkpoints {self.path} cannot be read: "
                             f"{exc.strerror}.") from None

    def last(self) -> str | None:
        try:
            with self.path.open("rb") as handle:
                end = handle.seek(0, os.SEEK_END)
                size, tail = 4096, b""
                while True:  # read back from the end until a whole last line is in hand
                    start = max(0, end - size)
                    handle.seek(start)
                    tail = handle.read(end - start)
                    if start == 0 or tail.rstrip(b"\n").count(b"\n"):
                        break
                    size *= 4
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AuditError(f"The audit checkpoints {self.path} cannot be read: "
                             f"{exc.strerror}.") from None
        text = tail.decode("utf-8", errors="replace").rstrip("\n")
        return text.rsplit("\n", 1)[-1] if text else None


ANCHOR_KINDS: dict[str, Callable[[str], Anchor]] = {
    "folder": lambda target: FolderAnchor(Path(target).expanduser()),
}


def open_anchor(spec: str) -> Anchor:
    """An anchor from `KIND:TARGET`, for example `folder:/mnt/worm/audit`."""
    kind, sep, target = spec.partition(":")
    if not sep or kind not in ANCHOR_KINDS or not target:
        raise AuditError(f"{spec!r} is not an audit anchor: write KIND:TARGET with KIND one of "
                         f"{', '.join(sorted(ANCHOR_KINDS))}.")
    return ANCHOR_KINDS[kind](target)
