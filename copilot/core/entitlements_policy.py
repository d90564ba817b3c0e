"""An entitlements policy: which rows of which tables each user may read, loaded from YAML.

The file (a shipped example is `docs/entitlements.example.yaml`)::

    groups:                      # who is in which group; an IdP's groups claim adds to it
      rates-desk: [alice, bob]
      london-ops: [carol]
    rules:                       # each rule names a group OR a user, never a bare name
      - group: rates-desk
        tables:
          trades: "asset_class = 'RATES'"   # a boolean condition over that table's columns
          books: "desk = 'Rates'"
          counterparties: "TRUE"            # the whole table
      - user: carol
        tables:
          trades: "currency = 'GBP'"
    default: deny                # a table no rule of the user names: deny = no rows
                                 # (filter FALSE), allow = unfiltered
    unrestricted:                # who sees everything (still audited)
      groups: [auditors]
      users: [dave]

Why `group:` and `user:` rather than one `who:` key: users and groups would otherwise share
one namespace, and a user whose login happens to equal a group's name would silently get
that group's rows. A user's names are their login, the groups the file gives them and the
groups the caller passes (an IdP's claim); a user in several groups gets, per table, the OR
of every filter that names one of them.

Every filter is parsed with sqlglot at load, must be a boolean condition (no subquery, no
table, no aggregate or window, no parameter) and may name only columns its table has in
the given GuardSchema; anything else is an `EntitlementsError` naming the file and line.
Names are compared exactly as written (logins and group names are case-sensitive).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Protocol

import sqlglot
import yaml
from sqlglot import exp

from copilot.core.errors import ConfigError
from copilot.core.guard.verdict import GuardSchema

__all__ = ["Default", "Entitlements", "EntitlementsError", "EntitlementsSource", "Grant", "Rule",
           "load_entitlements", "parse_entitlements", "read_policy_text"]

Default = Literal["deny", "allow"]
_TOP_KEYS = frozenset({"groups", "rules", "default", "unrestricted"})
# What a row filter may not contain: anything that reads another table or row set, writes,
# aggregates across rows, or takes its value from outside the policy file.
_FORBIDDEN = (exp.Query, exp.Subquery, exp.Table, exp.Exists, exp.DML, exp.DDL, exp.Command,
              exp.Star, exp.AggFunc, exp.Window, exp.Placeholder, exp.Parameter, exp.Alias)
_CONDITIONS = (exp.Predicate, exp.Boolean)


class EntitlementsError(ConfigError):
    """The entitlements file is malformed or names what the warehouse lacks; says file and
    line."""


@dataclass(frozen=True, eq=False)
class Grant:
    """The rows of one table a user may read: a condition over that table's unqualified
    columns, and how it reads to a person."""

    table: str  # lower case, as GuardSchema keys it
    condition: exp.Expression
    text: str


@dataclass(frozen=True, eq=False)
class Rule:
    """One rule of the file: the group or user it names and its filter per table."""

    kind: Literal["group", "user"]
    name: str
    filters: Mapping[str, exp.Expression]  # lower-case table -> condition
    line: int


@dataclass(frozen=True, eq=False)
class Entitlements:
    """A loaded, validated policy."""

    groups: Mapping[str, frozenset[str]]  # group -> its members
    rules: tuple[Rule, ...]
    default: Default
    unrestricted_groups: frozenset[str]
    unrestricted_users: frozenset[str]
    source: str  # the file it was read from

    def in_force(self) -> Entitlements:
        """Itself: a policy loaded once is its own source (`EntitlementsSource`)."""
        return self

    def groups_of(self, user: str, groups: frozenset[str] = frozenset()) -> frozenset[str]:
        """The groups `user` is in: those the file gives and those the caller passes."""
        return frozenset(groups) | {g for g, members in self.groups.items() if user in members}

    def is_unrestricted(self, user: str, groups: frozenset[str] = frozenset()) -> bool:
        """True when `user` (or one of their groups) may read every row."""
        return user in self.unrestricted_users or bool(
            self.groups_of(user, groups) & self.unrestricted_groups)

    def grants(self, user: str, groups: frozenset[str] = frozenset()) -> dict[str, Grant]:
        """Per table a rule names for the user, the OR of the filters that apply to them."""
        mine = self.groups_of(user, groups)
        found: dict[str, list[exp.Expression]] = {}
        for rule in self.rules:
            if (rule.name == user) if rule.kind == "user" else (rule.name in mine):
                for table, condition in rule.filters.items():
                    found.setdefault(table, []).append(condition)
        out = {}
        for table, conditions in found.items():
            condition = exp.or_(*conditions, copy=True) if len(conditions) > 1 else conditions[0]
            out[table] = Grant(table, condition, condition.sql())
        return out


class EntitlementsSource(Protocol):
    """Where an executor finds the policy in force, once per statement: a loaded policy is
    its own source; under four eyes it is the last approved policy, which an approval can
    change while the app runs (copilot/approvals/policy_kind.py)."""

    def in_force(self) -> Entitlements: ...


def load_entitlements(path: Path | str, schema: GuardSchema, *, dialect: str | None = None
                      ) -> Entitlements:
    """The policy in `path`, its filters checked against `schema` (and parsed in sqlglot's
    `dialect`, default its generic one); EntitlementsError with file and line if not."""
    return parse_entitlements(read_policy_text(path), path, schema, dialect=dialect)


def read_policy_text(path: Path | str) -> str:
    """The text of the entitlements file; EntitlementsError naming it when unreadable."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EntitlementsError(f"{path}: the entitlements file cannot be read "
                                f"({exc.strerror or type(exc).__name__}).") from None


