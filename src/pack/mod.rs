//! The signed evidence pack (DESIGN §6, docs/FORMAT.md): raw sources with their ingest reports,
//! results, a report, the ledger, and a canonical manifest.json that names every file by size
//! and SHA-256, their Merkle root and the predecessor pack; signed with the compliance key.

pub mod archive;
pub mod format;
pub mod merkle;
pub mod oscal;
mod report;

pub use format::{
    ControlRef, FORMAT, FORMAT_DOC, FileEntry, LEDGER, MANIFEST, Manifest, SIGNATURE, SIGNER, SUMS, SourceRef, TIMESTAMP, Tool, merkle_root, sums_line,
    sums_text,
};

use crate::ledger::{Entry, Scope};
use crate::sign::SecretKey;
use crate::store::Store;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Pack errors (all "could not run": exit 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{0} already exists: a pack is never written over")]
    Exists(PathBuf),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error("no Time-Stamping Authority gave a valid token, so no pack was written: {0}")]
    Timestamp(String),
    #[error("no ingest in the store is dated on or before {0}: the pack would hold no evidence")]
    Empty(chrono::NaiveDate),
    #[error("control {id}@{version} ({file}) differs from the {id}@{version} recorded in pack {seq}")]
    VersionNotBumped { id: String, version: String, seq: u64, file: String },
}

impl Error {
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Exists(_) => Some("choose a new --out directory".into()),
            Error::Store(e) => e.hint(),
            Error::Empty(_) => Some("ingest exports first (`evident ingest FILE`), or pick a later date".into()),
            Error::VersionNotBumped { .. } => {
                Some("raise its `version:` when a control's meaning changes (an id@version must always mean the same rule)".into())
            }
            Error::Timestamp(_) => Some("check the --tsa URL and the network, or pack without --tsa".into()),
            Error::Io { .. } => None,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.into(), err: source }
}

/// What `evident pack` is asked for.
pub struct Request<'a> {
    pub scope: Scope,
    pub key: &'a SecretKey,
    pub out: &'a Path,
    pub archive: Option<archive::Kind>,
    /// The controls used and the evaluation to run for this scope: the pack runs it, writing each
    /// control's population to its files as it is judged.
    pub controls: Option<(&'a crate::controls::Library, &'a crate::evaluate::Request<'a>)>,
    /// Told how far the pack has got (`&()`: nobody).
    pub progress: &'a dyn crate::evaluate::Progress,
    /// Time-Stamping Authorities to ask, in order, for an RFC 3161 token over manifest.json (the
    /// first that answers well; none: no timestamp).
    pub tsa: &'a [String],
}

/// What `evident pack` made.
#[derive(Debug, Serialize)]
pub struct Built {
    pub dir: PathBuf,
    pub archive: Option<PathBuf>,
    pub seq: u64,
    pub manifest_sha256: String,
    pub merkle_root: String,
    pub files: usize,
    pub bytes: u64,
    pub key_id: String,
    /// Ingests dated after the scope's end: not in this pack.
    pub left_out: Vec<String>,
    /// Ingests with no date (no times in the records, no --as-of): in the pack, and said.
    pub undated: Vec<String>,
}

/// Writes files under a directory, hashing as it goes.
struct Writer {
    root: PathBuf,
    files: Vec<FileEntry>,
}

struct Hashing<W> {
    inner: W,
    hash: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A file of the pack being written.
struct Open {
    rel: String,
    path: PathBuf,
    w: Hashing<std::io::BufWriter<std::fs::File>>,
}

impl Writer {
    fn create(&self, rel: &str) -> Result<Open, Error> {
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let file = std::fs::File::create_new(&path).map_err(io(&path))?;
        let w = Hashing { inner: std::io::BufWriter::with_capacity(1 << 18, file), hash: Sha256::new(), size: 0 };
        Ok(Open { rel: rel.into(), path, w })
    }

    fn close(&mut self, mut f: Open) -> Result<(), Error> {
        f.w.flush().map_err(io(&f.path))?;
        self.files.push(FileEntry { path: f.rel, size: f.w.size, sha256: hex::encode(f.w.hash.finalize()) });
        Ok(())
    }

