//! Lanes (`docs/protocol.md` §12): more peer connections between the same two devices, each its
//! own SCTP association, for one side's records. One association is one loss-based congestion
//! controller: at a 20 ms round trip with 1 % loss webrtc-rs's SCTP carries about 0.7 MB/s,
//! whatever the link's rate; several in parallel carry several times that.
//!
//! [`Lanes`] owns the connections and their events; [`super::wire::Wire`] decides what goes
//! where. A lane is negotiated inside the session (its SDPs and candidates are records, so the
//! server never sees them and the DTLS fingerprints in them are authenticated), carries only
//! its opener's records, and lives as long as the session.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use pairwise_proto::error::ErrorCode;
use pairwise_proto::lanes::{CandidateInit, LANE_LABEL, LaneCandidate, LaneSdp, LaneSide};
use pairwise_proto::signal::IceServer;
use pairwise_proto::transfer::Message;
use tokio::sync::mpsc;

use super::fail;
use super::flight::Flight;
use crate::peer::{LANES_TAKEN, NativePeer, NativePeerOptions, PeerEvent, Role, mark_cli};
use crate::session::SessionError;
use pairwise_proto::session::without_candidates;

/// The SCTP receive window of a lane this side answers: one of up to [`LANES_TAKEN`], so that
/// all of them together stay within the CLI's memory budget; 1 MiB carries 50 MB/s per lane at
/// a 20 ms round trip.
pub(super) const LANE_RECEIVE_WINDOW: u32 = 1 << 20;

/// Events (records) a lane queues before its SCTP stops reading.
const LANE_EVENTS: usize = 8;

/// How long a lane this side offered may take to open; after that it is closed and never used
/// (nothing was sent on it, so nothing is lost).
pub(super) const LANE_OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Where lanes connect from: the session connection's local address and ICE servers.
#[derive(Debug, Clone)]
pub(super) struct LaneConfig {
    pub(super) bind: SocketAddr,
    pub(super) ice: Vec<IceServer>,
    /// Lanes the peer takes (its SDP's `a=pairwise-lanes`); 0: offer none.
    pub(super) peer_takes: u8,
}

/// Something one lane reported.
#[derive(Debug)]
pub(super) struct LaneEvent {
    pub(super) lane: u8,
    /// Whether this side opened the lane (it sends on it) or answered it (it receives).
    pub(super) ours: bool,
    pub(super) event: PeerEvent,
}

/// A lane this side opened and sends on.
#[derive(Debug)]
pub(super) struct OutLane {
    pub(super) index: u8,
    pub(super) peer: NativePeer,
    /// Its unacknowledged frames (`flight.rs`).
    pub(super) flight: Flight,
    pub(super) open: bool,
    answered: bool,
    offered: Instant,
}

/// Every lane of a session, both ways.
#[derive(Debug)]
pub(super) struct Lanes {
    config: LaneConfig,
    pub(super) out: Vec<OutLane>,
    inbound: BTreeMap<u8, NativePeer>,
    tx: mpsc::Sender<LaneEvent>,
    rx: mpsc::Receiver<LaneEvent>,
}

impl Lanes {
    /// Lanes over `config`; only its STUN servers are kept: lanes are opened only on a direct
    /// path, and a TURN allocation per lane would only load the relay (a lane that cannot
    /// connect directly is simply not used).
    pub(super) fn new(mut config: LaneConfig) -> Self {
        config.ice = stun_only(&config.ice);
        let (tx, rx) = mpsc::channel(64);
        Self {
            config,
            out: Vec::new(),
            inbound: BTreeMap::new(),
            tx,
            rx,
        }
    }

    /// How many more lanes this side may open.
    pub(super) fn room(&self) -> u8 {
        self.config
            .peer_takes
            .saturating_sub(u8::try_from(self.out.len()).unwrap_or(u8::MAX))
    }

