//! Rooms shared by any number of nodes through Redis (`pairwise serve --redis URL`).
//!
//! - Each node has a random id and listens on its own pub/sub channel `pw:node:<id>`.
//! - A room is a Redis hash of members `<node>:<conn>`, each with a lease
//!   ([`RedisOptions::lease`]) that its node renews every third of it. Join, leave and renewal
//!   are Lua scripts (`scripts.rs`), atomic in Redis.
//! - `peer-joined`, `peer-left` and relayed frames go to the other member's node channel (or
//!   straight to its outbox when it is on this node), and that node hands them to the
//!   connection's outbox as a local room would (`local.rs`).
//! - A node that dies stops renewing and listening: the scripts drop members whose lease ended
//!   or whose node has no subscriber left, and the peers' nodes, at their next renewal, tell
//!   their clients `peer-left`.
//! - Without a Redis connection the node is not ready (`/readyz` 503), joins are refused with
//!   a close that tells the client to try again, and both connections come back by themselves.
//!
//! Pub/sub is at-most-once, like a WebSocket: a message published while a node is
//! resubscribing is lost, and the clients' handshake deadline and retries cover that.

mod local;
mod scripts;
mod tasks;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use pairwise_proto::ids::RoomId;
use pairwise_proto::limits::MAX_ROOM_PEERS;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio_util::task::AbortOnDropHandle;

use self::local::Local;
use self::scripts::{Scripts, room_key};
use self::wire::{Event, Member, NodeId, NodeMsg};
use crate::rooms::{ConnId, Delivery, Frame, JoinError, PeerHandle};

/// The longest one Redis command or connection attempt may take before the node counts Redis
/// as unreachable (a join is then refused rather than left waiting).
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// How to reach Redis, and how long a member stays in a room without its node renewing it.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// `redis://[user:password@]host[:port][/db]` (or `rediss://`, `unix://`).
    pub url: String,
    /// A member whose node has not renewed it for this long is gone; its peer is told
    /// `peer-left` within about this time after its node dies. Renewed every third of it.
    pub lease: Duration,
}

impl RedisOptions {
    /// `url` with the default lease of 30 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            lease: Duration::from_secs(30),
        }
    }
}

/// Why the rooms could not be set up on Redis.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL does not parse.
    #[error("bad Redis URL {url}: {source}")]
    BadUrl {
        /// The URL, without its password.
        url: String,
        /// What the Redis client said.
        source: redis::RedisError,
    },
    /// Nothing answered there, or it refused us.
    #[error("could not reach Redis at {url}: {why}; is redis-server running there?")]
    Unreachable {
        /// The URL, without its password.
        url: String,
        /// What went wrong.
        why: String,
    },
}

/// The Redis counters for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisStats {
    /// Whether the node has a working connection and subscription.
    pub up: bool,
    /// Messages published to other nodes.
    pub published: u64,
    /// Messages received from other nodes.
    pub received: u64,
}

/// Rooms in Redis, as one node sees them. Clones share the node; its background tasks (the
/// subscription and the lease renewal) stop when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct RedisRooms {
    shared: Arc<Shared>,
    _tasks: Arc<[AbortOnDropHandle<()>]>,
}

#[derive(Debug)]
struct Shared {
    local: Local,
    conn: ConnectionManager,
    scripts: Scripts,
    lease: Duration,
    commands_up: AtomicBool,
    subscribed: AtomicBool,
    published: AtomicU64,
    received: AtomicU64,
}

