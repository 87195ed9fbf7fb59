//! Microsoft Intune: Graph `managedDevice` JSON (the `value` envelope or one device) and the
//! portal's DevicesWithInventory CSV. Emits an enrollment and a device-scope encryption record.

use super::json::{Doc, text};
use super::row::{RowCtx, non_empty};
use super::table::{Row, Table};
use super::{Emitter, Error, Issue};
use crate::model::*;
use serde_json::Value;

/// Columns that mark the portal CSV.
pub const CSV_DETECT: &[&str] = &["device id", "primary user upn", "azure ad device id", "intune registered"];

fn platform(ctx: &mut RowCtx, field: &str, raw: &str) -> Platform {
    ctx.vocab(
        field,
        raw,
        |t| {
            let t = t.to_lowercase();
            Some(match t.as_str() {
                "windows" | "windowsmobile" | "windows 10x" => Platform::Windows,
                "macos" | "mac os" | "macmdm" => Platform::Macos,
                "ios" | "ios/ipados" => Platform::Ios,
                "ipados" => Platform::Ipados,
                "android" | "androidforwork" | "androidenterprise" | "android (personally-owned work profile)" => Platform::Android,
                "linux" | "ubuntu" => Platform::Linux,
                "chromeos" | "chrome os" => Platform::Chromeos,
                _ => return None,
            })
        },
        Platform::Other,
    )
}

fn compliance(ctx: &mut RowCtx, field: &str, raw: &str) -> Compliance {
    ctx.vocab(
        field,
        raw,
        |t| {
            Some(match t.to_lowercase().replace(' ', "").as_str() {
                "compliant" => Compliance::Compliant,
                "noncompliant" | "notcompliant" => Compliance::Noncompliant,
                "ingraceperiod" => Compliance::GracePeriod,
                "notevaluated" | "configmanager" => Compliance::NotEvaluated,
                "unknown" | "conflict" | "error" => Compliance::Unknown,
                _ => return None,
            })
        },
        Compliance::Unknown,
    )
}

fn enrollment_method(ctx: &mut RowCtx, raw: &str) -> EnrollmentMethod {
    ctx.vocab(
        "deviceEnrollmentType",
        raw,
        |t| {
            Some(match t {
                "appleBulkWithUser"
                | "appleBulkWithoutUser"
                | "windowsBulkUserless"
                | "windowsBulkAzureDomainJoin"
                | "windowsCoManagement"
                | "appleUserEnrollmentWithServiceAccount"
                | "azureAdJoinUsingDeviceAuth"
                | "androidEnterpriseDedicatedDevice"
                | "androidEnterpriseFullyManaged"
                | "androidEnterpriseCorporateWorkProfile" => EnrollmentMethod::Automated,
                "userEnrollment" | "appleUserEnrollment" | "androidEnterpriseWorkProfile" => EnrollmentMethod::Byod,
                "deviceEnrollmentManager" | "windowsAzureADJoin" | "windowsAutoEnrollment" | "windowsAzureADJoinUsingDeviceAuth" => EnrollmentMethod::User,
                "unknown" => EnrollmentMethod::Unknown,
                _ => return None,
            })
        },
        EnrollmentMethod::Unknown,
    )
}

const AGENTS: &[&str] = &[
    "eas",
    "mdm",
    "easMdm",
    "intuneClient",
    "easIntuneClient",
    "configurationManagerClient",
    "configurationManagerClientMdm",
    "configurationManagerClientMdmEas",
    "unknown",
    "jamf",
    "googleCloudDevicePolicyController",
    "microsoft365ManagedMdm",
    "msSense",
    "intuneAosp",
];

fn ownership(raw: &str) -> Ownership {
    match raw.to_lowercase().as_str() {
        "company" | "corporate" => Ownership::Corporate,
        "personal" => Ownership::Personal,
        _ => Ownership::Unknown,
    }
}

fn encryption_method(p: Platform) -> EncryptionMethod {
    match p {
        Platform::Windows => EncryptionMethod::Bitlocker,
        Platform::Macos => EncryptionMethod::Filevault,
        _ => EncryptionMethod::Other,
    }
}

/// A Graph `managedDevice` list or device: the OData context, or device fields only Intune has.
pub fn detect(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    let Some(obj) = v.as_object() else { return false };
    if obj.get("@odata.context").and_then(Value::as_str).is_some_and(|c| c.contains("managedDevices")) {
        return true;
    }
    if let Some(Value::Array(items)) = obj.get("value")
        && items.iter().any(|d| d.get("managedDeviceOwnerType").is_some() || d.get("complianceState").is_some())
    {
        return true;
    }
    obj.get("serialNumber").is_some() && (obj.get("complianceState").is_some() || obj.get("managedDeviceOwnerType").is_some())
}

