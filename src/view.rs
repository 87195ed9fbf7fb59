//! The joined per-asset view: register, MDM, encryption and wipe records grouped into one entry
//! per device. Joins by serial key (quality ok only), then asset tag for records without a usable
//! serial, and drives to their host through Jamf's disk list or a wipe record's host serial.

use crate::model::{
    Compliance, EncryptionScope, EncryptionState, EnrollmentState, Instant, Lifecycle, Mdm, MediaType, NistCategory, Ownership, Platform, RecoveryKey,
    SerialQuality, WipeResult, WipeTool,
};
use crate::store::{
    self, Store,
    query::{Keys, Stored, TableKind, ViewRow},
};
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

/// Builds the per-asset view from the store.
pub fn assets(store: &Store) -> Result<Vec<AssetView>, store::Error> {
    join(store, store.view_rows()?)
}

/// The view as of a date: only ingests dated on or before it (and undated ones) count.
pub fn assets_until(store: &Store, until: &str) -> Result<Vec<AssetView>, store::Error> {
    join(store, store.view_rows_until(Some(until))?)
}

/// The view as of a date, one device at a time in key order (the order of `assets_until`),
/// holding only each record's keys: the join runs on `KeyRow`s, each device's key is found the
/// way `identity` finds it, and each device's full records are read by id when its turn comes.
pub fn each_until(store: &Store, until: &str, f: &mut dyn FnMut(AssetView)) -> Result<(), store::Error> {
    each_until_counted(store, until, &mut |_| {}, f)
}

/// `each_until`, telling `count` how many devices there are before the first. One read
/// transaction: the plan and the records it names are the same snapshot of the store.
pub fn each_until_counted(store: &Store, until: &str, count: &mut dyn FnMut(usize), f: &mut dyn FnMut(AssetView)) -> Result<(), store::Error> {
    store.read_snapshot(&mut || stream(store, until, count, f))
}

/// Records read per batch: about 0.5 KB each in memory.
const BATCH_RECORDS: usize = 200_000;

fn stream(store: &Store, until: &str, count: &mut dyn FnMut(usize), f: &mut dyn FnMut(AssetView)) -> Result<(), store::Error> {
    let keys = store.view_keys_until(until)?;
    let ingests: HashMap<i64, (String, String, String)> = store.ingests()?.into_iter().map(|i| (i.id, (i.source, i.file_name, i.sha256))).collect();
    let groups = plan(&keys, &ingests);
    count(groups.len());
    // The devices in key order, flat: each device's records, and where each device ends.
    let mut records: Vec<(TableKind, i64)> = Vec::with_capacity(keys.rows.len());
    let mut ends: Vec<usize> = Vec::with_capacity(groups.len());
    for g in groups {
        records.extend(g.into_iter().map(|i| (keys.rows[i].table, keys.rows[i].id)));
        ends.push(records.len());
    }
    drop(keys);
    let mut reader = store.view_row_reader()?;
    let (mut device, mut first) = (0, 0);
    while device < ends.len() {
        // A batch of whole devices; its records are read in table and id order (pages in
        // storage order, each read once a batch), not in key order (a random read each).
        let mut last = device;
        while last < ends.len() && ends[last] - first < BATCH_RECORDS {
            last += 1;
        }
        let last = last.max(device + 1);
        let stop = ends[last - 1];
        let mut order: Vec<usize> = (first..stop).collect();
        order.sort_unstable_by_key(|&k| records[k]);
        let mut rows: Vec<Option<ViewRow>> = (first..stop).map(|_| None).collect();
        for k in order {
            let (t, id) = records[k];
            rows[k - first] = Some(reader.get(t, id)?);
        }
        let mut rows = rows.into_iter().map(|r| r.expect("every record was read"));
        for d in device..last {
            let start = if d == 0 { 0 } else { ends[d - 1] };
            let members: Vec<ViewRow> = rows.by_ref().take(ends[d] - start).collect();
            let idx: Vec<usize> = (0..members.len()).collect();
            f(entry(&members, &idx));
        }
        (device, first) = (last, stop);
    }
    Ok(())
}

