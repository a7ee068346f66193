//! The code exchange as a sans-IO machine, for either side: it takes what the server delivers,
//! the person's answer and the time, and says what to relay, which number to show, and how it
//! ended (the [`PairingLink`] the pairing handshake starts from, or why not).

use std::collections::VecDeque;

use super::{CodeBody, CodeError, CodeNumber, CodeTranscript, Commitment, code_secrets};
use crate::error::ErrorCode;
use crate::identity::{EphemeralSecret, HandshakeNonce, PublicKey};
use crate::limits::CODE_COMPARE_TIMEOUT_MS;
use crate::link::PairingLink;
use crate::signal::ServerToClient;

/// One side of a code exchange (§2.1).
///
/// Drive it with [`handle_server`](Self::handle_server) (every frame of the code's room,
/// `joined` included), [`handle_answer`](Self::handle_answer) (the person's yes or no, once
/// [`number`](Self::number) is shown) and [`handle_timeout`](Self::handle_timeout) at
/// [`poll_timeout`](Self::poll_timeout); after each, relay every [`poll_send`](Self::poll_send)
/// body in order, then look at [`poll_outcome`](Self::poll_outcome). After a successful
/// outcome the pairing handshake runs in the same room; a body it receives for which
/// [`is_repeat`](Self::is_repeat) holds is the server repeating this exchange and is ignored.
#[derive(Debug)]
pub struct CodeExchange {
    stage: Stage,
    sends: VecDeque<CodeBody>,
    /// Bodies taken so far: a repeat is ignored (the server may relay one twice).
    pub(super) seen: Vec<serde_json::Value>,
    number: Option<CodeNumber>,
    deadline: Option<u64>,
    outcome: Option<Result<PairingLink, CodeError>>,
}

#[derive(Debug)]
enum Stage {
    /// Initiator: waiting for the responder to join.
    AwaitPeer(Own),
    /// Initiator: commitment sent, waiting for `code-key`.
    AwaitKey(Own, Commitment),
    /// Initiator: `code-open` sent, the number shown, waiting for the person.
    AwaitYes(PairingLink),
    /// Responder: waiting for `code-commit`.
    AwaitCommit(EphemeralSecret, HandshakeNonce),
    /// Responder: `code-key` sent, waiting for `code-open`.
    AwaitOpen(EphemeralSecret, HandshakeNonce, Commitment),
    /// Responder: the number shown, waiting for its person's yes and for `code-match`.
    AwaitReady {
        link: PairingLink,
        yes: bool,
        matched: bool,
    },
    Over,
}

/// The initiator's fresh key and nonce and its identity.
#[derive(Debug)]
struct Own {
    ephemeral: EphemeralSecret,
    nonce: HandshakeNonce,
    identity: PublicKey,
}

impl CodeExchange {
    /// The side that shows the code, with its identity (which its `hello` will carry) and a
    /// fresh ephemeral key and nonce (not the ones of its later `hello`).
    pub fn initiator(
        identity: PublicKey,
        ephemeral: EphemeralSecret,
        nonce: HandshakeNonce,
    ) -> Self {
        Self::new(Stage::AwaitPeer(Own {
            ephemeral,
            nonce,
            identity,
        }))
    }

    /// The side that typed the code, with a fresh ephemeral key and nonce.
    pub fn responder(ephemeral: EphemeralSecret, nonce: HandshakeNonce) -> Self {
        Self::new(Stage::AwaitCommit(ephemeral, nonce))
    }

    fn new(stage: Stage) -> Self {
        Self {
            stage,
            sends: VecDeque::new(),
            seen: Vec::new(),
            number: None,
            deadline: None,
            outcome: None,
        }
    }

    /// The number to show, once both keys are known.
    pub fn number(&self) -> Option<CodeNumber> {
        self.number
    }

    /// Whether the person's answer is awaited: the number is shown and this side has not
    /// answered yet.
    pub fn awaits_answer(&self) -> bool {
        matches!(
            self.stage,
            Stage::AwaitYes(_) | Stage::AwaitReady { yes: false, .. }
        )
    }

    /// The next body to relay.
    #[must_use]
    pub fn poll_send(&mut self) -> Option<CodeBody> {
        self.sends.pop_front()
    }

    /// How the exchange ended, once it did (taken once): the link to pair with, or the error.
    #[must_use]
    pub fn poll_outcome(&mut self) -> Option<Result<PairingLink, CodeError>> {
        self.outcome.take()
    }

    /// Whether the exchange ended (its outcome may have been taken).
    pub fn is_over(&self) -> bool {
        matches!(self.stage, Stage::Over)
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due: the end of the person's time to
    /// answer.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        self.deadline.filter(|_| !self.is_over())
    }

    /// Whether `body` is one this exchange already took: after the exchange, such a body is
    /// the server repeating it, and the pairing handshake ignores it (§2.1).
    pub fn is_repeat(&self, body: &serde_json::Value) -> bool {
        self.seen.contains(body)
    }

    /// Time passed: past the deadline the exchange fails (`connect-failed`).
    pub fn handle_timeout(&mut self, now: u64) {
        if self.deadline.is_some_and(|d| now >= d) && !self.is_over() {
            self.fail(CodeError::TimedOut {
                secs: CODE_COMPARE_TIMEOUT_MS / 1000,
            });
        }
    }

