"""Settings page: the LLM connection (saved in the state database, audited, the key never
shown back) and, read-only, every setting in force."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app_pages.state import current_user, services
from copilot.approvals.llm_kind import LLM_SETTINGS
from copilot.approvals.policy_kind import policy_notice
from copilot.core.errors import CopilotError
from copilot.core.plaintext import markdown_text
from copilot.core.settings import settings_in_force
from copilot.llm import LLMConfig
from copilot.wiring import Services
from reports.smtp_kind import smtp_notice


def _key_hint(saved_key: str, current: LLMConfig, can_seal: bool) -> str:
    """The key field's placeholder: whether a key is in force, and where it comes from."""
    if saved_key:
        return "a key is set: leave empty to keep it"
    if current.api_key:
        return "the environment's key (OPSCOPILOT_LLM_API_KEY) is used: leave empty to keep it"
    return "no key set" if can_seal else "no key set; saving one needs OPSCOPILOT_SECRET_KEY"


def _form(current: LLMConfig, saved_key: str, can_seal: bool
          ) -> tuple[dict[str, str], str, bool, str | None]:
    """The form's fields as setting texts, the new key, 'remove the key', and which button."""
    with st.form("llm_form"):
        base_url = st.text_input("Base URL", value=current.base_url, key="llm_base_url",
                                 placeholder="empty: no LLM, the engine alone answers")
        model = st.text_input("Model", value=current.model, key="llm_model")
        # Never filled in: the key is not sent back to the browser, even masked.
        key = st.text_input("API key", type="password", value="", key="llm_api_key",
                            placeholder=_key_hint(saved_key, current, can_seal))
        remove = st.checkbox("Remove the key", key="llm_remove_key", disabled=not saved_key)
        left, right = st.columns(2)
        key_header = left.text_input("Key header", value=current.key_header,
                                     key="llm_key_header")
        headers = right.text_input("Extra headers (JSON)", key="llm_headers",
                                   value=json.dumps(dict(current.headers)) if current.headers
                                   else "")
        a, b, c, d = st.columns(4)
        timeout = a.number_input("Time per question (s)", min_value=1.0,
                                 value=float(current.timeout_s), key="llm_timeout_s")
        retries = b.number_input("Retries", min_value=0, value=current.retries,
                                 key="llm_retries")
        corrections = c.number_input("Corrections", min_value=0,
                                     value=current.max_corrections, key="llm_corrections")
        budget = d.number_input("Token budget", min_value=1000, value=current.token_budget,
                                step=1000, key="llm_budget")
        rows = st.checkbox("Let the LLM see three sample rows per table (off: names, types "
                           "and code lists only)", value=current.send_rows, key="llm_rows")
        save, test, reset = st.columns(3)
        pressed = ("save" if save.form_submit_button("Save", type="primary")
                   else "test" if test.form_submit_button("Test connection")
                   else "reset" if reset.form_submit_button("Use the environment's settings")
                   else None)
    values = {"base_url": base_url, "model": model, "key_header": key_header,
              "headers": headers, "timeout_s": str(timeout), "retries": str(retries),
              "max_corrections": str(corrections), "token_budget": str(budget),
              "send_rows": str(rows)}
    return values, key, remove, pressed


def _llm_section(svc: Services) -> None:
    st.subheader("LLM")
    user = current_user(svc.settings)
    try:
        saved = svc.llm.saved()
        current = svc.llm.config()
    except CopilotError as exc:  # the saved key does not open: say what to set, offer a way out
        st.error(markdown_text(str(exc)))
        if st.button("Forget the saved LLM settings and use the environment's",
                     key="llm_forget"):
            try:
                held = svc.llm.save(None, by=user)
            except CopilotError as failed:
                st.error(markdown_text(str(failed)))
                return
            if held is None:
                st.rerun()
            st.info(_held(held))
        return
    st.caption(markdown_text(f"Saved on this page by {saved.saved_by} at {saved.saved_at}.")
               if saved else
               "From the environment (OPSCOPILOT_LLM_*)."
               + ("" if current.enabled else " No LLM is configured: the engine alone "
                  "answers, exactly as without one."))
    if saved and saved.key_in_clear:
        st.warning("The saved API key was stored unencrypted by an earlier version. Set "
                   "OPSCOPILOT_SECRET_KEY and save again to encrypt it, or tick \"Remove the "
                   "key\" and give it by OPSCOPILOT_LLM_API_KEY.")
    saved_key = saved.config.api_key if saved else ""
    values, key, remove, pressed = _form(current, saved_key, svc.llm.box.configured)
    if pressed is None:
        return
    try:
        if pressed == "reset":
            held = svc.llm.save(None, by=user)
            if held is not None:
                st.info(_held(held))
            else:
                st.success("Back to the environment's LLM settings.")
            return
        # Kept: the key saved on this page; with none saved, the environment's (which saving
        # leaves in the environment).
        kept = saved_key or current.api_key
        config = LLMConfig.from_text(values, api_key="" if remove else key or kept)
        if pressed == "test":
            if not config.enabled:
                st.warning("Set a base URL first.")
                return
            with st.spinner("Asking the endpoint…"):
                reply = svc.llm.test(config, by=user)
            st.success(f"The endpoint answered: {markdown_text(repr(reply))}")
        elif (held := svc.llm.save(config, by=user)) is not None:
            st.info(_held(held))
        else:
            st.success("Saved. The next question uses these settings.")
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))


def _held(change_id: int) -> str:
    return (f"Sent for approval (change #{change_id}): the settings in force do not change "
            "until another admin approves it on the Approvals page.")


def _four_eyes(svc: Services) -> None:
    """Whether changes wait for a second person, and the LLM change pending if any."""
    if not svc.approvals.enabled:
        st.info("Four eyes is off: a change applies at once, as its author makes it (the "
                "single-user demo, or OPSCOPILOT_FOUR_EYES=off). With a roles file it is on.")
        return
    # The entitlements file and the SMTP environment change outside the app: say what is
    # in force meanwhile.
    for notice in (policy_notice(svc.approvals), smtp_notice(svc.approvals)):
        if notice:
            st.warning(notice)
    waiting = svc.approvals.pending(LLM_SETTINGS)
    if waiting:
        change = waiting[0]
        st.warning(markdown_text(f"Pending, not applied: change #{change.id} "
                                 f"({change.summary}) by {change.maker}, waiting for another "
                                 "admin on the Approvals page."))


def _in_force(svc: Services) -> None:
    st.subheader("Settings in force")
    rows = [{"variable": doc.env_var, "value": shown, "meaning": doc.doc}
            for doc, shown in settings_in_force(svc.settings)]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="settings_table")


def render() -> None:
    """Draw the Settings page."""
    st.title("Settings")
    try:
        svc = services()
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    _four_eyes(svc)
    _llm_section(svc)
    st.caption("Recipes for a bank's gateway, Groq, vLLM, Ollama and Azure OpenAI: the "
               "README, \"Using an LLM\".")
    _in_force(svc)
