"""Glossary YAML: read with line numbers (every error names the file and the line), and the
scalars and comments a drafted glossary is written with."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp

from copilot.core.errors import GlossaryError

__all__ = ["LineLoader", "Reader", "key_line", "yaml_comment", "yaml_flow", "yaml_scalar"]


def _resolve(sql: str) -> str:
    from training.glossary import resolve_as_of

    return resolve_as_of(sql)


class LineLoader(yaml.SafeLoader):
    """A safe loader that records each mapping's line as the key `__line__`, and the line of
    each of its keys (see `key_line`)."""


class _LineDict(dict):
    """A mapping that also knows the line each of its keys was written on."""

    key_lines: dict[Any, int]


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.key_lines = {loader.construct_object(key, deep=True): key.start_mark.line + 1
                         for key, _ in node.value if isinstance(key, yaml.ScalarNode)}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


def key_line(mapping: Any, key: Any) -> int:
    """The line `key` of a loaded mapping was written on (a value synonym's own line, not
    its entry's), else the mapping's line."""
    lines = getattr(mapping, "key_lines", {})
    return lines.get(key) or (mapping.get("__line__", 1) if isinstance(mapping, dict) else 1)


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


def yaml_scalar(text: str) -> str:
    """`text` as a YAML scalar: plain when it reads back as itself, else double-quoted."""
    if re.fullmatch(r"[A-Za-z_][\w .\-]*", text) and text == text.strip():
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def yaml_flow(items: Sequence[str]) -> str:
    """A flow list of scalars: `[a, "b: c"]`."""
    return "[" + ", ".join(yaml_scalar(i) for i in items) + "]"


def yaml_comment(text: str, limit: int = 60) -> str:
    """Warehouse text fit for a YAML comment: one line (a newline in a table name or a
    stored value would end the comment and write YAML), no control characters, short."""
    clean = re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]", " ", str(text))
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."
