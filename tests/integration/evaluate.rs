//! Controls on examples/: each deliberate problem is caught by the right control and nothing else
//! fails; exceptions, --deny, framework regrouping and the controls checker.

use crate::pack::org;
use crate::util::evident;
use std::collections::{BTreeMap, BTreeSet};

fn failing(ev: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for c in ev["controls"].as_array().unwrap() {
        for i in c["items"].as_array().unwrap().iter().filter(|i| i["outcome"] == "fail") {
            let who = i["asset_tag"].as_str().map(String::from).unwrap_or_else(|| i["item"].as_str().unwrap().to_string());
            out.entry(c["id"].as_str().unwrap().to_string()).or_insert_with(BTreeSet::new).insert(who);
        }
    }
    out
}

#[test]
fn every_deliberate_problem_is_caught_by_the_right_control_and_nothing_else_fails() {
    let org = org();
    let r = evident(&org.store, &["evaluate", "--as-of", "2026-10-31", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ev: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let want: BTreeMap<String, BTreeSet<String>> = [
        // The disposed laptop with no wipe record, and the Blancco-wiped desktop whose second
        // drive failed its erasure.
        ("DISP-01", set(&["FH-2091", "FH-3090"])),
        // The failed nwipe run and the failed Blancco erasure.
        ("DISP-02", set(&["FH-1090", "FH-3090"])),
        // The unencrypted disks (Windows through Intune, a Mac through Jamf), and the laptop Intune
        // calls encrypted whose BitLocker osquery finds suspended.
        ("ENC-01", set(&["FH-1008", "FH-2001", "FH-2003"])),
        ("MDM-02", set(&["FH-2003"])),
        // The placeholder serial.
        ("INV-FIELDS", set(&["FH-3002"])),
        // The duplicate serial.
        ("INV-UNIQUE", set(&["FH-1013"])),
        // The unenrolled laptop, and the placeholder-serial desktop that cannot be matched to its MDM record.
        ("MDM-01", set(&["FH-2006", "FH-3002"])),
        // The device in MDM but not in the register, and the two halves of the placeholder-serial desktop.
        ("REC-01", set(&["5CG3X325AY", "FH-2006", "FH-3002", "record:intune_graph:intune-managed-devices.json@8638b6644164:284:/value/14"])),
        // The leaver who kept her laptop past the 14 days.
        ("RET-01", set(&["FH-1020"])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(failing(&ev), want);
    let status: BTreeMap<&str, &str> = ev["controls"].as_array().unwrap().iter().map(|c| (c["id"].as_str().unwrap(), c["status"].as_str().unwrap())).collect();
    for pass in ["IPE-TIE", "KEY-01", "ITAD-01", "RET-CRED", "OS-01"] {
        assert_eq!(status[pass], "pass", "{pass}");
    }
    // Evidence in force, nobody lost a device: truly nothing to test.
    assert_eq!(status["LOST-01"], "not_applicable");
    // Missing inputs are not "nothing to test": no certificates yet, no assignment history.
    for none in ["DISP-03", "REISSUE-01"] {
        assert_eq!(status[none], "no_evidence", "{none}");
    }
    // Every source ties out.
    for t in ev["tie_out"].as_array().unwrap() {
        assert_eq!(t["read"].as_i64().unwrap(), t["accepted"].as_i64().unwrap() + t["rejected"].as_i64().unwrap() + t["empty"].as_i64().unwrap());
    }
    insta::assert_json_snapshot!("examples_evaluate", ev);
    // --deny fail turns a failing control into exit 1.
    assert_eq!(evident(&org.store, &["evaluate", "--as-of", "2026-10-31", "--deny", "fail"]).code, 1);
}

#[test]
fn exceptions_excuse_expire_and_warn_when_unused() {
    let org = org();
    let ex = org.dir.path().join("exceptions.yaml");
    std::fs::write(
        &ex,
        "exceptions:\n  - {item: FH-2006, control: MDM-01, reason: 'on parental leave, device in a locker', approved_by: CISO, ticket: SEC-12, expires: 2026-12-31}\n  - {item: FH-1013, control: INV-UNIQUE, reason: duplicate under cleanup, approved_by: CISO, expires: 2026-10-01}\n  - {item: FH-1001, control: ENC-01, reason: not failing, approved_by: CISO, expires: 2027-01-01}\n",
    )
    .unwrap();
    let r = evident(&org.store, &["evaluate", "--as-of", "2026-10-31", "--exceptions", ex.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ev: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let ctl = |id: &str| ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();
    let mdm = ctl("MDM-01");
    assert_eq!((mdm["excepted"].as_u64(), mdm["exceptions"][0]["disposition"].as_str()), (Some(1), Some("applied")));
    let uniq = ctl("INV-UNIQUE");
    assert_eq!((uniq["status"].as_str(), uniq["exceptions"][0]["disposition"].as_str()), (Some("fail"), Some("expired")));
    assert_eq!(ev["unused_exceptions"][0]["item"], "FH-1001");
    let human = evident(&org.store, &["evaluate", "--as-of", "2026-10-31", "--exceptions", ex.to_str().unwrap()]);
    assert!(human.stdout.contains("warning: exception for FH-1001 under ENC-01 matched no failing item"), "{}", human.stdout);
    // An exception without an approver is refused, naming the file.
    std::fs::write(&ex, "exceptions:\n  - {item: FH-2006, control: MDM-01, reason: x, expires: 2026-12-31}\n").unwrap();
    let bad = evident(&org.store, &["evaluate", "--as-of", "2026-10-31", "--exceptions", ex.to_str().unwrap()]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("exceptions.yaml:2:") && bad.stderr.contains("missing field `approved_by`"), "{}", bad.stderr);
}

#[test]
fn frameworks_regroup_results_and_list_uncovered_criteria() {
    let org = org();
    let r = evident(&org.store, &["evaluate", "--as-of", "2026-10-31", "--framework", "iso27001", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let crit = v["criteria"].as_array().unwrap();
    assert_eq!(crit.len(), 93);
    let by = |id: &str| crit.iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(by("A.8.1")["status"], "fail");
    assert_eq!(by("A.5.9")["legacy"], serde_json::json!(["A.8.1.1", "A.8.1.2"]));
    assert_eq!(by("A.7.4")["status"], "uncovered");
    let soa = evident(&org.store, &["evaluate", "--as-of", "2026-10-31", "--framework", "iso27001", "--soa"]);
    assert!(soa.stdout.lines().any(|l| l.starts_with("A.5.11") && l.contains("RET-01 (fail)")), "{}", soa.stdout);
    assert!(soa.stdout.lines().any(|l| l.starts_with("A.8.11") && l.contains("not evidenced by evident")));
    let soc2 = evident(&org.store, &["evaluate", "--as-of", "2026-10-31", "--framework", "soc2"]);
    assert!(soc2.stdout.lines().any(|l| l.starts_with("CC6.5") && l.contains("fail")), "{}", soc2.stdout);
    assert!(soc2.stdout.lines().any(|l| l.starts_with("CC3.2") && l.contains("uncovered")), "{}", soc2.stdout);
}

#[test]
fn controls_check_reports_every_problem_with_its_position() {
    let org = org();
    let ok = evident(&org.store, &["controls", "check", "--controls", crate::util::root().join("controls").to_str().unwrap()]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stdout.contains("17 controls"), "{}", ok.stdout);
    let dir = org.dir.path().join("controls");
    std::fs::create_dir_all(dir.join("frameworks")).unwrap();
    for rel in ["frameworks/soc2.yaml", "frameworks/iso27001-2022.yaml", "frameworks/iso19770-1.yaml", "enc-01.yaml", "mdm-01.yaml"] {
        std::fs::copy(crate::util::root().join("controls").join(rel), dir.join(rel)).unwrap();
    }
    let enc = std::fs::read_to_string(dir.join("enc-01.yaml")).unwrap().replace("\"A.8.24\"", "\"A.8.99\"");
    std::fs::write(dir.join("enc-01.yaml"), enc).unwrap();
    let mdm = std::fs::read_to_string(dir.join("mdm-01.yaml")).unwrap().replace("frequency: continuous", "frequency: continuous\nseverity: high");
    std::fs::write(dir.join("mdm-01.yaml"), mdm).unwrap();
    let bad = evident(&org.store, &["controls", "check", "--controls", dir.to_str().unwrap()]);
    assert_eq!(bad.code, 2);
    insta::assert_snapshot!("controls_check_problems", bad.stderr);
}

#[test]
fn a_changed_control_needs_a_new_version_before_the_next_pack() {
    let org = org();
    let dir = org.dir.path().join("controls");
    std::fs::create_dir_all(dir.join("frameworks")).unwrap();
    let shipped = crate::util::root().join("controls");
    for rel in evident::pack::archive::walk(&shipped).unwrap() {
        std::fs::copy(shipped.join(&rel), dir.join(&rel)).unwrap();
    }
    let pack = |name: &str| {
        let out = org.dir.path().join(name);
        evident(
            &org.store,
            &[
                "pack",
                "--organisation",
                "Fernhill Labs",
                "--as-of",
                "2026-10-31",
                "--controls",
                dir.to_str().unwrap(),
                "--key",
                org.key.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        )
    };
    assert_eq!(pack("p1").code, 0);
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(org.dir.path().join("p1/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["controls"].as_array().unwrap().len(), 17);
    assert!(org.dir.path().join("p1/results/controls/ENC-01.json").exists());
    assert!(org.dir.path().join("p1/controls/frameworks/iso27001-2022.yaml").exists());
    let enc = std::fs::read_to_string(dir.join("enc-01.yaml")).unwrap();
    std::fs::write(dir.join("enc-01.yaml"), enc.replace("max_report_age_days: 7", "max_report_age_days: 30")).unwrap();
    let refused = pack("p2");
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("control ENC-01@1 (enc-01.yaml) differs from the ENC-01@1 recorded in pack 1"), "{}", refused.stderr);
    assert!(!org.dir.path().join("p2").exists(), "nothing written");
    std::fs::write(dir.join("enc-01.yaml"), enc.replace("max_report_age_days: 7", "max_report_age_days: 30").replace("version: 1", "version: 2")).unwrap();
    assert_eq!(pack("p2").code, 0);
    assert_eq!(org.verify(&org.dir.path().join("p2"), &["--since", org.dir.path().join("p1").to_str().unwrap()]), (0, vec![]));
}

#[test]
fn a_period_samples_state_controls_at_each_month_end() {
    let org = org();
    let r = evident(&org.store, &["evaluate", "--period", "2026-09-01..2026-10-31", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ev: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(ev["sample_dates"], serde_json::json!(["2026-09-30", "2026-10-31"]));
    let enc = ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == "INV-UNIQUE").unwrap();
    let dates: BTreeSet<&str> = enc["items"].as_array().unwrap().iter().map(|i| i["date"].as_str().unwrap()).collect();
    // The register export is dated 2026-10-30: on 2026-09-30 it is not yet evidence, and the
    // period says so: that date has no evidence, so the control cannot pass the period.
    assert_eq!(dates, ["2026-10-31"].into_iter().collect());
    // (Its duplicate serial fails on 10-31, and a failure outranks a date without evidence.)
    assert_eq!(enc["status"], "fail");
    assert_eq!(enc["dates"][0]["date"], "2026-09-30");
    assert_eq!(enc["dates"][0]["status"], "no_evidence");
    assert!(enc["dates"][0]["missing"][0].as_str().unwrap().contains("no asset register dated on or before 2026-09-30"), "{}", enc["dates"][0]);
    assert_eq!(enc["dates"][1]["status"], "fail");
    assert_eq!(enc["dates"][1]["evidence"][0]["file"], "snipeit-assets.csv");
    // Per-event controls take the events inside the period: October holds only the Blancco lot.
    let oct = evident(&org.store, &["evaluate", "--period", "2026-10-01..2026-10-31", "--format", "json"]);
    let ev: serde_json::Value = serde_json::from_str(&oct.stdout).unwrap();
    let disp = ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == "DISP-02").unwrap();
    let drives: BTreeSet<&str> = disp["items"].as_array().unwrap().iter().map(|i| i["item"].as_str().unwrap()).collect();
    let lot: BTreeSet<&str> = ["drive:S4EVNF0M512770", "drive:S5GXNF0R206419", "drive:WD-WCC6Y7NJ2K41"].into_iter().collect();
    assert_eq!(drives, lot, "the September wipes are outside October");
    // RET-01 in October: the two October leavers; Tara Nolan left in September.
    let ret = ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == "RET-01").unwrap();
    let who: Vec<&str> = ret["items"].as_array().unwrap().iter().map(|i| i["item"].as_str().unwrap()).collect();
    assert_eq!(who, ["leaver:lukas.brandt@fernhill.example", "leaver:kim.novak@fernhill.example"]);
    let sep = evident(&org.store, &["evaluate", "--period", "2026-09-01..2026-09-30", "--format", "json"]);
    let ev: serde_json::Value = serde_json::from_str(&sep.stdout).unwrap();
    let disp = ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == "DISP-02").unwrap();
    assert_eq!(disp["population"], 4);
}