    fn with(&mut self, rel: &str, fill: impl FnOnce(&mut dyn Write) -> Result<(), Error>) -> Result<(), Error> {
        let mut f = self.create(rel)?;
        fill(&mut f.w)?;
        self.close(f)
    }

    fn bytes(&mut self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.root.join(rel);
        self.with(rel, |w| w.write_all(bytes).map_err(io(&path)))
    }
}

/// A file name safe in a pack path and a SHA256SUMS line: ASCII letters, digits, `.`, `_`, `-`.
fn safe_name(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    let s: String = s.trim_start_matches('.').chars().take(80).collect();
    if s.is_empty() { "file".into() } else { s }
}

fn pretty(v: &impl Serialize) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).expect("JSON serialises");
    out.push(b'\n');
    out
}

/// results/controls/ID.json: a control's result with its failing and excepted items
/// (`findings`) and the files of its population, written straight to the file.
#[derive(Serialize)]
struct ControlFile<'a> {
    id: &'a str,
    version: u32,
    title: &'a str,
    test: crate::controls::schema::TestKind,
    kind: crate::controls::schema::Kind,
    file: &'a str,
    sha256: &'a str,
    status: crate::evaluate::Status,
    note: Option<&'a str>,
    params: &'a BTreeMap<String, serde_json::Value>,
    population: usize,
    passed: usize,
    failed: usize,
    excepted: usize,
    out_of_scope: usize,
    dates: &'a [crate::evaluate::DateResult],
    findings: &'a [crate::evaluate::Item],
    populations: &'a [crate::evaluate::PopulationFile],
    exceptions: &'a [crate::evaluate::Disposition],
}

impl<'a> ControlFile<'a> {
    fn of(r: &'a crate::evaluate::ControlResult) -> ControlFile<'a> {
        ControlFile {
            id: &r.id,
            version: r.version,
            title: &r.title,
            test: r.test,
            kind: r.kind,
            file: &r.file,
            sha256: &r.sha256,
            status: r.status,
            note: r.note.as_deref(),
            params: &r.params,
            population: r.population,
            passed: r.passed,
            failed: r.failed,
            excepted: r.excepted,
            out_of_scope: r.out_of_scope,
            dates: &r.dates,
            findings: &r.items,
            populations: &r.populations,
            exceptions: &r.exceptions,
        }
    }
}

/// The evaluation's sink in a pack: the joined view goes to `results/assets/<date>.jsonl` and each
/// control's items to one JSON-lines file per sample date (`results/controls/<ID>/<date>.jsonl`),
/// as they are read and judged; the evaluation keeps only the failing and excepted items. The
/// first write error stops the writing and is returned at the end.
struct Spill<'w> {
    w: &'w mut Writer,
    /// Open population files by control and date, with their item counts.
    open: BTreeMap<(String, chrono::NaiveDate), (Open, usize)>,
    /// The view file being written, and the view in brief.
    view: Option<(Open, report::Assets)>,
    populations: BTreeMap<String, Vec<crate::evaluate::PopulationFile>>,
    /// The view at the last date read (the scope's end), in brief, for the report.
    assets: Option<report::Assets>,
    error: Option<Error>,
}

/// One line of a population file. A device of the joined view (state controls) names neither
/// its date (the file's) nor its records (its line in `results/assets/<date>.jsonl` has them): a
/// device's records are written once per date, not once per control. Events (wipes, leavers,
/// exports, certificates) carry both.
#[derive(Serialize)]
struct Line<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<chrono::NaiveDate>,
    item: &'a crate::view::ItemKey,
    asset_tag: Option<&'a str>,
    outcome: crate::evaluate::Outcome,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    records: Option<&'a [String]>,
}

