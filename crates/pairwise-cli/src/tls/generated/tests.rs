use std::net::IpAddr;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn names() -> CertNames {
    CertNames::for_machine(Some("laptop"), &[ip("192.168.1.20")])
}

fn loopback() -> Vec<IpAddr> {
    vec![ip("127.0.0.1")]
}

#[test]
fn certificate_names_localhost_loopback_host_and_lan_addresses() {
    let (pem, _) = generate(&names(), OffsetDateTime::now_utc()).unwrap();
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let san = cert.subject_alternative_name().unwrap().unwrap();
    let shown: Vec<String> = san
        .value
        .general_names
        .iter()
        .map(|n| match n {
            x509_parser::extensions::GeneralName::DNSName(d) => (*d).to_owned(),
            x509_parser::extensions::GeneralName::IPAddress(o) => ip_from(o).unwrap().to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        shown,
        [
            "localhost",
            "laptop",
            "laptop.local",
            "127.0.0.1",
            "::1",
            "192.168.1.20"
        ]
    );
    let days =
        (cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp()) / 86_400;
    assert_eq!(days, 397, "validity, counted from an hour before now");
    assert!(!cert.is_ca(), "a server certificate, not a CA");
}

#[test]
fn made_once_then_reused_with_the_key_readable_by_the_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ConfigDir::at(tmp.path().join("cfg"));
    let (first, why) = load_or_create(&dir, &names(), &loopback()).unwrap();
    assert_eq!(why, Some(Renewal::Missing));
    let (second, why) = load_or_create(&dir, &names(), &loopback()).unwrap();
    assert_eq!(why, None, "a valid kept certificate is reused");
    assert_eq!(first.fingerprint, second.fingerprint);
    assert_eq!(second.cert_path, dir.file(CERT_FILE));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.file(KEY_FILE)), 0o600);
        assert_eq!(mode(dir.path()), 0o700);
    }
}

#[test]
fn expired_certificate_is_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ConfigDir::at(tmp.path());
    let long_ago = OffsetDateTime::now_utc() - Duration::days(400);
    let (cert, key) = generate(&names(), long_ago).unwrap();
    dir.write_private(CERT_FILE, cert.as_bytes()).unwrap();
    dir.write_private(KEY_FILE, key.as_bytes()).unwrap();
    let old = fingerprint(&CertificateDer::from_pem_slice(cert.as_bytes()).unwrap());
    let (new, why) = load_or_create(&dir, &names(), &loopback()).unwrap();
    assert_eq!(why, Some(Renewal::Expired));
    assert_ne!(new.fingerprint, old);
}

#[test]
fn certificate_that_does_not_name_a_served_address_is_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ConfigDir::at(tmp.path());
    load_or_create(&dir, &names(), &loopback()).unwrap();
    let moved = CertNames::for_machine(Some("laptop"), &[ip("10.0.0.7")]);
    let (_, why) = load_or_create(&dir, &moved, &[ip("10.0.0.7"), ip("127.0.0.1")]).unwrap();
    assert_eq!(why, Some(Renewal::Uncovered(vec![ip("10.0.0.7")])));
    assert_eq!(
        why.unwrap().to_string(),
        "the kept one does not name 10.0.0.7"
    );
    let (_, why) = load_or_create(&dir, &moved, &[ip("10.0.0.7")]).unwrap();
    assert_eq!(why, None, "the new one is kept");
}

#[test]
fn unreadable_or_mismatched_files_are_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ConfigDir::at(tmp.path());
    dir.write_private(CERT_FILE, b"not pem").unwrap();
    dir.write_private(KEY_FILE, b"not pem either").unwrap();
    let (_, why) = load_or_create(&dir, &names(), &loopback()).unwrap();
    assert!(matches!(why, Some(Renewal::Unreadable(_))), "{why:?}");

    // A key from another pair: rustls notices the mismatch.
    let (_, other_key) = generate(&names(), OffsetDateTime::now_utc()).unwrap();
    dir.write_private(KEY_FILE, other_key.as_bytes()).unwrap();
    let (fixed, why) = load_or_create(&dir, &names(), &loopback()).unwrap();
    assert!(matches!(why, Some(Renewal::Unreadable(_))), "{why:?}");
    let (again, why) = load_or_create(&dir, &names(), &loopback()).unwrap();
    assert_eq!((why, again.fingerprint), (None, fixed.fingerprint));

    std::fs::remove_file(dir.file(KEY_FILE)).unwrap();
    let (_, why) = load_or_create(&dir, &names(), &loopback()).unwrap();
    assert_eq!(
        why,
        Some(Renewal::Unreadable(
            "one of its two files is missing".into()
        ))
    );
}
