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

fn fleet_store(dir: &Path, n: usize) -> std::path::PathBuf {
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
}
