"""Widget results shared by every browser session of the process, fresh for the widget's
interval: twenty open dashboards cost one query per widget per interval.

One lock per widget: while one session refreshes a widget, the others wait for that result
instead of sending the same query.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = ["Cache", "ResultCache"]

T = TypeVar("T")


class Cache(Protocol[T]):
    """Where widget results are kept: this process (ResultCache) or several processes
    (dashboards/shared_cache.py)."""

    def get(self, key: Hashable, version: Hashable, ttl: Callable[[T], float | None],
            compute: Callable[[], T], *, force: bool = False) -> tuple[T, bool]: ...

    def forget(self, key: Hashable) -> None: ...

    def clear(self) -> None: ...


@dataclass(frozen=True)
class _Entry(Generic[T]):
    version: Hashable  # what the value was computed for (the widget as edited, the as-of day)
    expires: float | None  # time.monotonic(); None: until forced
    value: T


class ResultCache(Generic[T]):
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[Hashable, _Entry[T]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, version: Hashable, ttl: Callable[[T], float | None],
            compute: Callable[[], T], *, force: bool = False) -> tuple[T, bool]:
        """The fresh value for `key` at `version` and whether it came from the cache;
        `compute` runs when there is none (or `force`), and `ttl(value)` says for how many
        seconds its value stays fresh (None: until forced)."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._entries.get(key)
            now = self._clock()
            if (not force and entry is not None and entry.version == version
                    and (entry.expires is None or now < entry.expires)):
                return entry.value, True
            value = compute()
            seconds = ttl(value)
            expires = None if seconds is None else self._clock() + seconds
            self._entries[key] = _Entry(version, expires, value)
            return value, False

    def forget(self, key: Hashable) -> None:
        with self._guard:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
