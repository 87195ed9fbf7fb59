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

#[test]
fn completions_and_the_man_page_come_from_the_binary_and_are_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("unused.db");
    for shell in ["bash", "zsh", "fish"] {
        let r = crate::util::evident(&store, &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("evident") && r.stdout.contains("verify") && r.stdout.contains("--checkpoint"), "{shell}");
    }
    let bash = dir.path().join("evident.bash");
    std::fs::write(&bash, crate::util::evident(&store, &["completions", "bash"]).stdout).unwrap();
    let st = std::process::Command::new("bash").arg("-n").arg(&bash).status().unwrap();
    assert!(st.success(), "bash -n accepts the completion script");
    let man = dir.path().join("evident.1");
    std::fs::write(&man, crate::util::evident(&store, &["man"]).stdout).unwrap();
    let out = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&man)
        .output()
        .expect("groff (groff-base) is installed; .ci/run installs it");
    assert!(out.status.success() && out.stderr.is_empty(), "groff renders the page without warnings: {}", String::from_utf8_lossy(&out.stderr));
    let text = std::process::Command::new("groff").args(["-man", "-Tutf8", "-P", "-cbou"]).arg(&man).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("evident") && text.contains("SYNOPSIS"), "{text}");
    assert!(!store.exists(), "completions and man need no store");
}

#[test]
fn flags_that_would_be_ignored_are_refused_and_a_missing_store_is_one_error_and_one_hint() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    for (args, what) in [
        (&["evaluate", "--as-of", "2026-10-31", "--cadence", "weekly"][..], "cannot be used with"),
        (&["evaluate", "--as-of", "2026-10-31", "--soa"][..], "--framework"),
    ] {
        let r = crate::util::evident(&store, args);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stderr.contains(what), "{args:?}: {}", r.stderr);
    }
    let r = crate::util::evident(&dir.path().join("no-such-dir/x.db"), &["assets"]);
    assert_eq!(r.code, 2);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stderr);
    assert!(lines[0].starts_with("error: store ") && lines[0].ends_with("does not exist"), "{}", r.stderr);
    assert!(lines[1].starts_with("hint: "), "{}", r.stderr);
}

/// The help of every command and subcommand, as the binary prints it, held in one snapshot: a
/// changed flag, default or wording shows in review. The list of commands comes from clap, so
/// a new command cannot be left out.
#[test]
fn help_of_every_command() {
    fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(path.clone());
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            walk(sub, p, out);
        }
    }
    let mut paths = Vec::new();
    walk(&<evident::cli::args::Cli as clap::CommandFactory>::command(), Vec::new(), &mut paths);
    assert!(paths.len() > 15, "every command and subcommand: {paths:?}");
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let mut text = String::new();
    for p in &paths {
        let mut args: Vec<&str> = p.iter().map(String::as_str).collect();
        args.push("--help");
        let r = crate::util::evident(&store, &args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        text.push_str(&format!("===== evident {}\n{}\n", p.join(" "), r.stdout));
    }
    insta::assert_snapshot!(text);
}

