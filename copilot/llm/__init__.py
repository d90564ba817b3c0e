"""The LLM connector: an OpenAI-compatible client, the prompt built from the trained
context, reading replies, the writer that runs the LLM's SQL through the executor, and the
administration of its settings. It does not import the engine (docs/architecture.md)."""

from copilot.core.lazy import lazy_exports

_EXPORTS = {
    "LLMAdmin": ".admin",
    "ChatMessage": ".client",
    "LLMExchangeError": ".client",
    "OpenAICompatibleClient": ".client",
    "LLMConfig": ".config",
    "build_prompt": ".prompt",
    "LLMSettings": ".settings",
    "LLMSettingsStore": ".store",
    "LLMWriter": ".writer",
}
__all__ = ["ChatMessage", "LLMAdmin", "LLMConfig", "LLMExchangeError", "LLMSettings",
           "LLMSettingsStore", "LLMWriter", "OpenAICompatibleClient", "build_prompt"]
__getattr__ = lazy_exports(__name__, _EXPORTS)
