"""The offline embedder and the versioned training store: the real MiniLM model on onnxruntime
and a real ChromaDB folder on disk."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from copilot.core.errors import CopilotError
from training.embedding import (
    MODEL_FILE,
    TOKENIZER_FILE,
    Embedder,
    EmbeddingUnavailable,
    MiniLMEmbedder,
    PackagedFile,
)
from training.store import TrainingStore
from training.store_items import KINDS, StoreError, StoreItem, item_id


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    model = MiniLMEmbedder()
    model.load()  # about a second: once for the whole module
    return model


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimensions = inner.dimensions
        self.calls = 0
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed(texts)


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    return float(np.dot(a, b))  # the vectors are unit length


SETTLEMENTS = StoreItem.of(
    "schema",
    "table settlements: cash flows of trades per counterparty, columns value_date, currency, "
    "amount, status FAILED/SETTLED/PENDING",
    {"table": "settlements"},
)
LEGAL_ENTITIES = StoreItem.of(
    "schema",
    "table legal_entities: the bank's legal entities, columns name, lei, country of incorporation",
    {"table": "legal_entities"},
)
CONFIRMATIONS = StoreItem.of(
    "schema",
    "table confirmations: trade confirmations sent to counterparties, status MATCHED/UNMATCHED",
    {"table": "confirmations"},
)
ITEMS = (
    SETTLEMENTS,
    LEGAL_ENTITIES,
    CONFIRMATIONS,
    StoreItem.of("terms", "fail: a settlement that did not settle on its value date"),
    StoreItem.of("rules", "Ageing of a break counts business days since it was raised.", {"n": 1}),
    StoreItem.of("documents", "Escalate unconfirmed trades older than T+3 to the desk head."),
    StoreItem.of("pairs", "How many trades were booked yesterday?",
                 {"sql": "SELECT COUNT(*) FROM trades WHERE trade_date = '2026-11-19'"}),
)
QUESTION = "failed settlements by counterparty"


def _tables(hits: Sequence) -> list[str]:
    return [hit.metadata["table"] for hit in hits]


# -- the embedder --------------------------------------------------------------------------


def test_embeddings_are_unit_vectors_that_follow_meaning(embedder: MiniLMEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    fails, fails_reworded, country = embedder.embed(
        ["failed settlements", "settlement fails", "legal entity country"]
    )
    assert len(fails) == embedder.dimensions == 384
    assert np.linalg.norm(fails) == pytest.approx(1.0, abs=1e-5)
    assert _cos(fails, fails_reworded) > 0.7
    assert _cos(fails, fails_reworded) > _cos(fails, country) + 0.3
    assert embedder.embed([]) == []


def test_a_batch_embeds_each_text_as_if_it_were_alone(embedder: MiniLMEmbedder) -> None:
    # Lengths differ widely so short texts are padded in the batch; the mask must hide it.
    texts = ["fails", "netting sets by counterparty and currency", "trade " * 120, "", "T+2"]
    together = np.array(MiniLMEmbedder(batch_size=3, threads=1).embed(texts))
    together_default = np.array(embedder.embed(texts))
    alone = np.array([embedder.embed([text])[0] for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(together_default, alone, atol=1e-5)


def test_texts_are_cut_at_256_tokens(embedder: MiniLMEmbedder) -> None:
    head = "settlement " * 300  # one token a word: well past the limit already
    first, longer = embedder.embed([head, head + "legal entity country of incorporation"])
    np.testing.assert_allclose(first, longer, atol=1e-6)


def test_threads_share_one_lazily_loaded_model(embedder: MiniLMEmbedder) -> None:
    fresh = MiniLMEmbedder()
    texts = [f"settlements failed on day {n}" for n in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda text: fresh.embed([text])[0], texts))
    np.testing.assert_allclose(results, embedder.embed(texts), atol=1e-5)
    first_session = fresh._loaded
    fresh.load()
    assert fresh._loaded is first_session  # loaded once, whatever thread came first


def test_a_missing_package_is_named_in_the_error() -> None:
    absent = PackagedFile("no-such-model-package", "no_such_model_package", "model.onnx", "0")
    with pytest.raises(EmbeddingUnavailable, match="no-such-model-package") as raised:
        MiniLMEmbedder(model_file=absent).embed(["x"])
    assert isinstance(raised.value, CopilotError)


def test_a_changed_file_is_refused() -> None:
    altered = PackagedFile(
        TOKENIZER_FILE.distribution, TOKENIZER_FILE.package, TOKENIZER_FILE.relative_path,
        "0" * 64,
    )
    with pytest.raises(EmbeddingUnavailable, match="sha256"):
        MiniLMEmbedder(tokenizer_file=altered).load()
    assert MODEL_FILE.locate().name == "model.onnx"


# -- items ---------------------------------------------------------------------------------


def test_item_ids_hash_the_content() -> None:
    same = item_id("schema", "table trades", {"table": "trades", "n": 1})
    assert same == item_id("schema", "table trades", {"n": 1, "table": "trades"})
    assert len(same) == 32 and int(same, 16) >= 0
    assert same != item_id("terms", "table trades", {"table": "trades", "n": 1})
    assert same != item_id("schema", "table trades", {"table": "trades", "n": True})
    assert StoreItem.of("schema", "table trades", {"table": "trades", "n": 1}).id == same


def test_items_refuse_what_chroma_cannot_keep() -> None:
    with pytest.raises(StoreError, match="kind"):
        StoreItem("x", "tables", "table trades", {})  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="not a string"):
        StoreItem.of("schema", "table trades", {"columns": ["a", "b"]})  # type: ignore[dict-item]
    with pytest.raises(StoreError, match="no text"):
        StoreItem.of("rules", "   ")


# -- the store -----------------------------------------------------------------------------


def test_the_relevant_table_comes_first(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    store = TrainingStore(tmp_path, embedder)
    stats = store.write_version("demo-3", ITEMS)
    assert dict(stats.items) == {"schema": 3, "terms": 1, "rules": 1, "documents": 1, "pairs": 1}
    assert stats.added == 7 and stats.newly_embedded == 7

    hits = store.search("demo-3", "schema", QUESTION, k=3)
    assert _tables(hits)[0] == "settlements"
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert 0.0 < hits[0].score <= 1.0
    assert hits[0].text == SETTLEMENTS.text and hits[0].kind == "schema"
    assert store.search("demo-3", "pairs", "trades booked yesterday", k=1)[0].metadata["sql"]
    filtered = store.search("demo-3", "schema", QUESTION, where={"table": "legal_entities"})
    assert _tables(filtered) == ["legal_entities"]


def test_search_all_embeds_the_question_once(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    counting = CountingEmbedder(embedder)
    store = TrainingStore(tmp_path, counting)
    store.write_version("v1", ITEMS)
    counting.calls = 0
    found = store.search_all("v1", QUESTION)
    assert counting.calls == 1
    assert set(found) == set(KINDS)
    assert _tables(found["schema"])[0] == "settlements"
    assert [hit.kind for hit in found["terms"]] == ["terms"]
    some = store.search_all("v1", QUESTION, {"schema": 2, "rules": 1})
    assert set(some) == {"schema", "rules"} and len(some["schema"]) == 2


def test_rewriting_a_version_is_idempotent(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    counting = CountingEmbedder(embedder)
    store = TrainingStore(tmp_path, counting)
    first = store.write_version("demo-3", ITEMS)
    before = store.search_all("demo-3", QUESTION)
    counting.texts = 0
    again = store.write_version("demo-3", list(reversed(ITEMS)))
    assert again.newly_embedded == 0 and counting.texts == 0
    assert (again.added, again.removed) == (0, 0)
    assert dict(again.items) == dict(first.items) == store.count("demo-3")
    assert store.search_all("demo-3", QUESTION) == before


def test_a_new_version_embeds_only_new_texts(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    store = TrainingStore(tmp_path, embedder)
    store.write_version("demo-1", ITEMS)
    netting = StoreItem.of("schema", "table netting_sets: netting agreements per counterparty",
                           {"table": "netting_sets"})
    stats = store.write_version("demo-2", [*ITEMS[1:], netting])
    assert stats.newly_embedded == 1
    shrunk = store.write_version("demo-2", ITEMS[1:3])
    assert (shrunk.added, shrunk.removed, shrunk.newly_embedded) == (0, 5, 0)
    assert store.count("demo-2") == {"schema": 2, "terms": 0, "rules": 0, "documents": 0,
                                     "pairs": 0}


def test_an_older_version_is_untouched_by_a_newer_one(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    store = TrainingStore(tmp_path, embedder)
    store.write_version("demo-1", ITEMS)
    before = store.search_all("demo-1", QUESTION)
    # The newer version drops the settlements table and words everything else differently.
    store.write_version("demo-2", [
        StoreItem.of("schema", "table cash_movements: payments, status FAILED/SETTLED",
                     {"table": "cash_movements"}),
        StoreItem.of("rules", "Breaks age in calendar days."),
    ])
    assert store.search_all("demo-1", QUESTION) == before  # rolling back is just using demo-1
    assert _tables(store.search("demo-2", "schema", QUESTION)) == ["cash_movements"]
    assert store.search("demo-2", "terms", QUESTION) == []
    assert store.count("demo-1")["schema"] == 3


def test_drop_version(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    store = TrainingStore(tmp_path, embedder)
    store.write_version("demo-1", ITEMS)
    store.write_version("demo-2", ITEMS[:2])
    store.drop_version("demo-1")
    store.drop_version("never-written")  # nothing to drop is not an error
    assert not store.has_version("demo-1") and store.has_version("demo-2")
    assert store.count("demo-1") == dict.fromkeys(KINDS, 0)
    assert store.search("demo-1", "schema", QUESTION) == []
    assert store.search_all("demo-1", QUESTION) == {kind: [] for kind in KINDS}
    assert _tables(store.search("demo-2", "schema", QUESTION))[0] == "settlements"
    assert store.versions() == ["demo-2"]


def test_an_empty_version_exists(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    store = TrainingStore(tmp_path, embedder)
    assert not store.has_version("empty")
    store.write_version("empty", [])
    assert store.has_version("empty") and store.count("empty") == dict.fromkeys(KINDS, 0)
    assert store.search("empty", "schema", QUESTION) == []


def test_a_fresh_store_reads_what_an_earlier_one_wrote(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    first = TrainingStore(tmp_path / "chroma", embedder)
    first.write_version("demo-3", ITEMS)
    expected = first.search_all("demo-3", QUESTION)
    del first

    counting = CountingEmbedder(embedder)
    later = TrainingStore(tmp_path / "chroma", counting)
    assert later.has_version("demo-3") and later.count("demo-3")["schema"] == 3
    assert later.search_all("demo-3", QUESTION) == expected
    counting.texts = 0
    # The embedding cache is on disk too: a new process re-embeds nothing it has seen.
    assert later.write_version("demo-4", ITEMS).newly_embedded == 0
    assert counting.texts == 0


def test_version_keys_are_sanitised_without_colliding(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    store = TrainingStore(tmp_path, embedder)
    store.write_version("demo 3", ITEMS[:1])
    store.write_version("demo-3", ITEMS[1:2])
    store.write_version("Ops/Team.é" + "x" * 80, ITEMS[2:3])
    assert _tables(store.search("demo 3", "schema", QUESTION)) == ["settlements"]
    assert _tables(store.search("demo-3", "schema", QUESTION)) == ["legal_entities"]
    assert store.versions() == sorted(["demo 3", "demo-3", "Ops/Team.é" + "x" * 80])
    with pytest.raises(StoreError, match="version key"):
        store.write_version(" ", ITEMS)


def test_unknown_kinds_and_clashing_ids_are_refused(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    store = TrainingStore(tmp_path, embedder)
    with pytest.raises(StoreError, match="kind"):
        store.search("demo-3", "tables", QUESTION)  # type: ignore[arg-type]
    clash = StoreItem(SETTLEMENTS.id, "schema", "another text", {})
    with pytest.raises(StoreError, match="share the id"):
        store.write_version("demo-3", [SETTLEMENTS, clash])
