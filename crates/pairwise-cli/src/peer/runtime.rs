//! A webrtc-rs [`Runtime`] that is Tokio in every respect except three: before a UDP socket is
//! handed to the connection driver, its kernel receive and send buffers are enlarged; while
//! the connection is being set up, no sleep lasts longer than [`SETUP_TICK`]; and the driver
//! reads at most [`READS_PER_TURN`] datagrams per turn from a browser.
//!
//! webrtc 0.21 binds its sockets itself (`std::net::UdpSocket::bind` in the driver) and offers
//! no socket option, but it passes every bound socket through [`Runtime::wrap_udp_socket`]
//! before use. That hook is the only place an application can configure the socket. With the
//! Linux default of 208 KiB a bulk data channel overruns the receive buffer (`RcvbufErrors` in
//! `/proc/net/snmp`) and SCTP falls back to 1 s retransmission timeouts.
//!
//! The kernel caps the request at `net.core.rmem_max`, 208 KiB on a stock kernel, unless the
//! process has `CAP_NET_ADMIN` (then `SO_RCVBUFFORCE` goes past the cap, which we try). At the
//! cap (`PAIRWISE_UDP_BUFFER=212992`, `bench/cli-phases.sh`, 512 MiB CLI → CLI on loopback):
//! 88-109 MB/s with 29-122 packets dropped, against 256-322 MB/s and none at 4 MiB. A thread
//! of its own reading the socket into a 4 MiB queue was tried and measured no better
//! (95-109 MB/s, drops alike): on loopback a sender's burst lands in the receiver's buffer
//! within its own system call, faster than any reader wakes. What would help there is pacing
//! the sender's bursts, which webrtc-rs's SCTP does not do.
//!
//! The short sleeps: webrtc 0.21's driver flushes queued packets at the top of its loop, then
//! handles connection events, then sleeps until a socket, an API call or the next protocol
//! timer wakes it. A packet queued while handling an event (the DTLS ClientHello once ICE
//! connects, the SCTP INIT once DTLS is up, the data channel's OPEN once SCTP is up) waits for
//! that timer, typically 200 ms, so each of those steps cost a fifth of a second: pairing two
//! CLIs on loopback took ~0.85 s from the link to the first byte. The driver sleeps through
//! [`Runtime::sleep`], so while [`Tick::Setup`] it wakes every [`SETUP_TICK`] instead, finds
//! the queued packet and sends it. A wake-up finds nothing else to do when no timer is due.
//! Once the path is known ([`Pacer::path_known`]) sleeps are exact again, unless this side's
//! candidate is relayed.
//!
//! Relayed, every packet waits a loop turn more: the driver hands a packet for a TURN relay
//! to its TURN client, which queues it (as a ChannelData message) until the *next* turn's
//! flush, and the TURN client's timeout does not count that queue. So each SACK, each last
//! packet of a burst, each handshake message sat in that queue until a socket or timer woke the
//! driver again, usually the receiver's 200 ms delayed-acknowledgement timer: a relayed
//! CLI → CLI transfer went in steps of 200 ms (39 SACKs for 932 DATA packets of a 1 MiB file,
//! 0.3 MB/s). While [`Tick::Relayed`] the driver wakes every [`RELAY_TICK`] and flushes it.
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use socket2::SockRef;
use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, RecvMeta, Runtime,
    TokioRuntime, Transmit,
};

/// The most datagrams the connection driver reads per turn from a browser (or a peer not known
/// yet). webrtc 0.21's driver drains up to 64 ready datagrams, then flushes: one SACK for them
/// all. A browser's SCTP (dcSCTP) sends at most 4 packets per SACK, and at 1 Gbit/s its
/// 4-packet bursts arrived within ~40 µs, were read in one turn and got one SACK per round
/// trip: the flight never grew past 4 packets (Chromium → CLI 0.37 MB/s at 20 ms, nothing
/// lost; Chromium sent ~200 datagrams/s). Two reads per turn, so a SACK per two packets as
/// RFC 9260 §6.2 asks: 29.7 MB/s. Between two CLIs it costs ~10 % on loopback (321-349 →
/// 298-300 MB/s), so a CLI peer lifts it ([`Pacer::long_reads`]).
pub(crate) const READS_PER_TURN: usize = 2;

/// The longest sleep of the connection driver while the connection is being set up.
pub(crate) const SETUP_TICK: Duration = Duration::from_millis(5);

