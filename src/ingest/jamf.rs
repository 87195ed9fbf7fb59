//! Jamf Pro: `/api/v1/computers-inventory` JSON, the Classic API `/JSSResource/computers`
//! JSON (list and single computer), and the advanced computer search CSV. Emits enrollment,
//! FileVault per volume, and the internal disks' serials (to link wipe records to the Mac).

use super::json::{Doc, text};
use super::row::{RowCtx, non_empty};
use super::table::{Row, Table};
use super::{Emitter, Error, Issue};
use crate::model::*;
use serde_json::Value;

/// Columns that mark the advanced-search CSV.
pub const CSV_DETECT: &[&str] = &[
    "computer name",
    "filevault 2 partition encryption state",
    "filevault 2 individual key validation",
    "jss computer id",
    "enrolled via automated device enrollment",
];

/// FileVault state as Jamf writes it (API enum or display text) → canonical.
fn filevault_state(t: &str) -> Option<EncryptionState> {
    Some(match t.to_uppercase().replace([' ', '-'], "_").as_str() {
        "ENCRYPTED" | "OPTIMIZING" | "ALL_ENCRYPTED" => EncryptionState::Encrypted,
        "ENCRYPTING" => EncryptionState::Encrypting,
        "DECRYPTING" => EncryptionState::Decrypting,
        "ENCRYPTING_PAUSED" | "DECRYPTING_PAUSED" | "PAUSED" => EncryptionState::Paused,
        // FileVault switched on but waiting for a restart: nothing is encrypted yet.
        "UNENCRYPTED" | "DECRYPTED" | "NOT_ENCRYPTED" | "RESTART_NEEDED" => EncryptionState::NotEncrypted,
        "INELIGIBLE" | "NOT_ELIGIBLE" | "NOT_APPLICABLE" => EncryptionState::NotApplicable,
        "UNKNOWN" => EncryptionState::Unknown,
        _ => return None,
    })
}

fn key_validity(t: &str) -> Option<RecoveryKey> {
    Some(match t.to_uppercase().replace(' ', "_").as_str() {
        "VALID" => RecoveryKey::EscrowedValid,
        "INVALID" => RecoveryKey::Invalid,
        "UNKNOWN" => RecoveryKey::Unknown,
        "NOT_APPLICABLE" => RecoveryKey::NotApplicable,
        _ => return None,
    })
}

fn key_type(personal: RecoveryKey, institutional: Option<bool>) -> KeyType {
    match (personal, institutional) {
        (RecoveryKey::EscrowedValid | RecoveryKey::Escrowed, Some(true)) => KeyType::Both,
        (RecoveryKey::EscrowedValid | RecoveryKey::Escrowed | RecoveryKey::Invalid, _) => KeyType::Personal,
        (_, Some(true)) => KeyType::Institutional,
        _ => KeyType::Unknown,
    }
}

fn bool_at(ctx: &RowCtx, v: &Value, path: &[&str]) -> Result<Option<bool>, Issue> {
    let mut cur = v;
    for k in path {
        match cur.get(*k) {
            Some(n) => cur = n,
            None => return Ok(None),
        }
    }
    match cur {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        Value::String(s) => ctx.boolean(&path.join("."), s, &["true"], &["false"]),
        other => Err(ctx.issue(&path.join("."), "not a boolean", Some(&other.to_string()))),
    }
}

fn platform_from_os(os: &str) -> Platform {
    let o = os.to_lowercase();
    if o.contains("mac") || o.is_empty() {
        Platform::Macos
    } else if o.contains("ios") {
        Platform::Ios
    } else {
        Platform::Other
    }
}

/// A Jamf Pro API inventory page (`results` with `totalCount`, or records with `hardware` or
/// `general`), or one inventory record.
pub fn detect_api(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    let Some(obj) = v.as_object() else { return false };
    if let Some(Value::Array(items)) = obj.get("results")
        && (obj.contains_key("totalCount") || items.iter().any(|r| r.get("hardware").is_some() || r.get("general").is_some()))
    {
        return true;
    }
    obj.get("general").is_some() && obj.get("hardware").is_some() && obj.get("udid").is_some()
}

/// A Classic API `/JSSResource/computers` list or one computer.
pub fn detect_classic(v: &serde_json::Value) -> bool {
    v.as_object().is_some_and(|o| o.contains_key("computers") || o.get("computer").is_some_and(|c| c.get("general").is_some()))
}

