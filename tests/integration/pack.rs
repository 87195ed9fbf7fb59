//! Packs of examples/: verified by evident and by the real sha256sum, openssl and jq following
//! docs/FORMAT.md literally; every kind of tampering fails with its own code; packs are
//! byte-identical across TZ and working directory.

use crate::util::{evident, root};
use evident::pack::{self, FileEntry};
use evident::sign::{Role, SecretKey, TrustList};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A store holding examples/, a compliance key, and its trust list.
pub struct Org {
    pub dir: tempfile::TempDir,
    pub store: PathBuf,
    pub key: PathBuf,
    pub trust: PathBuf,
}

pub fn org() -> Org {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let ex = root().join("examples");
    let p = |f: &str| ex.join(f).display().to_string();
    let r = evident(
        &store,
        &["ingest", "--source-tz", "Europe/Berlin", "--as-of", "2026-10-30", "--status-map", &p("snipeit-status-map.yaml"), &p("snipeit-assets.csv")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files: Vec<String> = crate::util::EXAMPLE_EXPORTS.iter().map(|f| p(f)).collect();
    let mut args = vec!["ingest", "--source-tz", "Europe/Berlin"];
    args.extend(files.iter().map(String::as_str));
    let r = evident(&store, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let keys = dir.path().join("keys");
    let r = evident(&store, &["keygen", "--role", "compliance", "--name", "Dana Roe", "--out", keys.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    Org { store, key: keys.join("dana-roe.key.pem"), trust: keys.join("dana-roe.trust"), dir }
}

impl Org {
    pub fn pack(&self, name: &str, as_of: &str) -> PathBuf {
        self.pack_from(&self.store, name, as_of)
    }

    pub fn pack_from(&self, store: &Path, name: &str, as_of: &str) -> PathBuf {
        let out = self.dir.path().join(name);
        self.pack_into(store, &out, &["--as-of", as_of, "--archive", "tar"]);
        out
    }

    /// `evident pack` of this organisation with its key into `out`, with the scope and archive
    /// given in `args`; it must succeed.
    pub fn pack_into(&self, store: &Path, out: &Path, args: &[&str]) {
        let mut all = vec!["pack", "--organisation", "Fernhill Labs", "--key", self.key.to_str().unwrap(), "--out", out.to_str().unwrap()];
        all.extend(args);
        let r = evident(store, &all);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }

    /// `evident verify` in JSON: exit code and the failed check codes.
    pub fn verify(&self, pack: &Path, extra: &[&str]) -> (i32, Vec<String>) {
        let mut args = vec!["verify", pack.to_str().unwrap(), "--trust", self.trust.to_str().unwrap(), "--format", "json"];
        args.extend(extra);
        let r = evident(&self.store, &args);
        assert!(r.code == 0 || r.code == 1, "verify could not run: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
        assert_eq!(v["verified"].as_bool().unwrap(), r.code == 0);
        let failed = v["checks"].as_array().unwrap().iter().filter(|c| c["ok"] == false).map(|c| c["code"].as_str().unwrap().to_string()).collect();
        (r.code, failed)
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    for rel in pack::archive::walk(from).unwrap() {
        let dst = to.join(&rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&rel), dst).unwrap();
    }
}

/// What an insider with the signing key could do: edit the manifest, then recompute the file
/// list, Merkle root, SHA256SUMS and signature so that every hash agrees again.
pub fn reseal(dir: &Path, key: &SecretKey, edit: impl FnOnce(&mut serde_json::Value)) {
    let bytes = std::fs::read(dir.join(pack::MANIFEST)).unwrap();
    let mut m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    std::fs::write(dir.join(pack::SIGNER), key.public().to_pem()).unwrap();
    m["key_id"] = key.public().key_id().into();
    let files: Vec<FileEntry> = evident::verify::manifest_files(dir).unwrap();
    m["merkle_root"] = pack::merkle_root(&files).into();
    m["files"] = serde_json::to_value(&files).unwrap();
    edit(&mut m);
    let bytes = serde_jcs::to_vec(&m).unwrap();
    let sha = hex::encode(Sha256::digest(&bytes));
    std::fs::write(dir.join(pack::MANIFEST), &bytes).unwrap();
    std::fs::write(dir.join(pack::SUMS), pack::sums_text(&files, &sha)).unwrap();
    std::fs::write(dir.join(pack::SIGNATURE), key.sign(&bytes)).unwrap();
}

/// The fenced shell blocks of one section of docs/FORMAT.md, in order.
fn format_doc_blocks(section: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(root().join("docs/FORMAT.md")).unwrap();
    let start = doc.find(section).unwrap_or_else(|| panic!("FORMAT.md has '{section}'"));
    let body = &doc[start..];
    let body = &body[..body[3..].find("\n## ").map_or(body.len(), |i| i + 3)];
    body.split("```").skip(1).step_by(2).map(|b| b.trim().to_string()).collect()
}

#[test]
fn stock_tools_verify_a_pack_following_format_md_literally() {
    let org = org();
    let dir = org.pack("p1", "2026-10-31");
    assert_eq!(org.verify(&dir, &[]), (0, vec![]));
    assert_eq!(org.verify(&dir.with_file_name("p1.tar"), &[]), (0, vec![]));
    // The same pack as a zip (a second pack of the chain, so another directory).
    let z = org.dir.path().join("pz");
    org.pack_into(&org.store, &z, &["--as-of", "2026-10-31", "--archive", "zip"]);
    assert_eq!(org.verify(&z.with_file_name("pz.zip"), &["--since", dir.to_str().unwrap()]), (0, vec![]));
    let unzip = std::process::Command::new("python3")
        .args(["-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(len(z.namelist()))"])
        .arg(z.with_file_name("pz.zip"))
        .output();
    if let Ok(o) = unzip {
        assert!(o.status.success(), "a stock zip reader opens it: {}", String::from_utf8_lossy(&o.stderr));
    }
    let blocks = format_doc_blocks("## 4.");
    assert_eq!(blocks.len(), 5, "FORMAT.md §4 has five command blocks");
    let run = |cmd: &str, pack: &Path| {
        let out = std::process::Command::new("bash").args(["-euo", "pipefail", "-c", cmd]).current_dir(pack).output().expect("bash runs");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    for (i, b) in blocks.iter().enumerate() {
        let (code, stdout, stderr) = run(b, &dir);
        assert_eq!(code, Some(0), "FORMAT.md §4 step {} failed on a good pack:\n{b}\n{stdout}{stderr}", i + 1);
        if i == 1 {
            assert!(stdout.contains("Signature Verified Successfully"), "{stdout}");
        }
        if i == 2 {
            // Raw key hex (matches the trust line), key id, and the manifest's key id.
            let lines: Vec<&str> = stdout.lines().collect();
            let trust = std::fs::read_to_string(&org.trust).unwrap();
            assert_eq!(trust.split_whitespace().nth(1), Some(lines[0]));
            assert_eq!(lines[1], lines[2], "key id from openssl equals manifest key_id");
        }
        if i >= 3 {
            assert_eq!(stdout, "", "no difference expected");
        }
    }
    // And the same stock steps say no on a tampered copy.
    let bad = org.dir.path().join("bad");
    copy_dir(&dir, &bad);
    let report = bad.join("results/assets/2026-10-31.jsonl");
    let mut bytes = std::fs::read(&report).unwrap();
    bytes[10] ^= 0x20;
    std::fs::write(&report, bytes).unwrap();
    assert_ne!(run(&blocks[0], &bad).0, Some(0), "sha256sum -c must fail on a changed file");
    let m = std::fs::read_to_string(bad.join("manifest.json")).unwrap().replacen("\"seq\":1", "\"seq\":2", 1);
    std::fs::write(bad.join("manifest.json"), m).unwrap();
    assert_ne!(run(&blocks[1], &bad).0, Some(0), "openssl must refuse an edited manifest");
}

#[test]
fn openssl_made_keys_sign_packs() {
    let org = org();
    let key = org.dir.path().join("ossl.pem");
    let st = std::process::Command::new("openssl").args(["genpkey", "-algorithm", "ed25519", "-out"]).arg(&key).status().unwrap();
    assert!(st.success());
    let out = org.dir.path().join("p");
    let r = evident(
        &org.store,
        &["pack", "--organisation", "Fernhill Labs", "--as-of", "2026-10-31", "--key", key.to_str().unwrap(), "--out", out.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Not in the trust list yet: verify says so, and names the key.
    assert_eq!(org.verify(&out, &[]).1, ["key-untrusted"]);
    let pk = SecretKey::load(&key).unwrap().public();
    std::fs::write(&org.trust, format!("{}\n", evident::sign::trust_line(Role::Compliance, &pk, "Ops via openssl"))).unwrap();
    assert_eq!(org.verify(&out, &[]), (0, vec![]));
    assert!(!r.stdout.contains("PRIVATE") && !r.stderr.contains("PRIVATE"), "a private key is never printed");
}

/// Encrypted private keys: one openssl encrypts (AES-256-CBC, PBES2) signs a pack with its
/// passphrase from a file or from EVIDENT_KEY_PASSPHRASE; without it, or with a wrong one, nothing
/// is signed and the error says what to do. keygen encrypts with a passphrase, and openssl opens
/// the key it wrote.
#[test]
fn encrypted_keys_from_openssl_and_keygen_sign_with_their_passphrase() {
    let org = org();
    let key = org.dir.path().join("sealed.pem");
    let pass = org.dir.path().join("pass.txt");
    std::fs::write(&pass, "correct horse battery staple\n").unwrap();
    let st = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-aes-256-cbc", "-pass"])
        .arg(format!("file:{}", pass.display()))
        .arg("-out")
        .arg(&key)
        .status()
        .unwrap();
    assert!(st.success());
    assert!(std::fs::read_to_string(&key).unwrap().contains("BEGIN ENCRYPTED PRIVATE KEY"));
    let pack = |name: &str, extra: &[&str], env: Option<&str>| {
        let out = org.dir.path().join(name);
        let mut c = assert_cmd::Command::cargo_bin("evident").unwrap();
        c.arg("--store").arg(&org.store).args(["pack", "--organisation", "Fernhill Labs", "--as-of", "2026-10-31", "--key"]).arg(&key).arg("--out").arg(&out);
        c.args(extra).env_remove("EVIDENT_KEY_PASSPHRASE").env_remove("EVIDENT_STORE");
        if let Some(p) = env {
            c.env("EVIDENT_KEY_PASSPHRASE", p);
        }
        let o = c.output().unwrap();
        (o.status.code().unwrap(), String::from_utf8_lossy(&o.stderr).into_owned(), out)
    };
    let (code, err, out) = pack("none", &[], None);
    assert_eq!(code, 2);
    assert!(err.contains("is encrypted and no passphrase was given") && err.contains("hint: set EVIDENT_KEY_PASSPHRASE"), "{err}");
    assert!(!out.exists());
    let (code, err, _) = pack("wrong", &[], Some("horse"));
    assert_eq!(code, 2);
    assert!(err.contains("the passphrase does not decrypt this key"), "{err}");
    assert!(!err.contains("horse"), "the passphrase is never printed: {err}");
    let (code, err, p1) = pack("p1", &["--passphrase-file", pass.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    let (code, err, _) = pack("p2", &[], Some("correct horse battery staple"));
    assert_eq!(code, 0, "{err}");
    // The pack is signed by that key.
    let o = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-passin"])
        .arg(format!("file:{}", pass.display()))
        .arg("-in")
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(o.stdout).unwrap(), std::fs::read_to_string(p1.join("signer.pub.pem")).unwrap());
    // keygen encrypts with a passphrase; openssl reads the key with it, and not without.
    let keys = org.dir.path().join("keys2");
    let r = evident(
        &org.store,
        &["keygen", "--role", "performer", "--name", "Sam Lee", "--out", keys.to_str().unwrap(), "--passphrase-file", pass.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("encrypted with your passphrase"), "{}", r.stdout);
    let sealed = keys.join("sam-lee.key.pem");
    assert!(std::fs::read_to_string(&sealed).unwrap().contains("BEGIN ENCRYPTED PRIVATE KEY"));
    let o = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-passin"])
        .arg(format!("file:{}", pass.display()))
        .arg("-in")
        .arg(&sealed)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), std::fs::read_to_string(keys.join("sam-lee.pub.pem")).unwrap());
    let o = std::process::Command::new("openssl").args(["pkey", "-noout", "-passin", "pass:nope", "-in"]).arg(&sealed).output().unwrap();
    assert!(!o.status.success());
    // Without a passphrase (not a terminal): written in clear, and it says so.
    let r = evident(&org.store, &["keygen", "--role", "verifier", "--name", "Ana Ruiz", "--out", keys.to_str().unwrap()]);
    assert!(r.stdout.contains("NOT encrypted"), "{}", r.stdout);
}

#[test]
fn each_kind_of_tampering_fails_with_its_own_code() {
    let org = org();
    let good = org.pack("p1", "2026-10-31");
    let key = SecretKey::load(&org.key).unwrap();
    let case = |name: &str, f: &dyn Fn(&Path)| -> Vec<String> {
        let d = org.dir.path().join(name);
        copy_dir(&good, &d);
        f(&d);
        let (code, failed) = org.verify(&d, &[]);
        assert_eq!(code, 1, "{name}: must not verify");
        failed
    };
    let flip = |p: &Path| {
        let mut b = std::fs::read(p).unwrap();
        let i = b.len() / 2;
        b[i] ^= 0x01;
        std::fs::write(p, b).unwrap();
    };
    assert_eq!(case("flip-source", &|d| flip(&d.join(first_source(d)))), ["file-hash-mismatch"]);
    assert_eq!(case("flip-report", &|d| flip(&d.join("report/index.html"))), ["file-hash-mismatch"]);
    assert_eq!(case("flip-sums", &|d| flip(&d.join("SHA256SUMS"))), ["sums-mismatch"]);
    assert_eq!(case("flip-sig", &|d| flip(&d.join("manifest.sig"))), ["signature-invalid"]);
    assert!(case("flip-manifest", &|d| flip(&d.join("manifest.json"))).iter().any(|c| c == "signature-invalid" || c == "manifest-invalid"));
    assert!(case("flip-signer", &|d| flip(&d.join("signer.pub.pem"))).iter().any(|c| c.starts_with("key-")));
    assert_eq!(case("added", &|d| std::fs::write(d.join("sources/extra.csv"), "a,b\n").unwrap()), ["file-unexpected"]);
    assert_eq!(case("removed", &|d| std::fs::remove_file(d.join("results/assets/2026-10-31.jsonl")).unwrap()), ["file-missing"]);
    let mut renamed = case("renamed", &|d| std::fs::rename(d.join("results/assets/2026-10-31.jsonl"), d.join("results/assets/2026-10-32.jsonl")).unwrap());
    renamed.sort();
    assert_eq!(renamed, ["file-missing", "file-unexpected"]);
    // The manifest edited and SHA256SUMS made again to match it, but not re-signed.
    assert_eq!(
        case("manifest-edited", &|d| {
            let m = std::fs::read_to_string(d.join("manifest.json")).unwrap().replacen("\"date\":\"2026-10-31\"", "\"date\":\"2026-12-31\"", 1);
            std::fs::write(d.join("manifest.json"), &m).unwrap();
            let files: Vec<FileEntry> = serde_json::from_value(serde_json::from_str::<serde_json::Value>(&m).unwrap()["files"].clone()).unwrap();
            std::fs::write(d.join("SHA256SUMS"), pack::sums_text(&files, &hex::encode(Sha256::digest(m.as_bytes())))).unwrap();
        }),
        ["signature-invalid"]
    );
    assert_eq!(case("unsigned", &|d| std::fs::remove_file(d.join("manifest.sig")).unwrap()), ["signature-missing"]);
    // Re-signed, all hashes consistent, by a key the auditor does not trust.
    let other_dir = org.dir.path().join("mallory");
    let other = evident::sign::keygen(Role::Compliance, "Mallory", &other_dir, None).unwrap();
    let mallory = SecretKey::load(&other.private_key).unwrap();
    assert_eq!(case("untrusted", &|d| reseal(d, &mallory, |_| {})), ["key-untrusted"]);
    // Trusted, but as a certificate performer, not for packs.
    let trust_before = std::fs::read_to_string(&org.trust).unwrap();
    std::fs::write(&org.trust, format!("{trust_before}{}\n", evident::sign::trust_line(Role::Performer, &mallory.public(), "Mallory"))).unwrap();
    assert_eq!(case("wrong-role", &|d| reseal(d, &mallory, |_| {})), ["key-wrong-role"]);
    std::fs::write(&org.trust, trust_before).unwrap();
    // An insider with the real key skips a seq.
    assert_eq!(case("gap", &|d| reseal(d, &key, |m| m["seq"] = 3.into())), ["chain-gap"]);
    assert_eq!(case("unsupported", &|d| reseal(d, &key, |m| m["format"] = "evident-pack/9".into())), ["format-unsupported"]);
}

fn first_source(d: &Path) -> String {
    pack::archive::walk(d).unwrap().into_iter().find(|p| p.starts_with("sources/") && !p.ends_with(".json")).unwrap()
}

#[test]
fn the_chain_catches_rollback_fork_gap_and_a_rewritten_ledger() {
    let org = org();
    let p1 = org.pack("p1", "2026-09-30");
    // Before the second pack, a copy of the store: a second history can grow from it.
    let fork_store = org.dir.path().join("fork.db");
    std::fs::copy(&org.store, &fork_store).unwrap();
    let p2 = org.pack("p2", "2026-10-31");
    let p3 = org.pack("p3", "2026-11-01");
    assert_eq!(org.verify(&p2, &["--since", p1.to_str().unwrap()]), (0, vec![]));
    assert_eq!(org.verify(&p3, &["--since", p1.to_str().unwrap()]), (0, vec![]));
    assert_eq!(org.verify(&p3, &["--since", p2.join("ledger.jsonl").to_str().unwrap()]), (0, vec![]));
    assert_eq!(org.verify(&p3.with_file_name("p3.tar"), &["--since", p2.with_file_name("p2.tar").to_str().unwrap()]), (0, vec![]));
    // An older pack presented as the newer one.
    assert_eq!(org.verify(&p1, &["--since", p2.to_str().unwrap()]).1, ["chain-rollback"]);
    // Two packs with the same predecessor.
    let p2b = org.pack_from(&fork_store, "p2b", "2026-10-30");
    assert_eq!(org.verify(&p2b, &[]), (0, vec![]), "on its own it is a valid pack");
    assert_eq!(org.verify(&p2b, &["--since", p2.to_str().unwrap()]).1, ["chain-fork"]);
    // The ledger of p3 rewritten by an insider holding the real key (p1's entry replaced).
    let key = SecretKey::load(&org.key).unwrap();
    let d = org.dir.path().join("p3-rewritten");
    copy_dir(&p3, &d);
    let ledger = std::fs::read_to_string(d.join("ledger.jsonl")).unwrap();
    let p1_hash = hex::encode(Sha256::digest(std::fs::read(p1.join("manifest.json")).unwrap()));
    std::fs::write(d.join("ledger.jsonl"), ledger.replace(&p1_hash, &"0".repeat(64))).unwrap();
    reseal(&d, &key, |_| {});
    let failed = org.verify(&d, &["--since", p2.to_str().unwrap()]).1;
    assert!(failed.contains(&"ledger-rewritten".to_string()), "{failed:?}");
    // A pack whose ledger dropped p2 (seq 3 straight after seq 1).
    let d = org.dir.path().join("p3-dropped");
    copy_dir(&p3, &d);
    let ledger = std::fs::read_to_string(d.join("ledger.jsonl")).unwrap();
    std::fs::write(d.join("ledger.jsonl"), ledger.lines().next().unwrap().to_string() + "\n").unwrap();
    reseal(&d, &key, |_| {});
    let failed = org.verify(&d, &["--since", p2.to_str().unwrap()]).1;
    assert!(failed.contains(&"chain-gap".to_string()), "{failed:?}");
}

/// A tar built by hand, with raw entry names and types, to try what a hostile archive can hold.
fn hostile_tar(path: &Path, entries: &[(&str, tar::EntryType)]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, kind) in entries {
        let mut h = tar::Header::new_gnu();
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(*kind);
        h.set_size(if kind.is_file() { 3 } else { 0 });
        if kind.is_symlink() {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, if kind.is_file() { &b"abc"[..] } else { &b""[..] }).unwrap();
    }
    b.finish().unwrap();
}

#[test]
fn unsafe_archives_are_refused_before_anything_is_read() {
    let org = org();
    let reg = tar::EntryType::Regular;
    let cases: [(&str, Vec<(&str, tar::EntryType)>); 5] = [
        ("dup", vec![("p/manifest.json", reg), ("p/manifest.json", reg)]),
        ("dotdot", vec![("p/manifest.json", reg), ("p/../../escaped.txt", reg)]),
        ("absolute", vec![("/tmp/evident-absolute.txt", reg)]),
        ("symlink", vec![("p/manifest.json", tar::EntryType::Symlink)]),
        ("hardlink", vec![("p/manifest.json", tar::EntryType::Link)]),
    ];
    for (name, entries) in cases {
        let path = org.dir.path().join(format!("{name}.tar"));
        hostile_tar(&path, &entries);
        let (code, failed) = org.verify(&path, &[]);
        assert_eq!((code, failed), (1, vec!["archive-unsafe".to_string()]), "{name}");
    }
    // Zip: a duplicate entry (a second name patched to equal the first) and a `..` entry.
    let zip_with = |path: &Path, names: &[&str]| {
        let mut zw = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for n in names {
            zw.start_file(*n, opts).unwrap();
            std::io::Write::write_all(&mut zw, b"abc").unwrap();
        }
        zw.finish().unwrap();
    };
    let dup = org.dir.path().join("dup.zip");
    zip_with(&dup, &["p/manifest.json", "p/manifest.jsoX"]);
    let bytes = std::fs::read(&dup).unwrap();
    let patched = String::from_utf8_lossy(&bytes).contains("manifest.jsoX");
    assert!(patched);
    let mut b = bytes.clone();
    for i in 0..b.len() - 13 {
        if &b[i..i + 13] == b"manifest.jsoX" {
            b[i + 12] = b'n';
        }
    }
    std::fs::write(&dup, b).unwrap();
    assert_eq!(org.verify(&dup, &[]), (1, vec!["archive-unsafe".to_string()]), "zip duplicate");
    let climb = org.dir.path().join("climb.zip");
    zip_with(&climb, &["p/manifest.json", "p/../../escaped.txt"]);
    assert_eq!(org.verify(&climb, &[]), (1, vec!["archive-unsafe".to_string()]), "zip ..");
    assert!(!org.dir.path().parent().unwrap().join("escaped.txt").exists(), "nothing extracted");
    assert!(!Path::new("/tmp/evident-absolute.txt").exists(), "nothing extracted");
}

#[test]
fn same_store_and_flags_give_identical_bytes_whatever_tz_or_working_directory() {
    let org = org();
    let copy = org.dir.path().join("copy.db");
    std::fs::copy(&org.store, &copy).unwrap();
    let build_as = |store: &Path, out: &str, tz: &str, cwd: &Path, archive: &str| {
        let out = org.dir.path().join(out);
        let st = std::process::Command::new(assert_cmd::cargo::cargo_bin("evident"))
            .arg("--store")
            .arg(store)
            .args(["pack", "--organisation", "Fernhill Labs", "--as-of", "2026-10-31", "--archive", archive, "--key"])
            .arg(&org.key)
            .arg("--out")
            .arg(&out)
            .env("TZ", tz)
            .current_dir(cwd)
            .output()
            .unwrap();
        assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
        out
    };
    let build = |store: &Path, out: &str, tz: &str, cwd: &Path| build_as(store, out, tz, cwd, "tar");
    let a = build(&org.store, "a", "UTC", org.dir.path());
    let b = build(&copy, "b", "Pacific/Kiritimati", &root());
    let files = pack::archive::walk(&a).unwrap();
    assert_eq!(files, pack::archive::walk(&b).unwrap());
    for f in &files {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
    // An archive holds the pack under its directory name: with the same name, the same bytes.
    let sha = |p: &Path| hex::encode(Sha256::digest(std::fs::read(p).unwrap()));
    let d1 = org.dir.path().join("same1");
    let d2 = org.dir.path().join("same2");
    std::fs::create_dir_all(&d1).unwrap();
    std::fs::create_dir_all(&d2).unwrap();
    let copy2 = org.dir.path().join("copy2.db");
    let copy3 = org.dir.path().join("copy3.db");
    std::fs::copy(&org.store, &copy2).unwrap();
    std::fs::copy(&org.store, &copy3).unwrap();
    let x = build(&copy2, "same1/pack", "UTC", &d1);
    let y = build(&copy3, "same2/pack", "America/St_Johns", &d2);
    assert_eq!(sha(&x.with_file_name("pack.tar")), sha(&y.with_file_name("pack.tar")));
    for (i, tz) in ["UTC", "Australia/Eucla"].iter().enumerate() {
        let d = org.dir.path().join(format!("zip{i}"));
        std::fs::create_dir_all(&d).unwrap();
        let s = org.dir.path().join(format!("zip{i}.db"));
        std::fs::copy(&org.store, &s).unwrap();
        build_as(&s, &format!("zip{i}/pack"), tz, &d, "zip");
    }
    let z0 = sha(&org.dir.path().join("zip0/pack.zip"));
    assert_eq!(z0, sha(&org.dir.path().join("zip1/pack.zip")), "zip archives are byte-identical too");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    /// Any single byte flipped anywhere in any file of a pack is detected.
    #[test]
    fn any_flipped_byte_anywhere_is_detected(file in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let base = shared_pack();
        let trust = TrustList::load(&base.1).unwrap();
        let files = pack::archive::walk(&base.0).unwrap();
        let rel = &files[file.index(files.len())];
        let work = tempfile::tempdir().unwrap();
        copy_dir(&base.0, work.path());
        let p = work.path().join(rel);
        let mut bytes = std::fs::read(&p).unwrap();
        prop_assume!(!bytes.is_empty());
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        std::fs::write(&p, bytes).unwrap();
        let out = evident::verify::pack(work.path(), &trust, None).unwrap();
        prop_assert!(!out.verified, "flipping bit {bit} of byte {i} in {rel} went unnoticed");
    }
}

/// One pack for the whole proptest run (building it spawns evident a few times).
fn shared_pack() -> &'static (PathBuf, PathBuf) {
    static PACK: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    PACK.get_or_init(|| {
        let org = org();
        let dir = org.pack("p", "2026-10-31");
        let _kept = org.dir.keep(); // lives for the whole test process
        (dir, org.trust)
    })
}

#[test]
fn the_order_files_were_ingested_in_does_not_change_the_pack() {
    let org = org();
    let ex = root().join("examples");
    let p = |f: &str| ex.join(f).display().to_string();
    let other = org.dir.path().join("other.db");
    // The same exports, ingested one at a time and in reverse order.
    for f in crate::util::EXAMPLE_EXPORTS.iter().rev() {
        let r = evident(&other, &["ingest", "--source-tz", "Europe/Berlin", &p(f)]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let r = evident(
        &other,
        &["ingest", "--source-tz", "Europe/Berlin", "--as-of", "2026-10-30", "--status-map", &p("snipeit-status-map.yaml"), &p("snipeit-assets.csv")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a_dir = org.dir.path().join("a");
    let b_dir = org.dir.path().join("b");
    std::fs::create_dir_all(&a_dir).unwrap();
    std::fs::create_dir_all(&b_dir).unwrap();
    let a = org.pack_from(&org.store, "a/pack", "2026-10-31");
    let b = org.pack_from(&other, "b/pack", "2026-10-31");
    let files = pack::archive::walk(&a).unwrap();
    assert_eq!(files, pack::archive::walk(&b).unwrap());
    for f in &files {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
}

#[test]
fn markup_in_the_data_is_escaped_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let csv = dir.path().join("register.csv");
    std::fs::write(
        &csv,
        "Asset Name,Asset Tag,Serial,Status,Location\n\"<script>alert(1)</script>{{ x }}\",X-<b>1</b>,To Be Filled By O.E.M.,Ready to Deploy (deployed),\"<img src=x onerror=alert(2)>\"\n",
    )
    .unwrap();
    let r = evident(&store, &["ingest", "--source-tz", "UTC", "--as-of", "2026-10-30", csv.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let keys = dir.path().join("keys");
    assert_eq!(evident(&store, &["keygen", "--role", "compliance", "--name", "K", "--out", keys.to_str().unwrap()]).code, 0);
    let out = dir.path().join("p");
    let r = evident(
        &store,
        &[
            "pack",
            "--organisation",
            "Fernhill Labs",
            "--as-of",
            "2026-10-31",
            "--key",
            keys.join("k.key.pem").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    // Tables of any length carry their rows as JSON in <script type="application/json"> (the page
    // sets them as text): < > & are \u escapes there, so no value closes the element; `{{ x }}` in
    // data is text, never a template.
    assert!(html.contains("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e{{ x }}"), "the name is in the data, escaped");
    assert!(html.contains("X-\\u003cb\\u003e1\\u003c/b\\u003e"), "the tag is in the data, escaped");
    assert!(!html.contains("<script>alert") && !html.contains("<b>1</b>") && !html.contains("<img src=x"), "no markup from the data survives");
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert_eq!(scripts.iter().filter(|s| !s.starts_with(" type=\"application/json\"")).count(), 1, "the report's own inline script only");
    // The data reads back as the values themselves.
    let start = html.find("<script type=\"application/json\" id=\"data-findings\">").unwrap();
    let body = &html[start..];
    let json: serde_json::Value = serde_json::from_str(&body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()]).unwrap();
    assert_eq!(json["rows"][0][2], "<script>alert(1)</script>{{ x }}");
    assert_eq!(json["rows"][0][1], "X-<b>1</b>");
}
