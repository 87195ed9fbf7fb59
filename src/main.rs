#![allow(clippy::disallowed_macros, reason = "the binary prints the error that ends a run")]
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
        // A reader that stopped reading (`evident assets | head -1`): the output was delivered as
        // far as anyone wanted it. Quietly done, as ripgrep does.
        Err(e) if e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)) => ExitCode::SUCCESS,
        Err(e) => {
            // Paths and names in an error can come from a pack or a file name: escaped, line by line.
            let text = format!("{e:#}");
            let lines: Vec<String> = text.lines().map(|l| evident::cli::safe(l).into_owned()).collect();
            eprintln!("error: {}", lines.join("\n"));
            ExitCode::from(2)
        }
    }
}
