//! This node's connections in Redis-backed rooms, and what each knows of its peer.
//!
//! Redis holds who is in a room; each connection here keeps the member it was told is its
//! peer (by its join script's answer or by a `peer-joined`), so a relay costs one publish and
//! no lookup. A frame or notice from anyone but that peer is dropped: it is a late one from a
//! peer that already left.
//!
//! A connection is registered before its join script runs and holds what arrives for it until
//! its `joined` is queued, so `joined` stays its first frame even when the other peer's node
//! answers faster than this node reads its own script's reply.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use pairwise_proto::ids::RoomId;
use pairwise_proto::signal::ServerToClient;

use super::wire::{Event, Member, NodeId};
use crate::rooms::{ConnId, Frame, PeerHandle, deliver};

/// The connections of this node that joined, or are joining, a room.
#[derive(Debug)]
pub(crate) struct Local {
    node: NodeId,
    conns: Mutex<HashMap<ConnId, Entry>>,
}

#[derive(Debug)]
struct Entry {
    handle: PeerHandle,
    room: RoomId,
    state: State,
}

#[derive(Debug)]
enum State {
    /// The join script has not answered yet: what arrives waits here.
    Joining(Vec<(Member, Event)>),
    /// In the room, with the peer it knows of and since when.
    Joined {
        peer: Option<Member>,
        since: Instant,
    },
}

impl Local {
    pub(crate) fn new(node: NodeId) -> Self {
        Self {
            node,
            conns: Mutex::default(),
        }
    }

    /// This node's id.
    pub(crate) fn node(&self) -> &NodeId {
        &self.node
    }

    /// The member name of one of this node's connections.
    pub(crate) fn member(&self, conn: ConnId) -> Member {
        Member {
            node: self.node.clone(),
            conn,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ConnId, Entry>> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `handle` as joining `room`, before its join script runs.
    pub(crate) fn begin_join(&self, room: &RoomId, handle: PeerHandle) {
        self.lock().insert(
            handle.id,
            Entry {
                handle,
                room: room.clone(),
                state: State::Joining(Vec::new()),
            },
        );
    }

    /// The join script admitted `id` with `peer` already in the room: queues `joined`, then
    /// what arrived meanwhile.
    pub(crate) fn finish_join(&self, id: ConnId, peer: Option<Member>, joined: Frame) {
        let mut conns = self.lock();
        let Some(entry) = conns.get_mut(&id) else {
            return;
        };
        deliver(&entry.handle, joined);
        let waiting = std::mem::replace(
            &mut entry.state,
            State::Joined {
                peer,
                since: Instant::now(),
            },
        );
        if let State::Joining(waiting) = waiting {
            for (from, event) in waiting {
                apply(entry, from, event);
            }
        }
    }

    /// Forgets `id`; returns its room and, if it had joined, its peer.
    pub(crate) fn remove(&self, id: ConnId) -> Option<(RoomId, Option<Member>)> {
        let entry = self.lock().remove(&id)?;
        let peer = match entry.state {
            State::Joined { peer, .. } => peer,
            State::Joining(_) => None,
        };
        Some((entry.room, peer))
    }

    /// The peer `id` knows of, if it joined `room`.
    pub(crate) fn peer(&self, id: ConnId, room: &RoomId) -> Option<Member> {
        match self.lock().get(&id) {
            Some(Entry {
                room: r,
                state: State::Joined { peer, .. },
                ..
            }) if r == room => peer.clone(),
            _ => None,
        }
    }

    /// Hands `event` from `from` to the connection `to`; `false` when it is not here (it left).
    pub(crate) fn handle(&self, to: ConnId, from: Member, event: Event) -> bool {
        let mut conns = self.lock();
        let Some(entry) = conns.get_mut(&to) else {
            return false;
        };
        match &mut entry.state {
            State::Joining(waiting) => waiting.push((from, event)),
            State::Joined { .. } => apply(entry, from, event),
        }
        true
    }

    /// Rooms with a joined connection here, each with those connections' members: what a
    /// renewal extends.
    pub(crate) fn joined_rooms(&self) -> HashMap<RoomId, Vec<Member>> {
        let mut rooms: HashMap<RoomId, Vec<Member>> = HashMap::new();
        for (id, entry) in self.lock().iter() {
            if matches!(entry.state, State::Joined { .. }) {
                rooms
                    .entry(entry.room.clone())
                    .or_default()
                    .push(self.member(*id));
            }
        }
        rooms
    }

    /// Rooms with a connection here.
    pub(crate) fn rooms(&self) -> usize {
        let conns = self.lock();
        conns
            .values()
            .map(|e| &e.room)
            .collect::<HashSet<_>>()
            .len()
    }

    /// Applies a renewal of `room` that started at `started`: `mine` are this node's members
    /// it renewed (from [`Local::joined_rooms`]), `others` the live members of other nodes,
    /// `lost` this node's members that were no longer in the room. A connection whose remote
    /// peer is not among `others` is told `peer-left` (that peer's node stopped renewing: it
    /// died or lost Redis); a lost connection is evicted. Connections that learned of their
    /// peer after the renewal started are left alone: the script may have run before that
    /// peer joined. Only `mine` are looked at: a renewal covers thousands of rooms, each under
    /// the lock that every delivery takes.
    pub(crate) fn renewed(
        &self,
        room: &RoomId,
        mine: &[Member],
        others: &[Member],
        lost: &[Member],
        started: Instant,
    ) {
        let mut conns = self.lock();
        for member in lost.iter().filter(|m| m.node == self.node) {
            if let Some(entry) = conns.get(&member.conn)
                && matches!(entry.state, State::Joined { since, .. } if since < started)
            {
                tracing::debug!(conn = member.conn.0, "lost its room's lease; closing");
                entry.handle.evict.cancel();
            }
        }
        for member in mine {
            let Some(entry) = conns.get_mut(&member.conn).filter(|e| &e.room == room) else {
                continue;
            };
            let State::Joined { peer, since } = &mut entry.state else {
                continue;
            };
            let gone = peer
                .as_ref()
                .is_some_and(|p| p.node != self.node && !others.contains(p));
            if gone && *since < started {
                *peer = None;
                *since = Instant::now();
                deliver(&entry.handle, Frame::of(&ServerToClient::PeerLeft));
            }
        }
    }
}

/// What a joined connection does with one event from `from`.
fn apply(entry: &mut Entry, from: Member, event: Event) {
    let State::Joined { peer, since } = &mut entry.state else {
        return;
    };
    match event {
        Event::PeerJoined if peer.as_ref() != Some(&from) => {
            // A peer-left lost on the way: say it, as one node would have.
            if peer.is_some() {
                deliver(&entry.handle, Frame::of(&ServerToClient::PeerLeft));
            }
            *peer = Some(from);
            *since = Instant::now();
            deliver(&entry.handle, Frame::of(&ServerToClient::PeerJoined));
        }
        Event::PeerLeft if peer.as_ref() == Some(&from) => {
            *peer = None;
            *since = Instant::now();
            deliver(&entry.handle, Frame::of(&ServerToClient::PeerLeft));
        }
        Event::Relay(frame) if peer.as_ref() == Some(&from) => deliver(&entry.handle, frame),
        _ => tracing::trace!("dropped a late event from a former peer"),
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
