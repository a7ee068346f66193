//! The embedded STUN/TURN server: what `pairwise serve` offers when no TURN server is
//! configured, so a single binary still gets devices behind NATs connected (issue 11).
//!
//! It is webrtc-rs's `turn` server (RFC 5766 over UDP; it answers STUN Binding requests too)
//! with our own policy around it:
//! - **who**: only REST-scheme credentials minted by this server for a joined connection
//!   ([`crate::ice`]), checked for expiry on every request;
//! - **how many**: at most [`RelayLimits::max_allocations`] allocations in all, and at most
//!   [`RelayLimits::addrs_per_credential`] client addresses per credential (one allocation per
//!   address, so that bounds allocations per signaling connection);
//! - **how fast**: each allocation is paced to [`RelayLimits::rate`] bytes per second, both
//!   directions together;
//! - **how long**: an allocation ends after [`RelayLimits::max_lifetime`] whatever its refreshes;
//! - **where to**: never to loopback, private, link-local, multicast or unspecified addresses, so
//!   the relay cannot be used to reach the server's own services or its local network.
//!
//! The relay forwards DTLS and SCTP packets it cannot read: it learns the two devices' public
//! addresses, as the signaling server already does, and nothing else (`docs/security.md`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::net::UdpSocket;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use turn::auth::{AuthHandler, generate_auth_key};
use turn::relay::RelayAddressGenerator;
use turn::server::Server;
use turn::server::config::{ConnConfig, ServerConfig};
use webrtc_util::Conn;

use crate::ice::{TurnSecret, check_username};

/// The realm of the embedded relay (part of the long-term credential's key).
pub const REALM: &str = "pairwise";

/// Bounds of the embedded relay.
#[derive(Debug, Clone)]
pub struct RelayLimits {
    /// Allocations alive at once, all clients together.
    pub max_allocations: usize,
    /// Client transport addresses one credential may authenticate from.
    pub addrs_per_credential: usize,
    /// Bytes per second through one allocation, both directions together; 0 = unpaced.
    pub rate: u64,
    /// An allocation ends this long after it was made.
    pub max_lifetime: Duration,
    /// UDP ports relayed candidates are taken from (inclusive), for the firewall.
    pub ports: (u16, u16),
}

impl Default for RelayLimits {
    fn default() -> Self {
        Self {
            max_allocations: 256,
            // A browser allocates once per local address it gathers from (often 1-3).
            addrs_per_credential: 4,
            // 400 Mbit/s: more than one home uplink, so a relayed transfer is bounded by the
            // devices' links, while one allocation cannot take a whole 1 Gbit/s server.
            rate: 50_000_000,
            max_lifetime: Duration::from_secs(12 * 60 * 60),
            // The IANA dynamic range, as coturn's default.
            ports: (49152, 65535),
        }
    }
}

/// A running embedded relay; dropping it does not stop it, [`EmbeddedRelay::close`] does.
pub struct EmbeddedRelay {
    server: Server,
    local: SocketAddr,
}

impl std::fmt::Debug for EmbeddedRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedRelay")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

impl EmbeddedRelay {
    /// Listens on UDP `bind`; relayed candidates carry `public_ip` (the address clients reach
    /// the server at) and a port of a UDP socket bound on `bind`'s address.
    ///
    /// # Errors
    /// The UDP port cannot be bound, or the TURN server refuses the configuration.
    pub async fn start(
        bind: SocketAddr,
        public_ip: IpAddr,
        secret: TurnSecret,
        limits: RelayLimits,
    ) -> std::io::Result<Self> {
        let socket = udp_socket(bind)?;
        let local = socket.local_addr()?;
        let relays = BoundedRelays {
            bind_ip: bind.ip(),
            public_ip,
            allocations: Arc::new(Semaphore::new(limits.max_allocations)),
            rate: limits.rate,
            max_lifetime: limits.max_lifetime,
            ports: limits.ports,
        };
        let auth = RestAuth {
            secret,
            addrs_per_credential: limits.addrs_per_credential,
            seen: Mutex::new(HashMap::new()),
        };
        let server = Server::new(ServerConfig {
            conn_configs: vec![ConnConfig {
                conn: Arc::new(socket),
                relay_addr_generator: Box::new(relays),
            }],
            realm: REALM.to_owned(),
            auth_handler: Arc::new(auth),
            channel_bind_timeout: Duration::ZERO,
            alloc_close_notify: None,
        })
        .await
        .map_err(std::io::Error::other)?;
        Ok(Self { server, local })
    }

