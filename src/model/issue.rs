//! Problems found in an input, with the place they were found (`file:line: field 'X': what`),
//! and the sink readers hand records and problems to: data, so the store and the readers share
//! it without depending on each other.

use super::records::Record;
use serde::Serialize;
use std::fmt;

/// Where a reader's records and problems go (the store's open transaction, or a test).
pub trait Sink {
    fn record(&mut self, record: Record) -> Result<(), SinkError>;
    fn issue(&mut self, kind: IssueKind, issue: &Issue) -> Result<(), SinkError>;
}

/// Error from a sink.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Row counts of one ingest: read = accepted + rejected + empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub empty: u64,
}

/// Warning (row kept) or rejection (row not stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    Warning,
    Rejection,
}

/// One problem with one value or row of an input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// 1-based line in the file.
    pub line: u64,
    /// JSON pointer or device, where a line alone is not precise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The column, key or log field the problem is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What was wrong.
    pub message: String,
    /// The value as found (never a whole row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl Issue {
    /// Displays the issue prefixed with the file name.
    pub fn in_file<'a>(&'a self, file: &'a str) -> impl fmt::Display + 'a {
        IssueIn { file, issue: self }
    }
}

struct IssueIn<'a> {
    file: &'a str,
    issue: &'a Issue,
}

impl fmt::Display for IssueIn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.issue;
        write!(f, "{}:{}:", self.file, i.line)?;
        if let Some(p) = &i.pointer {
            write!(f, " {p}:")?;
        }
        if let Some(field) = &i.field {
            write!(f, " field '{field}':")?;
        }
        write!(f, " {}", i.message)?;
        if let Some(raw) = &i.raw {
            write!(f, " (found {raw:?})")?;
        }
        Ok(())
    }
}