impl Spill<'_> {
    fn write(&mut self, control: &str, at: chrono::NaiveDate, of_view: bool, item: &crate::evaluate::Item) -> Result<(), Error> {
        let key = (control.to_string(), at);
        if !self.open.contains_key(&key) {
            let rel = format!("results/controls/{}/{at}.jsonl", safe_name(control));
            self.open.insert(key.clone(), (self.w.create(&rel)?, 0));
        }
        let (f, n) = self.open.get_mut(&key).expect("opened above");
        let line = Line {
            date: (!of_view).then_some(item.date),
            item: &item.item,
            asset_tag: item.asset_tag.as_deref(),
            outcome: item.outcome,
            reason: &item.reason,
            records: (!of_view).then_some(&item.records[..]),
        };
        serde_json::to_writer(&mut f.w, &line).map_err(|e| Error::Io { path: f.path.clone(), err: e.into() })?;
        f.w.write_all(b"\n").map_err(io(&f.path))?;
        *n += 1;
        Ok(())
    }

    /// Closes the population files of `date` (or all of them).
    fn close(&mut self, date: Option<chrono::NaiveDate>) -> Result<(), Error> {
        let done: Vec<(String, chrono::NaiveDate)> = self.open.keys().filter(|(_, d)| date.is_none_or(|x| x == *d)).cloned().collect();
        for key in done {
            let (f, items) = self.open.remove(&key).expect("listed");
            let path = f.rel.clone();
            self.w.close(f)?;
            let sha256 = self.w.files.last().expect("just closed").sha256.clone();
            self.populations.entry(key.0).or_default().push(crate::evaluate::PopulationFile { date: key.1, path, items, sha256 });
        }
        Ok(())
    }

    fn asset(&mut self, date: chrono::NaiveDate, a: &crate::view::AssetView) -> Result<(), Error> {
        if self.view.is_none() {
            let path = format!("results/assets/{date}.jsonl");
            self.view = Some((self.w.create(&path)?, report::Assets { path, count: 0, flagged: Vec::new() }));
        }
        let (f, brief) = self.view.as_mut().expect("opened above");
        view_line(f, brief, a)
    }

    /// Closes the view file of `date`; a date with no device still gets its (empty) file, so
    /// every sample date's view is in the pack.
    fn view_done(&mut self, date: chrono::NaiveDate) -> Result<(), Error> {
        let (f, brief) = match self.view.take() {
            Some(v) => v,
            None => {
                let path = format!("results/assets/{date}.jsonl");
                (self.w.create(&path)?, report::Assets { path, count: 0, flagged: Vec::new() })
            }
        };
        self.w.close(f)?;
        self.assets = Some(brief);
        Ok(())
    }

    fn keep(&mut self, done: Result<(), Error>) {
        if let (None, Err(e)) = (&self.error, done) {
            self.error = Some(e);
        }
    }
}

/// One device of the view as a line of its file, noted in the brief.
fn view_line(f: &mut Open, brief: &mut report::Assets, a: &crate::view::AssetView) -> Result<(), Error> {
    serde_json::to_writer(&mut f.w, a).map_err(|e| Error::Io { path: f.path.clone(), err: e.into() })?;
    f.w.write_all(b"\n").map_err(io(&f.path))?;
    brief.count += 1;
    if !a.flags.is_empty() {
        brief.flagged.push(report::Flagged {
            key: a.key.to_string(),
            asset_tag: a.asset_tag.clone(),
            name: a.name.clone(),
            flags: a.flags.iter().cloned().collect(),
        });
    }
    Ok(())
}

impl crate::evaluate::Sink for Spill<'_> {
    fn asset(&mut self, date: chrono::NaiveDate, a: &crate::view::AssetView) {
        if self.error.is_none() {
            let done = self.asset(date, a);
            self.keep(done);
        }
    }

    fn view_done(&mut self, date: chrono::NaiveDate) {
        if self.error.is_none() {
            let done = self.view_done(date).and_then(|()| self.close(Some(date)));
            self.keep(done);
        }
    }

    fn item(&mut self, control: &str, at: chrono::NaiveDate, of_view: bool, item: &crate::evaluate::Item) {
        if self.error.is_none() {
            let done = self.write(control, at, of_view, item);
            self.keep(done);
        }
    }

    fn keeps_passing(&self) -> bool {
        false
    }
}

