"""The Training page's flow for a new warehouse: test the connection, draft a glossary from the
schema, edit its names and synonyms, train it, download it; mark a drafted version reviewed;
teach a word a question used. Every action is a service call (audited there); each one that
trains makes a new profile version, and what changed is shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import streamlit as st

from copilot.approvals import PendingChange
from copilot.core.connections import redact_url
from copilot.core.errors import CopilotError
from copilot.core.filenames import download_name
from copilot.core.plaintext import markdown_text
from copilot.wiring import Services
from training import Glossary, GlossaryDraft, ProfileVersion
from training.corpus import ProfileDiff
from training.editing import (
    TrainingChange,
    edit_entities,
    edit_terms,
    files_zip,
    glossary_files,
    glossary_from_files,
    split_words,
    targets,
    without_sources,
)

DRAFT = "training_draft"  # (GlossaryDraft, its Glossary) in st.session_state
CONNECTION = "training_connection"  # the last connection test: (ok, what it said)
ENTITIES, TERMS = "draft_entities", "draft_terms"  # the data editors' keys
TEACH_WORD = "teach_word"  # set by the Ask page's "Teach" button
NOTICE, CHANGE = "training_notice", "training_change"


def show_diff(diff: ProfileDiff) -> None:
    """What a version gained (+), lost (−) and changed (~), by kind."""
    if diff.unchanged:
        st.write("No difference.")
    for kind, change in diff.kinds.items():
        for sign, names in (("+", change.added), ("−", change.removed), ("~", change.changed)):
            if names:
                st.write(f"**{kind}** {sign} {markdown_text(', '.join(names))}")


def show_change() -> None:
    """The last training action's diff, once, under its notice."""
    change: TrainingChange | None = st.session_state.pop(CHANGE, None)
    if change is None or change.diff is None:
        return
    diff = change.diff
    with st.container(border=True):
        if diff.unchanged:  # marked reviewed: the same words, a new version
            st.markdown(f"Version {diff.new} answers as version {diff.old} did: "
                        f"{markdown_text(change.version.note)}.")
            return
        st.markdown(f"**What changed** from version {diff.old} to {diff.new}:")
        show_diff(diff)


def _apply(action: Callable[[], TrainingChange | PendingChange], success: str) -> None:
    try:
        change = action()
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    if isinstance(change, PendingChange):  # four eyes: nothing trained until approved
        st.session_state[NOTICE] = (f"Sent for approval (change #{change.id}): nothing is "
                                    "trained until another trainer approves it.")
        st.rerun()
    number = change.version.version
    st.session_state[NOTICE] = (success.replace("{version}", str(number)) if change.changed else
                                f"Nothing changed: version {number} stays active.")
    st.session_state[CHANGE] = change
    st.rerun()


def review_section(svc: Services, active: ProfileVersion, user: str) -> None:
    """The drafted label with its "Mark reviewed" button, and the version's warnings."""
    if active.drafted:
        label, button = st.columns([5, 1], vertical_alignment="center")
        label.warning(f"**Drafted, not reviewed.** Version {active.version} was trained from a "
                      "glossary drafted from the schema; check its names and synonyms, then "
                      "mark it reviewed.", icon=":material/rate_review:")
        if button.button("Mark reviewed", key="mark_reviewed"):
            _apply(lambda: svc.training.mark_reviewed(by=user),
                   "Marked reviewed: version {version} is active.")
    if active.warnings:
        with st.expander(f"Training warnings ({len(active.warnings)})"):
            for warning in active.warnings:
                st.markdown("- " + markdown_text(warning))


def connect_section(svc: Services, user: str) -> None:
    """Test the configured warehouse, draft its glossary, edit, train and download it."""
    st.subheader("Connect a new warehouse")
    st.markdown("Warehouse: " + markdown_text(redact_url(svc.settings.warehouse.url)))
    buttons = st.container(horizontal=True)  # side by side, each as wide as its label
    if buttons.button("Test connection", key="test_connection", icon=":material/cable:"):
        try:
            tables, ms = svc.training.test_connection(by=user)
        except CopilotError as exc:
            st.session_state[CONNECTION] = (False, str(exc))
        else:
            st.session_state[CONNECTION] = (True, f"Connected: {tables} tables, {ms:,.0f} ms.")
    if buttons.button("Draft a glossary from the schema", key="draft_glossary",
                    icon=":material/edit_note:"):
        try:
            made = svc.training.draft_glossary(by=user)
            st.session_state[DRAFT] = (made, glossary_from_files(made.files))
        except CopilotError as exc:
            st.error(markdown_text(str(exc)))
        for key in (ENTITIES, TERMS):  # a new draft starts with no edits
            st.session_state.pop(key, None)
    if CONNECTION in st.session_state:
        ok, said = st.session_state[CONNECTION]
        (st.success if ok else st.error)(markdown_text(said))
    if DRAFT in st.session_state:
        _draft(svc, user, *st.session_state[DRAFT])


