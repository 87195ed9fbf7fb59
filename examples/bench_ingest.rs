//! Benchmark: ingest a generated N-row Snipe-IT custom-report CSV (default 1,000,000 rows) and,
//! in the same run, load the same file with `sqlite3 .import` into a plain table.
//! Three alternating rounds; prints the median rows/s of both, their ratio, and evident's peak RSS.
//! Run: `cargo run --release --example bench_ingest [ROWS]`
#![allow(clippy::disallowed_macros, reason = "examples and benchmarks print their figures")]

use std::io::Write;

// The same allocator as the `evident` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;

fn generate(path: &std::path::Path, rows: usize) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    f.write_all(
        "\u{feff}Company,Asset Name,Asset Tag,Model,Category,Manufacturer,Serial,Purchased,Location,Checked Out,Type,Username,Email,Status,Notes\n".as_bytes(),
    )?;
    let models = ["Latitude 7440", "MacBook Pro 14\"\" M3", "ThinkPad T14 Gen 4", "OptiPlex 7010"];
    let status = ["Ready to Deploy (deployed)", "Ready to Deploy (deployable)", "Out for Repair (undeployable)", "Disposed (archived)"];
    for i in 0..rows {
        let m = models[i % 4];
        let s = status[i % 7 % 4];
        let user = if s.ends_with("(deployed)") { format!("Person {i},user,p{i},p{i}@corp.example") } else { ",,,".to_string() };
        writeln!(
            f,
            "Acme GmbH,LT-{i:07},A-{i:07},\"{m}\",Laptops,Dell,SN{:010X},2024-{:02}-{:02},Berlin HQ,{user},{s},`- note {i}",
            i * 7919 % 0xFFFF_FFFF,
            1 + i % 12,
            1 + i % 28
        )?;
    }
    f.flush()
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("evident-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("snipeit.csv");
    generate(&csv, rows)?;
    let size = std::fs::metadata(&csv)?.len();
    println!("generated {rows} rows, {:.1} MiB: {}", size as f64 / (1 << 20) as f64, csv.display());

    // Three alternating rounds of each; medians, because a 2-core machine is noisy.
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let (mut raws, mut ours) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // sqlite3 .import into a plain table (the raw bulk-load rate on this machine).
        let raw_db = dir.join(format!("raw-{round}.db"));
        let t = Instant::now();
        let status = std::process::Command::new("sqlite3").arg(&raw_db).arg(format!(".import --csv {} t", csv.display())).status()?;
        raws.push(t.elapsed().as_secs_f64());
        assert!(status.success(), "sqlite3 .import failed");
        std::fs::remove_file(&raw_db)?;

        let store_path = dir.join(format!("evident-{round}.db"));
        let t = Instant::now();
        let mut store = evident::store::Store::open(&store_path, std::time::Duration::from_secs(5))?;
        let report = evident::ingest::ingest_file(&mut store, &csv, &evident::ingest::Options::default(), &())?;
        drop(store);
        ours.push(t.elapsed().as_secs_f64());
        assert_eq!(report.counts.accepted as usize, rows, "every row accepted");
        println!("round {}: sqlite3 .import {:.2} s, evident ingest {:.2} s", round + 1, raws[round], ours[round]);
        if std::env::var_os("KEEP").is_none() {
            std::fs::remove_file(&store_path)?;
        }
    }
    let rss = peak_rss_kib();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (raw, ours) = (median(&mut raws), median(&mut ours));
    println!("sqlite3 .import : {raw:7.2} s  {:>10.0} rows/s (median of {rounds})", rows as f64 / raw);
    println!("evident ingest  : {ours:7.2} s  {:>10.0} rows/s (median of {rounds})", rows as f64 / ours);
    println!("ratio (evident / raw import rate): {:.2}  (target >= 0.50)", raw / ours);
    println!("evident peak RSS: {:.0} MiB (whole process, all rounds; target <= 512 MiB)", rss as f64 / 1024.0);
    if std::env::var_os("KEEP").is_none() {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
