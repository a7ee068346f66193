//! The sending side of one transfer, and the chunk plan for one file.
//!
//! - [`Sender::new`] returns the manifest record(s) to send (one part per record, §11.1);
//! - `accept` -> [`Sender::poll_chunk`] yields byte ranges of each file in order (the caller
//!   reads them and seals [`Message::Chunk`] records, FINAL on [`ChunkSpec::is_final`]);
//! - an `accept` with resume claims -> [`SenderEvent::ResumeRequested`]: the caller checks each
//!   claim's proof against its own bytes ([`crate::transfer::ResumeChain`]) and calls
//!   [`Sender::resume`], which returns the `resume-ack` to send; chunks then start at the
//!   agreed offsets (a file held whole is one empty FINAL chunk);
//! - flow control (§11.4): `poll_chunk` hands out nothing while [`TRANSFER_WINDOW`] chunk
//!   bytes are unacknowledged; `progress` and `received` acknowledge them;
//! - `decline` or `cancel` end it; `received` arrives once per file, in order, after the file's
//!   FINAL chunk was planned.
//!
//! Chunks carry at most `max_record - 17 - 1` bytes (record overhead and the type byte;
//! [`Sender::set_max_record`] changes `max_record` for the chunks still to plan); a file of
//! size 0 is one empty FINAL chunk.

use std::collections::VecDeque;

use crate::handshake::PeerConfirmed;
use crate::limits::TRANSFER_WINDOW;
use crate::record::RECORD_OVERHEAD;
use crate::transfer::resume::{check_ack, check_claims};
use crate::transfer::{Manifest, Message, ResumeClaim, ResumeStart, TransferError};

/// One chunk to send: `len` bytes of file `index` from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSpec {
    /// The file, in manifest order.
    pub index: u32,
    /// Byte offset in the file.
    pub offset: u64,
    /// Bytes in this chunk.
    pub len: usize,
    /// Set FINAL on this record.
    pub is_final: bool,
}

/// The chunks of one file of `size` bytes: an iterator of `(offset, len, is_final)`.
#[derive(Debug, Clone)]
pub struct ChunkPlan {
    size: u64,
    offset: u64,
    max_chunk: usize,
    done: bool,
}

impl ChunkPlan {
    /// Plans a file of `size` bytes for records of at most `max_record` bytes.
    pub fn new(size: u64, max_record: usize) -> Self {
        Self::from_offset(size, 0, max_record)
    }

    /// Plans the rest of a file from `offset` (at most `size`; at `size` it is one empty FINAL
    /// chunk).
    pub fn from_offset(size: u64, offset: u64, max_record: usize) -> Self {
        Self {
            size,
            offset: offset.min(size),
            max_chunk: max_chunk(max_record),
            done: false,
        }
    }
}

impl Iterator for ChunkPlan {
    type Item = (u64, usize, bool);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let left = self.size - self.offset;
        let len = usize::try_from(left).map_or(self.max_chunk, |l| l.min(self.max_chunk));
        let offset = self.offset;
        self.offset += len as u64;
        self.done = self.offset == self.size;
        Some((offset, len, self.done))
    }
}

/// The largest chunk payload for records of at most `max_record` bytes (at least 1).
pub fn max_chunk(max_record: usize) -> usize {
    max_record.saturating_sub(RECORD_OVERHEAD + 1).max(1)
}

/// What the sender tells its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderEvent {
    /// The peer accepted: start polling chunks.
    Accepted,
    /// The peer accepted and claims it holds these prefixes: check each proof and answer with
    /// [`Sender::resume`].
    ResumeRequested(Vec<ResumeClaim>),
    /// The peer declined.
    Declined,
    /// The peer kept file `index`.
    FileReceived {
        /// The file.
        index: u32,
    },
    /// The peer kept every file.
    TransferComplete,
    /// The peer cancelled.
    Cancelled,
}

#[derive(Debug)]
enum State {
    Offered,
    AwaitResumeDecision(Vec<ResumeClaim>),
    Sending { index: u32, plan: ChunkPlan },
    AwaitReceived,
    Done,
}

