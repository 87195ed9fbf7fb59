//! SIGKILL in the middle of a large ingest leaves the store exactly as it was.

use crate::util::{count, evident, root};
use std::io::Write;
use std::time::{Duration, Instant};

fn big_csv(path: &std::path::Path, rows: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "Asset Tag,Serial,Asset Name,Model,Category,Manufacturer,Status,Purchased,Location").unwrap();
    for i in 0..rows {
        writeln!(f, "GEN-{i:07},SN{i:010},LT-{i},Latitude 7440,Laptops,Dell,Ready to Deploy (deployed),2024-03-18,Berlin HQ").unwrap();
    }
}

fn snapshot(store: &std::path::Path) -> (i64, i64, i64, String) {
    let c = rusqlite::Connection::open(store).unwrap();
    let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    (count(store, "SELECT count(*) FROM ingest"), count(store, "SELECT count(*) FROM asset"), count(store, "SELECT count(*) FROM blob_chunk"), check)
}

#[test]
fn sigkill_mid_ingest_leaves_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let good = root().join("tests/fixtures/snipeit_csv/good.csv");
    assert_eq!(evident(&store, &["ingest", "--source-tz", "UTC", good.to_str().unwrap()]).code, 0);
    let before = snapshot(&store);
    assert_eq!(before.3, "ok");
    let big = dir.path().join("big.csv");
    big_csv(&big, 600_000);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("evident"))
        .arg("--store")
        .arg(&store)
        .args(["ingest", big.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the ingest is writing (its rollback journal exists and it has run a while or
    // spilled pages into the store file), then kill it without warning.
    let journal = dir.path().join("s.db-journal");
    let size0 = std::fs::metadata(&store).unwrap().len();
    let start = Instant::now();
    let mut writing_since: Option<Instant> = None;
    loop {
        assert!(child.try_wait().unwrap().is_none(), "ingest finished before it could be killed: make the file bigger");
        assert!(start.elapsed() < Duration::from_secs(120), "ingest never started writing");
        if journal.exists() {
            let since = *writing_since.get_or_insert_with(Instant::now);
            let grown = std::fs::metadata(&store).map(|m| m.len()).unwrap_or(0) > size0 + (8 << 20);
            if grown || since.elapsed() > Duration::from_millis(800) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.try_wait().unwrap().is_none(), "still running when killed");
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let after = snapshot(&store);
    assert_eq!(after, before, "the store must be exactly as before the killed ingest");
    // And the store still works: the same file can be ingested afterwards.
    let again = evident(&store, &["ingest", big.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(count(&store, "SELECT count(*) FROM asset"), before.1 + 600_000);
}

/// A second writer waits `--wait` seconds for the first, then fails cleanly: exit 2, a message
/// that says the store is busy, and nothing written. Once the first is done, it goes through.
#[test]
fn second_writer_waits_then_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let good = root().join("tests/fixtures/snipeit_csv/good.csv");
    let jamf = root().join("tests/fixtures/jamf_api/good.json");
    assert_eq!(evident(&store, &["ingest", "--source-tz", "UTC", good.to_str().unwrap()]).code, 0);
    let before = snapshot(&store);
    // Another process (here: a plain SQLite connection) holds the write lock.
    let holder = rusqlite::Connection::open(&store).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE; INSERT INTO blob (sha256, size) VALUES ('held', 0);").unwrap();
    let started = Instant::now();
    let busy = evident(&store, &["--wait", "1", "ingest", jamf.to_str().unwrap()]);
    assert_eq!(busy.code, 2, "{}", busy.stderr);
    assert!(busy.stderr.contains("busy"), "{}", busy.stderr);
    assert!(busy.stderr.contains("hint:"), "{}", busy.stderr);
    assert!(started.elapsed() >= Duration::from_millis(900), "it waited before giving up");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(snapshot(&store), before, "the refused ingest wrote nothing");
    let ok = evident(&store, &["ingest", jamf.to_str().unwrap()]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(count(&store, "SELECT count(*) FROM ingest"), before.0 + 1);
}
