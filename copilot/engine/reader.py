"""Question -> plan -> SQL tree, with no LLM and no I/O: the engine's reader.

The question is tokenised, matched against the trained lexicon, split into every complete
reading (copilot/engine/lattice.py), and each reading goes through the pipeline of stages
below. The cheapest reading that plans wins; when two readings plan different SQL at the
same cost, the answer is a clarifying question whose options are whole questions. A
question with a word nothing explains, or a construct that cannot attach, is refused
naming it: right, or it says it did not understand.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

import sqlglot
from sqlglot import exp

from copilot.core.errors import CopilotError
from copilot.engine.comparisons import COMPARISON_STAGES
from copilot.engine.compiler import compile_plan
from copilot.engine.conditions import CONDITION_STAGES
from copilot.engine.draft import Ambiguous, Draft, Refusal
from copilot.engine.finish import FINAL_STAGES, LINKS, SHARE_STAGES, to_plan
from copilot.engine.grammar import CUES, FILLER, MAX_QUESTION_CHARS, WRITE_START, WRITES
from copilot.engine.interpret import plural
from copilot.engine.joins import JoinGraph
from copilot.engine.lattice import Item, readings, uncovered
from copilot.engine.lexicon import Lexicon, Match
from copilot.engine.plan import QueryPlan
from copilot.engine.stages import EARLY_STAGES
from copilot.engine.subject import MIDDLE_STAGES
from copilot.engine.text import Token, lemma, tokenize
from training.profiles import ProfileContent

__all__ = ["PIPELINE", "ParseResult", "Reader"]

Stage = Callable[[Draft], None]
PIPELINE: tuple[Stage, ...] = (
    *EARLY_STAGES, *MIDDLE_STAGES[:3], *COMPARISON_STAGES, *SHARE_STAGES,
    MIDDLE_STAGES[3], *CONDITION_STAGES, *FINAL_STAGES,
)
# Words that open a yes/no question, answered with a count; "any" opens the short form
# ("any fails today?" is "are there any fails today?").
_YES_NO = frozenset({"does", "do", "did", "is", "are", "was", "were", "has", "have", "had",
                     "any"})
TIE = 0.01  # readings closer than this in cost are equally good: ask, don't pick
UNSURE_MARGIN = 3.0  # a different plan this close behind lowers the confidence
Status = Literal["planned", "refused", "clarify"]
RECENT = 128  # questions whose reading is kept


@dataclass(frozen=True)
class ParseResult:
    """A plan and its SQL, a refusal with its reason, or readings to choose from."""

    plan: QueryPlan | None
    reason: str = ""
    suggestions: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()
    confidence: float = 0.0
    final: bool = False  # a refusal no other reader may overturn (empty, too long, a write)
    status: Status = "refused"
    options: tuple[str, ...] = ()  # whole questions, one per reading, when asking
    tree: exp.Select | None = None
    items: tuple[Item, ...] = ()  # the chosen reading, which a follow-up may edit


@dataclass(frozen=True)
class _Planned:
    cost: float
    plan: QueryPlan
    sql: str
    tree: exp.Select
    draft: Draft


def _refuse(reason: str, *, final: bool = False, suggestions: tuple[str, ...] = (),
            unused: tuple[str, ...] = ()) -> ParseResult:
    return ParseResult(None, reason, suggestions, unused, 0.0, final)


class Reader:
    """Reads questions against one profile version's content."""

    def __init__(self, content: ProfileContent) -> None:
        self.content = content
        self.lexicon = Lexicon.from_content(content)
        self.graph = JoinGraph(content.schema, content.glossary)
        self._recent: dict[tuple[str, date], ParseResult] = {}
        self._words = sorted(self.lexicon.known_words() | {w for p in CUES for w in p.split()})

    def read(self, question: str, as_of: date, *, _depth: int = 0) -> ParseResult:
        """The question's plan and SQL tree, a refusal, or a clarification.

        Results are kept for the last RECENT questions: a follow-up reads its previous
        question again, and the whole question it stands for twice. The reader is pure, so
        a kept result is the same as a new one; callers never change a result's tree (the
        guard works on a copy)."""
        key = (question, as_of)
        if _depth == 0 and key in self._recent:
            return self._recent[key]
        result = self._read(question, as_of, _depth)
        if _depth == 0:
            if len(self._recent) >= RECENT:
                del self._recent[next(iter(self._recent))]
            self._recent[key] = result
        return result

    def forget(self) -> None:
        """Drop the kept readings: the next read of any question is a first reading."""
        self._recent.clear()

    def _read(self, question: str, as_of: date, _depth: int) -> ParseResult:
        if not question or not question.strip():
            return _refuse("The question is empty; ask about " + self._things() + ".",
                           final=True)
        if len(question) > MAX_QUESTION_CHARS:
            return _refuse(f"The question is longer than {MAX_QUESTION_CHARS} characters; "
                           "ask one thing at a time.", final=True)
        lowered = question.lower()
        order = self._is_order(lowered)
        if order or re.search(r"\b(delete|drop|truncate|insert|update)\b",
                              lowered) or ";" in question:
            return _refuse("The copilot only reads the warehouse; it cannot change, delete or "
                           "create data. Ask a question about the data instead.",
                           final=order or ";" in question)
        tokens = tokenize(question, as_of)
        if tokens and tokens[0].text == "whose":
            return _refuse("'Whose' asks who they belong to; name it: 'counterparties with "
                           "disputed confirmations'.")
        matches = self.lexicon.match(tokens)
        unknown = uncovered(tokens, matches)
        if unknown:
            # "cancel it" is an order; "vessels per flag" only uses a word it does not know.
            if any(WRITES.fullmatch(w.lower()) for w in unknown) and WRITE_START.search(lowered):
                return _refuse("The copilot only reads the warehouse; it cannot change data.",
                               final=True)
            return _refuse(
                f"I don't know what {', '.join(repr(u) for u in unknown)} means here, so I "
                "won't guess. Rephrase with words from the glossary, or train the copilot "
                "on them.", suggestions=self._suggest(unknown), unused=tuple(unknown))
        planned, refusals = self._plan_readings(question, tokens, matches, as_of)
        if not planned:
            reason = refusals[0] if refusals else "I could not read the question."
            return _refuse(reason)
        return self._choose(question, planned, as_of, _depth)

    def _is_order(self, lowered: str) -> bool:
        """Whether the question opens with a verb that changes data ("cancel trade X").
        A verb that is also a noun of the lexicon ("book with most fails") is an order only
        when an object follows it: an article, a number, an ID or 'all'."""
        match = WRITE_START.search(lowered)
        if match is None:
            return False
        verb = match.group(1)
        if (verb,) not in self.lexicon.phrases and (lemma(verb),) not in self.lexicon.phrases:
            return True
        rest = lowered[match.end():].split()
        return bool(rest) and bool(re.fullmatch(
            r"a|an|the|all|this|that|these|those|every|each|it|them|\w*\d\w*", rest[0]))

    # --- the readings -------------------------------------------------------------------
    def _plan_readings(self, question: str, tokens: tuple[Token, ...], matches: list[Match],
                       as_of: date) -> tuple[list[_Planned], list[str]]:
        date_spans = {(m.start, m.end): m.meaning.column or "" for m in matches
                      if m.meaning.kind == "date_word"}
        alternatives: dict[tuple[int, int], set[str]] = {}
        for m in matches:
            alternatives.setdefault((m.start, m.end), set()).add(m.meaning.kind)
        links = [i for i, t in enumerate(tokens) if t.text in LINKS]
        yes_no = bool(tokens) and tokens[0].text in _YES_NO
        possessives = {i for i, t in enumerate(tokens) if t.text == "'s"}
        possessions = [i for i, t in enumerate(tokens) if t.lemma == "have" and i > 0]
        planned: list[_Planned] = []
        refusals: list[str] = []
        compiled: dict[QueryPlan, tuple[exp.Select, str]] = {}
        queue = [(sum(i.cost for i in r), [i for i in r if i.kind != "filler"])
                 for r in readings(tokens, matches)]
        # Words the grammar reads as a construct ("highest", "total", "average"): a reading
        # that takes them as a column's name instead ("stadium.Highest") is not sure of
        # itself, whatever its cost, since the construct is what such words usually mean.
        cue_spans = {(i.start, i.end) for _, r in queue for i in r if i.kind == "cue"}
        while queue:
            lexical, items = queue.pop(0)
            if planned and lexical > planned[0].cost + UNSURE_MARGIN:
                break  # cheaper readings already planned; structure only adds cost
            draft = Draft(question, list(items), self.content,
                          self.lexicon, self.graph, as_of, date_spans, alternatives,
                          links=links, yes_no=yes_no, possessives=possessives,
                          possessions=possessions)
            try:
                for stage in PIPELINE:
                    stage(draft)
                plan = to_plan(draft)
                # The same plan from another reading compiles once (long lists of values
                # give many readings that agree).
                if plan not in compiled:
                    tree = compile_plan(plan, self.content.schema, self.graph, as_of)
                    compiled[plan] = (tree, tree.sql())
                tree, sql = compiled[plan]
            except Ambiguous as exc:
                # One reading per meaning the subject cannot choose between, tried next.
                for meaning in exc.meanings[:4]:
                    fixed = list(items)
                    fixed[exc.index] = replace(fixed[exc.index], meaning=meaning,
                                               alternatives=())
                    queue.insert(0, (lexical, fixed))
                continue
            except Refusal as exc:
                refusals.append(str(exc))
                continue
            except CopilotError as exc:
                refusals.append(str(exc))
                continue
            except (AttributeError, IndexError, KeyError, TypeError, ValueError,
                    sqlglot.errors.SqlglotError):
                # A reading the stages cannot shape is not an answer; the fuzz test in
                # tests/test_engine_fuzz.py keeps this path rare, and it never answers.
                refusals.append("I could not read the question that way.")
                continue
            if any(i.kind == "lex" and (i.start, i.end) in cue_spans
                   and i.meaning is not None and i.meaning.kind == "column"
                   for i in draft.items):
                draft.doubts.append("construct word read as a column")
            planned.append(_Planned(lexical + draft.cost, plan, sql, tree, draft))
            planned.sort(key=lambda p: p.cost)
        return planned, refusals

    def _choose(self, question: str, planned: list[_Planned], as_of: date,
                depth: int) -> ParseResult:
        best = planned[0]
        # A reading that differs only in how it names its columns is the same answer.
        rivals = [p for p in planned[1:] if p.sql != best.sql]
        if rivals:
            same = _unaliased(best.sql, best.tree)
            rivals = [p for p in rivals if _unaliased(p.sql, p.tree) != same]
        tied = [p for p in rivals if p.cost - best.cost < TIE
                or (p.cost - best.cost <= UNSURE_MARGIN and _contest(best, p))]
        if tied and depth == 0:
            options = self._options(question, [best, *tied], as_of)
            if len(options) >= 2:
                return ParseResult(None, "The question can be read more than one way; which "
                                   "did you mean?", status="clarify", options=options)
        confidence = _confidence(best, [p for p in rivals if p.cost - best.cost < UNSURE_MARGIN])
        return ParseResult(best.plan, confidence=confidence, status="planned", tree=best.tree,
                           items=tuple(best.draft.items))

    def _options(self, question: str, planned: list[_Planned], as_of: date) -> tuple[str, ...]:
        """Each reading as a whole question that reads only that way."""
        options: list[str] = []
        for candidate in planned[:4]:
            others = [p for p in planned if p is not candidate]
            rewritten = _rewrite(question, candidate, others, self.lexicon)
            if rewritten and rewritten not in options:
                check = self.read(rewritten, as_of, _depth=1)
                if check.status == "planned" and check.tree is not None and \
                        _unaliased(check.tree.sql(), check.tree) == \
                        _unaliased(candidate.sql, candidate.tree):
                    options.append(rewritten)
        return tuple(options)

    # --- messages -----------------------------------------------------------------------
    def _things(self) -> str:
        names = [e.name for e in self.content.glossary.entities] or [
            e.name for e in self.lexicon.entities.values()]
        plural = [f"{n}s" for n in names[:6]]
        return ", ".join(plural[:-1]) + f" or {plural[-1]}" if len(plural) > 1 else "".join(
            plural)

    def _suggest(self, unknown: list[str]) -> tuple[str, ...]:
        found: list[str] = []
        for word in unknown:
            if word.lower() in FILLER:
                continue
            found.extend(difflib.get_close_matches(word.lower(), self._words, n=3, cutoff=0.8))
        return tuple(dict.fromkeys(found))[:5]


