//! Read queries behind the per-asset view. For snapshot sources only the newest ingest's copy
//! of a record counts (a weekly re-export replaces last week's); wipe events all count.

use super::{Error, Store};
use crate::model::{
    Compliance, EncryptionScope, EncryptionState, EnrollmentState, Instant, Lifecycle, Mdm, MediaType, NistCategory, Ownership, Platform, RecoveryKey,
    SerialQuality, WipeResult, WipeTool,
};
use serde::Serialize;

/// A record reduced to what the per-asset view shows and joins on: where it came from, its
/// identity, and its kind's own typed fields.
#[derive(Debug, Clone)]
pub struct ViewRow {
    pub id: i64,
    pub source: String,
    pub file_name: String,
    /// The SHA-256 of the export the record came from.
    pub file_sha256: String,
    pub line: i64,
    /// The JSON pointer of the record inside its file, when the file is JSON or XML.
    pub pointer: Option<String>,
    /// The ingest it came from (with `line` and `pointer`, the input record: records of one row
    /// belong together).
    pub ingest: i64,
    /// The device's serial key (a wipe's or link's host).
    pub serial_key: String,
    pub serial_quality: SerialQuality,
    pub asset_tag: Option<String>,
    pub record: Stored,
}

/// The typed fields of each record kind the view reads.
#[derive(Debug, Clone)]
pub enum Stored {
    Asset {
        name: Option<String>,
        model: Option<String>,
        lifecycle: Lifecycle,
        /// Email, else username, else display name.
        owner: Option<String>,
        /// Every name of the owner (email, username), lower case: a leaver matches by either.
        owner_ids: Vec<String>,
        status_label: Option<String>,
        ownership: Ownership,
    },
    Enrollment {
        hostname: Option<String>,
        model: Option<String>,
        mdm: Mdm,
        state: EnrollmentState,
        last_checkin_at: Option<Instant>,
        compliance: Compliance,
        platform: Platform,
        os_version: Option<String>,
        ownership: Ownership,
    },
    Encryption {
        /// The reader's own name for what reported it (`intune_graph`, `osquery_bitlocker_info`).
        source_kind: String,
        scope: EncryptionScope,
        volume: Option<String>,
        state: EncryptionState,
        recovery_key: RecoveryKey,
    },
    Wipe {
        media_key: String,
        media_quality: SerialQuality,
        media_model: Option<String>,
        method: Option<String>,
        tool: WipeTool,
        result: WipeResult,
        completed_at: Option<Instant>,
        nist_category: NistCategory,
        media_type: MediaType,
    },
    MediaLink {
        media_key: String,
        media_quality: SerialQuality,
    },
}

impl ViewRow {
    /// Where the record is: `source:file@sha:line` (and the JSON pointer when there is one), so
    /// two exports with the same name, or two records on one minified line, never read alike.
    pub fn reference(&self) -> String {
        let sha: String = self.file_sha256.chars().take(12).collect();
        match self.pointer.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => format!("{}:{}@{sha}:{}:{p}", self.source, self.file_name, self.line),
            None => format!("{}:{}@{sha}:{}", self.source, self.file_name, self.line),
        }
    }

    /// The drive a wipe or a drive link is about, with the quality of its serial.
    pub fn media(&self) -> Option<(&str, SerialQuality)> {
        match &self.record {
            Stored::Wipe { media_key, media_quality, .. } | Stored::MediaLink { media_key, media_quality } => Some((media_key, *media_quality)),
            _ => None,
        }
    }

    /// The table it came from (for ordering and messages).
    pub fn table(&self) -> &'static str {
        match self.record {
            Stored::Asset { .. } => "asset",
            Stored::Enrollment { .. } => "enrollment",
            Stored::Encryption { .. } => "encryption",
            Stored::Wipe { .. } => "wipe",
            Stored::MediaLink { .. } => "media_link",
        }
    }
}

impl Store {
    /// Every record the per-asset view needs, newest copy per source record.
    pub fn view_rows(&self) -> Result<Vec<ViewRow>, Error> {
        self.view_rows_until(None)
    }

    /// The same, from the ingests whose as-of date (UTC) is on or before `until` (`YYYY-MM-DD`),
    /// and the undated ones.
    pub fn view_rows_until(&self, until: Option<&str>) -> Result<Vec<ViewRow>, Error> {
        let until = until.unwrap_or("9999-12-31");
        let mut out = Vec::new();
        for (table, body) in view_queries() {
            let mut st = self.conn().prepare(&ranked_sql(body)).map_err(|e| self.map_err(e))?;
            let rows = st.query_map([until], |r| view_row(table, r)).map_err(|e| self.map_err(e))?;
            for row in rows {
                out.push(row.map_err(|e| self.map_err(e))?);
            }
        }
        Ok(out)
    }

