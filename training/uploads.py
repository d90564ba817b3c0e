"""Reading uploaded verified pairs: a YAML list or JSON lines of {question, sql}."""

from __future__ import annotations

import json

import yaml

from copilot.core.errors import CopilotError
from training.trainer import PairUpload

__all__ = ["parse_pairs"]


def parse_pairs(text: str, filename: str) -> list[PairUpload]:
    """The pairs in an uploaded file (JSON lines when it ends in .jsonl/.json, else YAML)."""
    try:
        if filename.endswith((".jsonl", ".json")):
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            items = yaml.safe_load(text) or []
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CopilotError(f"{filename} cannot be read: {str(exc).splitlines()[0]}.") from None
    if not isinstance(items, list) or not items or not all(
        isinstance(i, dict) and isinstance(i.get("question"), str) and isinstance(i.get("sql"), str)
        for i in items
    ):
        raise CopilotError(f"{filename} must be a list of entries with a question and an sql.")
    return [PairUpload(i["question"], i["sql"]) for i in items]
