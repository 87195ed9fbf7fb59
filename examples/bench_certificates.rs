//! Benchmark: 10,000 drive certificates end to end, each step as `evident certificate` runs it:
//! build the records from the store, sign (performer), countersign (verifier), render the PDFs on
//! every core, then verify a sample of the PDFs. Prints seconds per step and ms per certificate.
//! The wipe records are a generated ITAD vendor CSV of N drives (default 10,000), ingested first.
//! Run: `cargo run --release --example bench_certificates [N]`
#![allow(clippy::disallowed_macros, reason = "examples and benchmarks print their figures")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

// The same allocator as the `evident` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// An ITAD certificate-of-destruction CSV with `n` drives on pallets of 500.
fn itad_csv(path: &Path, n: usize) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        f,
        "certificate_number,lot_number,asset_tag,device_serial,media_serial,media_type,manufacturer,model,sanitization_method,nist_category,verification,result,completed_at,technician,vendor"
    )?;
    let kinds = [
        // A destruction is verified by looking at the remains; a crypto erase by reading back.
        ("NVMe SSD", "Samsung", "PM9A1", "Shred 6mm", "Destroy", "Visual"),
        ("HDD", "Seagate", "ST1000LM035", "Degauss + shred", "Destroy", "Visual"),
        ("SSD", "Crucial", "MX500", "Crypto erase", "Purge", "Full"),
    ];
    for i in 0..n {
        let (t, mk, md, m, c, v) = kinds[i % kinds.len()];
        let day = 1 + (i / 500) % 28;
        writeln!(
            f,
            "COD-{i:06},PAL-{:04},FH-{i:06},SYS{i:08X},DRV{:010X},{t},{mk},{md},{m},{c},{v},Pass,2026-09-{day:02} {:02}:{:02},J. Ortega,GreenLoop Recycling",
            i / 500,
            (i as u64).wrapping_mul(2654435761) & 0xFF_FFFF_FFFF,
            8 + i % 9,
            i % 60
        )?;
    }
    f.flush()
}

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