    /// Runs `read` in one read transaction (a savepoint: nested in a caller's own, if any).
    /// Its page cache is 32 MiB (the store's is 128 MiB, for ingest speed) and it sorts in
    /// temporary files, not memory: the view's reads are in storage order, and a million-device
    /// view must fit in 1 GiB with everything else. Both are settings for speed and memory, set
    /// before the transaction (SQLite refuses to move temporary storage inside one); where a
    /// caller's own transaction is open they stay as they were.
    pub fn read_snapshot(&self, read: &mut dyn FnMut() -> Result<(), Error>) -> Result<(), Error> {
        let tuned = self.conn().execute_batch("PRAGMA temp_store = FILE").is_ok();
        self.conn().execute_batch("PRAGMA cache_size = -32768; SAVEPOINT view_snapshot").map_err(|e| self.map_err(e))?;
        let out = read();
        self.conn().execute_batch("RELEASE view_snapshot; PRAGMA cache_size = -131072").map_err(|e| self.map_err(e))?;
        if tuned {
            self.conn().execute_batch("PRAGMA temp_store = MEMORY").map_err(|e| self.map_err(e))?;
        }
        out
    }

    /// What the join needs of every record of `view_rows_until`, in the same order: identity,
    /// place and keys, without the fields the view shows (a few dozen bytes a record).
    pub fn view_keys_until(&self, until: &str) -> Result<Keys, Error> {
        // Only a source with several live ingests in range needs the newest copy of each record
        // picked (the window); with one ingest per source every record counts.
        let several: bool = self
            .conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM ingest i WHERE (i.as_of IS NULL OR substr(i.as_of, 1, 10) <= ?1) AND i.superseded_by IS NULL
                   AND i.retracted IS NULL GROUP BY i.source HAVING count(*) > 1)",
                [until],
                |r| r.get(0),
            )
            .map_err(|e| self.map_err(e))?;
        let mut keys = Keys { rows: Vec::new(), text: String::new() };
        for (table, body) in view_queries() {
            let kind = TableKind::of(table);
            let mut st = self.conn().prepare(&keys_sql(body, several)).map_err(|e| self.map_err(e))?;
            let mut rows = st.query([until]).map_err(|e| self.map_err(e))?;
            while let Some(r) = rows.next().map_err(|e| self.map_err(e))? {
                let row = keys.row(kind, r).map_err(|e| self.map_err(e))?;
                keys.rows.push(row);
            }
        }
        Ok(keys)
    }

    /// Reads single view rows by table and id (the rows `view_keys_until` chose).
    pub fn view_row_reader(&self) -> Result<RowReader<'_>, Error> {
        let mut statements = Vec::new();
        for (table, body) in view_queries() {
            let sql = format!("WITH g AS (SELECT i.id, i.source, i.file_name, COALESCE(i.as_of, '') AS as_of, i.sha256 FROM ingest i) {body} WHERE r.id = ?1");
            statements.push((table, self.conn().prepare(&sql).map_err(|e| self.map_err(e))?));
        }
        Ok(RowReader { store: self, statements })
    }
}

/// Prepared point reads of view rows.
pub struct RowReader<'s> {
    store: &'s Store,
    statements: Vec<(&'static str, rusqlite::Statement<'s>)>,
}

impl RowReader<'_> {
    pub fn get(&mut self, table: TableKind, id: i64) -> Result<ViewRow, Error> {
        let (name, st) = &mut self.statements[table as usize];
        let name = *name;
        st.query_row([id], |r| view_row(name, r)).map_err(|e| self.store.map_err(e))
    }
}

/// The record tables of the view, in the order `view_queries` reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TableKind {
    Asset = 0,
    Enrollment = 1,
    Encryption = 2,
    Wipe = 3,
    MediaLink = 4,
}

impl TableKind {
    fn of(table: &str) -> TableKind {
        match table {
            "asset" => TableKind::Asset,
            "enrollment" => TableKind::Enrollment,
            "encryption" => TableKind::Encryption,
            "wipe" => TableKind::Wipe,
            _ => TableKind::MediaLink,
        }
    }

