#!/usr/bin/env python3
"""Checks this peer's encodings against testdata/vectors/*.json (no network): the link, the
handshake (transcript, keys, SAS, confirm), SDP fingerprints, records, inner messages, names.
Prints one line per file and exits 1 on the first disagreement."""

from __future__ import annotations

import json
import sys
from pathlib import Path

# No __pycache__ next to the sources: the repository does not ignore it.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402

from pairwise_peer import messages as m  # noqa: E402
from pairwise_peer.codec import (  # noqa: E402
    PairingLink, device_name_problem, parse_link, room_for, safe_name_problem, sdp_fingerprint)
from pairwise_peer.errors import PeerError  # noqa: E402
from pairwise_peer.keys import (  # noqa: E402
    Hello, KeyPair, RecordOpener, RecordSealer, parse_hello, session_keys, transcript_hash)

VECTORS = Path(__file__).resolve().parents[2] / "testdata" / "vectors"


def load(name: str):
    return json.loads((VECTORS / name).read_text())


def refused(fn, code: str) -> bool:
    try:
        fn()
    except PeerError as e:
        return e.code == code
    return False


def check_link() -> None:
    v = load("link.json")
    for case in v["valid"]:
        link = PairingLink("http://x", bytes.fromhex(case["secret"]), bytes.fromhex(case["identity_pub"]))
        assert link.url() == f"http://x/#{case['fragment']}", case
        for fragment in (case["fragment"], case["fragment_v1"]):
            parsed = parse_link(f"http://x/#{fragment}")
            assert parsed.secret.hex() == case["secret"] and room_for(parsed.secret) == case["room"], case
            assert parsed.initiator_identity.hex() == case["identity_pub"], case
    for case in v["invalid"]:
        assert refused(lambda: parse_link(f"http://x/#{case['fragment']}"), "bad-link"), case["why"]


def keypair(priv_hex: str) -> KeyPair:
    kp = KeyPair()
    kp.private = ec.derive_private_key(int(priv_hex, 16), ec.SECP256R1())
    kp.public = kp.private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return kp


def check_handshake() -> None:
    for case in load("handshake.json"):
        sides = {}
        for role in ("initiator", "responder"):
            c = case[role]
            ident, eph = keypair(c["identity_priv"]), keypair(c["ephemeral_priv"])
            assert ident.public.hex() == c["identity_pub"] and eph.public.hex() == c["ephemeral_pub"]
            hello = Hello(role, ident.public, eph.public, bytes.fromhex(c["nonce"]))
            assert hello.body() == case[f"hello_{role}"], role
            assert parse_hello(case[f"hello_{role}"], role) == hello
            sides[role] = (ident, eph, hello)
        init, resp = sides["initiator"][2], sides["responder"][2]
        th = transcript_hash(init, resp, case["fp_offer"], case["fp_answer"])
        assert th.hex() == case["transcript_hash"], case["name"]
        secret = bytes.fromhex(case["secret"])
        ki = session_keys("initiator", *sides["initiator"][:2], resp, secret, th)
        kr = session_keys("responder", *sides["responder"][:2], init, secret, th)
        assert ki._ikm.hex() == case["ikm"]
        keys = case["keys"]
        for label, want in (("confirm/initiator", "confirm_initiator"), ("confirm/responder", "confirm_responder"),
                            ("record/initiator", "record_initiator"), ("record/responder", "record_responder"),
                            ("pairing-key", "pairing_key")):
            assert ki.k(f"pairwise/v1/{label}", 32).hex() == keys[want] == kr.k(f"pairwise/v1/{label}", 32).hex(), label
        assert ki.k("pairwise/v1/sas", 4).hex() == keys["sas_bytes"]
        assert ki.sas().replace(" ", "") == case["sas"] == kr.sas().replace(" ", "")
        from pairwise_peer.codec import b64u
        assert {"kind": "confirm", "mac": b64u(ki.confirm_mac("initiator"))} == case["confirm_initiator"]
        assert {"kind": "confirm", "mac": b64u(kr.confirm_mac("responder"))} == case["confirm_responder"]
        assert kr.check_peer_confirm(ki.confirm_mac("initiator")) and ki.check_peer_confirm(kr.confirm_mac("responder"))


