//! [`Wire`]: the record layer of one session over its data channel and its lanes (§6, §12).
//!
//! Receiving: records are opened in order; the peer's session messages (`device`, and the
//! lane messages) are handled here, wherever they come in the stream, and the transfers see
//! everything else. Once the peer sent its first `lane-offer`, its records are frames
//! (`u64be(seq) || record`) on any channel, put back in order by a [`Reorder`].
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

use super::channel::{DIRECT_FLOOR, STRIPED_RECORD_BYTES};
use super::fail;
use super::flight::{Flight, stall_after};
use super::lanes::{LaneEvent, Lanes};
use super::window::PathWindow;
use crate::peer::{NativePeer, PeerEvent};
use crate::session::SessionError;

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
}

/// What [`Wire::poll_channels`] found on one open channel.
#[derive(Debug, Clone, Copy)]
struct Out {
    /// Bytes handed to it and not acknowledged.
    outstanding: usize,
    /// It has bytes out and made no progress for two round trips (a loss being repaired).
    stuck: bool,
}

/// What each open lane adds to the window's floor (about an association's congestion window
/// at a 20 ms round trip and 1 % loss, where lanes are for). With one window for all channels
/// and no more, 16 lanes at 1 % loss moved 3.4-3.7 MB/s: the floor of 256 KiB held four of
/// the 64 KiB records of that time, so four lanes worked.
pub(super) const LANE_SHARE: usize = 16 * 1024;

/// The shortest time without progress after which a busy channel counts as stuck (module
/// doc of `flight.rs`; two round trips plus half this otherwise).
const STUCK_MIN: Duration = Duration::from_millis(30);

