//! Benchmark: verify a pack holding 1 GiB of sources with evident and, in the same run, check the
//! same pack with `sha256sum -c SHA256SUMS`. Prints MiB/s of both, their ratio, and peak RSS.
//! The pack is a real one (examples/ ingested, packed, signed) to which 1 GiB of generated
//! exports is added under sources/ before it is sealed and signed again.
//! Run: `cargo run --release --example bench_verify [MiB]`
#![allow(clippy::disallowed_macros, reason = "examples and benchmarks print their figures")]

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

// The same allocator as the `evident` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn vm(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

/// Writes `mib` MiB of CSV-like rows with a 1 MiB buffer (memory stays flat).
fn generate(path: &Path, mib: u64, seed: u64) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut written = 0u64;
    let mut i = seed;
    while written < mib << 20 {
        let line = format!("Acme GmbH,LT-{i:08},A-{i:08},Latitude 7440,Laptops,Dell,SN{:010X},2024-03-18,Berlin HQ\n", i.wrapping_mul(7919));
        f.write_all(line.as_bytes())?;
        written += line.len() as u64;
        i += 1;
    }
    f.flush()
}

fn reseal(dir: &Path, key: &evident::sign::SecretKey) -> Result<(), Box<dyn std::error::Error>> {
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json"))?)?;
    let files = evident::verify::manifest_files(dir)?;
    m["merkle_root"] = evident::pack::merkle_root(&files).into();
    m["files"] = serde_json::to_value(&files)?;
    let bytes = serde_jcs::to_vec(&m)?;
    let sha = hex::encode(Sha256::digest(&bytes));
    std::fs::write(dir.join("manifest.json"), &bytes)?;
    std::fs::write(dir.join("SHA256SUMS"), evident::pack::sums_text(&files, &sha))?;
    std::fs::write(dir.join("manifest.sig"), key.sign(&bytes))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total_mib: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(1024);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = std::env::temp_dir().join(format!("evident-bench-verify-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let mut store = evident::store::Store::open(&work.join("s.db"), std::time::Duration::from_secs(5))?;
    let tz: chrono_tz::Tz = "Europe/Berlin".parse()?;
    let opts = evident::ingest::Options { source_tz: Some(tz), ..Default::default() };
    for f in [
        "intune-managed-devices.json",
        "jamf-computers-inventory.json",
        "kandji-devices.json",
        "osquery-results.log",
        "nwipe-2026-09-14.log",
        "itad-certificates.csv",
        "blancco-FH-LOT-2610.xml",
        "hr-leavers.csv",
    ] {
        evident::ingest::ingest_file(&mut store, &root.join("examples").join(f), &opts, &())?;
    }
    let keys = evident::sign::keygen(evident::sign::Role::Compliance, "Bench", &work.join("keys"), None)?;
    let key = evident::sign::SecretKey::load(&keys.private_key)?;
    let trust = evident::sign::TrustList::load(&keys.trust_file)?;
    let dir = work.join("pack");
    let scope = evident::ledger::Scope::AsOf { date: chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap() };
    evident::pack::build(&mut store, &evident::pack::Request { scope, key: &key, out: &dir, archive: None, controls: None, progress: &(), tsa: &[] })?;
    let files = 16u64;
    for i in 0..files {
        generate(&dir.join(format!("sources/bulk-{i:02}.csv")), total_mib / files, i * 10_000_000)?;
    }
    reseal(&dir, &key)?;
    let bytes: u64 = evident::verify::manifest_files(&dir)?.iter().map(|f| f.size).sum();
    let mib = bytes as f64 / (1 << 20) as f64;
    println!("pack: {mib:.0} MiB in {} files: {}", files + 15, dir.display());

    let rss_before = vm("VmRSS:");
    let (mut ours, mut stock) = (Vec::new(), Vec::new());
    for round in 0..3 {
        let t = Instant::now();
        let out = evident::verify::pack(&dir, &trust, None)?;
        ours.push(t.elapsed().as_secs_f64());
        assert!(out.verified, "the pack verifies: {:?}", out.checks.iter().filter(|c| !c.ok).collect::<Vec<_>>());
        let t = Instant::now();
        let st = std::process::Command::new("sha256sum").args(["--quiet", "--strict", "-c", "SHA256SUMS"]).current_dir(&dir).status()?;
        stock.push(t.elapsed().as_secs_f64());
        assert!(st.success(), "sha256sum -c passes");
        println!("round {}: evident verify {:.2} s, sha256sum -c {:.2} s", round + 1, ours[round], stock[round]);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ours, stock) = (median(&mut ours), median(&mut stock));
    println!("evident verify : {ours:6.2} s  {:7.0} MiB/s (median of 3, {} threads)", mib / ours, std::thread::available_parallelism().map_or(1, |n| n.get()));
    println!("sha256sum -c   : {stock:6.2} s  {:7.0} MiB/s (median of 3)", mib / stock);
    println!("ratio (evident / sha256sum throughput): {:.2}  (target >= 1.5)", stock / ours);
    println!(
        "RSS before verify {:.0} MiB, peak {:.0} MiB: verify reads with a 1 MiB buffer per thread",
        rss_before as f64 / 1024.0,
        vm("VmHWM:") as f64 / 1024.0
    );
    if std::env::var_os("KEEP").is_none() {
        std::fs::remove_dir_all(&work)?;
    }
    Ok(())
}
