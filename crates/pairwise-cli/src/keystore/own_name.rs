//! This device's own name, as `--name` last set it: kept in `name.txt` in the configuration
//! directory (0600, written atomically), so a name given once is what other devices see on every
//! later run, instead of the host name (which would make them rename this device back and forth).

use pairwise_proto::device::DeviceName;

use crate::config::{ConfigDir, ConfigError};

/// The file that keeps the name `--name` gave this device.
pub const NAME_FILE: &str = "name.txt";

/// The name kept from an earlier `--name`, if there is one. A file that cannot be read or no
/// longer holds a valid name is logged and treated as absent: the host name is a safe fallback,
/// and the next `--name` replaces the file.
pub fn kept_name(dir: &ConfigDir) -> Option<DeviceName> {
    let bytes = match dir.read(NAME_FILE) {
        Ok(bytes) => bytes?,
        Err(e) => {
            tracing::warn!("{e}; using the host name");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    match DeviceName::parse(text.trim_end_matches(['\n', '\r'])) {
        Ok(name) => Some(name),
        Err(e) => {
            let path = dir.file(NAME_FILE);
            tracing::warn!(path = %path.display(), "not a device name ({e}); using the host name");
            None
        }
    }
}

/// Keeps `name` for later runs (replacing what an earlier `--name` kept).
///
/// # Errors
/// [`ConfigError`] if the directory or file cannot be written.
pub fn keep_name(dir: &ConfigDir, name: &DeviceName) -> Result<(), ConfigError> {
    dir.write_private(NAME_FILE, format!("{name}\n").as_bytes())
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_name_is_read_back_and_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().join("config"));
        assert_eq!(kept_name(&dir), None);
        keep_name(&dir, &DeviceName::parse("Work laptop").unwrap()).unwrap();
        assert_eq!(kept_name(&dir).unwrap().as_str(), "Work laptop");
        keep_name(&dir, &DeviceName::parse("Büro").unwrap()).unwrap();
        assert_eq!(kept_name(&dir).unwrap().as_str(), "Büro");
    }

    #[test]
    fn a_damaged_name_file_falls_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().join("config"));
        dir.write_private(NAME_FILE, b"evil\x1b[31m\n").unwrap();
        assert_eq!(kept_name(&dir), None);
        dir.write_private(NAME_FILE, b"\n").unwrap();
        assert_eq!(kept_name(&dir), None);
    }
}
