use super::*;

/// A path with a bottleneck of `rate` bytes/s and a round trip of `rtt` (FIFO, no loss),
/// driven the way `Wire` drives the window: 32 KiB records, polled every millisecond. Returns
/// the window and the bytes acknowledged after `run`, and the most bytes queued at the
/// bottleneck at any time.
fn simulate(floor: usize, rate: f64, rtt: Duration, run: Duration) -> (PathWindow, u64, f64) {
    const RECORD: usize = 32 * 1024;
    let t0 = Instant::now();
    let mut w = PathWindow::new(floor);
    // (acknowledged at, len) of each record in flight
    let mut flight: VecDeque<(Instant, usize)> = VecDeque::new();
    let mut link_free = t0;
    let mut acked = 0u64;
    let mut max_queue = 0f64;
    let tick = Duration::from_millis(1);
    let mut now = t0;
    while now < t0 + run {
        while flight.front().is_some_and(|&(at, _)| at <= now) {
            if let Some((_, len)) = flight.pop_front() {
                acked += len as u64;
            }
        }
        let outstanding: usize = flight.iter().map(|&(_, l)| l).sum();
        w.on_outstanding(outstanding, now);
        let mut outstanding = outstanding;
        while let Some(Duration::ZERO) = w.wait(outstanding, RECORD, now) {
            w.on_send(RECORD, now);
            let start = link_free.max(now);
            let queued = start.saturating_duration_since(now).as_secs_f64() * rate;
            max_queue = max_queue.max(queued);
            link_free = start + Duration::from_secs_f64(RECORD as f64 / rate);
            flight.push_back((link_free + rtt, RECORD));
            outstanding += RECORD;
        }
        now += tick;
    }
    (w, acked, max_queue)
}

#[test]
fn the_window_grows_to_the_bandwidth_delay_product_of_a_real_link() {
    // 100 Mbit/s, 20 ms: a fixed 64 KiB window would move 64 KiB per round trip (3.3 MB/s).
    let rate = 12.5e6;
    let (w, acked, max_queue) = simulate(
        64 * 1024,
        rate,
        Duration::from_millis(20),
        Duration::from_secs(3),
    );
    let got = acked as f64 / 3.0;
    assert!(got > 0.85 * rate, "moved {got:.0} B/s of {rate}");
    let rtt = w.min_rtt().expect("rtt");
    assert!(
        rtt >= Duration::from_millis(20) && rtt <= Duration::from_millis(24),
        "{rtt:?}"
    );
    let bdp = rate * 0.020;
    let window = w.window() as f64;
    assert!(
        window >= 1.2 * bdp && window <= 2.0 * bdp,
        "window {window} for a BDP of {bdp}"
    );
    // Pacing keeps the bottleneck's queue near one bandwidth-delay product, not a window's worth.
    assert!(max_queue < bdp, "queue {max_queue}");
}

#[test]
fn the_window_follows_a_long_round_trip() {
    let rate = 12.5e6;
    let (w, acked, _) = simulate(
        64 * 1024,
        rate,
        Duration::from_millis(60),
        Duration::from_secs(5),
    );
    let got = acked as f64 / 5.0;
    assert!(got > 0.8 * rate, "moved {got:.0} B/s of {rate}");
    assert!(w.window() as f64 >= 1.2 * rate * 0.060);
}

#[test]
fn on_loopback_the_window_stays_at_the_floor() {
    // A fast path with a tiny round trip: twice its BDP is far below the floor.
    let (w, _, _) = simulate(
        64 * 1024,
        40e6,
        Duration::from_micros(200),
        Duration::from_secs(1),
    );
    assert_eq!(w.window(), 64 * 1024);
}

#[test]
fn the_window_never_exceeds_its_maximum() {
    let (w, _, _) = simulate(
        64 * 1024,
        125e6,
        Duration::from_millis(60),
        Duration::from_secs(3),
    );
    assert_eq!(w.window(), MAX_WINDOW);
}

