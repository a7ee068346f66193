//! ICE candidates in a session (`docs/protocol.md` §5 step 7): the session engine holds them
//! until the confirm and says when the peer's go to the [`NativePeer`]; its relayed ones go a
//! moment later ([`RELAYED_REMOTE_DELAY`], a webrtc-rs quirk the engine is told about).

use std::time::Duration;

use tokio::time::Instant;

use super::{SessionError, connect_err};
use crate::peer::NativePeer;

/// How long the peer's relayed candidates wait before we check them.
///
/// webrtc-rs's controlled agent keeps the first pair the other side nominates (rtc-ice 0.21
/// `agent_selector.rs`: a later USE-CANDIDATE is answered but never selected). Chromium,
/// controlling, nominates the first pair that works, and through two cone NATs that was its
/// relayed candidate with our server-reflexive one: our checks toward its relay opened our NAT
/// for it before the direct pair's checks had crossed both NATs (about 200 ms later). Chromium
/// then moved to the direct pair; we did not, and sent everything through the relay (14 of 16
/// runs of the NAT lab's chromium-cli-cone-cone). Not checking its relay candidates for a
/// moment lets the direct pair win; where no direct path exists, our own relayed candidate
/// (checked at once by the peer) still connects, and its relayed candidates follow.
pub(super) const RELAYED_REMOTE_DELAY: Duration = Duration::from_millis(1000);

/// Sleeps until `at`, or for ever.
pub(super) async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

pub(super) async fn add_candidate(
    peer: &NativePeer,
    candidate: &serde_json::Value,
) -> Result<(), SessionError> {
    if candidate.is_null() {
        return Ok(());
    }
    peer.add_remote_candidate(&candidate.to_string())
        .await
        .map_err(connect_err)
}
