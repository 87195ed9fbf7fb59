//! The embedded SQLite store: numbered migrations, raw files kept by SHA-256, one transaction
//! per ingested file (all rows or none), and the queries the views need. Only this module has SQL.

use crate::model::*;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Numbered migrations; `PRAGMA user_version` holds how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("0001_initial.sql"),
    include_str!("0002_pack.sql"),
    include_str!("0003_certificate.sql"),
    include_str!("0004_pack_results.sql"),
    include_str!("0005_leaver.sql"),
    include_str!("0006_observation.sql"),
    include_str!("0007_unread.sql"),
    include_str!("0008_revocation.sql"),
    include_str!("0009_pull.sql"),
];

/// Size of a raw-file chunk.
const CHUNK: usize = 4 << 20;

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another process holds the write lock longer than we wait.
    #[error("store {path} is busy: another evident process is writing to it")]
    Busy { path: PathBuf },
    /// The store was written by a newer evident.
    #[error("store {path} has schema version {found}, newer than this evident knows ({known})")]
    TooNew { path: PathBuf, found: i64, known: i64 },
    /// Another pack was recorded while this one was being built.
    #[error("store {path}: another pack was added to the ledger while this one was built")]
    ChainMoved { path: PathBuf },
    /// A different record under the id of a signed certificate.
    #[error("store {path}: certificate {id} is already stored, signed, with a different record")]
    CertificateConflict { path: PathBuf, id: String },
    /// A migration would leave the store inconsistent (it was rolled back).
    #[error("store {path}: {message}")]
    Migration { path: PathBuf, message: String },
    /// Only `ingest` creates a store: anything else given a path that does not exist stops.
    #[error("store {path} does not exist")]
    Missing { path: PathBuf },
    /// `retract` or `--supersedes` named an ingest that is not in the store or not live.
    #[error("store {path}: {message}")]
    NoSuchIngest { path: PathBuf, message: String },
    /// Any SQLite failure.
    #[error("store {path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
}

impl Error {
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Busy { .. } => Some("wait for the other command to finish, or raise --wait (seconds); nothing was changed".into()),
            Error::TooNew { .. } => Some("upgrade evident".into()),
            Error::ChainMoved { .. } => Some("run `evident pack` again; the pack directory written is not in the ledger".into()),
            Error::CertificateConflict { .. } => Some("a signed certificate is never replaced by another record; issue the new one under its own id".into()),
            Error::Migration { .. } => Some("the store was left as it was; report this with the store's schema version".into()),
            Error::Missing { .. } => Some("check --store; a store is created by `evident --store PATH ingest FILE…`".into()),
            Error::NoSuchIngest { .. } => Some("`evident ingests` lists every ingest with its id and whether it is live".into()),
            Error::Sqlite { .. } => None,
        }
    }
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// An ingest already in the store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestRow {
    pub id: i64,
    pub source: String,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
    pub as_of: Option<String>,
    pub rows_read: i64,
    pub rows_accepted: i64,
    pub rows_rejected: i64,
    pub rows_empty: i64,
    pub warnings: i64,
    /// The later ingest that replaces this one (`ingest --supersedes`).
    pub superseded_by: Option<i64>,
    /// Why this ingest was taken out of evaluation (`retract --reason`).
    pub retracted: Option<String>,
    /// The options it was read with (JSON), part of what makes it an observation.
    #[serde(skip)]
    pub options: String,
    /// CSV columns no field was read from (`None` where nobody counted: JSON, logs, older ingests).
    pub unread: Option<Vec<String>>,
}

impl IngestRow {
    /// Counts in evaluation: neither superseded nor retracted.
    pub fn live(&self) -> bool {
        self.superseded_by.is_none() && self.retracted.is_none()
    }

    /// The as-of date (UTC day), if the ingest is dated.
    pub fn as_of_date(&self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(self.as_of.as_deref()?.get(..10)?, "%Y-%m-%d").ok()
    }
}

impl Store {
    /// Opens a store that must already exist (every command but `ingest`): a mistyped path
    /// stops with an error instead of creating an empty store that passes every gate.
    pub fn open_existing(path: &Path, wait: Duration) -> Result<Store, Error> {
        if !path.is_file() {
            return Err(Error::Missing { path: path.into() });
        }
        Store::open(path, wait)
    }

