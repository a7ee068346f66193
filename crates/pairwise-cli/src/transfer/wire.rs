//! [`Wire`]: the record layer of one session over its data channel and its lanes (§6, §12).
//!
//! Receiving: records are opened in order; the peer's session messages (`device`, and the
//! lane messages) are handled here, wherever they come in the stream, and the transfers see
//! everything else. Once the peer sent its first `lane-offer`, its records are frames
//! (`u64be(seq) || record`) on any channel, put back in order by a [`Reorder`].
//!
//! Ending (§6.1): a peer's `close` ends [`Wire::recv`] with the failure it means; this side
//! sends its own `close` once ([`Wire::refuse`] with a code, [`Wire::close`] with none).
//!
//! Sending: every record goes through a [`PathWindow`] (`window.rs`): on the session's channel,
//! or, once this side opened lanes (`lanes.rs`), chunks go to whichever open channel's window
//! has room first.

use std::collections::VecDeque;
use std::io::Read as _;
use std::time::{Duration, Instant};

use bytes::Bytes;
use pairwise_proto::device::DeviceName;
use pairwise_proto::error::ErrorCode;
use pairwise_proto::lanes::{Reorder, frame_seq};
use pairwise_proto::record::{
    FRAME_HEADER, INNER_OFFSET, RECORD_OVERHEAD, RecordOpener, RecordSealer,
};
use pairwise_proto::transfer::{Message, Route, msg_type};
use tokio::sync::mpsc;

use super::channel::STRIPED_RECORD_BYTES;
use super::fail;
use super::flight::Flight;
use super::lanes::{LaneEvent, Lanes};
use super::window::PathWindow;
use crate::peer::{NativePeer, PeerEvent};
use crate::session::SessionError;

mod close;
mod striped;

/// The record layer and channels of one session.
#[derive(Debug)]
pub(super) struct Wire {
    pub(super) peer: NativePeer,
    pub(super) events: mpsc::Receiver<PeerEvent>,
    pub(super) seal: RecordSealer,
    pub(super) open: RecordOpener,
    /// From the peer's latest `device` record.
    pub(super) peer_name: Option<DeviceName>,
    /// The window and pacing of the session's channel; `None`: the send buffer's own limit
    /// only.
    pub(super) window: Option<PathWindow>,
    pub(super) lanes: Lanes,
    /// How many lanes this side opens (0: none).
    pub(super) want_lanes: u8,
    /// Whether this side's records are frames (it sent a `lane-offer`).
    pub(super) framed: bool,
    /// The peer's frames, once it sent a `lane-offer`.
    pub(super) reorder: Option<Reorder<(Message, bool)>>,
    /// Opened messages, in order, not handled yet.
    pub(super) ready: VecDeque<(Message, bool)>,
    /// Which channel the next chunk tries first (0: the session's).
    pub(super) next_channel: usize,
    /// Chunk records sent on each channel (0: the session's, then the lanes), for the report.
    pub(super) chunks_per_channel: Vec<u64>,
    /// The session channel's unacknowledged frames, while lanes are in use (`flight.rs`).
    pub(super) flight: Flight,
    /// Frames held up on channel `.0`, to go again on another.
    pub(super) resend: VecDeque<(usize, Bytes)>,
    /// The session is over: a `close` went or came, or the channel closed. Nothing more is
    /// sent (§6.1).
    pub(super) ended: bool,
}

/// How often a side waiting for messages looks for held-up frames to send again.
const TEND_EVERY: Duration = Duration::from_millis(50);

enum Input {
    Session(Option<PeerEvent>),
    Lane(Option<LaneEvent>),
}

impl Wire {
    /// Opens this side's lanes, if it wants any and the peer takes them: the `lane-offer`s
    /// go now and the lanes are used as they open.
    pub(super) async fn open_lanes(&mut self) -> Result<(), SessionError> {
        let want = self.want_lanes.min(self.lanes.room());
        for _ in 0..want {
            // A lane that cannot even be built here is not worth failing the transfer for.
            let offer = match self.lanes.offer().await {
                Ok(offer) => offer,
                Err(e) => {
                    tracing::warn!("sending without more lanes: {e}");
                    break;
                }
            };
            self.send(&offer, false).await?;
        }
        if want > 0 {
            tracing::debug!("offered {} lanes", self.lanes.out.len());
        }
        Ok(())
    }

    pub(super) async fn send(&mut self, msg: &Message, is_final: bool) -> Result<(), SessionError> {
        if self.ended {
            // After a `close` nothing more goes (§6.1): not a `cancel` after a refusal either.
            return Err(fail(ErrorCode::PeerLeft, "the session has ended"));
        }
        self.send_now(msg, is_final).await
    }

