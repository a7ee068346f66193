//! `pairwise send`, `pairwise receive` and `pairwise pair`: validate the arguments, pair
//! (showing a QR code or opening a link) with this device's stored identity, remember the other
//! device, move the files, and turn the outcome into a sentence and an exit code. Sessions with
//! remembered devices (`--to`, `--from`, `--paired`) are in [`crate::remembered`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs as _, UdpSocket};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use pairwise_proto::device::DeviceName;
use pairwise_proto::error::ErrorCode;
use pairwise_proto::identity::IdentitySecret;
use pairwise_proto::keys::PairingKey;
use pairwise_proto::link::PairingLink;
use serde_json::json;

use crate::cli::{PairArgs, PeerArgs, ReceiveArgs, SendArgs};
use crate::config::ConfigDir;
use crate::files::Inbox;
use crate::keystore::{Keystore, Remembered, device_id};
use crate::progress::Progress;
use crate::remembered;
use crate::session::{Established, Invitation, respond_as, unix_now};
use crate::signaling::Server;
use crate::term_qr;
use crate::tls::client::Trust;
use crate::transfer::{self, Channel, Outgoing, TransferFailure};

/// The server used when neither `--server` nor `PAIRWISE_SERVER` says otherwise.
pub(crate) const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// `pairwise send FILE...` (and `--to NAME`).
pub(crate) fn send(args: SendArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (files, skipped) = Outgoing::collect(&args.files).map_err(|e| anyhow!(e))?;
    if files.is_empty() {
        return Err(anyhow!(
            "nothing to send: the folders hold no regular files"
        ));
    }
    if skipped > 0 {
        eprintln!("Left out {skipped} symbolic link(s) or special file(s) found in the folders.");
    }
    let server = server(&args.peer)?;
    let own_name = own_name(&args.peer)?;
    let mut store = open_store(config)?;
    if let Some(to) = &args.to {
        let device = store.find(to)?.clone();
        return runtime()?.block_on(remembered::send(
            remembered::Meeting {
                server: &server,
                peer: &args.peer,
                own_name: &own_name,
                timeout: args.timeout.map(Duration::from_secs),
                reconnect: Duration::from_secs(args.peer.reconnect),
            },
            &mut store,
            &device,
            &files,
        ));
    }
    runtime()?.block_on(async {
        let mut progress = Progress::new(args.peer.json, 0);
        let identity = store.identity().clone();
        let est = match show_and_pair(&server, &args.peer, &mut progress, identity).await {
            Ok(est) => est,
            Err(e) => return Ok(report(&mut progress, e)),
        };
        announce_paired(&mut progress, &est);
        announce_path(&mut progress, &est).await;
        let (mut channel, id) = match remember(&mut store, est, &own_name, &mut progress).await {
            Ok(c) => c,
            Err(e) => return Ok(report(&mut progress, e)),
        };
        let total = files.iter().map(|f| f.size()).sum();
        let mut progress = Progress::new(args.peer.json, total);
        let result = transfer::send_on(&mut channel, &files, &mut progress, None).await;
        let name = channel.peer_name().cloned();
        channel.close().await;
        note_name(&mut store, id.as_deref(), name.as_ref(), &mut progress);
        Ok(sent(&mut progress, result, files.len()))
    })
}

/// Reports the end of a send: `Done: …` or the failure.
pub(crate) fn sent(
    progress: &mut Progress,
    result: Result<(), TransferFailure>,
    count: usize,
) -> ExitCode {
    match result {
        Ok(()) => {
            let rate = crate::progress::bytes(progress.rate() as u64);
            progress.event(
                "done",
                &format!("Done: {count} file(s) sent, {rate}/s on average."),
                json!({"files": count, "rate": progress.rate().round()}),
            );
            ExitCode::SUCCESS
        }
        Err(e) => report(progress, e),
    }
}

/// Reports the end of a receive: `Done: …` or the failure.
pub(crate) fn received(
    progress: &mut Progress,
    result: Result<Vec<crate::files::Saved>, TransferFailure>,
) -> ExitCode {
    match result {
        Ok(saved) => {
            progress.event(
                "done",
                &format!("Done: {} file(s) received.", saved.len()),
                json!({"files": saved.len()}),
            );
            ExitCode::SUCCESS
        }
        Err(e) => report(progress, e),
    }
}

