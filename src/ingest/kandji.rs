//! Kandji API: the device list (`/api/v1/devices`, a JSON array) and one device's details
//! (`/api/v1/devices/{id}/details`). Emits an enrollment per device; the details add FileVault
//! at device scope and one record per volume. Kandji writes booleans as JSON booleans in the list
//! and as strings ("True") in the details; `filevault_enabled: null` means not applicable
//! (iPad, Apple TV), and a missing or empty value is unknown: neither is ever "not encrypted".

use super::json::{Doc, text};
use super::row::{RowCtx, non_empty};
use super::{Emitter, Error};
use crate::model::*;
use serde_json::Value;

/// Whether a JSON document is a Kandji export.
pub fn detect(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().any(|d| d.get("device_id").is_some() && (d.get("blueprint_id").is_some() || d.get("mdm_enabled").is_some())),
        Value::Object(o) => {
            o.get("general").is_some_and(|g| g.get("device_id").is_some()) && (o.contains_key("filevault") || o.contains_key("hardware_overview"))
        }
        _ => false,
    }
}

/// A Kandji tri-state: `true`/`"True"`/`"Yes"`, `false`/`"False"`/`"No"`, and absent, `null` or
/// `""` as None (unknown). Anything else is an error naming the field.
fn flag(ctx: &RowCtx, field: &str, v: Option<&Value>) -> Result<Option<bool>, super::Issue> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "yes" => Ok(Some(true)),
            "false" | "no" => Ok(Some(false)),
            _ => Err(ctx.issue(field, "expected a boolean (true/false, \"True\"/\"False\" or \"Yes\"/\"No\")", Some(s))),
        },
        Some(other) => Err(ctx.issue(field, "expected a boolean", Some(&other.to_string()))),
    }
}

fn platform(ctx: &mut RowCtx, raw: &str) -> Platform {
    ctx.vocab(
        "platform",
        raw,
        |t| {
            Some(match t.to_ascii_lowercase().as_str() {
                "mac" | "macos" => Platform::Macos,
                "iphone" | "ios" => Platform::Ios,
                "ipad" | "ipados" => Platform::Ipados,
                "appletv" | "tvos" | "vision" => Platform::Other,
                _ => return None,
            })
        },
        Platform::Other,
    )
}

/// `user` is an object `{email, name, …}` or the empty string when nobody is assigned.
fn user(ctx: &RowCtx, field: &str, v: Option<&Value>) -> Result<Option<String>, super::Issue> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Object(o)) => {
            Ok(o.get("email").and_then(Value::as_str).and_then(non_empty).or_else(|| o.get("name").and_then(Value::as_str).and_then(non_empty)))
        }
        Some(other) => Err(ctx.issue(field, "expected a user object or \"\"", Some(&other.to_string()))),
    }
}

pub fn read(doc: &Doc, em: &mut Emitter) -> Result<(), Error> {
    if doc.value.is_array() {
        let items = doc.records(&[]).expect("an array");
        let mut unread = super::json::Unread::new(LIST_READS);
        for (i, d, (line, a, z)) in items.iter() {
            unread.see(&d);
            let mut ctx = em.ctx(line, Some(format!("/{i}")), &doc.bytes[a..z]);
            let result = list_device(&d, &mut ctx);
            em.row(ctx, result)?;
        }
        em.unread = Some(unread.keys());
        return Ok(());
    }
    let mut ctx = em.ctx(1, None, doc.bytes);
    let whole = doc.whole();
    let mut unread = super::json::Unread::new(DETAILS_READS);
    unread.see(&whole);
    em.unread = Some(unread.keys());
    let result = details_device(&whole, &mut ctx);
    em.row(ctx, result)
}

/// The keys of a device of the list endpoint the reader reads.
const LIST_READS: &[&str] = &[
    "device_id",
    "device_name",
    "model",
    "serial_number",
    "platform",
    "os_version",
    "last_check_in",
    "user",
    "asset_tag",
    "first_enrollment",
    "is_removed",
    "mdm_enabled",
    "blueprint_name",
    "agent_version",
    "lost_mode_status",
    "agent_installed",
    "is_missing",
];
/// The sections of a device details record the reader reads.
const DETAILS_READS: &[&str] = &["general", "mdm", "filevault", "hardware_overview", "kandji_agent", "automated_device_enrollment", "volumes"];

