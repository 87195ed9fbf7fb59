//! NIST SP 800-88 certificates of sanitization (DESIGN §7): a canonical JSON record per drive,
//! asset or lot, built from stored wipe records and bound to them by hash; the performer's
//! signature, the verifier's countersignature over record and first signature; a PDF rendering
//! that embeds the signed JSON.

pub mod method;
pub mod pdf;
pub mod record;

pub use record::{AssetRef, Certificate, EncryptionState, FORMAT, Media, Record, Signature, SignatureStatus, SourceRef, canonical, verified, verify};

use crate::sign::{Role, SecretKey};
use crate::store::Store;
use crate::store::query::WipeRow;
use crate::view::AssetView;

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Certificate errors (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no certificate for {what}: missing {}", .missing.join(", "))]
    Missing { what: String, missing: Vec<String> },
    #[error("no certificate for {what}: the sanitization {result}")]
    NotSanitized { what: String, result: String },
    #[error("no wipe record matches {0}")]
    NoMatch(String),
    #[error("no certificate written; {} problem(s):\n  {}", .0.len(), .0.join("\n  "))]
    Problems(Vec<String>),
    #[error("nothing imported; {} problem(s):\n  {}", .0.len(), .0.join("\n  "))]
    NotImported(Vec<String>),
    #[error("{0}")]
    Order(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

impl Error {
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Missing { .. } => Some("re-export the wipe record with these fields, or give them with flags (--performer, --organisation, --classification, --destination)".into()),
            Error::NotSanitized { .. } => Some("only a successful sanitization gets a certificate; wipe the drive again".into()),
            Error::NoMatch(_) => Some("`evident assets` lists drives and lots; ingest the wipe log or ITAD certificate first".into()),
            Error::Problems(_) => Some("give the missing fields with flags (--performer, --organisation, --classification, --destination) or re-export the wipe records; --skip-failed leaves out drives whose wipe failed".into()),
            Error::NotImported(_) => Some("import takes back the files this store's `certificate new` made, the same record with signatures added; a changed record is a new certificate (`certificate new`)".into()),
            Error::Order(_) => None,
            Error::File { .. } => Some("a certificate file is the JSON `evident certificate new` wrote; edit nothing in it".into()),
            Error::Store(e) => e.hint(),
        }
    }
}

/// What the person issuing certificates states (Appendix G fields not in the wipe records),
/// and the method table that decides the category.
#[derive(Debug, Clone, Default)]
pub struct Issue {
    pub performer: Option<String>,
    pub organisation: Option<String>,
    pub classification: Option<String>,
    pub destination: Option<String>,
    /// None: the shipped table (templates/sanitization-methods.yaml).
    pub methods: Option<method::Table>,
    /// Issue certificates for drives whose sanitization was not verified (none or unknown on
    /// record, or a visual check of anything but destruction): each says NOT VERIFIED.
    pub unverified: bool,
    /// A correction: the id of the certificate this one supersedes, and why.
    pub supersedes: Option<(String, String)>,
}

/// What one certificate covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Per {
    /// One certificate per drive.
    Drive,
    /// One per asset: all drives of a laptop or server.
    Asset,
    /// One per lot: an ITAD pallet.
    Lot,
}

/// Which wipes to certify, and how to group them into certificates.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub drives: Vec<String>,
    pub assets: Vec<String>,
    pub lots: Vec<String>,
    /// Every drive in the store.
    pub all: bool,
    /// None: what was selected (drives per drive, assets per asset, lots per lot, all per drive).
    pub per: Option<Per>,
    /// Leave out drives whose newest wipe failed, instead of stopping.
    pub skip_failed: bool,
}

/// Certificates built, and the drives left out with the reason.
#[derive(Debug, Default)]
pub struct Built {
    pub certificates: Vec<Certificate>,
    pub skipped: Vec<String>,
}

fn key_norm(s: &str) -> String {
    crate::model::serial::Serial::new(s, None).key
}

/// The joined view indexed by drive and by system serial, so a batch of thousands stays linear.
struct Assets<'a> {
    views: &'a [AssetView],
    by_key: HashMap<&'a str, usize>,
    by_drive: HashMap<&'a str, usize>,
}

