//! ICE servers handed to each joined connection (`docs/protocol.md` §4.1): STUN URLs as they
//! are, TURN URLs with credentials minted for that connection alone in coturn's REST scheme
//! (`use-auth-secret`): user name `EXPIRY:ID`, password base64(HMAC-SHA1(secret, user name)).
//!
//! A relay that shares the secret (coturn, or the embedded one in `pairwise serve`) checks the
//! HMAC and refuses the user name once `EXPIRY` (Unix seconds) has passed. Credentials exist
//! only in the `joined` reply: a connection that never joined a room never sees one.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use pairwise_proto::signal::IceServer;
use ring::hmac;
use ring::rand::{SecureRandom as _, SystemRandom};

/// How long minted TURN credentials stay valid, unless configured: long enough for a large
/// transfer to keep refreshing its allocation, short enough that a leaked one soon dies.
pub const DEFAULT_TURN_TTL: Duration = Duration::from_secs(2 * 60 * 60);

/// The shared secret of the TURN REST scheme. Its `Debug` never shows it.
#[derive(Clone)]
pub struct TurnSecret(Arc<[u8]>);

impl TurnSecret {
    /// A secret from its bytes (as written in coturn's `static-auth-secret`).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Arc::from(bytes.into()))
    }

    /// A fresh random secret (for the embedded relay, which nobody else needs to share).
    ///
    /// # Panics
    /// If the system's random source fails.
    #[allow(clippy::expect_used)]
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system random source failed");
        Self::new(URL_SAFE_NO_PAD.encode(bytes).into_bytes())
    }

    /// The password for `username`: base64(HMAC-SHA1(secret, username)). SHA-1 because that is
    /// what coturn's REST scheme (and every TURN server that implements it) computes.
    pub fn password(&self, username: &str) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        STANDARD.encode(hmac::sign(&key, username.as_bytes()).as_ref())
    }
}

impl fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TurnSecret(..)")
    }
}

/// Why a TURN user name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Not `EXPIRY:ID` with a decimal expiry.
    #[error("not a time-limited user name")]
    Malformed,
    /// The expiry has passed.
    #[error("the credential expired")]
    Expired,
}

/// Checks a REST-scheme user name's form and expiry against `now`; the HMAC itself is the
/// relay's check (it compares the message integrity computed from [`TurnSecret::password`]).
///
/// # Errors
/// [`UsernameError`].
pub fn check_username(username: &str, now: SystemTime) -> Result<(), UsernameError> {
    let (expiry, id) = username.split_once(':').ok_or(UsernameError::Malformed)?;
    if id.is_empty() || expiry.is_empty() || !expiry.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UsernameError::Malformed);
    }
    let expiry: u64 = expiry.parse().map_err(|_| UsernameError::Malformed)?;
    if unix(now) >= expiry {
        return Err(UsernameError::Expired);
    }
    Ok(())
}

/// The ICE servers of one server: what every joined connection is told.
#[derive(Debug, Clone, Default)]
pub struct IceConfig {
    /// `stun:` URLs, handed out as they are.
    pub stun: Vec<String>,
    /// `turn:`/`turns:` URLs; handed out only with a secret to mint credentials.
    pub turn: Vec<String>,
    /// The REST secret shared with the relay.
    pub secret: Option<TurnSecret>,
    /// Lifetime of minted credentials ([`DEFAULT_TURN_TTL`] when zero).
    pub ttl: Duration,
}

impl IceConfig {
    /// Whether clients get any ICE server at all.
    pub fn is_empty(&self) -> bool {
        self.stun.is_empty() && (self.turn.is_empty() || self.secret.is_none())
    }

    /// The entries for one joined connection, with fresh TURN credentials valid until
    /// `now + ttl`.
    pub fn mint(&self, now: SystemTime) -> Vec<IceServer> {
        let mut out = Vec::new();
        if !self.stun.is_empty() {
            out.push(IceServer {
                urls: self.stun.clone(),
                username: None,
                credential: None,
            });
        }
        if let (false, Some(secret)) = (self.turn.is_empty(), &self.secret) {
            let ttl = if self.ttl.is_zero() {
                DEFAULT_TURN_TTL
            } else {
                self.ttl
            };
            let username = format!("{}:{}", unix(now) + ttl.as_secs().max(1), random_id());
            out.push(IceServer {
                urls: self.turn.clone(),
                credential: Some(secret.password(&username)),
                username: Some(username),
            });
        }
        out
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// 12 random bytes, base64url: names the connection in the relay's logs, and nothing else.
fn random_id() -> String {
    let mut bytes = [0u8; 12];
    // A failed random source leaves zeros: the id is not a secret, only a label.
    let _ = SystemRandom::new().fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_base64_hmac_sha1_as_coturn_computes_it() {
        // Independent reference: `printf %s 'USER' | openssl dgst -sha1 -hmac SECRET -binary |
        // base64` for SECRET=north, USER=1700000000:abc.
        let secret = TurnSecret::new(b"north".to_vec());
        assert_eq!(
            secret.password("1700000000:abc"),
            "g5HTmCBrPDhYXFpM/1dHUtfE+c4="
        );
    }

    #[test]
    fn minted_credentials_verify_and_expire_after_the_ttl() {
        let config = IceConfig {
            stun: vec!["stun:198.51.100.1:3478".into()],
            turn: vec!["turn:198.51.100.1:3478".into()],
            secret: Some(TurnSecret::new(b"s".to_vec())),
            ttl: Duration::from_secs(60),
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let servers = config.mint(now);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].urls, ["stun:198.51.100.1:3478"]);
        assert!(servers[0].username.is_none());
        let user = servers[1].username.clone().unwrap();
        assert!(user.starts_with("1000060:"), "{user}");
        assert_eq!(
            servers[1].credential.as_deref(),
            Some(TurnSecret::new(b"s".to_vec()).password(&user).as_str())
        );
        assert!(servers.iter().all(IceServer::is_usable));
        assert_eq!(check_username(&user, now), Ok(()));
        assert_eq!(check_username(&user, now + Duration::from_secs(59)), Ok(()));
        assert_eq!(
            check_username(&user, now + Duration::from_secs(60)),
            Err(UsernameError::Expired)
        );
        // Two connections never share a credential.
        assert_ne!(config.mint(now)[1].username, servers[1].username);
    }

    #[test]
    fn malformed_user_names_are_refused() {
        let now = UNIX_EPOCH;
        for u in [
            "",
            "abc",
            ":id",
            "12:",
            "-1:id",
            "1e9:id",
            "99999999999999999999999:x",
        ] {
            assert_eq!(check_username(u, now), Err(UsernameError::Malformed), "{u}");
        }
    }

    #[test]
    fn turn_without_a_secret_is_not_handed_out() {
        let config = IceConfig {
            turn: vec!["turn:198.51.100.1:3478".into()],
            ..IceConfig::default()
        };
        assert!(config.is_empty());
        assert!(config.mint(SystemTime::now()).is_empty());
    }
}
