//! [`PathWindow`]: how many bytes may be unacknowledged toward a peer, and when the next record
//! may go, from what the path showed so far: its round trip and its delivery rate. Sans-IO: the
//! caller hands in the clock and SCTP's count of unacknowledged bytes.
//!
//! Why: webrtc-rs's SCTP sends its whole congestion window at once and does not pace, and it
//! repairs losses slowly (a 1 s minimum retransmission timeout, then a slow start from one
//! packet). So the application keeps SCTP from ever causing a loss it could avoid: a browser
//! reads its UDP socket through a small buffer (Chromium: 64 KiB, about 56 packets), and a
//! router's queue holds tens of milliseconds at its rate. A fixed window avoided the first and
//! bounded every real link (64 KiB per round trip: 2.6 MB/s at 20 ms). Here, BBR-like:
//! - **window** = [`WINDOW_GAIN`] × (highest delivery rate of the last [`RATE_SPAN`]) × (lowest
//!   round trip of the connection), never below the caller's floor nor above [`MAX_WINDOW`].
//!   While the window limits the rate, each measured rate is the window over the round trip,
//!   so the window grows by the gain every round trip until the path's rate stops growing;
//!   then about half a bandwidth-delay product may wait in queues, which a router buffer of
//!   50 ms holds at any round trip up to 100 ms.
//! - **pacing**: records leave at a gain × that delivery rate, spread out in time, so a fast
//!   path never sees a window's worth of packets at once: [`STARTUP_GAIN`] while the rate still
//!   grows, then a cycle of round trips ([`CRUISE_GAINS`]): one a quarter faster (does the path
//!   carry more now?), one a quarter slower (drain the queue that made), six at the rate.
//!   Never slower than the floor per round trip: a few small records at the start (a rate of a
//!   few kB/s) must not hold back the first chunks.
//!
//! A round-trip sample is the time from handing a record to SCTP until SCTP reports it
//! acknowledged (the caller polls about every millisecond, the resolution of the samples). A
//! delivery-rate sample is the bytes acknowledged over at least one round trip (and
//! [`MIN_RATE_INTERVAL`]), no faster than they were sent, and none when they came back late
//! (a loss being repaired).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Below this round trip a path is a LAN or loopback: no router queue to overflow there, while
/// the round trip itself jumps with CPU scheduling (two CLIs on loopback measure 0.2 ms, then
/// 5 ms when a process is descheduled), so a window sized from the lowest one would starve
/// the fastest paths; [`PathWindow::with_short_floor`] applies.
pub(super) const SHORT_RTT: Duration = Duration::from_millis(4);

/// The largest window: above any receive window a peer offers by default (Chromium 5 MiB less
/// its queue, a Pairwise CLI 4 MiB), so SCTP's own limits decide beyond it.
pub(super) const MAX_WINDOW: usize = 4 << 20;

/// The window over the bandwidth-delay product. BBR's 2 overflowed a router buffer of 50 ms
/// at a 60 ms round trip (twice the product in flight is 120 ms of data at the bottleneck,
/// 60 ms of it queued) when the startup ended: hundreds of losses, and webrtc-rs's SCTP
/// repairs losses slowly (1 s retransmission timeouts). 1.5 leaves room for 30 ms of queue.
pub(super) const WINDOW_GAIN: f64 = 1.5;

/// How much faster than the delivery rate records leave while the rate still grows.
pub(super) const STARTUP_GAIN: f64 = 2.0;

/// The rounds without the rate growing by a quarter after which it counts as found.
const STARTUP_PLATEAU: u32 = 3;

/// The pacing gains of the round trips once the rate is found (module doc).
pub(super) const CRUISE_GAINS: [f64; 8] = [1.25, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];

/// How long a highest delivery rate is remembered: a path that got slower (competing traffic,
/// a weaker radio) is followed within this time.
pub(super) const RATE_SPAN: Duration = Duration::from_secs(4);