/// The send state machine for one transfer.
#[derive(Debug)]
pub struct Sender {
    manifest: Manifest,
    max_record: usize,
    state: State,
    /// Where each file starts (0 unless resumed).
    starts: Vec<u64>,
    /// Files whose FINAL chunk was handed out.
    finished: u32,
    /// Files the peer confirmed with `received`.
    acked: u32,
    /// Chunk bytes handed out in this transfer, in total and at the end of each finished file.
    sent: u64,
    sent_at_file_end: Vec<u64>,
    /// Chunk bytes the peer acknowledged (`progress`, or `received` for whole files), and the
    /// last `progress` value (never decreasing).
    stored: u64,
    progress: u64,
    /// This side cancelled: the receiver's answers sent before it saw the cancel are dropped.
    draining: bool,
    events: VecDeque<SenderEvent>,
}

impl Sender {
    /// A sender for `manifest` on a confirmed session; returns the manifest record(s) to send,
    /// in order: one part per record of at most `max_record` bytes.
    pub fn new(
        _proof: PeerConfirmed,
        manifest: Manifest,
        max_record: usize,
    ) -> (Self, Vec<Message>) {
        // The part's JSON goes after the type byte, inside the record overhead.
        let max_json = max_record.saturating_sub(RECORD_OVERHEAD + 1);
        let msgs = manifest
            .parts(max_json)
            .into_iter()
            .map(Message::Manifest)
            .collect();
        let sender = Self {
            starts: vec![0; manifest.files().len()],
            manifest,
            max_record,
            state: State::Offered,
            finished: 0,
            acked: 0,
            sent: 0,
            sent_at_file_end: Vec::new(),
            stored: 0,
            progress: 0,
            draining: false,
            events: VecDeque::new(),
        };
        (sender, msgs)
    }

    /// Answers [`SenderEvent::ResumeRequested`]: `starts` says, for every claim in order,
    /// where the file continues (the claimed offset if its proof matched this side's bytes,
    /// else 0). Returns the `resume-ack` to send before any chunk.
    ///
    /// # Errors
    /// [`TransferError::Unexpected`] if no claims are pending or `starts` does not answer
    /// them.
    pub fn resume(&mut self, starts: Vec<ResumeStart>) -> Result<Message, TransferError> {
        let State::AwaitResumeDecision(claims) = &self.state else {
            return Err(TransferError::Unexpected {
                what: "resume answer without claims",
            });
        };
        check_ack(claims, &starts)?;
        for s in &starts {
            if let Some(slot) = usize::try_from(s.index)
                .ok()
                .and_then(|i| self.starts.get_mut(i))
            {
                *slot = s.offset;
            }
        }
        self.state = self.file_state(0);
        self.events.push_back(SenderEvent::Accepted);
        Ok(Message::ResumeAck(starts))
    }

    /// From now on, cuts chunks for records of at most `max_record` bytes, the rest of the file
    /// being sent included (its plan continues from where it is). Manifest parts already made
    /// are not changed, and the window counts chunks of the new size.
    ///
    /// The page opens its lanes (§12) only after the `accept`, when chunks may already be
    /// planned, and sends smaller records while lanes are open: this lets it shrink them
    /// mid-transfer. The CLI opens its lanes before its offer and does not need it.
    pub fn set_max_record(&mut self, max_record: usize) {
        self.max_record = max_record;
        if let State::Sending { plan, .. } = &mut self.state
            && !plan.done
        {
            *plan = ChunkPlan::from_offset(plan.size, plan.offset, max_record);
        }
    }

