//! `pairwise serve`: runs the signaling server until Ctrl-C, over plain HTTP on loopback (the
//! default) or HTTPS (`--tls`, `--tls-cert`/`--tls-key`, `--lan`).
//!
//! The arguments become a [`Plan`] before any IO, and a plan that would serve plain HTTP to
//! other devices is refused (browsers allow WebCrypto only on https:// or localhost), unless
//! `--insecure-http`. stdout's first line is always `Pairwise is serving on URL` (tests and
//! scripts read it); with `--lan` the LAN addresses, a QR code and the certificate's
//! fingerprint follow on stdout.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use pairwise_server::rooms::{Broker, RedisOptions, RedisRooms};
use pairwise_server::{AppState, Config};
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::config::ConfigDir;
use crate::lan;
use crate::term_qr;
use crate::tls::generated::{self, CertNames, Renewal};
use crate::tls::{self, ServerIdentity};

use self::ice::IcePlan;

mod ice;

/// `--listen` without `--lan`.
const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);
/// `--listen` with `--lan`.
const LAN_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8443);

/// What `serve` will do, decided from the arguments alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    listen: SocketAddr,
    tls: TlsMode,
    lan: bool,
    ice: IcePlan,
}

/// How the server speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TlsMode {
    /// Plain HTTP.
    Off,
    /// HTTPS with the certificate kept in the configuration directory.
    Generated,
    /// HTTPS with the user's files.
    Files { cert: PathBuf, key: PathBuf },
}

impl Plan {
    /// Checks the arguments: the address, the TLS mode, and plain HTTP only on loopback.
    ///
    /// # Errors
    /// A sentence when plain HTTP would be served to other devices.
    pub(crate) fn from_args(args: &ServeArgs) -> anyhow::Result<Self> {
        let listen = args
            .listen
            .unwrap_or(if args.lan { LAN_LISTEN } else { DEFAULT_LISTEN });
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => TlsMode::Files {
                cert: cert.clone(),
                key: key.clone(),
            },
            _ if args.tls || args.lan => TlsMode::Generated,
            _ => TlsMode::Off,
        };
        if tls == TlsMode::Off && !listen.ip().is_loopback() && !args.insecure_http {
            bail!(
                "refusing to serve plain http on {listen}: browsers allow the cryptography \
                 Pairwise needs (WebCrypto) only on https:// pages or on localhost, so other \
                 devices could open the page but not pair. Use --lan (HTTPS for phones on the \
                 same network) or --tls, or --insecure-http if your own HTTPS proxy is in front"
            );
        }
        Ok(Self {
            listen,
            tls,
            lan: args.lan,
            ice: IcePlan::from_args(&args.ice, listen)?,
        })
    }
}

/// Binds, prints the address people should open, and serves until Ctrl-C.
pub(crate) fn run(args: &ServeArgs, config: Option<&Path>) -> anyhow::Result<()> {
    let plan = Plan::from_args(args)?;
    raise_open_file_limit();
    let lan_ips = lan::lan_ips(&lan::interface_addresses());
    let served = lan::served_ips(plan.listen.ip(), &lan_ips);
    let identity = match &plan.tls {
        TlsMode::Off => None,
        TlsMode::Files { cert, key } => Some(tls::from_files(cert, key)?),
        TlsMode::Generated => {
            let dir = ConfigDir::resolve(config)?;
            let mut ips = lan_ips.clone();
            ips.extend(&served);
            let names = CertNames::for_machine(lan::hostname().as_deref(), &ips);
            let (identity, renewal) = generated::load_or_create(&dir, &names, &served)?;
            if let Some(renewal) = renewal {
                eprintln!("{}", renewal_line(&renewal, &dir));
            }
            Some(identity)
        }
    };
    let rt = tokio::runtime::Runtime::new().context("could not start the async runtime")?;
    rt.block_on(async {
        let listener = TcpListener::bind(plan.listen).await.with_context(|| {
            format!(
                "could not listen on {}: is another server using that port?",
                plan.listen
            )
        })?;
        let addr = listener
            .local_addr()
            .context("could not read the bound address")?;
        // Before the address is printed: a node that cannot reach its rooms must not look
        // like it serves.
        let broker = match &args.redis {
            Some(url) => {
                let options = RedisOptions {
                    lease: std::time::Duration::from_secs(args.redis_lease),
                    ..RedisOptions::new(url.clone())
                };
                Broker::Redis(RedisRooms::connect(&options).await?)
            }
            None => Broker::default(),
        };
        let others: Vec<IpAddr> = served
            .iter()
            .copied()
            .filter(|ip| !ip.is_loopback())
            .collect();
        let scheme = if identity.is_some() { "https" } else { "http" };
        let main = others
            .first()
            .copied()
            .or_else(|| served.first().copied())
            .unwrap_or(addr.ip());
        let ice = ice::start(&plan.ice, addr, main).await?;
        // stdout carries the URL (machine output); tests and scripts read it from there.
        println!(
            "Pairwise is serving on {scheme}://{}/",
            SocketAddr::new(main, addr.port())
        );
        if let Some(line) = ice::describe(&ice) {
            eprintln!("{line}");
        }
        tracing::info!(%addr, scheme, "listening");
        let shutdown = stop_signal();
        let config = Config {
            ice: ice.config.clone(),
            hosts: served_names(&args.hosts, lan::hostname().as_deref()),
            max_per_ip: args.max_per_ip,
            joins_per_ip_minute: args.joins_per_ip_minute,
            ..Config::default()
        };
        // Kept alive until the web server stops (the relay runs on its own tasks).
        let _relay = ice.relay;
        let Some(identity) = identity else {
            let state = AppState::new(&config).with_broker(broker);
            return pairwise_server::serve(listener, state, &config, shutdown)
                .await
                .context("the server stopped with an error");
        };
        let state = AppState::new_tls(&config).with_broker(broker);
        if plan.lan || !addr.ip().is_loopback() {
            let urls = lan::urls("https", &others, addr.port());
            let note = addr.ip().is_loopback().then_some(addr);
            print!("{}", lan_announcement(&urls, note, &identity, &plan.tls)?);
        } else {
            eprintln!("{}", certificate_note(&identity));
        }
        pairwise_server::serve_tls(listener, identity.config, state, &config, shutdown)
            .await
            .context("the server stopped with an error")
    })
}