/// Reads `/api/v1/computers-inventory` (`{"totalCount": N, "results": [...]}`) or one record.
pub fn read_api(doc: &Doc, em: &mut Emitter) -> Result<(), Error> {
    let Some(items) = doc.records(&["results"]) else {
        let mut ctx = em.ctx(1, None, doc.bytes);
        let whole = doc.whole();
        let mut unread = super::json::Unread::new(API_READS);
        unread.see(&whole);
        em.unread = Some(unread.keys());
        let result = api_computer(&whole, &mut ctx);
        return em.row(ctx, result);
    };
    if let Some(total) = doc.value.get("totalCount").and_then(Value::as_u64).filter(|t| *t as usize > items.len()) {
        em.incomplete("totalCount", format!("this page holds {} of {total} computers; ingest the other pages too, or the fleet is incomplete", items.len()))?;
    }
    let mut unread = super::json::Unread::new(API_READS);
    for (i, c, (line, a, z)) in items.iter() {
        unread.see(&c);
        let mut ctx = em.ctx(line, Some(format!("/results/{i}")), &doc.bytes[a..z]);
        let result = api_computer(&c, &mut ctx);
        em.row(ctx, result)?;
    }
    em.unread = Some(unread.keys());
    Ok(())
}

/// The sections of a computers-inventory record the reader reads.
const API_READS: &[&str] = &["id", "general", "hardware", "userAndLocation", "operatingSystem", "diskEncryption", "storage"];
/// The keys of a Classic API `computers` list entry the reader reads.
const CLASSIC_BASIC_READS: &[&str] =
    &["id", "name", "managed", "username", "model", "serial_number", "report_date_utc", "udid", "mac_address", "department", "building"];
/// The subsets of a Classic API `computer` record the reader reads.
const CLASSIC_FULL_READS: &[&str] = &["general", "hardware", "location", "purchasing"];

