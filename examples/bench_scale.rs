//! Benchmark: an N-device organisation end to end (default 1,000,000). Generates a Snipe-IT
//! register and an Intune Graph export of N devices each (the shapes of examples/), then runs the
//! release `evident` binary as separate processes — ingest register, ingest Intune, evaluate, pack,
//! verify — and prints each step's wall time and peak RSS (from wait4), the pack's size against
//! the raw exports, and the report's size. `openssl dgst -sha256` over the pack's files is timed
//! beside verify (the hashing limit).
//! Run: `cargo build --release && cargo run --release --example bench_scale [N]`
//! (KEEP=1 keeps the work directory.)
#![allow(clippy::disallowed_macros, reason = "examples and benchmarks print their figures")]

#[path = "fleet/mod.rs"]
mod fleet;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Runs one process to its end: wall seconds and its peak RSS in KiB. The high-water mark
/// (VmHWM) is read from /proc every 10 ms while it runs: it only grows, so the last reading is
/// the peak up to 10 ms before the end (without unsafe code for wait4).
fn run(label: &str, cmd: &mut Command) -> Result<(f64, u64), Box<dyn std::error::Error>> {
    cmd.stdout(std::process::Stdio::null());
    let t = Instant::now();
    let mut child = cmd.spawn()?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut rss = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        let text = std::fs::read_to_string(&status_file).unwrap_or_default();
        if let Some(kib) = text.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok()) {
            rss = rss.max(kib);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let secs = t.elapsed().as_secs_f64();
    if status.code().is_none_or(|c| c > 1) {
        return Err(format!("{label} failed ({status})").into());
    }
    println!("{label:<16} {secs:8.1} s  {:8.0} MiB peak RSS", rss as f64 / 1024.0);
    Ok((secs, rss))
}

fn du(path: &Path) -> u64 {
    if path.is_dir() { std::fs::read_dir(path).map(|d| d.flatten().map(|e| du(&e.path())).sum()).unwrap_or(0) } else { path.metadata().map_or(0, |m| m.len()) }
}

fn mib(b: u64) -> f64 {
    b as f64 / (1u64 << 20) as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // EVIDENT_BIN: measure another build (e.g. a copy, while the tree is rebuilt).
    let bin = std::env::var_os("EVIDENT_BIN").map_or_else(|| root.join("target/release/evident"), PathBuf::from);
    if !bin.exists() {
        return Err("build the binary first: cargo build --release".into());
    }
    let work = std::env::temp_dir().join(format!("evident-bench-scale-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let (csv, json) = fleet::generate(&work, n)?;
    let raw = du(&csv) + du(&json);
    println!("N = {n}: register {:.1} MiB, Intune {:.1} MiB, raw exports {:.1} MiB", mib(du(&csv)), mib(du(&json)), mib(raw));
    let store = work.join("evident.db");
    let ev = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.arg("--store").arg(&store).args(args);
        c
    };
    let keys = work.join("keys");
    let status =
        Command::new(&bin).args(["keygen", "--role", "compliance", "--name", "Bench"]).arg("--out").arg(&keys).stdout(std::process::Stdio::null()).status()?;
    assert!(status.success(), "keygen");
    let key = keys.join("bench.key.pem");
    let trust = keys.join("bench.trust");
    let map = root.join("examples/snipeit-status-map.yaml");
    let (t_reg, _) = run(
        "ingest register",
        &mut ev(&["ingest", "--quiet", "--source-tz", "Europe/Berlin", "--as-of", "2026-10-30", "--status-map", map.to_str().unwrap(), csv.to_str().unwrap()]),
    )?;
    let (t_mdm, _) = run("ingest Intune", &mut ev(&["ingest", "--quiet", "--source-tz", "Europe/Berlin", json.to_str().unwrap()]))?;
    let (t_eval, _) = run("evaluate", &mut ev(&["evaluate", "--as-of", "2026-10-31"]))?;
    let pack = work.join("pack");
    let (t_pack, _) = run(
        "pack",
        &mut ev(&["pack", "--organisation", "Acme GmbH", "--as-of", "2026-10-31", "--key", key.to_str().unwrap(), "--out", pack.to_str().unwrap()]),
    )?;
    let mut v = Command::new(&bin);
    v.arg("verify").arg(&pack).arg("--trust").arg(&trust);
    let (t_verify, _) = run("verify", &mut v)?;
    let files: Vec<PathBuf> = std::fs::read_to_string(pack.join("SHA256SUMS"))?.lines().filter_map(|l| l.split_once("  ")).map(|(_, p)| pack.join(p)).collect();
    let mut o = Command::new("openssl");
    o.arg("dgst").arg("-sha256").args(&files);
    let (t_openssl, _) = run("openssl dgst", &mut o)?;
    // The auditor: a sample of the largest population (a device control over every device),
    // drawn and re-derived; both verify the whole pack first.
    let status = Command::new(&bin)
        .args(["keygen", "--no-passphrase", "--role", "auditor", "--name", "Auditor"])
        .arg("--out")
        .arg(&keys)
        .stdout(std::process::Stdio::null())
        .status()?;
    assert!(status.success(), "keygen auditor");
    let both = keys.join("both.trust");
    std::fs::write(&both, std::fs::read_to_string(&trust)? + &std::fs::read_to_string(keys.join("auditor.trust"))?)?;
    let sample = work.join("sample.json");
    let mut s = Command::new(&bin);
    s.arg("sample")
        .arg(&pack)
        .arg("--trust")
        .arg(&both)
        .args(["--control", "MDM-01", "--seed", "1", "--key"])
        .arg(keys.join("auditor.key.pem"))
        .arg("--out")
        .arg(&sample);
    run("sample MDM-01", &mut s)?;
    let mut vs = Command::new(&bin);
    vs.arg("verify").arg(&sample).arg("--pack").arg(&pack).arg("--trust").arg(&both);
    run("verify sample", &mut vs)?;
    let (size, report) = (du(&pack), du(&pack.join("report")));
    println!("pack on disk     {:8.1} MiB = {:.2}x the raw exports ({} files)", mib(size), size as f64 / raw as f64, files.len());
    println!("report           {:8.1} MiB (report/index.html {:.1} MiB)", mib(report), mib(du(&pack.join("report/index.html"))));
    println!(
        "ratios           pack/evaluate {:.2}, evaluate/ingests {:.2}, verify/openssl {:.2}",
        t_pack / t_eval,
        t_eval / (t_reg + t_mdm),
        t_verify / t_openssl
    );
    if std::env::var_os("KEEP").is_none() {
        std::fs::remove_dir_all(&work)?;
    } else {
        println!("kept {}", work.display());
    }
    Ok(())
}
