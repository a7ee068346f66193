//! Native WebRTC data-channel peer (webrtc-rs 0.21), so the CLI can talk to browsers.
//!
//! One [`NativePeer`] is one `RTCPeerConnection` carrying one ordered, reliable data channel
//! labelled `pairwise`, created by the offerer. Signaling is the caller's job: SDPs are plain
//! strings (sent without candidates) and candidates are trickled as `RTCIceCandidateInit` JSON
//! (`{candidate, sdpMid, sdpMLineIndex}`) in both directions.
//!
//! Network footprint: the peer binds exactly one UDP socket on the given address and gathers
//! that host candidate, plus a server-reflexive and a relayed one through the STUN/TURN servers
//! the signaling server handed out ([`NativePeerOptions::ice_servers`]; all traffic leaves from
//! that one socket). It sends no mDNS (remote `.local` candidates are dropped; the browser's
//! checks reach us anyway and are learned as peer-reflexive).
//!
//! Flow control: [`NativePeer::send`] waits while more than
//! [`NativePeerOptions::send_buffer_limit`] bytes are queued or unacknowledged, so a sender
//! never buffers a file. Receiving is bounded too: the event channel holds at most
//! [`NativePeerOptions::event_capacity`] events and SCTP stops reading while it is full.

mod handler;
mod path;
mod runtime;
mod sdp;
pub mod settings;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use bytes::{Bytes, BytesMut};
use tokio::sync::{mpsc, watch};
use webrtc::data_channel::RTCDataChannelInit;
use webrtc::peer_connection::{PeerConnection, PeerConnectionBuilder, RTCSessionDescription};

use handler::{ChannelSlot, Handler, pump};
use pairwise_proto::signal::IceServer;
pub use path::{CandidateKind, Path};
use rtc::statistics::StatsSelector;
pub use sdp::{LANES_TAKEN, mark_cli};
use sdp::{is_cli, parse_remote_candidate, remote_max_message_size};

/// Label of the single data channel.
pub const CHANNEL_LABEL: &str = "pairwise";

/// The largest message we send or accept: Chromium's limit, and webrtc-rs's hard ceiling.
pub const MAX_MESSAGE_SIZE: usize = 262_144;

/// Threads of webrtc-rs's reactor pool, where connection drivers run (one per process is
/// plenty: a CLI has one connection). A driver there is never held up by the application's
/// blocking file reads, writes and flushes on the Tokio workers, and stays on one thread:
/// measured 5-10 % less CPU per byte on each side than on the Tokio workers, and faster.
pub const REACTOR_THREADS: usize = 1;

/// How long [`NativePeer::close`] waits for sent messages to be acknowledged.
pub const CLOSE_FLUSH_TIMEOUT: Duration = Duration::from_secs(3);

/// Which side of the offer/answer exchange this peer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Creates the data channel and the offer.
    Offerer,
    /// Accepts an offer and answers.
    Answerer,
}

/// What a [`NativePeer`] reports, in order per source (candidates may interleave).
#[derive(Debug, Clone)]
pub enum PeerEvent {
    /// A local ICE candidate as `RTCIceCandidateInit` JSON, to pass to the remote peer.
    LocalCandidate(String),
    /// The data channel is open; [`NativePeer::send`] may be used.
    ChannelOpen,
    /// One complete binary (or text) message.
    Message(Bytes),
    /// The data channel closed; no more messages follow.
    Closed,
    /// The connection failed (ICE or DTLS); the peer is unusable.
    Failed(String),
}

