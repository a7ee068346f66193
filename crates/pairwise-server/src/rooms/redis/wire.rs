//! What nodes say to each other on their pub/sub channels, and how rooms name their members.
//!
//! - A node is a random [`NodeId`]; it listens on `pw:node:<id>`.
//! - A member of a room is `<node>:<conn>` ([`Member`]), the field of the room's hash.
//! - A [`NodeMsg`] is one line `<kind> <to conn> <from member>` and, for a relay, a newline and
//!   the client frame exactly as the sending node built it (so a relayed body stays the bytes
//!   its peer sent).

use std::fmt;

use crate::rooms::{ConnId, Frame};

/// This node's name among the nodes sharing a Redis: 16 random hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct NodeId(String);

impl NodeId {
    /// A fresh random id.
    pub(crate) fn random() -> Self {
        use ring::rand::SecureRandom as _;
        let mut bytes = [0u8; 8];
        // The OS generator fails only on a broken system; a clock-derived id then still
        // differs between nodes started at different moments.
        if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            bytes = (nanos as u64 ^ u64::from(std::process::id())).to_be_bytes();
        }
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The pub/sub channel this node listens on.
    pub(crate) fn channel(&self) -> String {
        format!("pw:node:{}", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One connection in one room, as the room's hash names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Member {
    pub(crate) node: NodeId,
    pub(crate) conn: ConnId,
}

impl Member {
    /// Parses `<node>:<conn>`; `None` for anything else.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let (node, conn) = s.split_once(':')?;
        if node.len() != 16 || !node.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Self {
            node: NodeId(node.to_owned()),
            conn: ConnId(conn.parse().ok()?),
        })
    }
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.node, self.conn.0)
    }
}

/// What a node's channel carries for one of its connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// `from` joined the room of the connection.
    PeerJoined,
    /// `from` left it.
    PeerLeft,
    /// `from` relayed this frame.
    Relay(Frame),
}

/// One message between nodes: `event` from `from` for the connection `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeMsg {
    pub(crate) to: ConnId,
    pub(crate) from: Member,
    pub(crate) event: Event,
}

impl NodeMsg {
    /// The bytes published.
    pub(crate) fn encode(&self) -> String {
        let (kind, frame) = match &self.event {
            Event::PeerJoined => ('J', None),
            Event::PeerLeft => ('L', None),
            Event::Relay(frame) => ('R', Some(frame.text())),
        };
        let head = format!("{kind} {} {}", self.to.0, self.from);
        match frame {
            Some(text) => format!("{head}\n{text}"),
            None => head,
        }
    }

    /// Parses what [`NodeMsg::encode`] made; `None` for anything else.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (head, frame) = match text.split_once('\n') {
            Some((head, frame)) => (head, Some(frame)),
            None => (text, None),
        };
        let mut parts = head.split(' ');
        let (kind, to, from) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let event = match (kind, frame) {
            ("J", None) => Event::PeerJoined,
            ("L", None) => Event::PeerLeft,
            ("R", Some(frame)) => Event::Relay(Frame::from_node(frame)),
            _ => return None,
        };
        Some(Self {
            to: ConnId(to.parse().ok()?),
            from: Member::parse(from)?,
            event,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> Member {
        Member::parse("0123456789abcdef:42").unwrap()
    }

    #[test]
    fn messages_round_trip_and_a_relay_keeps_its_bytes() {
        let frame = Frame::relay("{\"kind\":\"x\",\"n\":1e15,\"s\":\"a\\nb\"}");
        for event in [Event::PeerJoined, Event::PeerLeft, Event::Relay(frame)] {
            let msg = NodeMsg {
                to: ConnId(7),
                from: member(),
                event,
            };
            let bytes = msg.encode();
            assert_eq!(NodeMsg::decode(bytes.as_bytes()), Some(msg));
        }
        assert_eq!(
            NodeMsg {
                to: ConnId(7),
                from: member(),
                event: Event::Relay(Frame::relay("[1, 2]")),
            }
            .encode(),
            "R 7 0123456789abcdef:42\n{\"type\":\"relay\",\"body\":[1, 2]}"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            &b""[..],
            b"J 7",
            b"J 7 0123456789abcdef:42 x",
            b"J 7 0123456789abcdef:42\n{}",
            b"R 7 0123456789abcdef:42",
            b"X 7 0123456789abcdef:42",
            b"J seven 0123456789abcdef:42",
            b"J 7 0123456789abcdeg:42",
            b"J 7 0123:42",
            b"J 7 0123456789abcdef",
            b"R 7 0123456789abcdef:42\n\xff",
        ] {
            assert_eq!(NodeMsg::decode(bad), None, "{bad:?}");
        }
        assert_eq!(member().to_string(), "0123456789abcdef:42");
        assert!(NodeId::random().to_string().len() == 16);
        assert_ne!(NodeId::random(), NodeId::random());
    }
}
