/**
 * @file The receiving half of `Transfers`: joins manifest parts (§11.1), asks (through the app)
 * to accept or decline, checks chunks with `ReceiveState`, stores them through a sink
 * (`sink.js`) and acknowledges them once stored (`progress`, §11.4); a file is handed over only
 * after its FINAL chunk.
 *
 * An offer with an id (§11.3), where OPFS can keep files, is received into kept files: the
 * worker runs each file's hash chain and reports a checkpoint at every stored 1 MiB boundary,
 * which goes to the transfer's record (`Checkpoints`). When the session ends early the files
 * and the record stay (`interrupted`); a new offer with the same id from the same device is
 * accepted again without asking (it was accepted before), with claims for what is kept, and
 * each file continues where the sender's `resume-ack` says. Cancel, decline and the end of the
 * transfer delete the record.
 */

/** @import { SecureChannel } from './secure-channel.js' */
/** @import { ManifestFile, ResumeClaim, ResumeStart } from '../types/protocol.js' */
/** @import { PartialRecord, ResumeStore } from './resume-store.js' */
/** @typedef {import('./sink.js').Sink} Sink */

import { b64uDecode } from './b64.js';
import { ProtocolError } from './errors.js';
import { StoredCounter } from './flow.js';
import { LANE_PROGRESS_STEP, MAX_MANIFEST_FILES, PROGRESS_STEP } from './limits.js';
import { Checkpoints, claimsFor, keptBytes, partialName, startsFromAck } from './resume-store.js';
import { openFolderSink } from './folder-sink.js';
import { distinctPaths } from './manifest.js';
import { canKeepPartials, openPartialSink, openSink, removePartial } from './sink.js';
import { ReceiveState, encodeAccept, encodeAcceptResume, encodeDecline, encodeProgress, encodeReceived } from './transfer.js';
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
 * @property {ResumeClaim[]} claims sent with the accept, until the `resume-ack` answered them
 * @property {boolean} waitingAck
 * @property {number[]} starts where each file continues
 */

export class Receiver {
  #o;
  /** @type {Incoming | null} */
  in = null;
  /** @type {ReceiveState | null} */
  #recv = null;
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
  #stored = new StoredCounter();
  /** This side cancelled: chunks sent before the other device saw it are dropped. */
  drain = false;
  /** Parts of an offer that says `more` (§11.1), until its last part. */
  /** @type {{ id: string | undefined, files: ManifestFile[] } | null} */
  #offering = null;

  /** @param {ReceiverOptions} o */
  constructor(o) {
    this.#o = o;
  }

  /** Whether chunks are expected now. */
  get receiving() {
    return this.#recv !== null;
  }

  /** Whether an offer or transfer to us is running. */
  get running() {
    return !!this.in && ['offered', 'active'].includes(this.in.state);
  }

