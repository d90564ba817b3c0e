"""Widget results shared by several app processes through Redis (`OPSCOPILOT_REDIS_URL`):
N app servers behind a load balancer cost one query per widget per interval, not N.

A result is stored under its widget and everything it depends on (the version the runner
hands in: the widget as edited, the as-of day, the profile version, the owner whose rows it
shows and the owner's groups), with the widget's interval as its time to live. One process
computes a widget at a time: it takes a Redis lock (SET NX PX, released only by its holder);
the others serve the previous result of the same version meanwhile, or wait for the new one.
A lock whose holder died expires, and a waiter then computes itself.

Redis being down is not an outage of the dashboards: the process falls back to its own
in-process cache and says so in the log.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

from copilot.core.ops_settings import OpsSettings
from copilot.core.settings import Settings
from dashboards.cache import ResultCache
from dashboards.result_codec import decode_result, encode_result

if TYPE_CHECKING:
    import redis

    from dashboards.refresh import WidgetResult

__all__ = ["LAST_S", "SharedResultCache", "widget_cache"]

log = logging.getLogger(__name__)
T = TypeVar("T")

LAST_S = 24 * 3600  # how long a previous result may be served while the next is computed
# Deletes the lock only when it is still ours: a holder whose lock expired must not free the
# lock another process took since.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class SharedResultCache(Generic[T]):
    """The ResultCache interface over Redis; `encode`/`decode` turn a value into text and
    back; `lock_s` bounds one computation (a waiter gives up waiting after it)."""

    def __init__(self, client: redis.Redis, namespace: str, encode: Callable[[T], str],
                 decode: Callable[[bytes], T], *, lock_s: float = 60.0,
                 poll_s: float = 0.05) -> None:
        self.client = client
        self.namespace = namespace
        self.encode, self.decode = encode, decode
        self.lock_s, self.poll_s = lock_s, poll_s
        self.local: ResultCache[T] = ResultCache()  # while Redis does not answer
        self._release = client.register_script(_RELEASE)

    def get(self, key: Hashable, version: Hashable, ttl: Callable[[T], float | None],
            compute: Callable[[], T], *, force: bool = False) -> tuple[T, bool]:
        """The fresh value for `key` at `version` and whether it came from the cache."""
        import redis

        computed: list[T] = []

        def once() -> T:
            computed.append(compute())
            return computed[0]

        try:
            return self._get(key, version, ttl, once, force)
        except redis.RedisError as exc:
            if computed:  # computed, then storing it failed: the value stands
                return computed[0], False
            log.warning("the shared widget cache is unavailable (%s); this process caches "
                        "on its own", type(exc).__name__)
            return self.local.get(key, version, ttl, compute, force=force)

    def _get(self, key: Hashable, version: Hashable, ttl: Callable[[T], float | None],
             compute: Callable[[], T], force: bool) -> tuple[T, bool]:
        base = f"{self.namespace}:{key}:{_digest(version)}"
        value_key, last_key, lock_key = f"{base}:value", f"{base}:last", f"{base}:lock"
        if not force and (raw := self.client.get(value_key)) is not None:
            return self.decode(raw), True
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.lock_s
        while True:
            if self.client.set(lock_key, token, nx=True, px=int(self.lock_s * 1000)):
                try:
                    # Another process may have stored it between our read and our lock.
                    if not force and (raw := self.client.get(value_key)) is not None:
                        return self.decode(raw), True
                    value = compute()
                    self._store(value_key, last_key, self.encode(value), ttl(value))
                    return value, False
                finally:
                    self._release(keys=[lock_key], args=[token])
            if not force:
                # Another process computes it: its previous result meanwhile, else wait.
                raw = self.client.get(value_key) or self.client.get(last_key)
                if raw is not None:
                    return self.decode(raw), True
            elif not self.client.exists(lock_key) and (
                    raw := self.client.get(value_key)) is not None:
                return self.decode(raw), True  # computed while we waited: as fresh as ours
            if time.monotonic() > deadline:
                log.warning("widget %s: waited %.0f s for another process; computing here",
                            key, self.lock_s)
                return compute(), False
            time.sleep(self.poll_s)

    def _store(self, value_key: str, last_key: str, text: str, seconds: float | None) -> None:
        pipe = self.client.pipeline()
        if seconds is None:
            pipe.set(value_key, text)  # until forced: a manual widget
        else:
            pipe.set(value_key, text, px=max(1, int(seconds * 1000)))
        pipe.set(last_key, text, ex=LAST_S)
        pipe.execute()

    def forget(self, key: Hashable) -> None:
        """Drop every stored version of `key` (a deleted widget)."""
        import redis

        self.local.forget(key)
        try:
            for name in self.client.scan_iter(match=f"{self.namespace}:{key}:*", count=500):
                self.client.delete(name)
        except redis.RedisError as exc:
            log.warning("the shared widget cache is unavailable (%s)", type(exc).__name__)

    def clear(self) -> None:
        self.local.clear()


def widget_cache(settings: Settings) -> SharedResultCache[WidgetResult] | None:
    """The widget cache shared through the configured Redis; None without one (each
    process then caches its own results, the embedded default)."""
    url = settings.section(OpsSettings).redis_url
    if not url:
        return None
    import redis

    # One namespace per state database: two installations sharing a Redis never share
    # results (nor widget ids).
    namespace = "opscopilot:widgets:" + hashlib.sha256(
        settings.state.url.encode("utf-8")).hexdigest()[:12]
    timeout = settings.warehouse.query_timeout_s
    return SharedResultCache(
        redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5), namespace,
        encode_result, decode_result, lock_s=max(60.0, 2 * timeout + 30))


def _digest(version: Hashable) -> str:
    """A short stable name for what a result was computed for (repr: the parts are dates,
    text and numbers, whose repr is the same in every process)."""
    return hashlib.sha256(repr(version).encode("utf-8")).hexdigest()[:24]
