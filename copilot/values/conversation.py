"""A conversation with the warehouse: the turns asked so far, as a frozen value.

Each turn keeps what the next question may edit: the full question the turn stood for
(the follow-up already composed into a question that reads alone), the SQL it ran, the
audit record of its answer, and the first group's value of a grouped answer ("the rows
behind the largest"). The state is plain JSON, so `python -m copilot ask --conversation
FILE` can carry it between runs and a browser session keeps it in its own state.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

from copilot.core.errors import CopilotError

if TYPE_CHECKING:
    from copilot.values.answer import Answer

__all__ = ["MAX_TURNS", "Conversation", "ConversationError", "Turn"]

MAX_TURNS = 200  # a conversation longer than this starts afresh: state stays small


class ConversationError(CopilotError):
    """A conversation file that cannot be read as one."""


@dataclass(frozen=True)
class Turn:
    """One question of a conversation and what its answer was."""

    question: str  # as asked
    stands_for: str  # the whole question it was read as (the question itself if it stood alone)
    status: str
    sql: str | None = None
    record_id: int | None = None  # the audit record of its answer
    leader: tuple[str, ...] = ()  # the first group of a grouped answer, one text per column
    chart: str | None = None  # a chart asked for by name ("as a pie chart")


@dataclass(frozen=True)
class Conversation:
    """The turns of one conversation, oldest first."""

    id: str
    turns: tuple[Turn, ...] = ()

    @classmethod
    def new(cls) -> Conversation:
        return cls(uuid.uuid4().hex)

    @property
    def previous(self) -> Turn | None:
        """The last turn: what a follow-up edits. One that was refused or asked back leaves
        nothing to edit (a follow-up then refuses rather than edit an older answer)."""
        return self.turns[-1] if self.turns else None

    def after(self, answer: Answer) -> Conversation:
        """This conversation with `answer` as its next turn."""
        turn = Turn(answer.question, answer.stands_for or answer.question, answer.status,
                    answer.sql, answer.record_id, _leader(answer), answer.chart_asked)
        turns = (*self.turns, turn)[-MAX_TURNS:]
        return replace(self, turns=turns)

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "turns": [asdict(t) for t in self.turns]}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Conversation:
        """The conversation a JSON text holds; ConversationError naming what is wrong."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConversationError(f"The conversation is not JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or \
                not isinstance(data.get("turns", []), list):
            raise ConversationError("The conversation must be an object with an 'id' and a "
                                    "list of 'turns'.")
        names = set(Turn.__dataclass_fields__)
        turns = []
        for number, raw in enumerate(data.get("turns", []), start=1):
            if not isinstance(raw, dict) or not {"question", "stands_for", "status"} <= set(
                    raw) or set(raw) - names:
                raise ConversationError(f"Turn {number} of the conversation is not a turn: it "
                                        f"needs question, stands_for and status, and only "
                                        f"{', '.join(sorted(names))}.")
            turns.append(Turn(**{**raw, "leader": tuple(str(v) for v in raw.get("leader") or ())}))
        return cls(data["id"], tuple(turns))


def _leader(answer: Answer) -> tuple[str, ...]:
    plan = answer.plan
    if answer.status != "answered" or plan is None or not plan.dimensions or not answer.rows:
        return ()
    values = answer.rows[0][:len(plan.dimensions)]
    return () if any(v is None for v in values) else tuple(str(v) for v in values)
