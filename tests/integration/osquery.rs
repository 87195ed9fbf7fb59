//! osquery traps: BitLocker fully encrypted with protection off is *suspended*, never
//! "encrypted"; -1 (a failed WMI call) and `undefined` are unknown, never "not encrypted"; rows
//! without a host serial are refused with the way to pair them; the results log pairs rows by
//! its `hardware_serial` decoration and dates them by `unixTime`.

use crate::util::{evident, root};

type Row = (String, String, String, Option<String>);

/// (serial, volume, state, observed_at) per encryption record, in file order.
fn volumes(store: &std::path::Path) -> Vec<Row> {
    let c = rusqlite::Connection::open(store).unwrap();
    let mut st = c.prepare("SELECT serial_raw, volume, state, observed_at FROM encryption ORDER BY id").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
}

fn row(serial: &str, volume: &str, state: &str, at: Option<&str>) -> Row {
    (serial.into(), volume.into(), state.into(), at.map(String::from))
}

fn fixture(name: &str) -> String {
    root().join("tests/fixtures/osquery_json").join(name).display().to_string()
}

fn ingest(args: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, crate::util::Run) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let r = evident(&store, &[&["ingest"], args].concat());
    (dir, store, r)
}

#[test]
fn suspended_bitlocker_is_not_encrypted_and_a_failed_wmi_call_is_unknown() {
    let (_d, store, r) = ingest(&["--as-of", "2026-10-29T12:00:00Z", &fixture("bitlocker-windows.json")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("osquery_json"), "detected: {}", r.stdout);
    let at = Some("2026-10-29T12:00:00Z");
    assert_eq!(
        volumes(&store),
        [
            row("5CG1348QZT", "C:", "encrypted", at),
            row("5CG1348QZT", "D:", "suspended", at),
            row("5CG1348QZT", "E:", "encrypting", at),
            row("5CG1348QZT", "F:", "unknown", at)
        ]
    );
}

#[test]
fn undefined_or_absent_status_is_unknown_never_not_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    // An old osquery without encryption_status and with no `encrypted` value either.
    let bare = dir.path().join("bare.json");
    std::fs::write(&bare, r#"[{"encryption_status":"undefined","hardware_serial":"K7WQ3N2XLP","name":"/dev/disk3s1s1"},{"encrypted":"","hardware_serial":"K7WQ3N2XLP","name":"/dev/disk3s6"}]"#).unwrap();
    let (_d, store, r) = ingest(&[&fixture("good.json"), &fixture("linux-luks.json"), bare.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let states: Vec<(String, String)> = volumes(&store).into_iter().map(|(_, v, s, _)| (v, s)).collect();
    let want = [
        ("/dev/disk3s5", "encrypted"),
        ("/dev/disk3s1s1", "unknown"),
        ("/dev/dm-0", "encrypted"),
        ("/dev/nvme0n1p1", "not_encrypted"),
        ("/dev/disk3s1s1", "unknown"),
        ("/dev/disk3s6", "unknown"),
    ];
    let want: Vec<(String, String)> = want.iter().map(|(v, s)| (v.to_string(), s.to_string())).collect();
    assert_eq!(states, want);
}

#[test]
fn the_results_log_pairs_rows_by_decoration_and_dates_them() {
    let (_d, store, r) = ingest(&[&fixture("results-log.jsonl")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("4 rows read: 4 accepted"), "{}", r.stdout);
    // The "removed" row is counted and said, and gives no record.
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(said.contains("results-log.jsonl:3: field 'action'"), "{said}");
    assert_eq!(
        volumes(&store),
        [
            row("K7WQ3N2XLP", "/dev/disk3s5", "encrypted", Some("2026-10-29T08:20:41Z")),
            row("C02FK3Q1MD6T", "/dev/disk1s1", "not_encrypted", Some("2026-10-29T08:31:05Z")),
            row("5CG1348QZT", "C:", "suspended", Some("2026-10-29T09:02:17Z")),
        ]
    );
}

#[test]
fn rows_without_a_host_serial_are_refused_with_the_way_to_pair_them() {
    let (_d, store, r) = ingest(&[&fixture("missing-column.json")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing-column.json:2: /0: field 'hardware_serial'") && r.stderr.contains("system_info"), "{}", r.stderr);
    assert_eq!(crate::util::count(&store, "SELECT count(*) FROM encryption"), 0);
}

#[test]
fn a_suspended_system_drive_fails_enc_01_although_intune_says_encrypted() {
    let org = crate::pack::org();
    let enc01 = |store: &std::path::Path| -> Vec<String> {
        let r = evident(store, &["evaluate", "--as-of", "2026-10-31", "--format", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let ev: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let c = ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == "ENC-01").unwrap().clone();
        c["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["outcome"] == "fail")
            .map(|i| format!("{} {}", i["asset_tag"].as_str().unwrap_or(""), i["reason"].as_str().unwrap_or("")))
            .collect()
    };
    // examples/osquery-results.log: Intune calls FH-2001 encrypted, osquery finds C: suspended.
    assert!(enc01(&org.store).iter().any(|f| f.starts_with("FH-2001 ") && f.contains("C: is suspended")), "FH-2001 fails on osquery's word");
    // A day later IT resumed protection: the newer snapshot replaces the older one.
    let log = org.dir.path().join("osquery.jsonl");
    let resumed = r#"{"snapshot":[{"conversion_status":"1","drive_letter":"C:","encryption_method":"XTS_AES_256","percentage_encrypted":"100","persistent_volume_id":"{6B29FC40-CA47-1067-B31D-00DD010662DA}","protection_status":"1","protector_types":"TPM,NUMERIC_PASSWORD"}],"action":"snapshot","name":"pack/compliance/bitlocker_info","hostIdentifier":"FH-WIN-2001","unixTime":1793350937,"decorations":{"hardware_serial":"Z6DSW4U"}}"#;
    // An empty snapshot from another host is counted, not lost.
    let empty = r#"{"snapshot":[],"action":"snapshot","name":"pack/compliance/bitlocker_info","hostIdentifier":"FH-WIN-2002","unixTime":1793350940,"decorations":{"hardware_serial":"PFNXMSTQ"}}"#;
    std::fs::write(&log, format!("{resumed}\n{empty}\n")).unwrap();
    let r = evident(&org.store, &["ingest", log.to_str().unwrap()]);
    assert!(r.stdout.contains("2 rows read: 2 accepted") && r.stdout.contains(":2: field 'snapshot': an empty snapshot"), "{}", r.stdout);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let fails = enc01(&org.store);
    assert!(!fails.iter().any(|f| f.starts_with("FH-2001 ")), "{fails:?}");
}
