/**
 * A small client for the GDB remote serial protocol (RSP), enough to drive QEMU's gdbstub:
 * packets with checksums, acknowledgements (and no-ack mode when the stub offers it), run-length
 * and escape decoding, pipelined requests, register and memory access, single-step, continue,
 * software breakpoints, qXfer object reads and kill. Every request has a timeout and every
 * failure names the packet that failed.
 *
 * Reference: GDB manual, "Remote Protocol" (Overview; Packets; Stop Reply Packets;
 * General Query Packets qSupported / qXfer:features:read; Packet Acknowledgment).
 */
import net from 'node:net';
import { DomusError } from '../../src-engine/base/errors';

/** A failure talking to a gdbstub: connection, timeout, bad checksum, or an `Exx` error reply. */
export class GdbRspError extends DomusError {}

/** Start of a packet. */
const PACKET_START = 0x24; // '$'
/** Start of an asynchronous notification (ignored here). */
const NOTIFY_START = 0x25; // '%'
/** Separates packet data from its two-hex-digit checksum. */
const CHECKSUM_MARK = 0x23; // '#'
/** Positive acknowledgement. */
const ACK = 0x2b; // '+'
/** Negative acknowledgement: the peer asks for a retransmission. */
const NACK = 0x2d; // '-'
/** Escape byte in binary data: the next byte is XORed with ESCAPE_XOR. */
const ESCAPE = 0x7d; // '}'
const ESCAPE_XOR = 0x20;
/** Run-length marker: the previous character repeats (next char - RLE_BIAS) more times. */
const RLE_MARK = 0x2a; // '*'
const RLE_BIAS = 29;
/** Out-of-band interrupt (Ctrl-C) that stops a running target. */
const INTERRUPT = 0x03;
/** Default time to wait for one reply. */
const DEFAULT_TIMEOUT_MS = 5000;
/** Memory bytes per `m`/`M` packet, well inside QEMU's PacketSize (0x1000 hex chars). */
const MEMORY_CHUNK = 1024;

/** Options for a connection. */
export interface GdbRspClientConfig {
  /** Milliseconds to wait for each reply (default 5000). */
  timeoutMs?: number;
  /** Ask for no-ack mode when the stub supports QStartNoAckMode (default true). */
  noAck?: boolean;
}

/** A decoded stop reply (`S`/`T`/`W`/`X` packet). */
export interface GdbStopReply {
  /** 'T'/'S' stopped with a signal, 'W' exited, 'X' terminated. */
  kind: 'T' | 'S' | 'W' | 'X';
  /** Signal number (5 = SIGTRAP after a step or breakpoint) or exit status. */
  signal: number;
  /** `name:value` pairs of a T packet (thread, swbreak, register numbers ...). */
  info: Record<string, string>;
  /** The raw packet text. */
  raw: string;
}

interface Waiter {
  what: string;
  resolve: (data: string) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Converts bytes to lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Converts hex to bytes; refuses odd lengths and non-hex characters. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new GdbRspError('gdb.bad-hex', `Expected hex data from the gdbstub, got "${hex.slice(0, 40)}".`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** The modulo-256 sum of the packet data, as two hex digits. */
export function rspChecksum(data: string): string {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xff;
  return sum.toString(16).padStart(2, '0');
}

/** Frames packet data as `$data#cs`, escaping the protocol's special characters. */
export function framePacket(data: string): string {
  let body = '';
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === PACKET_START || c === CHECKSUM_MARK || c === ESCAPE || c === RLE_MARK) {
      body += String.fromCharCode(ESCAPE, c ^ ESCAPE_XOR);
    } else {
      body += data[i];
    }
  }
  return `$${body}#${rspChecksum(body)}`;
}

/** Undoes escapes and run-length encoding of a received packet body. */
export function decodePacketBody(body: string): string {
  if (body.indexOf('}') < 0 && body.indexOf('*') < 0) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === ESCAPE && i + 1 < body.length) {
      out += String.fromCharCode(body.charCodeAt(++i) ^ ESCAPE_XOR);
    } else if (c === RLE_MARK && out.length > 0 && i + 1 < body.length) {
      const repeat = body.charCodeAt(++i) - RLE_BIAS;
      out += out[out.length - 1].repeat(Math.max(0, repeat));
    } else {
      out += body[i];
    }
  }
  return out;
}

