//! The `pairwise` command: argument parsing ([`Cli`]) and the commands behind it.
//!
//! Human output and errors go to stderr; machine output (the server URL, a pairing link, JSON
//! events with `--json`) goes to stdout. Exit codes are listed in `--help`.

pub mod clock;
pub mod config;
pub mod files;
pub mod keystore;
pub mod progress;
pub mod session;
pub mod signaling;
pub mod term_qr;
pub mod tls;
pub mod transfer;

pub mod peer;

mod cli;
mod commands;
mod lan;
mod serve;

use std::process::ExitCode;

pub use cli::{Cli, Command};
use cli::{IcePolicy, LogFormat};
use tracing_subscriber::EnvFilter;

/// Runs the parsed command line and returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    init_tracing(cli.verbose, cli.command.log_format());
    if let Some(peer) = cli.command.peer_args() {
        peer::settings::set_relay_only(peer.ice_policy == IcePolicy::Relay);
    }
    let result = match cli.command {
        Command::Serve(args) => {
            serve::run(&args, cli.config.as_deref()).map(|()| ExitCode::SUCCESS)
        }
        Command::Send(args) => commands::send::run(args, cli.config.as_deref()),
        Command::Receive(args) => commands::receive::run(args, cli.config.as_deref()),
        Command::Pair(args) => commands::pair::run(args, cli.config.as_deref()),
        Command::Devices(args) => commands::devices::run(args, cli.config.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pairwise: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(verbose: u8, format: LogFormat) {
    let default = match verbose {
        0 => "pairwise=info,pairwise_server=info,pairwise_cli=info",
        1 => "pairwise=debug,pairwise_server=debug,pairwise_cli=debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        // The span's fields (e.g. a connection's id) go into the line with the event's own.
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}
