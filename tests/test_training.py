"""Training against real ChromaDB on disk and real warehouses: ingestion of the demo and of a
different schema made here, retrieval, idempotence, diff and rollback, and the gate."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from copilot.core.errors import GlossaryError, GuardRefusal, TrainingRequired
from copilot.settings import load_settings
from copilot.wiring import Services, build_services
from training.glossary import load_glossary
from training.trainer import PairUpload, chunk_document, require_trained

# A payments hub: nothing like the OTC demo, with its own words.
HUB_DDL = """
CREATE TABLE banks (bank_id INTEGER PRIMARY KEY, bic VARCHAR(11) NOT NULL, name VARCHAR(80));
CREATE TABLE wires (
    wire_id INTEGER PRIMARY KEY,
    bank_id INTEGER NOT NULL REFERENCES banks (bank_id),
    state VARCHAR(12) NOT NULL,
    amount DECIMAL(18,2) NOT NULL,
    booked_on DATE NOT NULL
);
CREATE TABLE branches (branch_id INTEGER PRIMARY KEY, city VARCHAR(40), manager VARCHAR(40));
"""
HUB_GLOSSARY = {
    "entities.yaml": """
kind: entities
entities:
  - name: wire
    table: wires
    synonyms: [wires, wire transfer, wire transfers, transfer, transfers]
    list_columns: [wire_id, amount, state]
  - name: bank
    table: banks
    synonyms: [banks, beneficiary bank, beneficiary banks]
""",
    "terms.yaml": """
kind: terms
terms:
  - name: rejected wire
    synonyms: [rejected, rejected wires, bounced transfer, returned wires]
    table: wires
    condition: "wires.state = 'REJECTED'"
  - name: beneficiary bank
    synonyms: [beneficiary, receiving bank]
    dimension: banks.name
""",
    "rules.yaml": """
kind: rules
period_columns:
  wires: booked_on
rules:
  - id: rejects
    text: A wire is rejected when the beneficiary bank refused it.
