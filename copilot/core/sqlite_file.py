"""A SQLite warehouse file that may change under a running app.

Warehouses refreshed by copying a new file over the old one (`os.replace`, the atomic way)
leave pooled connections reading the old, now unlinked, file for as long as they live. A
deleted file keeps answering the same way; a truncated or damaged one answers "no such
table" or, worse, different numbers. So before every checkout the file is looked at again
(one `os.stat`, microseconds):
- gone: the question fails with a message saying so;
- another file at the path: every pooled connection is discarded, the next one opens the
  new file, so an answer after the refresh comes from the new file only;
- the same file changed in place, or a new file: its header is checked against its size
  and `PRAGMA quick_check` runs once for that version of the file before it is used.
"""

from __future__ import annotations

import sqlite3
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import InvalidatePoolError

from copilot.core.errors import WarehouseUnavailable

__all__ = ["FileIdentity", "SQLiteFileWatch", "WatchedConnection", "damaged"]

_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class FileIdentity:
    """Which file a path names (device, inode) and which version of it (size, mtime)."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity:
        info = path.stat()
        return cls(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)

    def same_file(self, other: FileIdentity) -> bool:
        return (self.device, self.inode) == (other.device, other.inode)


class WatchedConnection(sqlite3.Connection):
    """A sqlite3 connection that remembers which file it opened."""

    file_identity: FileIdentity | None = None


def damaged(path: Path, what: str) -> WarehouseUnavailable:
    """The error for a warehouse file that cannot be trusted, in words an analyst can act on."""
    return WarehouseUnavailable(
        f"The SQLite warehouse file {path} is damaged ({what}); no answer is given from it. "
        "Restore the file from its last good copy or rebuild it."
    )


class SQLiteFileWatch:
    """Watches one warehouse file for the pool that reads it. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._verified: FileIdentity | None = None
        self._lock = threading.Lock()

    def current(self) -> FileIdentity:
        """The file at the path now; WarehouseUnavailable when there is none."""
        try:
            return FileIdentity.of(self.path)
        except FileNotFoundError:
            raise WarehouseUnavailable(
                f"The SQLite warehouse file {self.path} was deleted or moved; nothing is "
                "answered until it is back."
            ) from None
        except OSError as exc:
            raise WarehouseUnavailable(
                f"The SQLite warehouse file {self.path} cannot be read: {exc.strerror}."
            ) from None

    def verified(self) -> FileIdentity:
        """The file's identity once its header and pages were checked for this version."""
        with self._lock:
            identity = self.current()
            if identity != self._verified:
                _check_header(self.path, identity.size)
                _quick_check(self.path)
                self._verified = identity
            return identity

    def on_checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        """Pool event: refuse a connection to a file that is no longer the one at the path."""
        opened = getattr(dbapi_connection, "file_identity", None)
        now = self.current()
        if opened is not None and not opened.same_file(now):
            # Every pooled connection older than this moment reads the old file: discard all.
            raise InvalidatePoolError("the warehouse file was replaced")
        if now != self._verified:
            self.verified()


def _check_header(path: Path, size: int) -> None:
    """The header's page size and count must agree with the file's size (truncation)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise WarehouseUnavailable(f"The SQLite warehouse file {path} cannot be read: "
                                   f"{exc.strerror}.") from None
    if len(header) < 100 or not header.startswith(_MAGIC):
        raise damaged(path, "it is not a SQLite database: its header is missing or wrong")
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    change_counter, pages = struct.unpack(">II", header[24:32])
    valid_for = struct.unpack(">I", header[92:96])[0]
    if page_size < 512 or page_size & (page_size - 1):
        raise damaged(path, f"its header gives an impossible page size, {page_size}")
    # The page count in the header is reliable only when written by SQLite 3.7.0 or later,
    # which also records the change counter it was valid for.
    if change_counter == valid_for and pages and size < pages * page_size:
        raise damaged(path, f"truncated: {size:,} bytes of the {pages * page_size:,} its "
                            "header announces")
    if size % page_size:
        raise damaged(path, f"{size:,} bytes is not a whole number of {page_size}-byte pages")


def _quick_check(path: Path) -> None:
    """SQLite's own structural check of every page (O(file size), once per version)."""
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            found = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise damaged(path, str(exc)) from None
    if found != ["ok"]:
        raise damaged(path, "; ".join(str(f) for f in found))