    /// Opens (creating if needed) and migrates. A writer that holds the lock makes us wait up to `wait`.
    pub fn open(path: &Path, wait: Duration) -> Result<Store, Error> {
        let conn = Connection::open(path).map_err(|source| Error::Sqlite { path: path.into(), source })?;
        let mut store = Store { conn, path: path.to_path_buf() };
        store.conn.busy_timeout(wait).map_err(|e| store.err(e))?;
        // Larger pages: fewer B-tree splits and page writes per row on large ingests. Only a new,
        // empty store takes it; an existing one keeps its page size.
        store.conn.execute_batch("PRAGMA page_size = 16384").map_err(|e| store.err(e))?;
        // Rollback journal, not WAL: an ingest's new pages are written once (WAL writes them twice,
        // then checkpoints), which halves the I/O of a large ingest. A killed writer leaves a hot
        // journal that the next open rolls back; readers wait (busy timeout) while a writer commits.
        store.conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get::<_, String>(0)).map_err(|e| store.err(e))?;
        // A large page cache keeps a big ingest transaction from spilling index pages over and over.
        store
            .conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;")
            .map_err(|e| store.err(e))?;
        store.migrate()?;
        Ok(store)
    }

    fn err(&self, source: rusqlite::Error) -> Error {
        if let rusqlite::Error::SqliteFailure(f, _) = &source
            && matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        {
            return Error::Busy { path: self.path.clone() };
        }
        Error::Sqlite { path: self.path.clone(), source }
    }

    fn migrate(&mut self) -> Result<(), Error> {
        let version: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(Error::TooNew { path: self.path.clone(), found: version, known });
        }
        if version == known {
            return Ok(());
        }
        let path = self.path.clone();
        let map = |source| Error::Sqlite { path: path.clone(), source };
        // Rebuilding a referenced table (migration 6) needs foreign keys off, and that pragma
        // only takes effect outside a transaction; they are checked before the commit instead.
        self.conn.execute_batch("PRAGMA foreign_keys = OFF").map_err(map)?;
        let done = self.migrate_locked(&path);
        self.conn.execute_batch("PRAGMA foreign_keys = ON").map_err(map)?;
        done
    }

    fn migrate_locked(&mut self, path: &Path) -> Result<(), Error> {
        let map = |source| Error::Sqlite { path: path.to_path_buf(), source };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| busy_or(e, path))?;
        // Re-read inside the lock: another process may have migrated meanwhile.
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(map)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(map)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1)).map_err(map)?;
        }
        let broken: Option<String> = tx.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional().map_err(map)?;
        if let Some(table) = broken {
            return Err(Error::Migration { path: path.to_path_buf(), message: format!("a migration left a dangling reference in table {table}") });
        }
        tx.commit().map_err(map)
    }

    /// The live ingest that holds these exact bytes read with these exact options, if any: the
    /// same observation recorded twice. The same bytes with another as-of or other options are a
    /// new observation.
    pub fn same_observation(&self, sha256: &str, options_json: &str) -> Result<Option<IngestRow>, Error> {
        self.conn
            .query_row(
                &format!("{INGEST_COLS} WHERE sha256 = ?1 AND options = ?2 AND retracted IS NULL ORDER BY id LIMIT 1"),
                [sha256, options_json],
                ingest_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Takes a live ingest out of evaluation, keeping it (and the reason) in the audit trail.
    pub fn retract(&mut self, id: i64, reason: &str) -> Result<(), Error> {
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| busy_or(e, &path))?;
        let map = |source| Error::Sqlite { path: path.clone(), source };
        let state: Option<(Option<i64>, Option<String>)> =
            tx.query_row("SELECT superseded_by, retracted FROM ingest WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(map)?;
        match state {
            None => return Err(Error::NoSuchIngest { path, message: format!("there is no ingest #{id}") }),
            Some((_, Some(r))) => return Err(Error::NoSuchIngest { path, message: format!("ingest #{id} is already retracted ({r})") }),
            Some(_) => {}
        }
        tx.execute("UPDATE ingest SET retracted = ?2 WHERE id = ?1", params![id, reason]).map_err(map)?;
        tx.commit().map_err(map)
    }

    /// All ingests, oldest first.
    pub fn ingests(&self) -> Result<Vec<IngestRow>, Error> {
        let mut st = self.conn.prepare(&format!("{INGEST_COLS} ORDER BY id")).map_err(|e| self.err(e))?;
        let rows = st.query_map([], ingest_row).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Starts the one transaction of an ingest; nothing is visible until `IngestTx::commit`.
    pub fn begin_ingest(&mut self, file_name: &str, bytes: &[u8], sha256: &str) -> Result<IngestTx<'_>, Error> {
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| busy_or(e, &path))?;
        let ingest_id = new_ingest(&tx, &path, file_name, bytes, sha256)?;
        Ok(IngestTx { tx: Scope::Own(tx), ingest_id, path })
    }

    /// Starts the one transaction of an API pull: its pages are ingests inside it, and nothing
    /// of any page is visible until `PullTx::commit`.
    pub fn begin_pull(&mut self, source: &str, server: &str, started_at: &str) -> Result<PullTx<'_>, Error> {
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| busy_or(e, &path))?;
        tx.execute(
            "INSERT INTO pull (source, server, started_at, finished_at, pages, items, total_basis) VALUES (?1, ?2, ?3, ?3, 0, 0, 'none')",
            params![source, server, started_at],
        )
        .map_err(|source| Error::Sqlite { path: path.clone(), source })?;
        let pull_id = tx.last_insert_rowid();
        Ok(PullTx { tx, pull_id, path })
    }

    /// The raw bytes of a stored file.
    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, Error> {
        let mut st = self.conn.prepare("SELECT data FROM blob_chunk WHERE sha256 = ?1 ORDER BY idx").map_err(|e| self.err(e))?;
        let chunks: Vec<Vec<u8>> = st.query_map([sha256], |r| r.get(0)).map_err(|e| self.err(e))?.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        Ok((!chunks.is_empty()).then(|| chunks.concat()))
    }

    /// Streams a stored file's bytes to `out`, one chunk at a time (memory does not grow with the file).
    pub fn blob_to(&self, sha256: &str, out: &mut dyn std::io::Write) -> Result<u64, Error> {
        let mut st = self.conn.prepare("SELECT data FROM blob_chunk WHERE sha256 = ?1 ORDER BY idx").map_err(|e| self.err(e))?;
        let mut rows = st.query([sha256]).map_err(|e| self.err(e))?;
        let mut n = 0u64;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let data = row.get_ref(0).map_err(|e| self.err(e))?.as_blob().map_err(|e| self.err(e.into()))?;
            out.write_all(data).map_err(|e| self.err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
            n += data.len() as u64;
        }
        Ok(n)
    }

    /// How many canonical records an ingest stored, over every record table.
    pub fn records_of(&self, ingest_id: i64) -> Result<i64, Error> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM asset WHERE ingest_id = ?1) + (SELECT count(*) FROM enrollment WHERE ingest_id = ?1)
                      + (SELECT count(*) FROM encryption WHERE ingest_id = ?1) + (SELECT count(*) FROM wipe WHERE ingest_id = ?1)
                      + (SELECT count(*) FROM media_link WHERE ingest_id = ?1) + (SELECT count(*) FROM leaver WHERE ingest_id = ?1)",
                [ingest_id],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// The manifest.json bytes of every pack this store has issued, oldest first.
    pub fn pack_manifests(&self) -> Result<Vec<Vec<u8>>, Error> {
        let mut st = self.conn.prepare("SELECT manifest FROM pack ORDER BY seq").map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The packs this store has issued, oldest first.
    pub fn packs(&self) -> Result<Vec<crate::ledger::Entry>, Error> {
        let mut st = self.conn.prepare("SELECT seq, scope, manifest_sha256, prev, key_id FROM pack ORDER BY seq").map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                let scope: String = r.get(1)?;
                Ok(crate::ledger::Entry {
                    seq: r.get::<_, i64>(0)? as u64,
                    scope: serde_json::from_str(&scope).map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e)))?,
                    manifest_sha256: r.get(2)?,
                    prev: r.get(3)?,
                    key_id: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Appends a pack to the ledger. Fails if another pack took its seq meanwhile (the caller
    /// read the chain head, built the pack, and only now records it).
    pub fn record_pack(&mut self, entry: &crate::ledger::Entry, manifest: &[u8], evaluation: Option<&[u8]>) -> Result<(), Error> {
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| busy_or(e, &path))?;
        let map = |source| Error::Sqlite { path: path.clone(), source };
        let head: Option<(i64, String)> =
            tx.query_row("SELECT seq, manifest_sha256 FROM pack ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(map)?;
        if head.as_ref().map(|h| h.0 as u64 + 1).unwrap_or(1) != entry.seq || head.map(|h| h.1) != entry.prev {
            return Err(Error::ChainMoved { path: path.clone() });
        }
        tx.execute(
            "INSERT INTO pack (seq, manifest_sha256, prev, scope, key_id, manifest, evaluation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                entry.seq as i64,
                entry.manifest_sha256,
                entry.prev,
                serde_json::to_string(&entry.scope).expect("scope serialises"),
                entry.key_id,
                manifest,
                evaluation
            ],
        )
        .map_err(map)?;
        tx.commit().map_err(map)
    }

    /// Everything about one ingest that its report in a pack shows.
    pub fn ingest_detail(&self, id: i64) -> Result<serde_json::Value, Error> {
        self.conn
            .query_row(
                "SELECT source, file_name, size, sha256, encoding, as_of, as_of_basis, options, tool_version,
                        rows_read, rows_accepted, rows_rejected, rows_empty, records, warnings,
                        superseded_by, retracted, unread FROM ingest WHERE id = ?1",
                [id],
                |r| {
                    let options: String = r.get(7)?;
                    Ok(serde_json::json!({
                        "source": r.get::<_, String>(0)?,
                        "file_name": r.get::<_, String>(1)?,
                        "size": r.get::<_, i64>(2)?,
                        "sha256": r.get::<_, String>(3)?,
                        "encoding": r.get::<_, String>(4)?,
                        "as_of": r.get::<_, Option<String>>(5)?,
                        "as_of_basis": r.get::<_, String>(6)?,
                        "options": serde_json::from_str::<serde_json::Value>(&options).unwrap_or(serde_json::Value::String(options)),
                        "tool_version": r.get::<_, String>(8)?,
                        "rows": {
                            "read": r.get::<_, i64>(9)?,
                            "accepted": r.get::<_, i64>(10)?,
                            "rejected": r.get::<_, i64>(11)?,
                            "empty": r.get::<_, i64>(12)?,
                        },
                        "records": r.get::<_, i64>(13)?,
                        "warnings": r.get::<_, i64>(14)?,
                        "superseded_by": r.get::<_, Option<i64>>(15)?,
                        "retracted": r.get::<_, Option<String>>(16)?,
                        "unread": r.get::<_, Option<String>>(17)?.and_then(|u| serde_json::from_str::<serde_json::Value>(&u).ok()),
                    }))
                },
            )
            .map_err(|e| self.err(e))
            .and_then(|mut d| {
                if let Some(pull) = self.pulled(id)? {
                    d["pull"] = pull;
                }
                Ok(d)
            })
    }

    /// Where a pulled page came from: its request, status and time, and its pull's totals.
    /// `None` for an ingested file.
    fn pulled(&self, ingest_id: i64) -> Result<Option<serde_json::Value>, Error> {
        self.conn
            .query_row(
                "SELECT p.page, p.url, p.status, p.fetched_at, p.items, u.id, u.source, u.server, u.started_at, u.finished_at,
                        u.pages, u.items, u.reported_total, u.total_basis
                 FROM pull_page p JOIN pull u ON u.id = p.pull_id WHERE p.ingest_id = ?1",
                [ingest_id],
                |r| {
                    Ok(serde_json::json!({
                        "page": r.get::<_, i64>(0)?,
                        "url": r.get::<_, String>(1)?,
                        "status": r.get::<_, i64>(2)?,
                        "fetched_at": r.get::<_, String>(3)?,
                        "items": r.get::<_, i64>(4)?,
                        "pull": {
                            "id": r.get::<_, i64>(5)?,
                            "source": r.get::<_, String>(6)?,
                            "server": r.get::<_, String>(7)?,
                            "started_at": r.get::<_, String>(8)?,
                            "finished_at": r.get::<_, String>(9)?,
                            "pages": r.get::<_, i64>(10)?,
                            "items": r.get::<_, i64>(11)?,
                            "reported_total": r.get::<_, Option<i64>>(12)?,
                            "total_basis": r.get::<_, String>(13)?,
                        },
                    }))
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Issues recorded for an ingest.
    pub fn issues(&self, ingest_id: i64, kind: IssueKind) -> Result<Vec<Issue>, Error> {
        let k = kind_text(kind);
        let mut st = self
            .conn
            .prepare("SELECT line, pointer, field, message, raw FROM ingest_issue WHERE ingest_id = ?1 AND kind = ?2 ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![ingest_id, k], |r| {
                Ok(Issue { line: r.get::<_, i64>(0)? as u64, pointer: r.get(1)?, field: r.get(2)?, message: r.get(3)?, raw: r.get(4)? })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The connection, for read-only queries of sibling modules (views).
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn map_err(&self, e: rusqlite::Error) -> Error {
        self.err(e)
    }
}

fn busy_or(e: rusqlite::Error, path: &Path) -> Error {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    {
        return Error::Busy { path: path.into() };
    }
    Error::Sqlite { path: path.into(), source: e }
}

const INGEST_COLS: &str = "SELECT id, source, file_name, size, sha256, as_of, rows_read, rows_accepted, rows_rejected, rows_empty, warnings, superseded_by, retracted, options, unread FROM ingest";

fn ingest_row(r: &rusqlite::Row) -> rusqlite::Result<IngestRow> {
    Ok(IngestRow {
        id: r.get(0)?,
        source: r.get(1)?,
        file_name: r.get(2)?,
        size: r.get(3)?,
        sha256: r.get(4)?,
        as_of: r.get(5)?,
        rows_read: r.get(6)?,
        rows_accepted: r.get(7)?,
        rows_rejected: r.get(8)?,
        rows_empty: r.get(9)?,
        warnings: r.get(10)?,
        superseded_by: r.get(11)?,
        retracted: r.get(12)?,
        options: r.get(13)?,
        unread: r.get::<_, Option<String>>(14)?.and_then(|u| serde_json::from_str(&u).ok()),
    })
}

fn kind_text(kind: IssueKind) -> &'static str {
    match kind {
        IssueKind::Warning => "warning",
        IssueKind::Rejection => "rejection",
    }
}

/// What an ingest found, as the store records it: which reader, how the bytes were decoded, the
/// as-of and where it came from, and the counts (read = accepted + rejected + empty).
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub source: &'a str,
    pub encoding: &'a str,
    pub as_of: Option<&'a str>,
    pub as_of_basis: &'a str,
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub empty: u64,
    pub records: u64,
    pub warnings: u64,
    pub unread: Option<&'a [String]>,
}

/// The open transaction of one ingest. Dropping it without `commit` rolls everything back.
pub struct IngestTx<'c> {
    tx: Scope<'c>,
    ingest_id: i64,
    path: PathBuf,
}

/// Whose transaction an ingest writes in: its own, or its pull's (which commits or rolls back
/// every page at once).
enum Scope<'c> {
    Own(Transaction<'c>),
    Page(&'c Connection),
}

impl std::ops::Deref for Scope<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Scope::Own(tx) => tx,
            Scope::Page(c) => c,
        }
    }
}

