//! In-memory rooms (the default broker): which connections of this process share a room, and
//! delivery of messages between them.
//!
//! A room holds at most [`MAX_ROOM_PEERS`] connections. Delivery never blocks: each connection
//! has a bounded outbox, and a peer whose outbox is full is told to close (it is too slow), so
//! one stuck client cannot hold up the server. Rooms disappear when their last peer leaves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use pairwise_proto::ids::RoomId;
use pairwise_proto::limits::MAX_ROOM_PEERS;
use pairwise_proto::signal::ServerToClient;

use super::{ConnId, Delivery, Frame, JoinError, PeerHandle, deliver};

/// All rooms of this server.
#[derive(Debug, Clone, Default)]
pub struct Rooms {
    inner: Arc<Mutex<HashMap<RoomId, Vec<PeerHandle>>>>,
}

impl Rooms {
    /// Adds `peer` to `room`, tells the others, and returns how many peers are now in it.
    /// `joined(peers)` is the joiner's reply: it goes into the joiner's outbox under the room's
    /// lock, so it is the first frame the joiner gets from the room. Queued after the lock, a
    /// second peer joining at the same moment could put its `peer-joined` in front of it (the
    /// CLI then read "no reply to join", once in a full run).
    ///
    /// # Errors
    /// [`JoinError::Full`] when the room already holds [`MAX_ROOM_PEERS`] peers.
    pub fn join(
        &self,
        room: &RoomId,
        peer: PeerHandle,
        joined: impl FnOnce(usize) -> Frame,
    ) -> Result<usize, JoinError> {
        let mut rooms = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let peers = rooms.entry(room.clone()).or_default();
        if peers.len() >= MAX_ROOM_PEERS {
            return Err(JoinError::Full);
        }
        for other in peers.iter() {
            deliver(other, Frame::of(&ServerToClient::PeerJoined));
        }
        let n = peers.len() + 1;
        deliver(&peer, joined(n));
        peers.push(peer);
        Ok(n)
    }

    /// Removes `id` from `room` and tells the others; drops the room when it is empty.
    pub fn leave(&self, room: &RoomId, id: ConnId) {
        let mut rooms = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(peers) = rooms.get_mut(room) else {
            return;
        };
        let before = peers.len();
        peers.retain(|p| p.id != id);
        if peers.len() != before {
            for other in peers.iter() {
                deliver(other, Frame::of(&ServerToClient::PeerLeft));
            }
        }
        if peers.is_empty() {
            rooms.remove(room);
        }
    }

    /// Sends `msg` to every peer of `room` except `from`.
    pub fn relay(&self, room: &RoomId, from: ConnId, msg: &Frame) -> Delivery {
        let rooms = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mut delivered = Delivery::NoPeer;
        for other in rooms
            .get(room)
            .into_iter()
            .flatten()
            .filter(|p| p.id != from)
        {
            deliver(other, msg.clone());
            delivered = Delivery::Delivered;
        }
        delivered
    }

    /// Number of rooms that currently exist.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no room exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;
    use tokio_util::sync::CancellationToken;

    use super::*;

    fn peer(id: u64) -> (PeerHandle, mpsc::Receiver<Frame>) {
        let (tx, rx) = mpsc::channel(2);
        (
            PeerHandle {
                id: ConnId(id),
                outbox: tx,
                cancel: CancellationToken::new(),
                evict: CancellationToken::new(),
            },
            rx,
        )
    }

    fn joined(peers: usize) -> Frame {
        Frame::of(&ServerToClient::Joined {
            peers,
            ice: Vec::new(),
        })
    }

    fn room() -> RoomId {
        RoomId::parse("abcdefghijklmnopqrstuv").unwrap()
    }

    #[test]
    fn third_peer_is_refused_and_first_two_see_each_other() {
        let rooms = Rooms::default();
        let (a, mut a_rx) = peer(1);
        let (b, _b_rx) = peer(2);
        let (c, _c_rx) = peer(3);
        assert_eq!(rooms.join(&room(), a, joined), Ok(1));
        assert_eq!(rooms.join(&room(), b, joined), Ok(2));
        assert_eq!(
            a_rx.try_recv().unwrap(),
            joined(1),
            "a joiner's first frame is its joined"
        );
        assert_eq!(
            a_rx.try_recv().unwrap(),
            Frame::of(&ServerToClient::PeerJoined)
        );
        assert_eq!(rooms.join(&room(), c, joined), Err(JoinError::Full));
    }

    #[test]
    fn leaving_tells_the_other_and_empty_rooms_vanish() {
        let rooms = Rooms::default();
        let (a, _a_rx) = peer(1);
        let (b, mut b_rx) = peer(2);
        rooms.join(&room(), a, joined).unwrap();
        rooms.join(&room(), b, joined).unwrap();
        rooms.leave(&room(), ConnId(1));
        assert_eq!(b_rx.try_recv().unwrap(), joined(2));
        assert_eq!(
            b_rx.try_recv().unwrap(),
            Frame::of(&ServerToClient::PeerLeft)
        );
        rooms.leave(&room(), ConnId(2));
        assert!(rooms.is_empty());
    }

    #[test]
    fn slow_peer_is_cancelled_when_its_outbox_is_full() {
        let rooms = Rooms::default();
        let (a, _a_rx) = peer(1);
        let (b, _b_rx) = peer(2);
        let b_cancel = b.cancel.clone();
        rooms.join(&room(), a, joined).unwrap();
        rooms.join(&room(), b, joined).unwrap();
        let msg = Frame::relay("1");
        for _ in 0..3 {
            assert_eq!(rooms.relay(&room(), ConnId(1), &msg), Delivery::Delivered);
        }
        assert!(b_cancel.is_cancelled());
    }
}