/// The longest sleep of the connection driver while this side sends through a TURN relay
/// (module doc): Tokio's timer resolution.
pub(crate) const RELAY_TICK: Duration = Duration::from_millis(1);

/// How long the connection driver may sleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Tick {
    /// Being set up, path not known yet: at most [`SETUP_TICK`].
    Setup = 0,
    /// This side's candidate is relayed: at most [`RELAY_TICK`].
    Relayed = 1,
    /// As long as the driver asks.
    Exact = 2,
}

/// The driver's [`Tick`] and its reads per turn ([`READS_PER_TURN`]), shared by the runtime
/// and the peer.
#[derive(Debug, Clone)]
pub(crate) struct Pacer(Arc<AtomicU8>, Arc<AtomicUsize>);

impl Pacer {
    /// `short_reads`: at most [`READS_PER_TURN`] datagrams per driver turn until
    /// [`Self::long_reads`].
    pub(crate) fn new(short_reads: bool) -> Self {
        Self(
            Arc::new(AtomicU8::new(Tick::Setup as u8)),
            Arc::new(AtomicUsize::new(if short_reads {
                READS_PER_TURN
            } else {
                0
            })),
        )
    }

    /// The peer is another CLI: the driver may read as many datagrams per turn as it likes.
    pub(crate) fn long_reads(&self) {
        self.1.store(0, Ordering::Relaxed);
    }

    pub(crate) fn tick(&self) -> Tick {
        match self.0.load(Ordering::Relaxed) {
            0 => Tick::Setup,
            1 => Tick::Relayed,
            _ => Tick::Exact,
        }
    }

    /// The longest sleep now, if any.
    fn cap(&self) -> Option<Duration> {
        match self.tick() {
            Tick::Setup => Some(SETUP_TICK),
            Tick::Relayed => Some(RELAY_TICK),
            Tick::Exact => None,
        }
    }

    /// The selected path is known: short sleeps stay only if this side's candidate is relayed.
    pub(crate) fn path_known(&self, local_relayed: bool) {
        let tick = if local_relayed {
            Tick::Relayed
        } else {
            Tick::Exact
        };
        self.0.store(tick as u8, Ordering::Relaxed);
    }

    /// The connection failed: sleeps are exact from now on.
    pub(crate) fn done(&self) {
        self.0.store(Tick::Exact as u8, Ordering::Relaxed);
    }
}

/// Tokio runtime that sets `SO_RCVBUF`/`SO_SNDBUF` on every UDP socket it wraps.
pub(crate) struct BufferedTokioRuntime {
    inner: TokioRuntime,
    /// Requested size in bytes for both buffers; `None` leaves the system default.
    buffer_bytes: Option<usize>,
    pacer: Pacer,
}

impl fmt::Debug for BufferedTokioRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferedTokioRuntime")
            .field("buffer_bytes", &self.buffer_bytes)
            .field("tick", &self.pacer.tick())
            .finish()
    }
}

impl BufferedTokioRuntime {
    pub(crate) fn new(buffer_bytes: Option<usize>, pacer: Pacer) -> Self {
        Self {
            inner: TokioRuntime,
            buffer_bytes,
            pacer,
        }
    }
}

/// Applies the buffer sizes. Failures are logged, not fatal: the connection still works with
/// the defaults, only slower. The kernel caps the request at `net.core.rmem_max`/`wmem_max`
/// and doubles what it grants (bookkeeping); when the granted size is below the request, a
/// process allowed to (`CAP_NET_ADMIN`, e.g. root) asks again past the cap. The effective sizes
/// are read back and logged.
fn enlarge_buffers(socket: &std::net::UdpSocket, bytes: usize) {
    let sock = SockRef::from(socket);
    if let Err(e) = sock.set_recv_buffer_size(bytes) {
        tracing::warn!("SO_RCVBUF {bytes}: {e}");
    }
    if let Err(e) = sock.set_send_buffer_size(bytes) {
        tracing::warn!("SO_SNDBUF {bytes}: {e}");
    }
    #[cfg(target_os = "linux")]
    force_past_cap(socket, &sock, bytes);
    tracing::debug!(
        local = ?socket.local_addr().ok(),
        rcvbuf = ?sock.recv_buffer_size().ok(),
        sndbuf = ?sock.send_buffer_size().ok(),
        "UDP socket buffers"
    );
}