/** Parses a stop reply packet; throws on anything else. */
export function parseStopReply(raw: string): GdbStopReply {
  const kind = raw[0];
  if (kind !== 'T' && kind !== 'S' && kind !== 'W' && kind !== 'X') {
    throw new GdbRspError('gdb.bad-stop', `Expected a stop reply (T/S/W/X), got "${raw.slice(0, 60)}".`);
  }
  const signal = parseInt(raw.slice(1, 3), 16);
  const info: Record<string, string> = {};
  if (kind === 'T') {
    for (const part of raw.slice(3).split(';')) {
      const colon = part.indexOf(':');
      if (colon > 0) info[part.slice(0, colon)] = part.slice(colon + 1);
    }
  }
  return { kind, signal, info, raw };
}

/** One connection to a gdbstub. */
export class GdbRspClient {
  private readonly socket: net.Socket;
  private readonly timeoutMs: number;
  private readonly waiters: Waiter[] = [];
  private inbuf = '';
  private noAckMode = false;
  private lastSent = '';
  private closed = false;
  private closeReason = '';
  /** Features the stub listed in its qSupported reply. */
  features: Record<string, string | boolean> = {};

  private constructor(socket: net.Socket, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('latin1')));
    socket.on('error', (err) => this.fail(`connection error: ${err.message}`));
    socket.on('close', () => this.fail('the gdbstub closed the connection'));
  }

  /** Connects to a stub at host:port and negotiates features (qSupported, no-ack mode). */
  static async connect(host: string, port: number, config: GdbRspClientConfig = {}): Promise<GdbRspClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host, port });
      s.once('connect', () => resolve(s));
      s.once('error', (err) => reject(new GdbRspError('gdb.connect', `Cannot connect to the gdbstub at ${host}:${port}: ${err.message}.`)));
    });
    const client = new GdbRspClient(socket, config.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const supported = await client.request('qSupported:multiprocess-;swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386');
    for (const item of supported.split(';')) {
      if (item.endsWith('+')) client.features[item.slice(0, -1)] = true;
      else if (item.endsWith('-')) client.features[item.slice(0, -1)] = false;
      else if (item.includes('=')) client.features[item.slice(0, item.indexOf('='))] = item.slice(item.indexOf('=') + 1);
    }
    if ((config.noAck ?? true) && client.features.QStartNoAckMode === true) {
      if ((await client.request('QStartNoAckMode')) === 'OK') client.noAckMode = true;
    }
    return client;
  }

  /** True once the stub accepted QStartNoAckMode. */
  get noAck(): boolean {
    return this.noAckMode;
  }

  /** Sends one packet and resolves with the reply body (an `Exx` reply is returned, not thrown). */
  request(data: string, timeoutMs = this.timeoutMs): Promise<string> {
    if (this.closed) return Promise.reject(new GdbRspError('gdb.closed', `Cannot send "${data.slice(0, 40)}": ${this.closeReason}.`));
    const p = new Promise<string>((resolve, reject) => {
      const waiter: Waiter = {
        what: data.slice(0, 40),
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new GdbRspError('gdb.timeout', `The gdbstub did not answer "${waiter.what}" within ${timeoutMs} ms.`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
    this.lastSent = framePacket(data);
    this.socket.write(this.lastSent, 'latin1');
    return p;
  }

  /** Sends a request and throws GdbRspError on an `Exx` or empty (unsupported) reply. */
  async command(data: string, timeoutMs?: number): Promise<string> {
    const reply = await this.request(data, timeoutMs);
    if (/^E[0-9a-fA-F]{2}$/.test(reply) || reply.startsWith('E.')) {
      throw new GdbRspError('gdb.error-reply', `The gdbstub refused "${data.slice(0, 40)}" with ${reply}.`);
    }
    if (reply === '') throw new GdbRspError('gdb.unsupported', `The gdbstub does not support "${data.slice(0, 40)}".`);
    return reply;
  }

  /** Sends several requests back to back (the stub answers in order) and awaits all replies. */
  pipeline(packets: string[], timeoutMs?: number): Promise<string[]> {
    this.socket.cork();
    try {
      return Promise.all(packets.map((p) => this.command(p, timeoutMs)));
    } finally {
      this.socket.uncork();
    }
  }

  /** Sends a packet that has no reply (such as `k`). */
  send(data: string): void {
    if (this.closed) return;
    this.lastSent = framePacket(data);
    this.socket.write(this.lastSent, 'latin1');
  }

  /** Sends the out-of-band interrupt byte that stops a running target. */
  interrupt(): void {
    if (!this.closed) this.socket.write(Buffer.from([INTERRUPT]));
  }

  /** Why the target stopped (`?`). */
  async haltReason(): Promise<GdbStopReply> {
    return parseStopReply(await this.command('?'));
  }

  /** Reads a qXfer object completely (e.g. features/target.xml). */
  async qXferRead(object: string, annex: string): Promise<string> {
    let out = '';
    for (;;) {
      const reply = await this.command(`qXfer:${object}:read:${annex}:${out.length.toString(16)},ffb`);
      out += reply.slice(1);
      if (reply[0] === 'l') return out;
      if (reply[0] !== 'm') throw new GdbRspError('gdb.bad-qxfer', `Unexpected qXfer reply "${reply.slice(0, 40)}" for ${annex}.`);
    }
  }

  /** Reads all registers (`g`) as the target's byte layout. */
  async readRegisters(): Promise<Uint8Array> {
    return fromHex(await this.command('g'));
  }

  /** Writes all registers (`G`). */
  async writeRegisters(bytes: Uint8Array): Promise<void> {
    await this.expectOk(`G${toHex(bytes)}`);
  }

  /** Reads register number n (`p`). */
  async readRegister(n: number): Promise<Uint8Array> {
    return fromHex(await this.command(`p${n.toString(16)}`));
  }

  /** Writes register number n (`P`). */
  async writeRegister(n: number, bytes: Uint8Array): Promise<void> {
    await this.expectOk(`P${n.toString(16)}=${toHex(bytes)}`);
  }

  /** Packets that read `len` bytes at `addr`, split to fit the stub's packet size. */
  static memoryReadPackets(addr: number, len: number): string[] {
    const out: string[] = [];
    for (let off = 0; off < len; off += MEMORY_CHUNK) {
      out.push(`m${(addr + off).toString(16)},${Math.min(MEMORY_CHUNK, len - off).toString(16)}`);
    }
    return out;
  }

  /** Packets that write `data` at `addr`, split to fit the stub's packet size. */
  static memoryWritePackets(addr: number, data: Uint8Array): string[] {
    const out: string[] = [];
    for (let off = 0; off < data.length; off += MEMORY_CHUNK) {
      const chunk = data.subarray(off, Math.min(data.length, off + MEMORY_CHUNK));
      out.push(`M${(addr + off).toString(16)},${chunk.length.toString(16)}:${toHex(chunk)}`);
    }
    return out;
  }

  /** Reads guest memory (`m`), in pipelined chunks. */
  async readMemory(addr: number, len: number): Promise<Uint8Array> {
    const replies = await this.pipeline(GdbRspClient.memoryReadPackets(addr, len));
    const out = new Uint8Array(len);
    let off = 0;
    for (const r of replies) {
      const bytes = fromHex(r);
      out.set(bytes, off);
      off += bytes.length;
    }
    if (off !== len) throw new GdbRspError('gdb.short-read', `Read ${off} of ${len} bytes at 0x${addr.toString(16)}.`);
    return out;
  }

  /** Writes guest memory (`M`), in pipelined chunks. */
  async writeMemory(addr: number, data: Uint8Array): Promise<void> {
    const replies = await this.pipeline(GdbRspClient.memoryWritePackets(addr, data));
    for (const r of replies) this.checkOk(r, `M${addr.toString(16)}`);
  }

  /** Executes one instruction (`s`) and returns the stop reply. */
  async step(timeoutMs?: number): Promise<GdbStopReply> {
    return parseStopReply(await this.command('s', timeoutMs));
  }

  /** Resumes (`c`) until the next stop; on timeout interrupts the target and throws. */
  async cont(timeoutMs = this.timeoutMs): Promise<GdbStopReply> {
    return this.resume('c', timeoutMs);
  }

  /** Resumes with a vCont action (e.g. `vCont;s` or `vCont;c`). */
  async vCont(action: string, timeoutMs = this.timeoutMs): Promise<GdbStopReply> {
    return this.resume(`vCont;${action}`, timeoutMs);
  }

  /** Inserts a software breakpoint (`Z0`). */
  async insertBreakpoint(addr: number, kind = 1): Promise<void> {
    await this.expectOk(`Z0,${addr.toString(16)},${kind}`);
  }

  /** Removes a software breakpoint (`z0`). */
  async removeBreakpoint(addr: number, kind = 1): Promise<void> {
    await this.expectOk(`z0,${addr.toString(16)},${kind}`);
  }

  /** Kills the target (`k`, no reply expected) and closes the connection. */
  kill(): void {
    this.send('k');
    this.close();
  }

  /** Closes the connection; pending requests fail. */
  close(): void {
    this.fail('the connection was closed');
    this.socket.destroy();
  }

  private async resume(packet: string, timeoutMs: number): Promise<GdbStopReply> {
    try {
      return parseStopReply(await this.command(packet, timeoutMs));
    } catch (err) {
      if (err instanceof GdbRspError && err.code === 'gdb.timeout') {
        this.interrupt();
        throw new GdbRspError('gdb.timeout', `The target did not stop within ${timeoutMs} ms after "${packet}"; it was interrupted.`);
      }
      throw err;
    }
  }

  private async expectOk(data: string): Promise<void> {
    this.checkOk(await this.command(data), data);
  }

  private checkOk(reply: string, what: string): void {
    if (reply !== 'OK') throw new GdbRspError('gdb.not-ok', `The gdbstub answered "${reply.slice(0, 40)}" to "${what.slice(0, 40)}" instead of OK.`);
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new GdbRspError('gdb.closed', `No reply to "${w.what}": ${reason}.`));
    }
  }

  private onData(text: string): void {
    this.inbuf += text;
    let acks = '';
    const replies: [Waiter, string][] = [];
    this.parseBuffer(replies, (a) => (acks += a));
    if (acks) this.socket.write(acks, 'latin1'); // one write for all acknowledgements
    for (const [waiter, body] of replies) waiter.resolve(body);
  }

  private parseBuffer(replies: [Waiter, string][], ack: (a: string) => void): void {
    for (;;) {
      if (this.inbuf.length === 0) return;
      const c = this.inbuf.charCodeAt(0);
      if (c === ACK) {
        this.inbuf = this.inbuf.slice(1);
        continue;
      }
      if (c === NACK) {
        this.inbuf = this.inbuf.slice(1);
        if (this.lastSent) this.socket.write(this.lastSent, 'latin1');
        continue;
      }
      if (c !== PACKET_START && c !== NOTIFY_START) {
        this.inbuf = this.inbuf.slice(1); // line noise between packets
        continue;
      }
      const end = this.inbuf.indexOf('#');
      if (end < 0 || this.inbuf.length < end + 3) return;
      const body = this.inbuf.slice(1, end);
      const sum = this.inbuf.slice(end + 1, end + 3);
      this.inbuf = this.inbuf.slice(end + 3);
      if (c === NOTIFY_START) continue;
      if (sum.toLowerCase() !== rspChecksum(body)) {
        if (!this.noAckMode) ack('-');
        continue;
      }
      if (!this.noAckMode) ack('+');
      const waiter = this.waiters.shift();
      if (!waiter) continue; // an unsolicited packet: nothing is waiting for it
      clearTimeout(waiter.timer);
      replies.push([waiter, decodePacketBody(body)]);
    }
  }
}
