//! Every real export in ../shared/corpus for the foundation's sources ingests with nothing lost:
//! rows read = accepted + rejected + empty, rows read equals an independent count of the file's
//! records, every accepted row is in the store, and every rejection names file, line and field.

use crate::util::{corpus, count, evident};
use std::path::Path;

/// Records in a file, counted without evident: CSV records (csv crate) or JSON array elements.
fn independent_count(path: &Path) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "json") {
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if let Some(a) = v.as_array() {
            return a.len() as u64;
        }
        for k in ["rows", "value", "results", "computers", "hosts", "chromeosdevices", "devices"] {
            if let Some(a) = v.get(k).and_then(|a| a.as_array()) {
                return a.len() as u64;
            }
        }
        return 1; // a single device or computer
    }
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(&bytes[..]);
    r.byte_records().count() as u64
}

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(corpus().join(dir)).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    assert!(!v.is_empty(), "corpus/{dir} is empty");
    v
}

#[test]
fn every_corpus_file_ingests_with_nothing_lost() {
    let mut checked = 0;
    for dir in ["snipeit", "intune", "jamf", "kandji", "fleet", "google"] {
        for path in files(dir) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let tmp = tempfile::tempdir().unwrap();
            let store = tmp.path().join("s.db");
            let r = evident(&store, &["ingest", "--allow-rejects", "--source-tz", "UTC", "--format", "json", path.to_str().unwrap()]);
            if name.starts_with("import-users") || name.starts_with("import-licenses") {
                assert_eq!(r.code, 2, "{name} must be refused");
                assert!(r.stderr.contains("not an asset export"), "{name}: {}", r.stderr);
                assert_eq!(count(&store, "SELECT count(*) FROM ingest"), 0);
                checked += 1;
                continue;
            }
            assert_eq!(r.code, 0, "{name}: {}", r.stderr);
            let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
            let c = &v[0]["counts"];
            let n = |k: &str| c[k].as_u64().unwrap();
            assert_eq!(n("read"), n("accepted") + n("rejected") + n("empty"), "{name}: {c}");
            assert_eq!(n("read"), independent_count(&path), "{name}: evident read a different number of records than the file holds");
            // Every accepted row is in the store: one register or MDM record per accepted row.
            let stored = count(&store, "SELECT (SELECT count(*) FROM asset) + (SELECT count(*) FROM enrollment)");
            assert_eq!(stored as u64, n("accepted"), "{name}: accepted rows missing from the store");
            let stored_rejections = count(&store, "SELECT count(*) FROM ingest_issue WHERE kind = 'rejection'");
            assert_eq!(stored_rejections as u64, n("rejected"), "{name}: every rejection is recorded");
            for rej in v[0]["rejections"].as_array().unwrap() {
                assert!(rej["line"].as_u64().unwrap() >= 1, "{name}: {rej}");
                assert!(rej["field"].as_str().is_some_and(|f| !f.is_empty()), "{name}: rejection without a field: {rej}");
            }
            let text = evident(&store, &["ingests"]).stdout;
            assert!(text.contains(&name), "{name} listed: {text}");
            checked += 1;
        }
    }
    assert_eq!(checked, 26, "every corpus file of snipeit/, intune/, jamf/, kandji/, fleet/ and google/ was checked");
}

