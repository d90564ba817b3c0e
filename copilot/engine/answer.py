"""A question answered: plan, SQL as run, rows, interpretation, confidence, chart, follow-ups.

`Engine` reads one profile version's content; `answer` runs the SQL through the executor (the
guard, then the warehouse). Pages and commands only render the frozen Answer it returns.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date

from copilot.core.errors import CopilotError
from copilot.core.executor import Executed, Executor
from copilot.engine.followup import compose
from copilot.engine.followup_ideas import follow_up_ideas
from copilot.engine.followup_words import split_chart
from copilot.engine.grammar import MAX_QUESTION_CHARS
from copilot.engine.interpret import interpret, plural
from copilot.engine.labels import column_labels
from copilot.engine.pairs import PairMatch, match_pair
from copilot.engine.plan import QueryPlan
from copilot.engine.reader import ParseResult, Reader
from copilot.values import Answer, ChartSpec, Turn, result_chart
from training.profiles import ProfileContent

__all__ = ["Engine", "interpret", "plural"]

def _chart(plan: QueryPlan, columns: tuple[str, ...]) -> ChartSpec:
    if plan.measure.kind == "list" or not columns:
        return ChartSpec("table")
    if plan.versus is not None:  # both periods side by side, then change and change %
        n = len(plan.dimensions)
        return ChartSpec("bar" if n else "number", x=columns[0] if n else None, y=columns[n],
                         series=(columns[n + 1],))
    if not plan.dimensions:
        return ChartSpec("number", y=columns[-1])
    if any(d.bucket in ("day", "week", "month") for d in plan.dimensions):
        return ChartSpec("line", x=columns[0], y=columns[-1])
    return ChartSpec("bar", x=columns[0], y=columns[-1])


def _asked(chart: ChartSpec, asked: str | None) -> ChartSpec:
    """The chart a question named, when the answer has groups to draw that way."""
    if asked is None or chart.series or asked == chart.kind:
        return chart
    if asked == "table":
        return ChartSpec("table")
    return replace(chart, kind=asked) if chart.x is not None and chart.y is not None else chart


class Engine:
    """Answers questions from one profile version's content, with no LLM."""

    def __init__(self, content: ProfileContent) -> None:
        self.content = content
        self.reader = Reader(content)
        self.lexicon = self.reader.lexicon

    def plan(self, question: str, as_of: date) -> ParseResult:
        """The pure reading: plan and SQL tree, a refusal, or readings to choose from."""
        return self.reader.read(question, as_of)

    def answer(
        self,
        question: str,
        as_of: date,
        *,
        run: Executor,
        previous: Turn | None = None,
    ) -> Answer:
        """Plan and write one question, then guard and run it through `run`; never raises
        for a user's mistake.

        With `previous` (the conversation's last answered turn), a question that does not
        stand alone is read as an edit of it (copilot/engine/followup.py)."""
        started = time.perf_counter()
        if not question or len(question) > MAX_QUESTION_CHARS:
            return self._answer(question, as_of, run, started)
        composed = compose(self.reader, question, previous, as_of)
        if composed.kind in ("clarify", "refused"):
            return Answer(question, composed.kind, "engine", composed.reason,
                          suggestions=composed.options,
                          total_ms=_ms(started))
        chart, text = split_chart(composed.stands_for)
        answer = self._answer(text, as_of, run, started)
        stands_for = ""
        if composed.kind == "edit":
            stands_for = text + (f" as a {chart} chart" if chart and chart != "table" else "")
        ideas = answer.follow_ups
        if answer.status == "answered" and answer.source == "engine" and answer.plan:
            ideas = follow_up_ideas(self.reader, self.content.glossary, text, answer.plan,
                                    len(answer.rows), as_of)
        return replace(answer, question=question, stands_for=stands_for,
                       changes=composed.changes, chart_asked=chart, follow_ups=ideas,
                       chart=_asked(answer.chart, chart),
                       labels=column_labels(answer.columns, answer.plan, self.content))

    def _answer(self, question: str, as_of: date, run: Executor, started: float) -> Answer:
        # A question the reader refuses outright (empty, too long) is not matched against
        # the pairs first: tokenising a pasted megabyte took seconds before the refusal.
        paired = (match_pair(question, self.content.pairs, self.lexicon)
                  if question and len(question) <= MAX_QUESTION_CHARS else None)
        if paired is not None:
            executed = run.attempt(paired.sql)
            if not executed.refused:
                return _from_pair(question, paired, executed, started)
        parsed = self.plan(question, as_of)
        if parsed.status == "clarify":
            return Answer(question, "clarify", "engine", parsed.reason,
                          suggestions=parsed.options, total_ms=_ms(started))
        if parsed.plan is None or parsed.tree is None:
            return Answer(question, "refused", "engine", parsed.reason,
                          suggestions=parsed.suggestions, unused_words=parsed.unused,
                          final=parsed.final, total_ms=_ms(started))
        plan, tree = parsed.plan, parsed.tree
        to_sql_ms = _ms(started)
        generated = tree.sql(dialect=run.sqlglot_dialect)  # as pairs and downloads read it
        try:
            executed = run.attempt(tree)
        except CopilotError as exc:
            return Answer(question, "error", "engine", str(exc), plan=plan,
                          total_ms=_ms(started))
        verdict, result = executed.verdict, executed.result
        if executed.refused:
            return Answer(question, "refused", "engine",
                          f"The SQL guard refused the query: {verdict.reason}", plan=plan,
                          generated_sql=generated, to_sql_ms=to_sql_ms, total_ms=_ms(started))
        if result is None:
            return Answer(question, "error", "engine", str(executed.error), sql=verdict.sql,
                          plan=plan, generated_sql=generated, tables=verdict.tables,
                          to_sql_ms=to_sql_ms, total_ms=_ms(started))
        return Answer(
            question=question, status="answered", source="engine",
            interpretation=interpret(plan), sql=verdict.sql, generated_sql=generated,
            tables=verdict.tables, columns=result.columns,
            rows=result.rows, truncated=result.truncated, confidence=parsed.confidence,
            chart=_chart(plan, result.columns), plan=plan,
            to_sql_ms=to_sql_ms, total_ms=_ms(started), entitlements=executed.entitlements,
        )


def _from_pair(question: str, paired: PairMatch, executed: Executed, started: float) -> Answer:
    pair, verdict, result = paired.pair, executed.verdict, executed.result
    note = f"Answered with the verified question \u201c{pair.question}\u201d"
    if pair.added_by:
        note += f" (verified by {pair.added_by}, {pair.added_at[:10]})"
    if paired.substituted:
        note += ", with " + ", ".join(f"{new} for {old}" for old, new in paired.substituted)
    if result is None:
        return Answer(question, "error", "pair", str(executed.error), sql=verdict.sql,
                      generated_sql=pair.sql, tables=verdict.tables, total_ms=_ms(started))
    return Answer(
        question=question, status="answered", source="pair", interpretation=note + ".",
        sql=verdict.sql, generated_sql=pair.sql, tables=verdict.tables,
        columns=result.columns, rows=result.rows,
        truncated=result.truncated, confidence=0.98,
        chart=result_chart(result.columns, result.rows), total_ms=_ms(started),
        entitlements=executed.entitlements,
    )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
