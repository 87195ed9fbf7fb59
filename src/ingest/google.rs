//! Google Workspace: the Admin SDK Directory API `chromeosdevices` list (ChromeOS devices, asset
//! tag in `annotatedAssetId`) and Cloud Identity `devices` (endpoint verification, usually BYOD,
//! with no serial number). Each device gives an enrollment. A ChromeOS device also gives a
//! device-scope encryption record marked not applicable: ChromeOS encrypts user data by design
//! and the API reports no state, so neither "encrypted" nor "not encrypted" would be true data.

use super::json::{Doc, text};
use super::row::{RowCtx, non_empty};
use super::{Emitter, Error, Issue};
use crate::model::*;
use serde_json::Value;

pub fn detect(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    o.get("kind").and_then(Value::as_str) == Some("admin#directory#chromeosdevices")
        || o.get("chromeosdevices").is_some_and(Value::is_array)
        || o.get("devices").and_then(Value::as_array).is_some_and(|a| {
            a.iter().any(|d| d.get("name").and_then(Value::as_str).is_some_and(|n| n.starts_with("devices/")) && d.get("deviceType").is_some())
        })
}

/// Directory API device status → enrollment state.
fn chrome_state(ctx: &mut RowCtx, raw: &str) -> EnrollmentState {
    ctx.vocab(
        "status",
        raw,
        |t| {
            Some(match t {
                "ACTIVE" | "DISABLED" | "DELINQUENT" => EnrollmentState::Enrolled,
                "PRE_PROVISIONED" | "INACTIVE" => EnrollmentState::Pending,
                "DEPROVISIONED" | "RETURN_ARRIVED" | "RETURN_REQUESTED" | "SHIPPED_TO_CUSTOMER" => EnrollmentState::Unenrolled,
                "UNKNOWN" => EnrollmentState::Unknown,
                _ => return None,
            })
        },
        EnrollmentState::Unknown,
    )
}

/// The keys of a ChromeOS device the reader reads.
const CHROMEOS_READS: &[&str] = &[
    "deviceId",
    "serialNumber",
    "model",
    "status",
    "osVersion",
    "lastSync",
    "lastEnrollmentTime",
    "annotatedUser",
    "annotatedAssetId",
    "orgUnitPath",
    "bootMode",
    "annotatedLocation",
    "notes",
    "orderNumber",
    "supportEndDate",
    "platformVersion",
];
/// The keys of a Cloud Identity device the reader reads.
const ENDPOINT_READS: &[&str] = &[
    "name",
    "deviceType",
    "serialNumber",
    "model",
    "manufacturer",
    "osVersion",
    "ownerType",
    "createTime",
    "lastSyncTime",
    "deviceId",
    "securityPatchTime",
    "encryptionState",
    "managementState",
];

fn chromeos_device(d: &Value, ctx: &mut RowCtx) -> Result<Vec<Record>, Issue> {
    if !d.is_object() {
        return Err(ctx.issue("", "device is not a JSON object", None));
    }
    let id = non_empty(&text(d, &["deviceId"])).ok_or_else(|| ctx.issue("deviceId", "device has no deviceId", None))?;
    let model = non_empty(&text(d, &["model"]));
    let raw_serial = text(d, &["serialNumber"]).into_owned();
    let serial = ctx.serial("serialNumber", &raw_serial, model.as_deref())?;
    let status = text(d, &["status"]).into_owned();
    let state = chrome_state(ctx, &status);
    let last_sync = ctx.instant("lastSync", &text(d, &["lastSync"]))?;
    let mut extra = Extra::new();
    for k in ["orgUnitPath", "bootMode", "annotatedLocation", "notes", "orderNumber", "supportEndDate", "platformVersion"] {
        if let Some(v) = non_empty(&text(d, &[k])) {
            extra.insert(k.to_string(), v);
        }
    }
    let enrollment = Enrollment {
        prov: ctx.prov(Some(id.clone())),
        serial: serial.clone(),
        asset_tag: non_empty(&text(d, &["annotatedAssetId"])),
        hostname: None,
        manufacturer: None,
        model,
        mdm: Mdm::Google,
        state,
        state_raw: non_empty(&status),
        method: EnrollmentMethod::Unknown,
        supervised: None,
        enrolled_at: ctx.instant("lastEnrollmentTime", &text(d, &["lastEnrollmentTime"]))?,
        last_checkin_at: last_sync,
        compliance: Compliance::Unknown,
        compliance_raw: None,
        platform: Platform::Chromeos,
        os_version: non_empty(&text(d, &["osVersion"])),
        user_principal: non_empty(&text(d, &["annotatedUser"])),
        ownership: Ownership::Corporate,
        extra,
    };
    let encryption = Encryption {
        prov: ctx.prov(Some(id)),
        serial,
        source_kind: "google_chromeos",
        scope: EncryptionScope::Device,
        volume: None,
        state: EncryptionState::NotApplicable,
        state_raw: Some("ChromeOS encrypts user data by design; the Directory API reports no encryption state".into()),
        method: EncryptionMethod::Other,
        cipher: None,
        percent: None,
        recovery_key: RecoveryKey::NotApplicable,
        key_type: KeyType::Unknown,
        observed_at: last_sync,
    };
    Ok(vec![Record::Enrollment(enrollment), Record::Encryption(encryption)])
}