#[test]
fn pacing_spreads_records_at_the_measured_rate() {
    let mut w = PathWindow::new(64 * 1024);
    let t0 = Instant::now();
    // Teach it a rate of 10 MB/s over a 10 ms round trip (a floor of 64 KiB per 10 ms is
    // slower, so the pace is the rate's).
    w.on_send(100_000, t0);
    w.on_outstanding(100_000, t0);
    w.on_outstanding(0, t0 + Duration::from_millis(10));
    w.on_send(100_000, t0 + Duration::from_millis(10));
    w.on_outstanding(0, t0 + Duration::from_millis(20));
    let rate = w.max_rate().expect("rate");
    assert!((rate - 10e6).abs() < 1e6, "{rate}");
    // Now 15 records of 30 kB go at 2 × 10 MB/s (startup) = one per 1.5 ms (after the slack).
    let mut now = t0 + Duration::from_millis(20);
    let mut sent = 0;
    let end = now + Duration::from_millis(22);
    while now < end {
        if w.wait(0, 30_000, now) == Some(Duration::ZERO) {
            w.on_send(30_000, now);
            sent += 1;
        }
        now += Duration::from_micros(100);
    }
    // 22 ms / 1.5 ms, plus what the 2 ms slack lets go early.
    assert!((15..=18).contains(&sent), "{sent} records in 22 ms");
}

#[test]
fn a_full_window_waits_for_acknowledgements_and_an_empty_one_never_does() {
    let w = PathWindow::new(64 * 1024);
    let now = Instant::now();
    assert_eq!(w.wait(60 * 1024, 32 * 1024, now), None);
    assert_eq!(w.wait(32 * 1024, 32 * 1024, now), Some(Duration::ZERO));
    assert_eq!(
        w.wait(0, 1 << 20, now),
        Some(Duration::ZERO),
        "a record larger than the window"
    );
}

#[test]
fn a_highest_rate_is_forgotten_after_its_span() {
    let mut f: Filter<f64> = Filter::new(RATE_SPAN, |new, old| new >= old);
    let t0 = Instant::now();
    f.update(12e6, t0);
    f.update(5e6, t0 + Duration::from_secs(1));
    assert_eq!(f.get(), Some(12e6));
    f.update(4e6, t0 + RATE_SPAN + Duration::from_secs(1));
    assert_eq!(f.get(), Some(5e6), "the path got slower");
}

#[test]
fn a_full_queue_does_not_inflate_the_window_over_time() {
    // 30 s at 100 Mbit/s, 20 ms: the window stays near twice the path's own BDP.
    let rate = 12.5e6;
    let (w, _, _) = simulate(
        64 * 1024,
        rate,
        Duration::from_millis(20),
        Duration::from_secs(30),
    );
    assert!(w.min_rtt().expect("rtt") <= Duration::from_millis(24));
    assert!(
        (w.window() as f64) <= 2.0 * rate * 0.020,
        "window {}",
        w.window()
    );
}

#[test]
fn small_records_at_the_start_do_not_slow_the_pace_below_the_floor() {
    // A `device` record and a manifest: 300 bytes acknowledged over 150 ms.
    let mut w = PathWindow::new(64 * 1024);
    let t0 = Instant::now();
    w.on_send(300, t0);
    w.on_outstanding(300, t0);
    w.on_outstanding(0, t0 + Duration::from_millis(150));
    assert_eq!(w.max_rate(), None, "no rate from 300 bytes");
    // Then the chunks: at least one floor per round trip (here 150 ms) goes.
    let mut now = t0 + Duration::from_millis(150);
    let mut sent = 0usize;
    while now < t0 + Duration::from_millis(300) {
        if w.wait(0, 32 * 1024, now) == Some(Duration::ZERO) {
            w.on_send(32 * 1024, now);
            w.on_outstanding(0, now);
            sent += 32 * 1024;
        }
        now += Duration::from_millis(1);
    }
    assert!(sent >= 64 * 1024, "{sent} bytes in one round trip");
}

