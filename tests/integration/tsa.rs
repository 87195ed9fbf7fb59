//! RFC 3161 timestamps: a local Time-Stamping Authority made with `openssl ts -reply` (an RSA
//! root and a TSA certificate with the critical timeStamping EKU) behind an HTTP responder this
//! test starts on loopback. Packs and certificates with tokens verify with evident and with the
//! `openssl ts -verify` recipe of the docs; an edited manifest, a token from another root, a token
//! over other bytes, a replayed reply, an unreachable TSA and a chain going back in time fail.

use crate::pack::{copy_dir, org};
use crate::util::{evident, root};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A TSA on loopback: its root certificate and URL.
pub struct Tsa {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub url: String,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    /// Answers each request.
    Answer,
    /// Answers with a reply to another request over the same bytes (its own nonce): what a
    /// replayed or mixed-up reply looks like.
    OtherNonce,
}

fn sh(dir: &Path, script: &str) {
    let out = std::process::Command::new("bash").args(["-euo", "pipefail", "-c", script]).current_dir(dir).output().expect("bash runs");
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Makes a CA and a TSA certificate named `name`, and serves `openssl ts -reply` on loopback.
pub fn start(name: &str, mode: Mode) -> Tsa {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sh(
        d,
        &format!(
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj '/CN={name} Root' -days 3650 \
               -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
             openssl req -newkey rsa:2048 -nodes -keyout tsa.key -out tsa.csr -subj '/CN={name}' 2>/dev/null
             printf 'extendedKeyUsage=critical,timeStamping\\nkeyUsage=critical,digitalSignature\\nbasicConstraints=CA:FALSE\\n' > ext.cnf
             openssl x509 -req -in tsa.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tsa.crt -days 3650 -extfile ext.cnf 2>/dev/null
             echo 01 > tsaserial"
        ),
    );
    let cnf = format!(
        "[tsa]\ndefault_tsa = tsa1\n[tsa1]\ndir = {}\nserial = $dir/tsaserial\ncrypto_device = builtin\nsigner_cert = $dir/tsa.crt\ncerts = $dir/ca.crt\n\
         signer_key = $dir/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\naccuracy = secs:1\nordering = no\n\
         tsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
        d.display()
    );
    std::fs::write(d.join("ts.cnf"), cnf).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let work = d.to_path_buf();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut s) = stream else { continue };
            let Some((_, _, _, body)) = crate::util::read_request(&mut s) else { continue };
            let q = work.join(format!("q{n}.tsq"));
            let r = work.join(format!("r{n}.tsr"));
            std::fs::write(&q, &body).unwrap();
            if mode == Mode::OtherNonce {
                // The imprint is the request's one 32-byte OCTET STRING.
                let at = body.windows(2).position(|w| w == [0x04, 0x20]).unwrap() + 2;
                let digest = hex::encode(&body[at..at + 32]);
                let made = std::process::Command::new("openssl").args(["ts", "-query", "-sha256", "-cert", "-digest", &digest, "-out"]).arg(&q).output();
                assert!(made.is_ok_and(|o| o.status.success()));
            }
            let ok = std::process::Command::new("openssl")
                .args(["ts", "-reply", "-config"])
                .arg(work.join("ts.cnf"))
                .arg("-queryfile")
                .arg(&q)
                .arg("-out")
                .arg(&r)
                .output()
                .is_ok_and(|o| o.status.success());
            let reply = if ok { std::fs::read(&r).unwrap() } else { Vec::new() };
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", reply.len());
            let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(&reply));
        }
    });
    Tsa { root: d.join("ca.crt"), url, dir }
}

