"""Walking the chain against its signed checkpoints: the verdict of `audit verify`.

The rows are walked once, in id order, beside the checkpoint lines: each record's link and
hash must hold (plain SHA-256 before the keyed records, HMAC after), and at every checkpoint
the chain's head must be the one signed. The newest checkpoint's signature is checked first;
the lines before it are bound to it by their `prev` links. A chain shorter than the newest
checkpoint lost its last records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from copilot.core.audit.checkpoint import Checkpoint, line_digest
from copilot.core.audit.keys import AuditKeys
from copilot.core.audit.record import GENESIS, chain_hash, keyed_hash
from copilot.core.audit.schema import record_from_row

__all__ = ["VerifyResult", "walk"]


@dataclass(frozen=True)
class VerifyResult:
    """The chain's verdict: how many records were read, the first broken one (when a record
    is to blame) and why, and what the newest signed checkpoint vouches for."""

    ok: bool
    records: int
    broken_id: int | None = None
    reason: str = ""
    checkpoint: int | None = None  # records the newest signed checkpoint vouches for
    keyed_from: int | None = None  # first record with a keyed hash; None: all plain SHA-256
    keyed_checked: bool = True  # False when only the public key was at hand

    def summary(self) -> str:
        """The verdict as one line, for the command line and the Audit page."""
        if not self.ok:
            where = f"record {self.broken_id}: " if self.broken_id is not None else ""
            return f"broken: {where}{self.reason}"
        if self.records == 0 and self.checkpoint is None:
            return "ok: 0 records, nothing has been recorded yet"
        text = f"ok: {self.records} records, the chain holds"
        if self.checkpoint is not None:
            text += f" up to the signed checkpoint at record {self.checkpoint}"
            if self.records > self.checkpoint:
                text += f" (records {self.checkpoint + 1} to {self.records} came after it)"
        else:
            text += " (no checkpoint yet)"
        if self.keyed_from is None:
            text += "; plain SHA-256 hashes, written before keyed hashes"
        elif self.keyed_from > 1:
            text += (f"; records 1 to {self.keyed_from - 1} have plain SHA-256 hashes, "
                     "written before keyed hashes")
        if not self.keyed_checked:
            text += "; keyed hashes not checked (no chain key), checkpoints checked"
        return text


class _Broken(Exception):
    def __init__(self, reason: str, broken_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.broken_id = reason, broken_id


class _Trail:
    """The checkpoint lines in order, up to the newest one, each checked against the one
    before it: same log, a count that grows, and the previous line's digest."""

    def __init__(self, lines: Iterable[str], latest: Checkpoint | None, where: str) -> None:
        self._lines: Iterator[tuple[int, str]] = enumerate(lines, start=1)
        self._latest, self._where = latest, where
        self._prev, self._records, self._done = "", 0, latest is None
        self.number = 0

    def next(self) -> Checkpoint | None:
        if self._done:
            return None
        found = next(self._lines, None)
        if found is None:
            self._done = True  # the file was shorter when read again: nothing more to check
            return None
        self.number, line = found
        assert self._latest is not None
        at = f"checkpoint line {self.number} of {self._where}"
        try:
            checkpoint = Checkpoint.parse(line)
        except ValueError as exc:
            raise _Broken(f"{at} is damaged: {exc}") from None
        if checkpoint.log != self._latest.log:
            raise _Broken(f"{at} is of log {checkpoint.log}, not of this log "
                          f"({self._latest.log}): the checkpoint files were mixed or replaced")
        if checkpoint.prev != self._prev:
            raise _Broken(f"{at} does not follow the line before it: a checkpoint before it "
                          "was changed or removed")
        if checkpoint.records <= self._records or (
                checkpoint.keyed_from != self._latest.keyed_from):
            raise _Broken(f"{at} does not fit the lines before it (its record count or scheme "
                          "marker was changed)")
        # parse() showed the line is the checkpoint's canonical form: hash it as it is.
        self._prev, self._records = line_digest(line), checkpoint.records
        self._done = checkpoint == self._latest  # later lines came after verify began
        return checkpoint

    def finish(self) -> None:
        while self.next() is not None:
            pass


