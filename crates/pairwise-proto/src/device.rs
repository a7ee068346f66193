//! [`DeviceName`]: the name a device gives itself and sends in its `device` message
//! (`docs/protocol.md` §10.7), parsed strictly because it is shown on the other screen.
//!
//! A device name is display text only: it is never used as a path, a room or a key. The rules
//! keep it short and printable and stop it from spoofing the text around it (no control or
//! bidirectional-override or invisible characters, `name::hides_or_reorders`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::limits::MAX_DEVICE_NAME_CHARS;
use crate::name::hides_or_reorders;

/// A device name that passed §10.7: 1 to [`MAX_DEVICE_NAME_CHARS`] characters, no control or
/// characters that hide or reorder text, no leading or trailing white space.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceName(String);

/// Why a device name is refused (from a peer: `peer-misbehaved`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadDeviceName {
    /// Empty.
    #[error("device name is empty")]
    Empty,
    /// More than [`MAX_DEVICE_NAME_CHARS`] characters.
    #[error("device name of {chars} characters exceeds {MAX_DEVICE_NAME_CHARS}")]
    TooLong {
        /// Characters in the name.
        chars: usize,
    },
    /// A control (Cc) character or one that hides or reorders text.
    #[error("device name contains a control, bidi formatting or invisible character")]
    Control,
    /// White space at either end.
    #[error("device name starts or ends with white space")]
    Untrimmed,
}

impl BadDeviceName {
    /// The catalogue code: [`ErrorCode::PeerMisbehaved`].
    pub fn code(&self) -> ErrorCode {
        ErrorCode::PeerMisbehaved
    }
}

impl DeviceName {
    /// Parses a name from a peer (or a person), refusing anything §10.7 does not allow.
    ///
    /// # Errors
    /// The first rule the name breaks.
    pub fn parse(name: &str) -> Result<Self, BadDeviceName> {
        if name.is_empty() {
            return Err(BadDeviceName::Empty);
        }
        let chars = name.chars().count();
        if chars > MAX_DEVICE_NAME_CHARS {
            return Err(BadDeviceName::TooLong { chars });
        }
        if name.chars().any(|c| c.is_control() || hides_or_reorders(c)) {
            return Err(BadDeviceName::Control);
        }
        if name.trim() != name {
            return Err(BadDeviceName::Untrimmed);
        }
        Ok(Self(name.to_owned()))
    }

    /// A best-effort name from free text (a host name, a user agent): control characters
    /// dropped, white space trimmed, cut to the limit; `fallback` if nothing is left.
    pub fn sanitize(text: &str, fallback: &str) -> Self {
        let kept: String = text
            .chars()
            .filter(|c| !c.is_control() && !hides_or_reorders(*c))
            .take(MAX_DEVICE_NAME_CHARS)
            .collect();
        Self::parse(kept.trim()).unwrap_or_else(|_| Self(fallback.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeviceName {
    type Error = BadDeviceName;
    fn try_from(s: String) -> Result<Self, BadDeviceName> {
        Self::parse(&s)
    }
}

impl From<DeviceName> for String {
    fn from(n: DeviceName) -> Self {
        n.0
    }
}

impl fmt::Debug for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceName({:?})", self.0)
    }
}

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `device` message payload: `{"name": …}` (unknown keys refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// The sender's name for itself.
    pub name: DeviceName,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_are_accepted() {
        for name in ["Pixel 8", "Work laptop", "Anna's iPhone", "日本のPC", "a"] {
            assert_eq!(DeviceName::parse(name).unwrap().as_str(), name);
        }
        let cap = "x".repeat(MAX_DEVICE_NAME_CHARS);
        assert!(DeviceName::parse(&cap).is_ok());
    }

    #[test]
    fn spoofing_and_oversized_names_are_refused() {
        let long = "x".repeat(MAX_DEVICE_NAME_CHARS + 1);
        let cases = [
            ("", BadDeviceName::Empty),
            (
                long.as_str(),
                BadDeviceName::TooLong {
                    chars: MAX_DEVICE_NAME_CHARS + 1,
                },
            ),
            ("a\nb", BadDeviceName::Control),
            ("a\u{0}", BadDeviceName::Control),
            ("evil\u{202E}fdp.exe", BadDeviceName::Control),
            ("\u{2066}x", BadDeviceName::Control),
            (" padded", BadDeviceName::Untrimmed),
            ("padded\t", BadDeviceName::Control),
            ("padded ", BadDeviceName::Untrimmed),
        ];
        for (name, want) in cases {
            assert_eq!(DeviceName::parse(name), Err(want), "{name:?}");
        }
    }

    #[test]
    fn sanitize_keeps_what_it_can() {
        assert_eq!(
            DeviceName::sanitize("  my-host\n", "Device").as_str(),
            "my-host"
        );
        assert_eq!(
            DeviceName::sanitize("\u{202E}", "Device").as_str(),
            "Device"
        );
        let long = "y".repeat(100);
        assert_eq!(
            DeviceName::sanitize(&long, "Device")
                .as_str()
                .chars()
                .count(),
            MAX_DEVICE_NAME_CHARS
        );
    }

    #[test]
    fn info_json_is_strict() {
        let ok: DeviceInfo = serde_json::from_str(r#"{"name":"Pixel 8"}"#).unwrap();
        assert_eq!(ok.name.as_str(), "Pixel 8");
        assert!(serde_json::from_str::<DeviceInfo>(r#"{"name":"x","extra":1}"#).is_err());
        assert!(serde_json::from_str::<DeviceInfo>(r#"{"name":""}"#).is_err());
    }
}
