"""The map of warehouse dialects: every place that needs to know one reads it here.

The shipped dialects are one module each under copilot/core/dialects/, each exposing
`DIALECT`; adding one is writing its module and naming it in `BUILT_IN`. `register` adds one
at run time (a plug-in, or a test), under the same checks.
"""

from __future__ import annotations

import importlib

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from copilot.core.dialects.base import Dialect, UnsupportedDialect
from copilot.core.errors import ConfigError

__all__ = [
    "BUILT_IN",
    "dialect_for_url",
    "dialect_named",
    "dialects",
    "names",
    "register",
    "schemes",
    "unregister",
    "url_examples",
]

# The modules of the shipped dialects, in the order they are offered.
BUILT_IN = ("sqlite", "postgres", "mssql")

_BY_NAME: dict[str, Dialect] = {}
_BY_SCHEME: dict[str, Dialect] = {}


def register(dialect: Dialect) -> Dialect:
    """Add `dialect`; its name and its URL schemes must be new. Returns it."""
    if dialect.name in _BY_NAME:
        raise ValueError(f"a dialect named {dialect.name!r} is already registered")
    taken = sorted(set(dialect.schemes) & set(_BY_SCHEME))
    if taken or not dialect.schemes:
        raise ValueError(f"dialect {dialect.name!r} needs URL schemes of its own; "
                         f"taken: {', '.join(taken) or 'none given'}")
    _BY_NAME[dialect.name] = dialect
    for scheme in dialect.schemes:
        _BY_SCHEME[scheme] = dialect
    return dialect


def unregister(name: str) -> None:
    """Remove the dialect called `name` (a test's own, once it is done)."""
    dialect = _BY_NAME.pop(name)
    for scheme in dialect.schemes:
        _BY_SCHEME.pop(scheme, None)


def dialects() -> tuple[Dialect, ...]:
    """Every registered dialect, the shipped ones first."""
    return tuple(_BY_NAME.values())


def names() -> tuple[str, ...]:
    """The registered dialects' names: what `Guard(dialect=...)` accepts."""
    return tuple(_BY_NAME)


def schemes() -> tuple[str, ...]:
    """The URL schemes (SQLAlchemy backend names) a warehouse URL may use."""
    return tuple(_BY_SCHEME)


def url_examples() -> str:
    """How the accepted URLs start, for a message: "sqlite:///, ... or mssql+pyodbc://"."""
    examples = [d.url_example for d in _BY_NAME.values()]
    return examples[0] if len(examples) == 1 else (
        f"{', '.join(examples[:-1])} or {examples[-1]}")


def dialect_named(name: str) -> Dialect:
    """The dialect called `name`; UnsupportedDialect, naming the others, when none is."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnsupportedDialect(
            f"There is no warehouse dialect {name!r}; known are {_listed(names())}."
        ) from None


def dialect_for_url(url: str | URL) -> Dialect:
    """The dialect of a warehouse URL, from its scheme (`postgresql` in
    `postgresql+psycopg://...`); UnsupportedDialect naming the schemes there are."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        raise ConfigError(f"The warehouse URL {url!r} is not a database URL.") from None
    scheme = parsed.get_backend_name()
    if scheme not in _BY_SCHEME:
        raise UnsupportedDialect(
            f"The warehouse URL uses {scheme!r}; supported are {_listed(schemes())} "
            f"(a URL starting with {url_examples()})."
        )
    return _BY_SCHEME[scheme]


def _listed(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


for _module in BUILT_IN:
    register(importlib.import_module(f"copilot.core.dialects.{_module}").DIALECT)
