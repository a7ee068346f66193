//! Newtypes for identifiers that cross the network: the server sees only these.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::limits::ROOM_ID_CHARS;

/// A signaling room id: 22 base64url characters, derived one-way from a secret.
///
/// Parsing is the only way to build one from untrusted input, so a `RoomId` always has the
/// right shape.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomId(String);

/// Why a string is not a room id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("room id must be {ROOM_ID_CHARS} base64url characters")]
pub struct BadRoomId;

impl RoomId {
    /// Parses a room id, refusing anything but exactly 22 base64url characters.
    ///
    /// # Errors
    /// [`BadRoomId`] for any other string.
    pub fn parse(s: &str) -> Result<Self, BadRoomId> {
        let ok = s.len() == ROOM_ID_CHARS
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(BadRoomId)
        }
    }

    /// Wraps a room id this crate derived (always 22 base64url characters).
    pub(crate) fn from_derived(s: &str) -> Self {
        debug_assert!(
            Self::parse(s).is_ok(),
            "derived room ids are 22 base64url chars"
        );
        Self(s.to_owned())
    }

    /// The id as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short form for logs (first 6 characters); room ids are correlatable, so logs use this.
    pub fn fmt_short(&self) -> &str {
        &self.0[..6]
    }
}

impl TryFrom<String> for RoomId {
    type Error = BadRoomId;
    fn try_from(s: String) -> Result<Self, BadRoomId> {
        Self::parse(&s)
    }
}

impl From<RoomId> for String {
    fn from(r: RoomId) -> Self {
        r.0
    }
}

impl fmt::Debug for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoomId({}..)", self.fmt_short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_id_of_22_base64url_chars_parses() {
        assert!(RoomId::parse("abcdefghijklmnopqrst-_").is_ok());
    }

    #[test]
    fn room_id_of_wrong_length_or_alphabet_is_refused() {
        assert_eq!(RoomId::parse("abcdefghijklmnopqrst-"), Err(BadRoomId));
        assert_eq!(RoomId::parse("abcdefghijklmnopqrst-_x"), Err(BadRoomId));
        assert_eq!(RoomId::parse("abcdefghijklmnopqrst+/"), Err(BadRoomId));
        assert_eq!(RoomId::parse(""), Err(BadRoomId));
    }
}