/// How long a busy channel may go without progress before it counts as stuck.
fn stuck_after(min_rtt: Option<Duration>) -> Duration {
    min_rtt.map_or(STUCK_MIN, |r| (r * 2 + STUCK_MIN / 2).max(STUCK_MIN))
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

    /// Sends a frame on the first open channel (the session's or a lane) whose window has
    /// room, starting after the one used last, after any frames waiting to go again; returns
    /// the channel's index.
    async fn send_striped(&mut self, record: Vec<u8>) -> Result<usize, SessionError> {
        let frame = Bytes::from(record);
        loop {
            let now = Instant::now();
            self.lanes.expire(now);
            let outs = self.poll_channels(now).await?;
            let lanes = outs.iter().skip(1).flatten().count();
            if let Some(w) = self.window.as_mut() {
                w.raise_floor(DIRECT_FLOOR + lanes * LANE_SHARE);
            }
            let mut wait = self.send_resends(&outs, now).await?;
            if self.resend.is_empty() {
                match self.pick(&outs, frame.len(), None, now) {
                    Ok(i) => {
                        self.send_to(i, frame, false, now).await?;
                        return Ok(i);
                    }
                    Err(w) => wait = wait.min(w),
                }
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Whether the peer's records are frames (it opened lanes, §12).
    pub(super) fn peer_framed(&self) -> bool {
        self.reorder.is_some()
    }

    /// Whether this side sends frames over lanes.
    fn striping(&self) -> bool {
        self.framed && self.lanes.out.iter().any(|l| l.open)
    }

    /// Channel `i` (0: the session's, then the open lanes): its peer and flight.
    fn channel(&mut self, i: usize) -> Option<(&NativePeer, &mut Flight)> {
        match i.checked_sub(1) {
            None => Some((&self.peer, &mut self.flight)),
            Some(l) => match self.lanes.out.get_mut(l) {
                Some(lane) if lane.open => Some((&lane.peer, &mut lane.flight)),
                _ => None,
            },
        }
    }

    /// Reads every open channel's unacknowledged bytes (`None`: not open), feeds the window
    /// their sum and each flight its own, and queues the frames of a channel that is held up
    /// to go again elsewhere.
    ///
    /// One window for all channels: they share one path, and per-channel windows that each
    /// grew with what it measured overflowed a 100 Mbit/s router's queue together (4-16 lanes
    /// at 20 ms and no loss: 219-663 drops, 9.4-10.5 MB/s against 11.4 with none). Where loss
    /// limits, each association's own congestion window is what holds it back, and the
    /// window, sized from the sum of their delivery rates, lets them be.
    async fn poll_channels(&mut self, now: Instant) -> Result<Vec<Option<Out>>, SessionError> {
        let channels = 1 + self.lanes.out.len();
        let rtt = self.window.as_ref().and_then(PathWindow::min_rtt);
        let stuck_after = stuck_after(rtt);
        let mut outs = Vec::with_capacity(channels);
        for i in 0..channels {
            let Some((peer, flight)) = self.channel(i) else {
                outs.push(None);
                continue;
            };
            let outstanding = outstanding(peer).await?;
            flight.on_outstanding(outstanding, now);
            let again = if flight.stalled(now, stall_after(rtt)) {
                flight.take_for_resend()
            } else {
                Vec::new()
            };
            if !again.is_empty() {
                tracing::debug!("channel {i} held up: {} frames go again", again.len());
            }
            let stuck = flight.stalled(now, stuck_after);
            self.resend.extend(again.into_iter().map(|f| (i, f)));
            outs.push(Some(Out { outstanding, stuck }));
        }
        if let Some(w) = self.window.as_mut() {
            w.on_outstanding(outs.iter().flatten().map(|o| o.outstanding).sum(), now);
        }
        Ok(outs)
    }

    /// Sends the frames waiting to go again, each on a channel other than its own whose
    /// window has room, while there is one; returns how long to wait before trying again.
    async fn send_resends(
        &mut self,
        outs: &[Option<Out>],
        now: Instant,
    ) -> Result<Duration, SessionError> {
        let mut outs = outs.to_vec();
        while let Some((from, frame)) = self.resend.front().cloned() {
            match self.pick(&outs, frame.len(), Some(from), now) {
                Ok(i) => {
                    self.resend.pop_front();
                    if let Some(o) = outs.get_mut(i).and_then(Option::as_mut) {
                        o.outstanding += frame.len();
                    }
                    let lanes = self.lanes.out.len();
                    self.send_to(i, frame, true, now).await?;
                    if self.lanes.out.len() != lanes {
                        // A lane was dropped: `outs` no longer matches the channels.
                        return Ok(Duration::from_millis(1));
                    }
                }
                // No other channel is open: the copy could only take the same way.
                Err(_)
                    if !outs
                        .iter()
                        .enumerate()
                        .any(|(i, o)| o.is_some() && i != from) =>
                {
                    self.resend.clear();
                }
                Err(wait) => return Ok(wait),
            }
        }
        Ok(Duration::from_millis(1))
    }

    /// If the window takes `len` more bytes now: the open channel (not `exclude`, not stuck)
    /// with the fewest unacknowledged bytes, the next in turn among equals; else how long to
    /// wait. A stuck channel keeps its bytes and gets no more, and its bytes do not count
    /// against the window: they are not moving on the path but waiting for a repair (with
    /// 16 lanes at 1 % loss, the 64 KiB records held that way filled a window of a few hundred
    /// KiB: 3.3 MB/s).
    fn pick(
        &mut self,
        outs: &[Option<Out>],
        len: usize,
        exclude: Option<usize>,
        now: Instant,
    ) -> Result<usize, Duration> {
        let moving = || outs.iter().flatten().filter(|o| !o.stuck);
        let total = moving().map(|o| o.outstanding).sum();
        let ready = self
            .window
            .as_ref()
            .map_or(Some(Duration::ZERO), |w| w.wait(total, len, now));
        match ready {
            Some(Duration::ZERO) => {}
            Some(pace) => return Err(pace),
            // Acknowledgements are counted by the connection drivers; look again soon.
            None => return Err(Duration::from_millis(1)),
        }
        let n = outs.len();
        let best = (0..n)
            .map(|k| (self.next_channel + k) % n)
            .filter(|i| exclude != Some(*i))
            .filter_map(|i| {
                outs.get(i)
                    .copied()
                    .flatten()
                    .filter(|o| !o.stuck)
                    .map(|o| (o.outstanding, i))
            })
            .min_by_key(|(o, _)| *o);
        match best {
            Some((_, i)) => {
                self.next_channel = i + 1;
                Ok(i)
            }
            None => Err(Duration::from_millis(1)),
        }
    }

    /// Hands `frame` to channel `i`.
    async fn send_to(
        &mut self,
        i: usize,
        frame: Bytes,
        resent: bool,
        now: Instant,
    ) -> Result<(), SessionError> {
        if let Some(w) = self.window.as_mut() {
            w.on_send(frame.len(), now);
        }
        let Some((peer, flight)) = self.channel(i) else {
            // A lane dropped since it was picked: the frame waits for another.
            self.resend.push_back((usize::MAX, frame));
            return Ok(());
        };
        flight.on_send(frame.clone(), resent, now);
        let Err(e) = peer.send(frame).await else {
            return Ok(());
        };
        // A lane that closed under us is dropped like one whose close was reported: its
        // frames (this one included) go again on the others.
        match i
            .checked_sub(1)
            .and_then(|l| self.lanes.out.get(l))
            .map(|l| l.index)
        {
            Some(lane) => {
                let again = self.lanes.drop_lane(lane, true);
                tracing::debug!("lane {lane} gone: {} frames go again ({e:#})", again.len());
                self.resend
                    .extend(again.into_iter().map(|f| (usize::MAX, f)));
                Ok(())
            }
            None => Err(fail(ErrorCode::PeerLeft, format!("{e:#}"))),
        }
    }

    /// While lanes carry this side's frames and some are unacknowledged: sends again what is
    /// held up (the transfer's last frames have no later send to do it).
    async fn tend_flights(&mut self) -> Result<(), SessionError> {
        let now = Instant::now();
        let outs = self.poll_channels(now).await?;
        self.send_resends(&outs, now).await.map(|_| ())
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
            Input::Session(Some(PeerEvent::Failed(why))) => Err(fail(ErrorCode::PeerLeft, why)),
            Input::Session(Some(PeerEvent::Closed) | None) => {
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

    pub(super) async fn close(self) {
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
    if is_final && msg.route() == Route::Session {
        return Err(fail(
            ErrorCode::PeerMisbehaved,
            "final flag on a session record",
        ));
    }
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
