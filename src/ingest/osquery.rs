//! osquery: rows of `disk_encryption` (macOS, Linux) and `bitlocker_info` (Windows). These tables
//! carry no serial number, so each row must bring its host's: either `osqueryi --json` output of
//! the query joined with `system_info` (a `hardware_serial` column), or the osquery results log
//! (JSON lines) with a `hardware_serial` decorator. docs/ingest.md gives both queries.

use super::json::{Doc, text};
use super::row::{RowCtx, non_empty};
use super::{Emitter, Error, Input, Issue};
use crate::model::*;
use serde_json::Value;

/// Keys that carry the host serial, in the row or in the log line's `decorations`.
const SERIAL_KEYS: &[&str] = &["hardware_serial", "host_serial"];

fn is_row(v: &Value) -> bool {
    v.as_object().is_some_and(|o| ["encryption_status", "encrypted", "conversion_status", "protection_status"].iter().any(|k| o.contains_key(*k)))
}

/// `osqueryi --json` output: a JSON array of rows with an encryption table's columns.
pub fn detect(v: &Value) -> bool {
    v.as_array().and_then(|a| a.first()).is_some_and(is_row)
}

/// The results log: one JSON object per line with `columns` (event) or `snapshot`, and a time.
pub fn looks_like_log(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let Some(first) = String::from_utf8_lossy(head).lines().find(|l| !l.trim().is_empty()).map(str::to_string) else { return false };
    serde_json::from_str::<Value>(first.trim_start_matches('\u{feff}'))
        .ok()
        .is_some_and(|v| (v.get("columns").is_some() || v.get("snapshot").is_some()) && (v.get("unixTime").is_some() || v.get("calendarTime").is_some()))
}

/// `osqueryi --json` output. It has no time of its own: records are observed at `--as-of`.
pub fn read_rows(doc: &Doc, em: &mut Emitter) -> Result<(), Error> {
    let Some(rows) = doc.records(&[]) else {
        return Err(Error::bad_file(doc.file, 1, None, "osquery output is a JSON array of rows (osqueryi --json)", None));
    };
    let when = em.opts.as_of;
    let mut unread = super::json::Unread::new(ROW_READS);
    for (i, r, (line, a, z)) in rows.iter() {
        unread.see(&r);
        let mut ctx = em.ctx(line, Some(format!("/{i}")), &doc.bytes[a..z]);
        let result = row(&r, None, when, &mut ctx);
        em.row(ctx, result)?;
    }
    em.unread = Some(unread.keys());
    Ok(())
}

/// The results log (filesystem logger): each line an event row (`columns`) or a snapshot of
/// rows (`snapshot`), with `decorations` and `unixTime`.
pub fn read_log(input: &Input, em: &mut Emitter) -> Result<(), Error> {
    let mut offset = 0usize;
    let (mut lines, mut rows) = (super::json::Unread::new(LINE_READS), super::json::Unread::new(ROW_READS));
    for (n, raw_line) in input.bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = n as u64 + 1;
        offset += raw_line.len() + 1;
        em.progress(offset as u64);
        let text_line = std::str::from_utf8(raw_line).map_err(|_| Error::bad_file(input.file, line_no, None, "not UTF-8", None))?;
        let text_line = text_line.trim_start_matches('\u{feff}').trim();
        if text_line.is_empty() {
            continue;
        }
        let v: Value = match serde_json::from_str(text_line) {
            Ok(v) => v,
            Err(e) => {
                let ctx = em.ctx(line_no, None, raw_line);
                let issue = ctx.issue("", format!("not a JSON object: {e}"), Some(text_line));
                em.row(ctx, Err(issue))?;
                continue;
            }
        };
        lines.see(&v);
        for r in v.get("snapshot").and_then(Value::as_array).into_iter().flatten().chain(v.get("columns")) {
            rows.see(r);
        }
        let mut ctx = em.ctx(line_no, None, raw_line);
        let when = match log_time(&v, &mut ctx) {
            Ok(t) => t,
            Err(issue) => {
                em.row(ctx, Err(issue))?;
                continue;
            }
        };
        let decorations = v.get("decorations");
        if let Some(Value::Array(rows)) = v.get("snapshot") {
            if rows.is_empty() {
                // The host answered with no volumes: the line is counted and said, not lost.
                ctx.warn("snapshot", "an empty snapshot: counted, no record", None);
                em.row(ctx, Ok(Vec::new()))?;
                continue;
            }
            // A snapshot line holds many rows: each is its own row of the population.
            for (i, r) in rows.iter().enumerate() {
                let mut ctx = em.ctx(line_no, Some(format!("/snapshot/{i}")), raw_line);
                let result = row(r, decorations, when, &mut ctx);
                em.row(ctx, result)?;
            }
            continue;
        }
        let result = match v.get("columns") {
            Some(cols) if v.get("action").and_then(Value::as_str) == Some("removed") => {
                // A row that went away says nothing about the state now; it is counted and said.
                ctx.warn("action", "a \"removed\" event row: counted, no record (the state is in the \"added\" rows)", Some(&text(cols, &["name"])));
                Ok(Vec::new())
            }
            Some(cols) => row(cols, decorations, when, &mut ctx),
            None => Err(ctx.issue("columns", "a results-log line without \"columns\" or \"snapshot\"", None)),
        };
        em.row(ctx, result)?;
    }
    // A line's keys, and its rows' columns (as `columns.NAME`).
    let mut unread = lines.keys();
    unread.extend(rows.keys().into_iter().map(|k| format!("columns.{k}")));
    em.unread = Some(unread);
    Ok(())
}

