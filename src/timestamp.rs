//! RFC 3161 time-stamp tokens: the request evident sends a Time-Stamping Authority, the checks
//! on its reply before anything is written, and the offline verification of a token against the
//! auditor's TSA roots (the CMS signature, the certificate chain, the critical timeStamping EKU,
//! the imprint). A leaf that `verify` uses; the network is in `fetch` alone.

use chrono::{DateTime, NaiveDateTime, Utc};
use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Encode, SliceReader, Tag, TagNumber, Tagged};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;

const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// The largest reply or token read: a genuine one with its certificates is a few kilobytes.
pub const MAX_BYTES: usize = 256 << 10;

/// Why a token does not verify, by the check it fails.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Not a time-stamp token, or its signature does not verify.
    Invalid(String),
    /// Signed, but not by a TSA certificate that chains to a given root with the timeStamping EKU.
    Untrusted(String),
    /// The token is over other bytes (or answers another request).
    Mismatch(String),
}

impl Failure {
    /// The verification code of this failure.
    pub fn code(&self) -> crate::check::Code {
        use crate::check::Code;
        match self {
            Failure::Invalid(_) => Code::TimestampInvalid,
            Failure::Untrusted(_) => Code::TimestampUntrusted,
            Failure::Mismatch(_) => Code::TimestampMismatch,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Invalid(s) | Failure::Untrusted(s) | Failure::Mismatch(s) => f.write_str(s),
        }
    }
}

/// What a token says.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    pub gen_time: DateTime<Utc>,
    /// The SHA-256 the TSA signed the time with.
    pub imprint: Vec<u8>,
    pub nonce: Option<Vec<u8>>,
    pub serial: String,
    /// The TSA certificate's subject.
    pub tsa: String,
}

fn invalid(s: impl Into<String>) -> Failure {
    Failure::Invalid(s.into())
}

/// The elements of a constructed value (a SEQUENCE, a SET, an explicit tag).
fn elements(value: &[u8]) -> Result<Vec<AnyRef<'_>>, Failure> {
    let mut r = SliceReader::new(value).map_err(|e| invalid(format!("not DER: {e}")))?;
    let mut out = Vec::new();
    while !der::Reader::is_finished(&r) {
        out.push(der::Reader::decode::<AnyRef>(&mut r).map_err(|e| invalid(format!("not DER: {e}")))?);
    }
    Ok(out)
}

fn any(bytes: &[u8]) -> Result<AnyRef<'_>, Failure> {
    AnyRef::from_der(bytes).map_err(|e| invalid(format!("not DER: {e}")))
}

fn oid(a: &AnyRef) -> Result<ObjectIdentifier, Failure> {
    a.decode_as::<ObjectIdentifier>().map_err(|e| invalid(format!("expected an OID: {e}")))
}

fn context(n: u32) -> Tag {
    Tag::ContextSpecific { constructed: true, number: TagNumber(n) }
}

/// A minimal unsigned big-endian integer's bytes (leading zeros dropped), for comparing nonces.
fn unsigned(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

/// The DER TimeStampReq for a SHA-256 imprint: version 1, the imprint, the nonce, certReq.
pub fn request(imprint: &[u8; 32], nonce: u64) -> Vec<u8> {
    #[derive(der::Sequence)]
    struct Algorithm {
        algorithm: ObjectIdentifier,
        parameters: der::asn1::Null,
    }
    #[derive(der::Sequence)]
    struct MessageImprint {
        hash_algorithm: Algorithm,
        hashed_message: der::asn1::OctetString,
    }
    #[derive(der::Sequence)]
    struct TimeStampReq {
        version: u8,
        message_imprint: MessageImprint,
        nonce: der::asn1::Uint,
        cert_req: bool,
    }
    // Every value here is well-formed by construction: the encoder cannot refuse it.
    let req = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: Algorithm { algorithm: SHA256, parameters: der::asn1::Null },
            hashed_message: der::asn1::OctetString::new(imprint.to_vec()).expect("32 bytes"),
        },
        nonce: der::asn1::Uint::new(&nonce.to_be_bytes()).expect("a u64"),
        cert_req: true,
    };
    req.to_der().expect("a request encodes")
}

