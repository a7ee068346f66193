//! [`Channel`]: a confirmed session's data channel with its record layer. Every message is one
//! record, opened in order; the peer's `device` records (§10.7) are taken out of the stream
//! here, wherever they come, and the transfers in [`super`] see everything else.
//!
//! **How fast records go** (issue 12): webrtc-rs's SCTP sends its whole congestion window at
//! once and does not pace, so every sender here goes through a [`PathWindow`] (`window.rs`):
//! the bytes in flight follow the path's bandwidth-delay product and records are paced at its
//! delivery rate. Its floor differs by peer:
//! - **a browser** (any peer whose SDP does not name a Pairwise CLI): [`PACED_IN_FLIGHT`], and
//!   records of at most [`PACED_RECORD_BYTES`]. Chromium reads its UDP socket through a 64 KiB
//!   buffer (`ss` shows `rb131072`, about 56 packets): on loopback, 256 KiB records and a
//!   2 MiB send limit lost 50-1 150 packets per transfer at Chromium's socket, and now and then
//!   the loss recovery fell into repeated retransmission timeouts (a CI run timed out at
//!   41 KB/s); 32 KiB records with 64 KiB in flight lost 0-13 (CLI → Chromium, 16 MiB, 3 runs:
//!   15-16 MB/s). That fixed window also bounded every real link (2.6 MB/s at 20 ms on a
//!   100 Mbit/s link); the window now grows with the path and stays at the floor on loopback.
//! - **a CLI through a relay**: [`RELAYED_IN_FLIGHT`] (see [`relayed_in_flight`]).
//! - **a CLI on a direct path**: [`DIRECT_FLOOR`], or [`DIRECT_SHORT_FLOOR`] on a LAN or
//!   loopback, with records as large as the peer takes (small ones cost CLI → CLI about 30 %
//!   on loopback, 233 → 158 MB/s).

use std::collections::VecDeque;

use pairwise_proto::device::{DeviceInfo, DeviceName};
use pairwise_proto::error::ErrorCode;
use pairwise_proto::handshake::PeerConfirmed;
use pairwise_proto::identity::PublicKey;
use pairwise_proto::limits::MAX_RECORD_BYTES;
use pairwise_proto::record::FRAME_HEADER;
use pairwise_proto::transfer::Message;

use super::fail;
use super::flight::Flight;
use super::lanes::{LaneConfig, Lanes};
use super::window::PathWindow;
use super::wire::Wire;
use crate::session::{Established, SessionError};

/// The largest record sent to a peer that is not a Pairwise CLI (see the module doc).
pub(super) const PACED_RECORD_BYTES: usize = 32 * 1024;

/// Bytes that may be unacknowledged toward a peer that is not a Pairwise CLI.
pub(super) const PACED_IN_FLIGHT: usize = 64 * 1024;

/// Bytes that may be unacknowledged between two CLIs on a relayed path (see
/// [`relayed_in_flight`]).
pub(super) const RELAYED_IN_FLIGHT: usize = 256 * 1024;

/// The window between two CLIs whose path is relayed: a TURN server reads its sockets through
/// the system's buffers (coturn: 208 KiB by default), and webrtc-rs's SCTP sends its whole
/// window at once, so a 4 MiB burst overran coturn (129 drops per 16 MB in the NAT lab, each
/// drop costing SCTP a retransmission timeout: 0.3-1.5 MB/s). Measured (release, 32 MB, cone
/// to symmetric NAT, 2-3 runs each, with browsers running beside it: noisy): through coturn
/// 256 KiB 0.4-5.1 MB/s, 512 KiB 3.1-7.4, 1 MiB 2.9, none 0.4-2.0 (47-168 drops); through the
/// embedded relay 256 KiB 28-35, 512 KiB 19-29, none 16-45. 64 KiB collapsed to 0.8 MB/s:
/// relayed SACKs then waited for the driver's next turn (fixed in `peer/runtime.rs`, `Pacer`);
/// with that fix, one run each (embedded cone-sym / both relayed / coturn cone-sym / both):
/// 256 KiB 67/46/57/7.9 MB/s, 1 MiB 63/45/6.5/43, no cap 67/43/4.7/46: coturn still drops
/// bursts (issue 12's pacing), so 256 KiB stays until that is measured again.
/// `PAIRWISE_RELAY_WINDOW` (bytes; 0: none) is there to measure it; users never need it.
fn relayed_in_flight() -> Option<usize> {
    match std::env::var("PAIRWISE_RELAY_WINDOW")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        Some(0) => None,
        Some(n) => Some(n),
        None => Some(RELAYED_IN_FLIGHT),
    }
}

/// The window floor between two CLIs on a direct path whose round trip is not short (see
/// `window.rs`): on a 100 Mbit/s link at 20 ms, webrtc-rs's SCTP alone (no window, no pacing)
/// ended its slow start with hundreds of packets lost at the router and moved 1-3 MB/s.
pub(super) const DIRECT_FLOOR: usize = 256 * 1024;

