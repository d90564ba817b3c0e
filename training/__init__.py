"""Training: schema ingestion, glossaries (drafted, validated, edited), versioned training
profiles, the ChromaDB store and the gate that keeps the copilot from answering before it
is trained. Built on copilot.core alone."""

from copilot.core.lazy import lazy_exports

_EXPORTS = {
    "GlossaryDraft": ".draft",
    "draft_glossary": ".draft",
    "Glossary": ".glossary",
    "Term": ".glossary",
    "load_glossary": ".glossary",
    "ProfileContent": ".profiles",
    "ProfileRepository": ".profiles",
    "ProfileVersion": ".profiles",
    "TrainingStore": ".store",
    "PairUpload": ".trainer",
    "Trainer": ".trainer",
}
__all__ = ["Glossary", "GlossaryDraft", "PairUpload", "ProfileContent", "ProfileRepository",
           "ProfileVersion", "Term", "Trainer", "TrainingStore", "draft_glossary", "load_glossary"]
__getattr__ = lazy_exports(__name__, _EXPORTS)