/// The token (a CMS ContentInfo) of a TimeStampResp, if its status is granted (0) or granted
/// with modifications (1); otherwise why not.
pub fn token_of_reply(reply: &[u8]) -> Result<Vec<u8>, Failure> {
    let resp = any(reply)?;
    let parts = elements(resp.value())?;
    let status = parts.first().ok_or_else(|| invalid("an empty TimeStampResp"))?;
    let info = elements(status.value())?;
    let code = info.first().and_then(|s| s.decode_as::<u8>().ok()).ok_or_else(|| invalid("no PKIStatus"))?;
    if code > 1 {
        let text: Vec<String> = info
            .get(1)
            .and_then(|s| elements(s.value()).ok())
            .unwrap_or_default()
            .iter()
            .filter_map(|t| t.decode_as::<der::asn1::Utf8StringRef>().ok().map(|s| s.to_string()))
            .collect();
        return Err(invalid(format!(
            "the TSA refused the request (PKIStatus {code}{})",
            if text.is_empty() { String::new() } else { format!(": {}", text.join("; ")) }
        )));
    }
    let token = parts.get(1).ok_or_else(|| invalid("a granted reply without a token"))?;
    token.to_der().map_err(|e| invalid(e.to_string()))
}

/// The parts of a token the checks need.
struct Parsed<'a> {
    tst_info: &'a [u8],
    certificates: Vec<Certificate>,
    signer: SignerInfo<'a>,
}

struct SignerInfo<'a> {
    /// issuer DER and serial bytes, or a subject key identifier.
    sid: Sid<'a>,
    digest: ObjectIdentifier,
    /// The signed attributes re-tagged as the SET the signature is over.
    signed_attrs: Vec<u8>,
    attrs: Vec<(ObjectIdentifier, Vec<AnyRef<'a>>)>,
    signature_algorithm: ObjectIdentifier,
    signature: &'a [u8],
}

enum Sid<'a> {
    IssuerSerial(Vec<u8>, Vec<u8>),
    KeyId(&'a [u8]),
}

fn parse(token: &[u8]) -> Result<Parsed<'_>, Failure> {
    let ci = elements(any(token)?.value())?;
    if ci.len() != 2 || oid(&ci[0])? != SIGNED_DATA || ci[1].tag() != context(0) {
        return Err(invalid("not a CMS SignedData"));
    }
    let sd = elements(any(ci[1].value())?.value())?;
    if sd.len() < 4 {
        return Err(invalid("a SignedData with too few fields"));
    }
    let encap = elements(sd[2].value())?;
    if encap.len() != 2 || oid(&encap[0])? != TST_INFO || encap[1].tag() != context(0) {
        return Err(invalid("the signed content is not a TSTInfo"));
    }
    let tst_info = any(encap[1].value())?.value();
    let mut certificates = Vec::new();
    for part in &sd[3..sd.len() - 1] {
        if part.tag() == context(0) {
            for c in elements(part.value())? {
                let bytes = c.to_der().map_err(|e| invalid(e.to_string()))?;
                certificates.push(Certificate::from_der(&bytes).map_err(|e| invalid(format!("a certificate in the token does not parse: {e}")))?);
            }
        }
    }
    let signers = elements(sd[sd.len() - 1].value())?;
    let [one] = signers.as_slice() else {
        return Err(invalid(format!("{} signer infos; a time-stamp token has one", signers.len())));
    };
    Ok(Parsed { tst_info, certificates, signer: signer_info(one)? })
}

