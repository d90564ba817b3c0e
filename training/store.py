"""The training store: schema, glossary terms, business rules, documents and verified
question/SQL pairs, embedded and kept in ChromaDB on disk, one set of collections per version.

Every training profile version owns the collections `v{version_key}__{kind}`, so activating an
older version (a roll-back) is only a matter of searching its collections; nothing is copied or
rebuilt. Writing a version replaces its collections' contents with exactly the items given.

Embeddings are always computed here by the injected `Embedder`, never by Chroma (its default
embedding function downloads a model). Each vector is cached by the sha256 of its text, in a
collection of its own and in memory, so a new version that shares most of its texts with the
previous one embeds only the texts that changed, and rewriting a version embeds nothing.

The values it takes and gives (StoreItem, Hit, WriteStats, the kinds, StoreError) are in
store_items.py: code that only builds items or reads hits imports them from there.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from training.embedding import Embedder
from training.store_items import KINDS, Hit, Kind, StoreError, StoreItem, WriteStats

__all__ = ["TrainingStore"]

DEFAULT_K = 5
_CACHE_PREFIX = "embcache__"
# Chroma's older name rule (3-63 characters) is the strictest one; these keep every name
# within it: "v" + 49 + "__" + "documents" = 61.
_MAX_PLAIN_KEY = 49
_MAX_HASHED_KEY = 40
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_COSINE = {"hnsw": {"space": "cosine"}}


class TrainingStore:
    """Versioned training collections in a ChromaDB folder.

    One instance per folder and process (the app builds it once); it is safe to share between
    threads: writes are serialised, searches run concurrently.
    """

    def __init__(self, path: Path, embedder: Embedder) -> None:
        import chromadb
        from chromadb.config import Settings

        self.path = Path(path)
        self.embedder = embedder
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(
                path=str(self.path), settings=Settings(anonymized_telemetry=False)
            )
        except Exception as error:  # Chroma raises plain exceptions for an unusable folder
            raise StoreError(
                f"The training store at {self.path} cannot be opened: {error}"
            ) from error
        self._batch = max(1, min(self._client.get_max_batch_size(), 1000))
        self._write_lock = threading.Lock()
        self._vectors: dict[str, np.ndarray] = {}  # sha256(text) -> unit vector
        # Open collections by name: reopening costs about a millisecond per kind and question.
        self._handles: dict[str, Any] = {}

    # -- writing ---------------------------------------------------------------------------

    def write_version(self, version_key: str, items: Sequence[StoreItem]) -> WriteStats:
        """Make the version hold exactly `items` (upsert by id, delete the rest)."""
        started = time.perf_counter()
        prefix = _collection_prefix(version_key)
        wanted: dict[Kind, dict[str, StoreItem]] = {kind: {} for kind in KINDS}
        for item in items:
            same = wanted[item.kind].setdefault(item.id, item)
            if same != item:
                raise StoreError(
                    f"Two different {item.kind} items share the id {item.id}; build ids with "
                    f"item_id() so that they follow the content."
                )
        added = removed = 0
        with self._write_lock:
            texts = [item.text for kind in KINDS for item in wanted[kind].values()]
            newly_embedded = self._ensure_vectors(texts)
            for kind in KINDS:
                collection = self._open_for_write(prefix + kind, version_key, kind)
                present = set(collection.get(include=[])["ids"])
                stale = sorted(present - wanted[kind].keys())
                fresh = [item for key, item in wanted[kind].items() if key not in present]
                for chunk in _chunks(stale, self._batch):
                    collection.delete(ids=chunk)
                # An id is a hash of the content, so an id already present needs no rewrite.
                for chunk in _chunks(fresh, self._batch):
                    collection.upsert(
                        ids=[item.id for item in chunk],
                        embeddings=np.stack([self._vectors[_text_key(i.text)] for i in chunk]),
                        documents=[item.text for item in chunk],
                        # Chroma refuses an empty metadata dict but accepts None.
                        metadatas=[dict(item.metadata) or None for item in chunk],
                    )
                added += len(fresh)
                removed += len(stale)
        return WriteStats(
            version_key=version_key,
            items=MappingProxyType({kind: len(wanted[kind]) for kind in KINDS}),
            added=added,
            removed=removed,
            newly_embedded=newly_embedded,
            seconds=time.perf_counter() - started,
        )

    def drop_version(self, version_key: str) -> None:
        """Delete a version's collections; the embedding cache stays for other versions."""
        prefix = _collection_prefix(version_key)
        from chromadb.errors import NotFoundError

        with self._write_lock:
            for kind in KINDS:
                self._handles.pop(prefix + kind, None)
                with contextlib.suppress(NotFoundError):
                    self._client.delete_collection(prefix + kind)

    # -- reading ---------------------------------------------------------------------------

    def search(
        self,
        version_key: str,
        kind: Kind,
        text: str,
        k: int = DEFAULT_K,
        where: dict[str, Any] | None = None,
    ) -> list[Hit]:
        """The `k` items of one kind most similar to `text`, best first; [] when none exist.

        `where` is a Chroma metadata filter, e.g. {"table": "settlements"}.
        """
        return self._search(version_key, text, {kind: k}, where)[kind]

    def search_all(
        self,
        version_key: str,
        text: str,
        k_per_kind: Mapping[Kind, int] | None = None,
    ) -> dict[Kind, list[Hit]]:
        """`search` over several kinds (all, 5 each, by default), embedding the question once."""
        wanted = dict(k_per_kind) if k_per_kind is not None else dict.fromkeys(KINDS, DEFAULT_K)
        return self._search(version_key, text, wanted, None)

    def count(self, version_key: str) -> dict[Kind, int]:
        """Items per kind in a version (0 for every kind of a version that does not exist)."""
        prefix = _collection_prefix(version_key)
        return {kind: self._call(prefix + kind, "count") for kind in KINDS}

    def has_version(self, version_key: str) -> bool:
        """Whether the version has been written (and not dropped), even with no items."""
        prefix = _collection_prefix(version_key)
        return any(self._open(prefix + kind) is not None for kind in KINDS)

    def versions(self) -> list[str]:
        """The version keys present in the folder, sorted."""
        keys = {
            (collection.metadata or {}).get("version_key")
            for collection in self._client.list_collections()
            if not collection.name.startswith(_CACHE_PREFIX)
        }
        return sorted(key for key in keys if isinstance(key, str))

    # -- internals -------------------------------------------------------------------------

    def _embed_question(self, text: str) -> np.ndarray:
        # One (1, d) float32 array, reused for every kind: Chroma converts a list of floats
        # on each query, which costs more than the search itself on small collections.
        return np.asarray(self.embedder.embed([text]), dtype=np.float32)

    def _search(
        self,
        version_key: str,
        text: str,
        wanted: Mapping[Kind, int],
        where: dict[str, Any] | None,
    ) -> dict[Kind, list[Hit]]:
        prefix = _collection_prefix(version_key)
        for kind in wanted:
            _check_kind(kind)
        results: dict[Kind, list[Hit]] = {kind: [] for kind in wanted}
        present = [kind for kind in wanted if wanted[kind] > 0 and self._searchable(prefix + kind)]
        if not present:
            return results  # no question embedding for a version that does not exist
        vector = self._embed_question(text)
        for kind in present:
            found = self._call(
                prefix + kind,
                "query",
                query_embeddings=vector,
                n_results=wanted[kind],
                where=where or None,
                include=["documents", "metadatas", "distances"],
            )
            if found is not None:
                results[kind] = [
                    Hit(
                        id=hit_id,
                        kind=kind,
                        text=document or "",
                        metadata=MappingProxyType(dict(metadata or {})),
                        score=1.0 - float(distance),  # Chroma's cosine distance is 1 - cos
                    )
                    for hit_id, document, metadata, distance in zip(
                        found["ids"][0],
                        found["documents"][0],
                        found["metadatas"][0],
                        found["distances"][0],
                        strict=True,
                    )
                ]
        return results

    def _call(self, name: str, method: str, **kwargs: Any) -> Any:
        """Call a collection method; None (or 0 for count) when the collection is gone."""
        from chromadb.errors import NotFoundError

        for _attempt in range(2):
            collection = self._open(name)
            if collection is None:
                break
            try:
                return getattr(collection, method)(**kwargs)
            except NotFoundError:
                # Dropped (and perhaps rewritten, under a new id) by another store instance.
                self._handles.pop(name, None)
        return 0 if method == "count" else None

    def _open(self, name: str) -> Any | None:
        handle = self._handles.get(name)
        if handle is not None:
            return handle
        from chromadb.errors import NotFoundError

        try:
            handle = self._client.get_collection(name, embedding_function=None)
        except NotFoundError:
            return None
        self._handles[name] = handle
        return handle

    def _open_for_write(self, name: str, version_key: str, kind: Kind) -> Any:
        handle = self._client.get_or_create_collection(
            name,
            configuration=_COSINE,
            metadata={"version_key": version_key, "kind": kind, "embedder": self.embedder.name},
            embedding_function=None,
        )
        if (handle.metadata or {}).get("embedder") != self.embedder.name:
            # Vectors from another model cannot be compared with ours: start the kind afresh.
            self._client.delete_collection(name)
            return self._open_for_write(name, version_key, kind)
        self._handles[name] = handle
        return handle

    def _searchable(self, name: str) -> bool:
        handle = self._open(name)
        if handle is None:
            return False
        used = (handle.metadata or {}).get("embedder")
        if used != self.embedder.name:
            raise StoreError(
                f"Training collection {name} was embedded with {used!r}, not "
                f"{self.embedder.name!r}; retrain (write the version again) to search it."
            )
        return True

    def _ensure_vectors(self, texts: Sequence[str]) -> int:
        """Put a vector for every text in memory; return how many had to be embedded."""
        by_key = {_text_key(text): text for text in texts}
        missing = [key for key in by_key if key not in self._vectors]
        if not missing:
            return 0
        cache = self._client.get_or_create_collection(
            _CACHE_PREFIX + _safe_name(self.embedder.name), embedding_function=None
        )
        for chunk in _chunks(missing, self._batch):
            stored = cache.get(ids=chunk, include=["embeddings"])
            for key, vector in zip(stored["ids"], stored["embeddings"], strict=True):
                self._vectors[key] = np.asarray(vector, dtype=np.float32)
        unseen = [key for key in missing if key not in self._vectors]
        if unseen:
            vectors = np.asarray(
                self.embedder.embed([by_key[key] for key in unseen]), dtype=np.float32
            )
            if vectors.shape != (len(unseen), self.embedder.dimensions):
                raise StoreError(
                    f"The embedder {self.embedder.name} returned vectors of shape "
                    f"{vectors.shape}, expected ({len(unseen)}, {self.embedder.dimensions})."
                )
            for start in range(0, len(unseen), self._batch):
                end = start + self._batch
                cache.upsert(ids=unseen[start:end], embeddings=vectors[start:end])
            self._vectors.update(zip(unseen, vectors, strict=True))
        return len(unseen)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise StoreError(f"Unknown training kind {kind!r}; expected one of {KINDS}.")


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _safe_name(value: str) -> str:
    """`value` in Chroma's collection-name alphabet; a hash suffix keeps altered values apart."""
    safe = _UNSAFE.sub("-", value)
    if safe == value and len(safe) <= _MAX_PLAIN_KEY:
        return safe
    # "demo 3" and "demo-3" must not share collections, so any change adds the original's hash.
    return f"{safe[:_MAX_HASHED_KEY]}-{_text_key(value)[:8]}"


def _collection_prefix(version_key: str) -> str:
    if not isinstance(version_key, str) or not version_key.strip():
        raise StoreError("A training version needs a non-empty version key.")
    return f"v{_safe_name(version_key)}__"


def _chunks(values: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [values[start : start + size] for start in range(0, len(values), size)]