    async fn send_now(&mut self, msg: &Message, is_final: bool) -> Result<(), SessionError> {
        let inner = msg.encode();
        let head = if self.framed { FRAME_HEADER } else { 0 };
        let mut record = Vec::with_capacity(head + INNER_OFFSET + inner.len() + RECORD_OVERHEAD);
        record.resize(head + INNER_OFFSET, 0);
        record.extend_from_slice(&inner);
        self.seal(&mut record, is_final)?;
        // The record after the first lane-offer is a frame (§12).
        if matches!(msg, Message::LaneOffer(_)) {
            self.framed = true;
        }
        // The session's own messages (device, text, lanes) go at once: a lane's candidates
        // must not wait behind chunks, or the lane opens only when the window does.
        let paced = msg.route() != Route::Session;
        self.send_record(record, paced).await
    }

    /// Sends the next `len` bytes of `file` as one chunk record, or, while lanes carry the
    /// chunks, as records of at most [`STRIPED_RECORD_BYTES`] (FINAL on the last if
    /// `is_final`): a chunk is any run of the file's bytes (§6).
    pub(super) async fn send_chunk(
        &mut self,
        file: &mut std::fs::File,
        len: usize,
        is_final: bool,
    ) -> Result<(), ChunkError> {
        let mut left = len;
        loop {
            let piece = if self.striping() {
                left.min(STRIPED_RECORD_BYTES)
            } else {
                left
            };
            left -= piece;
            self.send_chunk_record_of(file, piece, is_final && left == 0)
                .await?;
            if left == 0 {
                return Ok(());
            }
        }
    }

    /// Sends the next `len` bytes of `file` as one chunk record. The bytes are read straight
    /// into the record's buffer and sealed there: no copy between the page cache and the data
    /// channel. The read blocks; it is at most one record from a local file.
    async fn send_chunk_record_of(
        &mut self,
        file: &mut std::fs::File,
        len: usize,
        is_final: bool,
    ) -> Result<(), ChunkError> {
        let head = if self.framed { FRAME_HEADER } else { 0 };
        let mut record = Vec::with_capacity(head + INNER_OFFSET + 1 + len + RECORD_OVERHEAD);
        record.resize(head + INNER_OFFSET, 0);
        record.push(msg_type::CHUNK);
        record.resize(head + INNER_OFFSET + 1 + len, 0);
        file.read_exact(&mut record[head + INNER_OFFSET + 1..])
            .map_err(ChunkError::Read)?;
        self.seal(&mut record, is_final)?;
        let channel = self.send_chunk_record(record).await?;
        if self.chunks_per_channel.len() <= channel {
            self.chunks_per_channel.resize(channel + 1, 0);
        }
        self.chunks_per_channel[channel] += 1;
        Ok(())
    }

    /// Sends a sealed chunk record: over the lanes once one is open, else on the session's
    /// channel within its window, handling lane events while it waits (a lane opens only
    /// once its candidates went out: at 1 % loss the window waited for a retransmission
    /// timeout and the lanes opened 1.4 s late). Returns the channel's index.
    async fn send_chunk_record(&mut self, record: Vec<u8>) -> Result<usize, SessionError> {
        loop {
            if self.striping() {
                return self.send_striped(record).await;
            }
            let now = Instant::now();
            let out = match self.window {
                Some(_) => outstanding(&self.peer).await?,
                None => 0,
            };
            let wait = self.window.as_mut().map_or(Duration::ZERO, |w| {
                w.on_outstanding(out, now);
                // None: acknowledgements are counted by the connection driver; look again soon.
                w.wait(out, record.len(), now)
                    .unwrap_or(Duration::from_millis(1))
            });
            if wait.is_zero() {
                if let Some(w) = self.window.as_mut() {
                    w.on_send(record.len(), now);
                }
                send_on(&self.peer, record).await?;
                return Ok(0);
            }
            tokio::time::sleep(wait).await;
            while let Some(e) = self.lanes.try_event() {
                self.on_input(Input::Lane(Some(e))).await?;
            }
        }
    }

    fn seal(&mut self, record: &mut Vec<u8>, is_final: bool) -> Result<(), SessionError> {
        let sealed = if self.framed {
            self.seal.seal_frame_in_place(record, is_final)
        } else {
            self.seal.seal_in_place(record, is_final)
        };
        sealed.map_err(|e| fail(ErrorCode::PeerMisbehaved, e))
    }