impl<'a> Assets<'a> {
    fn new(views: &'a [AssetView]) -> Self {
        let mut by_key = HashMap::new();
        let mut by_drive = HashMap::new();
        for (i, v) in views.iter().enumerate() {
            by_key.insert(v.key.as_str(), i);
            if let Some(t) = &v.asset_tag {
                by_key.entry(t.as_str()).or_insert(i);
            }
            for d in v.drives.iter().map(String::as_str).chain(v.wipes.iter().map(|w| w.drive.as_str())) {
                by_drive.insert(d, i);
            }
        }
        Assets { views, by_key, by_drive }
    }

    /// The asset a wipe belongs to: by its host serial, else the asset that lists the drive.
    fn of(&self, w: &WipeRow) -> Option<&'a AssetView> {
        let i =
            self.by_key.get(w.host_serial_key.as_str()).filter(|_| !w.host_serial_key.is_empty()).or_else(|| self.by_drive.get(w.media_serial_key.as_str()))?;
        Some(&self.views[*i])
    }

    fn find(&self, asset: &str) -> Option<&'a AssetView> {
        self.by_key.get(key_norm(asset).as_str()).or_else(|| self.by_key.get(asset)).map(|i| &self.views[*i])
    }
}

/// Builds unsigned certificates from the store's wipe records. Every problem is collected:
/// if any drive lacks a required field, no certificate is built at all.
pub fn build(store: &Store, sel: &Selection, issue: &Issue) -> Result<Built, Error> {
    let wipes = store.wipes()?;
    let views = crate::view::assets(store)?;
    let assets = Assets::new(&views);
    let table = issue.methods.clone().unwrap_or_else(method::Table::default_table);
    let mut chosen = select(&wipes, sel, &assets, &table)?;
    let mut built = Built::default();
    if sel.skip_failed {
        chosen.retain(|w| {
            let ok = w.result == "success";
            if !ok {
                built.skipped.push(format!("drive {}: {} ({} line {})", w.media_serial, w.result, w.file_name, w.line));
            }
            ok
        });
    }
    let per = sel.per.unwrap_or(if !sel.lots.is_empty() && sel.drives.is_empty() && sel.assets.is_empty() {
        Per::Lot
    } else if !sel.assets.is_empty() && sel.drives.is_empty() && sel.lots.is_empty() {
        Per::Asset
    } else {
        Per::Drive
    });
    // Group, in a stable order, so the same store gives the same certificates.
    let mut groups: BTreeMap<String, Vec<&WipeRow>> = BTreeMap::new();
    let mut problems = Vec::new();
    for w in chosen {
        let key = match per {
            Per::Drive => Some(format!("drive {}", w.media_serial)),
            Per::Asset => assets
                .of(w)
                .map(|v| format!("asset {}", v.asset_tag.as_deref().unwrap_or(v.key.as_str())))
                .or_else(|| (!w.host_serial_key.is_empty()).then(|| format!("asset {}", w.host_serial_key))),
            Per::Lot => w.lot.as_ref().map(|l| format!("lot {l}")),
        };
        match key {
            Some(k) => groups.entry(k).or_default().push(w),
            None => problems.push(format!(
                "drive {} ({} line {}) belongs to no {}",
                w.media_serial,
                w.file_name,
                w.line,
                if per == Per::Lot { "lot" } else { "asset" }
            )),
        }
    }
    // Built on every core (a record is hashed and encoded twice over), kept in order.
    let groups: Vec<(String, Vec<&WipeRow>)> = groups.into_iter().collect();
    let each = parallel(&groups, &|(what, ws)| Ok(build_one(what, per, ws, &assets, issue, &table)))?;
    for ((what, _), one) in groups.iter().zip(each) {
        match one {
            Ok(c) => built.certificates.push(c),
            Err(Error::Missing { missing, .. }) => problems.extend(missing.into_iter().map(|m| format!("{what}: {m}"))),
            Err(Error::NotSanitized { what, result }) => problems.push(format!("{what}: the sanitization {result}")),
            Err(e) => return Err(e),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Problems(problems));
    }
    Ok(built)
}

