//! The self-signed certificate of `pairwise serve --tls`: made once, kept in the configuration
//! directory ([`CERT_FILE`], [`KEY_FILE`], both 0600), and reused on later starts so that a
//! phone that accepted it once is not asked again.
//!
//! It is made anew only when it is missing, unreadable (or the key is not the certificate's),
//! expired (or expires within a day), or does not name an address being served; the caller
//! says why in one line ([`Renewal`]).
//!
//! The certificate: ECDSA P-256, valid 397 days (the longest validity browsers accept for a
//! server certificate), extended key usage serverAuth, no CA flag, and names `localhost`,
//! `127.0.0.1`, `::1`, the host name (and `NAME.local`) and this machine's LAN addresses.

use std::fmt;
use std::net::IpAddr;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

use super::{ServerIdentity, TlsError, fingerprint, server_config};
use crate::config::ConfigDir;

/// The certificate, PEM, in the configuration directory.
pub(crate) const CERT_FILE: &str = "tls-cert.pem";
/// Its private key, PEM (PKCS#8), mode 0600.
pub(crate) const KEY_FILE: &str = "tls-key.pem";
/// How long a new certificate is valid.
const VALIDITY: Duration = Duration::days(397);
/// A certificate this close to its end is replaced now rather than fail mid-use.
const RENEW_BEFORE: Duration = Duration::days(1);

/// What a certificate is made for.
#[derive(Debug, Clone, Default)]
pub(crate) struct CertNames {
    /// DNS names (`localhost`, the host name).
    pub(crate) dns: Vec<String>,
    /// IP addresses (loopback and the LAN addresses).
    pub(crate) ips: Vec<IpAddr>,
}

impl CertNames {
    /// `localhost`, `127.0.0.1`, `::1`, `host` and `host.local`, and `ips`.
    pub(crate) fn for_machine(host: Option<&str>, ips: &[IpAddr]) -> Self {
        let mut names = Self {
            dns: vec!["localhost".to_owned()],
            ips: vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ],
        };
        if let Some(host) = host.filter(|h| *h != "localhost") {
            names.dns.push(host.to_owned());
            if !host.contains('.') {
                names.dns.push(format!("{host}.local"));
            }
        }
        for ip in ips {
            if !names.ips.contains(ip) {
                names.ips.push(*ip);
            }
        }
        names
    }
}

/// Why a new certificate was made instead of reusing the kept one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Renewal {
    /// There was none yet.
    Missing,
    /// The files could not be read or used.
    Unreadable(String),
    /// It has expired (or is about to).
    Expired,
    /// It does not name these served addresses.
    Uncovered(Vec<IpAddr>),
}

impl fmt::Display for Renewal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("there was none yet"),
            Self::Unreadable(why) => write!(f, "the kept one could not be used: {why}"),
            Self::Expired => f.write_str("the kept one expired"),
            Self::Uncovered(ips) => {
                let list: Vec<String> = ips.iter().map(ToString::to_string).collect();
                write!(f, "the kept one does not name {}", list.join(", "))
            }
        }
    }
}

/// Reuses the kept certificate if it still fits `required` (the addresses being served), else
/// makes one for `names` (which must include `required`) and keeps it.
///
/// # Errors
/// [`TlsError::Generate`] or [`TlsError::Config`] (the directory or a file could not be
/// written).
pub(crate) fn load_or_create(
    dir: &ConfigDir,
    names: &CertNames,
    required: &[IpAddr],
) -> Result<(ServerIdentity, Option<Renewal>), TlsError> {
    let now = OffsetDateTime::now_utc();
    let renewal = match load(dir) {
        Ok(Some((cert, key))) => match check(&cert, required, now) {
            Ok(()) => match server_config(vec![cert.clone()], key) {
                Ok(config) => return Ok((identity(dir, config, &cert), None)),
                Err(e) => Renewal::Unreadable(e.to_string()),
            },
            Err(renewal) => renewal,
        },
        Ok(None) => Renewal::Missing,
        Err(renewal) => renewal,
    };
    let (cert_pem, key_pem) = generate(names, now)?;
    // Key first: a crash between the two writes leaves a pair that does not match, which the
    // next start detects and replaces.
    dir.write_private(KEY_FILE, key_pem.as_bytes())?;
    dir.write_private(CERT_FILE, cert_pem.as_bytes())?;
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|_| rcgen::Error::CouldNotParseCertificate)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|_| rcgen::Error::CouldNotParseKeyPair)?;
    let config = server_config(vec![cert.clone()], key).map_err(|source| TlsError::Unusable {
        cert: dir.file(CERT_FILE),
        source,
    })?;
    Ok((identity(dir, config, &cert), Some(renewal)))
}