#[test]
fn a_burst_of_held_back_acknowledgements_is_not_a_faster_path() {
    // 10 MB/s over a 10 ms round trip; then a lost packet holds back the acknowledgements of
    // 1 MB for a second (SCTP's retransmission timeout): its retransmission acknowledges
    // 100 kB, and a moment later the rest at once.
    let mut w = PathWindow::new(64 * 1024);
    let t0 = Instant::now();
    let mut now = t0;
    let rtt = Duration::from_millis(10);
    let mut sent_at = VecDeque::new();
    for _ in 0..200 {
        w.on_send(10_000, now);
        sent_at.push_back((w.sent, now));
        now += Duration::from_millis(1);
        let acked = sent_at
            .iter()
            .filter(|&&(_, at)| at + rtt <= now)
            .map(|&(end, _)| end)
            .max()
            .unwrap_or(0);
        w.on_outstanding((w.sent - acked) as usize, now);
    }
    let before = w.max_rate().expect("rate");
    assert!((before - 10e6).abs() < 1.5e6, "{before}");
    for _ in 0..100 {
        w.on_send(10_000, now);
        now += Duration::from_millis(1);
        w.on_outstanding((w.sent - w.acked) as usize, now);
    }
    now += Duration::from_secs(1);
    w.on_outstanding((w.sent - w.acked - 100_000) as usize, now);
    now += Duration::from_millis(10);
    w.on_outstanding(0, now);
    let after = w.max_rate().expect("rate");
    assert!(after <= 1.2 * before, "{before} then {after}");
}

#[test]
fn the_record_that_crosses_a_grown_window_may_go() {
    // Past the floor the window is the average in flight: with a record's worth of room
    // missing, the record still goes (else the window, measured from what is in flight,
    // would settle a record below where it should grow from).
    let mut w = PathWindow::new(64 * 1024);
    let t0 = Instant::now();
    w.on_send(200_000, t0);
    w.on_outstanding(200_000, t0);
    w.on_outstanding(0, t0 + Duration::from_millis(50));
    let window = w.window();
    assert!(window > 64 * 1024, "{window}");
    let now = t0 + Duration::from_secs(1);
    assert!(w.wait(window - 1, 32 * 1024, now).is_some());
    assert_eq!(w.wait(window + 1, 32 * 1024, now), None);
}

#[test]
fn a_short_path_gets_the_short_floor_and_a_long_one_the_floor() {
    let t0 = Instant::now();
    let mut short = PathWindow::new(256 * 1024).with_short_floor(4 << 20);
    assert_eq!(
        short.window(),
        256 * 1024,
        "not measured yet: the small floor"
    );
    short.on_send(1000, t0);
    short.on_outstanding(0, t0 + Duration::from_micros(300));
    assert_eq!(short.window(), 4 << 20);
    let mut long = PathWindow::new(256 * 1024).with_short_floor(4 << 20);
    long.on_send(1000, t0);
    long.on_outstanding(0, t0 + Duration::from_millis(20));
    assert_eq!(long.window(), 256 * 1024);
}

#[test]
fn a_fixed_window_neither_grows_nor_paces() {
    let mut w = PathWindow::new(64 * 1024).fixed();
    let t0 = Instant::now();
    w.on_send(200_000, t0);
    w.on_outstanding(200_000, t0);
    w.on_outstanding(0, t0 + Duration::from_millis(50));
    w.on_send(30_000, t0 + Duration::from_millis(50));
    assert_eq!(w.window(), 64 * 1024);
    assert_eq!(
        w.wait(0, 30_000, t0 + Duration::from_millis(50)),
        Some(Duration::ZERO)
    );
    assert_eq!(
        w.wait(40 * 1024, 32 * 1024, t0 + Duration::from_millis(50)),
        None
    );
}

#[test]
fn acknowledgements_that_come_back_late_give_no_rate_sample() {
    // The rate is 10 MB/s over a 10 ms round trip; then 1 MB goes out at once, a loss holds its
    // acknowledgements back for a second, and the repair acknowledges 100 kB, then the rest
    // 10 ms later: without the lateness check that last sample claims ~90 MB/s (the bytes
    // were sent in a burst, so their sending does not bound it).
    let mut w = PathWindow::new(64 * 1024);
    let t0 = Instant::now();
    let mut now = t0;
    for _ in 0..50 {
        w.on_send(100_000, now);
        now += Duration::from_millis(10);
        w.on_outstanding(0, now);
    }
    let before = w.max_rate().expect("rate");
    for _ in 0..10 {
        w.on_send(100_000, now);
    }
    now += Duration::from_secs(1);
    w.on_outstanding(900_000, now);
    now += Duration::from_millis(10);
    w.on_outstanding(0, now);
    let after = w.max_rate().expect("rate");
    assert!(after <= 1.2 * before, "{before} then {after}");
}
