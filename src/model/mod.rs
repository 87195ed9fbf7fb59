//! The canonical model: the source-independent records every export becomes, their closed
//! vocabularies, and serial keys. Imports nothing else from the crate.

pub mod issue;
pub mod records;
pub mod serial;
pub mod vocab;

pub use issue::{Counts, Issue, IssueKind, Sink, SinkError};
pub use records::*;
pub use serial::Serial;
pub use vocab::*;
