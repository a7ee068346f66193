//! A webrtc-rs [`Runtime`] that is Tokio in every respect except one: before a UDP socket is
//! handed to the connection driver, its kernel receive and send buffers are enlarged.
//!
//! webrtc 0.21 binds its sockets itself (`std::net::UdpSocket::bind` in the driver) and offers
//! no socket option, but it passes every bound socket through [`Runtime::wrap_udp_socket`]
//! before use. That hook is the only place an application can configure the socket. With the
//! Linux default of 208 KiB a bulk data channel overruns the receive buffer (`RcvbufErrors` in
//! `/proc/net/snmp`) and SCTP falls back to 1 s retransmission timeouts.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::SockRef;
use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, Runtime,
    TokioRuntime,
};

/// Tokio runtime that sets `SO_RCVBUF`/`SO_SNDBUF` on every UDP socket it wraps.
pub(crate) struct BufferedTokioRuntime {
    inner: TokioRuntime,
    /// Requested size in bytes for both buffers; `None` leaves the system default.
    buffer_bytes: Option<usize>,
}

impl fmt::Debug for BufferedTokioRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferedTokioRuntime")
            .field("buffer_bytes", &self.buffer_bytes)
            .finish()
    }
}

impl BufferedTokioRuntime {
    pub(crate) fn new(buffer_bytes: Option<usize>) -> Self {
        Self {
            inner: TokioRuntime,
            buffer_bytes,
        }
    }
}

/// Applies the buffer sizes. Failures are logged, not fatal: the connection still works with
/// the defaults, only slower. The kernel caps the request at `net.core.rmem_max`/`wmem_max`
/// (unprivileged) and doubles it for bookkeeping, so the effective size is read back and logged.
fn enlarge_buffers(socket: &std::net::UdpSocket, bytes: usize) {
    let sock = SockRef::from(socket);
    if let Err(e) = sock.set_recv_buffer_size(bytes) {
        tracing::warn!("SO_RCVBUF {bytes}: {e}");
    }
    if let Err(e) = sock.set_send_buffer_size(bytes) {
        tracing::warn!("SO_SNDBUF {bytes}: {e}");
    }
    tracing::debug!(
        local = ?socket.local_addr().ok(),
        rcvbuf = ?sock.recv_buffer_size().ok(),
        sndbuf = ?sock.send_buffer_size().ok(),
        "UDP socket buffers"
    );
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
        self.inner.wrap_udp_socket(socket)
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
        self.inner.sleep(duration)
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
