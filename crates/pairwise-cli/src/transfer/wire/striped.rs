//! The striped half of [`Wire`]: sending this side's frames over the session's channel and its
//! lanes (protocol §12). One [`PathWindow`] for the sum of every channel's unacknowledged bytes;
//! each chunk to the open channel with the fewest; a channel stuck in a loss repair neither
//! counted nor fed; frames held up on one channel, or on a lane that went away, sent again on
//! the others (`flight.rs`). Figures: `bench/RESULTS.md`, "Lanes".

use std::time::{Duration, Instant};

use bytes::Bytes;
use pairwise_proto::error::ErrorCode;

use super::super::channel::DIRECT_FLOOR;
use super::super::fail;
use super::super::flight::{Flight, stall_after};
use super::super::window::PathWindow;
use super::{Wire, outstanding};
use crate::peer::NativePeer;
use crate::session::SessionError;

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

impl Wire {
    /// Sends a frame on the first open channel (the session's or a lane) whose window has
    /// room, starting after the one used last, after any frames waiting to go again; returns
    /// the channel's index.
    pub(super) async fn send_striped(&mut self, record: Vec<u8>) -> Result<usize, SessionError> {
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
    pub(super) async fn tend_flights(&mut self) -> Result<(), SessionError> {
        let now = Instant::now();
        let outs = self.poll_channels(now).await?;
        self.send_resends(&outs, now).await.map(|_| ())
    }
}
