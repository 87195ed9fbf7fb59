//! The signed certificate format (`evident-certificate/1`): the record, its canonical bytes, the
//! two signatures, and the verification of a certificate against a trust list. A leaf: it knows
//! nothing of the store, the view or how records are built, so `verify` depends on it alone.

use crate::check::{Check, Code};
use crate::sign::{PublicKey, Role, Standing, TrustList, Trusted};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// The certificate this one corrects (its id), and why: that one stands withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<String>,
}

pub const REVOCATION_FORMAT: &str = "evident-revocation/1";

/// A certificate withdrawn: which (id and the record hash it had), why and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    pub format: String,
    pub certificate: String,
    pub record_sha256: String,
    pub reason: String,
    pub revoked_at: String,
}

/// The revocation file: the revocation and the signature of a performer's or verifier's key over
/// the canonical `{revocation, signer}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationFile {
    pub revocation: Revocation,
    pub signature: Signature,
}

impl RevocationFile {
    /// What the signature covers.
    pub fn message(revocation: &Revocation, sig: &Signature) -> Vec<u8> {
        jcs(&serde_json::json!({"revocation": revocation, "signer": sig.signer()}))
    }

    /// The file bytes: canonical JSON and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = jcs(self);
        b.push(b'\n');
        b
    }

    /// Whether the signature verifies and its key is trusted as a performer's or verifier's
    /// under the name it records: the signer, or why not.
    pub fn check(&self, trust: &TrustList) -> Result<Trusted, String> {
        let s = &self.signature;
        if self.revocation.format != REVOCATION_FORMAT {
            return Err(format!("format '{}'", self.revocation.format));
        }
        let key = PublicKey::from_raw_hex(&s.public_key).ok_or("the key is not an Ed25519 key")?;
        let sig = hex::decode(&s.signature).map_err(|_| "the signature is not hex")?;
        if !s.named() || !key.verify(&Self::message(&self.revocation, s), &sig) {
            return Err(format!("the signature by key {} does not verify", key.key_id()));
        }
        let t = [Role::Performer, Role::Verifier]
            .into_iter()
            .find_map(|r| match trust.standing(&key, r) {
                Standing::Trusted(t) if t.role == s.role => Some(t.clone()),
                _ => None,
            })
            .ok_or_else(|| format!("key {} is not trusted as a performer's or verifier's", key.key_id()))?;
        match s.name.as_deref() {
            Some(n) if same_person(n, &t.name) => Ok(t),
            _ => Err(format!("the revocation names its signer otherwise than the trust list ({})", t.name)),
        }
    }
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
    /// The signer's name as the key holder declared it (their trust line), and when they signed
    /// (RFC 3339): both covered by the signature. Signatures made before evident recorded them
    /// have neither, and sign the bytes they always did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
}

impl Signature {
    /// Whether the signature names its signer and time (what it then signs includes them).
    pub fn named(&self) -> bool {
        self.name.is_some() || self.signed_at.is_some()
    }

    /// The signer block a named signature covers.
    fn signer(&self) -> serde_json::Value {
        serde_json::json!({"key_id": self.key_id, "name": self.name, "role": self.role, "signed_at": self.signed_at})
    }
}

/// What the performer's signature covers: the canonical record (unnamed signatures), or the
/// canonical `{record_sha256, signer}` (named: the record through its hash, the name, the time).
pub fn performer_message(record_bytes: &[u8], record_sha256: &str, sig: &Signature) -> Vec<u8> {
    if sig.named() { jcs(&serde_json::json!({"record_sha256": record_sha256, "signer": sig.signer()})) } else { record_bytes.to_vec() }
}

/// What the verifier's countersignature covers: the record hash and the performer's signature
/// (named or not), and for a named countersignature its own signer block.
pub fn verifier_message(record_sha256: &str, performer: &Signature, sig: &Signature) -> Vec<u8> {
    if sig.named() {
        jcs(&serde_json::json!({"performer_signature": performer, "record_sha256": record_sha256, "signer": sig.signer()}))
    } else {
        countersigned_bytes(record_sha256, performer)
    }
}

/// The certificate file: the record and its signatures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub record: Record,
    pub record_sha256: String,
    pub performer_signature: Option<Signature>,
    pub verifier_signature: Option<Signature>,
    /// RFC 3161 replies over a signature's raw 64 bytes: a TSA's word on when it existed.
    /// Outside what is signed (each covers a signature, which covers the record).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timestamps: Vec<TimeStamp>,
}

/// Which signature a timestamp covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Over {
    PerformerSignature,
    VerifierSignature,
}

