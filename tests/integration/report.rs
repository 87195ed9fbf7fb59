//! report/index.html in a real browser: headless Chromium (Debian's package; .ci/run installs it)
//! opens the file from disk with no network, runs its inline script, and the DOM holds one row per
//! control and each framework, population and source table is filled; a screenshot is taken.

use crate::pack::org;
use std::path::Path;
use std::process::Command;

pub fn chromium(args: &[&str], profile: &Path) -> std::process::Output {
    Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-background-networking"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium is installed (.ci/run installs Debian's chromium package)")
}

/// The rows of one table's body in a dumped DOM.
pub fn body_rows(dom: &str, table_id: &str) -> Vec<String> {
    let start = dom.find(&format!("id=\"{table_id}\"")).unwrap_or_else(|| panic!("table #{table_id} in the DOM"));
    let body = &dom[start..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    body.split("<tr").skip(1).map(|r| r.to_string()).collect()
}

#[test]
fn chromium_renders_the_control_table_and_runs_the_inline_script() {
    let o = org();
    let pack = o.pack("p1", "2026-10-31");
    let html = pack.join("report/index.html");
    let url = format!("file://{}", html.display());
    let profile = o.dir.path().join("chromium-profile");
    let out = chromium(&["--virtual-time-budget=2000", "--dump-dom", &url], &profile);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dom = String::from_utf8(out.stdout).unwrap();
    assert!(dom.contains("data-ready=\"1\""), "the inline script ran");
    let rows = body_rows(&dom, "controls");
    let lib = evident::controls::Library::builtin();
    assert_eq!(rows.len(), lib.controls.len(), "one row per control");
    for l in &lib.controls {
        assert!(rows.iter().any(|r| r.contains(&format!(">{}</a>@{}", l.control.id, l.control.version))), "{} has a row", l.control.id);
    }
    // The statuses in the DOM are the evaluation's.
    let ev: serde_json::Value = serde_json::from_slice(&std::fs::read(pack.join("results/evaluation.json")).unwrap()).unwrap();
    let failing = ev["controls"].as_array().unwrap().iter().filter(|c| c["status"] == "fail").count();
    assert_eq!(rows.iter().filter(|r| r.contains("class=\"status fail\"")).count(), failing);
    // Every framework table and population table is there; the sources link into the pack.
    for id in ["framework-soc2", "framework-iso27001", "framework-iso19770", "items-ENC-01", "sources"] {
        assert!(!body_rows(&dom, id).is_empty(), "#{id} has rows");
    }
    assert!(dom.contains("href=\"../sources/"), "links to the raw sources");
    assert!(!dom.contains("src=\"http") && !dom.contains("<link"), "nothing loads from the network");
    // A screenshot, as a reader sees it.
    let shot = o.dir.path().join("report.png");
    let out = chromium(&["--window-size=1280,1800", &format!("--screenshot={}", shot.display()), &url], &profile);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 50_000, "a rendered page, not a blank one ({} bytes)", png.len());
}
