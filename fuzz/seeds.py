#!/usr/bin/env python3
"""Writes seed inputs for every fuzz target into fuzz/corpus/<target>/ from the shared vectors
(testdata/vectors/*.json), so each run starts from real messages instead of nothing.

The corpora are not committed (fuzz/.gitignore): libFuzzer adds what it finds to them, and
the vectors stay the one source. Seeds are named by their content hash, as libFuzzer names its
own, so writing them again changes nothing. Usage: python3 fuzz/seeds.py
"""

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "testdata" / "vectors"
CORPUS = ROOT / "fuzz" / "corpus"

# The key and sequence number fuzz_targets/record.rs opens with.
RECORD_KEY = "8f364bc190b5496f7d9c2769948b4ff248a77ae0deee4b97361205ec86a6b1cf"
RECORD_SEQ = 0


def load(name):
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def write(target, seeds):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        data = seed.encode("utf-8") if isinstance(seed, str) else bytes(seed)
        (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main():
    handshake = load("handshake.json")
    remembered = load("remembered.json")
    link = load("link.json")
    sdp = load("sdp.json")
    lanes = load("lanes.json")
    records = load("records.json")
    transfer = load("transfer.json")
    names = load("names.json")
    ice = load("ice.json")
    code = load("code.json")

    bodies = [h[k] for h in handshake for k in ("confirm_initiator", "confirm_responder")]
    bodies += [h[k] for h in handshake for k in ("hello_initiator", "hello_responder")]
    bodies += [f["notice"] for f in remembered["forgotten"]]
    bodies += [{"kind": "offer", "sdp": v["sdp"]} for v in sdp["valid"][:2]]
    bodies += [
        {"kind": "candidate", "candidate": None},
        {"kind": "candidate", "candidate": {"candidate": "candidate:1 1 udp 1 192.0.2.1 9 typ host", "sdpMid": "0"}},
        {"kind": "not-paired"},
    ]
    rooms = [v["room"] for v in link["valid"]] + [r["room"] for r in remembered["rooms"]]

    code_bodies = [json.loads(t) for e in code["exchange"] for t in e["bodies"].values()]
    code_bodies += [r["body"] for r in code["refused"]]
    write("peer_signal", [compact(b) for b in bodies + code_bodies])
    write(
        "signal_client",
        [compact({"type": "join", "room": r}) for r in rooms[:3]]
        + [compact({"type": "relay", "body": b}) for b in bodies[:4]]
        + ['{"type":"relay","body":[1, 2e3, "x\\u00e9"]}'],
    )
    write(
        "signal_server",
        [compact({"type": "joined", "peers": 2, "ice": case["ice"]}) for case in ice]
        + [compact({"type": "relay", "body": b}) for b in bodies[:2]]
        + ['{"type":"peer-joined"}', '{"type":"peer-left"}',
           '{"type":"error","code":"room-full","message":"x"}'],
    )
    write("pairing_link", [v["fragment"] for v in link["valid"]] + [v["fragment"] for v in link["invalid"]])
    # fuzz_targets/sdp.rs: the first byte is a lane count, the rest the SDP.
    sdps = [v["sdp"] for v in sdp["valid"] + sdp["invalid"]] + [v["sdp"] for v in lanes["sdp"]]
    write("sdp", [b"\x04" + s.encode("utf-8") for s in sdps])

    # fuzz_targets/record.rs: a record at (RECORD_KEY, RECORD_SEQ), or flags || inner.
    cases = records["valid"] + records["rejected"]
    write(
        "record",
        [bytes.fromhex(c["record"]) for c in cases
         if c["key"] == RECORD_KEY and c["seq"] == RECORD_SEQ and len(c["record"]) < 8192]
        + [bytes([c["flags"]]) + bytes.fromhex(c["inner"]) for c in records["valid"]],
    )

    inners = [bytes.fromhex(v["inner"]) for v in transfer["valid"] + transfer["invalid"]]
    inners += [bytes([m["type"]]) + m["inner"].encode("utf-8") for m in lanes["messages"]["valid"]]
    inners += [
        b"\x02" + compact({"resume": [{"index": 0, "offset": 1 << 20, "proof": "A" * 43}]}).encode(),
        b"\x09" + compact({"files": [{"index": 0, "offset": 0}]}).encode(),
        b"\x07" + compact({"name": names["valid"][0]}).encode(),
    ]
    write("transfer_message", inners)
    write("manifest", [i[1:] for i in inners if i[:1] == b"\x01"])

    write("names", names["valid"] + [v["name"] for v in names["invalid"]]
          + remembered["device_names"]["valid"] + remembered["device_names"]["invalid"] + rooms[:2])
    # fuzz_targets/session.rs: a session scenario's inputs, one JSON per line (the target starts
    # as session-pairing-responder's A, so that one's inputs verify; the others' shapes help).
    scenarios = sorted((VECTORS / "scenarios").glob("session-*.json"))
    write("session", ["\n".join(compact(step["in"]) for step in json.loads(f.read_text(encoding="utf-8"))["steps"])
                      for f in scenarios])
    # fuzz_targets/lanes_reorder.rs: start, then [op, d_hi, d_lo, len] operations.
    write("lanes_reorder", [
        bytes([0, 0, 0, 7]) + bytes([0, 2, 1, 1, 0, 2, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0]),
        bytes([0, 0, 0, 0]) + bytes([0, 0xFF, 0xFF, 1, 0, 2, 4, 0xFF, 0, 2, 8, 0xFF]),
    ])


if __name__ == "__main__":
    main()
