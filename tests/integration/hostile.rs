//! `verify` under attack: directory packs that reach outside themselves, chains the auditor
//! cannot pin, oversized and malformed unsigned files, terminal escapes, the wrong kind of file.
//! Every case is rejected with a named code or a clean exit 2, within a time limit, never a
//! panic or a hang.

use crate::pack::{Org, copy_dir, org, reseal};
use crate::util::evident;
use evident::sign::SecretKey;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `verify --format json` on `pack`, killed after 20 s (a hang is a failure, not a stuck CI run).
fn verify(org: &Org, pack: &Path, extra: &[&str]) -> (i32, Vec<String>, serde_json::Value) {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("evident"));
    cmd.args(["verify", pack.to_str().unwrap(), "--trust", org.trust.to_str().unwrap(), "--format", "json"]).args(extra);
    let (code, stdout, stderr) = run_limited(cmd, Duration::from_secs(20));
    assert!(code == 0 || code == 1, "verify could not run ({code}): {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let failed = v["checks"].as_array().unwrap().iter().filter(|c| c["ok"] == false).map(|c| c["code"].as_str().unwrap().to_string()).collect();
    (code, failed, v)
}

/// Runs a command with a deadline; a command still running at the deadline is killed and fails the test.
pub fn run_limited(mut cmd: std::process::Command, limit: Duration) -> (i32, String, String) {
    let mut child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("starts");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("still running after {limit:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn fresh(org: &Org, pack: &Path, name: &str) -> PathBuf {
    let d = org.dir.path().join(name);
    copy_dir(pack, &d);
    d
}

#[test]
fn a_directory_pack_never_reads_outside_itself() {
    let org = org();
    let p = org.pack("p1", "2026-10-31");
    assert_eq!(verify(&org, &p, &[]).1, Vec::<String>::new());
    let outside = org.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    // A listed file replaced by a symlink to an identical copy elsewhere.
    let d = fresh(&org, &p, "symlink-listed");
    std::fs::copy(d.join("results/evaluation.json"), outside.join("evaluation.json")).unwrap();
    std::fs::remove_file(d.join("results/evaluation.json")).unwrap();
    std::os::unix::fs::symlink(outside.join("evaluation.json"), d.join("results/evaluation.json")).unwrap();
    assert_eq!(verify(&org, &d, &[]).1, ["path-unsafe"]);
    // manifest.json itself a symlink to an identical copy.
    let d = fresh(&org, &p, "symlink-manifest");
    std::fs::copy(d.join("manifest.json"), outside.join("manifest.json")).unwrap();
    std::fs::remove_file(d.join("manifest.json")).unwrap();
    std::os::unix::fs::symlink(outside.join("manifest.json"), d.join("manifest.json")).unwrap();
    assert_eq!(verify(&org, &d, &[]).1, ["path-unsafe"]);
    // An unlisted FIFO: opening it for reading would block forever.
    let d = fresh(&org, &p, "fifo");
    let fifo = d.join("results/pipe");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    assert_eq!(verify(&org, &d, &[]).1, ["path-unsafe"]);
    // A symlink to /dev/zero: reading it never ends.
    let d = fresh(&org, &p, "devzero");
    std::os::unix::fs::symlink("/dev/zero", d.join("results/zero")).unwrap();
    assert_eq!(verify(&org, &d, &[]).1, ["path-unsafe"]);
    // A directory of the pack replaced by a symlink to a copy of it.
    let d = fresh(&org, &p, "symlink-dir");
    copy_dir(&d.join("controls"), &outside.join("controls"));
    std::fs::remove_dir_all(d.join("controls")).unwrap();
    std::os::unix::fs::symlink(outside.join("controls"), d.join("controls")).unwrap();
    assert_eq!(verify(&org, &d, &[]).1, ["path-unsafe"]);
    // A dangling symlink, unlisted.
    let d = fresh(&org, &p, "dangling");
    std::os::unix::fs::symlink("/nonexistent/evident", d.join("notes.txt")).unwrap();
    assert_eq!(verify(&org, &d, &[]).1, ["path-unsafe"]);
}

#[test]
fn unsigned_small_files_are_bounded_and_malformed_ones_never_panic() {
    let org = org();
    let p = org.pack("p1", "2026-10-31");
    let key = SecretKey::load(&org.key).unwrap();
    // manifest.sig grown to 64 MiB: not read into memory.
    let d = fresh(&org, &p, "big-sig");
    let f = std::fs::OpenOptions::new().append(true).open(d.join("manifest.sig")).unwrap();
    f.set_len(64 << 20).unwrap();
    let (_, failed, _) = verify(&org, &d, &[]);
    assert!(failed.contains(&"file-too-large".to_string()), "{failed:?}");
    // signer.pub.pem of 1 MiB.
    let d = fresh(&org, &p, "big-key");
    std::fs::write(d.join("signer.pub.pem"), vec![b'A'; 1 << 20]).unwrap();
    assert!(verify(&org, &d, &[]).1.contains(&"file-too-large".to_string()));
    // A manifest whose sha256 values are not hex (multi-byte characters where a slice would panic).
    let d = fresh(&org, &p, "non-ascii-sha");
    reseal(&d, &key, |m| m["files"][0]["sha256"] = "é".repeat(40).into());
    let failed = verify(&org, &d, &[]).1;
    assert!(failed.contains(&"manifest-invalid".to_string()), "{failed:?}");
    // A manifest that is not JSON, or JSON of the wrong shape, or empty.
    for (name, bytes) in [("garbage", b"\xff\xfe{{{".to_vec()), ("array", b"[1,2,3]".to_vec()), ("empty", Vec::new())] {
        let d = fresh(&org, &p, name);
        std::fs::write(d.join("manifest.json"), bytes).unwrap();
        let failed = verify(&org, &d, &[]).1;
        assert!(failed.contains(&"manifest-invalid".to_string()), "{name}: {failed:?}");
    }
}

#[test]
fn what_the_auditor_keeps_pins_every_pack_including_the_last() {
    let org = org();
    let p1 = org.pack("p1", "2026-09-30");
    let fork_store = org.dir.path().join("fork.db");
    let p2 = org.pack("p2", "2026-10-31");
    // The auditor verifies p2 and keeps its checkpoint.
    let cp = org.dir.path().join("p2.checkpoint.jsonl");
    let (code, failed, _) = verify(&org, &p2, &["--since", p1.to_str().unwrap(), "--checkpoint", cp.to_str().unwrap()]);
    assert_eq!((code, failed), (0, vec![]));
    let kept = std::fs::read_to_string(&cp).unwrap();
    assert_eq!(kept.lines().count(), 2, "seq 1 and seq 2 itself: {kept}");
    // A pack checked against itself proves nothing.
    assert_eq!(verify(&org, &p2, &["--since", p2.to_str().unwrap()]).1, ["chain-rollback"]);
    assert_eq!(verify(&org, &p2, &["--since", cp.to_str().unwrap()]).1, ["chain-rollback"]);
    // The key holder rewrites p2 (another evaluation, re-signed) and builds p3 on the rewrite.
    std::fs::copy(&org.store, &fork_store).unwrap();
    let db = rusqlite::Connection::open(&fork_store).unwrap();
    db.execute("DELETE FROM pack WHERE seq = 2", []).unwrap();
    drop(db);
    let p2b = org.pack_from(&fork_store, "p2b", "2026-10-30");
    let p3b = org.pack_from(&fork_store, "p3b", "2026-11-30");
    // p2's own ledger (seq 1 only) cannot see it; the checkpoint can.
    assert_eq!(verify(&org, &p3b, &["--since", p2.join("ledger.jsonl").to_str().unwrap()]).1, Vec::<String>::new(), "the weakness of keeping only a ledger");
    assert_eq!(verify(&org, &p3b, &["--since", cp.to_str().unwrap()]).1, ["chain-fork"], "p3b builds on another seq 2 than the one the auditor saw");
    assert_eq!(verify(&org, &p2b, &["--since", cp.to_str().unwrap()]).1, ["chain-fork"]);
    // A failed verification writes no checkpoint.
    let none = org.dir.path().join("none.jsonl");
    verify(&org, &p2b, &["--since", cp.to_str().unwrap(), "--checkpoint", none.to_str().unwrap()]);
    assert!(!none.exists());
}

#[test]
fn untrusted_text_is_escaped_and_the_kind_is_checked() {
    let org = org();
    let p = org.pack("p1", "2026-10-31");
    // A pack whose directory name carries terminal escapes: "verified" painted over the verdict.
    let evil = org.dir.path().join("p\u{1b}[2K\r\u{1b}[32mverified: all good\u{1b}[0m");
    copy_dir(&p, &evil);
    std::fs::write(evil.join("results/evaluation.json"), b"{}").unwrap();
    let r = evident(&org.store, &["verify", evil.to_str().unwrap(), "--trust", org.trust.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains('\u{1b}') && !r.stdout.contains('\r'), "{:?}", r.stdout);
    assert!(r.stdout.contains("NOT verified: ") && r.stdout.contains("\\u{1b}[32mverified"), "{}", r.stdout);
    // JSON says what kind of thing was verified; --expect refuses the other kind.
    let (_, _, v) = verify(&org, &p, &[]);
    assert_eq!(v["kind"], "pack");
    let r = evident(&org.store, &["verify", p.to_str().unwrap(), "--trust", org.trust.to_str().unwrap(), "--expect", "certificate"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a certificate"), "{}", r.stderr);
    let cert = org.dir.path().join("c.json");
    std::fs::write(&cert, b"{}").unwrap();
    let r = evident(&org.store, &["verify", cert.to_str().unwrap(), "--trust", org.trust.to_str().unwrap(), "--expect", "pack"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is a certificate, not a pack"), "{}", r.stderr);
}
