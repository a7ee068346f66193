//! A new pairing, by showing a QR code or opening a link (or by a code, `code.rs`), and
//! remembering the device it paired with, so that `send --to` and `receive --from` find it next time: the first steps of `send`,
//! `receive LINK` and `pair`, and the name noted at their end.

use std::process::ExitCode;
use std::time::Duration;

use pairwise_proto::device::DeviceName;
use pairwise_proto::error::ErrorCode;
use pairwise_proto::identity::IdentitySecret;
use pairwise_proto::keys::PairingKey;
use pairwise_proto::link::PairingLink;
use serde_json::json;

use super::common::{announce_path, bind_for, report};
use super::remembered::{timed_out, within};
use crate::cli::PeerArgs;
use crate::clock::unix_now;
use crate::keystore::{Keystore, Remembered, device_id};
use crate::progress::Progress;
use crate::session::{Established, Invitation, respond_as};
use crate::signaling::Server;
use crate::term_qr;
use crate::transfer::{Channel, TransferFailure};

mod code;

use self::code::{show_code_and_pair, type_code};

/// How a new pairing starts.
#[derive(Debug, Clone, Copy)]
pub(super) enum NewPairing<'a> {
    /// Show a QR code and its link.
    ShowQr,
    /// Show an 8-digit code (§2.1).
    ShowCode,
    /// Open a link, or type a code: what the person gave on the command line.
    Open(&'a str),
}

impl<'a> NewPairing<'a> {
    /// From a command's `LINK|CODE` words (a code may come as two: `4821 9377`) and `--code`.
    pub(super) fn new(given: &'a [String], code: bool, joined: &'a mut String) -> Self {
        match given {
            [] if code => Self::ShowCode,
            [] => Self::ShowQr,
            [one] => Self::Open(one),
            many => {
                *joined = many.join(" ");
                Self::Open(joined)
            }
        }
    }
}

/// Whether what the person gave is meant as a code, not a link: only digits (of any script, so
/// that full-width ones are refused as `bad-code`, not `bad-link`), spaces and dashes.
fn looks_like_code(text: &str) -> bool {
    text.chars().any(char::is_numeric)
        && text
            .chars()
            .all(|c| c.is_numeric() || matches!(c, ' ' | '-'))
}

/// Pairs by `how` (a QR code, a code, a link given), says so, and remembers the other device:
/// the first steps of `send`, `receive` and `pair`. Waits at most `--timeout` for the pairing;
/// a failure is reported here and its exit code returned.
pub(super) async fn pair_and_remember(
    how: NewPairing<'_>,
    server: &Server,
    peer: &PeerArgs,
    store: &mut Keystore,
    own_name: &DeviceName,
    progress: &mut Progress,
) -> Result<(Channel, Option<String>), ExitCode> {
    let identity = store.identity().clone();
    let waited_for = match how {
        NewPairing::ShowQr => "No device opened the link",
        NewPairing::ShowCode => "No device typed the code",
        NewPairing::Open(text) if looks_like_code(text) => {
            "The device that showed the code did not answer"
        }
        NewPairing::Open(_) => "The device that made the link did not answer",
    };
    let pairing = async {
        match how {
            NewPairing::Open(text) if looks_like_code(text) => {
                type_code(text, server, peer, progress, identity).await
            }
            NewPairing::Open(link) => open_link(link, server, peer, identity).await,
            NewPairing::ShowCode => show_code_and_pair(server, peer, progress, identity).await,
            NewPairing::ShowQr => show_and_pair(server, peer, progress, identity).await,
        }
    };
    let est = match within(peer.timeout.map(Duration::from_secs), pairing).await {
        Some(Ok(est)) => est,
        Some(Err(e)) => return Err(report(progress, e)),
        None => return Err(timed_out(progress, waited_for)),
    };
    announce_paired(progress, &est);
    announce_path(progress, &est).await;
    remember(store, est, own_name, progress)
        .await
        .map_err(|e| report(progress, e))
}

/// Takes over a new pairing: sends this device's name first, and stores the other device
/// (named once its `device` record arrives). Returns the channel and the stored id (`None` if
/// the store is full).
async fn remember(
    store: &mut Keystore,
    est: Established,
    own_name: &DeviceName,
    progress: &mut Progress,
) -> Result<(Channel, Option<String>), TransferFailure> {
    let identity = est.session.peer_identity().clone();
    let pk: PairingKey = est.session.pairing_key().clone();
    let mut channel = Channel::open(est, Some(own_name)).await?;
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
    let id = device_id(&identity);
    // Paired again with a device kept from before: its stored name is known already.
    if let Some(d) = store.device(&id) {
        channel.known_as(d.name.clone(), d.name_set_by_user);
    }
    Ok((channel, Some(id)))
}

/// Stores the name the other device gave itself and says how to reach it next time.
pub(super) fn note_name(
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
    identity: IdentitySecret,
) -> Result<Established, TransferFailure> {
    let invitation = Invitation::with_identity(identity);
    let url = invitation.url(server.url());
    let qr = if peer.no_qr || peer.json {
        String::new()
    } else {
        term_qr::render(&url).map_err(|e| TransferFailure::Local(e.to_string()))?
    };
    let bind =
        bind_for(server.url(), peer.bind).map_err(|e| TransferFailure::Local(format!("{e:#}")))?;
    let waiting = invitation.open(server).await?;
    // The link is machine output (stdout); the QR code and instructions are for people.
    if !peer.json {
        if qr.is_empty() {
            eprintln!("Open this link on the other device:");
        } else {
            eprint!("{qr}");
            eprintln!("Scan this code with the other device, or open the link there:");
        }
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
            unreachable: false,
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
