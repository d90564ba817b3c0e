"""Answering, as every channel does it: the active profile's engine (the LLM when routing says
so), through the executor, audited before the answer is returned.

Ask, dashboards, reports, the CLI and eval all answer through one `Answering`; what differs
is the channel named in the audit record. Its engine is cached for the active profile
version under a lock: Streamlit's threads and the scheduler's thread share it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial

import sqlglot
from sqlglot import exp

from copilot.approvals.model import PendingChange
from copilot.approvals.service import Approvals
from copilot.approvals.training_kinds import PAIRS
from copilot.conversations import numbered, turn_details
from copilot.core.access import Access
from copilot.core.audit import AuditError, Recorder, result_sha256
from copilot.core.audit.record import Channel
from copilot.core.errors import GuardRefusal, TrainingRequired
from copilot.core.executor import Executor
from copilot.core.guard import Verdict
from copilot.core.observe import observed_question
from copilot.core.warehouse import QueryResult
from copilot.engine.answer import Engine
from copilot.llm.writer import LLMWriter
from copilot.routing import route
from copilot.values import Answer, Conversation
from training.profiles import ProfileVersion
from training.trainer import PairUpload, Trainer

__all__ = ["AUDIT_QUESTION_CHARS", "DOWNLOAD_ROWS", "Answering", "audited_text",
           "internal_error"]

log = logging.getLogger(__name__)

# Far above the engine's own limit on a question (500 characters), so that any question
# a reader could act on is kept whole.
AUDIT_QUESTION_CHARS = 4_000
DOWNLOAD_ROWS = 1_000_000  # a download's cap: far above any page, below Excel's limit
_PEOPLE = frozenset({"ask", "cli"})  # channels where a person asks (not a saved re-ask)


@dataclass(frozen=True)
class Answering:
    """Questions and SQL in, audited answers out."""

    executor: Executor
    recorder: Recorder
    trainer: Trainer
    as_of: Callable[[], date]  # the default as-of date (configured, else today)
    writer: Callable[[], LLMWriter | None] = lambda: None  # the LLM in force, if any
    access: Access = field(default_factory=Access)  # who may ask, run SQL, teach
    approvals: Approvals | None = None  # four eyes: "Correct" then waits for a trainer
    _engine: dict[str, Engine] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @observed_question("question")
    def ask(self, question: str, *, as_of: date | None = None, channel: Channel = "ask",
            user: str | None = None, use_llm: bool = True,
            conversation: Conversation | None = None, rows_of: str | None = None) -> Answer:
        """Answer a question from the active profile and audit it before returning.

        `use_llm=False` keeps to the engine (a dashboard re-asking a saved question). In a
        `conversation` it may edit the previous turn; ask the next in conversation.after(it).
        AuditError propagates: an answer that could not be audited must not be shown.
        Under an entitlements policy the rows are those `rows_of` (a dashboard's or a
        report's owner), else `user`, may read.
        """
        if channel in _PEOPLE:  # a dashboard's or report's re-ask was allowed when saved
            self.allow(user, "ask", question[:200])
        day = as_of or self.as_of()
        run = self.scoped(rows_of or user)
        version_key = ""
        try:
            version = self.trainer.require_trained()
            version_key = version.key
            answer = route(question, day, engine=self.engine(version), run=run,
                           writer=self.writer if use_llm else None,
                           retrieve=partial(self.trainer.retrieve, k=12),
                           sample=partial(self.sample, limit=3, user=rows_of or user),
                           previous=conversation.previous if conversation else None)
        except TrainingRequired as exc:
            answer = Answer(question, "refused", "engine", str(exc))
        except AuditError:
            raise
        except Exception as exc:
            # A defect (or memory running out) on one question must still leave its trace
            # in the audit log and an answer on the page, never a traceback and no record.
            log.exception("the question %r failed", question[:200])
            answer = Answer(question, "error", "engine", internal_error(exc))
        if run.restricted and answer.suggestions and version_key:
            # Under entitlements a refusal suggests no word only a stored value spells: the
            # value may sit in rows the person may not read.
            hidden = self.engine(version).lexicon.value_words()
            answer = replace(answer, suggestions=tuple(
                s for s in answer.suggestions if s not in hidden))
        details: dict[str, object] = {"as_of": day.isoformat(), "confidence": answer.confidence}
        if answer.llm is not None:
            details["llm"] = answer.llm.as_dict()
        text, size = audited_text(question)
        details.update(size | turn_details(conversation, answer))
        if rows_of and rows_of != (user or self.recorder.user):
            details["rows_of"] = rows_of
        record_id = self._record_answer(answer, channel, user, text, details=details,
                                        profile_version=version_key)
        return numbered(answer, conversation, record_id)

    def allow(self, user: str | None, action: str, what: str) -> None:
        """AccessDenied (recorded as blocked) unless `user` may do `action`."""
        self.access.check(user or self.recorder.user, action, what, recorder=self.recorder)

    def scoped(self, user: str | None) -> Executor:
        """The executor reading only the rows `user` (else the configured user) may read."""
        return self.executor.for_user(user or self.recorder.user)

    def engine(self, version: ProfileVersion) -> Engine:
        """The engine of `version`, built once while it is the active one."""
        with self._lock:
            if version.key not in self._engine:
                assert version.content is not None
                self._engine.clear()  # one profile version answers at a time
                self._engine[version.key] = Engine(version.content)
            return self._engine[version.key]

    @observed_question("sql")
    def run_sql(self, sql: str, *, user: str | None = None, channel: Channel = "ask",
                question: str = "(edited SQL)", rows_of: str | None = None) -> Answer:
        """Run SQL a person wrote or edited: the guard first, like any other; audited."""
        if channel in _PEOPLE:
            self.allow(user, "run own SQL", question)
        executed = self.scoped(rows_of or user).attempt(sql)
        verdict, result = executed.verdict, executed.result
        answer: Answer
        if executed.refused:
            answer = Answer(sql, "refused", "user", f"The SQL guard refused it: {verdict.reason}",
                            generated_sql=sql, total_ms=executed.ms)
        elif result is None:
            answer = Answer(sql, "error", "user", str(executed.error), sql=verdict.sql,
                            generated_sql=sql, tables=verdict.tables, total_ms=executed.ms)
        else:
            answer = Answer(sql, "answered", "user", "Your SQL, as the guard allowed it.",
                            sql=verdict.sql, generated_sql=sql, tables=verdict.tables,
                            columns=result.columns, rows=result.rows,
                            truncated=result.truncated, confidence=1.0, total_ms=executed.ms,
                            entitlements=executed.entitlements)
        self._record_answer(answer, channel, user, question,
                            outcome="blocked" if executed.refused else answer.status)
        return answer

    def full_result(self, answer: Answer, *, user: str | None = None,
                    limit: int = DOWNLOAD_ROWS) -> QueryResult:
        """The whole result of an answered question, for downloads: its SQL through the
        guard again with a download-sized row cap; audited like any other statement."""
        executed = self.scoped(user).capped(limit).attempt(answer.generated_sql or answer.sql or "")
        verdict, result = executed.verdict, executed.result
        if executed.refused:
            raise GuardRefusal(verdict.rule or "input", verdict.reason)
        if result is None:
            assert executed.error is not None
            raise executed.error
        self.recorder.record(
            "ask", f"{answer.question} (full download)", by=user, outcome="answered",
            sql=verdict.sql or "", engine=_engine_name(answer), tables=verdict.tables,
            row_count=result.row_count, duration_ms=executed.ms,
            result_sha256=result_sha256(result.columns, result.rows),
            details={"entitlements": list(executed.entitlements)} if executed.entitlements
            else None)
        return result

    def feedback(self, answer: Answer, *, correct: bool, comment: str = "",
                 user: str | None = None) -> PendingChange | None:
        """Record feedback on an answer; "correct" trains its question/SQL as a verified pair
        (a new profile version). Nothing is trained from an answer nobody confirmed. Under
        four eyes the pair is proposed instead (an analyst's or a trainer's "Correct") and
        the PendingChange returned: it trains when another trainer approves it."""
        who = user or self.recorder.user
        held = self.approvals is not None and self.approvals.enabled
        # "Correct" teaches the copilot (a verified pair): a trainer's to give, or under
        # four eyes an analyst's or trainer's to propose.
        self.allow(who, ("propose training" if held else "train the copilot") if correct
                   else "ask", f"feedback on {answer.question[:200]!r}")
        self.recorder.record("ask", answer.question, by=who, sql=answer.sql or "",
                             engine="user", reason=f"feedback: {'correct' if correct else 'wrong'}",
                             details={"comment": comment})
        if correct and answer.status == "answered" and answer.generated_sql:
            if held:
                assert self.approvals is not None
                return self.approvals.propose(
                    PAIRS, {"pairs": [{"question": answer.question,
                                       "sql": answer.generated_sql}]},
                    summary=f"verified pair: {answer.question[:200]}", by=who)
            self.trainer.add_pairs([PairUpload(answer.question, answer.generated_sql)], by=who)
        return None

    def check(self, sql: str | exp.Expression, *, read: str | None = None) -> Verdict:
        """The guard's verdict on `sql` for this warehouse."""
        return self.executor.check(sql, read=read)

    def sample(self, table: str, limit: int = 20, *, user: str | None = None) -> QueryResult:
        """The first `limit` rows of a warehouse table `user` may read, as the Data page
        shows them."""
        warehouse = self.executor.warehouse
        source = exp.table_(table, db=warehouse.db_schema, quoted=True)
        return self.scoped(user).run(sqlglot.select("*").from_(source).limit(limit))

    def preview(self, table: str, limit: int, *, user: str | None = None) -> QueryResult:
        """A person's look at a table's first rows (the Data page): allowed to those who may
        ask, and only the rows they may read."""
        self.allow(user, "ask", f"sample of {table}")
        return self.sample(table, limit, user=user)

    def _record_answer(self, answer: Answer, channel: Channel, user: str | None, question: str,
                       *, outcome: str | None = None, details: dict[str, object] | None = None,
                       profile_version: str = "") -> int:
        """The audit record of an answer: what ran, what came back, how long it took."""
        answered = answer.status == "answered"
        if answer.entitlements:  # which rows the user's entitlements let through
            details = {**(details or {}), "entitlements": list(answer.entitlements)}
        reason = "" if answered else answer.interpretation + (
            " Options: " + " | ".join(answer.suggestions) if answer.status == "clarify" else "")
        return self.recorder.record(
            channel, question, by=user, outcome=outcome or answer.status,  # type: ignore[arg-type]
            sql=answer.sql or "", reason=reason, details=details,
            duration_ms=answer.total_ms, sql_generated=answer.generated_sql or "",
            engine=_engine_name(answer), tables=answer.tables,
            row_count=len(answer.rows) if answered else None,
            result_sha256=result_sha256(answer.columns, answer.rows) if answered else "",
            profile_version=profile_version)


def internal_error(exc: BaseException) -> str:
    """What an analyst is told when the copilot itself failed (not the question)."""
    if isinstance(exc, MemoryError):
        return ("The copilot ran out of memory on this question; narrow it (a filter, fewer "
                "columns or a smaller period) and ask again.")
    return (f"The copilot failed on this question ({type(exc).__name__}); it is in the audit "
            "log and the application log. Ask it another way, or report it.")


def audited_text(question: str) -> tuple[str, dict[str, object]]:
    """The question as the audit keeps it: whole up to AUDIT_QUESTION_CHARS; beyond that its
    start, its length and its SHA-256, so a pasted megabyte neither bloats the log nor
    goes unrecorded."""
    if len(question) <= AUDIT_QUESTION_CHARS:
        return question, {}
    return question[:AUDIT_QUESTION_CHARS] + " [...]", {
        "question_chars": len(question),
        "question_sha256": hashlib.sha256(question.encode("utf-8", "replace")).hexdigest()}


def _engine_name(answer: Answer) -> str:
    """The audit log's name for who wrote an answer's SQL: parser, pair, llm or user."""
    return "parser" if answer.source == "engine" else answer.source
