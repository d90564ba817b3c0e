"""Build the copilot's long-lived services once per process from Settings.

The Streamlit app caches the result with st.cache_resource and the CLI calls it directly, so
both run on exactly the same objects.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import partial

import sqlglot
from sqlglot import exp

from copilot.conversations import numbered, turn_details
from copilot.core import __version__
from copilot.core.audit import AuditError, AuditLog, AuditRecord, result_sha256
from copilot.core.audit.record import Channel, Outcome
from copilot.core.errors import CopilotError, GuardRefusal, LLMError, TrainingRequired
from copilot.core.executor import run_guarded
from copilot.core.guard import Guard, GuardSchema, Policy, Verdict, default_policy, load_policy
from copilot.core.settings import Settings
from copilot.core.warehouse import QueryResult, Warehouse
from copilot.demo import DemoSummary, build_demo_warehouse
from copilot.engine.answer import Engine
from copilot.llm.client import ChatMessage, LLMExchangeError, OpenAICompatibleClient
from copilot.llm.config import LLMConfig
from copilot.llm.store import LLMSettingsStore
from copilot.llm.writer import LLMWriter
from copilot.routing import route
from copilot.values import Answer, Conversation, Turn
from training import editing
from training.draft import GlossaryDraft, draft_glossary
from training.embedding import MiniLMEmbedder
from training.glossary import Glossary, load_glossary
from training.ingest import sample_values
from training.profiles import ProfileRepository, ProfileVersion
from training.store import TrainingStore
from training.trainer import PairUpload, Trainer

__all__ = [
    "AUDIT_QUESTION_CHARS",
    "Services",
    "audited_text",
    "build_services",
    "draft_from_warehouse",
    "ensure_demo_trained",
    "ensure_demo_warehouse",
    "guard_policy",
    "internal_error",
]

log = logging.getLogger(__name__)

# Far above the engine's own limit on a question (500 characters), so that any question
# a reader could act on is kept whole.
AUDIT_QUESTION_CHARS = 4_000


@dataclass(frozen=True)
class Services:
    """What pages and commands work with."""

    settings: Settings
    warehouse: Warehouse
    guard: Guard
    trainer: Trainer
    audit: AuditLog
    llm_settings: LLMSettingsStore
    _engines: dict[str, Engine] = field(default_factory=dict, repr=False, compare=False)
    _writers: dict[LLMConfig, LLMWriter] = field(default_factory=dict, repr=False,
                                                 compare=False)

    def ask(self, question: str, *, as_of: date | None = None, channel: Channel = "ask",
            user: str | None = None, use_llm: bool = True,
            conversation: Conversation | None = None) -> Answer:
        """Answer a question from the active profile and audit it before returning.

        `use_llm=False` keeps to the engine (a dashboard re-asking a saved question). In a
        `conversation` it may edit the previous turn; ask the next in conversation.after(it).
        AuditError propagates: an answer that could not be audited must not be shown.
        """
        day = as_of or self.settings.warehouse.effective_as_of()
        version_key = ""
        try:
            version = self.trainer.require_trained()
            version_key = version.key
            answer = self._answer(question, day, version, use_llm,
                                  conversation.previous if conversation else None)
        except TrainingRequired as exc:
            answer = Answer(question, "refused", "engine", str(exc))
        except AuditError:
            raise
        except Exception as exc:
            # A defect (or memory running out) on one question must still leave its trace
            # in the audit log and an answer on the page, never a traceback and no record.
            log.exception("the question %r failed", question[:200])
            answer = Answer(question, "error", "engine", internal_error(exc))
        details: dict[str, object] = {"as_of": day.isoformat(), "confidence": answer.confidence}
        if answer.llm is not None:
            details["llm"] = answer.llm.as_dict()
        text, size = audited_text(question)
        details.update(size | turn_details(conversation, answer))
        record_id = self.audit.append(_answer_record(
            answer, channel=channel, user=user or self.settings.app.user, question=text,
            outcome=answer.status, profile_version=version_key,
            details=json.dumps(details, default=str),
        ))
        return numbered(answer, conversation, record_id)

    def _answer(self, question: str, day: date, version: ProfileVersion, use_llm: bool,
                previous: Turn | None) -> Answer:
        if version.key not in self._engines:
            assert version.content is not None
            self._engines.clear()  # one profile version answers at a time
            self._engines[version.key] = Engine(version.content)
        return route(question, day, engine=self._engines[version.key],
                     check=self.guard.check, warehouse=self.warehouse,
                     writer=self.llm_writer if use_llm else None,
                     retrieve=partial(self.trainer.retrieve, k=12),
                     sample=partial(self.sample, limit=3), previous=previous)

    def record(self, channel: Channel, by: str, what: str, sql: str = "",
               outcome: Outcome = "recorded", reason: str = "", *, details: str = "",
               duration_ms: float | None = None) -> None:
        """Audit something a person or the scheduler did (a saved widget, a paused report,
        changed settings) beside the questions and their answers."""
        self.audit.append(AuditRecord(
            channel=channel, outcome=outcome, user=by, question=what, sql_run=sql,
            reason=reason, details=details, duration_ms=duration_ms, app_version=__version__))

    def test_connection(self, *, by: str) -> tuple[int, float]:
        """Reach the warehouse, read its schema afresh: (tables, ms), else WarehouseError."""
        with self._training_action(by, f"connection test: {self.warehouse.display_url}") as d:
            started = time.perf_counter()
            self.warehouse.ping()
            d["tables"] = tables = len(self.warehouse.schema(refresh=True).tables)
            elapsed = _now_ms(started)
        return tables, elapsed

    def draft_glossary(self, *, by: str) -> GlossaryDraft:
        """A reviewable glossary drafted from the warehouse's schema and stored values, as
        `python -m copilot glossary draft` writes it; nothing is trained yet."""
        with self._training_action(by, f"glossary draft of {self.warehouse.display_url}") as d:
            draft = draft_from_warehouse(self.warehouse, self.settings)
            d.update({k: v for k, v in asdict(draft).items() if k != "files"})
        return draft

    def train_glossary(self, glossary: Glossary, *, by: str,
                       note: str = "") -> editing.TrainingChange:
        """Train a new version from `glossary` (a draft as edited on the page, say)."""
        return self._retrain(by, note or "trained from a glossary", lambda: glossary)

    def teach(self, word: str, target: editing.Target, *, by: str) -> editing.TrainingChange:
        """Add `word` for `target` to the active glossary and train a new version."""
        return self._retrain(by, f"taught {word.strip()!r} as {target.label}", lambda: (
            editing.add_synonym(editing.active_glossary(self.trainer), target, word)))

    def mark_reviewed(self, *, by: str) -> editing.TrainingChange:
        """Train a new version from the active drafted glossary, marked reviewed."""
        return self._retrain(by, "glossary marked reviewed",
                             lambda: editing.with_reviewed(editing.active_glossary(self.trainer)))

    def _retrain(self, by: str, what: str,
                 glossary: Callable[[], Glossary]) -> editing.TrainingChange:
        with self._training_action(by, what) as details:
            change = editing.train_edit(self.trainer, glossary(), by=by, note=what)
            details.update(version=change.version.version, previous=change.previous)
        return change

    @contextmanager
    def _training_action(self, by: str, what: str) -> Iterator[dict[str, object]]:
        """Audit a training action as it ends: the details the block filled, or why not."""
        started, details = time.perf_counter(), dict[str, object]()
        outcome: Outcome = "error"
        reason = ""
        try:
            yield details
            outcome = "recorded"
        except Exception as exc:
            reason = str(exc) if isinstance(exc, CopilotError) else type(exc).__name__
            raise
        finally:
            self.record("training", by, what, outcome=outcome, reason=reason,
                        duration_ms=_now_ms(started),
                        details=json.dumps(details, sort_keys=True, default=str))

    # ---- the LLM ------------------------------------------------------------------------

    def llm_config(self) -> LLMConfig:
        """The configuration saved on the Settings page, else the environment's."""
        saved = self.llm_settings.load()
        return saved.config if saved else LLMConfig.from_settings(self.settings)

    def llm_writer(self) -> LLMWriter | None:
        """The LLM writer for the configuration in force, or None when no LLM is set."""
        config = self.llm_config()
        if not config.enabled:
            return None
        if config not in self._writers:
            self._writers.clear()
            self._writers[config] = LLMWriter(OpenAICompatibleClient(config), config)
        return self._writers[config]

    def save_llm_config(self, config: LLMConfig | None, *, by: str) -> None:
        """Save the page's LLM configuration (None: back to the environment's); audited
        without the key."""
        if config is None:
            self.llm_settings.clear()
        else:
            self.llm_settings.save(config, by=by)
        self.record("settings", by,
                    "LLM settings " + ("saved" if config else "reset to the environment"),
                    details=json.dumps(self.llm_config().public(), sort_keys=True))

    def test_llm(self, config: LLMConfig, *, by: str) -> str:
        """Send one tiny request to `config`'s endpoint; what it answered, or LLMError."""
        started = time.perf_counter()
        outcome: Outcome = "error"
        reason = ""
        account: dict[str, object] = {}
        try:
            reply = OpenAICompatibleClient(config).complete(
                [ChatMessage("user", "Reply with the word OK.")], max_tokens=5,
                deadline=time.monotonic() + config.timeout_s)
            outcome = "recorded"
            account = {"requests": reply.attempts}
            return reply.text.strip()[:200]
        except LLMError as exc:
            reason = str(exc)
            if isinstance(exc, LLMExchangeError):  # what a failed test cost, and why
                account = {"requests": exc.requests, "failure": exc.failure,
                           "http_status": exc.http_status}
            raise
        finally:
            self.record("settings", by, f"LLM connection test: {config.endpoint}",
                        outcome=outcome, reason=reason, duration_ms=_now_ms(started),
                        details=json.dumps(account, sort_keys=True) if account else "")

    def run_sql(self, sql: str, *, user: str | None = None, channel: Channel = "ask",
                question: str = "(edited SQL)") -> Answer:
        """Run SQL a person wrote or edited: the guard first, like any other; audited."""
        started = time.perf_counter()
        verdict = self.guard.check(sql)
        answer: Answer
        if verdict.statement is None:
            answer = Answer(sql, "refused", "user", f"The SQL guard refused it: {verdict.reason}",
                            generated_sql=sql, total_ms=_now_ms(started))
        else:
            try:
                result = self.warehouse.execute(verdict.statement)
            except CopilotError as exc:
                answer = Answer(sql, "error", "user", str(exc), sql=verdict.sql,
                                generated_sql=sql, tables=verdict.tables,
                                total_ms=_now_ms(started))
            else:
                answer = Answer(sql, "answered", "user", "Your SQL, as the guard allowed it.",
                                sql=verdict.sql, generated_sql=sql, tables=verdict.tables,
                                columns=result.columns, rows=result.rows,
                                truncated=result.truncated, confidence=1.0,
                                total_ms=_now_ms(started))
        self.audit.append(_answer_record(
            answer, channel=channel, user=user or self.settings.app.user, question=question,
            outcome="blocked" if verdict.statement is None else answer.status,
        ))
        return answer

    def full_result(self, answer: Answer, *, user: str | None = None,
                    limit: int = 1_000_000) -> QueryResult:
        """The whole result of an answered question, for downloads: its SQL through the
        guard again with a download-sized row cap; audited like any other statement."""
        guard = Guard(self.guard.schema, dialect=self.guard.dialect, row_cap=limit,
                      policy=self.guard.policy)
        verdict = guard.check(answer.generated_sql or answer.sql or "")
        if verdict.statement is None:
            raise GuardRefusal(verdict.rule or "input", verdict.reason)
        started = time.perf_counter()
        result = self.warehouse.execute(verdict.statement)
        self.audit.append(AuditRecord(
            channel="ask", outcome="answered", user=user or self.settings.app.user,
            question=f"{answer.question} (full download)", sql_run=verdict.sql or "",
            engine=_engine_name(answer), tables=verdict.tables,
            row_count=result.row_count, duration_ms=_now_ms(started),
            result_sha256=result_sha256(result.columns, result.rows), app_version=__version__,
        ))
        return result

    def feedback(self, answer: Answer, *, correct: bool, comment: str = "",
                 user: str | None = None) -> None:
        """Record feedback on an answer; "correct" trains its question/SQL as a verified pair
        (a new profile version). Nothing is trained from an answer nobody confirmed."""
        who = user or self.settings.app.user
        self.audit.append(AuditRecord(
            channel="ask", outcome="recorded", user=who, question=answer.question,
            sql_run=answer.sql or "", engine="user",
            reason=f"feedback: {'correct' if correct else 'wrong'}",
            details=json.dumps({"comment": comment}), app_version=__version__,
        ))
        if correct and answer.status == "answered" and answer.generated_sql:
            self.trainer.add_pairs([PairUpload(answer.question, answer.generated_sql)], by=who)

    def query(self, sql: str | exp.Expression, *, read: str | None = None) -> QueryResult:
        """Check `sql` with the guard and run it; GuardRefusal when the guard says no."""
        return run_guarded(self.guard, self.warehouse, sql, read=read)

    def check(self, sql: str | exp.Expression, *, read: str | None = None) -> Verdict:
        """The guard's verdict on `sql` for this warehouse."""
        return self.guard.check(sql, read=read)

    def sample(self, table: str, limit: int = 20) -> QueryResult:
        """The first `limit` rows of a warehouse table, as the Data page shows them."""
        source = exp.table_(table, db=self.warehouse.db_schema, quoted=True)
        return self.query(sqlglot.select("*").from_(source).limit(limit))


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