/// Builds, signs and records the next pack of the store's chain.
pub fn build(store: &mut Store, req: &Request) -> Result<Built, Error> {
    if req.out.exists() {
        return Err(Error::Exists(req.out.into()));
    }
    let end = req.scope.end();
    let end_text = end.format("%Y-%m-%d").to_string();
    let (mut ingests, later): (Vec<_>, Vec<_>) =
        store.ingests()?.into_iter().partition(|i| i.as_of.as_deref().is_none_or(|a| a.get(..10).is_some_and(|d| d <= end_text.as_str())));
    let left_out: Vec<String> = later.iter().map(|i| format!("{} (as of {})", i.file_name, i.as_of.as_deref().unwrap_or("?"))).collect();
    let undated: Vec<String> = ingests.iter().filter(|i| i.as_of.is_none()).map(|i| i.file_name.clone()).collect();
    if ingests.is_empty() {
        return Err(Error::Empty(end));
    }
    // Order by content, not by when they were ingested: the same store gives the same pack.
    ingests.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    if let Some((lib, _)) = req.controls {
        check_versions(store, lib)?;
    }
    let chain = store.packs()?;
    let head = chain.last();
    let seq = head.map_or(1, |h| h.seq + 1);
    let prev = head.map(|h| h.manifest_sha256.clone());

    // Build next to the target and rename at the end, so a failure leaves no half pack at --out.
    let staging = staging_dir(req.out);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    let result = write_pack(store, req, &staging, &ingests, &chain, seq, prev);
    let (manifest, manifest_sha256, bytes, files) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    std::fs::rename(&staging, req.out).map_err(io(req.out))?;
    let entry = manifest.entry(&manifest_sha256);
    let evaluation = std::fs::read(req.out.join("results/evaluation.json")).ok();
    if let Err(e) = store.record_pack(&entry, &manifest.to_canonical(), evaluation.as_deref()) {
        let _ = std::fs::remove_dir_all(req.out);
        return Err(e.into());
    }
    let archive = match req.archive {
        Some(kind) => Some(
            archive::write(req.out, kind, &req.scope)
                .map_err(|(path, err)| if err.kind() == std::io::ErrorKind::AlreadyExists { Error::Exists(path) } else { Error::Io { path, err } })?,
        ),
        None => None,
    };
    Ok(Built {
        dir: req.out.into(),
        archive,
        seq,
        manifest_sha256,
        merkle_root: manifest.merkle_root,
        files,
        bytes,
        key_id: manifest.key_id,
        left_out,
        undated,
    })
}

/// A control whose file changed since an earlier pack must carry a new version: the pack records
/// `id@version`, and an auditor comparing two packs relies on the same id@version meaning the same rule.
fn check_versions(store: &Store, lib: &crate::controls::Library) -> Result<(), Error> {
    for bytes in store.pack_manifests()? {
        let Ok(m) = serde_json::from_slice::<Manifest>(&bytes) else { continue };
        for old in &m.controls {
            if let Some(l) = lib.controls.iter().find(|l| l.control.id == old.id && l.control.version.to_string() == old.version)
                && l.sha256 != old.sha256
            {
                return Err(Error::VersionNotBumped { id: old.id.clone(), version: old.version.clone(), seq: m.seq, file: l.file.clone() });
            }
        }
    }
    Ok(())
}

fn staging_dir(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "pack".into());
    out.with_file_name(format!(".{name}.partial"))
}

type Written = (Manifest, String, u64, usize);