def check_sdp() -> None:
    v = load("sdp.json")
    for case in v["valid"]:
        assert sdp_fingerprint(case["sdp"]) == case["fingerprint"], case["fingerprint"]
    for case in v["invalid"]:
        assert refused(lambda: sdp_fingerprint(case["sdp"]), "peer-misbehaved"), case["why"]


def check_records() -> None:
    v = load("records.json")
    for case in v["valid"]:
        key = bytes.fromhex(case["key"])
        sealer = RecordSealer(key)
        sealer.seq = case["seq"]
        assert sealer.seal(bytes.fromhex(case["inner"]), bool(case["flags"] & 1)).hex() == case["record"]
        opener = RecordOpener(key)
        opener.seq = case["seq"]
        assert opener.open(bytes.fromhex(case["record"])) == (bool(case["flags"] & 1), bytes.fromhex(case["inner"]))
    for case in v["rejected"]:
        opener = RecordOpener(bytes.fromhex(case["key"]))
        opener.seq = case["seq"]
        assert refused(lambda: opener.open(bytes.fromhex(case["record"])), "record-rejected"), case["why"]


def this_peer_parse(inner: bytes, final: bool = False) -> m.Message:
    """messages.parse plus what this peer refuses in its state (no resume, no lanes)."""
    msg = m.parse(final, inner)
    if msg.type in (m.RESUME_ACK, m.LANE_OFFER, m.LANE_ANSWER, m.LANE_CANDIDATE) or msg.extra:
        raise m.bad("not for this peer")
    return msg


def check_transfer() -> None:
    v = load("transfer.json")
    for case in v["valid"]:
        want = case["message"]
        inner = bytes.fromhex(case["inner"])
        if want["type"] in ("resume-ack",) or (want["type"] == "accept" and "resume" in want):
            continue  # this peer never claims resume
        msg = m.parse(False, inner)
        t = want["type"]
        if t == "manifest":
            files = [m.FileEntry(f["name"], f["size"], f["type"], tuple(f.get("dir", ()))) for f in want["files"]]
            from pairwise_peer.codec import b64u_decode
            ident = b64u_decode(want["id"]) if "id" in want else None
            assert m.manifest(files, ident, want.get("more", False)) == inner, case
            assert msg.manifest == m.ManifestPart(files, ident, want.get("more", False))
        elif t == "chunk":
            assert m.chunk(bytes.fromhex(want["data"])) == inner and msg.payload == bytes.fromhex(want["data"])
        elif t == "received":
            assert m.received(want["index"]) == inner and msg.index == want["index"]
        elif t == "progress":
            assert m.progress(want["bytes"]) == inner and msg.count == want["bytes"]
        elif t == "device":
            assert m.device(want["name"]) == inner and msg.text == want["name"]
        elif t == "text":
            assert msg.text == want["text"]
        elif t == "close":
            assert m.close(want.get("code")) == inner and msg.text == want.get("code", ""), case
        else:
            encoders = {"accept": m.accept, "decline": m.decline, "cancel": m.cancel}
            assert encoders[t]() == inner, t
    for case in v["invalid"]:
        final = case.get("final", False)
        assert refused(lambda: this_peer_parse(bytes.fromhex(case["inner"]), final), case["code"]), case["why"]


def check_names() -> None:
    v = load("names.json")
    for name in v["valid"]:
        assert safe_name_problem(name) is None, name
    for case in v["invalid"]:
        assert safe_name_problem(case["name"]) is not None, case["why"]
    d = load("remembered.json")["device_names"]
    for name in d["valid"]:
        assert device_name_problem(name) is None, name
    for name in d["invalid"]:
        assert device_name_problem(name) is not None, name


def main() -> int:
    for check in (check_link, check_handshake, check_sdp, check_records, check_transfer, check_names):
        try:
            check()
        except AssertionError as e:
            print(f"FAIL {check.__name__}: {e}")
            return 1
        print(f"ok   {check.__name__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
