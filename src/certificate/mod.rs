//! NIST SP 800-88 certificates of sanitization (DESIGN §7): a canonical JSON record per drive,
//! asset or lot, built from stored wipe records and bound to them by hash; the performer's
//! signature, the verifier's countersignature over record and first signature; a PDF rendering
//! that embeds the signed JSON.

pub mod method;
pub mod pdf;

use crate::sign::{PublicKey, Role, SecretKey, Standing, TrustList, Trusted};
use crate::store::Store;
use crate::store::query::WipeRow;
use crate::view::AssetView;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

pub const FORMAT: &str = "evident-certificate/1";

/// The record both people sign: Rev. 1 Appendix G fields in Rev. 2 terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub format: String,
    pub id: String,
    /// drive, asset or lot.
    pub scope: String,
    pub lot: Option<String>,
    pub organisation: String,
    /// The person who performed the sanitization (Appendix G "Person performing sanitization").
    pub performer: String,
    pub classification: String,
    /// Where the media went (reuse, recycling, destruction vendor, …).
    pub destination: String,
    pub asset: Option<AssetRef>,
    pub media: Vec<Media>,
    /// The asset's encryption state at its last MDM check-in before disposal.
    pub encryption_before_disposal: Option<EncryptionState>,
    /// The newest completion time among the media: the certificate's date.
    pub date: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetRef {
    pub key: String,
    pub asset_tag: Option<String>,
    pub name: Option<String>,
    pub model: Option<String>,
    pub lifecycle: Option<String>,
    /// `source:file:line` of the register and MDM records of the asset.
    pub records: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionState {
    pub state: String,
    pub source: String,
    pub last_checkin_at: Option<String>,
}

/// One sanitized medium.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    pub manufacturer: Option<String>,
    pub model: String,
    pub serial: String,
    pub media_type: String,
    pub capacity_bytes: Option<i64>,
    /// NIST SP 800-88 category from evident's method table (docs/certificates.md), not the tool's claim.
    pub category: String,
    /// What the source record said the category was.
    pub category_reported: String,
    pub technique: String,
    pub method: Option<String>,
    pub tool: String,
    pub tool_version: Option<String>,
    /// The ITAD vendor or service that sanitized it, when not done in house.
    pub vendor: Option<String>,
    pub passes: Option<i64>,
    pub verification: String,
    pub result: String,
    pub started_at: Option<String>,
    pub completed_at: String,
    pub source: SourceRef,
}

/// The wipe record a medium's entry was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    pub source: String,
    pub file: String,
    pub file_sha256: String,
    pub line: i64,
    /// SHA-256 of the record's raw bytes in the file.
    pub record_sha256: String,
}

/// One signature in the envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub role: Role,
    pub key_id: String,
    /// Raw Ed25519 public key, hex.
    pub public_key: String,
    /// Hex of the 64-byte signature.
    pub signature: String,
}

/// The certificate file: the record and its signatures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub record: Record,
    pub record_sha256: String,
    pub performer_signature: Option<Signature>,
    pub verifier_signature: Option<Signature>,
}

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

/// The canonical bytes of a record (RFC 8785).
pub fn canonical(record: &Record) -> Vec<u8> {
    serde_jcs::to_vec(record).expect("a record serialises")
}

