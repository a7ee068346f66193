"""Handshake cryptography (§5, §5.1, §5.2) and the record layer's AEAD (§6)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .codec import b64u, b64u_decode, hkdf, public_key_from_bytes
from .errors import PeerError

ROLES = ("initiator", "responder")


class KeyPair:
    """A P-256 key pair; `public` is the 65-byte uncompressed SEC1 encoding (§1)."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.public = self.private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def ecdh(self, peer_public: bytes) -> bytes:
        # The X coordinate of the shared point, 32 bytes: what cryptography's ECDH returns.
        return self.private.exchange(ec.ECDH(), public_key_from_bytes(peer_public))


@dataclass(frozen=True)
class Hello:
    role: str
    identity: bytes
    ephemeral: bytes
    nonce: bytes

    def body(self) -> dict:
        return {"kind": "hello", "v": 1, "role": self.role, "identity": b64u(self.identity),
                "ephemeral": b64u(self.ephemeral), "nonce": b64u(self.nonce)}


def new_hello(role: str, identity: KeyPair, ephemeral: KeyPair) -> Hello:
    return Hello(role, identity.public, ephemeral.public, secrets.token_bytes(32))


def parse_hello(body: dict, expected_role: str) -> Hello:
    """§5: strict parse; v 1, the role the receiver expects, valid points, 32-byte nonce."""
    if set(body) != {"kind", "v", "role", "identity", "ephemeral", "nonce"}:
        raise PeerError("peer-misbehaved", f"hello keys {sorted(body)}")
    if body["v"] != 1 or type(body["v"]) is not int or body["role"] != expected_role:
        raise PeerError("peer-misbehaved", f"hello v={body['v']!r} role={body['role']!r}")
    try:
        identity, ephemeral, nonce = (b64u_decode(body[k]) for k in ("identity", "ephemeral", "nonce"))
        public_key_from_bytes(identity)
        public_key_from_bytes(ephemeral)
    except (ValueError, TypeError) as e:
        raise PeerError("peer-misbehaved", f"hello: {e}") from None
    if len(nonce) != 32:
        raise PeerError("peer-misbehaved", f"hello nonce of {len(nonce)} bytes")
    return Hello(expected_role, identity, ephemeral, nonce)


def transcript_hash(init: Hello, resp: Hello, fp_offer: str, fp_answer: str) -> bytes:
    """§5.1 th."""
    h = hashlib.sha256(b"pairwise/v1/transcript")
    for hello in (init, resp):
        h.update(hello.identity + hello.ephemeral + hello.nonce)
    for fp in (fp_offer.encode(), fp_answer.encode()):
        h.update(struct.pack(">H", len(fp)) + fp)
    return h.digest()


class SessionKeys:
    """§5.2 key schedule for one side of a pairing session."""

    def __init__(self, role: str, ikm: bytes, salt: bytes, th: bytes) -> None:
        self.role = role
        self.peer_role = ROLES[1 - ROLES.index(role)]
        self._ikm, self._salt, self.th = ikm, salt, th

    def k(self, label: str, length: int) -> bytes:
        return hkdf(self._ikm, self._salt, label.encode() + self.th, length)

    def confirm_mac(self, role: str) -> bytes:
        return hmac.new(self.k(f"pairwise/v1/confirm/{role}", 32), self.th, hashlib.sha256).digest()

    def check_peer_confirm(self, mac: bytes) -> bool:
        return hmac.compare_digest(mac, self.confirm_mac(self.peer_role))

    def sas(self) -> str:
        """Six digits, shown as `004 217`."""
        code = f"{struct.unpack('>I', self.k('pairwise/v1/sas', 4))[0] % 1_000_000:06d}"
        return f"{code[:3]} {code[3:]}"

    def sealer(self) -> RecordSealer:
        return RecordSealer(self.k(f"pairwise/v1/record/{self.role}", 32))

    def opener(self) -> RecordOpener:
        return RecordOpener(self.k(f"pairwise/v1/record/{self.peer_role}", 32))


def session_keys(role: str, identity: KeyPair, ephemeral: KeyPair, peer: Hello, secret: bytes, th: bytes) -> SessionKeys:
    ikm = ephemeral.ecdh(peer.ephemeral) + identity.ecdh(peer.identity)
    return SessionKeys(role, ikm, secret, th)


# §6 records ---------------------------------------------------------------------------------

MAX_RECORD_BYTES = 262_144
FLAG_FINAL = 0x01


def _nonce(seq: int) -> bytes:
    return b"\x00\x00\x00\x00" + struct.pack(">Q", seq)


class RecordSealer:
    """Seals this side's records; `seq` counts from 0 and is never on the wire."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self.seq = 0

    def seal(self, inner: bytes, final: bool = False) -> bytes:
        record = self._aead.encrypt(_nonce(self.seq), bytes([FLAG_FINAL if final else 0]) + inner, None)
        self.seq += 1
        return record


class RecordOpener:
    """Opens the peer's records with the seq it expects next (so loss or reordering fails)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self.seq = 0

    def open(self, record: bytes) -> tuple[bool, bytes]:
        """Returns (FINAL, inner)."""
        if not 17 <= len(record) <= MAX_RECORD_BYTES:
            raise PeerError("record-rejected", f"record {self.seq} of {len(record)} bytes")
        try:
            plain = self._aead.decrypt(_nonce(self.seq), record, None)
        except InvalidTag:
            raise PeerError("record-rejected", f"record {self.seq} failed authentication") from None
        if plain[0] & ~FLAG_FINAL:
            raise PeerError("record-rejected", f"record {self.seq} has flags {plain[0]:#04x}")
        self.seq += 1
        return bool(plain[0] & FLAG_FINAL), plain[1:]
