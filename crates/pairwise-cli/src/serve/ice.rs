//! `serve`'s STUN/TURN: the [`IcePlan`] decided from the arguments, and starting it.
//!
//! - `--turn URL…` with a shared secret: those servers (coturn in production) are handed out,
//!   with per-connection credentials; nothing runs here.
//! - otherwise, on any address but loopback: the embedded STUN/TURN server
//!   (`pairwise_server::relay`) on UDP, same port number as the web app unless `--relay-port`;
//!   `--no-relay` turns it off.
//! - on loopback: nothing (every device that reaches the server is on this machine, so host
//!   candidates are all there is; STUN would find them again).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use pairwise_server::ice::{IceConfig, TurnSecret};
use pairwise_server::relay::{EmbeddedRelay, RelayLimits};

use crate::cli::IceArgs;

/// What `serve` hands out for ICE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IcePlan {
    /// STUN URLs only (possibly none).
    StunOnly { stun: Vec<String> },
    /// The operator's TURN servers; the secret comes from a file or the environment.
    External {
        stun: Vec<String>,
        turn: Vec<String>,
        secret_file: Option<PathBuf>,
        ttl: Duration,
    },
    /// The embedded STUN/TURN server.
    Embedded {
        stun: Vec<String>,
        port: Option<u16>,
        public_ip: Option<IpAddr>,
        ttl: Duration,
        ports: (u16, u16),
        /// Bytes per second per allocation (0: no cap).
        rate: u64,
    },
}

impl IcePlan {
    /// Decides from the arguments and the listening address.
    ///
    /// # Errors
    /// A sentence for URLs that are not STUN/TURN, or TURN without any secret.
    pub(crate) fn from_args(args: &IceArgs, listen: SocketAddr) -> anyhow::Result<Self> {
        for url in &args.stun {
            if !url.starts_with("stun:") && !url.starts_with("stuns:") {
                bail!("--stun {url:?}: a STUN URL starts with stun: (e.g. stun:HOST:3478)");
            }
        }
        for url in &args.turn {
            if !url.starts_with("turn:") && !url.starts_with("turns:") {
                bail!(
                    "--turn {url:?}: a TURN URL starts with turn: or turns: (e.g. \
                     turn:HOST:3478?transport=udp)"
                );
            }
        }
        let ttl = Duration::from_secs(args.turn_ttl);
        let stun = args.stun.clone();
        if !args.turn.is_empty() {
            if args.turn_secret_file.is_none() && std::env::var_os(SECRET_ENV).is_none() {
                bail!(
                    "--turn needs the secret it shares with the TURN server: --turn-secret-file \
                     FILE (coturn's static-auth-secret) or {SECRET_ENV}"
                );
            }
            return Ok(Self::External {
                stun,
                turn: args.turn.clone(),
                secret_file: args.turn_secret_file.clone(),
                ttl,
            });
        }
        if args.no_relay || (listen.ip().is_loopback() && args.public_ip.is_none()) {
            return Ok(Self::StunOnly { stun });
        }
        Ok(Self::Embedded {
            stun,
            port: args.relay_port,
            public_ip: args.public_ip,
            ttl,
            ports: args.relay_ports,
            rate: args.relay_rate.saturating_mul(1_000_000),
        })
    }
}

/// The environment variable that may hold the TURN secret instead of a file.
const SECRET_ENV: &str = "PAIRWISE_TURN_SECRET";

/// What [`start`] runs and hands out.
#[derive(Debug)]
pub(crate) struct Started {
    /// For the signaling server's `joined` replies.
    pub(crate) config: IceConfig,
    /// The embedded relay, if one runs.
    pub(crate) relay: Option<EmbeddedRelay>,
}

/// Starts what `plan` needs. `http` is the bound web address; `fallback_ip` the address
/// printed for people (the first LAN address when listening on all interfaces).
///
/// # Errors
/// An unreadable secret file, or the relay's UDP port is taken.
pub(crate) async fn start(
    plan: &IcePlan,
    http: SocketAddr,
    fallback_ip: IpAddr,
) -> anyhow::Result<Started> {
    match plan {
        IcePlan::StunOnly { stun } => Ok(Started {
            config: IceConfig {
                stun: stun.clone(),
                ..IceConfig::default()
            },
            relay: None,
        }),
        IcePlan::External {
            stun,
            turn,
            secret_file,
            ttl,
        } => {
            let secret = match secret_file {
                Some(path) => std::fs::read_to_string(path).with_context(|| {
                    format!("could not read the TURN secret {}", path.display())
                })?,
                None => std::env::var(SECRET_ENV).unwrap_or_default(),
            };
            let secret = secret.trim();
            if secret.is_empty() {
                bail!("the TURN secret is empty");
            }
            Ok(Started {
                config: IceConfig {
                    stun: stun.clone(),
                    turn: turn.clone(),
                    secret: Some(TurnSecret::new(secret.as_bytes().to_vec())),
                    ttl: *ttl,
                },
                relay: None,
            })
        }
        IcePlan::Embedded {
            stun,
            port,
            public_ip,
            ttl,
            ports,
            rate,
        } => {
            let public = public_ip.unwrap_or(if http.ip().is_unspecified() {
                fallback_ip
            } else {
                http.ip()
            });
            // Behind a reverse proxy the web app listens on loopback while devices reach the
            // relay on the public address (--public-ip): the relay then listens everywhere.
            let bind_ip = match http.ip() {
                IpAddr::V4(ip) if ip.is_loopback() => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(ip) if ip.is_loopback() => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                ip => ip,
            };
            let bind = SocketAddr::new(bind_ip, port.unwrap_or(http.port()));
            let secret = TurnSecret::random();
            let limits = RelayLimits {
                ports: *ports,
                rate: *rate,
                ..RelayLimits::default()
            };
            let relay = EmbeddedRelay::start(bind, public, secret.clone(), limits)
                .await
                .with_context(|| {
                    format!(
                        "could not start the embedded STUN/TURN server on udp {bind}: is the \
                         port taken? (--relay-port PORT picks another, --no-relay runs none)"
                    )
                })?;
            let at = SocketAddr::new(public, relay.local_addr().port());
            let mut stun = stun.clone();
            stun.push(format!("stun:{at}"));
            Ok(Started {
                config: IceConfig {
                    stun,
                    turn: vec![format!("turn:{at}?transport=udp")],
                    secret: Some(secret),
                    ttl: *ttl,
                },
                relay: Some(relay),
            })
        }
    }
}

/// One line for stderr: what devices behind NATs will use.
pub(crate) fn describe(started: &Started) -> Option<String> {
    if let Some(relay) = &started.relay {
        return Some(format!(
            "STUN/TURN: embedded, on udp {} (devices that cannot reach each other directly are \
             relayed through this server; open that UDP port in the firewall)",
            relay.local_addr()
        ));
    }
    if !started.config.turn.is_empty() {
        return Some(format!(
            "STUN/TURN: handing out {}",
            started
                .config
                .stun
                .iter()
                .chain(&started.config.turn)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    None
}
