//! Rooms: which connections share a room, and delivery of messages between them, behind one
//! [`Broker`] the WebSocket sessions use without knowing where rooms live.
//!
//! - [`memory`]: rooms in this process (the default; no external service).
//! - [`redis`]: rooms shared by any number of nodes through Redis (`pairwise serve --redis`).
//!
//! Both keep the same promises to a session: a joiner's `joined` is the first frame it gets
//! from its room, a room never holds more than two peers, frames from one peer reach the other
//! in the order sent, and delivery never blocks (a full outbox closes the slow reader).

pub mod memory;
pub mod redis;

use std::sync::Arc;

use pairwise_proto::ids::RoomId;
use pairwise_proto::signal::{ServerToClient, relay_frame};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use self::memory::Rooms;
pub use self::redis::{RedisOptions, RedisRooms, RedisStats};

/// Where the rooms of this server live.
#[derive(Debug, Clone)]
pub enum Broker {
    /// In this process.
    Memory(Rooms),
    /// In Redis, shared with other nodes.
    Redis(RedisRooms),
}

impl Default for Broker {
    fn default() -> Self {
        Self::Memory(Rooms::default())
    }
}

impl Broker {
    /// Adds `peer` to `room`, tells the other peer, and returns how many peers are now in it;
    /// `joined(peers)` goes into the joiner's outbox before anything else from the room.
    ///
    /// # Errors
    /// [`JoinError::Full`] when the room already holds two peers, [`JoinError::Unavailable`]
    /// when the rooms cannot be reached (Redis is down).
    pub async fn join(
        &self,
        room: &RoomId,
        peer: PeerHandle,
        joined: impl FnOnce(usize) -> Frame,
    ) -> Result<usize, JoinError> {
        match self {
            Self::Memory(rooms) => rooms.join(room, peer, joined),
            Self::Redis(rooms) => rooms.join(room, peer, joined).await,
        }
    }

    /// Removes `id` from `room` and tells the other peer.
    pub async fn leave(&self, room: &RoomId, id: ConnId) {
        match self {
            Self::Memory(rooms) => rooms.leave(room, id),
            Self::Redis(rooms) => rooms.leave(room, id).await,
        }
    }

    /// Sends `msg` to the other peer of `room`.
    pub async fn relay(&self, room: &RoomId, from: ConnId, msg: &Frame) -> Delivery {
        match self {
            Self::Memory(rooms) => rooms.relay(room, from, msg),
            Self::Redis(rooms) => rooms.relay(room, from, msg).await,
        }
    }

    /// Rooms with at least one peer connected to this server.
    pub fn len(&self) -> usize {
        match self {
            Self::Memory(rooms) => rooms.len(),
            Self::Redis(rooms) => rooms.len(),
        }
    }

    /// Whether no room has a peer connected to this server.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether new clients can join: always in memory, while Redis is reachable otherwise.
    pub fn ready(&self) -> bool {
        match self {
            Self::Memory(_) => true,
            Self::Redis(rooms) => rooms.ready(),
        }
    }

    /// The Redis counters, when rooms live there.
    pub fn redis_stats(&self) -> Option<RedisStats> {
        match self {
            Self::Memory(_) => None,
            Self::Redis(rooms) => Some(rooms.stats()),
        }
    }
}

/// Identifies one WebSocket connection within this server process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// How to reach one connected peer.
#[derive(Debug, Clone)]
pub struct PeerHandle {
    /// The connection.
    pub id: ConnId,
    /// Its bounded outbox.
    pub outbox: mpsc::Sender<Frame>,
    /// Cancelled when the connection must close because it is too slow.
    pub cancel: CancellationToken,
    /// Cancelled when the connection lost its place in its room (its lease lapsed while Redis
    /// was out of reach): it must close so its client joins again.
    pub evict: CancellationToken,
}

/// Why a join was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinError {
    /// The room already has [`pairwise_proto::limits::MAX_ROOM_PEERS`] peers.
    Full,
    /// The rooms cannot be reached now (Redis is down); the client should try again later.
    Unavailable,
}

/// What a relay achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the other peer's outbox (or to its node).
    Delivered,
    /// Nobody else is in the room.
    NoPeer,
}

/// A frame for a client, serialised once: what an outbox holds. A relayed body is the bytes
/// the other peer sent ([`relay_frame`]), never rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame(Arc<str>);

impl Frame {
    /// The frame of a server message.
    pub fn of(msg: &ServerToClient) -> Self {
        // Serialising these plain types cannot fail; an empty frame would be refused by
        // the client all the same.
        Self(serde_json::to_string(msg).unwrap_or_default().into())
    }

    /// The `relay` frame for a body received as `body` (JSON text).
    pub fn relay(body: &str) -> Self {
        Self(relay_frame(body).into())
    }

    /// The frame's text.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// A frame built by another node, as its text: only ever one this crate made.
    fn from_node(text: &str) -> Self {
        Self(text.into())
    }
}

/// Queues `msg` for `peer`, or closes `peer` if its outbox is full: a slow client is dropped,
/// not buffered forever.
fn deliver(peer: &PeerHandle, msg: Frame) {
    if peer.outbox.try_send(msg).is_err() {
        tracing::warn!(
            conn = peer.id.0,
            "peer outbox full or closed; dropping the connection"
        );
        peer.cancel.cancel();
    }
}
