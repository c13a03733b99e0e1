/**
 * A domain's xenstore connection over its ring page (io/xs_wire.h struct
 * xenstore_domain_interface): requests arrive in req[1024], replies and watch events go out in
 * rsp[1024]; indices are free-running u32 counters, byte index = idx & 1023.
 *
 * Design. service() (called when the guest sends on its store port) reads whatever request bytes
 * are there, assembles messages (header first, then the payload, which may arrive in pieces),
 * hands each complete one to the server, writes as much queued output as fits, and notifies the
 * guest if it produced anything. Output that does not fit waits for the next notification (the
 * guest notifies after consuming from a full ring). While more than MAX_QUEUED_OUTPUT bytes wait,
 * no further requests are read: a guest that never reads its replies cannot make the engine buffer
 * without bound. A malformed stream (a payload longer than XENSTORE_PAYLOAD_MAX, indices that run
 * beyond the ring) ends the connection with the error field set, as xenstored does.
 *
 * Concurrency. Indices are read and written with Atomics (the guest runs concurrently on other
 * pCPUs); ring bytes are read only after the producer index that covers them.
 */
import { decodeHeader, encodeMessage, XS_HEADER_BYTES, XS_PAYLOAD_MAX, type XsMessage } from './xs-protocol';
import type { XenstoreServer } from './xs-server';
import { touchFrames } from '../mem-util';

/** XENSTORE_RING_SIZE. */
export const XS_RING_SIZE = 1024;
/** Byte offsets in the ring page. */
const REQ = 0;
const RSP = 1024;
const REQ_CONS = 2048;
const REQ_PROD = 2052;
const RSP_CONS = 2056;
const RSP_PROD = 2060;
const SERVER_FEATURES = 2064;
const CONNECTION = 2068;
const ERROR = 2072;
/** XENSTORE_SERVER_FEATURE_ERROR: the error field is used. */
const FEATURE_ERROR = 2;
/** XENSTORE_ERROR_RINGIDX / _PROTO. */
const ERROR_RINGIDX = 2;
const ERROR_PROTO = 3;
/** Output bytes the engine queues for a guest before it stops reading requests. */
export const MAX_QUEUED_OUTPUT = 64 * 1024;

/** Where the ring is and how to poke the guest. */
export interface XsRingPort {
  /** Machine byte offset of the ring page now, or -1 if the guest frame is gone. */
  ringOffset(): number;
  /** Raise the guest's store event channel. */
  notify(): void;
}

/** One domain's ring connection. */
export class XsRingConnection {
  readonly conn: number;
  private input = new Uint8Array(0);
  private readonly output: Uint8Array[] = [];
  private queued = 0;
  private broken = false;
  private inService = false;

  constructor(
    private readonly server: XenstoreServer,
    readonly domid: number,
    private readonly mem8: Uint8Array,
    private readonly mem32: Int32Array,
    private readonly codeMark: Uint8Array,
    private readonly codeGen: Int32Array,
    private readonly port: XsRingPort,
  ) {
    this.conn = server.connect({ domid, deliver: (m) => this.queue(m) });
  }

  /** Prepares a fresh ring page (all zero, features advertised). */
  static initialise(mem8: Uint8Array, mem32: Int32Array, base: number): void {
    mem8.fill(0, base, base + 4096);
    Atomics.store(mem32, (base + SERVER_FEATURES) >> 2, FEATURE_ERROR);
    Atomics.store(mem32, (base + CONNECTION) >> 2, 0);
  }

  /**
   * A reply or watch event for the guest. Outside service() (a watch fired by another
   * connection's change) it is written and notified at once.
   */
  private queue(m: XsMessage): void {
    const b = encodeMessage(m);
    this.output.push(b);
    this.queued += b.length;
    if (this.inService || this.broken) return;
    const base = this.port.ringOffset();
    if (base >= 0 && this.flush(base)) this.port.notify();
  }

  /** The connection stopped for a protocol violation. */
  get isBroken(): boolean {
    return this.broken;
  }

  private fail(base: number, code: number): void {
    this.broken = true;
    Atomics.store(this.mem32, (base + ERROR) >> 2, code);
    this.server.disconnect(this.conn);
  }

