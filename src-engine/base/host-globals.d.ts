/**
 * The few host globals the engine core may use. They exist in Node.js, in workers and in
 * browsers; the core is compiled without DOM and Node types, so they are declared here by hand.
 */
declare const performance: { now(): number; readonly timeOrigin: number };

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}

/** The structured clone postMessage applies (runtime/hv-inline.ts copies messages with it). */
declare function structuredClone<T>(value: T): T;

/** Runs `callback` after the current task, before the next (runtime/hv-inline.ts). */
declare function queueMicrotask(callback: () => void): void;
