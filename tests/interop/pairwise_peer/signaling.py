"""The signaling WebSocket (§4): join a room, relay bodies to the other peer, and read the
server's frames strictly (an undocumented field is reported, not skipped: catching spec drift
is this peer's purpose)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .errors import PeerError

log = logging.getLogger("pairwise.signaling")

MAX_SIGNAL_BYTES = 65_536

# The fields each server frame type carries (§4 table); anything else is drift.
_SERVER_FIELDS: dict[str, set[str]] = {
    "joined": {"type", "peers", "ice"},
    "peer-joined": {"type"},
    "peer-left": {"type"},
    "relay": {"type", "body"},
    "error": {"type", "code", "message"},
}


@dataclass(frozen=True)
class Frame:
    type: str
    data: dict[str, Any]


def ws_url(origin: str) -> str:
    if origin.startswith("https://"):
        return "wss://" + origin[len("https://"):] + "/ws"
    if origin.startswith("http://"):
        return "ws://" + origin[len("http://"):] + "/ws"
    raise PeerError("bad-link", f"origin {origin!r} is not http(s)")


def parse_server_frame(text: str | bytes) -> Frame:
    if isinstance(text, bytes):
        raise PeerError("signaling-lost", "the server sent a binary frame")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise PeerError("signaling-lost", f"server frame is not JSON: {e}") from None
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in _SERVER_FIELDS:
        raise PeerError("signaling-lost", f"unknown server frame {text[:200]!r}")
    extra = set(data) - _SERVER_FIELDS[kind]
    missing = _SERVER_FIELDS[kind] - set(data) - {"ice"}  # an absent ice means no server (§4.1)
    if extra or missing:
        raise PeerError("signaling-lost", f"server frame {kind} with fields {sorted(data)}")
    return Frame(kind, data)


class Signaling:
    """One connection, one room (§4: one join per connection)."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self.closed = False

    @classmethod
    async def open(cls, origin: str) -> Signaling:
        url = ws_url(origin)
        log.info("connecting to %s", url)
        try:
            ws = await connect(url, max_size=MAX_SIGNAL_BYTES, open_timeout=10)
        except (OSError, asyncio.TimeoutError) as e:
            raise PeerError("signaling-lost", f"cannot connect to {url}: {e}") from None
        return cls(ws)

    async def _send(self, frame: dict[str, Any]) -> None:
        text = json.dumps(frame, separators=(",", ":"))
        try:
            await self._ws.send(text)
        except ConnectionClosed as e:
            raise PeerError("signaling-lost", f"closed while sending: {e}") from None

    async def join(self, room: str) -> None:
        await self._send({"type": "join", "room": room})

    async def relay(self, body: dict[str, Any]) -> None:
        log.debug("-> %s", body.get("kind"))
        await self._send({"type": "relay", "body": body})

    async def recv(self) -> Frame | None:
        """The next server frame, or None once the connection closed."""
        try:
            text = await self._ws.recv()
        except ConnectionClosed as e:
            self.closed = True
            log.info("signaling closed: %s", e)
            return None
        frame = parse_server_frame(text)
        log.debug("<- %s %s", frame.type, frame.data.get("body", {}).get("kind", "") if frame.type == "relay" and isinstance(frame.data.get("body"), dict) else "")
        return frame

    async def close(self) -> None:
        self.closed = True
        await self._ws.close()