    /// Handles a message routed to the sender (accept, decline, received, cancel).
    ///
    /// # Errors
    /// [`TransferError::Unexpected`] (peer-misbehaved) for an accept or decline that answers
    /// nothing, a `received` out of order or for a file not yet sent, or a receiver-side
    /// message.
    pub fn handle_message(&mut self, msg: Message) -> Result<(), TransferError> {
        match (msg, &self.state) {
            (Message::Accept, State::Offered) => {
                self.state = self.file_state(0);
                self.events.push_back(SenderEvent::Accepted);
            }
            (Message::AcceptResume(claims), State::Offered) => {
                check_claims(&self.manifest, &claims)?;
                self.events
                    .push_back(SenderEvent::ResumeRequested(claims.clone()));
                self.state = State::AwaitResumeDecision(claims);
            }
            (Message::Decline, State::Offered) => {
                self.state = State::Done;
                self.events.push_back(SenderEvent::Declined);
            }
            (Message::Received(index), State::Sending { .. } | State::AwaitReceived) => {
                if index != self.acked || index >= self.finished {
                    return Err(TransferError::Unexpected {
                        what: "received out of order",
                    });
                }
                self.acked += 1;
                let through = self
                    .sent_at_file_end
                    .get(index as usize)
                    .copied()
                    .unwrap_or(0);
                self.stored = self.stored.max(through);
                self.events.push_back(SenderEvent::FileReceived { index });
                if self.all_files(self.acked) {
                    self.state = State::Done;
                    self.events.push_back(SenderEvent::TransferComplete);
                }
            }
            (Message::Progress(n), State::Sending { .. } | State::AwaitReceived) => {
                if n < self.progress || n > self.sent {
                    return Err(TransferError::Unexpected {
                        what: "progress that goes back or beyond the bytes sent",
                    });
                }
                self.progress = n;
                self.stored = self.stored.max(n);
            }
            // A progress or cancel may cross our own end of the transfer, and after our own
            // cancel, whatever the receiver sent before it saw it.
            (Message::Progress(_) | Message::Cancel, State::Done) => {}
            (
                Message::Accept
                | Message::AcceptResume(_)
                | Message::Decline
                | Message::Received(_),
                State::Done,
            ) if self.draining => {}
            (Message::Cancel, _) => {
                self.state = State::Done;
                self.events.push_back(SenderEvent::Cancelled);
            }
            _ => {
                return Err(TransferError::Unexpected {
                    what: "message for the sender in this state",
                });
            }
        }
        Ok(())
    }

    /// The next chunk to read and send, once accepted; `None` when there is nothing to send
    /// now: not accepted yet, everything sent, or the window is full (wait for a message).
    #[must_use]
    pub fn poll_chunk(&mut self) -> Option<ChunkSpec> {
        // Never more than the window unacknowledged, counting the chunk about to go.
        if self.sent + max_chunk(self.max_record) as u64 > self.stored + TRANSFER_WINDOW {
            return None;
        }
        let State::Sending { index, plan } = &mut self.state else {
            return None;
        };
        let index = *index;
        let (offset, len, is_final) = plan.next()?;
        self.sent += len as u64;
        if is_final {
            self.sent_at_file_end.push(self.sent);
            self.finished = index + 1;
            self.state = self.file_state(index + 1);
        }
        Some(ChunkSpec {
            index,
            offset,
            len,
            is_final,
        })
    }

    /// The next event, if any. Drain after every `handle_*` call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<SenderEvent> {
        self.events.pop_front()
    }

    /// Cancels locally; returns the `cancel` to send, or `None` if already done.
    pub fn cancel(&mut self) -> Option<Message> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Done => None,
            _ => {
                self.draining = true;
                Some(Message::Cancel)
            }
        }
    }

    /// Whether the transfer ended (complete, declined or cancelled).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The manifest being sent.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn all_files(&self, n: u32) -> bool {
        usize::try_from(n).is_ok_and(|n| n >= self.manifest.files().len())
    }

    fn file_state(&self, index: u32) -> State {
        match usize::try_from(index)
            .ok()
            .and_then(|i| self.manifest.files().get(i))
        {
            Some(file) => State::Sending {
                index,
                plan: ChunkPlan::from_offset(
                    file.size(),
                    self.starts.get(index as usize).copied().unwrap_or(0),
                    self.max_record,
                ),
            },
            None => State::AwaitReceived,
        }
    }
}