fn api_computer(c: &Value, ctx: &mut RowCtx) -> Result<Vec<Record>, Issue> {
    if !c.is_object() {
        return Err(ctx.issue("", "computer is not a JSON object", None));
    }
    let id = non_empty(&text(c, &["id"]));
    let serial_raw = text(c, &["hardware", "serialNumber"]).into_owned();
    ctx.identifier("hardware.serialNumber", &serial_raw)?;
    let model = non_empty(&text(c, &["hardware", "model"]));
    let serial = Serial::new(&serial_raw, model.as_deref());
    let managed = bool_at(ctx, c, &["general", "remoteManagement", "managed"])?;
    let ade = bool_at(ctx, c, &["general", "enrolledViaAutomatedDeviceEnrollment"])?;
    let last = ctx.instant("general.lastContactTime", &text(c, &["general", "lastContactTime"]))?;
    let mut extra = Extra::new();
    for (k, path) in [
        ("udid", &["udid"][..]),
        ("modelIdentifier", &["hardware", "modelIdentifier"]),
        ("reportDate", &["general", "reportDate"]),
        ("fileVault2Status", &["operatingSystem", "fileVault2Status"]),
        ("bootstrapTokenEscrowedStatus", &["security", "bootstrapTokenEscrowedStatus"]),
    ] {
        if let Some(v) = non_empty(&text(c, path)) {
            extra.insert(k.to_string(), v);
        }
    }
    let os_name = text(c, &["operatingSystem", "name"]).into_owned();
    let mut out = vec![Record::Enrollment(Enrollment {
        prov: ctx.prov(id.clone()),
        serial: serial.clone(),
        asset_tag: non_empty(&text(c, &["general", "assetTag"])),
        hostname: non_empty(&text(c, &["general", "name"])),
        manufacturer: non_empty(&text(c, &["hardware", "make"])).or(Some("Apple".into())),
        model,
        mdm: Mdm::Jamf,
        state: match managed {
            Some(true) => EnrollmentState::Enrolled,
            Some(false) => EnrollmentState::Unenrolled,
            None => EnrollmentState::Unknown,
        },
        state_raw: managed.map(|m| format!("managed={m}")),
        method: match ade {
            Some(true) => EnrollmentMethod::Automated,
            Some(false) => EnrollmentMethod::User,
            None => EnrollmentMethod::Unknown,
        },
        supervised: bool_at(ctx, c, &["general", "supervised"])?,
        enrolled_at: ctx.instant("general.lastEnrolledDate", &text(c, &["general", "lastEnrolledDate"]))?,
        last_checkin_at: last,
        compliance: Compliance::NotEvaluated,
        compliance_raw: None,
        platform: platform_from_os(&os_name),
        os_version: non_empty(&text(c, &["operatingSystem", "version"])),
        user_principal: non_empty(&text(c, &["userAndLocation", "email"])).or_else(|| non_empty(&text(c, &["userAndLocation", "username"]))),
        ownership: Ownership::Unknown,
        extra,
    })];
    if let Some(de) = c.get("diskEncryption").filter(|v| v.is_object()) {
        let state_raw = text(de, &["bootPartitionEncryptionDetails", "partitionFileVault2State"]).into_owned();
        let state = ctx.vocab("diskEncryption.bootPartitionEncryptionDetails.partitionFileVault2State", &state_raw, filevault_state, EncryptionState::Unknown);
        let validity_raw = text(de, &["individualRecoveryKeyValidityStatus"]).into_owned();
        let personal = ctx.vocab("diskEncryption.individualRecoveryKeyValidityStatus", &validity_raw, key_validity, RecoveryKey::Unknown);
        let institutional = bool_at(ctx, de, &["institutionalRecoveryKeyPresent"])?;
        let recovery = if personal != RecoveryKey::EscrowedValid && institutional == Some(true) { RecoveryKey::Escrowed } else { personal };
        let percent = ctx.integer("partitionFileVault2Percent", &text(de, &["bootPartitionEncryptionDetails", "partitionFileVault2Percent"]))?;
        out.push(Record::Encryption(Encryption {
            prov: ctx.prov(id.clone()),
            serial: serial.clone(),
            source_kind: "jamf_api",
            scope: EncryptionScope::BootVolume,
            volume: non_empty(&text(de, &["bootPartitionEncryptionDetails", "partitionName"])),
            state,
            state_raw: non_empty(&state_raw),
            method: EncryptionMethod::Filevault,
            cipher: None,
            percent,
            recovery_key: recovery,
            key_type: key_type(personal, institutional),
            observed_at: last,
        }));
    }
    if let Some(Value::Array(disks)) = c.get("storage").and_then(|s| s.get("disks")) {
        for (i, d) in disks.iter().enumerate() {
            let ms = text(d, &["serialNumber"]).into_owned();
            if ms.trim().is_empty() {
                continue;
            }
            ctx.identifier(&format!("storage.disks[{i}].serialNumber"), &ms)?;
            out.push(Record::MediaLink(MediaLink {
                prov: ctx.prov(id.clone()),
                media_serial: Serial::new(&ms, None),
                host_serial: serial.clone(),
                media_model: non_empty(&text(d, &["model"])),
            }));
        }
    }
    Ok(out)
}

/// Reads the Classic API: `{"computers": [...]}` (subset/basic) or `{"computer": {...}}`.
pub fn read_classic(doc: &Doc, em: &mut Emitter) -> Result<(), Error> {
    if let Some(items) = doc.records(&["computers"]) {
        let mut unread = super::json::Unread::new(CLASSIC_BASIC_READS);
        for (i, c, (line, a, z)) in items.iter() {
            unread.see(&c);
            let mut ctx = em.ctx(line, Some(format!("/computers/{i}")), &doc.bytes[a..z]);
            let result = classic_basic(&c, &mut ctx);
            em.row(ctx, result)?;
        }
        em.unread = Some(unread.keys());
        return Ok(());
    }
    let Some(c) = doc.value.get("computer").filter(|c| c.is_object()) else {
        return Err(Error::bad_file(doc.file, 1, Some("computer"), "expected {\"computers\": [...]} or {\"computer\": {...}}", None));
    };
    let mut unread = super::json::Unread::new(CLASSIC_FULL_READS);
    unread.see(c);
    em.unread = Some(unread.keys());
    let mut ctx = em.ctx(1, Some("/computer".into()), doc.bytes);
    let result = classic_full(c, &mut ctx);
    em.row(ctx, result)
}

