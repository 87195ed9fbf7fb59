//! The signed pack format (`evident-pack/1`, docs/FORMAT.md): the manifest and its entries, the
//! file names, SHA256SUMS and the Merkle root. A leaf: `verify` reads packs through it alone,
//! never through the code that builds them.

use crate::ledger::{Entry, Scope};
use serde::{Deserialize, Serialize};

/// The format this evident writes and verifies.
pub const FORMAT: &str = "evident-pack/1";
/// The format document shipped in every pack.
pub const FORMAT_DOC: &str = include_str!("../../docs/FORMAT.md");

pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";
pub const SUMS: &str = "SHA256SUMS";
pub const SIGNER: &str = "signer.pub.pem";
pub const LEDGER: &str = "ledger.jsonl";
/// An RFC 3161 TimeStampResp over the exact bytes of manifest.json (made after the signature, so
/// neither the manifest nor SHA256SUMS lists it).
pub const TIMESTAMP: &str = "manifest.tsr";

/// manifest.json. Serialised as RFC 8785 canonical JSON; the signature covers those exact bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub tool: Tool,
    pub scope: Scope,
    pub seq: u64,
    /// SHA-256 of the previous pack's manifest.json; none for the first pack of a store.
    pub prev: Option<String>,
    pub key_id: String,
    /// Every file of the pack but manifest.json, manifest.sig and SHA256SUMS, sorted by path.
    pub files: Vec<FileEntry>,
    /// RFC 6962 Merkle root over the SHA256SUMS lines of `files`, in order.
    pub merkle_root: String,
    /// The control definitions used (id@version and file hash).
    pub controls: Vec<ControlRef>,
    /// The raw exports, with the ingest report of each.
    pub sources: Vec<SourceRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlRef {
    pub id: String,
    pub version: String,
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    pub path: String,
    pub report: String,
    pub source: String,
    pub sha256: String,
    pub as_of: Option<String>,
}

impl Manifest {
    /// The canonical bytes that are signed.
    pub fn to_canonical(&self) -> Vec<u8> {
        serde_jcs::to_vec(self).expect("a manifest serialises")
    }

    /// This pack's own entry in the chain.
    pub fn entry(&self, manifest_sha256: &str) -> Entry {
        Entry { seq: self.seq, scope: self.scope.clone(), manifest_sha256: manifest_sha256.into(), prev: self.prev.clone(), key_id: self.key_id.clone() }
    }
}

/// One SHA256SUMS line (`sha256sum` text mode: two spaces), newline included.
pub fn sums_line(sha256: &str, path: &str) -> String {
    format!("{sha256}  {path}\n")
}

/// The Merkle root over the files' SHA256SUMS lines.
pub fn merkle_root(files: &[FileEntry]) -> String {
    let leaves: Vec<super::merkle::Hash> = files.iter().map(|f| super::merkle::leaf(sums_line(&f.sha256, &f.path).as_bytes())).collect();
    hex::encode(super::merkle::root(&leaves))
}

/// SHA256SUMS: every file of the manifest plus manifest.json itself, sorted by path.
pub fn sums_text(files: &[FileEntry], manifest_sha256: &str) -> String {
    let mut lines: Vec<(&str, &str)> = files.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
    lines.push((MANIFEST, manifest_sha256));
    lines.sort();
    lines.iter().map(|(p, h)| sums_line(h, p)).collect()
}