def _answer_record(answer: Answer, **fields: object) -> AuditRecord:
    """The audit record of an answer: what ran, what came back, how long it took."""
    answered = answer.status == "answered"
    return AuditRecord(
        sql_generated=answer.generated_sql or "", sql_run=answer.sql or "",
        engine=_engine_name(answer), tables=answer.tables,
        row_count=len(answer.rows) if answered else None,
        result_sha256=result_sha256(answer.columns, answer.rows) if answered else "",
        duration_ms=answer.total_ms, reason="" if answered else answer.interpretation + (
            " Options: " + " | ".join(answer.suggestions) if answer.status == "clarify" else ""),
        app_version=__version__, **fields,  # type: ignore[arg-type]
    )


def _engine_name(answer: Answer) -> str:
    """The audit log's name for who wrote an answer's SQL: parser, pair, llm or user."""
    return "parser" if answer.source == "engine" else answer.source


def _now_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def ensure_demo_warehouse(settings: Settings) -> DemoSummary | None:
    """Build the embedded demo warehouse when it is the configured one and is absent."""
    path = settings.demo_warehouse_path
    if not settings.uses_demo_warehouse or path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return build_demo_warehouse(
        path,
        as_of=settings.warehouse.effective_as_of(),
        seed=settings.app.demo_seed,
        trades=settings.app.demo_trades,
    )


