//! Canonical records (research/inputs.md §8): what every source is turned into. Plain data:
//! no parsing, no I/O. Every record carries its provenance.

use super::serial::Serial;
use super::vocab::*;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// A point in time, always UTC.
pub type Instant = DateTime<Utc>;

/// Text form of an instant in the store and in JSON: RFC 3339, `Z`, fractions only when present.
pub fn instant_text(t: &Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Columns or keys the mapping did not use, kept verbatim (sorted, so output is deterministic).
pub type Extra = BTreeMap<String, String>;

/// Where a record came from inside its file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// 1-based line where the record starts.
    pub line: u64,
    /// JSON pointer (`/value/3`) or device name (`/dev/sda`) where lines are not enough.
    pub pointer: Option<String>,
    /// The source's own id for the record (Intune `id`, Jamf `id`, Snipe-IT `id`).
    pub source_record_id: Option<String>,
    /// SHA-256 (hex) of the record's bytes as read (UTF-8).
    pub raw_sha256: String,
    /// Some offset-less time in this record was read in the declared source time zone.
    pub tz_assumed: bool,
}

/// Names of the person an asset is assigned to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub email: Option<String>,
    pub username: Option<String>,
    pub display_name: Option<String>,
}

/// A register (ITAM) record: what the organisation says it owns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Asset {
    pub prov: Provenance,
    pub serial: Serial,
    pub asset_tag: Option<String>,
    pub name: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub model_id: Option<String>,
    pub category: Option<String>,
    pub device_class: DeviceClass,
    pub owner: Owner,
    pub assignee_kind: AssigneeKind,
    pub ownership: Ownership,
    pub lifecycle: Lifecycle,
    /// The status label as the register wrote it.
    pub lifecycle_label: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    pub warranty_end: Option<NaiveDate>,
    pub eol_date: Option<NaiveDate>,
    pub location: Option<String>,
    pub last_seen_at: Option<Instant>,
    pub last_audit_at: Option<Instant>,
    pub extra: Extra,
}

/// An MDM's record of a device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enrollment {
    pub prov: Provenance,
    pub serial: Serial,
    pub asset_tag: Option<String>,
    pub hostname: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub mdm: Mdm,
    pub state: EnrollmentState,
    pub state_raw: Option<String>,
    pub method: EnrollmentMethod,
    pub supervised: Option<bool>,
    pub enrolled_at: Option<Instant>,
    pub last_checkin_at: Option<Instant>,
    pub compliance: Compliance,
    pub compliance_raw: Option<String>,
    pub platform: Platform,
    pub os_version: Option<String>,
    pub user_principal: Option<String>,
    pub ownership: Ownership,
    pub extra: Extra,
}

/// Encryption of a device or one volume, as one source observed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Encryption {
    pub prov: Provenance,
    pub serial: Serial,
    pub source_kind: &'static str,
    pub scope: EncryptionScope,
    pub volume: Option<String>,
    pub state: EncryptionState,
    pub state_raw: Option<String>,
    pub method: EncryptionMethod,
    pub cipher: Option<String>,
    pub percent: Option<i64>,
    pub recovery_key: RecoveryKey,
    pub key_type: KeyType,
    pub observed_at: Option<Instant>,
}

/// A sanitization of one medium.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wipe {
    pub prov: Provenance,
    pub media_serial: Serial,
    pub host_serial: Serial,
    pub asset_tag: Option<String>,
    pub device_name: Option<String>,
    pub media_type: MediaType,
    pub media_model: Option<String>,
    pub media_manufacturer: Option<String>,
    pub capacity_bytes: Option<i64>,
    pub tool: WipeTool,
    pub tool_version: Option<String>,
    pub method_raw: Option<String>,
    pub technique: Technique,
    pub nist_category: NistCategory,
    pub passes: Option<i64>,
    pub verification: Verification,
    pub verification_raw: Option<String>,
    pub result: WipeResult,
    pub result_raw: Option<String>,
    pub started_at: Option<Instant>,
    pub completed_at: Option<Instant>,
    pub operator: Option<String>,
    pub organisation: Option<String>,
    pub vendor: Option<String>,
    pub certificate_id: Option<String>,
    pub lot: Option<String>,
    pub report_id: Option<String>,
    pub hpa_dco: HpaDco,
    pub errors: Option<i64>,
    pub extra: Extra,
}

/// A drive known to sit in a host (Jamf storage disks): how wipe records find their asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaLink {
    pub prov: Provenance,
    pub media_serial: Serial,
    pub host_serial: Serial,
    pub media_model: Option<String>,
}

/// Someone who left the organisation (an HR leaver list): the population RET-01 judges.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leaver {
    pub prov: Provenance,
    pub employee_id: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// The last day of employment, as HR wrote it.
    pub termination_date: NaiveDate,
    pub extra: Extra,
}

/// Any canonical record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Asset(Asset),
    Enrollment(Enrollment),
    Encryption(Encryption),
    Wipe(Wipe),
    MediaLink(MediaLink),
    Leaver(Leaver),
}
