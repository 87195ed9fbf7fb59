//! The one table of readers: what each source is called, what syntax it has, how it is
//! recognised, and what reads it. Detection, `--source`, the docs and the tests all go through it.

use super::json::Doc;
use super::table::Table;
use super::{Emitter, Error, Input, SourceKind};
use serde_json::Value;

/// How a reader recognises its input, and reads it.
#[derive(Clone, Copy)]
pub enum Read {
    /// Raw bytes (XML, logs, JSON lines), recognised by a look at the bytes.
    Bytes { detect: fn(&[u8]) -> bool, read: fn(&Input, &mut Emitter) -> Result<(), Error> },
    /// One JSON document, recognised by its envelope and fields.
    Json { detect: fn(&Value) -> bool, read: fn(&Doc, &mut Emitter) -> Result<(), Error> },
    /// A CSV table, recognised by its columns.
    Csv { detect: fn(&Table) -> bool, read: fn(&Table, &mut Emitter) -> Result<(), Error> },
}

/// One reader.
pub struct Reader {
    pub kind: SourceKind,
    pub read: Read,
}

/// Every reader, in the order detection tries them within a syntax. Raw-byte readers are tried
/// first: an nwipe log starts with `[` and an osquery results log with `{`, like JSON.
pub const READERS: &[Reader] = &[
    Reader {
        kind: SourceKind::BlanccoXml,
        read: Read::Bytes { detect: |b| first(b) == Some(b'<') && super::blancco::looks_like(b), read: super::blancco::read },
    },
    Reader {
        kind: SourceKind::OsqueryJson,
        read: Read::Bytes { detect: |b| first(b) == Some(b'{') && super::osquery::looks_like_log(b), read: super::osquery::read_log },
    },
    Reader { kind: SourceKind::NwipeLog, read: Read::Bytes { detect: super::nwipe::looks_like, read: super::nwipe::read } },
    Reader { kind: SourceKind::OsqueryJson, read: Read::Json { detect: super::osquery::detect, read: super::osquery::read_rows } },
    Reader { kind: SourceKind::KandjiApi, read: Read::Json { detect: super::kandji::detect, read: super::kandji::read } },
    Reader { kind: SourceKind::FleetApi, read: Read::Json { detect: super::fleet::detect, read: super::fleet::read_json } },
    Reader { kind: SourceKind::GoogleApi, read: Read::Json { detect: super::google::detect, read: super::google::read } },
    Reader { kind: SourceKind::IntuneGraph, read: Read::Json { detect: super::intune::detect, read: super::intune::read_graph } },
    Reader { kind: SourceKind::SnipeitApi, read: Read::Json { detect: super::snipeit::detect_api, read: super::snipeit::read_api } },
    Reader { kind: SourceKind::JamfApi, read: Read::Json { detect: super::jamf::detect_api, read: super::jamf::read_api } },
    Reader { kind: SourceKind::JamfClassic, read: Read::Json { detect: super::jamf::detect_classic, read: super::jamf::read_classic } },
    Reader { kind: SourceKind::HrCsv, read: Read::Csv { detect: |t| t.has_any(super::hr::DETECT), read: super::hr::read } },
    Reader { kind: SourceKind::ItadCsv, read: Read::Csv { detect: |t| t.has_any(super::itad::DETECT), read: super::itad::read } },
    Reader { kind: SourceKind::FleetCsv, read: Read::Csv { detect: |t| t.has_all(&["hardware_serial", "id"]), read: super::fleet::read_csv } },
    Reader { kind: SourceKind::IntuneCsv, read: Read::Csv { detect: |t| t.has_any(super::intune::CSV_DETECT), read: super::intune::read_csv } },
    Reader { kind: SourceKind::JamfCsv, read: Read::Csv { detect: |t| t.has_any(super::jamf::CSV_DETECT), read: super::jamf::read_csv } },
    Reader { kind: SourceKind::SnipeitCsv, read: Read::Csv { detect: |t| t.has_any(super::snipeit::CSV_ID_COLUMNS), read: super::snipeit::read_csv } },
];

fn first(b: &[u8]) -> Option<u8> {
    b.iter().find(|c| !c.is_ascii_whitespace()).copied()
}

