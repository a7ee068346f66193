//! TLS for both ends of the CLI, on rustls with the ring provider (the one webrtc already
//! links, so the binary carries one crypto library):
//!
//! - `pairwise serve --tls`: a self-signed certificate generated once and kept in the
//!   configuration directory (`generated`), or the user's own PEM files ([`from_files`]);
//!   either becomes a [`ServerIdentity`] for `pairwise_server::run_tls`.
//! - `send`/`receive` to an `https://` server: which certificates the WebSocket trusts
//!   ([`client`]).
//!
//! Why a self-signed certificate is acceptable on a LAN, and what a person checks, is in
//! `docs/security.md`.

pub mod client;
pub(crate) mod generated;

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest as _, Sha256};

/// What `pairwise serve` serves HTTPS with.
#[derive(Debug, Clone)]
pub struct ServerIdentity {
    /// The rustls configuration (certificate chain and key).
    pub config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the (leaf) certificate, as [`fingerprint`] writes it.
    pub fingerprint: String,
    /// The certificate file (what a client passes to `--server-cert`).
    pub cert_path: PathBuf,
}

/// Why TLS could not be set up. Each message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read the {what} {}: {source}; check the path given to {flag}", path.display())]
    Read {
        /// "certificate" or "private key".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The option that named it.
        flag: &'static str,
        /// What went wrong.
        source: io::Error,
    },
    /// The file holds no PEM certificate.
    #[error(
        "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----): {flag} needs the \
         certificate (chain) in PEM form", path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
        /// The option that named it.
        flag: &'static str,
    },
    /// The file holds no usable PEM private key.
    #[error(
        "{} holds no usable PEM private key ({detail}): --tls-key needs an unencrypted \
         PKCS#8, PKCS#1 or SEC1 key in PEM form", path.display()
    )]
    NoKey {
        /// The file.
        path: PathBuf,
        /// What the PEM parser said.
        detail: String,
    },
    /// The key is not the certificate's.
    #[error(
        "the private key {} does not belong to the certificate {}: give --tls-cert and \
         --tls-key from the same pair", key.display(), cert.display()
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused the certificate or key for another reason.
    #[error("the certificate {} cannot be used: {source}", cert.display())]
    Unusable {
        /// The certificate file.
        cert: PathBuf,
        /// What rustls said.
        source: rustls::Error,
    },
    /// The self-signed certificate could not be made.
    #[error("could not make a TLS certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The configuration directory failed.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// The crypto provider of every TLS configuration here: ring.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// SHA-256 of a DER certificate in the form browsers show it: 32 upper-case hex pairs joined by
/// colons.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let mut out = String::with_capacity(95);
    for (i, b) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// Uses the user's own certificate chain and key (`--tls-cert`, `--tls-key`).
///
/// # Errors
/// A [`TlsError`] naming the file that is missing, unreadable, not PEM, or not a pair.
pub fn from_files(cert: &Path, key: &Path) -> Result<ServerIdentity, TlsError> {
    let chain = read_certificates(cert, "--tls-cert")?;
    let key_bytes = std::fs::read(key).map_err(|source| TlsError::Read {
        what: "private key",
        path: key.to_owned(),
        flag: "--tls-key",
        source,
    })?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| TlsError::NoKey {
        path: key.to_owned(),
        detail: e.to_string(),
    })?;
    let fingerprint = fingerprint(&chain[0]);
    let config = server_config(chain, key_der).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
            cert: cert.to_owned(),
            key: key.to_owned(),
        },
        source => TlsError::Unusable {
            cert: cert.to_owned(),
            source,
        },
    })?;
    Ok(ServerIdentity {
        config,
        fingerprint,
        cert_path: cert.to_owned(),
    })
}

/// Every certificate in the PEM file `path` (at least one), in order.
///
/// # Errors
/// [`TlsError::Read`] or [`TlsError::NoCertificate`].
pub fn read_certificates(
    path: &Path,
    flag: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read {
        what: "certificate",
        path: path.to_owned(),
        flag,
        source,
    })?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_default();
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
            flag,
        });
    }
    Ok(chain)
}

/// A server configuration for `chain` and `key`; rustls checks that the key is the leaf's.
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_colon_separated_upper_case_sha256() {
        // SHA-256("abc") from FIPS 180-2.
        assert_eq!(
            fingerprint(b"abc"),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:\
             61:F2:00:15:AD"
        );
    }
}
