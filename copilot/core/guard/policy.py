"""The guard's data: allowed functions and types, system catalogs, never-allowed functions,
allowed table hints and the bound on string growth.

Loaded once from `policy.yaml` beside this file and validated here, so the rules only ever
see a frozen, well-formed Policy. A bank's own file in the same format replaces the shipped
sections it names and keeps the others: a file that only adds a catalog still has the
shipped allow-list, never an empty or missing one.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

import yaml
from sqlglot import exp

from copilot.core.dialects import dialects
from copilot.core.errors import ConfigError

__all__ = ["DEFAULT_POLICY_FILE", "Policy", "default_policy", "load_policy"]

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")
_DIALECTS = tuple(dict.fromkeys(d.sqlglot for d in dialects()))  # policy.yaml's sections
# The name sqlglot gives each function it models (its first: `exp.Func.sql_name()`, the one
# the guard compares), and every type it names: what the policy may list.
_SQLGLOT_FUNCTIONS = frozenset(func.sql_names()[0].lower() for func in exp.ALL_FUNCTIONS
                               ) | {"case", "exists"}
_SQLGLOT_TYPES = frozenset(t.value.lower() for t in exp.DataType.Type)


@dataclass(frozen=True)
class Policy:
    """What the guard allows by name (lower case) and what it refuses by pattern."""

    allowed_functions: frozenset[str]  # sqlglot's names, any dialect
    native_functions: Mapping[str, frozenset[str]]  # per dialect, names as written
    allowed_types: frozenset[str]
    max_string_growth: int
    system_catalogs: tuple[str, ...]
    dangerous_functions: tuple[str, ...]
    allowed_table_hints: frozenset[str]

    def is_system_catalog(self, name: str, db: str = "") -> bool:
        """True when the table `db.name` (or bare `name`) is a catalog or system object."""
        candidates = [name.lower()] + ([f"{db.lower()}.{name.lower()}", db.lower()] if db else [])
        return any(
            fnmatch.fnmatchcase(candidate, pattern)
            for candidate in candidates
            for pattern in self.system_catalogs
        )

    def is_dangerous_function(self, name: str) -> bool:
        """True when a function of this name is on the never-allowed list."""
        lowered = name.lower()
        return any(fnmatch.fnmatchcase(lowered, p) for p in self.dangerous_functions)

    def allows_native(self, name: str, dialect: str) -> bool:
        """True when `name`, a function sqlglot does not model, is listed for `dialect`."""
        return name.lower() in self.native_functions.get(dialect, frozenset())

    def size(self, dialect: str) -> int:
        """How many functions a query checked for `dialect` may call."""
        return len(self.allowed_functions) + len(self.native_functions.get(dialect, ()))


def _names(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of names.")
    return tuple(v.strip().lower() for v in value)


def _grouped(value: object, where: str) -> tuple[str, ...]:
    """A list of names, or a mapping of group -> list (groups only help the reader)."""
    if isinstance(value, dict):
        return tuple(n for group, names in value.items()
                     for n in _names(names, f"{where}.{group}"))
    return _names(value, where)


def _known(names: tuple[str, ...], known: frozenset[str], where: str, what: str
           ) -> frozenset[str]:
    unknown = sorted(set(names) - known)
    if unknown:
        raise ConfigError(f"{where}: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'}"
                          f" not {what} sqlglot knows; check the spelling.")
    return frozenset(names)


def _allowed_functions(data: dict, path: Path
                       ) -> tuple[frozenset[str], Mapping[str, frozenset[str]]]:
    where = f"{path}: allowed_functions"
    section = data.get("allowed_functions")
    if not isinstance(section, dict) or "sqlglot" not in section:
        raise ConfigError(f"{where} must map `sqlglot` (and optionally each dialect) to names.")
    unknown = sorted(set(section) - {"sqlglot", *_DIALECTS})
    if unknown:
        raise ConfigError(f"{where}: unknown section {', '.join(unknown)}; "
                          f"use sqlglot, {', '.join(_DIALECTS)}.")
    typed = _known(_grouped(section["sqlglot"], f"{where}.sqlglot"), _SQLGLOT_FUNCTIONS,
                   f"{where}.sqlglot", "functions")
    native = {d: frozenset(_grouped(section.get(d, []), f"{where}.{d}")) for d in _DIALECTS}
    return typed, MappingProxyType(native)


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"The guard policy {path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"The guard policy {path} must be a mapping.")
    return data


def load_policy(path: Path) -> Policy:
    """Read and validate a policy file over the shipped one; ConfigError names the file and
    the faulty key."""
    data = _read(path)
    if path.resolve() != DEFAULT_POLICY_FILE.resolve():
        data = {**_read(DEFAULT_POLICY_FILE), **data}
    functions = data.get("dangerous_functions")
    if not isinstance(functions, dict) or not functions:
        raise ConfigError(f"{path}: dangerous_functions must map a dialect to a list of names.")
    growth = data.get("max_string_growth")
    if not isinstance(growth, int) or isinstance(growth, bool) or growth < 1:
        raise ConfigError(f"{path}: max_string_growth must be a whole number of at least 1.")
    typed, native = _allowed_functions(data, path)
    return Policy(
        allowed_functions=typed,
        native_functions=native,
        allowed_types=_known(_names(data.get("allowed_types"), f"{path}: allowed_types"),
                             _SQLGLOT_TYPES, f"{path}: allowed_types", "types"),
        max_string_growth=growth,
        system_catalogs=_names(data.get("system_catalogs"), f"{path}: system_catalogs"),
        dangerous_functions=tuple(
            name
            for dialect, names in functions.items()
            for name in _names(names, f"{path}: dangerous_functions.{dialect}")
        ),
        allowed_table_hints=frozenset(
            _names(data.get("allowed_table_hints", []), f"{path}: allowed_table_hints")
        ),
    )


@cache
def default_policy() -> Policy:
    """The policy shipped with the copilot."""
    return load_policy(DEFAULT_POLICY_FILE)