/// What the verifier signs: the record hash and the performer's signature, canonical.
fn countersigned_bytes(record_sha256: &str, performer: &Signature) -> Vec<u8> {
    serde_jcs::to_vec(&serde_json::json!({"record_sha256": record_sha256, "performer_signature": performer})).expect("serialises")
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
        let i = self.by_key.get(w.host_serial_key.as_str()).filter(|_| !w.host_serial_key.is_empty()).or_else(|| self.by_drive.get(w.media_serial_key.as_str()))?;
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
    // A drive wiped twice: the newest record is the one that counts.
    let mut newest: BTreeMap<&str, &WipeRow> = BTreeMap::new();
    for w in &wipes {
        let e = newest.entry(w.media_serial_key.as_str()).or_insert(w);
        if w.completed_at >= e.completed_at {
            *e = w;
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
        take(&mut chosen, format!("asset {a}"), newest_list.iter().copied().filter(|w| view.is_some_and(|v| assets.of(w).is_some_and(|x| std::ptr::eq(x, v))) || (!w.host_serial_key.is_empty() && w.host_serial_key == k)).collect())?;
    }
    let mut seen = HashSet::new();
    chosen.retain(|w| seen.insert(w.id));
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
            Per::Asset => assets.of(w).map(|v| format!("asset {}", v.asset_tag.as_deref().unwrap_or(&v.key))).or_else(|| (!w.host_serial_key.is_empty()).then(|| format!("asset {}", w.host_serial_key))),
            Per::Lot => w.lot.as_ref().map(|l| format!("lot {l}")),
        };
        match key {
            Some(k) => groups.entry(k).or_default().push(w),
            None => problems.push(format!("drive {} ({} line {}) belongs to no {}", w.media_serial, w.file_name, w.line, if per == Per::Lot { "lot" } else { "asset" })),
        }
    }
    let table = issue.methods.clone().unwrap_or_else(method::Table::default_table);
    for (what, ws) in &groups {
        match build_one(what, per, ws, &assets, issue, &table) {
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

fn build_one(what: &str, per: Per, wipes: &[&WipeRow], assets: &Assets, issue: &Issue, table: &method::Table) -> Result<Certificate, Error> {
    let mut missing = Vec::new();
    let mut media = Vec::new();
    for w in wipes {
        if w.result != "success" {
            return Err(Error::NotSanitized { what: format!("drive {}", w.media_serial), result: format!("{} ({} line {})", w.result, w.file_name, w.line) });
        }
        let m = table.category(&w.technique, &w.media_type);
        let mut need = |field: &str, ok: bool| {
            if !ok {
                missing.push(format!("{field} of drive {} ({} line {})", if w.media_serial.is_empty() { "?" } else { &w.media_serial }, w.file_name, w.line));
            }
        };
        need("media serial", !w.media_serial.trim().is_empty());
        need("media model", w.media_model.is_some());
        need("completion time", w.completed_at.is_some());
        need(&format!("a technique that sanitizes {} media ({} is '{m}' in the method table)", w.media_type, w.technique), m != "none");
        need("a known media type", w.media_type != "unknown" || matches!(m, "destroy"));
        media.push(Media {
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
            source: SourceRef { source: w.source.clone(), file: w.file_name.clone(), file_sha256: w.file_sha256.clone(), line: w.line, record_sha256: w.raw_sha256.clone() },
        });
    }
    let first = wipes[0];
    // What the record says wins; the flags fill what it lacks (an nwipe log names no operator).
    let performer = first.operator.clone().or_else(|| first.vendor.clone()).or_else(|| issue.performer.clone());
    let organisation = first.organisation.clone().or_else(|| issue.organisation.clone());
    let at = format!("{} line {}", first.file_name, first.line);
    for (field, flag, v) in [("performer", "--performer", &performer), ("organisation", "--organisation", &organisation), ("classification", "--classification", &issue.classification), ("destination", "--destination", &issue.destination)] {
        if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
            missing.push(format!("{field}: {at} gives none; give {flag}"));
        }
    }
    if !missing.is_empty() {
        return Err(Error::Missing { what: what.to_string(), missing });
    }
    // The asset: through the host serial of the wipe, or the drive's host in the joined view.
    let view = wipes.iter().find_map(|w| assets.of(w)).filter(|v| !v.register.is_empty() || !v.enrollments.is_empty());
    let asset = view.map(|v| AssetRef { key: v.key.clone(), asset_tag: v.asset_tag.clone(), name: v.name.clone(), model: v.model.clone(), lifecycle: v.lifecycle.clone(), records: v.records.iter().filter(|r| !r.starts_with("nwipe") && !r.starts_with("itad")).cloned().collect::<std::collections::BTreeSet<_>>().into_iter().collect() });
    let encryption_before_disposal = view.and_then(|v| {
        let e = v.encryption.first()?;
        Some(EncryptionState { state: if v.encryption.iter().all(|x| x.state == "encrypted") { "encrypted".into() } else { e.state.clone() }, source: e.source.clone(), last_checkin_at: v.enrollments.iter().filter_map(|x| x.last_checkin_at.clone()).max() })
    });
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
    };
    let record_sha256 = hex::encode(Sha256::digest(canonical(&record)));
    Ok(Certificate { record, record_sha256, performer_signature: None, verifier_signature: None })
}

fn signature(role: Role, key: &SecretKey, msg: &[u8]) -> Signature {
    let p = key.public();
    Signature { role, key_id: p.key_id(), public_key: p.raw_hex(), signature: hex::encode(key.sign(msg)) }
}

impl Certificate {
    /// The performer signs the canonical record.
    pub fn sign(&mut self, key: &SecretKey) -> Result<(), Error> {
        if self.verifier_signature.is_some() {
            return Err(Error::Order(format!("{} is already countersigned: signing again would void the countersignature", self.record.id)));
        }
        let bytes = canonical(&self.record);
        self.record_sha256 = hex::encode(Sha256::digest(&bytes));
        self.performer_signature = Some(signature(Role::Performer, key, &bytes));
        Ok(())
    }