    /// The table's name (what records are ordered by within a line).
    pub fn name(self) -> &'static str {
        ["asset", "enrollment", "encryption", "wipe", "media_link"][self as usize]
    }
}

/// What the join needs of every record, the text of all of them in one buffer (a few dozen
/// bytes a record, three allocations fewer each).
pub struct Keys {
    pub rows: Vec<KeyRow>,
    text: String,
}

/// A piece of `Keys`' text.
#[derive(Debug, Clone, Copy)]
pub struct Text(u32, u32);

impl Keys {
    pub fn text(&self, t: Text) -> &str {
        &self.text[t.0 as usize..(t.0 + t.1) as usize]
    }

    fn put(&mut self, s: &str) -> rusqlite::Result<Text> {
        let at = u32::try_from(self.text.len()).ok().filter(|a| a.checked_add(s.len() as u32).is_some() && s.len() <= u32::MAX as usize);
        let at = at.ok_or(rusqlite::Error::IntegralValueOutOfRange(0, self.text.len() as i64))?;
        self.text.push_str(s);
        Ok(Text(at, s.len() as u32))
    }

    fn opt(&mut self, s: Option<&str>) -> rusqlite::Result<Option<Text>> {
        s.map(|s| self.put(s)).transpose()
    }

    /// The keys of rows already read whole (`view_rows_until`), in their order.
    pub fn of_rows(rows: &[ViewRow]) -> rusqlite::Result<Keys> {
        let mut keys = Keys { rows: Vec::with_capacity(rows.len()), text: String::new() };
        for r in rows {
            let (media, media_quality) = match r.media() {
                Some((m, q)) => (Some(keys.put(m)?), q),
                None => (None, SerialQuality::Missing),
            };
            let row = KeyRow {
                table: TableKind::of(r.table()),
                serial_quality: r.serial_quality,
                media_quality,
                id: r.id,
                ingest: r.ingest,
                line: r.line,
                pointer: keys.opt(r.pointer.as_deref())?,
                serial_key: keys.put(&r.serial_key)?,
                asset_tag: keys.opt(r.asset_tag.as_deref())?,
                media,
            };
            keys.rows.push(row);
        }
        Ok(keys)
    }

    /// One row of `keys_sql`.
    fn row(&mut self, table: TableKind, r: &rusqlite::Row) -> rusqlite::Result<KeyRow> {
        let media = match table {
            TableKind::Wipe | TableKind::MediaLink => self.opt(r.get_ref(5)?.as_str_or_null()?)?,
            _ => None,
        };
        Ok(KeyRow {
            table,
            id: r.get(0)?,
            line: r.get(1)?,
            serial_key: self.put(r.get_ref(2)?.as_str()?)?,
            serial_quality: r.get(3)?,
            asset_tag: self.opt(r.get_ref(4)?.as_str_or_null()?)?,
            media_quality: if media.is_some() { r.get(6)? } else { SerialQuality::Missing },
            media,
            ingest: r.get(7)?,
            pointer: self.opt(r.get_ref(8)?.as_str_or_null()?)?,
        })
    }
}

/// What the join needs of one record.
#[derive(Debug, Clone)]
pub struct KeyRow {
    pub table: TableKind,
    pub serial_quality: SerialQuality,
    pub media_quality: SerialQuality,
    pub id: i64,
    pub ingest: i64,
    pub line: i64,
    pub pointer: Option<Text>,
    pub serial_key: Text,
    pub asset_tag: Option<Text>,
    /// A wipe's or a drive link's drive (its quality: `media_quality`).
    pub media: Option<Text>,
}

/// Snapshot sources: per source and record identity, the copies from the newest ingest (by
/// as-of, then ingest order); duplicates inside one ingest all stay. Wipe events have unique
/// identities, so all stay.
fn ranked_sql(body: &str) -> String {
    format!(
        "WITH g AS (SELECT i.id, i.source, i.file_name, COALESCE(i.as_of, '') AS as_of, i.sha256 FROM ingest i
                    WHERE (i.as_of IS NULL OR substr(i.as_of, 1, 10) <= ?1) AND i.superseded_by IS NULL AND i.retracted IS NULL),
         x AS ({body}),
         ranked AS (
           SELECT x.*, FIRST_VALUE(x.ingest) OVER (PARTITION BY x.source, x.ident ORDER BY x.as_of DESC, x.ingest DESC) AS newest
           FROM x)
         SELECT * FROM ranked WHERE ingest = newest ORDER BY ingest, id"
    )
}

