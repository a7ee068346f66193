//! One signaling connection: a small actor that parses client frames, joins one room, relays
//! bodies to the other peer and forwards what the room sends back.
//!
//! - in: text frames, each a [`ClientFrame`] (size-capped, strict; a relay body is kept as the
//!   bytes received);
//! - out: [`ServerToClient`] frames from its own replies and from the room, via a bounded outbox.
//!
//! A malformed or oversized frame gets an `error` reply and the connection closes; the room is
//! always left on exit. Every close the server starts carries a status code and a reason
//! (RFC 6455 §7.4): 1008 for a client that broke the rules (a bad frame, no `join` within the
//! deadline, a full room, too slow to read), 1009 for a frame over the limit, 1013 when the
//! rooms cannot be reached (Redis is down) and the client should try again. A client that
//! stops reading is dropped: each frame has [`Limits::send_timeout`] to go out, and a room
//! that finds the outbox full cancels the session even while it waits in a send. A ping goes
//! out every [`Limits::ping_interval`]; a client not heard from (a pong, which browsers and
//! WebSocket libraries send by themselves, or any frame) for [`Limits::idle_timeout`] is closed:
//! a socket held open and silent only holds a slot. The session is
//! generic over the socket so tests can drive it with any `Stream + Sink` of messages.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::ws::{CloseFrame, Message, close_code};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use pairwise_proto::error::ErrorCode;
use pairwise_proto::ids::RoomId;
use pairwise_proto::limits::PER_CLIENT_QUEUE_DEPTH;
use pairwise_proto::signal::{ClientFrame, ServerToClient};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::ice::IceConfig;
use crate::metrics::{Metrics, Rejection};
use crate::rooms::{Broker, ConnId, Delivery, Frame, JoinError, PeerHandle};

/// The time limits of a session (from [`crate::Config`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// No `join` by then: closed.
    pub(crate) join_deadline: Duration,
    /// A frame not out by then: closed.
    pub(crate) send_timeout: Duration,
    /// A ping goes to the client this often.
    pub(crate) ping_interval: Duration,
    /// Nothing heard from the client (a pong or any frame) this long: closed.
    pub(crate) idle_timeout: Duration,
}

/// What a session shares with the server: its counters, and the signal to go when it drains.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) draining: CancellationToken,
}

/// What to do after handling one frame.
enum Next {
    Continue,
    /// Close for this reason, after the queued replies.
    Close(Why),
}

/// Why the server closes a WebSocket: its status code, the reason it sends, and the
/// `reason` label it is counted under in `/metrics`.
#[derive(Debug, Clone, Copy)]
enum Why {
    SlowReader,
    NoJoin,
    Idle,
    BinaryFrame,
    TooLarge,
    BadMessage,
    SecondJoin,
    RoomFull,
    Draining,
    Unavailable,
}

impl Why {
    fn code(self) -> u16 {
        match self {
            Self::TooLarge => close_code::SIZE,
            Self::Draining => close_code::AWAY,
            Self::Unavailable => close_code::AGAIN,
            _ => close_code::POLICY,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Self::SlowReader => "too slow to read",
            Self::NoJoin => "no join in time",
            Self::Idle => "no answer to pings",
            Self::BinaryFrame => "binary frame",
            Self::TooLarge => "frame too large",
            Self::BadMessage => "bad message",
            Self::SecondJoin => "second join",
            Self::RoomFull => "room full",
            Self::Draining => "server shutting down",
            Self::Unavailable => "rooms unavailable, try again",
        }
    }

    /// The `/metrics` label; `None` for a close that refuses nothing (the server drains).
    fn label(self) -> Option<&'static str> {
        Some(match self {
            Self::SlowReader => "slow-reader",
            Self::NoJoin => "no-join",
            Self::Idle => "idle",
            Self::BinaryFrame => "binary-frame",
            Self::TooLarge => "too-large",
            Self::BadMessage => "bad-message",
            Self::SecondJoin => "second-join",
            Self::RoomFull => "room-full",
            Self::Unavailable => "unavailable",
            Self::Draining => return None,
        })
    }
}

