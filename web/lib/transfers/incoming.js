/**
 * @file The receiving half of `Transfers`, the IO around the receive engine
 * (`proto/transfer/receiver.js`, which decides what every message means and what to answer):
 * asks (through the app) to accept or decline, stores the engine's bytes through a sink
 * (`sink.js`) and tells the engine once stored, which says when a `progress` goes (§11.4); a file
 * is handed over, and `received` sent, only after its FINAL chunk is stored.
 *
 * An offer with an id (§11.3), where OPFS can keep files, is received into kept files: the
 * worker runs each file's hash chain and reports a checkpoint at every stored 1 MiB boundary,
 * which goes to the transfer's record (`Checkpoints`). When the session ends early the files
 * and the record stay (`interrupted`); a new offer with the same id from the same device is
 * accepted again without asking (it was accepted before), with claims for what is kept, and
 * each file continues where the sender's `resume-ack` says. Cancel, decline and the end of the
 * transfer delete the record.
 */

/** @import { SecureChannel } from '../net/secure-channel.js' */
/** @import { InnerMessage, ManifestPart, ResumeClaim } from '../../types/protocol.js' */
/** @import { PartialRecord, ResumeStore } from '../storage/resume-store.js' */
/** @typedef {import('../files/sink.js').Sink} Sink */

import { b64uDecode } from '../proto/b64.js';
import { ProtocolError } from '../proto/errors.js';
import { Checkpoints, claimsFor, keptBytes, partialName } from '../storage/resume-store.js';
import { openFolderSink } from '../files/folder-sink.js';
import { distinctPaths } from '../proto/manifest.js';
import { Receiver as ReceiveEngine } from '../proto/transfer/receiver.js';
import { canKeepPartials, openPartialSink, openSink, removePartial } from '../files/sink.js';
import { encodeInner } from '../proto/transfer.js';
import { Incoming } from './transfer-progress.js';

/**
 * @typedef {object} ReceiverOptions
 * @property {SecureChannel} channel
 * @property {Promise<string> | null} peer the other device's id, when known
 * @property {ResumeStore | null} resume where kept transfers are recorded; null: none kept
 * @property {(incoming: Incoming) => void} announce
 * @property {() => void} cancelAll cancels every transfer of the session (§6)
 */

/**
 * A transfer received into kept files.
 * @typedef {object} Kept
 * @property {Uint8Array} tid
 * @property {Checkpoints} record
 * @property {number[]} starts where each file continues
 */

export class Receiver {
  #o;
  #engine = new ReceiveEngine();
  /** @type {Incoming | null} */
  in = null;
  /** @type {Kept | null} */
  #kept = null;
  /** The folder the user chose to receive into (`folder-sink.js`); null: OPFS. */
  /** @type {FileSystemDirectoryHandle | null} */
  #folder = null;
  /** The current file's sink, opened at its first chunk. @type {Promise<Sink> | null} */
  #sink = null;
  /** Writes to the sink, in order; the chain also orders `progress` and `received`. */
  /** @type {Promise<void>} */
  #writing = Promise.resolve();
  /** An acknowledgement could not be sent: the peer left; no file is handed over after it. */
  #gone = false;

  /** @param {ReceiverOptions} o */
  constructor(o) {
    this.#o = o;
  }

  /** Whether an offer or transfer to us is running. */
  get running() {
    return !!this.in && ['offered', 'active'].includes(this.in.state);
  }