/// The wipe records the selection names, newest per drive (a drive wiped twice: the newest
/// record is the one that counts), each once. A name that matches nothing is an error.
/// Actions of one source row (an nwipe run that sanitized, then overwrote) are one sanitization:
/// its strongest successful action by the method table counts, so a later overwrite does not
/// hide an earlier Purge.
fn select<'a>(wipes: &'a [WipeRow], sel: &Selection, assets: &Assets, table: &method::Table) -> Result<Vec<&'a WipeRow>, Error> {
    let mut newest: BTreeMap<&str, &WipeRow> = BTreeMap::new();
    for w in wipes {
        let e = newest.entry(w.media_serial_key.as_str()).or_insert(w);
        if w.completed_at >= e.completed_at {
            *e = w;
        }
    }
    let rank = |w: &WipeRow| ["none", "clear", "purge", "destroy"].iter().position(|c| *c == table.category(&w.technique, &w.media_type)).unwrap_or(0);
    for e in newest.values_mut() {
        let same_row = wipes.iter().filter(|w| {
            w.media_serial_key == e.media_serial_key
                && w.file_sha256 == e.file_sha256
                && w.line == e.line
                && w.raw_sha256 == e.raw_sha256
                && w.result == "success"
        });
        if let Some(best) = same_row.max_by(|a, b| rank(a).cmp(&rank(b)).then(a.completed_at.cmp(&b.completed_at))) {
            *e = best;
        }
    }
    let mut chosen: Vec<&WipeRow> = Vec::new();
    fn take<'a>(chosen: &mut Vec<&'a WipeRow>, what: String, found: Vec<&'a WipeRow>) -> Result<(), Error> {
        if found.is_empty() {
            return Err(Error::NoMatch(what));
        }
        chosen.extend(found);
        Ok(())
    }
    let newest_list: Vec<&WipeRow> = newest.values().copied().collect();
    if sel.all {
        take(&mut chosen, "the store".into(), newest_list.clone())?;
    }
    for d in &sel.drives {
        let k = key_norm(d);
        take(&mut chosen, format!("drive {d}"), newest.get(k.as_str()).copied().into_iter().collect())?;
    }
    for l in &sel.lots {
        take(&mut chosen, format!("lot {l}"), newest_list.iter().copied().filter(|w| w.lot.as_deref() == Some(l.as_str())).collect())?;
    }
    for a in &sel.assets {
        let view = assets.find(a);
        let k = key_norm(a);
        take(
            &mut chosen,
            format!("asset {a}"),
            newest_list
                .iter()
                .copied()
                .filter(|w| view.is_some_and(|v| assets.of(w).is_some_and(|x| std::ptr::eq(x, v))) || (!w.host_serial_key.is_empty() && w.host_serial_key == k))
                .collect(),
        )?;
    }
    let mut seen = HashSet::new();
    chosen.retain(|w| seen.insert(w.id));
    Ok(chosen)
}

fn build_one(what: &str, per: Per, wipes: &[&WipeRow], assets: &Assets, issue: &Issue, table: &method::Table) -> Result<Certificate, Error> {
    let mut missing = Vec::new();
    let mut media = Vec::new();
    for w in wipes {
        media.push(media_of(w, table, issue.unverified, &mut missing)?);
    }
    let first = wipes[0];
    // What the record says wins; the flags fill what it lacks (an nwipe log names no operator).
    let performer = first.operator.clone().or_else(|| first.vendor.clone()).or_else(|| issue.performer.clone());
    let organisation = first.organisation.clone().or_else(|| issue.organisation.clone());
    let at = format!("{} line {}", first.file_name, first.line);
    for (field, flag, v) in [
        ("performer", "--performer", &performer),
        ("organisation", "--organisation", &organisation),
        ("classification", "--classification", &issue.classification),
        ("destination", "--destination", &issue.destination),
    ] {
        if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
            missing.push(format!("{field}: {at} gives none; give {flag}"));
        }
    }
    if !missing.is_empty() {
        return Err(Error::Missing { what: what.to_string(), missing });
    }
    // The asset: through the host serial of the wipe, or the drive's host in the joined view.
    let view = wipes.iter().find_map(|w| assets.of(w)).filter(|v| !v.register.is_empty() || !v.enrollments.is_empty());
    let (asset, encryption_before_disposal) = view.map_or((None, None), asset_of);
    media.sort_by(|a, b| a.serial.cmp(&b.serial));
    let date = media.iter().map(|m| m.completed_at.clone()).max().unwrap_or_default();
    let scope = match per {
        Per::Drive => "drive",
        Per::Asset => "asset",
        Per::Lot => "lot",
    };
    let lot = first.lot.clone();
    // The id is a hash of what it certifies, so the same records give the same certificate.
    let mut h = Sha256::new();
    for m in &media {
        h.update(m.source.record_sha256.as_bytes());
        h.update(m.serial.as_bytes());
    }
    h.update(scope.as_bytes());
    // A correction of the same records is another certificate: its id names what it replaces.
    if let Some((old, _)) = &issue.supersedes {
        h.update(b"supersedes");
        h.update(old.as_bytes());
    }
    let id = format!("COS-{}", &hex::encode(h.finalize())[..16].to_uppercase());
    let record = Record {
        format: FORMAT.into(),
        id,
        scope: scope.into(),
        lot,
        organisation: organisation.unwrap_or_default(),
        performer: performer.unwrap_or_default(),
        classification: issue.classification.clone().unwrap_or_default(),
        destination: issue.destination.clone().unwrap_or_default(),
        asset,
        media,
        encryption_before_disposal,
        date,
        supersedes: issue.supersedes.as_ref().map(|(id, _)| id.clone()),
        correction: issue.supersedes.as_ref().map(|(_, why)| why.clone()),
    };
    let record_sha256 = hex::encode(Sha256::digest(canonical(&record)));
    Ok(Certificate { record, record_sha256, performer_signature: None, verifier_signature: None, timestamps: Vec::new() })
}

