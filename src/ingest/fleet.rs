//! Fleet (fleetdm): `GET /api/v1/fleet/hosts` (`{"hosts": [...]}`), one host
//! (`{"host": {...}}`) and the hosts report CSV (`/hosts/report?format=csv`, snake_case columns).
//! Each host gives an enrollment (the Fleet agent, with the MDM enrollment status it reports)
//! and a device-scope encryption record. `disk_encryption_enabled: null` or missing is unknown,
//! never "not encrypted"; `mdm: null` (servers) means no MDM, not "unenrolled".

use super::json::{Doc, text};
use super::row::{RowCtx, non_empty};
use super::table::{Row, Table};
use super::{Emitter, Error, Issue};
use crate::model::*;
use serde_json::Value;

/// Columns that mark the hosts report CSV.
pub const CSV_DETECT: &[&str] = &["hardware_serial", "osquery_version", "last_enrolled_at"];

pub fn detect(v: &Value) -> bool {
    let host_like = |h: &Value| h.get("hardware_serial").is_some() || h.get("osquery_version").is_some();
    match v {
        Value::Object(o) => o.get("hosts").and_then(Value::as_array).is_some_and(|a| a.iter().any(host_like)) || o.get("host").is_some_and(host_like),
        _ => false,
    }
}

fn platform(ctx: &mut RowCtx, raw: &str) -> Platform {
    ctx.vocab(
        "platform",
        raw,
        |t| {
            Some(match t.to_ascii_lowercase().as_str() {
                "darwin" | "macos" => Platform::Macos,
                "windows" => Platform::Windows,
                "ios" => Platform::Ios,
                "ipados" => Platform::Ipados,
                "chrome" | "chromeos" => Platform::Chromeos,
                "android" => Platform::Android,
                "ubuntu"
                | "debian"
                | "rhel"
                | "centos"
                | "fedora"
                | "amzn"
                | "arch"
                | "manjaro"
                | "opensuse-leap"
                | "opensuse-tumbleweed"
                | "gentoo"
                | "nixos"
                | "linux"
                | "pop"
                | "kali"
                | "linuxmint" => Platform::Linux,
                _ => return None,
            })
        },
        Platform::Other,
    )
}

/// `mdm.enrollment_status` (Fleet's HostMDM.EnrollmentStatus) and whether it means enrolled.
fn mdm_state(ctx: &mut RowCtx, field: &str, raw: Option<&str>) -> (EnrollmentState, EnrollmentMethod) {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        // No MDM reported (servers, Linux): the host is still enrolled in Fleet's agent.
        return (EnrollmentState::Enrolled, EnrollmentMethod::Unknown);
    };
    match raw.to_ascii_lowercase().as_str() {
        "on (automatic)" => (EnrollmentState::Enrolled, EnrollmentMethod::Automated),
        "on (manual)" | "on (company-owned)" => (EnrollmentState::Enrolled, EnrollmentMethod::User),
        "on (personal)" => (EnrollmentState::Enrolled, EnrollmentMethod::Byod),
        "pending" => (EnrollmentState::Pending, EnrollmentMethod::Unknown),
        "off" => (EnrollmentState::Unenrolled, EnrollmentMethod::Unknown),
        _ => {
            ctx.warn(field, "MDM enrollment status not in Fleet's vocabulary; recorded as unknown", Some(raw));
            (EnrollmentState::Unknown, EnrollmentMethod::Unknown)
        }
    }
}

/// Fleet's disk-encryption status (`mdm.os_settings.disk_encryption.status`), when Fleet enforces it.
fn enforced_state(raw: &str) -> Option<EncryptionState> {
    Some(match raw {
        "verified" | "verifying" => EncryptionState::Encrypted,
        "enforcing" => EncryptionState::Encrypting,
        "action_required" | "failed" | "removing_enforcement" => EncryptionState::Unknown,
        _ => return None,
    })
}

/// The fields of one host, whichever shape it came in.
struct Host {
    id: String,
    serial: String,
    hostname: Option<String>,
    vendor: Option<String>,
    model: Option<String>,
    platform: String,
    os_version: Option<String>,
    seen: String,
    enrolled: String,
    mdm_status: Option<String>,
    mdm_server: Option<String>,
    /// `disk_encryption_enabled`: Some(Some(b)), Some(None) for null, None when missing.
    disk: Option<Option<bool>>,
    enforced: Option<String>,
    key_available: Option<bool>,
    team: Option<String>,
    status: Option<String>,
}

