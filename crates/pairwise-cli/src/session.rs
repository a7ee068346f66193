//! Pairing from the terminal: drives `pairwise-proto`'s handshake over [`Signaling`] with a
//! [`NativePeer`], exactly as the web app does (`docs/protocol.md` §5):
//!
//! - responder (`pairwise receive LINK`): join, `hello`, take the offer, answer, confirm;
//! - initiator (`pairwise send`, shows the QR code): join, wait, `hello`, offer, confirm;
//! - ICE candidates are held back both ways until the peer's confirm verified (§5 step 7);
//! - the result, [`Established`], holds the confirmed keys and an open data channel.
//!
//! The initiator joins its room ([`Invitation::open`]) before its link is shown, so a device
//! that opens the link at once finds it waiting. Pairing by code (§2.1) runs its exchange first
//! and then the same handshake ([`CodeInvitation`], [`type_code`]). Remembered devices meet again through
//! [`reconnect`] (§10), which runs the same driver from a `ReconnectAwaitHello`.

use std::net::SocketAddr;

use pairwise_proto::error::ErrorCode;
use pairwise_proto::handshake::{
    ConfirmedSession, InitiatorAwaitHello, PeerSignal, ResponderAwaitHello,
};
use pairwise_proto::identity::{EphemeralSecret, HandshakeNonce, IdentitySecret};
use pairwise_proto::ids::RoomId;
use pairwise_proto::keys::PairingSecret;
use pairwise_proto::link::PairingLink;
use pairwise_proto::session::Start;
use pairwise_proto::signal::ServerToClient;
use rand_core::{OsRng, RngCore as _};
use tokio::sync::mpsc;

use self::drive::drive;
use crate::peer::{NativePeer, PeerEvent};
use crate::signaling::{Server, Signaling, SignalingError};

mod candidates;
mod code;
mod drive;
mod reconnect;

pub use self::code::{CodeInvitation, CodeWaiting, parse_code, type_code};
pub use self::reconnect::{reconnect, tell_forgotten};

/// A confirmed session with an open data channel.
#[derive(Debug)]
pub struct Established {
    /// The peer connection; its channel is open.
    pub peer: NativePeer,
    /// Its events (messages, close).
    pub events: mpsc::Receiver<PeerEvent>,
    /// The confirmed keys.
    pub session: ConfirmedSession,
    /// The local address the connection was bound to (lanes bind the same address, §12).
    pub bind: std::net::SocketAddr,
    /// The ICE servers the signaling server handed out (lanes use them too).
    pub ice_servers: Vec<pairwise_proto::signal::IceServer>,
}

/// Why pairing failed: a catalogue code (the sentence people see, in the terminal's wording:
/// [`SessionError::sentence`]) and what exactly happened.
#[derive(Debug)]
pub struct SessionError {
    /// The catalogue code.
    pub code: ErrorCode,
    /// Details for `-v` and bug reports.
    pub detail: String,
    /// The server was never reached (`signaling-lost` before any connection was open).
    pub unreachable: bool,
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.sentence(), self.detail)
    }
}

impl std::error::Error for SessionError {}

impl SessionError {
    fn new(code: ErrorCode, detail: impl std::fmt::Display) -> Self {
        Self {
            code,
            detail: detail.to_string(),
            unreachable: false,
        }
    }

    /// The sentence for a terminal: the catalogue's, except where the catalogue speaks to a
    /// page ("reload the page") or cannot tell a server never reached from one lost.
    pub fn sentence(&self) -> &'static str {
        match self.code {
            ErrorCode::SignalingLost if self.unreachable => {
                "Could not reach the server. Check its address (--server or PAIRWISE_SERVER) \
                 and the network, then run the command again."
            }
            ErrorCode::SignalingLost => {
                "Lost the connection to the server. Check the network and run the command again."
            }
            code => code.sentence(),
        }
    }
}

/// A fresh initiator: its link (for the QR code) and the state that pairs with whoever opens it.
#[derive(Debug)]
pub struct Invitation {
    link: PairingLink,
    start: InitiatorAwaitHello,
}

impl Invitation {
    /// Draws a new secret, identity, ephemeral key and nonce (a device that remembers no one).
    pub fn new() -> Self {
        Self::with_identity(IdentitySecret::new(p256::SecretKey::random(&mut OsRng)))
    }

    /// Draws a new secret, ephemeral key and nonce for this device's `identity`.
    pub fn with_identity(identity: IdentitySecret) -> Self {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let link = PairingLink::new(PairingSecret::from_bytes(secret), identity.public());
        let start = InitiatorAwaitHello::start(
            PairingSecret::from_bytes(secret),
            identity,
            EphemeralSecret::new(p256::SecretKey::random(&mut OsRng)),
            nonce(),
        );
        Self { link, start }
    }

