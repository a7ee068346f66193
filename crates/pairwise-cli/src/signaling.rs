//! The CLI's WebSocket to a signaling server: join one room, relay bodies, read what the server
//! sends. The server is untrusted: everything received here is checked by the handshake.
//!
//! Plain `ws://` for now (the server on this machine or the LAN); `wss://` comes with HTTPS
//! serving.

use futures_util::{SinkExt, StreamExt};
use pairwise_proto::ids::RoomId;
use pairwise_proto::limits::MAX_SIGNAL_BYTES;
use pairwise_proto::signal::{ClientToServer, ServerToClient};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Why signaling failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignalingError {
    /// The server address is not an `http://` or `ws://` URL.
    #[error("server address {0:?} must start with http:// or ws://")]
    BadUrl(String),
    /// Could not connect, or the connection broke.
    #[error("could not reach the signaling server at {url}: {source}")]
    Connect {
        /// The WebSocket URL.
        url: String,
        /// What went wrong.
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    /// The connection broke after it was open.
    #[error("lost the connection to the signaling server: {0}")]
    Lost(Box<tokio_tungstenite::tungstenite::Error>),
    /// The server sent something that is not a signaling message.
    #[error("the signaling server sent an unreadable message")]
    Unreadable,
}

/// An open signaling connection.
#[derive(Debug)]
pub struct Signaling {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Signaling {
    /// Connects to the server whose web address is `server` (e.g. `http://127.0.0.1:8080/`).
    ///
    /// # Errors
    /// [`SignalingError::BadUrl`] or [`SignalingError::Connect`].
    pub async fn connect(server: &str) -> Result<Self, SignalingError> {
        let url = ws_url(server)?;
        let mut config = WebSocketConfig::default();
        config.max_message_size = Some(4 * MAX_SIGNAL_BYTES);
        config.max_frame_size = Some(4 * MAX_SIGNAL_BYTES);
        let (ws, _) = tokio_tungstenite::connect_async_with_config(&url, Some(config), false)
            .await
            .map_err(|e| SignalingError::Connect {
                url: url.clone(),
                source: Box::new(e),
            })?;
        Ok(Self { ws })
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
                    return serde_json::from_str(text.as_str())
                        .map(Some)
                        .map_err(|_| SignalingError::Unreadable);
                }
                Message::Close(_) => return Ok(None),
                _ => {}
            }
        }
        Ok(None)
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

/// `http://host:port/anything` -> `ws://host:port/ws` (and `ws://` URLs as given, path `/ws`).
pub fn ws_url(server: &str) -> Result<String, SignalingError> {
    let rest = server
        .strip_prefix("http://")
        .or_else(|| server.strip_prefix("ws://"))
        .ok_or_else(|| SignalingError::BadUrl(server.to_owned()))?;
    let host = rest.split(['/', '#', '?']).next().unwrap_or_default();
    if host.is_empty() {
        return Err(SignalingError::BadUrl(server.to_owned()));
    }
    Ok(format!("ws://{host}/ws"))
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
        assert!(ws_url("ftp://h").is_err());
        assert!(ws_url("http://").is_err());
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
        let url = format!("http://{addr}/");
        let mut a = Signaling::connect(&url).await.unwrap();
        let mut b = Signaling::connect(&url).await.unwrap();
        a.join(&room).await.unwrap();
        assert_eq!(
            a.recv().await.unwrap(),
            Some(ServerToClient::Joined { peers: 1 })
        );
        b.join(&room).await.unwrap();
        assert_eq!(
            b.recv().await.unwrap(),
            Some(ServerToClient::Joined { peers: 2 })
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