/// How long a lowest round trip is remembered: for the whole connection. While the window
/// keeps the path busy, about one bandwidth-delay product waits in the bottleneck's queue,
/// so every later sample is about twice the path's own round trip; a lowest round trip that
/// expired would be replaced by such a sample, the window would double, the queue with it, and
/// so on every span (measured: 23 ms, then 54 ms after the first expiry). A path whose round
/// trip really grew only gets a window smaller than it could use. A new network means a new
/// connection, and a new window.
pub(super) const RTT_SPAN: Duration = Duration::MAX;

/// The shortest interval a delivery rate is measured over (below it the caller's polling
/// granularity would dominate).
pub(super) const MIN_RATE_INTERVAL: Duration = Duration::from_millis(5);

/// The fewest acknowledged bytes a delivery-rate sample is taken over.
pub(super) const MIN_RATE_BYTES: u64 = 16 * 1024;

/// How far ahead of its pacing schedule a record may leave: about one timer tick, so a pace
/// faster than the tick is kept on average.
const PACING_SLACK: Duration = Duration::from_millis(2);

/// The window and pacing of one data channel (module doc).
#[derive(Debug)]
pub(super) struct PathWindow {
    floor: usize,
    /// The floor while the lowest round trip is below [`SHORT_RTT`].
    short_floor: usize,
    /// Whether the window and pacing follow the path ([`Self::fixed`]: no).
    adaptive: bool,
    /// Bytes handed to SCTP so far.
    sent: u64,
    /// Bytes acknowledged so far.
    acked: u64,
    /// (end offset, sent at) of each record not yet acknowledged.
    marks: VecDeque<(u64, Instant)>,
    min_rtt: Filter<Duration>,
    max_rate: Filter<f64>,
    /// The running delivery-rate interval.
    interval: Option<Interval>,
    /// When the record acknowledged last was sent.
    last_acked_sent: Option<Instant>,
    /// When the next record may leave (pacing); `None` until a rate is known.
    next_send: Option<Instant>,
    phase: Phase,
}

/// Where the pacing gain is.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// The rate still grows: the highest rate when it last grew by a quarter, and the rounds
    /// since.
    Startup { grown_to: f64, rounds: u32 },
    /// The rate is found: which of [`CRUISE_GAINS`], since when.
    Cruise { index: usize, since: Instant },
}

impl PathWindow {
    /// A window that starts at, and never goes below, `floor` bytes.
    pub(super) fn new(floor: usize) -> Self {
        Self {
            floor: floor.min(MAX_WINDOW),
            short_floor: floor.min(MAX_WINDOW),
            adaptive: true,
            sent: 0,
            acked: 0,
            marks: VecDeque::new(),
            min_rtt: Filter::new(RTT_SPAN, |new, old| new <= old),
            max_rate: Filter::new(RATE_SPAN, |new, old| new >= old),
            interval: None,
            last_acked_sent: None,
            phase: Phase::Startup {
                grown_to: 0.0,
                rounds: 0,
            },
            next_send: None,
        }
    }

    /// A fixed window of `floor` bytes, never paced: what every path had before the window
    /// followed it (kept to measure against).
    pub(super) fn fixed(self) -> Self {
        Self {
            adaptive: false,
            ..self
        }
    }

    /// A larger floor for paths whose lowest round trip is below [`SHORT_RTT`].
    pub(super) fn with_short_floor(mut self, floor: usize) -> Self {
        self.short_floor = floor.clamp(self.floor, MAX_WINDOW);
        self
    }

    /// Raises the floor (both of them) to `floor`: lanes that opened share the window.
    pub(super) fn raise_floor(&mut self, floor: usize) {
        self.floor = self.floor.max(floor.min(MAX_WINDOW));
        self.short_floor = self.short_floor.max(self.floor);
    }

    /// The floor now: [`Self::with_short_floor`]'s once the path measured short, the other
    /// one before (a first burst the size of the short floor would overflow a real link).
    fn floor_now(&self) -> usize {
        match self.min_rtt.get() {
            Some(rtt) if rtt < SHORT_RTT => self.short_floor,
            _ => self.floor,
        }
    }

