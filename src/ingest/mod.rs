//! Reading exports into canonical records: format detection, one reader per source, and the
//! bookkeeping that makes every row either a record, a counted empty row, or a named rejection.

// An ingest error is made once per file, not per row, and carries its location and hint: its
// size costs nothing worth boxing it for.
#![allow(clippy::result_large_err)]

pub mod blancco;
mod file;
pub mod fleet;
pub mod google;
pub mod hr;
pub mod intune;
pub mod itad;
pub mod jamf;
pub mod json;
pub mod kandji;
pub mod mapping;
pub mod nwipe;
pub mod osquery;
pub mod readers;
pub mod row;
pub mod table;
pub mod text;

pub use file::{RunError, ingest_file, ingest_in};
pub mod snipeit;

pub use crate::model::issue::{Counts, Issue, IssueKind, Sink, SinkError};
use crate::model::{Instant, Lifecycle, Record};
use chrono_tz::Tz;
use row::RowCtx;
use serde::Serialize;
use std::collections::BTreeMap;
pub use text::Encoding;

/// The export formats evident reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Snipe-IT custom asset report or asset-import CSV.
    #[value(name = "snipeit_csv")]
    SnipeitCsv,
    /// Snipe-IT `/api/v1/hardware` JSON.
    #[value(name = "snipeit_api")]
    SnipeitApi,
    /// Microsoft Graph `managedDevice` JSON (list or single device).
    #[value(name = "intune_graph")]
    IntuneGraph,
    /// Intune portal "DevicesWithInventory" CSV.
    #[value(name = "intune_csv")]
    IntuneCsv,
    /// Jamf Pro `/api/v1/computers-inventory` JSON.
    #[value(name = "jamf_api")]
    JamfApi,
    /// Jamf Pro Classic API `/JSSResource/computers` JSON.
    #[value(name = "jamf_classic")]
    JamfClassic,
    /// Jamf Pro advanced computer search CSV.
    #[value(name = "jamf_csv")]
    JamfCsv,
    /// Kandji `/api/v1/devices` list or `/api/v1/devices/{id}/details` JSON.
    #[value(name = "kandji_api")]
    KandjiApi,
    /// Fleet `/api/v1/fleet/hosts` list or one host JSON.
    #[value(name = "fleet_api")]
    FleetApi,
    /// Fleet hosts report CSV (`/api/v1/fleet/hosts/report?format=csv`).
    #[value(name = "fleet_csv")]
    FleetCsv,
    /// Google Admin SDK `chromeosdevices` or Cloud Identity `devices` JSON.
    #[value(name = "google_api")]
    GoogleApi,
    /// osquery `disk_encryption` / `bitlocker_info` rows with the host serial: `osqueryi --json`
    /// output of the query joined with `system_info`, or the results log with a decorator.
    #[value(name = "osquery_json")]
    OsqueryJson,
    /// nwipe / ShredOS log.
    #[value(name = "nwipe_log")]
    NwipeLog,
    /// ITAD vendor certificate-of-destruction CSV.
    #[value(name = "itad_csv")]
    ItadCsv,
    /// HR leaver list CSV (employee id or email, termination date).
    #[value(name = "hr_csv")]
    HrCsv,
    /// Any CSV or JSON export read through a mapping file (`--mapping`).
    #[value(name = "mapping")]
    Mapping,
    /// Blancco Drive Eraser erasure report XML (single or bulk).
    #[value(name = "blancco_xml")]
    BlanccoXml,
}