/// The devices of `keys` (the same join as `join`), each a list of record indices, in the order
/// of their keys (ties: the device with the earlier first record).
fn plan(keys: &Keys, ingests: &HashMap<i64, (String, String, String)>) -> Vec<Vec<usize>> {
    let rows = &keys.rows;
    let n = rows.len();
    let mut dsu = Dsu((0..n).collect());
    let ok = SerialQuality::Ok;
    fn link<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, dsu: &mut Dsu, key: K, i: usize) {
        match map.get(&key) {
            Some(&j) => dsu.union(i, j),
            None => {
                map.insert(key, i);
            }
        }
    }
    let mut host_of: HashMap<&str, &str> = HashMap::new();
    for r in rows {
        if let (TableKind::MediaLink, Some(m)) = (r.table, r.media)
            && r.serial_quality == ok
            && r.media_quality == ok
        {
            host_of.entry(keys.text(m)).or_insert(keys.text(r.serial_key));
        }
    }
    let mut by_row: HashMap<(i64, i64, &str), usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        link(&mut by_row, &mut dsu, (r.ingest, r.line, r.pointer.map_or("", |p| keys.text(p))), i);
    }
    drop(by_row);
    let tag = |r: &crate::store::query::KeyRow| r.asset_tag.and_then(|t| crate::model::serial::tag_key(keys.text(t)));
    let mut by_serial: HashMap<&str, usize> = HashMap::new();
    let mut tag_anchor: HashMap<String, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if r.serial_quality == ok {
            link(&mut by_serial, &mut dsu, keys.text(r.serial_key), i);
            if let Some(t) = tag(r) {
                tag_anchor.entry(t).or_insert(i);
            }
        }
    }
    let mut by_media: HashMap<&str, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if r.serial_quality != ok
            && let Some(t) = tag(r)
        {
            match tag_anchor.get(&t) {
                Some(&j) => dsu.union(i, j),
                None => {
                    tag_anchor.insert(t, i);
                }
            }
        }
        if let Some(m) = r.media.filter(|_| r.media_quality == ok).map(|m| keys.text(m)) {
            link(&mut by_media, &mut dsu, m, i);
            if r.table == TableKind::Wipe
                && r.serial_quality != ok
                && let Some(host) = host_of.get(m)
            {
                link(&mut by_serial, &mut dsu, host, i);
            }
        }
    }
    drop((by_serial, by_media, tag_anchor, host_of));
    // Records by device (its root: its first record), in record order.
    let mut by_root: Vec<(usize, usize)> = (0..n).map(|i| (dsu.find(i), i)).collect();
    drop(dsu);
    by_root.sort_unstable();
    let groups = by_root.chunk_by(|a, b| a.0 == b.0).map(|g| (g[0].0, g.iter().map(|(_, i)| *i).collect::<Vec<usize>>()));
    let place = |i: usize| {
        let r = &rows[i];
        let (source, file, sha) = ingests.get(&r.ingest).map_or(("", "", ""), |(a, b, c)| (a.as_str(), b.as_str(), c.as_str()));
        (source, file, sha, r.line, r.pointer.map(|p| keys.text(p)), r.table.name(), r.id)
    };
    let mut keyed: Vec<(ItemKey, usize, Vec<usize>)> = groups
        .map(|(root, mut members)| {
            members.sort_by(|a, b| place(*a).cmp(&place(*b)));
            (planned_key(keys, &members, &place), root, members)
        })
        .collect();
    keyed.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    keyed.into_iter().map(|(_, _, members)| members).collect()
}

type Place<'k> = (&'k str, &'k str, &'k str, i64, Option<&'k str>, &'static str, i64);