/// One RFC 3161 reply (the TSA's DER TimeStampResp, hex) over the raw bytes of a signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeStamp {
    pub over: Over,
    pub reply: String,
}

impl Certificate {
    /// The raw bytes of the signature a timestamp covers, if the certificate has it.
    pub fn signature_bytes(&self, over: Over) -> Option<Vec<u8>> {
        let s = match over {
            Over::PerformerSignature => self.performer_signature.as_ref(),
            Over::VerifierSignature => self.verifier_signature.as_ref(),
        }?;
        hex::decode(&s.signature).ok()
    }
}

/// Whether a medium's sanitization was verified in a way that counts for its category: a read
/// back (last pass, all passes, full, sample), or looking at what was destroyed.
pub fn verified(verification: &str, category: &str) -> bool {
    match verification {
        "last_pass" | "all_passes" | "full" | "sample" => true,
        "visual" => category == "destroy",
        _ => false,
    }
}

/// RFC 8785 canonical bytes of a value of this module: records, signatures, revocations and the
/// messages built from them. They hold strings, integers, booleans, enums of names and
/// string-keyed maps only, which JCS always encodes (it refuses only non-finite floats, and
/// these types have no floats), so the expect cannot fire, whatever bytes a file was parsed from.
pub(crate) fn jcs<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    serde_jcs::to_vec(v).expect("JCS encodes every value of these types")
}

/// The canonical bytes of a record (RFC 8785).
pub fn canonical(record: &Record) -> Vec<u8> {
    jcs(record)
}

/// What the verifier signs: the record hash and the performer's signature, canonical.
pub(crate) fn countersigned_bytes(record_sha256: &str, performer: &Signature) -> Vec<u8> {
    jcs(&serde_json::json!({"record_sha256": record_sha256, "performer_signature": performer}))
}

impl Certificate {
    /// The file bytes: canonical JSON with a newline (stable, so the PDF can embed it exactly).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = jcs(self);
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

    pub fn from_slice(bytes: &[u8]) -> Result<Certificate, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("line {} column {}: not an evident certificate: {e}", e.line(), e.column()))
    }

    /// What DISP-03 needs of a certificate without a trust list: are the record hash and both
    /// signatures valid, and by two different keys. Whether the keys are trusted, in their
    /// roles, is the auditor's `evident verify`.
    pub fn signature_status(&self) -> SignatureStatus {
        let (checks, _) = verify(self, &TrustList::default());
        let ok = |code: Code| checks.iter().any(|k| k.code == code && k.ok);
        let hash = ok(Code::RecordHash);
        SignatureStatus {
            signed: hash && ok(Code::Signature),
            countersigned: hash && ok(Code::Countersignature),
            independent: !checks.iter().any(|k| k.code == Code::CountersignerNotIndependent),
        }
    }
}

/// The signatures of a certificate, checked without a trust list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureStatus {
    pub signed: bool,
    pub countersigned: bool,
    pub independent: bool,
}

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
    let mut push = |code: Code, ok: bool, detail: String| checks.push(Check { code, ok, detail });
    let bytes = canonical(&cert.record);
    let sha = hex::encode(Sha256::digest(&bytes));
    push(if sha == cert.record_sha256 { Code::RecordHash } else { Code::RecordHashMismatch }, sha == cert.record_sha256, format!("record sha256 {sha}"));
    if cert.record.format != FORMAT {
        push(Code::FormatUnsupported, false, format!("record format '{}'", cert.record.format));
    }
    check_encoding(cert, &mut push);
    match &cert.performer_signature {
        None => push(Code::SignatureMissing, false, "no performer signature".into()),
        Some(p) => {
            let msg = performer_message(&bytes, &cert.record_sha256, p);
            let ok = PublicKey::from_raw_hex(&p.public_key).is_some_and(|k| hex::decode(&p.signature).is_ok_and(|s| k.verify(&msg, &s)));
            push(if ok { Code::Signature } else { Code::SignatureInvalid }, ok, format!("performer signature over the record by key {}", p.key_id));
            if p.role != Role::Performer {
                push(Code::KeyWrongRole, false, format!("the first signature claims role {}", p.role));
            }
            if let Some(t) = trusted_as(trust, p, Role::Performer, &mut push) {
                signers.push(t);
            }
        }
    }
    match (&cert.verifier_signature, &cert.performer_signature) {
        (None, _) => push(Code::CountersignatureMissing, false, "no verifier countersignature".into()),
        (Some(_), None) => {}
        (Some(v), Some(p)) => check_countersignature(cert, v, p, trust, &mut signers, &mut push),
    }
    (checks, signers)
}

