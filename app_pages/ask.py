"""Ask page: a conversation with the warehouse. Before the first question it says what can be
asked (app_pages/ask_intro.py). Each answer shows what was understood (for a follow-up, the
whole question it stood for), the result (app_pages/answer_view.py), one row of actions and
the follow-ups (app_pages/answer_actions.py); a refusal names the words it did not know and
offers the question with a close word instead, or to teach the word. Every question, edit
and feedback is audited by the services before it shows.

Only the newest answer is drawn whole: an older one shows what it understood, its result
drawn when its expander is opened (st.expander with on_change="rerun" runs its content only
when open), so the tenth answer costs what the first did."""

from __future__ import annotations

import difflib
import re
from datetime import date

import streamlit as st

from app_pages import answer_actions, answer_view, ask_intro
from app_pages import conversation_view as talk
from app_pages import training as training_page
from app_pages.charts import table_frame
from app_pages.state import current_user, dashboards, services
from copilot.core.errors import CopilotError
from copilot.core.plaintext import markdown_text
from copilot.engine import plural
from copilot.values import Answer
from copilot.wiring import Services

TRAINING = st.Page(training_page.render, title="Training", url_path="training")


def _spot(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?i)(?<!\w){re.escape(word)}(?!\w)")


def _closeness(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def _replaced(question: str, unknown: tuple[str, ...], word: str) -> str | None:
    """`question` with the unknown word `word` is closest to replaced by it ("settlment
    fails by ccy" -> "settlement fails by ccy"); None when no unknown word is in it."""
    present = [w for w in unknown if _spot(w).search(question)]
    if not present:
        return None
    closest = max(present, key=lambda w: _closeness(w, word))
    return _spot(closest).sub(lambda _: word, question, count=1)


def _offers(answer: Answer) -> list[str]:
    """Whole questions to ask instead: a refusal's close words each put in place of the
    unknown word they are close to (first, with two unknown words or more, each replaced by
    its closest), or a clarification's readings as they are."""
    if answer.status != "refused" or not answer.unused_words:
        return list(answer.suggestions)
    question, suggestions = answer.question, answer.suggestions
    fixed = [_replaced(question, answer.unused_words, s) for s in suggestions]
    nearest = {s: max(answer.unused_words, key=lambda w, s=s: _closeness(w, s))
               for s in suggestions}  # each close word, to the unknown word it is close to
    every = question
    for word in answer.unused_words:
        mine = [s for s in suggestions if nearest[s] == word]
        if mine:
            best = max(mine, key=lambda s, w=word: _closeness(w, s))
            every = _spot(word).sub(lambda _, b=best: b, every, count=1)
    if len(answer.unused_words) > 1 and every != question:
        fixed.insert(0, every)
    return list(dict.fromkeys(q for q in fixed if q))


def _not_answered(answer: Answer, key: str) -> None:
    show = {"refused": st.warning, "clarify": st.info}.get(answer.status, st.error)
    # Everything an answer says may carry the question, data or the LLM's words (its
    # error and CANNOT ANSWER texts too): Markdown-escaped, so a link or an image beacon
    # in them stays text.
    show(markdown_text(answer.interpretation))
    for note in answer.notes:
        st.caption(markdown_text(note))
    if answer.entitlements:
        st.caption(markdown_text("Rows limited to your entitlements: "
                                 + "; ".join(answer.entitlements)))
    unknown = answer.unused_words if answer.status == "refused" else ()
    if answer.status == "clarify":
        st.caption("Pick the question you meant; it is asked as a whole.")
    elif unknown:
        words = ", ".join(f"\u2018{w}\u2019" for w in unknown)
        st.caption(markdown_text(
            f"Not understood: {words}. Ask again with a close word below, or add it as a "
            "synonym on the Training page (Teach opens it with the word filled in)."),
            help="A synonym is taught once and read in every question from then on.")
    offers = _offers(answer)
    if not offers and not unknown:
        return
    with st.container(horizontal=True, gap="small"):
        for number, offer in enumerate(offers):
            # "afresh: HSBC" is how the engine is told a question starts anew; say it so.
            label = re.sub(r"^afresh:\s*", "New question: ", offer)
            st.button(markdown_text(label), key=f"suggest_{key}_{number}",
                      on_click=talk.ask_later, args=(offer,))
        # A word it does not know: taught on the Training page, the word prefilled there.
        for number, word in enumerate(unknown):
            if st.button(markdown_text(f"Teach '{word}'"), key=f"teach_{key}_{number}",
                         icon=":material/school:"):
                st.session_state["teach_word"] = word
                st.switch_page(TRAINING)


def _summary(answer: Answer) -> None:
    """What was understood, and how: the lines every answer shows, old or new."""
    source = {"pair": "verified pair", "user": "your SQL",
              "llm": "written by the LLM"}.get(answer.source, "engine")
    if answer.source == "llm":
        st.badge("LLM-written, not verified", icon=":material/smart_toy:", color="orange")
    st.markdown(markdown_text(answer.interpretation))
    for note in answer.notes:
        st.caption(markdown_text(note))
    if answer.entitlements:
        st.caption(markdown_text("Rows limited to your entitlements: "
                                 + "; ".join(answer.entitlements)))
    rows = len(answer.rows)
    st.caption(f"{source} · confidence {answer.confidence:.0%} · {rows:,} "
               + ("row" if rows == 1 else "rows")
               + (" · cut at the row cap" if answer.truncated else "")
               + f" · {answer.total_ms:.0f} ms")


def _show(svc: Services, answer: Answer, index: int, as_of: date, latest: bool) -> None:
    key = str(index)
    if answer.status != "answered":
        _not_answered(answer, key)  # light: drawn whole, old or new, its buttons live
        return
    _summary(answer)
    if latest:
        _result(svc, answer, key, as_of)
        return
    past = st.expander("Result, SQL and downloads", key=f"past_{key}", on_change="rerun",
                       icon=":material/table_chart:")
    if past.open:
        with past:
            _result(svc, answer, key, as_of)


def _result(svc: Services, answer: Answer, key: str, as_of: date) -> None:
    frame = table_frame(answer.columns, answer.rows)
    answer_view.result(answer, frame, key)
    answer_actions.actions(svc, answer, frame, answer_view.labels_of(answer), key, as_of)


def _ask(svc: Services, question: str, as_of: date, index: int) -> None:
    """Ask `question` and draw it as the newest turn, in this run: no second run for it.
    Each message holds one container, as the turns drawn from the history do: the next run
    finds the chart and the table where they were, and keeps them instead of drawing anew."""
    with st.chat_message("user"):
        asked = st.empty()
        asked.markdown(markdown_text(question))
    with st.chat_message("assistant"):
        body = st.empty()
        try:
            with body, st.spinner("Answering…"):
                answer = svc.answering.ask(question, as_of=as_of,
                                           user=current_user(svc.settings),
                                           conversation=talk.conversation())
        except CopilotError as exc:  # the audit could not be written: show nothing else
            body.error(markdown_text(str(exc)))
            return
        talk.remember(answer)
        st.session_state[talk.HISTORY].append(answer)
        with asked.container():
            talk.show_question(answer)
        with body.container():
            _show(svc, answer, index, as_of, latest=True)


def render() -> None:
    """Draw the Ask page."""
    st.title("Ask")
    try:
        svc = services()
        version = svc.trainer.require_trained()
        dashboards()  # the demo's dashboard is seeded on the first page load, not mid-answer
    except CopilotError as exc:
        st.warning(markdown_text(str(exc)))
        return
    left, middle, right = st.columns([1.3, 4, 1.4], vertical_alignment="bottom")
    as_of: date = left.date_input("As of", value=svc.settings.warehouse.effective_as_of(),
                                  key="ask_as_of")
    middle.caption(ask_intro.as_of_line(as_of))
    if right.button("New conversation", key="ask_new", icon=":material/add_comment:",
                    help="Clear the chat; the next question is read on its own."):
        talk.start_over()
        st.rerun()
    history: list[Answer] = st.session_state.setdefault(talk.HISTORY, [])
    things = [plural(e.name) for e in version.content.glossary.entities[:4]] if (
        version.content) else []
    prompt = f"Ask about {', '.join(things)}..." if things else "Ask a question..."
    # Typed, or a follow-up, an example, a close word or a drill-down clicked.
    question = st.chat_input(prompt, key="ask_input") or st.session_state.pop(
        talk.PENDING, None)
    if not history and not question:
        ask_intro.render_intro(version, as_of)
        ask_intro.warm_up()
    for index, answer in enumerate(history):
        with st.chat_message("user"), st.container():
            talk.show_question(answer)
        with st.chat_message("assistant"), st.container():
            _show(svc, answer, index, as_of, latest=index == len(history) - 1 and not question)
    if question:
        _ask(svc, question, as_of, len(history))
