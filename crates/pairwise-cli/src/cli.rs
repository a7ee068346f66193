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
                        be verified (possible tampering); 5 the other device does not know this \
                        one (it forgot it, or this device's key was replaced): pair again; \
                        6 nobody came within --timeout (no device opened the link, or the paired \
                        device did not come online); 130 cancelled \
                        with Ctrl-C (the other device was told; partial files were removed)."
)]
pub struct Cli {
    /// More log output on stderr (-v debug, -vv trace). RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Configuration directory: this device's identity key, its paired devices and the
    /// generated TLS certificate live here. Default: the platform's, e.g. ~/.config/pairwise.
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
    /// With --to NAME, sends to a paired device instead, without a QR code.
    ///
    /// The other device can be a phone or computer with a browser (scan the QR code), or
    /// another terminal (`pairwise receive LINK`). Both devices remember each other afterwards
    /// (see `pairwise devices`).
    ///
    /// With --to, the offer can be resumed: if the connection drops, running the same command
    /// again (same files, unchanged) continues where the other device stopped. Ctrl-C cancels
    /// the transfer on both devices.
    #[command(visible_alias = "s")]
    Send(SendArgs),
    /// Receive files: open a pairing LINK from the other device, or show a QR code for it.
    /// With --from NAME (or --paired), receives from a paired device without a QR code.
    ///
    /// Before anything is written you are asked to accept the offered files (their names and
    /// sizes are shown), unless --yes is given, they come from --from NAME, or the device is
    /// set to auto-accept (`pairwise devices auto-accept NAME on`).
    ///
    /// Files are written as NAME.part and get their name only once complete and verified; an
    /// existing file is never replaced (a new name like "NAME (1).ext" is chosen and said).
    /// From a sender that can resume (`send --to`), partial files are kept in the hidden
    /// folder .pairwise-resume of --dir instead: if the connection drops they stay there, and
    /// running the same command again continues them; a cancelled, declined or finished
    /// transfer removes them. Ctrl-C cancels the transfer on both devices.
    #[command(visible_alias = "r")]
    Receive(ReceiveArgs),
    /// Pair with another device without sending files: shows a QR code (or with --code an
    /// 8-digit code), or opens a LINK (or types a CODE).
    ///
    /// Both devices remember each other: later, `pairwise send --to NAME` and `pairwise receive
    /// --from NAME` need no QR code.
    Pair(PairArgs),
    /// List the paired devices, or rename, forget or auto-accept one.
    ///
    /// NAME is a device's name (any case; it must be unique) or the start of its id. The list
    /// starts with this device's own name (set with --name on send, receive or pair).
    Devices(DevicesArgs),
}

impl Command {
    /// How this command's log lines look (only `serve` offers JSON).
    pub fn log_format(&self) -> LogFormat {
        match self {
            Self::Serve(a) => a.log_format,
            _ => LogFormat::Text,
        }
    }

    /// The connection options of a command that connects to another device.
    pub fn peer_args(&self) -> Option<&PeerArgs> {
        match self {
            Self::Send(a) => Some(&a.peer),
            Self::Receive(a) => Some(&a.peer),
            Self::Pair(a) => Some(&a.peer),
            Self::Serve(_) | Self::Devices(_) => None,
        }
    }
}

/// Arguments of `pairwise serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// How log lines on stderr look: text, or json (one JSON object per line, for a log
    /// collector). Which events are logged is set by -v and RUST_LOG.
    #[arg(
        long,
        value_enum,
        env = "PAIRWISE_LOG_FORMAT",
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub log_format: LogFormat,
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
    /// A name this server is reached by (e.g. pair.example.org behind a reverse proxy); repeat
    /// for more. IP addresses, localhost and this machine's name are always answered; a request
    /// to any other name is refused (421), so a hostile site cannot rebind its name to it.
    #[arg(
        long = "host",
        value_name = "NAME",
        env = "PAIRWISE_HOSTS",
        value_delimiter = ','
    )]
    pub hosts: Vec<String>,
    /// Open connections one client address (IPv6: one /64) may hold (web app and signaling);
    /// more are closed at once, so one address cannot take every slot. 0: no cap (e.g. behind
    /// a proxy, where every client has the proxy's address).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 256,
        env = "PAIRWISE_MAX_PER_IP"
    )]
    pub max_per_ip: usize,
    /// Signaling sessions one client address may start per minute (all at once at most);
    /// more are refused (error `rate-limited`) until its rate allows. 0: no cap (e.g. behind
    /// a proxy).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 120,
        env = "PAIRWISE_JOINS_PER_IP_MINUTE"
    )]
    pub joins_per_ip_minute: u32,
    /// Share rooms with other `pairwise serve` nodes through Redis (redis://HOST:PORT), so
    /// any number of nodes can stand behind one address: two devices on different nodes still
    /// meet. Without it rooms live in this process. An unreachable Redis at start is an error;
    /// later, /readyz answers 503 until it is back.
    #[arg(long, value_name = "URL", env = "PAIRWISE_REDIS")]
    pub redis: Option<String>,
    /// With --redis: seconds after which a node that stopped renewing its rooms counts as
    /// gone (its devices' peers are told they left). Renewed every third of it.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        requires = "redis",
        value_parser = clap::value_parser!(u64).range(3..=3600)
    )]
    pub redis_lease: u64,
    /// Relay options: how devices behind NATs reach each other.
    #[command(flatten)]
    pub ice: IceArgs,
}

