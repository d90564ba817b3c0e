"""The audit trail: an append-only, hash-chained log in its own database, and its exports."""

from copilot.audit.log import AuditError, AuditFilter, AuditLog, VerifyResult
from copilot.audit.record import AuditRecord, chain_hash, file_sha256, result_sha256

__all__ = ["AuditError", "AuditFilter", "AuditLog", "AuditRecord", "VerifyResult",
           "chain_hash", "file_sha256", "result_sha256"]