    /// Opens the next lane: returns the `lane-offer` to send on the session's channel.
    pub(super) async fn offer(&mut self) -> Result<Message, SessionError> {
        let index = u8::try_from(self.out.len() + 1).unwrap_or(u8::MAX);
        let options = NativePeerOptions {
            ice_servers: self.config.ice.clone(),
            peer_is_cli: true,
            event_capacity: LANE_EVENTS,
            label: LANE_LABEL,
            ..NativePeerOptions::default()
        };
        let (peer, events) = NativePeer::with_options(Role::Offerer, self.any_port(), options)
            .await
            .map_err(connect_err)?;
        let sdp = peer.create_offer().await.map_err(connect_err)?;
        self.forward(index, true, events);
        self.out.push(OutLane {
            index,
            peer,
            flight: Flight::new(Instant::now()),
            open: false,
            answered: false,
            offered: Instant::now(),
        });
        Ok(Message::LaneOffer(LaneSdp {
            lane: index,
            sdp: mark_cli(&without_candidates(&sdp)),
        }))
    }

    /// Answers the peer's `lane-offer`: returns the `lane-answer` to send.
    pub(super) async fn answer(&mut self, offer: LaneSdp) -> Result<Message, SessionError> {
        if offer.lane > LANES_TAKEN || self.inbound.contains_key(&offer.lane) {
            return Err(fail(
                ErrorCode::PeerMisbehaved,
                format!("lane {} offered twice or beyond {LANES_TAKEN}", offer.lane),
            ));
        }
        let options = NativePeerOptions {
            ice_servers: self.config.ice.clone(),
            receive_window: Some(LANE_RECEIVE_WINDOW),
            event_capacity: LANE_EVENTS,
            label: LANE_LABEL,
            ..NativePeerOptions::default()
        }
        .for_remote_sdp(&offer.sdp);
        let (peer, events) = NativePeer::with_options(Role::Answerer, self.any_port(), options)
            .await
            .map_err(connect_err)?;
        let sdp = peer.accept_offer(&offer.sdp).await.map_err(connect_err)?;
        self.forward(offer.lane, false, events);
        self.inbound.insert(offer.lane, peer);
        Ok(Message::LaneAnswer(LaneSdp {
            lane: offer.lane,
            sdp: mark_cli(&without_candidates(&sdp)),
        }))
    }

    /// Applies the peer's `lane-answer` to the lane this side offered.
    pub(super) async fn on_answer(&mut self, answer: LaneSdp) -> Result<(), SessionError> {
        let Some(lane) = self
            .out
            .iter_mut()
            .find(|l| l.index == answer.lane && !l.answered)
        else {
            return Err(fail(
                ErrorCode::PeerMisbehaved,
                format!(
                    "an answer for lane {}, which is not waiting for one",
                    answer.lane
                ),
            ));
        };
        lane.answered = true;
        lane.peer
            .accept_answer(&answer.sdp)
            .await
            .map_err(connect_err)
    }

    /// Applies the peer's `lane-candidate`.
    pub(super) async fn on_candidate(&mut self, c: LaneCandidate) -> Result<(), SessionError> {
        let peer = match c.side {
            // The peer offered the lane: ours to answer.
            LaneSide::Offer => self.inbound.get(&c.lane),
            LaneSide::Answer => self.out.iter().find(|l| l.index == c.lane).map(|l| &l.peer),
        };
        let Some(peer) = peer else {
            return Err(fail(
                ErrorCode::PeerMisbehaved,
                format!("a candidate for lane {}, which does not exist", c.lane),
            ));
        };
        let Some(init) = c.candidate else {
            return Ok(());
        };
        let json = serde_json::to_string(&init).unwrap_or_default();
        peer.add_remote_candidate(&json).await.map_err(connect_err)
    }

    /// The `lane-candidate` for one of this side's local candidates (`json` as the peer
    /// reported it), or `None` if it does not parse (webrtc-rs wrote it: never).
    pub(super) fn candidate(lane: u8, ours: bool, json: &str) -> Option<Message> {
        // `null` is the end of candidates, which a lane-candidate carries as `candidate: null`.
        let init: Option<CandidateInit> = serde_json::from_str(json).ok()?;
        Some(Message::LaneCandidate(LaneCandidate {
            lane,
            side: if ours {
                LaneSide::Offer
            } else {
                LaneSide::Answer
            },
            candidate: init,
        }))
    }