/// The corpus's deliberately bad Snipe-IT import: bare-CR lines, a repeated header, Excel
/// scientific notation and bytes that are not UTF-8 — each problem named by line and field.
#[test]
fn bad_snipeit_sample_names_each_problem() {
    let path = corpus().join("snipeit/import-assets-sample-BAD-cr-line-endings.csv");
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let strict = evident(&store, &["ingest", path.to_str().unwrap()]);
    assert_eq!(strict.code, 2);
    assert!(strict.stderr.contains("import-assets-sample-BAD-cr-line-endings.csv:12: field 'Location': not valid UTF-8"), "{}", strict.stderr);
    assert_eq!(count(&store, "SELECT count(*) FROM asset"), 0);
    let cp1252 = evident(&store, &["ingest", "--encoding", "windows-1252", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(cp1252.code, 0, "{}", cp1252.stderr);
    let v: serde_json::Value = serde_json::from_str(&cp1252.stdout).unwrap();
    assert_eq!(v[0]["counts"]["accepted"], 200);
    let warnings = v[0]["warnings"].to_string();
    assert!(warnings.contains("header appears in columns 6 and 13"), "{warnings}");
    assert!(warnings.contains("6.37702E+15"), "{warnings}");
}

/// Snipe-IT API strings are HTML-decoded; a partial page says so.
#[test]
fn snipeit_api_entities_and_paging() {
    let path = corpus().join("snipeit/api-v1-hardware-response-2020-05-demo-page1.json");
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let r = evident(&store, &["ingest", "--source-tz", "UTC", path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("this page holds 500 of 1328 assets"), "{}", r.stdout);
    assert_eq!(
        count(&store, "SELECT count(*) FROM asset WHERE model = 'Macbook Pro 13\"'"),
        count(&store, "SELECT count(*) FROM asset WHERE model LIKE 'Macbook Pro 13%'")
    );
    assert_eq!(count(&store, "SELECT count(*) FROM asset WHERE model LIKE '%&quot;%'"), 0);
}

/// Intune's VirtualBox device (serial "0") never joins; 7-digit fractions and sentinels parse.
#[test]
fn intune_virtualbox_and_sentinels() {
    let path = corpus().join("intune/graph-v1-managedDevice-get-windows-virtualbox-forgerock-readme.json");
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    assert_eq!(evident(&store, &["ingest", path.to_str().unwrap()]).code, 0);
    let c = rusqlite::Connection::open(&store).unwrap();
    let (q, sync): (String, String) = c.query_row("SELECT serial_quality, last_checkin_at FROM enrollment", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(q, "virtual");
    assert_eq!(sync, "2024-05-16T03:45:42.430924700Z");
    let enc: String = c.query_row("SELECT state FROM encryption", [], |r| r.get(0)).unwrap();
    assert_eq!(enc, "not_encrypted");
}

/// Jamf Classic: FileVault per partition, and the internal disk's serial linked to the Mac.
#[test]
fn jamf_classic_volumes_and_disks() {
    let path = corpus().join("jamf/classic-JSSResource-computers-id-1.json");
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    assert_eq!(evident(&store, &["ingest", path.to_str().unwrap()]).code, 0);
    assert_eq!(count(&store, "SELECT count(*) FROM encryption WHERE scope = 'boot_volume' AND state = 'encrypted'"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM encryption WHERE scope = 'data_volume' AND state = 'not_encrypted'"), 5);
    assert_eq!(count(&store, "SELECT count(*) FROM media_link WHERE media_serial_key = 'C02706400ADGVFW1H' AND host_serial_key = 'C02T705EGTF1'"), 1);
}

/// The real nwipe logs in the corpus (research/PROVENANCE: two nwipe 0.1x logs and a truncated
/// ShredOS 2024.11 log): every run is one row, every wipe started is one event with its own
/// result, the entropy source is never a drive, and a run without a final result is never a
/// success.
#[test]
fn every_nwipe_corpus_log_ingests_with_its_runs_and_results() {
    let dir = corpus().join("nwipe");
    let run = |name: &str| {
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join("s.db");
        let r = evident(&store, &["ingest", "--source-tz", "UTC", "--format", "json", dir.join(name).to_str().unwrap()]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let c = rusqlite::Connection::open(&store).unwrap();
        let mut st = c.prepare("SELECT media_serial_raw, result, method_raw, device_name FROM wipe ORDER BY id").unwrap();
        let wipes: Vec<(String, String, Option<String>, Option<String>)> =
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect();
        (v[0]["counts"].clone(), wipes, tmp)
    };
    // One verified Quick Erase of one WD drive; /dev/urandom (the entropy source) is not a drive.
    let (counts, wipes, _t) = run("nwipe-0.1x-single-quick-erase-verified.log");
    assert_eq!(counts, serde_json::json!({"read": 1, "accepted": 1, "rejected": 0, "empty": 0}));
    assert_eq!(wipes, [("WD-WMC1S7451918".to_string(), "success".to_string(), Some("Quick Erase".to_string()), Some("/dev/sda".to_string()))]);
    // Eight runs appended to one file: four reach `Blanked device`, two stop while verifying, two
    // never start a wipe. Eight rows, six events, and the two cut short are incomplete, not success.
    let (counts, wipes, _t) = run("nwipe-0.1x-concatenated-runs-some-incomplete.log");
    assert_eq!(counts, serde_json::json!({"read": 8, "accepted": 8, "rejected": 0, "empty": 0}));
    let results: Vec<&str> = wipes.iter().map(|w| w.1.as_str()).collect();
    assert_eq!(results, ["success", "success", "incomplete", "incomplete", "success", "success"]);
    assert!(wipes.iter().all(|w| w.0 == "WD-WMC1S7451918" && w.3.as_deref() == Some("/dev/sda")));
    // ShredOS 2024.11 cut off before any wipe: the drive is counted, no event is made up.
    let (counts, wipes, _t) = run("shredos-v2024.11-nwipe-0.38-issue332-header-wrapped-lines.TRUNCATED.log");
    assert_eq!(counts["read"], 1);
    assert!(wipes.is_empty(), "{wipes:?}");
}

/// The osquery results logs in the corpus hold no encryption rows: every line is read, counted
/// as accepted and reported with a warning saying why it made no record; none is dropped.
#[test]
fn every_osquery_corpus_log_counts_and_reports_each_row() {
    let mut checked = 0;
    for path in files("osquery") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let lines = std::fs::read_to_string(&path).unwrap().lines().filter(|l| !l.trim().is_empty()).count() as u64;
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join("s.db");
        let r = evident(&store, &["ingest", "--format", "json", path.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v[0]["source"], "osquery_json", "{name}");
        let c = &v[0]["counts"];
        assert_eq!(c["read"].as_u64().unwrap(), lines, "{name}: one row per result line");
        assert_eq!(c["accepted"].as_u64().unwrap() + c["rejected"].as_u64().unwrap() + c["empty"].as_u64().unwrap(), lines, "{name}: {c}");
        assert_eq!(v[0]["records"], 0, "{name}: no encryption rows, so no records");
        // Each row without a record says why, and the store keeps every one of those warnings.
        assert_eq!(v[0]["warnings_total"].as_u64().unwrap(), lines, "{name}: a warning per row without a record");
        assert_eq!(count(&store, "SELECT count(*) FROM ingest_issue WHERE kind = 'warning'") as u64, lines, "{name}");
        assert_eq!(count(&store, "SELECT warnings FROM ingest") as u64, lines, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 3, "every corpus file of osquery/ was checked");
}

/// A CSV's columns that evident does not read are named once per file, in the report, in the
/// JSON report and in `ingests`; a JSON export's record keys likewise.
#[test]
fn unread_csv_columns_are_reported_once_per_file() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let pat = corpus().join("snipeit/snipeit-import-csv-generated-from-pat-tests-invalid-month-dates.csv");
    let r = evident(&store, &["ingest", "--source-tz", "UTC", pat.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.matches("not read:").count(), 1, "{}", r.stdout);
    assert!(r.stdout.contains("not read: 2 fields: Next Audit Date, PatTest_Result"), "{}", r.stdout);

    // An empty header is named by its position; a repeated header's second column is unread.
    let blanks = corpus().join("snipeit/import-assets-sample-BLANKS-cr-line-endings.csv");
    let r = evident(&store, &["ingest", "--allow-rejects", "--encoding", "windows-1252", "--source-tz", "UTC", "--format", "json", blanks.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let unread: Vec<&str> = v[0]["unread"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    assert_eq!(unread, ["(column 5)", "(column 9)", "(column 14)", "Notes", "Purchase Cost", "Company", "Warranty", "Supplier"]);

    let api = corpus().join("snipeit/api-v1-hardware-response-2020-05-demo-page1.json");
    let r = evident(&store, &["ingest", "--source-tz", "UTC", "--format", "json", api.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let keys: Vec<&str> = v[0]["unread"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    assert!(!keys.is_empty() && !keys.contains(&"serial") && !keys.contains(&"asset_tag"), "JSON: the record keys not read, never one read: {keys:?}");

    let list: serde_json::Value = serde_json::from_str(&evident(&store, &["ingests", "--format", "json"]).stdout).unwrap();
    assert_eq!(list[0]["unread"], serde_json::json!(["Next Audit Date", "PatTest_Result"]));
    assert_eq!(list[1]["unread"].as_array().unwrap().len(), 8);
    assert_eq!(list[2]["unread"], v[0]["unread"]);
    let text = evident(&store, &["ingests"]).stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("; 2 fields not read;"), "{text}");
    assert!(lines[1].contains("; 8 fields not read;"), "{text}");
    assert!(lines[2].contains(&format!("; {} fields not read;", keys.len())), "{text}");
}

/// The keys a JSON reader reports as not read are really not read: the same export with every
/// one of them removed from every record gives the same devices (the joined view, without the
/// record references whose lines move) and the same counts. Over every JSON export of the corpus
/// and of examples/ that a JSON reader takes.
#[test]
fn json_keys_reported_unread_change_nothing_when_removed() {
    use serde_json::Value;
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["fleet", "google", "intune", "jamf", "kandji", "snipeit", "osquery"] {
        for e in std::fs::read_dir(corpus().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json" || x == "log") {
                files.push(p);
            }
        }
    }
    for f in ["intune-managed-devices.json", "jamf-computers-inventory.json", "kandji-devices.json", "osquery-results.log"] {
        files.push(crate::util::root().join("examples").join(f));
    }
    fn strip(v: &mut Value, keys: &[String]) {
        if let Value::Object(m) = v {
            for k in keys.iter().filter(|k| !k.starts_with("columns.")) {
                m.remove(k);
            }
            let cols: Vec<&str> = keys.iter().filter_map(|k| k.strip_prefix("columns.")).collect();
            let drop = |r: &mut Value| {
                if let Value::Object(r) = r {
                    r.retain(|k, _| !cols.contains(&k.as_str()));
                }
            };
            m.get_mut("snapshot").and_then(Value::as_array_mut).into_iter().flatten().for_each(drop);
            m.get_mut("columns").into_iter().for_each(drop);
        }
    }
    let ingest = |store: &std::path::Path, file: &std::path::Path, source: &str| {
        let r = evident(
            store,
            &["ingest", "--allow-rejects", "--source-tz", "UTC", "--as-of", "2026-10-31", "--source", source, "--format", "json", file.to_str().unwrap()],
        );
        assert_eq!(r.code, 0, "{}: {}", file.display(), r.stderr);
        serde_json::from_str::<Value>(&r.stdout).unwrap()[0].clone()
    };
    let view = |store: &std::path::Path| {
        let mut v: Value = serde_json::from_str(&evident(store, &["assets", "--format", "json"]).stdout).unwrap();
        for a in v.as_array_mut().unwrap() {
            let a = a.as_object_mut().unwrap();
            a.remove("records");
            // A device without a usable serial is keyed by its record (file@sha:line:pointer):
            // keep the file and pointer, not the bytes' hash and line, which the rewrite moves.
            if let Some(k) = a.get("key").and_then(Value::as_str).filter(|k| k.starts_with("record:")).map(String::from) {
                let (head, rest) = k.split_once('@').unwrap();
                let pointer = rest.splitn(3, ':').nth(2).unwrap_or("");
                a.insert("key".into(), format!("{head}:{pointer}").into());
            }
        }
        v.as_array_mut().unwrap().sort_by_key(|a| a["key"].to_string());
        v
    };
    let mut with_unread = 0;
    for file in &files {
        let tmp = tempfile::tempdir().unwrap();
        let first = tmp.path().join("a.db");
        let probe = evident(&first, &["ingest", "--allow-rejects", "--source-tz", "UTC", "--as-of", "2026-10-31", "--format", "json", file.to_str().unwrap()]);
        let report: Value = serde_json::from_str(&probe.stdout).unwrap_or_default();
        let Some(source) = report[0]["source"].as_str().map(String::from) else { continue };
        let unread: Vec<String> = report[0]["unread"].as_array().map(|a| a.iter().map(|k| k.as_str().unwrap().to_string()).collect()).unwrap_or_default();
        assert!(!report[0]["unread"].is_null(), "{}: a JSON reader says what it did not read", file.display());
        if unread.is_empty() {
            continue;
        }
        with_unread += 1;
        let text = std::fs::read_to_string(file).unwrap();
        let stripped = if file.extension().is_some_and(|x| x == "log") {
            text.lines()
                .map(|l| match serde_json::from_str::<Value>(l) {
                    Ok(mut v) => {
                        strip(&mut v, &unread);
                        v.to_string()
                    }
                    Err(_) => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            let mut doc: Value = serde_json::from_str(&text).unwrap();
            match &mut doc {
                Value::Array(items) => items.iter_mut().for_each(|d| strip(d, &unread)),
                Value::Object(m) => {
                    let arrays = ["value", "results", "computers", "hosts", "chromeosdevices", "devices", "rows"];
                    match arrays.iter().find(|k| m.get(**k).is_some_and(Value::is_array)) {
                        Some(k) => m.get_mut(*k).unwrap().as_array_mut().unwrap().iter_mut().for_each(|d| strip(d, &unread)),
                        None => match ["computer", "host"].iter().find(|k| m.get(**k).is_some_and(Value::is_object)) {
                            Some(k) => strip(m.get_mut(*k).unwrap(), &unread),
                            None => strip(&mut doc, &unread),
                        },
                    }
                }
                _ => {}
            }
            serde_json::to_string_pretty(&doc).unwrap()
        };
        let again = tmp.path().join(file.file_name().unwrap());
        std::fs::write(&again, stripped).unwrap();
        let (a, b) = (tmp.path().join("x.db"), tmp.path().join("y.db"));
        let (ra, rb) = (ingest(&a, file, &source), ingest(&b, &again, &source));
        assert_eq!(ra["counts"], rb["counts"], "{}", file.display());
        assert_eq!(ra["records"], rb["records"], "{}", file.display());
        assert_eq!(rb["unread"], serde_json::json!([]), "{}: nothing left unread", file.display());
        assert_eq!(view(&a), view(&b), "{}: removing {unread:?} changed what was read", file.display());
    }
    assert!(with_unread >= 10, "most exports carry keys evident does not read ({with_unread})");
}
