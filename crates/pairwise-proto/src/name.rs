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

/// Why a file name or the folder path above it is refused; every variant maps to
/// [`ErrorCode::BadName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadName {
    /// A `:` (drive prefix, alternate data stream).
    #[error("file name contains ':'")]
    Colon,
    /// A control character (U+0000–U+001F, U+007F–U+009F).
    #[error("file name contains a control character")]
    Control,
    /// A character that reorders or hides text ([`hides_or_reorders`]): shown, the name would
    /// read as another (`invoice\u{202E}txt.exe` reads `invoiceexe.txt`).
    #[error("file name contains a bidirectional formatting or invisible character")]
    Format,
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
    /// A file inside more than `MAX_DIR_DEPTH` folders (§11.1).
    #[error("file is {depth} folders deep, more than {max}")]
    TooDeep {
        /// Folders above the file.
        depth: usize,
        /// The limit.
        max: usize,
    },
    /// A relative path `dir/…/name` longer than `MAX_PATH_BYTES` (§11.1).
    #[error("path of {len} bytes exceeds {max}")]
    PathTooLong {
        /// Bytes in the joined path.
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

/// Whether `c` changes how the text around it reads without being seen itself (§7): a
/// bidirectional formatting character (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069) or
/// an invisible one (U+00AD, U+115F, U+1160, U+180E, U+200B, U+2060–U+2064, U+3164, U+FEFF,
/// U+FFA0). The zero-width joiners U+200C and U+200D are allowed: emoji and several scripts
/// need them. Applies to file names, folder names and device names alike.
pub fn hides_or_reorders(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    )
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
        if name.chars().any(hides_or_reorders) {
            return Err(BadName::Format);
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
            "👨\u{200D}👩\u{200D}👧.jpg",
            "می\u{200C}خواهم.txt",
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
            ("invoice\u{202E}txt.exe", BadName::Format),
            ("a\u{200B}b", BadName::Format),
            ("\u{FEFF}a", BadName::Format),
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
