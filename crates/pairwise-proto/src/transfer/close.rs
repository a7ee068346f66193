//! The `close` message (§6.1): UTF-8 JSON `{}` (a normal end) or `{"code": C}` (the session
//! ends because the side that sends it refused what the other side sent, with C from §9).

use serde::{Deserialize, Deserializer, Serialize};

use super::TransferError;
use crate::error::ErrorCode;

/// The payload on the wire; unknown keys, `null` and a code outside §9 are refused.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseWire {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    code: Option<ErrorCode>,
}

/// A `code` key that is there must hold a code: `{"code": null}` is refused, not read as `{}`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ErrorCode>, D::Error> {
    ErrorCode::deserialize(d).map(Some)
}

pub(super) fn encode(code: Option<ErrorCode>) -> Vec<u8> {
    // A struct of one enum cannot fail to serialise.
    serde_json::to_vec(&CloseWire { code }).unwrap_or_default()
}

pub(super) fn parse(payload: &[u8]) -> Result<Option<ErrorCode>, TransferError> {
    // An object, as the page reads it (`strict_json`: serde alone takes `["bad-name"]` too).
    crate::strict_json::from_slice::<CloseWire>(payload)
        .map(|w| w.code)
        .map_err(|reason| TransferError::BadClose { reason })
}

/// What a peer's `close {"code": C}` is here (§6.1, §9): `name-refused` for its `bad-name`,
/// otherwise `peer-refused` (a `close {}` is no refusal: the caller decides whether it ended a
/// transfer early).
pub fn refused_as(peer_code: ErrorCode) -> ErrorCode {
    if peer_code == ErrorCode::BadName {
        ErrorCode::NameRefused
    } else {
        ErrorCode::PeerRefused
    }
}

/// Whether a failure with `code`, found in what the peer sent, is one a side tells the peer
/// about with `close {"code": …}` before it closes (§6.1).
pub fn refuses(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::BadName | ErrorCode::PeerMisbehaved | ErrorCode::RecordRejected
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peers_code_becomes_name_refused_or_peer_refused() {
        assert_eq!(refused_as(ErrorCode::BadName), ErrorCode::NameRefused);
        for code in [ErrorCode::PeerMisbehaved, ErrorCode::RecordRejected] {
            assert_eq!(refused_as(code), ErrorCode::PeerRefused);
        }
    }

    #[test]
    fn only_failures_found_in_the_peers_data_are_told() {
        assert!(refuses(ErrorCode::BadName));
        assert!(refuses(ErrorCode::RecordRejected));
        assert!(refuses(ErrorCode::PeerMisbehaved));
        assert!(!refuses(ErrorCode::PeerLeft));
        assert!(!refuses(ErrorCode::Incomplete));
        assert!(!refuses(ErrorCode::NameRefused));
    }

    #[test]
    fn encodes_as_in_the_spec() {
        assert_eq!(encode(None), b"{}");
        assert_eq!(encode(Some(ErrorCode::BadName)), br#"{"code":"bad-name"}"#);
        assert_eq!(parse(b" {}"), Ok(None));
    }
}
