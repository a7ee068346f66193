"""Inner messages (§6 table, §10.7, §11), parsed strictly: anything off is `peer-misbehaved`
(or `bad-name` for a name), as the spec says."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

from .codec import b64u, b64u_decode, device_name_problem, safe_name_problem
from .errors import CODES, PeerError

MANIFEST, ACCEPT, DECLINE, CHUNK, RECEIVED, CANCEL, DEVICE, TEXT = range(1, 9)
RESUME_ACK, PROGRESS, LANE_OFFER, LANE_ANSWER, LANE_CANDIDATE, CLOSE = range(9, 15)
NAMES = {1: "manifest", 2: "accept", 3: "decline", 4: "chunk", 5: "received", 6: "cancel", 7: "device",
         8: "text", 9: "resume-ack", 10: "progress", 11: "lane-offer", 12: "lane-answer", 13: "lane-candidate",
         14: "close"}

MAX_SAFE_INTEGER = 2**53 - 1
MAX_TYPE_BYTES = 255
MAX_TEXT_BYTES = 65_536
MAX_DIR_DEPTH = 32
MAX_PATH_BYTES = 4_096


def bad(why: str) -> PeerError:
    return PeerError("peer-misbehaved", why)


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    type: str
    dir: tuple[str, ...] = ()


@dataclass(frozen=True)
class ManifestPart:
    files: list[FileEntry]
    id: bytes | None = None
    more: bool = False


@dataclass(frozen=True)
class Message:
    type: int
    final: bool = False
    payload: bytes = b""
    manifest: ManifestPart | None = None
    index: int = 0  # received
    count: int = 0  # progress
    text: str = ""  # device name, text, or a close's code ("" for close {})
    extra: Any = field(default=None)  # accept's resume claims


def _json(payload: bytes, what: str) -> Any:
    def no_float(text: str) -> Any:
        raise ValueError(f"non-integer number {text}")

    def no_constant(text: str) -> Any:
        raise ValueError(f"constant {text}")

    try:
        return json.loads(payload.decode("utf-8"), parse_float=no_float, parse_constant=no_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"{what} is not strict UTF-8 JSON: {e}") from None


def _file_entry(f: Any) -> FileEntry:
    if not isinstance(f, dict) or not {"name", "size", "type"} <= set(f) or not set(f) <= {"name", "size", "type", "dir"}:
        raise bad(f"manifest file entry {json.dumps(f)[:200]}")
    name, size, mime = f["name"], f["size"], f["type"]
    if not isinstance(name, str):
        raise bad("file name is not a string")
    if type(size) is not int or not 0 <= size <= MAX_SAFE_INTEGER:
        raise bad(f"file size {size!r}")
    if not isinstance(mime, str) or len(mime.encode()) > MAX_TYPE_BYTES:
        raise bad("file type is not a string of at most 255 bytes")
    dirs: tuple[str, ...] = ()
    if "dir" in f:
        if not isinstance(f["dir"], list) or not f["dir"] or not all(isinstance(d, str) for d in f["dir"]):
            raise bad("dir is not a non-empty list of strings")
        dirs = tuple(f["dir"])
    for part in (*dirs, name):
        if (why := safe_name_problem(part)) is not None:
            raise PeerError("bad-name", f"{part!r}: {why}")
    if len(dirs) > MAX_DIR_DEPTH or len("/".join((*dirs, name)).encode()) > MAX_PATH_BYTES:
        raise PeerError("bad-name", f"{name!r} is too deep or its path too long")
    return FileEntry(name, size, mime, dirs)


def _manifest(payload: bytes) -> ManifestPart:
    m = _json(payload, "manifest")
    if not isinstance(m, dict) or "files" not in m or not set(m) <= {"id", "files", "more"}:
        raise bad("manifest keys")
    if not isinstance(m["files"], list) or not m["files"]:
        raise bad("manifest files is not a non-empty list")
    ident = None
    if "id" in m:
        try:
            ident = b64u_decode(m["id"])
        except (ValueError, TypeError):
            raise bad("manifest id is not base64url") from None
        if len(ident) != 16:
            raise bad(f"manifest id of {len(ident)} bytes")
    if "more" in m and not isinstance(m["more"], bool):
        raise bad("manifest more is not a boolean")
    return ManifestPart([_file_entry(f) for f in m["files"]], ident, m.get("more", False))


def _close(payload: bytes) -> str:
    """§6.1: `{}` or `{"code": C}`, C a §9 code; returns C or ""."""

    def unique(pairs: list) -> dict:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate key")
        return dict(pairs)

    def number(text: str) -> Any:
        raise ValueError(f"number {text}")

    try:
        c = json.loads(payload.decode("utf-8"), object_pairs_hook=unique, parse_float=number, parse_constant=number)
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"close is not strict UTF-8 JSON: {e}") from None
    if not isinstance(c, dict) or not set(c) <= {"code"}:
        raise bad("close keys")
    if "code" not in c:
        return ""
    if not isinstance(c["code"], str) or c["code"] not in CODES:
        raise bad(f"close with code {c['code']!r}, not one of §9")
    return c["code"]


def _device(payload: bytes) -> str:
    d = _json(payload, "device")
    if not isinstance(d, dict) or set(d) != {"name"}:
        raise bad("device keys")
    if (why := device_name_problem(d["name"])) is not None:
        raise bad(f"device name {d['name']!r}: {why}")
    return d["name"]


def parse(final: bool, inner: bytes) -> Message:
    """One decrypted inner message."""
    if not inner:
        raise bad("empty inner message")
    t, payload = inner[0], inner[1:]
    if t not in NAMES:
        raise bad(f"unknown inner type {t:#04x}")
    if final and t != CHUNK:
        raise bad(f"FINAL on {NAMES[t]}")
    if t in (DECLINE, CANCEL) and payload:
        raise bad(f"{NAMES[t]} with a payload")
    if t == CHUNK:
        return Message(t, final, payload)
    if t == MANIFEST:
        return Message(t, manifest=_manifest(payload))
    if t == ACCEPT:
        return Message(t, extra=_accept_claims(payload))
    if t == RECEIVED:
        if len(payload) != 4:
            raise bad(f"received with {len(payload)} bytes")
        return Message(t, index=struct.unpack(">I", payload)[0])
    if t == PROGRESS:
        if len(payload) != 8:
            raise bad(f"progress with {len(payload)} bytes")
        return Message(t, count=struct.unpack(">Q", payload)[0])
    if t == DEVICE:
        return Message(t, text=_device(payload))
    if t == CLOSE:
        return Message(t, text=_close(payload))
    if t == TEXT:
        if not 1 <= len(payload) <= MAX_TEXT_BYTES:
            raise bad(f"text of {len(payload)} bytes")
        try:
            return Message(t, text=payload.decode("utf-8"))
        except UnicodeDecodeError:
            raise bad("text is not UTF-8") from None
    # resume-ack and lane messages: this peer never claims resume and declares no lanes, so
    # §11.3 / §12 make any of them peer-misbehaved here; the caller reports it.
    return Message(t, payload=payload)


def _accept_claims(payload: bytes) -> list | None:
    if not payload:
        return None
    a = _json(payload, "accept")
    if not isinstance(a, dict) or set(a) != {"resume"} or not isinstance(a["resume"], list):
        raise bad("accept payload is not {\"resume\":[…]}")
    return a["resume"]


# encoders -------------------------------------------------------------------------------------


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def manifest(files: list[FileEntry], ident: bytes | None = None, more: bool = False) -> bytes:
    # §11.1 key order: id, files (name, size, type, dir), more; optional keys only when present.
    body: dict[str, Any] = {}
    if ident is not None:
        body["id"] = b64u(ident)
    body["files"] = [
        {"name": f.name, "size": f.size, "type": f.type, **({"dir": list(f.dir)} if f.dir else {})} for f in files
    ]
    if more:
        body["more"] = True
    return bytes([MANIFEST]) + _compact(body)


def accept() -> bytes:
    return bytes([ACCEPT])


def decline() -> bytes:
    return bytes([DECLINE])


def chunk(data: bytes) -> bytes:
    return bytes([CHUNK]) + data


def received(index: int) -> bytes:
    return bytes([RECEIVED]) + struct.pack(">I", index)


def progress(count: int) -> bytes:
    return bytes([PROGRESS]) + struct.pack(">Q", count)


def device(name: str) -> bytes:
    return bytes([DEVICE]) + _compact({"name": name})


def cancel() -> bytes:
    return bytes([CANCEL])


def close(code: str | None = None) -> bytes:
    return bytes([CLOSE]) + _compact({} if code is None else {"code": code})
