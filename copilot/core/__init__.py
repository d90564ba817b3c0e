"""The ground floor: typed errors, settings, the warehouse's schema and connections, the
read-only warehouse, the app's state database, the SQL guard and the audit trail, and the
plain-text and file-writing helpers every floor uses.

It imports nothing above it (tests/test_architecture.py): training builds on it alone, and
the engine, the LLM, the services, dashboards, reports and pages build on both.
"""

__version__ = "0.1.0"

# Each module is imported by its path (copilot.core.executor, copilot.core.audit, ...):
# importing the ground floor must not open every module of it.
__all__ = ["__version__"]
