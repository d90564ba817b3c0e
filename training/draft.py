"""Drafting a glossary from a warehouse's schema and stored values alone, for people to review.

`draft_glossary` is pure: the same schema and values give the same four files in the format
of glossary/README.md, which load and train as is, every guess on a line whose comment says
how it was inferred. glossary/README.md ("Drafting a glossary") lists every rule; the one
the engine depends on most is the period column of a table (the date "this month" applies
to): its only date column; else the first NOT NULL date or timestamp column whose name
says when the row happened (trade, booking, created, event, start, departure, value, open,
posted, transaction, order, entry, execution, ... or just "date"); else its first date one.
A drafted word is only ever one nothing else in the schema reads (an entity, another
column, a stored value): a term outranks a column in the engine, so a shared word would
change what a question the schema alone answers means.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from copilot.core.errors import CopilotError
from copilot.core.naming import lemma, phrase_key, raw_words, row_words, singular, split_name
from copilot.core.schema import ColumnInfo, TableInfo, WarehouseSchema
from training.glossary import load_glossary
from training.glossary_yaml import yaml_comment as _note
from training.glossary_yaml import yaml_flow as _flow
from training.glossary_yaml import yaml_scalar as _scalar

__all__ = ["DRAFT_FILES", "DraftRefused", "GlossaryDraft", "draft_glossary", "mark_reviewed",
           "write_draft"]

DRAFT_FILES = ("entities.yaml", "terms.yaml", "values.yaml", "rules.yaml")
MAX_LIST_COLUMNS = 5
MAX_JOIN_HOPS = 3  # alternatives longer than this are not worth a reviewer's time
MAX_JOIN_PATHS = 200  # beyond this a reviewer reads none: the rest are counted in a comment
_PATHS_PER_TABLE = 5_000  # a bound on the walk from one table in a dense key graph
# The same type tests as the engine's lexicon, so the draft and the engine agree.
_NUMERIC = ("INT", "DEC", "NUM", "REAL", "FLOAT", "DOUBLE", "MONEY", "BIGINT", "SMALLINT")
_TEXT = re.compile(r"CHAR|TEXT|STRING|CLOB|VARCHAR", re.IGNORECASE)
_PLAIN = re.compile(r"[A-Za-z_][\w$]*")  # a name the glossary's table.column can hold
_LABEL_WORDS = frozenset(("name", "title", "label"))
_AMOUNT_WORDS = frozenset(("amount", "value", "price", "cost", "total", "balance", "notional",
                           "quantity", "volume", "fee", "revenue", "sales", "salary", "tonnage",
                           "weight", "income", "profit", "budget", "spend", "payment"))
_NOT_MEASURE = frozenset(("id", "number", "code", "key", "year", "sequence", "version", "rank",
                          "zip", "postcode", "phone", "month", "day", "flag", "type"))
_STATUS_WORDS = frozenset(("status", "state", "stage", "type", "category", "kind", "class",
                           "priority", "level", "flag", "direction", "side"))
_WHEN_WORDS = frozenset(("trade", "booking", "booked", "book", "created", "creation", "event",
                         "start", "departure", "value", "open", "opened", "post", "posted",
                         "transaction", "order", "entry", "execution"))


class DraftRefused(CopilotError):
    """The draft was not written: the folder holds files and --force was not given."""


@dataclass(frozen=True)
class GlossaryDraft:
    """The drafted files (name -> YAML text) and what they hold."""

    files: dict[str, str]
    tables: int
    entities: int
    terms: int
    period_columns: int
    join_paths: int
    rules: int


def _is_numeric(c: ColumnInfo) -> bool:
    return c.type.upper().startswith(_NUMERIC) and not c.type.upper().startswith("INTERVAL")


def _is_date(c: ColumnInfo) -> bool:
    return "DATE" in c.type.upper() or "TIME" in c.type.upper()


def _words(c: ColumnInfo) -> list[str]:
    return split_name(c.name).split() or [""]


class _Schema:
    """The schema with what the draft asks of it: keys, names, and whose words are whose
    (`owners`: the phrases the engine's lexicon will read, keyed by their lemmas)."""

    def __init__(self, schema: WarehouseSchema, values: Mapping[str, Sequence[str]]) -> None:
        self.schema = schema
        self.values = {k: tuple(str(v) for v in vs) for k, vs in values.items()}
        self.keys = {t.name: {c for fk in t.foreign_keys for c in fk.columns} | set(
            t.primary_key) for t in schema.tables}
        self.names: dict[str, str] = {}
        self.why: dict[str, str] = {}
        self.owners: dict[tuple[str, ...], set[str]] = {}
        for table in schema.tables:  # entity names first: columns are qualified by them
            self._name(table)
            for phrase in (self.names[table.name], split_name(table.name)):
                self.own(phrase, f"entity {table.name}")
        for table in schema.tables:
            for column in table.columns:
                for phrase in self._column_phrases(table, column):
                    self.own(phrase, f"column {table.name}.{column.name}")
        for ref, stored in self.values.items():
            for value in stored:
                for phrase in {value, value.replace("_", " ")}:
                    self.own(phrase, f"value {ref}")

    def _name(self, table: TableInfo) -> None:
        words, core = split_name(table.name).split(), row_words(table.name)
        why = "name: the table's name split, abbreviations expanded, made singular"
        if core != words:
            why += f", without {' '.join(w for w in words if w not in core)!r}"
        used = set(self.names.values())
        for name in (singular(" ".join(core)), singular(" ".join(words)), table.name,
                     f"{table.name} table"):
            if name and name not in used:
                break
            why = "name: the usual name is another table's; review"
        self.names[table.name], self.why[table.name] = name, why

    def _column_phrases(self, table: TableInfo, column: ColumnInfo) -> set[str]:
        # The phrases copilot/engine/lexicon.py reads as a column (see its _add_columns).
        entity, words = self.names[table.name], split_name(column.name)
        phrases = {words, column.name.lower()}
        if not words.startswith(entity):
            phrases.add(f"{entity} {words}")
        first = words.split()[:1]
        if first and (first == split_name(table.name).split()[-1:] or first == [entity]):
            phrases.add(" ".join(words.split()[1:]))
        return {p for p in phrases if p}

    def heads(self) -> dict[str, str]:
        """{table: the last word of its entity's name} where no other table's name ends in
        that word: 'loan' for security loan ("loans traded last week"). A name that only
        holds it ("loan return") keeps its own rows: the longer phrase is read first."""
        ends = {t: lemma(n.split()[-1]) for t, n in self.names.items()}
        return {t: n.split()[-1] for t, n in self.names.items() if len(n.split()) > 1
                and not any(end == ends[t] for o, end in ends.items() if o != t)}

    def own(self, phrase: str, owner: str) -> None:
        if key := phrase_key(phrase):
            self.owners.setdefault(key, set()).add(owner)

    def free_for(self, phrase: str, owner: str) -> bool:
        """Whether `phrase` reads as nothing but `owner` (or nothing at all)."""
        key = phrase_key(phrase)
        return bool(key) and self.owners.get(key, set()) <= {owner}

    def sampled(self, table: TableInfo, column: ColumnInfo) -> tuple[str, ...]:
        return self.values.get(f"{table.name}.{column.name}", ())


Guess = tuple[str, str]  # (column, how it was inferred)


def _label(s: _Schema, table: TableInfo) -> Guess | None:
    texts = [c for c in table.columns if _TEXT.search(c.type) and c.name not in s.keys[table.name]]
    named = [c for c in texts if _words(c)[-1] in _LABEL_WORDS]
    if named:
        return named[0].name, "label: the first text column named like a name or title"
    if len(table.primary_key) == 1:
        return table.primary_key[0], "label: the primary key (no column named like a name)"
    return (texts[0].name, "label: the first text column that is not a key") if texts else None


def _measure(s: _Schema, table: TableInfo) -> Guess | None:
    numbers = [c for c in table.columns if _is_numeric(c) and c.name not in s.keys[table.name]]
    amounts = [c for c in numbers if set(_words(c)) & _AMOUNT_WORDS]
    if amounts:
        return amounts[0].name, "measure: numeric, not a key, and its name says an amount"
    plain = [c for c in numbers if _words(c)[-1] not in _NOT_MEASURE
             and _words(c)[0] not in ("is", "has")]
    return (plain[0].name, "measure: numeric, not a key") if plain else None


def _period(table: TableInfo) -> Guess | None:
    dates = [c for c in table.columns if _is_date(c)]
    if len(dates) < 2:
        return (dates[0].name, "period column: the only date column") if dates else None
    for column in dates:
        words = set(_words(column))
        if not column.nullable and (words & _WHEN_WORDS or words in ({"date"}, {"timestamp"})):
            return column.name, "period column: NOT NULL, its name says when the row happened"
    return dates[0].name, "period column: the first date column (none NOT NULL named for when)"


def _entities(s: _Schema, header: str) -> tuple[str, dict[str, Guess]]:
    lines = [header, "kind: entities", "entities:"]
    periods: dict[str, Guess] = {}
    heads = s.heads()
    for table in s.schema.tables:
        owner = f"entity {table.name}"
        lines += [f"  - name: {_scalar(s.names[table.name])}  # {s.why[table.name]}",
                  f"    table: {_scalar(table.name)}"]
        synonyms = [(w, why) for w, why in (
            (raw_words(table.name), "the name as written, before abbreviations were expanded"),
            (heads.get(table.name, ""), "the name's last word, in no other table's name"))
            if w and w not in (split_name(table.name), s.names[table.name])
            and s.free_for(w, owner)]
        for word, _ in synonyms:
            s.own(word, owner)
        if synonyms:
            lines.append(f"    synonyms: {_flow([w for w, _ in synonyms])}  # synonyms: "
                         + "; ".join(why for _, why in synonyms))
        label, measure, period = _label(s, table), _measure(s, table), _period(table)
        if period:
            periods[table.name] = period
        statuses = [c.name for c in table.columns if s.sampled(table, c) and not c.primary_key
                    and set(_words(c)) & _STATUS_WORDS]
        columns: list[str] = []
        for name in (label and label[0], period and period[0], *statuses):
            if name and name not in columns and len(columns) < MAX_LIST_COLUMNS - bool(measure):
                columns.append(name)
        if measure and measure[0] not in columns:
            columns.append(measure[0])
        lines.append(f"    list_columns: {_flow(columns)}  # list columns: the label, the "
                     "period column, status-like text with stored values, the measure")
        lines += [f"    {key}: {_scalar(found[0])}  # {found[1]}"
                  for key, found in (("label", label), ("measure", measure)) if found]
        if table.comment:
            lines.append(f"    description: {_scalar(table.comment)}  # the table's comment")
    return "\n".join(lines) + "\n", periods


def _terms(s: _Schema, header: str) -> tuple[str, int]:
    lines = [header, "kind: terms",
             "# No measure terms: every numeric column is already a measure the engine sums,",
             "# averages, ranks and compares; write one for a ratio or a filtered amount."]
    terms: list[str] = []
    for table in s.schema.tables:
        for column in table.columns:
            stored, ref = s.sampled(table, column), f"{table.name}.{column.name}"
            words, raw = split_name(column.name), raw_words(column.name)
            if not stored or column.primary_key or not s.free_for(words, f"column {ref}"):
                continue
            if not (_PLAIN.fullmatch(table.name) and _PLAIN.fullmatch(column.name)):
                terms.append(f"  # no term for {_note(ref)}: a glossary writes table.column "
                             "with plain names")
                continue
            s.own(words, f"term {ref}")  # taken: one word, one meaning
            terms.append(f"  - name: {_scalar(words)}  # dimension: text with {len(stored)} "
                         "stored value(s); nothing else in the schema reads these words")
            if raw != words and s.free_for(raw, f"column {ref}"):
                terms.append(f"    synonyms: {_flow([raw])}  # synonym: the name before "
                             "abbreviations were expanded")
            terms.append(f"    dimension: {_scalar(ref)}")
    count = sum(1 for t in terms if t.startswith("  -"))
    lines += ["terms:", *terms] if count else ["terms: []", *terms]
    return "\n".join(lines) + "\n", count


def _values(s: _Schema, header: str) -> str:
    lines = [header, "kind: values", "# Stored values are learnt at training; list here only "
             "other words for them:", "#   - {column: table.column, synonyms: {VALUE: [a word]}}",
             "# Stored values were found in these columns:"]
    known = {f"{t.name}.{c.name}" for t in s.schema.tables for c in t.columns}
    for ref, stored in sorted(s.values.items()):
        if ref in known:
            shown = ", ".join(_note(v, 30) for v in stored[:5]) + (", ..." * (len(stored) > 5))
            lines.append(f"#   {_note(ref, 120)}: {len(stored)} value(s) ({shown})")
    return "\n".join([*lines, "values: []"]) + "\n"


def _up_paths(s: _Schema) -> dict[tuple[str, str], list[tuple[str, ...]]]:
    """Every simple path along foreign keys (referencing -> referenced, the only way the
    engine joins) of at most MAX_JOIN_HOPS joins, by its end tables."""
    edges = {t.name: sorted({fk.ref_table for fk in t.foreign_keys
                             if fk.ref_table != t.name and fk.ref_table in s.names})
             for t in s.schema.tables}
    found: dict[tuple[str, str], list[tuple[str, ...]]] = {}
    for base in s.schema.table_names:
        stack, walked = [(base,)], 0
        while stack and walked < _PATHS_PER_TABLE:
            path, walked = stack.pop(), walked + 1
            if len(path) > 1:
                found.setdefault((base, path[-1]), []).append(path)
            if len(path) <= MAX_JOIN_HOPS:
                stack.extend((*path, n) for n in reversed(edges[path[-1]]) if n not in path)
    return found


def _joins(s: _Schema) -> list[str]:
    lines = []
    for table in s.schema.tables:  # two keys to one table: a join path cannot tell them apart
        for ref in sorted({fk.ref_table for fk in table.foreign_keys}):
            keys = [", ".join(fk.columns) for fk in table.foreign_keys if fk.ref_table == ref]
            if len(keys) > 1 and ref != table.name:
                lines.append(f"  # {_note(table.name)} reaches {_note(ref)} by {len(keys)} "
                             f"foreign keys ({_note('; '.join(keys), 200)}); a join takes "
                             f"the first, {_note(keys[0])}")
    several = [sorted(p, key=lambda p: (len(p), p)) for _, p in sorted(_up_paths(s).items())
               if len(p) > 1 and min(map(len, p)) <= 3]  # tables one or two joins apart
    for paths in several[:MAX_JOIN_PATHS]:
        others = "; ".join(" -> ".join(p) for p in paths[1:])
        lines += [f"  # {_note(paths[0][0])} reaches {_note(paths[0][-1])} by {len(paths)} "
                  f"paths; the others: {_note(others, 400)}",
                  f"  - {{from: {_scalar(paths[0][0])}, to: {_scalar(paths[0][-1])}, via: "
                  f"{_flow(paths[0])}}}  # join path: the shortest, which the engine takes "
                  "unless told"]
    if len(several) > MAX_JOIN_PATHS:
        lines.append(f"  # {len(several) - MAX_JOIN_PATHS} more pairs of tables have several "
                     "paths; the engine takes the shortest")
    return lines


def _rules(s: _Schema, header: str, periods: dict[str, Guess]) -> tuple[str, int, int]:
    lines = [header, "kind: rules", "drafted: true  # nobody has reviewed this draft yet; "
             "`python -m copilot glossary review DIR` marks it reviewed"]
    lines += ["period_columns:", *[f"  {_scalar(t)}: {_scalar(c)}  # {why}"
                                   for t, (c, why) in periods.items()]] if periods else [
        "period_columns: {}  # no table has a date column"]
    joins = _joins(s)
    lines += ["join_paths:", *joins] if any(j.startswith("  -") for j in joins) else [
        "join_paths: []  # the foreign keys give one path at most between two tables", *joins]
    rules = []
    for table in s.schema.tables:
        for fk in (fk for fk in table.foreign_keys if fk.ref_table in s.names):
            verb = "may belong" if any(c.nullable for c in table.columns
                                       if c.name in fk.columns) else "belongs"
            text = (f"Each {s.names[table.name]} {verb} to "
                    f"{'another' if fk.ref_table == table.name else 'one'} "
                    f"{s.names[fk.ref_table]} ({table.name}.{', '.join(fk.columns)} -> "
                    f"{fk.ref_table}.{', '.join(fk.ref_columns)}).")
            rules.append((f"{table.name}-{'-'.join(fk.columns)}", text, "from its foreign key"))
    for table in s.schema.tables if not rules else ():  # no keys: say what a row is
        key = f", identified by {', '.join(table.primary_key)}" if table.primary_key else ""
        rules.append((table.name, f"Each {s.names[table.name]} is one row of {table.name}{key}.",
                      "from the table and its primary key"))
    lines.append("rules:" if rules else "rules: []")
    ids: set[str] = set()
    for rule_id, text, why in rules:
        slug = unique = re.sub(r"[^a-z0-9]+", "-", rule_id.lower()).strip("-") or "rule"
        for n in range(2, len(rules) + 2):  # ids that differed only in case or punctuation
            if unique not in ids:
                break
            unique = f"{slug}-{n}"
        ids.add(unique)
        lines += [f"  - id: {_scalar(unique)}  # {why}", f"    text: {_scalar(text)}"]
    return "\n".join(lines) + "\n", sum(1 for j in joins if j.startswith("  -")), len(rules)


def draft_glossary(schema: WarehouseSchema, values: Mapping[str, Sequence[str]], *,
                   source: str = "") -> GlossaryDraft:
    """A reviewable glossary for `schema`, from its names, keys, types and `values` (the
    stored values of its low-cardinality text columns, {"table.column": values})."""
    s = _Schema(schema, values)
    header = ("# Drafted by `python -m copilot glossary draft`"
              + (f" from {_note(source, 120)}" if source else "") + ", from the schema and\n"
              "# stored values alone: every guess says how it was inferred. Review it, then run\n"
              "# `python -m copilot glossary review DIR`. Format: see glossary/README.md.")
    entities, periods = _entities(s, header)
    terms, term_count = _terms(s, header)
    rules, join_count, rule_count = _rules(s, header, periods)
    files = dict(zip(DRAFT_FILES, (entities, terms, _values(s, header), rules), strict=True))
    return GlossaryDraft(files, len(schema.tables), len(schema.tables), term_count,
                         len(periods), join_count, rule_count)


def write_draft(draft: GlossaryDraft, out: Path, *, force: bool = False) -> tuple[Path, ...]:
    """Write the draft's files into `out` (created when missing); the paths written.

    A folder that already holds anything is refused unless `force`, so a reviewed glossary
    is never overwritten by a new draft by mistake; with `force` only the drafted files are
    replaced, nothing else in the folder is touched.
    """
    if out.exists() and not out.is_dir():
        raise DraftRefused(f"{out} is a file; give a folder for the drafted glossary.")
    if out.is_dir() and any(out.iterdir()) and not force:
        held = ", ".join(sorted(p.name for p in out.iterdir())[:5])
        raise DraftRefused(f"{out} already holds files ({held}); draft into an empty folder, "
                           "or add --force to replace the drafted files in it.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in DRAFT_FILES:
            (out / name).write_text(draft.files[name], encoding="utf-8")
    except OSError as exc:
        raise DraftRefused(f"Cannot write the draft into {out}: {exc.strerror}.") from None
    return tuple(out / name for name in DRAFT_FILES)


_DRAFTED = re.compile(r"^drafted:[ \t]*(true|yes|on)\b.*$", re.IGNORECASE | re.MULTILINE)


def mark_reviewed(folder: Path, *, note: str = "reviewed") -> Path | None:
    """Set `drafted: false` in the rules file of `folder`, editing that one line so that
    every comment a reviewer wrote stays; the file changed, or None when nothing was drafted.

    The folder must load first: a glossary that does not is not marked reviewed.
    """
    if not load_glossary(folder).drafted:
        return None
    for path in sorted(folder.glob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^kind:[ \t]*rules\b", text, re.MULTILINE) and _DRAFTED.search(text):
            path.write_text(_DRAFTED.sub(f"drafted: false  # {_note(note, 200)}", text, count=1),
                            encoding="utf-8")
            return path
    raise DraftRefused(f"{folder}: the rules file says drafted in a way this command cannot "
                       "edit; set 'drafted: false' in it by hand.")
