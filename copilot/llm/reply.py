"""Read an LLM's reply: the SQL (fenced or bare), its one-sentence explanation, follow-ups,
or its statement that the question cannot be answered from the warehouse.

Nothing here decides whether the SQL may run: every statement found goes to the guard,
several statements included (joined, so the guard's one-statement rule refuses them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Draft", "read_reply"]

_FENCE = re.compile(r"```[ \t]*([A-Za-z]*)[^\n]*\n(.*?)```", re.S)
_DECLINE = re.compile(r"^\W*cannot answer\W*:?\s*(.*)$", re.I | re.M)
_SQL_START = re.compile(r"^\s*(select|with)\b", re.I)
_LABEL = re.compile(r"^\W*(explanation|follow[- ]?ups?)\W*:\s*(.*)$", re.I)
_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+(.*\S)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")  # markdown links and images
_TAG = re.compile(r"<[^>]*>")
MAX_EXPLANATION = 400


@dataclass(frozen=True)
class Draft:
    """What an LLM reply offers; `sql` is None when it has no query."""

    sql: str | None
    explanation: str = ""
    follow_ups: tuple[str, ...] = ()
    declined: str = ""  # the LLM's reason when it says the question cannot be answered


def read_reply(text: str) -> Draft:
    """The SQL of a reply: the fenced block(s) when there are any, else the lines from the
    first SELECT/WITH to the first blank or labelled line."""
    declined = _DECLINE.search(text)
    blocks = [body.strip() for lang, body in _FENCE.findall(text)
              if lang.lower() in ("", "sql") and body.strip()]
    if blocks:
        sql = ";\n".join(b.rstrip(";").strip() for b in blocks)
        rest = _FENCE.sub("\n", text)
    else:
        sql, rest = _bare_sql(text)
    if declined and not sql:
        return Draft(None, declined=(declined.group(1).strip() or "no reason given")[:300])
    explanation, follow_ups = _notes(rest)
    return Draft(sql or None, explanation, follow_ups)


def _bare_sql(text: str) -> tuple[str, str]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _SQL_START.match(line)), None)
    if start is None:
        return "", text
    end = start
    while end < len(lines) and lines[end].strip() and not _LABEL.match(lines[end]):
        end += 1
    sql = "\n".join(lines[start:end]).strip().rstrip(";").strip()
    return sql, "\n".join(lines[:start] + lines[end:])


def _notes(text: str) -> tuple[str, tuple[str, ...]]:
    explanation = ""
    follow_ups: list[str] = []
    section = ""
    for line in text.splitlines():
        label = _LABEL.match(line)
        if label:
            section = label.group(1).lower()[:6]
            value = label.group(2).strip()
            if section == "explan" and value:
                explanation = value
            elif value:
                follow_ups.append(value)
            continue
        item = _ITEM.match(line)
        if section == "follow" and item:
            follow_ups.append(item.group(1))
        elif section == "explan" and line.strip() and not explanation:
            explanation = line.strip()
    clean = [_plain(f) for f in follow_ups]
    return _plain(explanation)[:MAX_EXPLANATION], tuple(f[:200] for f in clean if f)[:3]


def _plain(text: str) -> str:
    """The text without links, images or HTML: the page renders it as Markdown, and an
    image URL written by the LLM would make every browser that shows it call that URL."""
    return _TAG.sub("", _LINK.sub(r"\1", text)).strip().strip("*_`").strip()