/// `SO_RCVBUFFORCE`/`SO_SNDBUFFORCE` where the plain request was capped (Linux reads back
/// twice what it granted); refused (`EPERM`) without `CAP_NET_ADMIN`, which leaves the capped
/// size.
#[cfg(target_os = "linux")]
fn force_past_cap(socket: &std::net::UdpSocket, sock: &SockRef<'_>, bytes: usize) {
    use nix::sys::socket::{setsockopt, sockopt};
    if sock.recv_buffer_size().is_ok_and(|got| got < 2 * bytes)
        && let Err(e) = setsockopt(socket, sockopt::RcvBufForce, &bytes)
    {
        tracing::debug!("SO_RCVBUFFORCE {bytes}: {e}");
    }
    if sock.send_buffer_size().is_ok_and(|got| got < 2 * bytes)
        && let Err(e) = setsockopt(socket, sockopt::SndBufForce, &bytes)
    {
        tracing::debug!("SO_SNDBUFFORCE {bytes}: {e}");
    }
}

impl Runtime for BufferedTokioRuntime {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        self.inner.spawn(future)
    }

    fn spawn_reactor(
        &self,
        reactor_pool_size: usize,
        future: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> Box<dyn JoinHandle> {
        self.inner.spawn_reactor(reactor_pool_size, future)
    }

    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        if let Some(bytes) = self.buffer_bytes {
            enlarge_buffers(&socket, bytes);
        }
        let inner = self.inner.wrap_udp_socket(socket)?;
        tracing::debug!(gro = inner.max_gro_segments(), "UDP socket");
        Ok(Arc::new(ShortReads {
            inner,
            streak: AtomicUsize::new(0),
            cap: Arc::clone(&self.pacer.1),
        }))
    }

    fn wrap_tcp_listener(
        &self,
        listener: std::net::TcpListener,
    ) -> io::Result<Arc<dyn AsyncTcpListener>> {
        self.inner.wrap_tcp_listener(listener)
    }

    fn connect_tcp<'a>(
        &'a self,
        remote_addr: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = io::Result<Arc<dyn AsyncTcpStream>>> + Send + 'a>> {
        self.inner.connect_tcp(remote_addr)
    }

    fn resolve_host<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        self.inner.resolve_host(host)
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        match self.pacer.cap() {
            Some(cap) => self.inner.sleep(duration.min(cap)),
            None => self.inner.sleep(duration),
        }
    }

    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        self.inner.interval(period)
    }

    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        self.inner.block_on(future);
    }

    fn yield_now(&self) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        self.inner.yield_now()
    }

    fn name(&self) -> &'static str {
        "tokio+socket-buffers"
    }
}

/// A UDP socket on which the connection driver reads at most `cap` datagrams per turn (0: no
/// limit), so that it acknowledges at least every `cap` packets (see [`READS_PER_TURN`]).
struct ShortReads {
    inner: Arc<dyn AsyncUdpSocket>,
    /// Reads since the driver last found the socket empty or was sent round.
    streak: AtomicUsize,
    cap: Arc<AtomicUsize>,
}

impl fmt::Debug for ShortReads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShortReads")
            .field("cap", &self.cap.load(Ordering::Relaxed))
            .finish()
    }
}

impl AsyncUdpSocket for ShortReads {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn poll_send(
        &self,
        cx: &mut std::task::Context<'_>,
        transmit: &Transmit<'_>,
    ) -> std::task::Poll<io::Result<usize>> {
        self.inner.poll_send(cx, transmit)
    }

    fn poll_recv(
        &self,
        cx: &mut std::task::Context<'_>,
        bufs: &mut [std::io::IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> std::task::Poll<io::Result<usize>> {
        let cap = self.cap.load(Ordering::Relaxed);
        if cap > 0 && self.streak.fetch_add(1, Ordering::Relaxed) >= cap {
            // "Nothing ready" ends the driver's burst; the wake brings it straight back, after
            // its flush sent the acknowledgement for what it read.
            self.streak.store(0, Ordering::Relaxed);
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        let r = self.inner.poll_recv(cx, bufs, meta);
        if r.is_pending() {
            self.streak.store(0, Ordering::Relaxed);
        }
        r
    }

    fn max_gso_segments(&self) -> usize {
        self.inner.max_gso_segments()
    }

    fn max_gro_segments(&self) -> usize {
        self.inner.max_gro_segments()
    }
}