    /// Sends a message on the session's channel, within its window if `paced` (not while lanes
    /// carry the chunks: the window counts every channel's bytes then, and this goes at once).
    async fn send_record(&mut self, record: Vec<u8>, paced: bool) -> Result<(), SessionError> {
        let striping = self.striping();
        if let Some(window) = self.window.as_mut().filter(|_| paced && !striping) {
            loop {
                let outstanding = outstanding(&self.peer).await?;
                let now = Instant::now();
                window.on_outstanding(outstanding, now);
                match window.wait(outstanding, record.len(), now) {
                    Some(Duration::ZERO) => break,
                    Some(pace) => tokio::time::sleep(pace).await,
                    // Acknowledgements are counted by the connection driver; look again soon.
                    None => tokio::time::sleep(Duration::from_millis(1)).await,
                }
            }
            window.on_send(record.len(), Instant::now());
        }
        send_on(&self.peer, record).await
    }

    /// Whether the peer's records are frames (it opened lanes, §12).
    pub(super) fn peer_framed(&self) -> bool {
        self.reorder.is_some()
    }

    /// Whether the peer's `cancel` is held beyond a gap in its frames: the frames ahead of it
    /// went on a lane the peer closed as it left, and never come (§12).
    pub(super) fn held_cancel(&self) -> bool {
        self.reorder
            .as_ref()
            .is_some_and(|r| r.held().any(|(m, _)| matches!(m, Message::Cancel)))
    }

    /// Whether this side sends frames over lanes.
    fn striping(&self) -> bool {
        self.framed && self.lanes.out.iter().any(|l| l.open)
    }

    /// The next message from the peer, or the reason there is none.
    pub(super) async fn recv(&mut self) -> Result<(Message, bool), SessionError> {
        loop {
            if let Some(msg) = self.next_ready().await? {
                return Ok(msg);
            }
            let tending = self.framed
                && (!self.resend.is_empty()
                    || !self.flight.is_empty()
                    || self.lanes.out.iter().any(|l| !l.flight.is_empty()));
            let input = tokio::select! {
                e = self.events.recv() => Input::Session(e),
                e = self.lanes.next_event() => Input::Lane(e),
                () = tokio::time::sleep(TEND_EVERY), if tending => {
                    self.tend_flights().await?;
                    continue;
                }
            };
            self.on_input(input).await?;
        }
    }

    /// A message that already arrived, without waiting for one (lane events that arrived are
    /// handled on the way).
    pub(super) async fn try_recv(&mut self) -> Result<Option<(Message, bool)>, SessionError> {
        loop {
            if let Some(msg) = self.next_ready().await? {
                return Ok(Some(msg));
            }
            let input = if let Ok(e) = self.events.try_recv() {
                Input::Session(Some(e))
            } else if let Some(e) = self.lanes.try_event() {
                Input::Lane(Some(e))
            } else {
                return Ok(None);
            };
            self.on_input(input).await?;
        }
    }

    async fn on_input(&mut self, input: Input) -> Result<(), SessionError> {
        match input {
            Input::Session(Some(PeerEvent::Message(record))) => self.on_record(record),
            Input::Session(Some(PeerEvent::LocalCandidate(_) | PeerEvent::ChannelOpen)) => Ok(()),
            Input::Session(Some(PeerEvent::Failed(why))) => {
                self.ended = true;
                Err(fail(ErrorCode::PeerLeft, why))
            }
            Input::Session(Some(PeerEvent::Closed) | None) => {
                self.ended = true;
                Err(fail(ErrorCode::PeerLeft, "the data channel closed"))
            }
            Input::Lane(Some(LaneEvent { lane, ours, event })) => match event {
                PeerEvent::Message(frame) if !ours => self.on_frame(frame),
                PeerEvent::Message(_) => Err(fail(
                    ErrorCode::PeerMisbehaved,
                    format!("a message on lane {lane}, which only this side sends on"),
                )),
                PeerEvent::LocalCandidate(json) => match Lanes::candidate(lane, ours, &json) {
                    Some(msg) => self.send(&msg, false).await,
                    None => Ok(()),
                },
                PeerEvent::ChannelOpen => {
                    self.lanes.opened(lane);
                    Ok(())
                }
                // A lane that fails or closes is dropped; what this side sent on it and was not
                // acknowledged goes again on the others (the peer closes its lanes at the end of
                // the session, and may do so before our last acknowledgement came in). If the
                // peer is gone, the session's channel says so.
                PeerEvent::Failed(_) | PeerEvent::Closed => {
                    let again = self.lanes.drop_lane(lane, ours);
                    if !again.is_empty() {
                        tracing::debug!("lane {lane} gone: {} frames go again", again.len());
                    }
                    self.resend
                        .extend(again.into_iter().map(|f| (usize::MAX, f)));
                    Ok(())
                }
            },
            Input::Lane(None) => Ok(()),
        }
    }

