/** Events the engine streams to API clients. */
import type { DomainSummary, LogEntry, PoolInfo, StatsSample, TraceRecord } from './types';

/** Every event, by name. */
export interface EngineEvents {
  /** Bytes a guest wrote to one of its consoles (COM1-4: com 1-4; the PV console: 0). */
  console: { domid: number; com: number; data: Uint8Array };
  /** A domain appeared, changed state or went away (summary undefined when destroyed). */
  domain: { domid: number; summary: DomainSummary | undefined };
  /** Once a second. */
  stats: StatsSample;
  /** The cpupools after a change (created, destroyed, renamed, pCPUs or parameters, a domain moved or came or went). */
  pool: { pools: PoolInfo[] };
  /** Schedule trace records since the last event. */
  trace: { records: TraceRecord[] };
  /** Progress of a long task (ISO builds). */
  task: { taskId: string; progress: number; message: string; done: boolean; error?: string; result?: unknown };
  log: LogEntry;
  /**
   * A xenstore watch this connection set with xenstore.watch fired: `path` changed (or, right
   * after the watch was set, the watched path itself, as xenstore does). Only the watch's owner
   * receives it.
   */
  xenstore: { watchId: number; path: string };
  /** The engine is going away (process exit) or failed. */
  engine: { state: 'stopping' | 'failed'; message: string };
}

/** An event name. */
export type EngineEventName = keyof EngineEvents;

/** Event names clients must subscribe to explicitly (they are high volume). */
export const OPT_IN_EVENTS: readonly EngineEventName[] = ['trace', 'stats', 'console'];