fn signer_info<'a>(si: &AnyRef<'a>) -> Result<SignerInfo<'a>, Failure> {
    let f = elements(si.value())?;
    if f.len() < 5 {
        return Err(invalid("a SignerInfo with too few fields"));
    }
    let sid = if f[1].tag() == Tag::Sequence {
        let is = elements(f[1].value())?;
        let issuer = is.first().ok_or_else(|| invalid("no issuer"))?.to_der().map_err(|e| invalid(e.to_string()))?;
        Sid::IssuerSerial(issuer, unsigned(is.get(1).ok_or_else(|| invalid("no serial"))?.value()))
    } else {
        Sid::KeyId(f[1].value())
    };
    let digest = oid(elements(f[2].value())?.first().ok_or_else(|| invalid("no digest algorithm"))?)?;
    let attrs_at = f.iter().position(|a| a.tag() == context(0)).ok_or_else(|| invalid("no signed attributes"))?;
    let signed_attrs = der::asn1::Any::new(Tag::Set, f[attrs_at].value()).and_then(|a| a.to_der()).map_err(|e| invalid(e.to_string()))?;
    let mut attrs = Vec::new();
    for a in elements(f[attrs_at].value())? {
        let parts = elements(a.value())?;
        let values = elements(parts.get(1).ok_or_else(|| invalid("an attribute without values"))?.value())?;
        attrs.push((oid(parts.first().ok_or_else(|| invalid("an empty attribute"))?)?, values));
    }
    let signature_algorithm = oid(elements(f[attrs_at + 1].value())?.first().ok_or_else(|| invalid("no signature algorithm"))?)?;
    let signature = f.get(attrs_at + 2).ok_or_else(|| invalid("no signature"))?.value();
    Ok(SignerInfo { sid, digest, signed_attrs, attrs, signature_algorithm, signature })
}

fn digest(alg: ObjectIdentifier, data: &[u8]) -> Result<Vec<u8>, Failure> {
    if alg == SHA256 {
        Ok(Sha256::digest(data).to_vec())
    } else if alg == SHA384 {
        Ok(Sha384::digest(data).to_vec())
    } else if alg == SHA512 {
        Ok(Sha512::digest(data).to_vec())
    } else {
        Err(invalid(format!("digest algorithm {alg} is not accepted (SHA-256, -384 or -512)")))
    }
}

/// Verifies `signature` over `message` with the key of `spki` (RSA PKCS#1 v1.5, or ECDSA on
/// P-256 or P-384) by the signature algorithm `alg` (its hash: `hash` for bare rsaEncryption).
fn verify_signature(
    spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
    alg: ObjectIdentifier,
    hash: ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let spki_der = spki.to_der().map_err(|e| e.to_string())?;
    let (hash, is_rsa) = if alg == RSA {
        (hash, true)
    } else if alg == RSA_SHA256 || alg == ECDSA_SHA256 {
        (SHA256, alg == RSA_SHA256)
    } else if alg == RSA_SHA384 || alg == ECDSA_SHA384 {
        (SHA384, alg == RSA_SHA384)
    } else if alg == RSA_SHA512 || alg == ECDSA_SHA512 {
        (SHA512, alg == RSA_SHA512)
    } else {
        return Err(format!("signature algorithm {alg} is not supported (RSA PKCS#1 v1.5 or ECDSA)"));
    };
    let hashed = digest(hash, message).map_err(|e| e.to_string())?;
    if is_rsa {
        use rsa::pkcs8::DecodePublicKey;
        let key = rsa::PublicKey::from_public_key_der(&spki_der).map_err(|e| format!("not an RSA key: {e}"))?;
        let scheme = if hash == SHA256 {
            rsa::Pkcs1v15Sign::new::<rsa::sha2::Sha256>()
        } else if hash == SHA384 {
            rsa::Pkcs1v15Sign::new::<rsa::sha2::Sha384>()
        } else {
            rsa::Pkcs1v15Sign::new::<rsa::sha2::Sha512>()
        };
        return key.verify(scheme, &hashed, signature).map_err(|_| "the RSA signature does not verify".to_string());
    }
    if spki.algorithm.oid != EC_PUBLIC_KEY {
        return Err("an ECDSA signature from a key that is not an EC key".into());
    }
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let ok = match curve {
        Some(c) if c == P256 => {
            use p256::pkcs8::DecodePublicKey;
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki_der).map_err(|e| e.to_string())?;
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(|e| e.to_string())?;
            key.verify_prehash(&hashed, &sig).is_ok()
        }
        Some(c) if c == P384 => {
            use p384::pkcs8::DecodePublicKey;
            let key = p384::ecdsa::VerifyingKey::from_public_key_der(&spki_der).map_err(|e| e.to_string())?;
            let sig = p384::ecdsa::Signature::from_der(signature).map_err(|e| e.to_string())?;
            key.verify_prehash(&hashed, &sig).is_ok()
        }
        _ => return Err("an EC key on a curve other than P-256 or P-384".into()),
    };
    if ok { Ok(()) } else { Err("the ECDSA signature does not verify".into()) }
}

