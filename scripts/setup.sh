#!/usr/bin/env bash
# Prepares this checkout: Debian packages the product needs (installed with apt-get only when
# missing), then a virtual environment in .venv with the Python packages of the given
# requirements file. Used by scripts/run.sh and scripts/test.sh; safe to run again.
#   usage: scripts/setup.sh requirements.txt|requirements-dev.txt [--for-tests]
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:-requirements.txt}"
for_tests="${2:-}"

ldconfig="$(command -v ldconfig || echo /sbin/ldconfig)"
missing=()
python3 -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
# WeasyPrint renders PDF reports through Pango.
"$ldconfig" -p 2>/dev/null | grep -q "libpango-1.0.so" || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
# Fonts for the PDF reports, so rendering never looks for one on the network.
fc-list 2>/dev/null | grep -qi "dejavu" || missing+=(fonts-dejavu-core fontconfig)
if [ "$for_tests" = "--for-tests" ]; then
  # The tests start their own PostgreSQL server and drive the app in headless Chromium.
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)  # PDF report pages to PNG
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)  # report workers' broker (tests/redisserver.py)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
