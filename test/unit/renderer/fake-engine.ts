/**
 * An in-memory engine for renderer tests: a Connector whose requests are answered by handlers
 * (unknown methods answer api.not-implemented, as the service does), which records every request
 * and can push events or drop the connection.
 */
import type { RequestMessage } from '../../../src-engine/api/wire';
import type { EngineEventName, EngineEvents } from '../../../src-engine/api/events';
import type { Connector, TransportSink } from '../../../src-renderer/api/transport';
import { EngineClient } from '../../../src-renderer/api/client';
import { EngineStore } from '../../../src-renderer/state/engine-store';

/** A handler: params -> result (throw {code, message} to answer an error). */
export type Handler = (params: never) => unknown;

/** The fake. */
export class FakeEngine {
  readonly requests: RequestMessage[] = [];
  sink: TransportSink | undefined;
  connects = 0;
  refuseNext: string | undefined;

  constructor(public handlers: Record<string, Handler>) {}

  readonly connector: Connector = async (sink) => {
    this.connects++;
    if (this.refuseNext) {
      const r = this.refuseNext;
      this.refuseNext = undefined;
      throw new Error(r);
    }
    this.sink = sink;
    return {
      send: (m) => {
        this.requests.push(m);
        const h = this.handlers[m.method];
        queueMicrotask(() => {
          if (!h) return sink.message({ id: m.id, error: { code: 'api.not-implemented', message: `The engine does not implement ${m.method} yet.` } });
          try {
            const r = h(m.params as never);
            Promise.resolve(r).then(
              (v) => sink.message({ id: m.id, result: v ?? null }),
              (e: { code?: string; message?: string }) => sink.message({ id: m.id, error: { code: e.code ?? 'engine.error', message: e.message ?? String(e) } }),
            );
          } catch (e) {
            const err = e as { code?: string; message?: string };
            sink.message({ id: m.id, error: { code: err.code ?? 'engine.error', message: err.message ?? String(e) } });
          }
        });
      },
      close: () => undefined,
    };
  };

  /** Pushes an event to the client. */
  emit<E extends EngineEventName>(event: E, data: EngineEvents[E]): void {
    this.sink?.message({ event, data });
  }

  /** Drops the connection. */
  drop(reason = 'gone'): void {
    this.sink?.closed(reason);
    this.sink = undefined;
  }

  /** Requests of one method. */
  calls(method: string): unknown[] {
    return this.requests.filter((r) => r.method === method).map((r) => r.params);
  }
}

/** Handlers for an empty engine with `nrPcpus` pCPUs. */
export function baseHandlers(nrPcpus = 4): Record<string, Handler> {
  return {
    'host.info': () => ({ hostname: 'test', engineVersion: 't', nrPcpus, hostCpus: 2, oversubscribed: nrPcpus > 2, totalMemoryMiB: 256, freeMemoryMiB: 200, defaultScheduler: 'credit2', uptimeSeconds: 1 }),
    'domain.list': () => [],
    'library.list': () => [],
    'pool.list': () => [{ id: 0, name: 'Pool-0', scheduler: 'credit2', cpus: Array.from({ length: nrPcpus }, (_, i) => i), domains: [], params: {} }],
    'log.dmesg': () => [],
    'events.subscribe': () => null,
  };
}

/** A connected store over a fake engine (resolves once the first load finished). */
export async function fakeStore(handlers: Record<string, Handler>): Promise<{ engine: FakeEngine; store: EngineStore; client: EngineClient }> {
  const engine = new FakeEngine(handlers);
  const client = new EngineClient(engine.connector, { autoReconnect: false });
  const store = new EngineStore(client);
  client.connect();
  for (let i = 0; i < 200 && !store.getSnapshot().loaded; i++) await new Promise((r) => setTimeout(r, 5));
  return { engine, store, client };
}