/// `ranked_sql` reduced to the columns the join reads; without the window when every source
/// has one live ingest in range (then every record counts, as the window would find).
fn keys_sql(body: &str, window: bool) -> String {
    let cols = "id, line, serial_key, serial_quality, asset_tag, media_key, media_quality, ingest, pointer";
    let g = "WITH g AS (SELECT i.id, i.source, i.file_name, COALESCE(i.as_of, '') AS as_of, i.sha256 FROM ingest i
                    WHERE (i.as_of IS NULL OR substr(i.as_of, 1, 10) <= ?1) AND i.superseded_by IS NULL AND i.retracted IS NULL),
         x AS ({body})";
    if window {
        format!(
            "{g}, ranked AS (SELECT {cols}, FIRST_VALUE(x.ingest) OVER (PARTITION BY x.source, x.ident ORDER BY x.as_of DESC, x.ingest DESC) AS newest FROM x)
             SELECT {cols} FROM ranked WHERE ingest = newest ORDER BY ingest, id"
        )
        .replace("{body}", body)
    } else {
        format!("{g} SELECT {cols} FROM x ORDER BY ingest, id").replace("{body}", body)
    }
}

/// One row of a view query.
fn view_row(table: &str, r: &rusqlite::Row) -> rusqlite::Result<ViewRow> {
    let pointer: Option<String> = r.get(18)?;
    Ok(ViewRow {
        id: r.get(0)?,
        source: r.get(1)?,
        file_name: r.get(2)?,
        file_sha256: r.get(22)?,
        line: r.get(3)?,
        ingest: r.get(17)?,
        pointer,
        serial_key: r.get(4)?,
        serial_quality: r.get(5)?,
        asset_tag: r.get(6)?,
        record: stored(table, r)?,
    })
}

/// A row of one of `view_queries` as its kind's typed fields (a text no vocabulary knows, or a
/// time that does not parse, is an error).
fn stored(table: &str, r: &rusqlite::Row) -> rusqlite::Result<Stored> {
    let time = |i: usize| -> rusqlite::Result<Option<Instant>> {
        match r.get::<_, Option<String>>(i)? {
            None => Ok(None),
            Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
                .map(|t| Some(t.with_timezone(&chrono::Utc)))
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))),
        }
    };
    Ok(match table {
        "asset" => Stored::Asset {
            name: r.get(9)?,
            model: r.get(10)?,
            lifecycle: r.get(11)?,
            owner: r.get(12)?,
            owner_ids: r.get::<_, Option<String>>(20)?.unwrap_or_default().split('|').filter(|s| !s.is_empty()).map(str::to_string).collect(),
            status_label: r.get(19)?,
            ownership: r.get(21)?,
        },
        "enrollment" => Stored::Enrollment {
            hostname: r.get(9)?,
            model: r.get(10)?,
            state: r.get(11)?,
            mdm: r.get(12)?,
            last_checkin_at: time(13)?,
            compliance: r.get(14)?,
            platform: r.get(19)?,
            os_version: r.get(20)?,
            ownership: r.get(21)?,
        },
        "encryption" => Stored::Encryption { volume: r.get(9)?, state: r.get(11)?, scope: r.get(12)?, recovery_key: r.get(13)?, source_kind: r.get(14)? },
        "wipe" => Stored::Wipe {
            media_key: r.get(7)?,
            media_quality: r.get(8)?,
            media_model: r.get(9)?,
            method: r.get(10)?,
            result: r.get(11)?,
            tool: r.get(12)?,
            completed_at: time(13)?,
            nist_category: r.get(14)?,
            media_type: r.get(19)?,
        },
        _ => Stored::MediaLink { media_key: r.get(7)?, media_quality: r.get(8)? },
    })
}

