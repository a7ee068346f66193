"""Encodings from docs/protocol.md: base64url (§0), the pairing link (§2), the room (§3),
the SDP fingerprint (§5.1), safe names (§7) and device names (§10.7)."""

from __future__ import annotations

import base64
import re
import secrets
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import PeerError

_B64U_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Strict decoder: only the canonical form is accepted (no padding, no +/ or whitespace,
    unused trailing bits zero), so re-encoding must give the same text."""
    if not isinstance(text, str) or not _B64U_ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u(data) != text:
        raise ValueError("non-canonical base64url")
    return data


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    # An empty salt is what the spec writes; RFC 5869 treats it like HashLen zero bytes.
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def public_key_from_bytes(raw: bytes) -> ec.EllipticCurvePublicKey:
    """A 65-byte uncompressed SEC1 P-256 point; anything else raises ValueError."""
    if len(raw) != 65 or raw[0] != 0x04:
        raise ValueError("not a 65-byte uncompressed P-256 point")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


# §2 pairing link ---------------------------------------------------------------------------

LINK_VERSION = 0x02  # written: the key compressed (33 bytes)
LINK_VERSION_1 = 0x01  # still read: the key uncompressed (65 bytes)
_PAYLOAD_BYTES = {LINK_VERSION: 66, LINK_VERSION_1: 98}


@dataclass(frozen=True)
class PairingLink:
    origin: str  # e.g. http://127.0.0.1:43210
    secret: bytes  # s, 32 bytes
    initiator_identity: bytes  # I_init_pub, 65 bytes (uncompressed, whichever version was read)

    def url(self) -> str:
        key = public_key_from_bytes(self.initiator_identity).public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )
        payload = bytes([LINK_VERSION]) + self.secret + key
        return f"{self.origin}/#pair={b64u(payload)}"


def new_link(origin: str, initiator_identity: bytes) -> PairingLink:
    return PairingLink(origin.rstrip("/"), secrets.token_bytes(32), initiator_identity)


def parse_link(url: str) -> PairingLink:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PeerError("bad-link", "not an http(s) URL")
    # The fragment is a list of &-separated parameters; exactly one starts with pair=.
    fragment = parts.fragment[1:] if parts.fragment.startswith("#") else parts.fragment
    pairs = [p for p in fragment.split("&") if p.startswith("pair=")]
    if len(pairs) != 1:
        raise PeerError("bad-link", f"{len(pairs)} pair= parameters")
    try:
        payload = b64u_decode(pairs[0][len("pair="):])
    except ValueError as e:
        raise PeerError("bad-link", str(e)) from None
    version = payload[0] if payload else LINK_VERSION
    if len(payload) != _PAYLOAD_BYTES.get(version):
        raise PeerError("bad-link", f"{len(payload)} bytes, version 0x{payload[:1].hex()}")
    key = payload[33:]
    try:
        if version == LINK_VERSION:
            if key[0] not in (0x02, 0x03):
                raise ValueError("not a compressed P-256 point")
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key).public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        public_key_from_bytes(key)
    except ValueError as e:
        raise PeerError("bad-link", f"identity: {e}") from None
    return PairingLink(f"{parts.scheme}://{parts.netloc}", payload[1:33], key)


def room_for(secret: bytes) -> str:
    """§3: the signaling room of a pairing secret."""
    return b64u(hkdf(secret, b"", b"pairwise/v1/room", 16))


# §5.1 fingerprint --------------------------------------------------------------------------

_FP_VALUE = re.compile(r"([A-Za-z0-9-]+) ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*) *")


def sdp_fingerprint(sdp: str) -> str:
    """`lowercase(alg) || " " || uppercase(hex)` of the first a=fingerprint: line."""
    for line in re.split(r"\r?\n", sdp):
        if line.startswith("a=fingerprint:"):
            m = _FP_VALUE.fullmatch(line[len("a=fingerprint:"):])
            if not m:
                raise PeerError("peer-misbehaved", f"malformed fingerprint line {line!r}")
            return f"{m.group(1).lower()} {m.group(2).upper()}"
    raise PeerError("peer-misbehaved", "SDP without a=fingerprint")


# §7 safe names, §10.7 device names ---------------------------------------------------------

# Characters that reorder or hide text (§7); U+200C/U+200D stay allowed.
_HIDDEN = {0x061C, 0x200E, 0x200F, 0x00AD, 0x115F, 0x1160, 0x180E, 0x200B, 0x3164, 0xFEFF, 0xFFA0}
_HIDDEN |= set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A)) | set(range(0x2060, 0x2065))
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}


def _is_control(ch: str) -> bool:
    c = ord(ch)
    return c <= 0x1F or 0x7F <= c <= 0x9F


def safe_name_problem(name: object) -> str | None:
    """Why `name` is not a §7 SafeName, or None if it is one."""
    if not isinstance(name, str):
        return "not a string"
    size = len(name.encode("utf-8", "surrogatepass"))
    if not 1 <= size <= 255:
        return f"{size} bytes"
    for ch in name:
        if ch in "/\\:" or _is_control(ch) or ord(ch) in _HIDDEN:
            return f"character U+{ord(ch):04X}"
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return "lone surrogate"
    if name in (".", "..") or name.endswith(".") or name.endswith(" "):
        return "dot name or trailing dot/space"
    if name.split(".", 1)[0].upper() in _RESERVED:
        return "reserved device name"
    return None


def device_name_problem(name: object) -> str | None:
    """Why `name` is not a §10.7 device name, or None if it is one."""
    if not isinstance(name, str):
        return "not a string"
    if not 1 <= len(name) <= 64:
        return f"{len(name)} code points"
    if any(_is_control(ch) or ord(ch) in _HIDDEN or 0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        return "control or hidden character"
    # "No white space at either end": Python's str.isspace follows Unicode White_Space closely.
    if name[0].isspace() or name[-1].isspace() or unicodedata.category(name[0]) == "Zs" or unicodedata.category(name[-1]) == "Zs":
        return "white space at an end"
    return None