fn identity(
    dir: &ConfigDir,
    config: std::sync::Arc<rustls::ServerConfig>,
    cert: &CertificateDer<'_>,
) -> ServerIdentity {
    ServerIdentity {
        config,
        fingerprint: fingerprint(cert),
        cert_path: dir.file(CERT_FILE),
    }
}

/// The kept certificate and key, `None` if neither exists.
fn load(
    dir: &ConfigDir,
) -> Result<Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>, Renewal> {
    let unreadable = |e: &dyn fmt::Display| Renewal::Unreadable(e.to_string());
    let cert = dir.read(CERT_FILE).map_err(|e| unreadable(&e))?;
    let key = dir.read(KEY_FILE).map_err(|e| unreadable(&e))?;
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        _ => {
            return Err(Renewal::Unreadable(
                "one of its two files is missing".into(),
            ));
        }
    };
    let cert = CertificateDer::from_pem_slice(&cert).map_err(|e| unreadable(&e))?;
    let key = PrivateKeyDer::from_pem_slice(&key).map_err(|e| unreadable(&e))?;
    Ok(Some((cert, key)))
}

/// Whether `cert` is still valid a day from `now` and names every address in `required`.
pub(crate) fn check(
    cert: &CertificateDer<'_>,
    required: &[IpAddr],
    now: OffsetDateTime,
) -> Result<(), Renewal> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert)
        .map_err(|e| Renewal::Unreadable(format!("not a certificate: {e}")))?;
    if parsed.validity().not_after.timestamp() <= (now + RENEW_BEFORE).unix_timestamp() {
        return Err(Renewal::Expired);
    }
    let named: Vec<IpAddr> = match parsed.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                x509_parser::extensions::GeneralName::IPAddress(octets) => ip_from(octets),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let missing: Vec<IpAddr> = required
        .iter()
        .filter(|ip| !named.contains(ip))
        .copied()
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Renewal::Uncovered(missing))
    }
}

fn ip_from(octets: &[u8]) -> Option<IpAddr> {
    match octets.len() {
        4 => <[u8; 4]>::try_from(octets).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(octets).ok().map(IpAddr::from),
        _ => None,
    }
}

/// A new self-signed certificate for `names`, valid from an hour before `now`: PEM certificate
/// and PEM (PKCS#8) key.
pub(crate) fn generate(
    names: &CertNames,
    now: OffsetDateTime,
) -> Result<(String, String), rcgen::Error> {
    let mut params = rcgen::CertificateParams::default();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + VALIDITY;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let common = match names.dns.get(1) {
        Some(host) => format!("Pairwise on {host}"),
        None => "Pairwise".to_owned(),
    };
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Pairwise (self-signed)");
    params.subject_alt_names = names
        .dns
        .iter()
        .map(|d| Ok(rcgen::SanType::DnsName(d.clone().try_into()?)))
        .chain(
            names
                .ips
                .iter()
                .map(|ip| Ok(rcgen::SanType::IpAddress(*ip))),
        )
        .collect::<Result<_, rcgen::Error>>()?;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    // The serial is derived from the new public key, so a replacement never reuses one (Firefox
    // refuses two certificates with the same issuer and serial).
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

#[cfg(test)]
mod tests;