/// One SELECT per record table, each giving the columns of a `ViewRow` (the column mapping of
/// the view: a table, not logic).
fn view_queries() -> [(&'static str, &'static str); 5] {
    [
        (
            "asset",
            "SELECT r.id, g.source, g.file_name, r.line, r.serial_key, r.serial_quality, r.asset_tag, NULL AS media_key, NULL AS media_quality,
                    r.name, r.model, r.lifecycle, COALESCE(r.owner_email, r.owner_username, r.owner_name), NULL,
                    r.lifecycle_label, COALESCE(r.source_record_id, r.serial_key || '|' || COALESCE(r.asset_tag, '')) AS ident, g.as_of, g.id AS ingest, r.pointer, r.lifecycle_label AS more,
                    lower(COALESCE(r.owner_email, '') || '|' || COALESCE(r.owner_username, '')) AS owner_ids, r.ownership, g.sha256
             FROM asset r JOIN g ON g.id = r.ingest_id"
        ),
        (
            "enrollment",
            "SELECT r.id, g.source, g.file_name, r.line, r.serial_key, r.serial_quality, r.asset_tag, NULL AS media_key, NULL AS media_quality,
                    r.hostname, r.model, r.state, r.mdm, r.last_checkin_at, r.compliance,
                    COALESCE(r.source_record_id, r.serial_key || '|' || COALESCE(r.hostname, '')) AS ident, g.as_of, g.id AS ingest, r.pointer, r.platform AS more, r.os_version, r.ownership, g.sha256
             FROM enrollment r JOIN g ON g.id = r.ingest_id"
        ),
        (
            "encryption",
            "SELECT r.id, g.source, g.file_name, r.line, r.serial_key, r.serial_quality, NULL AS asset_tag, NULL AS media_key, NULL AS media_quality,
                    r.volume, NULL, r.state, r.scope, r.recovery_key, r.source_kind,
                    COALESCE(r.source_record_id, r.serial_key) || '|' || r.scope || '|' || COALESCE(r.volume, '') AS ident, g.as_of, g.id AS ingest, r.pointer, NULL AS more, NULL, NULL, g.sha256
             FROM encryption r JOIN g ON g.id = r.ingest_id"
        ),
        (
            "wipe",
            "SELECT r.id, g.source, g.file_name, r.line, r.host_serial_key AS serial_key, r.host_serial_quality AS serial_quality, r.asset_tag,
                    r.media_serial_key AS media_key, r.media_serial_quality AS media_quality, r.media_model, r.method_raw, r.result, r.tool,
                    r.completed_at, r.nist_category, CAST(r.id AS TEXT) AS ident, g.as_of, g.id AS ingest, r.pointer, r.media_type AS more, NULL, NULL, g.sha256
             FROM wipe r JOIN g ON g.id = r.ingest_id"
        ),
        (
            "media_link",
            "SELECT r.id, g.source, g.file_name, r.line, r.host_serial_key AS serial_key, r.host_serial_quality AS serial_quality, NULL AS asset_tag,
                    r.media_serial_key AS media_key, r.media_serial_quality AS media_quality, r.media_model, NULL, '', NULL, NULL, NULL,
                    COALESCE(r.source_record_id, r.host_serial_key) || '|' || r.media_serial_key AS ident, g.as_of, g.id AS ingest, r.pointer, NULL AS more, NULL, NULL, g.sha256
             FROM media_link r JOIN g ON g.id = r.ingest_id"
        ),
    ]
}

/// A stored wipe record with its provenance: what a certificate of sanitization is built from.
#[derive(Debug, Clone, Serialize)]
pub struct WipeRow {
    pub id: i64,
    pub source: String,
    pub file_name: String,
    pub file_sha256: String,
    pub line: i64,
    pub raw_sha256: String,
    pub media_serial: String,
    pub media_serial_key: String,
    pub host_serial_key: String,
    pub asset_tag: Option<String>,
    pub media_type: String,
    pub media_model: Option<String>,
    pub media_manufacturer: Option<String>,
    pub capacity_bytes: Option<i64>,
    pub tool: String,
    pub tool_version: Option<String>,
    pub method_raw: Option<String>,
    pub technique: String,
    pub nist_category: String,
    pub passes: Option<i64>,
    pub verification: String,
    pub result: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub operator: Option<String>,
    pub organisation: Option<String>,
    pub vendor: Option<String>,
    pub lot: Option<String>,
}