/// Tunables with measured defaults.
#[derive(Debug, Clone)]
pub struct NativePeerOptions {
    /// `SO_RCVBUF`/`SO_SNDBUF` requested for the UDP socket; `None` keeps the system default
    /// (208 KiB on Linux, which drops packets at loopback rates). Default:
    /// [`settings::udp_buffer_bytes`].
    pub socket_buffer_bytes: Option<usize>,
    /// Bytes that may be queued plus unacknowledged before [`NativePeer::send`] waits.
    pub send_buffer_limit: usize,
    /// Capacity of the event channel (received messages wait here).
    pub event_capacity: usize,
    /// STUN/TURN servers, as the signaling server handed them out (§4.1).
    pub ice_servers: Vec<IceServer>,
    /// Relayed candidates only (`iceTransportPolicy: "relay"`). Default:
    /// [`settings::relay_only`].
    pub relay_only: bool,
    /// The peer is known to be another CLI (from its offer; default: not known). It then gets
    /// the larger receive window and the driver reads freely ([`Self::receive_window`],
    /// `runtime.rs` `READS_PER_TURN`).
    pub peer_is_cli: bool,
    /// The SCTP receive window, if not the one [`Self::receive_window`] picks by peer (a lane,
    /// one of many connections, takes less: `transfer/lanes.rs`).
    pub receive_window: Option<u32>,
    /// The data channel's label: [`CHANNEL_LABEL`], or a lane's.
    pub label: &'static str,
}

impl NativePeerOptions {
    /// The options for a peer whose SDP is `remote_sdp`.
    #[must_use]
    pub fn for_remote_sdp(mut self, remote_sdp: &str) -> Self {
        self.peer_is_cli = sdp::is_cli(remote_sdp);
        self
    }

    /// The SCTP receive window advertised: [`settings::SCTP_RECEIVE_BUFFER`] to a known CLI,
    /// else [`settings::SCTP_RECEIVE_BUFFER_BROWSER`].
    pub fn receive_window(&self) -> u32 {
        if let Some(n) = self.receive_window {
            n
        } else if self.peer_is_cli {
            settings::SCTP_RECEIVE_BUFFER
        } else {
            settings::SCTP_RECEIVE_BUFFER_BROWSER
        }
    }
}

impl Default for NativePeerOptions {
    fn default() -> Self {
        Self {
            socket_buffer_bytes: settings::udp_buffer_bytes(),
            send_buffer_limit: 2 << 20,
            event_capacity: 64,
            ice_servers: Vec::new(),
            relay_only: settings::relay_only(),
            peer_is_cli: false,
            receive_window: None,
            label: CHANNEL_LABEL,
        }
    }
}

/// One WebRTC peer connection with the Pairwise data channel.
pub struct NativePeer {
    role: Role,
    label: &'static str,
    pc: Arc<dyn PeerConnection>,
    channel: ChannelSlot,
    events: mpsc::Sender<PeerEvent>,
    max_message: OnceLock<usize>,
    /// Becomes `true` when the connection failed (ICE gave up on the peer).
    failed: watch::Receiver<bool>,
    /// How long the connection driver may sleep (see `runtime.rs`).
    pacer: runtime::Pacer,
}

impl std::fmt::Debug for NativePeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativePeer")
            .field("role", &self.role)
            .field("channel", &self.channel.get().map(|c| c.id()))
            .finish_non_exhaustive()
    }
}

impl NativePeer {
    /// Builds a peer bound to `bind` (use `127.0.0.1:0` in tests) with default options.
    pub async fn new(role: Role, bind: SocketAddr) -> Result<(Self, mpsc::Receiver<PeerEvent>)> {
        Self::with_options(role, bind, NativePeerOptions::default()).await
    }

    /// Builds a peer bound to `bind` with explicit options.
    pub async fn with_options(
        role: Role,
        bind: SocketAddr,
        options: NativePeerOptions,
    ) -> Result<(Self, mpsc::Receiver<PeerEvent>)> {
        ensure!(
            !bind.ip().is_unspecified(),
            "bind a concrete address, not {bind}: a wildcard binds every interface"
        );
        let (events, rx) = mpsc::channel(options.event_capacity.max(1));
        let (failed_tx, failed) = watch::channel(false);
        let channel: ChannelSlot = Arc::new(OnceLock::new());
        let pacer = runtime::Pacer::new(!options.peer_is_cli);
        let pc = PeerConnectionBuilder::new()
            .with_configuration(settings::configuration(
                &options.ice_servers,
                options.relay_only,
            ))
            .with_setting_engine(settings::setting_engine(options.receive_window()))
            .with_dedicated_reactor_pool_size(REACTOR_THREADS)
            .with_runtime(Arc::new(runtime::BufferedTokioRuntime::new(
                options.socket_buffer_bytes,
                pacer.clone(),
            )))
            .with_handler(Arc::new(Handler {
                events: events.clone(),
                channel: Arc::clone(&channel),
                failed: failed_tx,
                pacer: pacer.clone(),
            }))
            .with_udp_addrs(vec![bind])
            .with_data_channel_send_buffer_limit(options.send_buffer_limit)
            .build()
            .await
            .context("building the WebRTC peer connection")?;
        let peer = Self {
            role,
            label: options.label,
            pc: Arc::new(pc),
            channel,
            events,
            max_message: OnceLock::new(),
            failed,
            pacer,
        };
        Ok((peer, rx))
    }