    /// A second, independent person countersigns the record hash and the performer's signature.
    pub fn countersign(&mut self, key: &SecretKey) -> Result<(), Error> {
        let Some(p) = &self.performer_signature else {
            return Err(Error::Order(format!("{} has no performer signature yet: run `evident certificate sign` first", self.record.id)));
        };
        if p.key_id == key.public().key_id() {
            return Err(Error::Order(format!("{} was signed by key {}: the countersignature must come from another person's key", self.record.id, p.key_id)));
        }
        let msg = countersigned_bytes(&self.record_sha256, p);
        self.verifier_signature = Some(signature(Role::Verifier, key, &msg));
        Ok(())
    }

    /// The file bytes: canonical JSON with a newline (stable, so the PDF can embed it exactly).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = serde_jcs::to_vec(self).expect("a certificate serialises");
        b.push(b'\n');
        b
    }

    /// Text of the QR code: id, record hash, and the key ids that signed.
    pub fn qr_text(&self) -> String {
        // Upper case only, so the QR code uses its dense alphanumeric mode: a smaller code.
        format!(
            "EVIDENT-COS/1:{}:SHA256:{}:PERFORMER:{}:VERIFIER:{}",
            self.record.id,
            self.record_sha256,
            self.performer_signature.as_ref().map_or("-", |s| s.key_id.as_str()),
            self.verifier_signature.as_ref().map_or("-", |s| s.key_id.as_str())
        )
        .to_uppercase()
    }
}

/// One verification check, as for packs.
pub type Check = crate::verify::Check;

/// Two trust-list names for one person: compared after Unicode compatibility folding, case
/// folding and collapsing whitespace ("Sam  Lee" and "sam lee" are one person).
fn same_person(a: &str, b: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    let norm = |s: &str| s.nfkc().collect::<String>().to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    norm(a) == norm(b)
}

/// Verifies a certificate: record hash, both signatures, the keys' trust and roles, and that
/// performer and verifier are different keys and people.
pub fn verify(cert: &Certificate, trust: &TrustList) -> (Vec<Check>, Vec<Trusted>) {
    let mut checks = Vec::new();
    let mut signers = Vec::new();
    let mut push = |code: &'static str, ok: bool, detail: String| checks.push(Check { code, ok, detail });
    let bytes = canonical(&cert.record);
    let sha = hex::encode(Sha256::digest(&bytes));
    push(if sha == cert.record_sha256 { "record-hash" } else { "record-hash-mismatch" }, sha == cert.record_sha256, format!("record sha256 {sha}"));
    if cert.record.format != FORMAT {
        push("format-unsupported", false, format!("record format '{}'", cert.record.format));
    }
    // One encoding only: hex is lowercase and of its exact length, so two different files can
    // never verify as the same certificate, and keys are compared as keys, not as text.
    let hex_ok = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !hex_ok(&cert.record_sha256, 64) {
        push("encoding-not-canonical", false, "record_sha256 is not 64 lowercase hex digits".into());
    }
    for sig in [&cert.performer_signature, &cert.verifier_signature].into_iter().flatten() {
        if !hex_ok(&sig.public_key, 64) || !hex_ok(&sig.signature, 128) || !hex_ok(&sig.key_id, sig.key_id.len().max(1)) {
            push("encoding-not-canonical", false, format!("the {} signature's key, key id or signature is not lowercase hex of its exact length", sig.role));
        }
    }
    let trusted_as = |sig: &Signature, want: Role, push: &mut dyn FnMut(&'static str, bool, String)| -> Option<Trusted> {
        let Some(key) = PublicKey::from_raw_hex(&sig.public_key) else {
            push("key-invalid", false, format!("{} key is not an Ed25519 key", sig.role));
            return None;
        };
        if key.key_id() != sig.key_id {
            push("key-mismatch", false, format!("{} signature names key {} but carries key {}", sig.role, sig.key_id, key.key_id()));
        }
        match trust.standing(&key, want) {
            Standing::Trusted(t) => {
                push("key-trusted", true, format!("{} key {} = {}", want, t.key_id, t.name));
                Some(t.clone())
            }
            Standing::Untrusted => {
                push("key-untrusted", false, format!("{} key {} is not in the trust list", want, key.key_id()));
                None
            }
            Standing::OtherRoles { name, roles } => {
                push("key-wrong-role", false, format!("key {} ({name}) is trusted as {}, not as {want}", key.key_id(), roles.join(", ")));
                None
            }
        }
    };
    match &cert.performer_signature {
        None => push("signature-missing", false, "no performer signature".into()),
        Some(p) => {
            let ok = PublicKey::from_raw_hex(&p.public_key).is_some_and(|k| hex::decode(&p.signature).is_ok_and(|s| k.verify(&bytes, &s)));
            push(if ok { "signature" } else { "signature-invalid" }, ok, format!("performer signature over the record by key {}", p.key_id));
            if p.role != Role::Performer {
                push("key-wrong-role", false, format!("the first signature claims role {}", p.role));
            }
            if let Some(t) = trusted_as(p, Role::Performer, &mut push) {
                signers.push(t);
            }
        }
    }
    match (&cert.verifier_signature, &cert.performer_signature) {
        (None, _) => push("countersignature-missing", false, "no verifier countersignature".into()),
        (Some(_), None) => {}
        (Some(v), Some(p)) => {
            let msg = countersigned_bytes(&cert.record_sha256, p);
            let ok = PublicKey::from_raw_hex(&v.public_key).is_some_and(|k| hex::decode(&v.signature).is_ok_and(|s| k.verify(&msg, &s)));
            push(if ok { "countersignature" } else { "countersignature-invalid" }, ok, format!("verifier signature over the record hash and the performer's signature by key {}", v.key_id));
            if v.role != Role::Verifier {
                push("key-wrong-role", false, format!("the countersignature claims role {}", v.role));
            }
            // The same key written another way (case, a different key id) is still the same key.
            let same_key = match (PublicKey::from_raw_hex(&v.public_key), PublicKey::from_raw_hex(&p.public_key)) {
                (Some(a), Some(b)) => a.key_id() == b.key_id(),
                _ => v.public_key.eq_ignore_ascii_case(&p.public_key),
            };
            if same_key {
                push("countersigner-not-independent", false, format!("key {} signed both as performer and as verifier", v.key_id));
            }
            if let Some(t) = trusted_as(v, Role::Verifier, &mut push) {
                if signers.iter().any(|s| same_person(&s.name, &t.name)) {
                    push("countersigner-not-independent", false, format!("{} signed both as performer and as verifier", t.name));
                }
                signers.push(t);
            }
        }
    }
    (checks, signers)
}

