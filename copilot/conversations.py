"""A conversation's wiring outside the engine: what an answer's audit record keeps of its
place in a conversation, the answer numbered in it, and the conversation kept in a file
between runs of `python -m copilot ask --conversation FILE`.

The conversation value itself (turns, the previous turn, JSON) is
copilot/values/conversation.py; this module only attaches it to the audit log and to files.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from copilot.values import Answer, Conversation, ConversationError

__all__ = ["numbered", "read_conversation", "turn_details", "write_conversation"]


def turn_details(conversation: Conversation | None, answer: Answer) -> dict[str, object]:
    """What the audit record of `answer` keeps of its conversation: nothing outside one.

    `previous_record` is the record of the turn before, the one a follow-up is read
    against, so an auditor can follow what an edit like "only GBP" edited (after a refused
    turn, a follow-up edits nothing: the engine says so)."""
    if conversation is None:
        return {}
    previous = conversation.previous
    details: dict[str, object] = {
        "conversation_id": conversation.id, "turn": len(conversation.turns) + 1,
        "previous_record": previous.record_id if previous is not None else None}
    if answer.stands_for:  # a follow-up: the whole question it was read as, and the edit
        details |= {"stands_for": answer.stands_for, "changes": list(answer.changes)}
    return details


def numbered(answer: Answer, conversation: Conversation | None, record_id: int) -> Answer:
    """`answer` with its audit record, and its place in `conversation` when it has one."""
    if conversation is None:
        return replace(answer, record_id=record_id)
    return replace(answer, record_id=record_id, conversation_id=conversation.id,
                   turn=len(conversation.turns) + 1)


def read_conversation(path: Path) -> Conversation:
    """The conversation kept in `path`, a new one when there is no such file yet;
    ConversationError saying why a file that is there cannot be used.

    Checked before anything is asked: a question must not run, and be audited, in a
    conversation whose state would then be lost."""
    if not path.parent.is_dir():
        raise ConversationError(f"Cannot keep the conversation in {path}: the folder "
                                f"{path.parent} does not exist.")
    if not path.exists():
        return Conversation.new()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConversationError(f"Cannot read the conversation {path}: {why}.") from None
    try:
        return Conversation.from_json(text)
    except ConversationError as exc:
        raise ConversationError(f"Cannot use the conversation {path}: {exc} Fix or remove "
                                "the file; it was left as it is.") from None


def write_conversation(path: Path, conversation: Conversation) -> None:
    """Write `conversation` to `path` whole or not at all: a temporary file beside it, then
    an atomic rename, so an interrupted run never leaves half a state for the next."""
    temporary: Path | None = None
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                        dir=path.parent)
        temporary = Path(name)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(conversation.to_json() + "\n")
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(path)  # os.replace: atomic within one file system
    except BaseException as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink()
        if isinstance(exc, OSError):
            raise ConversationError(f"Cannot write the conversation {path}: "
                                    f"{exc.strerror or exc}.") from None
        raise
