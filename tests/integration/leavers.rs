//! RET-01 on a register that changes: what a leaver held on their last day must be back once the
//! allowed days have passed; a device marked lost needs a wipe on record; a person on two HR
//! lists counts once, as the newer list has them.

use crate::util::evident;

const HEAD: &str = "Asset Tag,Asset Name,Serial,Model,Status,Checked Out,Username,Email\n";

fn register(dir: &std::path::Path, name: &str, rows: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, format!("{HEAD}{rows}")).unwrap();
    p.display().to_string()
}

fn ret01(store: &std::path::Path, as_of: &str) -> Vec<(String, String, String)> {
    let r = evident(store, &["evaluate", "--as-of", as_of, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ev: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let c = ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == "RET-01").unwrap().clone();
    c["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["item"].as_str().unwrap().to_string(), i["outcome"].as_str().unwrap().to_string(), i["reason"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn returned_kept_and_lost_devices_of_leavers() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    // 1 September: Ana and Bo each have a laptop.
    let before = register(
        dir.path(),
        "register-09.csv",
        "AC-1,LT-1,C02AAA111AAA,MacBook Air,Deployed (deployed),Ana Lind,alind,ana.lind@acme.example\nAC-2,LT-2,C02BBB222BBB,MacBook Air,Deployed (deployed),Bo Chen,bchen,bo.chen@acme.example\n",
    );
    // 30 October: Ana's laptop is back in stock; Bo's is marked lost.
    let after = register(
        dir.path(),
        "register-10.csv",
        "AC-1,LT-1,C02AAA111AAA,MacBook Air,Ready to Deploy (deployable),,,\nAC-2,LT-2,C02BBB222BBB,MacBook Air,Lost/Stolen (undeployable),Bo Chen,bchen,bo.chen@acme.example\n",
    );
    for (f, at) in [(&before, "2026-09-01"), (&after, "2026-10-30")] {
        let r = evident(&store, &["ingest", "--as-of", at, "--source-tz", "UTC", f]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    // HR's list names Ana by email and Bo by username only (no email column value).
    let hr = dir.path().join("leavers.csv");
    std::fs::write(&hr, "Employee ID,Work Email,Username,Termination Date\nE-1,ana.lind@acme.example,,2026-09-15\nE-2,,bchen,2026-09-20\n").unwrap();
    let r = evident(&store, &["ingest", hr.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let items = ret01(&store, "2026-10-31");
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!((items[0].0.as_str(), items[0].1.as_str()), ("leaver:ana.lind@acme.example", "pass"));
    assert!(items[0].2.contains("AC-1 no longer assigned by 2026-10-31"), "{}", items[0].2);
    assert_eq!((items[1].0.as_str(), items[1].1.as_str()), ("leaver:bchen", "fail"));
    assert!(items[1].2.contains("AC-2 marked lost with no wipe on record"), "{}", items[1].2);
    // As of 2026-09-30, only the September register counts: Ana is 15 days past her last day.
    let sept = ret01(&store, "2026-09-30");
    assert_eq!(sept[0].1, "fail", "{sept:?}");
    assert!(sept[0].2.contains("AC-1 still assigned 15 days after the last day (due 2026-09-29)"), "{}", sept[0].2);
    // A corrected list moves Ana's last day: she counts once, with the newer date.
    let fixed = dir.path().join("leavers-corrected.csv");
    std::fs::write(&fixed, "Employee ID,Work Email,Termination Date\nE-1,ana.lind@acme.example,2026-09-25\n").unwrap();
    let r = evident(&store, &["ingest", fixed.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sept = ret01(&store, "2026-09-30");
    let ana: Vec<_> = sept.iter().filter(|i| i.0 == "leaver:ana.lind@acme.example").collect();
    assert_eq!(ana.len(), 1, "{sept:?}");
    assert_eq!(ana[0].1, "pass", "due 2026-10-09 now: {}", ana[0].2);
}

#[test]
fn without_a_leaver_list_ret_01_says_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let reg = register(dir.path(), "register.csv", "AC-1,LT-1,C02AAA111AAA,MacBook Air,Deployed (deployed),Ana Lind,alind,ana.lind@acme.example\n");
    assert_eq!(evident(&store, &["ingest", "--as-of", "2026-10-30", "--source-tz", "UTC", &reg]).code, 0);
    let r = evident(&store, &["evaluate", "--as-of", "2026-10-31", "--format", "json"]);
    let ev: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let c = ev["controls"].as_array().unwrap().iter().find(|c| c["id"] == "RET-01").unwrap().clone();
    // Missing input is not "nothing to test": RET-01 has no evidence, and says what is missing.
    assert_eq!(c["status"], "no_evidence");
    assert!(c["note"].as_str().unwrap().contains("no HR leaver list is ingested"), "{c}");
    assert_eq!(c["dates"][0]["missing"][0], "no HR leaver list is ingested", "{c}");
}