fn records(h: Host, ctx: &mut RowCtx) -> Result<Vec<Record>, Issue> {
    let serial = ctx.serial("hardware_serial", &h.serial, h.model.as_deref())?;
    let plat = platform(ctx, &h.platform);
    let (state, method) = mdm_state(ctx, "mdm.enrollment_status", h.mdm_status.as_deref());
    let seen = ctx.instant("seen_time", &h.seen)?;
    let mut extra = Extra::new();
    for (k, v) in [("mdm_server_url", &h.mdm_server), ("team_name", &h.team), ("status", &h.status), ("hardware_vendor", &h.vendor)] {
        if let Some(v) = v {
            extra.insert(k.to_string(), v.clone());
        }
    }
    let enrollment = Enrollment {
        prov: ctx.prov(Some(h.id.clone())),
        serial: serial.clone(),
        asset_tag: None,
        hostname: h.hostname.clone(),
        manufacturer: h.vendor.clone(),
        model: h.model.clone(),
        mdm: Mdm::Fleet,
        state,
        state_raw: Some(h.mdm_status.clone().unwrap_or_else(|| "no MDM (Fleet agent only)".into())),
        method,
        supervised: None,
        enrolled_at: ctx.instant("last_enrolled_at", &h.enrolled)?,
        last_checkin_at: seen,
        compliance: Compliance::Unknown,
        compliance_raw: None,
        platform: plat,
        os_version: h.os_version.clone(),
        user_principal: None,
        ownership: if method == EnrollmentMethod::Byod { Ownership::Personal } else { Ownership::Unknown },
        extra,
    };
    let enforced = h.enforced.as_deref().and_then(enforced_state);
    let state = match (enforced, h.disk) {
        (Some(s), _) => s,
        (None, Some(Some(true))) => EncryptionState::Encrypted,
        (None, Some(Some(false))) => EncryptionState::NotEncrypted,
        (None, _) => EncryptionState::Unknown,
    };
    let encryption = Encryption {
        prov: ctx.prov(Some(h.id)),
        serial,
        source_kind: "fleet",
        scope: EncryptionScope::Device,
        volume: None,
        state,
        state_raw: Some(match (&h.enforced, h.disk) {
            (Some(e), _) => format!("mdm.os_settings.disk_encryption.status={e}"),
            (None, Some(Some(b))) => format!("disk_encryption_enabled={b}"),
            (None, Some(None)) => "disk_encryption_enabled=null".into(),
            (None, None) => "disk_encryption_enabled missing".into(),
        }),
        method: match plat {
            Platform::Macos => EncryptionMethod::Filevault,
            Platform::Windows => EncryptionMethod::Bitlocker,
            Platform::Linux => EncryptionMethod::Luks,
            _ => EncryptionMethod::Unknown,
        },
        cipher: None,
        percent: None,
        // Fleet only knows the key when it enforces encryption itself.
        recovery_key: match (h.enforced.is_some(), h.key_available) {
            (true, Some(true)) => RecoveryKey::Escrowed,
            (true, Some(false)) => RecoveryKey::NotEscrowed,
            _ => RecoveryKey::Unknown,
        },
        key_type: KeyType::Unknown,
        observed_at: seen,
    };
    Ok(vec![Record::Enrollment(enrollment), Record::Encryption(encryption)])
}

fn opt_bool(ctx: &RowCtx, field: &str, v: Option<&Value>) -> Result<Option<Option<bool>>, Issue> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::Bool(b)) => Ok(Some(Some(*b))),
        Some(other) => Err(ctx.issue(field, "expected true, false or null", Some(&other.to_string()))),
    }
}

/// The keys of a Fleet host the reader reads.
const HOST_READS: &[&str] = &[
    "id",
    "hostname",
    "display_name",
    "hardware_serial",
    "hardware_model",
    "hardware_vendor",
    "platform",
    "os_version",
    "status",
    "seen_time",
    "last_enrolled_at",
    "team_name",
    "mdm",
    "disk_encryption_enabled",
];

