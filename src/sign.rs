//! Ed25519 keys, signatures and the auditor's trust list (DESIGN §5). Private keys are PKCS#8
//! PEM files that openssl reads and writes too; they are created 0600 and never printed.

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes, spki::DecodePublicKey, spki::EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What a key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Signs audit packs.
    Compliance,
    /// Signs certificates of sanitization (the person who sanitized).
    Performer,
    /// Countersigns certificates (a second, independent person).
    Verifier,
    /// Signs audit samples drawn from a pack (the auditor, outside the company).
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Compliance => "compliance",
            Role::Performer => "performer",
            Role::Verifier => "verifier",
            Role::Auditor => "auditor",
        }
    }

    fn parse(s: &str) -> Option<Role> {
        [Role::Compliance, Role::Performer, Role::Verifier, Role::Auditor].into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Key errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{path}: not an Ed25519 private key in PKCS#8 PEM ({why})")]
    BadPrivate { path: PathBuf, why: String },
    #[error("{path}: not an Ed25519 public key in SPKI PEM ({why})")]
    BadPublic { path: PathBuf, why: String },
    #[error("{path}:{line}: {what}")]
    BadTrust { path: PathBuf, line: usize, what: String },
    #[error("{path} already exists: keys are never overwritten")]
    Exists { path: PathBuf },
    #[error("cannot get randomness from the operating system: {0}")]
    Random(String),
    /// An encrypted key and no passphrase to open it with.
    #[error("{path} is encrypted and no passphrase was given")]
    NeedPassphrase { path: PathBuf },
    /// The passphrase does not open the key (or its cipher is one evident does not read).
    #[error("{path}: the passphrase does not decrypt this key ({why})")]
    BadPassphrase { path: PathBuf, why: String },
    /// The key's own trust line (written by keygen beside it) gives it another role.
    #[error("{path} is a {declared} key ({trust}): only a {want} key signs this")]
    WrongRole { path: PathBuf, trust: PathBuf, declared: String, want: Role },
}

impl Error {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::BadPrivate { .. } => Some("make one with `evident keygen` or `openssl genpkey -algorithm ed25519 -out key.pem`"),
            Error::BadPublic { .. } => Some("export it with `openssl pkey -in key.pem -pubout -out key.pub.pem`"),
            Error::BadTrust { .. } => Some("each line is `ROLE PUBLIC_KEY_HEX NAME`, ROLE one of compliance, performer, verifier"),
            Error::Exists { .. } => Some("choose another --out directory or --name"),
            Error::NeedPassphrase { .. } => Some("set EVIDENT_KEY_PASSPHRASE, give --passphrase-file FILE, or run on a terminal to be asked"),
            Error::BadPassphrase { .. } => Some("check the passphrase; `openssl pkey -in KEY -noout` tests it"),
            Error::WrongRole { .. } => Some(
                "sign with a key made for this role (`evident keygen --role …`): a pack with a compliance key, a certificate with a performer key, a countersignature with a verifier key",
            ),
            _ => None,
        }
    }
}

/// A public key and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// First 16 hex digits of SHA-256 over the raw 32-byte key (DESIGN §5).
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(self.0.as_bytes())[..8])
    }

    pub fn raw_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    pub fn from_raw_hex(s: &str) -> Option<PublicKey> {
        let bytes: [u8; 32] = hex::decode(s).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes).ok().map(PublicKey)
    }

    pub fn to_pem(&self) -> String {
        self.0.to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).expect("an Ed25519 key encodes")
    }

    pub fn from_pem(text: &str, path: &Path) -> Result<PublicKey, Error> {
        VerifyingKey::from_public_key_pem(text.trim()).map(PublicKey).map_err(|e| Error::BadPublic { path: path.into(), why: e.to_string() })
    }

    /// True when `sig` is this key's signature over exactly `msg`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else { return false };
        self.0.verify_strict(msg, &sig).is_ok() && self.0.verify(msg, &sig).is_ok()
    }
}

/// A private key loaded for signing. Deliberately not Debug or Display.
pub struct SecretKey {
    key: SigningKey,
}

impl SecretKey {
    /// Reads a PKCS#8 PEM private key (ours, or one from `openssl genpkey -algorithm ed25519`).
    pub fn load(path: &Path) -> Result<SecretKey, Error> {
        SecretKey::load_with(path, &|| Ok(None))
    }

