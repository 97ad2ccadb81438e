#!/usr/bin/env bash
# The main job on the bundled demo data: a fresh project in demo-project/, the demo transcripts
# ingested and segmented, and the project's status printed.
set -euo pipefail
cd "$(dirname "$0")/.."
CODER=.venv/bin/coder
OUT=${DEMO_DIR:-demo-project}
rm -rf "$OUT"
set -x
$CODER init "$OUT" --codebook politisk-exit
$CODER ingest "$OUT" data/demo/transcripts
$CODER status "$OUT"
$CODER precode "$OUT"
$CODER score "$OUT" --source all --html "$OUT/report.html" --markdown "$OUT/report.md"
