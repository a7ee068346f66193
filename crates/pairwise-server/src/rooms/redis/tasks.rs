//! A node's two background tasks: listening on its channel (resubscribing after Redis comes
//! back) and renewing its members' leases, which is also how it notices a dead peer node.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use pairwise_proto::ids::RoomId;
use redis::aio::PubSubStream;

use super::scripts::room_key;
use super::wire::{Member, NodeId, NodeMsg};
use super::{REDIS_TIMEOUT, Shared};

/// Rooms renewed by one script call: bounded so one call never holds Redis long.
const RENEW_BATCH: usize = 256;

/// Waits between attempts to subscribe again: from the first to the last, doubling.
const RESUBSCRIBE_FIRST: Duration = Duration::from_millis(100);
const RESUBSCRIBE_LAST: Duration = Duration::from_secs(2);

/// A subscription to `node`'s channel.
///
/// # Errors
/// When Redis cannot be reached within [`REDIS_TIMEOUT`] or refuses.
pub(super) async fn subscribe(
    client: &redis::Client,
    node: &NodeId,
) -> redis::RedisResult<PubSubStream> {
    let timed_out = || redis::RedisError::from((redis::ErrorKind::Io, "timed out"));
    let subscribed = tokio::time::timeout(REDIS_TIMEOUT, async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(node.channel()).await?;
        Ok(pubsub.into_on_message())
    });
    subscribed.await.map_err(|_| timed_out())?
}

/// Hands every message on this node's channel to its connection, and subscribes again
/// whenever the subscription ends (Redis restarted or the connection dropped).
pub(super) async fn listen(client: redis::Client, shared: Arc<Shared>, first: PubSubStream) {
    let mut stream = Some(first);
    let mut wait = RESUBSCRIBE_FIRST;
    loop {
        if let Some(mut messages) = stream.take() {
            shared.subscribed.store(true, Ordering::Relaxed);
            wait = RESUBSCRIBE_FIRST;
            while let Some(msg) = messages.next().await {
                shared.received.fetch_add(1, Ordering::Relaxed);
                match NodeMsg::decode(msg.get_payload_bytes()) {
                    Some(m) => {
                        shared.local.handle(m.to, m.from, m.event);
                    }
                    None => tracing::warn!("dropped a malformed message on the node channel"),
                }
            }
            shared.subscribed.store(false, Ordering::Relaxed);
            tracing::warn!("lost the redis subscription; subscribing again");
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(RESUBSCRIBE_LAST);
        match subscribe(&client, shared.local.node()).await {
            Ok(messages) => {
                tracing::debug!("subscribed to redis again");
                stream = Some(messages);
            }
            Err(e) => tracing::debug!(error = %e, "could not subscribe to redis"),
        }
    }
}

/// The shortest renewal period, whatever the lease (a zero period would spin).
const RENEW_AT_MOST_EVERY: Duration = Duration::from_millis(10);

/// Renews this node's leases every third of the lease, forever.
pub(super) async fn renew(shared: Arc<Shared>) {
    let mut every = tokio::time::interval((shared.lease / 3).max(RENEW_AT_MOST_EVERY));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        renew_once(&shared).await;
    }
}

/// One renewal of every room with a joined connection here; with none, a `PING`, so
/// readiness still follows Redis.
async fn renew_once(shared: &Shared) {
    let started = Instant::now();
    let rooms = shared.local.joined_rooms();
    let mut conn = shared.conn.clone();
    if rooms.is_empty() {
        let _: Option<String> = shared
            .command(redis::cmd("PING").query_async(&mut conn))
            .await;
        return;
    }
    let rooms: Vec<(RoomId, Vec<Member>)> = rooms.into_iter().collect();
    for batch in rooms.chunks(RENEW_BATCH) {
        let mut invocation = shared.scripts.renew.prepare_invoke();
        invocation.arg(shared.lease_ms());
        for (room, members) in batch {
            let members: Vec<String> = members.iter().map(ToString::to_string).collect();
            invocation.key(room_key(room)).arg(members.join(" "));
        }
        let reply: Option<Vec<(Vec<String>, Vec<String>)>> =
            shared.command(invocation.invoke_async(&mut conn)).await;
        let Some(reply) = reply else {
            return;
        };
        for ((room, mine), (others, lost)) in batch.iter().zip(reply) {
            let parse = |v: Vec<String>| -> Vec<Member> {
                v.iter().filter_map(|m| Member::parse(m)).collect()
            };
            shared
                .local
                .renewed(room, mine, &parse(others), &parse(lost), started);
        }
    }
}