/// Adds the raw bytes (once per hash) and an ingest row to be filled in by `IngestTx::commit`.
fn new_ingest(tx: &Connection, path: &Path, file_name: &str, bytes: &[u8], sha256: &str) -> Result<i64, Error> {
    let map = |source| Error::Sqlite { path: path.to_path_buf(), source };
    tx.execute("INSERT OR IGNORE INTO blob (sha256, size) VALUES (?1, ?2)", params![sha256, bytes.len() as i64]).map_err(map)?;
    {
        let mut st = tx.prepare("INSERT OR IGNORE INTO blob_chunk (sha256, idx, data) VALUES (?1, ?2, ?3)").map_err(map)?;
        for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
            st.execute(params![sha256, i as i64, chunk]).map_err(map)?;
        }
    }
    tx.execute(
        "INSERT INTO ingest (source, file_name, size, sha256, encoding, as_of_basis, options, tool_version,
                             rows_read, rows_accepted, rows_rejected, rows_empty, records, warnings)
         VALUES ('', ?1, ?2, ?3, '', 'none', '{}', ?4, 0, 0, 0, 0, 0, 0)",
        params![file_name, bytes.len() as i64, sha256, env!("CARGO_PKG_VERSION")],
    )
    .map_err(map)?;
    Ok(tx.last_insert_rowid())
}