fn classic_basic(c: &Value, ctx: &mut RowCtx) -> Result<Vec<Record>, Issue> {
    let serial_raw = text(c, &["serial_number"]).into_owned();
    ctx.identifier("serial_number", &serial_raw)?;
    let managed = bool_at(ctx, c, &["managed"])?;
    let mut extra = Extra::new();
    for k in ["udid", "mac_address", "department", "building"] {
        if let Some(v) = non_empty(&text(c, &[k])) {
            extra.insert(k.into(), v);
        }
    }
    let model = non_empty(&text(c, &["model"]));
    Ok(vec![Record::Enrollment(Enrollment {
        prov: ctx.prov(non_empty(&text(c, &["id"]))),
        serial: Serial::new(&serial_raw, model.as_deref()),
        asset_tag: None,
        hostname: non_empty(&text(c, &["name"])),
        manufacturer: Some("Apple".into()),
        model,
        mdm: Mdm::Jamf,
        state: match managed {
            Some(true) => EnrollmentState::Enrolled,
            Some(false) => EnrollmentState::Unenrolled,
            None => EnrollmentState::Unknown,
        },
        state_raw: managed.map(|m| format!("managed={m}")),
        method: EnrollmentMethod::Unknown,
        supervised: None,
        enrolled_at: None,
        // The basic subset has only the last inventory report: the last time the Mac reported in.
        last_checkin_at: ctx.instant("report_date_utc", &text(c, &["report_date_utc"]))?,
        compliance: Compliance::NotEvaluated,
        compliance_raw: None,
        platform: Platform::Macos,
        os_version: None,
        user_principal: non_empty(&text(c, &["username"])),
        ownership: Ownership::Unknown,
        extra,
    })])
}

