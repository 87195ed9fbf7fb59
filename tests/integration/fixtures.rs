//! Every reader against its fixtures: good, unknown enum, missing required column, BOM, CRLF,
//! duplicate and truncated. The exact text a user sees is held in insta snapshots.

use crate::util::{count, evident, root};

const READERS: &[(&str, &str)] = &[
    ("snipeit_csv", "csv"),
    ("snipeit_api", "json"),
    ("intune_graph", "json"),
    ("intune_csv", "csv"),
    ("jamf_api", "json"),
    ("jamf_classic", "json"),
    ("jamf_csv", "csv"),
    ("nwipe_log", "log"),
    ("itad_csv", "csv"),
    ("kandji_api", "json"),
    ("fleet_api", "json"),
    ("fleet_csv", "csv"),
    ("google_api", "json"),
    ("osquery_json", "json"),
    ("blancco_xml", "xml"),
    ("hr_csv", "csv"),
];

/// Derived variants of the good fixture.
fn variant(name: &str, ext: &str, good: &[u8]) -> Vec<u8> {
    match name {
        "bom" => [&b"\xEF\xBB\xBF"[..], good].concat(),
        "crlf" => String::from_utf8(good.to_vec()).unwrap().replace('\n', "\r\n").into_bytes(),
        "truncated" => {
            let text = String::from_utf8(good.to_vec()).unwrap();
            let mut cut = text.len() * 7 / 10;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.as_bytes()[..cut].to_vec()
        }
        "duplicate" if ext == "json" => {
            let mut v: serde_json::Value = serde_json::from_slice(good).unwrap();
            if let Some(arr) = v.as_array_mut() {
                let first = arr[0].clone();
                arr.push(first);
                return serde_json::to_vec_pretty(&v).unwrap();
            }
            let key = ["rows", "value", "results", "computers", "hosts", "chromeosdevices", "devices"].into_iter().find(|k| v.get(*k).is_some()).unwrap();
            let arr = v[key].as_array_mut().unwrap();
            let first = arr[0].clone();
            arr.push(first);
            serde_json::to_vec_pretty(&v).unwrap()
        }
        "duplicate" if ext == "xml" => {
            // The first report again at the end of a bulk export.
            let text = String::from_utf8(good.to_vec()).unwrap();
            let (a, z) = (text.find("<report>").unwrap(), text.find("</report>").unwrap() + "</report>".len());
            let end = text.rfind("</root>").unwrap();
            format!("{}  {}\n{}", &text[..end], &text[a..z], &text[end..]).into_bytes()
        }
        "duplicate" => {
            // The second line again at the end: the same record twice in one export.
            let text = String::from_utf8(good.to_vec()).unwrap();
            let second = text.lines().nth(1).unwrap().to_string();
            format!("{}{}\n", if text.ends_with('\n') { text.clone() } else { format!("{text}\n") }, second).into_bytes()
        }
        _ => unreachable!(),
    }
}

fn run_case(reader: &str, ext: &str, case: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = root().join("tests/fixtures").join(reader);
    let good = std::fs::read(fixtures.join(format!("good.{ext}"))).unwrap();
    let bytes = match case {
        "good" | "unknown-enum" | "missing-column" => std::fs::read(fixtures.join(format!("{case}.{ext}"))).unwrap(),
        other => variant(other, ext, &good),
    };
    let file = dir.path().join(format!("{case}.{ext}"));
    std::fs::write(&file, &bytes).unwrap();
    let store = dir.path().join("s.db");
    // A declarative mapping is named by its file, not by a source name.
    let mapping = fixtures.join("register.yaml").display().to_string();
    let how = if reader == "mapping" { ["--mapping", mapping.as_str()] } else { ["--source", reader] };
    let r = evident(&store, &[&["ingest"], &how[..], &["--source-tz", "UTC", file.to_str().unwrap()]].concat());
    let ingests = count(&store, "SELECT count(*) FROM ingest");
    let records = count(&store, "SELECT (SELECT count(*) FROM asset) + (SELECT count(*) FROM enrollment) + (SELECT count(*) FROM wipe)");
    match r.code {
        0 => assert_eq!(ingests, 1, "{reader}/{case}: a successful ingest is recorded"),
        2 => assert_eq!((ingests, records), (0, 0), "{reader}/{case}: a failed ingest must leave the store unchanged"),
        other => panic!("{reader}/{case}: unexpected exit code {other}"),
    }
    let shown = |s: &str| s.replace(&dir.path().display().to_string(), "<dir>");
    format!("exit: {}\n--- stdout\n{}--- stderr\n{}", r.code, shown(&r.stdout), shown(&r.stderr))
}