/// The open transaction of an API pull. Dropping it without `commit` rolls every page back.
pub struct PullTx<'c> {
    tx: Transaction<'c>,
    pull_id: i64,
    path: PathBuf,
}

/// One fetched page, as the store records it beside the page's ingest.
#[derive(Debug, Clone)]
pub struct PulledPage<'a> {
    pub ingest_id: i64,
    pub page: u64,
    /// The request, with any secret in it replaced.
    pub url: &'a str,
    pub status: u16,
    pub fetched_at: &'a str,
    pub items: u64,
}

/// What a whole pull found.
#[derive(Debug, Clone)]
pub struct PullSummary<'a> {
    pub finished_at: &'a str,
    pub pages: u64,
    pub items: u64,
    /// What the source said its total was, and where it said it (`totalCount`, `/hosts/count`);
    /// `None` with basis `none` for sources that do not say.
    pub reported_total: Option<u64>,
    pub total_basis: &'a str,
}

impl PullTx<'_> {
    pub fn pull_id(&self) -> i64 {
        self.pull_id
    }

    /// Starts one page's ingest inside the pull's transaction: `IngestTx::commit` writes its
    /// report, and the page becomes visible only with the whole pull.
    pub fn begin_ingest(&mut self, file_name: &str, bytes: &[u8], sha256: &str) -> Result<IngestTx<'_>, Error> {
        let ingest_id = new_ingest(&self.tx, &self.path, file_name, bytes, sha256)?;
        Ok(IngestTx { tx: Scope::Page(&self.tx), ingest_id, path: self.path.clone() })
    }

    /// Records where a page's ingest came from.
    pub fn page(&mut self, p: &PulledPage) -> Result<(), Error> {
        self.tx
            .execute(
                "INSERT INTO pull_page (ingest_id, pull_id, page, url, status, fetched_at, items) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![p.ingest_id, self.pull_id, p.page as i64, p.url, p.status, p.fetched_at, p.items as i64],
            )
            .map_err(|source| Error::Sqlite { path: self.path.clone(), source })?;
        Ok(())
    }

    /// Writes the pull's totals and commits every page. Returns the pull id.
    pub fn commit(self, s: &PullSummary) -> Result<i64, Error> {
        let map = |source| Error::Sqlite { path: self.path.clone(), source };
        self.tx
            .execute(
                "UPDATE pull SET finished_at = ?2, pages = ?3, items = ?4, reported_total = ?5, total_basis = ?6 WHERE id = ?1",
                params![self.pull_id, s.finished_at, s.pages as i64, s.items as i64, s.reported_total.map(|t| t as i64), s.total_basis],
            )
            .map_err(map)?;
        let id = self.pull_id;
        self.tx.commit().map_err(map)?;
        Ok(id)
    }
}

