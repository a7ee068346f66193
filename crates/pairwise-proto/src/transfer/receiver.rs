//! The receiving side of one transfer: manifest, accept or decline, chunks checked against the
//! manifest sizes.
//!
//! - `Idle` --manifest (part)--> `Offering` while parts say `more` --last part--> `Offered`
//!   (event [`ReceiverEvent::Offered`] with the whole offer);
//! - `Offered` --[`Receiver::accept`]--> `Receiving` file 0; [`Receiver::decline`] -> `Idle`;
//!   [`Receiver::accept_resume`] (claims for a resumable offer) -> `AwaitResumeAck`
//!   --resume-ack--> [`ReceiverEvent::Resumed`] per claim, then `Receiving` with each file's
//!   bytes counted from where the sender continues;
//! - `Receiving` --chunk--> [`ReceiverEvent::Data`], and on FINAL
//!   [`ReceiverEvent::FileComplete`], then the next file or [`ReceiverEvent::TransferComplete`];
//! - any state --cancel--> `Idle` ([`ReceiverEvent::Cancelled`] if something was in progress).
//!
//! Sending `received` after a file is kept is the caller's job: the file is only kept once it
//! is safely stored. So is telling [`Receiver::stored`] how many bytes reached storage: it
//! returns the `progress` to send (§11.4), which lets the sender go on.

use std::collections::VecDeque;

use crate::handshake::PeerConfirmed;
use crate::limits::{LANE_PROGRESS_STEP, PROGRESS_STEP};
use crate::transfer::resume::{check_ack, check_claims};
use crate::transfer::{Manifest, Message, ResumeClaim, ResumeStart, TransferError};

/// What the receiver tells its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiverEvent {
    /// The peer offers these files; call [`Receiver::accept`] (or
    /// [`Receiver::accept_resume`]) or [`Receiver::decline`].
    Offered(Manifest),
    /// The sender continues claimed file `index` at `offset`: keep the held prefix if it is
    /// the claimed offset, discard it if 0.
    Resumed {
        /// The file.
        index: u32,
        /// Where the sender continues.
        offset: u64,
    },
    /// Bytes of file `index`, in order.
    Data {
        /// The file.
        index: u32,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// File `index` has all its bytes: store it and send [`Message::Received`].
    FileComplete {
        /// The file.
        index: u32,
    },
    /// Every file of the manifest is complete.
    TransferComplete,
    /// The peer cancelled; discard incomplete files.
    Cancelled,
}

#[derive(Debug)]
enum State {
    Idle,
    Offering(Manifest),
    Offered(Manifest),
    AwaitResumeAck(Manifest, Vec<ResumeClaim>),
    Receiving {
        manifest: Manifest,
        index: u32,
        got: u64,
        starts: Vec<u64>,
    },
}

/// The receive state machine for the peer's transfers.
#[derive(Debug)]
pub struct Receiver {
    state: State,
    events: VecDeque<ReceiverEvent>,
    /// Chunk bytes of the current transfer stored, and the value last reported.
    stored: u64,
    reported: u64,
    /// How often a `progress` goes: [`PROGRESS_STEP`], or [`LANE_PROGRESS_STEP`] once the
    /// peer's records are frames.
    step: u64,
    /// This side cancelled: chunks (and a resume-ack) the sender sent before it saw the cancel
    /// are dropped, until the next manifest.
    draining: bool,
    /// This side cancelled while an offer's parts were arriving: the rest of them, through the
    /// part without `more`, are dropped (§11.1: nothing goes between the parts of one offer).
    skipping_parts: bool,
}

impl Receiver {
    /// A receiver on a confirmed session.
    pub fn new(_proof: PeerConfirmed) -> Self {
        Self {
            state: State::Idle,
            events: VecDeque::new(),
            stored: 0,
            reported: 0,
            step: PROGRESS_STEP,
            draining: false,
            skipping_parts: false,
        }
    }

    /// The peer sends over lanes (§12): `progress` goes every [`LANE_PROGRESS_STEP`] bytes.
    pub fn peer_uses_lanes(&mut self) {
        self.step = LANE_PROGRESS_STEP;
    }