    /// Offerer: creates the data channel and returns the offer SDP (no candidates in it).
    pub async fn create_offer(&self) -> Result<String> {
        ensure!(
            self.role == Role::Offerer,
            "only the offerer creates an offer"
        );
        let init = RTCDataChannelInit {
            ordered: true,
            ..Default::default()
        };
        let dc = self
            .pc
            .create_data_channel(self.label, Some(init))
            .await
            .context("creating the data channel")?;
        if self.channel.set(Arc::clone(&dc)).is_err() {
            bail!("create_offer called twice");
        }
        tokio::spawn(pump(dc, self.events.clone()));
        let offer = self
            .pc
            .create_offer(None)
            .await
            .context("creating the offer")?;
        self.pc
            .set_local_description(offer)
            .await
            .context("applying the local offer")?;
        self.local_sdp().await
    }

    /// Answerer: applies the remote offer and returns the answer SDP (no candidates in it).
    pub async fn accept_offer(&self, sdp: &str) -> Result<String> {
        ensure!(
            self.role == Role::Answerer,
            "only the answerer accepts an offer"
        );
        let offer = RTCSessionDescription::offer(sdp.to_owned()).context("parsing the offer")?;
        self.pc
            .set_remote_description(offer)
            .await
            .context("applying the remote offer")?;
        let answer = self
            .pc
            .create_answer(None)
            .await
            .context("creating the answer")?;
        self.pc
            .set_local_description(answer)
            .await
            .context("applying the local answer")?;
        self.local_sdp().await
    }

    /// Offerer: applies the remote answer.
    pub async fn accept_answer(&self, sdp: &str) -> Result<()> {
        ensure!(
            self.role == Role::Offerer,
            "only the offerer accepts an answer"
        );
        let answer = RTCSessionDescription::answer(sdp.to_owned()).context("parsing the answer")?;
        self.pc
            .set_remote_description(answer)
            .await
            .context("applying the remote answer")
    }

    /// Adds a remote candidate given as `RTCIceCandidateInit` JSON. The end-of-candidates
    /// marker (empty `candidate`) is accepted and ignored.
    pub async fn add_remote_candidate(&self, json: &str) -> Result<()> {
        let Some(init) = parse_remote_candidate(json)? else {
            return Ok(());
        };
        self.pc
            .add_ice_candidate(init)
            .await
            .context("adding a remote ICE candidate")
    }

    /// The largest message [`send`](Self::send) accepts: the remote SDP's
    /// `a=max-message-size` (64 KiB if absent, per RFC 8841), capped at [`MAX_MESSAGE_SIZE`].
    ///
    /// Read from the SDP rather than from webrtc-rs's `SctpTransport::max_message_size`,
    /// which treats an absent attribute as "our own limit" (256 KiB) instead of 64 KiB.
    pub async fn max_message_size(&self) -> Result<usize> {
        if let Some(&n) = self.max_message.get() {
            return Ok(n);
        }
        let n = remote_max_message_size(&self.remote_sdp().await?);
        Ok(*self.max_message.get_or_init(|| n))
    }

    /// Whether the remote side is a Pairwise CLI (its SDP carries our session name,
    /// [`mark_cli`]); otherwise it is a browser or unknown. A CLI peer also lifts the driver's
    /// reads-per-turn limit (`runtime.rs`, `READS_PER_TURN`).
    pub async fn peer_is_cli(&self) -> Result<bool> {
        let cli = is_cli(&self.remote_sdp().await?);
        if cli {
            self.pacer.long_reads();
        }
        Ok(cli)
    }