fn opt_date(d: &Option<chrono::NaiveDate>) -> Option<String> {
    use chrono::Datelike;
    // Hand-formatted: chrono's strftime parser costs more than the insert on large ingests.
    d.map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
}

fn opt_time(t: &Option<Instant>) -> Option<String> {
    t.as_ref().map(instant_text)
}

fn extra_json(e: &Extra) -> Option<String> {
    (!e.is_empty()).then(|| serde_json::to_string(e).expect("string map serialises"))
}

impl IngestTx<'_> {
    pub fn ingest_id(&self) -> i64 {
        self.ingest_id
    }

    /// Writes the ingest's report and commits, marking `supersedes` (a live ingest) as replaced
    /// by this one in the same transaction. Returns the ingest id.
    pub fn commit(self, report: &Observed, options_json: &str, supersedes: Option<i64>) -> Result<i64, Error> {
        let map = |source| Error::Sqlite { path: self.path.clone(), source };
        if let Some(old) = supersedes {
            let n = self
                .tx
                .execute("UPDATE ingest SET superseded_by = ?2 WHERE id = ?1 AND superseded_by IS NULL AND retracted IS NULL", params![old, self.ingest_id])
                .map_err(map)?;
            if n != 1 {
                return Err(Error::NoSuchIngest {
                    path: self.path.clone(),
                    message: format!("--supersedes {old}: no live ingest #{old} (already superseded, retracted, or never made)"),
                });
            }
        }
        self.tx
            .execute(
                "UPDATE ingest SET source = ?2, encoding = ?3, as_of = ?4, as_of_basis = ?5, options = ?6,
                        rows_read = ?7, rows_accepted = ?8, rows_rejected = ?9, rows_empty = ?10, records = ?11, warnings = ?12, unread = ?13
                 WHERE id = ?1",
                params![
                    self.ingest_id,
                    report.source,
                    report.encoding,
                    report.as_of,
                    report.as_of_basis,
                    options_json,
                    report.read as i64,
                    report.accepted as i64,
                    report.rejected as i64,
                    report.empty as i64,
                    report.records as i64,
                    report.warnings as i64,
                    report.unread.map(|u| serde_json::to_string(u).expect("names serialise")),
                ],
            )
            .map_err(map)?;
        let id = self.ingest_id;
        if let Scope::Own(tx) = self.tx {
            tx.commit().map_err(map)?;
        }
        Ok(id)
    }

    /// Inserts one record into the open transaction.
    pub fn insert_record(&mut self, r: &Record) -> Result<(), SinkError> {
        self.insert(r).map_err(|e| Box::new(e) as SinkError)
    }

    /// One record into its table (each arm is the table's column list; model/records.rs has the fields).
    fn insert(&mut self, r: &Record) -> rusqlite::Result<()> {
        match r {
            Record::Asset(x) => self.insert_asset(x),
            Record::Enrollment(x) => self.insert_enrollment(x),
            Record::Encryption(x) => self.insert_encryption(x),
            Record::Wipe(x) => self.insert_wipe(x),
            Record::MediaLink(x) => self.insert_media_link(x),
            Record::Leaver(x) => self.insert_leaver(x),
        }
    }

    fn insert_asset(&self, a: &Asset) -> rusqlite::Result<()> {
        let id = self.ingest_id;
        let mut st = self.tx.prepare_cached(
            "INSERT INTO asset (ingest_id, line, pointer, source_record_id, raw_sha256, tz_assumed, serial_raw, serial_key,
                serial_quality, asset_tag, name, manufacturer, model, model_id, category, device_class, owner_email,
                owner_username, owner_name, assignee_kind, ownership, lifecycle, lifecycle_label, purchase_date,
                warranty_end, eol_date, location, last_seen_at, last_audit_at, extra)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30)",
        )?;
        st.execute(params![
            id,
            a.prov.line as i64,
            a.prov.pointer,
            a.prov.source_record_id,
            a.prov.raw_sha256,
            a.prov.tz_assumed,
            a.serial.raw,
            a.serial.key,
            a.serial.quality.as_str(),
            a.asset_tag,
            a.name,
            a.manufacturer,
            a.model,
            a.model_id,
            a.category,
            a.device_class.as_str(),
            a.owner.email,
            a.owner.username,
            a.owner.display_name,
            a.assignee_kind.as_str(),
            a.ownership.as_str(),
            a.lifecycle.as_str(),
            a.lifecycle_label,
            opt_date(&a.purchase_date),
            opt_date(&a.warranty_end),
            opt_date(&a.eol_date),
            a.location,
            opt_time(&a.last_seen_at),
            opt_time(&a.last_audit_at),
            extra_json(&a.extra),
        ])?;
        Ok(())
    }

    fn insert_enrollment(&self, e: &Enrollment) -> rusqlite::Result<()> {
        let id = self.ingest_id;
        let mut st = self.tx.prepare_cached(
            "INSERT INTO enrollment (ingest_id, line, pointer, source_record_id, raw_sha256, tz_assumed, serial_raw,
                serial_key, serial_quality, asset_tag, hostname, manufacturer, model, mdm, state, state_raw, method,
                supervised, enrolled_at, last_checkin_at, compliance, compliance_raw, platform, os_version,
                user_principal, ownership, extra)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27)",
        )?;
        st.execute(params![
            id,
            e.prov.line as i64,
            e.prov.pointer,
            e.prov.source_record_id,
            e.prov.raw_sha256,
            e.prov.tz_assumed,
            e.serial.raw,
            e.serial.key,
            e.serial.quality.as_str(),
            e.asset_tag,
            e.hostname,
            e.manufacturer,
            e.model,
            e.mdm.as_str(),
            e.state.as_str(),
            e.state_raw,
            e.method.as_str(),
            e.supervised,
            opt_time(&e.enrolled_at),
            opt_time(&e.last_checkin_at),
            e.compliance.as_str(),
            e.compliance_raw,
            e.platform.as_str(),
            e.os_version,
            e.user_principal,
            e.ownership.as_str(),
            extra_json(&e.extra),
        ])?;
        Ok(())
    }

    fn insert_encryption(&self, e: &Encryption) -> rusqlite::Result<()> {
        let id = self.ingest_id;
        let mut st = self.tx.prepare_cached(
            "INSERT INTO encryption (ingest_id, line, pointer, source_record_id, raw_sha256, tz_assumed, serial_raw,
                serial_key, serial_quality, source_kind, scope, volume, state, state_raw, method, cipher, percent,
                recovery_key, key_type, observed_at)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)",
        )?;
        st.execute(params![
            id,
            e.prov.line as i64,
            e.prov.pointer,
            e.prov.source_record_id,
            e.prov.raw_sha256,
            e.prov.tz_assumed,
            e.serial.raw,
            e.serial.key,
            e.serial.quality.as_str(),
            e.source_kind,
            e.scope.as_str(),
            e.volume,
            e.state.as_str(),
            e.state_raw,
            e.method.as_str(),
            e.cipher,
            e.percent,
            e.recovery_key.as_str(),
            e.key_type.as_str(),
            opt_time(&e.observed_at),
        ])?;
        Ok(())
    }

    fn insert_wipe(&self, w: &Wipe) -> rusqlite::Result<()> {
        let id = self.ingest_id;
        let mut st = self.tx.prepare_cached(
            "INSERT INTO wipe (ingest_id, line, pointer, source_record_id, raw_sha256, tz_assumed, media_serial_raw,
                media_serial_key, media_serial_quality, host_serial_raw, host_serial_key, host_serial_quality, asset_tag,
                device_name, media_type, media_model, media_manufacturer, capacity_bytes, tool, tool_version, method_raw,
                technique, nist_category, passes, verification, verification_raw, result, result_raw, started_at,
                completed_at, operator, organisation, vendor, certificate_id, lot, report_id, hpa_dco, errors, extra)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,
                     ?28,?29,?30,?31,?32,?33,?34,?35,?36,?37,?38,?39)",
        )?;
        st.execute(params![
            id,
            w.prov.line as i64,
            w.prov.pointer,
            w.prov.source_record_id,
            w.prov.raw_sha256,
            w.prov.tz_assumed,
            w.media_serial.raw,
            w.media_serial.key,
            w.media_serial.quality.as_str(),
            w.host_serial.raw,
            w.host_serial.key,
            w.host_serial.quality.as_str(),
            w.asset_tag,
            w.device_name,
            w.media_type.as_str(),
            w.media_model,
            w.media_manufacturer,
            w.capacity_bytes,
            w.tool.as_str(),
            w.tool_version,
            w.method_raw,
            w.technique.as_str(),
            w.nist_category.as_str(),
            w.passes,
            w.verification.as_str(),
            w.verification_raw,
            w.result.as_str(),
            w.result_raw,
            opt_time(&w.started_at),
            opt_time(&w.completed_at),
            w.operator,
            w.organisation,
            w.vendor,
            w.certificate_id,
            w.lot,
            w.report_id,
            w.hpa_dco.as_str(),
            w.errors,
            extra_json(&w.extra),
        ])?;
        Ok(())
    }

    fn insert_media_link(&self, m: &MediaLink) -> rusqlite::Result<()> {
        let id = self.ingest_id;
        let mut st = self.tx.prepare_cached(
            "INSERT INTO media_link (ingest_id, line, pointer, source_record_id, raw_sha256, media_serial_raw,
                media_serial_key, media_serial_quality, host_serial_key, host_serial_quality, media_model)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
        )?;
        st.execute(params![
            id,
            m.prov.line as i64,
            m.prov.pointer,
            m.prov.source_record_id,
            m.prov.raw_sha256,
            m.media_serial.raw,
            m.media_serial.key,
            m.media_serial.quality.as_str(),
            m.host_serial.key,
            m.host_serial.quality.as_str(),
            m.media_model,
        ])?;
        Ok(())
    }

    fn insert_leaver(&self, l: &Leaver) -> rusqlite::Result<()> {
        let id = self.ingest_id;
        let mut st = self.tx.prepare_cached(
            "INSERT INTO leaver (ingest_id, line, pointer, source_record_id, raw_sha256, employee_id, email, username,
                display_name, termination_date, extra)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
        )?;
        st.execute(params![
            id,
            l.prov.line as i64,
            l.prov.pointer,
            l.prov.source_record_id,
            l.prov.raw_sha256,
            l.employee_id,
            l.email,
            l.username,
            l.display_name,
            l.termination_date.format("%Y-%m-%d").to_string(),
            extra_json(&l.extra),
        ])?;
        Ok(())
    }
}