fn check_reader(reader: &str, ext: &str) {
    for case in ["good", "unknown-enum", "missing-column", "bom", "crlf", "duplicate", "truncated"] {
        let text = run_case(reader, ext, case);
        insta::assert_snapshot!(format!("{reader}__{case}"), text);
    }
}

#[test]
fn snipeit_csv() {
    check_reader("snipeit_csv", "csv");
}
#[test]
fn snipeit_api() {
    check_reader("snipeit_api", "json");
}
#[test]
fn intune_graph() {
    check_reader("intune_graph", "json");
}
#[test]
fn intune_csv() {
    check_reader("intune_csv", "csv");
}
#[test]
fn jamf_api() {
    check_reader("jamf_api", "json");
}
#[test]
fn jamf_classic() {
    check_reader("jamf_classic", "json");
}
#[test]
fn jamf_csv() {
    check_reader("jamf_csv", "csv");
}
#[test]
fn nwipe_log() {
    check_reader("nwipe_log", "log");
}
#[test]
fn itad_csv() {
    check_reader("itad_csv", "csv");
}

/// Without --source, every good fixture is recognised as its own reader.
#[test]
fn detection_names_each_reader() {
    for (reader, ext) in READERS {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.db");
        let file = root().join("tests/fixtures").join(reader).join(format!("good.{ext}"));
        let r = evident(&store, &["ingest", "--source-tz", "UTC", "--format", "json", file.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{reader}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v[0]["source"], *reader, "{reader} detected as {}", v[0]["source"]);
    }
}

/// The same bytes twice is a no-op that says so.
#[test]
fn same_bytes_twice_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let file = root().join("tests/fixtures/snipeit_csv/good.csv");
    assert_eq!(evident(&store, &["ingest", "--source-tz", "UTC", file.to_str().unwrap()]).code, 0);
    let again = evident(&store, &["ingest", "--source-tz", "UTC", file.to_str().unwrap()]);
    assert_eq!(again.code, 0);
    assert!(again.stdout.contains("already ingested as #1"), "{}", again.stdout);
    assert_eq!(count(&store, "SELECT count(*) FROM ingest"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM asset"), 3);
}

/// Raw bytes are kept byte for byte, addressed by their SHA-256.
#[test]
fn raw_file_is_kept_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let file = root().join("tests/fixtures/nwipe_log/good.log");
    assert_eq!(evident(&store, &["ingest", "--source-tz", "Europe/London", file.to_str().unwrap()]).code, 0);
    let c = rusqlite::Connection::open(&store).unwrap();
    let (sha, data): (String, Vec<u8>) =
        c.query_row("SELECT i.sha256, b.data FROM ingest i JOIN blob_chunk b ON b.sha256 = i.sha256", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    let original = std::fs::read(&file).unwrap();
    assert_eq!(data, original);
    use sha2::Digest;
    assert_eq!(sha, hex::encode(sha2::Sha256::digest(&original)));
    // Local times were read in the declared zone (BST, UTC+1 in June).
    let done: String = c.query_row("SELECT completed_at FROM wipe WHERE media_serial_key = 'Z9A4K2LP'", [], |r| r.get(0)).unwrap();
    assert_eq!(done, "2025-06-12T10:41:05Z");
}

/// ITAD dates like 20/02/2025 are ambiguous until --date-format declares them.
#[test]
fn itad_slashed_dates_need_a_declared_format() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let file = dir.path().join("cod.csv");
    std::fs::write(&file, "Certificate Number,Serial No.,Destruction Method,Result,Date Destroyed\nCOD-78,WCC2E1XR7042,Shred,Pass,20/02/2025\n").unwrap();
    let r = evident(&store, &["ingest", "--source-tz", "UTC", file.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cod.csv:2: field 'Date Destroyed': date with '/' is ambiguous"), "{}", r.stderr);
    let r = evident(&store, &["ingest", "--source-tz", "Europe/Berlin", "--date-format", "%d/%m/%Y", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = rusqlite::Connection::open(&store).unwrap();
    let (done, cat): (String, String) = c.query_row("SELECT completed_at, nist_category FROM wipe", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((done.as_str(), cat.as_str()), ("2025-02-19T23:00:00Z", "destroy"));
}

#[test]
fn osquery_json() {
    check_reader("osquery_json", "json");
}
#[test]
fn blancco_xml() {
    check_reader("blancco_xml", "xml");
}
#[test]
fn mapping() {
    check_reader("mapping", "csv");
}
#[test]
fn hr_csv() {
    check_reader("hr_csv", "csv");
}

#[test]
fn kandji_api() {
    check_reader("kandji_api", "json");
}

#[test]
fn fleet_api() {
    check_reader("fleet_api", "json");
}

#[test]
fn fleet_csv() {
    check_reader("fleet_csv", "csv");
}

#[test]
fn google_api() {
    check_reader("google_api", "json");
}

/// A file that is no known export says what it looks like: plain text by its first line, a
/// bracket-timestamped log as a log (its leading `[` does not make it JSON), a table by its
/// columns; the store is left empty each time.
#[test]
fn an_unknown_file_is_named_for_what_it_looks_like() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let cases: &[(&str, &str, &str)] = &[
        (
            "notes.txt",
            "Meeting notes: wipe the spare laptops\nthen recycle\n",
            "(plain text, not a known export; its first line is 'Meeting notes: wipe the spare laptops')",
        ),
        (
            "app.log",
            "[2021/11/19 07:27:06] service started\n[2021/11/19 07:27:07] ready\n",
            "(a timestamped text log that is not an nwipe log; its first line is '[2021/11/19 07:27:06] service started')",
        ),
        ("iso.log", "\n[2024-03-01T10:00:00Z] INFO boot\n", "(a timestamped text log that is not an nwipe log"),
        ("budget.csv", "Quarter,Cost Centre,Amount\nQ1,IT,1200\n", "(CSV with columns Quarter, Cost Centre, Amount)"),
    ];
    for (name, body, expected) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, body).unwrap();
        let r = evident(&store, &["ingest", path.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{name}: {}", r.stdout);
        assert!(r.stderr.contains(&format!("{name}: cannot tell which export this is {expected}")), "{name}: {}", r.stderr);
        assert_eq!(count(&store, "SELECT count(*) FROM ingest"), 0, "{name}: the store is unchanged");
    }
    // Real JSON that is cut off is still reported as JSON, with its line.
    let cut = tmp.path().join("cut.json");
    std::fs::write(&cut, "[{\"serial\": \"C02X\"},\n").unwrap();
    let r = evident(&store, &["ingest", cut.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not valid JSON"), "{}", r.stderr);
}

/// nwipe 0.43 Sanitize, from the messages of nwipe's src/se_ata_gui.c and src/se_nvme_gui.c:
/// each destructive SANITIZE action is its own wipe event with its technique, a PRNG pass after
/// it is another; an NVMe controller's action reaches the namespace the log found; `has failed`
/// is a failure, `has completed` (no verdict from the device) is unknown, never success;
/// `Exit Failure Mode` erases nothing.
#[test]
fn nwipe_sanitize_actions_are_their_own_wipes() {
    let dir = root().join("tests/fixtures/nwipe_log/sanitize");
    let rows = |file: &str, expect_read: u64| -> Vec<(String, String, String, String, String, String)> {
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join("s.db");
        let r = evident(&store, &["ingest", "--source-tz", "Europe/Berlin", "--format", "json", dir.join(file).to_str().unwrap()]);
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v[0]["counts"]["read"], expect_read, "{file}: one row per drive");
        let c = rusqlite::Connection::open(&store).unwrap();
        let mut st = c.prepare("SELECT media_serial_raw, media_type, technique, nist_category, result, completed_at FROM wipe ORDER BY completed_at").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))).unwrap().map(Result::unwrap).collect()
    };
    let s =
        |v: &[&str; 6]| -> (String, String, String, String, String, String) { (v[0].into(), v[1].into(), v[2].into(), v[3].into(), v[4].into(), v[5].into()) };
    assert_eq!(
        rows("nvme-block-erase-then-prng.log", 1),
        [
            s(&["S5GXNF0R412873K", "nvme", "block_erase", "purge", "success", "2026-10-02T12:04:55Z"]),
            s(&["S5GXNF0R412873K", "nvme", "overwrite", "clear", "success", "2026-10-02T12:52:17Z"]),
        ]
    );
    assert_eq!(rows("ata-crypto-scramble-failed.log", 1), [s(&["2231E6A1B2C3", "ssd", "crypto_erase", "purge", "failed", "2026-10-03T07:14:09Z"])]);
    assert_eq!(rows("nvme-overwrite-no-verdict.log", 2), [s(&["22517F804411", "nvme", "sanitize", "purge", "unknown", "2026-10-04T14:22:31Z"])]);
}

/// A loop device nwipe "wiped" is a file, not a drive: rejected with the reason, never certified,
/// while the real drive of the same run is stored.
#[test]
fn nwipe_loop_device_is_rejected_with_its_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let log = root().join("tests/fixtures/nwipe_log/generations/loop-device.log");
    let strict = evident(&store, &["ingest", "--source-tz", "UTC", log.to_str().unwrap()]);
    assert_eq!(strict.code, 2);
    assert!(strict.stderr.contains("loop-device.log:3: /dev/loop0: field 'device': /dev/loop0 is a virtual block device, not a drive"), "{}", strict.stderr);
    assert_eq!(count(&store, "SELECT count(*) FROM wipe"), 0);
    let lenient = evident(&store, &["ingest", "--allow-rejects", "--source-tz", "UTC", log.to_str().unwrap()]);
    assert_eq!(lenient.code, 0, "{}", lenient.stderr);
    assert_eq!(count(&store, "SELECT count(*) FROM wipe WHERE media_serial_raw = 'WDEBJ4K1' AND result = 'success'"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM wipe"), 1);
}

/// A fresh store holding one fixture of tests/fixtures/nwipe_log/generations, ingested in UTC.
fn ingest_generation(file: &str) -> (tempfile::TempDir, rusqlite::Connection) {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let log = root().join("tests/fixtures/nwipe_log/generations").join(file);
    let r = evident(&store, &["ingest", "--source-tz", "UTC", log.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = rusqlite::Connection::open(&store).unwrap();
    (tmp, c)
}

/// nwipe logs the machine (`dmidecode -s` keywords) before each run opens its entropy source:
/// each run's drives carry that run's host serial, so they join to their asset; a run logged
/// with `-q` (anonymised, a row of X) has no host serial rather than a false one.
#[test]
fn nwipe_host_identity_per_run() {
    let (_tmp, c) = ingest_generation("host-identity-two-runs.log");
    let mut st =
        c.prepare("SELECT media_serial_raw, host_serial_raw, host_serial_quality, json_extract(extra, '$.chassis_asset_tag') FROM wipe ORDER BY id").unwrap();
    let rows: Vec<(String, String, String, Option<String>)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(rows, [("Z5M3K8QAS".into(), "4KQ8XW2".into(), "ok".into(), Some("A-000412".into())), ("W2AEQ1RT".into(), "".into(), "missing".into(), None),]);
}

/// The Error Summary table, with (0.35+) and without the fdatasync column: the counts are the
/// record's errors, each kept by name; a drive with errors is never a success.
#[test]
fn nwipe_error_summary_with_and_without_fdatasync() {
    let read = |file: &str| -> Vec<(String, String, Option<i64>, Option<String>)> {
        let (_tmp, c) = ingest_generation(file);
        let mut st = c.prepare("SELECT media_serial_raw, result, errors, json_extract(extra, '$.fdatasync_errors') FROM wipe ORDER BY id").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(
        read("error-summary-fdatasync.log"),
        [("WL1HQ3V7".into(), "success".into(), Some(0), Some("0".into())), ("WXA1A98K2201".into(), "failed".into(), Some(3), Some("1".into()))]
    );
    assert_eq!(read("error-summary-two-columns.log"), [("TEA51B3LJ4ZK2M".into(), "success".into(), Some(0), None)]);
}

/// nwipe 0.39+ retries a failed write three times, then gives up and wipes backwards from the
/// end of the drive to the bad block (a "reverse wipe"): a drive it gave up on is never a
/// success, with or without the final tables (a log cut off mid-line after a failed reverse wipe
/// is `failed`, not `incomplete`); a retry that then worked leaves an erased drive a success,
/// with the retries counted.
#[test]
fn nwipe_write_errors_retries_and_reverse_wipe() {
    type Row = (String, String, Option<String>, Option<String>, Option<String>);
    let read = |file: &str| -> Vec<Row> {
        let (_tmp, c) = ingest_generation(file);
        let mut st = c
            .prepare(
                "SELECT media_serial_raw, result, result_raw, json_extract(extra, '$.io_retries'), json_extract(extra, '$.io_errors') FROM wipe ORDER BY id",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(
        read("write-errors-reverse-wipe.log"),
        [
            ("WCJ2K7QX".into(), "success".into(), Some("Erased".into()), Some("1".into()), None),
            (
                "TF0500Y9K3PL2B".into(),
                "failed".into(),
                Some("-FAILED-".into()),
                Some("2".into()),
                Some("1 write error(s); gave up write(); reverse wipe reached the bad block".into())
            ),
        ]
    );
    let cut = "1 write error(s); gave up write(), pwrite(); reverse wipe failed".to_string();
    assert_eq!(read("write-error-cut-off.log"), [("WX52D81F0K7T".into(), "failed".into(), Some(cut.clone()), Some("4".into()), Some(cut))]);
}

/// ShredOS hard-wraps long banner lines (the kernel's command line, HPA notes) onto unstamped
/// continuation lines: a device path in one (`root=/dev/sdb1`) is not a drive, and the drive
/// the run wiped is read as usual.
#[test]
fn shredos_wrapped_banner_lines_name_no_drive() {
    let (_tmp, c) = ingest_generation("shredos-wrapped-banner.log");
    let rows: Vec<(String, String, String)> = c
        .prepare("SELECT media_serial_raw, result, tool_version FROM wipe")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows, [("S3YJNX0K612388H".into(), "success".into(), "0.39".into())]);
}
