//! Base64url without padding (RFC 4648 §5), the only base64 flavour on the wire.
//!
//! Decoding is canonical: padding, `+`/`/`, whitespace and non-zero trailing bits are refused,
//! so every byte string has exactly one text form.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encodes `bytes` as base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes canonical base64url without padding.
///
/// # Errors
/// [`BadBase64`] for anything that is not the canonical encoding of some bytes.
pub fn decode(text: &str) -> Result<Vec<u8>, BadBase64> {
    URL_SAFE_NO_PAD.decode(text).map_err(|_| BadBase64)
}

/// Decodes canonical base64url into exactly `N` bytes.
///
/// # Errors
/// [`BadBase64`] for a bad encoding or a length other than `N`.
pub fn decode_array<const N: usize>(text: &str) -> Result<[u8; N], BadBase64> {
    decode(text)?.try_into().map_err(|_| BadBase64)
}

/// Why a string is not canonical base64url (or not of the expected length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not canonical base64url of the expected length")]
pub struct BadBase64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_uses_url_alphabet_without_padding() {
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode("-_8").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn padding_standard_alphabet_and_trailing_bits_are_refused() {
        assert_eq!(decode("-_8="), Err(BadBase64));
        assert_eq!(decode("+/8"), Err(BadBase64));
        assert_eq!(decode("-_9"), Err(BadBase64));
        assert_eq!(decode(" -_8"), Err(BadBase64));
    }

    #[test]
    fn decode_array_checks_length() {
        assert_eq!(decode_array::<2>("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_array::<3>("-_8"), Err(BadBase64));
    }
}
