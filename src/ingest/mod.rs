//! Reading exports into canonical records: format detection, one reader per source, and the
//! bookkeeping that makes every row either a record, a counted empty row, or a named rejection.

pub mod row;
pub mod table;
pub mod text;
pub mod json;
pub mod itad;
pub mod blancco;
pub mod hr;
pub mod mapping;
pub mod intune;
pub mod fleet;
pub mod google;
pub mod osquery;
pub mod jamf;
pub mod kandji;
pub mod nwipe;
pub mod snipeit;

use crate::model::{Instant, Lifecycle, Record};
use chrono_tz::Tz;
pub use crate::model::issue::{Issue, IssueKind, Sink, SinkError};
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

/// Row counts of one ingest: read = accepted + rejected + empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub empty: u64,
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
            Error::Unrecognized { .. } => Some(
                "name the format with --source (see `evident ingest --help` for the list); the store was not changed".into(),
            ),
            Error::NotAnAssetExport { .. } => {
                Some("export assets (Snipe-IT: Reports > Custom Asset Report, or /api/v1/hardware); the store was not changed".into())
            }
            Error::BadFile { hint, .. } => {
                Some(format!("{}the store was not changed", hint.as_ref().map(|h| format!("{h}; ")).unwrap_or_default()))
            }
            Error::Rejected { .. } => Some(
                "fix the rows above and ingest again, or pass --allow-rejects to store the other rows and record each rejection; the store was not changed".into(),
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

    /// A warning about the file or a kept row.
    /// A warning that the export is one page of several: the population is incomplete.
    pub fn incomplete(&mut self, field: &str, message: String) -> Result<(), Error> {
        self.warning(Issue { line: 1, pointer: Some(format!("/{field}")), field: Some(field.into()), message, raw: None })
    }

    pub fn warning(&mut self, issue: Issue) -> Result<(), Error> {
        self.warnings_total += 1;
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
    let first = input.bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    // An nwipe log starts with '[' too: look for its timestamped lines before trying JSON.
    let log = em.opts.source == Some(SourceKind::NwipeLog) || (em.opts.source.is_none() && nwipe::looks_like(input.bytes));
    if em.opts.source == Some(SourceKind::BlanccoXml) || (em.opts.source.is_none() && first == Some(b'<')) {
        if em.opts.source.is_none() && !blancco::looks_like(input.bytes) {
            return Err(Error::Unrecognized { file: input.file.to_string(), detail: "XML that is not a Blancco erasure report".into() });
        }
        blancco::read(input, em)?;
        return Ok(SourceKind::BlanccoXml);
    }
    // The osquery results log is JSON lines, not one document.
    if matches!(em.opts.source, None | Some(SourceKind::OsqueryJson)) && first == Some(b'{') && osquery::looks_like_log(input.bytes) {
        osquery::read_log(input, em)?;
        return Ok(SourceKind::OsqueryJson);
    }
    if !log && matches!(first, Some(b'{') | Some(b'[')) && !matches!(em.opts.source, Some(k) if !is_json_kind(k)) {
        let doc = json::Doc::parse(input)?;
        let kind = match em.opts.source {
            Some(k) => k,
            None => json::detect(&doc.value).ok_or_else(|| Error::Unrecognized {
                file: input.file.to_string(),
                detail: format!("JSON with top-level keys {}", json::top_keys(&doc.value)),
            })?,
        };
        match kind {
            SourceKind::SnipeitApi => snipeit::read_api(&doc, em)?,
            SourceKind::IntuneGraph => intune::read_graph(&doc, em)?,
            SourceKind::JamfApi => jamf::read_api(&doc, em)?,
            SourceKind::JamfClassic => jamf::read_classic(&doc, em)?,
            SourceKind::KandjiApi => kandji::read(&doc, em)?,
            SourceKind::FleetApi => fleet::read_json(&doc, em)?,
            SourceKind::GoogleApi => google::read(&doc, em)?,
            SourceKind::OsqueryJson => osquery::read_rows(&doc, em)?,
            _ => unreachable!("is_json_kind"),
        }
        return Ok(kind);
    }
    if log {
        nwipe::read(input, em)?;
        return Ok(SourceKind::NwipeLog);
    }
    if let Some(k) = em.opts.source {
        if is_json_kind(k) {
            return Err(Error::bad_file(input.file, 1, None, format!("{} is a JSON format, but the file is not JSON", k.as_str()), None));
        }
    }
    let table = table::Table::open(input)?;
    let kind = match em.opts.source {
        Some(k) => k,
        None => detect_csv(input.file, &table)?,
    };
    match kind {
        SourceKind::SnipeitCsv => snipeit::read_csv(&table, em)?,
        SourceKind::IntuneCsv => intune::read_csv(&table, em)?,
        SourceKind::JamfCsv => jamf::read_csv(&table, em)?,
        SourceKind::ItadCsv => itad::read(&table, em)?,
        SourceKind::FleetCsv => fleet::read_csv(&table, em)?,
        SourceKind::HrCsv => hr::read(&table, em)?,
        _ => unreachable!("CSV kinds only"),
    }
    Ok(kind)
}

fn is_json_kind(k: SourceKind) -> bool {
    matches!(k, SourceKind::SnipeitApi | SourceKind::IntuneGraph | SourceKind::JamfApi | SourceKind::JamfClassic | SourceKind::KandjiApi | SourceKind::FleetApi | SourceKind::GoogleApi | SourceKind::OsqueryJson)
}

fn detect_csv(file: &str, table: &table::Table) -> Result<SourceKind, Error> {
    if table.has_any(&["seats", "licensed to name", "licensed to email", "reassignable"]) {
        return Err(Error::NotAnAssetExport { file: file.into(), what: "a Snipe-IT licence import file".into() });
    }
    if table.has_any(hr::DETECT) {
        return Ok(SourceKind::HrCsv);
    }
    if table.has_any(itad::DETECT) {
        return Ok(SourceKind::ItadCsv);
    }
    if table.has_all(&["hardware_serial", "id"]) {
        return Ok(SourceKind::FleetCsv);
    }
    if table.has_any(intune::CSV_DETECT) {
        return Ok(SourceKind::IntuneCsv);
    }
    if table.has_any(jamf::CSV_DETECT) {
        return Ok(SourceKind::JamfCsv);
    }
    if table.has_any(snipeit::CSV_ID_COLUMNS) {
        return Ok(SourceKind::SnipeitCsv);
    }
    if table.has_all(&["first name", "last name"]) || table.has_all(&["username", "email"]) {
        return Err(Error::NotAnAssetExport {
            file: file.into(),
            what: "a user list (no asset tag or serial column)".into(),
        });
    }
    Err(Error::Unrecognized { file: file.into(), detail: format!("CSV with columns {}", table.header_summary()) })
}

const BATCH: usize = 512;

/// What the reader thread hands to the writing thread.
enum Msg {
    Record(Record),
    Issue(IssueKind, Issue),
}

struct ChannelSink {
    out: std::sync::mpsc::SyncSender<Vec<Msg>>,
    batch: Vec<Msg>,
}

impl ChannelSink {
    fn push(&mut self, m: Msg) -> Result<(), SinkError> {
        self.batch.push(m);
        if self.batch.len() >= BATCH { self.flush() } else { Ok(()) }
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.out.send(batch).map_err(|_| "the store writer stopped".into())
    }
}

impl Sink for ChannelSink {
    fn record(&mut self, record: Record) -> Result<(), SinkError> {
        self.push(Msg::Record(record))
    }
    fn issue(&mut self, kind: IssueKind, issue: &Issue) -> Result<(), SinkError> {
        self.push(Msg::Issue(kind, issue.clone()))
    }
}

/// What the reader thread found, for the report.
struct Summary {
    counts: Counts,
    records: u64,
    warnings_total: u64,
    warnings: Vec<Issue>,
    rejections: Vec<Issue>,
    newest: Option<Instant>,
}

/// Why a file could not be ingested (file content, reading, or the store).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error(transparent)]
    Input(#[from] Error),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

impl RunError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RunError::Read { .. } => Some("check the path; the store was not changed".into()),
            RunError::Input(e) => e.hint(),
            RunError::Store(e) => e.hint(),
        }
    }
}