def _unaliased(sql: str, tree: exp.Select) -> str:
    """The query's SQL with its output columns renamed by position: a reading or a rewritten
    option may name a column in other words ("total netting set settlement count") and still
    be the same query. Text, not a tree copy: this runs for every rival of every question."""
    text = sql
    for number, column in enumerate(tree.expressions):
        if isinstance(column, exp.Alias):
            text = re.sub(rf"(?<![.\w\"]){re.escape(column.alias)}\b", f"c{number}", text)
    return text


def _contest(one: _Planned, other: _Planned) -> bool:
    """True when one reading takes a contested column ("settlement count") that the other
    reads apart: neither is the likelier, so the person is asked."""
    def spans(p: _Planned) -> set[tuple[int, int]]:
        return {(i.start, i.end) for i in p.draft.items if i.contested}

    def kept(p: _Planned) -> set[tuple[int, int]]:
        return {(i.start, i.end) for i in p.draft.items}

    return bool(spans(one) - kept(other) or spans(other) - kept(one))


def _rewrite(question: str, chosen: _Planned, others: list[_Planned],
             lexicon: Lexicon) -> str | None:
    """The question with the words the readings disagree on written unambiguously."""
    mine = {(i.start, i.end): i for i in chosen.draft.items}
    theirs = [{(i.start, i.end): i for i in p.draft.items} for p in others]
    tokens = tokenize(question)
    words = [t.original or t.text for t in tokens]
    for start, end in sorted({s for t in theirs for s, i in t.items() if i.contested} - set(mine)):
        counted = mine.get((start, end - 1))
        if counted is not None and counted.meaning is not None and end <= len(words):
            # This reading splits a contested column ("settlement count") into an entity and
            # a count: "number of settlements" says only that.
            return " ".join([*words[:start], f"number of {plural(counted.words)}", *words[end:]])
    for span, item in sorted(mine.items()):
        if item.meaning is None or all(t.get(span) and t[span].meaning == item.meaning
                                       for t in theirs):
            continue
        phrase = _canonical(item, lexicon)
        if span[1] > len(words):
            return None
        return " ".join([*words[:span[0]], phrase, *words[span[1]:]])
    return None


def _canonical(item: Item, lexicon: Lexicon) -> str:
    meaning = item.meaning
    assert meaning is not None
    if meaning.kind == "term" and meaning.term is not None:
        return meaning.term.name
    if meaning.kind == "entity":
        return meaning.label
    entity = lexicon.entities[meaning.table].name
    column = (meaning.column or "").split(".")[-1].replace("_", " ")
    if meaning.kind in ("value", "id"):
        return f"{entity} {column} {' or '.join(meaning.values)}"
    return f"{entity} {column}"


def _confidence(best: _Planned, rivals: list[_Planned]) -> float:
    """Calibrated on the evaluation sets (`python -m copilot eval` prints the table)."""
    score = 0.95
    items = best.draft.items
    score -= 0.04 * sum(1 for i in items if i.kind == "lex" and not i.exact)
    score -= 0.12 * best.draft.doubts.count("default measure")
    score -= 0.3 * best.draft.doubts.count("construct word read as a column")
    score -= 0.02 * sum(1 for i in items if i.meaning is not None and i.meaning.kind == "column")
    close = [p for p in rivals if p.cost - best.cost < 1.0]
    score -= 0.2 if close else 0.05 if rivals else 0.0
    return round(max(0.3, min(score, 0.99)), 2)
