//! The examples/ organisation end to end: ingest everything, and the joined per-asset view
//! shows each deliberate problem.

use crate::util::{evident, root};

#[test]
fn examples_join_and_show_every_deliberate_problem() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let ex = root().join("examples");
    let files = [&["snipeit-assets.csv"], crate::util::EXAMPLE_EXPORTS].concat();
    let mut args = vec!["ingest".to_string(), "--source-tz".into(), "Europe/Berlin".into(), "--status-map".into()];
    args.push(ex.join("snipeit-status-map.yaml").display().to_string());
    args.extend(files.iter().map(|f| ex.join(f).display().to_string()));
    let r = evident(&store, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = evident(&store, &["assets", "--format", "json"]);
    assert_eq!(out.code, 0);
    let view: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let by_tag = |tag: &str| view.as_array().unwrap().iter().find(|a| a["asset_tag"] == tag).unwrap_or_else(|| panic!("{tag} in view")).clone();
    let flags = |a: &serde_json::Value| a["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect::<Vec<_>>();
    // An unenrolled laptop.
    assert!(flags(&by_tag("FH-2006")).contains(&"not_in_mdm".to_string()));
    // An unencrypted disk (Windows through Intune, a Mac through Jamf).
    assert_eq!(by_tag("FH-2003")["encryption"][0]["state"], "not_encrypted");
    assert_eq!(by_tag("FH-1008")["encryption"][0]["state"], "not_encrypted");
    // A disposed asset with no wipe record.
    let a = by_tag("FH-2091");
    assert_eq!((a["lifecycle"].as_str(), a["wipes"].as_array().unwrap().len()), (Some("disposed"), 0));
    // A failed wipe, joined to its Mac through Jamf's disk list.
    assert_eq!(by_tag("FH-1090")["wipes"][0]["result"], "failed");
    assert_eq!(by_tag("FH-1091")["wipes"][0]["result"], "success");
    // The ITAD destruction joined through the device serial.
    assert_eq!(by_tag("FH-2090")["wipes"][0]["tool"], "itad_vendor");
    // A duplicate serial in the register.
    assert!(flags(&by_tag("FH-1013")).contains(&"duplicate_serial:snipeit_csv".to_string()));
    // A placeholder serial that does not join.
    assert!(flags(&by_tag("FH-3002")).contains(&"serial_placeholder".to_string()));
    // A device in MDM but not in the register.
    let rogue: Vec<_> = view.as_array().unwrap().iter().filter(|a| flags(a).contains(&"not_in_register".to_string())).collect();
    assert!(rogue.iter().any(|a| a["name"] == "DESKTOP-7QK2M9P"));
    // Every Mac is joined across register and Jamf; every deployed Windows laptop across register and Intune.
    let joined = view.as_array().unwrap().iter().filter(|a| a["sources"].as_array().unwrap().len() >= 2).count();
    assert!(joined >= 36, "{joined} devices joined across sources");
    // The design team's Macs: register, Kandji and osquery's FileVault state, one device each.
    let mac = by_tag("FH-4101");
    assert_eq!(mac["sources"], serde_json::json!(["kandji_api", "osquery_json", "snipeit_csv"]));
    assert_eq!(mac["encryption"][0]["state"], "encrypted");
    // A Windows laptop Intune calls encrypted, whose BitLocker osquery finds suspended.
    let win = by_tag("FH-2001");
    assert_eq!(win["sources"], serde_json::json!(["intune_graph", "osquery_json", "snipeit_csv"]));
    let states: Vec<(&str, &str)> =
        win["encryption"].as_array().unwrap().iter().map(|e| (e["source"].as_str().unwrap(), e["state"].as_str().unwrap())).collect();
    assert_eq!(states, [("intune_graph", "encrypted"), ("osquery_bitlocker_info", "suspended")]);
    // The Blancco lot: a desktop with two drives, one erasure failed; joined by serial and tag.
    let desk = by_tag("FH-3090");
    assert_eq!(desk["drives"].as_array().unwrap().len(), 2);
    let results: Vec<&str> = desk["wipes"].as_array().unwrap().iter().map(|w| w["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["success", "failed"]);
    assert_eq!(by_tag("FH-2092")["wipes"][0]["tool"], "blancco");
    insta::assert_json_snapshot!("examples_assets", view);
}

/// The streamed view (each device built from its records read by id, in key order, holding only
/// the keys of the store's records) is the view `assets_until` builds from every row at once:
/// the examples and every corpus export in one store (their serials, tags, drives and links
/// cross), at several dates.
#[test]
fn the_streamed_view_is_the_joined_view() {
    let o = crate::pack::org();
    for dir in ["snipeit", "intune", "jamf", "kandji", "fleet", "google", "nwipe"] {
        let mut files: Vec<_> = std::fs::read_dir(crate::util::corpus().join(dir)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            // Some corpus files are refused on purpose (not asset exports); the rest go in.
            evident(&o.store, &["ingest", "--allow-rejects", "--source-tz", "UTC", "--as-of", "2026-10-15", f.to_str().unwrap()]);
        }
    }
    let store = evident::store::Store::open(&o.store, std::time::Duration::from_secs(5)).unwrap();
    let mut devices = 0;
    for until in ["2026-09-30", "2026-10-15", "2026-10-31", "9999-12-31"] {
        let whole: Vec<String> = evident::view::assets_until(&store, until).unwrap().iter().map(|a| format!("{a:?}")).collect();
        let mut streamed = Vec::new();
        evident::view::each_until(&store, until, &mut |a| streamed.push(format!("{a:?}"))).unwrap();
        assert_eq!(streamed, whole, "as of {until}");
        devices = devices.max(whole.len());
    }
    assert!(devices > 100, "a store with many devices ({devices})");
    // One ingest per source (no newest copy to pick): the same.
    let dir = tempfile::tempdir().unwrap();
    let store = evident::store::Store::open(&crate::scale::fleet_store(dir.path(), 300), std::time::Duration::from_secs(5)).unwrap();
    let whole: Vec<String> = evident::view::assets_until(&store, "2026-10-31").unwrap().iter().map(|a| format!("{a:?}")).collect();
    let mut streamed = Vec::new();
    evident::view::each_until(&store, "2026-10-31", &mut |a| streamed.push(format!("{a:?}"))).unwrap();
    assert_eq!((streamed.len(), streamed == whole), (300, true));
}

/// One connection that ingests, then reads the view and packs (as a library user or a benchmark
/// does): the view's read settings never fail inside the connection's state.
#[test]
fn the_view_streams_on_a_connection_that_has_just_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = evident::store::Store::open(&dir.path().join("s.db"), std::time::Duration::from_secs(5)).unwrap();
    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let opts = evident::ingest::Options { source_tz: Some(tz), ..Default::default() };
    for f in crate::util::EXAMPLE_EXPORTS {
        evident::ingest::ingest_file(&mut store, &root().join("examples").join(f), &opts, &()).unwrap();
    }
    let mut n = 0;
    evident::view::each_until(&store, "2026-10-31", &mut |_| n += 1).unwrap();
    assert_eq!(n, evident::view::assets_until(&store, "2026-10-31").unwrap().len());
    let key = evident::sign::keygen(evident::sign::Role::Compliance, "K", &dir.path().join("k"), None).unwrap();
    let key = evident::sign::SecretKey::load(&key.private_key).unwrap();
    let scope = evident::ledger::Scope::AsOf { date: chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap() };
    let out = dir.path().join("p");
    let req = evident::pack::Request { scope, key: &key, out: &out, archive: None, controls: None, progress: &(), tsa: &[] };
    evident::pack::build(&mut store, &req).unwrap();
    assert!(out.join("results/assets/2026-10-31.jsonl").exists());
}
