"""How each setting's text becomes its value; a ValueError says what is wrong with it.

`copilot.core.settings.parse_setting` and `load_settings` add the setting's name and source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from copilot.core.dialects import schemes, url_examples

__all__ = ["PARSERS"]


def _profile_name(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}", text):
        raise ValueError("must be letters, digits, '-' or '_' (at most 41)")
    return text


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a whole number above 0")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("must be a number of seconds above 0")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be a whole number, 0 or more")
    return value


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
        raise ValueError("must be true or false")
    return lowered in {"1", "true", "yes", "on"}


def _headers(text: str) -> tuple[tuple[str, str], ...]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError('must be a JSON object of header names and texts, like {"X-Desk": "ops"}')
    return tuple(sorted(value.items()))


def _http_url(text: str) -> str:
    if not re.match(r"https?://[^/\s]+", text):
        raise ValueError("must start with http:// or https://")
    return text.rstrip("/")


def _smtp_security(text: str) -> str:
    if text.lower() not in ("starttls", "ssl", "none"):
        raise ValueError("must be starttls, ssl or none")
    return text.lower()


def _url(text: str) -> str:
    # The registered dialects' schemes (copilot/core/dialects/); the state and audit
    # databases take the same URLs.
    scheme = text.split(":", 1)[0].lower()
    if "://" not in text or scheme.split("+", 1)[0] not in schemes():
        raise ValueError(f"must be a database URL starting with {url_examples()}")
    return text


PARSERS: Mapping[str, Callable[[str], Any]] = {
    "data_dir": lambda text: Path(text).expanduser(),
    "warehouse_url": _url,
    "warehouse_schema": str.strip,
    "state_url": _url,
    "audit_url": _url,
    "chroma_dir": lambda text: Path(text).expanduser(),
    "profile": _profile_name,
    "glossary_dir": lambda text: Path(text).expanduser(),
    "user": str.strip,
    "row_cap": _positive_int,
    "query_timeout_s": _positive_float,
    "guard_policy": lambda text: Path(text).expanduser(),
    "as_of": date.fromisoformat,
    "demo_seed": int,
    "demo_trades": _positive_int,
    "llm_base_url": _http_url,
    "llm_model": str.strip,
    "llm_api_key": str.strip,
    "llm_key_header": str.strip,
    "llm_headers": _headers,
    "llm_timeout_s": _positive_float,
    "llm_retries": _count,
    "llm_max_corrections": _count,
    "llm_token_budget": _positive_int,
    "llm_send_rows": _flag,
    "reports_dir": lambda text: Path(text).expanduser(),
    "report_run_limit_minutes": _positive_int,
    "smtp_host": str.strip,
    "smtp_port": _positive_int,
    "smtp_security": _smtp_security,
    "smtp_user": str.strip,
    "smtp_password": str,
    "smtp_sender": str.strip,
    "app_url": _http_url,
}
