//! A pack never says more than its evidence: each way a signed pack could state something false
//! under honest use (a period with one month of data, a stale export, a missing register, a
//! mistyped store, exceptions judged at the wrong date, a corrected export) reproduced on small
//! stores built from Intune Graph and Snipe-IT exports written from their documented shapes.

use crate::util::{count, evident};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// One Intune `managedDevice` as Graph returns it (v1.0 property names).
fn device(serial: &str, name: &str, synced: &str, compliance: &str, owner: &str) -> Value {
    json!({
        "id": format!("{:0>8}-0000-4000-8000-000000000000", serial.to_lowercase()),
        "deviceName": name,
        "serialNumber": serial,
        "manufacturer": "Dell Inc.",
        "model": "Latitude 7440",
        "operatingSystem": "Windows",
        "osVersion": "10.0.22631.4890",
        "userPrincipalName": "pat@acme.example",
        "managedDeviceOwnerType": owner,
        "enrolledDateTime": "2020-03-11T08:11:02Z",
        "lastSyncDateTime": synced,
        "complianceState": compliance,
        "managementAgent": "mdm",
        "deviceEnrollmentType": "windowsAzureADJoin",
        "isEncrypted": true,
        "isSupervised": false
    })
}

fn intune(dir: &Path, name: &str, devices: &[Value]) -> String {
    let doc = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices", "value": devices});
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    // Minified, as Graph sends it: every device is on line 1.
    std::fs::write(&p, serde_json::to_string(&doc).unwrap()).unwrap();
    p.display().to_string()
}