/// `pairwise receive [LINK]` (and `--from NAME`, `--paired`).
pub(crate) fn receive(args: ReceiveArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let inbox = Inbox::open(&args.dir)
        .map_err(|e| anyhow!("{e}: create it first or choose another with --dir"))?;
    let server = server(&args.peer)?;
    let own_name = own_name(&args.peer)?;
    let mut store = open_store(config)?;
    let meeting = remembered::Meeting {
        server: &server,
        peer: &args.peer,
        own_name: &own_name,
        timeout: args.timeout.map(Duration::from_secs),
        reconnect: Duration::from_secs(args.peer.reconnect),
    };
    if let Some(from) = &args.from {
        let device = store.find(from)?.clone();
        return runtime()?.block_on(remembered::receive_from(
            meeting, &mut store, &device, &inbox,
        ));
    }
    if args.paired {
        return runtime()?.block_on(remembered::receive_paired(meeting, &mut store, &inbox));
    }
    runtime()?.block_on(async {
        let mut progress = Progress::new(args.peer.json, 0);
        let link = args.link.as_deref();
        let paired = pair_and_remember(
            link,
            &server,
            &args.peer,
            &mut store,
            &own_name,
            &mut progress,
        );
        let (mut channel, id) = match paired.await {
            Ok(c) => c,
            Err(e) => return Ok(report(&mut progress, e)),
        };
        let result = transfer::receive_on(&mut channel, &inbox, &mut progress, &mut |_| true).await;
        let name = channel.peer_name().cloned();
        channel.close().await;
        note_name(&mut store, id.as_deref(), name.as_ref(), &mut progress);
        Ok(received(&mut progress, result))
    })
}

/// `pairwise pair [LINK]`: pairs, exchanges names, remembers the other device.
pub(crate) fn pair(args: PairArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let server = server(&args.peer)?;
    let own_name = own_name(&args.peer)?;
    let mut store = open_store(config)?;
    runtime()?.block_on(async {
        let mut progress = Progress::new(args.peer.json, 0);
        let link = args.link.as_deref();
        let paired = pair_and_remember(
            link,
            &server,
            &args.peer,
            &mut store,
            &own_name,
            &mut progress,
        );
        let (mut channel, id) = match paired.await {
            Ok(c) => c,
            Err(e) => return Ok(report(&mut progress, e)),
        };
        let name = channel.wait_peer_name(PAIR_NAME_WAIT).await;
        channel.close().await;
        match name {
            Ok(name) => {
                note_name(&mut store, id.as_deref(), name.as_ref(), &mut progress);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&mut progress, e.into())),
        }
    })
}

/// How long `pairwise pair` waits for the other device's name after pairing.
const PAIR_NAME_WAIT: Duration = Duration::from_secs(10);

/// Opens this device's store in the configuration directory.
pub(crate) fn open_store(config: Option<&Path>) -> anyhow::Result<Keystore> {
    let dir = ConfigDir::resolve(config)?;
    Ok(Keystore::open(&dir, unix_now())?)
}

/// This device's name: `--name`, else the host name.
pub(crate) fn own_name(peer: &PeerArgs) -> anyhow::Result<DeviceName> {
    match &peer.name {
        Some(name) => {
            DeviceName::parse(name).map_err(|e| anyhow!("--name {name:?} cannot be used: {e}"))
        }
        None => {
            let host = gethostname::gethostname();
            Ok(DeviceName::sanitize(&host.to_string_lossy(), "Terminal"))
        }
    }
}

/// Takes over a new pairing: sends this device's name first, and stores the other device
/// (named once its `device` record arrives). Returns the channel and the stored id (`None` if
/// the store is full).
/// Pairs by `link` (or by showing a QR code), says so, and remembers the other device: the
/// first steps of `receive` and `pair`.
async fn pair_and_remember(
    link: Option<&str>,
    server: &Server,
    peer: &PeerArgs,
    store: &mut Keystore,
    own_name: &DeviceName,
    progress: &mut Progress,
) -> Result<(Channel, Option<String>), TransferFailure> {
    let identity = store.identity().clone();
    let est = match link {
        Some(link) => open_link(link, server, peer, identity).await?,
        None => show_and_pair(server, peer, progress, identity).await?,
    };
    announce_paired(progress, &est);
    announce_path(progress, &est).await;
    remember(store, est, own_name, progress).await
}

async fn remember(
    store: &mut Keystore,
    est: Established,
    own_name: &DeviceName,
    progress: &mut Progress,
) -> Result<(Channel, Option<String>), TransferFailure> {
    let identity = est.session.peer_identity().clone();
    let pk: PairingKey = est.session.pairing_key().clone();
    let channel = Channel::open(est, Some(own_name)).await?;
    let now = unix_now();
    let outcome = store
        .update(now, |s| s.remember(&identity, &pk, now))
        .map_err(|e| TransferFailure::Local(e.to_string()))?;
    if outcome == Remembered::Full {
        progress.event(
            "not-remembered",
            &format!(
                "This device keeps at most {} paired devices, so this one is not remembered; \
                 forget one with `pairwise devices forget NAME`.",
                pairwise_proto::limits::MAX_PAIRED_DEVICES
            ),
            json!({}),
        );
        return Ok((channel, None));
    }
    Ok((channel, Some(device_id(&identity))))
}

