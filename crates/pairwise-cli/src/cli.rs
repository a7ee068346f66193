//! Command-line arguments (clap derive); the `///` docs are the `--help` text.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

/// Pairwise: send files between any two devices, end-to-end encrypted, peer to peer.
#[derive(Debug, Parser)]
#[command(name = "pairwise", version, about)]
#[command(after_help = "Exit codes: 0 success, 1 failure (the message says why), 2 bad usage.")]
pub struct Cli {
    /// More log output on stderr (-v debug, -vv trace). RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the signaling server and serve the web app.
    ///
    /// Open the printed address in two browsers to pair them and send files. The server only
    /// relays connection set-up messages; files go directly between the devices, encrypted.
    Serve(ServeArgs),
}

/// Arguments of `pairwise serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Port 0 picks a free port (the chosen address is printed).
    #[arg(long, env = "PAIRWISE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}
