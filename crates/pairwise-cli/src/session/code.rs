//! Pairing by code from the terminal (`docs/protocol.md` §2.1): joins the code's room, runs
//! `pairwise-proto`'s [`CodeExchange`] over [`Signaling`], asks the person whether the numbers
//! match, and then pairs exactly as after a link, in the same room and on the same connection:
//!
//! - initiator (`send --code`, `pair --code`): [`CodeInvitation::open`] joins before the code is
//!   shown, [`CodeWaiting::pair`] waits for the device that types it;
//! - responder (`receive CODE`, `pair CODE`): [`type_code`].
//!
//! The person's answer comes from the caller (`ask`), so this file reads no terminal.

use std::net::SocketAddr;
use std::time::Duration;

use pairwise_proto::code::{CodeExchange, CodeNumber, PairingCode};
use pairwise_proto::error::ErrorCode;
use pairwise_proto::handshake::{InitiatorAwaitHello, PeerSignal, ResponderAwaitHello};
use pairwise_proto::identity::{EphemeralSecret, IdentitySecret};
use pairwise_proto::link::PairingLink;
use pairwise_proto::session::Start;
use rand_core::{OsRng, RngCore as _};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::candidates::sleep_until;
use super::drive::drive;
use super::{Established, SessionError, connect, nonce, relay};
use crate::signaling::Signaling;

/// A fresh code for this device's identity, not yet shown.
#[derive(Debug)]
pub struct CodeInvitation {
    code: PairingCode,
    identity: IdentitySecret,
}

impl CodeInvitation {
    /// Draws a new code (uniformly, from the OS's random source).
    pub fn new(identity: IdentitySecret) -> Self {
        let code = loop {
            let mut bytes = [0u8; 16];
            OsRng.fill_bytes(&mut bytes);
            if let Some(code) = PairingCode::from_random(&bytes) {
                break code;
            }
        };
        Self { code, identity }
    }

    /// Connects and joins the code's room, so the code works from this moment on: show it only
    /// after this returned.
    ///
    /// # Errors
    /// A [`SessionError`] if the server cannot be reached.
    pub async fn open(
        self,
        server: &crate::signaling::Server,
    ) -> Result<CodeWaiting, SessionError> {
        let mut sig = connect(server).await?;
        sig.join(&self.code.room())
            .await
            .map_err(|e| SessionError::new(ErrorCode::SignalingLost, e))?;
        Ok(CodeWaiting {
            sig,
            code: self.code,
            identity: self.identity,
        })
    }
}

/// An initiator in its code's room, waiting for the device that types the code.
#[derive(Debug)]
pub struct CodeWaiting {
    sig: Signaling,
    code: PairingCode,
    identity: IdentitySecret,
}

impl CodeWaiting {
    /// The code to show.
    pub fn code(&self) -> PairingCode {
        self.code
    }

    /// Runs the code exchange with whoever types the code, asks the person (`ask` gets the
    /// number and answers yes or no), then pairs.
    ///
    /// # Errors
    /// A [`SessionError`]: `numbers-differ` on a "no", `verify-failed`, `peer-misbehaved`,
    /// `peer-left`, and the reasons of a pairing.
    pub async fn pair(
        mut self,
        bind: SocketAddr,
        ask: impl FnOnce(CodeNumber) -> oneshot::Receiver<bool>,
    ) -> Result<Established, SessionError> {
        let result = async {
            let ex = CodeExchange::initiator(self.identity.public(), ephemeral(), nonce());
            let (link, ex) = exchange(&mut self.sig, ex, ask).await?;
            let start = InitiatorAwaitHello::start(
                link.secret().clone(),
                self.identity,
                ephemeral(),
                nonce(),
            );
            let skip = |body: &serde_json::Value| ex.is_repeat(body);
            Ok(drive(&mut self.sig, Start::Initiator(start), bind, &skip).await?)
        }
        .await;
        self.sig.close().await;
        result
    }
}

/// Parses what the person typed as a code, before anything goes on the network.
///
/// # Errors
/// `bad-code` for anything but 8 digits (spaces and dashes aside).
pub fn parse_code(text: &str) -> Result<PairingCode, SessionError> {
    PairingCode::parse(text).map_err(|e| SessionError::new(e.code(), e))
}

/// Types `code` as the responder: joins its room, runs the exchange, asks the person, pairs.
///
/// # Errors
/// As [`CodeWaiting::pair`], and `code-unknown` when nobody shows the code, `code-used` when
/// another device typed it first.
pub async fn type_code(
    server: &crate::signaling::Server,
    code: PairingCode,
    identity: IdentitySecret,
    bind: SocketAddr,
    ask: impl FnOnce(CodeNumber) -> oneshot::Receiver<bool>,
) -> Result<Established, SessionError> {
    let mut sig = connect(server).await?;
    let result = async {
        sig.join(&code.room())
            .await
            .map_err(|e| SessionError::new(ErrorCode::SignalingLost, e))?;
        let ex = CodeExchange::responder(ephemeral(), nonce());
        let (link, ex) = exchange(&mut sig, ex, ask).await?;
        let (state, hello) = ResponderAwaitHello::start(link, identity, ephemeral(), nonce());
        relay(&mut sig, &PeerSignal::Hello(hello)).await?;
        let skip = |body: &serde_json::Value| ex.is_repeat(body);
        Ok(drive(&mut sig, Start::Responder(state), bind, &skip).await?)
    }
    .await;
    sig.close().await;
    result
}

/// Runs `ex` to its end: relays what it sends, feeds it the room's frames, the person's answer
/// (asked once the number is known) and its deadline.
async fn exchange(
    sig: &mut Signaling,
    mut ex: CodeExchange,
    ask: impl FnOnce(CodeNumber) -> oneshot::Receiver<bool>,
) -> Result<(PairingLink, CodeExchange), SessionError> {
    let clock = Instant::now();
    let now = move || u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut ask = Some(ask);
    let mut answer: Option<oneshot::Receiver<bool>> = None;
    loop {
        while let Some(body) = ex.poll_send() {
            sig.relay(body.to_value())
                .await
                .map_err(|e| SessionError::new(ErrorCode::SignalingLost, e))?;
        }
        match ex.poll_outcome() {
            Some(Ok(link)) => return Ok((link, ex)),
            Some(Err(e)) => return Err(SessionError::new(e.code(), e)),
            None => {}
        }
        if ex.awaits_answer()
            && let (Some(number), Some(ask)) = (ex.number(), ask.take())
        {
            answer = Some(ask(number));
        }
        let due = ex
            .poll_timeout()
            .map(|ms| clock + Duration::from_millis(ms));
        tokio::select! {
            msg = sig.recv() => match msg {
                Ok(Some(frame)) => ex.handle_server(now(), &frame),
                Ok(None) => return Err(SessionError::new(ErrorCode::SignalingLost, "server closed")),
                Err(e) => return Err(SessionError::new(ErrorCode::SignalingLost, e)),
            },
            yes = person(&mut answer) => {
                answer = None;
                ex.handle_answer(yes);
            }
            () = sleep_until(due) => ex.handle_timeout(now()),
        }
    }
}

/// The person's answer once asked (a dropped asker counts as "no"); never, before.
async fn person(answer: &mut Option<oneshot::Receiver<bool>>) -> bool {
    match answer {
        Some(rx) => rx.await.unwrap_or(false),
        None => std::future::pending().await,
    }
}

fn ephemeral() -> EphemeralSecret {
    EphemeralSecret::new(p256::SecretKey::random(&mut OsRng))
}