fn write_pack(
    store: &Store,
    req: &Request,
    root: &Path,
    ingests: &[crate::store::IngestRow],
    chain: &[Entry],
    seq: u64,
    prev: Option<String>,
) -> Result<Written, Error> {
    let mut w = Writer { root: root.into(), files: Vec::new() };
    req.progress.start("copying the sources into the pack", ingests.iter().map(|i| i.size.max(0) as u64).sum());
    let (sources, tie_out) = write_sources(&mut w, store, ingests, req.progress)?;
    req.progress.finish();
    let mut controls = Vec::new();
    let mut evaluation = None;
    let mut assets = None;
    if let Some((lib, ereq)) = req.controls {
        let mut spill = Spill { w: &mut w, open: BTreeMap::new(), view: None, populations: BTreeMap::new(), assets: None, error: None };
        let mut ev = crate::evaluate::evaluate_into(store, lib, ereq, &mut spill)?;
        let closed = spill.close(None);
        spill.keep(closed);
        if let Some(e) = spill.error.take() {
            return Err(e);
        }
        for c in &mut ev.controls {
            c.populations = spill.populations.remove(&c.id).unwrap_or_default();
        }
        assets = spill.assets.take();
        req.progress.start("writing the results, OSCAL and report", 0);
        controls = write_results(&mut w, req, lib, &ev, ingests, &sources, seq)?;
        evaluation = Some((lib, ev));
    }
    let certificates = write_certificates(&mut w, store, &req.scope)?;
    let assets = match assets {
        Some(a) => a,
        None => write_view(&mut w, store, req.scope.end())?,
    };
    w.bytes("docs/FORMAT.md", FORMAT_DOC.as_bytes())?;
    w.bytes(LEDGER, &crate::ledger::to_jsonl(chain))?;
    let public = req.key.public();
    w.bytes(SIGNER, public.to_pem().as_bytes())?;
    let history: Vec<(u64, serde_json::Value)> =
        store.pack_evaluations()?.into_iter().filter_map(|(s, b)| Some((s, serde_json::from_slice(&b?).ok()?))).collect();
    let page = report::Page {
        scope: &req.scope,
        seq,
        prev: prev.as_deref(),
        key_id: &public.key_id(),
        sources: &tie_out,
        assets: &assets,
        evaluation: evaluation.as_ref().map(|(l, e)| (*l, e)),
        history: &history,
        certificates,
    };
    w.bytes("report/index.html", report::render(&page).as_bytes())?;
    req.progress.finish();
    let mut files = w.files;
    files.sort();
    let manifest = Manifest {
        format: FORMAT.into(),
        tool: Tool { name: "evident".into(), version: env!("CARGO_PKG_VERSION").into() },
        scope: req.scope.clone(),
        seq,
        prev,
        key_id: public.key_id(),
        merkle_root: merkle_root(&files),
        files,
        controls,
        sources,
    };
    sign(root, manifest, req.key, req.tsa)
}

/// How long one TSA may take to answer.
const TSA_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Writes manifest.json, SHA256SUMS and manifest.sig: the pack is complete.
/// With TSAs given, also manifest.tsr: the first TSA whose reply checks out (status, imprint,
/// nonce); when none does, the pack fails whole.
fn sign(root: &Path, manifest: Manifest, key: &SecretKey, tsa: &[String]) -> Result<Written, Error> {
    let bytes = manifest.to_canonical();
    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    let manifest_sha256 = hex::encode(digest);
    let put = |name: &str, data: &[u8]| std::fs::write(root.join(name), data).map_err(io(&root.join(name)));
    put(MANIFEST, &bytes)?;
    put(SUMS, sums_text(&manifest.files, &manifest_sha256).as_bytes())?;
    put(SIGNATURE, &key.sign(&bytes))?;
    let mut count = manifest.files.len() + 3;
    if !tsa.is_empty() {
        put(TIMESTAMP, &crate::timestamp::fetch_any(tsa, &digest, TSA_TIMEOUT).map_err(Error::Timestamp)?)?;
        count += 1;
    }
    let total = manifest.files.iter().map(|f| f.size).sum::<u64>() + bytes.len() as u64;
    Ok((manifest, manifest_sha256, total, count))
}

