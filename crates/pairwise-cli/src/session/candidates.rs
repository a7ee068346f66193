//! ICE candidates in a session (`docs/protocol.md` §5 step 7): ours go out as trickled
//! `candidate` bodies (never inside an SDP), the peer's are applied to the [`NativePeer`], its
//! relayed ones a moment later ([`RELAYED_REMOTE_DELAY`]).

use std::time::Duration;

use pairwise_proto::handshake::PeerSignal;
use tokio::time::Instant;

use super::{SessionError, connect_err, misbehaved, relay};
use crate::peer::NativePeer;
use crate::signaling::Signaling;

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
const RELAYED_REMOTE_DELAY: Duration = Duration::from_millis(1000);

/// Adds the peer's `candidate` now, or queues it in `later` if it is relayed (and this side
/// does not use relayed candidates only, where there is no direct path to prefer).
pub(super) async fn apply_or_later(
    peer: &NativePeer,
    candidate: serde_json::Value,
    later: &mut Vec<(Instant, serde_json::Value)>,
) -> Result<(), SessionError> {
    let relayed = candidate["candidate"]
        .as_str()
        .is_some_and(|c| c.contains(" typ relay"));
    if relayed && !crate::peer::settings::relay_only() {
        later.push((Instant::now() + RELAYED_REMOTE_DELAY, candidate));
        return Ok(());
    }
    add_candidate(peer, &candidate).await
}

/// Sleeps until `at`, or for ever.
pub(super) async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

pub(super) async fn relay_candidate(sig: &mut Signaling, json: &str) -> Result<(), SessionError> {
    let candidate = serde_json::from_str(json).map_err(|e| misbehaved(e.to_string()))?;
    relay(sig, &PeerSignal::Candidate { candidate }).await
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

/// Candidates travel only as trickled `candidate` bodies, held until the peer is verified.
pub(crate) fn without_candidates(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|l| !l.starts_with("a=candidate:") && l.trim_end() != "a=end-of-candidates")
        .collect()
}