impl Store {
    /// Every wipe record, oldest ingest first.
    pub fn wipes(&self) -> Result<Vec<WipeRow>, Error> {
        let mut st = self
            .conn()
            .prepare(
                "SELECT w.id, g.source, g.file_name, g.sha256, w.line, w.raw_sha256, w.media_serial_raw, w.media_serial_key,
                        w.host_serial_key, w.asset_tag, w.media_type, w.media_model, w.media_manufacturer, w.capacity_bytes,
                        w.tool, w.tool_version, w.method_raw, w.technique, w.nist_category, w.passes, w.verification, w.result,
                        w.started_at, w.completed_at, w.operator, w.organisation, w.vendor, w.lot
                 FROM wipe w JOIN ingest g ON g.id = w.ingest_id WHERE g.superseded_by IS NULL AND g.retracted IS NULL ORDER BY g.id, w.id",
            )
            .map_err(|e| self.map_err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(WipeRow {
                    id: r.get(0)?,
                    source: r.get(1)?,
                    file_name: r.get(2)?,
                    file_sha256: r.get(3)?,
                    line: r.get(4)?,
                    raw_sha256: r.get(5)?,
                    media_serial: r.get(6)?,
                    media_serial_key: r.get(7)?,
                    host_serial_key: r.get(8)?,
                    asset_tag: r.get(9)?,
                    media_type: r.get(10)?,
                    media_model: r.get(11)?,
                    media_manufacturer: r.get(12)?,
                    capacity_bytes: r.get(13)?,
                    tool: r.get(14)?,
                    tool_version: r.get(15)?,
                    method_raw: r.get(16)?,
                    technique: r.get(17)?,
                    nist_category: r.get(18)?,
                    passes: r.get(19)?,
                    verification: r.get(20)?,
                    result: r.get(21)?,
                    started_at: r.get(22)?,
                    completed_at: r.get(23)?,
                    operator: r.get(24)?,
                    organisation: r.get(25)?,
                    vendor: r.get(26)?,
                    lot: r.get(27)?,
                })
            })
            .map_err(|e| self.map_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.map_err(e))
    }
}

/// A leaver as RET-01 sees it, with where the record came from.
#[derive(Debug, Clone, Serialize)]
pub struct LeaverRow {
    pub source: String,
    pub file_name: String,
    pub line: i64,
    pub employee_id: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub termination_date: String,
}

impl Store {
    /// Leavers from the ingests dated on or before `until` (and undated ones). A person on
    /// several lists counts once, as the newest list has them (a corrected date replaces the old).
    pub fn leavers_until(&self, until: &str) -> Result<Vec<LeaverRow>, Error> {
        let sql = "WITH g AS (SELECT i.id, i.source, i.file_name, COALESCE(i.as_of, '') AS as_of FROM ingest i
                              WHERE (i.as_of IS NULL OR substr(i.as_of, 1, 10) <= ?1) AND i.superseded_by IS NULL AND i.retracted IS NULL),
                   x AS (SELECT r.id, g.source, g.file_name, r.line, r.employee_id, r.email, r.username, r.display_name,
                                r.termination_date, g.as_of, g.id AS ingest,
                                lower(COALESCE(r.employee_id, r.email, r.username)) AS ident
                         FROM leaver r JOIN g ON g.id = r.ingest_id),
                   ranked AS (SELECT x.*, FIRST_VALUE(x.ingest) OVER (PARTITION BY x.ident ORDER BY x.as_of DESC, x.ingest DESC) AS newest FROM x)
                   SELECT source, file_name, line, employee_id, email, username, display_name, termination_date
                   FROM ranked WHERE ingest = newest ORDER BY termination_date, ident, id";
        let mut st = self.conn().prepare(sql).map_err(|e| self.map_err(e))?;
        let rows = st
            .query_map([until], |r| {
                Ok(LeaverRow {
                    source: r.get(0)?,
                    file_name: r.get(1)?,
                    line: r.get(2)?,
                    employee_id: r.get(3)?,
                    email: r.get(4)?,
                    username: r.get(5)?,
                    display_name: r.get(6)?,
                    termination_date: r.get(7)?,
                })
            })
            .map_err(|e| self.map_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.map_err(e))
    }
}

impl Store {
    /// Which record tables each live ingest wrote to (`asset`, `enrollment`, `encryption`,
    /// `wipe`, `leaver`): what kind of evidence it is. One scan per table.
    pub fn ingest_tables(&self) -> Result<Vec<(i64, &'static str)>, Error> {
        let mut out = Vec::new();
        for table in ["asset", "enrollment", "encryption", "wipe", "leaver"] {
            let sql =
                format!("SELECT DISTINCT r.ingest_id FROM {table} r JOIN ingest i ON i.id = r.ingest_id WHERE i.superseded_by IS NULL AND i.retracted IS NULL");
            let mut st = self.conn().prepare(&sql).map_err(|e| self.map_err(e))?;
            let ids = st.query_map([], |r| r.get::<_, i64>(0)).map_err(|e| self.map_err(e))?;
            for id in ids {
                out.push((id.map_err(|e| self.map_err(e))?, table));
            }
        }
        out.sort();
        Ok(out)
    }
}