def walk(rows: Iterable[Mapping[str, object]], *, keys: AuditKeys | None,
         keyed_from: int | None, latest: Checkpoint | None, lines: Iterable[str],
         where: str) -> VerifyResult:
    """Check every row against the one before it and against the checkpoint lines.

    `latest` is the newest checkpoint, its signature already checked; `lines` are the
    checkpoint lines (read after `latest`, so any past it came later and are not checked);
    `keyed_from` is the first record whose hash is keyed (None: all plain)."""
    chain_key = keys.chain_key if keys else None
    checkpoint = latest.records if latest else None
    verdict = {"checkpoint": checkpoint, "keyed_from": keyed_from,
               "keyed_checked": chain_key is not None or keyed_from is None}
    trail = _Trail(lines, latest, where)
    previous, count, matched = GENESIS, 0, 0
    try:
        pending = trail.next()
        for row in rows:
            count += 1
            row_id = int(row["id"])  # type: ignore[call-overload]
            if row_id != count:
                raise _Broken(f"{_span(count, row_id - 1, 'is', 'are')} missing", row_id)
            if row["prev_hash"] != previous:
                raise _Broken("its link to the previous record does not match", row_id)
            record = record_from_row(row)
            if keyed_from is not None and row_id >= keyed_from:
                if chain_key is not None and keyed_hash(chain_key, previous,
                                                        record) != row["record_hash"]:
                    raise _Broken("its content was changed (its keyed hash does not hold)",
                                  row_id)
            elif chain_hash(previous, record) != row["record_hash"]:
                raise _Broken("its content was changed", row_id)
            previous = str(row["record_hash"])
            while pending is not None and pending.records <= count:
                if pending.head != previous:
                    _mismatch(pending, keys, trail.number, where, matched)
                matched = pending.records
                pending = trail.next()
        trail.finish()
    except _Broken as broken:
        return VerifyResult(False, count, broken.broken_id, broken.reason, **verdict)
    if latest is not None and count < latest.records:
        removed = f"all {latest.records} were" if count == 0 else _span(
            count + 1, latest.records, "was", "were")
        held = "the audit table is empty" if count == 0 else f"the chain holds {count} records"
        return VerifyResult(False, count, None,
                            f"{held} but the newest signed checkpoint ({latest.ts}, in "
                            f"{where}) shows {latest.records}: {removed} removed", **verdict)
    if latest is None and keyed_from is not None and count >= keyed_from:
        return VerifyResult(False, count, None,
                            f"records {keyed_from} to {count} have keyed hashes but no "
                            f"checkpoint vouches for them: the checkpoints in {where} are "
                            "missing", **verdict)
    return VerifyResult(True, count, **verdict)


def _mismatch(checkpoint: Checkpoint, keys: AuditKeys | None, number: int, where: str,
              matched: int) -> None:
    """The chain's head differs from a checkpoint: either the checkpoint line is forged (its
    signature fails) or a record after the last matching checkpoint was rewritten."""
    at = f"checkpoint line {number} of {where}"
    if keys is None or not checkpoint.signature_holds(keys):
        raise _Broken(f"{at} does not hold: its signature is not valid")
    if matched + 1 == checkpoint.records:
        raise _Broken(f"it differs from the signed {at}: it was rewritten and the hashes "
                      "after it recomputed", checkpoint.records)
    raise _Broken(f"the chain from here to record {checkpoint.records} differs from the signed "
                  f"{at}: a record in it was rewritten", matched + 1)


def _span(first: int, last: int, one: str, many: str) -> str:
    """'record 7 was' or 'records 7 to 9 were'."""
    return f"record {first} {one}" if first == last else f"records {first} to {last} {many}"