  /** Serves the ring: reads requests, answers, writes output. */
  service(): void {
    if (this.broken || this.inService) return;
    const base = this.port.ringOffset();
    if (base < 0) return;
    this.inService = true;
    try {
      this.serviceAt(base);
    } finally {
      this.inService = false;
    }
  }

  private serviceAt(base: number): void {
    let wrote = this.flush(base);
    while (!this.broken && this.queued < MAX_QUEUED_OUTPUT) {
      const cons = Atomics.load(this.mem32, (base + REQ_CONS) >> 2) >>> 0;
      const prod = Atomics.load(this.mem32, (base + REQ_PROD) >> 2) >>> 0;
      const avail = (prod - cons) >>> 0;
      if (avail === 0) break;
      if (avail > XS_RING_SIZE) {
        this.fail(base, ERROR_RINGIDX);
        break;
      }
      const chunk = new Uint8Array(avail);
      for (let k = 0; k < avail; k++) chunk[k] = this.mem8[base + REQ + ((cons + k) & (XS_RING_SIZE - 1))];
      Atomics.store(this.mem32, (base + REQ_CONS) >> 2, (cons + avail) | 0);
      const joined = new Uint8Array(this.input.length + avail);
      joined.set(this.input);
      joined.set(chunk, this.input.length);
      this.input = joined;
      this.parse(base);
      wrote = this.flush(base) || wrote;
    }
    if (wrote) this.port.notify();
  }

  private parse(base: number): void {
    while (!this.broken && this.input.length >= XS_HEADER_BYTES) {
      const [type, reqId, txId, len] = decodeHeader(this.input);
      if (len > XS_PAYLOAD_MAX) {
        this.fail(base, ERROR_PROTO);
        return;
      }
      if (this.input.length < XS_HEADER_BYTES + len) return;
      const payload = this.input.slice(XS_HEADER_BYTES, XS_HEADER_BYTES + len);
      this.input = this.input.slice(XS_HEADER_BYTES + len);
      this.server.request(this.conn, { type, reqId, txId, payload });
    }
  }

  /** Writes queued output into the response ring; true if anything was written. */
  private flush(base: number): boolean {
    let wrote = false;
    while (this.output.length > 0) {
      const cons = Atomics.load(this.mem32, (base + RSP_CONS) >> 2) >>> 0;
      const prod = Atomics.load(this.mem32, (base + RSP_PROD) >> 2) >>> 0;
      const used = (prod - cons) >>> 0;
      if (used > XS_RING_SIZE) {
        this.fail(base, ERROR_RINGIDX);
        return wrote;
      }
      const room = XS_RING_SIZE - used;
      if (room === 0) break;
      const head = this.output[0];
      const n = Math.min(room, head.length);
      for (let k = 0; k < n; k++) this.mem8[base + RSP + ((prod + k) & (XS_RING_SIZE - 1))] = head[k];
      touchFrames(this.codeMark, this.codeGen, base, XS_RING_SIZE * 2);
      Atomics.store(this.mem32, (base + RSP_PROD) >> 2, (prod + n) | 0);
      wrote = true;
      this.queued -= n;
      if (n === head.length) this.output.shift();
      else this.output[0] = head.subarray(n);
    }
    return wrote;
  }

  /** What a save image keeps: partial request bytes, output not yet in the ring, broken or not. */
  saveState(): { input: Uint8Array; output: Uint8Array; broken: boolean } {
    const output = new Uint8Array(this.queued);
    let o = 0;
    for (const b of this.output) {
      output.set(b, o);
      o += b.length;
    }
    return { input: this.input.slice(), output, broken: this.broken };
  }

  /** Takes back what saveState() kept (a restored domain, before its guest runs). */
  loadState(s: { input: Uint8Array; output: Uint8Array; broken: boolean }): void {
    this.input = s.input.slice();
    this.output.length = 0;
    if (s.output.length > 0) this.output.push(s.output.slice());
    this.queued = s.output.length;
    if (s.broken) this.close();
  }

  /** Ends the connection (domain destruction). */
  close(): void {
    this.broken = true;
    this.server.disconnect(this.conn);
  }
}