  /**
   * Joins the parts of one offer; the offer is shown once its last part arrived.
   * @param {{ files: ManifestFile[], id?: string, more?: true }} part
   */
  onManifestPart(part) {
    this.drain = false;
    const pending = this.#offering;
    if (!pending && this.running) throw new ProtocolError('peer-misbehaved', 'manifest during a transfer');
    if (pending && pending.id !== part.id) throw new ProtocolError('peer-misbehaved', 'manifest parts with different ids');
    const files = pending ? [...pending.files, ...part.files] : part.files;
    if (files.length > MAX_MANIFEST_FILES) throw new ProtocolError('peer-misbehaved', 'offer with too many files');
    if (part.more) {
      this.#offering = { id: part.id, files };
      return;
    }
    this.#offering = null;
    // Names shown, saved and zipped are distinct: a repeated path becomes `NAME (1).ext`.
    const incoming = new Incoming(distinctPaths(files));
    this.in = incoming;
    this.#recv = null;
    this.#kept = null;
    this.#folder = null;
    incoming.cancel = () => this.#o.cancelAll();
    this.#prepare(incoming, part.id).then(
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
    const channel = this.#o.channel;
    const files = incoming.files;
    incoming.accept = (opts) => {
      if (incoming.state !== 'offered') return;
      this.#sink = null;
      this.#stored = new StoredCounter();
      incoming.setState('active');
      // Files received into a chosen folder are not kept for resume (folder-sink.js).
      this.#folder = opts?.folder ?? null;
      if (this.#folder) record?.remove();
      if (!record || this.#folder) {
        this.#recv = new ReceiveState(files);
        channel.send(encodeAccept()).catch((e) => channel.fail(e));
        return;
      }
      const claims = claimsFor(record.record, files);
      // What is not claimed is not kept: those files start again.
      for (const key of Object.keys(record.record.files)) {
        if (!claims.some((c) => c.index === Number(key))) delete record.record.files[key];
      }
      record.save();
      /** @type {Kept} */
      const kept = { tid: b64uDecode(record.record.id), record, claims, waitingAck: claims.length > 0, starts: files.map(() => 0) };
      this.#kept = kept;
      if (claims.length > 0) {
        channel.send(encodeAcceptResume(claims)).catch((e) => channel.fail(e));
      } else {
        this.#recv = new ReceiveState(files);
        channel.send(encodeAccept()).catch((e) => channel.fail(e));
      }
    };
    incoming.decline = () => {
      if (incoming.state !== 'offered') return;
      incoming.setState('declined');
      record?.remove();
      channel.send(encodeDecline()).catch((e) => channel.fail(e));
    };
    this.#o.announce(incoming);
  }

  /** @param {ResumeStart[]} acks */
  onResumeAck(acks) {
    const kept = this.#kept;
    if (!kept?.waitingAck || !this.in) throw new ProtocolError('peer-misbehaved', 'resume-ack without resume claims');
    kept.waitingAck = false;
    const files = this.in.files;
    kept.starts = startsFromAck(kept.claims, acks, files.length);
    for (const c of kept.claims) if (kept.starts[c.index] === 0) delete kept.record.record.files[c.index];
    kept.record.save();
    // Each file is counted from where it continues.
    this.#recv = new ReceiveState(files.map((f, i) => ({ ...f, size: f.size - kept.starts[i] })));
    this.in.bytes = kept.starts.reduce((a, b) => a + b, 0);
    this.in.dispatchEvent(new Event('progress'));
  }

  /** @param {Uint8Array} data @param {boolean} final */
  onChunk(data, final) {
    if (this.drain && !this.#recv) return;
    const incoming = this.in;
    if (!incoming || !this.#recv) throw new ProtocolError('peer-misbehaved', 'a chunk of no accepted transfer');
    const { index, fileDone, allDone } = this.#recv.handleChunk(data, final);
    incoming.chunkBytes += data.length;
    if (allDone) this.#recv = null;
    const f = incoming.files[index];
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
    const sink = this.#sink;
    if (fileDone) this.#sink = null;
    // Writes are handed to the sink at once and in order (they may run ahead of each other's
    // completion, like a pipe); each is acknowledged once stored, then the file is handed over.
    // A failure ends the transfer once; later steps see the state and do nothing.
    const len = data.length;
    const stored = len > 0 ? sink.then((s) => s.write(data)) : sink.then(() => undefined);
    stored.catch(() => {});
    this.#writing = this.#writing
      .then(async () => {
        if (incoming.state !== 'active' && incoming.state !== 'interrupted') return;
        const checkpoint = await stored;
        // Bytes stored before the session ended still count as kept.
        if (checkpoint && kept) kept.record.set(index, f, checkpoint.offset, checkpoint.h);
        if (incoming.state !== 'active') return;
        incoming.add(len);
        const progress = this.#stored.add(len, this.#o.channel.peerFramed ? LANE_PROGRESS_STEP : PROGRESS_STEP);
        if (progress !== null && !(await this.#sent(encodeProgress(progress)))) return;
        if (!fileDone) return;
        const s = await sink;
        const blob = await s.close();
        if (kept && s.whole) kept.record.set(index, f, s.whole.offset, s.whole.h);
        incoming.dispatchEvent(new CustomEvent('file', { detail: { ...f, blob, storage: s.kind, path: s.path } }));
        if (!(await this.#sent(encodeReceived(index)))) return;
        if (!allDone) return;
        incoming.setState('done');
        await kept?.record.remove();
      })
      .catch((e) => {
        if (incoming.state !== 'active') return;
        sink.then((s) => s.discard()).catch(() => {});
        incoming.setState('error', e instanceof ProtocolError ? e.code : 'incomplete');
        kept?.record.remove();
        this.#o.channel.fail(e instanceof ProtocolError ? e : new ProtocolError('incomplete', `could not store the file: ${e}`));
      });
  }

  /**
   * Sends an acknowledgement; false when the session's channel is gone. That is the peer
   * leaving, not a storage failure: the session's close ends the transfer, and a resumable one
   * keeps what was stored (failing here as `incomplete` removed it: the full run saw a sender's
   * browser close while the receiver sent its `progress`).
   * @param {Uint8Array} inner
   */
  async #sent(inner) {
    try {
      await this.#o.channel.send(inner);
      return true;
    } catch {
      return false;
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
    this.#recv = null;
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