/// The asset a certificate's drives came from, with the records behind it, and its encryption
/// state at its last MDM check-in.
fn asset_of(v: &AssetView) -> (Option<AssetRef>, Option<EncryptionState>) {
    let asset = AssetRef {
        key: v.key.to_string(),
        asset_tag: v.asset_tag.clone(),
        name: v.name.clone(),
        model: v.model.clone(),
        lifecycle: v.lifecycle.map(|l| l.as_str().to_string()),
        records: v
            .records
            .iter()
            .filter(|r| !r.starts_with("nwipe") && !r.starts_with("itad"))
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let encryption = v.encryption.first().map(|e| EncryptionState {
        state: if v.encryption.iter().all(|x| x.state == crate::model::EncryptionState::Encrypted) { "encrypted".into() } else { e.state.as_str().to_string() },
        source: e.source.clone(),
        last_checkin_at: v.enrollments.iter().filter_map(|x| x.last_checkin_at).max().map(|t| crate::model::instant_text(&t)),
    });
    (Some(asset), encryption)
}

/// One drive of a certificate, from its wipe record: the Clear/Purge/Destroy category from the
/// method table, and each Appendix G field it lacks added to `missing`.
fn media_of(w: &WipeRow, table: &method::Table, unverified: bool, missing: &mut Vec<String>) -> Result<Media, Error> {
    if w.result != "success" {
        return Err(Error::NotSanitized { what: format!("drive {}", w.media_serial), result: format!("{} ({} line {})", w.result, w.file_name, w.line) });
    }
    let m = table.category(&w.technique, &w.media_type);
    let mut need = |field: &str, ok: bool| {
        if !ok {
            missing.push(format!("{field} of drive {} ({} line {})", if w.media_serial.is_empty() { "?" } else { &w.media_serial }, w.file_name, w.line));
        }
    };
    need(
        &format!("a verification of the sanitization ('{}' on record; --unverified issues the certificate marked NOT VERIFIED)", w.verification),
        unverified || verified(&w.verification, m),
    );
    need("media serial", !w.media_serial.trim().is_empty());
    need("media model", w.media_model.is_some());
    need("completion time", w.completed_at.is_some());
    need(&format!("a technique that sanitizes {} media ({} is '{m}' in the method table)", w.media_type, w.technique), m != "none");
    need("a known media type", w.media_type != "unknown" || matches!(m, "destroy"));
    Ok(Media {
        manufacturer: w.media_manufacturer.clone(),
        model: w.media_model.clone().unwrap_or_default(),
        serial: w.media_serial.clone(),
        media_type: w.media_type.clone(),
        capacity_bytes: w.capacity_bytes,
        category: m.to_string(),
        category_reported: w.nist_category.clone(),
        technique: w.technique.clone(),
        method: w.method_raw.clone(),
        tool: w.tool.clone(),
        tool_version: w.tool_version.clone(),
        vendor: w.vendor.clone(),
        passes: w.passes,
        verification: w.verification.clone(),
        result: w.result.clone(),
        started_at: w.started_at.clone(),
        completed_at: w.completed_at.clone().unwrap_or_default(),
        source: SourceRef {
            source: w.source.clone(),
            file: w.file_name.clone(),
            file_sha256: w.file_sha256.clone(),
            line: w.line,
            record_sha256: w.raw_sha256.clone(),
        },
    })
}

/// Who signs, as they declared themselves, and when (RFC 3339): recorded in each signature.
#[derive(Debug, Clone)]
pub struct Signer {
    pub name: String,
    pub signed_at: String,
}

/// A named signature: its fields first, then the signature over what `message` makes of them.
fn named_signature(role: Role, key: &SecretKey, who: &Signer, message: &dyn Fn(&Signature) -> Vec<u8>) -> Signature {
    let p = key.public();
    let mut s = Signature {
        role,
        key_id: p.key_id(),
        public_key: p.raw_hex(),
        signature: String::new(),
        name: Some(who.name.clone()),
        signed_at: Some(who.signed_at.clone()),
    };
    s.signature = hex::encode(key.sign(&message(&s)));
    s
}

impl Certificate {
    /// The performer signs the record (through its hash), their name and the signing time.
    pub fn sign(&mut self, key: &SecretKey, who: &Signer) -> Result<(), Error> {
        if self.verifier_signature.is_some() {
            return Err(Error::Order(format!("{} is already countersigned: signing again would void the countersignature", self.record.id)));
        }
        let bytes = canonical(&self.record);
        self.record_sha256 = hex::encode(Sha256::digest(&bytes));
        let sha = self.record_sha256.clone();
        self.performer_signature = Some(named_signature(Role::Performer, key, who, &|s| record::performer_message(&bytes, &sha, s)));
        // A timestamp of an earlier performer signature covers bytes no longer here.
        self.timestamps.retain(|t| t.over != record::Over::PerformerSignature);
        Ok(())
    }

    /// A second, independent person countersigns the record hash and the performer's signature,
    /// with their own name and signing time.
    pub fn countersign(&mut self, key: &SecretKey, who: &Signer) -> Result<(), Error> {
        let Some(p) = &self.performer_signature else {
            return Err(Error::Order(format!("{} has no performer signature yet: run `evident certificate sign` first", self.record.id)));
        };
        if p.key_id == key.public().key_id() {
            return Err(Error::Order(format!("{} was signed by key {}: the countersignature must come from another person's key", self.record.id, p.key_id)));
        }
        let (sha, performer) = (self.record_sha256.clone(), p.clone());
        self.verifier_signature = Some(named_signature(Role::Verifier, key, who, &|s| record::verifier_message(&sha, &performer, s)));
        self.timestamps.retain(|t| t.over != record::Over::VerifierSignature);
        Ok(())
    }
}

impl Certificate {
    /// Reads a certificate file, naming the file, line and column of what is wrong.
    pub fn load(path: &std::path::Path) -> Result<Certificate, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::File { path: path.display().to_string(), message: e.to_string() })?;
        Certificate::from_slice(&bytes).map_err(|message| Error::File { path: path.display().to_string(), message })
    }

    /// Writes the file atomically (temporary file, then rename), so a crash leaves the old one.
    pub fn save(&self, path: &std::path::Path) -> Result<(), Error> {
        let err = |e: std::io::Error| Error::File { path: path.display().to_string(), message: e.to_string() };
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, self.to_bytes()).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }

    /// What the store keeps of it.
    pub fn stored(&self) -> crate::store::StoredCertificate {
        crate::store::StoredCertificate {
            id: self.record.id.clone(),
            record_sha256: self.record_sha256.clone(),
            date: self.record.date.clone(),
            signed: self.performer_signature.is_some(),
            countersigned: self.verifier_signature.is_some(),
            body: self.to_bytes(),
        }
    }
}

