//! Which certificates `send`/`receive` trust when the signaling server is `https://` (`wss://`).
//!
//! - By default the system's trusted roots (`/etc/ssl/certs` and the like, through
//!   rustls-native-certs), so a server with a real certificate, or one from a company CA the
//!   system trusts, just works.
//! - With `--server-cert FILE` (`PAIRWISE_SERVER_CERT`): exactly the certificate(s) in that PEM
//!   file and nothing else, e.g. the self-signed one `pairwise serve --tls` prints. The host
//!   name or IP address must still be one the certificate names.
//!
//! A refused certificate becomes a sentence that says why and suggests `--server-cert`
//! ([`explain`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::{CertificateError, ClientConfig, RootCertStore};

use super::{TlsError, provider, read_certificates};

/// The certificates a client trusts.
#[derive(Debug, Clone)]
pub enum Trust {
    /// The system's trusted roots, loaded when first needed.
    System,
    /// Exactly the certificates of one PEM file.
    Pinned {
        /// The file, for messages.
        path: PathBuf,
        /// A client configuration trusting only its certificates.
        config: Arc<ClientConfig>,
    },
}

impl Trust {
    /// Trusts only the certificates in the PEM file `path` (`--server-cert`).
    ///
    /// # Errors
    /// [`TlsError::Read`] or [`TlsError::NoCertificate`]; [`TlsError::Unusable`] if one of them
    /// cannot serve as a trust anchor.
    pub fn pinned(path: &Path) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in read_certificates(path, "--server-cert")? {
            roots.add(cert).map_err(|source| TlsError::Unusable {
                cert: path.to_owned(),
                source,
            })?;
        }
        Ok(Self::Pinned {
            path: path.to_owned(),
            config: client_config(roots)?,
        })
    }

    /// `--server-cert` if given, else the system's roots.
    ///
    /// # Errors
    /// As [`Trust::pinned`].
    pub fn from_option(path: Option<&Path>) -> Result<Self, TlsError> {
        path.map_or(Ok(Self::System), Self::pinned)
    }

    /// The rustls configuration to connect with. For [`Trust::System`] this reads the system's
    /// certificate store (an empty one only means no server will be trusted).
    ///
    /// # Errors
    /// [`TlsError::Unusable`] if rustls refuses the configuration (not expected).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        match self {
            Self::Pinned { config, .. } => Ok(config.clone()),
            Self::System => {
                let found = rustls_native_certs::load_native_certs();
                if !found.errors.is_empty() {
                    tracing::debug!(errors = ?found.errors, "some system certificates are unreadable");
                }
                let mut roots = RootCertStore::empty();
                let (added, ignored) = roots.add_parsable_certificates(found.certs);
                tracing::debug!(added, ignored, "system root certificates");
                client_config(roots)
            }
        }
    }
}

fn client_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, TlsError> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|source| TlsError::Unusable {
            cert: PathBuf::new(),
            source,
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A sentence for a TLS failure talking to `host`, if `err` is one: what happened and, for an
/// untrusted certificate, how to trust it.
pub fn explain(err: &std::io::Error, host: &str, trust: &Trust) -> Option<String> {
    let tls = err.get_ref()?.downcast_ref::<rustls::Error>()?;
    let hint = match trust {
        Trust::System => {
            "; if it is `pairwise serve --tls` (self-signed), pass the certificate it printed \
             with --server-cert FILE (or PAIRWISE_SERVER_CERT)"
                .to_owned()
        }
        Trust::Pinned { path, .. } => format!(
            "; --server-cert {} is not the certificate this server uses (it may have made a new \
             one: take the file `pairwise serve` prints now)",
            path.display()
        ),
    };
    let what = match tls {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                format!("the certificate of {host} is not one this computer trusts{hint}")
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the certificate of the server does not name {host}: connect with an \
                     address it names (`pairwise serve` prints them){}",
                    if matches!(trust, Trust::System) {
                        hint.as_str()
                    } else {
                        ""
                    }
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!(
                "the certificate of {host} has expired: restart `pairwise serve` (it makes a new \
                 one) or renew yours"
            ),
            other => format!("the certificate of {host} was refused ({other:?}){hint}"),
        },
        other => format!("the secure connection to {host} failed: {other}"),
    };
    Some(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(e: rustls::Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn untrusted_certificate_suggests_server_cert() {
        let e = io(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        let text = explain(&e, "192.168.1.20", &Trust::System).unwrap();
        assert!(text.contains("is not one this computer trusts"), "{text}");
        assert!(text.contains("--server-cert"), "{text}");
    }

    #[test]
    fn other_io_errors_are_not_certificate_problems() {
        let e = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(explain(&e, "h", &Trust::System), None);
    }

    #[test]
    fn a_missing_server_cert_file_names_the_path_and_the_option() {
        let err = Trust::pinned(Path::new("/nonexistent/cert.pem"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/cert.pem"), "{err}");
        assert!(err.contains("--server-cert"), "{err}");
    }
}