/// STUN and TURN for `pairwise serve`. By default (on any address but loopback) the server
/// answers STUN and relays (TURN) on UDP itself, on the same port number as the web app; with
/// --turn it hands out your TURN server (e.g. coturn) instead.
#[derive(Debug, Args)]
pub struct IceArgs {
    /// A STUN server to hand to the devices, e.g. stun:stun.example.org:3478 (repeatable;
    /// added to the embedded one).
    #[arg(
        long = "stun",
        value_name = "URL",
        env = "PAIRWISE_STUN",
        value_delimiter = ','
    )]
    pub stun: Vec<String>,
    /// A TURN server to hand out instead of the embedded relay (repeatable): turn:HOST:PORT,
    /// turn:HOST:PORT?transport=tcp or turns:HOST:PORT?transport=tcp. It must share the secret
    /// of --turn-secret-file (coturn: use-auth-secret, static-auth-secret).
    #[arg(
        long = "turn",
        value_name = "URL",
        env = "PAIRWISE_TURN",
        value_delimiter = ','
    )]
    pub turn: Vec<String>,
    /// File holding the TURN REST secret shared with --turn's server (or set
    /// PAIRWISE_TURN_SECRET). Each device gets its own credentials, valid for --turn-ttl.
    #[arg(long, env = "PAIRWISE_TURN_SECRET_FILE", value_name = "FILE")]
    pub turn_secret_file: Option<PathBuf>,
    /// Seconds the TURN credentials handed to a device stay valid.
    #[arg(long, value_name = "SECS", default_value_t = 7200, value_parser = clap::value_parser!(u64).range(10..=7 * 86_400))]
    pub turn_ttl: u64,
    /// Run no embedded STUN/TURN server (devices then connect only where their networks allow
    /// a direct path, or through --turn).
    #[arg(long)]
    pub no_relay: bool,
    /// UDP port of the embedded STUN/TURN server (default: the web app's port number).
    #[arg(long, value_name = "PORT", env = "PAIRWISE_RELAY_PORT")]
    pub relay_port: Option<u16>,
    /// UDP ports the embedded relay gives relayed connections, LOW-HIGH (open them in the
    /// firewall).
    #[arg(long, value_name = "LOW-HIGH", default_value = "49152-65535", value_parser = parse_port_range)]
    pub relay_ports: (u16, u16),
    /// Most megabytes per second one relayed connection may move through the embedded relay
    /// (both directions together; 0: no cap).
    #[arg(long, value_name = "MB_PER_S", default_value_t = 50)]
    pub relay_rate: u64,
    /// The address devices reach this server at, used in the embedded relay's URLs and relayed
    /// candidates (default: the --listen address, else the first LAN address). Behind a 1:1
    /// NAT (a cloud VM), the public address.
    #[arg(long, value_name = "IP", env = "PAIRWISE_PUBLIC_IP")]
    pub public_ip: Option<IpAddr>,
}

/// `LOW-HIGH`, a non-empty range of non-zero ports.
fn parse_port_range(s: &str) -> Result<(u16, u16), String> {
    let (lo, hi) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?} is not LOW-HIGH"))?;
    let port = |p: &str| {
        p.trim()
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("{p:?} is not a port (1-65535)"))
    };
    let (lo, hi) = (port(lo)?, port(hi)?);
    if lo > hi {
        return Err(format!("{lo}-{hi}: the low port is above the high one"));
    }
    Ok((lo, hi))
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
    /// Give up after SECS seconds of waiting (exit 6): for the other device to open the link
    /// (QR code) or to answer this one's LINK, or with --to/--from/--paired for the paired
    /// device to come online. Default: wait until interrupted.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Print the pairing link without a QR code (to paste it into the other device, or in a
    /// terminal too small for the code).
    #[arg(long)]
    pub no_qr: bool,
    /// Which connections to try: all (direct where the networks allow it, else through the
    /// server's relay), or relay (always through the relay: the other device never learns
    /// this one's address).
    #[arg(long, value_enum, env = "PAIRWISE_ICE_POLICY", default_value = "all")]
    pub ice_policy: IcePolicy,
    /// With --to or --from: when the connection drops mid-transfer (a network change, the
    /// other device restarting), wait up to SECS seconds for the device to come back and
    /// continue from what it kept; 0 stops at once (run the same command again to continue).
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub reconnect: u64,
    /// This device's name, shown on the other device. It is kept in the configuration
    /// directory and used by later runs until --name gives another (default: the host name).
    #[arg(long, env = "PAIRWISE_NAME", value_name = "NAME")]
    pub name: Option<String>,
}

