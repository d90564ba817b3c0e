"""What a follow-up's edited question must show, and what changed, in words.

The whole question a follow-up is composed into is read again; the reading is kept only
when it is the edit and nothing else: it reads, differently from the last question (unless
it asks for what is already shown: a sort in force, another chart), a drill lists rows, a
comparison compares, a cut cuts, and the grouping, measure and period stay unless the edit
is about them. What changed is then said from the two plans ("now grouped by book",
"trade currency GBP only", "ccy EUR instead of USD").
"""

from __future__ import annotations

from datetime import date

import sqlglot
from sqlglot import exp

from copilot.core.periods import format_period
from copilot.engine.followup_edits import NotAnEdit
from copilot.engine.plan import QueryPlan
from copilot.engine.reader import ParseResult, Reader

__all__ = ["describe", "first_reading"]


def first_reading(reader: Reader, texts: tuple[str, ...], base: ParseResult,
                   kinds: frozenset[str], as_of: date, *, same_ok: bool
                   ) -> tuple[str, ParseResult]:
    """The first way of saying the edited question that reads as the edit, and nothing
    else: the grouping, measure and period stay unless the edit is about them."""
    problem: NotAnEdit | None = None
    for text in texts:
        edited = reader.read(text, as_of)
        try:
            _shows(edited, next(iter(kinds)) if len(kinds) == 1 else "", text)
            # A sort already in force, or another chart, asks for what is shown: answered.
            _check(edited, base, text, same_ok=same_ok or kinds == {"sort"})
            _kept(base, edited, kinds, text)
        except NotAnEdit as exc:
            problem = problem or exc
            continue
        return text, edited
    assert problem is not None
    raise problem


_CHANGES = {  # what each kind of edit may change besides the conditions
    "dimensions": {"group", "add_group", "drill"},
    "measure": {"measure", "group", "add_group", "drill", "compare", "limit", "top"},
    "period": {"period", "shift", "compare", "drill"},
}


def _kept(base: ParseResult, edited: ParseResult, kinds: frozenset[str], text: str) -> None:
    """Refuse a reading of the edited question that changed what the edit did not touch
    ("leave out BBB" must not regroup the answer by counterparty)."""
    old, new = base.plan, edited.plan
    assert old is not None and new is not None
    changed = {"dimensions": old.dimensions != new.dimensions,
               "measure": old.measure != new.measure and old.measure.kind != "list",
               "period": old.period != new.period}
    for part, allowed in _CHANGES.items():
        if changed[part] and not kinds & allowed:
            raise NotAnEdit(f"I read the follow-up as '{text}', which also changes the "
                            f"{part.removesuffix('s')} of the last question; ask it whole.")


def _shows(edited: ParseResult, form: str, text: str) -> None:
    """A drill must list rows, a comparison compare, a cut cut: else the words the
    question was composed of were read some other way, and that is not the edit."""
    plan = edited.plan
    wanted = {"drill": lambda p: p.measure.kind == "list",
              "compare": lambda p: p.versus is not None,
              "top": lambda p: p.limit is not None}.get(form)
    if plan is not None and wanted is not None and not wanted(plan):
        raise NotAnEdit(f"I read the follow-up as '{text}', and could not read that as it "
                        "was meant; ask the whole question.")


def _check(edited: ParseResult, base: ParseResult, text: str, *, same_ok: bool) -> None:
    """The edited question must read, and read differently from the last one."""
    if edited.status == "clarify":
        raise NotAnEdit(f"'{text}' can be read more than one way; ask it whole.")
    if edited.status != "planned" or edited.tree is None or base.tree is None:
        raise NotAnEdit(f"I read the follow-up as '{text}', which I can't answer: "
                         f"{edited.reason}")
    if edited.tree.sql() == base.tree.sql() and not same_ok:
        raise NotAnEdit(f"I read the follow-up as '{text}', which asks the same as the "
                         "last question; say what to change.")


def describe(old: QueryPlan, new: QueryPlan) -> tuple[str, ...]:
    """What changed between two plans, in words: 'now grouped by book', 'GBP only'."""
    changes: list[str] = []
    periodic = {_period_label(old), _period_label(new)}
    if new.measure.kind == "list" and old.measure.kind != "list":  # a drill-down
        behind = sorted({f.label for f in new.filters} - {f.label for f in old.filters}
                        - periodic)
        if new.period != old.period and new.period is not None:
            behind.append(format_period(new.period))
        return (f"the rows behind {', '.join(behind)}" if behind else "the rows behind it",)
    if new.versus is not None and old.versus is None:
        changes.append(f"compared with {new.versus.names[1]}")
    if [d.label for d in new.dimensions] != [d.label for d in old.dimensions]:
        changes.append("now grouped by " + " and ".join(d.label for d in new.dimensions)
                       if new.dimensions else "no longer grouped")
    if new.measure != old.measure:
        changes.append({"list": "listing the rows", "count": "now counting"}.get(
            new.measure.kind, f"now the {new.measure.label}"))
    old_filters = {f.label: f for f in old.filters if f.label not in periodic}
    new_filters = {f.label: f for f in new.filters if f.label not in periodic}
    added = sorted(set(new_filters) - set(old_filters))
    removed = sorted(set(old_filters) - set(new_filters))
    for label in list(added):  # "ccy EUR instead of USD": the same column, another value
        columns = _columns_of(new_filters[label].sql)
        old_label = next((r for r in removed if _columns_of(old_filters[r].sql) == columns
                          and not r.startswith("not ") and not label.startswith("not ")),
                         None)
        if old_label is not None:
            shared = label.rsplit(" ", 1)[0] == old_label.rsplit(" ", 1)[0]
            was = old_label.rsplit(" ", 1)[1] if shared else old_label.split(" (")[0]
            changes.append(f"{label.split(' (')[0]} instead of {was}")
            added.remove(label)
            removed.remove(old_label)
    for label in added:
        changes.append(f"excluding {label[4:]}" if label.startswith("not ") else
                       f"{label} only")
    for label in removed:
        changes.append(f"no longer excluding {label[4:]}" if label.startswith("not ") else
                       f"without {label}")
    if new.period != old.period and new.versus is None:
        changes.append(f"now {new.period.label} ({format_period(new.period)})"
                       if new.period else "over all dates")
    if new.limit != old.limit:
        bottom = bool(new.order) and not new.order[0].descending
        changes.append(f"{'bottom' if bottom else 'top'} {new.limit}" if new.limit
                       else "no longer cut")
    elif new.order != old.order and new.dimensions == old.dimensions:
        changes.append("sorted differently")
    return tuple(changes) or ("as before",)


def _columns_of(sql: str) -> frozenset[str]:
    return frozenset(c.sql() for c in sqlglot.condition(sql).find_all(exp.Column))


def _period_label(plan: QueryPlan) -> str:
    for f in plan.filters:
        if plan.period is not None and f.label.endswith(format_period(plan.period)):
            return f.label
        if plan.versus is not None and " or " in f.label:
            return f.label
    return ""
