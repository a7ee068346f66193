//! How often one client address may start a signaling session (each WebSocket joins one room,
//! `docs/protocol.md` §4): a token bucket per address. The per-address connection cap
//! ([`crate::Config::max_per_ip`]) bounds what an address holds at once; this bounds how fast it
//! can churn through sessions (opening, joining, closing, again) to load the server or its
//! Redis, or to probe room ids. An honest page opens one session per paired device and per
//! pairing, and retries with a backoff.
//!
//! Addresses count per [`group`]: an IPv6 /64 as one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::addr_group::group;

/// Addresses tracked at most: past it, addresses whose bucket has filled up again are
/// forgotten, and if that frees nothing a new address is let through untracked (memory stays
/// bounded, a few MB, whatever the number of addresses).
const MAX_TRACKED: usize = 100_000;

/// The table is swept at most this often: a sweep reads every entry under the lock, and many
/// new addresses at once (IPv6 prefixes are cheap) must not make each session start do one.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// One address's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Session starts per address ([module doc](self)).
#[derive(Debug)]
pub(crate) struct JoinRate {
    per_minute: u32,
    buckets: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    by_address: HashMap<IpAddr, Bucket>,
    swept: Option<Instant>,
}

impl JoinRate {
    /// `per_minute` session starts per address, all of them at once at most; 0: no cap.
    pub(crate) fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(Table::default()),
        }
    }

    /// Counts a session start from `ip` at `now`; false when its address is over the rate.
    pub(crate) fn take(&self, ip: IpAddr, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let full = f64::from(self.per_minute);
        let per_sec = full / 60.0;
        let fill = |b: &Bucket| {
            (b.tokens + per_sec * now.saturating_duration_since(b.at).as_secs_f64()).min(full)
        };
        let key = group(ip);
        let mut table = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if !table.by_address.contains_key(&key) && table.by_address.len() >= MAX_TRACKED {
            if table
                .swept
                .is_none_or(|at| now.saturating_duration_since(at) >= SWEEP_EVERY)
            {
                table.swept = Some(now);
                table.by_address.retain(|_, b| fill(b) < full);
            }
            if table.by_address.len() >= MAX_TRACKED {
                return true;
            }
        }
        let bucket = table.by_address.entry(key).or_insert(Bucket {
            tokens: full,
            at: now,
        });
        let tokens = fill(bucket);
        *bucket = Bucket {
            tokens: if tokens >= 1.0 { tokens - 1.0 } else { tokens },
            at: now,
        };
        tokens >= 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn a_burst_of_the_whole_minute_then_the_rate() {
        let rate = JoinRate::new(60);
        let t0 = Instant::now();
        let a = ip("198.51.100.1");
        assert_eq!((0..60).filter(|_| rate.take(a, t0)).count(), 60);
        assert!(!rate.take(a, t0), "the 61st at once");
        assert!(rate.take(ip("198.51.100.2"), t0), "another address");
        assert!(!rate.take(a, t0 + Duration::from_millis(900)));
        assert!(
            rate.take(a, t0 + Duration::from_millis(1_000)),
            "one a second"
        );
        assert!(!rate.take(a, t0 + Duration::from_millis(1_100)));
        let later = t0 + Duration::from_secs(3_600);
        assert_eq!(
            (0..70).filter(|_| rate.take(a, later)).count(),
            60,
            "never more than a minute's worth"
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let rate = JoinRate::new(2);
        let t0 = Instant::now();
        assert!(rate.take(ip("2001:db8::1"), t0));
        assert!(rate.take(ip("2001:db8::2"), t0));
        assert!(!rate.take(ip("2001:db8::ffff:3"), t0), "the same /64");
        assert!(rate.take(ip("2001:db8:0:1::1"), t0), "another /64");
        assert!(rate.take(ip("203.0.113.9"), t0));
        assert!(rate.take(ip("::ffff:203.0.113.9"), t0));
        assert!(
            !rate.take(ip("203.0.113.9"), t0),
            "mapped counts as the IPv4 address"
        );
    }

    #[test]
    fn no_cap_at_zero() {
        let rate = JoinRate::new(0);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| rate.take(ip("198.51.100.1"), t0)));
    }

    #[test]
    fn addresses_that_filled_up_again_are_forgotten_when_the_table_is_full() {
        let rate = JoinRate::new(1);
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED {
            let a = u32::try_from(i).unwrap_or(u32::MAX);
            assert!(rate.take(IpAddr::V4(a.into()), t0));
        }
        // All buckets are empty now: a new address is let through untracked.
        assert!(rate.take(ip("255.255.255.254"), t0));
        assert!(
            rate.take(ip("255.255.255.254"), t0),
            "untracked while the table is full"
        );
        // A minute later every bucket is full again and forgotten: the new one is tracked.
        let later = t0 + Duration::from_secs(61);
        assert!(rate.take(ip("255.255.255.254"), later));
        assert!(!rate.take(ip("255.255.255.254"), later));
        let table = rate.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(table.by_address.len(), 1);
    }
}