    /// Loads a key, encrypted (PKCS#8 with PBES2, as `openssl genpkey
    /// -aes-256-cbc` or keygen write it) or not; `passphrase` is asked only for an encrypted one.
    pub fn load_with(path: &Path, passphrase: &dyn Fn() -> Result<Option<Passphrase>, Error>) -> Result<SecretKey, Error> {
        let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.into(), err: source })?);
        // The reasons from the decoder never contain key material, only what kind of structure failed.
        use pkcs8::der::pem::PemLabel;
        let encrypted = pkcs8::der::pem::decode_label(text.trim().as_bytes()).is_ok_and(|l| l == pkcs8::EncryptedPrivateKeyInfoRef::PEM_LABEL);
        let key = if encrypted {
            let pass = passphrase()?.ok_or_else(|| Error::NeedPassphrase { path: path.into() })?;
            SigningKey::from_pkcs8_encrypted_pem(text.trim(), pass.0.as_bytes()).map_err(|e| Error::BadPassphrase { path: path.into(), why: e.to_string() })?
        } else {
            SigningKey::from_pkcs8_pem(text.trim()).map_err(|e| Error::BadPrivate { path: path.into(), why: e.to_string() })?
        };
        Ok(SecretKey { key })
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.key.verifying_key())
    }

    /// Refuses to sign in `want` with a key whose own trust line — `NAME.trust` beside
    /// `NAME.key.pem`, as keygen writes them — lists it only for other roles. A key without one
    /// (made with openssl) has no declared role; the auditor's trust list still decides.
    pub fn check_role(&self, path: &Path, want: Role) -> Result<(), Error> {
        let Some(stem) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".key.pem")) else { return Ok(()) };
        let trust = path.with_file_name(format!("{stem}.trust"));
        let Ok(list) = TrustList::load(&trust) else { return Ok(()) };
        match list.standing(&self.public(), want) {
            Standing::OtherRoles { roles, .. } => Err(Error::WrongRole { path: path.into(), trust, declared: roles.join(", "), want }),
            _ => Ok(()),
        }
    }

    /// The holder's name as keygen recorded it in `NAME.trust` beside the key, if that file is
    /// there and lists this key.
    pub fn declared_name(&self, path: &Path) -> Option<String> {
        let stem = path.file_name()?.to_str()?.strip_suffix(".key.pem")?;
        let list = TrustList::load(&path.with_file_name(format!("{stem}.trust"))).ok()?;
        list.lookup(&self.public()).first().map(|t| t.name.clone())
    }

    /// Raw 64-byte Ed25519 signature over `msg` (deterministic: same key and bytes, same signature).
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }

    fn generate() -> Result<SecretKey, Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Random(e.to_string()))?;
        Ok(SecretKey { key: SigningKey::from_bytes(&seed) })
    }

    /// Writes the key as PKCS#8 v1 PEM (no embedded public key: the form OpenSSL 3.0 reads) to a
    /// new file with mode 0600. The PEM text lives only in a zeroized buffer.
    /// Encrypted under `passphrase` when one is given (PBES2: scrypt and AES-256-CBC, which
    /// openssl reads with `openssl pkey -passin`).
    fn write_pem(&self, path: &Path, passphrase: Option<&Passphrase>) -> Result<(), Error> {
        let kp = KeypairBytes { secret_key: self.key.to_bytes(), public_key: None };
        let lf = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
        let pem = match passphrase {
            Some(p) => kp.to_pkcs8_encrypted_pem(p.0.as_bytes(), lf).map_err(|e| Error::Random(e.to_string()))?,
            None => kp.to_pkcs8_pem(lf).expect("an Ed25519 key encodes"),
        };
        write_new(path, pem.as_bytes(), 0o600)
    }
}

/// A passphrase, wiped from memory when dropped.
pub struct Passphrase(pub zeroize::Zeroizing<String>);

/// The files `keygen` wrote.
#[derive(Debug, serde::Serialize)]
pub struct KeyFiles {
    pub private_key: PathBuf,
    pub public_key: PathBuf,
    pub trust_line: String,
    pub trust_file: PathBuf,
    pub key_id: String,
    pub role: Role,
    pub name: String,
}

/// A file name from a person's name: letters, digits, `-`, `_`, `.`.
fn slug(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c.to_ascii_lowercase() } else { '-' }).collect();
    let mut s = s;
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_matches(['-', '.']).to_string();
    if s.is_empty() { "key".into() } else { s }
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists { Error::Exists { path: path.into() } } else { Error::Io { path: path.into(), err: source } }
    })?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|source| Error::Io { path: path.into(), err: source })
}

