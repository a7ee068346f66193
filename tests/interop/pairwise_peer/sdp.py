"""What this peer does to aiortc's SDP text before relaying it (§5 step 7), and reads from the
peer's."""

from __future__ import annotations

import re


def _lines(sdp: str) -> list[str]:
    return [line for line in re.split(r"\r?\n", sdp) if line]


def outgoing_sdp(sdp: str, fingerprints: int) -> str:
    """aiortc's description, minus its candidates (they go out trickled, after the peer's
    `confirm`), keeping only the first `fingerprints` a=fingerprint: lines."""
    kept: list[str] = []
    seen_fp = 0
    for line in _lines(sdp):
        if line.startswith("a=candidate:") or line == "a=end-of-candidates":
            continue
        if line.startswith("a=fingerprint:"):
            seen_fp += 1
            if seen_fp > fingerprints:
                continue
        kept.append(line)
    return "\r\n".join(kept) + "\r\n"


def fingerprint_lines(sdp: str) -> list[str]:
    return [line for line in _lines(sdp) if line.startswith("a=fingerprint:")]


def local_candidates(sdp: str) -> list[dict]:
    """aiortc gathers before setLocalDescription returns and writes every candidate into the
    SDP; these are the RTCIceCandidateInit objects this peer trickles (§4.2)."""
    mid = next((line[len("a=mid:"):] for line in _lines(sdp) if line.startswith("a=mid:")), None)
    return [
        {"candidate": line[2:], "sdpMid": mid, "sdpMLineIndex": 0}
        for line in _lines(sdp)
        if line.startswith("a=candidate:")
    ]


def max_message_size(sdp: str) -> int:
    """The peer's a=max-message-size; 65 536 when absent (RFC 8841 §6.1: the default a peer
    assumes; docs/protocol.md does not say)."""
    for line in _lines(sdp):
        if line.startswith("a=max-message-size:"):
            value = int(line.split(":", 1)[1].strip())
            return value if value > 0 else 2**32  # 0 means "no limit" (RFC 8841)
    return 65_536


def session_name(sdp: str) -> str | None:
    return next((line[2:] for line in _lines(sdp) if line.startswith("s=")), None)


def declared_lanes(sdp: str) -> int | None:
    """The peer's session-level a=pairwise-lanes:N (§12); this peer takes none itself."""
    for line in _lines(sdp):
        if line.startswith("m="):
            return None
        if line.startswith("a=pairwise-lanes:"):
            return int(line.split(":", 1)[1])
    return None
