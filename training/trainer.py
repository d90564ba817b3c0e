"""Training: build a profile version from the warehouse, a glossary and uploads, publish it to
the vector store, activate it, diff versions, roll back, and retrieve context for a question.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlglot import exp

from copilot.core.errors import CopilotError, GuardRefusal, TrainingRequired
from copilot.core.guard import Verdict
from copilot.core.warehouse import QueryResult, Warehouse
from training.corpus import ProfileDiff, content_items, diff_contents
from training.glossary import Glossary
from training.ingest import sample_keys, sample_values
from training.profiles import Document, Pair, ProfileContent, ProfileRepository, ProfileVersion
from training.schema_check import check_against_schema, check_values
from training.store import TrainingStore
from training.store_items import KINDS, Hit, Kind

__all__ = ["PairUpload", "Trainer", "build_content", "chunk_document", "require_trained"]

CHUNK_CHARS = 900  # about 200 tokens: within the embedding model's 256-token window


def chunk_document(text: str, max_chars: int = CHUNK_CHARS) -> tuple[str, ...]:
    """Cut Markdown or plain text into chunks at paragraph, then sentence, boundaries."""
    chunks: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        pieces = [paragraph] if len(paragraph) <= max_chars else re.split(
            r"(?<=[.!?])\s+", paragraph)
        for piece in pieces:
            piece = piece.strip()
            while len(piece) > max_chars:  # a sentence longer than a chunk: cut it hard
                chunks.append(piece[:max_chars])
                piece = piece[max_chars:]
            if current and len(current) + len(piece) + 2 > max_chars:
                chunks.append(current)
                current = ""
            current = f"{current}\n\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return tuple(c for c in chunks if c.strip())


def require_trained(version: ProfileVersion | None, profile: str) -> ProfileVersion:
    """The active version, when it holds schema, glossary terms and business rules.

    Otherwise TrainingRequired, saying what is missing and how to train.
    """
    how = ("Train it with `python -m copilot train` (add `--glossary DIR` for your own "
           "glossary) or on the Training page.")
    if version is None:
        raise TrainingRequired(
            f"The copilot has not been trained on this warehouse yet (profile {profile!r} has "
            f"no version). {how}"
        )
    counts = version.counts
    missing = [
        label for key, label in (("tables", "the schema"), ("terms", "glossary terms"),
                                 ("rules", "business rules"))
        # Entities alone are enough words: a drafted glossary may have no term to offer.
        if not counts.get(key) and not (key == "terms" and counts.get("entities"))
    ]
    if missing:
        raise TrainingRequired(
            f"The active training profile {profile!r} (version {version.version}) has no "
            f"{', no '.join(missing)}; the copilot answers only once it knows them. {how}"
        )
    return version


def build_content(
    warehouse: Warehouse, glossary: Glossary, query: Callable[[exp.Expression], QueryResult]
) -> ProfileContent:
    """What training knows of a warehouse with a glossary: schema, values, glossary."""
    schema = warehouse.schema(refresh=True)
    check_against_schema(glossary, schema)
    values = sample_values(schema, query, db_schema=warehouse.db_schema)
    check_values(glossary, values.columns)  # only now are the stored values known
    keys = sample_keys(schema, query, db_schema=warehouse.db_schema)
    return ProfileContent(schema=schema, values=dict(values.columns), glossary=glossary,
                          keys=keys)


@dataclass(frozen=True)
class PairUpload:
    """A question/SQL pair to verify and add."""

    question: str
    sql: str


class Trainer:
    """Training of one profile against one warehouse."""

    def __init__(
        self,
        *,
        profile: str,
        repository: ProfileRepository,
        store: TrainingStore,
        warehouse: Warehouse,
        query: Callable[[exp.Expression], QueryResult],
        check: Callable[[str], Verdict],
        on_change: Callable[[ProfileVersion, str, str], None] | None = None,
    ) -> None:
        self.profile = profile
        self._repo = repository
        self._store = store
        self._warehouse = warehouse
        self._query = query
        self._check = check
        # Told of every new or activated version (version, what happened, by whom), so the
        # audit log records each training change.
        self._on_change = on_change or (lambda version, what, by: None)
        self._active_cache: ProfileVersion | None = None

    # ---- reading -----------------------------------------------------------------------

    def active(self) -> ProfileVersion | None:
        """The active version with its content, or None before the first training.

        Versions never change once written, so the last one read is kept and only the
        active number is asked each time: a 500-table profile is not re-parsed per question.
        """
        number = self._repo.active_number(self.profile)
        if number is None:
            return None
        cached = self._active_cache
        if cached is None or cached.version != number:
            cached = self._repo.get(self.profile, number)
            self._active_cache = cached
        return replace(cached, active=True)

    def versions(self) -> list[ProfileVersion]:
        return self._repo.versions(self.profile)

    def require_trained(self) -> ProfileVersion:
        """The gate: the active version, or TrainingRequired with what is missing."""
        return require_trained(self.active(), self.profile)

    def diff(self, old: int, new: int) -> ProfileDiff:
        a, b = self._repo.get(self.profile, old), self._repo.get(self.profile, new)
        assert a.content is not None and b.content is not None
        return diff_contents(a.content, b.content, old, new)

    def retrieve(self, question: str, k: int = 5) -> dict[Kind, list[Hit]]:
        """The closest schema items, terms, rules, documents and pairs of the active version."""
        version = self.require_trained()
        self._ensure_published(version)
        return self._store.search_all(version.key, question, dict.fromkeys(KINDS, k))

    # ---- writing -----------------------------------------------------------------------

    def train(self, glossary: Glossary, *, by: str, note: str = "") -> ProfileVersion:
        """Ingest the warehouse with `glossary` into a new version and activate it.

        Documents and pairs of the active version are carried over. When nothing changed
        the active version is kept: re-training is idempotent.
        """
        current = self.active()
        carried = current.content if current else None
        content = replace(
            build_content(self._warehouse, glossary, self._query),
            documents=carried.documents if carried else (),
            pairs=carried.pairs if carried else (),
        )
        return self._publish(content, by=by, note=note or "trained from the warehouse")

    def add_pairs(self, pairs: Sequence[PairUpload], *, by: str) -> ProfileVersion:
        """Verify each pair's SQL with the guard and add the pairs as a new version."""
        current = self.require_trained()
        assert current.content is not None
        added_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        new_pairs = []
        for number, pair in enumerate(pairs, start=1):
            if not pair.question.strip():
                raise CopilotError(f"Pair {number} has no question.")
            verdict = self._check(pair.sql)
            if not verdict.allowed:
                raise GuardRefusal(verdict.rule or "input",
                                   f"Pair {number} ({pair.question!r}) was not added: "
                                   f"{verdict.reason}")
            new_pairs.append(Pair(question=pair.question.strip(), sql=pair.sql.strip(),
                                  added_by=by, added_at=added_at))
        known = {p.question.lower() for p in new_pairs}
        kept = tuple(p for p in current.content.pairs if p.question.lower() not in known)
        content = replace(current.content, pairs=kept + tuple(new_pairs))
        return self._publish(content, by=by, note=f"{len(new_pairs)} verified pair(s) added")

    def add_document(self, name: str, text: str, *, by: str) -> ProfileVersion:
        """Chunk a Markdown or text document and add it (replacing one of the same name)."""
        current = self.require_trained()
        assert current.content is not None
        chunks = chunk_document(text)
        if not chunks:
            raise CopilotError(f"The document {name!r} is empty.")
        documents = tuple(d for d in current.content.documents if d.name != name)
        content = replace(current.content, documents=(*documents, Document(name, chunks)))
        return self._publish(content, by=by, note=f"document {name!r} added")

    def activate(self, version: int, *, by: str) -> ProfileVersion:
        """Answer from `version` from now on (a rollback when it is older than the active)."""
        target = self._repo.get(self.profile, version)
        self._ensure_published(target)
        activated = self._repo.activate(self.profile, version, by=by)
        self._on_change(activated, f"activated version {version}", by)
        return activated

    def _publish(self, content: ProfileContent, *, by: str, note: str) -> ProfileVersion:
        current = self.active()
        digest = hashlib.sha256(content.to_json().encode()).hexdigest()
        if current is not None and current.content_sha256 == digest:
            self._ensure_published(current)
            return current
        version = self._repo.create_version(self.profile, content, created_by=by, note=note)
        self._store.write_version(version.key, content_items(content))
        activated = self._repo.activate(self.profile, version.version, by=by)
        self._on_change(activated, f"version {version.version}: {note}", by)
        return activated

    def _ensure_published(self, version: ProfileVersion) -> None:
        # The state database is the source of truth; a lost or moved vector store is
        # rebuilt from the version's own content.
        if not self._store.has_version(version.key):
            full = version if version.content else self._repo.get(self.profile, version.version)
            assert full.content is not None
            self._store.write_version(version.key, content_items(full.content))
