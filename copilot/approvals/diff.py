"""How a change's diff is written: a unified diff of the before and after text (YAML or
JSON), so every kind reads the same way on the Approvals page and in the audit log."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping

import yaml

__all__ = ["files_diff", "json_text", "text_diff", "yaml_text"]


def text_diff(before: str, after: str, name: str) -> str:
    """The unified diff of `before` → `after` (a file named `name`); a note when equal."""
    lines = list(difflib.unified_diff(before.splitlines(keepends=True),
                                      after.splitlines(keepends=True),
                                      fromfile=f"{name} (in force)",
                                      tofile=f"{name} (proposed)"))
    if not lines:
        return f"(no change to {name})\n"
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def files_diff(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """The diff of several named texts (a glossary's files), file by file."""
    names = sorted(set(before) | set(after))
    parts = [text_diff(before.get(n, ""), after.get(n, ""), n) for n in names
             if before.get(n, "") != after.get(n, "")]
    return "".join(parts) or "(no change)\n"


def json_text(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def yaml_text(value: object) -> str:
    return yaml.safe_dump(value, sort_keys=True, allow_unicode=True, width=100)
