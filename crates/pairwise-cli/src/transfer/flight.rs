//! [`Flight`]: the frames one channel carries that its peer has not acknowledged yet, so that
//! a channel held up by a loss can have them sent again on another (`docs/protocol.md` §12).
//!
//! Why: with lanes, the receiver delivers frames in sequence order, so one channel whose
//! association waits for a retransmission timeout (webrtc-rs: 1 s at least, doubling when the
//! retransmission is lost too) holds up every other channel behind it, and once the transfer
//! window (§11.4) is full the whole transfer stops. At a 20 ms round trip with 1 % loss and 16
//! lanes the receiver stalled for 1.1-2.1 s at a time (7.3 MB/s where 16 × 0.64 could carry
//! 10). A frame is the same bytes whichever channel carries it, and the receiver keeps the
//! first copy of each sequence number; so when a channel has made no progress for
//! [`stall_after`], its unacknowledged frames go again on the others, once each. Sans-IO: the
//! caller hands in the clock and SCTP's count of unacknowledged bytes.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// The shortest time without an acknowledgement after which a busy channel counts as held
/// up: above webrtc-rs's delayed acknowledgement (200 ms), below its shortest retransmission
/// timeout (1 s).
pub(super) const STALL_MIN: Duration = Duration::from_millis(400);

/// Round trips without an acknowledgement after which a busy channel counts as held up.
const STALL_RTTS: u32 = 6;

/// How long a busy channel may go without any acknowledgement before its frames go again on
/// the others, given its lowest round trip.
pub(super) fn stall_after(min_rtt: Option<Duration>) -> Duration {
    min_rtt.map_or(STALL_MIN, |rtt| (rtt * STALL_RTTS).max(STALL_MIN))
}

/// One channel's unacknowledged frames (module doc).
#[derive(Debug)]
pub(super) struct Flight {
    /// (end offset in bytes sent, the frame, whether it went again elsewhere already).
    frames: VecDeque<(u64, Bytes, bool)>,
    sent: u64,
    acked: u64,
    /// When the channel last made progress (or became busy).
    progress_at: Instant,
}

impl Flight {
    pub(super) fn new(now: Instant) -> Self {
        Self {
            frames: VecDeque::new(),
            sent: 0,
            acked: 0,
            progress_at: now,
        }
    }

    /// `frame` was handed to the channel; `resent`: it is a copy of one held up elsewhere (it
    /// never goes a third time).
    pub(super) fn on_send(&mut self, frame: Bytes, resent: bool, now: Instant) {
        if self.frames.is_empty() {
            // Idle until now: the wait for an acknowledgement starts here.
            self.progress_at = now;
        }
        self.sent += frame.len() as u64;
        self.frames.push_back((self.sent, frame, resent));
    }

    /// SCTP reports `outstanding` bytes of this channel unacknowledged.
    pub(super) fn on_outstanding(&mut self, outstanding: usize, now: Instant) {
        let acked = self.sent.saturating_sub(outstanding as u64).max(self.acked);
        if acked > self.acked {
            self.acked = acked;
            self.progress_at = now;
        }
        while self
            .frames
            .front()
            .is_some_and(|(end, ..)| *end <= self.acked)
        {
            self.frames.pop_front();
        }
    }

    /// Whether the channel has frames out and made no progress for `after`.
    pub(super) fn stalled(&self, now: Instant, after: Duration) -> bool {
        !self.frames.is_empty() && now.saturating_duration_since(self.progress_at) > after
    }

    /// The frames not acknowledged and not sent again yet, in order; they count as sent again
    /// from now on.
    pub(super) fn take_for_resend(&mut self) -> Vec<Bytes> {
        self.frames
            .iter_mut()
            .filter(|(.., resent)| !*resent)
            .map(|(_, frame, resent)| {
                *resent = true;
                frame.clone()
            })
            .collect()
    }

    /// Every frame not acknowledged, whether sent again already or not: the channel is gone.
    pub(super) fn take_all(&mut self) -> Vec<Bytes> {
        self.frames.drain(..).map(|(_, frame, _)| frame).collect()
    }

    /// Whether nothing is unacknowledged.
    pub(super) fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Bytes {
        Bytes::from(vec![0; n])
    }

    #[test]
    fn acknowledged_frames_leave_and_progress_restarts_the_clock() {
        let t0 = Instant::now();
        let mut f = Flight::new(t0);
        f.on_send(frame(100), false, t0);
        f.on_send(frame(50), false, t0);
        let after = Duration::from_millis(400);
        assert!(!f.stalled(t0 + after, after));
        assert!(f.stalled(t0 + after + Duration::from_millis(1), after));
        f.on_outstanding(50, t0 + Duration::from_millis(300));
        assert!(
            !f.stalled(t0 + after + Duration::from_millis(1), after),
            "progress at 300 ms"
        );
        f.on_outstanding(0, t0 + Duration::from_millis(310));
        assert!(f.is_empty());
        assert!(
            !f.stalled(t0 + Duration::from_secs(10), after),
            "nothing out: not stalled"
        );
    }

    #[test]
    fn an_idle_channel_starts_its_clock_when_it_gets_a_frame() {
        let t0 = Instant::now();
        let mut f = Flight::new(t0);
        let later = t0 + Duration::from_secs(5);
        f.on_send(frame(10), false, later);
        assert!(!f.stalled(later + Duration::from_millis(100), STALL_MIN));
    }

    #[test]
    fn held_up_frames_go_again_once() {
        let t0 = Instant::now();
        let mut f = Flight::new(t0);
        f.on_send(frame(10), false, t0);
        f.on_send(frame(20), true, t0);
        f.on_send(frame(30), false, t0);
        let again = f.take_for_resend();
        assert_eq!(
            again.iter().map(Bytes::len).collect::<Vec<_>>(),
            [10, 30],
            "not the copy"
        );
        assert!(f.take_for_resend().is_empty(), "once");
        // A report of more outstanding than sent (never) acknowledges nothing.
        f.on_outstanding(1000, t0);
        assert!(!f.is_empty());
    }

    #[test]
    fn the_stall_time_follows_the_round_trip_above_a_floor() {
        assert_eq!(stall_after(None), STALL_MIN);
        assert_eq!(stall_after(Some(Duration::from_millis(20))), STALL_MIN);
        assert_eq!(
            stall_after(Some(Duration::from_millis(100))),
            Duration::from_millis(600)
        );
    }
}
