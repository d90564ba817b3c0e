"""The deterministic answering engine: question -> query plan -> SQL, driven only by the
active training profile (schema, value index, glossary, business rules, verified pairs)."""
