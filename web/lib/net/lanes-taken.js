/**
 * @file The lanes the peer opens toward this side (`docs/protocol.md` §12): one answering peer
 * connection per `lane-offer`, whose answer and candidates go back as records (`tell`) and whose
 * messages are frames for the session's channel (`onFrame`). A lane that fails or closes is
 * dropped: its opener sends what was in flight on it again on the other channels, and a peer that
 * is gone is noticed on the session's channel. The lanes this side opens are `lane-sender.js`'s.
 */

import { ProtocolError } from '../proto/errors.js';
import { LANES_TAKEN } from '../proto/lanes.js';
import { Peer } from './peer.js';

export class TakenLanes {
  /** @type {Map<number, Peer>} */
  #lanes = new Map();
  #ice;
  #tell;
  #onFrame;

  /**
   * @param {{ ice: RTCIceServer[], tell: (msg: any) => void, onFrame: (frame: Uint8Array) => void }} opts
   *   the lanes' ICE servers (STUN only), how a lane message goes to the peer, where frames go
   */
  constructor({ ice, tell, onFrame }) {
    this.#ice = ice;
    this.#tell = tell;
    this.#onFrame = onFrame;
  }

  /**
   * Takes lane `index`: a peer connection that answers `sdp`.
   * @param {number} index @param {string} sdp
   */
  async answer(index, sdp) {
    if (index > LANES_TAKEN || this.#lanes.has(index)) {
      throw new ProtocolError('peer-misbehaved', `lane ${index} offered twice or beyond ${LANES_TAKEN}`);
    }
    const lane = new Peer({
      initiator: false,
      iceServers: this.#ice,
      sendSignal: (body) => {
        if (body.kind === 'answer') this.#tell({ type: 'lane-answer', lane: index, sdp: body.sdp });
        if (body.kind === 'candidate') this.#tell({ type: 'lane-candidate', lane: index, side: 'answer', candidate: body.candidate });
      },
    });
    this.#lanes.set(index, lane);
    lane.addEventListener('message', (ev) => this.#onFrame(/** @type {CustomEvent<Uint8Array>} */ (ev).detail));
    const drop = () => {
      if (this.#lanes.get(index) !== lane) return;
      this.#lanes.delete(index);
      lane.close();
    };
    lane.addEventListener('failed', drop);
    lane.addEventListener('closed', drop);
    await lane.handleSignal({ kind: 'offer', sdp });
  }

  /**
   * The peer's candidate for its end of lane `index` (null: the end of its candidates).
   * @param {number} index @param {RTCIceCandidateInit | null} candidate
   */
  async candidate(index, candidate) {
    const lane = this.#lanes.get(index);
    if (!lane) throw new ProtocolError('peer-misbehaved', `a candidate for lane ${index}, which does not exist`);
    if (candidate) await lane.handleSignal({ kind: 'candidate', candidate });
  }

  /** Closes every lane. */
  close() {
    for (const lane of this.#lanes.values()) lane.close();
    this.#lanes.clear();
  }
}

/**
 * The STUN URLs of `ice`, without credentials: a lane needs no relay allocation of its own.
 * @param {RTCIceServer[]} ice
 * @returns {RTCIceServer[]}
 */
export function stunOnly(ice) {
  return ice
    .map((s) => ({ urls: [s.urls].flat().filter((u) => u.startsWith('stun:') || u.startsWith('stuns:')) }))
    .filter((s) => s.urls.length > 0);
}