impl SourceKind {
    /// Stable name, as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::SnipeitCsv => "snipeit_csv",
            SourceKind::SnipeitApi => "snipeit_api",
            SourceKind::IntuneGraph => "intune_graph",
            SourceKind::IntuneCsv => "intune_csv",
            SourceKind::JamfApi => "jamf_api",
            SourceKind::KandjiApi => "kandji_api",
            SourceKind::FleetApi => "fleet_api",
            SourceKind::FleetCsv => "fleet_csv",
            SourceKind::GoogleApi => "google_api",
            SourceKind::OsqueryJson => "osquery_json",
            SourceKind::JamfClassic => "jamf_classic",
            SourceKind::JamfCsv => "jamf_csv",
            SourceKind::NwipeLog => "nwipe_log",
            SourceKind::ItadCsv => "itad_csv",
            SourceKind::BlanccoXml => "blancco_xml",
            SourceKind::HrCsv => "hr_csv",
            SourceKind::Mapping => "mapping",
        }
    }

    /// Sources whose rows are a snapshot of a fleet (a newer export replaces an older one),
    /// as opposed to events (every wipe log adds to the record).
    pub fn is_snapshot(self) -> bool {
        !matches!(self, SourceKind::NwipeLog | SourceKind::ItadCsv | SourceKind::BlanccoXml)
    }
}

/// How to interpret an input: everything that changes the meaning of its bytes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Options {
    /// Skip detection and read the file as this source.
    pub source: Option<SourceKind>,
    pub encoding: Encoding,
    /// Time zone for timestamps without offset (Snipe-IT, nwipe, CSV exports).
    #[serde(serialize_with = "ser_tz")]
    pub source_tz: Option<Tz>,
    /// The export's as-of time, when the file does not carry it.
    pub as_of: Option<Instant>,
    /// strftime format for dates in CSV sources whose format is not fixed (ITAD, Snipe-IT import).
    pub date_format: Option<String>,
    /// Per-install map from Snipe-IT status label to lifecycle.
    pub status_map: BTreeMap<String, Lifecycle>,
    /// Store accepted rows even if some rows are rejected (each rejection is recorded).
    pub allow_rejects: bool,
    /// Canonical field → the customer's own field name in a report's user data (Blancco
    /// `user_data`): `asset_tag`, `lot`, `operator`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub user_fields: BTreeMap<String, String>,
    /// A declarative mapping that reads the file instead of a built-in reader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<mapping::Mapping>,
    /// One page of an API pull (`evident pull`), which fetches every page and checks their sum
    /// against the source's total itself: the page's "more pages" markers are not a warning.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pulled: bool,
    /// The live ingest this one replaces (a corrected export): kept in the audit trail, out of
    /// evaluation. Not part of how the bytes are read, so not part of the observation.
    #[serde(skip)]
    pub supersedes: Option<i64>,
}

fn ser_tz<S: serde::Serializer>(tz: &Option<Tz>, s: S) -> Result<S::Ok, S::Error> {
    match tz {
        Some(tz) => s.serialize_str(tz.name()),
        None => s.serialize_none(),
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub file: String,
    pub source: SourceKind,
    pub sha256: String,
    pub size: u64,
    pub encoding: &'static str,
    pub as_of: Option<String>,
    /// `flag` (from --as-of), `records` (newest time in the file) or `none`.
    pub as_of_basis: &'static str,
    pub counts: Counts,
    pub records: u64,
    pub warnings_total: u64,
    /// The first warnings (all are in the store).
    pub warnings: Vec<Issue>,
    pub rejections: Vec<Issue>,
    /// Columns of a CSV that no field was read from, in file order, or the top-level keys of a
    /// JSON reader's records it does not read, sorted (`None` for text logs and XML).
    pub unread: Option<Vec<String>>,
    /// Every warning counted by the field it names (`""`: the row as a whole).
    pub warning_kinds: std::collections::BTreeMap<String, u64>,
    /// Set when the same bytes were ingested before: nothing was done.
    pub already_ingested: Option<i64>,
    pub ingest_id: Option<i64>,
}

/// How many issues of each kind a report keeps in memory for display.
pub const SHOWN_ISSUES: usize = 200;

/// Reports progress through a file, in bytes (from the reader thread).
pub trait Progress: Sync {
    fn set_position(&self, bytes: u64);
}

impl Progress for () {
    fn set_position(&self, _: u64) {}
}

/// Errors that stop a file from being ingested. The store is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The content matches no known export.
    #[error("{file}: cannot tell which export this is ({detail})")]
    Unrecognized { file: String, detail: String },
    /// A Snipe-IT users or licences file, or similar: nothing in it is an asset record.
    #[error("{file}: this is {what}, not an asset export")]
    NotAnAssetExport { file: String, what: String },
    /// The file as a whole cannot be read (bad JSON, missing column, bad encoding).
    #[error("{}", .issue.in_file(.file))]
    BadFile { file: String, issue: Issue, hint: Option<String> },
    /// Rows were rejected and `--allow-rejects` was not given.
    #[error("{file}: {} of {} rows rejected; nothing was stored", .report.counts.rejected, .report.counts.read)]
    Rejected { file: String, report: Box<Report> },
    /// The sink (store) failed.
    #[error("{file}: writing to the store failed: {source}")]
    Sink { file: String, source: SinkError },
}