/// Runs the session until the client leaves, misbehaves or is too slow.
pub(crate) async fn run<S, E>(
    socket: S,
    rooms: Broker,
    ice: Arc<IceConfig>,
    id: ConnId,
    limits: Limits,
    ctx: Context,
) where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Send,
{
    let span = tracing::debug_span!("ws", conn = id.0);
    async move {
        let (mut sink, mut stream) = socket.split();
        let (outbox, mut inbox) = mpsc::channel(PER_CLIENT_QUEUE_DEPTH);
        let cancel = CancellationToken::new();
        let me = PeerHandle {
            id,
            outbox,
            cancel: cancel.clone(),
            evict: CancellationToken::new(),
        };
        let mut room: Option<RoomId> = None;
        let join_deadline = tokio::time::sleep(limits.join_deadline);
        tokio::pin!(join_deadline);
        let start = tokio::time::Instant::now();
        let mut pings =
            tokio::time::interval_at(start + limits.ping_interval, limits.ping_interval);
        let mut heard = start;
        tracing::debug!("connected");
        ctx.metrics.ws_opened();
        loop {
            let next = tokio::select! {
                // Closing wins over everything: the room decided we are too slow.
                () = cancel.cancelled() => Next::Close(Why::SlowReader),
                () = ctx.draining.cancelled() => Next::Close(Why::Draining),
                // The room lost this connection (its lease lapsed while Redis was away).
                () = me.evict.cancelled() => Next::Close(Why::Unavailable),
                () = &mut join_deadline, if room.is_none() => Next::Close(Why::NoJoin),
                // Then drain what the room has for us, so replies keep their order.
                Some(msg) = inbox.recv() => {
                    match send(&mut sink, &msg, limits.send_timeout, &cancel).await {
                        Ok(()) => Next::Continue,
                        Err(()) => Next::Close(Why::SlowReader),
                    }
                }
                _ = pings.tick() => {
                    if heard.elapsed() >= limits.idle_timeout {
                        Next::Close(Why::Idle)
                    } else {
                        let ping = Message::Ping(axum::body::Bytes::new());
                        match tokio::time::timeout(limits.send_timeout, sink.send(ping)).await {
                            Ok(Ok(())) => Next::Continue,
                            _ => Next::Close(Why::SlowReader),
                        }
                    }
                }
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        heard = tokio::time::Instant::now();
                        handle_text(text.as_str(), &rooms, &ice, &me, &mut room, &ctx.metrics)
                            .await
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let _ = me
                            .outbox
                            .try_send(Frame::of(&ServerToClient::error(ErrorCode::BadMessage)));
                        Next::Close(Why::BinaryFrame)
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                        heard = tokio::time::Instant::now();
                        Next::Continue
                    }
                    // tungstenite queued the reply to the client's close: send it, so the
                    // client sees its own code (1000) and not 1006.
                    Some(Ok(Message::Close(_))) => {
                        let _ = tokio::time::timeout(limits.send_timeout, sink.close()).await;
                        break;
                    }
                    Some(Err(_)) | None => break,
                },
            };
            if let Next::Close(why) = next {
                let (code, reason) = (why.code(), why.reason());
                tracing::debug!(code, reason, "closing");
                if let Some(label) = why.label() {
                    ctx.metrics.reject(Rejection::Closed(label));
                }
                if !cancel.is_cancelled() {
                    // Flush queued replies (the error that explains the close) before closing;
                    // not to a client that stopped reading.
                    inbox.close();
                    while let Some(msg) = inbox.recv().await {
                        if send(&mut sink, &msg, limits.send_timeout, &cancel)
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                }
                let close = Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }));
                let _ = tokio::time::timeout(limits.send_timeout, sink.send(close)).await;
                break;
            }
        }
        if let Some(room) = room {
            rooms.leave(&room, id).await;
        }
        ctx.metrics.ws_closed();
        tracing::debug!("disconnected");
    }
    .instrument(span)
    .await;
}

/// Handles one text frame from the client; replies go through the connection's own outbox.
async fn handle_text(
    text: &str,
    rooms: &Broker,
    ice: &IceConfig,
    me: &PeerHandle,
    room: &mut Option<RoomId>,
    metrics: &Metrics,
) -> Next {
    let reply = |msg: ServerToClient| me.outbox.try_send(Frame::of(&msg)).is_ok();
    let msg = match ClientFrame::parse(text) {
        Ok(msg) => msg,
        Err(e) => {
            tracing::debug!(error = %e, "refused frame");
            reply(ServerToClient::error(e.code()));
            return if e.code() == ErrorCode::TooLarge {
                Next::Close(Why::TooLarge)
            } else {
                Next::Close(Why::BadMessage)
            };
        }
    };
    match msg {
        ClientFrame::Join { room: wanted } => {
            if room.is_some() {
                reply(ServerToClient::error(ErrorCode::BadMessage));
                return Next::Close(Why::SecondJoin);
            }
            // TURN credentials are minted here and only here: for a connection that joins a
            // room, once (a second join closes the connection above).
            let joined = |peers| {
                Frame::of(&ServerToClient::Joined {
                    peers,
                    ice: ice.mint(SystemTime::now()),
                })
            };
            match rooms.join(&wanted, me.clone(), joined).await {
                Ok(peers) => {
                    tracing::debug!(room = wanted.fmt_short(), peers, "joined");
                    *room = Some(wanted);
                }
                Err(JoinError::Full) => {
                    reply(ServerToClient::error(ErrorCode::RoomFull));
                    return Next::Close(Why::RoomFull);
                }
                // No error frame: the catalogue (protocol §9) has none for a server-side
                // outage; the close code (1013, try again later) says it.
                Err(JoinError::Unavailable) => return Next::Close(Why::Unavailable),
            }
        }
        ClientFrame::Relay { body } => {
            let Some(joined) = room.as_ref() else {
                reply(ServerToClient::error(ErrorCode::NotJoined));
                return Next::Continue;
            };
            match rooms.relay(joined, me.id, &Frame::relay(body)).await {
                Delivery::Delivered => metrics.relayed(body.len()),
                Delivery::NoPeer => {
                    reply(ServerToClient::error(ErrorCode::NoPeer));
                }
            }
        }
    }
    Next::Continue
}

/// Sends one frame: fails if it does not go out within `limit` or the session is cancelled
/// meanwhile (a client that stopped reading blocks the send until its socket drains, which
/// may be never).
async fn send<S>(
    sink: &mut S,
    msg: &Frame,
    limit: Duration,
    cancel: &CancellationToken,
) -> Result<(), ()>
where
    S: Sink<Message> + Unpin,
{
    tokio::select! {
        sent = tokio::time::timeout(limit, sink.send(Message::Text(msg.text().into()))) => match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(()),
        },
        () = cancel.cancelled() => Err(()),
    }
}
