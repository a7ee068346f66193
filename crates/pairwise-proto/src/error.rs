//! The shared error catalogue (`docs/protocol.md` §9): codes and the sentences people see.
//!
//! `web/lib/proto/errors.js` holds the same table; `testdata/vectors/errors.json` keeps them equal.

use serde::{Deserialize, Serialize};

/// A machine-readable error code, identical in Rust, JavaScript and on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The pairing link is malformed.
    BadLink,
    /// The room already holds two peers: the link was used.
    RoomFull,
    /// What the person typed is not an 8-digit pairing code (§2.1).
    BadCode,
    /// Nobody waits in the room of the typed code (§2.1).
    CodeUnknown,
    /// The code's room already holds two devices (§2.1: `room-full` in the code flow).
    CodeUsed,
    /// A person said the numbers of a code pairing differ (§2.1).
    NumbersDiffer,
    /// The initiator is no longer waiting in the room.
    LinkExpired,
    /// The other device left.
    PeerLeft,
    /// Key confirmation failed: possible tampering.
    VerifyFailed,
    /// The peer broke the protocol.
    PeerMisbehaved,
    /// A record failed authentication.
    RecordRejected,
    /// A file name from the peer is unsafe.
    BadName,
    /// The peer refused a file name this side offered (its `close` said `bad-name`, §6.1).
    NameRefused,
    /// The peer ended the session because it could not use something this side sent (its
    /// `close` carried another code, §6.1).
    PeerRefused,
    /// The data channel closed before the transfer finished.
    Incomplete,
    /// A side cancelled the transfer.
    Cancelled,
    /// The receiver declined the files.
    Declined,
    /// The signaling connection dropped.
    SignalingLost,
    /// The peer connection could not be established.
    ConnectFailed,
    /// The peer connection could not be established, and the server offered no relay
    /// (no TURN server among its ICE servers, §4.1).
    NoRoute,
    /// A remembered device does not know this device's identity key.
    UnknownDevice,
    /// A `hello` in a remembered device's room came from another identity than the remembered
    /// one (the device was reset or restored with another key).
    KeyChanged,
    /// A remembered device has forgotten this one.
    Forgotten,
    /// (server) The message could not be parsed.
    BadMessage,
    /// (server) The message exceeds the size limit.
    TooLarge,
    /// (server) A relay before a join.
    NotJoined,
    /// (server) A relay with nobody to receive it.
    NoPeer,
    /// (server) The client's address started too many sessions in a short time; the server
    /// refuses new ones until its rate allows.
    RateLimited,
}

impl ErrorCode {
    /// Every code, in catalogue order.
    pub const ALL: [Self; 28] = [
        Self::BadLink,
        Self::RoomFull,
        Self::BadCode,
        Self::CodeUnknown,
        Self::CodeUsed,
        Self::NumbersDiffer,
        Self::LinkExpired,
        Self::PeerLeft,
        Self::VerifyFailed,
        Self::PeerMisbehaved,
        Self::RecordRejected,
        Self::BadName,
        Self::NameRefused,
        Self::PeerRefused,
        Self::Incomplete,
        Self::Cancelled,
        Self::Declined,
        Self::SignalingLost,
        Self::ConnectFailed,
        Self::NoRoute,
        Self::UnknownDevice,
        Self::KeyChanged,
        Self::Forgotten,
        Self::BadMessage,
        Self::TooLarge,
        Self::NotJoined,
        Self::NoPeer,
        Self::RateLimited,
    ];

    /// The sentence shown to people: what happened and what to do next.
    pub fn sentence(self) -> &'static str {
        match self {
            Self::BadLink => {
                "This pairing link is not valid. Ask the other device for a new QR code."
            }
            Self::RoomFull => {
                "This pairing link was already used. Ask the other device for a new QR code."
            }
            Self::BadCode => {
                "That is not a pairing code: it has 8 digits, like 4821 9377. Check it and type \
                 it again."
            }
            Self::CodeUnknown => {
                "No device is showing this code. Check the digits, or ask the other device for \
                 a new code."
            }
            Self::CodeUsed => {
                "This code was already used by another device. Ask the other device for a new \
                 code."
            }
            Self::NumbersDiffer => {
                "The numbers on the two screens did not match, so the devices were not paired: \
                 someone may be in between. Start again with a new code."
            }
            Self::LinkExpired => {
                "This pairing link has expired: the device that showed it is no longer \
                 waiting. Ask it for a new QR code."
            }
            Self::PeerLeft => {
                "The other device left. Open Pairwise on both devices again to continue (pair again if they are not paired)."
            }
            Self::VerifyFailed => {
                "Could not verify the other device: the connection may have been tampered \
                 with. Pair again."
            }
            Self::PeerMisbehaved => {
                "The other device sent something invalid, so the connection was closed. \
                 Pair again."
            }
            Self::RecordRejected => {
                "A piece of data failed its integrity check, so the connection was closed; the \
                 file being received then was not saved (files completed before it are kept). \
                 Try sending again."
            }
            Self::BadName => {
                "The other device offered a file with an unsafe name, so it was refused."
            }
            Self::NameRefused => {
                "The other device refused a file name it cannot use (a reserved or unsafe name \
                 there). Rename the file and send again."
            }
            Self::PeerRefused => {
                "The other device ended the session because of an error on its side (it could \
                 not use what this device sent). Try again; if it happens again, update \
                 Pairwise on both devices."
            }
            Self::Incomplete => {
                "The connection ended before the transfer finished; incomplete files were not \
                 saved. Try sending again."
            }
            Self::Cancelled => "The transfer was cancelled.",
            Self::Declined => "The other device declined the files.",
            Self::SignalingLost => {
                "Lost the connection to the server. Check the network and reload the page."
            }
            Self::ConnectFailed => {
                "Could not connect to the other device, directly or through the server's \
                 relay. Check that both are online and try again."
            }
            Self::NoRoute => {
                "Could not connect the two devices: their networks allow no direct \
                 connection, and this server offers no relay to pass the files through. Put \
                 both on the same network, or ask whoever runs the server to enable its relay."
            }
            Self::UnknownDevice => {
                "The other device says it does not recognise this device's key (was it \
                 reset, or its key file replaced?). The server could have sent that answer, \
                 so the device stays paired here; if the other device was reset, pair again \
                 with a QR code."
            }
            Self::KeyChanged => {
                "The paired device came back with a different key (was it reset, or restored \
                 on another device?), so it was not let in. If it is yours, forget it here and \
                 pair again with a QR code."
            }
            Self::Forgotten => {
                "The other device has forgotten this one. Pair again with a QR code to send \
                 files."
            }
            Self::BadMessage => "The message could not be read.",
            Self::TooLarge => "The message is too large.",
            Self::NotJoined => "Join a room first.",
            Self::NoPeer => "Nobody else is in the room yet.",
            Self::RateLimited => {
                "The server is refusing new sessions from this network for a minute (too many \
                 in a short time). Try again in a minute."
            }
        }
    }

    /// Whether the server closes the connection after sending this error.
    pub fn closes_connection(self) -> bool {
        matches!(
            self,
            Self::BadMessage | Self::TooLarge | Self::RoomFull | Self::RateLimited
        )
    }
}
