//! `verify` under attack: directory packs that reach outside themselves, chains the auditor
//! cannot pin, oversized and malformed unsigned files, terminal escapes, the wrong kind of file.
//! Every case is rejected with a named code or a clean exit 2, within a time limit, never a
//! panic or a hang.

use crate::pack::{Org, copy_dir, org, reseal};
use crate::util::evident;
use evident::sign::SecretKey;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `verify --format json` on `pack`, killed after 20 s (a hang is a failure, not a stuck CI run)
/// and measured: at most 64 MiB resident.
fn verify(org: &Org, pack: &Path, extra: &[&str]) -> (i32, Vec<String>, serde_json::Value) {
    let args: Vec<&str> = [&["verify", pack.to_str().unwrap(), "--trust", org.trust.to_str().unwrap(), "--format", "json"][..], extra].concat();
    let (code, stdout, rss) = run_measured(&args, Duration::from_secs(20));
    assert!(code == 0 || code == 1, "verify could not run ({code}): {stdout}");
    assert!(rss < 64 * 1024, "{}: peak RSS {rss} KiB", pack.display());
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
    // A symlink loop.
    let d = fresh(&org, &p, "loop");
    std::os::unix::fs::symlink(d.join("results/loop"), d.join("results/loop")).unwrap();
    assert_eq!(verify(&org, &d, &[]).1, ["path-unsafe"]);
    // A Unix socket.
    let d = fresh(&org, &p, "socket");
    let _listener = std::os::unix::net::UnixListener::bind(d.join("results/sock")).unwrap();
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
    // A file inside the pack whose name paints over the report line.
    let d = fresh(&org, &p, "escape-member");
    std::fs::write(d.join("results/\u{1b}]0;owned\u{7}\u{1b}[1A\rok    everything"), b"x").unwrap();
    let r = evident(&org.store, &["verify", d.to_str().unwrap(), "--trust", org.trust.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{7}') && !r.stdout.contains('\r'), "{:?}", r.stdout);
    assert!(r.stdout.contains("FAIL  file-unexpected"), "{}", r.stdout);
    // A certificate file whose name carries escapes: the verdict line is escaped too.
    let cert = org.dir.path().join("c\u{1b}[2K\rverified: COS-1.json");
    std::fs::write(&cert, r#"{"record":{}}"#).unwrap();
    let r = evident(&org.store, &["verify", cert.to_str().unwrap(), "--trust", org.trust.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains('\u{1b}') && r.stdout.contains("NOT verified: ") && r.stdout.contains("\\u{1b}[2K\\u{d}verified"), "{:?}", r.stdout);
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

/// Runs `evident ARGS` to completion within `limit` under GNU time, returning its exit code,
/// stdout and peak resident memory in KiB (GNU time reads it from `wait4`'s rusage of that one
/// child, so other tests' processes do not count).
pub fn run_measured(args: &[&str], limit: Duration) -> (i32, String, u64) {
    let marker = "evident-peak-rss-kib=";
    let mut cmd = std::process::Command::new("/usr/bin/time");
    cmd.arg("-f").arg(format!("{marker}%M")).arg(assert_cmd::cargo::cargo_bin("evident")).args(args);
    let (code, stdout, stderr) = run_limited(cmd, limit);
    let rss = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(marker))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("GNU time (/usr/bin/time; .ci/run installs it) reported no peak RSS: {stderr}"));
    assert!(!stderr.contains("panicked"), "{stderr}");
    (code, stdout, rss)
}

/// `evident verify` of a hostile file, measured: it must end (exit 1: checked and refused, or
/// 2: could not read it) within 20 s and 64 MiB of resident memory.
fn refused_within_bounds(org: &Org, file: &Path) -> serde_json::Value {
    let (code, stdout, rss) =
        run_measured(&["verify", file.to_str().unwrap(), "--trust", org.trust.to_str().unwrap(), "--format", "json"], Duration::from_secs(20));
    assert!(code == 1 || code == 2, "{}: exit {code}: {stdout}", file.display());
    assert!(rss < 64 * 1024, "{}: peak RSS {rss} KiB", file.display());
    serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null)
}

fn failed_codes(v: &serde_json::Value) -> Vec<String> {
    v["checks"].as_array().map(|a| a.iter().filter(|c| c["ok"] == false).map(|c| c["code"].as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

/// One tar member as evident's writer lays it out.
fn tar_member(path: &str, data: &[u8], kind: tar::EntryType, size_override: Option<u64>) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path).unwrap();
    h.set_size(size_override.unwrap_or(data.len() as u64));
    h.set_mode(0o644);
    h.set_entry_type(kind);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

#[test]
fn a_tar_pack_is_exactly_the_archive_evident_writes_or_it_is_refused() {
    let org = org();
    let p = org.pack("p1", "2026-10-31");
    let tar = p.with_file_name("p1.tar");
    let genuine = std::fs::read(&tar).unwrap();
    assert_eq!(verify(&org, &tar, &[]).1, Vec::<String>::new());
    let end = genuine.len() - 1024; // the two zero blocks
    let forged_eval = br#"{"controls":[],"scope":"all passed"}"#;
    let write = |name: &str, bytes: &[u8]| {
        let f = org.dir.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        f
    };
    let refused = |name: &str, bytes: &[u8]| {
        let v = refused_within_bounds(&org, &write(name, bytes));
        let failed = failed_codes(&v);
        assert!(failed.iter().any(|c| c == "archive-unsafe" || c == "archive-not-canonical"), "{name}: {failed:?}");
    };
    // A directory entry whose declared size hides a member that GNU tar and Python extract.
    let inner = tar_member("p1/results/evaluation.json", forged_eval, tar::EntryType::Regular, None);
    let mut hidden = tar_member("p1/results/", &inner, tar::EntryType::Directory, None);
    hidden.extend_from_slice(&genuine);
    refused("dir-hides-member.tar", &hidden);
    // A member after the end-of-archive blocks.
    let mut after = genuine.clone();
    after.extend(tar_member("p1/results/evaluation.json", forged_eval, tar::EntryType::Regular, None));
    refused("after-end.tar", &after);
    // A tar with a zip appended, named .zip.
    let mut both = genuine.clone();
    both.extend(std::fs::read(org.pack("p2", "2026-10-31").with_file_name("p2.tar")).unwrap());
    refused("tar-then-more.zip", &both);
    // Own cases: a mode changed (checksum fixed), a PAX header, a non-zero byte in padding,
    // the end blocks cut off, a member cut short, a GNU long name declaring 320 MiB.
    let mut mode = genuine.clone();
    let mut h = tar::Header::from_byte_slice(&mode[..512]).clone();
    h.set_mode(0o755);
    h.set_cksum();
    mode[..512].copy_from_slice(h.as_bytes());
    refused("mode.tar", &mode);
    let mut pax = tar_member("p1/PaxHeaders/x", b"30 path=p1/results/evil.json\n", tar::EntryType::XHeader, None);
    pax.extend_from_slice(&genuine);
    refused("pax.tar", &pax);
    let first = tar::Header::from_byte_slice(&genuine[..512]).entry_size().unwrap() as usize;
    assert!(!first.is_multiple_of(512), "the first member needs padding for this case");
    let mut pad = genuine.clone();
    pad[512 + first] = b'X';
    refused("padding.tar", &pad);
    refused("no-end.tar", &genuine[..end]);
    refused("cut.tar", &genuine[..700]);
    let mut long = tar_member("././@LongLink", b"", tar::EntryType::GNULongName, Some(320 << 20));
    long.extend_from_slice(&genuine);
    let f = write("long-name.tar", &long);
    std::fs::OpenOptions::new().write(true).open(&f).unwrap().set_len(long.len() as u64 + (320 << 20)).unwrap();
    let failed = failed_codes(&refused_within_bounds(&org, &f));
    assert_eq!(failed, ["archive-unsafe"], "{failed:?}");
}

const ZIP_VARIANTS: &str = r#"
import sys, zipfile, struct, shutil
src, out, case = sys.argv[1], sys.argv[2], sys.argv[3]
data = bytearray(open(src, 'rb').read())
top = zipfile.ZipFile(src).namelist()[0].split('/')[0]
def rewrite(extra_entries=(), extra_field=None, comment=None, deflate=False):
    zin = zipfile.ZipFile(src)
    with zipfile.ZipFile(out, 'w') as z:
        for i, info in enumerate(zin.infolist()):
            body = zin.read(info)
            ni = zipfile.ZipInfo(info.filename, info.date_time)
            ni.external_attr = info.external_attr
            ni.compress_type = zipfile.ZIP_DEFLATED if (deflate and i == 0) else zipfile.ZIP_STORED
            if extra_field and i == 0:
                ni.extra = extra_field
            z.writestr(ni, body)
        for name, body in extra_entries:
            z.writestr(name, body)
        if comment:
            z.comment = comment
    return
if case == 'short-compressed-size':
    # Central directory entry 0: compressed size 10 bytes less than its size.
    cd = data.rfind(b'PK\x05\x06'); cd_off = struct.unpack('<I', data[cd+16:cd+20])[0]
    if cd_off == 0xffffffff:
        z64 = data.rfind(b'PK\x06\x06'); cd_off = struct.unpack('<Q', data[z64+48:z64+56])[0]
    csize = struct.unpack('<I', data[cd_off+20:cd_off+24])[0]
    if csize != 0xffffffff:
        data[cd_off+20:cd_off+24] = struct.pack('<I', max(csize - 10, 0))
    else:
        # zip64: the compressed size lives in the extra field after the name
        nlen = struct.unpack('<H', data[cd_off+28:cd_off+30])[0]
        ex = cd_off + 46 + nlen
        usize, cs = struct.unpack('<QQ', data[ex+4:ex+20])
        data[ex+12:ex+20] = struct.pack('<Q', max(cs - 10, 0))
    open(out, 'wb').write(data)
elif case == 'backslash-name':
    rewrite(extra_entries=[(top + '/results/evaluation.json\\', b'{"forged": true}')])
elif case == 'comment':
    rewrite(comment=b'hello')
elif case == 'tar-in-extra':
    rewrite(extra_field=b'\x99\x99' + struct.pack('<H', 512) + b'ustar'.ljust(512, b'\0'))
elif case == 'crc':
    cd = data.rfind(b'PK\x01\x02')
    data[cd+16] ^= 0xff
    open(out, 'wb').write(data)
elif case == 'prefix':
    open(out, 'wb').write(b'#!/bin/sh\nexit 0\n' + bytes(data))
elif case == 'deflated':
    rewrite(deflate=True)
elif case == 'directory-entry':
    rewrite(extra_entries=[(top + '/results/extra/', b'')])
else:
    raise SystemExit('unknown case ' + case)
"#;

#[test]
fn a_zip_pack_is_exactly_the_archive_evident_writes_or_it_is_refused() {
    let org = org();
    let p = org.dir.path().join("z1");
    org.pack_into(&org.store, &p, &["--as-of", "2026-10-31", "--archive", "zip"]);
    let zip = p.with_file_name("z1.zip");
    assert_eq!(verify(&org, &zip, &[]).1, Vec::<String>::new());
    let script = org.dir.path().join("variants.py");
    std::fs::write(&script, ZIP_VARIANTS).unwrap();
    for case in ["short-compressed-size", "backslash-name", "comment", "tar-in-extra", "crc", "prefix", "deflated", "directory-entry"] {
        let out = org.dir.path().join(format!("{case}.zip"));
        let st = std::process::Command::new("python3").arg(&script).arg(&zip).arg(&out).arg(case).status().unwrap();
        assert!(st.success(), "{case}: python3 could not build the variant");
        assert_ne!(std::fs::read(&out).unwrap(), std::fs::read(&zip).unwrap(), "{case} changed nothing");
        let failed = failed_codes(&refused_within_bounds(&org, &out));
        assert!(failed.iter().any(|c| c == "archive-unsafe" || c == "archive-not-canonical"), "{case}: {failed:?}");
    }
}

#[test]
fn hostile_certificate_pdfs_are_refused_in_bounded_time_and_memory() {
    let org = org();
    let dir = org.dir.path();
    let pdf = |name: &str, dict: &str, body: &[u8]| {
        let mut b = format!("%PDF-1.7\n1 0 obj\n<< /Type /EmbeddedFile {dict} /Length {} >>\nstream\n", body.len()).into_bytes();
        b.extend_from_slice(body);
        b.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
        let f = dir.join(name);
        std::fs::write(&f, b).unwrap();
        f
    };
    // A zlib bomb: 256 MiB of zeros in about 256 KB.
    let py = "import zlib,sys\nc=zlib.compressobj(9)\nout=open(sys.argv[1],'wb')\nz=bytes(1<<20)\nfor _ in range(256): out.write(c.compress(z))\nout.write(c.flush())\n";
    let bomb = dir.join("bomb.z");
    assert!(std::process::Command::new("python3").args(["-c", py, bomb.to_str().unwrap()]).status().unwrap().success());
    let f = pdf("bomb.pdf", "/Filter /FlateDecode", &std::fs::read(&bomb).unwrap());
    assert_eq!(failed_codes(&refused_within_bounds(&org, &f)), ["pdf-attachment-missing"]);
    // 1.1 MB of /EmbeddedFile tokens.
    let f = dir.join("tokens.pdf");
    std::fs::write(&f, [b"%PDF-1.7\n".to_vec(), b"/EmbeddedFile ".repeat(80_000)].concat()).unwrap();
    assert_eq!(failed_codes(&refused_within_bounds(&org, &f)), ["pdf-attachment-missing"]);
    // A record of 3,000 media whose hash does not match: typst never renders it.
    let keys = dir.join("it");
    assert_eq!(evident(&org.store, &["keygen", "--role", "performer", "--name", "Sam Lee", "--out", keys.to_str().unwrap()]).code, 0);
    let certs = dir.join("certs");
    let r = evident(
        &org.store,
        &[
            "certificate",
            "new",
            "--drive",
            "SQYUG59YR5JBDN",
            "--organisation",
            "F",
            "--classification",
            "C",
            "--destination",
            "D",
            "--performer",
            "Sam Lee",
            "--out",
            certs.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let json = std::fs::read_dir(&certs).unwrap().map(|e| e.unwrap().path()).next().unwrap();
    let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let one = c["record"]["media"][0].clone();
    c["record"]["media"] = serde_json::Value::Array(vec![one; 3000]);
    let f = pdf("many-media.pdf", "", &serde_jcs::to_vec(&c).unwrap());
    let failed = failed_codes(&refused_within_bounds(&org, &f));
    assert!(failed.contains(&"record-hash-mismatch".to_string()) && failed.contains(&"pdf-rendering-skipped".to_string()), "{failed:?}");
    // A 4,000-character record id: refused, never a panic in the QR code.
    c["record"]["media"] = serde_json::Value::Array(vec![c["record"]["media"][0].clone()]);
    c["record"]["id"] = "X".repeat(4000).into();
    let f = pdf("long-id.pdf", "", &serde_jcs::to_vec(&c).unwrap());
    refused_within_bounds(&org, &f);
    // A PDF of 80 MiB (sparse): not read at all.
    let f = dir.join("huge.pdf");
    std::fs::write(&f, b"%PDF-1.7\n").unwrap();
    std::fs::OpenOptions::new().write(true).open(&f).unwrap().set_len(80 << 20).unwrap();
    assert_eq!(failed_codes(&refused_within_bounds(&org, &f)), ["file-too-large"]);
}

#[test]
fn an_oversized_signature_file_is_not_read() {
    let org = org();
    let p = org.pack("p1", "2026-10-31");
    let d = fresh(&org, &p, "sig-512m");
    std::fs::OpenOptions::new().write(true).open(d.join("manifest.sig")).unwrap().set_len(512 << 20).unwrap();
    let failed = failed_codes(&refused_within_bounds(&org, &d));
    assert!(failed.contains(&"file-too-large".to_string()), "{failed:?}");
}

/// A genuine tar and zip pack of examples/, built once for the mutation properties.
struct Genuine {
    org: Org,
    /// The pack directories the tar and the zip were made of.
    dir: PathBuf,
    zdir: PathBuf,
    tar: Vec<u8>,
    zip: Vec<u8>,
}

impl Genuine {
    fn files(&self, zip: bool) -> std::collections::BTreeMap<String, String> {
        tree(if zip { &self.zdir } else { &self.dir })
    }
}

/// Every file under a directory, by path, with the SHA-256 of its bytes.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, String> {
    use sha2::Digest;
    evident::pack::archive::walk(dir)
        .unwrap()
        .into_iter()
        .map(|rel| (rel.clone(), hex::encode(sha2::Sha256::digest(std::fs::read(dir.join(&rel)).unwrap()))))
        .collect()
}

fn genuine() -> &'static Genuine {
    static G: std::sync::OnceLock<Genuine> = std::sync::OnceLock::new();
    G.get_or_init(|| {
        let org = org();
        let dir = org.pack("g", "2026-10-31");
        let tar = std::fs::read(dir.with_file_name("g.tar")).unwrap();
        let z = org.dir.path().join("gz").join("g");
        std::fs::create_dir_all(z.parent().unwrap()).unwrap();
        org.pack_into(&org.store, &z, &["--as-of", "2026-10-31", "--archive", "zip"]);
        let zip = std::fs::read(z.with_file_name("g.zip")).unwrap();
        Genuine { org, dir, zdir: z, tar, zip }
    })
}

/// Extracts with the stock tool (GNU tar, Info-ZIP unzip) and returns every file under the
/// archive's top directory, by path.
fn extract(archive: &Path, zip: bool, into: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::create_dir_all(into).unwrap();
    let st = if zip {
        std::process::Command::new("unzip").arg("-qq").arg("-o").arg(archive).arg("-d").arg(into).status()
    } else {
        std::process::Command::new("tar").arg("-xf").arg(archive).arg("-C").arg(into).status()
    };
    assert!(st.unwrap().success(), "a verified archive extracts");
    let top = std::fs::read_dir(into).unwrap().next().unwrap().unwrap().path();
    tree(&top)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..proptest::prelude::ProptestConfig::default() })]

    /// A genuine tar or zip with one byte replaced, inserted, or everything after a point cut:
    /// evident either refuses it, or GNU tar / unzip extract exactly the files evident verified.
    #[test]
    fn a_mutated_archive_is_refused_or_extracts_to_what_was_verified(zip in proptest::bool::ANY, at in proptest::prelude::any::<proptest::sample::Index>(), byte in proptest::prelude::any::<u8>(), op in 0u8..3) {
        let g = genuine();
        let mut bytes = if zip { g.zip.clone() } else { g.tar.clone() };
        let i = at.index(bytes.len());
        match op {
            0 => bytes[i] = byte,
            1 => bytes.insert(i, byte),
            _ => bytes.truncate(i),
        }
        let work = tempfile::tempdir().unwrap();
        let file = work.path().join(if zip { "m.zip" } else { "m.tar" });
        std::fs::write(&file, &bytes).unwrap();
        let trust = evident::sign::TrustList::load(&g.org.trust).unwrap();
        if let Ok(out) = evident::verify::pack(&file, &trust, None)
            && out.verified {
                proptest::prop_assert_eq!(extract(&file, zip, &work.path().join("x")), g.files(zip), "verified, but extracts to something else (op {} at {})", op, i);
            }
    }
}

#[test]
fn genuine_archives_verify_and_extract_with_stock_tools_to_the_verified_files() {
    let g = genuine();
    let trust = evident::sign::TrustList::load(&g.org.trust).unwrap();
    for (zip, bytes) in [(false, &g.tar), (true, &g.zip)] {
        let work = tempfile::tempdir().unwrap();
        let file = work.path().join(if zip { "g.zip" } else { "g.tar" });
        std::fs::write(&file, bytes).unwrap();
        let out = evident::verify::pack(&file, &trust, None).unwrap();
        assert!(out.verified, "{:?}", out.checks);
        assert!(out.checks.iter().any(|c| c.code.as_str() == "archive-canonical" && c.ok));
        assert_eq!(extract(&file, zip, &work.path().join("x")), g.files(zip));
    }
}
