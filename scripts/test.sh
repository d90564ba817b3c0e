#!/usr/bin/env bash
# Installs what the tests need (PostgreSQL and Redis servers and Chromium included) and runs the whole
# suite and the linter. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt --for-tests
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