/// Each raw export byte for byte under sources/, and one ingest report per ingest: the same
/// bytes recorded again (another as-of, other options) are one file with one report per ingest.
fn write_sources(
    w: &mut Writer,
    store: &Store,
    ingests: &[crate::store::IngestRow],
    progress: &dyn crate::evaluate::Progress,
) -> Result<(Vec<SourceRef>, Vec<serde_json::Value>), Error> {
    let mut sources = Vec::new();
    let mut tie_out = Vec::new();
    let mut written: BTreeMap<String, usize> = BTreeMap::new();
    for ing in ingests {
        let base = format!("sources/{}-{}", &ing.sha256[..12], safe_name(&ing.file_name));
        let seen = written.entry(base.clone()).or_insert(0);
        *seen += 1;
        let report_path = if *seen == 1 { format!("{base}.ingest.json") } else { format!("{base}.{}.ingest.json", *seen) };
        let file_path = w.root.join(&base);
        if *seen == 1 {
            w.with(&base, |out| {
                store.blob_to(&ing.sha256, out)?;
                Ok(())
            })
            .map_err(|e| match e {
                Error::Store(s) => Error::Io { path: file_path.clone(), err: std::io::Error::other(s.to_string()) },
                e => e,
            })?;
        }
        progress.advance(ing.size.max(0) as u64);
        let mut detail = store.ingest_detail(ing.id)?;
        detail["warnings_list"] = serde_json::to_value(store.issues(ing.id, crate::model::IssueKind::Warning)?).expect("issues serialise");
        detail["rejections"] = serde_json::to_value(store.issues(ing.id, crate::model::IssueKind::Rejection)?).expect("issues serialise");
        detail["pack_path"] = serde_json::Value::String(base.clone());
        detail["report_path"] = serde_json::Value::String(report_path.clone());
        w.bytes(&report_path, &pretty(&detail))?;
        tie_out.push(detail);
        sources.push(SourceRef { path: base, report: report_path, source: ing.source.clone(), sha256: ing.sha256.clone(), as_of: ing.as_of.clone() });
    }
    Ok((sources, tie_out))
}

/// The controls used, the catalogs, each control's result, the evaluation summary, the OSCAL
/// files and the framework views. Returns the manifest's control references.
fn write_results(
    w: &mut Writer,
    req: &Request,
    lib: &crate::controls::Library,
    ev: &crate::evaluate::Evaluation,
    ingests: &[crate::store::IngestRow],
    sources: &[SourceRef],
    seq: u64,
) -> Result<Vec<ControlRef>, Error> {
    let mut controls = Vec::new();
    for l in &lib.controls {
        let path = format!("controls/{}", safe_name(&l.file));
        w.bytes(&path, &l.bytes)?;
        controls.push(ControlRef { id: l.control.id.clone(), version: l.control.version.to_string(), path, sha256: l.sha256.clone() });
    }
    for (rel, bytes) in &lib.catalog_files {
        let name = rel.strip_prefix("frameworks/").unwrap_or(rel);
        w.bytes(&format!("controls/frameworks/{}", safe_name(name)), bytes)?;
    }
    for r in &ev.controls {
        // The population is in its files; this file lists what an auditor follows up: the
        // failing and excepted items (`findings`).
        let rel = format!("results/controls/{}.json", safe_name(&r.id));
        let path = w.root.join(&rel);
        w.with(&rel, |out| {
            serde_json::to_writer_pretty(&mut *out, &ControlFile::of(r)).map_err(|e| Error::Io { path: path.clone(), err: e.into() })?;
            out.write_all(b"\n").map_err(io(&path))
        })?;
    }
    let summary = serde_json::json!({
        "organisation": ev.organisation,
        "scope": ev.scope,
        "sample_dates": ev.sample_dates,
        "controls": ev.controls.iter().map(|c| serde_json::json!({
            "id": c.id, "version": c.version, "status": c.status, "note": c.note,
            "population": c.population, "passed": c.passed, "failed": c.failed, "excepted": c.excepted,
            "out_of_scope": c.out_of_scope, "dates": c.dates,
        })).collect::<Vec<_>>(),
        "tie_out": ev.tie_out,
        "withdrawn": ev.withdrawn,
        "unused_exceptions": ev.unused_exceptions,
    });
    w.bytes("results/evaluation.json", &pretty(&summary))?;
    let oscal_sources: Vec<oscal::Source> =
        ingests.iter().zip(sources).map(|(i, s)| oscal::Source { file_name: &i.file_name, path: &s.path, sha256: &s.sha256, kind: &s.source }).collect();
    write_oscal(w, req, ev, lib, &oscal_sources, seq)?;
    for fw in lib.catalogs.keys() {
        if let Some(g) = crate::evaluate::by_framework(ev, lib, fw) {
            w.bytes(&format!("results/frameworks/{}.json", safe_name(fw)), &pretty(&g))?;
        }
    }
    Ok(controls)
}

