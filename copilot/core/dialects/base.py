"""What a warehouse dialect is: one frozen value that says everything the copilot must know.

A dialect is named once (`Dialect.name`, what `Guard(dialect=...)`, a `GuardedSQL` and
`python -m copilot sql-check --dialect` use) and carries its sqlglot dialect, the URL
schemes it accepts, how to open a read-only engine with a time limit, its default and
system schemas, how to read its driver's errors, and what the LLM prompt calls it. The
modules beside this one each define one dialect; `registry.py` maps them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.engine import URL, Engine

from copilot.core.errors import ConfigError, DriverMissing

__all__ = [
    "CLIENT_GRACE_S",
    "ArmDeadline",
    "Dialect",
    "DriverFault",
    "ErrorKind",
    "ErrorSigns",
    "ReadOnlyEngine",
    "Signs",
    "UnsupportedDialect",
    "driver_missing",
]

# How long past the server's own limit the client waits before it gives a statement up.
CLIENT_GRACE_S = 5.0

# Called with the DBAPI connection and the statement's seconds before each statement; returns
# a function that disarms the deadline and says whether it had fired.
ArmDeadline = Callable[[Any, float], Callable[[], bool]]

# What a driver error means to the copilot; the warehouse turns each kind into a typed error.
ErrorKind = Literal[
    "unreachable",  # the connection was never made
    "timeout",  # the statement ran past its limit and was cancelled
    "read_only",  # the connection refused a write (the second wall held)
    "too_big",  # a value or a sort past what the copilot or the server allows
    "damaged",  # the warehouse's storage cannot be trusted
    "connection_lost",  # a connection that was made has gone
    "other",  # the warehouse rejected the query
]


class UnsupportedDialect(ConfigError, ValueError):
    """A URL scheme or a dialect name no registered dialect has.

    Also a ValueError, which `Guard` raised for an unknown dialect before the registry."""


@dataclass(frozen=True)
class ReadOnlyEngine:
    """An engine whose connections cannot write, and how to bound one statement's time."""

    engine: Engine
    arm_deadline: ArmDeadline


@dataclass(frozen=True)
class DriverFault:
    """What a driver error says, in the terms the classification reads."""

    message: str  # its first line, as the driver wrote it
    code: str = ""  # its SQLSTATE, when the driver gives one
    operational: bool = False  # SQLAlchemy's OperationalError: the server or the link
    invalidated: bool = False  # the pool discarded the connection

    @property
    def lowered(self) -> str:
        return self.message.lower()


@dataclass(frozen=True)
class Signs:
    """How a driver says one thing: SQLSTATE codes (or their prefixes) and message phrases."""

    codes: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()  # lower case

    def seen_in(self, fault: DriverFault) -> bool:
        """True when the fault carries one of the codes or phrases."""
        return (bool(fault.code) and fault.code.startswith(self.codes)) or any(
            phrase in fault.lowered for phrase in self.phrases)


@dataclass(frozen=True)
class ErrorSigns:
    """How one driver words each kind of failure; read in the order of `classify`."""

    unreachable: Signs = field(default_factory=Signs)  # only for OperationalError
    timeout: Signs = field(default_factory=Signs)
    read_only: Signs = field(default_factory=Signs)
    too_big: Signs = field(default_factory=Signs)
    damaged: Signs = field(default_factory=Signs)
    connection_lost: Signs = field(default_factory=Signs)  # only for OperationalError

    def classify(self, fault: DriverFault) -> ErrorKind:
        """The kind of `fault`. The order matters: drivers word a connect that timed out
        like a statement that did ("connection timeout expired"), and that is an
        unreachable server, not a slow query."""
        if fault.operational and self.unreachable.seen_in(fault):
            return "unreachable"
        in_order: tuple[tuple[ErrorKind, Signs], ...] = (
            ("timeout", self.timeout), ("read_only", self.read_only),
            ("too_big", self.too_big), ("damaged", self.damaged))
        for kind, signs in in_order:
            if signs.seen_in(fault):
                return kind
        if fault.operational and (fault.invalidated or self.connection_lost.seen_in(fault)):
            return "connection_lost"
        return "other"


@dataclass(frozen=True)
class Dialect:
    """One warehouse dialect: everything the copilot needs to know about it, in one place."""

    name: str  # the copilot's name for it: Guard(dialect=...), GuardedSQL, sql-check
    sqlglot: str  # sqlglot's dialect, which parses and writes its SQL
    schemes: tuple[str, ...]  # SQLAlchemy backend names a warehouse URL may start with
    url_example: str  # how a URL for it starts, shown when a URL is refused
    label: str  # its name for people ("PostgreSQL")
    open_engine: Callable[[URL, float], ReadOnlyEngine]  # read-only, with the time limit
    default_schemas: tuple[str, ...]  # where its tables are when no schema is configured
    system_schemas: tuple[str, ...]  # its catalogs: never read by a query
    errors: ErrorSigns
    prompt_name: str  # what the LLM is told the warehouse speaks
    prompt_hint: str = ""  # one sentence for the LLM's rules, with a leading space
    driver_hint: str = "Run `pip install -r requirements.txt`."  # when its driver is missing

    def classify(self, fault: DriverFault) -> ErrorKind:
        """The kind of a driver error of this dialect."""
        return self.errors.classify(fault)


def driver_missing(dialect: Dialect, exc: BaseException) -> DriverMissing:
    """The user-facing error for a dialect whose driver failed to import."""
    return DriverMissing(f"The {dialect.label} driver could not load ({exc}). "
                         f"{dialect.driver_hint}")