/// A device's key from its records in `identity`'s order, as `identity` finds it.
fn planned_key<'k>(keys: &'k Keys, members: &[usize], place: &dyn Fn(usize) -> Place<'k>) -> ItemKey {
    let rows = members.iter().map(|&i| &keys.rows[i]);
    if let Some(r) = rows.clone().find(|r| r.serial_quality == SerialQuality::Ok && r.table != TableKind::MediaLink) {
        return ItemKey::new(KeyKind::Serial, keys.text(r.serial_key));
    }
    if let Some(t) = rows.clone().find_map(|r| r.asset_tag.map(|t| keys.text(t)).filter(|t| !t.trim().is_empty())) {
        return ItemKey::new(KeyKind::Tag, t);
    }
    if let Some(d) = rows.clone().find_map(|r| (r.table == TableKind::Wipe).then_some(r.media.map_or("", |m| keys.text(m)))) {
        return ItemKey::new(KeyKind::Drive, d);
    }
    let (source, file, sha, line, pointer, _, _) = place(members[0]);
    let sha: String = sha.chars().take(12).collect();
    let text = match pointer.filter(|p| !p.is_empty()) {
        Some(p) => format!("{source}:{file}@{sha}:{line}:{p}"),
        None => format!("{source}:{file}@{sha}:{line}"),
    };
    ItemKey::new(KeyKind::Record, &text)
}

/// Groups rows read whole into devices, by the same plan as `each_until` (held in memory: the
/// `assets` command and small stores).
fn join(store: &Store, rows: Vec<ViewRow>) -> Result<Vec<AssetView>, store::Error> {
    let keys = Keys::of_rows(&rows).map_err(|e| store.map_err(e))?;
    let ingests: HashMap<i64, (String, String, String)> =
        rows.iter().map(|r| (r.ingest, (r.source.clone(), r.file_name.clone(), r.file_sha256.clone()))).collect();
    Ok(plan(&keys, &ingests).into_iter().map(|members| entry(&rows, &members)).collect())
}

fn entry(rows: &[ViewRow], members: &[usize]) -> AssetView {
    let mut rs: Vec<&ViewRow> = members.iter().map(|&i| &rows[i]).collect();
    // By where each record came from, not by ingest order: the same exports ingested in any
    // order give the same entry (ids only order the records of one file, which is stable).
    rs.sort_by(|a, b| {
        (&a.source, &a.file_name, &a.file_sha256, a.line, &a.pointer, a.table(), a.id).cmp(&(
            &b.source,
            &b.file_name,
            &b.file_sha256,
            b.line,
            &b.pointer,
            b.table(),
            b.id,
        ))
    });
    let (serial, tag, key) = identity(&rs);
    let registers: Vec<&ViewRow> = rs.iter().copied().filter(|r| matches!(r.record, Stored::Asset { .. })).collect();
    let enrolled: Vec<&ViewRow> = rs.iter().copied().filter(|r| matches!(r.record, Stored::Enrollment { .. })).collect();
    let flags = flags(&rs, serial.is_some(), !registers.is_empty(), !enrolled.is_empty());
    let mut view = AssetView {
        key,
        asset_tag: tag,
        name: None,
        model: None,
        lifecycle: None,
        status_label: None,
        owner: None,
        owner_ids: Vec::new(),
        ownership: None,
        sources: rs.iter().filter(|r| !matches!(r.record, Stored::MediaLink { .. })).map(|r| r.source.clone()).collect(),
        register: Vec::new(),
        enrollments: Vec::new(),
        encryption: Vec::new(),
        drives: rs.iter().filter_map(|r| r.media().map(|(m, _)| m.to_string())).filter(|m| !m.is_empty()).collect(),
        wipes: Vec::new(),
        flags,
        records: rs.iter().map(|r| r.reference()).collect(),
    };
    // The register speaks first for what it holds (name, model, lifecycle, owner); an MDM fills
    // name and model, and ownership, when the register has none.
    for r in registers.iter().chain(&enrolled).copied() {
        add(&mut view, r);
    }
    for r in rs.iter().copied().filter(|r| matches!(r.record, Stored::Encryption { .. } | Stored::Wipe { .. })) {
        add(&mut view, r);
    }
    view
}