impl Error {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Unrecognized { .. } => Some("name the format with --source (see `evident ingest --help` for the list); the store was not changed".into()),
            Error::NotAnAssetExport { .. } => {
                Some("export assets (Snipe-IT: Reports > Custom Asset Report, or /api/v1/hardware); the store was not changed".into())
            }
            Error::BadFile { hint, .. } => Some(format!("{}the store was not changed", hint.as_ref().map(|h| format!("{h}; ")).unwrap_or_default())),
            Error::Rejected { .. } => Some(
                "fix the rows above and ingest again, or pass --allow-rejects to store the other rows and record each rejection; the store was not changed"
                    .into(),
            ),
            Error::Sink { .. } => Some("the store was not changed".into()),
        }
    }

    pub(crate) fn bad_file(file: &str, line: u64, field: Option<&str>, message: impl Into<String>, hint: Option<&str>) -> Error {
        Error::BadFile {
            file: file.to_string(),
            issue: Issue { line, pointer: None, field: field.map(str::to_string), message: message.into(), raw: None },
            hint: hint.map(str::to_string),
        }
    }
}

/// Collects rows from a reader: counts them, stores records and issues through the sink.
pub struct Emitter<'a> {
    pub file: &'a str,
    pub opts: &'a Options,
    sink: &'a mut dyn Sink,
    progress: &'a dyn Progress,
    pub counts: Counts,
    pub records: u64,
    pub warnings_total: u64,
    pub warnings: Vec<Issue>,
    pub rejections: Vec<Issue>,
    pub newest: Option<Instant>,
    /// Columns of a CSV that no field was read from (set by the reader table after reading), or
    /// the keys of JSON records not read (set by the JSON readers).
    pub unread: Option<Vec<String>>,
    /// Every warning counted by the field it names (empty: the row as a whole).
    pub warning_kinds: std::collections::BTreeMap<String, u64>,
    /// First line of each (record kind, usable serial) seen, to report duplicates in one export.
    seen: foldhash::HashMap<(u8, String), u64>,
}

impl<'a> Emitter<'a> {
    pub fn new(file: &'a str, opts: &'a Options, sink: &'a mut dyn Sink, progress: &'a dyn Progress) -> Self {
        Emitter {
            file,
            opts,
            sink,
            progress,
            counts: Counts::default(),
            records: 0,
            warnings_total: 0,
            warnings: Vec::new(),
            rejections: Vec::new(),
            newest: None,
            unread: None,
            warning_kinds: Default::default(),
            seen: foldhash::HashMap::default(),
        }
    }

