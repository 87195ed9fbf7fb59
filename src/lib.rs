//! evident turns IT asset, MDM-enrollment, disk-encryption and media-wipe exports into evidence
//! an auditor accepts. This crate holds the domain logic; `src/main.rs` is a thin CLI over it.
#![forbid(unsafe_code)]

pub mod certificate;
pub mod check;
pub mod cli;
pub mod controls;
pub mod diff;
pub mod evaluate;
pub mod ingest;
pub mod ledger;
pub mod model;
pub mod pack;
pub mod render;
pub mod sign;
pub mod store;
pub mod verify;
pub mod view;