fn json_host(d: &Value, ctx: &mut RowCtx) -> Result<Vec<Record>, Issue> {
    if !d.is_object() {
        return Err(ctx.issue("", "host is not a JSON object", None));
    }
    let id = non_empty(&text(d, &["id"])).ok_or_else(|| ctx.issue("id", "host has no id", None))?;
    let mdm = d.get("mdm").filter(|m| !m.is_null());
    let host = Host {
        id,
        serial: text(d, &["hardware_serial"]).into_owned(),
        hostname: non_empty(&text(d, &["display_name"])).or_else(|| non_empty(&text(d, &["hostname"]))),
        vendor: non_empty(&text(d, &["hardware_vendor"])),
        model: non_empty(&text(d, &["hardware_model"])),
        platform: text(d, &["platform"]).into_owned(),
        os_version: non_empty(&text(d, &["os_version"])),
        seen: text(d, &["seen_time"]).into_owned(),
        enrolled: text(d, &["last_enrolled_at"]).into_owned(),
        mdm_status: mdm.and_then(|m| m.get("enrollment_status")).and_then(Value::as_str).and_then(non_empty),
        mdm_server: mdm.and_then(|m| m.get("server_url")).and_then(Value::as_str).and_then(non_empty),
        disk: opt_bool(ctx, "disk_encryption_enabled", d.get("disk_encryption_enabled"))?,
        enforced: mdm.and_then(|m| m.pointer("/os_settings/disk_encryption/status")).and_then(Value::as_str).and_then(non_empty),
        key_available: mdm.and_then(|m| m.get("encryption_key_available")).and_then(Value::as_bool),
        team: non_empty(&text(d, &["team_name"])),
        status: non_empty(&text(d, &["status"])),
    };
    records(host, ctx)
}

/// Reads the hosts list or one host.
pub fn read_json(doc: &Doc, em: &mut Emitter) -> Result<(), Error> {
    let mut unread = super::json::Unread::new(HOST_READS);
    if let Some(items) = doc.records(&["hosts"]) {
        for (i, d, (line, a, z)) in items.iter() {
            unread.see(&d);
            let mut ctx = em.ctx(line, Some(format!("/hosts/{i}")), &doc.bytes[a..z]);
            let result = json_host(&d, &mut ctx);
            em.row(ctx, result)?;
        }
        em.unread = Some(unread.keys());
        return Ok(());
    }
    let host = doc.value.get("host").ok_or_else(|| Error::bad_file(doc.file, 1, Some("host"), "expected {\"hosts\": [...]} or {\"host\": {...}}", None))?;
    unread.see(host);
    em.unread = Some(unread.keys());
    let mut ctx = em.ctx(1, Some("/host".into()), doc.bytes);
    let result = json_host(host, &mut ctx);
    em.row(ctx, result)
}

/// Fleet 4.92 marks cells as text for spreadsheets; strip such a mark before reading a value.
fn cell(v: &str) -> &str {
    v.strip_prefix('\'').or_else(|| v.strip_prefix('\t')).unwrap_or(v)
}

/// Reads the hosts report CSV.
pub fn read_csv(table: &Table, em: &mut Emitter) -> Result<(), Error> {
    let id_c = Some(table.require("id", &["id"])?);
    let serial_c = Some(table.require("hardware_serial", &["hardware_serial"])?);
    let cols = [
        "hostname",
        "display_name",
        "hardware_vendor",
        "hardware_model",
        "platform",
        "os_version",
        "seen_time",
        "last_enrolled_at",
        "disk_encryption_enabled",
        "team_name",
        "status",
    ]
    .map(|c| table.col(&[c]));
    let [hostname, display, vendor, model, plat, os, seen, enrolled, disk, team, status] = cols;
    let mdm_c = table.col(&["mdm.enrollment_status", "mdm_enrollment_status", "enrollment_status"]);
    for w in table.header_warnings() {
        em.warning(w)?;
    }
    table.for_each_row(em, |row: &Row, ctx: &mut RowCtx| {
        let get = |c: Option<usize>| non_empty(cell(row.get(c)));
        let id = get(id_c).ok_or_else(|| ctx.issue("id", "host has no id", None))?;
        let disk_raw = cell(row.get(disk)).trim().to_ascii_lowercase();
        let disk_v = match disk_raw.as_str() {
            _ if disk.is_none() => None,
            "" | "null" => Some(None),
            "true" | "1" => Some(Some(true)),
            "false" | "0" => Some(Some(false)),
            other => return Err(ctx.issue("disk_encryption_enabled", "expected true, false or empty", Some(other))),
        };
        let host = Host {
            id,
            serial: cell(row.get(serial_c)).to_string(),
            hostname: get(display).or_else(|| get(hostname)),
            vendor: get(vendor),
            model: get(model),
            platform: cell(row.get(plat)).to_string(),
            os_version: get(os),
            seen: cell(row.get(seen)).to_string(),
            enrolled: cell(row.get(enrolled)).to_string(),
            mdm_status: get(mdm_c),
            mdm_server: None,
            disk: disk_v,
            enforced: None,
            key_available: None,
            team: get(team),
            status: get(status),
        };
        records(host, ctx)
    })
}