fn classic_full(c: &Value, ctx: &mut RowCtx) -> Result<Vec<Record>, Issue> {
    let g = c.get("general").cloned().unwrap_or(Value::Null);
    let hw = c.get("hardware").cloned().unwrap_or(Value::Null);
    let serial_raw = text(&g, &["serial_number"]).into_owned();
    ctx.identifier("general.serial_number", &serial_raw)?;
    let model = non_empty(&text(&hw, &["model"]));
    let serial = Serial::new(&serial_raw, model.as_deref());
    let id = non_empty(&text(&g, &["id"]));
    let managed = bool_at(ctx, &g, &["remote_management", "managed"])?;
    let dep = bool_at(ctx, &g, &["management_status", "enrolled_via_dep"])?;
    let last = ctx.instant("general.last_contact_time_utc", &text(&g, &["last_contact_time_utc"]))?;
    let mut extra = Extra::new();
    for (k, path) in
        [("udid", &["udid"][..]), ("model_identifier", &["model_identifier"]), ("report_date_utc", &["report_date_utc"]), ("site", &["site", "name"])]
    {
        let src = if k == "model_identifier" { &hw } else { &g };
        if let Some(v) = non_empty(&text(src, path)) {
            extra.insert(k.into(), v);
        }
    }
    let inst_raw = text(&hw, &["institutional_recovery_key"]).into_owned();
    let institutional = match inst_raw.to_lowercase().as_str() {
        "present" => Some(true),
        "not present" => Some(false),
        _ => None,
    };
    let mut out = vec![Record::Enrollment(Enrollment {
        prov: ctx.prov(id.clone()),
        serial: serial.clone(),
        asset_tag: non_empty(&text(&g, &["asset_tag"])),
        hostname: non_empty(&text(&g, &["name"])),
        manufacturer: non_empty(&text(&hw, &["make"])),
        model,
        mdm: Mdm::Jamf,
        state: match managed {
            Some(true) => EnrollmentState::Enrolled,
            Some(false) => EnrollmentState::Unenrolled,
            None => EnrollmentState::Unknown,
        },
        state_raw: managed.map(|m| format!("managed={m}")),
        method: match dep {
            Some(true) => EnrollmentMethod::Automated,
            Some(false) => EnrollmentMethod::User,
            None => EnrollmentMethod::Unknown,
        },
        supervised: bool_at(ctx, &g, &["supervised"])?,
        enrolled_at: ctx.instant("general.last_enrolled_date_utc", &text(&g, &["last_enrolled_date_utc"]))?,
        last_checkin_at: last,
        compliance: Compliance::NotEvaluated,
        compliance_raw: None,
        platform: platform_from_os(&text(&hw, &["os_name"])),
        os_version: non_empty(&text(&hw, &["os_version"])),
        user_principal: non_empty(&text(c, &["location", "email_address"])).or_else(|| non_empty(&text(c, &["location", "username"]))),
        ownership: match bool_at(ctx, c, &["purchasing", "is_leased"])? {
            Some(_) => Ownership::Corporate,
            None => Ownership::Unknown,
        },
        extra,
    })];
    let disks = match hw.get("storage") {
        Some(Value::Array(d)) => d.clone(),
        Some(Value::Object(o)) => o.get("device").map(|d| if let Value::Array(a) = d { a.clone() } else { vec![d.clone()] }).unwrap_or_default(),
        _ => Vec::new(),
    };
    for (di, d) in disks.iter().enumerate() {
        let ms = text(d, &["serial_number"]).into_owned();
        if !ms.trim().is_empty() {
            ctx.identifier(&format!("hardware.storage[{di}].serial_number"), &ms)?;
            out.push(Record::MediaLink(MediaLink {
                prov: ctx.prov(id.clone()),
                media_serial: Serial::new(&ms, None),
                host_serial: serial.clone(),
                media_model: non_empty(&text(d, &["model"])),
            }));
        }
        let parts = match (d.get("partitions"), d.get("partition")) {
            (Some(Value::Array(p)), _) => p.clone(),
            (_, Some(p @ Value::Object(_))) => vec![p.clone()],
            (_, Some(Value::Array(p))) => p.clone(),
            _ => Vec::new(),
        };
        for (pi, p) in parts.iter().enumerate() {
            let field = format!("hardware.storage[{di}].partitions[{pi}].filevault2_status");
            let raw = text(p, &["filevault2_status"]).into_owned();
            let state = ctx.vocab(&field, &raw, filevault_state, EncryptionState::Unknown);
            let boot = text(p, &["type"]).eq_ignore_ascii_case("boot");
            out.push(Record::Encryption(Encryption {
                prov: ctx.prov(id.clone()),
                serial: serial.clone(),
                source_kind: "jamf_classic",
                scope: if boot { EncryptionScope::BootVolume } else { EncryptionScope::DataVolume },
                volume: non_empty(&text(p, &["name"])),
                state,
                state_raw: non_empty(&raw),
                method: EncryptionMethod::Filevault,
                cipher: None,
                percent: ctx.integer(&field.replace("status", "percent"), &text(p, &["filevault2_percent"]))?,
                recovery_key: if boot && institutional == Some(true) { RecoveryKey::Escrowed } else { RecoveryKey::Unknown },
                key_type: if institutional == Some(true) { KeyType::Institutional } else { KeyType::Unknown },
                observed_at: last,
            }));
        }
    }
    Ok(out)
}

const C_NAME: &[&str] = &["computer name"];
const C_SERIAL: &[&str] = &["serial number"];
const C_TAG: &[&str] = &["asset tag"];
const C_USER: &[&str] = &["username", "email address"];
const C_CHECKIN: &[&str] = &["last check-in"];
const C_ENROLLED: &[&str] = &["last enrollment"];
const C_MANAGED: &[&str] = &["managed", "managed by"];
const C_ADE: &[&str] = &["enrolled via automated device enrollment"];
const C_FV_STATE: &[&str] = &["filevault 2 partition encryption state"];
const C_FV_KEY: &[&str] = &["filevault 2 individual key validation"];
const C_FV_INST: &[&str] = &["filevault 2 institutional key"];
const C_MODEL: &[&str] = &["model"];
const C_SUPERVISED: &[&str] = &["supervised"];
const C_OS: &[&str] = &["operating system version", "operating system"];
const C_ID: &[&str] = &["jss computer id"];
const CSV_TIMES: &[&str] = &["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M"];
const YES: &[&str] = &["yes", "true", "1"];
const NO: &[&str] = &["no", "false", "0"];