fn register(dir: &Path, rows: &[(&str, &str)]) -> String {
    let mut text = String::from("Asset Tag,Asset Name,Serial,Model,Status,Checked Out,Username,Email\n");
    for (tag, serial) in rows {
        text.push_str(&format!("{tag},LT-{tag},{serial},Latitude 7440,Deployed (deployed),Pat Doe,pdoe,pat@acme.example\n"));
    }
    let p = dir.join("register.csv");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn ingest(store: &Path, args: &[&str]) {
    let r = evident(store, &[&["ingest", "--source-tz", "UTC"], args].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
}

fn evaluate(store: &Path, args: &[&str]) -> Value {
    let r = evident(store, &[&["evaluate", "--format", "json"], args].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn control(ev: &Value, id: &str) -> Value {
    ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no {id}")).clone()
}

fn statuses(c: &Value) -> Vec<(String, String)> {
    c["dates"].as_array().unwrap().iter().map(|d| (d["date"].as_str().unwrap().to_string(), d["status"].as_str().unwrap().to_string())).collect()
}

fn store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    (dir, store)
}

#[test]
fn a_period_with_evidence_only_at_its_last_date_does_not_pass() {
    let (dir, store) = store();
    let f = intune(dir.path(), "devices.json", &[device("AAA111", "PC-1", "2026-10-25T10:20:45Z", "compliant", "company")]);
    ingest(&store, &[&f]);
    let ev = evaluate(&store, &["--period", "2026-07-01..2026-10-31", "--cadence", "monthly"]);
    for id in ["MDM-02", "OS-01"] {
        let c = control(&ev, id);
        assert_eq!(c["status"], "no_evidence", "{id} must not pass a period it saw one month of: {c}");
        let want: Vec<(String, String)> = [("2026-07-31", "no_evidence"), ("2026-08-31", "no_evidence"), ("2026-09-30", "no_evidence"), ("2026-10-31", "pass")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(statuses(&c), want, "{id}");
        assert!(c["dates"][0]["missing"][0].as_str().unwrap().contains("no MDM device list dated on or before 2026-07-31"), "{c}");
        assert_eq!(c["dates"][3]["evidence"][0]["file"], "devices.json");
        // The population is items × sample dates with evidence: one device, one date.
        assert_eq!(c["population"], 1);
    }
    // The default --deny refuses a period without evidence; --deny fail still means failures only.
    let gate = |deny: &[&str]| evident(&store, &[&["evaluate", "--period", "2026-07-01..2026-10-31"], deny].concat()).code;
    assert_eq!(gate(&["--deny"]), 1);
    assert_eq!(gate(&["--deny", "no-evidence"]), 1);
    assert_eq!(gate(&["--deny", "fail"]), 0);
    // The human output shows the row of dates.
    let human = evident(&store, &["evaluate", "--period", "2026-07-01..2026-10-31"]).stdout;
    assert!(human.contains("by date: 2026-07-31 no_evidence (0) | 2026-08-31 no_evidence (0) | 2026-09-30 no_evidence (0) | 2026-10-31 pass (1)"), "{human}");
}

#[test]
fn an_export_from_2021_evaluated_in_2026_does_not_pass() {
    let (dir, store) = store();
    let f = intune(dir.path(), "old.json", &[device("AAA111", "PC-1", "2021-06-01T08:00:00Z", "compliant", "company")]);
    ingest(&store, &[&f]);
    let ev = evaluate(&store, &["--as-of", "2026-10-31"]);
    for id in ["MDM-02", "OS-01"] {
        let c = control(&ev, id);
        assert_eq!(c["status"], "no_evidence", "{id}: {c}");
        assert!(c["note"].as_str().unwrap().contains("days old on 2026-10-31 (allowed 35)"), "{c}");
    }
    // The same device in a fresh export whose own check-in is five years old: in force, but the
    // device's verdict is not current evidence of compliance.
    let f = intune(
        dir.path(),
        "fresh.json",
        &[device("AAA111", "PC-1", "2021-06-01T08:00:00Z", "compliant", "company"), device("BBB222", "PC-2", "2026-10-30T08:00:00Z", "compliant", "company")],
    );
    ingest(&store, &[&f]);
    let ev = evaluate(&store, &["--as-of", "2026-10-31"]);
    for id in ["MDM-02", "OS-01"] {
        let c = control(&ev, id);
        assert_eq!(c["status"], "fail", "{id}: {c}");
        let stale: Vec<&Value> = c["items"].as_array().unwrap().iter().filter(|i| i["outcome"] == "fail").collect();
        assert_eq!(stale.len(), 1, "{id}: {c}");
        assert_eq!(stale[0]["item"], "AAA111");
        assert!(stale[0]["reason"].as_str().unwrap().contains("days before (allowed 7)"), "{}", stale[0]["reason"]);
    }
}

#[test]
fn without_a_register_enc_01_and_mdm_01_have_no_evidence_not_an_empty_population() {
    let (dir, store) = store();
    let f = intune(dir.path(), "devices.json", &[device("AAA111", "PC-1", "2026-10-30T08:00:00Z", "compliant", "company")]);
    ingest(&store, &[&f]);
    let ev = evaluate(&store, &["--as-of", "2026-10-31"]);
    for id in ["ENC-01", "MDM-01", "INV-FIELDS"] {
        let c = control(&ev, id);
        assert_eq!(c["status"], "no_evidence", "{id}: {c}");
        assert_eq!(c["dates"][0]["missing"][0], "no asset register is ingested", "{id}");
    }
    // With the register in, the same controls are judged.
    ingest(&store, &["--as-of", "2026-10-30", &register(dir.path(), &[("AC-1", "AAA111")])]);
    let ev = evaluate(&store, &["--as-of", "2026-10-31"]);
    assert_eq!(control(&ev, "MDM-01")["status"], "pass");
    assert_eq!(control(&ev, "ENC-01")["status"], "pass");
}

#[test]
fn a_missing_store_is_an_error_and_nothing_is_created() {
    let (dir, _) = store();
    let typo = dir.path().join("typo.db");
    for args in [&["evaluate", "--as-of", "2026-10-31", "--deny", "fail"][..], &["assets"], &["ingests"], &["retract", "1", "--reason", "x"]] {
        let r = evident(&typo, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
        assert!(r.stderr.contains("hint: check --store; a store is created by `evident --store PATH ingest FILE…`"), "{}", r.stderr);
        assert!(!typo.exists(), "{args:?} created the store");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written beside it either");
}

#[test]
fn an_exception_is_judged_at_each_sample_date() {
    let (dir, store) = store();
    // PC-1 is noncompliant at both month ends.
    let sep = intune(&dir.path().join("sep"), "devices.json", &[device("AAA111", "PC-1", "2026-09-29T08:00:00Z", "noncompliant", "company")]);
    let oct = intune(&dir.path().join("oct"), "devices.json", &[device("AAA111", "PC-1", "2026-10-30T08:00:00Z", "noncompliant", "company")]);
    ingest(&store, &[&sep]);
    ingest(&store, &[&oct]);
    let ex = dir.path().join("exceptions.yaml");
    std::fs::write(
        &ex,
        "exceptions:\n  - item: AAA111\n    control: MDM-02\n    reason: awaiting a BIOS update\n    approved_by: CISO\n    expires: 2026-09-30\n",
    )
    .unwrap();
    let period = ["--period", "2026-09-01..2026-10-31", "--exceptions", ex.to_str().unwrap()];
    let c = control(&evaluate(&store, &period), "MDM-02");
    assert_eq!(statuses(&c), [("2026-09-30".to_string(), "pass".to_string()), ("2026-10-31".to_string(), "fail".to_string())]);
    let outcomes: Vec<(&str, &str)> = c["items"].as_array().unwrap().iter().map(|i| (i["date"].as_str().unwrap(), i["outcome"].as_str().unwrap())).collect();
    assert_eq!(outcomes, [("2026-09-30", "excepted"), ("2026-10-31", "fail")]);
    let dispositions: Vec<&str> = c["exceptions"].as_array().unwrap().iter().map(|d| d["disposition"].as_str().unwrap()).collect();
    assert_eq!(dispositions, ["applied", "expired"]);
    assert_eq!(c["status"], "fail");
    // An exception that starts on 10-01 covers October only.
    std::fs::write(&ex, "exceptions:\n  - item: AAA111\n    control: MDM-02\n    reason: awaiting a BIOS update\n    approved_by: CISO\n    valid_from: 2026-10-01\n    expires: 2026-12-31\n").unwrap();
    let c = control(&evaluate(&store, &period), "MDM-02");
    let outcomes: Vec<(&str, &str)> = c["items"].as_array().unwrap().iter().map(|i| (i["date"].as_str().unwrap(), i["outcome"].as_str().unwrap())).collect();
    assert_eq!(outcomes, [("2026-09-30", "fail"), ("2026-10-31", "excepted")]);
    assert!(c["items"][0]["reason"].as_str().unwrap().contains("exception valid only from 2026-10-01"), "{c}");
}

#[test]
fn an_exceptions_file_reports_every_problem_with_its_line() {
    let (dir, store) = store();
    ingest(&store, &[&intune(dir.path(), "devices.json", &[device("AAA111", "PC-1", "2026-10-30T08:00:00Z", "compliant", "company")])]);
    let ex = dir.path().join("exceptions.yaml");
    std::fs::write(
        &ex,
        "exceptions:\n  - item: AAA111\n    control: MDM-2\n    reason: r\n    approved_by: CISO\n    expires: 2026-12-31\n  - item: BBB222\n    control: ENC-01\n    reason: ''\n    approved_by: CISO\n    expires: 2026-12-31\n  - item: CCC333\n    control: ENC-01\n    reason: r\n    approved_by: CISO\n    valid_from: 2027-01-01\n    expires: 2026-12-31\n",
    )
    .unwrap();
    let r = evident(&store, &["evaluate", "--as-of", "2026-10-31", "--exceptions", ex.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let f = ex.display().to_string();
    assert!(r.stderr.contains(&format!("{f}:3:")) && r.stderr.contains("unknown control 'MDM-2' (did you mean MDM-02?)"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{f}:9:")) && r.stderr.contains("empty reason"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{f}:16:")) && r.stderr.contains("valid_from 2027-01-01 is after expires 2026-12-31"), "{}", r.stderr);
}

#[test]
fn the_same_bytes_as_of_a_new_month_are_a_new_observation() {
    let (dir, store) = store();
    let reg = register(dir.path(), &[("AC-1", "AAA111")]);
    ingest(&store, &["--as-of", "2026-09-30", &reg]);
    // The same bytes with the same options: nothing to do.
    let again = evident(&store, &["ingest", "--source-tz", "UTC", "--as-of", "2026-09-30", &reg]);
    assert!(again.stdout.contains("already ingested as #1"), "{}", again.stdout);
    // As of a new month: recorded again, the raw bytes stored once.
    ingest(&store, &["--as-of", "2026-10-31", &reg]);
    assert_eq!(count(&store, "SELECT count(*) FROM ingest"), 2);
    assert_eq!(count(&store, "SELECT count(*) FROM blob"), 1);
    let ev = evaluate(&store, &["--period", "2026-09-01..2026-10-31"]);
    let c = control(&ev, "INV-FIELDS");
    assert_eq!(statuses(&c), [("2026-09-30".to_string(), "pass".to_string()), ("2026-10-31".to_string(), "pass".to_string())]);
    assert_eq!(c["dates"][0]["evidence"][0]["as_of"], "2026-09-30");
    assert_eq!(c["dates"][1]["evidence"][0]["as_of"], "2026-10-31");
}

#[test]
fn a_superseded_or_retracted_ingest_leaves_evaluation_and_stays_in_the_pack() {
    let (dir, store) = store();
    let wrong = intune(&dir.path().join("a"), "devices.json", &[device("AAA111", "PC-1", "2026-10-30T08:00:00Z", "noncompliant", "company")]);
    let fixed = intune(&dir.path().join("b"), "devices.json", &[device("AAA111", "PC-1", "2026-10-30T08:00:00Z", "compliant", "company")]);
    ingest(&store, &[&wrong]);
    assert_eq!(control(&evaluate(&store, &["--as-of", "2026-10-31"]), "MDM-02")["status"], "fail");
    // A correction that names an ingest that is not there is refused, and changes nothing.
    let bad = evident(&store, &["ingest", "--source-tz", "UTC", "--supersedes", "7", &fixed]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--supersedes 7: no live ingest #7"), "{}", bad.stderr);
    assert_eq!(count(&store, "SELECT count(*) FROM ingest"), 1);
    ingest(&store, &["--supersedes", "1", &fixed]);
    let ev = evaluate(&store, &["--as-of", "2026-10-31"]);
    assert_eq!(control(&ev, "MDM-02")["status"], "pass");
    assert_eq!(ev["withdrawn"][0]["file"], "devices.json");
    assert!(ev["withdrawn"][0]["superseded_by"].as_str().unwrap().starts_with("devices.json (as of 2026-10-30"), "{}", ev["withdrawn"]);
    let listed = evident(&store, &["ingests"]).stdout;
    assert!(listed.lines().next().unwrap().contains("SUPERSEDED by #2"), "{listed}");
    // The pack keeps both exports byte for byte, and says which one no longer counts.
    let keys = dir.path().join("keys");
    assert_eq!(evident(&store, &["keygen", "--role", "compliance", "--name", "Dana Roe", "--out", keys.to_str().unwrap()]).code, 0);
    let out = dir.path().join("pack");
    // A pack names whose evidence it is.
    let unnamed = evident(&store, &["pack", "--as-of", "2026-10-31", "--key", keys.join("dana-roe.key.pem").to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(unnamed.code, 2);
    assert!(unnamed.stderr.contains("--organisation is missing"), "{}", unnamed.stderr);
    assert!(!out.exists());
    let r = evident(
        &store,
        &[
            "pack",
            "--organisation",
            "Fernhill Labs",
            "--as-of",
            "2026-10-31",
            "--key",
            keys.join("dana-roe.key.pem").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let results: Value = serde_json::from_slice(&std::fs::read(out.join("results/evaluation.json")).unwrap()).unwrap();
    assert_eq!(results["withdrawn"].as_array().unwrap().len(), 1);
    assert_eq!(results["organisation"], "Fernhill Labs");
    let ar: Value = serde_json::from_slice(&std::fs::read(out.join("results/oscal-assessment-results.json")).unwrap()).unwrap();
    assert_eq!(ar["assessment-results"]["metadata"]["parties"][0]["name"], "Fernhill Labs");
    let manifest: Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let reports: Vec<Value> = manifest["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| serde_json::from_slice(&std::fs::read(out.join(s["report"].as_str().unwrap())).unwrap()).unwrap())
        .collect();
    assert_eq!(reports.iter().filter(|r| r["superseded_by"].is_i64()).count(), 1, "{reports:?}");
    let html = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    assert!(html.contains("superseded by a correction</strong> — kept in the audit trail, not evaluated"));
    assert!(html.contains("<h1>Fernhill Labs: evidence pack 1</h1>"));
    // Retracting the correction leaves no MDM evidence at all: nothing is silently reinstated.
    let r = evident(&store, &["retract", "2", "--reason", "exported from the test tenant"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ev = evaluate(&store, &["--as-of", "2026-10-31"]);
    assert_eq!(control(&ev, "MDM-02")["status"], "no_evidence");
    assert_eq!(ev["withdrawn"].as_array().unwrap().len(), 2);
    assert_eq!(evident(&store, &["retract", "2", "--reason", "again"]).code, 2, "a retraction is not repeated");
    assert_eq!(count(&store, "SELECT count(*) FROM ingest"), 2, "nothing is deleted");
}

#[test]
fn two_months_of_same_named_minified_files_give_different_references() {
    let (dir, store) = store();
    let sep = intune(
        &dir.path().join("sep"),
        "devices.json",
        &[
            device("AAA111", "PC-1", "2026-09-29T08:00:00Z", "noncompliant", "company"),
            device("BBB222", "PC-2", "2026-09-29T08:00:00Z", "noncompliant", "company"),
        ],
    );
    let oct = intune(
        &dir.path().join("oct"),
        "devices.json",
        &[
            device("AAA111", "PC-1", "2026-10-30T08:00:00Z", "noncompliant", "company"),
            device("BBB222", "PC-2", "2026-10-30T08:00:00Z", "noncompliant", "company"),
        ],
    );
    ingest(&store, &[&sep]);
    ingest(&store, &[&oct]);
    let c = control(&evaluate(&store, &["--period", "2026-09-01..2026-10-31"]), "MDM-02");
    let refs: Vec<String> = c["items"].as_array().unwrap().iter().map(|i| i["records"][0].as_str().unwrap().to_string()).collect();
    assert_eq!(refs.len(), 4);
    let unique: std::collections::BTreeSet<&String> = refs.iter().collect();
    assert_eq!(unique.len(), 4, "each record is told apart by file hash and JSON pointer: {refs:?}");
    assert!(refs.iter().all(|r| r.starts_with("intune_graph:devices.json@") && (r.ends_with(":1:/value/0") || r.ends_with(":1:/value/1"))), "{refs:?}");
}

#[test]
fn personal_devices_are_out_of_scope_not_failures_and_grace_period_devices_stay_in() {
    let (dir, store) = store();
    ingest(&store, &["--as-of", "2026-10-30", &register(dir.path(), &[("AC-1", "AAA111"), ("AC-2", "BBB222")])]);
    let f = intune(
        dir.path(),
        "devices.json",
        &[
            device("AAA111", "PC-1", "2026-10-30T08:00:00Z", "compliant", "company"),
            device("BBB222", "PC-2", "2026-10-30T08:00:00Z", "inGracePeriod", "company"),
            // A personal phone enrolled for mail: not in the register, and not meant to be.
            device("PPP999", "Pat's iPhone", "2026-10-30T08:00:00Z", "compliant", "personal"),
        ],
    );
    ingest(&store, &[&f]);
    let ev = evaluate(&store, &["--as-of", "2026-10-31"]);
    let rec = control(&ev, "REC-01");
    assert_eq!(rec["status"], "pass", "{rec}");
    assert_eq!(rec["out_of_scope"], 1);
    assert!(rec["items"].as_array().unwrap().iter().all(|i| i["item"] != "PPP999"));
    let mdm02 = control(&ev, "MDM-02");
    let grace: Vec<&Value> = mdm02["items"].as_array().unwrap().iter().filter(|i| i["item"] == "BBB222").collect();
    assert_eq!(grace.len(), 1, "the grace-period device is in MDM-02's population: {mdm02}");
    assert_eq!(grace[0]["outcome"], "fail");
    assert!(grace[0]["reason"].as_str().unwrap().contains("in its grace period"));
}

#[test]
fn serial_less_devices_on_one_minified_line_each_get_their_own_key() {
    // Google Cloud Identity's device list (the real corpus page): three personal devices without
    // serials or tags, all on line 1.
    let (_dir, store) = store();
    let f = crate::util::corpus().join("google/cloudidentity-v1-devices-user-assigned.json");
    ingest(&store, &[f.to_str().unwrap()]);
    let r = evident(&store, &["assets", "--format", "json"]);
    let view: Value = serde_json::from_str(&r.stdout).unwrap();
    let keys: Vec<&str> = view.as_array().unwrap().iter().map(|a| a["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 3);
    let unique: std::collections::BTreeSet<&&str> = keys.iter().collect();
    assert_eq!(unique.len(), 3, "{keys:?}");
    assert!(keys.iter().all(|k| k.starts_with("record:google_api:cloudidentity-v1-devices-user-assigned.json@c75d97406cf3:1:/devices/")), "{keys:?}");
    assert!(view.as_array().unwrap().iter().all(|a| a["ownership"] == "personal"));
}

#[test]
fn a_stored_value_no_vocabulary_knows_is_an_error_not_a_default() {
    let (dir, store) = store();
    ingest(&store, &[&intune(dir.path(), "devices.json", &[device("AAA111", "PC-1", "2026-10-30T08:00:00Z", "compliant", "company")])]);
    // What the typed read side refuses: text in the store that is not the model's (a store
    // written by another version, or edited by hand) never reads as "unknown" or as a pass.
    rusqlite::Connection::open(&store).unwrap().execute("UPDATE enrollment SET compliance = 'in_grace_period'", []).unwrap();
    let r = evident(&store, &["evaluate", "--as-of", "2026-10-31"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("'in_grace_period' is not a Compliance (compliant|noncompliant|grace_period|not_evaluated|unknown)"), "{}", r.stderr);
}
