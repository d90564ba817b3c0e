"""POST one JSON document to a webhook URL whose path and query are a credential: the
transport the webhook channels share. Redirects are refused (a redirected POST arrives as a
GET without its body), the reply is read up to a bound and only quoted, and the URL never
reaches an error message. urllib honours HTTPS_PROXY and SSL_CERT_FILE.

What is worth another try: no answer (a timeout, a refused connection), a 5xx, a 408 or a
429. Any other status (a 4xx: the URL or the document is wrong; a 3xx) is final, because
the same request would get the same answer.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from http.client import HTTPException
from urllib.parse import urlsplit

from reports.message import DeliveryError

__all__ = ["MAX_REPLY_BYTES", "is_loopback", "post_json", "scrub"]

MAX_REPLY_BYTES = 4_000  # webhooks answer "ok", an id or a short error; we only quote it
_RETRY_STATUSES = frozenset({408, 429})  # a timeout and a rate limit: later may work


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or localhost: the only hosts plain http may go to (the tests'
    receivers), since anything else would carry the URL's token in clear."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def scrub(text: str, url: str) -> str:
    """`text` with the URL, its path and its query replaced by ***: they are the secret
    (Slack's token, a Teams workflow's sig=, a ticketing tool's API key)."""
    parts = urlsplit(url)
    for secret in (url, parts.path, parts.query):
        text = text.replace(secret, "***") if len(secret) > 1 else text
    return text


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirect())


def post_json(url: str, document: object, *, where: str, timeout_s: float,
              headers: Mapping[str, str] | None = None) -> bytes:
    """POST `document` as JSON; the reply's first bytes on a 2xx. Raises `DeliveryError`
    (retryable or not, as above) whose message starts with `where` ("The Slack webhook on
    hooks.slack.com") and never holds the URL."""
    body = json.dumps(document, allow_nan=False).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "otc-ops-copilot",
        **(headers or {})})
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            status, reply = response.status, response.read(MAX_REPLY_BYTES)
    except urllib.error.HTTPError as exc:
        status, reply = exc.code, exc.read(MAX_REPLY_BYTES)
        exc.close()
    except (HTTPException, OSError) as exc:  # URLError is an OSError
        reason = getattr(exc, "reason", exc)
        text = (f"did not answer within {timeout_s:g} s"
                if isinstance(reason, TimeoutError) else f"cannot be reached: {reason}")
        raise DeliveryError(scrub(f"{where} {text}.", url)) from None
    if not 200 <= status < 300:
        detail = scrub(reply.decode("utf-8", "replace").strip()[:200], url)
        raise DeliveryError(f"{where} answered HTTP {status}. {detail}".strip(),
                            retryable=status >= 500 or status in _RETRY_STATUSES)
    return reply