/// Adds one record's fields to the device it belongs to.
fn add(view: &mut AssetView, r: &ViewRow) {
    let first = |slot: &mut Option<String>, v: &Option<String>| {
        if slot.is_none() {
            slot.clone_from(v);
        }
    };
    match &r.record {
        Stored::Asset { name, model, lifecycle, owner, owner_ids, status_label, ownership } => {
            if view.register.is_empty() {
                first(&mut view.name, name);
                first(&mut view.model, model);
                view.lifecycle = Some(*lifecycle);
                view.status_label.clone_from(status_label);
                view.owner.clone_from(owner);
                view.owner_ids.clone_from(owner_ids);
            }
            if view.ownership.is_none() && *ownership != Ownership::Unknown {
                view.ownership = Some(*ownership);
            }
            view.register.push(format!("{lifecycle} ({})", status_label.clone().unwrap_or_default()));
        }
        Stored::Enrollment { hostname, model, mdm, state, last_checkin_at, compliance, platform, os_version, ownership } => {
            first(&mut view.name, hostname);
            first(&mut view.model, model);
            if view.ownership.is_none() && *ownership != Ownership::Unknown {
                view.ownership = Some(*ownership);
            }
            view.enrollments.push(Enrolled {
                mdm: *mdm,
                state: *state,
                last_checkin_at: *last_checkin_at,
                compliance: Some(*compliance),
                platform: Some(*platform),
                os_version: os_version.clone(),
            });
        }
        Stored::Encryption { source_kind, scope, volume, state, recovery_key } => {
            view.encryption.push(Encrypted {
                source: source_kind.clone(),
                scope: *scope,
                volume: volume.clone(),
                state: *state,
                recovery_key: Some(*recovery_key),
            });
        }
        Stored::Wipe { media_key, method, tool, result, completed_at, nist_category, media_type, .. } => {
            view.wipes.push(Wiped {
                drive: media_key.clone(),
                tool: *tool,
                method: method.clone(),
                result: *result,
                nist_category: Some(*nist_category),
                completed_at: *completed_at,
                media_type: Some(*media_type),
            });
        }
        Stored::MediaLink { .. } => {}
    }
}

/// An entry's usable serial, asset tag and key: the serial, else `tag:…`, else `drive:…`, else
/// the record's own place (unique, even for two serial-less devices on one minified line).
fn identity(rs: &[&ViewRow]) -> (Option<String>, Option<String>, ItemKey) {
    let serial = rs.iter().find(|r| r.serial_quality == SerialQuality::Ok && !matches!(r.record, Stored::MediaLink { .. })).map(|r| r.serial_key.clone());
    let tag = rs.iter().find_map(|r| r.asset_tag.clone().filter(|t| !t.trim().is_empty()));
    let drive = rs.iter().find_map(|r| match &r.record {
        Stored::Wipe { media_key, .. } => Some(media_key.clone()),
        _ => None,
    });
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
    for r in rs.iter().filter(|r| matches!(r.record, Stored::Asset { .. } | Stored::Enrollment { .. })) {
        *per_source.entry((r.table(), r.source.as_str())).or_default() += 1;
    }
    for ((table, source), count) in per_source {
        if count > 1 && has_serial {
            flags.insert(format!("duplicate_{}:{source}", if table == "asset" { "serial" } else { "enrollment" }));
        }
    }
    if !has_serial {
        for r in rs.iter().filter(|r| matches!(r.record, Stored::Asset { .. } | Stored::Enrollment { .. } | Stored::Encryption { .. })) {
            flags.insert(format!("serial_{}", r.serial_quality));
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

/// Times print as the store keeps them, so JSON outputs keep their shape.
fn instant_text<S: serde::Serializer>(t: &Option<Instant>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&crate::model::instant_text(t)),
        None => s.serialize_none(),
    }
}
