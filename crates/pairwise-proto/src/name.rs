//! [`SafeName`]: a file name from a peer that is safe to create in a chosen directory
//! (`docs/protocol.md` §7).
//!
//! Parse, don't validate: the only way to get a `SafeName` is [`SafeName::parse`], which refuses
//! anything that could escape the directory, collide with a device, or confuse a file system.
//! Names are never repaired. This module does not pick the directory or handle collisions.

use std::fmt;

use serde::Serialize;

use crate::error::ErrorCode;
use crate::limits::MAX_NAME_BYTES;

/// A file name that passed every rule of §7.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct SafeName(String);

/// Why a file name is refused; every variant maps to [`ErrorCode::BadName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadName {
    /// A `:` (drive prefix, alternate data stream).
    #[error("file name contains ':'")]
    Colon,
    /// A control character (U+0000–U+001F, U+007F–U+009F).
    #[error("file name contains a control character")]
    Control,
    /// `.` or `..`.
    #[error("file name is '.' or '..'")]
    DotName,
    /// The empty string.
    #[error("file name is empty")]
    Empty,
    /// A reserved Windows device name, with or without an extension.
    #[error("file name is a reserved device name")]
    Reserved,
    /// A `/` or `\`.
    #[error("file name contains a path separator")]
    Separator,
    /// More than [`MAX_NAME_BYTES`] bytes.
    #[error("file name of {len} bytes exceeds {max}")]
    TooLong {
        /// Bytes in the name.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Ends with `.` or a space.
    #[error("file name ends with '.' or a space")]
    TrailingDotOrSpace,
}

impl BadName {
    /// The catalogue code: always [`ErrorCode::BadName`].
    pub fn code(&self) -> ErrorCode {
        ErrorCode::BadName
    }
}

const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

impl SafeName {
    /// Parses a name from a peer, refusing anything §7 does not allow.
    ///
    /// # Errors
    /// The first rule the name breaks, as a [`BadName`].
    pub fn parse(name: &str) -> Result<Self, BadName> {
        if name.is_empty() {
            return Err(BadName::Empty);
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(BadName::TooLong {
                len: name.len(),
                max: MAX_NAME_BYTES,
            });
        }
        if name.contains(['/', '\\']) {
            return Err(BadName::Separator);
        }
        // `char::is_control` is exactly Unicode category Cc: U+0000–U+001F and U+007F–U+009F.
        if name.chars().any(char::is_control) {
            return Err(BadName::Control);
        }
        if name == "." || name == ".." {
            return Err(BadName::DotName);
        }
        if name.ends_with(['.', ' ']) {
            return Err(BadName::TrailingDotOrSpace);
        }
        if name.contains(':') {
            return Err(BadName::Colon);
        }
        let stem = name.split('.').next().unwrap_or(name);
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
            return Err(BadName::Reserved);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<SafeName> for String {
    fn from(n: SafeName) -> Self {
        n.0
    }
}

impl fmt::Debug for SafeName {
    /// File names are user data: debug output shows only the length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafeName({} bytes)", self.0.len())
    }
}

impl fmt::Display for SafeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_and_unicode_names_are_accepted() {
        for name in [
            "a.txt",
            "résumé.pdf",
            "日本.txt",
            ".hidden",
            "a..b",
            "console.log",
            "COM10",
        ] {
            assert_eq!(SafeName::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn name_at_the_cap_is_accepted_and_one_past_is_refused() {
        assert!(SafeName::parse(&"a".repeat(MAX_NAME_BYTES)).is_ok());
        assert_eq!(
            SafeName::parse(&"a".repeat(MAX_NAME_BYTES + 1)),
            Err(BadName::TooLong {
                len: MAX_NAME_BYTES + 1,
                max: MAX_NAME_BYTES
            })
        );
    }

    #[test]
    fn escaping_and_device_names_are_refused() {
        let cases = [
            ("", BadName::Empty),
            ("../x", BadName::Separator),
            ("/etc/passwd", BadName::Separator),
            ("C:\\x", BadName::Separator),
            ("C:x", BadName::Colon),
            ("a\u{0}b", BadName::Control),
            ("a\u{85}b", BadName::Control),
            (".", BadName::DotName),
            ("..", BadName::DotName),
            ("a.", BadName::TrailingDotOrSpace),
            ("a ", BadName::TrailingDotOrSpace),
            ("con", BadName::Reserved),
            ("CON.txt", BadName::Reserved),
            ("lpt9.tar.gz", BadName::Reserved),
        ];
        for (name, want) in cases {
            assert_eq!(SafeName::parse(name), Err(want), "{name:?}");
        }
    }

    #[test]
    fn debug_does_not_print_the_name() {
        let name = SafeName::parse("secret-plans.pdf").unwrap();
        assert_eq!(format!("{name:?}"), "SafeName(16 bytes)");
    }
}
