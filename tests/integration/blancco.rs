//! Blancco erasure reports: both root layouts, the customer's own user-data fields named by
//! configuration, states that are not success never read as success (nor as failure when they
//! are unknown), and every drive of the machine kept so an unerased one is visible.

use crate::util::{count, evident, root};

fn fixture(name: &str) -> String {
    root().join("tests/fixtures/blancco_xml").join(name).display().to_string()
}

/// (media serial, host serial, asset tag, lot, result, nist category, verification, completed_at).
type WipeRow = (String, String, Option<String>, Option<String>, String, String, String, Option<String>);

fn wipes(store: &std::path::Path) -> Vec<WipeRow> {
    let c = rusqlite::Connection::open(store).unwrap();
    let mut st =
        c.prepare("SELECT media_serial_key, host_serial_key, asset_tag, lot, result, nist_category, verification, completed_at FROM wipe ORDER BY id").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))).unwrap().map(Result::unwrap).collect()
}

/// A single report with `<blancco_data>` at the document root, the asset id in "Custom 1".
const SINGLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<blancco_data>
  <description><document_id>0d6f3a58-1c2b-4e7f-9a40-77b2e5c1d903</document_id></description>
  <blancco_hardware_report>
    <entries name="system">
      <entry name="manufacturer" type="string">Lenovo</entry>
      <entry name="model" type="string">ThinkPad T14 Gen 3</entry>
      <entry name="serial" type="string">PF3ZK8QD</entry>
    </entries>
    <entries name="disks"><entries name="disk">
      <entry name="serial" type="string">S69ENX0T118452</entry>
      <entry name="interface_type" type="string">NVMe</entry>
      <entry name="capacity" type="uint">256060514304</entry>
    </entries></entries>
  </blancco_hardware_report>
  <blancco_erasure_report><entries name="erasures"><entries name="erasure">
    <entry name="state" type="string">Successful</entry>
    <entry name="erasure_standard_name" type="string">NIST 800-88 Purge</entry>
    <entry name="end_time" type="string">2026-03-02T15:40:09+0000</entry>
    <entries name="target"><entry name="serial" type="string">S69ENX0T118452</entry></entries>
  </entries></entries></blancco_erasure_report>
  <user_data><entries name="fields">
    <entry name="Custom 1" type="string">A-000311</entry>
    <entry name="Custom 2" type="string">LOT-2603</entry>
  </entries></user_data>
</blancco_data>
"#;