fn log_time(v: &Value, ctx: &mut RowCtx) -> Result<Option<Instant>, Issue> {
    let unix = text(v, &["unixTime"]);
    if unix.is_empty() {
        return Ok(None);
    }
    let secs: i64 = unix.parse().map_err(|_| ctx.issue("unixTime", "unixTime is not a whole number of seconds", Some(&unix)))?;
    Ok(chrono::DateTime::from_timestamp(secs, 0))
}

/// The host serial: the row's own column, else the log line's decoration.
fn host_serial(r: &Value, decorations: Option<&Value>) -> String {
    let own = SERIAL_KEYS.iter().map(|k| text(r, &[k])).find(|s| !s.is_empty());
    let decorated = || decorations.and_then(|d| SERIAL_KEYS.iter().map(|k| text(d, &[k])).find(|s| !s.is_empty()));
    own.or_else(decorated).map(|s| s.into_owned()).unwrap_or_default()
}

/// The columns of a row (disk_encryption, bitlocker_info) the reader reads.
const ROW_READS: &[&str] = &[
    "hardware_serial",
    "host_serial",
    "device_id",
    "drive_letter",
    "persistent_volume_id",
    "conversion_status",
    "protection_status",
    "encryption_method",
    "percentage_encrypted",
    "protector_types",
    "name",
    "uuid",
    "encrypted",
    "type",
    "encryption_status",
    "filevault_status",
];
/// The keys of a results-log line the reader reads.
const LINE_READS: &[&str] = &["snapshot", "columns", "action", "decorations", "unixTime"];