    /// The UDP address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stops it and ends every allocation.
    pub async fn close(self) {
        let _ = self.server.close().await;
    }
}

/// Socket buffers of the relay's UDP sockets. A relay forwards a sender's bursts as they come:
/// with the system's default (208 KiB) the listening socket dropped 200 packets of one 4 MB
/// CLI-to-CLI transfer in the NAT lab, and each drop costs SCTP a retransmission timeout.
const UDP_BUFFER: usize = 4 << 20;

/// A non-blocking UDP socket bound to `addr` with [`UDP_BUFFER`] (as much as the system allows).
fn udp_socket(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    // A smaller buffer than asked for is still a working relay.
    let _ = socket.set_recv_buffer_size(UDP_BUFFER);
    let _ = socket.set_send_buffer_size(UDP_BUFFER);
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// Most credentials remembered at once (each with the client addresses it was used from).
const MAX_TRACKED_CREDENTIALS: usize = 65_536;

/// Checks REST-scheme credentials: the user name must be unexpired and used from few addresses;
/// the key is derived from the shared secret, so only credentials this server minted verify.
struct RestAuth {
    secret: TurnSecret,
    addrs_per_credential: usize,
    /// Client addresses seen per user name (pruned of expired names when it fills up).
    seen: Mutex<HashMap<String, Vec<SocketAddr>>>,
}

impl AuthHandler for RestAuth {
    fn auth_handle(
        &self,
        username: &str,
        realm: &str,
        src_addr: SocketAddr,
    ) -> Result<Vec<u8>, turn::Error> {
        let now = SystemTime::now();
        check_username(username, now).map_err(|e| turn::Error::Other(e.to_string()))?;
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| turn::Error::Other("poisoned".into()))?;
        if !seen.contains_key(username) && seen.len() >= MAX_TRACKED_CREDENTIALS {
            seen.retain(|u, _| check_username(u, now).is_ok());
            if seen.len() >= MAX_TRACKED_CREDENTIALS {
                return Err(turn::Error::Other("too many credentials in use".into()));
            }
        }
        let addrs = seen.entry(username.to_owned()).or_default();
        if !addrs.contains(&src_addr) {
            if addrs.len() >= self.addrs_per_credential {
                tracing::debug!(%src_addr, "relay: credential used from too many addresses");
                return Err(turn::Error::Other(
                    "credential used from too many addresses".into(),
                ));
            }
            addrs.push(src_addr);
        }
        Ok(generate_auth_key(
            username,
            realm,
            &self.secret.password(username),
        ))
    }
}

/// Makes relay sockets within the allocation cap; each is a [`BoundedConn`].
struct BoundedRelays {
    bind_ip: IpAddr,
    public_ip: IpAddr,
    allocations: Arc<Semaphore>,
    rate: u64,
    max_lifetime: Duration,
    ports: (u16, u16),
}

