//! The webrtc-rs `SettingEngine` of every [`super::NativePeer`]: which knobs we turn, to what,
//! and why (issue 3). Everything not named here keeps webrtc-rs's default.
//!
//! - **Liveness.** webrtc-rs's ICE defaults (keepalive every 2 s, disconnected after 5 s of
//!   silence, failed 25 s later) left a CLI whose peer vanished (killed, unplugged) waiting about
//!   half a minute before it said so. Here a consent check goes out every
//!   [`ICE_KEEPALIVE`]; after [`ICE_DISCONNECTED`] without hearing anything the connection is
//!   "disconnected" (it recovers on the next packet), and [`ICE_FAILED`] later it has failed,
//!   which [`super::NativePeer`] reports at once. So a peer is given up after 6 s of complete
//!   silence, while a peer that is only slow (a loaded machine stalling for a second or two, a
//!   disk flush) still answers within it: five keepalives in a row must go unanswered. The same
//!   total bounds connectivity checks while connecting (plenty for the host candidates we use).
//! - **Nomination waits.** See [`SRFLX_WAIT`].
//! - **SCTP receive window.** See [`SCTP_RECEIVE_BUFFER`].
//! - **UDP socket buffers.** See [`udp_buffer_bytes`].

use std::time::Duration;

use rtc::ice::mdns::MulticastDnsMode;
use rtc::peer_connection::configuration::setting_engine::SctpMaxMessageSize;
use webrtc::peer_connection::{SettingEngine, SettingEngineBuilder};

use pairwise_proto::signal::IceServer;
use rtc::peer_connection::configuration::{
    RTCConfiguration, RTCConfigurationBuilder, RTCIceServer, RTCIceTransportPolicy,
};

use super::MAX_MESSAGE_SIZE;

/// How often an ICE consent check (a STUN binding request) goes to the peer; its answer is
/// what tells a quiet connection from a dead one.
pub const ICE_KEEPALIVE: Duration = Duration::from_secs(1);

/// Silence after which the connection counts as disconnected (still recoverable).
pub const ICE_DISCONNECTED: Duration = Duration::from_secs(3);

/// Further silence after [`ICE_DISCONNECTED`] until the connection has failed: 6 s in all.
pub const ICE_FAILED: Duration = Duration::from_secs(3);

/// How long the controlling side waits, once a pair with a server-reflexive (NAT-mapped)
/// candidate works, for a better one before it nominates it; [`PRFLX_WAIT`] and [`RELAY_WAIT`]
/// likewise for peer-reflexive and relayed pairs (host pairs: at once).
///
/// webrtc-rs's defaults (0.5 s, 1 s, 2 s, from pion) made every relayed connection in the NAT
/// lab take 2.2 s from the first check to "connected", and a connection through two NATs
/// 0.7 s. A better pair answers within a few round trips of the checks, which go out every
/// 50 ms: these waits still give a direct path 5-10 round trips of 50 ms to win over the relay.
pub const SRFLX_WAIT: Duration = Duration::from_millis(150);
/// See [`SRFLX_WAIT`].
pub const PRFLX_WAIT: Duration = Duration::from_millis(300);
/// See [`SRFLX_WAIT`].
pub const RELAY_WAIT: Duration = Duration::from_millis(600);

/// The SCTP receive window we advertise to another Pairwise CLI (webrtc-rs's default is 1 MiB).
///
/// With 1 MiB a sender may have at most 1 MiB unacknowledged, about 4 ms at loopback rates:
/// whenever the receiving process is descheduled for longer (two processes and their threads on
/// two cores, or any busy machine), the sender stops. 4 MiB, together with the sender's 2 MiB
/// [`super::NativePeerOptions::send_buffer_limit`], measured 250-320 MB/s instead of 210-265
/// on loopback (`bench/RESULTS.md`, session 4); neither helped alone, since the smaller of the two
/// bounds what is in flight. It costs memory only while the application lags: received data
/// waits in SCTP's queue only until it is delivered.
pub const SCTP_RECEIVE_BUFFER: u32 = 4 << 20;

