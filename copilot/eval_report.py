"""The summary `python -m copilot eval` prints: accuracy, wrong answers, a table of answers
bucketed by confidence with the accuracy of each bucket, and a breakdown by construct.

A question's constructs are the `construct` tags of the question file where it has them
(what the question is meant to exercise), else the constructs the engine's plan applied.
Follow-ups (questions asked in another question's conversation) get a line of their own: a
follow-up misread is a different failure from a question misread.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

__all__ = ["EvalTally"]

BUCKETS = ((0.9, 1.01), (0.8, 0.9), (0.7, 0.8), (0.5, 0.7), (0.0, 0.5))


@dataclass
class EvalTally:
    """Counts gathered question by question."""

    outcomes: list[tuple[str, float, bool | None, tuple[str, ...]]] = field(default_factory=list)
    follow_ups: list[tuple[str, bool | None]] = field(default_factory=list)  # status, correct

    def add(self, status: str, confidence: float, correct: bool | None,
            constructs: tuple[str, ...], *, follow_up: bool = False) -> None:
        self.outcomes.append((status, confidence, correct, constructs))
        if follow_up:
            self.follow_ups.append((status, correct))

    def lines(self) -> list[str]:
        """The summary, one printed line each."""
        answered = [o for o in self.outcomes if o[0] == "answered" and o[2] is not None]
        wrong = sum(1 for o in answered if not o[2])
        by_status: dict[str, int] = defaultdict(int)
        for status, *_ in self.outcomes:
            by_status[status] += 1
        out = [f"answers: {by_status['answered']} answered ({wrong} wrong), "
               f"{by_status['refused']} refused, {by_status['clarify']} asked to clarify, "
               f"{by_status['error']} errors, of {len(self.outcomes)}",
               "confidence   answered  right  accuracy"]
        for low, high in BUCKETS:
            inside = [o for o in answered if low <= o[1] < high]
            if inside:
                hits = sum(1 for o in inside if o[2])
                out.append(f"{low:.2f}-{min(high, 1.0):.2f}  {len(inside):>8}  {hits:>5}  "
                           f"{100.0 * hits / len(inside):>7.1f}%")
        out.append("construct        questions  right  wrong  not answered")
        table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for status, _, correct, constructs in self.outcomes:
            if correct is None:
                continue
            for construct in constructs or ("(none)",):
                row = table[construct]
                row[0] += 1
                if correct:
                    row[1] += 1
                elif status == "answered":
                    row[2] += 1
                else:
                    row[3] += 1
        for construct, (n, hits, bad, missing) in sorted(table.items()):
            out.append(f"{construct:<16} {n:>9}  {hits:>5}  {bad:>5}  {missing:>12}")
        if self.follow_ups:
            out.append(self._follow_up_line())
        return out

    def _follow_up_line(self) -> str:
        scored = [(s, c) for s, c in self.follow_ups if c is not None]
        right = sum(1 for _, c in scored if c)
        # Wrong as in the answers line: answered, and not the gold; a refusal where gold
        # SQL was expected is counted as refused, not wrong.
        wrong = sum(1 for s, c in scored if not c and s == "answered")
        refused = sum(1 for s, _ in self.follow_ups if s == "refused")
        clarified = sum(1 for s, _ in self.follow_ups if s == "clarify")
        return (f"follow-ups: {right} right of {len(scored)} scored, {wrong} wrong, "
                f"{refused} refused, {clarified} clarified")