/// Reads Graph `managedDevice` JSON: `{"value": [...]}` or a single device object.
pub fn read_graph(doc: &Doc, em: &mut Emitter) -> Result<(), Error> {
    let Some(items) = doc.records(&["value"]) else {
        if doc.value.get("id").is_none() {
            return Err(Error::bad_file(doc.file, 1, Some("value"), "expected a Graph collection {\"value\": [...]} or one managedDevice", None));
        }
        let mut ctx = em.ctx(1, None, doc.bytes);
        let whole = doc.whole();
        let mut unread = super::json::Unread::new(GRAPH_READS);
        unread.see(&whole);
        em.unread = Some(unread.keys());
        let result = graph_device(&whole, &mut ctx);
        return em.row(ctx, result);
    };
    if doc.value.get("@odata.nextLink").is_some() {
        em.incomplete("@odata.nextLink", "the collection has more pages (@odata.nextLink); ingest them too, or the fleet is incomplete".into())?;
    }
    let mut unread = super::json::Unread::new(GRAPH_READS);
    for (i, d, (line, a, z)) in items.iter() {
        unread.see(&d);
        let mut ctx = em.ctx(line, Some(format!("/value/{i}")), &doc.bytes[a..z]);
        let result = graph_device(&d, &mut ctx);
        em.row(ctx, result)?;
    }
    em.unread = Some(unread.keys());
    Ok(())
}

/// The keys of a managedDevice the reader reads (the rest are listed as not read).
const GRAPH_READS: &[&str] = &[
    // What a single device's document is (detection reads it).
    "@odata.context",
    "id",
    "model",
    "serialNumber",
    "hardwareInformation",
    "managementAgent",
    "managementState",
    "operatingSystem",
    "managedDeviceOwnerType",
    "deviceEnrollmentType",
    "complianceState",
    "isSupervised",
    "isEncrypted",
    "lastSyncDateTime",
    "azureADDeviceId",
    "deviceRegistrationState",
    "jailBroken",
    "managedDeviceName",
    "deviceType",
    "joinType",
    "userPrincipalName",
    "emailAddress",
    "deviceName",
    "manufacturer",
    "enrolledDateTime",
    "osVersion",
];