/// The largest record between two CLIs on a direct path whose round trip is not short: a
/// 256 KiB record is 215 packets at once, and on top of the window it overflowed a 100 Mbit/s
/// router's 50 ms buffer at 60 ms when the startup ended (56 lost, a 1.3 s stall, 5.3 MB/s).
/// On such a path the CPU a smaller record costs does not matter.
pub(super) const LONG_PATH_RECORD_BYTES: usize = 64 * 1024;

/// The largest record when this side may send over lanes (§12): about one association's
/// congestion window where lanes are for (20 ms, 1 % loss: ~14 packets), so that a record
/// does not wait in one lane's queue while others idle. With 64 KiB records four lanes at a
/// time had data (3.4-3.7 MB/s with 16 lanes at 1 % loss).
pub(super) const STRIPED_RECORD_BYTES: usize = 16 * 1024;

/// The window floor between two CLIs on a LAN or loopback: what their send buffer allows anyway
/// (`NativePeerOptions::send_buffer_limit`), so the fastest paths are not held back.
pub(super) const DIRECT_SHORT_FLOOR: usize = 4 << 20;

/// Lanes (§12, `lanes.rs`) a CLI opens toward another CLI when it sends over a direct path
/// whose round trip is not short.
pub(super) const DEFAULT_LANES: u8 = 24;

/// `PAIRWISE_LANES=N`: open N lanes on any direct path to a CLI (benchmarks and tests); unset:
/// [`DEFAULT_LANES`] where the path calls for them.
fn lanes_wanted() -> Option<u8> {
    std::env::var("PAIRWISE_LANES")
        .ok()
        .and_then(|v| v.trim().parse::<u8>().ok())
}

/// Whether windows and pacing follow the path (`window.rs`); `PAIRWISE_PATH_WINDOW=0` restores
/// the fixed windows of before, so a benchmark can measure both with one binary. Users never
/// need it.
fn adaptive_windows() -> bool {
    std::env::var("PAIRWISE_PATH_WINDOW").map_or(true, |v| v.trim() != "0")
}

/// A confirmed session's data channel with its record layer: what [`super::send_on`] and
/// [`super::receive_on`] move files over. `device` records from the peer are taken out of the stream
/// here, so the transfers never see them.
#[derive(Debug)]
pub struct Channel {
    pub(super) wire: Wire,
    pub(super) proof: PeerConfirmed,
    /// The largest record this side sends (the peer's limit, or [`PACED_RECORD_BYTES`]).
    pub(super) max: usize,
    peer_identity: PublicKey,
    /// What this side calls the peer, if it is a remembered device ([`Channel::known_as`]).
    pub(super) stored: Option<StoredName>,
}

/// A remembered peer's name as stored here, and whether the person gave it (`pairwise devices
/// rename`): then it wins over the name the peer gives itself, as `pairwise devices` shows it.
#[derive(Debug, Clone)]
pub(super) struct StoredName {
    name: DeviceName,
    set_by_user: bool,
}

/// The name to show for the peer: the person's own name for it, else the name it gave itself
/// in this session (`told`), else the one it gave in an earlier session; `None` when no name is
/// known (the sentences then say "the other device").
pub(super) fn shown_name<'a>(
    stored: Option<&'a StoredName>,
    told: Option<&'a DeviceName>,
) -> Option<&'a DeviceName> {
    match stored {
        Some(s) if s.set_by_user => Some(&s.name),
        _ => told.or(stored.map(|s| &s.name)),
    }
}