/// The OSCAL files (results/oscal-*.json, RFC 8785 canonical, no trailing newline, so each
/// file's SHA-256 is its canonical digest) and their compliance-trestle package, signed with the
/// pack's key.
fn write_oscal(
    w: &mut Writer,
    req: &Request,
    ev: &crate::evaluate::Evaluation,
    lib: &crate::controls::Library,
    sources: &[oscal::Source],
    seq: u64,
) -> Result<(), Error> {
    let end = format!("{}T23:59:59Z", req.scope.end());
    let rel = |name: &str| format!("results/{name}");
    let ar = rel(oscal::ASSESSMENT_RESULTS);
    let path = w.root.join(&ar);
    w.with(&ar, |out| oscal::write_assessment_results(out, ev, lib, sources, seq).map_err(io(&path)))?;
    let mut docs = vec![
        (oscal::ASSESSMENT_PLAN.to_string(), oscal::assessment_plan(ev, seq)),
        (oscal::SYSTEM_SECURITY_PLAN.to_string(), oscal::system_security_plan(ev, seq)),
        (oscal::CATALOG.to_string(), oscal::catalog(lib, &end)),
        (oscal::MAPPING_COLLECTION.to_string(), oscal::mapping_collection(lib, &end)),
    ];
    for c in lib.catalogs.values() {
        docs.push((oscal::framework_catalog_file(&c.framework), oscal::framework_catalog(c, &end)));
    }
    for (name, doc) in &docs {
        w.bytes(&rel(name), &oscal::canonical(doc))?;
    }
    let mut artifacts: Vec<(&str, &str)> = Vec::new();
    for name in std::iter::once(oscal::ASSESSMENT_RESULTS).chain(docs.iter().map(|(n, _)| n.as_str())) {
        let sha = w.files.iter().find(|f| f.path == rel(name)).map(|f| f.sha256.as_str()).unwrap_or_default();
        artifacts.push((name, sha));
    }
    let (manifest, statement) = oscal::package(&artifacts, oscal::ASSESSMENT_RESULTS);
    let envelope = oscal::envelope(&statement, &req.key.public().key_id(), &|m| req.key.sign(m));
    w.bytes(&rel(oscal::PACKAGE), &oscal::canonical(&manifest))?;
    w.bytes(&rel(oscal::PACKAGE_SIGNATURE), &oscal::canonical(&envelope))
}

/// The joined view at a date, one device per line (`results/assets/<date>.jsonl`), for a pack
/// without an evaluation; returns the view in brief, for the report.
fn write_view(w: &mut Writer, store: &Store, date: chrono::NaiveDate) -> Result<report::Assets, Error> {
    let path = format!("results/assets/{date}.jsonl");
    let mut f = w.create(&path)?;
    let mut brief = report::Assets { path, count: 0, flagged: Vec::new() };
    let mut failed = None;
    crate::view::each_until(store, &date.format("%Y-%m-%d").to_string(), &mut |a| {
        if failed.is_none() {
            failed = view_line(&mut f, &mut brief, &a).err();
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    w.close(f)?;
    Ok(brief)
}

/// Certificates of sanitization dated in the scope (a date: every one up to it), as signed.
fn write_certificates(w: &mut Writer, store: &Store, scope: &Scope) -> Result<usize, Error> {
    let end = scope.end().format("%Y-%m-%d").to_string();
    let start = scope.start().map(|d| d.format("%Y-%m-%d").to_string());
    let mut certificates = 0;
    for c in store.certificates()? {
        let day = c.date.get(..10).unwrap_or("");
        if day <= end.as_str() && start.as_deref().is_none_or(|s| day >= s) {
            w.bytes(&format!("certificates/{}.json", safe_name(&c.id)), &c.body)?;
            certificates += 1;
        }
    }
    // Every revocation the store holds: a withdrawal outlives the scope it was made in.
    for (id, body) in store.revocations()? {
        w.bytes(&format!("certificates/revocations/{}.json", safe_name(&id)), &body)?;
    }
    Ok(certificates)
}
