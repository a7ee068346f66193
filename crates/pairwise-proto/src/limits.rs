//! Every size and count limit of protocol v1, in one place (`docs/protocol.md` §8).
//!
//! Each limit has a test at the cap and one past it, next to the code that enforces it.

/// Largest signaling frame, in bytes, in either direction.
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;

/// ICE server entries a client takes from `joined` (§4.1); more are ignored.
pub const MAX_ICE_SERVERS: usize = 8;

/// URLs in one ICE server entry (§4.1).
pub const MAX_ICE_URLS: usize = 8;

/// Bytes of one ICE URL, user name or credential (§4.1).
pub const MAX_ICE_URL_BYTES: usize = 512;

/// Peers allowed in one signaling room.
pub const MAX_ROOM_PEERS: usize = 2;

/// Largest data-channel record, in bytes (further capped by the peer's `max-message-size`).
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

/// Files in one offer (all manifest parts together, §11.1).
pub const MAX_MANIFEST_FILES: usize = 100_000;

/// Folder levels above a file in a manifest (§11.1).
pub const MAX_DIR_DEPTH: usize = 32;

/// Bytes of a file's relative path, `dir/…/name` joined with `/` (§11.1).
pub const MAX_PATH_BYTES: usize = 4096;

/// Bytes of a `text` message (§11.2).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Bytes of a transfer id (§11.3).
pub const TRANSFER_ID_BYTES: usize = 16;

/// Block size of the resume hash chain (§11.3): resume offsets are multiples of it.
pub const RESUME_BLOCK: u64 = 1024 * 1024;

/// Bytes in a file name (UTF-8).
pub const MAX_NAME_BYTES: usize = 255;

/// Bytes in a MIME type string.
pub const MAX_TYPE_BYTES: usize = 255;

/// Length of a room id string: base64url of 16 bytes, no padding.
pub const ROOM_ID_CHARS: usize = 22;

/// Signaling messages a server queues for one slow client before dropping it.
pub const PER_CLIENT_QUEUE_DEPTH: usize = 64;

/// Largest file size in a manifest: 2^53 - 1, the largest integer JavaScript holds exactly.
pub const MAX_FILE_SIZE: u64 = (1 << 53) - 1;

/// Characters (Unicode scalar values) in a device name.
pub const MAX_DEVICE_NAME_CHARS: usize = 64;

/// Paired devices one device keeps (each is one signaling connection while the app is open).
pub const MAX_PAIRED_DEVICES: usize = 32;

/// Chunk bytes a sender may have sent and not yet seen acknowledged (§11.4): what a receiver
/// holds in memory at most when its disk is slower than the network.
pub const TRANSFER_WINDOW: u64 = 16 * 1024 * 1024;

/// A receiver acknowledges stored bytes at least this often (§11.4).
pub const PROGRESS_STEP: u64 = 1024 * 1024;

/// A receiver whose peer sends over lanes reports stored bytes at least this often (§11.4,
/// §12): often enough that a lost `progress` is repaired by SCTP's fast retransmission (three
/// later packets) instead of a retransmission timeout that stops the sender's window.
pub const LANE_PROGRESS_STEP: u64 = 256 * 1024;

/// Milliseconds from the first `hello` of a handshake (sent, or for a pairing initiator seen)
/// to an open, confirmed channel; then both sides fail with `connect-failed` (§5).
pub const HANDSHAKE_TIMEOUT_MS: u64 = 30_000;

/// Milliseconds a remembered device waits, after a `hello` from the paired identity with the
/// wrong role, for the `not-paired` that usually explains it (§10.6): a peer holding this
/// device's record under another key computes its role against a key that is not ours.
pub const NOT_PAIRED_GRACE_MS: u64 = 3_000;

/// Milliseconds a person has, from the numbers of a code pairing on screen (§2.1), to say
/// "yes"; then `connect-failed`.
pub const CODE_COMPARE_TIMEOUT_MS: u64 = 120_000;
