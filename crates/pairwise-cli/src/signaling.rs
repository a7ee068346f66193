//! The CLI's WebSocket to a signaling server: join one room, relay bodies, read what the server
//! sends. The server is untrusted: everything received here is checked by the handshake.
//!
//! `http://` and `ws://` servers are reached over plain `ws://`; `https://` and `wss://` over
//! `wss://`, trusting what the [`Server`]'s [`Trust`] says (the system's roots, or exactly the
//! certificate given with `--server-cert`).

use futures_util::{SinkExt, StreamExt};
use pairwise_proto::ids::RoomId;
use pairwise_proto::limits::MAX_SIGNAL_BYTES;
use pairwise_proto::signal::{ClientToServer, IceServer, ServerToClient};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::tls::client::{Trust, explain};

/// Why signaling failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignalingError {
    /// The server address is not an `http(s)://` or `ws(s)://` URL.
    #[error("server address {0:?} must start with http://, https://, ws:// or wss://")]
    BadUrl(String),
    /// The TLS handshake failed, usually over the server's certificate.
    #[error("could not connect securely to the signaling server at {url}: {reason}")]
    Tls {
        /// The WebSocket URL.
        url: String,
        /// What happened and what to do.
        reason: String,
    },
    /// Could not connect, or the connection broke.
    #[error("could not reach the signaling server at {url}: {source}")]
    Connect {
        /// The WebSocket URL.
        url: String,
        /// What went wrong.
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    /// The server (or a proxy in front of it) answered the upgrade with HTTP 429: too many
    /// sessions from this network (`docs/protocol.md` §4).
    #[error("the signaling server at {url} refuses new sessions from this network for now")]
    RateLimited {
        /// The WebSocket URL.
        url: String,
    },
    /// The connection broke after it was open.
    #[error("lost the connection to the signaling server: {0}")]
    Lost(Box<tokio_tungstenite::tungstenite::Error>),
    /// The server sent something that is not a signaling message.
    #[error("the signaling server sent an unreadable message")]
    Unreadable,
}

/// A signaling server: its web address and which certificates to trust if it is `https://`.
#[derive(Debug, Clone)]
pub struct Server {
    url: String,
    trust: Trust,
}

impl Server {
    /// The server at `url` (e.g. `https://192.168.1.20:8443/`), trusted as `trust` says.
    pub fn new(url: impl Into<String>, trust: Trust) -> Self {
        Self {
            url: url.into(),
            trust,
        }
    }

    /// Its web address, as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The same trust for another address (a pairing link's own server).
    #[must_use]
    pub fn with_url(&self, url: impl Into<String>) -> Self {
        Self::new(url, self.trust.clone())
    }
}

/// An open signaling connection.
#[derive(Debug)]
pub struct Signaling {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The ICE servers of the last `joined` (validated, capped: §4.1).
    ice: Vec<IceServer>,
}

impl Signaling {
    /// Connects to `server`'s WebSocket endpoint.
    ///
    /// # Errors
    /// [`SignalingError::BadUrl`], [`SignalingError::Tls`] (with what to do about the
    /// certificate), [`SignalingError::RateLimited`] or [`SignalingError::Connect`].
    pub async fn connect(server: &Server) -> Result<Self, SignalingError> {
        let url = ws_url(&server.url)?;
        let mut config = WebSocketConfig::default();
        config.max_message_size = Some(4 * MAX_SIGNAL_BYTES);
        config.max_frame_size = Some(4 * MAX_SIGNAL_BYTES);
        let connector = if url.starts_with("wss://") {
            let tls = server
                .trust
                .client_config()
                .map_err(|e| SignalingError::Tls {
                    url: url.clone(),
                    reason: e.to_string(),
                })?;
            Connector::Rustls(tls)
        } else {
            Connector::Plain
        };
        let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(
            &url,
            Some(config),
            false,
            Some(connector),
        )
        .await
        .map_err(|e| connect_error(&url, &server.trust, e))?;
        Ok(Self {
            ws,
            ice: Vec::new(),
        })
    }

    /// Joins `room`.
    ///
    /// # Errors
    /// [`SignalingError::Lost`].
    pub async fn join(&mut self, room: &RoomId) -> Result<(), SignalingError> {
        self.send(&ClientToServer::Join { room: room.clone() })
            .await
    }

    /// Relays `body` to the other peer.
    ///
    /// # Errors
    /// [`SignalingError::Lost`].
    pub async fn relay(&mut self, body: serde_json::Value) -> Result<(), SignalingError> {
        self.send(&ClientToServer::Relay { body }).await
    }

    /// The next message from the server, or `None` once it closed the connection.
    ///
    /// # Errors
    /// [`SignalingError::Lost`] or [`SignalingError::Unreadable`].
    pub async fn recv(&mut self) -> Result<Option<ServerToClient>, SignalingError> {
        while let Some(frame) = self.ws.next().await {
            match frame.map_err(|e| SignalingError::Lost(Box::new(e)))? {
                Message::Text(text) => {
                    let msg: ServerToClient = serde_json::from_str(text.as_str())
                        .map_err(|_| SignalingError::Unreadable)?;
                    // Parsing already kept only the usable entries (`ice_from_value`).
                    if let ServerToClient::Joined { ice, .. } = &msg {
                        self.ice.clone_from(ice);
                    }
                    return Ok(Some(msg));
                }
                Message::Close(_) => return Ok(None),
                _ => {}
            }
        }
        Ok(None)
    }