impl Certificate {
    /// Reads a certificate file, naming the file, line and column of what is wrong.
    pub fn load(path: &std::path::Path) -> Result<Certificate, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::File { path: path.display().to_string(), message: e.to_string() })?;
        Certificate::from_slice(&bytes).map_err(|message| Error::File { path: path.display().to_string(), message })
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Certificate, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("line {} column {}: not an evident certificate: {e}", e.line(), e.column()))
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

/// Runs `f` over `items` on every core, in order; the first error wins.
pub(crate) fn parallel<T: Sync, R: Send>(items: &[T], f: &(dyn Fn(&T) -> Result<R, Error> + Sync)) -> Result<Vec<R>, Error> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<R>, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = items.chunks(chunk).map(|part| s.spawn(move || part.iter().map(f).collect::<Result<Vec<R>, Error>>())).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(Error::Order("a worker thread panicked".into())))).collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// Writes each certificate to `dir/ID.json` on every core. An existing file with other content
/// stops everything before a byte is written: certificates are never overwritten.
pub fn write_all(certs: &[Certificate], dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, Error> {
    let paths: Vec<std::path::PathBuf> = certs.iter().map(|c| dir.join(format!("{}.json", c.record.id))).collect();
    for (c, p) in certs.iter().zip(&paths) {
        if std::fs::read(p).is_ok_and(|old| old != c.to_bytes()) {
            return Err(Error::File { path: p.display().to_string(), message: "exists with other content; nothing was written (certificates are never overwritten: choose another --out, or remove the old file if it was never signed)".into() });
        }
    }
    let pairs: Vec<(&Certificate, &std::path::PathBuf)> = certs.iter().zip(&paths).collect();
    parallel(&pairs, &|(c, p)| c.save(p))?;
    Ok(paths)
}

/// Signs (or countersigns) certificate files in place: all are loaded and signed in memory
/// first, so one bad file stops the batch with nothing changed. `tick` runs once per file.
pub fn sign_files(files: &[std::path::PathBuf], key: &SecretKey, counter: bool, tick: &(dyn Fn() + Sync)) -> Result<Vec<Certificate>, Error> {
    let signed = parallel(files, &|f| {
        let mut c = Certificate::load(f)?;
        let r = if counter { c.countersign(key) } else { c.sign(key) };
        r.map_err(|e| Error::File { path: f.display().to_string(), message: e.to_string() })?;
        tick();
        Ok(c)
    })?;
    let pairs: Vec<(&Certificate, &std::path::PathBuf)> = signed.iter().zip(files).collect();
    parallel(&pairs, &|(c, f)| c.save(f))?;
    Ok(signed)
}
