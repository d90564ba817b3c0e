"""The training kinds of change: verified pairs (from "Correct" or uploaded on the Training
page), a glossary change (taught word, edited or reviewed glossary, training from the
glossary folder) and a training version's activation (a rollback).

Each applies through the path that applies it without four eyes: the trainer's `add_pairs`
and `activate`, and TrainingActions' audited retraining; the new version is the maker's."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from copilot.approvals.diff import files_diff, text_diff, yaml_text
from copilot.approvals.model import PendingChange
from copilot.core.audit.record import Channel
from training import editing
from training.trainer import PairUpload, Trainer

if TYPE_CHECKING:
    from copilot.training_actions import TrainingActions

__all__ = ["ACTIVATION", "GLOSSARY", "PAIRS", "ActivationKind", "GlossaryKind", "PairsKind"]

PAIRS, GLOSSARY, ACTIVATION = "verified pair", "glossary change", "training activation"


def _sha(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PairsKind:
    """Question/SQL pairs the copilot answers from once approved."""

    trainer: Trainer
    name: str = PAIRS
    label: str = "Verified pairs"
    channel: Channel = "training"
    propose_action: str = "propose training"
    approve_action: str = "approve training"

    def _in_force(self, payload: Mapping[str, Any]) -> list[dict[str, str]]:
        """The active version's pairs for the proposed questions (case as it matches)."""
        active = self.trainer.active()
        asked = {p["question"].strip().lower() for p in payload["pairs"]}
        pairs = active.content.pairs if active and active.content else ()
        return [{"question": p.question, "sql": p.sql} for p in pairs
                if p.question.lower() in asked]

    def target(self, payload: Mapping[str, Any]) -> str:
        return "pairs:" + _sha(sorted(p["question"].strip().lower() for p in payload["pairs"]))

    def diff(self, payload: Mapping[str, Any]) -> str:
        proposed = [{"question": p["question"].strip(), "sql": p["sql"].strip()}
                    for p in payload["pairs"]]
        before = self._in_force(payload)
        return text_diff(yaml_text(before) if before else "", yaml_text(proposed),
                         "verified pairs")

    def base(self, payload: Mapping[str, Any]) -> str:
        return _sha(self._in_force(payload))

    def apply(self, change: PendingChange, checker: str) -> str:
        version = self.trainer.add_pairs(
            [PairUpload(p["question"], p["sql"]) for p in change.payload["pairs"]],
            by=change.maker)
        return f"version {version.version} is active"


@dataclass(frozen=True)
class GlossaryKind:
    """A new glossary (its four files) to train a version from."""

    actions: TrainingActions
    name: str = GLOSSARY
    label: str = "Glossary change"
    channel: Channel = "training"
    propose_action: str = "train the copilot"
    approve_action: str = "approve training"

    def _in_force(self) -> dict[str, str]:
        active = self.actions.trainer.active()
        if active is None or active.content is None:
            return {}
        return editing.glossary_files(active.content.glossary)

    def target(self, payload: Mapping[str, Any]) -> str:
        return "glossary"

    def diff(self, payload: Mapping[str, Any]) -> str:
        return files_diff(self._in_force(), payload["files"])

    def base(self, payload: Mapping[str, Any]) -> str:
        return _sha(self._in_force())

    def apply(self, change: PendingChange, checker: str) -> str:
        done = self.actions.apply_glossary(change.payload["files"], by=change.maker,
                                           note=change.payload.get("note", change.summary))
        return f"version {done.version.version} is active"


@dataclass(frozen=True)
class ActivationKind:
    """Which training version answers (activating an older one rolls back)."""

    trainer: Trainer
    name: str = ACTIVATION
    label: str = "Training version activation"
    channel: Channel = "training"
    propose_action: str = "train the copilot"
    approve_action: str = "approve training"

    def _describe(self, number: int | None) -> str:
        if number is None:
            return "no version active\n"
        found = next((v for v in self.trainer.versions() if v.version == number), None)
        if found is None:
            return f"version {number} (not found)\n"
        counts = ", ".join(f"{k} {n}" for k, n in sorted(found.counts.items()))
        return (f"active version: {found.version}\nmade: {found.created_at} by "
                f"{found.created_by}\nnote: {found.note}\ncounts: {counts}\n")

    def _active(self) -> int | None:
        active = self.trainer.active()
        return active.version if active else None

    def target(self, payload: Mapping[str, Any]) -> str:
        return "activation"

    def diff(self, payload: Mapping[str, Any]) -> str:
        return text_diff(self._describe(self._active()), self._describe(payload["version"]),
                         f"profile {self.trainer.profile}")

    def base(self, payload: Mapping[str, Any]) -> str:
        return str(self._active())

    def apply(self, change: PendingChange, checker: str) -> str:
        version = self.trainer.activate(int(change.payload["version"]), by=change.maker)
        return f"version {version.version} is active"