impl Sink for IngestTx<'_> {
    fn record(&mut self, record: Record) -> Result<(), SinkError> {
        self.insert_record(&record)
    }

    fn issue(&mut self, kind: IssueKind, i: &Issue) -> Result<(), SinkError> {
        let mut st = self.tx.prepare_cached("INSERT INTO ingest_issue (ingest_id, kind, line, pointer, field, message, raw) VALUES (?1,?2,?3,?4,?5,?6,?7)")?;
        st.execute(params![self.ingest_id, kind_text(kind), i.line as i64, i.pointer, i.field, i.message, i.raw])?;
        Ok(())
    }
}
pub mod query;

/// A stored certificate: its file bytes and what the store indexes of it.
#[derive(Debug, Clone)]
pub struct StoredCertificate {
    pub id: String,
    pub record_sha256: String,
    pub date: String,
    pub signed: bool,
    pub countersigned: bool,
    pub body: Vec<u8>,
}

impl Store {
    /// Adds certificates or replaces them with a more signed version of the same record. A
    /// different record under a signed certificate's id is refused: signatures are never dropped.
    pub fn put_certificates(&mut self, certs: &[StoredCertificate]) -> Result<(), Error> {
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| busy_or(e, &path))?;
        let map = |source| Error::Sqlite { path: path.clone(), source };
        for c in certs {
            let old: Option<(String, bool, bool)> = tx
                .query_row("SELECT record_sha256, signed, countersigned FROM certificate WHERE id = ?1", [&c.id], |r| {
                    Ok((r.get(0)?, r.get::<_, i64>(1)? != 0, r.get::<_, i64>(2)? != 0))
                })
                .optional()
                .map_err(map)?;
            if old.as_ref().is_some_and(|(sha, was_signed, _)| *sha != c.record_sha256 && *was_signed) {
                return Err(Error::CertificateConflict { path: path.clone(), id: c.id.clone() });
            }
            // The same record with fewer signatures (`new` run again, an older copy) leaves the
            // stored one as it is.
            if old.is_some_and(|(sha, signed, countersigned)| sha == c.record_sha256 && ((signed && !c.signed) || (countersigned && !c.countersigned))) {
                continue;
            }
            tx.execute(
                "INSERT OR REPLACE INTO certificate (id, record_sha256, date, signed, countersigned, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![c.id, c.record_sha256, c.date, c.signed as i64, c.countersigned as i64, c.body],
            )
            .map_err(map)?;
        }
        tx.commit().map_err(map)
    }

    /// Keeps a revocation (the signed file) for a stored certificate; one per certificate.
    pub fn put_revocation(&mut self, certificate: &str, body: &[u8]) -> Result<(), Error> {
        self.conn
            .execute("INSERT INTO revocation (certificate, body) VALUES (?1, ?2) ON CONFLICT (certificate) DO NOTHING", params![certificate, body])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Every stored revocation: (certificate id, the signed file bytes).
    pub fn revocations(&self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let mut st = self.conn.prepare("SELECT certificate, body FROM revocation ORDER BY certificate").map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every stored certificate, by id.
    pub fn certificates(&self) -> Result<Vec<StoredCertificate>, Error> {
        let mut st = self.conn.prepare("SELECT id, record_sha256, date, signed, countersigned, body FROM certificate ORDER BY id").map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(StoredCertificate {
                    id: r.get(0)?,
                    record_sha256: r.get(1)?,
                    date: r.get(2)?,
                    signed: r.get::<_, i64>(3)? != 0,
                    countersigned: r.get::<_, i64>(4)? != 0,
                    body: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

/// An earlier pack's seq and its evaluation summary (None for packs without one).
pub type PackEvaluation = (u64, Option<Vec<u8>>);

impl Store {
    /// Each earlier pack's seq and its evaluation summary (None for packs without one).
    pub fn pack_evaluations(&self) -> Result<Vec<PackEvaluation>, Error> {
        let mut st = self.conn.prepare("SELECT seq, evaluation FROM pack ORDER BY seq").map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}