impl BoundedRelays {
    /// A socket on a free port of the range, tried from a random place in it.
    fn bind_in_range(&self) -> std::io::Result<UdpSocket> {
        let (lo, hi) = self.ports;
        let span = u32::from(hi.saturating_sub(lo)) + 1;
        let mut seed = [0u8; 4];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed);
        let start = u32::from_le_bytes(seed) % span;
        let mut last = std::io::Error::other("empty relay port range");
        for i in 0..span.min(RELAY_PORT_TRIES) {
            let port = lo as u32 + (start + i) % span;
            #[allow(clippy::cast_possible_truncation)]
            match udp_socket(SocketAddr::new(self.bind_ip, port as u16)) {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

/// Ports tried before an allocation is refused for want of one.
const RELAY_PORT_TRIES: u32 = 64;

#[async_trait]
impl RelayAddressGenerator for BoundedRelays {
    fn validate(&self) -> Result<(), turn::Error> {
        Ok(())
    }

    async fn allocate_conn(
        &self,
        _use_ipv4: bool,
        requested_port: u16,
    ) -> Result<(Arc<dyn Conn + Send + Sync>, SocketAddr), turn::Error> {
        let permit = Arc::clone(&self.allocations)
            .try_acquire_owned()
            .map_err(|_| turn::Error::Other("relay is at its allocation limit".into()))?;
        // A requested port (EVEN-PORT, reservations) is not honoured: relay sockets stay in
        // the range the operator opened in the firewall.
        let _ = requested_port;
        let socket = self.bind_in_range()?;
        let mut relayed = socket.local_addr()?;
        relayed.set_ip(self.public_ip);
        let conn = BoundedConn {
            socket,
            pace: Pace::new(self.rate),
            deadline: Instant::now() + self.max_lifetime,
            _permit: permit,
        };
        Ok((Arc::new(conn), relayed))
    }
}

/// A relay socket with its allocation's bounds: pace, lifetime, permitted destinations. Its
/// allocation permit is given back when the allocation drops it.
struct BoundedConn {
    socket: UdpSocket,
    pace: Pace,
    deadline: Instant,
    _permit: OwnedSemaphorePermit,
}

fn expired() -> webrtc_util::Error {
    webrtc_util::Error::Other("relay allocation reached its lifetime".into())
}

#[async_trait]
impl Conn for BoundedConn {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        Ok(self.socket.connect(addr).await?)
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        Ok(self.recv_from(buf).await?.0)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        loop {
            let (n, from) = tokio::time::timeout_at(self.deadline, self.socket.recv_from(buf))
                .await
                .map_err(|_| expired())??;
            // Whatever comes from a forbidden address is not forwarded to the client.
            if permitted(from.ip()) {
                self.pace.take(n).await;
                return Ok((n, from));
            }
        }
    }

    async fn send(&self, _buf: &[u8]) -> webrtc_util::Result<usize> {
        Err(webrtc_util::Error::Other(
            "relay sockets are not connected".into(),
        ))
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        if Instant::now() >= self.deadline {
            return Err(expired());
        }
        if !permitted(target.ip()) {
            // Dropped, as the internet would drop a packet to a private address. Not an error:
            // browsers check every candidate pair, and one unroutable check must not end the
            // allocation the working pair uses.
            return Ok(buf.len());
        }
        self.pace.take(buf.len()).await;
        Ok(self.socket.send_to(buf, target).await?)
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        None
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        Ok(())
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

/// Whether the relay may exchange packets with `ip`: public unicast addresses only (the
/// documentation ranges count as public, so the NAT lab works).
pub fn permitted(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| !permitted(IpAddr::V4(v4))))
        }
    }
}

/// A token bucket: `rate` bytes per second with a burst of 1/20 s (0 = unpaced).
struct Pace {
    rate: u64,
    state: Mutex<(f64, Instant)>,
}

impl Pace {
    fn new(rate: u64) -> Self {
        Self {
            rate,
            state: Mutex::new((Self::burst(rate), Instant::now())),
        }
    }

    fn burst(rate: u64) -> f64 {
        (rate as f64 / 20.0).max(65_536.0)
    }

    async fn take(&self, n: usize) {
        if self.rate == 0 {
            return;
        }
        let wait = {
            let Ok(mut s) = self.state.lock() else { return };
            let now = Instant::now();
            let rate = self.rate as f64;
            let (tokens, last) = *s;
            let tokens = (tokens + now.duration_since(last).as_secs_f64() * rate)
                .min(Self::burst(self.rate))
                - n as f64;
            *s = (tokens, now);
            if tokens < 0.0 {
                Duration::from_secs_f64(-tokens / rate)
            } else {
                Duration::ZERO
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests;
