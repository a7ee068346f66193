"""Records on the data channel (§6) and one offer each way: sending files (manifest, chunks,
the transfer window of §11.4) and receiving them (accept, chunks, FINAL, `progress`,
`received`). One reader task opens every record in order and feeds the state below; the
sending coroutine waits on that state."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from aiortc import RTCDataChannel, RTCPeerConnection

from . import messages as m
from .errors import REFUSALS, PeerError, drift
from .handshake import Confirmed
from .keys import MAX_RECORD_BYTES
from .sdp import max_message_size, session_name

log = logging.getLogger("pairwise.transfer")

HIGH_WATER = 4 * 1024 * 1024  # §6 flow control
LOW_WATER = 1024 * 1024
TRANSFER_WINDOW = 16 * 1024 * 1024  # §11.4
PROGRESS_STEP = 1024 * 1024
DEVICE_NAME = "aiortc interop peer"


@dataclass
class Incoming:
    """The offer this side is receiving."""

    files: list[m.FileEntry]
    index: int = 0  # the file the next chunk belongs to
    got: int = 0  # bytes of that file so far
    stored: int = 0  # chunk bytes of the transfer stored (what `progress` counts)
    reported: int = 0  # the last `progress` sent
    handle: object | None = None
    part_path: Path | None = None


class Session:
    def __init__(self, confirmed: Confirmed, out_dir: Path | None, refuse: str | None = None) -> None:
        self.pc: RTCPeerConnection = confirmed.pc
        self.channel: RTCDataChannel = confirmed.channel
        self.sealer = confirmed.keys.sealer()
        # Tests only: after this many chunk bytes, one record is sent with a broken tag.
        self.corrupt_after: int | None = None
        self.opener = confirmed.keys.opener()
        self.out_dir = out_dir
        # §6: records are at most min(peer max-message-size, MAX_RECORD_BYTES).
        self.max_record = min(max_message_size(confirmed.peer_sdp), MAX_RECORD_BYTES)
        self.peer_name: str | None = None
        # §6.1: a `close` went or came; nothing more is sent.
        self.ended = False
        self.close_sent = False
        # A test's refusal: answer the next offer with `close {"code": refuse}`.
        self.refuse = refuse
        # §5 step 7: a CLI sends records of at most 32 KiB to a peer that is not a CLI.
        self.peer_is_cli = session_name(confirmed.peer_sdp) == "pairwise-cli"
        self.records_in = 0
        self.largest_in = 0
        self.progress_in = 0
        self.failure: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # The channel's close after a finished run also lands here; nobody needs to read it.
        self.failure.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.changed = asyncio.Event()  # set whenever the state below moves
        self.inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        # sending side
        self.outgoing: list[m.FileEntry] | None = None
        self.accepted = False
        self.finals_sent = 0
        self.sent_bytes = 0
        self.acked = 0
        self.last_progress = 0
        self.received_count = 0
        self.send_done = False
        # receiving side
        self.parts: list[m.FileEntry] = []
        self.incoming: Incoming | None = None
        self.saved: list[Path] = []
        self.all_received = asyncio.Event()
        self.channel.bufferedAmountLowThreshold = LOW_WATER
        self.channel.on("message", self._on_message)
        self.channel.on("close", lambda: self.inbox.put_nowait(None))
        self.channel.on("bufferedamountlow", self.changed.set)

    # -- plumbing -----------------------------------------------------------------------------

    def _on_message(self, data: bytes | str) -> None:
        if isinstance(data, str):
            self.fail(m.bad("a text message on the data channel (records are binary)"))
            return
        self.inbox.put_nowait(data)

    def fail(self, err: PeerError) -> None:
        if not self.failure.done():
            self.failure.set_exception(err)
        self.changed.set()

    def send(self, inner: bytes, final: bool = False) -> None:
        if self.ended:
            log.info("not sending %s: the session ended (§6.1)", m.NAMES[inner[0]])
            return
        record = self.sealer.seal(inner, final)
        assert len(record) <= self.max_record, len(record)
        self.channel.send(record)

    def send_close(self, code: str | None = None) -> None:
        """§6.1: ends the session from this side; the caller drains, then closes."""
        if self.ended:
            return
        self.send(m.close(code))
        self.ended = True
        self.close_sent = True
        log.info("sent close %s", "{}" if code is None else code)

    async def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        """Waits until `condition()` holds; raises the session's failure if one comes first."""
        while not condition():
            if self.failure.done():
                self.failure.result()  # raises
            self.changed.clear()
            changed = asyncio.ensure_future(self.changed.wait())
            await asyncio.wait({changed, self.failure}, return_when=asyncio.FIRST_COMPLETED)
            changed.cancel()
        log.debug("ready: %s", what)

    async def read_loop(self) -> None:
        """Opens every record in seq order and applies it (§6)."""
        try:
            while True:
                record = await self.inbox.get()
                if record is None:
                    self._on_close()
                    return
                final, inner = self.opener.open(record)
                msg = m.parse(final, inner)
                self._observe(record, msg)
                self._on_inner(msg)
                self.changed.set()
                if msg.type == m.CLOSE:
                    return  # nothing after it counts (§6.1)
        except PeerError as e:
            # §6.1: a failure found in what the peer sent is told to it before closing.
            if e.code in REFUSALS:
                self.send_close(e.code)
            self.fail(e)
        except OSError as e:
            self.fail(PeerError("incomplete", f"cannot store a file: {e}"))

    def _observe(self, record: bytes, msg: m.Message) -> None:
        """Checks what the spec says about the peer's records but gives no error code for."""
        if self.records_in == 0 and msg.type != m.DEVICE:
            drift(log, f"§10.7: the peer's first record is {m.NAMES[msg.type]}, not device")
        if self.peer_is_cli and len(record) > 32 * 1024 and self.largest_in <= 32 * 1024:
            drift(log, f"§5 step 7: a CLI sent a {len(record)}-byte record to a peer that is not a CLI (at most 32 KiB)")
        self.records_in += 1
        self.largest_in = max(self.largest_in, len(record))

    def stats(self) -> str:
        return f"{self.records_in} record(s) in, largest {self.largest_in} B, {self.progress_in} progress, {self.sealer.seq} record(s) out"

    def _on_close(self) -> None:
        if self.incoming is not None:
            self.fail(PeerError("incomplete", f"the channel closed in file {self.incoming.index}"))
        elif self.outgoing is not None and not self.send_done:
            self.fail(PeerError("peer-left", "the channel closed before every file was received"))
        else:
            self.fail(PeerError("peer-left", "the data channel closed"))

    # -- what the peer sends ------------------------------------------------------------------

    def _on_inner(self, msg: m.Message) -> None:
        t = msg.type
        if t == m.DEVICE:
            self.peer_name = msg.text
            log.info("the peer calls itself %r", msg.text)
        elif t == m.TEXT:
            log.info("text from the peer: %r", msg.text)
        elif t == m.CANCEL:
            if self.incoming is not None or (self.outgoing is not None and not self.send_done):
                raise PeerError("cancelled", "the peer cancelled")
        elif t in (m.ACCEPT, m.DECLINE, m.PROGRESS, m.RECEIVED):
            self._on_answer(msg)
        elif t in (m.MANIFEST, m.CHUNK):
            self._on_offer_part(msg)
        elif t == m.CLOSE:
            self._on_peer_close(msg.text)
        else:  # resume-ack, lane-*: see messages.parse
            raise m.bad(f"{m.NAMES[t]} to a peer that claimed no resume and declared no lanes")

    def _on_peer_close(self, code: str) -> None:
        """§6.1: `{}` ends the session like a channel that closes; a code is a refusal of what
        this side sent: `bad-name` reads as `name-refused`, anything else `peer-refused`."""
        self.ended = True
        if code:
            local = "name-refused" if code == "bad-name" else "peer-refused"
            raise PeerError(local, f"the peer ended the session: {code}")
        log.info("the peer ended the session (close {})")
        self._on_close()

    def _on_answer(self, msg: m.Message) -> None:
        t = msg.type
        if self.outgoing is None:
            raise m.bad(f"{m.NAMES[t]} with no offer of ours")
        if t in (m.ACCEPT, m.DECLINE):
            if self.accepted:
                raise m.bad(f"{m.NAMES[t]} after accept")
            if t == m.DECLINE:
                raise PeerError("declined", "the peer declined the files")
            if msg.extra:  # §11.3: claims for an offer without id
                raise m.bad("resume claims for an offer without id")
            self.accepted = True
        elif self.send_done:
            log.info("ignoring %s after the transfer ended", m.NAMES[t])  # §11.4
        elif t == m.PROGRESS:
            if msg.count < self.last_progress or msg.count > self.sent_bytes:
                raise m.bad(f"progress {msg.count} (last {self.last_progress}, sent {self.sent_bytes})")
            self.last_progress = msg.count
            self.progress_in += 1
            self.acked = max(self.acked, msg.count)
        else:
            if msg.index != self.received_count or msg.index >= self.finals_sent:
                raise m.bad(f"received({msg.index}) out of order or before its FINAL")
            self.received_count += 1
            self.acked = max(self.acked, sum(f.size for f in self.outgoing[: self.received_count]))
            log.info("peer received file %d (%s)", msg.index, self.outgoing[msg.index].name)
            if self.received_count == len(self.outgoing):
                self.send_done = True

    def _on_offer_part(self, msg: m.Message) -> None:
        if msg.type == m.MANIFEST:
            if self.incoming is not None:
                raise m.bad("a manifest while an offer is being received")
            part = msg.manifest
            assert part is not None
            self.parts += part.files
            if len(self.parts) > 100_000:
                raise m.bad("offer past MAX_MANIFEST_FILES")
            if part.more:
                return
            files, self.parts = self.parts, []
            self._accept(files)
            return
        if self.incoming is None:
            raise m.bad("a chunk when no file is expected")
        self._store_chunk(msg.payload, msg.final)

    # -- receiving ----------------------------------------------------------------------------

    def _accept(self, files: list[m.FileEntry]) -> None:
        if self.out_dir is None:
            log.info("declining an offer of %d file(s): this run only sends", len(files))
            self.send(m.decline())
            return
        log.info("offer: %s", ", ".join(f"{f.name} ({f.size} B)" for f in files))
        if self.refuse is not None:
            self.send_close(self.refuse)
            raise PeerError(self.refuse, "refused the offer as asked (--refuse)")
        self.incoming = Incoming(files)
        self.send(m.accept())
        self._open_file()

    def _open_file(self) -> None:
        inc = self.incoming
        assert inc is not None and self.out_dir is not None
        f = inc.files[inc.index]
        folder = self.out_dir.joinpath(*f.dir)
        folder.mkdir(parents=True, exist_ok=True)
        # Bytes go to a hidden part file: a file is handed over only once whole (§6).
        inc.part_path = folder / f".{f.name}.pairwise-part"
        inc.handle = open(inc.part_path, "wb")
        inc.got = 0

    def _store_chunk(self, data: bytes, final: bool) -> None:
        inc = self.incoming
        assert inc is not None
        f = inc.files[inc.index]
        if inc.got + len(data) > f.size or (final and inc.got + len(data) != f.size):
            raise m.bad(f"{f.name}: {inc.got + len(data)} bytes for a size of {f.size} (FINAL={final})")
        inc.handle.write(data)  # type: ignore[union-attr]
        inc.got += len(data)
        inc.stored += len(data)
        if final:
            self._finish_file()
        elif inc.stored - inc.reported >= PROGRESS_STEP:
            inc.reported = inc.stored
            self.send(m.progress(inc.stored))

    def _finish_file(self) -> None:
        inc = self.incoming
        assert inc is not None and inc.part_path is not None
        inc.handle.close()  # type: ignore[union-attr]
        f = inc.files[inc.index]
        target = _free_name(inc.part_path.parent, f.name)
        os.replace(inc.part_path, target)
        self.saved.append(target)
        log.info("stored %s (%d B)", target, f.size)
        self.send(m.received(inc.index))
        inc.index += 1
        if inc.index < len(inc.files):
            self._open_file()
        else:
            self.incoming = None
            self.all_received.set()

    def discard_partial(self) -> None:
        inc = self.incoming
        if inc is not None and inc.part_path is not None:
            inc.handle.close()  # type: ignore[union-attr]
            inc.part_path.unlink(missing_ok=True)

    # -- sending ------------------------------------------------------------------------------

    async def send_files(self, paths: list[Path]) -> None:
        files = [m.FileEntry(p.name, p.stat().st_size, mimetypes.guess_type(p.name)[0] or "") for p in paths]
        self.outgoing = files
        manifest = m.manifest(files)
        if len(manifest) + 17 > self.max_record:
            raise PeerError("peer-misbehaved", "this peer sends one manifest record only; offer fewer files")
        self.send(manifest)
        log.info("offered %d file(s); waiting for accept", len(files))
        await self.wait_for(lambda: self.accepted, "accept")
        chunk_size = self.max_record - 18  # flags, type, 16-byte tag
        for index, (path, entry) in enumerate(zip(paths, files)):
            await self._send_file(path, entry, chunk_size)
            log.info("sent file %d (%s)", index, entry.name)
        await self.wait_for(lambda: self.send_done, "every received")

    async def _send_file(self, path: Path, entry: m.FileEntry, chunk_size: int) -> None:
        left = entry.size
        with open(path, "rb") as fh:
            while True:
                data = fh.read(min(chunk_size, left))
                if len(data) != min(chunk_size, left):
                    raise PeerError("incomplete", f"{path} changed while being sent")
                # §6: bufferedAmount under 4 MiB; §11.4: unacknowledged bytes within the window,
                # counting this chunk.
                await self.wait_for(
                    lambda: self.channel.bufferedAmount <= HIGH_WATER
                    and self.sent_bytes + len(data) - self.acked <= TRANSFER_WINDOW,
                    "room to send",
                )
                left -= len(data)
                final = left == 0
                if self.corrupt_after is not None and self.sent_bytes >= self.corrupt_after:
                    # A test's record that fails authentication mid-file (one tag bit flipped):
                    # the receiver must say record-rejected (§6), whatever follows.
                    self.corrupt_after = None
                    record = bytearray(self.sealer.seal(m.chunk(data), final))
                    record[-1] ^= 1
                    log.info("sent a corrupted record at %d chunk bytes", self.sent_bytes)
                    self.channel.send(bytes(record))
                    await self.wait_for(lambda: False, "the receiver's answer to a bad record")
                self.send(m.chunk(data), final)
                self.sent_bytes += len(data)
                if final:
                    self.finals_sent += 1
                    return

    def send_device(self) -> None:
        """§10.7: the first record of every confirmed session."""
        self.send(m.device(DEVICE_NAME))

    async def drain(self, timeout: float = 10.0) -> None:
        """Waits until SCTP has every record acknowledged, so closing loses none (aiortc has
        no public call for this; its queues are the only view)."""
        sctp = self.pc.sctp
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        while loop.time() < until:
            if self.channel.bufferedAmount == 0 and not sctp._outbound_queue and not sctp._sent_queue:
                return
            await asyncio.sleep(0.05)
        log.warning("records still unacknowledged after %.0f s", timeout)


def _free_name(folder: Path, name: str) -> Path:
    """§11.1: an existing file is kept; the new one gets another name."""
    target = folder / name
    stem, dot, ext = name.partition(".")
    n = 1
    while target.exists():
        target = folder / f"{stem} ({n}){dot}{ext}"
        n += 1
    return target