    /// A row context with the source time zone.
    pub fn ctx(&self, line: u64, pointer: Option<String>, raw: &[u8]) -> RowCtx<'a> {
        RowCtx::new(line, pointer, raw, self.opts.source_tz.as_ref())
    }

    /// One input row and what it became.
    pub fn row(&mut self, ctx: RowCtx, result: Result<Vec<Record>, Issue>) -> Result<(), Error> {
        self.counts.read += 1;
        match result {
            Ok(records) => {
                self.counts.accepted += 1;
                for w in &ctx.warnings {
                    self.warning(w.clone())?;
                }
                for r in records {
                    self.note_duplicate(&r, &ctx)?;
                    self.note_time(&r);
                    self.sink.record(r).map_err(|source| Error::Sink { file: self.file.to_string(), source })?;
                    self.records += 1;
                }
                Ok(())
            }
            Err(issue) => {
                self.counts.rejected += 1;
                self.sink.issue(IssueKind::Rejection, &issue).map_err(|source| Error::Sink { file: self.file.to_string(), source })?;
                if self.rejections.len() < SHOWN_ISSUES {
                    self.rejections.push(issue);
                }
                Ok(())
            }
        }
    }

    /// An all-empty row (`,,,,`): counted, not stored.
    pub fn empty_row(&mut self) {
        self.counts.read += 1;
        self.counts.empty += 1;
    }

    /// A warning that the export is one page of several: the population is incomplete.
    pub fn incomplete(&mut self, field: &str, message: String) -> Result<(), Error> {
        if self.opts.pulled {
            return Ok(());
        }
        self.warning(Issue { line: 1, pointer: Some(format!("/{field}")), field: Some(field.into()), message, raw: None })
    }

    /// A warning about the file or a kept row.
    pub fn warning(&mut self, issue: Issue) -> Result<(), Error> {
        self.warnings_total += 1;
        *self.warning_kinds.entry(issue.field.clone().unwrap_or_default()).or_default() += 1;
        self.sink.issue(IssueKind::Warning, &issue).map_err(|source| Error::Sink { file: self.file.to_string(), source })?;
        if self.warnings.len() < SHOWN_ISSUES {
            self.warnings.push(issue);
        }
        Ok(())
    }

    pub fn progress(&self, bytes: u64) {
        self.progress.set_position(bytes);
    }

    /// Same serial twice in one export (re-enrolment, no unique rule): both rows are kept, and said.
    fn note_duplicate(&mut self, r: &Record, ctx: &RowCtx) -> Result<(), Error> {
        let (kind, serial) = match r {
            Record::Asset(a) => (0, &a.serial),
            Record::Enrollment(e) => (1, &e.serial),
            _ => return Ok(()),
        };
        let Some(key) = serial.join_key() else { return Ok(()) };
        match self.seen.entry((kind, key.to_string())) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let first = *first.get();
                let issue = ctx.issue("serial", format!("serial also on line {first} of this export: both records are kept (duplicate)"), Some(&serial.raw));
                self.warning(issue)
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(ctx.line);
                Ok(())
            }
        }
    }

    fn note_time(&mut self, r: &Record) {
        let t = match r {
            Record::Asset(a) => a.last_seen_at.or(a.last_audit_at),
            Record::Enrollment(e) => e.last_checkin_at,
            Record::Encryption(e) => e.observed_at,
            Record::Wipe(w) => w.completed_at.or(w.started_at),
            Record::MediaLink(_) | Record::Leaver(_) => None,
        };
        if let Some(t) = t {
            self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
        }
    }
}

/// A decoded input ready for a reader.
pub struct Input<'a> {
    pub file: &'a str,
    /// UTF-8 (validated per row by the readers for `auto` encoding).
    pub bytes: &'a [u8],
}

/// Detects the source (unless given) and reads the file through the emitter.
pub fn read(input: &Input, em: &mut Emitter) -> Result<SourceKind, Error> {
    if let Some(m) = &em.opts.mapping {
        mapping::read(input, em, m)?;
        return Ok(SourceKind::Mapping);
    }
    if em.opts.source == Some(SourceKind::Mapping) {
        return Err(Error::bad_file(input.file, 1, None, "--source mapping needs --mapping FILE (a mapping file, see docs/ingest.md)", None));
    }
    readers::read(input, em)
}
