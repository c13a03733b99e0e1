/**
 * The engine API service: the one implementation of src-engine/api's methods, behind every
 * carrier (in-process for tests, Electron's MessagePort, the daemon's local socket for the CLI,
 * WebSocket for `domus serve`). A carrier calls `connect(send)` once per client and feeds it
 * RequestMessages; replies and the client's subscribed events come back through `send`.
 * Every request is validated against the method's schema before anything else sees it.
 */
import { errorMessage, DomusError } from '../../base/errors';
import { validateRequest, type EngineMethod } from '../../api/methods';
import type { EngineEventName, EngineEvents } from '../../api/events';
import { OPT_IN_EVENTS } from '../../api/events';
import type { ApiError } from '../../api/types';
import type { RequestMessage, ServerMessage } from '../../api/wire';

/** One client of the service. */
export interface ApiConnection {
  /** A request from the client. */
  receive(message: RequestMessage): void;
  /** The client went away: drop its subscriptions. */
  close(): void;
}

/** What carriers talk to. */
export interface ApiService {
  connect(send: (message: ServerMessage) => void, label: string): ApiConnection;
}

/** A method implementation: params (validated) and the calling connection -> result. */
export type MethodImpl = (params: never, conn: ServiceConnection) => unknown;

/** Per-client state kept by the service. */
export class ServiceConnection implements ApiConnection {
  readonly events = new Set<EngineEventName>(['domain', 'task', 'log', 'engine']);
  /** Console events only for these domains (undefined: all). */
  consoleDomains: Set<number> | undefined;
  /** The xenstore watches this connection set (xenstore.watch); only their events reach it. */
  readonly xenstoreWatches = new Set<number>();
  closed = false;
  private readonly closers: (() => void)[] = [];

  constructor(
    private readonly hub: EventHub,
    readonly send: (message: ServerMessage) => void,
    readonly label: string,
    private readonly dispatch: (method: EngineMethod, params: unknown, conn: ServiceConnection) => Promise<unknown>,
  ) {}

  receive(m: RequestMessage): void {
    if (this.closed) return;
    if (typeof m !== 'object' || m === null || typeof m.id !== 'number' || typeof m.method !== 'string') {
      this.send({ id: typeof m?.id === 'number' ? m.id : -1, error: { code: 'api.bad-message', message: 'A request needs a numeric id and a method name.' } });
      return;
    }
    const problem = validateRequest(m.method, m.params);
    if (problem !== undefined) {
      this.send({ id: m.id, error: { code: 'api.bad-request', message: problem } });
      return;
    }
    this.dispatch(m.method as EngineMethod, m.params ?? {}, this).then(
      (result) => {
        if (!this.closed) this.send({ id: m.id, result: result === undefined ? null : result });
      },
      (e) => {
        if (!this.closed) this.send({ id: m.id, error: toApiError(e) });
      },
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.remove(this);
    for (const fn of this.closers.splice(0)) fn();
  }

  /** Runs `fn` when the connection closes (e.g. to drop the watches it set). */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closers.push(fn);
  }

  wants(event: EngineEventName, data: unknown): boolean {
    if (!this.events.has(event)) return false;
    if (event === 'console' && this.consoleDomains !== undefined) {
      return this.consoleDomains.has((data as EngineEvents['console']).domid);
    }
    if (event === 'xenstore') return this.xenstoreWatches.has((data as EngineEvents['xenstore']).watchId);
    return true;
  }
}

/** Fans events out to the connections that want them. */
export class EventHub {
  readonly conns = new Set<ServiceConnection>();

  remove(c: ServiceConnection): void {
    this.conns.delete(c);
  }

  /** True if some client listens to `event` (so producers can skip work). */
  listening(event: EngineEventName): boolean {
    for (const c of this.conns) if (c.events.has(event)) return true;
    return false;
  }

  emit<E extends EngineEventName>(event: E, data: EngineEvents[E]): void {
    for (const c of this.conns) {
      if (c.closed || !c.wants(event, data)) continue;
      try {
        c.send({ event, data });
      } catch {
        // A carrier that cannot send drops its client; the others continue.
        c.close();
      }
    }
  }
}

/** An error as clients see it. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof DomusError) return { code: e.code, message: e.message, subject: e.subject };
  const code = (e as { code?: unknown })?.code;
  return { code: typeof code === 'string' ? code : 'engine.error', message: errorMessage(e) };
}

export { OPT_IN_EVENTS };