fn endpoint_device(d: &Value, ctx: &mut RowCtx) -> Result<Vec<Record>, Issue> {
    if !d.is_object() {
        return Err(ctx.issue("", "device is not a JSON object", None));
    }
    let name = non_empty(&text(d, &["name"])).ok_or_else(|| ctx.issue("name", "device has no name", None))?;
    let raw_serial = text(d, &["serialNumber"]).into_owned();
    ctx.identifier("serialNumber", &raw_serial)?;
    let model = non_empty(&text(d, &["model"]));
    let serial = if raw_serial.trim().is_empty() { Serial::missing() } else { Serial::new(&raw_serial, model.as_deref()) };
    let kind = text(d, &["deviceType"]).into_owned();
    let platform = ctx.vocab(
        "deviceType",
        &kind,
        |t| {
            Some(match t {
                "MAC_OS" => Platform::Macos,
                "WINDOWS" => Platform::Windows,
                "LINUX" => Platform::Linux,
                "IOS" => Platform::Ios,
                "ANDROID" => Platform::Android,
                "CHROME_OS" => Platform::Chromeos,
                "GOOGLE_SYNC" | "DEVICE_TYPE_UNSPECIFIED" => Platform::Other,
                _ => return None,
            })
        },
        Platform::Other,
    );
    let owner = text(d, &["ownerType"]).into_owned();
    let mut extra = Extra::new();
    for k in ["deviceId", "osVersion", "securityPatchTime", "encryptionState", "managementState"] {
        if let Some(v) = non_empty(&text(d, &[k])) {
            extra.insert(k.to_string(), v);
        }
    }
    let enrollment = Enrollment {
        prov: ctx.prov(Some(name)),
        serial,
        asset_tag: None,
        hostname: None,
        manufacturer: non_empty(&text(d, &["manufacturer"])),
        model,
        mdm: Mdm::Google,
        // Endpoint verification registers a device; it does not manage it.
        state: EnrollmentState::Enrolled,
        state_raw: Some(format!("endpoint verification ({})", if owner.is_empty() { "owner unknown" } else { owner.as_str() })),
        method: if owner == "BYOD" { EnrollmentMethod::Byod } else { EnrollmentMethod::Unknown },
        supervised: None,
        enrolled_at: ctx.instant("createTime", &text(d, &["createTime"]))?,
        last_checkin_at: ctx.instant("lastSyncTime", &text(d, &["lastSyncTime"]))?,
        compliance: Compliance::Unknown,
        compliance_raw: None,
        platform,
        os_version: non_empty(&text(d, &["osVersion"])),
        user_principal: None,
        ownership: match owner.as_str() {
            "BYOD" => Ownership::Personal,
            "COMPANY" => Ownership::Corporate,
            _ => Ownership::Unknown,
        },
        extra,
    };
    Ok(vec![Record::Enrollment(enrollment)])
}

/// Reads one device of either list.
type ReadDevice = fn(&Value, &mut RowCtx) -> Result<Vec<Record>, Issue>;

pub fn read(doc: &Doc, em: &mut Emitter) -> Result<(), Error> {
    let (key, each): (&str, ReadDevice) = if doc.value.get("chromeosdevices").is_some() || doc.value.get("devices").is_none() {
        ("chromeosdevices", chromeos_device)
    } else {
        ("devices", endpoint_device)
    };
    let Some(items) = doc.records(&[key]) else {
        // An empty page has no array at all.
        return Ok(());
    };
    if doc.value.get("nextPageToken").and_then(Value::as_str).is_some_and(|t| !t.is_empty()) {
        em.incomplete("nextPageToken", "the list has more pages (nextPageToken); ingest them too, or the fleet is incomplete".into())?;
    }
    let mut unread = super::json::Unread::new(if key == "devices" { ENDPOINT_READS } else { CHROMEOS_READS });
    for (i, d, (line, a, z)) in items.iter() {
        unread.see(&d);
        let mut ctx = em.ctx(line, Some(format!("/{key}/{i}")), &doc.bytes[a..z]);
        let result = each(&d, &mut ctx);
        em.row(ctx, result)?;
    }
    em.unread = Some(unread.keys());
    Ok(())
}