    /// SCTP reports `outstanding` bytes not yet acknowledged at `now`.
    pub(super) fn on_outstanding(&mut self, outstanding: usize, now: Instant) {
        let acked = self.sent.saturating_sub(outstanding as u64).max(self.acked);
        self.acked = acked;
        while let Some(&(end, at)) = self.marks.front() {
            if end > acked {
                break;
            }
            self.marks.pop_front();
            self.last_acked_sent = Some(at);
            let rtt = now.saturating_duration_since(at);
            self.min_rtt.update(rtt, now);
            if let Some(i) = self.interval.as_mut() {
                i.slowest = i.slowest.max(rtt);
            }
        }
        match self.interval {
            Some(i) => {
                let span = now.saturating_duration_since(i.at);
                let rtt = self.min_rtt.get().unwrap_or(Duration::ZERO);
                // A few small records (a `device` record, a manifest) say nothing about
                // the path's rate: keep counting until a record's worth was acknowledged.
                if span >= rtt.max(MIN_RATE_INTERVAL) && acked - i.acked >= MIN_RATE_BYTES {
                    // Acknowledgements that were held back (a retransmission that fills a
                    // gap acknowledges much at once) claim a rate the path never had, and
                    // a window sized from it overflows the path (measured: 18.6 MB/s on a
                    // 12.5 MB/s link, then losses and a minute of SCTP's slow recovery).
                    // So: no faster than the bytes were sent, and no sample at all when
                    // they took far longer than a round trip.
                    let sent_span = match (i.first_sent, self.last_acked_sent) {
                        (Some(from), Some(to)) => to.saturating_duration_since(from),
                        _ => Duration::ZERO,
                    };
                    if i.slowest <= late(rtt) {
                        let rate = (acked - i.acked) as f64 / span.max(sent_span).as_secs_f64();
                        self.max_rate.update(rate, now);
                        self.next_round(now);
                    }
                    self.interval = Some(self.start_interval(now));
                }
            }
            None => self.interval = Some(self.start_interval(now)),
        }
        if outstanding == 0 {
            // Nothing in flight: an idle gap is not a slow path.
            self.interval = Some(self.start_interval(now));
        }
    }

    /// A delivery-rate sample was taken (about one round trip passed): the next pacing gain.
    fn next_round(&mut self, now: Instant) {
        let rate = self.max_rate.get().unwrap_or(0.0);
        self.phase = match self.phase {
            Phase::Startup { grown_to, .. } if rate >= 1.25 * grown_to => Phase::Startup {
                grown_to: rate,
                rounds: 0,
            },
            Phase::Startup { rounds, .. } if rounds + 1 >= STARTUP_PLATEAU => Phase::Cruise {
                // Start with the slower round: drain what the startup queued.
                index: 1,
                since: now,
            },
            Phase::Startup { grown_to, rounds } => Phase::Startup {
                grown_to,
                rounds: rounds + 1,
            },
            Phase::Cruise { index, since } => {
                let rtt = self.min_rtt.get().unwrap_or(Duration::ZERO);
                if now.saturating_duration_since(since) >= rtt {
                    Phase::Cruise {
                        index: (index + 1) % CRUISE_GAINS.len(),
                        since: now,
                    }
                } else {
                    self.phase
                }
            }
        };
    }

    fn gain(&self) -> f64 {
        match self.phase {
            Phase::Startup { .. } => STARTUP_GAIN,
            Phase::Cruise { index, .. } => CRUISE_GAINS[index],
        }
    }

    fn start_interval(&self, now: Instant) -> Interval {
        Interval {
            acked: self.acked,
            at: now,
            first_sent: self.marks.front().map(|&(_, at)| at),
            slowest: Duration::ZERO,
        }
    }

    /// The bytes that may be unacknowledged now.
    #[cfg(test)]
    pub(super) fn window(&self) -> usize {
        self.target().clamp(self.floor_now(), MAX_WINDOW)
    }

    /// [`WINDOW_GAIN`] × the bandwidth-delay product (0 while unknown).
    fn target(&self) -> usize {
        if !self.adaptive {
            return 0;
        }
        match (self.max_rate.get(), self.min_rtt.get()) {
            (Some(rate), Some(rtt)) => (WINDOW_GAIN * rate * rtt.as_secs_f64()) as usize,
            _ => 0,
        }
    }