    /// Handles the session's messages that are ready; returns the first one for a transfer.
    async fn next_ready(&mut self) -> Result<Option<(Message, bool)>, SessionError> {
        while let Some((msg, is_final)) = self.ready.pop_front() {
            match msg {
                Message::Device(info) => {
                    tracing::debug!("the peer sent its device name");
                    self.peer_name = Some(info.name);
                }
                Message::LaneOffer(offer) => {
                    let answer = self.lanes.answer(offer).await?;
                    self.send(&answer, false).await?;
                }
                Message::LaneAnswer(answer) => self.lanes.on_answer(answer).await?,
                Message::LaneCandidate(c) => self.lanes.on_candidate(c).await?,
                Message::Close(code) => {
                    // Nothing after it counts (§6.1).
                    self.ready.clear();
                    self.ended = true;
                    return Err(close::closed_by_peer(code));
                }
                msg => return Ok(Some((msg, is_final))),
            }
        }
        Ok(None)
    }

    /// A record on the session's channel: opened in order, or a frame once the peer switched.
    /// The record is decrypted in its own buffer (the data channel's, when no one else holds
    /// it), and a chunk's bytes stay there.
    fn on_record(&mut self, record: Bytes) -> Result<(), SessionError> {
        if self.reorder.is_some() {
            return self.on_frame(record);
        }
        let mut buf = Vec::from(record);
        let opened = self
            .open
            .open_in_place(&mut buf)
            .map_err(|e| fail(ErrorCode::RecordRejected, e))?;
        let msg = decode(buf, opened.inner, opened.is_final)?;
        if matches!(msg, Message::LaneOffer(_)) {
            // Every record after it is a frame (§12).
            self.reorder = Some(Reorder::new(self.open.next_seq()));
        }
        self.ready.push_back((msg, opened.is_final));
        Ok(())
    }

    /// A frame, on a lane or (after the switch) on the session's channel.
    fn on_frame(&mut self, frame: Bytes) -> Result<(), SessionError> {
        let Some(reorder) = self.reorder.as_mut() else {
            return Err(fail(
                ErrorCode::PeerMisbehaved,
                "a frame before any lane-offer",
            ));
        };
        let len = frame.len();
        let seq = frame_seq(&frame).ok_or_else(|| {
            fail(
                ErrorCode::PeerMisbehaved,
                format!("a frame of {len} bytes has no sequence number"),
            )
        })?;
        if !reorder.check(seq, len).map_err(|e| fail(e.code(), e))? {
            // A copy of a frame delivered or held already (sent again on another channel).
            return Ok(());
        }
        let mut buf = Vec::from(frame);
        let opened = self
            .open
            .open_at(seq, &mut buf[FRAME_HEADER..])
            .map_err(|e| fail(ErrorCode::RecordRejected, e))?;
        let inner = opened.inner.start + FRAME_HEADER..opened.inner.end + FRAME_HEADER;
        let msg = decode(buf, inner, opened.is_final)?;
        reorder
            .insert(seq, (msg, opened.is_final), len)
            .map_err(|e| fail(e.code(), e))?;
        while let Some(next) = reorder.pop() {
            self.ready.push_back(next);
        }
        Ok(())
    }

    /// Ends the session: `close {}` if it has not ended yet (this side is done, §6.1), then
    /// closes the channel and the lanes.
    pub(super) async fn close(mut self) {
        self.send_close(None).await;
        self.lanes.close().await;
        let _ = self.peer.close().await;
    }
}

/// Parses an opened record's inner message; FINAL only on a chunk.
fn decode(
    buf: Vec<u8>,
    inner: std::ops::Range<usize>,
    is_final: bool,
) -> Result<Message, SessionError> {
    let msg = Message::decode_in(buf, inner).map_err(|e| fail(e.code(), e))?;
    msg.check_final(is_final).map_err(|e| fail(e.code(), e))?;
    Ok(msg)
}

async fn outstanding(peer: &NativePeer) -> Result<usize, SessionError> {
    peer.outstanding()
        .await
        .map_err(|e| fail(ErrorCode::PeerLeft, format!("{e:#}")))
}

async fn send_on(peer: &NativePeer, record: Vec<u8>) -> Result<(), SessionError> {
    peer.send(Bytes::from(record))
        .await
        .map_err(|e| fail(ErrorCode::PeerLeft, format!("{e:#}")))
}

/// Why a chunk could not be sent: the file (a local problem) or the session.
#[derive(Debug)]
pub(super) enum ChunkError {
    /// Reading the file failed or it ended early (it changed while sending).
    Read(std::io::Error),
    /// The session failed.
    Session(SessionError),
}

impl From<SessionError> for ChunkError {
    fn from(e: SessionError) -> Self {
        Self::Session(e)
    }
}
