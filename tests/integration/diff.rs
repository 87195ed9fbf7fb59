//! `evident diff` between two packs of the same store: later that day FH-2003 is encrypted and
//! compliant, so ENC-01 and MDM-02 pass and its exceptions are gone.

use crate::pack::org;
use crate::util::{evident, root};

#[test]
fn diff_names_controls_that_changed_and_items_that_stopped_being_exceptions() {
    let o = org();
    let p1 = o.pack("p1", "2026-10-31");
    // Next week's Intune export: FH-WIN-2003 was encrypted later that day.
    let text = std::fs::read_to_string(root().join("examples/intune-managed-devices.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for d in v["value"].as_array_mut().unwrap() {
        if d["serialNumber"] == "PNU4TTE" {
            d["isEncrypted"] = true.into();
            d["complianceState"] = "compliant".into();
        }
        d["lastSyncDateTime"] = "2026-10-31T09:00:00Z".into();
    }
    let next = o.dir.path().join("intune-2026-10-31.json");
    std::fs::write(&next, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let r = evident(&o.store, &["ingest", "--as-of", "2026-10-31T12:00:00Z", next.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p2 = o.pack("p2", "2026-10-31");
    let r = evident(&o.store, &["diff", p1.to_str().unwrap(), p2.with_extension("tar").to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let d: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let gone: Vec<(String, String)> = d["stopped_being_exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["control"].as_str().unwrap().into(), i["asset_tag"].as_str().unwrap_or("-").into()))
        .collect();
    assert!(gone.contains(&("ENC-01".into(), "FH-2003".into())), "{gone:?}");
    assert!(gone.contains(&("MDM-02".into(), "FH-2003".into())), "{gone:?}");
    // MDM-02 had FH-2003 as its only failure: it now passes.
    let changed: Vec<(String, String, String)> = d["status_changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().into(), c["older"].as_str().unwrap().into(), c["newer"].as_str().unwrap().into()))
        .collect();
    assert!(changed.contains(&("MDM-02".into(), "fail".into(), "pass".into())), "{changed:?}");
    // ENC-01 still fails (FH-1008), with one failure fewer.
    let enc = d["counts_changed"].as_array().unwrap().iter().find(|c| c["id"] == "ENC-01").expect("ENC-01 counts moved");
    assert_eq!(enc["older_failed"].as_u64().unwrap(), enc["newer_failed"].as_u64().unwrap() + 1);
    assert!(d["became_exceptions"].as_array().unwrap().iter().all(|i| i["asset_tag"] != "FH-2003"));
    // The terminal view says the same.
    let r = evident(&o.store, &["diff", p1.to_str().unwrap(), p2.to_str().unwrap()]);
    assert!(r.stdout.contains("MDM-02      fail -> pass"), "{}", r.stdout);
    assert!(r.stdout.contains("- ENC-01      PNU4TTE FH-2003"), "{}", r.stdout);
    // Diff of a pack with itself: nothing moved.
    let r = evident(&o.store, &["diff", p1.to_str().unwrap(), p1.to_str().unwrap(), "--format", "json"]);
    let d: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    for k in ["status_changed", "counts_changed", "became_exceptions", "stopped_being_exceptions"] {
        assert_eq!(d[k].as_array().unwrap().len(), 0, "{k}");
    }
}
