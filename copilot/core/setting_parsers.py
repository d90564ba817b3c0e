"""How a setting's text becomes its value; a ValueError says what is wrong with it.

Each field of a settings section names its parser (`copilot.core.setting_fields.setting`);
the loader adds the variable's name and where its text came from. Parsers that only one
owner's section uses live beside that section (the LLM's headers, the SMTP security mode).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from copilot.core.dialects import schemes, url_examples

__all__ = ["count", "database_url", "flag", "http_url", "integer", "iso_date", "path",
           "positive_float", "positive_int", "profile_name", "stripped", "verbatim"]


def path(text: str) -> Path:
    """A file or folder; `~` is expanded."""
    return Path(text).expanduser()


def stripped(text: str) -> str:
    """Free text without surrounding spaces."""
    return text.strip()


def verbatim(text: str) -> str:
    """Text taken as it is: a password may begin or end with a space."""
    return text


def integer(text: str) -> int:
    """Any whole number."""
    return int(text)


def iso_date(text: str) -> date:
    """A date written `YYYY-MM-DD`."""
    return date.fromisoformat(text)


def profile_name(text: str) -> str:
    """A training profile's name: short, and safe in a file name."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}", text):
        raise ValueError("must be letters, digits, '-' or '_' (at most 41)")
    return text


def positive_int(text: str) -> int:
    """A whole number above 0."""
    value = int(text)
    if value <= 0:
        raise ValueError("must be a whole number above 0")
    return value


def positive_float(text: str) -> float:
    """A number of seconds above 0."""
    value = float(text)
    if not value > 0:
        raise ValueError("must be a number of seconds above 0")
    return value


def count(text: str) -> int:
    """A whole number, 0 or more."""
    value = int(text)
    if value < 0:
        raise ValueError("must be a whole number, 0 or more")
    return value


def flag(text: str) -> bool:
    """True or false, in the spellings .env files use."""
    lowered = text.lower()
    if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
        raise ValueError("must be true or false")
    return lowered in {"1", "true", "yes", "on"}


def http_url(text: str) -> str:
    """An http(s) address, without a trailing slash."""
    if not re.match(r"https?://[^/\s]+", text):
        raise ValueError("must start with http:// or https://")
    return text.rstrip("/")


def database_url(text: str) -> str:
    """A SQLAlchemy URL of a registered dialect (copilot/core/dialects/); the state and
    audit databases take the same URLs."""
    scheme = text.split(":", 1)[0].lower()
    if "://" not in text or scheme.split("+", 1)[0] not in schemes():
        raise ValueError(f"must be a database URL starting with {url_examples()}")
    return text
