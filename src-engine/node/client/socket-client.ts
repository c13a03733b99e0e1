/**
 * A client of the engine API over the daemon's local socket (what every `domus` verb but `run`,
 * `mkiso` and `mkrescue` uses). Typed requests, events by callback.
 */
import net from 'node:net';
import { DomusError } from '../../base/errors';
import type { EngineMethod, EngineMethods } from '../../api/methods';
import type { EngineEventName, EngineEvents } from '../../api/events';
import { decodeMessage, encodeMessage, type ServerMessage } from '../../api/wire';

/** A connected API client. */
export class SocketClient {
  private nextId = 1;
  private buf = '';
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, Set<(data: unknown) => void>>();
  private closedError: Error | undefined;

  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => this.onData(chunk));
    sock.on('close', () => this.fail(new DomusError('daemon.gone', 'The engine daemon closed the connection.')));
    sock.on('error', (e) => this.fail(new DomusError('daemon.gone', `Lost the engine daemon: ${e.message}`)));
  }

  /** Connects, or fails with the message every verb prints when no daemon runs. */
  static connect(socketPath: string): Promise<SocketClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(socketPath);
      sock.once('connect', () => resolve(new SocketClient(sock)));
      sock.once('error', () =>
        reject(new DomusError('daemon.none', `No Domus engine is running (nothing answers on ${socketPath}); start one with domus daemon.`, socketPath)),
      );
    });
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const l of this.listeners.get('close') ?? []) l(e);
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      const m = decodeMessage(line) as ServerMessage;
      if ('event' in m) {
        for (const l of this.listeners.get(m.event) ?? []) l(m.data);
        continue;
      }
      const p = this.pending.get(m.id);
      if (!p) continue;
      this.pending.delete(m.id);
      if ('error' in m) p.reject(new DomusError(m.error.code, m.error.message, m.error.subject));
      else p.resolve(m.result);
    }
  }

  /** Sends a request. */
  request<M extends EngineMethod>(method: M, params: EngineMethods[M]['params']): Promise<EngineMethods[M]['result']> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(`${encodeMessage({ id, method, params })}\n`);
    });
  }

  /** Listens to an event (subscribe to opt-in ones with events.subscribe). */
  on<E extends EngineEventName>(event: E, fn: (data: EngineEvents[E]) => void): void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as (d: unknown) => void);
  }

  /** Called when the connection drops. */
  onClose(fn: (e: Error) => void): void {
    let set = this.listeners.get('close');
    if (!set) this.listeners.set('close', (set = new Set()));
    set.add(fn as (d: unknown) => void);
  }

  close(): void {
    this.sock.end();
    this.sock.destroy();
  }
}
