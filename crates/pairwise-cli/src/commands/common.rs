//! What every command needs before and after its own steps: the signaling server, this
//! device's name and store, the local address for the direct connection, the async runtime,
//! the `connected` line, and the sentence and exit code a failure ends with. It imports no other
//! command module, so every one of them can import it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs as _, UdpSocket};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use pairwise_proto::device::DeviceName;
use pairwise_proto::error::ErrorCode;
use serde_json::json;

use crate::cli::PeerArgs;
use crate::clock::unix_now;
use crate::config::ConfigDir;
use crate::keystore::Keystore;
use crate::keystore::own_name::{keep_name, kept_name};
use crate::progress::Progress;
use crate::session::Established;
use crate::signaling::Server;
use crate::tls::client::Trust;
use crate::transfer::{self, TransferFailure};

/// The server used when neither `--server` nor `PAIRWISE_SERVER` says otherwise.
const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// The signaling server of `--server` (or the default), trusted as `--server-cert` says.
pub(super) fn server(peer: &PeerArgs) -> anyhow::Result<Server> {
    let trust = Trust::from_option(peer.server_cert.as_deref())?;
    let url = peer.server.as_deref().unwrap_or(DEFAULT_SERVER);
    Ok(Server::new(url, trust))
}

/// This device's name: `--name` (kept in the configuration directory, so later runs give the
/// same name and the other devices do not see it change back), else the name an earlier
/// `--name` kept, else the host name.
pub(super) fn own_name(peer: &PeerArgs, config: Option<&Path>) -> anyhow::Result<DeviceName> {
    let dir = ConfigDir::resolve(config)?;
    let Some(given) = &peer.name else {
        return Ok(kept_name(&dir).unwrap_or_else(host_name));
    };
    let name =
        DeviceName::parse(given).map_err(|e| anyhow!("--name {given:?} cannot be used: {e}"))?;
    if kept_name(&dir).as_ref() != Some(&name) {
        keep_name(&dir, &name)?;
        if !peer.json {
            eprintln!(
                "This device is now called \"{name}\" on other devices; later runs keep the \
                 name (`--name` again changes it)."
            );
        }
    }
    Ok(name)
}

/// The host name as a device name: what a device that was never given `--name` is called.
pub(super) fn host_name() -> DeviceName {
    let host = gethostname::gethostname();
    DeviceName::sanitize(&host.to_string_lossy(), "Terminal")
}

/// Opens this device's store in the configuration directory.
pub(super) fn open_store(config: Option<&Path>) -> anyhow::Result<Keystore> {
    let dir = ConfigDir::resolve(config)?;
    Ok(Keystore::open(&dir, unix_now())?)
}

/// The local address for the direct connection: `--bind`, else the address this machine uses
/// to reach the server (found with a connected UDP socket, which sends nothing).
pub(super) fn bind_for(server: &str, ip: Option<IpAddr>) -> anyhow::Result<SocketAddr> {
    if let Some(ip) = ip {
        return Ok(SocketAddr::new(ip, 0));
    }
    let host = server
        .split_once("://")
        .map_or(server, |(_, rest)| rest)
        .split(['/', '#', '?'])
        .next()
        .unwrap_or_default();
    let target = host
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve the server address {host}"))?
        .next()
        .ok_or_else(|| anyhow!("the server address {host} resolves to nothing"))?;
    let any = if target.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        "::".parse()?
    };
    let probe = UdpSocket::bind(SocketAddr::new(any, 0)).context("cannot open a UDP socket")?;
    probe
        .connect(target)
        .with_context(|| format!("no route to the server {target}"))?;
    Ok(SocketAddr::new(probe.local_addr()?.ip(), 0))
}

/// Says which way the bytes go: directly between the devices, or through the server's relay
/// (both NATs too strict for a direct path), with the candidate types for `--json`.
pub(super) async fn announce_path(progress: &mut Progress, est: &Established) {
    let Some(path) = est.peer.path().await else {
        tracing::debug!("no selected candidate pair to report");
        return;
    };
    let text = if path.is_relayed() {
        "Connected through the server's relay (no direct path between the two networks)."
    } else {
        "Connected directly."
    };
    progress.event(
        "connected",
        text,
        json!({"path": path.word(), "local": path.local.as_str(), "remote": path.remote.as_str()}),
    );
}

/// Prints the failure as a sentence (or a JSON event) and picks the exit code.
pub(super) fn report(progress: &mut Progress, e: TransferFailure) -> ExitCode {
    let (code, text) = match &e {
        TransferFailure::Session(s) => (Some(s.code), s.to_string()),
        TransferFailure::Local(d) => (None, d.clone()),
        TransferFailure::Interrupted(d) => {
            progress.event("interrupted", d, json!({"code": "cancelled", "message": d}));
            return ExitCode::from(transfer::INTERRUPTED_EXIT);
        }
    };
    progress.event(
        "error",
        &format!("pairwise: {text}"),
        json!({"code": code, "message": text}),
    );
    match code {
        Some(ErrorCode::Declined | ErrorCode::Cancelled) => ExitCode::from(3),
        Some(ErrorCode::VerifyFailed) => ExitCode::from(4),
        Some(ErrorCode::UnknownDevice | ErrorCode::Forgotten) => ExitCode::from(5),
        _ => ExitCode::FAILURE,
    }
}

/// A runtime per command run: only the commands that go on the network start one.
pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("could not start the async runtime")
}