/// `-` reads one export from standard input: only with --source (there is no name to tell the
/// format by, and the store is not even created without it); the ingest is recorded as `stdin`;
/// the same bytes again are the same observation.
#[test]
fn ingest_reads_standard_input() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let csv = std::fs::read(crate::util::root().join("tests/fixtures/snipeit_csv/good.csv")).unwrap();
    let run = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("evident")
            .unwrap()
            .arg("--store")
            .arg(&store)
            .args(args)
            .env_remove("EVIDENT_STORE")
            .write_stdin(csv.clone())
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, _, err) = run(&["ingest", "-"]);
    assert_eq!(code, Some(2));
    assert!(err.starts_with("error: `-` reads an export from standard input"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("hint: name the format with --source")).count(), 1, "{err}");
    assert!(!store.exists(), "refused before the store is created");
    assert_eq!(run(&["ingest", "--source", "snipeit_csv", "-", "-"]).0, Some(2), "standard input is read once");

    let (code, out, err) = run(&["ingest", "--source", "snipeit_csv", "--source-tz", "UTC", "--format", "json", "-"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["file"], "(stdin)");
    assert_eq!(v[0]["counts"]["accepted"], 3);
    assert_eq!(crate::util::count(&store, "SELECT count(*) FROM asset"), 3);
    assert_eq!(crate::util::count(&store, "SELECT count(*) FROM ingest WHERE file_name = 'stdin'"), 1);
    let (code, out, _) = run(&["ingest", "--source", "snipeit_csv", "--source-tz", "UTC", "-"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("already ingested as #1"), "{out}");
}

/// `--format json` on every command that prints a result: each output parses as JSON. The list
/// is checked against clap's, so a new command cannot go without it (completions and man print
/// a script and a page, not a result).
#[test]
fn format_json_on_every_command_parses() {
    let o = org();
    let d = o.dir.path();
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let (keys, certs, p1, p2) = (d.join("people"), d.join("certs"), d.join("p1"), d.join("p2"));
    let issue = ["--organisation", "Fernhill Ltd", "--classification", "Confidential", "--destination", "Recycled", "--performer", "Sam Lee"];
    let example = s(&crate::util::root().join("examples").join(crate::util::EXAMPLE_EXPORTS[0]));
    let mut runs: Vec<Vec<String>> = vec![
        vec!["ingest".into(), "--source-tz".into(), "Europe/Berlin".into(), example],
        vec!["ingests".into()],
        vec!["assets".into()],
        vec!["controls".into(), "check".into()],
        vec!["controls".into(), "list".into()],
        vec!["controls".into(), "show".into(), "ENC-01".into()],
        vec!["evaluate".into(), "--as-of".into(), "2026-10-31".into()],
    ];
    // Packs first: the certificates below would need their signers in the trust list.
    for p in [&p1, &p2] {
        runs.push(vec![
            "pack".into(),
            "--organisation".into(),
            "Fernhill Labs".into(),
            "--as-of".into(),
            "2026-10-31".into(),
            "--key".into(),
            s(&o.key),
            "--out".into(),
            s(p),
        ]);
    }
    runs.push(vec!["verify".into(), s(&p2), "--trust".into(), s(&o.trust)]);
    runs.push(vec!["diff".into(), s(&p1), s(&p2)]);
    // The auditor: a key made here (keygen is run below), trusted beside the compliance key.
    let auditor = d.join("auditor");
    let r = crate::util::evident(&o.store, &["keygen", "--no-passphrase", "--role", "auditor", "--name", "Ines Park", "--out", &s(&auditor)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let trust = d.join("all.trust");
    std::fs::write(&trust, std::fs::read_to_string(&o.trust).unwrap() + &std::fs::read_to_string(auditor.join("ines-park.trust")).unwrap()).unwrap();
    let sample = d.join("sample.json");
    runs.push(
        ["sample", &s(&p1), "--trust", &s(&trust), "--control", "ENC-01", "--seed", "7", "--key", &s(&auditor.join("ines-park.key.pem")), "--out", &s(&sample)]
            .map(String::from)
            .to_vec(),
    );
    runs.push(["verify", &s(&sample), "--pack", &s(&p1), "--trust", &s(&trust)].map(String::from).to_vec());
    runs.push(["trace", "FH-1091", "--pack", &s(&p1), "--trust", &s(&trust)].map(String::from).to_vec());
    runs.push(vec!["keygen".into(), "--role".into(), "performer".into(), "--name".into(), "Sam Lee".into(), "--out".into(), s(&keys)]);
    runs.push(vec!["keygen".into(), "--role".into(), "verifier".into(), "--name".into(), "Ana Ruiz".into(), "--out".into(), s(&keys)]);
    let mut new = vec!["certificate".to_string(), "new".into(), "--all".into(), "--skip-failed".into(), "--unverified".into(), "--out".into(), s(&certs)];
    new.extend(issue.iter().map(|a| a.to_string()));
    runs.push(new);
    runs.push(vec!["certificate".into(), "sign".into(), "--key".into(), s(&keys.join("sam-lee.key.pem")), s(&certs)]);
    runs.push(vec!["certificate".into(), "countersign".into(), "--key".into(), s(&keys.join("ana-ruiz.key.pem")), s(&certs)]);
    runs.push(vec!["certificate".into(), "render".into(), s(&certs)]);
    runs.push(vec!["certificate".into(), "import".into(), s(&certs)]);
    // The example's nwipe drive (its id is a hash of its records: tests/golden has the same one).
    runs.push(
        ["certificate", "revoke", "COS-5EB13A920B2232EF", "--reason", "a test", "--key", &s(&keys.join("sam-lee.key.pem")), "--out", &s(&d.join("revoked"))]
            .map(String::from)
            .to_vec(),
    );
    runs.push(vec!["retract".into(), "1".into(), "--reason".into(), "a wrong file".into()]);
    // A pull from a mock Kandji on loopback (tests/integration/pull.rs), its token in a file.
    let kandji = crate::pull::start("kandji", crate::pull::Fault::None);
    std::fs::write(d.join("kandji.secret"), crate::pull::secret("kandji")).unwrap();
    std::fs::write(d.join("pull.toml"), format!("[pull.kandji]\nurl = \"{}\"\nsecret_file = \"kandji.secret\"\npage_size = 3\n", kandji.url)).unwrap();
    runs.push(vec!["pull".into(), "kandji".into(), "--quiet".into(), "--config".into(), s(&d.join("pull.toml"))]);
    // docs/json.md's table: command → (every key, the keys without `?`).
    let doc = std::fs::read_to_string(crate::util::root().join("docs/json.md")).unwrap();
    let mut documented = std::collections::BTreeMap::new();
    for row in doc.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let name = cells[0].trim_start_matches("| ").replace('`', "");
        let keys: Vec<&str> = cells[2].trim_end_matches(" |").split(", ").map(|k| k.trim_matches('`')).filter(|k| *k != "—").collect();
        let all: std::collections::BTreeSet<String> = keys.iter().map(|k| k.trim_end_matches('?').to_string()).collect();
        let required: std::collections::BTreeSet<String> = keys.iter().filter(|k| !k.ends_with('?')).map(|k| k.to_string()).collect();
        documented.insert(name, (all, required));
    }
    runs.push(vec!["evaluate".into(), "--as-of".into(), "2026-10-31".into(), "--framework".into(), "soc2".into()]);
    let mut covered = std::collections::BTreeSet::new();
    for mut args in runs {
        args.extend(["--format".to_string(), "json".to_string()]);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = crate::util::evident(&o.store, &a);
        assert_eq!(r.code, 0, "{a:?}: {}", r.stderr);
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&r.stdout) {
            panic!("{a:?}: stdout is not JSON ({e}): {}", r.stdout);
        }
        let words: Vec<&str> = a.iter().take_while(|w| !w.starts_with('-')).copied().collect();
        let name = if matches!(words[0], "controls" | "certificate") { words[..2].join(" ") } else { words[0].to_string() };
        let name = match name.as_str() {
            "evaluate" if a.contains(&"--framework") => "evaluate --framework".to_string(),
            "verify" if a.contains(&"--pack") => "verify (a sample)".to_string(),
            "verify" if a[1].ends_with(".pdf") || a[1].ends_with(".json") => "verify (a certificate)".to_string(),
            "verify" => "verify (a pack)".to_string(),
            _ => name,
        };
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let top = if v.is_array() { v.get(0).cloned().unwrap_or_default() } else { v };
        let keys: std::collections::BTreeSet<String> = top.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        let (all, required) = documented.get(&name).unwrap_or_else(|| panic!("docs/json.md has no row for `{name}`"));
        assert!(keys.is_subset(all) && required.is_subset(&keys), "`{name}`: printed {keys:?}, docs/json.md says {all:?} (required {required:?})");
        covered.insert(name.split(" (").next().unwrap().split(" --").next().unwrap().to_string());
    }
    let mut all = std::collections::BTreeSet::new();
    let cli = <evident::cli::args::Cli as clap::CommandFactory>::command();
    for c in cli.get_subcommands().filter(|c| !matches!(c.get_name(), "help" | "completions" | "man")) {
        match c.get_subcommands().filter(|s| s.get_name() != "help").map(|s| format!("{} {}", c.get_name(), s.get_name())).collect::<Vec<_>>() {
            subs if subs.is_empty() => all.insert(c.get_name().to_string()),
            subs => {
                all.extend(subs);
                true
            }
        };
    }
    assert_eq!(covered, all, "every command is run with --format json");
}

/// 270 warnings do not scroll past: by default 10 are printed and a summary line counts every
/// warning by field (the counts add up to the total and match the store); --verbose prints the
/// 200 the report keeps; --quiet prints the summary alone.
#[test]
fn many_warnings_end_in_one_summary_line() {
    let bad = crate::util::corpus().join("snipeit/import-assets-sample-BAD-cr-line-endings.csv");
    let run = |flag: Option<&str>| {
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join("s.db");
        let mut args = vec!["ingest", "--allow-rejects", "--encoding", "windows-1252", "--source-tz", "UTC", bad.to_str().unwrap()];
        args.extend(flag);
        let r = crate::util::evident(&store, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let by_field: Vec<(String, i64)> = {
            let c = rusqlite::Connection::open(&store).unwrap();
            let mut st = c.prepare("SELECT field, count(*) FROM ingest_issue WHERE kind = 'warning' GROUP BY field ORDER BY count(*) DESC, field").unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
        };
        (r.stdout, by_field)
    };
    let (out, by_field) = run(None);
    assert_eq!(out.lines().filter(|l| l.starts_with("  warning: ")).count(), 10, "{out}");
    let expected: Vec<String> = by_field.iter().map(|(f, n)| format!("'{f}' {n}")).collect();
    assert_eq!(by_field.iter().map(|(_, n)| n).sum::<i64>(), 270);
    let summary = format!("  270 warnings (10 shown), by field: {}; all are in the store", expected.join(", "));
    assert!(out.lines().any(|l| l == summary), "{summary}\n{out}");
    let (verbose, _) = run(Some("--verbose"));
    assert_eq!(verbose.lines().filter(|l| l.starts_with("  warning: ")).count(), 200);
    assert!(verbose.contains("  270 warnings (200 shown), by field: "), "{verbose}");
    let (quiet, _) = run(Some("--quiet"));
    assert_eq!(quiet.lines().filter(|l| l.starts_with("  warning: ")).count(), 0);
    assert!(quiet.contains("  270 warnings (0 shown), by field: "), "{quiet}");
}

/// `ingest --format json` lists every file it was given: a failed one too, with its error and
/// hint, marked not stored, and with the rejections when rows were rejected.
#[test]
fn ingest_json_lists_failed_files() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s.db");
    let note = tmp.path().join("notes.txt");
    std::fs::write(&note, "wipe the spare laptops\n").unwrap();
    let good = crate::util::root().join("tests/fixtures/snipeit_csv/good.csv");
    let r = crate::util::evident(&store, &["ingest", "--format", "json", good.to_str().unwrap(), note.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(r.code, 2, "a failed file makes the run exit 2");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let files = v.as_array().unwrap();
    assert_eq!(files.len(), 3, "{v}");
    // Without --source-tz the Snipe-IT rows with local times are rejected: not stored, named.
    assert_eq!(files[0]["stored"], false, "{v}");
    assert!(files[0]["report"]["rejections"][0]["field"].is_string(), "{v}");
    assert!(files[1]["error"].as_str().unwrap().contains("notes.txt: cannot tell which export this is"), "{v}");
    assert!(files[1]["hint"].as_str().unwrap().contains("--source"), "{v}");
    assert_eq!(crate::util::count(&store, "SELECT count(*) FROM ingest"), 0);
}

/// evident.toml beside the store fills what the command line leaves out — organisation, source
/// time zone, status map, the keys each role signs with — paths relative to the file; a flag wins
/// over it; a key it does not know is an error naming file, line and column.
#[test]
fn a_config_file_beside_the_store_fills_left_out_flags() {
    let dir = tempfile::tempdir().unwrap();
    let ex = crate::util::root().join("examples");
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("keys")).unwrap();
    std::fs::copy(ex.join("snipeit-status-map.yaml"), site.join("status.yaml")).unwrap();
    let store = site.join("evident.db");
    let r = crate::util::evident(&store, &["keygen", "--role", "compliance", "--name", "Dana Roe", "--out", site.join("keys").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(
        site.join("evident.toml"),
        "organisation = \"Fernhill Labs GmbH\"\nsource_tz = \"Europe/Berlin\"\nstatus_map = \"status.yaml\"\n\n[keys]\ncompliance = \"keys/dana-roe.key.pem\"\n",
    )
    .unwrap();
    // No --source-tz and no --status-map: the register's labels map and its times are Berlin's.
    let r = crate::util::evident(&store, &["ingest", "--as-of", "2026-10-30", ex.join("snipeit-assets.csv").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = crate::util::evident(&store, &["ingest", ex.join("intune-managed-devices.json").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // No --organisation and no --key.
    let pack = dir.path().join("p1");
    let r = crate::util::evident(&store, &["pack", "--as-of", "2026-10-31", "--out", pack.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ev: serde_json::Value = serde_json::from_slice(&std::fs::read(pack.join("results/evaluation.json")).unwrap()).unwrap();
    assert_eq!(ev["organisation"], "Fernhill Labs GmbH");
    // The flag wins.
    let p2 = dir.path().join("p2");
    let r = crate::util::evident(&store, &["pack", "--organisation", "Other Ltd", "--as-of", "2026-10-31", "--out", p2.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ev: serde_json::Value = serde_json::from_slice(&std::fs::read(p2.join("results/evaluation.json")).unwrap()).unwrap();
    assert_eq!(ev["organisation"], "Other Ltd");
    // Without the file, the same pack command lacks both.
    std::fs::rename(site.join("evident.toml"), site.join("elsewhere.toml")).unwrap();
    let r = crate::util::evident(&store, &["pack", "--as-of", "2026-10-31", "--out", dir.path().join("p3").to_str().unwrap()]);
    assert_eq!(r.code, 2);
    // --config names it anywhere.
    let r = crate::util::evident(
        &store,
        &["--config", site.join("elsewhere.toml").to_str().unwrap(), "pack", "--as-of", "2026-10-31", "--out", dir.path().join("p4").to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A key it does not know.
    std::fs::write(site.join("evident.toml"), "organisation = \"X\"\norganization = \"typo\"\n").unwrap();
    let r = crate::util::evident(&store, &["evaluate", "--as-of", "2026-10-31"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("evident.toml:2:1:") && r.stderr.contains("organization"), "{}", r.stderr);
}

/// Hex runs of 12 or more digits (hashes, key ids, signatures), the temporary directory and byte
/// counts are what changes between runs or edits of the docs; the rest is the renderer's.
fn stable(text: &str, dir: &std::path::Path) -> String {
    let text = text.replace(dir.to_str().unwrap(), "[DIR]");
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        // Any run of 12 or more: a random key id or hash is all digits (or all letters) now and
        // then (about one key id in 2,000 is all digits), and must not fail the snapshot then.
        if run.len() >= 12 {
            out.push_str("[HEX]");
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    // A pack's byte count moves with every edit of docs/FORMAT.md, which each pack carries.
    let mut kept = String::new();
    for (i, part) in out.split(" bytes").enumerate() {
        if i > 0 {
            kept.push_str(" bytes");
        }
        let digits = part.len() - part.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && i + 1 < out.split(" bytes").count() {
            kept.push_str(&part[..part.len() - digits]);
            kept.push('N');
        } else {
            kept.push_str(part);
        }
    }
    kept
}

/// The text each command prints, on the example organisation: a change to any human renderer
/// shows up in review as a snapshot diff.
#[test]
fn human_output_of_each_command() {
    let o = org();
    let d = o.dir.path();
    let p1 = o.pack("p1", "2026-10-31");
    let p2 = o.pack("p2", "2026-10-31");
    let mut shown = String::new();
    for args in [
        vec!["ingests"],
        vec!["assets"],
        vec!["assets", "--wide"],
        vec!["controls", "list"],
        vec!["controls", "show", "ENC-01"],
        vec!["controls", "check"],
        vec!["evaluate", "--as-of", "2026-10-31"],
        vec!["evaluate", "--as-of", "2026-10-31", "--framework", "soc2"],
        vec!["evaluate", "--as-of", "2026-10-31", "--framework", "iso27001", "--soa"],
        vec!["verify", p2.to_str().unwrap(), "--trust", o.trust.to_str().unwrap(), "--since", p1.to_str().unwrap()],
        vec!["diff", p1.to_str().unwrap(), p2.to_str().unwrap()],
    ] {
        let r = crate::util::evident(&o.store, &args);
        assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
        shown.push_str(&format!("$ evident {}\n{}\n", args.join(" "), r.stdout));
    }
    insta::assert_snapshot!(stable(&shown, d));
}