def ensure_demo_trained(services: Services) -> ProfileVersion | None:
    """Train the demo profile on first launch; a bank's warehouse is trained on purpose."""
    settings = services.settings
    if not settings.uses_demo_warehouse or services.trainer.active() is not None:
        return None
    return services.trainer.train(
        load_glossary(settings.app.glossary_dir), by=settings.app.user,
        note="first launch of the demo"
    )


def draft_from_warehouse(warehouse: Warehouse, settings: Settings) -> GlossaryDraft:
    """A glossary drafted from `warehouse`'s schema read afresh and its text values sampled
    as training samples them (guarded, read-only); for the page and `glossary draft`."""
    schema = warehouse.schema(refresh=True)
    guard = Guard(GuardSchema.from_warehouse(schema), dialect=warehouse.dialect,
                  row_cap=settings.warehouse.row_cap, policy=guard_policy(settings))
    values = sample_values(schema, partial(run_guarded, guard, warehouse),
                           db_schema=warehouse.db_schema)
    return draft_glossary(schema, values.columns, source=warehouse.display_url)


def guard_policy(settings: Settings) -> Policy:
    """The guard policy in force: the configured file, else the one shipped."""
    policy = settings.warehouse.guard_policy
    return load_policy(policy) if policy else default_policy()


def build_services(settings: Settings) -> Services:
    """Open the warehouse read-only (building the demo first when needed), its guard and the
    trainer; on the embedded demo, train the demo profile when it never was."""
    ensure_demo_warehouse(settings)
    warehouse = Warehouse(
        settings.warehouse.url,
        timeout_s=settings.warehouse.query_timeout_s,
        db_schema=settings.warehouse.schema or None,
    )
    guard = Guard(
        GuardSchema.from_warehouse(warehouse.schema()),
        dialect=warehouse.dialect,
        row_cap=settings.warehouse.row_cap,
        policy=guard_policy(settings),
    )
    assert settings.state.chroma_dir is not None  # filled by Settings
    audit = AuditLog(settings.audit.url)

    def training_changed(version: ProfileVersion, what: str, by: str) -> None:
        audit.append(AuditRecord(channel="training", outcome="recorded", user=by,
                                 question=what, profile_version=version.key,
                                 app_version=__version__))

    trainer = Trainer(
        profile=settings.app.profile,
        repository=ProfileRepository(settings.state.url),
        store=TrainingStore(settings.state.chroma_dir, MiniLMEmbedder()),
        warehouse=warehouse,
        query=partial(run_guarded, guard, warehouse),
        check=guard.check,
        on_change=training_changed,
    )
    services = Services(settings=settings, warehouse=warehouse, guard=guard, trainer=trainer,
                        audit=audit, llm_settings=LLMSettingsStore(settings.state.url))
    ensure_demo_trained(services)
    return services