/// Keeps certificates in the store (new ones, or newly signed versions of stored ones).
pub fn keep(store: &mut Store, certs: &[Certificate]) -> Result<(), Error> {
    Ok(store.put_certificates(&certs.iter().map(Certificate::stored).collect::<Vec<_>>())?)
}

/// What `import` did with one file.
#[derive(Debug, serde::Serialize)]
pub struct Imported {
    pub file: String,
    pub id: String,
    /// `added signatures`, or `already in the store`.
    pub outcome: &'static str,
    pub signed: bool,
    pub countersigned: bool,
}

/// Brings signed or countersigned files back into the store (signed on another machine): each
/// must be a certificate the store already holds — the same record, every stored signature kept
/// byte for byte — with signatures that verify over it. All or none: one file that does not
/// extend what the store holds, and nothing is stored.
pub fn import(store: &mut Store, files: &[std::path::PathBuf]) -> Result<Vec<Imported>, Error> {
    let held: std::collections::BTreeMap<String, crate::store::StoredCertificate> = store.certificates()?.into_iter().map(|c| (c.id.clone(), c)).collect();
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let mut take = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let c = match Certificate::load(f) {
            Ok(c) => c,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        match extends(&c, held.get(&c.record.id)) {
            Err(why) => problems.push(format!("{name}: {why}")),
            Ok(added) => {
                let (signed, countersigned) = (c.performer_signature.is_some(), c.verifier_signature.is_some());
                out.push(Imported {
                    file: name,
                    id: c.record.id.clone(),
                    outcome: if added { "added signatures" } else { "already in the store" },
                    signed,
                    countersigned,
                });
                if added {
                    take.push(c);
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::NotImported(problems));
    }
    keep(store, &take)?;
    Ok(out)
}

/// Whether `c` is the stored certificate with signatures added (true), the same (false), or
/// neither (why).
fn extends(c: &Certificate, held: Option<&crate::store::StoredCertificate>) -> Result<bool, String> {
    let Some(held) = held else {
        return Err(format!("certificate {} is not in this store (import brings back files this store's `certificate new` made)", c.record.id));
    };
    renderable(c, true)?;
    let old = Certificate::from_slice(&held.body)?;
    if old.record_sha256 != c.record_sha256 || old.record != c.record {
        return Err(format!(
            "certificate {} holds another record than the store's (record sha256 {} here, {} in the store)",
            c.record.id, c.record_sha256, old.record_sha256
        ));
    }
    for (kept, role) in [(&old.performer_signature, "performer signature"), (&old.verifier_signature, "countersignature")] {
        let mine = if role == "performer signature" { &c.performer_signature } else { &c.verifier_signature };
        if kept.is_some() && kept != mine {
            return Err(format!("certificate {}: the store's {role} is missing or different here (a file never drops or replaces a signature)", c.record.id));
        }
    }
    Ok(c.performer_signature != old.performer_signature || c.verifier_signature != old.verifier_signature)
}

/// The certificate files named: files as given, directories as their *.json files, sorted.
pub fn files(paths: &[std::path::PathBuf]) -> Result<Vec<std::path::PathBuf>, Error> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| Error::File { path: p.display().to_string(), message: e.to_string() })?;
            let mut found: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|f| f.extension().is_some_and(|x| x == "json")).collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Runs `f` over `items` on every core; the results in order, or the first error in order.
