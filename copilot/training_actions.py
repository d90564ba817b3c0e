"""What the Training page and the glossary commands do to the warehouse's training, each
audited as it ends (what it did, or why not): test the connection, draft a glossary, train
an edited one, teach a word, mark a draft reviewed, add verified pairs, activate a version.

Under four eyes (copilot/approvals/) the changes to what the copilot knows are proposed, not
applied: each returns the PendingChange, applied when a second trainer approves it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from copilot.approvals.model import PendingChange
from copilot.approvals.service import Approvals
from copilot.approvals.training_kinds import ACTIVATION, GLOSSARY, PAIRS
from copilot.core.access import Access
from copilot.core.audit import Recorder
from copilot.core.audit.record import Outcome
from copilot.core.errors import CopilotError
from copilot.core.executor import Executor
from copilot.core.guard import GuardSchema
from copilot.core.warehouse import Warehouse
from training import editing
from training.draft import GlossaryDraft, draft_glossary
from training.glossary import Glossary
from training.ingest import sample_values
from training.profiles import ProfileVersion
from training.trainer import PairUpload, Trainer

__all__ = ["TrainingActions", "draft_from_warehouse"]


@dataclass(frozen=True)
class TrainingActions:
    """The training changes a person makes, on the warehouse `executor` guards."""

    executor: Executor
    trainer: Trainer
    recorder: Recorder
    access: Access = field(default_factory=Access)
    approvals: Approvals | None = None  # four eyes; None or switched off: applied at once

    @property
    def held(self) -> bool:
        """True when training changes wait for a second trainer's approval."""
        return self.approvals is not None and self.approvals.enabled

    def test_connection(self, *, by: str) -> tuple[int, float]:
        """Reach the warehouse, read its schema afresh: (tables, ms), else WarehouseError."""
        warehouse = self.executor.warehouse
        with self._action(by, f"connection test: {warehouse.display_url}") as details:
            started = time.perf_counter()
            warehouse.ping()
            details["tables"] = tables = len(warehouse.schema(refresh=True).tables)
            elapsed = (time.perf_counter() - started) * 1000
        return tables, elapsed

    def draft_glossary(self, *, by: str) -> GlossaryDraft:
        """A reviewable glossary drafted from the warehouse's schema and stored values, as
        `python -m copilot glossary draft` writes it; nothing is trained yet."""
        warehouse = self.executor.warehouse
        with self._action(by, f"glossary draft of {warehouse.display_url}") as details:
            draft = draft_from_warehouse(self.executor)
            details.update({k: v for k, v in asdict(draft).items() if k != "files"})
        return draft

    def train_glossary(self, glossary: Glossary, *, by: str,
                       note: str = "") -> editing.TrainingChange | PendingChange:
        """Train a new version from `glossary` (a draft as edited on the page, say)."""
        return self._retrain(by, note or "trained from a glossary", lambda: glossary)

    def teach(self, word: str, target: editing.Target, *,
              by: str) -> editing.TrainingChange | PendingChange:
        """Add `word` for `target` to the active glossary and train a new version."""
        return self._retrain(by, f"taught {word.strip()!r} as {target.label}", lambda: (
            editing.add_synonym(editing.active_glossary(self.trainer), target, word)))

    def mark_reviewed(self, *, by: str) -> editing.TrainingChange | PendingChange:
        """Train a new version from the active drafted glossary, marked reviewed."""
        return self._retrain(by, "glossary marked reviewed",
                             lambda: editing.with_reviewed(editing.active_glossary(self.trainer)))

    def add_pairs(self, pairs: Sequence[PairUpload], *,
                  by: str) -> ProfileVersion | PendingChange:
        """Add verified question/SQL pairs (an upload on the Training page)."""
        what = f"{len(pairs)} verified pair(s) added"
        if self.held:
            assert self.approvals is not None
            return self.approvals.propose(PAIRS, {"pairs": [
                {"question": p.question, "sql": p.sql} for p in pairs]}, summary=what, by=by)
        with self._action(by, what) as details:
            version = self.trainer.add_pairs(pairs, by=by)
            details["version"] = version.version
        return version

    def activate(self, version: int, *, by: str) -> ProfileVersion | PendingChange:
        """Answer from `version` from now on (a rollback when it is older)."""
        what = f"activate version {version}"
        if self.held:
            assert self.approvals is not None
            return self.approvals.propose(ACTIVATION, {"version": version}, summary=what, by=by)
        with self._action(by, what):
            return self.trainer.activate(version, by=by)

    def apply_glossary(self, files: Mapping[str, str], *, by: str,
                       note: str) -> editing.TrainingChange:
        """Train an approved glossary change (its files) as `by`, its maker: the path a
        change takes without four eyes."""
        change = self._retrain(by, note, lambda: editing.glossary_from_files(files), held=False)
        assert isinstance(change, editing.TrainingChange)
        return change

    def _retrain(self, by: str, what: str, glossary: Callable[[], Glossary], *,
                 held: bool | None = None) -> editing.TrainingChange | PendingChange:
        if self.held if held is None else held:
            assert self.approvals is not None
            self.access.check(by, "train the copilot", what, recorder=self.recorder)
            files = editing.glossary_files(glossary())
            return self.approvals.propose(GLOSSARY, {"files": files, "note": what},
                                          summary=what, by=by)
        with self._action(by, what) as details:
            change = editing.train_edit(self.trainer, glossary(), by=by, note=what)
            details.update(version=change.version.version, previous=change.previous)
        return change

    @contextmanager
    def _action(self, by: str, what: str) -> Iterator[dict[str, object]]:
        """Audit a training action as it ends: the details the block filled, or why not;
        only a trainer's (AccessDenied, recorded as blocked, for anyone else)."""
        self.access.check(by, "train the copilot", what, recorder=self.recorder)
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
            self.recorder.record("training", what, by=by, outcome=outcome, reason=reason,
                                 duration_ms=(time.perf_counter() - started) * 1000,
                                 details=details)


def draft_from_warehouse(executor: Executor) -> GlossaryDraft:
    """A glossary drafted from the warehouse's schema read afresh and its text values sampled
    as training samples them (guarded, read-only); for the page and `glossary draft`."""
    warehouse: Warehouse = executor.warehouse
    schema = warehouse.schema(refresh=True)
    fresh = executor.over(GuardSchema.from_warehouse(schema))
    values = sample_values(schema, fresh.run, db_schema=warehouse.db_schema)
    return draft_glossary(schema, values.columns, source=warehouse.display_url)
