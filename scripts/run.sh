#!/usr/bin/env bash
# Installs what the app needs and launches it. With no settings it runs on the embedded demo:
# the demo warehouse is built on first launch. Extra arguments go to `streamlit run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
# Build the demo warehouse now rather than on the first page view.
.venv/bin/python -m copilot prepare
# This machine only, unless the caller names an address: the app refuses to serve any other
# address until a login is configured (README, "Serving to others").
address=(--server.address 127.0.0.1)
for arg in "$@"; do
    case "$arg" in --server.address|--server.address=*) address=() ;; esac
done
exec .venv/bin/python -m streamlit run streamlit_app.py "${address[@]}" "$@"
