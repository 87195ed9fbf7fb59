//! evident turns IT asset, MDM-enrollment, disk-encryption and media-wipe exports into evidence
//! an auditor accepts. This crate holds the domain logic; `src/main.rs` is a thin CLI over it.
//! The modules are listed in the order of the chain (docs/ARCHITECTURE.md): each uses only
//! modules listed above it (tests/integration/architecture.rs checks it).
#![forbid(unsafe_code)]

/// The canonical records, their vocabularies, serial keys, and the problems found in an input.
pub mod model;
/// Verification check codes and lines (a leaf shared by packs, certificates and the chain).
pub mod check;
/// The chain of packs (ledger.jsonl): entries, scopes and the chain checks.
pub mod ledger;
/// Ed25519 keys, roles and the auditor's trust list.
pub mod sign;
/// RFC 3161 time-stamp tokens: request, reply checks, offline verification against TSA roots.
pub mod timestamp;
/// Typst inside the binary: data in, PDF out (certificates).
pub mod render;
/// Controls as data (controls/*.yaml) and the framework catalogs.
pub mod controls;
/// The embedded SQLite store: raw files by SHA-256, records, ingests, packs, certificates.
pub mod store;
/// Readers: each export format into canonical records, one transaction per file.
pub mod ingest;
// Fetching exports from the source APIs into the store, page by page.
pub mod pull;
/// The joined per-asset view: every source's records of one device together.
pub mod view;
/// Certificates of sanitization: the signed record format (`record`, a leaf), building from
/// wipe records, signing, and the PDF.
pub mod certificate;
/// Controls evaluated at sample dates, with evidence in force, exceptions and populations.
pub mod evaluate;
/// The signed pack: its format (`format`, a leaf), the canonical archive, and building one.
pub mod pack;
/// Offline verification of packs and certificates; reads the leaf formats only.
pub mod verify;
/// Audit samples: a seeded selection from a verified pack, signed by the auditor, re-derivable.
pub mod sample;
/// One device traced through a pack or the store: records, raw rows, outcomes, certificates.
pub mod trace;
/// What moved between two packs.
pub mod diff;
/// The command line: argument parsing, dispatch, printing. The only module that prints.
pub mod cli;