impl Channel {
    /// Takes over an established session and, if `own_name` is given, sends this device's
    /// `device` record as the first record (§10.7).
    ///
    /// # Errors
    /// A [`SessionError`] if the channel is unusable.
    pub async fn open(
        est: Established,
        own_name: Option<&DeviceName>,
    ) -> Result<Self, SessionError> {
        let max = est
            .peer
            .max_message_size()
            .await
            .map_err(|e| fail(ErrorCode::ConnectFailed, format!("{e:#}")))?
            .min(MAX_RECORD_BYTES);
        // A browser peer gets small records and a small window (module doc); an unknown
        // answer counts as a browser.
        let browser = !est.peer.peer_is_cli().await.unwrap_or(false);
        let path = est.peer.path().await;
        let relayed = path.is_some_and(|p| p.is_relayed());
        // ICE's consent checks already measured the round trip: a long path is known before
        // the first record goes.
        let long = path
            .and_then(|p| p.rtt)
            .is_some_and(|rtt| rtt >= super::window::SHORT_RTT);
        let window = if browser {
            Some(PathWindow::new(PACED_IN_FLIGHT))
        } else if relayed {
            relayed_in_flight().map(PathWindow::new)
        } else {
            Some(PathWindow::new(DIRECT_FLOOR).with_short_floor(DIRECT_SHORT_FLOOR))
        };
        let window = if adaptive_windows() {
            window
        } else {
            // As before issue 12, to measure against: fixed windows, no pacing.
            (browser || relayed)
                .then(|| window.map(PathWindow::fixed))
                .flatten()
        };
        let send_max = if browser || relayed {
            max.min(PACED_RECORD_BYTES)
        } else if long {
            max.min(LONG_PATH_RECORD_BYTES)
        } else {
            max
        };
        // Lanes (§12) on a direct path that is not a LAN, where one association's loss-based
        // congestion control is what limits, toward a peer that takes them (a CLI, or a
        // browser, which reads each lane on a socket of its own).
        let peer_takes = est.peer.peer_lanes().await;
        let want_lanes = match lanes_wanted() {
            Some(n) if !relayed && window.is_some() => n,
            None if !relayed && long && window.is_some() => DEFAULT_LANES,
            _ => 0,
        }
        .min(peer_takes);
        // A frame has its sequence number in front of the record.
        let send_max = if want_lanes > 0 {
            send_max.min(max - FRAME_HEADER)
        } else {
            send_max
        };
        let lanes = Lanes::new(LaneConfig {
            bind: est.bind,
            ice: est.ice_servers,
            peer_takes,
        });
        let proof = est.session.proof();
        let peer_identity = est.session.peer_identity().clone();
        let (seal, open) = est.session.into_records(max);
        let mut wire = Wire {
            peer: est.peer,
            events: est.events,
            seal,
            open,
            peer_name: None,
            window,
            lanes,
            want_lanes,
            framed: false,
            reorder: None,
            ready: VecDeque::new(),
            next_channel: 0,
            chunks_per_channel: vec![0],
            flight: Flight::new(std::time::Instant::now()),
            resend: VecDeque::new(),
            ended: false,
        };
        if let Some(name) = own_name {
            let info = DeviceInfo { name: name.clone() };
            wire.send(&Message::Device(info), false).await?;
        }
        Ok(Self {
            wire,
            proof,
            max: send_max,
            peer_identity,
            stored: None,
        })
    }

    /// The peer's identity key.
    pub fn peer_identity(&self) -> &PublicKey {
        &self.peer_identity
    }

    /// Tells the channel what this side calls the peer (a remembered device's stored name, and
    /// whether the person gave it), so the offer and the other lines can name it.
    pub fn known_as(&mut self, name: DeviceName, set_by_user: bool) {
        self.stored = Some(StoredName { name, set_by_user });
    }

    /// The name to show for the peer, if any is known: the person's own name for it, else the
    /// name it gave itself in this session, else the stored one.
    pub fn shown_name(&self) -> Option<&DeviceName> {
        shown_name(self.stored.as_ref(), self.wire.peer_name.as_ref())
    }

    /// The name the peer last gave itself in a `device` record, if it sent one.
    pub fn peer_name(&self) -> Option<&DeviceName> {
        self.wire.peer_name.as_ref()
    }

    /// Waits (at most `limit`) for the peer's `device` record; any other record is refused
    /// (`peer-misbehaved`: nothing else is expected when only pairing).
    ///
    /// # Errors
    /// A [`SessionError`] if the peer sends something else, or leaves without a name.
    pub async fn wait_peer_name(
        &mut self,
        limit: std::time::Duration,
    ) -> Result<Option<DeviceName>, SessionError> {
        if self.wire.peer_name.is_none() {
            match tokio::time::timeout(limit, self.wire.recv()).await {
                Ok(Ok((msg, _))) => {
                    return Err(fail(
                        ErrorCode::PeerMisbehaved,
                        format!(
                            "unexpected message type {:#04x} while pairing",
                            msg.type_byte()
                        ),
                    ));
                }
                Ok(Err(e)) if self.wire.peer_name.is_none() => return Err(e),
                Ok(Err(_)) | Err(_) => {}
            }
        }
        Ok(self.wire.peer_name.clone())
    }

    /// Ends the session: `close {}` unless it ended already (a refusal sent, the peer's `close`,
    /// a drop, §6.1), then closes the channel (waiting briefly until what was sent is
    /// acknowledged).
    pub async fn close(self) {
        self.wire.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::{StoredName, shown_name};
    use pairwise_proto::device::DeviceName;

    fn name(s: &str) -> DeviceName {
        DeviceName::parse(s).unwrap()
    }

    fn stored(s: &str, set_by_user: bool) -> StoredName {
        StoredName {
            name: name(s),
            set_by_user,
        }
    }

    #[test]
    fn the_persons_name_wins_then_the_peers_own_then_the_stored_one() {
        let told = name("Pixel 8");
        let renamed = stored("Anna's phone", true);
        let kept = stored("Pixel 7", false);
        assert_eq!(shown_name(Some(&renamed), Some(&told)), Some(&renamed.name));
        assert_eq!(shown_name(Some(&kept), Some(&told)), Some(&told));
        assert_eq!(shown_name(Some(&kept), None), Some(&kept.name));
        assert_eq!(shown_name(None, Some(&told)), Some(&told));
        assert_eq!(shown_name(None, None), None);
    }
}