def parse_entitlements(text: str, path: Path | str, schema: GuardSchema, *,
                       dialect: str | None = None) -> Entitlements:
    """The policy written in `text` (read from `path`, which errors name), validated as
    `load_entitlements` does: an approved text kept in the state database is held to the same
    rules as the file."""
    path = Path(path)
    try:
        root = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise EntitlementsError(f"{path}{where}: {problem}.") from None
    return _Builder(path, schema, dialect).build(root)


class _LineLoader(yaml.SafeLoader):
    """A safe loader whose mappings remember the line of each key (`_Lines`)."""


class _Lines(dict):
    """A mapping that knows its own line and the line each key was written on."""

    line: int
    key_lines: dict[Any, int]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Lines:
    mapping = _Lines(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {loader.construct_object(key, deep=True): key.start_mark.line + 1
                         for key, _ in node.value}
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line(mapping: Any, key: Any = None) -> int:
    if not isinstance(mapping, _Lines):
        return 1
    return mapping.key_lines.get(key, mapping.line) if key is not None else mapping.line


class _Builder:
    """Reads one file's sections, failing with the file and the line of what is wrong."""

    def __init__(self, path: Path, schema: GuardSchema, dialect: str | None) -> None:
        self.path = path
        self.schema = schema
        self.dialect = dialect

    def fail(self, line: int, reason: str) -> None:
        raise EntitlementsError(f"{self.path}, line {line}: {reason}.")

    def build(self, root: Any) -> Entitlements:
        if not isinstance(root, _Lines):
            self.fail(1, "the entitlements file must be a mapping with 'rules'")
        unknown = sorted(str(k) for k in set(root) - _TOP_KEYS)
        if unknown:
            self.fail(_line(root, unknown[0]), f"unknown key(s) {', '.join(unknown)}; the keys "
                      f"are {', '.join(sorted(_TOP_KEYS))}")
        default = root.get("default", "deny")
        if default not in ("deny", "allow"):
            self.fail(_line(root, "default"), f"'default' must be deny or allow, not {default!r}")
        groups = self.groups(root)
        rules = root.get("rules")
        if not isinstance(rules, list):
            self.fail(_line(root, "rules"), "'rules' must be a list of rules")
        unrestricted = root.get("unrestricted") or _Lines()
        if not isinstance(unrestricted, dict):
            self.fail(_line(root, "unrestricted"),
                      "'unrestricted' must be a mapping with 'groups' and/or 'users'")
        self.keys(unrestricted, {"groups", "users"}, "'unrestricted'")
        return Entitlements(
            groups=MappingProxyType(groups),
            rules=tuple(self.rule(item, _line(root, "rules")) for item in rules),
            default=default,
            unrestricted_groups=self.names(unrestricted, "groups", "'unrestricted'"),
            unrestricted_users=self.names(unrestricted, "users", "'unrestricted'"),
            source=str(self.path),
        )

    def keys(self, item: _Lines, allowed: set[str], where: str) -> None:
        unknown = sorted(str(k) for k in set(item) - allowed)
        if unknown:
            self.fail(_line(item, unknown[0]), f"{where} has unknown key(s) "
                      f"{', '.join(unknown)}; it may have {', '.join(sorted(allowed))}")

    def names(self, item: _Lines, key: str, where: str) -> frozenset[str]:
        value = item.get(key) or []
        if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value):
            self.fail(_line(item, key), f"'{key}' of {where} must be a list of names")
        return frozenset(v.strip() for v in value)

    def groups(self, root: _Lines) -> dict[str, frozenset[str]]:
        groups = root.get("groups") or _Lines()
        if not isinstance(groups, dict):
            self.fail(_line(root, "groups"), "'groups' must map each group to its members")
        return {str(name).strip(): self.names(groups, name, f"group {name!r}")
                for name in groups}

    def rule(self, item: Any, line: int) -> Rule:
        if not isinstance(item, _Lines):
            self.fail(line, "each rule must be a mapping with 'group' or 'user', and 'tables'")
        self.keys(item, {"group", "user", "tables"}, "a rule")
        named = [k for k in ("group", "user") if k in item]
        if len(named) != 1:
            self.fail(item.line, "a rule names exactly one of 'group' or 'user'")
        kind = named[0]
        name = item[kind]
        if not isinstance(name, str) or not name.strip():
            self.fail(_line(item, kind), f"'{kind}' must be a name")
        tables = item.get("tables")
        if not isinstance(tables, _Lines) or not tables:
            self.fail(_line(item, "tables"), "'tables' must map each table to its row filter")
        filters = {str(t).lower(): self.condition(tables, t) for t in tables}
        return Rule(kind, name.strip(), MappingProxyType(filters), item.line)

    def condition(self, tables: _Lines, table: Any) -> exp.Expression:
        line = _line(tables, table)
        key = str(table).lower()
        if key not in self.schema.tables:
            self.fail(line, f"there is no table {table} in the warehouse; known tables: "
                      f"{', '.join(sorted(self.schema.names.values()))}")
        text = tables[table]
        if isinstance(text, bool):  # YAML reads an unquoted true/false as a boolean
            text = "TRUE" if text else "FALSE"
        if not isinstance(text, str) or not text.strip():
            self.fail(line, f"the filter of {table} must be a SQL condition in quotes")
        try:
            parsed = sqlglot.parse_one(text, read=self.dialect, into=exp.Condition)
        except Exception as exc:  # sqlglot raises several kinds; all mean "not a condition"
            self.fail(line, f"the filter of {table} is not a SQL condition "
                      f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
        core = parsed.unnest()
        while isinstance(core, exp.Not):
            core = core.this.unnest()
        columns = self.schema.tables[key]
        boolean_column = isinstance(core, exp.Column) and "bool" in columns.get(
            core.name.lower(), "").lower()
        if not isinstance(core, (*_CONDITIONS, exp.Connector)) and not boolean_column:
            self.fail(line, f"the filter of {table} must be a condition such as "
                      f"desk = 'Rates', not {parsed.sql()}")
        bad = next(parsed.find_all(*_FORBIDDEN), None)
        if bad is not None:
            self.fail(line, f"the filter of {table} may use only the columns of {table}: "
                      f"{bad.sql()[:80]} is not allowed in a row filter")
        for column in parsed.find_all(exp.Column):
            if (column.table and column.table.lower() != key) or column.args.get("db"):
                self.fail(line, f"the filter of {table} may name only {table}'s own columns, "
                          f"not {column.sql()}")
            if column.name.lower() not in columns:
                self.fail(line, f"{table} has no column {column.name}; its columns: "
                          f"{', '.join(sorted(columns))}")
            column.set("table", None)  # the rewrite qualifies it with the table it guards
        return parsed
