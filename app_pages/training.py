"""Training page: the active profile and its versions, what each holds, training, uploads of
verified pairs and documents, diff and roll back, and a retrieval probe; the flow for a new
warehouse (connect, draft, edit, train, review, teach a word) is in training_new."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from app_pages import training_new
from app_pages.state import current_user, services
from copilot.approvals import PendingChange
from copilot.approvals.training_kinds import ACTIVATION, GLOSSARY, PAIRS
from copilot.core.errors import CopilotError
from copilot.core.plaintext import markdown_text
from copilot.wiring import Services
from training import ProfileVersion
from training.editing import TrainingChange
from training.glossary import DEMO_GLOSSARY, Glossary, load_glossary
from training.uploads import parse_pairs


def _versions_frame(versions: list[ProfileVersion]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "version": [v.version for v in versions],
            "active": ["●" if v.active else "" for v in versions],
            "created (UTC)": [v.created_at for v in versions],
            "by": [v.created_by for v in versions],
            "note": [v.note for v in versions],
            "tables": [v.counts.get("tables", 0) for v in versions],
            "terms": [v.counts.get("terms", 0) for v in versions],
            "rules": [v.counts.get("rules", 0) for v in versions],
            "documents": [v.counts.get("documents", 0) for v in versions],
            "pairs": [v.counts.get("pairs", 0) for v in versions],
        }
    )


def _rules(glossary: Glossary) -> list[tuple[str, str]]:
    """(name, text) of every rule the "Rules" count counts (ProfileContent.counts): the
    business rules, then each table's period column, worded as training retrieves it."""
    return [(r.id, r.text) for r in glossary.rules] + [
        (f"periods of {table}", f"Periods for {table} apply to {table}.{column}.")
        for table, column in glossary.period_columns]


def _run(action: Callable[[], object], success: str) -> None:
    try:
        done = action()
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    if isinstance(done, PendingChange):  # four eyes: proposed, not applied
        st.session_state["training_notice"] = (
            f"Sent for approval (change #{done.id}): nothing changes until another trainer "
            "approves it on the Approvals page.")
    else:
        version = done.version if isinstance(done, TrainingChange) else done
        assert isinstance(version, ProfileVersion)
        st.session_state["training_notice"] = success.format(version=version.version)
    st.rerun()


def _pending(svc: Services) -> None:
    """The training changes waiting for a second trainer: pending, not applied."""
    if not svc.approvals.enabled:
        return
    waiting = [c for c in svc.approvals.pending()
               if c.kind in (PAIRS, GLOSSARY, ACTIVATION)]
    if waiting:
        st.info(f"{len(waiting)} training change(s) wait for approval and are not applied yet: "
                + "; ".join(markdown_text(f"#{c.id} {c.summary} (by {c.maker})")
                            for c in waiting[:5]) + ". See the Approvals page.")


def render() -> None:
    """Draw the Training page."""
    st.title("Training")
    try:
        svc = services()
        trainer = svc.trainer
        versions = trainer.versions()
        active = trainer.active()
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    settings = svc.settings
    user = current_user(settings)
    if notice := st.session_state.pop("training_notice", None):
        st.success(notice)
    training_new.show_change()
    _pending(svc)

    try:
        trainer.require_trained()
        st.caption(
            f"Profile **{markdown_text(str(trainer.profile))}** answers from version "
            f"**{active.version}**, made {active.created_at} by "
            f"{markdown_text(active.created_by)}."
        )
    except CopilotError as exc:
        st.warning(markdown_text(str(exc)))

    if active is not None:
        training_new.review_section(svc, active, user)
        # From the content listed below when it is loaded, so each number at the top is the
        # length of a list further down.
        counts = active.content.counts() if active.content is not None else active.counts
        cols = st.columns(6)
        for col, (label, key) in zip(
            cols,
            (("Tables", "tables"), ("Columns", "columns"), ("Value lists", "value_columns"),
             ("Terms", "terms"), ("Rules", "rules"), ("Pairs", "pairs")),
            strict=True,
        ):
            col.metric(label, counts.get(key, 0))

    training_new.connect_section(svc, user)
    if active is not None:
        training_new.teach_section(svc, active, user)

    st.subheader("Train")
    st.write(f"Glossary folder: `{settings.app.glossary_dir}`")
    if not settings.uses_demo_warehouse and settings.app.glossary_dir.resolve() == DEMO_GLOSSARY:
        st.caption("That is the demo's glossary, written for the demo warehouse: for this "
                   "warehouse, draft one above, or set OPSCOPILOT_GLOSSARY_DIR to your own.")
    if st.button("Train from the warehouse", key="train_now", type="primary"):
        _run(lambda: svc.training.train_glossary(load_glossary(settings.app.glossary_dir),
                                                 by=user, note="trained on the Training page"),
             "Trained: version {version} is active.")

    if not versions:
        return
    st.subheader("Versions")
    st.dataframe(_versions_frame(versions), hide_index=True)
    numbers = [v.version for v in versions]
    left, right = st.columns(2)
    with left:
        target = st.selectbox("Version to answer from", numbers, key="rollback_version")
        if st.button("Activate this version (roll back)", key="rollback"):
            _run(lambda: svc.training.activate(target, by=user),
                 "Version {version} is active again.")
    with right:
        old = st.selectbox("Compare", numbers, index=len(numbers) - 1, key="diff_old")
        new = st.selectbox("with", numbers, index=0, key="diff_new")
        training_new.show_diff(trainer.diff(old, new))

    st.subheader("Add verified pairs and documents")
    pairs_file = st.file_uploader("Question/SQL pairs (YAML list or JSON lines)",
                                  type=["yaml", "yml", "jsonl", "json"], key="pairs_upload")
    if pairs_file is not None and st.button("Add pairs", key="add_pairs"):
        _run(lambda: svc.training.add_pairs(parse_pairs(pairs_file.getvalue().decode("utf-8"),
                                                        pairs_file.name), by=user),
             "Pairs added: version {version} is active.")
    document = st.file_uploader("Document (Markdown or text)", type=["md", "txt"],
                                key="document_upload")
    if document is not None and st.button("Add document", key="add_document"):
        _run(lambda: trainer.add_document(document.name, document.getvalue().decode("utf-8"),
                                          by=settings.app.user),
             "Document added: version {version} is active.")

    if active is not None and active.content is not None:
        st.subheader("What the active version knows")
        glossary = active.content.glossary
        with st.expander(f"Glossary terms ({len(glossary.terms)})"):
            st.dataframe(
                pd.DataFrame({
                    "term": [t.name for t in glossary.terms],
                    "kind": [t.kind for t in glossary.terms],
                    "means": [t.condition or t.measure or t.dimension for t in glossary.terms],
                    "also": [", ".join(t.synonyms) for t in glossary.terms],
                }),
                hide_index=True,
            )
        rules = _rules(glossary)
        with st.expander(f"Rules ({len(rules)})"):
            st.caption("The business rules, and the date column each table's periods use: "
                       "the rules training counts and retrieves.")
            for name, text in rules:
                st.markdown(f"- **{markdown_text(name)}**: {markdown_text(text)}")
        probe = st.text_input("Try a question: what does training retrieve for it?",
                              key="training_probe")
        if probe.strip():
            try:
                hits = trainer.retrieve(probe, k=3)
            except CopilotError as exc:
                st.error(markdown_text(str(exc)))
                return
            for kind, found in hits.items():
                if found:
                    st.write(f"**{kind}**: " + "; ".join(  # labels: pairs' questions, documents
                        f"{markdown_text(str(h.metadata.get('label')))} ({h.score:.2f})"
                        for h in found))
