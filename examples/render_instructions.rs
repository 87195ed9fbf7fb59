//! Instructions per certificate render, for comparing template or renderer changes on a machine
//! whose timings are too noisy to tell 5 % apart. Renders COUNT (default 5) certificates of a
//! generated 30-drive ITAD CSV in one thread; run it under callgrind for two counts and divide
//! the difference:
//!   cargo build --release --example render_instructions
//!   for n in 5 25; do valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/render_instructions $n 2>&1 | grep Collected; done
//!   (difference / 20 = instructions per certificate; 16.5 M at the time of writing)
#![allow(clippy::disallowed_macros, reason = "examples and benchmarks print their figures")]

use std::io::Write;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(5);
    let work = tempfile::tempdir()?;
    let csv = work.path().join("itad.csv");
    let mut f = std::fs::File::create(&csv)?;
    writeln!(
        f,
        "certificate_number,lot_number,asset_tag,device_serial,media_serial,media_type,manufacturer,model,sanitization_method,nist_category,verification,result,completed_at,technician,vendor"
    )?;
    for i in 0..30 {
        writeln!(
            f,
            "COD-{i:06},PAL-0001,FH-{i:06},SYS{i:08X},DRV{:010X},SSD,Crucial,MX500,Crypto erase,Purge,Full,Pass,2026-09-01 10:{:02},J. Ortega,GreenLoop Recycling",
            i * 7919,
            i % 60
        )?;
    }
    drop(f);
    let mut store = evident::store::Store::open(&work.path().join("s.db"), std::time::Duration::from_secs(5))?;
    let opts = evident::ingest::Options { source_tz: Some("UTC".parse()?), ..Default::default() };
    evident::ingest::ingest_file(&mut store, &csv, &opts, &())?;
    let sel = evident::certificate::Selection { all: true, ..Default::default() };
    let issue = evident::certificate::Issue {
        organisation: Some("Fernhill Ltd".into()),
        classification: Some("Confidential".into()),
        destination: Some("Recycled".into()),
        ..Default::default()
    };
    let built = evident::certificate::build(&store, &sel, &issue)?;
    for c in built.certificates.iter().take(count) {
        std::hint::black_box(evident::certificate::pdf::render(c)?);
    }
    println!("rendered {} certificates", count.min(built.certificates.len()));
    Ok(())
}
