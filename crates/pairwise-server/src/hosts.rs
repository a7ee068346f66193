//! Which names the server answers to, and which pages may open its WebSocket.
//!
//! **DNS rebinding**: a page on `http://evil.example:8080` whose name the attacker then points
//! at a Pairwise server on the victim's network is, to the browser, same-origin with it: it
//! could read the app and open `/ws` from the victim's network position. Its requests carry
//! `Host: evil.example:8080`, which no honest request does. So a request is served only if its
//! `Host` is an IP address (a name no one can rebind), `localhost`, or one of the names the
//! operator gave (`pairwise serve --host`, the public name behind a proxy); anything else gets
//! `421 Misdirected Request`. A request without `Host` (HTTP/1.0, some health probes) cannot
//! come from a browser and is served.
//!
//! **Origin**: a browser's WebSocket request names the page that opens it. It must be exactly
//! this server as the browser sees it: `http://` or `https://` and the request's own `Host`
//! (`https://` only when this server terminates TLS itself; a plain-HTTP server may sit behind
//! a TLS proxy). `chrome-extension://…`, `null` and other sites are refused with 403.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The names a server answers to, besides IP addresses and `localhost`.
#[derive(Debug, Clone, Default)]
pub struct HostPolicy {
    /// Lower-case host names without port (e.g. `pair.example.org`).
    names: Vec<String>,
    /// This server terminates TLS: pages that open its WebSocket are `https://`.
    tls: bool,
}

impl HostPolicy {
    /// Answers to `names` (host names, any case, without port) and IP addresses and
    /// `localhost`; `tls` when the server itself serves HTTPS.
    pub fn new(names: impl IntoIterator<Item = impl AsRef<str>>, tls: bool) -> Self {
        Self {
            names: names
                .into_iter()
                .map(|n| n.as_ref().trim_end_matches('.').to_ascii_lowercase())
                .collect(),
            tls,
        }
    }

    /// Whether a request with this `Host` (authority: name or address, optional port) is served.
    pub fn host_allowed(&self, authority: &str) -> bool {
        let Some(host) = host_of(authority) else {
            return false;
        };
        if host.parse::<std::net::IpAddr>().is_ok() || host == "localhost" {
            return true;
        }
        self.names.contains(&host)
    }

    /// Whether a WebSocket request from a page at `origin` to `host` may be upgraded.
    pub fn origin_allowed(&self, origin: &str, host: &str) -> bool {
        let rest = match origin.split_once("://") {
            Some(("https", rest)) => rest,
            Some(("http", rest)) if !self.tls => rest,
            _ => return false,
        };
        rest.eq_ignore_ascii_case(host)
    }
}

/// The lower-case host of an authority (`name[:port]`, `a.b.c.d[:port]`, `[v6][:port]`), or
/// `None` if it is malformed.
fn host_of(authority: &str) -> Option<String> {
    let host = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        addr
    } else {
        match authority.rsplit_once(':') {
            Some((h, port)) if is_port(port) => h,
            Some(_) => return None,
            None => authority,
        }
    };
    let host = host.trim_end_matches('.');
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    ok.then(|| host.to_ascii_lowercase())
}

fn is_port(s: &str) -> bool {
    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The authority a request was sent to: its `Host`, or the URI's (HTTP/2).
pub(crate) fn request_host<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Option<&'a str> {
    match headers.get(header::HOST) {
        Some(v) => Some(v.to_str().unwrap_or("\u{0}")),
        None => uri.authority().map(axum::http::uri::Authority::as_str),
    }
}

/// Middleware: `421` for a request to a name this server does not answer to.
pub(crate) async fn check_host(
    State(state): State<crate::AppState>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(host) = request_host(req.headers(), req.uri())
        && !state.hosts.host_allowed(host)
    {
        state.metrics.reject(crate::metrics::Rejection::Host);
        tracing::debug!(host, "refused: unknown host");
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "this server does not answer to that name\n",
        )
            .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_localhost_and_given_names_are_served() {
        let p = HostPolicy::new(["Pair.Example.org"], false);
        for ok in [
            "127.0.0.1:8080",
            "198.51.100.7",
            "[::1]:8080",
            "[2001:db8::1]",
            "localhost:8080",
            "LOCALHOST",
            "pair.example.org",
            "pair.example.org.:443",
            "PAIR.example.org:8443",
        ] {
            assert!(p.host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "example.org",
            "pair.example.org.evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "",
            ":8080",
            "pair.example.org:http",
            "[::1",
            "[::1]x",
            "a b",
            "pair.example.org:99999999",
        ] {
            assert!(!p.host_allowed(bad), "{bad:?}");
        }
    }

    #[test]
    fn origin_is_exactly_this_server() {
        let plain = HostPolicy::new(Vec::<String>::new(), false);
        assert!(plain.origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(plain.origin_allowed("https://pair.example.org", "pair.example.org"));
        assert!(plain.origin_allowed("http://LOCALHOST:8080", "localhost:8080"));
        for (origin, host) in [
            ("http://evil.example:8080", "127.0.0.1:8080"),
            ("chrome-extension://127.0.0.1:8080", "127.0.0.1:8080"),
            ("null", "127.0.0.1:8080"),
            ("127.0.0.1:8080", "127.0.0.1:8080"),
            ("http://127.0.0.1:8081", "127.0.0.1:8080"),
            ("http://127.0.0.1:8080/", "127.0.0.1:8080"),
            ("ws://127.0.0.1:8080", "127.0.0.1:8080"),
        ] {
            assert!(!plain.origin_allowed(origin, host), "{origin} to {host}");
        }
        let tls = HostPolicy::new(Vec::<String>::new(), true);
        assert!(tls.origin_allowed("https://127.0.0.1:8443", "127.0.0.1:8443"));
        assert!(!tls.origin_allowed("http://127.0.0.1:8443", "127.0.0.1:8443"));
    }
}