    /// How many lanes (`docs/protocol.md` §12) the remote side declared it takes in its SDP
    /// (0: none, or not known yet).
    pub async fn peer_lanes(&self) -> u8 {
        self.remote_sdp()
            .await
            .map_or(0, |sdp| pairwise_proto::lanes::declared_lanes(&sdp))
    }

    /// The path the connection uses now: the selected candidate pair's local and remote
    /// candidate types, or `None` before one is selected.
    ///
    /// Also tells the connection driver how long it may sleep from now on: exactly as long as
    /// it asks, unless this side's candidate is relayed (`runtime.rs`). Until a path is known
    /// it wakes every few milliseconds.
    pub async fn path(&self) -> Option<Path> {
        let report = self
            .pc
            .get_stats(std::time::Instant::now(), StatsSelector::None)
            .await;
        let path = path::selected(&report);
        if let Some(p) = path {
            self.pacer.path_known(p.local == CandidateKind::Relay);
        }
        path
    }

    /// The SDP the other side sent (set once offer and answer are exchanged).
    async fn remote_sdp(&self) -> Result<String> {
        let remote = self
            .pc
            .remote_description()
            .await
            .ok_or_else(|| anyhow!("no remote description yet"))?;
        Ok(remote.sdp)
    }

    /// The bytes handed to the data channel and not yet acknowledged by the peer's SCTP stack
    /// (what `transfer/window.rs` sizes its window with), or why there will be none: the
    /// connection failed.
    pub async fn outstanding(&self) -> Result<usize> {
        if *self.failed.borrow() {
            bail!("the connection failed: the peer stopped answering");
        }
        let Some(dc) = self.channel.get() else {
            return Ok(0);
        };
        Ok(dc.outstanding_bytes().await.unwrap_or(0))
    }

    /// Sends one binary message, waiting while the send buffer is over its limit. Fails as
    /// soon as the connection does (a vanished peer acknowledges nothing, so the wait for
    /// room in the send buffer would otherwise last until webrtc-rs closes the channel).
    pub async fn send(&self, data: Bytes) -> Result<()> {
        let dc = self
            .channel
            .get()
            .ok_or_else(|| anyhow!("the data channel is not open"))?;
        let max = self.max_message_size().await?;
        ensure!(
            data.len() <= max,
            "message of {} bytes exceeds the peer's limit of {max}",
            data.len()
        );
        let data = data
            .try_into_mut()
            .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
        let mut failed = self.failed.clone();
        tokio::select! {
            sent = dc.send(data) => sent.context("sending on the data channel"),
            Ok(_) = failed.wait_for(|f| *f) => bail!("the connection failed: the peer stopped answering"),
        }
    }

    /// Waits until every byte handed to [`send`](Self::send) has been acknowledged by the
    /// remote SCTP stack, or `timeout` passes. Returns whether everything was acknowledged.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let Some(dc) = self.channel.get() else {
            return true;
        };
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match dc.outstanding_bytes().await {
                Ok(0) => return true,
                Ok(_) if tokio::time::Instant::now() < deadline && !*self.failed.borrow() => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                _ => return false,
            }
        }
    }

    /// Closes the data channel and the connection, after giving messages already sent up to
    /// [`CLOSE_FLUSH_TIMEOUT`] to be acknowledged.
    ///
    /// webrtc-rs tears the association down at once: without the flush, the last megabyte
    /// sent (everything still queued or unacknowledged) is lost, measured 0.8 of 64 MiB.
    pub async fn close(&self) -> Result<()> {
        // A relayed side keeps its short sleeps: the flush waits for acknowledgements.
        if self.pacer.tick() == runtime::Tick::Setup {
            self.pacer.done();
        }
        if let Some(dc) = self.channel.get() {
            if !self.flush(CLOSE_FLUSH_TIMEOUT).await {
                tracing::debug!("closing with unacknowledged data");
            }
            let _ = dc.close().await;
        }
        self.pc.close().await.context("closing the peer connection")
    }

    async fn local_sdp(&self) -> Result<String> {
        self.pc
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or_else(|| anyhow!("no local description"))
    }
}
