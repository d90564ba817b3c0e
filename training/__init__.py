"""Training: schema ingestion, the ChromaDB store, versioned training profiles and the gate
that keeps the copilot from answering before it is trained (see issue "Training module")."""