fn list_device(d: &Value, ctx: &mut RowCtx) -> Result<Vec<Record>, super::Issue> {
    if !d.is_object() {
        return Err(ctx.issue("", "device is not a JSON object", None));
    }
    let id = non_empty(&text(d, &["device_id"])).ok_or_else(|| ctx.issue("device_id", "device has no device_id", None))?;
    let model = non_empty(&text(d, &["model"]));
    let serial = ctx.serial("serial_number", &text(d, &["serial_number"]), model.as_deref())?;
    let mdm = flag(ctx, "mdm_enabled", d.get("mdm_enabled"))?;
    let removed = flag(ctx, "is_removed", d.get("is_removed"))?;
    let state = match (removed, mdm) {
        (Some(true), _) => EnrollmentState::Unenrolled,
        (_, Some(true)) => EnrollmentState::Enrolled,
        (_, Some(false)) => EnrollmentState::Unenrolled,
        (_, None) => EnrollmentState::Unknown,
    };
    let mut extra = Extra::new();
    for k in ["blueprint_name", "agent_version", "lost_mode_status"] {
        if let Some(v) = non_empty(&text(d, &[k])) {
            extra.insert(k.to_string(), v);
        }
    }
    for k in ["agent_installed", "is_missing"] {
        if let Some(b) = flag(ctx, k, d.get(k))? {
            extra.insert(k.to_string(), b.to_string());
        }
    }
    let plat = platform(ctx, &text(d, &["platform"]));
    let enrollment = Enrollment {
        prov: ctx.prov(Some(id)),
        serial,
        asset_tag: non_empty(&text(d, &["asset_tag"])),
        hostname: non_empty(&text(d, &["device_name"])),
        manufacturer: Some("Apple".into()),
        model,
        mdm: Mdm::Kandji,
        state,
        state_raw: mdm.map(|b| format!("mdm_enabled={b}")),
        method: EnrollmentMethod::Unknown,
        supervised: None,
        enrolled_at: ctx.instant("first_enrollment", &text(d, &["first_enrollment"]))?,
        last_checkin_at: ctx.instant("last_check_in", &text(d, &["last_check_in"]))?,
        compliance: Compliance::Unknown,
        compliance_raw: None,
        platform: plat,
        os_version: non_empty(&text(d, &["os_version"])),
        user_principal: user(ctx, "user", d.get("user"))?,
        ownership: Ownership::Unknown,
        extra,
    };
    Ok(vec![Record::Enrollment(enrollment)])
}

