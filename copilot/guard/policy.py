"""The guard's data: system catalogs, dangerous functions and allowed table hints.

Loaded once from `policy.yaml` beside this file (or a bank's own file in the same format)
and validated here, so the rules only ever see a frozen, well-formed Policy.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from copilot.errors import ConfigError

__all__ = ["DEFAULT_POLICY_FILE", "Policy", "default_policy", "load_policy"]

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")


@dataclass(frozen=True)
class Policy:
    """Lower-case fnmatch patterns for what the guard refuses by name."""

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
        """True when a function of this name is on the dangerous list."""
        lowered = name.lower()
        return any(fnmatch.fnmatchcase(lowered, p) for p in self.dangerous_functions)


def _names(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of names.")
    return tuple(v.strip().lower() for v in value)


def load_policy(path: Path) -> Policy:
    """Read and validate a policy file; ConfigError names the file and the faulty key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"The guard policy {path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"The guard policy {path} must be a mapping.")
    functions = data.get("dangerous_functions")
    if not isinstance(functions, dict) or not functions:
        raise ConfigError(f"{path}: dangerous_functions must map a dialect to a list of names.")
    return Policy(
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
