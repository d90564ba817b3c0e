"""The plan draft one reading is built into, stage by stage, and the refusal a stage raises.

A draft holds the reading's items (fillers left out) and which of them a stage has used;
every item must end up used, or the reading is refused naming its words.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from copilot.core.errors import CopilotError
from copilot.core.periods import Period
from copilot.engine.grammar import Cue
from copilot.engine.joins import JoinGraph
from copilot.engine.lattice import Item
from copilot.engine.lexicon import Lexicon, Meaning
from copilot.engine.plan import Dimension, Filter, Having, Measure, Order, Versus
from training.glossary import Entity, Term
from training.profiles import ProfileContent

__all__ = ["Ambiguous", "Comparison", "Draft", "Refusal", "ValueGroup"]


class Refusal(CopilotError):
    """This reading of the question cannot be planned; the message says why."""


class Ambiguous(Refusal):
    """Item `index` may be any of `meanings`, equally near the subject: one reading each."""

    def __init__(self, index: int, meanings: tuple[Meaning, ...]) -> None:
        super().__init__("The question can be read more than one way.")
        self.index = index
        self.meanings = meanings


@dataclass
class Comparison:
    """A number compared with something: `op` and the number(s), at item `index`."""

    index: int
    op: str
    number: float
    upper: float | None = None
    unit: str | None = None
    words: str = ""
    end: int | None = None  # the last item it spans, when not `index`


@dataclass
class ValueGroup:
    """Values of one column joined by and/or/commas (IN), or "X vs Y" (a breakdown)."""

    indices: list[int]
    column: str
    values: list[str]
    versus: bool = False
    columns: list[str] = field(default_factory=list)  # every column all the values may be of


@dataclass
class Draft:
    """One reading being planned."""

    question: str
    items: list[Item]
    content: ProfileContent
    lexicon: Lexicon
    graph: JoinGraph
    as_of: date
    date_spans: dict[tuple[int, int], str] = field(default_factory=dict)
    alternatives: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    links: list[int] = field(default_factory=list)  # token positions of "are", "that"...
    subject_named: bool = False  # the question names the entity it lists
    possessives: set[int] = field(default_factory=set)  # token positions of "'s"
    possessions: list[int] = field(default_factory=list)  # token positions of have/has/had
    yes_no: bool = False  # "does Goldman have any fails?": answered with a count
    used: set[int] = field(default_factory=set)
    negated: set[int] = field(default_factory=set)
    negation_applied: set[int] = field(default_factory=set)
    limit: int | None = None
    superlative: tuple[int, bool] | None = None  # (item index of the cue, descending)
    comparisons: list[Comparison] = field(default_factory=list)
    groups: list[ValueGroup] = field(default_factory=list)
    or_groups: list[list[int]] = field(default_factory=list)
    group_items: list[int] = field(default_factory=list)  # items to group by, in order
    buckets: list[tuple[int, str]] = field(default_factory=list)  # (item, day/week/month/auto)
    rank_by: int | None = None  # the measure item after "by" that ranks the groups
    rank_by_count: bool = False
    rank_count_at: int = -1  # where "by number of ..." starts
    order_items: list[int] = field(default_factory=list)  # sort keys and order cues
    subject: str | None = None
    dims: list[Dimension] = field(default_factory=list)
    measure: Measure | None = None
    measure_item: int | None = None
    filters: list[Filter] = field(default_factory=list)
    exists: dict[str, tuple[list[Filter], bool]] = field(default_factory=dict)
    having: list[Having] = field(default_factory=list)
    order: list[Order] = field(default_factory=list)
    list_columns: list[str] = field(default_factory=list)
    period: Period | None = None
    period_column: str | None = None
    versus: Versus | None = None
    constructs: list[str] = field(default_factory=list)
    cost: float = 0.0
    doubts: list[str] = field(default_factory=list)  # what lowers confidence

    # --- looking at items ---------------------------------------------------------------
    def cue(self, index: int, *kinds: str) -> Cue | None:
        """The cue at `index` when it is one of `kinds` (any kind when none given)."""
        if 0 <= index < len(self.items):
            cue = self.items[index].cue
            if cue is not None and (not kinds or cue.kind in kinds):
                return cue
        return None

    def meaning(self, index: int) -> Meaning | None:
        if 0 <= index < len(self.items) and self.items[index].kind == "lex":
            return self.items[index].meaning
        return None

    def term(self, index: int, *kinds: str) -> Term | None:
        meaning = self.meaning(index)
        if meaning is not None and meaning.kind == "term" and meaning.term is not None and (
                not kinds or meaning.term.kind in kinds):
            return meaning.term
        return None

    def candidates(self, index: int) -> tuple[Meaning, ...]:
        """Every meaning item `index` may have (its value alternatives included)."""
        item = self.items[index]
        return (item.meaning, *item.alternatives) if item.meaning is not None else ()

    def choose(self, index: int, meaning: Meaning) -> None:
        """Fix the meaning of item `index`."""
        self.items[index] = replace(self.items[index], meaning=meaning, alternatives=())

    def free(self, *kinds: str) -> list[int]:
        """Unused lexicon items whose meaning is one of `kinds`."""
        return [i for i, item in enumerate(self.items)
                if i not in self.used and item.kind == "lex" and item.meaning is not None
                and item.meaning.kind in kinds]

    def use(self, *indices: int) -> None:
        self.used.update(indices)

    def entity(self, table: str) -> Entity:
        return self.lexicon.entities[table]

    def note(self, construct: str) -> None:
        if construct not in self.constructs:
            self.constructs.append(construct)

    def period_items(self) -> list[int]:
        return [i for i, item in enumerate(self.items) if item.kind == "period"]

    def words(self, index: int) -> str:
        return self.items[index].words
