//! Fleet and Google traps: `disk_encryption_enabled` null or missing is unknown, never "not encrypted";
//! `mdm: null` (a server) is the Fleet agent alone, not "unenrolled"; an empty serial (a VM or
//! container) is kept and joins nothing; the CSV's text marks and quoted commas are read right.

use crate::util::{corpus, evident, root};

type Row = (String, String, String, String);

/// (serial_key, serial_quality, enrollment state, encryption state) per host, by host id.
fn hosts(store: &std::path::Path) -> Vec<Row> {
    let c = rusqlite::Connection::open(store).unwrap();
    let mut st = c
        .prepare("SELECT e.serial_key, e.serial_quality, e.state, x.state FROM enrollment e JOIN encryption x ON x.source_record_id = e.source_record_id AND x.ingest_id = e.ingest_id ORDER BY CAST(e.source_record_id AS INTEGER)")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
}

fn ingest(file: &std::path::Path, kind: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let r = evident(&store, &["ingest", "--source-tz", "UTC", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(kind), "detected as {kind}: {}", r.stdout);
    (dir, store)
}

fn want() -> Vec<Row> {
    let r = |a: &str, b: &str, c: &str, d: &str| (a.to_string(), b.to_string(), c.to_string(), d.to_string());
    vec![r("K7WQ3N2XLP", "ok", "enrolled", "encrypted"), r("PNU4TTE", "ok", "enrolled", "not_encrypted"), r("", "missing", "enrolled", "unknown")]
}

#[test]
fn api_null_disk_encryption_is_unknown_and_a_server_without_mdm_is_not_unenrolled() {
    let (_d, store) = ingest(&root().join("tests/fixtures/fleet_api/good.json"), "fleet_api");
    assert_eq!(hosts(&store), want());
}

#[test]
fn csv_report_reads_the_same_as_the_api() {
    let (_d, store) = ingest(&root().join("tests/fixtures/fleet_csv/good.csv"), "fleet_csv");
    // `'PNU4TTE` (Fleet's text mark) is PNU4TTE; "Mac15,6" stays one column.
    assert_eq!(hosts(&store), want());
    let model: String =
        rusqlite::Connection::open(&store).unwrap().query_row("SELECT model FROM enrollment WHERE serial_key = 'K7WQ3N2XLP'", [], |r| r.get(0)).unwrap();
    assert_eq!(model, "Mac15,6");
}

#[test]
fn corpus_list_without_the_encryption_key_stays_unknown() {
    let (_d, store) = ingest(&corpus().join("fleet/api-v1-fleet-hosts-list.json"), "fleet_api");
    let got = hosts(&store);
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|h| h.3 == "unknown"), "{got:?}");
    let (_d, store) = ingest(&corpus().join("fleet/api-v1-fleet-hosts-1.json"), "fleet_api");
    assert_eq!(hosts(&store)[0].3, "encrypted");
}

/// Google: a Chromebook's encryption is not applicable (the API has no field), never "not
/// encrypted"; DEPROVISIONED is unenrolled; Cloud Identity BYOD devices without a serial are
/// kept, personal, and join nothing; a next page is announced.
#[test]
fn google_chromeos_and_endpoint_devices() {
    let (_d, store) = ingest(&root().join("tests/fixtures/google_api/good.json"), "google_api");
    let c = rusqlite::Connection::open(&store).unwrap();
    let rows: Vec<(String, String, Option<String>)> = c
        .prepare("SELECT serial_key, state, asset_tag FROM enrollment ORDER BY serial_key")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        vec![
            ("5CD2417QXR".into(), "enrolled".into(), Some("FH-5001".into())),
            ("NXAT3EG0071234".into(), "unenrolled".into(), Some("FH-5002".into())),
            ("PF3KQ7ZM".into(), "pending".into(), None)
        ]
    );
    let states: Vec<String> = c.prepare("SELECT DISTINCT state FROM encryption").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(states, vec!["not_applicable".to_string()]);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let r = evident(&store, &["ingest", corpus().join("google/cloudidentity-v1-devices-user-assigned.json").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("more pages (nextPageToken)"), "{}", r.stdout);
    let c = rusqlite::Connection::open(&store).unwrap();
    let (n, personal, missing): (i64, i64, i64) = c
        .query_row("SELECT count(*), sum(ownership = 'personal'), sum(serial_quality = 'missing') FROM enrollment", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((n, personal, missing), (3, 3, 3));
}