/// Stores the name the other device gave itself and says how to reach it next time.
pub(crate) fn note_name(
    store: &mut Keystore,
    id: Option<&str>,
    name: Option<&DeviceName>,
    progress: &mut Progress,
) {
    let Some(id) = id else { return };
    let now = unix_now();
    if let Err(e) = store.update(now, |s| s.seen(id, name, now)) {
        progress.event(
            "error",
            &format!("pairwise: {e}"),
            json!({"message": e.to_string()}),
        );
        return;
    }
    if let Some(d) = store.device(id) {
        let text = format!(
            "Remembered as \"{}\" (id {}): next time, `pairwise send --to \"{}\" FILE` or \
             `pairwise receive --from \"{}\"` needs no QR code.",
            d.name,
            d.short_id(),
            d.name,
            d.name
        );
        progress.event(
            "remembered",
            &text,
            json!({"id": d.id, "name": d.name.as_str()}),
        );
    }
}

/// The signaling server of `--server` (or the default), trusted as `--server-cert` says.
pub(crate) fn server(peer: &PeerArgs) -> anyhow::Result<Server> {
    let trust = Trust::from_option(peer.server_cert.as_deref())?;
    let url = peer.server.as_deref().unwrap_or(DEFAULT_SERVER);
    Ok(Server::new(url, trust))
}

/// Says the devices are paired, with the code both screens show.
fn announce_paired(progress: &mut Progress, est: &Established) {
    progress.event(
        "paired",
        &format!("Paired. Verification code: {}", est.session.sas().grouped()),
        json!({"sas": est.session.sas().digits()}),
    );
}

/// Says which way the bytes go: directly between the devices, or through the server's relay
/// (both NATs too strict for a direct path), with the candidate types for `--json`.
pub(crate) async fn announce_path(progress: &mut Progress, est: &Established) {
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

/// Shows the QR code and link of a new pairing and waits for the other device.
async fn show_and_pair(
    server: &Server,
    peer: &PeerArgs,
    progress: &mut Progress,
    identity: IdentitySecret,
) -> Result<Established, TransferFailure> {
    let invitation = Invitation::with_identity(identity);
    let url = invitation.url(server.url());
    let qr = term_qr::render(&url).map_err(|e| TransferFailure::Local(e.to_string()))?;
    let bind =
        bind_for(server.url(), peer.bind).map_err(|e| TransferFailure::Local(format!("{e:#}")))?;
    let waiting = invitation.open(server).await?;
    // The link is machine output (stdout); the QR code and instructions are for people.
    if !peer.json {
        eprint!("{qr}");
        eprintln!("Scan this code with the other device, or open the link there:");
        println!("{url}");
    } else {
        progress.event("link", "", json!({"link": url}));
    }
    Ok(waiting.pair(bind).await?)
}

/// Opens `link`, through its own server unless `--server` was given.
async fn open_link(
    link: &str,
    server: &Server,
    peer: &PeerArgs,
    identity: IdentitySecret,
) -> Result<Established, TransferFailure> {
    let bad_link = |detail: &str| {
        TransferFailure::Session(crate::session::SessionError {
            code: ErrorCode::BadLink,
            detail: detail.to_owned(),
        })
    };
    let (origin, fragment) = link
        .split_once('#')
        .ok_or_else(|| bad_link("no #pair= part"))?;
    let parsed = PairingLink::parse_fragment(fragment).map_err(|e| bad_link(&e.to_string()))?;
    let server = match peer.server {
        Some(_) => server.clone(),
        None => server.with_url(origin),
    };
    let bind =
        bind_for(server.url(), peer.bind).map_err(|e| TransferFailure::Local(format!("{e:#}")))?;
    Ok(respond_as(&server, parsed, identity, bind).await?)
}

/// The local address for the direct connection: `--bind`, else the address this machine uses
/// to reach the server (found with a connected UDP socket, which sends nothing).
pub(crate) fn bind_for(server: &str, ip: Option<IpAddr>) -> anyhow::Result<SocketAddr> {
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

/// Prints the failure as a sentence (or a JSON event) and picks the exit code.
pub(crate) fn report(progress: &mut Progress, e: TransferFailure) -> ExitCode {
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

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("could not start the async runtime")
}