fn graph_device(d: &Value, ctx: &mut RowCtx) -> Result<Vec<Record>, Issue> {
    if !d.is_object() {
        return Err(ctx.issue("", "device is not a JSON object", None));
    }
    let id = non_empty(&text(d, &["id"])).ok_or_else(|| ctx.issue("id", "managedDevice has no id", None))?;
    let model = non_empty(&text(d, &["model"]));
    let raw_serial = text(d, &["serialNumber"]).into_owned();
    ctx.identifier("serialNumber", &raw_serial)?;
    let mut serial = Serial::new(&raw_serial, model.as_deref());
    let hw_serial = text(d, &["hardwareInformation", "serialNumber"]).into_owned();
    if serial.quality != SerialQuality::Ok && serial.quality != SerialQuality::Virtual {
        let hw = Serial::new(&hw_serial, model.as_deref());
        if hw.quality == SerialQuality::Ok {
            ctx.warn("serialNumber", "serialNumber is not usable; took hardwareInformation.serialNumber", Some(&raw_serial));
            serial = hw;
        }
    }
    let agent = text(d, &["managementAgent"]).into_owned();
    if !agent.is_empty() && !AGENTS.contains(&agent.as_str()) {
        ctx.warn("managementAgent", "management agent not in the Graph vocabulary; kept as found", Some(&agent));
    }
    let management_state = text(d, &["managementState"]).into_owned();
    let state = match management_state.as_str() {
        "" | "managed" => EnrollmentState::Enrolled,
        "retirePending" | "retireIssued" | "wipePending" | "wipeIssued" | "deletePending" | "retireFailed" | "wipeFailed" => EnrollmentState::Unenrolled,
        "unhealthy" | "discovered" => EnrollmentState::Unknown,
        other => {
            ctx.warn("managementState", "management state not in the Graph vocabulary; enrollment recorded as unknown", Some(other));
            EnrollmentState::Unknown
        }
    };
    let plat = platform(ctx, "operatingSystem", &text(d, &["operatingSystem"]));
    let owner_type = text(d, &["managedDeviceOwnerType"]).into_owned();
    let own = ownership(&owner_type);
    let mut method = enrollment_method(ctx, &text(d, &["deviceEnrollmentType"]));
    if own == Ownership::Personal {
        method = EnrollmentMethod::Byod;
    }
    let comp_raw = text(d, &["complianceState"]).into_owned();
    let supervised = match d.get("isSupervised") {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Null) | None => None,
        Some(other) => return Err(ctx.issue("isSupervised", "not a boolean", Some(&other.to_string()))),
    };
    let encrypted = match d.get("isEncrypted") {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Null) | None => None,
        Some(other) => return Err(ctx.issue("isEncrypted", "not a boolean", Some(&other.to_string()))),
    };
    let last_sync = ctx.instant("lastSyncDateTime", &text(d, &["lastSyncDateTime"]))?;
    let mut extra = Extra::new();
    for k in ["azureADDeviceId", "managementAgent", "deviceRegistrationState", "jailBroken", "managedDeviceName", "deviceType", "joinType"] {
        if let Some(v) = non_empty(&text(d, &[k])) {
            extra.insert(k.to_string(), v);
        }
    }
    if serial.raw != raw_serial {
        extra.insert("serialNumber".into(), raw_serial);
    }
    let upn = non_empty(&text(d, &["userPrincipalName"])).or_else(|| non_empty(&text(d, &["emailAddress"])));
    let enrollment = Enrollment {
        prov: ctx.prov(Some(id.clone())),
        serial: serial.clone(),
        asset_tag: None,
        hostname: non_empty(&text(d, &["deviceName"])),
        manufacturer: non_empty(&text(d, &["manufacturer"])),
        model,
        mdm: Mdm::Intune,
        state,
        state_raw: non_empty(&management_state),
        method,
        supervised,
        enrolled_at: ctx.instant("enrolledDateTime", &text(d, &["enrolledDateTime"]))?,
        last_checkin_at: last_sync,
        compliance: compliance(ctx, "complianceState", &comp_raw),
        compliance_raw: non_empty(&comp_raw),
        platform: plat,
        os_version: non_empty(&text(d, &["osVersion"])),
        user_principal: upn,
        ownership: own,
        extra,
    };
    let encryption = Encryption {
        prov: ctx.prov(Some(id)),
        serial,
        source_kind: "intune_graph",
        scope: EncryptionScope::Device,
        volume: None,
        state: match encrypted {
            Some(true) => EncryptionState::Encrypted,
            Some(false) => EncryptionState::NotEncrypted,
            None => EncryptionState::Unknown,
        },
        state_raw: encrypted.map(|b| b.to_string()),
        method: encryption_method(plat),
        cipher: None,
        percent: None,
        recovery_key: RecoveryKey::Unknown,
        key_type: KeyType::Unknown,
        observed_at: last_sync,
    };
    Ok(vec![Record::Enrollment(enrollment), Record::Encryption(encryption)])
}

const C_ID: &[&str] = &["device id"];
const C_NAME: &[&str] = &["device name", "gerätename"];
const C_ENROLLED: &[&str] = &["enrollment date", "registrierungsdatum"];
const C_CHECKIN: &[&str] = &["last check-in", "letzter check-in"];
const C_SERIAL: &[&str] = &["serial number", "seriennummer"];
const C_MANUFACTURER: &[&str] = &["manufacturer", "hersteller"];
const C_MODEL: &[&str] = &["model", "modell"];
const C_UPN: &[&str] = &["primary user upn", "primary user email address"];
const C_COMPLIANCE: &[&str] = &["compliance", "konformität"];
const C_OWNERSHIP: &[&str] = &["ownership", "besitz"];
const C_ENCRYPTED: &[&str] = &["encrypted", "verschlüsselt"];
const C_OS: &[&str] = &["os", "betriebssystem"];
const C_OS_VERSION: &[&str] = &["os version", "betriebssystemversion"];
const C_SUPERVISED: &[&str] = &["supervised", "überwacht"];
const C_MANAGED_BY: &[&str] = &["managed by"];
const C_JOIN: &[&str] = &["jointype"];

/// Date-times in the portal export (rendering not fixed by Microsoft: ISO with or without `T`,
/// or US `M/D/YYYY h:mm AM/PM`). They carry no offset, so --source-tz is needed.
const CSV_TIMES: &[&str] =
    &["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M"];