    /// Handles a message routed to the receiver, with the record's FINAL flag.
    ///
    /// # Errors
    /// [`TransferError`] (peer-misbehaved) for FINAL on a non-chunk, a chunk when no file is
    /// expected, too many bytes, FINAL too early, a second manifest, or a sender-side message.
    pub fn handle_message(&mut self, msg: Message, is_final: bool) -> Result<(), TransferError> {
        msg.check_final(is_final)?;
        let idle = matches!(self.state, State::Idle);
        match msg {
            Message::Manifest(manifest) if self.skipping_parts => {
                self.skipping_parts = manifest.more();
                Ok(())
            }
            Message::Manifest(manifest) => {
                self.draining = false;
                self.handle_manifest(manifest)
            }
            Message::Chunk(_) | Message::ResumeAck(_) if self.draining && idle => Ok(()),
            Message::Chunk(bytes) => self.handle_chunk(bytes, is_final),
            Message::ResumeAck(starts) => self.handle_resume_ack(starts),
            Message::Cancel => {
                if !matches!(self.state, State::Idle) {
                    self.state = State::Idle;
                    self.events.push_back(ReceiverEvent::Cancelled);
                }
                Ok(())
            }
            Message::Accept
            | Message::AcceptResume(_)
            | Message::Decline
            | Message::Received(_)
            | Message::Progress(_) => Err(TransferError::Unexpected {
                what: "sender-side message at the receiver",
            }),
            Message::Device(_)
            | Message::Text(_)
            | Message::LaneOffer(_)
            | Message::LaneAnswer(_)
            | Message::LaneCandidate(_)
            | Message::Close(_) => Err(TransferError::Unexpected {
                what: "session message routed to the receiver",
            }),
        }
    }

    /// Accepts the offered manifest; returns the `accept` to send, or `None` if nothing is
    /// offered.
    pub fn accept(&mut self) -> Option<Message> {
        // Anything but an offer stays as it is: a half-received offer or a transfer under way.
        if !matches!(self.state, State::Offered(_)) {
            return None;
        }
        let State::Offered(manifest) = std::mem::replace(&mut self.state, State::Idle) else {
            return None;
        };
        let starts = vec![0; manifest.files().len()];
        self.state = State::Receiving {
            manifest,
            index: 0,
            got: 0,
            starts,
        };
        Some(Message::Accept)
    }

    /// Accepts the offered manifest claiming held prefixes (§11.3); returns the `accept` to
    /// send. The sender answers with a `resume-ack` before any chunk.
    ///
    /// # Errors
    /// [`TransferError::Unexpected`] if nothing is offered, the offer has no id, or the claims
    /// are not for its files in order with valid offsets; the offer stays open (accept it
    /// without claims instead).
    pub fn accept_resume(&mut self, claims: Vec<ResumeClaim>) -> Result<Message, TransferError> {
        let State::Offered(manifest) = &self.state else {
            return Err(TransferError::Unexpected {
                what: "accept without an offer",
            });
        };
        check_claims(manifest, &claims)?;
        let State::Offered(manifest) = std::mem::replace(&mut self.state, State::Idle) else {
            return Err(TransferError::Unexpected {
                what: "accept without an offer",
            });
        };
        self.state = State::AwaitResumeAck(manifest, claims.clone());
        Ok(Message::AcceptResume(claims))
    }

