"""What goes into the training store and what comes out of it, apart from the store itself.

A `StoreItem` is one piece of training (schema, a glossary term, a business rule, a document
or a verified question/SQL pair) whose id is the hash of its content; a `Hit` is a search
result with its cosine score; `WriteStats` says what writing a version did. Corpus building,
the trainer and the LLM prompt use these values without opening ChromaDB.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args

from copilot.core.errors import CopilotError

__all__ = [
    "KINDS",
    "Hit",
    "Kind",
    "MetadataValue",
    "StoreError",
    "StoreItem",
    "WriteStats",
    "item_id",
]

Kind = Literal["schema", "terms", "rules", "documents", "pairs"]
KINDS: tuple[Kind, ...] = get_args(Kind)
MetadataValue = str | int | float | bool


class StoreError(CopilotError):
    """The training store was given something it cannot keep, or could not open its folder."""


def item_id(kind: Kind, text: str, metadata: Mapping[str, MetadataValue]) -> str:
    """Content hash of an item: equal content gives an equal id, whatever the version."""
    canonical = json.dumps(
        {"kind": kind, "text": text, "metadata": dict(metadata)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class StoreItem:
    """One piece of training: its text is what gets embedded; metadata is returned with hits."""

    id: str
    kind: Kind
    text: str
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise StoreError(f"Unknown training kind {self.kind!r}; expected one of {KINDS}.")
        if not self.text.strip():
            raise StoreError(f"A {self.kind} item has no text to embed (id {self.id}).")
        for key, value in self.metadata.items():
            if not isinstance(key, str) or not isinstance(value, str | int | float | bool):
                raise StoreError(
                    f"Metadata {key!r}={value!r} of a {self.kind} item is not a string, "
                    f"number or boolean, which is all ChromaDB can keep."
                )
        # Frozen means frozen: a caller's dict changed later must not change the item.
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @classmethod
    def of(
        cls, kind: Kind, text: str, metadata: Mapping[str, MetadataValue] | None = None
    ) -> StoreItem:
        """An item whose id is the content hash of its kind, text and metadata."""
        metadata = dict(metadata or {})
        return cls(item_id(kind, text, metadata), kind, text, metadata)


@dataclass(frozen=True)
class Hit:
    """A search result; `score` is the cosine similarity to the question (1 is identical)."""

    id: str
    kind: Kind
    text: str
    metadata: Mapping[str, MetadataValue]
    score: float


@dataclass(frozen=True)
class WriteStats:
    """What `write_version` did."""

    version_key: str
    items: Mapping[Kind, int]  # items per kind now in the version
    added: int  # items the version did not have before
    removed: int  # items it had and no longer has
    newly_embedded: int  # texts embedded for the first time (not found in the cache)
    seconds: float