/// `evident verify` of a pack in JSON, with extra flags: exit code, failed codes, the output.
fn verify(store: &Path, pack: &Path, trust: &Path, extra: &[&str]) -> (i32, Vec<String>, serde_json::Value) {
    let mut args = vec!["verify", pack.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--format", "json"];
    args.extend(extra);
    let r = evident(store, &args);
    assert!(r.code == 0 || r.code == 1, "verify could not run: {}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let failed = v["checks"].as_array().unwrap().iter().filter(|c| c["ok"] == false).map(|c| c["code"].as_str().unwrap().to_string()).collect();
    (r.code, failed, v)
}

#[test]
fn a_time_stamped_pack_verifies_with_evident_and_openssl_and_every_forgery_fails() {
    let tsa = start("Test TSA", Mode::Answer);
    let other = start("Other TSA", Mode::Answer);
    let o = org();
    let p1 = o.dir.path().join("p1");
    o.pack_into(&o.store, &p1, &["--as-of", "2026-10-31", "--tsa", &tsa.url, "--archive", "tar"]);
    assert!(p1.join("manifest.tsr").is_file());
    let root = tsa.root.to_str().unwrap();
    let (code, failed, v) = verify(&o.store, &p1, &o.trust, &["--tsa-trust", root]);
    assert_eq!((code, failed), (0, vec![]));
    let stamped = v["timestamp"].as_str().unwrap().to_string();
    assert!(v["checks"].as_array().unwrap().iter().any(|c| c["code"] == "timestamp" && c["ok"] == true));
    // The human verdict says when, as the TSA vouches.
    let r = evident(&o.store, &["verify", p1.to_str().unwrap(), "--trust", o.trust.to_str().unwrap(), "--tsa-trust", root]);
    assert!(r.stdout.contains(&format!("; time-stamped {stamped}")), "{}", r.stdout);
    // The archive carries it too, and verifies the same.
    assert_eq!(verify(&o.store, &p1.with_file_name("p1.tar"), &o.trust, &["--tsa-trust", root]).0, 0);
    // Without --tsa-trust the token is present but unchecked: never "verified" as a timestamp.
    let (code, _, v) = verify(&o.store, &p1, &o.trust, &[]);
    assert_eq!(code, 0);
    assert!(v["timestamp"].is_null());
    assert!(v["checks"].as_array().unwrap().iter().any(|c| c["code"] == "timestamp-unchecked"));

    // The stock recipe of FORMAT.md, run literally.
    let doc = std::fs::read_to_string(root_dir().join("docs/FORMAT.md")).unwrap();
    let section = &doc[doc.find("## 9. Timestamps").expect("FORMAT.md §9")..];
    let recipe = section.split("```").nth(1).unwrap().trim();
    let script = format!("cp {} tsa-root.pem\n{recipe}", root);
    sh(&copy_of(&p1, o.dir.path(), "stock"), &script);

    // Another TSA's token, checked against our root: untrusted.
    let p2 = o.dir.path().join("p2");
    o.pack_into(&o.store, &p2, &["--as-of", "2026-10-31", "--tsa", &other.url]);
    assert_eq!(verify(&o.store, &p2, &o.trust, &["--tsa-trust", root]).1, ["timestamp-untrusted"]);
    // Its own root verifies it; both roots given, both packs verify.
    assert_eq!(verify(&o.store, &p2, &o.trust, &["--tsa-trust", other.root.to_str().unwrap()]).0, 0);
    // A token over other bytes: p2's token moved into p1.
    let moved = copy_of(&p1, o.dir.path(), "moved");
    std::fs::copy(p2.join("manifest.tsr"), moved.join("manifest.tsr")).unwrap();
    assert_eq!(verify(&o.store, &moved, &o.trust, &["--tsa-trust", other.root.to_str().unwrap()]).1, ["timestamp-mismatch"]);
    // An edited manifest: its signature and its timestamp both fail.
    let edited = copy_of(&p1, o.dir.path(), "edited");
    let m = std::fs::read_to_string(edited.join("manifest.json")).unwrap().replacen("\"seq\":1", "\"seq\":7", 1);
    std::fs::write(edited.join("manifest.json"), m).unwrap();
    let failed = verify(&o.store, &edited, &o.trust, &["--tsa-trust", root]).1;
    assert!(failed.contains(&"signature-invalid".to_string()) && failed.contains(&"timestamp-mismatch".to_string()), "{failed:?}");
    // Garbage where the token should be.
    let garbage = copy_of(&p1, o.dir.path(), "garbage");
    std::fs::write(garbage.join("manifest.tsr"), b"\x30\x82\x01\x00not a token").unwrap();
    assert_eq!(verify(&o.store, &garbage, &o.trust, &["--tsa-trust", root]).1, ["timestamp-invalid"]);
    // --tsa-trust asks for a token: a pack without one fails.
    let bare = copy_of(&p1, o.dir.path(), "bare");
    std::fs::remove_file(bare.join("manifest.tsr")).unwrap();
    assert_eq!(verify(&o.store, &bare, &o.trust, &["--tsa-trust", root]).1, ["timestamp-missing"]);

    // A chain whose timestamps go backwards: p1 time-stamped again, after p3 was, and p3
    // checked against it: the older pack of the chain carries the later time.
    let p3 = o.dir.path().join("p3");
    o.pack_into(&o.store, &p3, &["--as-of", "2026-10-31", "--tsa", &tsa.url]);
    assert_eq!(verify(&o.store, &p3, &o.trust, &["--tsa-trust", root, "--since", p1.to_str().unwrap()]).0, 0);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let p1_later = copy_of(&p1, o.dir.path(), "p1-later");
    std::fs::write(p1_later.join("manifest.tsr"), stamp_again(&tsa, &p1_later.join("manifest.json"))).unwrap();
    assert_eq!(verify(&o.store, &p1_later, &o.trust, &["--tsa-trust", root]).0, 0, "a later token over the same manifest is valid");
    let (_, failed, _) = verify(&o.store, &p3, &o.trust, &["--tsa-trust", root, "--since", p1_later.to_str().unwrap()]);
    assert_eq!(failed, ["timestamp-backwards"], "{stamped}");
}

#[test]
fn a_pack_whose_tsa_fails_is_not_written() {
    let o = org();
    // Nothing listens on this port (bound, then dropped).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = o.dir.path().join("p");
    let r = pack_with_tsa(&o, &out, &format!("http://127.0.0.1:{port}/tsa"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot be reached"), "{}", r.stderr);
    assert!(!out.exists(), "nothing written");
    assert_eq!(crate::util::count(&o.store, "SELECT count(*) FROM pack"), 0, "the store records no pack");
    // A reply to another request (a replay): its nonce is not ours; refused, nothing written.
    let replay = start("Replay TSA", Mode::OtherNonce);
    let second = o.dir.path().join("second");
    let r = pack_with_tsa(&o, &second, &replay.url);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nonce"), "{}", r.stderr);
    assert!(!second.exists());
    // A second TSA after a failing one: the pack is made with the one that works.
    let good = start("Good TSA", Mode::Answer);
    let third = o.dir.path().join("third");
    o.pack_into(&o.store, &third, &["--as-of", "2026-10-31", "--tsa", &format!("http://127.0.0.1:{port}/tsa"), "--tsa", &good.url]);
    assert_eq!(verify(&o.store, &third, &o.trust, &["--tsa-trust", good.root.to_str().unwrap()]).0, 0);
}

/// `evident pack` of the organisation into `out` with one TSA, expected to fail.
fn pack_with_tsa(o: &crate::pack::Org, out: &Path, tsa: &str) -> crate::util::Run {
    let args =
        ["pack", "--organisation", "Fernhill Labs", "--as-of", "2026-10-31", "--key", o.key.to_str().unwrap(), "--out", out.to_str().unwrap(), "--tsa", tsa];
    evident(&o.store, &args)
}

fn root_dir() -> PathBuf {
    root()
}

fn copy_of(pack: &Path, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    copy_dir(pack, &to);
    to
}

/// A new reply from `tsa` over `data`, made directly with `openssl ts` (as the TSA would answer).
fn stamp_again(tsa: &Tsa, data: &Path) -> Vec<u8> {
    let d = tsa.dir.path();
    sh(
        d,
        &format!(
            "openssl ts -query -data '{}' -sha256 -cert -out again.tsq 2>/dev/null && openssl ts -reply -config ts.cnf -queryfile again.tsq -out again.tsr 2>/dev/null",
            data.display()
        ),
    );
    std::fs::read(d.join("again.tsr")).unwrap()
}

/// A certificate whose signature and countersignature are time-stamped: its PDF verifies with
/// evident and with the docs/certificates.md recipe; a swapped token, another TSA's root and a
/// certificate without tokens fail with their codes; a TSA that fails signs nothing.
#[test]
fn a_time_stamped_certificate_verifies_with_evident_and_openssl() {
    let tsa = start("Test TSA", Mode::Answer);
    let other = start("Other TSA", Mode::Answer);
    let d = crate::certificate::desk();
    let (o, trust) = (&d.org, &d.trust);
    let certs = o.dir.path().join("certs");
    let run = |args: &[&str]| {
        let r = evident(&o.store, args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    };
    let c = certs.to_str().unwrap();
    run(&[
        "certificate",
        "new",
        "--drive",
        "SQYUG59YR5JBDN",
        "--organisation",
        "Fernhill Ltd",
        "--classification",
        "Confidential",
        "--destination",
        "Recycled",
        "--performer",
        "Sam Lee",
        "--out",
        c,
    ]);
    // A TSA that cannot be reached: nothing is signed, the file is as it was.
    let file = std::fs::read_dir(&certs).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap();
    let before = std::fs::read(&file).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let r = evident(&o.store, &["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), "--tsa", &format!("http://127.0.0.1:{port}/"), c]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing signed");
    run(&["certificate", "sign", "--key", d.key("sam-lee").to_str().unwrap(), "--tsa", &tsa.url, c]);
    run(&["certificate", "countersign", "--key", d.key("ana-ruiz").to_str().unwrap(), "--tsa", &tsa.url, c]);
    run(&["certificate", "render", c]);
    let cert: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let overs: Vec<&str> = cert["timestamps"].as_array().unwrap().iter().map(|t| t["over"].as_str().unwrap()).collect();
    assert_eq!(overs, ["performer_signature", "verifier_signature"]);
    let pdf = file.with_extension("pdf");
    let verify = |f: &Path, extra: &[&str]| verify(&o.store, f, trust, extra);
    let root = tsa.root.to_str().unwrap();
    let (code, failed, v) = verify(&pdf, &["--tsa-trust", root]);
    assert_eq!((code, failed), (0, vec![]));
    assert_eq!(v["checks"].as_array().unwrap().iter().filter(|c| c["code"] == "timestamp" && c["ok"] == true).count(), 2);
    assert_eq!(verify(&file, &["--tsa-trust", root]).0, 0);
    assert!(verify(&file, &[]).2["checks"].as_array().unwrap().iter().any(|c| c["code"] == "timestamp-unchecked"));
    assert_eq!(verify(&file, &["--tsa-trust", other.root.to_str().unwrap()]).1, ["timestamp-untrusted", "timestamp-untrusted"]);
    // The two tokens swapped: each is over the other signature's bytes.
    let mut swapped = cert.clone();
    let t = swapped["timestamps"].as_array_mut().unwrap();
    let (a, b) = (t[0]["reply"].clone(), t[1]["reply"].clone());
    t[0]["reply"] = b;
    t[1]["reply"] = a;
    let sw = o.dir.path().join("swapped.json");
    std::fs::write(&sw, serde_jcs::to_vec(&swapped).unwrap().into_iter().chain([b'\n']).collect::<Vec<u8>>()).unwrap();
    assert_eq!(verify(&sw, &["--tsa-trust", root]).1, ["timestamp-mismatch", "timestamp-mismatch"]);

    // docs/certificates.md's recipe, run literally on the PDF.
    let doc = std::fs::read_to_string(root_dir().join("docs/certificates.md")).unwrap();
    let section = &doc[doc.find("## Timestamps (RFC 3161)").expect("certificates.md has the section")..];
    let recipe = section.split("```bash").nth(1).unwrap().split("```").next().unwrap();
    let work = o.dir.path().join("stock");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::copy(&pdf, work.join("c.pdf")).unwrap();
    std::fs::copy(&tsa.root, work.join("tsa-root.pem")).unwrap();
    sh(&work, recipe);
}

/// An auditor's sample time-stamped when drawn: verifies with the TSA's root, not with another's.
#[test]
fn a_time_stamped_sample_verifies() {
    let tsa = start("Test TSA", Mode::Answer);
    let other = start("Other TSA", Mode::Answer);
    let o = org();
    let pack = o.pack("p1", "2026-10-31");
    let keys = o.dir.path().join("auditor");
    let r = evident(&o.store, &["keygen", "--no-passphrase", "--role", "auditor", "--name", "Ines Park", "--out", keys.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let trust = o.dir.path().join("all.trust");
    std::fs::write(&trust, std::fs::read_to_string(&o.trust).unwrap() + &std::fs::read_to_string(keys.join("ines-park.trust")).unwrap()).unwrap();
    let out = o.dir.path().join("s.json");
    let (p, t, k) = (pack.to_str().unwrap(), trust.to_str().unwrap(), keys.join("ines-park.key.pem"));
    let r = evident(
        &o.store,
        &["sample", p, "--trust", t, "--control", "ENC-01", "--seed", "1", "--key", k.to_str().unwrap(), "--out", out.to_str().unwrap(), "--tsa", &tsa.url],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = out.to_str().unwrap();
    let (code, failed, v) = verify(&o.store, &out, &trust, &["--pack", p, "--tsa-trust", tsa.root.to_str().unwrap()]);
    assert_eq!((code, failed), (0, vec![]), "{v}");
    assert!(v["checks"].as_array().unwrap().iter().any(|c| c["code"] == "timestamp" && c["ok"] == true));
    assert_eq!(verify(&o.store, &out, &trust, &["--pack", p, "--tsa-trust", other.root.to_str().unwrap()]).1, ["timestamp-untrusted"], "{s}");
}

/// Hostile tokens: a genuine reply with any byte changed, cut short or grown never panics, and
/// never verifies over other data; random bytes are invalid.
#[test]
fn mutated_and_random_tokens_never_panic_and_never_verify_other_data() {
    use proptest::prelude::*;
    let tsa = start("Fuzz TSA", Mode::Answer);
    let data = tsa.dir.path().join("data.bin");
    std::fs::write(&data, b"manifest bytes").unwrap();
    let reply = stamp_again(&tsa, &data);
    let roots = evident::timestamp::load_roots(&std::fs::read(&tsa.root).unwrap()).unwrap();
    let digest: [u8; 32] = sha2::Digest::finalize(sha2::Digest::chain_update(<sha2::Sha256 as sha2::Digest>::new(), b"manifest bytes")).into();
    assert!(evident::timestamp::verify(&reply, &digest, &roots).is_ok(), "the genuine reply verifies");
    let other = [7u8; 32];
    assert!(evident::timestamp::verify(&reply, &other, &roots).is_err());
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config { cases: 512, ..Default::default() });
    let len = reply.len();
    runner
        .run(&(0..len, any::<u8>(), 0..len + 64, proptest::collection::vec(any::<u8>(), 0..300)), |(at, byte, cut, junk)| {
            let mut flipped = reply.clone();
            flipped[at] ^= byte | 1;
            let r = evident::timestamp::verify(&flipped, &other, &roots);
            prop_assert!(r.is_err(), "a changed reply never verifies over other data");
            let _ = evident::timestamp::verify(&flipped, &digest, &roots);
            let _ = evident::timestamp::verify(&reply[..cut.min(len)], &digest, &roots);
            let mut grown = reply.clone();
            grown.extend_from_slice(&junk);
            let _ = evident::timestamp::verify(&grown, &digest, &roots);
            prop_assert!(evident::timestamp::verify(&junk, &digest, &roots).is_err());
            Ok(())
        })
        .unwrap();
}