    /// The person's answer to "does the other screen show this number?". Ignored unless
    /// [`awaits_answer`](Self::awaits_answer).
    pub fn handle_answer(&mut self, yes: bool) {
        if !self.awaits_answer() {
            return;
        }
        if !yes {
            return self.fail(CodeError::NumbersDiffer);
        }
        match std::mem::replace(&mut self.stage, Stage::Over) {
            Stage::AwaitYes(link) => {
                self.sends.push_back(CodeBody::CodeMatch {});
                self.finish(link);
            }
            Stage::AwaitReady { link, matched, .. } => self.ready(link, true, matched),
            other => self.stage = other,
        }
    }

    /// A frame from the code's room.
    pub fn handle_server(&mut self, now: u64, frame: &ServerToClient) {
        if self.is_over() {
            return;
        }
        match frame {
            ServerToClient::Joined { peers, .. } => match self.stage {
                Stage::AwaitCommit(..) if *peers < 2 => self.fail(CodeError::Unknown),
                Stage::AwaitPeer(_) if *peers >= 2 => self.commit(),
                _ => {}
            },
            ServerToClient::PeerJoined => {
                if matches!(self.stage, Stage::AwaitPeer(_)) {
                    self.commit();
                }
            }
            ServerToClient::PeerLeft => self.fail(CodeError::PeerLeft),
            ServerToClient::Error { code, .. } if *code == ErrorCode::RoomFull => {
                self.fail(CodeError::Used);
            }
            ServerToClient::Error { code, message } => self.fail(CodeError::Server {
                code: *code,
                message: message.clone(),
            }),
            ServerToClient::Relay { body } => self.handle_body(now, body),
        }
    }

    /// A relayed body (also reached through [`handle_server`](Self::handle_server)).
    pub fn handle_body(&mut self, now: u64, body: &serde_json::Value) {
        if self.is_over() || self.is_repeat(body) {
            return;
        }
        let parsed = match CodeBody::parse(body) {
            Ok(b) => b,
            Err(e) => return self.fail(e),
        };
        self.seen.push(body.clone());
        self.stage = match (std::mem::replace(&mut self.stage, Stage::Over), parsed) {
            (Stage::AwaitKey(own, commit), CodeBody::CodeKey { ephemeral, nonce }) => {
                let th = CodeTranscript::compute(
                    &commit,
                    &own.ephemeral.public(),
                    &own.nonce,
                    &own.identity,
                    &ephemeral,
                    &nonce,
                );
                let (number, secret) = code_secrets(&own.ephemeral, &ephemeral, &th);
                self.sends.push_back(CodeBody::CodeOpen {
                    ephemeral: own.ephemeral.public(),
                    nonce: own.nonce,
                    identity: own.identity.clone(),
                });
                self.show(now, number);
                Stage::AwaitYes(PairingLink::new(secret, own.identity))
            }
            (Stage::AwaitCommit(own, own_nonce), CodeBody::CodeCommit { commit }) => {
                self.sends.push_back(CodeBody::CodeKey {
                    ephemeral: own.public(),
                    nonce: own_nonce,
                });
                Stage::AwaitOpen(own, own_nonce, commit)
            }
            (
                Stage::AwaitOpen(own, own_nonce, commit),
                CodeBody::CodeOpen {
                    ephemeral,
                    nonce,
                    identity,
                },
            ) => {
                if !Commitment::compute(&ephemeral, &nonce, &identity).matches(&commit) {
                    return self.fail(CodeError::BadOpen);
                }
                let th = CodeTranscript::compute(
                    &commit,
                    &ephemeral,
                    &nonce,
                    &identity,
                    &own.public(),
                    &own_nonce,
                );
                let (number, secret) = code_secrets(&own, &ephemeral, &th);
                self.show(now, number);
                Stage::AwaitReady {
                    link: PairingLink::new(secret, identity),
                    yes: false,
                    matched: false,
                }
            }
            (
                Stage::AwaitReady {
                    link,
                    yes,
                    matched: false,
                },
                CodeBody::CodeMatch {},
            ) => {
                self.ready(link, yes, true);
                return;
            }
            (_, other) => {
                return self.fail(CodeError::Misbehaved(format!(
                    "unexpected {} (out of order, or a second one)",
                    other.kind()
                )));
            }
        };
    }

    fn commit(&mut self) {
        let Stage::AwaitPeer(own) = std::mem::replace(&mut self.stage, Stage::Over) else {
            return;
        };
        let commit = Commitment::compute(&own.ephemeral.public(), &own.nonce, &own.identity);
        self.sends.push_back(CodeBody::CodeCommit { commit });
        self.stage = Stage::AwaitKey(own, commit);
    }

    fn show(&mut self, now: u64, number: CodeNumber) {
        self.number = Some(number);
        self.deadline = Some(now + CODE_COMPARE_TIMEOUT_MS);
    }

    /// The responder goes on once its person said yes and the `code-match` came.
    fn ready(&mut self, link: PairingLink, yes: bool, matched: bool) {
        if yes && matched {
            self.finish(link);
        } else {
            self.stage = Stage::AwaitReady { link, yes, matched };
        }
    }

    fn finish(&mut self, link: PairingLink) {
        self.stage = Stage::Over;
        self.deadline = None;
        self.outcome.get_or_insert(Ok(link));
    }

    fn fail(&mut self, error: CodeError) {
        self.stage = Stage::Over;
        self.outcome.get_or_insert(Err(error));
    }
}