/// One encoding only: hex is lowercase and of its exact length, so two different files can
/// never verify as the same certificate, and keys are compared as keys, not as text.
fn check_encoding(cert: &Certificate, push: &mut dyn FnMut(Code, bool, String)) {
    let hex_ok = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !hex_ok(&cert.record_sha256, 64) {
        push(Code::EncodingNotCanonical, false, "record_sha256 is not 64 lowercase hex digits".into());
    }
    for sig in [&cert.performer_signature, &cert.verifier_signature].into_iter().flatten() {
        if !hex_ok(&sig.public_key, 64) || !hex_ok(&sig.signature, 128) || !hex_ok(&sig.key_id, sig.key_id.len().max(1)) {
            push(Code::EncodingNotCanonical, false, format!("the {} signature's key, key id or signature is not lowercase hex of its exact length", sig.role));
        }
    }
}

/// The countersignature over the record hash and the performer's signature, its role, and that
/// it comes from another key and another person.
fn check_countersignature(
    cert: &Certificate,
    v: &Signature,
    p: &Signature,
    trust: &TrustList,
    signers: &mut Vec<Trusted>,
    push: &mut dyn FnMut(Code, bool, String),
) {
    let msg = verifier_message(&cert.record_sha256, p, v);
    let ok = PublicKey::from_raw_hex(&v.public_key).is_some_and(|k| hex::decode(&v.signature).is_ok_and(|s| k.verify(&msg, &s)));
    push(
        if ok { Code::Countersignature } else { Code::CountersignatureInvalid },
        ok,
        format!("verifier signature over the record hash and the performer's signature by key {}", v.key_id),
    );
    if v.role != Role::Verifier {
        push(Code::KeyWrongRole, false, format!("the countersignature claims role {}", v.role));
    }
    // The same key written another way (case, a different key id) is still the same key.
    let same_key = match (PublicKey::from_raw_hex(&v.public_key), PublicKey::from_raw_hex(&p.public_key)) {
        (Some(a), Some(b)) => a.key_id() == b.key_id(),
        _ => v.public_key.eq_ignore_ascii_case(&p.public_key),
    };
    if same_key {
        push(Code::CountersignerNotIndependent, false, format!("key {} signed both as performer and as verifier", v.key_id));
    }
    if let Some(t) = trusted_as(trust, v, Role::Verifier, push) {
        if signers.iter().any(|s| same_person(&s.name, &t.name)) {
            push(Code::CountersignerNotIndependent, false, format!("{} signed both as performer and as verifier", t.name));
        }
        signers.push(t);
    }
}

/// Whether a signature's key is valid, matches its key id, and is trusted in the role it signed in.
fn trusted_as(trust: &TrustList, sig: &Signature, want: Role, push: &mut dyn FnMut(Code, bool, String)) -> Option<Trusted> {
    let Some(key) = PublicKey::from_raw_hex(&sig.public_key) else {
        push(Code::KeyInvalid, false, format!("{} key is not an Ed25519 key", sig.role));
        return None;
    };
    if key.key_id() != sig.key_id {
        push(Code::KeyMismatch, false, format!("{} signature names key {} but carries key {}", sig.role, sig.key_id, key.key_id()));
    }
    if sig.named() {
        let at_ok = sig.signed_at.as_deref().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok());
        if sig.name.as_deref().is_none_or(|n| n.trim().is_empty()) || !at_ok {
            push(Code::CertificateInvalid, false, format!("the {} signature names its signer but lacks a name or an RFC 3339 signing time", sig.role));
        }
    }
    match trust.standing(&key, want) {
        Standing::Trusted(t) => {
            match sig.name.as_deref() {
                Some(n) if !same_person(n, &t.name) => push(
                    Code::SignerNameMismatch,
                    false,
                    format!("the {want} signature says it was signed by {n:?}; the trust list names key {} {:?}", t.key_id, t.name),
                ),
                _ => push(Code::KeyTrusted, true, format!("{} key {} = {}", want, t.key_id, t.name)),
            }
            Some(t.clone())
        }
        Standing::Untrusted => {
            push(Code::KeyUntrusted, false, format!("{} key {} is not in the trust list", want, key.key_id()));
            None
        }
        Standing::OtherRoles { name, roles } => {
            push(Code::KeyWrongRole, false, format!("key {} ({name}) is trusted as {}, not as {want}", key.key_id(), roles.join(", ")));
            None
        }
    }
}