///
/// Each thread takes the next item when it is done with one: with a fixed half for each of two
/// threads, the one that ran slower set the pace, and rendering took a fifth longer. After an
/// error no item is started, but every earlier one was, so the error reported is the first.
pub(crate) fn parallel<T: Sync, R: Send>(items: &[T], f: &(dyn Fn(&T) -> Result<R, Error> + Sync)) -> Result<Vec<R>, Error> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len().max(1));
    let (next, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
    let work = || {
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            let r = f(item);
            failed.fetch_or(r.is_err(), Ordering::Relaxed);
            done.push((i, r));
        }
        done
    };
    let mut results: Vec<(usize, Result<R, Error>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|_| vec![(0, Err(Error::Order("a worker thread panicked".into())))])).collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Writes each certificate to `dir/ID.json` on every core. An existing file with other content
/// stops everything before a byte is written: certificates are never overwritten.
pub fn write_all(certs: &[Certificate], dir: &std::path::Path, commit: &mut dyn FnMut() -> Result<(), Error>) -> Result<Vec<std::path::PathBuf>, Error> {
    let paths: Vec<std::path::PathBuf> = certs.iter().map(|c| dir.join(format!("{}.json", c.record.id))).collect();
    for (c, p) in certs.iter().zip(&paths) {
        if std::fs::read(p).is_ok_and(|old| old != c.to_bytes()) {
            return Err(Error::File { path: p.display().to_string(), message: "exists with other content; nothing was written (certificates are never overwritten: choose another --out, or remove the old file if it was never signed)".into() });
        }
    }
    // All or none, as signing: beside themselves first, then `commit` (the store), then renamed.
    save_all(certs, &paths, commit)?;
    Ok(paths)
}

