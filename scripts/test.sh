#!/usr/bin/env bash
# Run the whole test suite (what CI runs through `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -q "$@"