/// Ctrl-C, or SIGTERM (systemd, a container runtime): the server then drains (`/readyz` 503,
/// WebSockets closed with 1001 so their clients reconnect elsewhere, requests finish).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// The names the server answers to besides addresses and localhost: those given with --host,
/// and this machine's name (with `.local`, as mDNS serves it), which the generated
/// certificate names too.
fn served_names(given: &[String], hostname: Option<&str>) -> Vec<String> {
    let mut names = given.to_vec();
    if let Some(h) = hostname.filter(|h| !h.is_empty()) {
        names.push(h.to_owned());
        if !h.contains('.') {
            names.push(format!("{h}.local"));
        }
    }
    names
}

/// The one line that says a certificate was made, and why.
fn renewal_line(renewal: &Renewal, dir: &ConfigDir) -> String {
    match renewal {
        Renewal::Missing => format!(
            "pairwise: made a TLS certificate for this machine (kept in {}).",
            dir.path().display()
        ),
        other => format!(
            "pairwise: made a new TLS certificate ({other}); browsers that accepted the old one \
             will warn once more."
        ),
    }
}

/// For `--tls` on loopback: where the certificate is and how a CLI trusts it (stderr).
fn certificate_note(identity: &ServerIdentity) -> String {
    format!(
        "HTTPS certificate: {path}\nSHA-256 fingerprint: {fp}\n\
         A pairwise CLI trusts it with: --server-cert {path}",
        path = identity.cert_path.display(),
        fp = identity.fingerprint,
    )
}

/// For phones (stdout): the LAN addresses, a QR code of the first, and the fingerprint to
/// compare with the browser's certificate warning. `loopback` is the address when `--listen`
/// kept the server on loopback.
fn lan_announcement(
    urls: &[String],
    loopback: Option<SocketAddr>,
    identity: &ServerIdentity,
    mode: &TlsMode,
) -> anyhow::Result<String> {
    let mut out = String::new();
    match (loopback, urls.first()) {
        (Some(addr), _) => out.push_str(&format!(
            "Listening on loopback only ({addr}): other devices cannot reach it. Leave out \
             --listen (or use 0.0.0.0:PORT) to serve the network.\n"
        )),
        (None, Some(first)) => {
            out.push_str(
                "Open it on a phone or another computer on the same network (same Wi-Fi):\n",
            );
            for url in urls {
                out.push_str(&format!("  {url}\n"));
            }
            out.push_str(&term_qr::render(first)?);
        }
        (None, None) => out.push_str(
            "No LAN address found: other devices cannot reach this machine. Is it connected \
             to a network?\n",
        ),
    }
    out.push_str(&format!(
        "Certificate SHA-256 fingerprint:\n  {}\n",
        identity.fingerprint
    ));
    if *mode == TlsMode::Generated {
        out.push_str(
            "The browser will warn that the connection is not private (the certificate is \
             self-signed): continue only if the SHA-256 fingerprint it shows is the one above.\n",
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests;

/// The most open files the server asks for: Linux's default `fs.nr_open`.
const MAX_OPEN_FILES: u64 = 1 << 20;

/// Raises the soft limit on open files to the hard one. Each connection is a file descriptor,
/// and the common soft default of 1 024 let one client with 1 100 half-sent requests take the
/// whole server offline (issue 13), while the hard limit is usually far higher. Failure only
/// costs capacity, so it is logged, not fatal.
#[cfg(target_os = "linux")]
fn raise_open_file_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            let want = hard.min(MAX_OPEN_FILES);
            if soft >= want {
                return;
            }
            match setrlimit(Resource::RLIMIT_NOFILE, want, hard) {
                Ok(()) => tracing::info!(from = soft, to = want, "raised the open-file limit"),
                Err(e) => tracing::warn!("could not raise the open-file limit from {soft}: {e}"),
            }
        }
        Err(e) => tracing::warn!("could not read the open-file limit: {e}"),
    }
}

#[cfg(not(target_os = "linux"))]
fn raise_open_file_limit() {}
