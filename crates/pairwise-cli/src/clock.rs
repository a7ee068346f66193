//! The wall clock in Unix seconds. A module of its own because the session (the pair's room of
//! the UTC day), the transfer (how old a resumable offer is) and the commands (the keystore's
//! dates) all read it, and none of them should have to import another for it.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current Unix time in seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
