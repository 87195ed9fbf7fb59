//! A generated fleet (examples/fleet, the one bench_scale uses) packed end to end: the pack keeps
//! every per-item outcome with its records (the snapshot was taken before populations moved out
//! of results/controls/*.json into per-date files), and they are the evaluation's.

#[path = "../../examples/fleet/mod.rs"]
mod fleet;

use crate::util::{evident, root};
use serde_json::Value;
use std::path::Path;

/// Every item of every control in a pack, one line each: control, date, item, outcome, reason,
/// records; in the pack's order.
fn pack_items(pack: &Path) -> Vec<String> {
    let ev: Value = serde_json::from_slice(&std::fs::read(pack.join("results/evaluation.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    for c in ev["controls"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let detail: Value = serde_json::from_slice(&std::fs::read(pack.join(format!("results/controls/{id}.json"))).unwrap()).unwrap();
        let mut items: Vec<(String, Value)> = Vec::new();
        match detail["populations"].as_array() {
            Some(files) => {
                for f in files {
                    let date = f["date"].as_str().unwrap();
                    let text = std::fs::read_to_string(pack.join(f["path"].as_str().unwrap())).unwrap();
                    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
                    assert_eq!(lines.len() as u64, f["items"].as_u64().unwrap(), "{id}: the file holds the items it says");
                    let view = view(pack, date);
                    for mut i in lines {
                        // A device of the view: its records are its line in the view of that date.
                        if i.get("records").is_none() {
                            i["records"] = view[i["item"].as_str().unwrap()]["records"].clone();
                        }
                        items.push((i.get("date").and_then(Value::as_str).unwrap_or(date).to_string(), i));
                    }
                }
            }
            None => items.extend(detail["items"].as_array().unwrap().iter().map(|i| (i["date"].as_str().unwrap().to_string(), i.clone()))),
        }
        assert_eq!(items.len() as u64, c["population"].as_u64().unwrap(), "{id}: every member of the population is in the pack");
        for (date, i) in items {
            let records: Vec<&str> = i["records"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
            out.push(format!(
                "{id} {date} {} [{}] {} | {} | {}",
                i["item"].as_str().unwrap(),
                i["asset_tag"].as_str().unwrap_or("-"),
                i["outcome"].as_str().unwrap(),
                i["reason"].as_str().unwrap(),
                records.join(" ")
            ));
        }
    }
    out
}

/// The joined view of a pack at a date, by device key.
fn view(pack: &Path, date: &str) -> std::collections::BTreeMap<String, Value> {
    let text = std::fs::read_to_string(pack.join(format!("results/assets/{date}.jsonl"))).unwrap();
    text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).map(|a| (a["key"].as_str().unwrap().to_string(), a)).collect()
}

pub fn fleet_store(dir: &Path, n: usize) -> std::path::PathBuf {
    let (csv, json) = fleet::generate(dir, n).unwrap();
    let store = dir.join("s.db");
    let map = root().join("examples/snipeit-status-map.yaml");
    let r = evident(&store, &["ingest", "--source-tz", "Europe/Berlin", "--as-of", "2026-10-30", "--status-map", map.to_str().unwrap(), csv.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = evident(&store, &["ingest", "--source-tz", "Europe/Berlin", json.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    store
}

#[test]
fn a_generated_fleets_pack_keeps_every_per_item_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let store = fleet_store(dir.path(), 150);
    let keys = dir.path().join("keys");
    let r = evident(&store, &["keygen", "--role", "compliance", "--name", "Dana Roe", "--out", keys.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pack = dir.path().join("pack");
    let key = keys.join("dana-roe.key.pem");
    let r = evident(&store, &["pack", "--organisation", "Acme GmbH", "--as-of", "2026-10-31", "--key", key.to_str().unwrap(), "--out", pack.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let items = pack_items(&pack);
    // The same items as the evaluation the CLI prints (which keeps every item in memory).
    let r = evident(&store, &["evaluate", "--as-of", "2026-10-31", "--format", "json"]);
    let ev: Value = serde_json::from_str(&r.stdout).unwrap();
    let mut from_eval = Vec::new();
    for c in ev["controls"].as_array().unwrap() {
        for i in c["items"].as_array().unwrap() {
            let records: Vec<&str> = i["records"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
            from_eval.push(format!(
                "{} {} {} [{}] {} | {} | {}",
                c["id"].as_str().unwrap(),
                i["date"].as_str().unwrap(),
                i["item"].as_str().unwrap(),
                i["asset_tag"].as_str().unwrap_or("-"),
                i["outcome"].as_str().unwrap(),
                i["reason"].as_str().unwrap(),
                records.join(" ")
            ));
        }
    }
    assert_eq!(items, from_eval);
    assert!(items.iter().any(|i| i.contains(" fail |")) && items.iter().any(|i| i.contains(" pass |")), "findings as well as passes");
    insta::assert_snapshot!(items.join("\n"));

    // FORMAT.md §1.1's stock-tool lines, run literally in the pack: the failing devices of ENC-01
    // are the evaluation's, and the records of SN00000000 are its records in the view.
    let doc = std::fs::read_to_string(root().join("docs/FORMAT.md")).unwrap();
    let section = &doc[doc.find("### 1.1").unwrap()..doc.find("## 2.").unwrap()];
    let block = section.split("```").nth(1).unwrap().trim();
    let lines: Vec<&str> = block.lines().collect();
    let sh = |cmd: &str| {
        let o = std::process::Command::new("sh").arg("-c").arg(cmd).current_dir(&pack).output().unwrap();
        assert!(o.status.success(), "{cmd}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let failing: Vec<String> = sh(lines[0]).lines().map(|l| l.trim_matches('"').to_string()).collect();
    let want: Vec<String> =
        from_eval.iter().filter(|l| l.starts_with("ENC-01 ") && l.contains("] fail |")).map(|l| l.split(' ').nth(2).unwrap().to_string()).collect();
    assert_eq!(failing, want);
    let records: Vec<String> = serde_json::from_str(&sh(lines[1])).unwrap();
    let line = from_eval.iter().find(|l| l.starts_with("ENC-01 2026-10-31 SN00000000 ")).unwrap();
    assert_eq!(records.join(" "), line.rsplit(" | ").next().unwrap());
}

/// The report of a 100,000-device fleet (the code path of any N: findings inline as data, shown a
/// page at a time) stays small, opens in headless Chromium, and shows every control's failing
/// items, 100 rows to a page, with the counts of the evaluation.
#[test]
fn a_large_fleets_report_stays_small_and_opens_in_chromium() {
    let n = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let store = fleet_store(dir.path(), n);
    let keys = dir.path().join("keys");
    assert_eq!(evident(&store, &["keygen", "--role", "compliance", "--name", "Dana Roe", "--out", keys.to_str().unwrap()]).code, 0);
    let pack = dir.path().join("pack");
    let key = keys.join("dana-roe.key.pem");
    let r = evident(&store, &["pack", "--organisation", "Acme GmbH", "--as-of", "2026-10-31", "--key", key.to_str().unwrap(), "--out", pack.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = pack.join("report/index.html");
    let size = std::fs::metadata(&html).unwrap().len();
    // 25 MiB at 1,000,000 devices is 26 bytes a device.
    assert!(size < 26 * n as u64, "report/index.html is {size} bytes for {n} devices");
    let out = crate::report::chromium(&["--virtual-time-budget=5000", "--dump-dom", &format!("file://{}", html.display())], &dir.path().join("profile"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dom = String::from_utf8(out.stdout).unwrap();
    assert!(dom.contains("data-ready=\"1\""), "the inline script ran");
    let ev: Value = serde_json::from_slice(&std::fs::read(pack.join("results/evaluation.json")).unwrap()).unwrap();
    for c in ev["controls"].as_array().unwrap() {
        let findings = c["failed"].as_u64().unwrap() + c["excepted"].as_u64().unwrap();
        let id = c["id"].as_str().unwrap();
        if findings == 0 {
            continue;
        }
        let rows = crate::report::body_rows(&dom, &format!("items-{id}"));
        assert_eq!(rows.len() as u64, findings.min(100), "{id}: the first page");
        assert!(rows.iter().all(|r| r.contains("status fail") || r.contains("status excepted")), "{id}: only findings inline");
        let pager = &dom[dom.find(&format!("data-for=\"items-{id}\"")).unwrap()..];
        assert!(pager.contains(&format!("{findings} rows")), "{id}: the pager counts every finding");
    }
    assert!(crate::report::body_rows(&dom, "findings").len() == 100, "flagged devices, a page of them");
}
