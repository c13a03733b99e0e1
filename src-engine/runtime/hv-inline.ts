/**
 * The hypervisor on the host's own thread, for a process that does nothing but run guests
 * (`domus run`). A worker thread costs Node ~40 ms of CPU to start before it runs a line of the
 * hypervisor, and on the path to a guest's first output that start is pure wait
 * (docs/performance.md). Here the host thread runs the hypervisor's passes itself and, between
 * them, sleeps synchronously in Atomics.wait on the doorbell exactly as the hypervisor thread does:
 * pCPU exits are served from a thread that blocks, never from the event loop, so an exit costs
 * the same round trip as with a worker.
 *
 * The host's event loop still has work: the replies and events the hypervisor posts, the
 * continuations waiting for them, timers (a run's time limit), worker events. The driver gives it
 * a turn after every pass that posted something, and at least every TURN_EVERY_MS while the
 * hypervisor sleeps, so a timer fires at most that late and an idle guest costs the host one
 * extra wake-up per period.
 *
 * Messages are copied with structuredClone in both directions, as postMessage between threads
 * would, so neither side sees the other's later changes to an object it posted.
 */
import { CB_DOORBELL } from './control-block';
import { Hypervisor } from './hv-main';
import type { HvServices } from './hv-bios';
import type { HvInit } from './messages';
import type { MessageEnd, WorkerEnv, WorkerHandle } from './thread-env';

/** Longest the driver sleeps before the host's event loop gets a turn (ms). */
export const TURN_EVERY_MS = 50;

/** What the inline hypervisor needs from its host thread. */
export interface InlineHvHost {
  nowNs(): number;
  wallMs(): number;
  debug(text: string): void;
  /** Calls `fn` once the event loop has run a full turn (timers, I/O, then this: setImmediate). */
  immediate(fn: () => void): void;
  /** Called after each message the hypervisor posts (before the host sees it). */
  afterPost?: (message: unknown) => void;
}

/**
 * Starts the hypervisor with `init` on this thread. It begins at the next event-loop turn; the
 * returned handle is the same one a hypervisor worker has, so the engine uses either alike.
 */
export function startHypervisorInline(init: HvInit, host: InlineHvHost, services?: HvServices): WorkerHandle {
  const inbox: unknown[] = [];
  const outbox: unknown[] = [];
  const onMessage: ((m: unknown) => void)[] = [];
  const onExit: ((code: number, error: Error | undefined) => void)[] = [];
  const parent: MessageEnd = {
    postMessage: (m) => {
      outbox.push(structuredClone(m));
      host.afterPost?.(m);
    },
    poll: () => inbox.shift(),
  };
  const env: WorkerEnv = { data: init, parent, nowNs: () => host.nowNs(), wallMs: () => host.wallMs(), debug: (t) => host.debug(t) };
  const cb = new Int32Array(init.controlBlock);
  const turn = (): Promise<void> => new Promise((resolve) => host.immediate(resolve));
  let exited = false;
  const deliver = (): void => {
    while (outbox.length > 0) {
      const m = outbox.shift();
      for (const h of onMessage) {
        try {
          h(m);
        } catch (e) {
          // The host's own failure, not the hypervisor's: surface it as it would surface from a
          // worker's message event.
          queueMicrotask(() => {
            throw e;
          });
        }
      }
    }
  };
  const exit = (code: number, error: Error | undefined): void => {
    if (exited) return;
    exited = true;
    for (const h of onExit) h(code, error);
  };

  const drive = async (): Promise<void> => {
    await turn();
    try {
      const hv = new Hypervisor(env, init, services);
      hv.start();
      let lastTurn = host.nowNs();
      for (;;) {
        const bell = Atomics.load(cb, CB_DOORBELL);
        const wait = hv.pass();
        if (wait < 0) break;
        const now = host.nowNs();
        if (outbox.length > 0 || now - lastTurn >= TURN_EVERY_MS * 1e6) {
          // Replies reach their callers, and whatever those do next runs, before the next pass.
          deliver();
          await turn();
          lastTurn = host.nowNs();
          continue;
        }
        if (wait > 0) Atomics.wait(cb, CB_DOORBELL, bell, Math.min(wait, TURN_EVERY_MS - (now - lastTurn) / 1e6));
      }
      deliver();
      exit(0, undefined);
    } catch (e) {
      deliver();
      exit(1, e instanceof Error ? e : new Error(String(e)));
    }
  };
  const done = drive();

  return {
    postMessage: (m) => inbox.push(structuredClone(m)),
    onMessage: (h) => onMessage.push(h),
    onExit: (h) => onExit.push(h),
    // The engine stops the hypervisor through the control block (CB_SHUTDOWN) before this.
    terminate: async () => {
      exited = true;
      await done;
    },
  };
}
