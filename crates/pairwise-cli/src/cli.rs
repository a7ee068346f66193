//! Command-line arguments (clap derive); the `///` docs are the `--help` text.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Pairwise: send files between any two devices, end-to-end encrypted, peer to peer.
#[derive(Debug, Parser)]
#[command(name = "pairwise", version, about)]
#[command(
    after_help = "Exit codes: 0 success; 1 failure (the message says why); 2 bad usage; \
                        3 the other device declined or cancelled; 4 the other device could not \
                        be verified (possible tampering)."
)]
pub struct Cli {
    /// More log output on stderr (-v debug, -vv trace). RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Configuration directory (the generated TLS certificate lives here). Default: the
    /// platform's, e.g. ~/.config/pairwise.
    #[arg(long, env = "PAIRWISE_CONFIG", value_name = "DIR", global = true)]
    pub config: Option<PathBuf>,
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
    /// Send files: shows a QR code (and prints the link); the other device opens it and receives.
    ///
    /// The other device can be a phone or computer with a browser (scan the QR code), or
    /// another terminal (`pairwise receive LINK`).
    #[command(visible_alias = "s")]
    Send(SendArgs),
    /// Receive files: open a pairing LINK from the other device, or show a QR code for it.
    ///
    /// Files are written as NAME.part and get their name only once complete and verified; an
    /// existing file is never replaced (a new name like "NAME (1).ext" is chosen and said).
    #[command(visible_alias = "r")]
    Receive(ReceiveArgs),
}

/// Arguments of `pairwise serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Port 0 picks a free port (the chosen address is printed).
    /// Default: 127.0.0.1:8080, or 0.0.0.0:8443 with --lan.
    #[arg(long, env = "PAIRWISE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// For phones and computers on the same network: HTTPS on 0.0.0.0:8443 with the generated
    /// certificate; prints the LAN address, a QR code of it and the certificate's fingerprint.
    #[arg(long)]
    pub lan: bool,
    /// Serve HTTPS (and wss://) with a self-signed certificate that is made once and kept in
    /// the configuration directory. Browsers warn about it once; the fingerprint is printed.
    #[arg(long)]
    pub tls: bool,
    /// Serve HTTPS with your own certificate chain (PEM) instead; needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain http on a non-loopback address anyway (e.g. behind your own HTTPS proxy).
    /// Browsers allow the app's cryptography only on https:// or localhost.
    #[arg(long, conflicts_with_all = ["lan", "tls", "tls_cert"])]
    pub insecure_http: bool,
}

/// Options shared by `send` and `receive`.
#[derive(Debug, Args)]
pub struct PeerArgs {
    /// Signaling server (the address `pairwise serve` prints). For `receive LINK` the link's
    /// own server is used unless this is given.
    #[arg(long, env = "PAIRWISE_SERVER")]
    pub server: Option<String>,
    /// Trust exactly this PEM certificate for an https:// server (the one `pairwise serve
    /// --tls` prints), instead of the system's certificate authorities.
    #[arg(long, env = "PAIRWISE_SERVER_CERT", value_name = "FILE")]
    pub server_cert: Option<PathBuf>,
    /// Local IP address for the direct connection. By default, the address this machine uses
    /// to reach the server.
    #[arg(long)]
    pub bind: Option<IpAddr>,
    /// Machine-readable events, one JSON object per line, on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `pairwise send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Files to send.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Connection options.
    #[command(flatten)]
    pub peer: PeerArgs,
}

/// Arguments of `pairwise receive`.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Pairing link from the other device's QR code. Without it, a QR code is shown for the
    /// other device to open, and it sends.
    pub link: Option<String>,
    /// Directory to write the files into.
    #[arg(long, short, default_value = ".")]
    pub dir: PathBuf,
    /// Connection options.
    #[command(flatten)]
    pub peer: PeerArgs,
}
