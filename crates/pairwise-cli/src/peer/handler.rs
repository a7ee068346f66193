//! Bridges webrtc-rs callbacks and data-channel event streams to the [`PeerEvent`] channel.
//!
//! The connection driver awaits every [`PeerConnectionEventHandler`] callback inline, so a
//! callback must never wait for the application: connection-level events are handed to a
//! spawned task. Data-channel events are pumped by one task per channel that awaits the
//! bounded event channel, which is what gives receive-side backpressure: while the
//! application does not take messages, the pump stops polling, webrtc stops delivering and
//! SCTP's receive window closes.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, watch};
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::peer_connection::{
    PeerConnectionEventHandler, RTCIceCandidateInit, RTCIceGatheringState,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState,
};

use super::PeerEvent;
use super::runtime::Pacer;

/// The one data channel of a connection, set once (by the offerer when it creates it, by the
/// answerer when the remote channel opens).
pub(crate) type ChannelSlot = Arc<OnceLock<Arc<dyn DataChannel>>>;

pub(crate) struct Handler {
    pub(crate) events: mpsc::Sender<PeerEvent>,
    pub(crate) channel: ChannelSlot,
    /// Set when the connection fails, for a [`super::NativePeer::send`] that is waiting.
    pub(crate) failed: watch::Sender<bool>,
    /// Ends the driver's short sleeps when the connection fails.
    pub(crate) pacer: Pacer,
}

impl Handler {
    fn emit_later(&self, event: PeerEvent) {
        let events = self.events.clone();
        tokio::spawn(async move {
            // A closed receiver means the application is gone; nothing to tell.
            let _ = events.send(event).await;
        });
    }
}

/// Serializes a local candidate for the remote browser's `addIceCandidate`.
///
/// webrtc-rs's `to_json()` sets `sdpMid: ""`, which names no m-line (Chromium 156 and Firefox
/// ESR 153 happen to accept it anyway). A Pairwise connection has exactly one m-line, so the
/// candidate is addressed the spec-clean way: `sdpMid: null`, `sdpMLineIndex: 0`.
pub(crate) fn candidate_json(mut init: RTCIceCandidateInit) -> Option<String> {
    init.sdp_mid = None;
    init.sdp_mline_index = Some(0);
    init.username_fragment = None;
    serde_json::to_string(&init).ok()
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(init) => {
                if let Some(json) = candidate_json(init) {
                    self.emit_later(PeerEvent::LocalCandidate(json));
                }
            }
            Err(e) => tracing::debug!("local candidate not serializable: {e}"),
        }
    }

    // §5 step 7: the end of candidates goes out as a `null` candidate, as browsers send it, so
    // a peer that waits for it (a third-party implementation may) is not left waiting.
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.emit_later(PeerEvent::LocalCandidate("null".to_owned()));
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!("peer connection state: {state}");
        if state == RTCPeerConnectionState::Failed {
            self.failed.send_replace(true);
            self.pacer.done();
            self.emit_later(PeerEvent::Failed("ICE/DTLS connection failed".to_owned()));
        }
    }

    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        if self.channel.set(Arc::clone(&channel)).is_ok() {
            tokio::spawn(pump(channel, self.events.clone()));
        } else {
            tracing::warn!("ignoring a second data channel from the remote peer");
            let _ = channel.close().await;
        }
    }
}

/// Forwards one channel's events, in order, until it closes; then emits [`PeerEvent::Closed`].
pub(crate) async fn pump(channel: Arc<dyn DataChannel>, events: mpsc::Sender<PeerEvent>) {
    let mut opened = false;
    while let Some(event) = channel.poll().await {
        let forwarded = match event {
            DataChannelEvent::OnOpen if !opened => {
                opened = true;
                PeerEvent::ChannelOpen
            }
            DataChannelEvent::OnMessage(message) => {
                // Data before the open event: RFC 8832 §6 lets the answerer send as soon as it
                // has our DATA_CHANNEL_OPEN, and a message that overtakes the ACK is one
                // (seen through a TURN relay, where webrtc-rs then reported no open at all).
                if !opened {
                    opened = true;
                    if events.send(PeerEvent::ChannelOpen).await.is_err() {
                        break;
                    }
                }
                PeerEvent::Message(message.data.freeze())
            }
            DataChannelEvent::OnClose => break,
            _ => continue,
        };
        if events.send(forwarded).await.is_err() {
            return;
        }
    }
    let _ = events.send(PeerEvent::Closed).await;
}
