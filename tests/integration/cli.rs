//! The command line as a tool people pipe: every printing command, its reader gone before it
//! writes (`evident … | head -1`), ends quietly with exit 0, never a panic.

use crate::pack::org;

/// Runs `evident ARGS` with stdout a pipe whose reading end is closed at once.
fn into_closed_pipe(store: &std::path::Path, args: &[&str]) -> (i32, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("evident"))
        .arg("--store")
        .arg(store)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn every_printing_command_into_a_closed_pipe_exits_0_quietly() {
    let org = org();
    let pack = org.pack("p1", "2026-10-31");
    let trust = org.trust.to_str().unwrap();
    let p = pack.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["assets"],
        vec!["assets", "--format", "json"],
        vec!["ingests"],
        vec!["ingests", "--format", "json"],
        vec!["evaluate", "--as-of", "2026-10-31"],
        vec!["evaluate", "--as-of", "2026-10-31", "--format", "json"],
        vec!["evaluate", "--as-of", "2026-10-31", "--framework", "iso27001", "--soa"],
        vec!["controls", "list"],
        vec!["controls", "list", "--format", "json"],
        vec!["controls", "show", "ENC-01"],
        vec!["controls", "check"],
        vec!["verify", p, "--trust", trust],
        vec!["verify", p, "--trust", trust, "--format", "json"],
        vec!["diff", p, p],
    ];
    for args in commands {
        let (code, stderr) = into_closed_pipe(&org.store, &args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_closed_pipe_stops_the_report_not_the_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let ex = crate::util::root().join("examples");
    let files: Vec<String> = crate::util::EXAMPLE_EXPORTS.iter().map(|f| ex.join(f).display().to_string()).collect();
    let mut args = vec!["ingest", "--source-tz", "Europe/Berlin"];
    args.extend(files.iter().map(String::as_str));
    let (code, stderr) = into_closed_pipe(&store, &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(crate::util::count(&store, "SELECT count(*) FROM ingest"), files.len() as i64, "every file was ingested");
}