fn details_device(d: &Value, ctx: &mut RowCtx) -> Result<Vec<Record>, super::Issue> {
    let g = d.get("general").ok_or_else(|| ctx.issue("general", "details without a general section", None))?;
    let id = non_empty(&text(g, &["device_id"])).ok_or_else(|| ctx.issue("general.device_id", "device has no device_id", None))?;
    let model = non_empty(&text(g, &["model"]));
    let serial = ctx.serial("hardware_overview.serial_number", &text(d, &["hardware_overview", "serial_number"]), model.as_deref())?;
    let mdm_enabled = flag(ctx, "mdm.mdm_enabled", d.pointer("/mdm/mdm_enabled"))?;
    let supervised = flag(ctx, "mdm.supervised", d.pointer("/mdm/supervised"))?;
    let ade = d.get("automated_device_enrollment");
    let auto = flag(ctx, "automated_device_enrollment.auto_enrolled", ade.and_then(|a| a.get("auto_enrolled")))?;
    let last = ctx.instant("mdm.last_check_in", &text(d, &["mdm", "last_check_in"]))?;
    let agent_last = ctx.instant("kandji_agent.last_check_in", &text(d, &["kandji_agent", "last_check_in"]))?;
    let seen = last.max(agent_last);
    let plat = platform(ctx, &text(g, &["platform"]));
    let mut extra = Extra::new();
    for (k, path) in [
        ("blueprint_name", &["general", "blueprint_name"][..]),
        ("system_version", &["general", "system_version"]),
        ("model_identifier", &["hardware_overview", "model_identifier"]),
        ("boot_volume", &["general", "boot_volume"]),
    ] {
        if let Some(v) = non_empty(&text(d, path)) {
            extra.insert(k.to_string(), v);
        }
    }
    let enrollment = Enrollment {
        prov: ctx.prov(Some(id.clone())),
        serial: serial.clone(),
        asset_tag: non_empty(&text(g, &["asset_tag"])),
        hostname: non_empty(&text(g, &["device_name"])),
        manufacturer: Some("Apple".into()),
        model,
        mdm: Mdm::Kandji,
        state: match mdm_enabled {
            Some(true) => EnrollmentState::Enrolled,
            Some(false) => EnrollmentState::Unenrolled,
            None => EnrollmentState::Unknown,
        },
        state_raw: mdm_enabled.map(|b| format!("mdm_enabled={b}")),
        method: match auto {
            Some(true) => EnrollmentMethod::Automated,
            Some(false) => EnrollmentMethod::User,
            None => EnrollmentMethod::Unknown,
        },
        supervised,
        enrolled_at: ctx.instant("mdm.install_date", &text(d, &["mdm", "install_date"]))?,
        last_checkin_at: seen,
        compliance: Compliance::Unknown,
        compliance_raw: None,
        platform: plat,
        os_version: non_empty(&text(g, &["os_version"])),
        user_principal: user(ctx, "general.assigned_user", g.get("assigned_user"))?,
        ownership: Ownership::Unknown,
        extra,
    };
    let mut out = vec![Record::Enrollment(enrollment)];
    // FileVault at device scope: null is "not applicable" (no FileVault on this platform).
    let fv = d.get("filevault");
    let fv_enabled = fv.and_then(|f| f.get("filevault_enabled"));
    let fv_state = match fv_enabled {
        Some(Value::Null) => EncryptionState::NotApplicable,
        None => EncryptionState::Unknown,
        v => match flag(ctx, "filevault.filevault_enabled", v)? {
            Some(true) => EncryptionState::Encrypted,
            Some(false) => EncryptionState::NotEncrypted,
            None => EncryptionState::Unknown,
        },
    };
    let escrowed = flag(ctx, "filevault.filevault_prk_escrowed", fv.and_then(|f| f.get("filevault_prk_escrowed")))?;
    let key_type = match text(d, &["filevault", "filevault_recoverykey_type"]).to_ascii_lowercase().as_str() {
        "personal" => KeyType::Personal,
        "institutional" => KeyType::Institutional,
        "both" | "personal and institutional" => KeyType::Both,
        _ => KeyType::Unknown,
    };
    out.push(Record::Encryption(Encryption {
        prov: ctx.prov(Some(id.clone())),
        serial: serial.clone(),
        source_kind: "kandji_api",
        scope: EncryptionScope::Device,
        volume: None,
        state: fv_state,
        state_raw: fv_enabled.map(|v| v.to_string()),
        method: if fv_state == EncryptionState::NotApplicable { EncryptionMethod::Other } else { EncryptionMethod::Filevault },
        cipher: None,
        percent: None,
        recovery_key: match (fv_state, escrowed) {
            (EncryptionState::NotApplicable, _) => RecoveryKey::NotApplicable,
            (_, Some(true)) => RecoveryKey::Escrowed,
            (_, Some(false)) => RecoveryKey::NotEscrowed,
            (_, None) => RecoveryKey::Unknown,
        },
        key_type,
        observed_at: seen,
    }));
    // Volumes. On APFS the signed system volume ("Macintosh HD") is sealed and reports "No";
    // FileVault protects its "… - Data" sibling. The sealed volume is kept, as not applicable.
    let volumes = d.get("volumes").and_then(Value::as_array).cloned().unwrap_or_default();
    let names: Vec<String> = volumes.iter().map(|v| text(v, &["name"]).into_owned()).collect();
    for (i, v) in volumes.iter().enumerate() {
        let name = text(v, &["name"]).into_owned();
        let field = format!("volumes[{i}].encrypted");
        let enc = flag(ctx, &field, v.get("encrypted"))?;
        let sealed = enc == Some(false) && names.iter().any(|n| *n == format!("{name} - Data"));
        let state = match enc {
            _ if sealed => EncryptionState::NotApplicable,
            Some(true) => EncryptionState::Encrypted,
            Some(false) => EncryptionState::NotEncrypted,
            None => EncryptionState::Unknown,
        };
        let boot = non_empty(&text(d, &["general", "boot_volume"]));
        out.push(Record::Encryption(Encryption {
            prov: ctx.prov(Some(id.clone())),
            serial: serial.clone(),
            source_kind: "kandji_api",
            scope: if boot.as_deref() == Some(name.as_str()) { EncryptionScope::BootVolume } else { EncryptionScope::DataVolume },
            volume: non_empty(&name),
            state,
            state_raw: Some(format!(
                "{}{}",
                text(v, &["encrypted"]),
                if sealed { " (sealed APFS system volume; FileVault protects the Data volume)" } else { "" }
            )),
            method: if text(v, &["format"]).starts_with("APFS") { EncryptionMethod::Apfs } else { EncryptionMethod::Other },
            cipher: None,
            percent: None,
            recovery_key: RecoveryKey::Unknown,
            key_type: KeyType::Unknown,
            observed_at: seen,
        }));
    }
    Ok(out)
}