#[test]
fn a_report_at_the_document_root_maps_user_fields_by_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("single.xml");
    std::fs::write(&file, SINGLE).unwrap();
    // Without configuration the customer's "Custom 1" is kept, but not taken as the asset tag.
    let plain = dir.path().join("plain.db");
    let r = evident(&plain, &["ingest", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("blancco_xml"), "detected: {}", r.stdout);
    assert_eq!(wipes(&plain)[0].2, None);
    let extra: String = rusqlite::Connection::open(&plain).unwrap().query_row("SELECT extra FROM wipe", [], |r| r.get(0)).unwrap();
    assert!(extra.contains(r#""user_data.Custom 1":"A-000311""#), "{extra}");
    // Configured, it is the asset tag and the lot; the wipe joins its laptop by serial too.
    let store = dir.path().join("s.db");
    let r = evident(&store, &["ingest", "--user-field", "asset_tag=Custom 1", "--user-field", "lot=custom 2", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = &wipes(&store)[0];
    assert_eq!((w.0.as_str(), w.1.as_str(), w.2.as_deref(), w.3.as_deref()), ("S69ENX0T118452", "PF3ZK8QD", Some("A-000311"), Some("LOT-2603")));
    assert_eq!(w.7.as_deref(), Some("2026-03-02T15:40:09Z"));
    let bad = evident(&store, &["ingest", "--user-field", "colour=Custom 3", file.to_str().unwrap()]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("asset_tag, lot, operator"), "{}", bad.stderr);
}

#[test]
fn a_bulk_export_keeps_every_drive_and_never_upgrades_a_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let r = evident(&store, &["ingest", &fixture("good.xml"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = wipes(&store);
    let got: Vec<(&str, &str, &str, &str, &str)> = w.iter().map(|w| (w.0.as_str(), w.1.as_str(), w.4.as_str(), w.5.as_str(), w.6.as_str())).collect();
    // No verification element: unknown, never "none" and never "full".
    assert_eq!(
        got,
        [
            ("S6XJNF0W412873", "7XQ2LM3", "success", "purge", "unknown"),
            ("S4EVNX0M907315", "MXL8231KQ4", "success", "purge", "unknown"),
            ("WD-WCC6Y3LK0193", "MXL8231KQ4", "failed", "clear", "unknown"),
        ]
    );
    assert_eq!(count(&store, "SELECT count(*) FROM media_link WHERE host_serial_key = 'MXL8231KQ4'"), 2, "both drives of the desktop are linked to it");
    // A state Blancco did not document is unknown: not success, not failed.
    let store2 = dir.path().join("u.db");
    let r = evident(&store2, &["ingest", &fixture("unknown-enum.xml")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(wipes(&store2)[0].4, "unknown");
    assert!(r.stdout.contains("Completed with warnings"), "the raw value is said: {}", r.stdout);
}

#[test]
fn an_erasure_without_state_or_drive_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("good.xml")).unwrap().replacen(r#"<entry name="state" type="string">Successful</entry>"#, "", 1);
    let file = dir.path().join("no-state.xml");
    std::fs::write(&file, text).unwrap();
    let store = dir.path().join("s.db");
    let r = evident(&store, &["ingest", file.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no-state.xml:26: /root/report[1]/blancco_data/blancco_erasure_report/entries/entries: field 'state'"), "{}", r.stderr);
    assert_eq!(count(&store, "SELECT count(*) FROM ingest"), 0);
    // XML from another tool is not guessed at.
    let other = dir.path().join("other.xml");
    std::fs::write(&other, "<?xml version=\"1.0\"?><computers><computer/></computers>").unwrap();
    let r = evident(&store, &["ingest", other.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("XML that is not a Blancco erasure report"), "{}", r.stderr);
}

/// What a Blancco report says of itself reaches the wipe record: the product version (tool
/// version), the erasure person (operator, unless user data names a technician), the product
/// name and the report's `verified` flag, and the document id as the report id.
#[test]
fn report_metadata_reaches_the_wipe_record() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("report.xml");
    let report = |user: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<root><report><blancco_data>
  <description>
    <document_id>d41c7a3e-0b52-4f7e-9a61-2c8e5f7b9d04</document_id>
    <document_log><log_entry>
      <author><product_name id="51">Blancco Drive Eraser</product_name><product_version>7.9.1</product_version></author>
      <date>2026-03-02T15:41:12+0100</date>
    </log_entry></document_log>
    <description_entries><entry name="verified" type="string">true</entry></description_entries>
  </description>
  <entries name="company_information">
    <entry name="business_name" type="string">GreenLoop Recycling</entry>
    <entry name="erasure_person" type="string">M. Keller</entry>
  </entries>
  <blancco_hardware_report><entries name="system"><entry name="serial" type="string">PF3ZK8QD</entry></entries></blancco_hardware_report>
  <blancco_erasure_report><entries name="erasures"><entries name="erasure">
    <entry name="state" type="string">Successful</entry>
    <entry name="erasure_standard_name" type="string">NIST 800-88 Purge</entry>
    <entry name="end_time" type="string">2026-03-02T15:40:09+0100</entry>
    <entries name="target"><entry name="serial" type="string">S69ENX0T118452</entry><entry name="type" type="string">NVMe</entry></entries>
  </entries></entries></blancco_erasure_report>
</blancco_data>{user}</report></root>"#
        )
    };
    let read = |store: &std::path::Path| -> (Option<String>, Option<String>, Option<String>, String) {
        let c = rusqlite::Connection::open(store).unwrap();
        c.query_row("SELECT operator, tool_version, report_id, extra FROM wipe", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap()
    };
    std::fs::write(&file, report("")).unwrap();
    let store = tmp.path().join("a.db");
    let r = evident(&store, &["ingest", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (operator, version, id, extra) = read(&store);
    assert_eq!(operator.as_deref(), Some("M. Keller"));
    assert_eq!(version.as_deref(), Some("7.9.1"));
    assert_eq!(id.as_deref(), Some("d41c7a3e-0b52-4f7e-9a61-2c8e5f7b9d04"));
    assert!(extra.contains(r#""product_name":"Blancco Drive Eraser""#), "{extra}");
    assert!(extra.contains(r#""report_verified":"true""#), "{extra}");

    // A technician in the customer's user data is the operator; the report's person is kept.
    let user = r#"<user_data><entries name="fields"><entry name="Technician" type="string">J. Ortega</entry></entries></user_data>"#;
    std::fs::write(&file, report(user)).unwrap();
    let store = tmp.path().join("b.db");
    assert_eq!(evident(&store, &["ingest", file.to_str().unwrap()]).code, 0);
    let (operator, _, _, extra) = read(&store);
    assert_eq!(operator.as_deref(), Some("J. Ortega"));
    assert!(extra.contains(r#""erasure_person":"M. Keller""#), "{extra}");
}
