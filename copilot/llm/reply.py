"""Read an LLM's reply: the SQL (fenced or bare), its one-sentence explanation, follow-ups,
or its statement that the question cannot be answered from the warehouse.

Nothing here decides whether the SQL may run: every statement found goes to the guard,
several statements included (joined, so the guard's one-statement rule refuses them). A
reply is never trimmed to its harmless part: every SQL fence, whatever its language tag,
and every statement written outside fences is part of the draft, and the statements that
are not read-only queries (DELETE, DROP, a writing CTE...) are named in `non_queries`, so that
the router refuses the whole reply rather than run the SELECT beside them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

__all__ = ["Draft", "read_reply"]

_FENCE = re.compile(r"```[ \t]*([\w+#-]*)[^\n]*\n(.*?)```", re.S)
_SQL_TAGS = frozenset({"", "sql", "sqlite", "sqlite3", "postgres", "postgresql", "pgsql",
                       "psql", "plpgsql", "tsql", "t-sql", "mssql", "sqlserver", "mysql",
                       "mariadb", "plsql", "oracle", "ansi", "db2", "snowflake", "duckdb"})
_DECLINE = re.compile(r"^\W*cannot answer\W*:?\s*(.*)$", re.I | re.M)
# Where a statement starts in prose: strict shapes, so that "Update: ..." or "With this
# query ..." stay prose. What the statement is, sqlglot's tree decides.
_QUERY_START = r"select\b|with\s+(?:recursive\s+)?[\w\"`\[\]]+\s*(?:\([^)]*\)\s*)?as\s*\("
_WRITE_START = (
    r"delete\s+from\b|insert\s+(?:or\s+\w+\s+)?into\b|replace\s+into\b|merge\s+into\b"
    r"|update\s+[\w.\"`\[\]]+\s+set\b|truncate\s+(?:table\s+)?[\w\"`\[]"
    r"|(?:drop|alter)\s+(?:table|view|index|schema|database|trigger|procedure|function|user"
    r"|role)\b|create\s+(?:or\s+replace\s+)?(?:temp(?:orary)?\s+|unique\s+)?(?:table|view"
    r"|index|schema|database|trigger|procedure|function)\b|(?:grant|revoke)\s+\w[\w ,]*\s+on\b"
    r"|exec(?:ute)?\s+(?:sp_|xp_|immediate\b)|attach\s+(?:database\s+)?['\"]|detach\s+database\b"
    r"|pragma\s+\w+|vacuum\b|copy\s+[\w.\"]+\s+(?:from|to)\b|call\s+[\w.]+\s*\(")
_SQL_START = re.compile(rf"^\s*(?:{_QUERY_START}|{_WRITE_START})", re.I)
_WRITE_CHUNK = re.compile(rf"^\s*(?:{_WRITE_START})", re.I)
_WRITES = (exp.Delete, exp.Insert, exp.Update, exp.Merge, exp.Into, exp.Create, exp.Drop,
           exp.Alter, exp.TruncateTable, exp.Command)
# Unquoted, these start a statement: sqlglot reads "SELECT 1 DELETE FROM t" as an alias, but
# in a T-SQL batch it is two statements.
_STATEMENT_WORDS = frozenset({"DELETE", "INSERT", "UPDATE", "MERGE", "DROP", "ALTER", "CREATE",
                              "TRUNCATE", "GRANT", "REVOKE", "EXEC", "EXECUTE", "ATTACH",
                              "DETACH", "PRAGMA", "VACUUM", "SHUTDOWN", "KILL"})
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
    non_queries: tuple[str, ...] = ()  # kinds of the statements that are not read queries


def read_reply(text: str, dialect: str | None = None) -> Draft:
    """The SQL of a reply, all of it: every fenced block tagged as SQL (or untagged, or
    starting like a statement) and every run of lines outside the fences that starts like a
    statement, up to a blank or labelled line; joined with ';' when there are several."""
    declined = _DECLINE.search(text)
    pieces = [body.strip() for tag, body in _FENCE.findall(text)
              if body.strip() and (tag.lower() in _SQL_TAGS or _SQL_START.match(body))]
    bare, rest = _bare_sql(_FENCE.sub("\n", text))
    sql = ";\n".join(p.strip().rstrip(";").strip() for p in (*pieces, *bare))
    if declined and not sql:
        return Draft(None, declined=(declined.group(1).strip() or "no reason given")[:300])
    explanation, follow_ups = _notes(rest)
    return Draft(sql or None, explanation, follow_ups, non_queries=_non_queries(sql, dialect))


def _bare_sql(text: str) -> tuple[list[str], str]:
    """Every run of lines from one that starts like a statement to a blank or labelled
    line, and the text without them."""
    lines = text.splitlines()
    runs: list[str] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        if not _SQL_START.match(lines[i]):
            prose.append(lines[i])
            i += 1
            continue
        end = i
        while end < len(lines) and lines[end].strip() and not _LABEL.match(lines[end]):
            end += 1
        runs.append("\n".join(lines[i:end]))
        i = end
    return runs, "\n".join(prose)


def _non_queries(sql: str, dialect: str | None) -> tuple[str, ...]:
    """What in `sql` is not a read query, by sqlglot's tree; by where statements start when
    it does not parse (the guard refuses it then anyway, but a write must not pass for a
    typo the LLM may correct)."""
    if not sql:
        return ()
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect)
                      if s is not None and not isinstance(s, exp.Semicolon)]
    except Exception:  # sqlglot raises more than ParseError on hostile text
        chunks = re.split(r"[;\n]", sql)
        return tuple(dict.fromkeys(
            c.split()[0].upper() for c in chunks if _WRITE_CHUNK.match(c)))
    kinds: list[str] = []
    for statement in statements:
        if not isinstance(statement, exp.Select | exp.SetOperation):
            kinds.append(_kind(statement))
        kinds.extend(_kind(node) for node in statement.find_all(*_WRITES)
                     if node is not statement)
        kinds.extend(word.name.upper() for word in statement.find_all(exp.Identifier)
                     if not word.quoted and word.name.upper() in _STATEMENT_WORDS)
    return tuple(dict.fromkeys(kinds))


def _kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    if isinstance(node, exp.Into):
        return "SELECT INTO"
    return node.key.upper()


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