/// Ingests one file in one transaction: the same bytes with the same options twice is a no-op;
/// any rejected row (without `allow_rejects`) or any file-level error leaves the store exactly as
/// it was.
pub fn ingest_file(
    store: &mut crate::store::Store,
    path: &std::path::Path,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<Report, RunError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| RunError::Read { path: shown.clone(), source })?;
    let sha256 = row::hex_digest(&bytes);
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| shown.clone());
    let options_json = serde_json::to_string(opts).expect("options serialise");
    if let Some(prev) = store.same_observation(&sha256, &options_json)? {
        return Ok(already(shown, sha256, bytes.len() as u64, prev));
    }
    let decoded = text::decode(&bytes, opts.encoding).map_err(|e| {
        Error::bad_file(&shown, e.line, None, format!("not valid {}", e.encoding), Some("the file is damaged or in another encoding"))
    })?;
    let input = Input { file: &shown, bytes: &decoded.bytes };
    let mut tx = store.begin_ingest(&file_name, &bytes, &sha256)?;
    let (source, em) = read_into(&mut tx, &input, opts, progress)?;
    let (as_of, as_of_basis) = match (opts.as_of, em.newest) {
        (Some(t), _) => (Some(crate::model::instant_text(&t)), "flag"),
        (None, Some(t)) => (Some(crate::model::instant_text(&t)), "records"),
        (None, None) => (None, "none"),
    };
    let report = Report {
        file: shown.clone(),
        source,
        sha256,
        size: bytes.len() as u64,
        encoding: decoded.encoding,
        as_of,
        as_of_basis,
        counts: em.counts,
        records: em.records,
        warnings_total: em.warnings_total,
        warnings: em.warnings,
        rejections: em.rejections,
        already_ingested: None,
        ingest_id: None,
    };
    if report.counts.rejected > 0 && !opts.allow_rejects {
        return Err(Error::Rejected { file: shown, report: Box::new(report) }.into());
    }
    let id = tx.commit(&observed(&report), &options_json, opts.supersedes)?;
    Ok(Report { ingest_id: Some(id), ..report })
}

