use clap::Parser;
use std::process::ExitCode;

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
