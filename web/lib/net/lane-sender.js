/**
 * @file The lanes this side opens (docs/protocol.md §12) and where its frames go. Once the
 * `SecureChannel` sent its first `lane-offer`, each record it sends comes here as a frame: a
 * message goes on the session's channel; a chunk on the first open lane with little waiting in
 * its send buffer (`#pick`; unpaced: the one with the fewest bytes waiting), so a lane whose
 * association is held up by a loss gets nothing more until it moves again. Each channel's send buffer is capped (`LANE_BUFFER`, `SESSION_BUFFER`): the lane
 * messages and `cancel` go on the session's channel behind whatever waits there, and with 4 MiB
 * of chunks in front of them at 1 % loss the lanes' candidates came 7 s late and no lane opened.
 * Until a lane opens, chunks go on the session's channel. What went on a lane is kept until the peer's
 * `progress` acknowledges it (`LaneFlight`): a lane that fails gives its frames to the others,
 * and when nothing was acknowledged for a while the held-up lane's frames go once more
 * elsewhere (the receiver keeps the first copy of each `seq`).
 *
 * One window and one pace hold for all channels (`LanePace`): sixteen SCTP associations that
 * each grow until a loss would together overfill a router's queue. The transfer window (§11.4,
 * 16 MiB) still bounds what is out in all.
 */

import { ProtocolError } from '../proto/errors.js';
import { LanePace } from '../proto/lane-pace.js';
import { LANE_LABEL, LaneFlight, stallAfterMs, toFrame } from '../proto/lanes.js';
import { Peer } from './peer.js';

/** How often the lanes are looked at for one held up, in ms. */
const TEND_MS = 100;
/** How often a chunk waiting for the window looks again (a repair lets it go), in ms. */
const WINDOW_POLL_MS = 10;
/** Bytes of chunks a lane's send buffer holds at most (more wait until one has room). */
export const LANE_BUFFER = 1024 * 1024;
/** Paced, a lane takes chunks while less than this waits in its send buffer (`#pick`). */
const LANE_FILL = 64 * 1024;
/** The same for the session's channel, which carries chunks only until a lane opens. */
export const SESSION_BUFFER = 256 * 1024;

/** @import { InnerMessage } from '../../types/protocol.js' */
/** @typedef {Extract<InnerMessage, { lane: number }>} LaneMessage */