/// The report of an observation that is already in the store.
fn already(file: String, sha256: String, size: u64, prev: crate::store::IngestRow) -> Report {
    Report {
        file,
        source: <SourceKind as clap::ValueEnum>::from_str(&prev.source, false).unwrap_or(SourceKind::SnipeitCsv),
        sha256,
        size,
        encoding: "",
        as_of: prev.as_of,
        as_of_basis: "",
        counts: Counts { read: prev.rows_read as u64, accepted: prev.rows_accepted as u64, rejected: prev.rows_rejected as u64, empty: prev.rows_empty as u64 },
        records: 0,
        warnings_total: prev.warnings as u64,
        warnings: Vec::new(),
        rejections: Vec::new(),
        already_ingested: Some(prev.id),
        ingest_id: Some(prev.id),
    }
}

/// Reads the input into the open transaction on two threads: the reader parses and maps, this
/// thread writes to SQLite (the connection stays on the thread that opened it). Batches keep
/// channel overhead low. Returns the source the input was read as, and what the reader counted.
fn read_into(tx: &mut crate::store::IngestTx, input: &Input, opts: &Options, progress: &dyn Progress) -> Result<(SourceKind, Summary), RunError> {
    let (send, recv) = std::sync::mpsc::sync_channel::<Vec<Msg>>(16);
    let (parsed, write_err) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut sink = ChannelSink { out: send, batch: Vec::with_capacity(BATCH) };
            let mut em = Emitter::new(input.file, opts, &mut sink, progress);
            let kind = read(input, &mut em);
            let summary = Summary {
                counts: em.counts,
                records: em.records,
                warnings_total: em.warnings_total,
                warnings: std::mem::take(&mut em.warnings),
                rejections: std::mem::take(&mut em.rejections),
                newest: em.newest,
            };
            drop(em);
            let flushed = sink.flush();
            (kind, summary, flushed)
        });
        let mut write_err = None;
        'batches: for batch in recv.iter() {
            for msg in batch {
                let r = match &msg {
                    Msg::Record(rec) => tx.insert_record(rec),
                    Msg::Issue(kind, issue) => tx.issue(*kind, issue),
                };
                if let Err(e) = r {
                    write_err = Some(e);
                    break 'batches;
                }
            }
        }
        drop(recv); // unblocks the reader if we stopped early
        (reader.join().expect("reader thread does not panic"), write_err)
    });
    if let Some(source) = write_err {
        return Err(Error::Sink { file: input.file.to_string(), source }.into());
    }
    let (kind, em, _) = parsed;
    Ok((kind?, em))
}

/// What the store records of an ingest.
fn observed(r: &Report) -> crate::store::Observed<'_> {
    crate::store::Observed {
        source: r.source.as_str(),
        encoding: r.encoding,
        as_of: r.as_of.as_deref(),
        as_of_basis: r.as_of_basis,
        read: r.counts.read,
        accepted: r.counts.accepted,
        rejected: r.counts.rejected,
        empty: r.counts.empty,
        records: r.records,
        warnings: r.warnings_total,
    }
}
