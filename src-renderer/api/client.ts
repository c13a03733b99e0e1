/**
 * The renderer's engine client: typed requests answered by id, event subscriptions, and
 * reconnection. Every message from the engine is checked for shape before use (a carrier is an
 * edge too). Subscriptions made with `subscribe` are replayed after a reconnect.
 */
import type { EngineEventName, EngineEvents } from '../../src-engine/api/events';
import type { EngineMethod, ParamsOf, ResultOf } from '../../src-engine/api/methods';
import type { ApiError } from '../../src-engine/api/types';
import type { Connector, Transport } from './transport';

/** The engine answered a request with an error (its message is written for users). */
export class ApiCallError extends Error {
  readonly code: string;
  readonly subject: string | undefined;
  constructor(e: ApiError) {
    super(e.message);
    this.code = e.code;
    this.subject = e.subject;
  }
}

/** Where the client stands with its engine. */
export type ConnectionState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open' }
  | { kind: 'lost'; reason: string; retryAt: number | undefined };

/** Every event name the engine may send (anything else is dropped). */
/** Every event the engine sends (a Record, so a new event name in the API fails to compile here until it is listed). */
const EVENT_LIST: Record<EngineEventName, true> = { console: true, domain: true, stats: true, pool: true, trace: true, task: true, log: true, xenstore: true, engine: true };
const EVENT_NAMES: ReadonlySet<string> = new Set(Object.keys(EVENT_LIST));

/** Delay before the first reconnection attempt, ms; doubles up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 500;
/** Longest wait between reconnection attempts, ms. */
const RETRY_MAX_MS = 8000;
/** A request not answered within this time fails (the engine is stuck or gone), ms. */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Options of the client. */
export interface EngineClientOptions {
  /** Reconnect by itself after a loss (WebSocket); Electron restarts the engine on request instead. */
  autoReconnect: boolean;
}

/** A parsed, shape-checked message from the engine. */
type Inbound = { kind: 'reply'; id: number; result: unknown } | { kind: 'error'; id: number; error: ApiError } | { kind: 'event'; event: EngineEventName; data: unknown };

/** Checks the envelope of an engine message; undefined when it is malformed. */
export function checkServerMessage(m: unknown): Inbound | undefined {
  if (m === null || typeof m !== 'object') return undefined;
  const o = m as Record<string, unknown>;
  if (typeof o.event === 'string') {
    if (!EVENT_NAMES.has(o.event) || o.data === null || typeof o.data !== 'object') return undefined;
    return { kind: 'event', event: o.event as EngineEventName, data: o.data };
  }
  if (typeof o.id !== 'number') return undefined;
  if ('error' in o) {
    const e = o.error as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object' || typeof e.message !== 'string' || typeof e.code !== 'string') return undefined;
    return { kind: 'error', id: o.id, error: { code: e.code, message: e.message, subject: typeof e.subject === 'string' ? e.subject : undefined } };
  }
  if ('result' in o) return { kind: 'reply', id: o.id, result: o.result };
  return undefined;
}

/** The client. */
export class EngineClient {
  private transport: Transport | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<EngineEventName, Set<(d: unknown) => void>>();
  private readonly stateHandlers = new Set<(s: ConnectionState) => void>();
  private readonly openHandlers = new Set<() => void>();
  private readonly subscribed = new Set<EngineEventName>();
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private inFlight = false;
  state: ConnectionState = { kind: 'connecting', attempt: 0 };

  constructor(
    private readonly connector: Connector,
    private readonly options: EngineClientOptions,
  ) {}

  /** Connects (again). Safe to call when already connecting. */
  connect(): void {
    if (this.stopped || this.transport || this.inFlight) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.attempt++;
    this.inFlight = true;
    this.setState({ kind: 'connecting', attempt: this.attempt });
    this.connector({ message: (m) => this.onMessage(m), closed: (r) => this.onClosed(r) }).then(
      (t) => {
        this.inFlight = false;
        if (this.stopped) {
          t.close();
          return;
        }
        this.transport = t;
        this.attempt = 0;
        this.setState({ kind: 'open' });
        if (this.subscribed.size > 0) void this.call('events.subscribe', { events: [...this.subscribed] }).catch(() => undefined);
        for (const h of this.openHandlers) h();
      },
      (e: unknown) => {
        this.inFlight = false;
        this.onClosed(e instanceof Error ? e.message : String(e));
      },
    );
  }

  /** Closes for good. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.transport?.close();
    this.transport = undefined;
    this.failPending('the client was closed');
  }

  /** Sends a request; resolves with its result or rejects with an ApiCallError. */
  call<M extends EngineMethod>(method: M, params: ParamsOf<M>, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<ResultOf<M>> {
    const t = this.transport;
    if (!t) return Promise.reject(new ApiCallError({ code: 'client.offline', message: 'The engine is not connected.' }));
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ApiCallError({ code: 'client.timeout', message: `The engine did not answer ${method} within ${Math.round(timeoutMs / 1000)} s.` }));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        t.send({ id, method, params });
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new ApiCallError({ code: 'client.send', message: `Cannot send ${method}: ${e instanceof Error ? e.message : String(e)}` }));
      }
    });
  }

  /** Asks for opt-in events (console, stats, trace); remembered across reconnects. */
  async subscribe(events: EngineEventName[]): Promise<void> {
    const fresh = events.filter((e) => !this.subscribed.has(e));
    for (const e of fresh) this.subscribed.add(e);
    if (fresh.length > 0 && this.transport) await this.call('events.subscribe', { events: fresh });
  }

  /** Listens to an event; returns the function that stops listening. */
  on<E extends EngineEventName>(event: E, handler: (data: EngineEvents[E]) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    const h = handler as (d: unknown) => void;
    set.add(h);
    return () => set.delete(h);
  }

  /** Listens to connection state changes. */
  onState(handler: (s: ConnectionState) => void): () => void {
    this.stateHandlers.add(handler);
    return () => this.stateHandlers.delete(handler);
  }

  /** Runs after every successful (re)connection. */
  onOpen(handler: () => void): () => void {
    this.openHandlers.add(handler);
    return () => this.openHandlers.delete(handler);
  }

  private setState(s: ConnectionState): void {
    this.state = s;
    for (const h of this.stateHandlers) h(s);
  }

  private onMessage(raw: unknown): void {
    const m = checkServerMessage(raw);
    if (!m) return;
    if (m.kind === 'event') {
      for (const h of this.handlers.get(m.event) ?? []) h(m.data);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.kind === 'error') p.reject(new ApiCallError(m.error));
    else p.resolve(m.result);
  }

  private failPending(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ApiCallError({ code: 'client.lost', message: `The connection to the engine was lost (${reason}).` }));
      this.pending.delete(id);
    }
  }

  private onClosed(reason: string): void {
    this.transport = undefined;
    this.failPending(reason);
    if (this.stopped) return;
    let retryAt: number | undefined;
    if (this.options.autoReconnect) {
      const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(10, Math.max(0, this.attempt - 1)));
      retryAt = Date.now() + delay;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.connect();
      }, delay);
    }
    this.setState({ kind: 'lost', reason, retryAt });
  }
}
