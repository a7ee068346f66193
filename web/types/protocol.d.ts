/**
 * @file Types of protocol v1 (`docs/protocol.md`): signaling frames (§4), peer-to-peer signaling
 * bodies (§4, §5), inner messages (§6) and the confirmed session. Mirrors `ClientToServer` /
 * `ServerToClient` and `PeerSignal` in `crates/pairwise-proto`. Declarations only; the JS
 * modules validate at every parse boundary and cast to these types afterwards.
 */

/** A catalogue code (§9), in the catalogue's order. */
export type ErrorCode =
  | 'bad-link'
  | 'room-full'
  | 'bad-code'
  | 'code-unknown'
  | 'code-used'
  | 'numbers-differ'
  | 'link-expired'
  | 'peer-left'
  | 'verify-failed'
  | 'peer-misbehaved'
  | 'record-rejected'
  | 'bad-name'
  | 'name-refused'
  | 'peer-refused'
  | 'incomplete'
  | 'cancelled'
  | 'declined'
  | 'signaling-lost'
  | 'connect-failed'
  | 'no-route'
  | 'unknown-device'
  | 'key-changed'
  | 'forgotten'
  | 'bad-message'
  | 'too-large'
  | 'not-joined'
  | 'no-peer'
  | 'rate-limited';

/** Which end of the pairing: the initiator shows the QR code and makes the WebRTC offer. */
export type Role = 'initiator' | 'responder';

// ---- Signaling frames (client <-> server, §4) ----

export type ClientToServer =
  | { type: 'join'; room: string }
  | { type: 'relay'; body: unknown };

export type ServerToClient =
  | { type: 'joined'; peers: number; ice?: IceServerEntry[] }
  | { type: 'peer-joined' }
  | { type: 'peer-left' }
  | { type: 'relay'; body: unknown }
  | { type: 'error'; code: ErrorCode; message: string };

/** One entry of `joined`'s `ice` (§4.1): the shape of `RTCIceServer`. */
export interface IceServerEntry {
  urls: string[];
  username?: string;
  credential?: string;
}

// ---- Peer-to-peer bodies inside `relay` (§4 second table, §5) ----

/** Keys and nonce of the sender; binary fields are base64url without padding. */
export interface HelloBody {
  kind: 'hello';
  v: 1;
  role: Role;
  /** b64u of the 65-byte uncompressed identity public key. */
  identity: string;
  /** b64u of the 65-byte uncompressed ephemeral public key. */
  ephemeral: string;
  /** b64u of the 32-byte nonce. */
  nonce: string;
}

export interface OfferBody {
  kind: 'offer';
  sdp: string;
}

export interface AnswerBody {
  kind: 'answer';
  sdp: string;
}

/** An ICE candidate, or `null` for the end of candidates (the field is required). */
export interface CandidateBody {
  kind: 'candidate';
  candidate: RTCIceCandidateInit | null;
}

/** Key confirmation: b64u of `HMAC(K("pairwise/v1/confirm/<own role>"), th)`. */
export interface ConfirmBody {
  kind: 'confirm';
  mac: string;
}

export type PeerSignal = HelloBody | OfferBody | AnswerBody | CandidateBody | ConfirmBody;

// ---- Keys and the confirmed session (§5.2) ----

/** A P-256 key pair: the private key is a non-extractable CryptoKey. */
export interface KeyPair {
  privateKey: CryptoKey;
  /** 65-byte uncompressed SEC1 public key. */
  publicRaw: Uint8Array;
}

/** What a handshake yields once the peer's confirm MAC verified. */
export interface Session {
  /** AES-256-GCM key for the records this side sends (non-extractable). */
  sendKey: CryptoKey;
  /** AES-256-GCM key for the records the peer sends (non-extractable). */
  recvKey: CryptoKey;
  /** Six-digit verification code, zero-padded, without a space: `"004217"`. */
  sas: string;
  /** 32 bytes kept for remembered devices (unused in v1 sessions). */
  pairingKey: Uint8Array;
  /** The transcript hash `th` (32 bytes). */
  transcriptHash: Uint8Array;
}

/** Raw bytes of every key of the schedule, for test vectors. */
export interface SessionSecrets {
  confirmInitiator: Uint8Array;
  confirmResponder: Uint8Array;
  recordInitiator: Uint8Array;
  recordResponder: Uint8Array;
  pairingKey: Uint8Array;
  sasBytes: Uint8Array;
}

// ---- Inner messages (§6) ----

/** One file on offer. `size` is an integer in 0..=2^53-1; `type` a MIME type (may be empty). */
export interface ManifestFile {
  name: string;
  size: number;
  type: string;
  /** Folders above the file, outermost first; absent at the top level (§11.1). */
  dir?: string[];
}

/** One manifest record: a part of an offer (§11.1). */
export interface ManifestPart {
  files: ManifestFile[];
  /** Transfer id, base64url of 16 bytes: the offer can be resumed (§11.3). */
  id?: string;
  /** Another part of the same offer follows. */
  more?: true;
}

/** A prefix the receiver holds (§11.3); `proof` is base64url of the 32-byte chain value. */
export interface ResumeClaim {
  index: number;
  offset: number;
  proof: string;
}

/** Where the sender continues a claimed file: the claimed offset, or 0. */
export interface ResumeStart {
  index: number;
  offset: number;
}

export type InnerMessage =
  | ({ type: 'manifest' } & ManifestPart)
  | { type: 'accept'; resume?: ResumeClaim[] }
  | { type: 'resume-ack'; files: ResumeStart[] }
  | { type: 'text'; text: string }
  | { type: 'progress'; bytes: number }
  | { type: 'decline' }
  | { type: 'chunk'; data: Uint8Array }
  | { type: 'received'; index: number }
  | { type: 'cancel' }
  | { type: 'device'; name: string }
  | { type: 'lane-offer' | 'lane-answer'; lane: number; sdp: string }
  | { type: 'lane-candidate'; lane: number; side: 'offer' | 'answer'; candidate: RTCIceCandidateInit | null }
  /** The session ends (§6.1): normally without `code`, or because the sender refused what it got. */
  | { type: 'close'; code?: ErrorCode };