fn row(r: &Value, decorations: Option<&Value>, when: Option<Instant>, ctx: &mut RowCtx) -> Result<Vec<Record>, Issue> {
    if !r.is_object() {
        return Err(ctx.issue("", "row is not a JSON object", None));
    }
    if !is_row(r) {
        let cols = r.as_object().map(|o| o.keys().take(8).cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default();
        ctx.warn("", format!("not a disk_encryption or bitlocker_info row (columns: {cols}): counted, no record"), None);
        return Ok(Vec::new());
    }
    let raw_serial = host_serial(r, decorations);
    if raw_serial.trim().is_empty() {
        return Err(ctx.issue(
            "hardware_serial",
            "no host serial: osquery's encryption tables carry none. Join the query with system_info (SELECT s.hardware_serial, d.* FROM disk_encryption d, system_info s) or add a hardware_serial decorator; see docs/ingest.md",
            None,
        ));
    }
    let serial = ctx.serial("hardware_serial", &raw_serial, None)?;
    let e = if r.get("conversion_status").is_some() || r.get("protection_status").is_some() {
        bitlocker(r, serial, when, ctx)?
    } else {
        posix(r, serial, when, ctx)
    };
    Ok(vec![Record::Encryption(e)])
}

/// BitLocker: encrypted only when fully converted AND protection is on. Fully encrypted with
/// protection off is *suspended* (the key sits in the clear on the disk), never "encrypted".
fn bitlocker(r: &Value, serial: Serial, when: Option<Instant>, ctx: &mut RowCtx) -> Result<Encryption, Issue> {
    let conv = text(r, &["conversion_status"]).into_owned();
    let prot = text(r, &["protection_status"]).into_owned();
    // Fully encrypted (1) hands over to the protection status; every other conversion state
    // decides alone.
    let converted = ctx.vocab(
        "conversion_status",
        &conv,
        |t| {
            Some(match t {
                "0" => EncryptionState::NotEncrypted,
                "1" => EncryptionState::Encrypted,
                "2" => EncryptionState::Encrypting,
                "3" => EncryptionState::Decrypting,
                "4" | "5" => EncryptionState::Paused,
                // osquery writes -1 when the WMI call failed.
                "-1" => EncryptionState::Unknown,
                _ => return None,
            })
        },
        EncryptionState::Unknown,
    );
    let state = if converted != EncryptionState::Encrypted {
        converted
    } else {
        ctx.vocab(
            "protection_status",
            &prot,
            |t| {
                Some(match t {
                    "1" => EncryptionState::Encrypted,
                    "0" => EncryptionState::Suspended,
                    // 2: unknown (a locked volume); -1: the WMI call failed.
                    "2" | "-1" => EncryptionState::Unknown,
                    _ => return None,
                })
            },
            EncryptionState::Unknown,
        )
    };
    let letter = non_empty(&text(r, &["drive_letter"]));
    let percent = ctx.integer("percentage_encrypted", &text(r, &["percentage_encrypted"]))?.filter(|p| *p >= 0);
    let protectors = text(r, &["protector_types"]);
    let method = non_empty(&text(r, &["encryption_method"])).filter(|m| m != "None");
    Ok(Encryption {
        prov: ctx.prov(non_empty(&text(r, &["persistent_volume_id"])).or_else(|| non_empty(&text(r, &["device_id"])))),
        serial,
        source_kind: "osquery_bitlocker_info",
        scope: if letter.as_deref().is_some_and(|l| l.eq_ignore_ascii_case("C:")) { EncryptionScope::BootVolume } else { EncryptionScope::DataVolume },
        volume: letter.or_else(|| non_empty(&text(r, &["device_id"]))),
        state,
        state_raw: Some(format!("conversion_status={conv} protection_status={prot} protector_types={protectors}")),
        method: EncryptionMethod::Bitlocker,
        cipher: method,
        percent,
        // osquery sees which protectors exist (kept in state_raw), not whether a recovery key
        // was escrowed.
        recovery_key: RecoveryKey::Unknown,
        key_type: KeyType::Unknown,
        observed_at: when,
    })
}

/// disk_encryption (macOS, Linux): `encryption_status` decides; `undefined` or absent is unknown,
/// never "not encrypted". Only an old osquery without that column is read by `encrypted`.
fn posix(r: &Value, serial: Serial, when: Option<Instant>, ctx: &mut RowCtx) -> Encryption {
    let status = text(r, &["encryption_status"]).into_owned();
    let flag = text(r, &["encrypted"]).into_owned();
    let state = if r.get("encryption_status").is_some() {
        ctx.vocab(
            "encryption_status",
            &status,
            |t| {
                Some(match t {
                    "encrypted" => EncryptionState::Encrypted,
                    "not encrypted" => EncryptionState::NotEncrypted,
                    "undefined" | "" => EncryptionState::Unknown,
                    _ => return None,
                })
            },
            EncryptionState::Unknown,
        )
    } else {
        match flag.as_str() {
            "1" => EncryptionState::Encrypted,
            "0" => EncryptionState::NotEncrypted,
            _ => EncryptionState::Unknown,
        }
    };
    let kind = text(r, &["type"]).into_owned();
    let fv = text(r, &["filevault_status"]).into_owned();
    let method = if kind.starts_with("LUKS") {
        EncryptionMethod::Luks
    } else if kind == "APFS Encryption" {
        EncryptionMethod::Apfs
    } else if fv == "on" || kind == "AES-XTS" {
        EncryptionMethod::Filevault
    } else if kind.is_empty() {
        EncryptionMethod::Unknown
    } else {
        EncryptionMethod::Other
    };
    let name = non_empty(&text(r, &["name"]));
    Encryption {
        prov: ctx.prov(non_empty(&text(r, &["uuid"])).or_else(|| name.clone())),
        serial,
        source_kind: "osquery_disk_encryption",
        scope: EncryptionScope::DataVolume,
        volume: name,
        state,
        state_raw: Some(format!(
            "encryption_status={status} encrypted={flag}{}",
            if fv.is_empty() { String::new() } else { format!(" filevault_status={fv}") }
        )),
        method,
        cipher: non_empty(&kind),
        percent: None,
        recovery_key: RecoveryKey::Unknown,
        key_type: KeyType::Unknown,
        observed_at: when,
    }
}