/// Signs (or countersigns) certificate files in place: all are loaded and signed in memory
/// first, so one bad file stops the batch with nothing changed. `tick` runs once per file.
pub fn sign_files(files: &[std::path::PathBuf], key: &SecretKey, who: &Signer, counter: bool, tick: &(dyn Fn() + Sync)) -> Result<Vec<Certificate>, Error> {
    let signed = sign_all(files, key, who, counter, tick)?;
    save_all(&signed, files, &mut || Ok(()))?;
    Ok(signed)
}

/// Signs (or countersigns) every file in memory; nothing is written.
pub fn sign_all(files: &[std::path::PathBuf], key: &SecretKey, who: &Signer, counter: bool, tick: &(dyn Fn() + Sync)) -> Result<Vec<Certificate>, Error> {
    parallel(files, &|f| {
        let mut c = Certificate::load(f)?;
        let r = if counter { c.countersign(key, who) } else { c.sign(key, who) };
        r.map_err(|e| Error::File { path: f.display().to_string(), message: e.to_string() })?;
        tick();
        Ok(c)
    })
}

/// Writes every certificate over its file, all or none: each goes to a temporary file beside
/// it first, then `commit` runs (the store keeping them), and only then is each renamed into
/// place. A failure before the renames leaves every file and the store as they were.
pub fn save_all(certs: &[Certificate], files: &[std::path::PathBuf], commit: &mut dyn FnMut() -> Result<(), Error>) -> Result<(), Error> {
    let tmp = |f: &std::path::Path| f.with_extension("json.signing");
    let pairs: Vec<(&Certificate, &std::path::PathBuf)> = certs.iter().zip(files).collect();
    let written = parallel(&pairs, &|(c, f)| {
        std::fs::write(tmp(f), c.to_bytes()).map_err(|e| Error::File { path: tmp(f).display().to_string(), message: e.to_string() })
    });
    let clean = || files.iter().for_each(|f| drop(std::fs::remove_file(tmp(f))));
    if let Err(e) = written.and_then(|_| commit()) {
        clean();
        return Err(e);
    }
    for f in files {
        std::fs::rename(tmp(f), f).map_err(|e| Error::File { path: f.display().to_string(), message: e.to_string() })?;
    }
    Ok(())
}

/// Whether a certificate may be rendered: its record hash matches, every signature it carries
/// verifies (a PDF must never look signed over a record nobody signed), and it is signed unless
/// a draft is asked for. Trust in the keys is the auditor's `verify`.
pub fn renderable(c: &Certificate, draft: bool) -> Result<(), String> {
    use crate::check::Code;
    let (checks, _) = record::verify(c, &crate::sign::TrustList::default());
    let refused: Vec<String> = checks
        .iter()
        .filter(|k| {
            !k.ok
                && matches!(
                    k.code,
                    Code::RecordHashMismatch
                        | Code::SignatureInvalid
                        | Code::CountersignatureInvalid
                        | Code::CountersignerNotIndependent
                        | Code::KeyMismatch
                        | Code::KeyInvalid
                        | Code::EncodingNotCanonical
                        | Code::FormatUnsupported
                )
        })
        .map(|k| format!("{}: {}", k.code.as_str(), k.detail))
        .collect();
    if !refused.is_empty() {
        return Err(format!("certificate {} does not verify, so it is not rendered: {}", c.record.id, refused.join("; ")));
    }
    if c.performer_signature.is_none() && !draft {
        return Err(format!("certificate {} is not signed; sign it first, or render a draft with --draft", c.record.id));
    }
    Ok(())
}

/// Renders many certificates to their PDF paths on every core (a draft: unsigned, watermarked).
/// `tick` runs once per PDF.
pub fn render_files(jobs: &[(Certificate, std::path::PathBuf)], draft: bool, tick: &(dyn Fn() + Sync)) -> Result<(), Error> {
    parallel(jobs, &|(c, out)| {
        let fail = |message: String| Error::File { path: out.display().to_string(), message };
        let bytes = if draft && c.performer_signature.is_none() { pdf::render_draft(c) } else { pdf::render(c) };
        let bytes = bytes.map_err(|e| fail(format!("certificate {}: {e}", c.record.id)))?;
        std::fs::write(out, bytes).map_err(|e| fail(e.to_string()))?;
        tick();
        Ok(())
    })?;
    Ok(())
}