  /**
   * A message for the receiving side (manifest, resume-ack, chunk, cancel).
   * @param {InnerMessage} msg
   * @param {boolean} final the record's FINAL flag
   * @throws {ProtocolError} what the engine refuses; the caller ends the session with it
   */
  onMessage(msg, final) {
    // The peer's records are frames once it opened lanes (§12): `progress` then goes more often.
    if (this.#o.channel.peerFramed) this.#engine.peerUsesLanes();
    this.#engine.handleMessage(msg, final);
    let resumed = false;
    for (let ev = this.#engine.pollEvent(); ev; ev = this.#engine.pollEvent()) {
      switch (ev.type) {
        case 'offered':
          this.#offered(ev.manifest);
          break;
        case 'resumed':
          this.#resumed(ev.index, ev.offset);
          resumed = true;
          break;
        case 'data':
          this.#data(ev.index, ev.data);
          break;
        case 'file-complete':
          this.#fileComplete(ev.index, false);
          break;
        case 'transfer-complete':
          this.#fileComplete(-1, true);
          break;
        case 'cancelled':
          this.end('cancelled', 'cancelled');
          break;
      }
    }
    if (resumed && this.#kept && this.in) {
      this.#kept.record.save();
      this.in.bytes = this.#kept.starts.reduce((a, b) => a + b, 0);
      this.in.dispatchEvent(new Event('progress'));
    }
  }

  /**
   * Cancels what this side receives; returns the `cancel` to send, or null if nothing runs.
   * @returns {InnerMessage | null}
   */
  cancel() {
    this.end('cancelled', 'cancelled');
    return this.#engine.cancel();
  }

  /**
   * An offer, whole (its parts joined by the engine, §11.1); shown once it is known whether it
   * continues a kept transfer.
   * @param {ManifestPart} offer
   */
  #offered(offer) {
    // Names shown, saved and zipped are distinct: a repeated path becomes `NAME (1).ext`.
    const incoming = new Incoming(distinctPaths(offer.files));
    this.in = incoming;
    this.#kept = null;
    this.#folder = null;
    incoming.cancel = () => this.#o.cancelAll();
    this.#prepare(incoming, offer.id).then(
      (record) => this.#offer(incoming, record),
      () => this.#offer(incoming, null),
    );
  }

  /**
   * The record this offer continues, or a new one; null when it cannot be kept.
   * @param {Incoming} incoming
   * @param {string | undefined} id
   * @returns {Promise<Checkpoints | null>}
   */
  async #prepare(incoming, id) {
    const { peer, resume } = this.#o;
    if (!id || !peer || !resume || !(await canKeepPartials())) return null;
    const device = await peer;
    const old = await resume.partial(device, id);
    incoming.transferId = id;
    incoming.resumed = !!old;
    const now = Date.now();
    /** @type {PartialRecord} */
    const record = old ?? { peer: device, id, created: now, updated: now, files: {} };
    return new Checkpoints(resume, record);
  }

  /**
   * @param {Incoming} incoming
   * @param {Checkpoints | null} record
   */
  #offer(incoming, record) {
    if (this.in !== incoming || incoming.state !== 'offered') return;
    const files = incoming.files;
    incoming.accept = (opts) => {
      if (incoming.state !== 'offered') return;
      this.#sink = null;
      incoming.setState('active');
      // Files received into a chosen folder are not kept for resume (folder-sink.js).
      this.#folder = opts?.folder ?? null;
      if (this.#folder) record?.remove();
      if (!record || this.#folder) {
        this.#send(this.#engine.accept());
        return;
      }
      const claims = claimsFor(record.record, files);
      // What is not claimed is not kept: those files start again.
      for (const key of Object.keys(record.record.files)) {
        if (!claims.some((c) => c.index === Number(key))) delete record.record.files[key];
      }
      record.save();
      this.#kept = { tid: b64uDecode(record.record.id), record, starts: files.map(() => 0) };
      this.#send(claims.length > 0 ? this.#acceptClaiming(record, claims) : this.#engine.accept());
    };
    incoming.decline = () => {
      if (incoming.state !== 'offered') return;
      incoming.setState('declined');
      record?.remove();
      this.#send(this.#engine.decline());
    };
    this.#o.announce(incoming);
  }

  /**
   * An accept with claims for what is kept; a plain one if the engine refuses them (what is
   * kept then starts again).
   * @param {Checkpoints} record
   * @param {ResumeClaim[]} claims
   */
  #acceptClaiming(record, claims) {
    try {
      return this.#engine.acceptResume(claims);
    } catch {
      record.record.files = {};
      record.save();
      return this.#engine.accept();
    }
  }

  /**
   * The sender continues claimed file `index` at `offset` (0: from the start, what was kept of
   * it is dropped).
   * @param {number} index
   * @param {number} offset
   */
  #resumed(index, offset) {
    const kept = this.#kept;
    if (!kept) return;
    kept.starts[index] = offset;
    if (offset === 0) delete kept.record.record.files[index];
  }

  /**
   * The sink of file `index`, opened at its first chunk.
   * @param {number} index
   * @returns {Promise<Sink>}
   */
  #sinkOf(index) {
    const f = /** @type {Incoming} */ (this.in).files[index];
    const kept = this.#kept;
    this.#sink ??= kept
      ? openPartialSink({
          name: partialName(kept.record.record.id, index),
          type: f.type,
          keep: kept.starts[index],
          h: hOf(kept, index),
          // A file held whole gets one empty chunk: its record stays as it is.
          tid: kept.starts[index] === f.size ? undefined : kept.tid,
          index,
        })
      : this.#folder
        ? openFolderSink(this.#folder, f.dir ?? [], f.name)
        : openSink(f.type);
    return this.#sink;
  }

  /**
   * Bytes of file `index`: handed to the sink at once and in order (writes may run ahead of each
   * other's completion, like a pipe), acknowledged once stored.
   * @param {number} index
   * @param {Uint8Array} data
   */
  #data(index, data) {
    const incoming = /** @type {Incoming} */ (this.in);
    const f = incoming.files[index];
    const kept = this.#kept;
    const sink = this.#sinkOf(index);
    // The sink takes the bytes (a worker's transfer detaches them): count them first.
    const len = data.length;
    incoming.chunkBytes += len;
    const stored = sink.then((s) => s.write(data));
    stored.catch(() => {});
    this.#then(incoming, sink, async () => {
      if (incoming.state !== 'active' && incoming.state !== 'interrupted') return;
      const checkpoint = await stored;
      // Bytes stored before the session ended still count as kept.
      if (checkpoint && kept) kept.record.set(index, f, checkpoint.offset, checkpoint.h);
      if (incoming.state !== 'active') return;
      incoming.add(len);
      const progress = this.#engine.stored(len);
      if (progress) await this.#sent(progress);
    });
  }

  /**
   * File `index` has every byte (or, with `all`, the whole transfer): once what went before is
   * stored, the file is handed over and `received` sent (§11.4).
   * @param {number} index
   * @param {boolean} all
   */
  #fileComplete(index, all) {
    const incoming = /** @type {Incoming} */ (this.in);
    const kept = this.#kept;
    if (all) {
      this.#then(incoming, null, async () => {
        if (incoming.state !== 'active' || this.#gone) return;
        incoming.setState('done');
        await kept?.record.remove();
      });
      return;
    }
    const f = incoming.files[index];
    const sink = this.#sinkOf(index);
    this.#sink = null;
    this.#then(incoming, sink, async () => {
      if (incoming.state !== 'active' || this.#gone) return;
      const s = await sink;
      const blob = await s.close();
      if (kept && s.whole) kept.record.set(index, f, s.whole.offset, s.whole.h);
      incoming.dispatchEvent(new CustomEvent('file', { detail: { ...f, blob, storage: s.kind, path: s.path } }));
      await this.#sent({ type: 'received', index });
    });
  }

  /**
   * Runs `step` after every earlier one. A failure (or a channel gone) ends the transfer once;
   * later steps see the state and do nothing.
   * @param {Incoming} incoming
   * @param {Promise<Sink> | null} sink what to discard on failure
   * @param {() => Promise<void>} step
   */
  #then(incoming, sink, step) {
    this.#writing = this.#writing.then(step).catch((e) => {
      if (incoming.state !== 'active') return;
      sink?.then((s) => s.discard()).catch(() => {});
      incoming.setState('error', e instanceof ProtocolError ? e.code : 'incomplete');
      this.#kept?.record.remove();
      this.#o.channel.fail(e instanceof ProtocolError ? e : new ProtocolError('incomplete', `could not store the file: ${e}`));
    });
  }

  /**
   * Sends an answer now (accept, decline); a failure ends the session.
   * @param {InnerMessage | null} msg
   */
  #send(msg) {
    if (!msg) return;
    const channel = this.#o.channel;
    channel.send(encodeInner(msg)).catch((e) => channel.fail(e));
  }

  /**
   * Sends an acknowledgement. A channel that is gone is the peer leaving, not a storage
   * failure: the session's close ends the transfer, and a resumable one keeps what was stored
   * (failing here as `incomplete` removed it: the full run saw a sender's browser close while
   * the receiver sent its `progress`); so this never throws, and no file is handed over
   * after it.
   * @param {InnerMessage} msg
   */
  async #sent(msg) {
    try {
      await this.#o.channel.send(encodeInner(msg));
    } catch {
      this.#gone = true;
    }
  }

  /**
   * The transfer ends: `cancelled` (either side) drops what was kept; a session that ended
   * early (`error`) keeps a resumable transfer's files and record (`interrupted`).
   * @param {string} state
   * @param {string} code
   */
  end(state, code) {
    const incoming = this.in;
    const sink = this.#sink;
    const kept = this.#kept;
    this.#sink = null;
    if (state === 'error') {
      try {
        this.#engine.handleClose();
      } catch {
        // The channel's own code, not the engine's `incomplete`, is the one shown.
      }
    }
    if (!incoming || !['offered', 'active'].includes(incoming.state)) return;
    const keep = state === 'error' && code === 'incomplete' && kept !== null;
    if (!keep) {
      incoming.setState(state, code);
      sink?.then((s) => s.discard()).catch(() => {});
      if (kept) dropKept(kept);
      return;
    }
    sink?.then((s) => s.release?.()).catch(() => {});
    incoming.kept = keptBytes(kept.record.record);
    incoming.discard = () => {
      incoming.discard = null;
      dropKept(kept);
      incoming.kept = 0;
      incoming.dispatchEvent(new Event('progress'));
    };
    incoming.setState('interrupted', 'incomplete');
    // Checkpoints of writes still under way land afterwards: the record and the row follow.
    this.#writing.then(() => {
      kept.record.flush();
      incoming.kept = keptBytes(kept.record.record);
      incoming.dispatchEvent(new Event('progress'));
    });
  }
}

/**
 * Deletes a kept transfer's record and the files it did not finish (finished ones back a
 * download link; the app removes them when it starts again).
 * @param {Kept} kept
 */
function dropKept(kept) {
  const { id, files } = kept.record.record;
  for (const [index, f] of Object.entries(files)) if (f.offset < f.size) removePartial(partialName(id, Number(index)));
  kept.record.remove();
}

/**
 * The kept chain value where file `index` continues (undefined: from the start).
 * @param {Kept} kept
 * @param {number} index
 * @returns {Uint8Array | undefined}
 */
function hOf(kept, index) {
  const f = kept.record.record.files[index];
  return kept.starts[index] > 0 && f ? b64uDecode(f.h) : undefined;
}
