//! Serving HTTP connections with bounds a hostile client cannot outlast (issue 13).
//!
//! `axum::serve` sets no header-read timeout: 1 100 half-sent requests from one address held
//! every descriptor of a server with the usual soft limit of 1 024, and `/healthz` went
//! unanswered for 95 s. Here each connection is served by hyper's HTTP/1.1 connection with:
//! - a **header-read timeout** ([`crate::Config::header_read_timeout`]): a request whose head
//!   has not fully arrived by then, or a kept-alive connection that sends no next request, is
//!   closed (hyper starts the clock whenever it waits for a request head, from the first byte
//!   or none);
//! - a **per-address cap** ([`crate::Config::max_per_ip`]) on open connections, WebSockets
//!   included (a connection's slot lives in its IO, which hyper hands on to the WebSocket):
//!   one address cannot take the slots of everyone else; past it a new connection from that
//!   address is closed at once. Addresses count as `crate::addr_group::group` says: an IPv6
//!   /64 is one address, as for the session rate.
//!
//! HTTP/2 is not offered (the TLS listener advertises only `http/1.1`): the app and the
//! WebSocket need nothing more, and it keeps one set of timeouts to reason about.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::addr_group::group;
use crate::metrics::Rejection;

/// How long open requests get to finish after shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Open connections per client address ([`group`]).
#[derive(Debug, Default)]
struct PerIp {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One counted connection; uncounted when dropped.
struct Slot {
    per_ip: Arc<PerIp>,
    /// The grouped address this slot counts for.
    key: IpAddr,
}

impl PerIp {
    /// A slot for a connection from `ip`, or `None` if its address group already has `cap`
    /// (0: no cap).
    fn take(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<Slot> {
        let key = group(ip);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(key).or_default();
        if cap != 0 && *n >= cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            per_ip: self.clone(),
            key,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .per_ip
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// A connection's IO with its slot: the slot goes when the IO does, which for a WebSocket is
/// when the session ends (hyper hands this IO on to it at the upgrade), not when the HTTP
/// exchange does.
struct Counted<I> {
    io: I,
    _slot: Slot,
}

impl<I: AsyncRead + Unpin> AsyncRead for Counted<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Counted<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Serves the app of `state` on `listener` until `shutdown` resolves; then stops accepting,
/// tells the WebSockets to go (1001) and lets open requests finish (up to [`DRAIN_TIMEOUT`]).
pub(crate) async fn serve<L>(
    mut listener: L,
    state: crate::AppState,
    config: &crate::Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener<Addr = SocketAddr>,
{
    let (max_per_ip, header_read_timeout) = (config.max_per_ip, config.header_read_timeout);
    let app = crate::app(state.clone());
    let per_ip = Arc::new(PerIp::default());
    let stop = CancellationToken::new();
    let tasks = tokio_util::task::TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let Some(slot) = per_ip.take(peer.ip(), max_per_ip) else {
            tracing::debug!(ip = %peer.ip(), "refused: too many connections from this address");
            state.metrics.reject(Rejection::PerIp);
            continue;
        };
        let app = app.clone();
        let stop = stop.clone();
        tasks.spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(req)
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(Counted { io, _slot: slot }), service)
                .with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                _ = &mut conn => {}
                () = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    tracing::info!("draining");
    state.draining.cancel();
    stop.cancel();
    tasks.close();
    let drained = async {
        tasks.wait().await;
        // Upgraded WebSockets run on their own tasks: wait until their sessions closed.
        while state.metrics.ws_open() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drained).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_cap_and_its_slots_back() {
        let per_ip = Arc::new(PerIp::default());
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let b: IpAddr = "198.51.100.2".parse().unwrap();
        let first = per_ip.take(a, 2).unwrap();
        let _second = per_ip.take(a, 2).unwrap();
        assert!(per_ip.take(a, 2).is_none(), "a third from one address");
        assert!(
            per_ip.take(b, 2).is_some(),
            "another address is not affected"
        );
        drop(first);
        assert!(
            per_ip.take(a, 2).is_some(),
            "a closed connection frees its slot"
        );
        assert!((0..100).all(|_| per_ip.take(a, 0).map(std::mem::forget).is_some()));
    }

    #[test]
    fn the_addresses_of_one_ipv6_64_share_one_cap() {
        let per_ip = Arc::new(PerIp::default());
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let first = per_ip.take(ip("2001:db8::1"), 2).unwrap();
        let _second = per_ip.take(ip("2001:db8::2"), 2).unwrap();
        assert!(
            per_ip.take(ip("2001:db8::ffff:3"), 2).is_none(),
            "a third address of the same /64"
        );
        assert!(
            per_ip.take(ip("2001:db8:0:1::1"), 2).is_some(),
            "another /64 is not affected"
        );
        drop(first);
        assert!(
            per_ip.take(ip("2001:db8::4"), 2).is_some(),
            "a closed connection frees its /64's slot"
        );
        let _v4 = per_ip.take(ip("203.0.113.9"), 1).unwrap();
        assert!(
            per_ip.take(ip("::ffff:203.0.113.9"), 1).is_none(),
            "an IPv4-mapped address counts as the IPv4 one"
        );
    }
}
