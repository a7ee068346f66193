//! The configuration directory: where `pairwise` keeps what must outlive one run (the
//! generated TLS certificate today; the identity key and paired devices later).
//!
//! - Where: `--config DIR`, else `PAIRWISE_CONFIG`, else the platform's convention
//!   (`$XDG_CONFIG_HOME/pairwise` or `~/.config/pairwise` on Linux, `~/Library/Application
//!   Support/pairwise` on macOS, `%APPDATA%\pairwise\config` on Windows).
//! - Created on first use with mode 0700 (owner only); an existing directory is left as it is,
//!   with a warning if other users can read it.
//! - Files are written atomically with mode 0600 ([`ConfigDir::write_private`]): a temporary
//!   file in the same directory, fsync, rename over the old one, fsync of the directory. A
//!   reader sees the old file or the new one, never half of one.
//! - A read-modify-write of one file runs under an exclusive lock ([`ConfigDir::locked`]) on a
//!   companion `.NAME.lock` file, so two `pairwise` processes (a `send` and a `receive`, or two
//!   `send`s) never lose each other's changes. The lock is advisory (`flock` on Unix,
//!   `LockFileEx` on Windows) and held for milliseconds; a process that dies drops it.
//!
//! It knows nothing about what the files hold.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Why the configuration directory or one of its files could not be used. Every message names
/// the path and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No `--config`, no `PAIRWISE_CONFIG` and no home directory to derive one from.
    #[error(
        "cannot tell where to keep pairwise's configuration (no home directory found): \
         pass --config DIR or set PAIRWISE_CONFIG"
    )]
    NoHome,
    /// The directory could not be created or is not a directory.
    #[error(
        "cannot use {} as the configuration directory: {source}; \
         choose another with --config DIR (or PAIRWISE_CONFIG)", path.display()
    )]
    Dir {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A file could not be written.
    #[error(
        "cannot write {}: {source}; check that the directory is writable by you, \
         or choose another with --config DIR", path.display()
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A file exists but could not be read.
    #[error(
        "cannot read {}: {source}; check its permissions (it should belong to you)",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
}

/// The configuration directory. Cheap to clone; nothing is created until it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDir {
    path: PathBuf,
}

impl ConfigDir {
    /// The directory given with `--config` / `PAIRWISE_CONFIG` (clap reads both into
    /// `explicit`), else the platform's configuration directory for "pairwise".
    ///
    /// # Errors
    /// [`ConfigError::NoHome`] when there is neither.
    pub fn resolve(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        if let Some(path) = explicit {
            return Ok(Self::at(path));
        }
        directories::ProjectDirs::from("", "", "pairwise")
            .map(|dirs| Self::at(dirs.config_dir()))
            .ok_or(ConfigError::NoHome)
    }

    /// The directory at `path` (used as given).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of the file `name` in it (whether or not it exists).
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Creates the directory (and missing parents) with mode 0700 if it does not exist.
    ///
    /// # Errors
    /// [`ConfigError::Dir`] if it cannot be created or is not a directory.
    pub fn ensure(&self) -> Result<&Path, ConfigError> {
        let dir_err = |source| ConfigError::Dir {
            path: self.path.clone(),
            source,
        };
        match fs::metadata(&self.path) {
            Ok(meta) if meta.is_dir() => {
                warn_if_shared(&self.path, &meta);
                return Ok(&self.path);
            }
            Ok(_) => {
                return Err(dir_err(io::Error::other(
                    "it exists and is not a directory",
                )));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(dir_err(e)),
        }
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.path).map_err(dir_err)?;
        tracing::debug!(path = %self.path.display(), "created the configuration directory");
        Ok(&self.path)
    }

