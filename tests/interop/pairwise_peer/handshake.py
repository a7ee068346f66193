"""The pairing handshake (§5) in either role, on aiortc.

One task reads the signaling connection for the whole session; `Handshake.run()` resolves once
the peer's `confirm` verified and the data channel is open. Candidates are held in both
directions until then (§5 step 7), so aiortc's ICE agent sees no remote candidate and sends no
check before the peer proved it knows the pairing secret.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any, Callable

import aioice.ice
from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from . import sdp as sdpmod
from .codec import b64u, b64u_decode, room_for, sdp_fingerprint
from .errors import PeerError, drift
from .keys import Hello, KeyPair, SessionKeys, new_hello, parse_hello, session_keys, transcript_hash
from .signaling import Frame, Signaling

log = logging.getLogger("pairwise.handshake")

HANDSHAKE_TIMEOUT_S = 30.0
CHANNEL_LABEL = "pairwise"

# aioice leaves 127.0.0.1 out of its host candidates; the tests run in a namespace where
# loopback is the only usable address, so this peer offers exactly that one.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []

_CANDIDATE_KEYS = {"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"}


@dataclass
class Confirmed:
    """A confirmed session with an open data channel."""

    pc: RTCPeerConnection
    channel: RTCDataChannel
    keys: SessionKeys
    peer_sdp: str
    sas: str


def _check_keys(body: dict, keys: set[str]) -> None:
    if set(body) != keys:
        raise PeerError("peer-misbehaved", f"{body.get('kind')} with keys {sorted(body)}")


def _check_candidate(body: dict) -> dict | None:
    """§4.2 shape of a `candidate` body; returns the RTCIceCandidateInit or None (end)."""
    _check_keys(body, {"kind", "candidate"})
    c = body["candidate"]
    if c is None:
        return None
    ok = (
        isinstance(c, dict)
        and set(c) <= _CANDIDATE_KEYS
        and isinstance(c.get("candidate"), str)
        and (c.get("sdpMid") is None or isinstance(c["sdpMid"], str))
        and (c.get("sdpMLineIndex") is None or type(c["sdpMLineIndex"]) is int)
        and (c.get("sdpMid") is not None or c.get("sdpMLineIndex") is not None)
    )
    if not ok:
        raise PeerError("peer-misbehaved", f"bad candidate {json.dumps(c)[:200]}")
    return c


class Handshake:
    def __init__(
        self,
        role: str,
        secret: bytes,
        initiator_identity: bytes | None,
        identity: KeyPair,
        signaling: Signaling,
        fingerprints: int,
        on_sas: Callable[[str], None],
        on_joined: Callable[[], None] | None = None,
    ) -> None:
        self.role = role
        self.secret = secret
        self.link_identity = initiator_identity  # responder: the key the link names
        self.identity = identity
        self.ephemeral = KeyPair()
        self.sig = signaling
        self.fingerprints = fingerprints
        self.on_sas = on_sas
        self.on_joined = on_joined
        self.room = room_for(secret)
        self.pc: RTCPeerConnection | None = None
        self.channel: RTCDataChannel | None = None
        self.hello_self: Hello | None = None
        self.hello_peer: Hello | None = None
        self.sdp_sent: str | None = None
        self.sdp_received: str | None = None
        self.keys: SessionKeys | None = None
        self.confirmed = False
        self._handled: set[str] = set()
        self._held_confirms: list[bytes] = []
        self._held_candidates: list[dict | None] = []
        self._confirm_sent = False
        self._nulls_received = 0
        self._result: asyncio.Future[Confirmed] = asyncio.get_running_loop().create_future()
        self._deadline: asyncio.TimerHandle | None = None
        self._reader: asyncio.Task | None = None

    # -- driving ------------------------------------------------------------------------------

    async def run(self) -> Confirmed:
        await self.sig.join(self.room)
        log.info("joined room %s as %s", self.room, self.role)
        self._reader = asyncio.create_task(self._read_loop())
        try:
            return await self._result
        finally:
            if self._deadline:
                self._deadline.cancel()

    def _fail(self, err: PeerError) -> None:
        if not self._result.done():
            self._result.set_exception(err)
        else:  # after the handshake only late candidates come this way; the channel decides
            log.warning("signaling after the handshake: %s", err)

    async def close(self) -> None:
        """Ends a handshake that failed: its reader, peer connection and signaling."""
        if self._reader:
            self._reader.cancel()
        if self.pc:
            await self.pc.close()
        await self.sig.close()

    def _start_deadline(self) -> None:
        # §5: HANDSHAKE_TIMEOUT_MS from the first hello (sent, or for the initiator, seen).
        if self._deadline is None:
            self._deadline = asyncio.get_running_loop().call_later(
                HANDSHAKE_TIMEOUT_S,
                self._fail,
                PeerError("connect-failed", f"no confirmed, open channel {HANDSHAKE_TIMEOUT_S:.0f} s after the first hello"),
            )

    def _maybe_ready(self) -> None:
        if self.confirmed and self.channel is not None and self.channel.readyState == "open" and not self._result.done():
            assert self.pc and self.keys and self.sdp_received
            self._result.set_result(Confirmed(self.pc, self.channel, self.keys, self.sdp_received, self.keys.sas()))

    async def _read_loop(self) -> None:
        while True:
            try:
                frame = await self.sig.recv()
            except PeerError as e:
                self._fail(e)
                return
            if frame is None:
                if not self.confirmed:
                    self._fail(PeerError("signaling-lost", "the server closed the connection before the peer confirmed"))
                return
            try:
                await self._on_frame(frame)
            except PeerError as e:
                self._fail(e)
                return
            except Exception as e:  # an aiortc failure on the peer's SDP or candidate
                log.exception("handshake step failed")
                self._fail(PeerError("connect-failed", f"{type(e).__name__}: {e}"))
                return

    # -- server frames --------------------------------------------------------------------------

    async def _on_frame(self, frame: Frame) -> None:
        if frame.type == "relay":
            await self._on_body(frame.data["body"])
        elif self.confirmed:
            log.info("ignoring server frame %s after confirm", frame.type)  # §5: the channel decides
        elif frame.type == "joined":
            peers = frame.data["peers"]
            log.info("joined: peers=%s ice=%s (this peer uses no ICE server)", peers, json.dumps(frame.data.get("ice")))
            if self.on_joined:
                self.on_joined()
            if self.role == "responder":
                if peers == 1:
                    raise PeerError("link-expired", "joined with peers: 1")
                await self._send_hello()
        elif frame.type == "peer-joined":
            if self.role == "responder":
                await self._send_hello()
        elif frame.type == "peer-left":
            raise PeerError("peer-left", "the other device left before confirming")
        elif frame.type == "error":
            code = frame.data["code"]
            if code in ("not-joined", "no-peer"):
                log.warning("server error %s (not fatal): %s", code, frame.data["message"])
            else:
                raise PeerError(code, f"server: {frame.data['message']}")

    async def _send_hello(self) -> None:
        if self.hello_self is None:
            self.hello_self = new_hello(self.role, self.identity, self.ephemeral)
            self._start_deadline()
            await self.sig.relay(self.hello_self.body())

    # -- peer bodies ----------------------------------------------------------------------------

    async def _on_body(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("kind"), str):
            raise PeerError("peer-misbehaved", f"relayed body {json.dumps(body)[:200]}")
        if body == {"kind": "candidate", "candidate": None}:
            # Counted before the repeat filter below, which would hide a second one.
            self._nulls_received += 1
            if self._nulls_received == 1:
                log.info("the peer's final null candidate arrived (§4.2)")
            if self._nulls_received > 1:
                drift(log, "§4.2: the peer sent more than one null candidate")
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        if canonical in self._handled:
            log.info("ignoring a repeated %s", body["kind"])
            return
        self._handled.add(canonical)
        kind = body["kind"]
        if self.confirmed and kind != "candidate":
            log.info("ignoring %s after confirm", kind)
            return
        handler = {
            "hello": self._on_hello,
            "offer": self._on_offer,
            "answer": self._on_answer,
            "confirm": self._on_confirm,
            "candidate": self._on_candidate,
        }.get(kind)
        if handler is None:
            raise PeerError("peer-misbehaved", f"unexpected body kind {kind!r} in a pairing session")
        await handler(body)

    async def _on_hello(self, body: dict) -> None:
        peer_role = "responder" if self.role == "initiator" else "initiator"
        if self.hello_peer is not None:
            raise PeerError("peer-misbehaved", "a second, different hello")
        hello = parse_hello(body, peer_role)
        if self.role == "responder":
            assert self.link_identity is not None
            if not hmac.compare_digest(hello.identity, self.link_identity):
                raise PeerError("verify-failed", "the initiator's identity is not the one in the link")
            self.hello_peer = hello
            return
        self.hello_peer = hello
        self._start_deadline()
        await self._send_hello()
        await self._send_offer()

    def _new_pc(self) -> RTCPeerConnection:
        # No ICE servers at all: aiortc would otherwise add a public STUN server.
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

        @pc.on("connectionstatechange")
        def _state() -> None:
            log.info("peer connection: %s", pc.connectionState)
            if pc.connectionState == "failed":
                self._fail(PeerError("connect-failed", "ICE or DTLS failed"))

        return pc

    def _watch_channel(self, channel: RTCDataChannel) -> None:
        self.channel = channel
        channel.on("open", self._maybe_ready)
        self._maybe_ready()

    async def _send_offer(self) -> None:
        self.pc = self._new_pc()
        self._watch_channel(self.pc.createDataChannel(CHANNEL_LABEL))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.sdp_sent = sdpmod.outgoing_sdp(self.pc.localDescription.sdp, self.fingerprints)
        log.info("offer carries %d fingerprint line(s)", len(sdpmod.fingerprint_lines(self.sdp_sent)))
        await self.sig.relay({"kind": "offer", "sdp": self.sdp_sent})

    def _take_sdp(self, body: dict, kind: str) -> str:
        expected = "answer" if self.role == "initiator" else "offer"
        if kind != expected:
            raise PeerError("peer-misbehaved", f"{kind} sent to the {self.role}")
        _check_keys(body, {"kind", "sdp"})
        if not isinstance(body["sdp"], str):
            raise PeerError("peer-misbehaved", f"{kind} sdp is not a string")
        if self.sdp_received is not None:
            raise PeerError("peer-misbehaved", f"a second, different {kind}")
        if self.hello_peer is None or self.hello_self is None:
            raise PeerError("peer-misbehaved", f"{kind} before the hellos")
        sdp_fingerprint(body["sdp"])  # refuses an SDP without a well-formed first fingerprint
        if any(line.startswith(("a=candidate:", "a=end-of-candidates")) for line in body["sdp"].splitlines()):
            drift(log, f"§5 step 7: the peer's {kind} carries a=candidate / a=end-of-candidates lines")
        self.sdp_received = body["sdp"]
        log.info("peer SDP: s=%s, %d fingerprint line(s), lanes=%s, max-message-size=%d",
                 sdpmod.session_name(self.sdp_received), len(sdpmod.fingerprint_lines(self.sdp_received)),
                 sdpmod.declared_lanes(self.sdp_received), sdpmod.max_message_size(self.sdp_received))
        return self.sdp_received

    async def _on_offer(self, body: dict) -> None:
        offer = self._take_sdp(body, "offer")
        self.pc = self._new_pc()
        self.pc.on("datachannel", self._on_datachannel)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self.sdp_sent = sdpmod.outgoing_sdp(self.pc.localDescription.sdp, self.fingerprints)
        log.info("answer carries %d fingerprint line(s)", len(sdpmod.fingerprint_lines(self.sdp_sent)))
        await self.sig.relay({"kind": "answer", "sdp": self.sdp_sent})
        await self._derive_and_confirm()

    async def _on_answer(self, body: dict) -> None:
        answer = self._take_sdp(body, "answer")
        assert self.pc is not None
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await self._derive_and_confirm()

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        if channel.label != CHANNEL_LABEL or not channel.ordered or channel.maxRetransmits is not None or channel.maxPacketLifeTime is not None:
            self._fail(PeerError("peer-misbehaved", f"data channel {channel.label!r} is not the ordered, reliable 'pairwise'"))
            return
        self._watch_channel(channel)

    async def _derive_and_confirm(self) -> None:
        """§5 step 5: both hellos and both SDPs are here."""
        assert self.hello_self and self.hello_peer and self.sdp_sent and self.sdp_received
        init, resp = (self.hello_self, self.hello_peer) if self.role == "initiator" else (self.hello_peer, self.hello_self)
        offer, answer = (self.sdp_sent, self.sdp_received) if self.role == "initiator" else (self.sdp_received, self.sdp_sent)
        # §5.1: each fingerprint from the SDP *text* as sent / as relayed, never re-serialised.
        th = transcript_hash(init, resp, sdp_fingerprint(offer), sdp_fingerprint(answer))
        self.keys = session_keys(self.role, self.identity, self.ephemeral, self.hello_peer, self.secret, th)
        await self.sig.relay({"kind": "confirm", "mac": b64u(self.keys.confirm_mac(self.role))})
        self._confirm_sent = True
        for mac in self._held_confirms:
            await self._verify_confirm(mac)

    async def _on_confirm(self, body: dict) -> None:
        _check_keys(body, {"kind", "mac"})
        try:
            mac = b64u_decode(body["mac"])
        except (ValueError, TypeError):
            raise PeerError("peer-misbehaved", "confirm mac is not base64url") from None
        if len(mac) != 32:
            raise PeerError("peer-misbehaved", f"confirm mac of {len(mac)} bytes")
        if self.keys is None:
            self._held_confirms.append(mac)  # it overtook our own derivation; check it then
            return
        await self._verify_confirm(mac)

    async def _verify_confirm(self, mac: bytes) -> None:
        assert self.keys is not None
        if not self.keys.check_peer_confirm(mac):
            if self.pc:
                await self.pc.close()
            raise PeerError("verify-failed", "the peer's confirm MAC is wrong")
        if self.confirmed:
            return
        self.confirmed = True
        log.info("peer confirmed; releasing candidates")
        self.on_sas(self.keys.sas())
        # §5 step 7: only now our own candidates go out, and the peer's held ones are applied.
        assert self.pc is not None
        for cand in sdpmod.local_candidates(self.pc.localDescription.sdp):
            await self.sig.relay({"kind": "candidate", "candidate": cand})
        await self.sig.relay({"kind": "candidate", "candidate": None})
        held, self._held_candidates = self._held_candidates, []
        for c in held:
            await self._apply_candidate(c)
        self._maybe_ready()

    async def _on_candidate(self, body: dict) -> None:
        c = _check_candidate(body)
        log.debug("candidate body %s", json.dumps(body))
        # §5 step 7: the peer sends candidates only once our confirm verified, so never before
        # we sent it (the server relays in order).
        if not self._confirm_sent:
            drift(log, f"§5 step 7: a candidate arrived before this side sent its confirm: {json.dumps(c)}")
        if not self.confirmed:
            self._held_candidates.append(c)
            return
        await self._apply_candidate(c)

    async def _apply_candidate(self, c: dict | None) -> None:
        assert self.pc is not None
        if c is None:
            await self.pc.addIceCandidate(None)
            return
        text = c["candidate"].removeprefix("a=").removeprefix("candidate:")
        if not text:
            return  # a browser's empty end-of-candidates string
        try:
            cand = candidate_from_sdp(text)
        except (AssertionError, ValueError, IndexError) as e:
            raise PeerError("peer-misbehaved", f"unparsable candidate {c['candidate']!r}: {e}") from None
        cand.sdpMid, cand.sdpMLineIndex = c.get("sdpMid"), c.get("sdpMLineIndex")
        log.info("remote candidate %s", c["candidate"])
        await self.pc.addIceCandidate(cand)

