#!/usr/bin/env bash
# The main job on the bundled example organisation (Fernhill Labs): ingest every export into a
# fresh store, then show the joined per-asset view. Usage: ./examples/demo.sh [STORE]
set -euo pipefail
cd "$(dirname "$0")/.."
store="${1:-target/demo/evident.db}"
mkdir -p "$(dirname "$store")"
rm -f "$store" "$store-wal" "$store-shm"
cargo build --quiet --release
bin=target/release/evident
"$bin" --store "$store" ingest --source-tz Europe/Berlin --status-map examples/snipeit-status-map.yaml \
  examples/snipeit-assets.csv examples/intune-managed-devices.json examples/jamf-computers-inventory.json \
  examples/nwipe-2026-09-14.log examples/itad-certificates.csv
"$bin" --store "$store" assets