/// Reads the input with the reader `--source` names, or the one that recognises it.
pub fn read(input: &Input, em: &mut Emitter) -> Result<SourceKind, Error> {
    let forced = em.opts.source;
    let mine = |r: &&Reader| forced.is_none_or(|k| k == r.kind);
    // Raw-byte readers: their look at the bytes decides (also between two readers of one kind).
    for r in READERS.iter().filter(mine) {
        if let Read::Bytes { detect, read } = r.read
            && (detect(input.bytes) || (forced.is_some() && !READERS.iter().any(|o| o.kind == r.kind && !matches!(o.read, Read::Bytes { .. }))))
        {
            read(input, em)?;
            return Ok(r.kind);
        }
    }
    if forced.is_none() && first(input.bytes) == Some(b'<') {
        return Err(Error::Unrecognized { file: input.file.to_string(), detail: "XML that is not a Blancco erasure report".into() });
    }
    let json = READERS.iter().filter(mine).any(|r| matches!(r.read, Read::Json { .. }));
    if json && matches!(first(input.bytes), Some(b'{' | b'[')) {
        let doc = match Doc::parse(input) {
            Err(_) if forced.is_none() && timestamped_log(input.bytes) => {
                return Err(Error::Unrecognized {
                    file: input.file.to_string(),
                    detail: format!("a timestamped text log that is not an nwipe log; its first line is '{}'", first_line(input.bytes)),
                });
            }
            doc => doc?,
        };
        for r in READERS.iter().filter(mine) {
            if let Read::Json { detect, read } = r.read
                && (forced.is_some() || detect(&doc.value))
            {
                read(&doc, em)?;
                return Ok(r.kind);
            }
        }
        return Err(Error::Unrecognized { file: input.file.to_string(), detail: format!("JSON with top-level keys {}", super::json::top_keys(&doc.value)) });
    }
    if let Some(k) = forced.filter(|_| json) {
        return Err(Error::bad_file(input.file, 1, None, format!("{} is a JSON format, but the file is not JSON", k.as_str()), None));
    }
    let table = Table::open(input)?;
    if forced.is_none() {
        refuse_non_asset(input.file, &table)?;
    }
    for r in READERS.iter().filter(mine) {
        if let Read::Csv { detect, read } = r.read
            && (forced.is_some() || detect(&table))
        {
            read(&table, em)?;
            em.unread = Some(table.unread());
            return Ok(r.kind);
        }
    }
    if table.has_all(&["first name", "last name"]) || table.has_all(&["username", "email"]) {
        return Err(Error::NotAnAssetExport { file: input.file.into(), what: "a user list (no asset tag or serial column)".into() });
    }
    Err(Error::Unrecognized { file: input.file.into(), detail: looks_like(input.bytes, &table) })
}

/// What an unrecognised file looks like, for the error: a table with several columns is named by
/// its columns; one column and no delimiter is plain text, named by its first line.
fn looks_like(bytes: &[u8], table: &Table) -> String {
    if table.headers.len() > 1 {
        return format!("CSV with columns {}", table.header_summary());
    }
    format!("plain text, not a known export; its first line is '{}'", first_line(bytes))
}

/// The first non-blank line, shortened and without control characters, for a message.
fn first_line(bytes: &[u8]) -> String {
    let line = String::from_utf8_lossy(bytes.split(|b| *b == b'\n').find(|l| !l.trim_ascii().is_empty()).unwrap_or_default());
    line.trim().chars().take(60).map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// A first line opening with a bracketed date and time (`[2021/11/19 07:27:06]`,
/// `[2024-03-01T10:00:00Z]`): a log's leading `[`, not a JSON array.
fn timestamped_log(bytes: &[u8]) -> bool {
    let line = first_line(bytes);
    let b = line.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    b.first() == Some(&b'[')
        && digits(1..5)
        && matches!(b.get(5), Some(b'/' | b'-'))
        && digits(6..8)
        && b.get(8) == b.get(5)
        && digits(9..11)
        && matches!(b.get(11), Some(b' ' | b'T'))
        && digits(12..14)
        && b.get(14) == Some(&b':')
}

/// Snipe-IT's licence import looks like an asset CSV to a column check: refused as a whole.
fn refuse_non_asset(file: &str, table: &Table) -> Result<(), Error> {
    if table.has_any(&["seats", "licensed to name", "licensed to email", "reassignable"]) {
        return Err(Error::NotAnAssetExport { file: file.into(), what: "a Snipe-IT licence import file".into() });
    }
    Ok(())
}
