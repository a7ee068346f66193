//! `pairwise send` and `pairwise receive`: validate the arguments, pair (showing a QR code or
//! opening a link), move the files, and turn the outcome into a sentence and an exit code.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs as _, UdpSocket};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use pairwise_proto::error::ErrorCode;
use pairwise_proto::link::PairingLink;
use serde_json::json;

use crate::cli::{PeerArgs, ReceiveArgs, SendArgs};
use crate::files::Inbox;
use crate::progress::Progress;
use crate::session::{Established, Invitation, respond};
use crate::signaling::Server;
use crate::term_qr;
use crate::tls::client::Trust;
use crate::transfer::{self, Outgoing, TransferFailure};

/// The server used when neither `--server` nor `PAIRWISE_SERVER` says otherwise.
pub(crate) const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// `pairwise send FILE...`.
pub(crate) fn send(args: SendArgs) -> anyhow::Result<ExitCode> {
    let files = args
        .files
        .iter()
        .map(|p| Outgoing::new(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!(e))?;
    let server = server(&args.peer)?;
    runtime()?.block_on(async {
        let mut progress = Progress::new(args.peer.json, 0);
        let est = match show_and_pair(&server, &args.peer, &mut progress).await {
            Ok(est) => est,
            Err(e) => return Ok(report(&mut progress, e)),
        };
        announce_paired(&mut progress, &est);
        let total = files.iter().map(|f| f.size()).sum();
        let mut progress = Progress::new(args.peer.json, total);
        match transfer::send(est, &files, &mut progress).await {
            Ok(()) => {
                let rate = crate::progress::bytes(progress.rate() as u64);
                progress.event(
                    "done",
                    &format!("Done: {} file(s) sent, {rate}/s on average.", files.len()),
                    json!({"files": files.len(), "rate": progress.rate().round()}),
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&mut progress, e)),
        }
    })
}

/// `pairwise receive [LINK]`.
pub(crate) fn receive(args: ReceiveArgs) -> anyhow::Result<ExitCode> {
    let inbox = Inbox::open(&args.dir)
        .map_err(|e| anyhow!("{e}: create it first or choose another with --dir"))?;
    let server = server(&args.peer)?;
    runtime()?.block_on(async {
        let mut progress = Progress::new(args.peer.json, 0);
        let paired = match &args.link {
            Some(link) => open_link(link, &server, &args.peer).await,
            None => show_and_pair(&server, &args.peer, &mut progress).await,
        };
        let est = match paired {
            Ok(est) => est,
            Err(e) => return Ok(report(&mut progress, e)),
        };
        announce_paired(&mut progress, &est);
        match transfer::receive(est, &inbox, &mut progress).await {
            Ok(saved) => {
                progress.event(
                    "done",
                    &format!("Done: {} file(s) received.", saved.len()),
                    json!({"files": saved.len()}),
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&mut progress, e)),
        }
    })
}

/// The signaling server of `--server` (or the default), trusted as `--server-cert` says.
fn server(peer: &PeerArgs) -> anyhow::Result<Server> {
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

/// Shows the QR code and link of a new pairing and waits for the other device.
async fn show_and_pair(
    server: &Server,
    peer: &PeerArgs,
    progress: &mut Progress,
) -> Result<Established, TransferFailure> {
    let invitation = Invitation::new();
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
    Ok(respond(&server, parsed, bind).await?)
}

/// The local address for the direct connection: `--bind`, else the address this machine uses
/// to reach the server (found with a connected UDP socket, which sends nothing).
fn bind_for(server: &str, ip: Option<IpAddr>) -> anyhow::Result<SocketAddr> {
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
fn report(progress: &mut Progress, e: TransferFailure) -> ExitCode {
    let (code, text) = match &e {
        TransferFailure::Session(s) => (Some(s.code), s.to_string()),
        TransferFailure::Local(d) => (None, d.clone()),
    };
    progress.event(
        "error",
        &format!("pairwise: {text}"),
        json!({"code": code, "message": text}),
    );
    match code {
        Some(ErrorCode::Declined | ErrorCode::Cancelled) => ExitCode::from(3),
        Some(ErrorCode::VerifyFailed) => ExitCode::from(4),
        _ => ExitCode::FAILURE,
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("could not start the async runtime")
}