/// What a TSTInfo says: imprint, serial, genTime, nonce.
type TstInfo = (Vec<u8>, String, DateTime<Utc>, Option<Vec<u8>>);

fn tst_info(bytes: &[u8]) -> Result<TstInfo, Failure> {
    let f = elements(any(bytes)?.value())?;
    if f.len() < 5 {
        return Err(invalid("a TSTInfo with too few fields"));
    }
    let mi = elements(f[2].value())?;
    let alg = oid(elements(mi.first().ok_or_else(|| invalid("no imprint"))?.value())?.first().ok_or_else(|| invalid("no imprint algorithm"))?)?;
    if alg != SHA256 {
        return Err(Failure::Mismatch(format!("the imprint is {alg}, not SHA-256")));
    }
    let imprint = mi.get(1).ok_or_else(|| invalid("no imprint"))?.value().to_vec();
    let serial = hex::encode(unsigned(f[3].value()));
    if f[4].tag() != Tag::GeneralizedTime {
        return Err(invalid("genTime is not a GeneralizedTime"));
    }
    let text = std::str::from_utf8(f[4].value()).map_err(|_| invalid("genTime is not text"))?;
    let whole = text.trim_end_matches('Z');
    let (secs, _fraction) = whole.split_once('.').unwrap_or((whole, ""));
    let gen_time = NaiveDateTime::parse_from_str(secs, "%Y%m%d%H%M%S").map_err(|_| invalid(format!("genTime {text:?} is not a time")))?.and_utc();
    let nonce = f[5..].iter().find(|a| a.tag() == Tag::Integer).map(|a| unsigned(a.value()));
    Ok((imprint, serial, gen_time, nonce))
}

/// Checks a TSA's reply before it is kept: granted, a token over exactly `imprint`, answering
/// `nonce`. Its signature is checked later, offline, against the auditor's roots.
pub fn check_reply(reply: &[u8], imprint: &[u8; 32], nonce: u64) -> Result<Stamp, Failure> {
    let token = token_of_reply(reply)?;
    let p = parse(&token)?;
    let (got, serial, gen_time, got_nonce) = tst_info(p.tst_info)?;
    if got != imprint {
        return Err(Failure::Mismatch("the TSA time-stamped other bytes than the ones sent".into()));
    }
    if got_nonce.as_deref() != Some(unsigned(&nonce.to_be_bytes()).as_slice()) {
        return Err(Failure::Mismatch("the reply does not answer this request (its nonce differs): a replayed or mixed-up reply".into()));
    }
    Ok(Stamp { gen_time, imprint: got, nonce: got_nonce, serial, tsa: String::new() })
}

/// Reads the PEM certificates of the auditor's TSA roots.
pub fn load_roots(pem: &[u8]) -> Result<Vec<Certificate>, String> {
    Certificate::load_pem_chain(pem).map_err(|e| format!("not PEM certificates: {e}"))
}

