//! The `pairwise` command: argument parsing ([`Cli`]) and the commands behind it.
//!
//! Human output and errors go to stderr; machine output (the server URL) goes to stdout.
//! Exit codes: 0 success, 1 runtime failure, 2 bad usage (from clap).

pub mod files;
pub mod signaling;
pub mod term_qr;

mod cli;
mod serve;

use std::process::ExitCode;

pub use cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

/// Runs the parsed command line and returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pairwise: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "pairwise=info,pairwise_server=info,pairwise_cli=info",
        1 => "pairwise=debug,pairwise_server=debug,pairwise_cli=debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
