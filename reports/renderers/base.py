"""What a report file format is: the protocol a renderer implements, the facts of the run
every renderer may use, and the streaming writer it opens per file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

__all__ = ["RenderJob", "Renderer", "Writer"]


@dataclass(frozen=True)
class RenderJob:
    """The report being rendered: what a file may say about it besides its rows."""

    name: str
    run_at: datetime
    as_of: date
    interpretation: str = ""
    formats: tuple[str, ...] = ()  # every format of this run (a PDF points to the others)


class Writer(Protocol):
    """One file being written, a chunk at a time. `finish` completes it; after `discard`
    the caller deletes the file, so a failed run leaves none."""

    def header(self, columns: tuple[str, ...]) -> None: ...

    def rows(self, rows: Sequence[tuple[object, ...]]) -> None: ...

    def finish(self, total: int) -> None: ...

    def discard(self) -> None: ...


class Renderer(Protocol):
    """A file format: `name` is also the file's suffix ("csv") and what a template lists."""

    @property
    def name(self) -> str: ...

    @property
    def mime(self) -> str: ...

    def open(self, path: Path, job: RenderJob) -> Writer:
        """Start writing the file at `path`."""
        ...
