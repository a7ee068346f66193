//! The receiving side of one transfer: manifest, accept or decline, chunks checked against the
//! manifest sizes.
//!
//! - `Idle` --manifest--> `Offered` (event [`ReceiverEvent::Offered`]);
//! - `Offered` --[`Receiver::accept`]--> `Receiving` file 0; [`Receiver::decline`] -> `Idle`;
//! - `Receiving` --chunk--> [`ReceiverEvent::Data`], and on FINAL
//!   [`ReceiverEvent::FileComplete`], then the next file or [`ReceiverEvent::TransferComplete`];
//! - any state --cancel--> `Idle` ([`ReceiverEvent::Cancelled`] if something was in progress).
//!
//! Sending `received` after a file is kept is the caller's job: the file is only kept once it
//! is safely stored.

use std::collections::VecDeque;

use crate::handshake::PeerConfirmed;
use crate::transfer::{Manifest, Message, TransferError};

/// What the receiver tells its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiverEvent {
    /// The peer offers these files; call [`Receiver::accept`] or [`Receiver::decline`].
    Offered(Manifest),
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
    Offered(Manifest),
    Receiving {
        manifest: Manifest,
        index: u32,
        got: u64,
    },
}

/// The receive state machine for the peer's transfers.
#[derive(Debug)]
pub struct Receiver {
    state: State,
    events: VecDeque<ReceiverEvent>,
}

impl Receiver {
    /// A receiver on a confirmed session.
    pub fn new(_proof: PeerConfirmed) -> Self {
        Self {
            state: State::Idle,
            events: VecDeque::new(),
        }
    }

    /// Handles a message routed to the receiver, with the record's FINAL flag.
    ///
    /// # Errors
    /// [`TransferError`] (peer-misbehaved) for FINAL on a non-chunk, a chunk when no file is
    /// expected, too many bytes, FINAL too early, a second manifest, or a sender-side message.
    pub fn handle_message(&mut self, msg: Message, is_final: bool) -> Result<(), TransferError> {
        if is_final && !matches!(msg, Message::Chunk(_)) {
            return Err(TransferError::FinalOnNonChunk {
                msg_type: msg.type_byte(),
            });
        }
        match msg {
            Message::Manifest(manifest) => self.handle_manifest(manifest),
            Message::Chunk(bytes) => self.handle_chunk(bytes, is_final),
            Message::Cancel => {
                if !matches!(self.state, State::Idle) {
                    self.state = State::Idle;
                    self.events.push_back(ReceiverEvent::Cancelled);
                }
                Ok(())
            }
            Message::Accept | Message::Decline | Message::Received(_) => {
                Err(TransferError::Unexpected {
                    what: "sender-side message at the receiver",
                })
            }
            Message::Device(_) => Err(TransferError::Unexpected {
                what: "device message routed to the receiver",
            }),
        }
    }

    /// Accepts the offered manifest; returns the `accept` to send, or `None` if nothing is
    /// offered.
    pub fn accept(&mut self) -> Option<Message> {
        let State::Offered(manifest) = std::mem::replace(&mut self.state, State::Idle) else {
            return None;
        };
        self.state = State::Receiving {
            manifest,
            index: 0,
            got: 0,
        };
        Some(Message::Accept)
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

    /// Cancels locally; returns the `cancel` to send, or `None` if nothing is in progress.
    pub fn cancel(&mut self) -> Option<Message> {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => None,
            _ => Some(Message::Cancel),
        }
    }

    /// The data channel closed.
    ///
    /// # Errors
    /// [`TransferError::Incomplete`] if a transfer was accepted and not finished: the caller
    /// must discard every incomplete file.
    pub fn handle_close(&mut self) -> Result<(), TransferError> {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Receiving { .. } => Err(TransferError::Incomplete),
            State::Idle | State::Offered(_) => Ok(()),
        }
    }

    /// The next event, if any. Drain after every `handle_*` call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ReceiverEvent> {
        self.events.pop_front()
    }

    fn handle_manifest(&mut self, manifest: Manifest) -> Result<(), TransferError> {
        if !matches!(self.state, State::Idle) {
            return Err(TransferError::Unexpected {
                what: "manifest during a transfer",
            });
        }
        self.events
            .push_back(ReceiverEvent::Offered(manifest.clone()));
        self.state = State::Offered(manifest);
        Ok(())
    }

    fn handle_chunk(&mut self, bytes: Vec<u8>, is_final: bool) -> Result<(), TransferError> {
        let State::Receiving {
            manifest,
            index,
            got,
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
                *got = 0;
            }
        }
        Ok(())
    }
}