/// Reads the advanced computer search CSV.
pub fn read_csv(table: &Table, em: &mut Emitter) -> Result<(), Error> {
    let serial_c = Some(table.require("Serial Number", C_SERIAL)?);
    let cols = [
        table.col(C_NAME),
        table.col(C_TAG),
        table.col(C_USER),
        table.col(C_CHECKIN),
        table.col(C_ENROLLED),
        table.col(C_MANAGED),
        table.col(C_ADE),
        table.col(C_FV_STATE),
        table.col(C_FV_KEY),
        table.col(C_FV_INST),
        table.col(C_MODEL),
        table.col(C_SUPERVISED),
        table.col(C_OS),
        table.col(C_ID),
    ];
    let [name, tag, user, checkin, enrolled, managed, ade, fv_state, fv_key, fv_inst, model, supervised, os, id] = cols;
    let mut used = cols.to_vec();
    used.push(serial_c);
    for w in table.header_warnings() {
        em.warning(w)?;
    }
    let h = |c: Option<usize>, d: &str| c.map(|c| table.headers[c].clone()).unwrap_or_else(|| d.to_string());
    table.for_each_row(em, |row: &Row, ctx: &mut RowCtx| {
        let serial_raw = row.get(serial_c);
        ctx.identifier(&h(serial_c, "Serial Number"), serial_raw)?;
        let model_v = non_empty(row.get(model));
        let serial = Serial::new(serial_raw, model_v.as_deref());
        let last = ctx.local(&h(checkin, "Last Check-in"), row.get(checkin), CSV_TIMES)?;
        let managed_v = match managed {
            // "Managed by" holds a user name in some exports; only a yes/no column is a state.
            Some(c) if table.headers[c].eq_ignore_ascii_case("managed") => {
                ctx.boolean(&table.headers[c], row.get(managed), YES, &["no", "false", "0", "unmanaged"])?
            }
            _ => None,
        };
        let id_v = non_empty(row.get(id));
        let mut out = vec![Record::Enrollment(Enrollment {
            prov: ctx.prov(id_v.clone()),
            serial: serial.clone(),
            asset_tag: non_empty(row.get(tag)),
            hostname: non_empty(row.get(name)),
            manufacturer: Some("Apple".into()),
            model: model_v,
            mdm: Mdm::Jamf,
            // A computer listed in a Jamf search is enrolled unless a Managed column says otherwise.
            state: match managed_v {
                Some(false) => EnrollmentState::Unenrolled,
                _ => EnrollmentState::Enrolled,
            },
            state_raw: non_empty(row.get(managed)),
            method: match ctx.boolean(&h(ade, "Enrolled via Automated Device Enrollment"), row.get(ade), YES, NO)? {
                Some(true) => EnrollmentMethod::Automated,
                Some(false) => EnrollmentMethod::User,
                None => EnrollmentMethod::Unknown,
            },
            supervised: ctx.boolean(&h(supervised, "Supervised"), row.get(supervised), YES, NO)?,
            enrolled_at: ctx.local(&h(enrolled, "Last Enrollment"), row.get(enrolled), CSV_TIMES)?,
            last_checkin_at: last,
            compliance: Compliance::NotEvaluated,
            compliance_raw: None,
            platform: Platform::Macos,
            os_version: non_empty(row.get(os)),
            user_principal: non_empty(row.get(user)),
            ownership: Ownership::Unknown,
            extra: table.extra(row, &used),
        })];
        if fv_state.is_some() {
            let raw = row.get(fv_state);
            let state = ctx.vocab(&h(fv_state, "FileVault 2 Partition Encryption State"), raw, filevault_state, EncryptionState::Unknown);
            let personal = ctx.vocab(&h(fv_key, "FileVault 2 Individual Key Validation"), row.get(fv_key), key_validity, RecoveryKey::Unknown);
            let inst = match row.get(fv_inst).to_lowercase().as_str() {
                "present" | "yes" | "true" => Some(true),
                "not present" | "no" | "false" => Some(false),
                _ => None,
            };
            out.push(Record::Encryption(Encryption {
                prov: ctx.prov(id_v),
                serial,
                source_kind: "jamf_csv",
                scope: EncryptionScope::BootVolume,
                volume: None,
                state,
                state_raw: non_empty(raw),
                method: EncryptionMethod::Filevault,
                cipher: None,
                percent: None,
                recovery_key: if personal != RecoveryKey::EscrowedValid && inst == Some(true) { RecoveryKey::Escrowed } else { personal },
                key_type: key_type(personal, inst),
                observed_at: last,
            }));
        }
        Ok(out)
    })
}
