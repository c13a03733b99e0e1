/**
 * What the runtime needs from its host (Node.js worker_threads, Electron's utility process):
 * spawning threads, posting and synchronously polling messages, blocking waits and time. The
 * engine core never imports node:*; src-engine/node implements these interfaces.
 */

/** One end of a message channel. */
export interface MessageEnd {
  postMessage(message: unknown): void;
  /** Returns the next queued message without blocking, or undefined. */
  poll(): unknown;
}

/** What a worker thread's main function receives. */
export interface WorkerEnv {
  /** The data passed at spawn (structured-cloned; SharedArrayBuffers stay shared). */
  readonly data: unknown;
  /** The channel to the thread that spawned it. */
  readonly parent: MessageEnd;
  /** Monotonic nanoseconds, the same clock in every thread of the engine. */
  nowNs(): number;
  /** Wall-clock milliseconds since the Unix epoch. */
  wallMs(): number;
  /** Writes diagnostics somewhere a developer can see them (stderr). */
  debug(text: string): void;
}

/** A spawned worker as its parent sees it. */
export interface WorkerHandle {
  postMessage(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
  /** Called if the worker dies (uncaught error or exit). */
  onExit(handler: (code: number, error: Error | undefined) => void): void;
  terminate(): Promise<void>;
}

/** Which worker programs the engine starts. */
export type WorkerKind = 'hv' | 'pcpu';

/** The host side: how the engine starts its threads. */
export interface EngineHost {
  spawn(kind: WorkerKind, data: unknown): WorkerHandle;
  nowNs(): number;
  wallMs(): number;
  /** Number of host CPUs (default pCPU count). */
  hostCpus(): number;
  /** Total host RAM in bytes (default memory pool size derives from it). */
  hostMemory(): number;
  /** Calls `fn` once after `ms` milliseconds on this thread's event loop; returns a cancel function. */
  later(ms: number, fn: () => void): () => void;
}