def _draft(svc: Services, user: str, draft: GlossaryDraft, glossary: Glossary) -> None:
    st.markdown(
        f"**Draft:** {draft.tables} tables, {draft.entities} entities, {draft.terms} terms, "
        f"{draft.period_columns} period columns, {draft.join_paths} join paths, "
        f"{draft.rules} rules. Edit names and synonyms (comma-separated) below; nothing is "
        "trained until you train it.")
    entities = st.data_editor(pd.DataFrame({
        "table": [e.table for e in glossary.entities],
        "name": [e.name for e in glossary.entities],
        "synonyms": [", ".join(e.synonyms) for e in glossary.entities],
        "label": [e.label for e in glossary.entities],
        "measure": [e.measure for e in glossary.entities],
        "list columns": [", ".join(e.list_columns) for e in glossary.entities],
    }), key=ENTITIES, hide_index=True, disabled=("table", "label", "measure", "list columns"),
        column_config={"synonyms": st.column_config.TextColumn(
            width="medium", help="Other words for it, comma-separated")})
    terms = st.data_editor(pd.DataFrame({
        "term": [t.name for t in glossary.terms],
        "kind": [t.kind for t in glossary.terms],
        "means": [t.condition or t.measure or t.dimension or "" for t in glossary.terms],
        "synonyms": [", ".join(t.synonyms) for t in glossary.terms],
    }, columns=["term", "kind", "means", "synonyms"]), key=TERMS, hide_index=True,
        disabled=("term", "kind", "means"), column_config={"synonyms": st.column_config.TextColumn(
            width="large", help="Other words for it, comma-separated")})
    try:
        edited = edit_terms(edit_entities(glossary, [
            (str(name or ""), split_words(words))
            for name, words in zip(entities["name"], entities["synonyms"], strict=True)]),
            [split_words(words) for words in terms["synonyms"]])
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    same = without_sources(edited) == without_sources(glossary)
    # Unedited, the draft keeps its comments (how each guess was inferred); edited, the
    # files are written again from what the tables hold.
    files = draft.files if same else glossary_files(edited)
    st.caption("The files as drafted, each guess commented." if same else
               "The files with your edits (written again, without the draft's comments).")
    for tab, text in zip(st.tabs(list(files)), files.values(), strict=True):
        tab.code(text, language="yaml", height=260, wrap_lines=True)
    buttons = st.container(horizontal=True)
    if buttons.button("Train with this draft", key="train_draft", type="primary",
                    icon=":material/model_training:"):
        _apply(lambda: svc.training.train_glossary(edited, by=user,
                                          note="trained from a draft on the Training page"),
               "Trained from the draft: version {version} is active"
               + (" (drafted, not reviewed)." if edited.drafted else "."))
    # The profile it is for and the day it was drafted: demo-glossary-draft-2026-11-20.zip.
    name = download_name(f"{svc.trainer.profile} glossary draft", date.today(), "zip")
    buttons.download_button("Download the draft (YAML files, zip)", files_zip(files),
                            file_name=name, mime="application/zip", key="download_draft",
                            icon=":material/download:")


def teach_section(svc: Services, active: ProfileVersion, user: str) -> None:
    """Add a word (a refused question's, from the Ask page) as a synonym: a new version."""
    content = active.content
    if content is None:
        return
    st.subheader("Teach a word")
    if TEACH_WORD in st.session_state:  # the Ask page's "Teach" button: the word prefilled
        st.session_state["teach_word_input"] = st.session_state.pop(TEACH_WORD)
    word_col, target_col = st.columns([1, 2])
    word = word_col.text_input("Word", key="teach_word_input", placeholder="QTD")
    target = target_col.selectbox(
        "What it means", targets(content.glossary, content.values), index=None,
        format_func=lambda t: t.label, key="teach_target",
        placeholder="An entity, a term, or a stored value of a column")
    if st.button("Add as a synonym", key="teach_add", disabled=not word.strip() or target is None):
        assert target is not None
        st.session_state[TEACH_WORD] = ""  # taught: the box is empty on the next run
        _apply(lambda: svc.training.teach(word, target, by=user),
               f"'{markdown_text(word.strip())}' now means {markdown_text(target.label)}: "
               "version {version} is active.")
        st.session_state.pop(TEACH_WORD)  # _apply returns only when it failed: keep the word