    /// Marks this side's lane open (its data channel is).
    pub(super) fn opened(&mut self, lane: u8) {
        if let Some(l) = self.out.iter_mut().find(|l| l.index == lane) {
            tracing::debug!("lane {lane} open");
            l.open = true;
        }
    }

    /// Drops lane `lane` (this side's if `ours`), closing it; returns the frames this side
    /// sent on it that were not acknowledged, to go again elsewhere.
    pub(super) fn drop_lane(&mut self, lane: u8, ours: bool) -> Vec<bytes::Bytes> {
        let gone = if ours {
            let at = self.out.iter().position(|l| l.index == lane);
            at.map(|i| self.out.remove(i))
                .map(|mut l| (l.flight.take_all(), l.peer))
        } else {
            self.inbound.remove(&lane).map(|p| (Vec::new(), p))
        };
        let Some((again, peer)) = gone else {
            return Vec::new();
        };
        tokio::spawn(async move {
            let _ = peer.close().await;
        });
        again
    }

    /// Closes lanes this side offered that did not open in time.
    pub(super) fn expire(&mut self, now: Instant) {
        let (late, keep): (Vec<_>, Vec<_>) = self
            .out
            .drain(..)
            .partition(|l| !l.open && now.saturating_duration_since(l.offered) > LANE_OPEN_TIMEOUT);
        self.out = keep;
        for lane in late {
            tracing::debug!("lane {} did not open in time; not used", lane.index);
            tokio::spawn(async move {
                let _ = lane.peer.close().await;
            });
        }
    }

    /// The next lane event (waits; there is always a sender, so never ends).
    pub(super) async fn next_event(&mut self) -> Option<LaneEvent> {
        self.rx.recv().await
    }

    /// A lane event that already happened.
    pub(super) fn try_event(&mut self) -> Option<LaneEvent> {
        self.rx.try_recv().ok()
    }

    /// Closes every lane, giving what this side sent on its own up to the close flush to be
    /// acknowledged (all at once).
    pub(super) async fn close(self) {
        let out = self.out.iter().map(|l| l.peer.close());
        let inbound = self.inbound.values().map(NativePeer::close);
        futures_util::future::join_all(out.chain(inbound)).await;
    }

    fn any_port(&self) -> SocketAddr {
        SocketAddr::new(self.config.bind.ip(), 0)
    }

    /// Hands a lane's events to [`Self::next_event`], tagged with the lane.
    fn forward(&self, lane: u8, ours: bool, mut events: mpsc::Receiver<PeerEvent>) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if tx.send(LaneEvent { lane, ours, event }).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// The STUN URLs of `ice`, without credentials.
fn stun_only(ice: &[IceServer]) -> Vec<IceServer> {
    ice.iter()
        .map(|s| IceServer {
            urls: s
                .urls
                .iter()
                .filter(|u| u.starts_with("stun:") || u.starts_with("stuns:"))
                .cloned()
                .collect(),
            username: None,
            credential: None,
        })
        .filter(|s| !s.urls.is_empty())
        .collect()
}

fn connect_err(e: anyhow::Error) -> SessionError {
    fail(ErrorCode::ConnectFailed, format!("lane: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_use_stun_only() {
        let ice = vec![
            IceServer {
                urls: vec![
                    "stun:198.51.100.1:3478".into(),
                    "turn:198.51.100.1:3478".into(),
                ],
                username: Some("1:x".into()),
                credential: Some("c".into()),
            },
            IceServer {
                urls: vec!["turns:relay.example:443".into()],
                username: Some("1:x".into()),
                credential: Some("c".into()),
            },
        ];
        let kept = stun_only(&ice);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].urls, ["stun:198.51.100.1:3478"]);
        assert_eq!(kept[0].username, None);
    }
}