/// Makes a key pair for `role` held by `name` in `dir`: NAME.key.pem (0600, never overwritten),
/// NAME.pub.pem and NAME.trust (the line an auditor adds to their trust list).
pub fn keygen(role: Role, name: &str, dir: &Path, passphrase: Option<&Passphrase>) -> Result<KeyFiles, Error> {
    if name.trim().is_empty() || name.contains(['\n', '\r']) {
        return Err(Error::BadTrust { path: dir.into(), line: 0, what: "--name must be a non-empty single line".into() });
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.into(), err: source })?;
    let base = slug(name);
    let private_key = dir.join(format!("{base}.key.pem"));
    let public_key = dir.join(format!("{base}.pub.pem"));
    let trust_file = dir.join(format!("{base}.trust"));
    for p in [&private_key, &public_key, &trust_file] {
        if p.exists() {
            return Err(Error::Exists { path: p.clone() });
        }
    }
    let key = SecretKey::generate()?;
    key.write_pem(&private_key, passphrase)?;
    let public = key.public();
    write_new(&public_key, public.to_pem().as_bytes(), 0o644)?;
    let trust_line = trust_line(role, &public, name.trim());
    write_new(&trust_file, format!("{trust_line}\n").as_bytes(), 0o644)?;
    Ok(KeyFiles { private_key, public_key, trust_line, trust_file, key_id: public.key_id(), role, name: name.trim().into() })
}

/// One line of a trust list.
pub fn trust_line(role: Role, key: &PublicKey, name: &str) -> String {
    format!("{role} {} {name}", key.raw_hex())
}

/// A key the auditor trusts, with its role and holder.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Trusted {
    pub key_id: String,
    pub role: Role,
    pub name: String,
}

/// The auditor's list of trusted keys: `ROLE PUBLIC_KEY_HEX NAME` per line, `#` comments.
#[derive(Debug, Default)]
pub struct TrustList {
    keys: Vec<(PublicKey, Trusted)>,
}

impl TrustList {
    pub fn load(path: &Path) -> Result<TrustList, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.into(), err: source })?;
        TrustList::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<TrustList, Error> {
        let mut keys = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |what: String| Error::BadTrust { path: path.into(), line: i + 1, what };
            let mut parts = line.splitn(3, char::is_whitespace);
            let (role, key, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or("").trim());
            let role = Role::parse(role).ok_or_else(|| bad(format!("unknown role '{role}'")))?;
            let key = PublicKey::from_raw_hex(key).ok_or_else(|| bad(format!("'{key}' is not a 64-digit hex Ed25519 public key")))?;
            if name.is_empty() {
                return Err(bad("missing the key holder's name".into()));
            }
            let t = Trusted { key_id: key.key_id(), role, name: name.into() };
            keys.push((key, t));
        }
        Ok(TrustList { keys })
    }

    /// Every entry for this key (a key may be listed once per role).
    pub fn lookup(&self, key: &PublicKey) -> Vec<&Trusted> {
        self.keys.iter().filter(|(k, _)| k == key).map(|(_, t)| t).collect()
    }

    /// Every entry for a key id (the chain names its packs' keys by id).
    pub fn by_key_id(&self, key_id: &str) -> Vec<&Trusted> {
        self.keys.iter().filter(|(_, t)| t.key_id == key_id).map(|(_, t)| t).collect()
    }

    /// Whether this key may sign in this role: packs and certificates ask the same question.
    pub fn standing(&self, key: &PublicKey, role: Role) -> Standing<'_> {
        let entries = self.lookup(key);
        match entries.iter().find(|t| t.role == role) {
            Some(t) => Standing::Trusted(t),
            None if entries.is_empty() => Standing::Untrusted,
            None => Standing::OtherRoles { name: &entries[0].name, roles: entries.iter().map(|t| t.role.as_str()).collect() },
        }
    }
}

/// A key's place in the trust list for one role.
pub enum Standing<'a> {
    Trusted(&'a Trusted),
    Untrusted,
    /// Listed, but only for other roles.
    OtherRoles {
        name: &'a str,
        roles: Vec<&'static str>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_writes_0600_key_that_signs_and_a_trust_line_that_parses() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let files = keygen(Role::Compliance, "Dana Roe", dir.path(), None).unwrap();
        let mode = std::fs::metadata(&files.private_key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let key = SecretKey::load(&files.private_key).unwrap();
        let sig = key.sign(b"manifest");
        assert!(key.public().verify(b"manifest", &sig));
        assert!(!key.public().verify(b"manifesT", &sig));
        let trust = TrustList::load(&files.trust_file).unwrap();
        let found = trust.lookup(&key.public());
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].role, found[0].name.as_str()), (Role::Compliance, "Dana Roe"));
        assert_eq!(found[0].key_id.len(), 16);
        assert!(matches!(keygen(Role::Compliance, "Dana Roe", dir.path(), None), Err(Error::Exists { .. })));
    }

    #[test]
    fn trust_list_errors_name_the_line() {
        let e = TrustList::parse("# keys\ncompliance 00zz Dana\n", Path::new("t.txt")).unwrap_err();
        assert_eq!(e.to_string().split(':').take(2).collect::<Vec<_>>(), ["t.txt", "2"]);
        let e = TrustList::parse("accountant aa Dana\n", Path::new("t.txt")).unwrap_err();
        assert!(e.to_string().contains("unknown role 'accountant'"));
    }
}