    /// Reads the file `name`, or `None` if it does not exist.
    ///
    /// # Errors
    /// [`ConfigError::Read`] if it exists but cannot be read.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, ConfigError> {
        let path = self.file(name);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Writes `bytes` to the file `name` atomically, readable and writable by the owner only
    /// (0600), creating the directory first if needed. Returns the file's path.
    ///
    /// # Errors
    /// [`ConfigError::Dir`] or [`ConfigError::Write`].
    pub fn write_private(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, ConfigError> {
        self.ensure()?;
        let path = self.file(name);
        write_atomic_private(&path, bytes).map_err(|source| ConfigError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }
}

impl ConfigDir {
    /// Runs `change` while holding the exclusive lock of the file `name` (creating the
    /// directory and the lock file first if needed): every read-modify-write of one
    /// configuration file goes through here, so concurrent processes take turns. Blocks while
    /// another process holds the lock (they hold it only while they read and write one small
    /// file).
    ///
    /// # Errors
    /// [`ConfigError::Dir`], [`ConfigError::Write`] (the lock file cannot be made or locked),
    /// or whatever `change` returns.
    pub fn locked<T, E: From<ConfigError>>(
        &self,
        name: &str,
        change: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        self.ensure()?;
        let path = self.file(&format!(".{name}.lock"));
        let write_err = |source| ConfigError::Write {
            path: path.clone(),
            source,
        };
        let mut options = fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(write_err)?;
        file.lock().map_err(write_err)?;
        let out = change();
        // Closing the file drops the lock too; unlocking first says so plainly.
        let _ = file.unlock();
        out
    }
}

/// Writes `bytes` to `path` through a 0600 temporary file in the same directory: write, fsync,
/// rename over `path`, fsync the directory.
fn write_atomic_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("the path has no parent directory"))?;
    let name = path
        .file_name()
        .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // The rename itself must reach the disk too (POSIX); other platforms need no more.
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// A directory someone else can list or enter may hold private keys: say so, once per use.
fn warn_if_shared(path: &Path, meta: &fs::Metadata) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "the configuration directory is accessible to other users; \
                 `chmod 700` it to keep private keys private"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (path, meta);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_directory_wins() {
        let dir = ConfigDir::resolve(Some(Path::new("/some/where"))).unwrap();
        assert_eq!(dir.path(), Path::new("/some/where"));
        assert_eq!(dir.file("a.pem"), Path::new("/some/where/a.pem"));
    }

    #[test]
    fn directory_is_created_owner_only_on_first_write() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().join("nested/pairwise"));
        assert_eq!(dir.read("x").unwrap(), None);
        let path = dir.write_private("x", b"one").unwrap();
        assert_eq!(dir.read("x").unwrap().as_deref(), Some(&b"one"[..]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(dir.path()), 0o700);
            assert_eq!(mode(&path), 0o600);
        }
    }

    #[test]
    fn rewrite_replaces_whole_file_and_leaves_no_temporary_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path());
        dir.write_private("key.pem", &[b'a'; 4096]).unwrap();
        dir.write_private("key.pem", b"short").unwrap();
        assert_eq!(dir.read("key.pem").unwrap().as_deref(), Some(&b"short"[..]));
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("key.pem")]);
    }

    #[test]
    fn locked_changes_from_many_writers_are_all_kept() {
        // Each thread opens the lock file on its own (as separate processes do) and appends
        // one line by read-modify-write; without the lock some appends would be lost.
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().join("cfg"));
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    for j in 0..10 {
                        dir.locked("list", || {
                            let mut text = dir.read("list")?.unwrap_or_default();
                            std::thread::yield_now();
                            text.extend_from_slice(format!("{i}-{j}\n").as_bytes());
                            dir.write_private("list", &text).map(|_| ())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let text = String::from_utf8(dir.read("list").unwrap().unwrap()).unwrap();
        assert_eq!(text.lines().count(), 80, "{text}");
    }

    #[test]
    fn a_file_in_place_of_the_directory_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("not-a-dir");
        fs::write(&file, b"").unwrap();
        let err = ConfigDir::at(&file)
            .write_private("x", b"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not-a-dir"), "{err}");
        assert!(err.contains("is not a directory"), "{err}");
        assert!(err.contains("--config"), "{err}");
    }
}
