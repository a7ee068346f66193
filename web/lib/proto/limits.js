/**
 * @file The limits of protocol v1 (`docs/protocol.md` §8) and the record-layer constants derived
 * from them. Mirrors `crates/pairwise-proto/src/limits.rs`.
 */

/** Largest signaling frame, either direction. */
export const MAX_SIGNAL_BYTES = 65536;
/** ICE server entries taken from `joined` (§4.1); more are ignored. */
export const MAX_ICE_SERVERS = 8;
/** URLs in one ICE server entry (§4.1). */
export const MAX_ICE_URLS = 8;
/** Bytes of one ICE URL, user name or credential (§4.1). */
export const MAX_ICE_URL_BYTES = 512;
/** Peers in one room. */
export const MAX_ROOM_PEERS = 2;
/** Largest record on the data channel (flags, ciphertext and tag). */
export const MAX_RECORD_BYTES = 262144;
/** Files in one manifest. */
export const MAX_MANIFEST_FILES = 100_000;
/** Bytes (UTF-8) in a file name. */
export const MAX_NAME_BYTES = 255;
/** Bytes (UTF-8) in a MIME type. */
export const MAX_TYPE_BYTES = 255;
/** Largest file size in a manifest: 2^53 - 1, the largest integer JSON numbers carry exactly. */
export const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;

/** Bytes a record adds to its inner message: 1 flags byte and the 16-byte GCM tag. */
export const RECORD_OVERHEAD = 17;
/** Flow control: stop sending while the data channel buffers more than this. */
export const HIGH_WATER = 4 * 1024 * 1024;
/** Flow control: `bufferedAmountLowThreshold`; sending resumes below it. */
export const LOW_WATER = 1024 * 1024;

/** Characters (code points) in a device name (§10.7). */
export const MAX_DEVICE_NAME_CHARS = 64;

/** Paired devices one device keeps (each is one signaling connection while the app is open). */
export const MAX_PAIRED_DEVICES = 32;

/** Folder levels above a file in a manifest (§11.1). */
export const MAX_DIR_DEPTH = 32;

/** Bytes of a file's relative path `dir/…/name` (§11.1). */
export const MAX_PATH_BYTES = 4096;

/** Bytes of a `text` message (§11.2). */
export const MAX_TEXT_BYTES = 65_536;

/** Bytes of a transfer id (§11.3). */
export const TRANSFER_ID_BYTES = 16;

/** Block size of the resume hash chain (§11.3). */
export const RESUME_BLOCK = 1024 * 1024;

/** Chunk bytes a sender may have unacknowledged (§11.4). */
export const TRANSFER_WINDOW = 16 * 1024 * 1024;

/** A receiver acknowledges stored bytes at least this often (§11.4). */
export const PROGRESS_STEP = 1024 * 1024;
/** … and at least this often once the sender's records are frames (§11.4, §12). */
export const LANE_PROGRESS_STEP = 256 * 1024;

/** Milliseconds from the first `hello` to an open, confirmed channel (§5). */
export const HANDSHAKE_TIMEOUT_MS = 30_000;

/** Milliseconds a remembered device waits, after a `hello` from the paired identity with the wrong role, for the `not-paired` that usually explains it (§10.6). */
export const NOT_PAIRED_GRACE_MS = 3000;

/** Milliseconds a person has, from the numbers of a code pairing on screen, to say "yes" (§2.1); then `connect-failed`. */
export const CODE_COMPARE_TIMEOUT_MS = 120_000;