    /// Declines the offered manifest; returns the `decline` to send, or `None` if nothing is
    /// offered.
    pub fn decline(&mut self) -> Option<Message> {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Offered(_) => Some(Message::Decline),
            other => {
                self.state = other;
                None
            }
        }
    }

    /// The caller stored `n` more bytes of the current transfer; returns the `progress` to
    /// send once [`PROGRESS_STEP`] (or [`LANE_PROGRESS_STEP`]) bytes were stored since the
    /// last one (§11.4).
    pub fn stored(&mut self, n: usize) -> Option<Message> {
        self.stored = self.stored.saturating_add(n as u64);
        (self.stored - self.reported >= self.step).then(|| {
            self.reported = self.stored;
            Message::Progress(self.stored)
        })
    }

    /// Cancels locally; returns the `cancel` to send, or `None` if nothing is in progress. The
    /// rest of an offer whose parts are arriving is dropped.
    pub fn cancel(&mut self) -> Option<Message> {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => None,
            other => {
                self.skipping_parts = matches!(other, State::Offering(_));
                self.draining = true;
                Some(Message::Cancel)
            }
        }
    }

    /// The data channel closed.
    ///
    /// # Errors
    /// [`TransferError::Incomplete`] if a transfer was accepted and not finished: the caller
    /// must discard every incomplete file.
    pub fn handle_close(&mut self) -> Result<(), TransferError> {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Receiving { .. } | State::AwaitResumeAck(..) => Err(TransferError::Incomplete),
            State::Idle | State::Offering(_) | State::Offered(_) => Ok(()),
        }
    }

    /// The next event, if any. Drain after every `handle_*` call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ReceiverEvent> {
        self.events.pop_front()
    }

    fn handle_manifest(&mut self, part: Manifest) -> Result<(), TransferError> {
        let offer = match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => part,
            State::Offering(mut offer) => {
                offer.join(part)?;
                offer
            }
            other => {
                self.state = other;
                return Err(TransferError::Unexpected {
                    what: "manifest during a transfer",
                });
            }
        };
        if offer.more() {
            self.state = State::Offering(offer);
        } else {
            self.stored = 0;
            self.reported = 0;
            self.events.push_back(ReceiverEvent::Offered(offer.clone()));
            self.state = State::Offered(offer);
        }
        Ok(())
    }

    fn handle_resume_ack(&mut self, acks: Vec<ResumeStart>) -> Result<(), TransferError> {
        let State::AwaitResumeAck(_, claims) = &self.state else {
            return Err(TransferError::Unexpected {
                what: "resume-ack without claims",
            });
        };
        check_ack(claims, &acks)?;
        let State::AwaitResumeAck(manifest, _) = std::mem::replace(&mut self.state, State::Idle)
        else {
            return Err(TransferError::Unexpected {
                what: "resume-ack without claims",
            });
        };
        let mut starts = vec![0; manifest.files().len()];
        for a in acks {
            if let Some(slot) = usize::try_from(a.index)
                .ok()
                .and_then(|i| starts.get_mut(i))
            {
                *slot = a.offset;
            }
            self.events.push_back(ReceiverEvent::Resumed {
                index: a.index,
                offset: a.offset,
            });
        }
        self.state = State::Receiving {
            got: starts.first().copied().unwrap_or(0),
            manifest,
            index: 0,
            starts,
        };
        Ok(())
    }

    fn handle_chunk(&mut self, bytes: Vec<u8>, is_final: bool) -> Result<(), TransferError> {
        let State::Receiving {
            manifest,
            index,
            got,
            starts,
        } = &mut self.state
        else {
            return Err(TransferError::ChunkWithoutFile);
        };
        let entry = usize::try_from(*index)
            .ok()
            .and_then(|i| manifest.files().get(i))
            .ok_or(TransferError::ChunkWithoutFile)?;
        let expected = entry.size();
        let total = u64::try_from(bytes.len())
            .ok()
            .and_then(|n| got.checked_add(n))
            .filter(|&t| t <= expected)
            .ok_or(TransferError::TooManyBytes {
                index: *index,
                got: got.saturating_add(bytes.len() as u64),
                expected,
            })?;
        if is_final && total != expected {
            return Err(TransferError::FinalTooEarly {
                index: *index,
                got: total,
                expected,
            });
        }
        *got = total;
        let done_index = *index;
        if !bytes.is_empty() {
            self.events.push_back(ReceiverEvent::Data {
                index: done_index,
                bytes,
            });
        }
        if is_final {
            self.events
                .push_back(ReceiverEvent::FileComplete { index: done_index });
            let next = done_index.saturating_add(1);
            if usize::try_from(next).is_ok_and(|n| n >= manifest.files().len()) {
                self.state = State::Idle;
                self.events.push_back(ReceiverEvent::TransferComplete);
            } else {
                *index = next;
                *got = starts.get(next as usize).copied().unwrap_or(0);
            }
        }
        Ok(())
    }
}
