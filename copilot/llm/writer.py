"""The LLM's answer to a question the engine refused or was unsure of (copilot/routing.py
decides when it is asked).

The LLM's SQL goes through the same guard and read-only warehouse as the engine's. When the
guard or the warehouse rejects it, the reason goes back to the LLM for a bounded number of
corrections. A reply holding a statement that is not a read query is refused as a whole,
not corrected: nothing from it runs. Any failure of the LLM leaves the engine's own answer
or refusal standing, with a note saying what happened, and the audit trace says why and
counts every request made, failed ones included; the whole exchange is bounded by the
configured time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from copilot.core.errors import CopilotError, LLMError, QueryFailed, QueryTimeout
from copilot.core.executor import Executor
from copilot.core.guard import Verdict
from copilot.core.warehouse import QueryResult
from copilot.llm.client import LLMClient, LLMExchangeError
from copilot.llm.config import LLMConfig
from copilot.llm.prompt import build_prompt, correction
from copilot.llm.reply import Draft, read_reply
from copilot.values import Answer, LLMAttempt, LLMTrace, Turn, result_chart
from training.profiles import ProfileContent
from training.store_items import Hit

__all__ = ["LLM_CONFIDENCE", "LLMWriter", "Retrieve"]

LLM_CONFIDENCE = 0.5  # what an LLM-written answer is worth until someone confirms it

Retrieve = Callable[[str], Mapping[str, Sequence[Hit]]]


class LLMWriter:
    """Asks one LLM for SQL from the trained context and runs it through the guard."""

    def __init__(self, client: LLMClient, config: LLMConfig) -> None:
        self.client = client
        self.config = config

    def answer(self, fallback: Answer, *, as_of: date, content: ProfileContent,
               retrieve: Retrieve, run: Executor,
               sample: Callable[[str], QueryResult] | None = None,
               previous: Turn | None = None) -> Answer:
        """The LLM's answer to `fallback.question`, or `fallback` with a note on why not.

        `previous` is the conversation's last answered turn: when the engine could not read
        the question as standing alone or as an edit of it, the LLM sees it as context."""
        started = time.monotonic()
        deadline = started + self.config.timeout_s
        trace = LLMTrace(model=self.client.model)
        context = previous if _may_follow(fallback, previous) else None
        # A follow-up ("only GBP") retrieves little alone: the previous question's words
        # find the tables its SQL used.
        wanted = f"{context.stands_for} {fallback.question}" if context else fallback.question
        try:
            prompt = build_prompt(
                fallback.question, content=content, hits=retrieve(wanted),
                dialect=run.dialect, as_of=as_of,
                budget_tokens=self.config.token_budget - self.config.max_reply_tokens,
                sample=sample if self.config.send_rows else None, previous=context)
        except CopilotError as exc:
            return _fall_back(fallback, replace(trace, error=str(exc), failure="prompt"),
                              started)
        trace = replace(trace, prompt_sha256=prompt.sha256, prompt_chars=prompt.chars,
                        prompt_tokens=prompt.tokens, prompt_tables=prompt.tables)
        for _ in range(1 + self.config.max_corrections):
            if trace.tokens_used + prompt.tokens + self.config.max_reply_tokens > \
                    self.config.token_budget and trace.requests:
                trace = replace(trace, error="The question's LLM token budget is spent.",
                                failure="token_budget")
                break
            try:
                reply = self.client.complete(prompt.messages, deadline=deadline,
                                             max_tokens=self.config.max_reply_tokens)
            except LLMExchangeError as exc:
                trace = replace(trace, error=str(exc), failure=exc.failure,
                                http_status=exc.http_status,
                                requests=trace.requests + exc.requests)
                break
            except LLMError as exc:  # another client, which does not count its requests
                trace = replace(trace, error=str(exc), failure="error")
                break
            trace = replace(trace, requests=trace.requests + reply.attempts,
                            tokens_used=trace.tokens_used + reply.prompt_tokens
                            + reply.completion_tokens)
            draft = read_reply(reply.text, run.sqlglot_dialect)
            if draft.declined:
                trace = replace(trace, error=f"The LLM says it cannot answer: {draft.declined}",
                                failure="declined")
                break
            if draft.non_queries:
                problem = _unsafe(draft.non_queries)
                trace = replace(trace, error=problem, failure="unsafe_reply",
                                attempts=(*trace.attempts, LLMAttempt(draft.sql or "", problem)))
                break
            outcome = _try(draft.sql, run)
            trace = replace(trace, attempts=(*trace.attempts,
                                             LLMAttempt(draft.sql or "", outcome.problem)))
            if outcome.result is not None:
                return _llm_answer(fallback, draft, outcome, trace, started, self.client.model)
            if outcome.final:
                trace = replace(trace, error=outcome.problem, failure="warehouse")
                break
            prompt = correction(prompt, reply.text, outcome.problem)
        else:
            trace = replace(trace, error=f"No usable SQL after {self.config.max_corrections} "
                                         "corrections.", failure="no_usable_sql")
        return _fall_back(fallback, trace, started)


def _may_follow(fallback: Answer, previous: Turn | None) -> bool:
    """Whether the question may be a follow-up the LLM should read against `previous`:
    one the engine refused (it may be an edit the engine could not read), or one the engine
    itself read as an edit but was unsure of. A question the engine read alone stays alone."""
    if previous is None or not previous.sql:
        return False
    return fallback.status == "refused" or bool(fallback.stands_for)


def _unsafe(kinds: Sequence[str]) -> str:
    what = ", ".join(kinds)
    return (f"The LLM's reply was refused as a whole: it holds a statement that is not a read-only "
            f"query ({what}), and only one SELECT may run. Nothing from the reply ran.")


@dataclass(frozen=True)
class _Outcome:
    problem: str = ""
    verdict: Verdict | None = None
    result: QueryResult | None = None
    final: bool = False  # no correction can help (the warehouse is down)
    entitlements: tuple[str, ...] = ()  # the row filters the user's entitlements applied


def _try(sql: str | None, run: Executor) -> _Outcome:
    if not sql:
        return _Outcome("it has no SQL query in a ```sql block.")
    executed = run.attempt(sql)
    if executed.refused:
        return _Outcome(f"the SQL guard refused it: {executed.verdict.reason}", executed.verdict)
    if isinstance(executed.error, QueryFailed | QueryTimeout):
        return _Outcome(f"the warehouse rejected it: {executed.error}", executed.verdict)
    if executed.error is not None:
        return _Outcome(str(executed.error), executed.verdict, final=True)
    return _Outcome(verdict=executed.verdict, result=executed.result,
                    entitlements=executed.entitlements)


def _llm_answer(fallback: Answer, draft: Draft, outcome: _Outcome, trace: LLMTrace,
                started: float, model: str) -> Answer:
    verdict, result = outcome.verdict, outcome.result
    assert verdict is not None and result is not None
    why = ("The engine was unsure of its reading" if fallback.status == "answered"
           else "The engine could not answer")
    note = (f"{why}, so the LLM ({model or 'configured model'}) wrote this SQL. It is not "
            "verified: check the SQL, and mark it correct to make it a verified example.")
    return Answer(
        question=fallback.question, status="answered", source="llm",
        interpretation=draft.explanation or "SQL written by the LLM; it gave no explanation.",
        sql=verdict.sql, generated_sql=draft.sql, tables=verdict.tables, columns=result.columns,
        rows=result.rows, truncated=result.truncated, confidence=LLM_CONFIDENCE,
        entitlements=outcome.entitlements,
        follow_ups=draft.follow_ups, chart=result_chart(result.columns, result.rows),
        notes=(note,), llm=replace(trace, ms=(time.monotonic() - started) * 1000),
        total_ms=fallback.total_ms + (time.monotonic() - started) * 1000,
    )


def _fall_back(fallback: Answer, trace: LLMTrace, started: float) -> Answer:
    what = "answer" if fallback.status == "answered" else "refusal"
    note = f"The LLM could not help ({trace.error}); this is the engine's own {what}."
    return replace(fallback, notes=(*fallback.notes, note),
                   llm=replace(trace, ms=(time.monotonic() - started) * 1000),
                   total_ms=fallback.total_ms + (time.monotonic() - started) * 1000)