""",
}


def _services(data: Path, **env: str) -> Services:
    settings = load_settings(
        {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20", **env},
        env_file=data / "no.env",
    )
    return build_services(settings)


@pytest.fixture
def demo(trained_data: Path) -> Iterator[Services]:
    services = _services(trained_data)
    yield services
    services.warehouse.dispose()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Services, Path]]:
    database = tmp_path / "hub.db"
    with sqlite3.connect(database) as conn:
        conn.executescript(HUB_DDL)
        conn.executemany("INSERT INTO banks VALUES (?, ?, ?)",
                         [(1, "DEUTDEFF", "Deutsche Bank"), (2, "BNPAFRPP", "BNP Paribas")])
        conn.executemany(
            "INSERT INTO wires VALUES (?, ?, ?, ?, ?)",
            [(i, 1 + i % 2, ("SENT", "REJECTED", "QUEUED")[i % 3], 1000.0 + i, "2026-11-02")
             for i in range(60)],
        )
    glossary = tmp_path / "hub-glossary"
    glossary.mkdir()
    for name, text in HUB_GLOSSARY.items():
        (glossary / name).write_text(text)
    services = _services(tmp_path / "data", OPSCOPILOT_WAREHOUSE_URL=f"sqlite:///{database}",
                         OPSCOPILOT_GLOSSARY_DIR=str(glossary))
    yield services, glossary
    services.warehouse.dispose()


def _labels(hits: list) -> list[str]:
    return [str(h.metadata["label"]) for h in hits]


def test_demo_ingestion_holds_schema_values_and_glossary(demo: Services) -> None:
    version = demo.trainer.require_trained()
    assert version.version == 1 and version.created_by
    content = version.content
    assert {t.name for t in content.schema.tables} >= {"trades", "settlements", "netting_sets"}
    assert "GOLDMAN" in content.values["counterparties.short_name"]
    assert "N. Singh" in content.values["ops_exceptions.assigned_to"]
    assert "EUR" in content.values["settlements.currency"]
    assert "Goldman Sachs International" in content.values["counterparties.legal_name"]
    assert "ops_exceptions.description" not in content.values  # free text, not a vocabulary
    assert "trades.trade_id" not in content.values
    assert version.counts["terms"] >= 30 and version.counts["rules"] >= 10


@pytest.mark.parametrize(
    ("question", "table", "terms"),
    [
        ("open exceptions by assigned analyst", "ops_exceptions", {"open exception", "analyst"}),
        ("netting breaks this week", "netting_sets", {"netting break"}),
        ("which counterparties are hedge funds", "counterparties", {"counterparty", "sector"}),
        ("how many unconfirmed trades are older than 5 days", None,
         {"aged", "unconfirmed trade"}),
        ("disputed confirmations on paper", "confirmations", {"disputed"}),
    ],
)
def test_retrieval_puts_the_right_table_and_term_first(
    demo: Services, question: str, table: str | None, terms: set[str]
) -> None:
    hits = demo.trainer.retrieve(question, k=3)
    if table:
        assert hits["schema"][0].metadata["table"] == table, _labels(hits["schema"])
    assert _labels(hits["terms"])[0] in terms, _labels(hits["terms"])


def test_a_different_schema_trains_with_its_own_glossary(hub: tuple[Services, Path]) -> None:
    services, glossary = hub
    assert services.settings.app.profile == "main"
    with pytest.raises(TrainingRequired, match="python -m copilot train"):
        services.trainer.require_trained()
    version = services.trainer.train(load_glossary(glossary), by="tester")
    assert version.counts["tables"] == 3 and version.counts["terms"] == 2
    assert set(version.content.values["wires.state"]) == {"SENT", "REJECTED", "QUEUED"}
    hits = services.trainer.retrieve("rejected wires by beneficiary bank", k=3)
    assert hits["schema"][0].metadata["table"] in {"wires", "banks"}
    assert _labels(hits["terms"])[0] in {"rejected wire", "beneficiary bank", "wire"}
    assert services.trainer.retrieve("bounced transfers", k=1)["terms"][0].metadata[
        "label"] in {"rejected wire", "wire"}


def test_the_otc_glossary_is_refused_for_a_warehouse_without_its_tables(
    hub: tuple[Services, Path],
) -> None:
    services, _ = hub
    with pytest.raises(GlossaryError, match=r"entities\.yaml, line \d+: the warehouse has no"):
        services.trainer.train(load_glossary(_otc_glossary()), by="tester")
    assert services.trainer.versions() == []


def _otc_glossary() -> Path:
    return Path(__file__).resolve().parents[1] / "glossary" / "otc"


def test_retraining_is_idempotent(demo: Services) -> None:
    before = demo.trainer.active()
    again = demo.trainer.train(load_glossary(_otc_glossary()), by="tester")
    assert again.version == before.version
    assert [v.version for v in demo.trainer.versions()] == [1]


def test_pairs_documents_diff_and_rollback(demo: Services) -> None:
    trainer = demo.trainer
    question = "How many failed settlements were there today?"
    first_hits = trainer.retrieve("fails today", k=3)
    assert first_hits["pairs"] == [] and first_hits["documents"] == []

    sql = ("SELECT COUNT(*) FROM settlements WHERE status = 'FAILED' "
           "AND value_date = '2026-11-20'")
    v2 = trainer.add_pairs([PairUpload(question, sql)], by="analyst")
    v3 = trainer.add_document("runbook.md", "# Fails\n\nChase SSI mismatches with the "
                                            "counterparty's settlements desk before 2pm.",
                              by="analyst")
    assert (v2.version, v3.version) == (2, 3)
    hits = trainer.retrieve("fails today", k=3)
    assert _labels(hits["pairs"]) == [question]
    assert hits["pairs"][0].metadata["sql"].startswith("SELECT COUNT(*)")
    assert _labels(hits["documents"]) == ["runbook.md #1"]

    diff = trainer.diff(1, 3)
    assert diff.kinds["pairs"].added == (question,)
    assert diff.kinds["documents"].added == ("runbook.md #1",)
    assert not diff.kinds["schema"].added and not diff.kinds["terms"].removed

    trainer.activate(1, by="analyst")  # roll back
    assert trainer.active().version == 1
    restored = trainer.retrieve("fails today", k=3)
    assert restored["pairs"] == [] and restored["documents"] == []
    assert _labels(restored["schema"]) == _labels(first_hits["schema"])
    assert [v.version for v in trainer.versions()] == [3, 2, 1]


def test_destructive_pair_is_refused_and_nothing_is_added(demo: Services) -> None:
    with pytest.raises(GuardRefusal, match="DELETE"):
        demo.trainer.add_pairs([PairUpload("clean up", "DELETE FROM trades")], by="x")
    assert [v.version for v in demo.trainer.versions()] == [1]


def test_gate_names_what_is_missing(demo: Services) -> None:
    empty = replace(demo.trainer.active(), counts={"tables": 8, "terms": 0, "rules": 0})
    with pytest.raises(TrainingRequired, match="no glossary terms, no business rules"):
        require_trained(empty, "demo")
    with pytest.raises(TrainingRequired, match="has not been trained"):
        require_trained(None, "main")


def test_documents_are_chunked_at_paragraphs() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 60 for i in range(10))
    chunks = chunk_document(text, max_chars=700)
    assert len(chunks) > 2 and all(len(c) <= 700 for c in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", "")
    assert chunk_document("   \n\n  ") == ()


def test_postgres_warehouse_trains_through_the_same_introspection(
    pg_demo_url: str, tmp_path: Path
) -> None:
    services = _services(tmp_path / "data", OPSCOPILOT_WAREHOUSE_URL=pg_demo_url)
    version = services.trainer.train(load_glossary(_otc_glossary()), by="tester")
    assert version.counts["tables"] == 8
    assert "GOLDMAN" in version.content.values["counterparties.short_name"]
    assert services.trainer.retrieve("netting breaks", k=1)["terms"][0].metadata[
        "label"] == "netting break"
    services.warehouse.dispose()


def _hub_glossary(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "checked-glossary"
    folder.mkdir()
    for name, text in {**HUB_GLOSSARY, **files}.items():
        (folder / name).write_text(text)
    return folder


def test_a_synonym_for_a_value_the_column_does_not_hold_is_an_error_with_its_line(
    hub: tuple[Services, Path], tmp_path: Path,
) -> None:
    services, _ = hub
    folder = _hub_glossary(tmp_path, **{"values.yaml": (
        "kind: values\nvalues:\n  - column: wires.state\n    synonyms:\n"
        "      SENT: [dispatched]\n      Rejected: [bounced]\n")})
    with pytest.raises(GlossaryError) as raised:
        services.trainer.train(load_glossary(folder), by="tester")
    assert str(raised.value) == (
        "values.yaml, line 6: wires.state holds no value 'Rejected' (stored values match "
        "exactly, case included); the closest stored values are 'REJECTED'.")
    assert services.trainer.versions() == []


def test_collisions_and_values_not_held_are_warnings_kept_with_the_version(
    hub: tuple[Services, Path], tmp_path: Path,
) -> None:
    services, _ = hub
    folder = _hub_glossary(tmp_path, **{
        "terms.yaml": HUB_GLOSSARY["terms.yaml"] + (
            "  - name: sent wire\n    synonyms: [queued, transfers]\n    table: wires\n"
            "    condition: \"wires.state = 'SENT'\"\n"),
        "values.yaml": ("kind: values\nvalues:\n  - column: wires.state\n    synonyms:\n"
                        "      RETURNED: [returned]\n  - column: banks.name\n    synonyms:\n"
                        "      Deutsche Bank: [rejected]\n"),
    })
    version = services.trainer.train(load_glossary(folder), by="tester")
    warnings = "\n".join(version.warnings)
    assert version.counts["warnings"] == len(version.warnings) == 4, warnings
    assert ("terms.yaml, line 11: 'queued' means both the term 'sent wire' and "
            "wires.state = 'QUEUED'") in warnings  # a stored value
    assert "'transfers' means both the entity 'wire' and the term 'sent wire'" in warnings
    assert "'rejected' means both banks.name = 'Deutsche Bank' and the term 'rejected wire'" \
        in warnings  # another term
    assert ("values.yaml, line 5: wires.state holds no value 'RETURNED' yet, so its words "
            "find nothing") in warnings  # not there yet: a warning, not an error
    listed = services.trainer.versions()[0]
    assert listed.content is None and listed.counts["warnings"] == 4


def test_the_demo_glossary_on_another_warehouse_points_to_a_draft(
    hub: tuple[Services, Path],
) -> None:
    services, _ = hub
    with pytest.raises(GlossaryError) as raised:
        services.trainer.train(load_glossary(_otc_glossary()), by="tester")
    message = str(raised.value)
    assert "the warehouse has no table 'trades'" in message
    assert "This is the OTC demo's glossary (glossary/otc" in message
    assert "this warehouse is not the demo" in message
    assert "python -m copilot glossary draft --db URL --out DIR" in message


def test_a_version_trained_from_a_draft_says_so_until_reviewed(
    hub: tuple[Services, Path], tmp_path: Path,
) -> None:
    from training.draft import draft_glossary, mark_reviewed, write_draft
    from training.ingest import sample_values

    services, _ = hub
    schema = services.warehouse.schema()
    draft = draft_glossary(schema, sample_values(schema, services.executor.run).columns)
    write_draft(draft, tmp_path / "drafted")
    version = services.trainer.train(load_glossary(tmp_path / "drafted"), by="tester")
    assert version.drafted and version.content.drafted and version.counts["drafted"] == 1
    services.trainer.require_trained()  # a draft answers as is
    assert services.trainer.versions()[0].drafted  # listed without content, still known
    mark_reviewed(tmp_path / "drafted")
    reviewed = services.trainer.train(load_glossary(tmp_path / "drafted"), by="tester")
    assert reviewed.version == version.version + 1 and not reviewed.drafted
    assert "drafted" not in reviewed.counts
