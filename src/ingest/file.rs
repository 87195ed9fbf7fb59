//! One file into the store: the same observation twice is a no-op; otherwise one transaction,
//! a reader thread that parses and maps, and this thread writing records to SQLite. A file with
//! a rejected row (without `--allow-rejects`) or any error leaves the store as it was.

use super::{Counts, Emitter, Error, Input, Issue, IssueKind, Options, Progress, Report, Sink, SinkError, SourceKind, read, row, text};
use crate::model::{Instant, Record};

const BATCH: usize = 512;

/// What the reader thread hands to the writing thread. Records go unboxed: boxing each of a
/// million records would cost an allocation apiece for nothing.
#[allow(clippy::large_enum_variant)]
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
    unread: Option<Vec<String>>,
    warning_kinds: std::collections::BTreeMap<String, u64>,
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
pub fn ingest_file(store: &mut crate::store::Store, path: &std::path::Path, opts: &Options, progress: &dyn Progress) -> Result<Report, RunError> {
    let stdin = path.as_os_str() == "-";
    let shown = if stdin { "(stdin)".to_string() } else { path.display().to_string() };
    let bytes = if stdin {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut b).map(|_| b)
    } else {
        std::fs::read(path)
    }
    .map_err(|source| RunError::Read { path: shown.clone(), source })?;
    let sha256 = row::hex_digest(&bytes);
    // Standard input has no name: the ingest records `stdin` (the bytes and their hash identify it).
    let file_name = if stdin { "stdin".to_string() } else { path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| shown.clone()) };
    let options_json = serde_json::to_string(opts).expect("options serialise");
    if let Some(prev) = store.same_observation(&sha256, &options_json)? {
        return Ok(already(shown, sha256, bytes.len() as u64, prev));
    }
    let tx = store.begin_ingest(&file_name, &bytes, &sha256)?;
    ingest_in(tx, &shown, &bytes, sha256, opts, progress)
}

/// Reads bytes whose ingest is open (a file's own transaction, or a pulled page's inside its
/// pull) and commits it with its report. Any error drops the transaction: nothing is stored.
pub fn ingest_in(
    mut tx: crate::store::IngestTx,
    shown: &str,
    bytes: &[u8],
    sha256: String,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<Report, RunError> {
    let options_json = serde_json::to_string(opts).expect("options serialise");
    let decoded = text::decode(bytes, opts.encoding)
        .map_err(|e| Error::bad_file(shown, e.line, None, format!("not valid {}", e.encoding), Some("the file is damaged or in another encoding")))?;
    let input = Input { file: shown, bytes: &decoded.bytes };
    let (source, em) = read_into(&mut tx, &input, opts, progress)?;
    let (as_of, as_of_basis) = match (opts.as_of, em.newest) {
        // A pulled page is as of its pull (its start, or the pull's --as-of).
        (Some(t), _) => (Some(crate::model::instant_text(&t)), if opts.pulled { "pull" } else { "flag" }),
        (None, Some(t)) => (Some(crate::model::instant_text(&t)), "records"),
        (None, None) => (None, "none"),
    };
    let report = Report {
        file: shown.to_string(),
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
        unread: em.unread,
        warning_kinds: em.warning_kinds,
        already_ingested: None,
        ingest_id: None,
    };
    if report.counts.rejected > 0 && !opts.allow_rejects {
        return Err(Error::Rejected { file: shown.to_string(), report: Box::new(report) }.into());
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
        unread: prev.unread,
        warning_kinds: Default::default(),
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
                unread: std::mem::take(&mut em.unread),
                warning_kinds: std::mem::take(&mut em.warning_kinds),
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
        unread: r.unread.as_deref(),
    }
}