export class LaneSender {
  #session;
  /** Open or opening lanes by index. @type {Map<number, Peer>} */
  #lanes = new Map();
  /** Every index offered, also those dropped since (their late candidates are ignored). */
  #offered = new Set();
  #answered = new Set();
  #flight = new LaneFlight(performance.now());
  #stallMs;
  #ice;
  #tell;
  #fail;
  #timer;
  #closed = false;
  /** Where the search for the emptiest channel starts, so that equals take turns. */
  #turn = 0;
  /** Sends waiting for room in some channel's buffer. @type {(() => void)[]} */
  #waiting = [];
  #wake = () => {
    const w = this.#waiting;
    this.#waiting = [];
    for (const resolve of w) resolve();
  };
  /** @type {LanePace | null} null: not paced (`?pace=0`) */
  #pace;
  /** Chunk frames sent on each channel (0: the session's, then lanes 1…), for the console. */
  chunks = [0];
  /** Chunks that waited for the window (an acknowledgement), for the console. */
  windowWaits = 0;

  /**
   * @param {{ session: Peer, ice: RTCIceServer[], rttMs: number | null, paced?: boolean,
   *   tell: (msg: LaneMessage) => void, fail: (e: unknown) => void }} opts
   *   `tell` sends a lane message on the session (as a record); `fail` ends the session.
   */
  constructor({ session, ice, rttMs, paced = true, tell, fail }) {
    this.#session = session;
    this.#pace = paced ? new LanePace(rttMs) : null;
    this.#ice = ice;
    this.#stallMs = stallAfterMs(rttMs);
    this.#tell = tell;
    this.#fail = fail;
    this.#timer = setInterval(() => this.#tend(), TEND_MS);
    session.lowWater = SESSION_BUFFER / 2;
    session.addEventListener('low', this.#wake);
  }

  /**
   * Opens lane `index`: its offer, then its candidates, go to the peer through `tell`.
   * @param {number} index
   */
  async offer(index) {
    /** @type {LaneMessage[] | null} candidates found before the offer went */
    let held = [];
    const lane = new Peer({
      initiator: true,
      label: LANE_LABEL,
      iceServers: this.#ice,
      sendSignal: (body) => {
        if (body.kind === 'offer') {
          this.#tell({ type: 'lane-offer', lane: index, sdp: body.sdp });
          for (const c of held ?? []) this.#tell(c);
          held = null;
        } else if (body.kind === 'candidate') {
          /** @type {LaneMessage} */
          const msg = { type: 'lane-candidate', lane: index, side: 'offer', candidate: body.candidate };
          if (held) held.push(msg);
          else this.#tell(msg);
        }
      },
    });
    this.#lanes.set(index, lane);
    this.#offered.add(index);
    this.chunks[index] = 0;
    lane.lowWater = LANE_BUFFER / 2;
    lane.addEventListener('low', this.#wake);
    lane.addEventListener('open', this.#wake);
    lane.addEventListener('message', () => this.#fail(new ProtocolError('peer-misbehaved', `a record on lane ${index}, which this side opened`)));
    lane.addEventListener('failed', () => this.#drop(index));
    lane.addEventListener('closed', () => this.#drop(index));
    await lane.start();
  }

  /**
   * The peer's `lane-answer`.
   * @param {number} index @param {string} sdp
   */
  async onAnswer(index, sdp) {
    if (!this.#offered.has(index) || this.#answered.has(index)) {
      throw new ProtocolError('peer-misbehaved', `a lane-answer for lane ${index}, not offered or answered already`);
    }
    this.#answered.add(index);
    await this.#lanes.get(index)?.handleSignal({ kind: 'answer', sdp });
  }

  /**
   * The peer's `lane-candidate` for its end of lane `index`.
   * @param {number} index @param {RTCIceCandidateInit | null} candidate
   */
  async onCandidate(index, candidate) {
    if (!this.#offered.has(index)) throw new ProtocolError('peer-misbehaved', `a candidate for lane ${index}, which does not exist`);
    if (candidate) await this.#lanes.get(index)?.handleSignal({ kind: 'candidate', candidate });
  }

  /**
   * Sends the record `seq` as a frame: a chunk on the emptiest open channel, anything else on
   * the session's.
   * @param {bigint} seq @param {Uint8Array} record @param {boolean} chunk
   */
  async send(seq, record, chunk) {
    const frame = toFrame(seq, record);
    if (!chunk) return this.#session.send(frame);
    await this.#paced(frame.length);
    this.#pace?.onSend(seq, frame.length, performance.now());
    await this.#place(seq, frame, -1, false);
  }

  /**
   * Waits until the window and the pace let `len` more bytes go.
   * @param {number} len
   */
  async #paced(len) {
    const pace = this.#pace;
    if (!pace) return;
    for (;;) {
      if (this.#closed) throw new Error('the lanes are closed');
      const wait = pace.delay(len, performance.now());
      if (wait === 0) return;
      // A wait for the window ends with an acknowledgement, or when the acknowledgements are
      // late enough to be a repair (polled); a wait for the pace is a timer.
      if (wait === Infinity) {
        this.windowWaits++;
        await new Promise((resolve) => {
          const done = () => resolve(undefined);
          this.#waiting.push(done);
          setTimeout(done, WINDOW_POLL_MS);
        });
      } else await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * Sends a chunk frame on the emptiest open lane other than `not` (the session's channel while
   * none is open), once one has room.
   * @param {bigint} seq @param {Uint8Array} frame @param {number} not @param {boolean} resent
   */
  async #place(seq, frame, not, resent) {
    for (;;) {
      if (this.#closed) throw new Error('the lanes are closed');
      const picked = this.#pick(not);
      if (!picked) {
        await new Promise((resolve) => this.#waiting.push(() => resolve(undefined)));
        continue;
      }
      const [index, peer] = picked;
      if (!resent) this.chunks[index]++;
      if (index > 0) this.#flight.onSend(seq, frame, index, performance.now(), resent);
      try {
        await peer.send(frame);
      } catch (e) {
        if (index === 0) throw e;
        this.#drop(index); // its frames, this one included, go on the others
      }
      return;
    }
  }

  /**
   * The peer stored everything through frame `seq` (a `progress` or `received`).
   * @param {bigint} seq
   */
  ack(seq) {
    const now = performance.now();
    this.#flight.ack(seq, now);
    const pace = this.#pace;
    if (pace) {
      const startup = pace.startup;
      pace.onAck(seq, now);
      if (startup && !pace.startup) console.info(`lanes: the path's rate found: ${pace.describe()}`);
      this.#wake();
    }
  }

  /** What the lanes did, for the console when they close. */
  describe() {
    const pace = this.#pace ? `${this.#pace.describe()}, ${this.windowWaits} waits for the window` : 'not paced';
    return `chunks per channel (session, lanes): ${JSON.stringify(this.chunks)}; ${pace}`;
  }

  /**
   * Closes the lanes (nothing goes again after this).
   * @returns {boolean} whether it was open until now
   */
  close() {
    if (this.#closed) return false;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#wake();
    const lanes = [...this.#lanes.values()];
    this.#lanes.clear();
    for (const lane of lanes) lane.close();
    return true;
  }

  /**
   * The open lane other than `not` with the fewest bytes waiting, if it has room (the session's
   * channel if no other lane is open); null: wait.
   * @param {number} not
   * @returns {[number, Peer] | null}
   */
  #pick(not) {
    /** @type {[number, Peer][]} */
    const open = [];
    for (const [i, lane] of this.#lanes) if (i !== not && lane.isOpen) open.push([i, lane]);
    if (open.length === 0) return this.#session.bufferedAmount < SESSION_BUFFER ? [0, this.#session] : null;
    if (this.#pace) {
      // Paced, the first lane (by index) with little waiting: an association whose congestion
      // window is kept full grows it, so the lanes in use are few and fast while nothing is
      // lost; one held up by a repair fills its buffer and the next lane takes over. Spread
      // evenly, sixteen lanes each carried too little to grow their windows, and a 16 KiB
      // frame took three round trips on each (4 MB/s at 60 ms).
      for (const c of open) if (c[1].bufferedAmount < LANE_FILL) return c;
    }
    this.#turn = (this.#turn + 1) % open.length;
    let best = open[this.#turn];
    for (let k = 1; k < open.length; k++) {
      const c = open[(this.#turn + k) % open.length];
      if (c[1].bufferedAmount < best[1].bufferedAmount) best = c;
    }
    return best[1].bufferedAmount < LANE_BUFFER ? best : null;
  }

  /**
   * Lane `index` failed or closed: dropped, its unacknowledged frames go on the others.
   * @param {number} index
   */
  #drop(index) {
    const lane = this.#lanes.get(index);
    if (!lane || this.#closed) return;
    this.#lanes.delete(index);
    lane.close();
    this.#resend(this.#flight.takeLane(index), index);
  }

  /**
   * @param {{ seq: bigint, frame: Uint8Array }[]} frames
   * @param {number} from the lane they went on
   */
  #resend(frames, from) {
    // One after the other, each waiting for room like any chunk (all at once could overfill a
    // browser's send queue, which fails the channel).
    const again = async () => {
      for (const { seq, frame } of frames) await this.#place(seq, frame, from, true);
    };
    again().catch((e) => {
      if (!this.#closed) this.#fail(e);
    });
  }

  #tend() {
    const now = performance.now();
    if (!this.#flight.stalled(now, this.#stallMs)) return;
    const frames = this.#flight.takeStalled(now);
    if (frames.length > 0) this.#resend(frames, frames[0].lane);
  }
}