    /// The link to show, for a web app at `origin` (e.g. `http://127.0.0.1:8080`).
    pub fn url(&self, origin: &str) -> String {
        format!("{}/#{}", origin.trim_end_matches('/'), self.link.fragment())
    }

    /// Connects to `server` and joins the room, so the link works from this moment on: show it
    /// only after this returned.
    ///
    /// # Errors
    /// A [`SessionError`] if the server cannot be reached.
    pub async fn open(self, server: &Server) -> Result<Waiting, SessionError> {
        let mut sig = connect(server).await?;
        join(&mut sig, &self.link.room()).await?;
        Ok(Waiting {
            sig,
            start: self.start,
        })
    }
}

/// An initiator waiting in its room for the device that opens the link.
#[derive(Debug)]
pub struct Waiting {
    sig: Signaling,
    start: InitiatorAwaitHello,
}

impl Waiting {
    /// Waits until a device opens the link, then pairs with it.
    ///
    /// # Errors
    /// A [`SessionError`] with the reason (signaling lost, verification failed, ...).
    pub async fn pair(mut self, bind: SocketAddr) -> Result<Established, SessionError> {
        let est = drive(&mut self.sig, Start::Initiator(self.start), bind, &|_| {
            false
        })
        .await;
        self.sig.close().await;
        Ok(est?)
    }
}

impl Default for Invitation {
    fn default() -> Self {
        Self::new()
    }
}

/// Opens a pairing link as the responder and pairs with the device that showed it, with a
/// fresh identity (a device that remembers no one).
///
/// # Errors
/// A [`SessionError`]: `link-expired` when nobody waits in the room, and the other reasons of
/// [`Waiting::pair`].
pub async fn respond(
    server: &Server,
    link: PairingLink,
    bind: SocketAddr,
) -> Result<Established, SessionError> {
    let identity = IdentitySecret::new(p256::SecretKey::random(&mut OsRng));
    respond_as(server, link, identity, bind).await
}

/// Opens a pairing link as the responder with this device's `identity`.
///
/// # Errors
/// As [`respond`].
pub async fn respond_as(
    server: &Server,
    link: PairingLink,
    identity: IdentitySecret,
    bind: SocketAddr,
) -> Result<Established, SessionError> {
    let mut sig = connect(server).await?;
    let peers = join(&mut sig, &link.room()).await?;
    if peers < 2 {
        return Err(SessionError::new(
            ErrorCode::LinkExpired,
            "nobody is waiting in the room",
        ));
    }
    let ephemeral = EphemeralSecret::new(p256::SecretKey::random(&mut OsRng));
    let (state, hello) = ResponderAwaitHello::start(link, identity, ephemeral, nonce());
    relay(&mut sig, &PeerSignal::Hello(hello)).await?;
    let est = drive(&mut sig, Start::Responder(state), bind, &|_| false).await;
    sig.close().await;
    Ok(est?)
}

async fn connect(server: &Server) -> Result<Signaling, SessionError> {
    Signaling::connect(server).await.map_err(|e| {
        let (code, unreachable) = match e {
            SignalingError::RateLimited { .. } => (ErrorCode::RateLimited, false),
            SignalingError::Connect { .. } | SignalingError::Tls { .. } => {
                (ErrorCode::SignalingLost, true)
            }
            _ => (ErrorCode::SignalingLost, false),
        };
        SessionError {
            unreachable,
            ..SessionError::new(code, e)
        }
    })
}

/// Joins `room` and returns how many peers are in it.
async fn join(sig: &mut Signaling, room: &RoomId) -> Result<usize, SessionError> {
    sig.join(room)
        .await
        .map_err(|e| SessionError::new(ErrorCode::SignalingLost, e))?;
    match sig.recv().await {
        Ok(Some(ServerToClient::Joined { peers, .. })) => Ok(peers),
        Ok(Some(ServerToClient::Error { code, message })) => Err(SessionError::new(code, message)),
        Ok(_) => Err(SessionError::new(
            ErrorCode::SignalingLost,
            "no reply to join",
        )),
        Err(e) => Err(SessionError::new(ErrorCode::SignalingLost, e)),
    }
}

async fn relay(sig: &mut Signaling, signal: &PeerSignal) -> Result<(), SessionError> {
    sig.relay(signal.to_value())
        .await
        .map_err(|e| SessionError::new(ErrorCode::SignalingLost, e))
}

fn nonce() -> HandshakeNonce {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    HandshakeNonce::from_bytes(bytes)
}

fn hs_err(e: pairwise_proto::handshake::HandshakeError) -> SessionError {
    SessionError::new(e.code(), e)
}

fn connect_err(e: anyhow::Error) -> SessionError {
    SessionError::new(ErrorCode::ConnectFailed, format!("{e:#}"))
}

fn misbehaved(detail: impl std::fmt::Display) -> SessionError {
    SessionError::new(ErrorCode::PeerMisbehaved, detail)
}
