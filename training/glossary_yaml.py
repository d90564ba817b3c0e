"""Reading glossary YAML with line numbers: every error names the file and the line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp

from copilot.errors import GlossaryError

__all__ = ["LineLoader", "Reader"]


def _resolve(sql: str) -> str:
    from training.glossary import resolve_as_of

    return resolve_as_of(sql)


class LineLoader(yaml.SafeLoader):
    """A safe loader that records each mapping's line as the key `__line__`."""


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class Reader:
    """Reads the fields of one YAML mapping, raising GlossaryError with file and line."""

    def __init__(self, path: Path, item: Any, where: str, allowed: Iterable[str]) -> None:
        self.path = path
        self.where = where
        self.line = item.get("__line__", 1) if isinstance(item, dict) else 1
        if not isinstance(item, dict):
            self.fail(f"{where} must be a mapping of fields")
        self.item = item
        unknown = set(item) - {"__line__"} - set(allowed)
        if unknown:
            self.fail(f"{where} has unknown field(s): {', '.join(sorted(unknown))}")

    @property
    def source(self) -> str:
        return f"{self.path.name}, line {self.line}"

    def fail(self, reason: str) -> None:
        raise GlossaryError(f"{self.path}, line {self.line}: {reason}.")

    def text(self, key: str, required: bool = True) -> str | None:
        value = self.item.get(key)
        if value is None:
            if required:
                self.fail(f"{self.where} needs '{key}'")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float) or not str(
            value
        ).strip():
            self.fail(f"'{key}' of {self.where} must be non-empty text")
        return str(value).strip()

    def words(self, key: str, required: bool = False) -> tuple[str, ...]:
        value = self.item.get(key, [])
        if required and not value:
            self.fail(f"{self.where} needs a non-empty list '{key}'")
        if not isinstance(value, list) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip()
            for v in value
        ):
            self.fail(f"'{key}' of {self.where} must be a list of words")
        return tuple(str(v).strip() for v in value)

    def sql(self, key: str, *, condition: bool) -> str | None:
        """A SQL condition or expression, parsed with sqlglot so a typo fails at load."""
        text = self.text(key, required=False)
        if text is None:
            return None
        try:
            parsed = sqlglot.parse_one(_resolve(text), into=exp.Condition)
        except Exception as exc:  # sqlglot raises several kinds; all mean "not SQL"
            self.fail(f"'{key}' of {self.where} is not valid SQL ({str(exc).splitlines()[0]})")
        conditions = exp.Predicate | exp.Connector | exp.Not | exp.Paren
        if condition and not isinstance(parsed, conditions):
            self.fail(f"'{key}' of {self.where} must be a condition such as t.col = 'X'")
        return text

    def column(self, key: str) -> str | None:
        """A `table.column` reference."""
        text = self.text(key, required=False)
        if text is not None and not re.fullmatch(r"[A-Za-z_][\w$]*\.[A-Za-z_][\w$]*", text):
            self.fail(f"'{key}' of {self.where} must be written table.column, not {text!r}")
        return text
