"""The Ask page before its first question: what the copilot knows (the active profile's
entities), questions to try built from its glossary, each checked to read (planned by the
engine, not run) and asked with one click, and what to do when a word is not understood.

It also loads the browser's chart, grid and code components while the page is read (see
warm_up): without it the first answer of a session waited seconds behind grey placeholders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages import conversation_view as talk
from copilot.core.plaintext import markdown_text
from copilot.engine import Engine, plural
from training import Glossary, ProfileVersion, Term

__all__ = ["as_of_line", "example_questions", "render_intro", "warm_up"]

EXAMPLES = 6
_SHOWN_ENTITIES = 10
_WARM, _ARMED = "ask_warm", "ask_warm_armed"
_TRIES = 3  # dimensions tried for each term: planning is cheap, but not a glossary's square


def as_of_line(as_of: date) -> str:
    """The as-of date and what it does, in one line."""
    return (f"Answers are as of {as_of:%a %d %b %Y}: \u2018today\u2019 and \u2018last "
            "week\u2019 count from it.")


def _things(term: Term, glossary: Glossary) -> str:
    """A condition as the things it keeps: 'fails', 'live trades', 'disputed confirmations'
    ('disputeds' is no word: an adjective goes before its table's entity)."""
    many = plural(term.name)
    if many in term.synonyms or " " in term.name:
        return many
    entity = next((e for e in glossary.entities if e.table == term.table), None)
    return f"{term.name} {plural(entity.name)}" if entity else many


def _pools(glossary: Glossary) -> list[Iterator[tuple[str, str]]]:
    """Kinds of question, each a stream of (question, the term it shows off); a term's
    variants in turn until one reads ("how many X this month", else "how many X")."""
    dims = [t.name for t in glossary.terms if t.dimension]
    measures = [t for t in glossary.terms if t.measure and not t.dimension]
    filters = [t for t in glossary.terms if t.condition and not t.measure and not t.dimension]
    turn = iter(range(10**6))

    def by(subject: str, name: str, own: str = "\0") -> Iterator[tuple[str, str]]:
        start = next(turn)  # each question grouped by another dimension
        for step in range(min(_TRIES, len(dims))):
            dim = dims[(start + step) % len(dims)]
            if not dim.startswith(own):  # not "ports by port name"
                yield f"{subject} by {dim}", name

    return [
        (q for t in filters for q in by(_things(t, glossary), t.name)),
        (q for e in glossary.entities for q in (
            (f"how many {plural(e.name)} this month", e.name),
            (f"how many {plural(e.name)}", e.name))),
        (q for t in measures for q in by(t.name, t.name)),
        ((f"{_things(t, glossary)} this week", t.name) for t in reversed(filters)),
        (q for e in reversed(glossary.entities)
         for q in by(plural(e.name), f"{e.name} by", own=e.name)),
    ]


def example_questions(glossary: Glossary, reads: Callable[[str], bool],
                      count: int = EXAMPLES) -> tuple[str, ...]:
    """Up to `count` questions built from `glossary` that `reads` accepts: one of each kind
    in turn (a grouped condition, a count this month, a measure, a condition this week,
    things grouped), each showing off another term."""
    pools, picked, used = _pools(glossary), [], set()
    while pools and len(picked) < count:
        for pool in list(pools):
            found = next(((q, term) for q, term in pool if term not in used and reads(q)), None)
            if found is None:
                pools.remove(pool)
                continue
            picked.append(found[0])
            used.add(found[1])
            if len(picked) == count:
                break
    return tuple(picked)


@st.cache_data(max_entries=8, show_spinner=False)
def _examples(_version: ProfileVersion, version_key: str, as_of: date) -> tuple[str, ...]:
    # Once per profile version and date: an engine of its own reads them (its plan alone,
    # nothing runs on the warehouse), so the first page waits on no question being asked.
    assert _version.content is not None
    engine = Engine(_version.content)
    return example_questions(_version.content.glossary,
                             lambda q: engine.plan(q, as_of).status == "planned")


def render_intro(version: ProfileVersion, as_of: date) -> None:
    """What it knows and what to try, for a chat with no question yet."""
    assert version.content is not None
    glossary = version.content.glossary
    with st.container(border=True):
        knows, tries = st.columns([3, 2], gap="large")
        with knows:
            st.markdown("**What it knows**")
            lines = [f"- **{markdown_text(plural(e.name).capitalize())}**"
                     + (f": {markdown_text(e.description)}" if e.description else "")
                     for e in glossary.entities[:_SHOWN_ENTITIES]]
            st.markdown("\n".join(lines))
            more = len(glossary.entities) - _SHOWN_ENTITIES
            st.caption((f"And {more} more. " if more > 0 else "")
                       + f"{len(glossary.terms)} words of your operations (profile "
                       f"{markdown_text(version.profile)}, version {version.version}), and "
                       "dates: today, this week, last month, this quarter…")
        with tries:
            st.markdown("**Try asking**")
            for number, question in enumerate(_examples(version, version.key, as_of)):
                st.button(markdown_text(question), key=f"example_{number}",
                          icon=":material/arrow_forward:", type="tertiary",
                          on_click=talk.ask_later, args=(question,))
    dims = [t.name for t in glossary.terms if t.dimension]
    then = f"\u201cthen by {dims[1 if len(dims) > 1 else 0]}\u201d, " if dims else ""
    st.caption(markdown_text(
        f"Follow up in your own words: {then}\u201ccompare with last month\u201d. Click a bar "
        "or a row to list the rows behind it."))
    st.caption("A word it does not understand is named in the answer: pick a close word it "
               "offers, or add it as a synonym on the Training page (the answer's Teach "
               "button opens it with the word filled in).")


def warm_up() -> None:
    """Draw a chart and a grid out of sight, a moment after the first page is drawn.

    Streamlit fetches a component's code the first time one is drawn, and plotly.js alone
    is 4.7 MB to load and parse (seconds in a slow browser, the page frozen meanwhile): done
    while the first page is read, the first answer shows its chart at once instead of grey
    placeholders. Not in the page's first run: parsed then, it held back the question box
    by 2 s. A fragment ticking every 0.3 s waits one tick, then reruns the page with the
    components drawn (and stops ticking). Measured by benchmarks/bench_browser.py: a first
    question asked 1 s after the box shows is drawn in about 0.5 s (with a 1 s tick, 1.3 s);
    asked at once, it waits for plotly.js (about 1.9 s on the 2-core test machine)."""
    if st.session_state.get(_WARM):
        with st.container(key="ask_warm_up"):
            st.html("<style>.st-key-ask_warm_up{position:absolute;left:-10000px;"
                    "width:320px;height:1px;overflow:hidden}</style>")
            st.plotly_chart(go.Figure(go.Bar(x=[0], y=[0])), key="ask_warm_plot",
                            config={"staticPlot": True})
            st.dataframe(pd.DataFrame({"warm": [0]}), key="ask_warm_table")
        return
    st.fragment(_arm, run_every=0.3)()


def _arm() -> None:
    # Its first run is part of the page's; its next, a tick later, finds it armed.
    if st.session_state.get(_ARMED):
        st.session_state[_WARM] = True
        st.rerun(scope="app")
    st.session_state[_ARMED] = True