/// CPU seconds this process has used, all threads, user and system (/proc/self/stat, in ticks
/// of 1/100 s: read over a second or more).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(10_000);
    let work = std::env::temp_dir().join(format!("evident-bench-certs-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let csv = work.join("itad-bulk.csv");
    itad_csv(&csv, n)?;
    let mut store = evident::store::Store::open(&work.join("s.db"), std::time::Duration::from_secs(5))?;
    let opts = evident::ingest::Options { source_tz: Some("UTC".parse()?), ..Default::default() };
    let t = Instant::now();
    let report = evident::ingest::ingest_file(&mut store, &csv, &opts, &())?;
    println!("ingest: {} wipe records in {:.2} s (not counted below)", report.counts.accepted, t.elapsed().as_secs_f64());

    let keys = work.join("keys");
    let perf = evident::sign::keygen(evident::sign::Role::Performer, "Sam Lee", &keys, None)?;
    let veri = evident::sign::keygen(evident::sign::Role::Verifier, "Ana Ruiz", &keys, None)?;
    let trust_text = std::fs::read_to_string(&perf.trust_file)? + &std::fs::read_to_string(&veri.trust_file)?;
    std::fs::write(work.join("all.trust"), trust_text)?;
    let trust = evident::sign::TrustList::load(&work.join("all.trust"))?;
    let (pk, vk) = (evident::sign::SecretKey::load(&perf.private_key)?, evident::sign::SecretKey::load(&veri.private_key)?);

    let all = Instant::now();
    let t = Instant::now();
    let sel = evident::certificate::Selection { all: true, ..Default::default() };
    let issue = evident::certificate::Issue {
        organisation: Some("Fernhill Ltd".into()),
        classification: Some("Confidential".into()),
        destination: Some("Recycled by GreenLoop Recycling".into()),
        ..Default::default()
    };
    let built = evident::certificate::build(&store, &sel, &issue)?;
    let out = work.join("certs");
    std::fs::create_dir_all(&out)?;
    let files: Vec<PathBuf> = evident::certificate::write_all(&built.certificates, &out, &mut || Ok(()))?;
    evident::certificate::keep(&mut store, &built.certificates)?;
    let t_new = t.elapsed().as_secs_f64();
    assert_eq!(files.len(), n, "one certificate per drive");

    // Each signing step keeps the store in step, as `evident certificate sign` does.
    let t = Instant::now();
    let at = "2026-10-31T12:00:00Z".to_string();
    let sam = evident::certificate::Signer { name: "Sam Lee".into(), signed_at: at.clone() };
    let ana = evident::certificate::Signer { name: "Ana Ruiz".into(), signed_at: at };
    let signed = evident::certificate::sign_files(&files, &pk, &sam, false, &|| ())?;
    let k = Instant::now();
    evident::certificate::keep(&mut store, &signed)?;
    let (t_sign, t_sign_keep) = (t.elapsed().as_secs_f64(), k.elapsed().as_secs_f64());
    let t = Instant::now();
    let signed = evident::certificate::sign_files(&files, &vk, &ana, true, &|| ())?;
    let k = Instant::now();
    evident::certificate::keep(&mut store, &signed)?;
    let (t_counter, t_counter_keep) = (t.elapsed().as_secs_f64(), k.elapsed().as_secs_f64());

    let (t, cpu) = (Instant::now(), cpu_seconds());
    let jobs: Vec<_> = signed.into_iter().zip(&files).map(|(c, f)| (c, f.with_extension("pdf"))).collect();
    evident::certificate::render_files(&jobs, false, &|| ())?;
    let (t_render, cpu_render) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let total = all.elapsed().as_secs_f64();

    // Every tenth PDF is verified from the PDF alone (re-rendered and compared): a spot check
    // that the batch produced real certificates, timed apart from the target.
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let mut checked = 0;
    for (_, p) in jobs.iter().step_by(10) {
        let v = evident::verify::certificate(p, &trust)?;
        assert!(v.verified, "{}: {:?}", p.display(), v.checks.iter().filter(|c| !c.ok).collect::<Vec<_>>());
        checked += 1;
    }
    let (t_verify, cpu_verify) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let pdf_bytes: u64 = jobs.iter().map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len())).sum();

    let per = |s: f64| s * 1000.0 / n as f64;
    println!("certificates: {n} drives, {} threads", std::thread::available_parallelism().map_or(1, |c| c.get()));
    println!("  new (records, files, store) {t_new:7.2} s  {:6.2} ms/cert", per(t_new));
    println!("  sign (performer)            {t_sign:7.2} s  {:6.2} ms/cert  (store {t_sign_keep:.2} s)", per(t_sign));
    println!("  countersign (verifier)      {t_counter:7.2} s  {:6.2} ms/cert  (store {t_counter_keep:.2} s)", per(t_counter));
    println!(
        "  render PDF                  {t_render:7.2} s  {:6.2} ms/cert  ({:.1} KiB/PDF; {:.2} ms of CPU each)",
        per(t_render),
        pdf_bytes as f64 / n as f64 / 1024.0,
        per(cpu_render)
    );
    println!("  total                       {total:7.2} s  {:6.2} ms/cert  ([certificates-2] aims at <= 15 s for 10,000)", per(total));
    println!(
        "  verify {checked} PDFs (spot check) {t_verify:.2} s, {:.2} ms each, {:.2} ms of CPU each ([certificates-2] aims at <= 2 ms of CPU)",
        t_verify * 1000.0 / checked as f64,
        cpu_verify * 1000.0 / checked as f64
    );
    println!("  peak RSS {:.0} MiB", vm_hwm_kib() as f64 / 1024.0);
    if std::env::var_os("KEEP").is_none() {
        std::fs::remove_dir_all(&work)?;
    } else {
        println!("kept {}", work.display());
    }
    Ok(())
}
