//! The joined per-asset view: register, MDM, encryption and wipe records grouped into one entry
//! per device. Joins by serial key (quality ok only), then asset tag for records without a usable
//! serial, and drives to their host through Jamf's disk list or a wipe record's host serial.

use crate::model::{Compliance, EncryptionScope, EncryptionState, EnrollmentState, Instant, Lifecycle, MediaType, Mdm, NistCategory, Ownership, Platform, RecoveryKey, WipeResult, WipeTool};
use crate::store::{self, Store, query::ViewRow};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a member of a population is. It prints (and serialises) as the key people read: the
/// serial, `tag:…`, `drive:…`, `record:…`, `leaver:…`, or an export's file name (the tie-out);
/// code asks its `kind`, never the text's prefix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemKey {
    text: String,
    kind: KeyKind,
}

/// The kinds of population member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    /// A device with a usable serial.
    Serial,
    /// A device known only by its asset tag.
    Tag,
    /// A drive known only by its own serial.
    Drive,
    /// A record with neither: its place in its export.
    Record,
    /// A person on an HR leaver list.
    Leaver,
    /// An ingested export (IPE tie-out).
    Export,
}

impl ItemKey {
    pub fn new(kind: KeyKind, value: &str) -> ItemKey {
        let prefix = match kind {
            KeyKind::Serial | KeyKind::Export => "",
            KeyKind::Tag => "tag:",
            KeyKind::Drive => "drive:",
            KeyKind::Record => "record:",
            KeyKind::Leaver => "leaver:",
        };
        ItemKey { text: format!("{prefix}{value}"), kind }
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The printed key.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The key without its kind's prefix (the serial, tag, drive or record itself).
    pub fn value(&self) -> &str {
        self.text.split_once(':').filter(|_| !matches!(self.kind, KeyKind::Serial | KeyKind::Export)).map_or(&self.text, |(_, v)| v)
    }
}

impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for ItemKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// One device as all sources together see it.
#[derive(Debug, Clone, Serialize)]
pub struct AssetView {
    /// The serial key, or `tag:…`, `drive:…` or `record:…` when no usable serial joins it.
    pub key: ItemKey,
    pub asset_tag: Option<String>,
    pub name: Option<String>,
    pub model: Option<String>,
    /// Register lifecycle (from the register record, if any).
    pub lifecycle: Option<Lifecycle>,
    /// The register's own status label (e.g. Snipe-IT's "Sent to ITAD").
    pub status_label: Option<String>,
    pub owner: Option<String>,
    /// The owner's email and username in the register, lower case (how RET-01 finds a leaver's devices).
    #[serde(skip)]
    pub owner_ids: Vec<String>,
    /// Corporate or personal, from the register or else an MDM; None when nobody says.
    pub ownership: Option<Ownership>,
    pub sources: BTreeSet<String>,
    pub register: Vec<String>,
    pub enrollments: Vec<Enrolled>,
    pub encryption: Vec<Encrypted>,
    pub drives: BTreeSet<String>,
    pub wipes: Vec<Wiped>,
    /// Data-quality findings of the join itself.
    pub flags: BTreeSet<String>,
    /// `source:file@sha:line[:pointer]` of every record in this entry.
    pub records: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Enrolled {
    pub mdm: Mdm,
    pub state: EnrollmentState,
    #[serde(serialize_with = "instant_text")]
    pub last_checkin_at: Option<Instant>,
    pub compliance: Option<Compliance>,
    pub platform: Option<Platform>,
    pub os_version: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Encrypted {
    /// The reader's own name for what reported it (`intune_graph`, `osquery_bitlocker_info`).
    pub source: String,
    pub scope: EncryptionScope,
    pub volume: Option<String>,
    pub state: EncryptionState,
    pub recovery_key: Option<RecoveryKey>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Wiped {
    pub drive: String,
    pub tool: WipeTool,
    pub method: Option<String>,
    pub result: WipeResult,
    pub nist_category: Option<NistCategory>,
    #[serde(serialize_with = "instant_text")]
    pub completed_at: Option<Instant>,
    pub media_type: Option<MediaType>,
}

struct Dsu(Vec<usize>);

impl Dsu {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            self.0[hi] = lo;
        }
    }
}

fn tag_key(t: &Option<String>) -> Option<String> {
    t.as_deref().and_then(crate::model::serial::tag_key)
}

/// Builds the per-asset view from the store.
pub fn assets(store: &Store) -> Result<Vec<AssetView>, store::Error> {
    Ok(join(store.view_rows()?))
}

/// The view as of a date: only ingests dated on or before it (and undated ones) count.
pub fn assets_until(store: &Store, until: &str) -> Result<Vec<AssetView>, store::Error> {
    Ok(join(store.view_rows_until(Some(until))?))
}

/// Groups rows into devices.
pub fn join(rows: Vec<ViewRow>) -> Vec<AssetView> {
    let n = rows.len();
    let mut dsu = Dsu((0..n).collect());
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut link = |dsu: &mut Dsu, key: String, i: usize| match by_key.get(&key) {
        Some(&j) => dsu.union(i, j),
        None => {
            by_key.insert(key, i);
        }
    };
    // Drives known to sit in a host (Jamf disk lists): media key → host key.
    let mut host_of: HashMap<&str, &str> = HashMap::new();
    for r in &rows {
        if r.table == "media_link" && r.serial_quality == "ok" && r.media_quality.as_deref() == Some("ok") {
            host_of.entry(r.media_key.as_deref().unwrap_or("")).or_insert(&r.serial_key);
        }
    }
    // Records made from one input row (an Intune device's enrollment and encryption) belong together.
    for (i, r) in rows.iter().enumerate() {
        link(&mut dsu, format!("R:{}", r.row_key), i);
    }
    // Pass 1: usable serials join. Their tags become anchors but never merge two serials.
    let mut tag_anchor: HashMap<String, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if r.serial_quality == "ok" {
            link(&mut dsu, format!("S:{}", r.serial_key), i);
            if let Some(t) = tag_key(&r.asset_tag) {
                tag_anchor.entry(t).or_insert(i);
            }
        }
    }
    // Pass 2: records without a usable serial join by tag, drives by their host or each other.
    for (i, r) in rows.iter().enumerate() {
        if r.serial_quality != "ok" {
            if let Some(t) = tag_key(&r.asset_tag) {
                match tag_anchor.get(&t) {
                    Some(&j) => dsu.union(i, j),
                    None => {
                        tag_anchor.insert(t, i);
                    }
                }
            }
        }
        if let (Some(m), Some("ok")) = (r.media_key.as_deref(), r.media_quality.as_deref()) {
            link(&mut dsu, format!("M:{m}"), i);
            if r.table == "wipe" && r.serial_quality != "ok" {
                if let Some(host) = host_of.get(m) {
                    link(&mut dsu, format!("S:{host}"), i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        groups.entry(dsu.find(i)).or_default().push(i);
    }
    let mut out: Vec<AssetView> = groups.into_values().map(|members| entry(&rows, &members)).collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

fn entry(rows: &[ViewRow], members: &[usize]) -> AssetView {
    let mut rs: Vec<&ViewRow> = members.iter().map(|&i| &rows[i]).collect();
    // By where each record came from, not by ingest order: the same exports ingested in any
    // order give the same entry (ids only order the records of one file, which is stable).
    rs.sort_by(|a, b| (&a.source, &a.file_name, &a.file_sha256, a.line, &a.pointer, a.table, a.id).cmp(&(&b.source, &b.file_name, &b.file_sha256, b.line, &b.pointer, b.table, b.id)));
    let (serial, tag, key) = identity(&rs);
    let registers: Vec<&&ViewRow> = rs.iter().filter(|r| r.table == "asset").collect();
    let enrollments: Vec<&&ViewRow> = rs.iter().filter(|r| r.table == "enrollment").collect();
    let flags = flags(&rs, serial.is_some(), !registers.is_empty(), !enrollments.is_empty());
    let reg = registers.first();
    AssetView {
        key,
        asset_tag: tag,
        name: reg.and_then(|r| r.name.clone()).or_else(|| enrollments.first().and_then(|r| r.name.clone())),
        model: reg.and_then(|r| r.model.clone()).or_else(|| enrollments.first().and_then(|r| r.model.clone())),
        lifecycle: reg.map(|r| Lifecycle::parse(&r.status).unwrap_or(Lifecycle::Unknown)),
        status_label: reg.and_then(|r| r.more.clone()),
        owner: reg.and_then(|r| r.detail.clone()),
        owner_ids: reg.and_then(|r| r.owner_ids.as_deref()).map(|ids| ids.split('|').filter(|s| !s.is_empty()).map(str::to_string).collect()).unwrap_or_default(),
        ownership: rs
            .iter()
            .filter(|r| r.table == "asset")
            .chain(rs.iter().filter(|r| r.table == "enrollment"))
            .filter_map(|r| r.ownership.as_deref().and_then(Ownership::parse))
            .find(|o| *o != Ownership::Unknown),
        sources: rs.iter().filter(|r| r.table != "media_link").map(|r| r.source.clone()).collect(),
        register: registers.iter().map(|r| format!("{} ({})", r.status, r.extra1.clone().unwrap_or_default())).collect(),
        enrollments: enrollments
            .iter()
            .map(|r| {
                let (platform, os) = r.more.as_deref().and_then(|m| m.split_once('|')).map_or((None, None), |(p, o)| (Platform::parse(p), (!o.is_empty()).then(|| o.to_string())));
                Enrolled {
                    mdm: r.detail.as_deref().and_then(Mdm::parse).unwrap_or(Mdm::Other),
                    state: EnrollmentState::parse(&r.status).unwrap_or(EnrollmentState::Unknown),
                    last_checkin_at: instant(r.when.as_deref()),
                    compliance: r.extra1.as_deref().and_then(Compliance::parse),
                    platform,
                    os_version: os,
                }
            })
            .collect(),
        encryption: rs
            .iter()
            .filter(|r| r.table == "encryption")
            .map(|r| Encrypted {
                source: r.extra1.clone().unwrap_or_default(),
                scope: r.detail.as_deref().and_then(EncryptionScope::parse).unwrap_or(EncryptionScope::Device),
                volume: r.name.clone(),
                state: EncryptionState::parse(&r.status).unwrap_or(EncryptionState::Unknown),
                recovery_key: r.when.as_deref().and_then(RecoveryKey::parse),
            })
            .collect(),
        drives: rs.iter().filter_map(|r| r.media_key.clone().filter(|m| !m.is_empty())).collect(),
        wipes: rs
            .iter()
            .filter(|r| r.table == "wipe")
            .map(|r| Wiped {
                drive: r.media_key.clone().unwrap_or_default(),
                tool: r.detail.as_deref().and_then(WipeTool::parse).unwrap_or(WipeTool::Other),
                method: r.model.clone(),
                result: WipeResult::parse(&r.status).unwrap_or(WipeResult::Unknown),
                nist_category: r.extra1.as_deref().and_then(NistCategory::parse),
                completed_at: instant(r.when.as_deref()),
                media_type: r.more.as_deref().and_then(MediaType::parse),
            })
            .collect(),
        flags,
        records: rs.iter().map(|r| r.reference()).collect(),
    }
}

/// An entry's usable serial, asset tag and key: the serial, else `tag:…`, else `drive:…`, else
/// the record's own place (unique, even for two serial-less devices on one minified line).
fn identity(rs: &[&ViewRow]) -> (Option<String>, Option<String>, ItemKey) {
    let serial = rs.iter().find(|r| r.serial_quality == "ok" && r.table != "media_link").map(|r| r.serial_key.clone());
    let tag = rs.iter().find_map(|r| r.asset_tag.clone().filter(|t| !t.trim().is_empty()));
    let drive = rs.iter().find_map(|r| r.media_key.clone().filter(|_| r.table == "wipe"));
    let key = match (&serial, &tag, &drive) {
        (Some(s), _, _) => ItemKey::new(KeyKind::Serial, s),
        (None, Some(t), _) => ItemKey::new(KeyKind::Tag, t),
        (None, None, Some(d)) => ItemKey::new(KeyKind::Drive, d),
        _ => ItemKey::new(KeyKind::Record, &rs[0].reference()),
    };
    (serial, tag, key)
}

/// The data-quality findings of the join: duplicates per source, unusable serials, a device in
/// only the register or only an MDM.
fn flags(rs: &[&ViewRow], has_serial: bool, in_register: bool, in_mdm: bool) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    let mut per_source: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for r in rs.iter().filter(|r| r.table == "asset" || r.table == "enrollment") {
        *per_source.entry((r.table, r.source.as_str())).or_default() += 1;
    }
    for ((table, source), count) in per_source {
        if count > 1 && has_serial {
            flags.insert(format!("duplicate_{}:{source}", if table == "asset" { "serial" } else { "enrollment" }));
        }
    }
    if !has_serial {
        for q in rs.iter().filter(|r| r.table != "media_link" && r.table != "wipe").map(|r| r.serial_quality.as_str()) {
            flags.insert(format!("serial_{q}"));
        }
    }
    if in_mdm && !in_register {
        flags.insert("not_in_register".into());
    }
    if in_register && !in_mdm {
        flags.insert("not_in_mdm".into());
    }
    flags
}

/// A stored time (RFC 3339, as the store writes it).
fn instant(text: Option<&str>) -> Option<Instant> {
    chrono::DateTime::parse_from_rfc3339(text?).ok().map(|t| t.with_timezone(&chrono::Utc))
}

/// Times print as the store keeps them, so JSON outputs keep their shape.
fn instant_text<S: serde::Serializer>(t: &Option<Instant>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&crate::model::instant_text(t)),
        None => s.serialize_none(),
    }
}
