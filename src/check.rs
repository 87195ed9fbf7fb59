//! One line of a verification verdict: a code (documented in docs/FORMAT.md or
//! docs/certificates.md), whether it passed, and what was found. Shared by packs and certificates.

use serde::Serialize;

/// One line of the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub code: &'static str,
    pub ok: bool,
    pub detail: String,
}
