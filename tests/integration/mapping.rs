//! Declarative mappings: the golden fixture's values come out exactly, a header alias or an enum
//! value removed from the mapping changes them (so the fixture guards the mapping), a bad mapping
//! file is refused before the store is touched, and a JSON mapping reads a nested array.

use crate::util::{count, evident, root};

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/mapping").join(name)
}

type AssetRow = (String, String, String, String, Option<String>, Option<String>);

/// (tag, serial, device class, lifecycle, owner email, purchase date) per asset.
fn assets(mapping: &str, csv: &std::path::Path) -> (i32, Vec<AssetRow>, String) {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.yaml");
    std::fs::write(&m, mapping).unwrap();
    let store = dir.path().join("s.db");
    let r = evident(&store, &["ingest", "--mapping", m.to_str().unwrap(), csv.to_str().unwrap()]);
    if r.code != 0 {
        return (r.code, Vec::new(), r.stderr);
    }
    let c = rusqlite::Connection::open(&store).unwrap();
    let mut st = c.prepare("SELECT asset_tag, serial_key, device_class, lifecycle, owner_email, purchase_date FROM asset ORDER BY id").unwrap();
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))).unwrap().map(Result::unwrap).collect();
    (0, rows, r.stdout)
}

fn row(tag: &str, serial: &str, class: &str, lc: &str, email: Option<&str>, bought: &str) -> AssetRow {
    (tag.into(), serial.into(), class.into(), lc.into(), email.map(String::from), Some(bought.into()))
}

#[test]
fn the_golden_fixture_maps_every_alias_and_enum_value() {
    let mapping = std::fs::read_to_string(fixture("register.yaml")).unwrap();
    let (code, rows, out) = assets(&mapping, &fixture("good.csv"));
    assert_eq!(code, 0, "{out}");
    let want = vec![
        row("INV-0412", "PF4KX2QZ", "laptop", "deployed", Some("jana.vogel@example.de"), "2024-03-14"),
        row("INV-0413", "C02ZK1QWMD6N", "laptop", "in_repair", Some("emre.aksoy@example.de"), "2024-05-02"),
        row("INV-0398", "8HQT2M3", "desktop", "in_stock", None, "2022-09-19"),
        row("INV-0120", "R9WT30AB12K", "tablet", "lost_stolen", Some("lars.boehm@example.de"), "2023-11-07"),
        row("INV-0077", "CZ2734QX9L", "server", "retired", None, "2019-01-21"),
        row("INV-0031", "RF8N20ZK4TM", "mobile", "disposed", None, "2021-04-15"),
    ];
    assert_eq!(rows, want);
    // The second alias of the serial column is honoured too.
    let dir = tempfile::tempdir().unwrap();
    let sn = dir.path().join("sn.csv");
    std::fs::write(&sn, std::fs::read_to_string(fixture("good.csv")).unwrap().replacen("Seriennummer", "S/N", 1)).unwrap();
    assert_eq!(assets(&mapping, &sn).1, want);
    // Removing that alias loses the serials: the fixture would catch it.
    let (_, without_alias, _) = assets(&mapping.replace("[Seriennummer, S/N]", "[Seriennummer]"), &sn);
    assert!(without_alias.iter().all(|r| r.1.is_empty()), "{without_alias:?}");
    // Removing an enum value makes it unknown, with a warning carrying the text.
    let (_, no_lager, out) = assets(&mapping.replace("Lager: in_stock, ", ""), &fixture("good.csv"));
    assert_eq!(no_lager[2].3, "unknown");
    assert!(out.contains(r#"field 'Status': value not in the known vocabulary; recorded as unknown (found "Lager")"#), "{out}");
}

#[test]
fn a_bad_mapping_is_refused_before_anything_is_read() {
    let mapping = std::fs::read_to_string(fixture("register.yaml")).unwrap();
    let cases = [
        (mapping.replace("location: {from: [Standort]}", "colour: {from: [Farbe]}"), "field 'colour' is not a field of asset"),
        (mapping.replace("Lager: in_stock", "Lager: on_shelf"), "field 'lifecycle': 'on_shelf' is not one of on_order|in_stock"),
        (mapping.replace("location: {from: [Standort]}", "location: {}"), "field 'location' needs `from` (column names) or `const`"),
        (mapping.replace("kind: csv", "kind: xlsx"), "not a mapping file"),
    ];
    for (text, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("bad.yaml");
        std::fs::write(&m, text).unwrap();
        let store = dir.path().join("s.db");
        let r = evident(&store, &["ingest", "--mapping", m.to_str().unwrap(), fixture("good.csv").to_str().unwrap()]);
        assert_ne!(r.code, 0);
        assert!(r.stderr.contains("bad.yaml") && r.stderr.contains(want), "want {want:?} in {}", r.stderr);
        assert!(!store.exists() || count(&store, "SELECT count(*) FROM ingest") == 0);
    }
}

#[test]
fn a_json_mapping_reads_a_nested_array_of_leavers() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("hris.yaml");
    std::fs::write(&m, "id: hris_terminations_json\nreader: {kind: json, records: /data/terminations}\nemits: [leaver]\nfields:\n  employee_id: {from: [worker.id]}\n  email: {from: [worker.workEmail]}\n  termination_date: {from: [effectiveDate], required: true}\n").unwrap();
    let json = dir.path().join("terminations.json");
    std::fs::write(&json, "{\"data\": {\"terminations\": [\n  {\"worker\": {\"id\": \"W-77\", \"workEmail\": \"Ana.Lind@acme.example\"}, \"effectiveDate\": \"2026-09-15\"},\n  {\"worker\": {\"id\": \"W-78\"}, \"effectiveDate\": \"\"}\n]}}\n").unwrap();
    let store = dir.path().join("s.db");
    let r = evident(&store, &["ingest", "--mapping", m.to_str().unwrap(), json.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("terminations.json:3: /data/terminations/1: field 'effectiveDate': termination_date is required by mapping hris_terminations_json"),
        "{}",
        r.stderr
    );
    let r = evident(&store, &["ingest", "--allow-rejects", "--mapping", m.to_str().unwrap(), json.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = rusqlite::Connection::open(&store).unwrap();
    let got: (String, String, String) =
        c.query_row("SELECT employee_id, email, termination_date FROM leaver", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
    assert_eq!(got, ("W-77".into(), "ana.lind@acme.example".into(), "2026-09-15".into()));
}