impl RedisRooms {
    /// Connects to Redis, subscribes this node's channel and starts renewing leases.
    ///
    /// # Errors
    /// [`ConnectError`] when the URL is wrong or Redis does not answer within 2 s.
    pub async fn connect(options: &RedisOptions) -> Result<Self, ConnectError> {
        let url = redact(&options.url);
        let client =
            redis::Client::open(options.url.as_str()).map_err(|source| ConnectError::BadUrl {
                url: url.clone(),
                source,
            })?;
        let unreachable = |why: String| ConnectError::Unreachable {
            url: url.clone(),
            why,
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(REDIS_TIMEOUT);
        let conn = tokio::time::timeout(
            REDIS_TIMEOUT,
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        .map_err(|_| unreachable("no answer in 2 s".into()))?
        .map_err(|e| unreachable(e.to_string()))?;
        let node = NodeId::random();
        let stream = tasks::subscribe(&client, &node)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        tracing::debug!(%node, "on redis");
        let shared = Arc::new(Shared {
            local: Local::new(node),
            conn,
            scripts: Scripts::default(),
            lease: options.lease,
            commands_up: AtomicBool::new(true),
            subscribed: AtomicBool::new(true),
            published: AtomicU64::new(0),
            received: AtomicU64::new(0),
        });
        let tasks = [
            AbortOnDropHandle::new(tokio::spawn(tasks::listen(client, shared.clone(), stream))),
            AbortOnDropHandle::new(tokio::spawn(tasks::renew(shared.clone()))),
        ];
        Ok(Self {
            shared,
            _tasks: Arc::new(tasks),
        })
    }

    /// Adds `peer` to `room` (a join script), queues `joined(peers)` for it, then tells the
    /// other member's node.
    ///
    /// # Errors
    /// [`JoinError::Full`], or [`JoinError::Unavailable`] when Redis does not answer.
    pub async fn join(
        &self,
        room: &RoomId,
        peer: PeerHandle,
        joined: impl FnOnce(usize) -> Frame,
    ) -> Result<usize, JoinError> {
        let s = &self.shared;
        let id = peer.id;
        let me = s.local.member(id);
        s.local.begin_join(room, peer);
        let mut invocation = s.scripts.join.prepare_invoke();
        invocation
            .key(room_key(room))
            .arg(me.to_string())
            .arg(s.lease_ms())
            .arg(MAX_ROOM_PEERS);
        let mut conn = s.conn.clone();
        let reply: Option<Vec<String>> = s.command(invocation.invoke_async(&mut conn)).await;
        let Some(reply) = reply else {
            s.local.remove(id);
            // The script may have run: take the member out again rather than leave it
            // holding a place until its lease ends.
            let shared = s.clone();
            let room = room.clone();
            tokio::spawn(async move { shared.leave_script(&room, &me).await });
            return Err(JoinError::Unavailable);
        };
        if reply.first().map(String::as_str) != Some("ok") {
            s.local.remove(id);
            return Err(JoinError::Full);
        }
        let others: Vec<Member> = reply[1..].iter().filter_map(|m| Member::parse(m)).collect();
        let peers = others.len() + 1;
        s.local
            .finish_join(id, others.first().cloned(), joined(peers));
        for other in &others {
            s.send(other, &me, Event::PeerJoined).await;
        }
        Ok(peers)
    }

    /// Takes `id` out of `room` (a leave script) and tells the other member's node.
    pub async fn leave(&self, room: &RoomId, id: ConnId) {
        let s = &self.shared;
        let Some((_, peer)) = s.local.remove(id) else {
            return;
        };
        let me = s.local.member(id);
        match s.leave_script(room, &me).await {
            Some(others) => {
                for other in &others {
                    s.send(other, &me, Event::PeerLeft).await;
                }
            }
            // Redis is out of reach: a peer on another node hears of it when this lease
            // ends; one on this node has no lease to watch, so it is told now.
            None => {
                if let Some(peer) = peer.filter(|p| &p.node == s.local.node()) {
                    s.local.handle(peer.conn, me, Event::PeerLeft);
                }
            }
        }
    }

    /// Sends `msg` to the peer `from` knows of in `room`.
    pub async fn relay(&self, room: &RoomId, from: ConnId, msg: &Frame) -> Delivery {
        let s = &self.shared;
        let Some(peer) = s.local.peer(from, room) else {
            return Delivery::NoPeer;
        };
        if s.send(&peer, &s.local.member(from), Event::Relay(msg.clone()))
            .await
        {
            Delivery::Delivered
        } else {
            Delivery::NoPeer
        }
    }

    /// Rooms with a connection on this node.
    pub fn len(&self) -> usize {
        self.shared.local.rooms()
    }

    /// Whether no room has a connection on this node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this node has a working Redis connection and subscription.
    pub fn ready(&self) -> bool {
        self.shared.commands_up.load(Ordering::Relaxed)
            && self.shared.subscribed.load(Ordering::Relaxed)
    }

    /// The counters for `/metrics`.
    pub fn stats(&self) -> RedisStats {
        RedisStats {
            up: self.ready(),
            published: self.shared.published.load(Ordering::Relaxed),
            received: self.shared.received.load(Ordering::Relaxed),
        }
    }
}

impl Shared {
    fn lease_ms(&self) -> u64 {
        u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX)
    }

    /// Runs one Redis command with [`REDIS_TIMEOUT`]; `None` (and not ready) when it failed.
    async fn command<T>(&self, command: impl Future<Output = redis::RedisResult<T>>) -> Option<T> {
        let result = tokio::time::timeout(REDIS_TIMEOUT, command).await;
        let up = matches!(result, Ok(Ok(_)));
        if self.commands_up.swap(up, Ordering::Relaxed) != up {
            tracing::warn!(up, "redis commands");
        }
        match result {
            Ok(Ok(value)) => Some(value),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "redis command failed");
                None
            }
            Err(_) => None,
        }
    }

    /// Runs the leave script for `me`: the others still in the room if `me` was in it, an
    /// empty list if it was not, `None` when Redis did not answer.
    async fn leave_script(&self, room: &RoomId, me: &Member) -> Option<Vec<Member>> {
        let mut invocation = self.scripts.leave.prepare_invoke();
        invocation.key(room_key(room)).arg(me.to_string());
        let mut conn = self.conn.clone();
        let reply: Vec<String> = self.command(invocation.invoke_async(&mut conn)).await?;
        if reply.first().map(String::as_str) != Some("left") {
            return Some(Vec::new());
        }
        Some(reply[1..].iter().filter_map(|m| Member::parse(m)).collect())
    }

    /// Hands `event` from `from` to the member `to`: straight to its outbox when it is on this
    /// node, else published to its node. `false` when Redis did not take it.
    async fn send(&self, to: &Member, from: &Member, event: Event) -> bool {
        if &to.node == self.local.node() {
            self.local.handle(to.conn, from.clone(), event);
            return true;
        }
        let msg = NodeMsg {
            to: to.conn,
            from: from.clone(),
            event,
        };
        let mut conn = self.conn.clone();
        let published = self
            .command(redis::AsyncCommands::publish::<_, _, u64>(
                &mut conn,
                to.node.channel(),
                msg.encode(),
            ))
            .await;
        if published.is_some() {
            self.published.fetch_add(1, Ordering::Relaxed);
        }
        published.is_some()
    }
}

/// `url` without its password, for messages and logs.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{}", &rest[at + 1..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_shown_without_its_password() {
        assert_eq!(
            redact("redis://:hunter2@10.0.0.5:6379/0"),
            "redis://:***@10.0.0.5:6379/0"
        );
        assert_eq!(
            redact("rediss://pw:s3cr@t@cache:6380"),
            "rediss://pw:***@cache:6380"
        );
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(redact("not a url"), "not a url");
    }
}