    /// How long a record of `len` bytes must wait, with `outstanding` bytes unacknowledged, before it
    /// may leave: `None` while the window is full (wait for acknowledgements), else the pacing
    /// delay (zero: now). A record always may go when nothing is in flight.
    pub(super) fn wait(&self, outstanding: usize, len: usize, now: Instant) -> Option<Duration> {
        // Past the floor the window is a target for the bytes in flight on average, so the
        // record that crosses it may go: holding it back until a whole record fits would keep
        // the average a record below the target, and a window that grows by measuring what was
        // in flight would settle there (measured: stuck at 98 KB, 1 MB/s, at 60 ms).
        let limit = self.floor_now().max(self.target().min(MAX_WINDOW) + len);
        if outstanding > 0 && outstanding + len > limit {
            return None;
        }
        Some(self.next_send.map_or(Duration::ZERO, |at| {
            at.saturating_duration_since(now + PACING_SLACK)
        }))
    }

    /// The pacing rate (bytes/s): the phase's gain × the delivery rate, but never slower than
    /// the floor per round trip (what a fixed window of that size would allow).
    fn pace_rate(&self) -> Option<f64> {
        if !self.adaptive {
            return None;
        }
        let rate = self.max_rate.get()?;
        let rtt = self.min_rtt.get()?.max(Duration::from_millis(1));
        Some((self.gain() * rate).max(self.floor as f64 / rtt.as_secs_f64()))
    }

    /// A record of `len` bytes was handed to SCTP at `now`.
    pub(super) fn on_send(&mut self, len: usize, now: Instant) {
        self.sent += len as u64;
        self.marks.push_back((self.sent, now));
        if let Some(rate) = self.pace_rate() {
            let gap = Duration::from_secs_f64(len as f64 / rate);
            let from = self.next_send.map_or(now, |at| at.max(now - PACING_SLACK));
            self.next_send = Some(from + gap);
        }
    }

    /// The lowest round trip seen lately, if any.
    pub(super) fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt.get()
    }

    /// The highest delivery rate seen lately (bytes/s), if any.
    #[cfg(test)]
    pub(super) fn max_rate(&self) -> Option<f64> {
        self.max_rate.get()
    }
}

/// Where a delivery-rate interval started.
#[derive(Debug, Clone, Copy)]
struct Interval {
    /// Bytes acknowledged then.
    acked: u64,
    at: Instant,
    /// When the oldest record then unacknowledged was sent.
    first_sent: Option<Instant>,
    /// The longest round trip of a record acknowledged since.
    slowest: Duration,
}

/// A round trip this long, against the lowest one, means the acknowledgement was held back
/// (a loss being repaired), not a queue: four times the path's round trip, and 10 ms more
/// for timer granularity on short paths.
fn late(min_rtt: Duration) -> Duration {
    min_rtt * 4 + Duration::from_millis(10)
}

/// The best value seen within `span`: the current best, and the best since it was set as the
/// fallback when it expires (a cheap two-slot windowed filter).
#[derive(Debug)]
struct Filter<T: Copy> {
    span: Duration,
    better: fn(T, T) -> bool,
    best: Option<(T, Instant)>,
    next: Option<(T, Instant)>,
}

impl<T: Copy> Filter<T> {
    fn new(span: Duration, better: fn(T, T) -> bool) -> Self {
        Self {
            span,
            better,
            best: None,
            next: None,
        }
    }

    fn update(&mut self, value: T, now: Instant) {
        if let Some((_, at)) = self.best
            && now.saturating_duration_since(at) > self.span
        {
            self.best = self.next.take();
        }
        match self.best {
            Some((best, _)) if !(self.better)(value, best) => {
                // Not better than the best: a candidate for when the best expires.
                match self.next {
                    Some((next, _)) if !(self.better)(value, next) => {}
                    _ => self.next = Some((value, now)),
                }
            }
            _ => {
                self.best = Some((value, now));
                self.next = None;
            }
        }
    }

    fn get(&self) -> Option<T> {
        self.best.map(|(v, _)| v)
    }
}

#[cfg(test)]
#[path = "window/tests.rs"]
mod tests;
