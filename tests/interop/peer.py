#!/usr/bin/env python3
"""A minimal, independent Pairwise peer on aiortc, written from docs/protocol.md alone.

    peer.py send --server URL [--fingerprints N] FILE...   # pairing initiator: prints LINK, sends
    peer.py receive --out DIR [--fingerprints N] LINK      # pairing responder: receives into DIR
    peer.py send --server URL --offer-json JSON            # a hostile offer: this manifest, as is
    peer.py receive --out DIR --refuse CODE LINK           # answers the offer with close {"code":CODE}

stdout carries only machine-readable lines: `LINK <url>` (send), `SAS 123 456` once the peer's
confirm verified, `ERROR <code> <detail>` on failure (exit 1). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

# No __pycache__ next to the sources: the repository does not ignore it.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pairwise_peer.codec import new_link, parse_link  # noqa: E402
from pairwise_peer.errors import PeerError  # noqa: E402
from pairwise_peer.handshake import Handshake  # noqa: E402
from pairwise_peer.keys import KeyPair  # noqa: E402
from pairwise_peer.messages import MANIFEST  # noqa: E402
from pairwise_peer.signaling import Signaling  # noqa: E402
from pairwise_peer.transfer import Session  # noqa: E402

log = logging.getLogger("pairwise.peer")


def say(line: str) -> None:
    """One machine-readable line on stdout, flushed at once (the driver reads it live)."""
    print(line, flush=True)


def announce_sas(sas: str) -> None:
    say(f"SAS {sas}")


async def run_session(hs: Handshake, sig: Signaling, out_dir: Path | None, paths: list[Path],
                      offer_json: str | None = None, refuse: str | None = None,
                      corrupt_after: int | None = None) -> None:
    try:
        confirmed = await hs.run()
    except PeerError:
        await hs.close()
        raise
    log.info("channel open; verification code %s", confirmed.sas)
    session = Session(confirmed, out_dir, refuse)
    session.corrupt_after = corrupt_after
    reader = asyncio.create_task(session.read_loop())
    try:
        session.send_device()
        if offer_json is not None:
            # A test's hostile offer, sent as written; the other side must refuse it and say so
            # on its own screen. Whatever it answers ends this run: its `close` with `bad-name`
            # is `name-refused` here (§6.1); a bare channel close would be `peer-left`.
            session.send(bytes([MANIFEST]) + offer_json.encode())
            log.info("sent the offer %s; waiting for the peer's answer", offer_json[:200])
            await session.wait_for(lambda: False, "the peer's answer")
        elif paths:
            await session.send_files(paths)
            log.info("done: %d file(s) sent, every one received", len(paths))
        else:
            await session.wait_for(session.all_received.is_set, "every file")
            log.info("done: %d file(s) stored in %s", len(session.saved), out_dir)
            await session.drain()  # the last `received` must reach the sender before we close
        # §6.1: this side is done and leaves, like the CLI.
        session.send_close()
    except PeerError:
        session.discard_partial()
        raise
    finally:
        if session.close_sent:
            await session.drain(2.0)  # §6.1: the close must leave before the connection goes
        log.info("session: %s", session.stats())
        reader.cancel()
        await confirmed.pc.close()
        await sig.close()


async def send(args: argparse.Namespace) -> None:
    paths = [Path(p) for p in args.files]
    if bool(paths) == (args.offer_json is not None):
        raise PeerError("usage", "send takes FILEs or --offer-json, one of the two")
    for p in paths:
        if not p.is_file():
            raise PeerError("usage", f"{p} is not a file")
    identity = KeyPair()
    link = new_link(args.server, identity.public)
    sig = await Signaling.open(link.origin)
    # The link is printed once the room is joined: a responder that came first would see
    # `peers: 1` and report the link expired (§4).
    hs = Handshake("initiator", link.secret, None, identity, sig, args.fingerprints, announce_sas,
                   on_joined=lambda: say(f"LINK {link.url()}"))
    await run_session(hs, sig, None, paths, args.offer_json, corrupt_after=args.corrupt_after)


async def receive(args: argparse.Namespace) -> None:
    link = parse_link(args.link)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sig = await Signaling.open(link.origin)
    hs = Handshake("responder", link.secret, link.initiator_identity, KeyPair(), sig, args.fingerprints, announce_sas)
    await run_session(hs, sig, out, [], refuse=args.refuse)


def main() -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--fingerprints", type=int, choices=(1, 2, 3), default=3,
                        help="a=fingerprint: lines in this peer's SDP, first N of aiortc's sha-256, sha-384, sha-512")
    common.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    common.add_argument("-v", "--verbose", action="store_true", help="debug log (every relayed body)")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("send", parents=[common], help="show a pairing link, then send FILEs")
    s.add_argument("--server", required=True, help="e.g. http://127.0.0.1:8080")
    s.add_argument("--offer-json", help="send this manifest JSON (inner type 0x01) instead of files, as is")
    s.add_argument("--corrupt-after", type=int, metavar="BYTES",
                   help="after this many chunk bytes, send one record whose tag is broken (a test of record-rejected)")
    s.add_argument("files", nargs="*")
    r = sub.add_parser("receive", parents=[common], help="open a pairing link, then receive into --out")
    r.add_argument("--out", required=True)
    r.add_argument("--refuse", metavar="CODE", help="answer the offer with close {\"code\": CODE} (§6.1) instead of accepting")
    r.add_argument("link")
    args = ap.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s.%(msecs)03d %(name)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("aioice", "aiortc", "websockets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    command = send if args.command == "send" else receive
    try:
        asyncio.run(asyncio.wait_for(command(args), args.timeout))
    except PeerError as e:
        say(f"ERROR {e.code} {e.detail}")
        return 1
    except (TimeoutError, asyncio.TimeoutError):
        say(f"ERROR timeout nothing finished within {args.timeout:.0f} s")
        return 1
    except Exception as e:  # a bug here or in aiortc: still one ERROR line, and the trace
        log.exception("unexpected failure")
        say(f"ERROR internal {type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