    /// The STUN/TURN servers the server handed out when this connection joined its room (the
    /// usable ones, at most `MAX_ICE_SERVERS`); empty before that.
    pub fn ice_servers(&self) -> &[IceServer] {
        &self.ice
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    async fn send(&mut self, msg: &ClientToServer) -> Result<(), SignalingError> {
        let text = serde_json::to_string(msg).map_err(|_| SignalingError::Unreadable)?;
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|e| SignalingError::Lost(Box::new(e)))
    }
}

/// `http://host:port/anything` -> `ws://host:port/ws`, `https://…` -> `wss://…/ws` (and
/// `ws://`/`wss://` URLs with the path `/ws`).
pub fn ws_url(server: &str) -> Result<String, SignalingError> {
    let (scheme, rest) = [
        ("ws", "http://"),
        ("wss", "https://"),
        ("ws", "ws://"),
        ("wss", "wss://"),
    ]
    .iter()
    .find_map(|(scheme, prefix)| server.strip_prefix(prefix).map(|rest| (scheme, rest)))
    .ok_or_else(|| SignalingError::BadUrl(server.to_owned()))?;
    let host = rest.split(['/', '#', '?']).next().unwrap_or_default();
    if host.is_empty() {
        return Err(SignalingError::BadUrl(server.to_owned()));
    }
    Ok(format!("{scheme}://{host}/ws"))
}

/// A certificate problem becomes [`SignalingError::Tls`] with a sentence, an HTTP 429 answer
/// [`SignalingError::RateLimited`]; anything else stays a connection error.
fn connect_error(
    url: &str,
    trust: &Trust,
    e: tokio_tungstenite::tungstenite::Error,
) -> SignalingError {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let host = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '#', '?'])
        .next()
        .unwrap_or_default();
    let reason = match &e {
        WsError::Http(response) if response.status().as_u16() == 429 => {
            return SignalingError::RateLimited {
                url: url.to_owned(),
            };
        }
        WsError::Io(io) => explain(io, host, trust),
        WsError::Tls(tls) => Some(format!("the secure connection to {host} failed: {tls}")),
        _ => None,
    };
    match reason {
        Some(reason) => SignalingError::Tls {
            url: url.to_owned(),
            reason,
        },
        None => SignalingError::Connect {
            url: url.to_owned(),
            source: Box::new(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_become_the_ws_endpoint() {
        assert_eq!(
            ws_url("http://127.0.0.1:8080/").unwrap(),
            "ws://127.0.0.1:8080/ws"
        );
        assert_eq!(ws_url("http://h:1/#pair=abc").unwrap(), "ws://h:1/ws");
        assert_eq!(ws_url("ws://h:1").unwrap(), "ws://h:1/ws");
        assert_eq!(
            ws_url("https://192.168.1.20:8443/#pair=x").unwrap(),
            "wss://192.168.1.20:8443/ws"
        );
        assert_eq!(ws_url("wss://[::1]:8443").unwrap(), "wss://[::1]:8443/ws");
        assert!(ws_url("ftp://h").is_err());
        assert!(ws_url("http://").is_err());
    }

    #[tokio::test]
    async fn an_http_429_answer_is_a_rate_limit() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // A proxy's own rate limit (e.g. nginx `limit_req` with `limit_req_status 429`).
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut buf = [0; 4096];
            let _ = tcp.read(&mut buf).await;
            let _ = tcp
                .write_all(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 60\r\nContent-Length: 0\r\n\r\n")
                .await;
        });
        let server = Server::new(format!("http://{addr}/"), Trust::System);
        let err = Signaling::connect(&server).await.unwrap_err();
        assert!(matches!(err, SignalingError::RateLimited { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn two_clients_meet_in_a_room_of_the_real_server() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(pairwise_server::run(
            listener,
            pairwise_server::Config::default(),
            std::future::pending(),
        ));
        let room = RoomId::parse("abcdefghijklmnopqrstuv").unwrap();
        let url = Server::new(format!("http://{addr}/"), Trust::System);
        let mut a = Signaling::connect(&url).await.unwrap();
        let mut b = Signaling::connect(&url).await.unwrap();
        a.join(&room).await.unwrap();
        assert_eq!(
            a.recv().await.unwrap(),
            Some(ServerToClient::Joined {
                peers: 1,
                ice: vec![]
            })
        );
        b.join(&room).await.unwrap();
        assert_eq!(
            b.recv().await.unwrap(),
            Some(ServerToClient::Joined {
                peers: 2,
                ice: vec![]
            })
        );
        assert_eq!(a.recv().await.unwrap(), Some(ServerToClient::PeerJoined));
        b.relay(serde_json::json!({"kind": "hello"})).await.unwrap();
        assert_eq!(
            a.recv().await.unwrap(),
            Some(ServerToClient::Relay {
                body: serde_json::json!({"kind": "hello"})
            })
        );
        server.abort();
    }
}
