//! The WebSocket signaling endpoint: upgrade checks, then one [`session`] per connection.

pub(crate) mod session;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use pairwise_proto::error::ErrorCode;
use pairwise_proto::limits::MAX_SIGNAL_BYTES;
use pairwise_proto::signal::ServerToClient;

use crate::AppState;
use crate::hosts::{HostPolicy, request_host};

/// Frames up to this size reach our parser, which answers `too-large` for anything over
/// [`MAX_SIGNAL_BYTES`]; bigger ones are cut off by the WebSocket layer itself.
const WS_READ_LIMIT: usize = 4 * MAX_SIGNAL_BYTES;

/// The WebSocket layer's read buffer per connection. tungstenite's default is 128 KiB, most of
/// the ~134 KB a connection cost (issue 13); signaling frames are small and a larger one is
/// read in several turns.
const WS_READ_BUFFER: usize = 4 * 1024;

/// What may wait in a connection's write buffer when the client reads slowly: a few of the
/// largest frames; past it a send fails and the connection closes.
const WS_MAX_WRITE_BUFFER: usize = 8 * MAX_SIGNAL_BYTES;

/// How long a refused connection is kept for the client's closing handshake: long enough for
/// it to read the `error` frame before the socket goes (a reset could discard it unread).
const REFUSAL_LINGER: Duration = Duration::from_secs(2);

/// `GET /ws`: checks the origin, the address's rate of sessions and the connection cap, then
/// runs a session.
///
/// A session start over the address's rate is upgraded and refused inside the WebSocket
/// (`rate-limited`, then close 1013; `docs/protocol.md` §4), not answered with an HTTP 429: a
/// browser cannot read the status of a refused handshake and would tell its user only that the
/// connection was lost.
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    uri: Uri,
    ws: WebSocketUpgrade,
) -> Response {
    if !same_origin(&state.hosts, &headers, &uri) {
        state.metrics.reject(crate::metrics::Rejection::Origin);
        return (StatusCode::FORBIDDEN, "cross-origin WebSocket refused").into_response();
    }
    if let Some(Extension(ConnectInfo(peer))) = peer
        && !state.join_rate.take(peer.ip(), Instant::now())
    {
        state.metrics.reject(crate::metrics::Rejection::JoinRate);
        return bounded(ws).on_upgrade(refuse_rate_limited);
    }
    let Ok(permit) = state.connections.clone().try_acquire_owned() else {
        state.metrics.reject(crate::metrics::Rejection::ServerFull);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "server is at its connection limit",
        )
            .into_response();
    };
    let id = state.next_conn_id();
    let rooms = state.rooms.clone();
    let ice = state.ice.clone();
    let limits = state.limits;
    let context = session::Context {
        metrics: state.metrics.clone(),
        draining: state.draining.clone(),
    };
    bounded(ws).on_upgrade(move |socket| async move {
        session::run(socket, rooms, ice, id, limits, context).await;
        drop(permit);
    })
}

/// The WebSocket's buffers and frame caps: what one connection may hold in memory.
fn bounded(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(WS_READ_LIMIT)
        .max_frame_size(WS_READ_LIMIT)
        .read_buffer_size(WS_READ_BUFFER)
        // Every frame is written at once (signaling is a few frames a second per connection),
        // so no write buffer waits for more.
        .write_buffer_size(0)
        .max_write_buffer_size(WS_MAX_WRITE_BUFFER)
}

/// Tells the client it is over its address's rate and closes (1013, try again later), reading
/// and dropping whatever it sends until it closes too or [`REFUSAL_LINGER`] passes. It holds no
/// connection permit and joins no room: the refusal costs little more than the 429 did.
async fn refuse_rate_limited(mut socket: WebSocket) {
    let text =
        serde_json::to_string(&ServerToClient::error(ErrorCode::RateLimited)).unwrap_or_default();
    let refuse = async {
        socket.send(Message::Text(text.into())).await.ok()?;
        let reason = "too many sessions, try again in a minute";
        let close = CloseFrame {
            code: close_code::AGAIN,
            reason: reason.into(),
        };
        socket.send(Message::Close(Some(close))).await.ok()?;
        while let Some(Ok(_)) = socket.recv().await {}
        Some(())
    };
    let _ = tokio::time::timeout(REFUSAL_LINGER, refuse).await;
}

/// Browsers always send `Origin` on WebSocket requests; a page from another site must not use
/// our signaling with the user's network position ([`HostPolicy::origin_allowed`]).
/// Non-browser clients send no `Origin`.
fn same_origin(policy: &HostPolicy, headers: &HeaderMap, uri: &Uri) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(host)) = (origin.to_str(), request_host(headers, uri)) else {
        return false;
    };
    policy.origin_allowed(origin, host)
}
