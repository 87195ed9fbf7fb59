use clap::Parser;
use std::process::ExitCode;

// mimalloc: ingest hands millions of small strings from the reader thread to the writer thread;
// glibc malloc serialises those cross-thread frees on an arena lock.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = evident::cli::args::Cli::parse();
    match evident::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