/// Arguments of `pairwise send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Files and folders to send (a folder sends every regular file in it, keeping its
    /// structure).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Send to this paired device (its name or id) without a QR code: waits until it is
    /// online (`pairwise receive --from`/`--paired` there, or the web app open).
    #[arg(long, value_name = "NAME")]
    pub to: Option<String>,
    /// Pair by code instead of a QR code: shows an 8-digit code to type on the other device
    /// (`pairwise receive CODE`, or "Pair by code" in the web app), for devices without a
    /// camera. Both screens then show a six-digit number and ask whether they match.
    #[arg(long, conflicts_with = "to")]
    pub code: bool,
    /// Connection options.
    #[command(flatten)]
    pub peer: PeerArgs,
}

/// Arguments of `pairwise receive`.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Pairing link from the other device's QR code, or the 8-digit code it shows (`4821 9377`,
    /// quoted or not). Without it, a QR code is shown for the other device to open, and it
    /// sends.
    #[arg(value_name = "LINK|CODE")]
    pub link: Vec<String>,
    /// Receive from this paired device (its name or id) without a QR code; its files are
    /// accepted.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["link", "paired"])]
    pub from: Option<String>,
    /// Wait for whichever paired device sends first. Files are accepted from devices with
    /// auto-accept on (or with --yes); otherwise you are asked (on a terminal) or they are
    /// declined. Devices forgotten here are told so if they come online.
    #[arg(long, conflicts_with = "link")]
    pub paired: bool,
    /// Accept the offered files without asking. Without it, files from a newly paired device
    /// (or, with --paired, one not set to auto-accept) are shown by name and size with
    /// "Accept? [y/N]"; where stdin is no terminal they are declined.
    #[arg(long, short)]
    pub yes: bool,
    /// Show an 8-digit code for the other device to type instead of a QR code (see `send
    /// --code`).
    #[arg(long, conflicts_with_all = ["link", "from", "paired"])]
    pub code: bool,
    /// Directory to write the files into.
    #[arg(long, short, default_value = ".")]
    pub dir: PathBuf,
    /// Connection options.
    #[command(flatten)]
    pub peer: PeerArgs,
}

/// Arguments of `pairwise pair`.
#[derive(Debug, Args)]
pub struct PairArgs {
    /// Pairing link from the other device's QR code, or the 8-digit code it shows. Without
    /// it, a QR code is shown.
    #[arg(value_name = "LINK|CODE")]
    pub link: Vec<String>,
    /// Show an 8-digit code for the other device to type instead of a QR code (see `send
    /// --code`).
    #[arg(long, conflicts_with = "link")]
    pub code: bool,
    /// Connection options.
    #[command(flatten)]
    pub peer: PeerArgs,
}

/// Arguments of `pairwise devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// What to do; without one, the devices are listed.
    #[command(subcommand)]
    pub action: Option<DevicesAction>,
    /// List as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `pairwise devices` sub-commands.
#[derive(Debug, Subcommand)]
pub enum DevicesAction {
    /// List the paired devices: name, id, when paired, last seen, auto-accept (and this
    /// device's own name first, on stderr).
    #[command(visible_alias = "ls")]
    List,
    /// Give a paired device your own name for it (its own name no longer replaces it).
    Rename {
        /// The device (name or id).
        name: String,
        /// The new name.
        new_name: String,
    },
    /// Forget a paired device. It is told so (once, within 30 days) the next time both are
    /// online (`pairwise receive --paired` here), and can no longer connect.
    #[command(visible_alias = "rm")]
    Forget {
        /// The device (name or id).
        name: String,
    },
    /// Accept files from a paired device without asking (`pairwise receive --paired`).
    AutoAccept {
        /// The device (name or id).
        name: String,
        /// on or off.
        state: OnOff,
    },
}

/// `--ice-policy` (WebRTC's `iceTransportPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IcePolicy {
    /// Every candidate: direct paths first, the relay when nothing else works.
    All,
    /// Relayed candidates only.
    Relay,
}

/// `serve --log-format`: how the log lines on stderr look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// A line of text per event, for people.
    #[default]
    Text,
    /// A JSON object per event and line (time, level, target, message and fields), for log
    /// collectors.
    Json,
}

/// A switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    /// On.
    On,
    /// Off.
    Off,
}