/// Verifies a TimeStampResp (as `manifest.tsr` holds it) over the SHA-256 `data_sha256`: the
/// token's CMS signature, the signing certificate's chain to one of `roots`, its critical
/// timeStamping EKU and validity at genTime, and that the imprint is the data's.
pub fn verify(reply: &[u8], data_sha256: &[u8; 32], roots: &[Certificate]) -> Result<Stamp, Failure> {
    if reply.len() > MAX_BYTES {
        return Err(invalid(format!("over {MAX_BYTES} bytes")));
    }
    let token = token_of_reply(reply)?;
    let p = parse(&token)?;
    let (imprint, serial, gen_time, nonce) = tst_info(p.tst_info)?;
    let s = &p.signer;
    // The signed attributes bind the TSTInfo (its digest) and its type.
    let md = s.attrs.iter().find(|(o, _)| *o == MESSAGE_DIGEST).and_then(|(_, v)| v.first()).ok_or_else(|| invalid("no messageDigest attribute"))?;
    if md.value() != digest(s.digest, p.tst_info)?.as_slice() {
        return Err(invalid("the messageDigest attribute is not the TSTInfo's digest"));
    }
    let ct = s.attrs.iter().find(|(o, _)| *o == CONTENT_TYPE).and_then(|(_, v)| v.first()).ok_or_else(|| invalid("no contentType attribute"))?;
    if oid(ct)? != TST_INFO {
        return Err(invalid("the contentType attribute is not TSTInfo"));
    }
    let signer = p.certificates.iter().find(|c| match &s.sid {
        Sid::IssuerSerial(issuer, serial) => {
            c.tbs_certificate().issuer().to_der().is_ok_and(|d| d == *issuer) && unsigned(c.tbs_certificate().serial_number().as_bytes()) == *serial
        }
        Sid::KeyId(id) => c
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .any(|e| e.extn_id == SUBJECT_KEY_ID && any(e.extn_value.as_bytes()).is_ok_and(|k| k.value() == *id)),
    });
    let signer = signer.ok_or_else(|| invalid("the token does not carry its signing certificate (request it with certReq)"))?;
    verify_signature(signer.tbs_certificate().subject_public_key_info(), s.signature_algorithm, s.digest, &s.signed_attrs, s.signature)
        .map_err(|e| invalid(format!("the token's signature: {e}")))?;
    let tsa = signer.tbs_certificate().subject().to_string();
    trusted(signer, &p.certificates, roots, gen_time)?;
    if imprint != data_sha256 {
        return Err(Failure::Mismatch(format!("the token is over SHA-256 {}, the data is {}", hex::encode(&imprint), hex::encode(data_sha256))));
    }
    Ok(Stamp { gen_time, imprint, nonce, serial, tsa })
}