/// The SCTP receive window we advertise to a browser, or to a peer not known yet (this side
/// offers: the offer goes before the peer's SDP says what it is; `pairwise receive` showing its
/// QR code to a phone is that case).
///
/// A browser's SCTP (Chromium's dcSCTP) ends its slow start only on loss: with 4 MiB it
/// overshot a 100 Mbit/s router with a 50 ms buffer by thousands of packets (Chromium → CLI,
/// 64 MiB: 2 259 lost at 20 ms, 9.7 MB/s; 3 152-5 071 at 60 ms, 0.7-3.5 MB/s). 1 MiB is
/// more than a bandwidth-delay product at 100 Mbit/s up to 60 ms and less than one plus that
/// buffer: 11.2 MB/s at 20 ms, at 60 ms 10.1-10.6 MB/s in most runs. Between two CLIs on a
/// LAN 1 MiB costs about a fifth (398-419 → 329-332 MB/s), so a CLI peer gets
/// [`SCTP_RECEIVE_BUFFER`].
pub const SCTP_RECEIVE_BUFFER_BROWSER: u32 = 1 << 20;

/// The UDP socket buffers asked for (`SO_RCVBUF`/`SO_SNDBUF`, see `runtime.rs`).
pub const UDP_BUFFER: usize = 4 << 20;

/// The UDP buffer size to ask for: [`UDP_BUFFER`], or the bytes in `PAIRWISE_UDP_BUFFER`
/// (`0`: the system default). The variable exists so a benchmark can measure what a stock
/// kernel's cap (`net.core.rmem_max`, 208 KiB) gives without changing the machine
/// (`bench/cli-phases.sh`, which counts the dropped packets); users never need it. An unreadable value is ignored, with a
/// warning.
pub fn udp_buffer_bytes() -> Option<usize> {
    udp_buffer_from(std::env::var("PAIRWISE_UDP_BUFFER").ok().as_deref())
}

fn udp_buffer_from(var: Option<&str>) -> Option<usize> {
    let Some(v) = var else {
        return Some(UDP_BUFFER);
    };
    match v.trim().parse::<usize>() {
        Ok(0) => None,
        Ok(n) => Some(n),
        Err(_) => {
            tracing::warn!(
                "PAIRWISE_UDP_BUFFER={v:?} is not a number of bytes; using {UDP_BUFFER}"
            );
            Some(UDP_BUFFER)
        }
    }
}

/// Set once by `--ice-policy relay` (or `PAIRWISE_ICE_POLICY=relay`) before any peer exists.
static RELAY_ONLY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Makes every peer of this process use relayed candidates only (the web app's
/// `iceTransportPolicy: "relay"`): for people who would rather not show the other device their
/// address, and for tests that force the relay. The first call wins.
pub fn set_relay_only(on: bool) {
    let _ = RELAY_ONLY.set(on);
}

/// Whether peers use relayed candidates only (see [`set_relay_only`]; default: no).
pub fn relay_only() -> bool {
    RELAY_ONLY.get().copied().unwrap_or(false)
}

/// The peer connection's configuration: the ICE servers handed out by the signaling server
/// (already checked by `usable_ice_servers`) and the transport policy.
pub(super) fn configuration(servers: &[IceServer], relay_only: bool) -> RTCConfiguration {
    let servers = servers
        .iter()
        .map(|s| RTCIceServer {
            urls: s.urls.clone(),
            username: s.username.clone().unwrap_or_default(),
            credential: s.credential.clone().unwrap_or_default(),
        })
        .collect();
    RTCConfigurationBuilder::new()
        .with_ice_servers(servers)
        .with_ice_transport_policy(if relay_only {
            RTCIceTransportPolicy::Relay
        } else {
            RTCIceTransportPolicy::All
        })
        .build()
}

/// The setting engine for one peer connection, advertising `receive_window` (see
/// [`SCTP_RECEIVE_BUFFER`]).
pub(super) fn setting_engine(receive_window: u32) -> SettingEngine {
    SettingEngineBuilder::new()
        .with_sctp_max_receive_buffer_size(receive_window)
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        .with_sctp_max_message_size(SctpMaxMessageSize::Bounded(MAX_MESSAGE_SIZE as u32))
        .with_ice_timeouts(
            Some(ICE_DISCONNECTED),
            Some(ICE_FAILED),
            Some(ICE_KEEPALIVE),
        )
        .with_srflx_acceptance_min_wait(Some(SRFLX_WAIT))
        .with_prflx_acceptance_min_wait(Some(PRFLX_WAIT))
        .with_relay_acceptance_min_wait(Some(RELAY_WAIT))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_buffer_size_from_the_environment() {
        assert_eq!(udp_buffer_from(None), Some(UDP_BUFFER));
        assert_eq!(udp_buffer_from(Some("212992")), Some(212_992));
        assert_eq!(
            udp_buffer_from(Some("0")),
            None,
            "0 keeps the system default"
        );
        assert_eq!(
            udp_buffer_from(Some("4M")),
            Some(UDP_BUFFER),
            "unreadable: the default"
        );
    }
}