/// Reads the DevicesWithInventory CSV.
pub fn read_csv(table: &Table, em: &mut Emitter) -> Result<(), Error> {
    let serial_c = Some(table.require("Serial number", C_SERIAL)?);
    let cols = [
        table.col(C_ID),
        table.col(C_NAME),
        table.col(C_ENROLLED),
        table.col(C_CHECKIN),
        table.col(C_MANUFACTURER),
        table.col(C_MODEL),
        table.col(C_UPN),
        table.col(C_COMPLIANCE),
        table.col(C_OWNERSHIP),
        table.col(C_ENCRYPTED),
        table.col(C_OS),
        table.col(C_OS_VERSION),
        table.col(C_SUPERVISED),
        table.col(C_MANAGED_BY),
        table.col(C_JOIN),
    ];
    let [id, name, enrolled, checkin, manufacturer, model, upn, comp, own, enc, os, os_version, supervised, managed_by, join] = cols;
    let mut used = cols.to_vec();
    used.push(serial_c);
    for w in table.header_warnings() {
        em.warning(w)?;
    }
    let h = |c: Option<usize>, d: &str| c.map(|c| table.headers[c].clone()).unwrap_or_else(|| d.to_string());
    table.for_each_row(em, |row: &Row, ctx: &mut RowCtx| {
        let serial_raw = row.get(serial_c);
        ctx.identifier(&h(serial_c, "Serial number"), serial_raw)?;
        let model_v = non_empty(row.get(model));
        let serial = Serial::new(serial_raw, model_v.as_deref());
        let plat = platform(ctx, &h(os, "OS"), row.get(os));
        let comp_raw = row.get(comp);
        let t_f = (&["true", "yes"][..], &["false", "no"][..]);
        let encrypted = ctx.boolean(&h(enc, "Encrypted"), row.get(enc), t_f.0, t_f.1)?;
        let sup = ctx.boolean(&h(supervised, "Supervised"), row.get(supervised), t_f.0, t_f.1)?;
        let last = ctx.local(&h(checkin, "Last check-in"), row.get(checkin), CSV_TIMES)?;
        let ownership = match row.get(own).to_lowercase().as_str() {
            "corporate" | "company" => Ownership::Corporate,
            "personal" => Ownership::Personal,
            "" | "unknown" => Ownership::Unknown,
            other => {
                let other = other.to_string();
                ctx.warn(&h(own, "Ownership"), "ownership not Corporate or Personal; recorded as unknown", Some(&other));
                Ownership::Unknown
            }
        };
        let mut extra = table.extra(row, &used);
        for (c, key) in [(managed_by, "Managed by"), (join, "JoinType")] {
            if let Some(v) = non_empty(row.get(c)) {
                extra.insert(key.into(), v);
            }
        }
        let id_v = non_empty(row.get(id));
        let enrollment = Enrollment {
            prov: ctx.prov(id_v.clone()),
            serial: serial.clone(),
            asset_tag: None,
            hostname: non_empty(row.get(name)),
            manufacturer: non_empty(row.get(manufacturer)),
            model: model_v,
            mdm: Mdm::Intune,
            state: EnrollmentState::Enrolled,
            state_raw: None,
            method: if ownership == Ownership::Personal { EnrollmentMethod::Byod } else { EnrollmentMethod::Unknown },
            supervised: sup,
            enrolled_at: ctx.local(&h(enrolled, "Enrollment date"), row.get(enrolled), CSV_TIMES)?,
            last_checkin_at: last,
            compliance: compliance(ctx, &h(comp, "Compliance"), comp_raw),
            compliance_raw: non_empty(comp_raw),
            platform: plat,
            os_version: non_empty(row.get(os_version)),
            user_principal: non_empty(row.get(upn)),
            ownership,
            extra,
        };
        let encryption = Encryption {
            prov: ctx.prov(id_v),
            serial,
            source_kind: "intune_csv",
            scope: EncryptionScope::Device,
            volume: None,
            state: match encrypted {
                Some(true) => EncryptionState::Encrypted,
                Some(false) => EncryptionState::NotEncrypted,
                None => EncryptionState::Unknown,
            },
            state_raw: non_empty(row.get(enc)),
            method: encryption_method(plat),
            cipher: None,
            percent: None,
            recovery_key: RecoveryKey::Unknown,
            key_type: KeyType::Unknown,
            observed_at: last,
        };
        Ok(vec![Record::Enrollment(enrollment), Record::Encryption(encryption)])
    })
}
