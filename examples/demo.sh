#!/usr/bin/env bash
# The main job on the bundled example organisation (Fernhill Labs), end to end: ingest every
# export into a fresh store, show the joined per-asset view, evaluate the controls (and by SOC 2
# criterion), certify the wiped drives (signed, countersigned, PDF), make a compliance key, build the
# signed pack as of 2026-10-31 (directory and .tar), and verify it with evident and with the stock
# tools of docs/FORMAT.md; then a period (Type II) evaluation and pack in which two of three sample
# dates have no evidence in force; last, the auditor draws a signed sample of ENC-01 from the pack,
# verifies it against the pack, and traces one device to its raw rows. Usage: ./examples/demo.sh [OUTDIR]   (default target/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/demo}"
store="$out/evident.db"
rm -rf "$out"
mkdir -p "$out"
cargo build --quiet --release
bin=target/release/evident
# The register export carries no timestamps: its as-of date is given, as the export day.
"$bin" --store "$store" ingest --source-tz Europe/Berlin --status-map examples/snipeit-status-map.yaml \
  --as-of 2026-10-30 examples/snipeit-assets.csv
# MDMs (Intune for Windows, Jamf and Kandji for Macs), osquery's BitLocker and FileVault state,
# the wipe records (nwipe, an ITAD vendor's certificates, a Blancco-wiped lot) and HR's leavers.
"$bin" --store "$store" ingest --source-tz Europe/Berlin examples/intune-managed-devices.json \
  examples/jamf-computers-inventory.json examples/kandji-devices.json examples/osquery-results.log \
  examples/nwipe-2026-09-14.log examples/itad-certificates.csv examples/blancco-FH-LOT-2610.xml \
  examples/hr-leavers.csv
# The register had not changed since September: the same export is recorded as of 2026-09-30 too
# (the same bytes with another as-of are a second observation; the raw file is stored once).
"$bin" --store "$store" ingest --source-tz Europe/Berlin --status-map examples/snipeit-status-map.yaml \
  --as-of 2026-09-30 examples/snipeit-assets.csv
"$bin" --store "$store" assets
# IT certifies every drive wiped successfully (NIST SP 800-88): the performer signs, a second
# person countersigns with their own key, and the PDFs carry the signed record inside. The Blancco
# lot's reports carry no verification: --unverified certifies those drives marked NOT VERIFIED.
"$bin" keygen --no-passphrase --role performer --name "Sam Lee (IT, Fernhill Labs)" --out "$out/keys"
"$bin" keygen --no-passphrase --role verifier --name "Ana Ruiz (IT Security, Fernhill Labs)" --out "$out/keys"
cat "$out"/keys/*.trust > "$out/auditor.trust"
"$bin" --store "$store" certificate new --all --skip-failed --unverified --organisation "Fernhill Labs" \
  --performer "Sam Lee" --classification Confidential --destination "Recycled by GreenLoop Recycling" \
  --out "$out/certificates"
"$bin" --store "$store" certificate sign --key "$out/keys/sam-lee-it-fernhill-labs.key.pem" "$out/certificates"
"$bin" --store "$store" certificate countersign --key "$out/keys/ana-ruiz-it-security-fernhill-labs.key.pem" "$out/certificates"
"$bin" certificate render "$out/certificates"
for pdf in "$out"/certificates/*.pdf; do "$bin" verify "$pdf" --trust "$out/auditor.trust"; done
# Every control at the pack's date: which pass, which fail, and the exceptions behind each failure.
"$bin" --store "$store" evaluate --as-of 2026-10-31
"$bin" --store "$store" evaluate --as-of 2026-10-31 --framework soc2
# A fresh key each run (in clear, --no-passphrase, so the demo runs unattended): example keys are never committed.
"$bin" keygen --no-passphrase --role compliance --name "Dana Roe (Compliance, Fernhill Labs)" --out "$out/keys"
"$bin" --store "$store" pack --organisation "Fernhill Labs GmbH" --as-of 2026-10-31 --key "$out/keys/dana-roe-compliance-fernhill-labs.key.pem" \
  --out "$out/pack-2026-10-31" --archive tar
cat "$out/keys/dana-roe-compliance-fernhill-labs.trust" >> "$out/auditor.trust"
"$bin" verify "$out/pack-2026-10-31" --trust "$out/auditor.trust"
"$bin" verify "$out/pack-2026-10-31.tar" --trust "$out/auditor.trust"
# A Type II view, August to October, sampled at each month end. Only October has every export in
# force; September has the register alone and August nothing, so those dates are no_evidence and no
# state control can pass the period. The second pack carries it; its report shows it per date.
"$bin" --store "$store" evaluate --period 2026-08-01..2026-10-31 --cadence monthly
"$bin" --store "$store" pack --organisation "Fernhill Labs GmbH" --period 2026-08-01..2026-10-31 \
  --key "$out/keys/dana-roe-compliance-fernhill-labs.key.pem" --out "$out/pack-2026-08-01..2026-10-31"
"$bin" verify "$out/pack-2026-08-01..2026-10-31" --trust "$out/auditor.trust" --since "$out/pack-2026-10-31"
# The same pack checked with stock tools only (docs/FORMAT.md §4, steps 1 and 2).
(cd "$out/pack-2026-10-31" && sha256sum --quiet --strict -c SHA256SUMS && echo "sha256sum: all files OK" &&
  openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin -in manifest.json -sigfile manifest.sig)
# The auditor: a key of their own, a sample of ENC-01's population drawn with their seed (and its
# workpaper), which anyone re-derives from the pack; and one sampled device traced to its raw rows.
"$bin" keygen --no-passphrase --role auditor --name "Ines Park (Auditor, Example LLP)" --out "$out/auditor-keys"
cat "$out/auditor.trust" "$out/auditor-keys/ines-park-auditor-example-llp.trust" > "$out/auditor-and-company.trust"
"$bin" sample "$out/pack-2026-10-31.tar" --trust "$out/auditor-and-company.trust" --control ENC-01 --seed 4711 \
  --key "$out/auditor-keys/ines-park-auditor-example-llp.key.pem" --out "$out/enc-01-sample.json" --xlsx "$out/enc-01-sample.xlsx"
"$bin" verify "$out/enc-01-sample.json" --pack "$out/pack-2026-10-31.tar" --trust "$out/auditor-and-company.trust"
"$bin" trace FH-1091 --pack "$out/pack-2026-10-31.tar" --trust "$out/auditor-and-company.trust"
