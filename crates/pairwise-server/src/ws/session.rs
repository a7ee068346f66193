//! One signaling connection: a small actor that parses client frames, joins one room, relays
//! bodies to the other peer and forwards what the room sends back.
//!
//! - in: text frames, each a [`ClientToServer`] (size-capped, strict);
//! - out: [`ServerToClient`] frames from its own replies and from the room, via a bounded outbox.
//!
//! A malformed or oversized frame gets an `error` reply and the connection closes; the room is
//! always left on exit. The session is generic over the socket so tests can drive it with any
//! `Stream + Sink` of messages.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::ws::Message;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use pairwise_proto::error::ErrorCode;
use pairwise_proto::ids::RoomId;
use pairwise_proto::limits::PER_CLIENT_QUEUE_DEPTH;
use pairwise_proto::signal::{ClientToServer, ServerToClient};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::ice::IceConfig;
use crate::rooms::{ConnId, Delivery, JoinError, PeerHandle, Rooms};

/// What to do after handling one frame.
enum Next {
    Continue,
    Close,
}

/// Runs the session until the client leaves, misbehaves or is too slow.
pub(crate) async fn run<S, E>(socket: S, rooms: Rooms, ice: Arc<IceConfig>, id: ConnId)
where
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
        };
        let mut room: Option<RoomId> = None;
        tracing::debug!("connected");
        loop {
            let next = tokio::select! {
                // Closing wins over everything: the room decided we are too slow.
                () = cancel.cancelled() => Next::Close,
                // Then drain what the room has for us, so replies keep their order.
                Some(msg) = inbox.recv() => match send(&mut sink, &msg).await {
                    Ok(()) => Next::Continue,
                    Err(()) => Next::Close,
                },
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        handle_text(text.as_str(), &rooms, &ice, &me, &mut room)
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let _ = me.outbox.try_send(ServerToClient::error(ErrorCode::BadMessage));
                        Next::Close
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Next::Continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                },
            };
            if let Next::Close = next {
                // Flush queued replies (the error that explains the close) before closing.
                inbox.close();
                while let Some(msg) = inbox.recv().await {
                    if send(&mut sink, &msg).await.is_err() {
                        break;
                    }
                }
                let _ = sink.send(Message::Close(None)).await;
                break;
            }
        }
        if let Some(room) = room {
            rooms.leave(&room, id);
        }
        tracing::debug!("disconnected");
    }
    .instrument(span)
    .await;
}

/// Handles one text frame from the client; replies go through the connection's own outbox.
fn handle_text(
    text: &str,
    rooms: &Rooms,
    ice: &IceConfig,
    me: &PeerHandle,
    room: &mut Option<RoomId>,
) -> Next {
    let reply = |msg| me.outbox.try_send(msg).is_ok();
    let msg = match ClientToServer::parse(text) {
        Ok(msg) => msg,
        Err(e) => {
            tracing::debug!(error = %e, "refused frame");
            reply(ServerToClient::error(e.code()));
            return Next::Close;
        }
    };
    match msg {
        ClientToServer::Join { room: wanted } => {
            if room.is_some() {
                reply(ServerToClient::error(ErrorCode::BadMessage));
                return Next::Close;
            }
            match rooms.join(&wanted, me.clone()) {
                Ok(peers) => {
                    tracing::debug!(room = wanted.fmt_short(), peers, "joined");
                    *room = Some(wanted);
                    // TURN credentials are minted here and only here: for a connection that
                    // joined a room, once (a second join closes the connection above).
                    reply(ServerToClient::Joined {
                        peers,
                        ice: ice.mint(SystemTime::now()),
                    });
                }
                Err(JoinError::Full) => {
                    reply(ServerToClient::error(ErrorCode::RoomFull));
                    return Next::Close;
                }
            }
        }
        ClientToServer::Relay { body } => {
            let Some(joined) = room.as_ref() else {
                reply(ServerToClient::error(ErrorCode::NotJoined));
                return Next::Continue;
            };
            if rooms.relay(joined, me.id, &ServerToClient::Relay { body }) == Delivery::NoPeer {
                reply(ServerToClient::error(ErrorCode::NoPeer));
            }
        }
    }
    Next::Continue
}

async fn send<S>(sink: &mut S, msg: &ServerToClient) -> Result<(), ()>
where
    S: Sink<Message> + Unpin,
{
    let text = serde_json::to_string(msg).map_err(|_| ())?;
    sink.send(Message::Text(text.into())).await.map_err(|_| ())
}