/// The signing certificate is a TSA's (critical EKU timeStamping, valid at genTime) and chains,
/// through the token's certificates, to one of the roots.
fn trusted(signer: &Certificate, pool: &[Certificate], roots: &[Certificate], at: DateTime<Utc>) -> Result<(), Failure> {
    let untrusted = |s: String| Failure::Untrusted(s);
    let eku = signer.tbs_certificate().extensions().into_iter().flatten().find(|e| e.extn_id == EXT_KEY_USAGE);
    let purposes = eku.map(|e| elements(any(e.extn_value.as_bytes())?.value()).and_then(|v| v.iter().map(oid).collect::<Result<Vec<_>, _>>())).transpose()?;
    match (eku, purposes) {
        (Some(e), Some(p)) if e.critical && p == [TIME_STAMPING] => {}
        _ => return Err(untrusted("the signing certificate is not a TSA's: its extended key usage must be timeStamping alone, marked critical".into())),
    }
    let valid = |c: &Certificate| {
        let v = c.tbs_certificate().validity();
        let t = std::time::SystemTime::from(at);
        v.not_before.to_system_time() <= t && t <= v.not_after.to_system_time()
    };
    if !valid(signer) {
        return Err(untrusted(format!("the signing certificate is not valid at genTime {at}")));
    }
    let mut current = signer.clone();
    for _ in 0..8 {
        if roots.iter().any(|r| r == &current) {
            return Ok(());
        }
        let issuer = current.tbs_certificate().issuer().to_der().map_err(|e| invalid(e.to_string()))?;
        let signed_by = |c: &&Certificate| {
            c.tbs_certificate().subject().to_der().is_ok_and(|s| s == issuer)
                && current.tbs_certificate().to_der().is_ok_and(|tbs| {
                    verify_signature(
                        c.tbs_certificate().subject_public_key_info(),
                        current.signature_algorithm().oid,
                        SHA256,
                        &tbs,
                        current.signature().raw_bytes(),
                    )
                    .is_ok()
                })
        };
        if roots.iter().any(|r| signed_by(&r)) {
            return Ok(());
        }
        match pool.iter().find(|c| *c != &current && signed_by(c) && valid(c)) {
            Some(next) => current = next.clone(),
            None => break,
        }
    }
    Err(untrusted(format!("the TSA certificate ({}) does not chain to a root given with --tsa-trust", signer.tbs_certificate().subject())))
}

/// Asks a TSA over HTTP(S) for a token over `data_sha256`, and checks the reply (status,
/// imprint, nonce) before returning it: a reply that fails is never kept.
pub fn fetch(url: &str, data_sha256: &[u8; 32], timeout: std::time::Duration) -> Result<(Vec<u8>, Stamp), String> {
    let mut nonce_bytes = [0u8; 8];
    getrandom::fill(&mut nonce_bytes).map_err(|e| format!("no randomness for the nonce: {e}"))?;
    let nonce = u64::from_be_bytes(nonce_bytes) >> 1;
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build().into();
    let mut resp = agent
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .send(&request(data_sha256, nonce)[..])
        .map_err(|e| format!("{url}: the TSA cannot be reached: {e}"))?;
    if resp.status() != 200 {
        return Err(format!("{url}: the TSA answered HTTP {}", resp.status()));
    }
    let body = resp.body_mut().with_config().limit(MAX_BYTES as u64).read_to_vec().map_err(|e| format!("{url}: reading the reply: {e}"))?;
    let stamp = check_reply(&body, data_sha256, nonce).map_err(|e| format!("{url}: {e}"))?;
    Ok((body, stamp))
}

/// Asks each TSA in turn until one answers with a reply that checks out; if none does, every
/// failure, joined.
pub fn fetch_any(urls: &[String], data_sha256: &[u8; 32], timeout: std::time::Duration) -> Result<Vec<u8>, String> {
    let mut why = Vec::new();
    for url in urls {
        match fetch(url, data_sha256, timeout) {
            Ok((reply, _)) => return Ok(reply),
            Err(e) => why.push(e),
        }
    }
    Err(why.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_der_with_the_imprint_and_nonce() {
        let req = request(&[7u8; 32], 0x0102_0304);
        let f = elements(any(&req).unwrap().value()).unwrap();
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].value(), [1]);
        let mi = elements(f[1].value()).unwrap();
        assert_eq!(mi[1].value(), [7u8; 32]);
        assert_eq!(unsigned(f[2].value()), [1, 2, 3, 4]);
        assert_eq!(f[3].value(), [0xff]);
    }

    #[test]
    fn garbage_is_invalid_never_a_panic() {
        for bytes in [&b""[..], b"\x30\x03\x02\x01", b"\x30\x80\x00\x00", b"\x30\x02\x30\x00", &[0x30; 64]] {
            assert!(matches!(verify(bytes, &[0; 32], &[]), Err(Failure::Invalid(_))), "{bytes:?}");
        }
    }
}
