//! Pairwise signaling server: serves the embedded web app and relays signaling between the two
//! peers of a room over WebSockets. It never sees keys, file names or file bytes: those travel
//! end-to-end encrypted over WebRTC, and the server is untrusted by design (`docs/security.md`).
//!
//! A library first: [`app`] builds the router (tested with `oneshot` and real sockets),
//! [`run`] serves it on a listener until a shutdown future resolves, and [`run_tls`] does the
//! same over HTTPS (the WebSocket is then `wss://` on the same port).
//!
//! # Layout
//! - [`config`]: limits an operator can set.
//! - [`ice`]: STUN/TURN servers and the TURN credentials minted for each joined connection.
//! - [`relay`]: the embedded STUN/TURN server (UDP) behind `pairwise serve`'s default.
//! - `routes`: HTTP routes (web app, health, readiness, metrics).
//! - [`metrics`]: the counters behind `/metrics`.
//! - `assets`: the web client embedded at build time.
//! - `ws`: the WebSocket endpoint and the per-connection session actor.
//! - `conn`: serving connections: header-read timeout, per-address cap, drain on shutdown.
//! - `addr_group`: which client addresses the per-address limits count as one (IPv6 per /64).
//! - [`rooms`]: the [`Broker`] sessions join rooms through: in memory (the
//!   default) or on Redis, shared by several nodes.
//! - [`tls`]: the TLS listener behind [`run_tls`] (the certificate is the caller's).
//! - [`hosts`]: the names the server answers to and the pages that may open its WebSocket.

pub mod config;
pub mod hosts;
pub mod ice;
pub mod metrics;
pub mod relay;
pub mod rooms;
pub mod tls;

mod addr_group;
mod assets;
mod conn;
mod join_rate;
mod routes;
mod ws;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use config::Config;
use rooms::{Broker, ConnId};

/// Shared state of one server.
#[derive(Debug, Clone)]
pub struct AppState {
    rooms: Broker,
    ice: Arc<ice::IceConfig>,
    connections: Arc<Semaphore>,
    next_id: Arc<AtomicU64>,
    limits: ws::session::Limits,
    hosts: Arc<hosts::HostPolicy>,
    metrics: Arc<metrics::Metrics>,
    join_rate: Arc<join_rate::JoinRate>,
    /// Cancelled when the server starts to drain: `/readyz` says so and every WebSocket is
    /// closed with 1001, so its client reconnects (to another node, behind a balancer).
    draining: tokio_util::sync::CancellationToken,
}

impl AppState {
    /// Fresh state for `config`.
    pub fn new(config: &Config) -> Self {
        Self {
            rooms: Broker::default(),
            ice: Arc::new(config.ice.clone()),
            connections: Arc::new(Semaphore::new(config.max_connections)),
            next_id: Arc::new(AtomicU64::new(1)),
            limits: ws::session::Limits {
                join_deadline: config.join_deadline,
                send_timeout: config.send_timeout,
                ping_interval: config.ping_interval,
                idle_timeout: config.idle_timeout,
            },
            hosts: Arc::new(hosts::HostPolicy::new(&config.hosts, false)),
            metrics: Arc::default(),
            join_rate: Arc::new(join_rate::JoinRate::new(config.joins_per_ip_minute)),
            draining: tokio_util::sync::CancellationToken::new(),
        }
    }

    /// The same, for a server that terminates TLS itself: pages that open its WebSocket are
    /// `https://`.
    pub fn new_tls(config: &Config) -> Self {
        Self {
            hosts: Arc::new(hosts::HostPolicy::new(&config.hosts, true)),
            ..Self::new(config)
        }
    }

    /// The same, with rooms in `broker` (e.g. [`rooms::RedisRooms`]) instead of in memory.
    #[must_use]
    pub fn with_broker(self, broker: Broker) -> Self {
        Self {
            rooms: broker,
            ..self
        }
    }

    /// The rooms of this server (for tests and metrics).
    pub fn rooms(&self) -> &Broker {
        &self.rooms
    }

    /// The server's counters.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    fn next_conn_id(&self) -> ConnId {
        ConnId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }
}

/// The router: web app, health check and WebSocket signaling.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then drains: `/readyz` answers 503,
/// every WebSocket is closed with 1001 and open requests finish (at most 10 s).
///
/// # Errors
/// IO errors from accepting connections.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve(listener, AppState::new(&config), &config, shutdown).await
}

/// [`run`] with a state made by the caller (rooms on Redis: [`AppState::with_broker`]).
///
/// # Errors
/// IO errors from accepting connections.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    conn::serve(listener, state, config, shutdown).await
}

/// Serves [`app`] over HTTPS with `tls` (certificate chain and key) on `listener` until
/// `shutdown` resolves, then finishes open requests, like [`run`].
///
/// # Errors
/// IO errors from accepting connections.
pub async fn run_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_tls(listener, tls, AppState::new_tls(&config), &config, shutdown).await
}

/// [`run_tls`] with a state made by the caller, which must come from [`AppState::new_tls`].
///
/// # Errors
/// IO errors from accepting connections.
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: AppState,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tls::TlsListener::new(listener, tls);
    conn::serve(listener, state, config, shutdown).await
}
